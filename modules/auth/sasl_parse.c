/*
 * sasl_parse.c -- the server side of SASL PLAIN and LOGIN over the lines
 * of an SMTP AUTH exchange (RFC 4954 §4), with no session state: see
 * sasl_parse.h for the calling sequence.
 *
 *   PLAIN (RFC 4616):  C: AUTH PLAIN AGFsaWNlAHNlY3JldA==
 *                      (or C: AUTH PLAIN / S: 334 / C: AGFsaWNl...)
 *   LOGIN (draft-murchison-sasl-login-00):
 *                      C: AUTH LOGIN            [initial response: user]
 *                      S: 334 VXNlcm5hbWU6      "Username:"
 *                      C: YWxpY2U=
 *                      S: 334 UGFzc3dvcmQ6      "Password:"
 *                      C: c2VjcmV0
 *
 * XXX The draft makes LOGIN server-first, and RFC 4954 §4 says a server
 * MUST refuse an initial response to such a mechanism (501 5.7.0).  But
 * [MS-XLOGIN] defines "AUTH LOGIN <user>", Python's smtplib sends it by
 * default and Postfix (Cyrus SASL) accepts it; refusing it would only
 * break those clients, so the initial response is taken as the user name.
 *
 * Base64 is checked strictly before APR-util decodes it: a response that
 * is not canonical base64 is refused rather than guessed at.
 */
#include <string.h>
#include <apr_base64.h>
#include <apr_crypto.h>
#include <apr_lib.h>
#include <apr_strings.h>

#include "sasl_parse.h"
#include "hr_smtp.h"   /* hr_utf8_valid */

/* LOGIN's challenges: base64 of "Username:" and "Password:". */
#define LOGIN_ASK_USER "VXNlcm5hbWU6"
#define LOGIN_ASK_PASSWORD "UGFzc3dvcmQ6"

static const char *const mech_names[SASL_MECH_COUNT] = {"PLAIN", "LOGIN"};

sasl_mech sasl_mech_by_name(const char *name)
{
    int i;

    for (i = 0; i < SASL_MECH_COUNT; i++) {
        if (strcasecmp(name, mech_names[i]) == 0) {
            return (sasl_mech)i;
        }
    }
    return SASL_MECH_UNKNOWN;
}

const char *sasl_mech_name(sasl_mech mech)
{
    return mech >= 0 && mech < SASL_MECH_COUNT ? mech_names[mech] : "?";
}

int sasl_mech_name_valid(const char *name)
{
    apr_size_t i;

    for (i = 0; name[i] != '\0'; i++) {
        if (i >= SASL_MECH_NAME_MAX ||
            !(apr_isalnum(name[i]) || name[i] == '-' || name[i] == '_')) {
            return 0;
        }
    }
    return i > 0;
}

/* Value of a base64 digit, or -1 (RFC 4648 §4, table 1). */
static int b64_value(unsigned char c)
{
    if (c >= 'A' && c <= 'Z') {
        return c - 'A';
    }
    if (c >= 'a' && c <= 'z') {
        return c - 'a' + 26;
    }
    if (c >= '0' && c <= '9') {
        return c - '0' + 52;
    }
    if (c == '+') {
        return 62;
    }
    if (c == '/') {
        return 63;
    }
    return -1;
}

sasl_status sasl_base64_decode(apr_pool_t *p, const char *text,
                               apr_size_t len, char **out,
                               apr_size_t *out_len)
{
    apr_size_t i, pad = 0, expected;
    char *buf;
    int n;

    *out = NULL;
    *out_len = 0;
    if (len > SASL_LINE_MAX) {
        return SASL_TOO_LONG;
    }
    if (len % 4 != 0 || strlen(text) != len) {
        return SASL_BAD_BASE64;   /* a NUL inside is not base64 either */
    }
    if (len > 0 && text[len - 1] == '=') {
        pad = text[len - 2] == '=' ? 2 : 1;
    }
    for (i = 0; i < len - pad; i++) {
        if (b64_value((unsigned char)text[i]) < 0) {
            return SASL_BAD_BASE64;
        }
    }
    /* RFC 4648 §3.5: the bits the padding leaves over must be zero, or
     * two different texts would decode to the same octets. */
    if (pad == 2 && (b64_value((unsigned char)text[len - 3]) & 0x0f) != 0) {
        return SASL_BAD_BASE64;
    }
    if (pad == 1 && (b64_value((unsigned char)text[len - 2]) & 0x03) != 0) {
        return SASL_BAD_BASE64;
    }
    expected = len / 4 * 3 - pad;
    /* apr_base64_decode_len() counts the terminating NUL it writes */
    buf = apr_palloc(p, apr_base64_decode_len(text) + 1);
    n = apr_base64_decode_binary((unsigned char *)buf, text);
    if (n < 0 || (apr_size_t)n != expected) {
        return SASL_BAD_BASE64;
    }
    buf[n] = '\0';
    *out = buf;
    *out_len = (apr_size_t)n;
    return SASL_CONTINUE;
}

