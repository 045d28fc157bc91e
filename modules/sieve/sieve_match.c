/*
 * sieve_match.c -- comparators, match types and address parsing.
 *
 * Comparators (RFC 4790): i;octet compares octets; i;ascii-casemap folds
 * ASCII letters first; i;ascii-numeric compares the leading decimal
 * number, a string without one being "positive infinity" (§9.1.1).
 * :matches (RFC 5228 §2.7.1) is a glob with "*", "?" and "\" escapes,
 * recording what each wildcard matched for ${1}..${9} (RFC 5229 §3.2:
 * each wildcard matches as little as possible, the leftmost first).
 * Address parsing follows RFC 5322 §3.4 loosely: display names, angle
 * brackets, comments, quoted strings, groups and source routes.
 * Everything works on (pointer, length) pairs and never allocates.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* memmem */
#endif
#include <string.h>
#include <strings.h>

#include "sieve_int.h"

/* ASCII case folding, the i;ascii-casemap comparator's only change. */
const unsigned char sv_fold[256] = {
#define R8(b) b, b + 1, b + 2, b + 3, b + 4, b + 5, b + 6, b + 7
    R8(0), R8(8), R8(16), R8(24), R8(32), R8(40), R8(48), R8(56),
    64, 'a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j', 'k', 'l', 'm',
    'n', 'o', 'p', 'q', 'r', 's', 't', 'u', 'v', 'w', 'x', 'y', 'z',
    91, 92, 93, 94, 95,
    R8(96), R8(104), R8(112), R8(120), R8(128), R8(136), R8(144), R8(152),
    R8(160), R8(168), R8(176), R8(184), R8(192), R8(200), R8(208), R8(216),
    R8(224), R8(232), R8(240), R8(248)
#undef R8
};

/* Length of a string cut at CAP octets without splitting a UTF-8
 * character (RFC 5229 §4 allows truncation, not mangling). */
apr_size_t sv_utf8_clip(const char *s, apr_size_t len, apr_size_t cap)
{
    if (len <= cap)
        return len;
    while (cap > 0 && ((unsigned char)s[cap] & 0xC0) == 0x80)
        cap--;
    return cap;
}

/* Octets of the UTF-8 character at S[I]; 1 for anything malformed. */
static apr_size_t utf8_char_len(const char *s, apr_size_t i, apr_size_t len)
{
    unsigned char c = (unsigned char)s[i];
    apr_size_t n, k;

    n = c < 0xC0 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : c < 0xF8 ? 4 : 1;
    if (n > len - i)
        return 1;
    for (k = 1; k < n; k++)
        if (((unsigned char)s[i + k] & 0xC0) != 0x80)
            return 1;
    return n;
}

/* i;ascii-numeric: locate the leading number, without leading zeros.
 * Returns 0 for "positive infinity" (no leading digit). */
static int numeric_prefix(const char *s, apr_size_t len, const char **digits,
                          apr_size_t *ndigits)
{
    apr_size_t i = 0, start;

    if (len == 0 || s[0] < '0' || s[0] > '9')
        return 0;
    while (i + 1 < len && s[i] == '0' && s[i + 1] >= '0' && s[i + 1] <= '9')
        i++;
    start = i;
    while (i < len && s[i] >= '0' && s[i] <= '9')
        i++;
    *digits = s + start;
    *ndigits = i - start;
    return 1;
}

/* The comparator's ordering: <0, 0 or >0 as A sorts before, with or
 * after B. */
int sv_compare_order(int cmp, const char *a, apr_size_t alen,
                     const char *b, apr_size_t blen)
{
    apr_size_t i, n = alen < blen ? alen : blen;

    if (cmp == SV_CMP_NUMERIC) {
        const char *da = NULL, *db = NULL;
        apr_size_t na = 0, nb = 0;
        int fa = numeric_prefix(a, alen, &da, &na);
        int fb = numeric_prefix(b, blen, &db, &nb);
        int r;

        if (!fa || !fb)
            return fa == fb ? 0 : fa ? -1 : 1;
        if (na != nb)
            return na < nb ? -1 : 1;
        r = memcmp(da, db, na);
        return r < 0 ? -1 : r > 0;
    }
    if (cmp == SV_CMP_CASEMAP) {
        for (i = 0; i < n; i++) {
            unsigned char ca = sv_fold[(unsigned char)a[i]];
            unsigned char cb = sv_fold[(unsigned char)b[i]];

            if (ca != cb)
                return ca < cb ? -1 : 1;
        }
    }
    else if (n) {
        int r = memcmp(a, b, n);

        if (r)
            return r < 0 ? -1 : 1;
    }
    return alen == blen ? 0 : alen < blen ? -1 : 1;
}

