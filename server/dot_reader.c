/*
 * dot_reader.c -- the DATA body reader: end-of-data detection,
 * dot-unstuffing, bare-newline policy and size accounting over arbitrary
 * chunks of input (see dot_reader.h for the caller's side).
 *
 * Framing follows RFC 5321 to the letter:
 *
 *  - A line ends only with CRLF (§2.3.8).  A bare LF or bare CR never ends
 *    a line, so it never starts one either.
 *  - The data ends only with CRLF "." CRLF (§4.1.1.4).  The CRLF that ended
 *    the DATA command counts, so ".\r\n" first is an empty message.
 *  - At the start of a line, a "." followed by anything but CRLF is
 *    deleted (§4.5.2): "..x" -> ".x", ".x" -> "x", ".\n" -> "\n".
 *
 * SMTP smuggling (CVE-2023-51764/51765/51766): a client sends "\n.\n",
 * "\r\n.\n", "\n.\r\n" or "\r.\r" hoping that one server along the way
 * takes it for the end of the data and reads what follows as a new
 * transaction.  None of them ends the data here, under either policy:
 *
 *  - HR_BARE_REJECT keeps the octets as received and sets bad_newline;
 *    the caller consumes to the real end and answers 550 5.6.11.
 *  - HR_BARE_NORMALIZE rewrites each bare LF and each bare CR as CRLF in
 *    the *emitted* body only.  The end of data is always decided on the
 *    raw input, so normalising can never end a message early, and no
 *    dot after a bare LF/CR is unstuffed or taken as an end.
 *    "a\n.\nb" is thus stored as "a\r\n.\r\nb": a line holding a lone "."
 *    in the stored body.  That is legitimate content (it is also what
 *    "a\r\n..\r\nb" stores): the spool holds unstuffed text, and whoever
 *    sends it on (our SMTP/LMTP client included) must dot-stuff it again
 *    (RFC 5321 §4.5.2), which turns it into "..".  What the next hop sees
 *    is therefore unambiguous: the message can never end there.
 *
 * Streaming: runs of plain octets are emitted straight from the input
 * buffer; only a held "." or ".\r" at the start of a line (up to two
 * octets, which may decide the end) is carried between calls.
 */
#include <strings.h>

#include "dot_reader.h"

/* Where the reader is, between two octets. */
enum {
    DOT_BOL = 0,     /* at the start of a line (after CRLF) */
    DOT_DOT,         /* start of line, "." held (dropped unless the end) */
    DOT_DOT_CR,      /* start of line, ".\r" held: LF next ends the data */
    DOT_TEXT,        /* inside a line */
    DOT_CR           /* inside a line, just after a CR (already emitted) */
};

void hr_dot_reader_init(hr_dot_reader *r, apr_off_t max_size,
                        hr_bare_policy policy)
{
    r->size = 0;
    r->too_big = 0;
    r->bare_lf_seen = 0;
    r->bare_cr_seen = 0;
    r->bad_newline = 0;
    r->done = 0;
    r->max_size = max_size > 0 ? max_size : 0;
    r->policy = policy;
    r->state = DOT_BOL;
}

hr_bare_policy hr_bare_policy_from_name(const char *name)
{
    if (name != NULL && strcasecmp(name, "normalize") == 0) {
        return HR_BARE_NORMALIZE;
    }
    return HR_BARE_REJECT;
}

/* Count @len body octets and emit those that fit under max_size; the
 * first max_size octets are emitted whatever the chunking was. */
static void put(hr_dot_reader *r, const char *data, apr_size_t len,
                hr_dot_emit_fn *emit, void *baton)
{
    apr_off_t room;

    if (len == 0) {
        return;
    }
    if (r->max_size > 0) {
        room = r->max_size - r->size;
        if ((apr_off_t)len > room) {
            r->too_big = 1;     /* RFC 5321 §4.5.3.1.7: caller sends 552 */
            if (room > 0) {
                emit(baton, data, (apr_size_t)room);
            }
            r->size += len;
            return;
        }
    }
    r->size += len;
    emit(baton, data, len);
}

/* A bare LF or bare CR was found: flag it per the policy. */
static void bare_newline(hr_dot_reader *r, int is_lf)
{
    if (is_lf) {
        r->bare_lf_seen = 1;
    }
    else {
        r->bare_cr_seen = 1;
    }
    if (r->policy == HR_BARE_REJECT) {
        r->bad_newline = 1;
    }
}

apr_size_t hr_dot_reader_feed(hr_dot_reader *r, const char *in,
                              apr_size_t len, int *done,
                              hr_dot_emit_fn *emit, void *baton)
{
    int normalize = (r->policy == HR_BARE_NORMALIZE);
    const char *run = NULL;     /* start of octets to emit as they are */
    apr_size_t i = 0;
    char c;

    if (r->done) {
        *done = 1;
        return 0;
    }
    *done = 0;
    while (i < len) {
        c = in[i];
        switch (r->state) {
        case DOT_BOL:
            if (c == '.') {
                if (run != NULL) {
                    put(r, run, in + i - run, emit, baton);
                    run = NULL;
                }
                r->state = DOT_DOT;
                i++;
                continue;
            }
            r->state = DOT_TEXT;
            continue;           /* same octet, inside the line */

        case DOT_DOT:
            if (c == '\r') {
                r->state = DOT_DOT_CR;
                i++;
                continue;
            }
            /* §4.5.2: other characters follow, the dot is deleted */
            r->state = DOT_TEXT;
            continue;

        case DOT_DOT_CR:
            if (c == '\n') {
                /* CRLF "." CRLF: the end (§4.1.1.4) */
                r->done = 1;
                *done = 1;
                return i + 1;
            }
            /* ".\r" then something else: the dot is deleted and the CR
             * is a bare one */
            bare_newline(r, 0);
            put(r, normalize ? "\r\n" : "\r", normalize ? 2 : 1, emit,
                baton);
            r->state = DOT_TEXT;
            continue;

        case DOT_CR:
            if (c == '\n') {
                if (run == NULL) {
                    run = in + i;   /* the CR came in an earlier chunk */
                }
                r->state = DOT_BOL;
                i++;
                continue;
            }
            /* the CR already emitted was bare */
            bare_newline(r, 0);
            if (normalize) {
                if (run != NULL) {
                    put(r, run, in + i - run, emit, baton);
                    run = NULL;
                }
                put(r, "\n", 1, emit, baton);
            }
            r->state = DOT_TEXT;
            continue;

        case DOT_TEXT:
        default:
            if (c == '\n') {
                /* a LF not after CR: never a line end */
                bare_newline(r, 1);
                if (normalize) {
                    if (run != NULL) {
                        put(r, run, in + i - run, emit, baton);
                        run = NULL;
                    }
                    put(r, "\r\n", 2, emit, baton);
                    i++;
                    continue;
                }
            }
            else if (c == '\r') {
                r->state = DOT_CR;
            }
            if (run == NULL) {
                run = in + i;
            }
            i++;
            continue;
        }
    }
    if (run != NULL) {
        put(r, run, in + len - run, emit, baton);
    }
    return len;
}
