/*
 * smtp_parse.c -- parsers for SMTP command arguments: the verb split, MAIL
 * and RCPT paths with their ESMTP parameters, bare mailboxes (VRFY) and
 * domains (HELO/EHLO).
 *
 * Grammar: RFC 5321 §4.1.2 (Path, Mailbox, Local-part, Domain,
 * address-literal, esmtp-param), extended by RFC 6531 §3.3 (UTF8-non-ascii
 * in atext, qtextSMTP, sub-domain and esmtp-value).  Size limits: RFC 5321
 * §4.5.3.1.  Nothing here looks at a session: see hr_smtp.h for how the
 * handlers use these functions and which reply goes with which status.
 *
 * Every scanner walks a NUL-terminated line once, left to right, and never
 * reads past the NUL; the caller bounds the line length.
 */
#include <string.h>
#include <strings.h>
#include <apr_strings.h>

#include "hr_smtp.h"

#define IS_ALPHA(c) ((((c) | 0x20) >= 'a') && (((c) | 0x20) <= 'z'))
#define IS_DIGIT(c) ((c) >= '0' && (c) <= '9')
#define IS_LETDIG(c) (IS_ALPHA(c) || IS_DIGIT(c))
#define TO_UPPER(c) ((char)(((c) >= 'a' && (c) <= 'z') ? (c) - 32 : (c)))

/* The longest mailbox: a path of HR_MAX_PATH octets less its "<>". */
#define HR_MAX_MAILBOX (HR_MAX_PATH - 2)

/* RFC 5322 §3.2.3 atext, ASCII part (RFC 6531 adds UTF8-non-ascii). */
static int is_atext(unsigned char c)
{
    return IS_LETDIG(c) || (c != '\0' && strchr("!#$%&'*+-/=?^_`{|}~", c));
}

/* Length of the valid UTF-8 sequence starting at @s (whose first octet is
 * >= 0x80) within @avail octets; 0 when it is not valid (RFC 3629 §4). */
static apr_size_t utf8_sequence(const unsigned char *s, apr_size_t avail)
{
    unsigned char lo = 0x80, hi = 0xBF;
    apr_size_t n, i;

    if (s[0] >= 0xC2 && s[0] <= 0xDF) {
        n = 2;
    }
    else if (s[0] == 0xE0) {
        n = 3;
        lo = 0xA0;              /* overlong below U+0800 */
    }
    else if ((s[0] >= 0xE1 && s[0] <= 0xEC) || s[0] == 0xEE
             || s[0] == 0xEF) {
        n = 3;
    }
    else if (s[0] == 0xED) {
        n = 3;
        hi = 0x9F;              /* U+D800..U+DFFF are surrogates */
    }
    else if (s[0] == 0xF0) {
        n = 4;
        lo = 0x90;              /* overlong below U+10000 */
    }
    else if (s[0] >= 0xF1 && s[0] <= 0xF3) {
        n = 4;
    }
    else if (s[0] == 0xF4) {
        n = 4;
        hi = 0x8F;              /* nothing above U+10FFFF */
    }
    else {
        return 0;               /* C0, C1, F5..FF, or a continuation */
    }
    if (avail < n || s[1] < lo || s[1] > hi) {
        return 0;
    }
    for (i = 2; i < n; i++) {
        if (s[i] < 0x80 || s[i] > 0xBF) {
            return 0;
        }
    }
    return n;
}

int hr_utf8_valid(const char *s, apr_size_t len)
{
    const unsigned char *u = (const unsigned char *)s;
    apr_size_t i = 0, n;

    while (i < len) {
        if (u[i] < 0x80) {
            i++;
            continue;
        }
        n = utf8_sequence(u + i, len - i);
        if (n == 0) {
            return 0;
        }
        i += n;
    }
    return 1;
}

/* UTF-8 sequence at a point of a NUL-terminated string: a NUL ends any
 * sequence early because it is not a continuation octet. */
#define UTF8_AT(s) utf8_sequence((const unsigned char *)(s), 4)

/* Check @len octets of @text as a Domain (RFC 5321 §4.1.2): labels of
 * let-dig and '-', not starting or ending with '-'; with @allow_utf8 a
 * label may hold UTF-8 (a U-label, RFC 6531 §3.3), and *utf8 is set. */