int sv_compare_equal(int cmp, const char *a, apr_size_t alen,
                     const char *b, apr_size_t blen)
{
    if (cmp != SV_CMP_NUMERIC && alen != blen)
        return 0;
    if (cmp == SV_CMP_OCTET)
        return memcmp(a, b, alen) == 0;
    return sv_compare_order(cmp, a, alen, b, blen) == 0;
}

/* RFC 5231 §4: does ORDER (value compared with key) satisfy RELOP? */
int sv_relation_holds(int relop, int order)
{
    switch (relop) {
    case SV_REL_GT: return order > 0;
    case SV_REL_GE: return order >= 0;
    case SV_REL_LT: return order < 0;
    case SV_REL_LE: return order <= 0;
    case SV_REL_EQ: return order == 0;
    default: return order != 0;
    }
}

/* :contains; *WORK receives the number of octet comparisons made. */
int sv_contains(int cmp, const char *hay, apr_size_t hlen,
                const char *needle, apr_size_t nlen, unsigned long *work)
{
    apr_size_t i, j;
    unsigned long w = 0;

    *work = 0;
    if (nlen == 0)
        return 1;
    if (nlen > hlen)
        return 0;
    if (cmp == SV_CMP_OCTET) {
        *work = hlen;
        return memmem(hay, hlen, needle, nlen) != NULL;
    }
    for (i = 0; i + nlen <= hlen; i++) {
        for (j = 0; j < nlen; j++) {
            w++;
            if (sv_fold[(unsigned char)hay[i + j]] !=
                sv_fold[(unsigned char)needle[j]])
                break;
        }
        if (j == nlen) {
            *work = w;
            return 1;
        }
    }
    *work = w;
    return 0;
}

/*
 * :matches.  Backtracks only to the most recent "*", which is enough for
 * patterns made of literals, "?" and "*", and bounds the work by
 * MAX_STEPS.  In i;ascii-casemap, "?" takes one UTF-8 character; in
 * i;octet one octet.
 */
int sv_glob(int cmp, const char *pat, apr_size_t plen, const char *s,
            apr_size_t slen, sv_span *caps, unsigned *ncaps,
            unsigned long max_steps, unsigned long *steps)
{
    const apr_size_t none = (apr_size_t)-1;
    apr_size_t p = 0, i = 0, star_p = none, star_i = 0;
    unsigned wc = 0, star_wc = 0;
    unsigned long n = 0;
    int fold = cmp != SV_CMP_OCTET;

    while (i < slen) {
        if (++n > max_steps) {
            *steps = n;
            return -1;
        }
        if (p < plen) {
            unsigned char pc = (unsigned char)pat[p];
            apr_size_t adv = 1;

            if (pc == '*') {
                star_p = ++p;
                star_i = i;
                star_wc = wc;
                if (wc < SV_MAX_MATCH - 1) {
                    caps[wc].off = i;
                    caps[wc].len = 0;
                }
                wc++;
                continue;
            }
            if (pc == '?') {
                apr_size_t cl = fold ? utf8_char_len(s, i, slen) : 1;

                if (wc < SV_MAX_MATCH - 1) {
                    caps[wc].off = i;
                    caps[wc].len = cl;
                }
                wc++;
                i += cl;
                p++;
                continue;
            }
            if (pc == '\\' && p + 1 < plen) {
                pc = (unsigned char)pat[p + 1];
                adv = 2;
            }
            if (fold ? sv_fold[pc] == sv_fold[(unsigned char)s[i]]
                     : pc == (unsigned char)s[i]) {
                p += adv;
                i++;
                continue;
            }
        }
        if (star_p == none) {
            *steps = n;
            return 0;
        }
        /* let the latest "*" take one more character and retry */
        star_i += fold ? utf8_char_len(s, star_i, slen) : 1;
        if (star_wc < SV_MAX_MATCH - 1)
            caps[star_wc].len = star_i - caps[star_wc].off;
        i = star_i;
        p = star_p;
        wc = star_wc + 1;
    }
    while (p < plen && pat[p] == '*') {
        if (wc < SV_MAX_MATCH - 1) {
            caps[wc].off = slen;
            caps[wc].len = 0;
        }
        wc++;
        p++;
    }
    *steps = n;
    *ncaps = wc < SV_MAX_MATCH - 1 ? wc : SV_MAX_MATCH - 1;
    return p == plen;
}

/* ---------------------------------------------------------- addresses */

