/*
 * sasl_parse.h -- the server side of the SASL mechanisms mod_auth offers
 * (PLAIN, RFC 4616; LOGIN, draft-murchison-sasl-login), as pure functions
 * over the lines of an RFC 4954 exchange.  Not installed.
 *
 * Nothing here knows about sessions or passwords: the module feeds the
 * initial response and each continuation line, and gets back either a
 * challenge to send ("334 " + base64), the credentials to check, or the
 * reason the exchange failed.  test/unit/test_sasl.c drives it with
 * tables.
 *
 *     sasl_exchange x;
 *     st = sasl_start(p, &x, SASL_MECH_LOGIN, NULL);   SASL_CONTINUE
 *         send "334 " x.challenge                      "VXNlcm5hbWU6"
 *     st = sasl_step(p, &x, line, len);                SASL_CONTINUE
 *     st = sasl_step(p, &x, line, len);                SASL_DONE
 *         check x.authcid / x.passwd, then sasl_wipe(&x)
 *
 * The functions are hidden: mod_auth.so is loaded RTLD_GLOBAL and must
 * export nothing but its module record.
 */
#ifndef SASL_PARSE_H
#define SASL_PARSE_H

#include <apr.h>
#include <apr_pools.h>

#define AUTH_PRIVATE __attribute__((visibility("hidden")))

/* RFC 4954 §4: the AUTH command and each SASL line may be 12288 octets. */
#define SASL_LINE_MAX 12288
/* RFC 4616 §2: authzid, authcid and passwd are at most 255 octets. */
#define SASL_FIELD_MAX 255
/* RFC 4422 §3.1: a mechanism name is 1 to 20 characters. */
#define SASL_MECH_NAME_MAX 20

typedef enum {
    SASL_MECH_UNKNOWN = -1,
    SASL_MECH_PLAIN = 0,
    SASL_MECH_LOGIN,
    SASL_MECH_COUNT
} sasl_mech;

typedef enum {
    SASL_CONTINUE = 0, /* send "334 " challenge, read the next line */
    SASL_DONE,         /* authzid, authcid and passwd are set */
    SASL_CANCELLED,    /* the client answered "*" (RFC 4954 §4) */
    SASL_BAD_BASE64,   /* not valid base64 (RFC 4954 §4: 501 5.5.2) */
    SASL_MALFORMED,    /* decoded, but not a message of the mechanism */
    SASL_TOO_LONG      /* over SASL_LINE_MAX (RFC 4954 §4: 500 5.5.6) */
} sasl_status;

/** One exchange in progress.  Strings come from the pool given. */
typedef struct sasl_exchange {
    sasl_mech mech;
    int step;                 /* LOGIN: 0 user asked, 1 password asked */
    const char *challenge;    /* base64 text of the next 334 ("" = none) */
    const char *authzid;      /* PLAIN's authorization id, "" when absent */
    const char *authcid;      /* the user name */
    const char *passwd;       /* NUL-terminated, no NUL inside */
    char *secret;             /* the buffer that holds the password */
    apr_size_t secret_len;
    const char *why;          /* SASL_MALFORMED: a reason for the log */
} sasl_exchange;

/** Mechanism by name, case-insensitive; SASL_MECH_UNKNOWN when unknown. */
AUTH_PRIVATE sasl_mech sasl_mech_by_name(const char *name);

/** Upper-case name of a mechanism ("PLAIN"). */
AUTH_PRIVATE const char *sasl_mech_name(sasl_mech mech);

/**
 * Is @name a syntactically valid SASL mechanism name (RFC 4422 §3.1:
 * 1*20 of upper-case letters, digits, '-' and '_'; lower case is accepted
 * since RFC 4954 §4 compares them without regard to case)?  1 or 0.
 */
AUTH_PRIVATE int sasl_mech_name_valid(const char *name);

/**
 * Decode one base64 line strictly (RFC 4648 §4): only the alphabet, a
 * length that is a multiple of 4, '=' padding only at the end and no
 * non-zero bits left over by the padding.  The empty string decodes to
 * nothing.  *out is NUL-terminated (it may hold NULs inside).
 * Returns SASL_CONTINUE (decoded), SASL_BAD_BASE64 or SASL_TOO_LONG.
 */
AUTH_PRIVATE sasl_status sasl_base64_decode(apr_pool_t *p, const char *text,
                                            apr_size_t len, char **out,
                                            apr_size_t *out_len);

/**
 * Split a PLAIN message (RFC 4616 §2): [authzid] NUL authcid NUL passwd,
 * each part valid UTF-8 of at most 255 octets, authcid and passwd not
 * empty.  Returns SASL_DONE (parts are pool copies; *why NULL) or
 * SASL_MALFORMED with a reason in *why.
 */
AUTH_PRIVATE sasl_status sasl_plain_parse(apr_pool_t *p, const char *msg,
                                          apr_size_t len,
                                          const char **authzid,
                                          const char **authcid,
                                          const char **passwd,
                                          const char **why);

/**
 * Begin an exchange.  @initial is the initial response of the AUTH
 * command as received (base64, or "=" for an empty one, RFC 4954 §4), or
 * NULL when there was none.
 */
AUTH_PRIVATE sasl_status sasl_start(apr_pool_t *p, sasl_exchange *x,
                                    sasl_mech mech, const char *initial);

/** Feed the next client line (without CRLF, NUL-terminated). */
AUTH_PRIVATE sasl_status sasl_step(apr_pool_t *p, sasl_exchange *x,
                                   const char *line, apr_size_t len);

/** Overwrite the password octets (call when the exchange is over). */
AUTH_PRIVATE void sasl_wipe(sasl_exchange *x);

#endif /* SASL_PARSE_H */