static int check_domain(const char *text, apr_size_t len, int allow_utf8,
                        int *utf8, const char **why)
{
    const unsigned char *s = (const unsigned char *)text;
    apr_size_t i = 0, start, n;
    int ascii;

    if (len == 0) {
        *why = "Missing domain";
        return HR_PARSE_BAD_ADDRESS;
    }
    if (len > HR_MAX_DOMAIN) {
        *why = "Domain too long";   /* RFC 5321 §4.5.3.1.2 */
        return HR_PARSE_TOO_LONG;
    }
    for (;;) {
        start = i;
        ascii = 1;
        while (i < len && s[i] != '.') {
            if (IS_LETDIG(s[i]) || s[i] == '-') {
                i++;
            }
            else if (s[i] >= 0x80 && allow_utf8
                     && (n = utf8_sequence(s + i, len - i)) != 0) {
                ascii = 0;
                *utf8 = 1;
                i += n;
            }
            else {
                *why = s[i] >= 0x80 ? (allow_utf8 ? "Invalid UTF-8 in domain"
                                       : "Non-ASCII domain")
                                    : "Bad domain syntax";
                return HR_PARSE_BAD_ADDRESS;
            }
        }
        if (i == start || s[start] == '-' || s[i - 1] == '-') {
            *why = "Bad domain syntax";
            return HR_PARSE_BAD_ADDRESS;
        }
        /* RFC 1035 §2.3.4; a U-label's limit is that of its A-label,
         * which is not computed here. */
        if (ascii && i - start > HR_MAX_LABEL) {
            *why = "Domain label too long";
            return HR_PARSE_TOO_LONG;
        }
        if (i == len) {
            return HR_PARSE_OK;
        }
        i++;                    /* the dot; a trailing one fails above */
    }
}

/* Scan a Local-part at *pp: Dot-string or Quoted-string (RFC 5321
 * §4.1.2, RFC 6531 §3.3).  *pp is left after it. */
static int scan_local_part(const char **pp, int *utf8, const char **why)
{
    const unsigned char *s = (const unsigned char *)*pp;
    apr_size_t n;
    int need_atom = 1;

    if (*s == '"') {
        for (s++; *s != '"'; ) {
            if (*s == '\\') {
                /* quoted-pairSMTP = %d92 %d32-126 */
                if (s[1] < 32 || s[1] > 126) {
                    *why = "Bad quoted local part";
                    return HR_PARSE_BAD_ADDRESS;
                }
                s += 2;
            }
            else if (*s >= 32 && *s <= 126) {
                s++;            /* qtextSMTP: '"' and '\' handled above */
            }
            else if (*s >= 0x80 && (n = UTF8_AT(s)) != 0) {
                *utf8 = 1;
                s += n;
            }
            else {
                *why = *s >= 0x80 ? "Invalid UTF-8 in local part"
                                  : "Bad quoted local part";
                return HR_PARSE_BAD_ADDRESS;
            }
        }
        *pp = (const char *)s + 1;
        return HR_PARSE_OK;
    }
    /* Dot-string = Atom *("." Atom): no leading, trailing or double dot */
    for (;;) {
        if (is_atext(*s)) {
            s++;
            need_atom = 0;
        }
        else if (*s >= 0x80) {
            if ((n = UTF8_AT(s)) == 0) {
                *why = "Invalid UTF-8 in local part";
                return HR_PARSE_BAD_ADDRESS;
            }
            *utf8 = 1;
            s += n;
            need_atom = 0;
        }
        else if (*s == '.' && !need_atom) {
            s++;
            need_atom = 1;
        }
        else {
            break;
        }
    }
    if (need_atom) {
        *why = "Bad local part syntax";
        return HR_PARSE_BAD_ADDRESS;
    }
    *pp = (const char *)s;
    return HR_PARSE_OK;
}

/* Scan a Domain or, with @allow_literal, an address-literal at *pp;
 * *pp is left after it. */
