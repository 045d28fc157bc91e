/*
 * dsn_parse.c -- the values of the DSN parameters (RFC 3461 §4), pure
 * functions of their text.
 *
 *     dsn_parse_ret("hdrs", &ret, &why)             ret "HDRS"
 *     dsn_parse_envid(p, "QQ+2B1", &id, &why)       id "QQ+1"
 *     dsn_parse_notify("failure,delay", &f, &why)   f FAILURE|DELAY
 *     dsn_parse_orcpt(p, "rfc822;a+2Bb@x.example", 0, &o, &why)
 *                       o.type "rfc822", o.address "a+b@x.example"
 *
 * xtext is decoded by the core (hr_xtext_decode, server/util.c), which
 * refuses "+00" and lower-case hex digits (RFC 3461 §4: "two upper case
 * hexadecimal digits").
 */
#include <string.h>
#include <apr_strings.h>
#include <apr_network_io.h>   /* apr_port_t, for herald.h */

#include "herald.h"
#include "dsn_parse.h"

#define IS_ALPHA(c) ((((c) | 0x20) >= 'a') && (((c) | 0x20) <= 'z'))
#define IS_DIGIT(c) ((c) >= '0' && (c) <= '9')

/* Is every octet of @s printable US-ASCII, SP included (RFC 3461 §4.2,
 * §4.4: "printable (graphic and white space) characters")? */
static int printable_ascii(const char *s)
{
    for (; *s != '\0'; s++) {
        if ((unsigned char)*s < 0x20 || (unsigned char)*s > 0x7e) {
            return 0;
        }
    }
    return 1;
}

/* atext (RFC 5322 §3.2.3): the octets of an atom. */
static int is_atext(unsigned char c)
{
    return IS_ALPHA(c) || IS_DIGIT(c) || (c != '\0' &&
           strchr("!#$%&'*+-/=?^_`{|}~", c) != NULL);
}

DSN_HIDDEN int dsn_parse_ret(const char *value, const char **ret,
                             const char **why)
{
    /* RFC 3461 §4.3: ret-value = "FULL" / "HDRS" (ABNF strings ignore
     * case) */
    if (value != NULL && strcasecmp(value, "FULL") == 0) {
        *ret = "FULL";
        return 0;
    }
    if (value != NULL && strcasecmp(value, "HDRS") == 0) {
        *ret = "HDRS";
        return 0;
    }
    *why = "Invalid RET value: expected FULL or HDRS";
    return -1;
}

DSN_HIDDEN int dsn_parse_envid(apr_pool_t *p, const char *value,
                               const char **envid, const char **why)
{
    const char *decoded;

    if (value == NULL || *value == '\0') {
        *why = "ENVID needs a value";
        return -1;
    }
    if (strlen(value) > DSN_ENVID_MAX) {
        *why = "ENVID is longer than 100 characters";
        return -1;
    }
    decoded = hr_xtext_decode(p, value);
    if (decoded == NULL) {
        *why = "Invalid ENVID value: bad xtext";
        return -1;
    }
    /* RFC 3461 §4.4: printable US-ASCII before encoding */
    if (*decoded == '\0' || !printable_ascii(decoded)) {
        *why = "Invalid ENVID value: not printable US-ASCII";
        return -1;
    }
    *envid = decoded;
    return 0;
}

