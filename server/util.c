/*
 * util.c -- small validators and decoders shared by the core and modules:
 * FQDN test (mod_ehlo's reject-non-fqdn), address literals (EHLO argument,
 * RCPT domains) and xtext (RFC 3461: ENVID, ORCPT, AUTH=).
 *
 *     hr_is_fqdn("mx.example.org")          1
 *     hr_is_fqdn("localhost")               0
 *     hr_is_address_literal("[IPv6:::1]")   1
 *     hr_xtext_decode(p, "a+2Bb")           "a+b"
 *
 * All of them are pure functions of their text; none keeps state.
 */
#include <string.h>
#include <strings.h>
#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <apr_strings.h>
#include <apr_network_io.h>   /* apr_port_t, for herald.h */

#include "herald.h"
#include "hr_smtp.h"

#define IS_ALPHA(c) ((((c) | 0x20) >= 'a') && (((c) | 0x20) <= 'z'))
#define IS_DIGIT(c) ((c) >= '0' && (c) <= '9')
#define IS_LETDIG(c) (IS_ALPHA(c) || IS_DIGIT(c))
#define IS_UPPER_HEX(c) (IS_DIGIT(c) || ((c) >= 'A' && (c) <= 'F'))
#define HEX_VALUE(c) (IS_DIGIT(c) ? (c) - '0' : (c) - 'A' + 10)

/* RFC 1035 §2.3.4 / RFC 1123 §2.1: 255 octets on the wire, which leaves
 * 253 characters in dotted form without the root's trailing dot. */
#define HR_MAX_FQDN 253

/*
 * A name is an FQDN when it has at least two labels of 1-63 letters,
 * digits and hyphens, none starting or ending with a hyphen (RFC 1123
 * §2.1), at most 253 octets (a trailing dot is allowed and not counted),
 * and its top-level label is not all digits (RFC 3696 §2: that would be
 * an IPv4 address).  "localhost", "mail" or a container id are not.
 */
HR_DECLARE(int) hr_is_fqdn(const char *name)
{
    apr_size_t len, i, start = 0;
    int labels = 0, all_digits = 1;

    if (name == NULL) {
        return 0;
    }
    len = strlen(name);
    if (len > 0 && name[len - 1] == '.') {
        len--;                  /* the root label */
    }
    if (len == 0 || len > HR_MAX_FQDN) {
        return 0;
    }
    for (i = 0; i <= len; i++) {
        if (i == len || name[i] == '.') {
            if (i == start || i - start > HR_MAX_LABEL
                || name[start] == '-' || name[i - 1] == '-') {
                return 0;
            }
            labels++;
            if (i < len) {
                all_digits = 1; /* only the last label's value matters */
                start = i + 1;
            }
        }
        else if (IS_LETDIG(name[i])) {
            all_digits = all_digits && IS_DIGIT(name[i]);
        }
        else if (name[i] == '-') {
            all_digits = 0;
        }
        else {
            return 0;           /* '_', spaces, non-ASCII ... */
        }
    }
    return labels >= 2 && !all_digits;
}

/*
 * address-literal (RFC 5321 §4.1.3): "[" IPv4 / "IPv6:" IPv6 / General
 * "]".  IPv4 and IPv6 forms are checked with inet_pton(); a
 * General-address-literal (Standardized-tag ":" 1*dcontent) is only
 * checked for syntax since no other tag is registered.
 */
HR_DECLARE(int) hr_is_address_literal(const char *text)
{
    char inner[HR_MAX_DOMAIN + 1];
    struct in6_addr a6;
    struct in_addr a4;
    apr_size_t len, i;
    char *colon;

    if (text == NULL) {
        return 0;
    }
    len = strlen(text);
    if (len < 3 || len > HR_MAX_DOMAIN || text[0] != '['
        || text[len - 1] != ']') {
        return 0;
    }
    memcpy(inner, text + 1, len - 2);
    inner[len - 2] = '\0';
    if (strncasecmp(inner, "IPv6:", 5) == 0) {
        return inet_pton(AF_INET6, inner + 5, &a6) == 1;
    }
    colon = strchr(inner, ':');
    if (colon == NULL) {
        return inet_pton(AF_INET, inner, &a4) == 1;
    }
    /* Standardized-tag = Ldh-str: ending with a letter or digit */
    if (colon == inner || colon[-1] == '-') {
        return 0;
    }
    for (i = 0; inner + i < colon; i++) {
        if (!IS_LETDIG(inner[i]) && inner[i] != '-') {
            return 0;
        }
    }
    /* dcontent = %d33-90 / %d94-126 */
    if (colon[1] == '\0') {
        return 0;
    }
    for (i = 1; colon[i] != '\0'; i++) {
        unsigned char c = (unsigned char)colon[i];
        if (c < 33 || c > 126 || (c >= 91 && c <= 93)) {
            return 0;
        }
    }
    return 1;
}

/*
 * xtext (RFC 3461 §4): xchar = %d33-42 / %d44-60 / %d62-126, hexchar =
 * "+" 2 upper-case hex digits.  "+00" is refused: it would end a C string.
 */
int hr_xtext_valid(const char *s)
{
    if (s == NULL) {
        return 0;
    }
    for (; *s != '\0'; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '+') {
            if (!IS_UPPER_HEX(s[1]) || !IS_UPPER_HEX(s[2])
                || (s[1] == '0' && s[2] == '0')) {
                return 0;
            }
            s += 2;
        }
        else if (c < 33 || c > 126 || c == '=') {
            return 0;
        }
    }
    return 1;
}

HR_DECLARE(const char *) hr_xtext_decode(apr_pool_t *p, const char *xtext)
{
    char *out, *o;

    if (!hr_xtext_valid(xtext)) {
        return NULL;
    }
    o = out = apr_palloc(p, strlen(xtext) + 1);
    while (*xtext != '\0') {
        if (*xtext == '+') {
            *o++ = (char)(HEX_VALUE(xtext[1]) * 16 + HEX_VALUE(xtext[2]));
            xtext += 3;
        }
        else {
            *o++ = *xtext++;
        }
    }
    *o = '\0';
    return out;
}
