/*
 * mod_sieve_headers.c -- the header section of the message, for scripts
 * of the DATA stage that use header, address or exists.
 *
 * sieve_capture() copies the start of the body stream up to the empty
 * line (RFC 5322 §2.1), at most SIEVE_HEADER_MAX octets.  At the end of
 * DATA sieve_parse_headers() splits it into at most SIEVE_HEADER_FIELDS
 * fields (RFC 5322 §2.2) and gives each value the form Sieve compares
 * (RFC 5228 §2.7.2): unfolded, encoded-words decoded to UTF-8 (RFC 2047;
 * charsets other than UTF-8 and US-ASCII through apr_xlate), controls
 * turned into spaces so that no value can end a reply line.
 */
#include <stdlib.h>
#include <string.h>
#include <apr_strings.h>
#include <apr_lib.h>
#include <apr_base64.h>
#include <apr_xlate.h>

#include "mod_sieve.h"

/* Collect the header section from the body stream (bounded). */
void sieve_capture(sieve_txn *st, apr_pool_t *p, const char *data,
                   apr_size_t len)
{
    apr_size_t i;

    for (i = 0; i < len && !st->done; i++) {
        char ch = data[i];

        if (ch == '\n') {
            if (st->line_len == 0) {
                st->done = 1;     /* RFC 5322 §2.1: the empty line */
                break;
            }
            st->line_len = 0;
        }
        else if (ch != '\r') {
            st->line_len++;
        }
        if (st->len == st->cap) {
            char *bigger;

            if (st->cap == SIEVE_HEADER_MAX) {
                st->truncated = 1;
                st->done = 1;
                break;
            }
            st->cap = st->cap ? st->cap * 2 : 8192;
            if (st->cap > SIEVE_HEADER_MAX) {
                st->cap = SIEVE_HEADER_MAX;
            }
            bigger = apr_palloc(p, st->cap);
            if (st->len) {
                memcpy(bigger, st->buf, st->len);
            }
            st->buf = bigger;
        }
        st->buf[st->len++] = ch;
    }
}

/* Decode the text of one encoded-word (B or Q, RFC 2047 §4) into @out;
 * returns the octet count, or -1. */
static apr_ssize_t sieve_decode_text(apr_pool_t *p, char enc, const char *t,
                                     apr_size_t tlen, char *out)
{
    apr_size_t i, n = 0;

    if (enc == 'B') {
        /* @out has room for tlen octets: base64 only shrinks */
        char *b64 = apr_pstrmemdup(p, t, tlen);
        int got = apr_base64_decode_binary((unsigned char *)out, b64);

        return got < 0 ? -1 : got;
    }
    for (i = 0; i < tlen; i++) {
        /* §4.2: "_" is a space, "=XX" an octet in hex */
        if (t[i] == '_') {
            out[n++] = ' ';
        }
        else if (t[i] == '=') {
            char hex[3];

            if (i + 2 >= tlen || !apr_isxdigit(t[i + 1]) ||
                !apr_isxdigit(t[i + 2])) {
                return -1;
            }
            hex[0] = t[i + 1];
            hex[1] = t[i + 2];
            hex[2] = '\0';
            out[n++] = (char)strtol(hex, NULL, 16);
            i += 2;
        }
        else {
            out[n++] = t[i];
        }
    }
    return (apr_ssize_t)n;
}

/*
 * Recognise the encoded-word at @s ("=?charset?B?text?=", RFC 2047 §2)
 * and append its text in UTF-8 to @out (which holds @cap octets).
 * Returns the octets consumed, or 0 when @s does not start a well-formed,
 * decodable word.  In an address field (@in_address) a word whose text
 * holds address syntax stays encoded: RFC 2047 §5 allows encoded-words
 * in phrases only, and "=?utf-8?q?boss=40bad.example?= <a@b.example>"
 * must not turn into a second address for the address test.
 */
