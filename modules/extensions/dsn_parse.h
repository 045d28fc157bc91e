/*
 * dsn_parse.h -- the pure parsers of mod_dsn (RFC 3461): the values of
 * RET, ENVID, NOTIFY and ORCPT.  No session types, so the CUnit suite
 * (test/unit/test_dsn.c) links this file with server/util.c alone.
 *
 * Every parser returns 0 on success or -1 with a short reply text in
 * *why; results are pool copies.  The functions are hidden: modules are
 * loaded RTLD_GLOBAL and these names must not leak into other modules.
 */
#ifndef DSN_PARSE_H
#define DSN_PARSE_H

#include <apr.h>
#include <apr_pools.h>

#define DSN_HIDDEN __attribute__((visibility("hidden")))

/*
 * RFC 3461 §4.4: ENVID is at most 100 characters; §4.2: ORCPT at most
 * 500.  Both limits apply to the value as it is sent (the xtext): they
 * exist to bound the length of the MAIL and RCPT command lines, and a
 * decoded value is never longer than its encoding.
 */
#define DSN_ENVID_MAX 100
#define DSN_ORCPT_MAX 500

/* NOTIFY values (RFC 3461 §4.1). */
#define DSN_NOTIFY_NEVER 0x01
#define DSN_NOTIFY_SUCCESS 0x02
#define DSN_NOTIFY_FAILURE 0x04
#define DSN_NOTIFY_DELAY 0x08

/**
 * RET=FULL / RET=HDRS (RFC 3461 §4.3), without regard to case.  Stores
 * the upper-case form ("FULL" or "HDRS", static) in *ret.
 */
DSN_HIDDEN int dsn_parse_ret(const char *value, const char **ret,
                             const char **why);

/**
 * ENVID=xtext (RFC 3461 §4.4): valid xtext of at most DSN_ENVID_MAX
 * characters whose decoded form is printable US-ASCII (graphic and SP).
 * Stores the decoded envelope id in *envid.
 */
DSN_HIDDEN int dsn_parse_envid(apr_pool_t *p, const char *value,
                               const char **envid, const char **why);

/**
 * NOTIFY=NEVER / NOTIFY=SUCCESS,FAILURE,DELAY (RFC 3461 §4.1): NEVER
 * alone, or a comma list of the others, each at most once, without
 * regard to case.  Stores the DSN_NOTIFY_* bits in *flags.
 */
DSN_HIDDEN int dsn_parse_notify(const char *value, unsigned *flags,
                                const char **why);

/**
 * The canonical text of NOTIFY bits: "NEVER", or the chosen ones of
 * "SUCCESS,FAILURE,DELAY" in that order (static strings).
 */
DSN_HIDDEN const char *dsn_notify_text(unsigned flags);

/** An ORCPT value, parsed. */
typedef struct dsn_orcpt {
    const char *type;      /* addr-type, lower-cased: "rfc822", "utf-8" */
    const char *encoded;   /* the part after ';' exactly as received */
    const char *address;   /* the decoded address (UTF-8 for "utf-8") */
} dsn_orcpt;

/**
 * ORCPT=addr-type;xtext (RFC 3461 §4.2).  addr-type is an atom; the
 * address is decoded as xtext and must be printable US-ASCII, except
 * for addr-type "utf-8" (RFC 6533 §3), whose value is utf-8-addr-xtext
 * (printable ASCII but '+', '=' and '\', with "\x{HEX}" escapes) or,
 * when @smtputf8 is set (the transaction used SMTPUTF8),
 * utf-8-addr-unitext (the same plus raw UTF-8).  At most DSN_ORCPT_MAX
 * octets in all.
 */
DSN_HIDDEN int dsn_parse_orcpt(apr_pool_t *p, const char *value,
                               int smtputf8, dsn_orcpt *orcpt,
                               const char **why);

#endif /* DSN_PARSE_H */