static int scan_domain(const char **pp, int allow_literal, int *utf8,
                       const char **why)
{
    const char *s = *pp, *end;
    char literal[HR_MAX_DOMAIN + 1];
    int st;

    if (*s == '[') {
        end = strchr(s, ']');
        if (!allow_literal || end == NULL) {
            *why = "Bad address literal";
            return HR_PARSE_BAD_ADDRESS;
        }
        if ((apr_size_t)(end + 1 - s) > HR_MAX_DOMAIN) {
            *why = "Domain too long";
            return HR_PARSE_TOO_LONG;
        }
        memcpy(literal, s, end + 1 - s);
        literal[end + 1 - s] = '\0';
        if (!hr_is_address_literal(literal)) {
            *why = "Bad address literal";
            return HR_PARSE_BAD_ADDRESS;
        }
        *pp = end + 1;
        return HR_PARSE_OK;
    }
    while (IS_LETDIG(*s) || *s == '-' || *s == '.'
           || (unsigned char)*s >= 0x80) {
        s++;
    }
    st = check_domain(*pp, s - *pp, 1, utf8, why);
    if (st == HR_PARSE_OK) {
        *pp = s;
    }
    return st;
}

/* Scan a Mailbox (Local-part "@" ( Domain / address-literal )) at *pp and
 * fill @path; with HR_PATH_ALLOW_POSTMASTER "postmaster" alone is valid,
 * with HR_PATH_LOCAL_ONLY any local part alone is. */
static int scan_mailbox(apr_pool_t *p, const char **pp, int flags,
                        hr_path *path, const char **why)
{
    const char *start = *pp, *s = *pp, *at, *end;
    int utf8 = 0, st;

    if ((st = scan_local_part(&s, &utf8, why)) != HR_PARSE_OK) {
        return st;
    }
    if (s - start > HR_MAX_LOCAL_PART) {
        *why = "Local part too long";   /* RFC 5321 §4.5.3.1.1 */
        return HR_PARSE_TOO_LONG;
    }
    at = s;
    if (*s == '@') {
        s++;
        if ((st = scan_domain(&s, 1, &utf8, why)) != HR_PARSE_OK) {
            return st;
        }
        path->domain = apr_pstrmemdup(p, at + 1, s - at - 1);
    }
    else if ((flags & HR_PATH_LOCAL_ONLY)
             || ((flags & HR_PATH_ALLOW_POSTMASTER) && at - start == 10
                 && strncasecmp(start, "postmaster", 10) == 0)) {
        /* RFC 5321 §4.1.1.3: "<Postmaster>" needs no domain */
        path->domain = "";
        path->postmaster = !(flags & HR_PATH_LOCAL_ONLY);
    }
    else {
        *why = "Bad address syntax";
        return HR_PARSE_BAD_ADDRESS;
    }
    end = s;
    path->local = apr_pstrmemdup(p, start, at - start);
    path->address = apr_pstrmemdup(p, start, end - start);
    path->utf8 = utf8;
    *pp = s;
    return HR_PARSE_OK;
}

/* Scan a Path ("<" [ A-d-l ":" ] Mailbox ">") or "<>" at *pp. */
static int scan_path(apr_pool_t *p, const char **pp, int flags,
                     hr_path *path, const char **why)
{
    const char *start = *pp, *s = *pp + 1;
    int utf8 = 0, st;

    if (*s == '>') {
        /* RFC 5321 §4.5.5: the null reverse-path, for MAIL only */
        if (!(flags & HR_PATH_ALLOW_NULL)) {
            *why = "Null path not allowed here";
            return HR_PARSE_BAD_ADDRESS;
        }
        path->address = path->local = path->domain = "";
        path->null_path = 1;
        *pp = s + 1;
        return HR_PARSE_OK;
    }
    if (*s == '@') {
        /* A source route (A-d-l = At-domain *("," At-domain)): RFC 5321
         * §4.1.1.3 and Appendix C say to accept it and ignore it. */
        for (;;) {
            s++;
            if ((st = scan_domain(&s, 0, &utf8, why)) != HR_PARSE_OK) {
                if (st == HR_PARSE_BAD_ADDRESS) {
                    *why = "Bad source route";
                }
                return st;
            }
            if (*s == ',' && s[1] == '@') {
                s++;
                continue;
            }
            if (*s == ':') {
                s++;
                break;
            }
            *why = "Bad source route";
            return HR_PARSE_BAD_ADDRESS;
        }
    }
    if ((st = scan_mailbox(p, &s, flags & ~HR_PATH_ALLOW_NULL, path, why))
        != HR_PARSE_OK) {
        return st;
    }
    if (*s != '>') {
        *why = *s == '\0' ? "Missing '>'" : "Bad address syntax";
        return *s == '\0' ? HR_PARSE_SYNTAX : HR_PARSE_BAD_ADDRESS;
    }
    s++;
    if (s - start > HR_MAX_PATH) {
        *why = "Path too long";         /* RFC 5321 §4.5.3.1.3 */
        return HR_PARSE_TOO_LONG;
    }
    *pp = s;
    return HR_PARSE_OK;
}