static apr_size_t sieve_encoded_word(apr_pool_t *p, const char *s,
                                     apr_size_t avail, char *out,
                                     apr_size_t *outlen, apr_size_t cap,
                                     int in_address)
{
    const char *end = s + (avail < SIEVE_ENCODED_WORD_MAX
                               ? avail : SIEVE_ENCODED_WORD_MAX);
    const char *cs = s + 2, *q, *text, *stop;
    char *charset, *star, enc, *raw;
    apr_ssize_t rawlen;

    if (avail < 8 || s[0] != '=' || s[1] != '?') {
        return 0;
    }
    for (q = cs; q < end && *q != '?' && *q > ' ' && *q < 0x7f; q++) {
    }
    if (q == cs || q + 3 >= end || *q != '?' || q[2] != '?') {
        return 0;
    }
    enc = (char)apr_toupper(q[1]);
    if (enc != 'B' && enc != 'Q') {
        return 0;
    }
    text = q + 3;
    for (stop = text; stop + 1 < end && !(stop[0] == '?' && stop[1] == '=');
         stop++) {
        if (*stop <= ' ' || *stop >= 0x7f) {
            return 0;   /* §5: no white space inside an encoded-word */
        }
    }
    if (stop + 1 >= end) {
        return 0;
    }
    charset = apr_pstrmemdup(p, cs, q - cs);
    star = strchr(charset, '*');   /* RFC 2231 §5: charset*language */
    if (star != NULL) {
        *star = '\0';
    }
    raw = apr_palloc(p, (apr_size_t)(stop - text) + 4);
    rawlen = sieve_decode_text(p, enc, text, stop - text, raw);
    if (rawlen < 0) {
        return 0;
    }
    if (in_address) {
        apr_ssize_t k;

        for (k = 0; k < rawlen; k++) {
            if (raw[k] != '\0' && strchr("<>@,;:\"()[]\\", raw[k])) {
                return 0;
            }
        }
    }
    if (strcasecmp(charset, "utf-8") == 0 ||
        strcasecmp(charset, "us-ascii") == 0) {
        if ((apr_size_t)rawlen > cap - *outlen) {
            return 0;
        }
        memcpy(out + *outlen, raw, rawlen);
        *outlen += rawlen;
    }
    else {
        /* anything else through iconv; a charset it does not know
         * leaves the word undecoded */
        apr_xlate_t *x;
        apr_size_t inleft = (apr_size_t)rawlen;
        apr_size_t outleft = (apr_size_t)rawlen * 4 + 4;
        char *conv = apr_palloc(p, outleft);
        apr_size_t room = outleft;

        if (apr_xlate_open(&x, "UTF-8", charset, p) != APR_SUCCESS) {
            return 0;
        }
        if (apr_xlate_conv_buffer(x, raw, &inleft, conv, &outleft)
                != APR_SUCCESS || inleft != 0) {
            apr_xlate_close(x);
            return 0;
        }
        apr_xlate_close(x);
        if (room - outleft > cap - *outlen) {
            return 0;
        }
        memcpy(out + *outlen, conv, room - outleft);
        *outlen += room - outleft;
    }
    return (apr_size_t)(stop + 2 - s);
}

/*
 * A header value as Sieve compares it (RFC 5228 §2.7.2): unfolded (the
 * CRLFs of continuation lines removed, RFC 5322 §2.2.3), encoded-words
 * decoded with the white space between two adjacent ones dropped (RFC
 * 2047 §6.2), and every control but HT turned into a space so that no
 * value can end a reply line.
 */