/* RFC 5228 §5.1: the address test applies to headers holding addresses. */
int sv_is_address_header(const char *name, apr_size_t len)
{
    static const char *const names[] = {
        "from", "to", "cc", "bcc", "sender", "reply-to", "resent-from",
        "resent-to", "resent-cc", "resent-bcc", "resent-sender",
        "resent-reply-to", "return-path", "delivered-to", "envelope-to",
        "x-original-to", "x-envelope-to", "x-envelope-from", "errors-to",
        "disposition-notification-to", "mail-followup-to", "mail-reply-to",
        "original-recipient", "x-original-from", "x-sender", "approved",
        NULL
    };
    int i;

    for (i = 0; names[i]; i++)
        if (strlen(names[i]) == len && strncasecmp(names[i], name, len) == 0)
            return 1;
    return 0;
}

/* Skip a comment starting at S[I] == '(' (nested, with quoted-pairs). */
static apr_size_t skip_comment(const char *s, apr_size_t i, apr_size_t len)
{
    int depth = 0;

    for (; i < len; i++) {
        if (s[i] == '\\') {
            i++;
        }
        else if (s[i] == '(') {
            depth++;
        }
        else if (s[i] == ')') {
            if (--depth == 0)
                return i + 1;
        }
    }
    return len;
}

/*
 * Extract the next address of an address-list into BUF as "local@domain"
 * (comments, white space and display names removed; quoted strings kept
 * as written).  *AT is the offset of the separating "@", or (size_t)-1.
 * Returns 0 when the list is exhausted.
 */
int sv_addr_next(sv_addr_iter *it, char *buf, apr_size_t cap,
                 apr_size_t *outlen, apr_size_t *at)
{
    const char *s = it->s;
    apr_size_t len = it->len, n = 0, i;

    while (it->pos < len) {
        int in_angle = 0, done_angle = 0;

        n = 0;
        for (i = it->pos; i < len; i++) {
            char c = s[i];

            if (c == '(') {
                i = skip_comment(s, i, len) - 1;
                continue;
            }
            if (c == ' ' || c == '\t' || c == '\r' || c == '\n')
                continue;
            if (c == '"') {
                apr_size_t j = i + 1;

                while (j < len && s[j] != '"')
                    j += s[j] == '\\' ? 2 : 1;
                if (j > len)
                    j = len;
                if (!done_angle) {
                    apr_size_t k;

                    for (k = i; k <= j && k < len; k++)
                        if (n < cap)
                            buf[n++] = s[k];
                }
                i = j;
                continue;
            }
            if (in_angle) {
                if (c == '>') {
                    in_angle = 0;
                    done_angle = 1;
                }
                else if (n < cap) {
                    buf[n++] = c;
                }
                continue;
            }
            if (c == '<' && !done_angle) {
                in_angle = 1;
                n = 0;                     /* drop the display name */
                continue;
            }
            if (c == ',')
                break;
            if (c == ';' && it->in_group) {
                it->in_group = 0;
                break;
            }
            if (c == ':' && !done_angle && !it->in_group) {
                it->in_group = 1;          /* "group-name:" */
                n = 0;
                continue;
            }
            if (!done_angle && n < cap)
                buf[n++] = c;
        }
        it->pos = i < len ? i + 1 : len;
        if (n && buf[0] == '@') {
            /* RFC 5322 §4.4 obsolete source route "@a,@b:user@c" */
            char *colon = memchr(buf, ':', n);

            if (colon) {
                apr_size_t skip = (apr_size_t)(colon - buf) + 1;

                memmove(buf, buf + skip, n - skip);
                n -= skip;
            }
        }
        if (n == 0)
            continue;
        n = sv_utf8_clip(buf, n, cap - 1);
        buf[n] = '\0';
        *outlen = n;
        *at = (apr_size_t)-1;
        for (i = n; i-- > 0;) {
            if (buf[i] == '@') {
                *at = i;
                break;
            }
            if (buf[i] == '"')
                break;
        }
        return 1;
    }
    return 0;
}

/* RFC 5228 §2.7.4: the part of ADDR that :localpart, :domain or :all
 * names.  An address without "@" is all local part. */
void sv_addr_part(int part, const char *addr, apr_size_t len,
                  apr_size_t at, const char **out, apr_size_t *outlen)
{
    *out = addr;
    *outlen = len;
    if (part == SV_ADDR_LOCAL && at != (apr_size_t)-1) {
        *outlen = at;
    }
    else if (part == SV_ADDR_DOMAIN) {
        if (at == (apr_size_t)-1) {
            *out = addr + len;
            *outlen = 0;
        }
        else {
            *out = addr + at + 1;
            *outlen = len - at - 1;
        }
    }
}
