/*
 * dot_reader.h -- the DATA body reader (not installed): a state machine
 * over buffers that finds the end of data, undoes dot-stuffing, applies
 * the bare-newline policy and counts the size (RFC 5321 §4.1.1.4, §4.5.2).
 *
 * The session embeds one hr_dot_reader, initialises it after "354", then
 * feeds it whatever it read, in chunks of any size:
 *
 *     hr_dot_reader_init(&r, hr_session_size_limit(s),
 *                        hr_bare_policy_from_name(setting));
 *     used = hr_dot_reader_feed(&r, buf, len, &done, emit, baton);
 *     if (done) {
 *         buf + used .. buf + len is the next (pipelined) command;
 *         r.too_big    -> 552 5.3.4
 *         r.bad_newline -> 550 5.6.11 (session.data.bare-newline "reject")
 *     }
 *
 * The body is streamed: no line is ever buffered, only the state between
 * two octets is kept, so long lines cost nothing.  The octets emitted are
 * the message as it is to be stored (unstuffed).
 */
#ifndef HR_DOT_READER_H
#define HR_DOT_READER_H

#include <apr.h>

#ifdef __cplusplus
extern "C" {
#endif

/** session.data.bare-newline: what to do with a LF or CR outside CRLF. */
typedef enum {
    HR_BARE_REJECT = 0,    /* keep them, flag the message (bad_newline) */
    HR_BARE_NORMALIZE      /* store each bare LF or bare CR as CRLF */
} hr_bare_policy;

/** Receives unstuffed body octets; @data is only valid during the call. */
typedef void hr_dot_emit_fn(void *baton, const char *data, apr_size_t len);

/** The reader's state; the caller embeds it and reads the results. */
typedef struct hr_dot_reader {
    /* results, valid at any time */
    apr_off_t size;        /* body octets (after unstuffing and
                              normalising), counted even past max_size */
    int too_big;           /* size went over max_size: emission stopped */
    int bare_lf_seen;      /* a LF not preceded by CR */
    int bare_cr_seen;      /* a CR not followed by LF */
    int bad_newline;       /* bare LF/CR seen under HR_BARE_REJECT */
    int done;              /* CRLF.CRLF was seen */
    /* settings */
    apr_off_t max_size;    /* 0: unlimited */
    hr_bare_policy policy;
    /* private */
    int state;
} hr_dot_reader;

/**
 * Prepare @r for a new body.  The reader starts at the beginning of a
 * line: the CRLF that ended the DATA command counts as the first line
 * break, so an input starting with ".\r\n" is an empty message.
 */
void hr_dot_reader_init(hr_dot_reader *r, apr_off_t max_size,
                        hr_bare_policy policy);

/**
 * Feed @len octets of input.  Emits body octets through @emit (never more
 * than max_size in total).  Returns the number of octets consumed: all of
 * them, or, when the end-of-data marker was in this chunk, the octets up
 * to and including its final LF; *done is then set (and r->done).  Once
 * done, further calls consume nothing.
 */
apr_size_t hr_dot_reader_feed(hr_dot_reader *r, const char *in,
                              apr_size_t len, int *done,
                              hr_dot_emit_fn *emit, void *baton);

/**
 * The policy named by a session.data.bare-newline value: "normalize"
 * (any case) or anything else, including NULL, which is "reject".
 */
hr_bare_policy hr_bare_policy_from_name(const char *name);

#ifdef __cplusplus
}
#endif
#endif /* HR_DOT_READER_H */