static const char *sieve_header_value(apr_pool_t *p, const char *raw,
                                      apr_size_t len, int in_address)
{
    /* a decoded word is at most 3 times as long as its encoded form
     * (UTF-8 from a single-octet charset); 4 leaves room */
    apr_size_t cap = len * 4;
    char *out = apr_palloc(p, cap + 1);
    apr_size_t i = 0, n = 0, pending = 0, ws_at = 0;
    int after_word = 0;

    while (i < len) {
        char ch = raw[i];
        apr_size_t used;

        if (ch == '\r' || ch == '\n') {
            i++;
            continue;
        }
        if (ch == ' ' || ch == '\t') {
            if (pending == 0) {
                ws_at = n;
            }
            if (n < cap) {
                out[n++] = ch;
            }
            pending++;
            i++;
            continue;
        }
        if (ch == '=' && i + 1 < len && raw[i + 1] == '?') {
            apr_size_t mark = n;

            if (after_word && pending > 0) {
                n = ws_at;   /* drop the space between two words */
            }
            used = sieve_encoded_word(p, raw + i, len - i, out, &n, cap,
                                      in_address);
            if (used > 0) {
                i += used;
                pending = 0;
                after_word = 1;
                continue;
            }
            n = mark;
        }
        if (n < cap) {
            out[n++] = ch;
        }
        pending = 0;
        after_word = 0;
        i++;
    }
    for (i = 0; i < n; i++) {
        unsigned char c = (unsigned char)out[i];

        if ((c < 0x20 && c != '\t') || c == 0x7f) {
            out[i] = ' ';
        }
    }
    out[n] = '\0';
    return out;
}

/* Fields that hold addresses (RFC 5322 §3.6.2, §3.6.3, §3.6.6). */
static int sieve_address_field(const char *lower)
{
    static const char *const names[] = {
        "from", "sender", "reply-to", "to", "cc", "bcc", "resent-from",
        "resent-sender", "resent-to", "resent-cc", "resent-bcc", NULL};
    int i;

    for (i = 0; names[i]; i++) {
        if (strcmp(lower, names[i]) == 0) {
            return 1;
        }
    }
    return 0;
}

/* Split the captured header section into fields (RFC 5322 §2.2). */
sieve_headers *sieve_parse_headers(apr_pool_t *p, const sieve_txn *st)
{
    sieve_headers *h = apr_pcalloc(p, sizeof(*h));
    const char *buf = st->buf, *end = st->buf + st->len;
    const char *line = buf;
    const char *name = NULL, *value = NULL;
    apr_size_t name_len = 0;
    int fields = 0;

    h->fields = apr_hash_make(p);
    if (st->len == 0) {
        return h;   /* an empty message */
    }
    if (st->truncated) {
        /* the line cut by the limit is not a whole field */
        while (end > buf && end[-1] != '\n') {
            end--;
        }
    }
    for (;;) {
        const char *lf = line < end ? memchr(line, '\n', end - line) : NULL;
        const char *next = lf ? lf + 1 : end;
        int continuation = line < end && (*line == ' ' || *line == '\t');

        if (name != NULL && !continuation) {
            /* the field ends here: store it */
            apr_array_header_t *values;
            char *key = apr_pstrmemdup(p, name, name_len);
            apr_size_t k;

            for (k = 0; k < name_len; k++) {
                key[k] = (char)apr_tolower(key[k]);
            }
            values = apr_hash_get(h->fields, key, (apr_ssize_t)name_len);
            if (values == NULL) {
                values = apr_array_make(p, 1, sizeof(const char *));
                apr_hash_set(h->fields, key, (apr_ssize_t)name_len, values);
            }
            APR_ARRAY_PUSH(values, const char *) =
                sieve_header_value(p, value, line - value,
                                   sieve_address_field(key));
            name = NULL;
            if (++fields == SIEVE_HEADER_FIELDS) {
                break;
            }
        }
        if (line >= end) {
            break;
        }
        if (!continuation) {
            /* field-name = 1*ftext ":" (printable, no colon); white space
             * before the colon is the obsolete syntax of §4.5 */
            const char *c = line;

            while (c < next && *c > ' ' && *c < 0x7f && *c != ':') {
                c++;
            }
            name_len = c - line;
            while (c < next && (*c == ' ' || *c == '\t')) {
                c++;
            }
            if (name_len > 0 && name_len <= SIEVE_HEADER_NAME_MAX &&
                c < next && *c == ':') {
                name = line;
                value = c + 1;
            }
        }
        line = next;
    }
    return h;
}