DSN_HIDDEN int dsn_parse_notify(const char *value, unsigned *flags,
                                const char **why)
{
    static const struct {
        const char *name;
        unsigned bit;
    } names[] = {
        {"NEVER", DSN_NOTIFY_NEVER},
        {"SUCCESS", DSN_NOTIFY_SUCCESS},
        {"FAILURE", DSN_NOTIFY_FAILURE},
        {"DELAY", DSN_NOTIFY_DELAY},
    };
    const char *s = value, *end;
    unsigned seen = 0;
    apr_size_t len, i;

    if (value == NULL || *value == '\0') {
        *why = "NOTIFY needs a value";
        return -1;
    }
    /* RFC 3461 §4.1: notify-esmtp-value = "NEVER" / 1#notify-list-element,
     * notify-list-element = "SUCCESS" / "FAILURE" / "DELAY" */
    for (;;) {
        end = strchr(s, ',');
        len = end ? (apr_size_t)(end - s) : strlen(s);
        for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
            if (strlen(names[i].name) == len &&
                strncasecmp(s, names[i].name, len) == 0) {
                break;
            }
        }
        if (i == sizeof(names) / sizeof(names[0])) {
            *why = len ? "Invalid NOTIFY value: expected NEVER or a list "
                         "of SUCCESS, FAILURE, DELAY"
                       : "Invalid NOTIFY value: empty list element";
            return -1;
        }
        if (seen & names[i].bit) {
            *why = "Invalid NOTIFY value: duplicate list element";
            return -1;
        }
        seen |= names[i].bit;
        if (end == NULL) {
            break;
        }
        s = end + 1;
    }
    /* RFC 3461 §4.1: "NEVER" is the whole value or absent */
    if ((seen & DSN_NOTIFY_NEVER) && seen != DSN_NOTIFY_NEVER) {
        *why = "Invalid NOTIFY value: NEVER cannot be combined";
        return -1;
    }
    *flags = seen;
    return 0;
}

DSN_HIDDEN const char *dsn_notify_text(unsigned flags)
{
    static const char *const texts[8] = {
        "", "SUCCESS", "FAILURE", "SUCCESS,FAILURE", "DELAY",
        "SUCCESS,DELAY", "FAILURE,DELAY", "SUCCESS,FAILURE,DELAY"};

    if (flags & DSN_NOTIFY_NEVER) {
        return "NEVER";
    }
    return texts[(flags >> 1) & 7];
}

/* Length of the UTF-8 sequence at @s (RFC 3629 §4: no overlong forms,
 * no surrogates, nothing above U+10FFFF), or 0 when it is invalid. */
static apr_size_t utf8_sequence(const unsigned char *s)
{
    unsigned char c = s[0];

    if (c >= 0xc2 && c <= 0xdf) {
        return (s[1] & 0xc0) == 0x80 ? 2 : 0;
    }
    if (c >= 0xe0 && c <= 0xef) {
        if ((s[1] & 0xc0) != 0x80 || (s[2] & 0xc0) != 0x80 ||
            (c == 0xe0 && s[1] < 0xa0) || (c == 0xed && s[1] > 0x9f)) {
            return 0;
        }
        return 3;
    }
    if (c >= 0xf0 && c <= 0xf4) {
        if ((s[1] & 0xc0) != 0x80 || (s[2] & 0xc0) != 0x80 ||
            (s[3] & 0xc0) != 0x80 || (c == 0xf0 && s[1] < 0x90) ||
            (c == 0xf4 && s[1] > 0x8f)) {
            return 0;
        }
        return 4;
    }
    return 0;
}

/* Append code point @cp to @o as UTF-8; returns the new end. */
static char *utf8_put(char *o, unsigned long cp)
{
    if (cp < 0x80) {
        *o++ = (char)cp;
    }
    else if (cp < 0x800) {
        *o++ = (char)(0xc0 | (cp >> 6));
        *o++ = (char)(0x80 | (cp & 0x3f));
    }
    else if (cp < 0x10000) {
        *o++ = (char)(0xe0 | (cp >> 12));
        *o++ = (char)(0x80 | ((cp >> 6) & 0x3f));
        *o++ = (char)(0x80 | (cp & 0x3f));
    }
    else {
        *o++ = (char)(0xf0 | (cp >> 18));
        *o++ = (char)(0x80 | ((cp >> 12) & 0x3f));
        *o++ = (char)(0x80 | ((cp >> 6) & 0x3f));
        *o++ = (char)(0x80 | (cp & 0x3f));
    }
    return o;
}

static int hex_value(char c)
{
    if (IS_DIGIT(c)) {
        return c - '0';
    }
    if ((c | 0x20) >= 'a' && (c | 0x20) <= 'f') {
        return (c | 0x20) - 'a' + 10;
    }
    return -1;
}