/* Parse the esmtp-params after a path (RFC 5321 §4.1.2, RFC 6531 §3.3)
 * into @params: keyword upper-cased, value or NULL. */
static int parse_params(apr_pool_t *p, const char *s, hr_path *path,
                        apr_array_header_t *params, int first,
                        const char **why)
{
    const char *keyword, *value;
    apr_size_t klen, vlen, n;
    hr_param_value *pv;
    char *upper;
    int i;

    for (;;) {
        while (*s == ' ') {
            s++;                /* several spaces, trailing ones too */
        }
        if (*s == '\0') {
            return HR_PARSE_OK;
        }
        /* esmtp-keyword = (ALPHA / DIGIT) *(ALPHA / DIGIT / "-") */
        keyword = s;
        if (!IS_LETDIG(*s)) {
            *why = "Bad parameter keyword";
            return HR_PARSE_BAD_PARAM;
        }
        while (IS_LETDIG(*s) || *s == '-') {
            s++;
        }
        klen = s - keyword;
        value = NULL;
        vlen = 0;
        if (*s == '=') {
            /* esmtp-value = 1*(%d33-60 / %d62-126 / UTF8-non-ascii) */
            value = ++s;
            for (;;) {
                unsigned char c = (unsigned char)*s;
                if (c >= 33 && c <= 126 && c != '=') {
                    s++;
                }
                else if (c >= 0x80) {
                    if ((n = UTF8_AT(s)) == 0) {
                        *why = "Invalid UTF-8 in parameter value";
                        return HR_PARSE_BAD_PARAM;
                    }
                    path->params_utf8 = 1;
                    s += n;
                }
                else {
                    break;
                }
            }
            vlen = s - value;
            if (vlen == 0) {
                *why = "Empty parameter value";
                return HR_PARSE_BAD_PARAM;
            }
        }
        if (*s != ' ' && *s != '\0') {
            *why = (*s == '=') ? "'=' in parameter value"
                               : "Bad parameter syntax";
            return HR_PARSE_BAD_PARAM;
        }
        if (params->nelts - first >= HR_MAX_PARAMS) {
            *why = "Too many parameters";
            return HR_PARSE_BAD_PARAM;
        }
        upper = apr_pstrmemdup(p, keyword, klen);
        for (n = 0; n < klen; n++) {
            upper[n] = TO_UPPER(upper[n]);
        }
        for (i = first; i < params->nelts; i++) {
            if (strcmp(APR_ARRAY_IDX(params, i, hr_param_value).keyword,
                       upper) == 0) {
                /* keywords are [A-Z0-9-] only: safe in a reply */
                *why = apr_psprintf(p, "Duplicate parameter %s", upper);
                return HR_PARSE_DUP_PARAM;
            }
        }
        pv = apr_array_push(params);
        pv->keyword = upper;
        pv->value = value ? apr_pstrmemdup(p, value, vlen) : NULL;
    }
}