/* One part of a PLAIN message: length bounds and UTF-8 (RFC 4616 §2). */
static int plain_part_ok(const char *part, apr_size_t len, int may_be_empty)
{
    return (len > 0 || may_be_empty) && len <= SASL_FIELD_MAX &&
           hr_utf8_valid(part, len);
}

sasl_status sasl_plain_parse(apr_pool_t *p, const char *msg, apr_size_t len,
                             const char **authzid, const char **authcid,
                             const char **passwd, const char **why)
{
    const char *nul1, *nul2, *end = msg + len;

    *authzid = *authcid = *passwd = NULL;
    *why = NULL;
    nul1 = memchr(msg, '\0', len);
    nul2 = nul1 ? memchr(nul1 + 1, '\0', end - nul1 - 1) : NULL;
    if (nul2 == NULL) {
        *why = "PLAIN message needs two NUL separators";
        return SASL_MALFORMED;
    }
    if (memchr(nul2 + 1, '\0', end - nul2 - 1) != NULL) {
        *why = "PLAIN message has more than two NUL separators";
        return SASL_MALFORMED;
    }
    if (!plain_part_ok(msg, nul1 - msg, 1)) {
        *why = "invalid PLAIN authorization identity";
        return SASL_MALFORMED;
    }
    if (!plain_part_ok(nul1 + 1, nul2 - nul1 - 1, 0)) {
        *why = "invalid PLAIN authentication identity";
        return SASL_MALFORMED;
    }
    if (!plain_part_ok(nul2 + 1, end - nul2 - 1, 0)) {
        *why = "invalid PLAIN password";
        return SASL_MALFORMED;
    }
    *authzid = apr_pstrmemdup(p, msg, nul1 - msg);
    *authcid = apr_pstrmemdup(p, nul1 + 1, nul2 - nul1 - 1);
    *passwd = nul2 + 1;   /* inside @msg, which is NUL-terminated */
    return SASL_DONE;
}

/* Decode one client response and hand it to the mechanism. */
static sasl_status feed(apr_pool_t *p, sasl_exchange *x, const char *data,
                        apr_size_t len)
{
    sasl_status st;
    char *msg;
    apr_size_t msg_len;

    st = sasl_base64_decode(p, data, len, &msg, &msg_len);
    if (st != SASL_CONTINUE) {
        return st;
    }
    switch (x->mech) {
    case SASL_MECH_PLAIN:
        x->secret = msg;
        x->secret_len = msg_len;
        return sasl_plain_parse(p, msg, msg_len, &x->authzid, &x->authcid,
                                &x->passwd, &x->why);
    case SASL_MECH_LOGIN:
        /* The user name and the password are text without NUL; the
         * draft sets no limit, RFC 4616's 255 octets is used. */
        if (x->step == 0) {
            if (!plain_part_ok(msg, msg_len, 0) ||
                strlen(msg) != msg_len) {
                x->why = "invalid LOGIN user name";
                return SASL_MALFORMED;
            }
            x->authcid = msg;
            x->step = 1;
            x->challenge = LOGIN_ASK_PASSWORD;
            return SASL_CONTINUE;
        }
        x->secret = msg;
        x->secret_len = msg_len;
        if (!plain_part_ok(msg, msg_len, 0) || strlen(msg) != msg_len) {
            x->why = "invalid LOGIN password";
            return SASL_MALFORMED;
        }
        x->passwd = msg;
        return SASL_DONE;
    default:
        x->why = "unknown mechanism";
        return SASL_MALFORMED;
    }
}

sasl_status sasl_start(apr_pool_t *p, sasl_exchange *x, sasl_mech mech,
                       const char *initial)
{
    memset(x, 0, sizeof(*x));
    x->mech = mech;
    x->authzid = "";
    if (mech != SASL_MECH_PLAIN && mech != SASL_MECH_LOGIN) {
        x->why = "unknown mechanism";
        return SASL_MALFORMED;
    }
    if (initial == NULL) {
        /* PLAIN: RFC 4616 §2 has the client speak first, so the server
         * sends an empty challenge ("334 ", RFC 4954 §4). */
        x->challenge = mech == SASL_MECH_PLAIN ? "" : LOGIN_ASK_USER;
        return SASL_CONTINUE;
    }
    /* RFC 4954 §4: "=" is an initial response of zero length */
    if (strcmp(initial, "=") == 0) {
        return feed(p, x, "", 0);
    }
    return feed(p, x, initial, strlen(initial));
}

sasl_status sasl_step(apr_pool_t *p, sasl_exchange *x, const char *line,
                      apr_size_t len)
{
    if (len > SASL_LINE_MAX) {
        return SASL_TOO_LONG;
    }
    /* RFC 4954 §4: a line of a single "*" cancels the exchange */
    if (len == 1 && line[0] == '*') {
        return SASL_CANCELLED;
    }
    return feed(p, x, line, len);
}

void sasl_wipe(sasl_exchange *x)
{
    if (x->secret != NULL) {
#if APU_HAVE_CRYPTO
        apr_crypto_memzero(x->secret, x->secret_len);
#else
        explicit_bzero(x->secret, x->secret_len);
#endif
    }
    x->secret = NULL;
    x->secret_len = 0;
    x->passwd = NULL;
}