/*
 * Decode an RFC 6533 §3 utf-8-addr-xtext (or, with @unitext,
 * utf-8-addr-unitext).  QCHAR = %x21-2A / %x2C-3C / %x3E-5B / %x5D-7E;
 * EmbeddedUnicodeChar = "\x{" HEXPOINT "}", where HEXPOINT is 2 to 6 hex
 * digits, without a leading zero beyond two digits, naming a scalar value
 * that needs the escape (two digits: SP, '+', '=', '\' or U+0080 and
 * up).  Control characters are refused: they are never in a mailbox.
 * Returns the decoded text or NULL.
 */
static const char *utf8_addr_decode(apr_pool_t *p, const char *in,
                                    int unitext)
{
    /* each escape shrinks, each raw octet is copied: the input bounds it */
    char *out = apr_palloc(p, strlen(in) + 1), *o = out;
    const unsigned char *s = (const unsigned char *)in;

    while (*s != '\0') {
        if (*s == '\\') {
            const unsigned char *first;
            unsigned long cp = 0;
            int digits = 0, v;

            if (s[1] != 'x' || s[2] != '{') {
                return NULL;
            }
            s += 3;
            first = s;
            while ((v = hex_value((char)*s)) >= 0 && digits < 6) {
                cp = cp * 16 + (unsigned long)v;
                digits++;
                s++;
            }
            if (*s != '}' || digits < 2 || (digits > 2 && *first == '0') ||
                cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff) ||
                cp < 0x20 || (cp > 0x20 && cp < 0x80 && cp != '+' &&
                              cp != '=' && cp != '\\')) {
                return NULL;
            }
            s++;
            o = utf8_put(o, cp);
        }
        else if (*s >= 0x21 && *s <= 0x7e && *s != '+' && *s != '=') {
            *o++ = (char)*s++;
        }
        else if (*s >= 0x80 && unitext) {
            apr_size_t n = utf8_sequence(s);
            if (n == 0) {
                return NULL;
            }
            memcpy(o, s, n);
            o += n;
            s += n;
        }
        else {
            return NULL;
        }
    }
    *o = '\0';
    return out;
}

DSN_HIDDEN int dsn_parse_orcpt(apr_pool_t *p, const char *value,
                               int smtputf8, dsn_orcpt *orcpt,
                               const char **why)
{
    const char *semi, *s, *address;
    char *type, *c;

    if (value == NULL || *value == '\0') {
        *why = "ORCPT needs a value";
        return -1;
    }
    if (strlen(value) > DSN_ORCPT_MAX) {
        *why = "ORCPT is longer than 500 characters";
        return -1;
    }
    /* RFC 3461 §4.2: original-recipient-address = addr-type ";" xtext,
     * addr-type = atom */
    semi = strchr(value, ';');
    if (semi == NULL || semi == value) {
        *why = "Invalid ORCPT value: expected addr-type;address";
        return -1;
    }
    for (s = value; s < semi; s++) {
        if (!is_atext((unsigned char)*s)) {
            *why = "Invalid ORCPT value: bad addr-type";
            return -1;
        }
    }
    type = apr_pstrmemdup(p, value, semi - value);
    for (c = type; *c != '\0'; c++) {
        if (*c >= 'A' && *c <= 'Z') {
            *c = (char)(*c + ('a' - 'A'));
        }
    }
    s = semi + 1;
    if (*s == '\0') {
        *why = "Invalid ORCPT value: empty address";
        return -1;
    }
    if (strcmp(type, "utf-8") == 0) {
        /* RFC 6533 §3: utf-8-addr-xtext, or utf-8-addr-unitext when
         * SMTPUTF8 is in use */
        address = utf8_addr_decode(p, s, smtputf8);
        if (address == NULL) {
            *why = "Invalid ORCPT value: bad utf-8-addr-xtext";
            return -1;
        }
    }
    else {
        address = hr_xtext_decode(p, s);
        if (address == NULL) {
            *why = "Invalid ORCPT value: bad xtext";
            return -1;
        }
        /* RFC 3461 §4.2: printable US-ASCII before encoding */
        if (!printable_ascii(address)) {
            *why = "Invalid ORCPT value: not printable US-ASCII";
            return -1;
        }
    }
    if (*address == '\0') {
        *why = "Invalid ORCPT value: empty address";
        return -1;
    }
    orcpt->type = type;
    orcpt->encoded = apr_pstrdup(p, s);
    orcpt->address = address;
    return 0;
}