int hr_parse_mail_rcpt(apr_pool_t *p, const char *args, const char *kind,
                       int flags, hr_path *path, apr_array_header_t *params,
                       const char **why)
{
    apr_size_t klen = strlen(kind);
    const char *s, *dummy;
    int first = params->nelts, st;

    if (why == NULL) {
        why = &dummy;
    }
    if (args == NULL) {
        args = "";
    }
    memset(path, 0, sizeof(*path));
    if (strcasecmp(kind, "TO") == 0) {
        flags |= HR_PATH_ALLOW_POSTMASTER;  /* RFC 5321 §4.1.1.3 */
    }
    if (strncasecmp(args, kind, klen) != 0 || args[klen] != ':') {
        *why = apr_psprintf(p, "Syntax: %s:<address> [parameters]", kind);
        return HR_PARSE_SYNTAX;
    }
    s = args + klen + 1;
    if (*s == ' ') {
        s++;                    /* XXX compromise: see hr_smtp.h */
    }
    if (*s != '<') {
        *why = apr_psprintf(p, "Syntax: %s:<address> [parameters]", kind);
        return HR_PARSE_SYNTAX;
    }
    st = scan_path(p, &s, flags & (HR_PATH_ALLOW_NULL
                                   | HR_PATH_ALLOW_POSTMASTER), path, why);
    if (st == HR_PARSE_OK && *s != ' ' && *s != '\0') {
        *why = "Garbage after the address";
        st = HR_PARSE_SYNTAX;
    }
    if (st == HR_PARSE_OK) {
        st = parse_params(p, s, path, params, first, why);
    }
    if (st != HR_PARSE_OK) {
        params->nelts = first;  /* leave the caller's array as it was */
        memset(path, 0, sizeof(*path));
    }
    return st;
}

int hr_parse_mailbox(apr_pool_t *p, const char *text, int flags,
                     hr_path *path, const char **why)
{
    const char *s = text, *dummy;
    int st;

    if (why == NULL) {
        why = &dummy;
    }
    memset(path, 0, sizeof(*path));
    if (*s == '<') {
        st = scan_path(p, &s, flags, path, why);
    }
    else {
        st = scan_mailbox(p, &s, flags, path, why);
        if (st == HR_PARSE_OK && s - text > HR_MAX_MAILBOX) {
            *why = "Address too long";  /* RFC 5321 §4.5.3.1.3 */
            st = HR_PARSE_TOO_LONG;
        }
    }
    if (st == HR_PARSE_OK && *s != '\0') {
        *why = "Bad address syntax";
        st = HR_PARSE_BAD_ADDRESS;
    }
    if (st != HR_PARSE_OK) {
        memset(path, 0, sizeof(*path));
    }
    return st;
}

int hr_parse_domain(const char *text)
{
    const char *why;
    int utf8 = 0;

    return check_domain(text, strlen(text), 0, &utf8, &why) == HR_PARSE_OK;
}

int hr_parse_command(apr_pool_t *p, const char *line, const char **verb,
                     const char **args)
{
    const char *s = line;
    apr_size_t n, i;
    char *upper;

    *verb = *args = NULL;
    if (!IS_ALPHA(*s)) {
        return HR_PARSE_SYNTAX;
    }
    while (IS_LETDIG(*s) || *s == '-') {
        s++;
    }
    n = s - line;
    if (n > HR_MAX_VERB || (*s != ' ' && *s != '\0')) {
        return HR_PARSE_SYNTAX;
    }
    upper = apr_pstrmemdup(p, line, n);
    for (i = 0; i < n; i++) {
        upper[i] = TO_UPPER(upper[i]);
    }
    *verb = upper;
    *args = (*s == ' ') ? s + 1 : s;
    return HR_PARSE_OK;
}

void hr_parse_status_reply(int status, int rcpt, int *code,
                           const char **enhanced)
{
    switch (status) {
    case HR_PARSE_OK:
        *code = 250;
        *enhanced = rcpt ? "2.1.5" : "2.1.0";
        break;
    case HR_PARSE_BAD_ADDRESS:
    case HR_PARSE_TOO_LONG:
        /* RFC 3463 §3.2: X.1.7 bad sender's, X.1.3 bad destination
         * mailbox address syntax; RFC 5321 §4.5.3.1.10 "501 Path too
         * long" */
        *code = 501;
        *enhanced = rcpt ? "5.1.3" : "5.1.7";
        break;
    case HR_PARSE_DUP_PARAM:
        /* RFC 5321 §4.1.1.11: 555 for parameters that cannot be
         * honoured */
        *code = 555;
        *enhanced = "5.5.4";
        break;
    case HR_PARSE_SYNTAX:
    case HR_PARSE_BAD_PARAM:
    default:
        /* RFC 3463 §3.6: X.5.4 invalid command arguments */
        *code = 501;
        *enhanced = "5.5.4";
        break;
    }
}
