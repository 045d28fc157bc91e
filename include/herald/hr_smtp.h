/*
 * hr_smtp.h -- pure parsers for SMTP command arguments (public API).
 *
 * These functions know nothing about sessions: they take text, return a
 * status and fill plain structures allocated from the pool they are given,
 * so the core's MAIL, RCPT, VRFY and HELO/EHLO handlers and modules (the
 * AUTH= parameter, VRFY, EXPN) share them, and the unit tests
 * (test/unit/test_parse.c) drive them with tables.  The implementation is
 * server/smtp_parse.c.
 *
 * A MAIL handler uses them like this:
 *
 *     const char *verb, *args, *why;
 *     hr_path path;
 *     apr_array_header_t *params = apr_array_make(p, 4,
 *                                                 sizeof(hr_param_value));
 *     hr_parse_command(p, line, &verb, &args);     verb "MAIL"
 *     st = hr_parse_mail_rcpt(p, args, "FROM", HR_PATH_ALLOW_NULL,
 *                             &path, params, &why);     RCPT: "TO", 0
 *     if (st != HR_PARSE_OK) {
 *         hr_parse_status_reply(st, 0, &code, &enhanced);
 *         hr_reply(s, code, enhanced, "%s", why);
 *     }
 *
 * Line length limits (RFC 5321 §4.5.3.1.4-6) are the caller's: the parsers
 * are given one complete line without its CRLF.
 */
#ifndef HR_SMTP_PARSE_H
#define HR_SMTP_PARSE_H

#include <apr.h>
#include <apr_pools.h>
#include <apr_tables.h>

#include "herald.h"

#ifdef __cplusplus
extern "C" {
#endif

/* RFC 5321 §4.5.3.1.1-3: size limits of the parts of a path, in octets. */
#define HR_MAX_LOCAL_PART 64
#define HR_MAX_DOMAIN 255
#define HR_MAX_PATH 256        /* "<" ... ">", source route included */
#define HR_MAX_LABEL 63        /* RFC 1035 §2.3.4 */
#define HR_MAX_VERB 32         /* longest verb hr_parse_command accepts */
#define HR_MAX_PARAMS 32       /* esmtp-params on one MAIL/RCPT line */

/** Outcome of a parser. */
typedef enum {
    HR_PARSE_OK = 0,
    HR_PARSE_SYNTAX,       /* the command's form: "FROM:" or <> missing */
    HR_PARSE_BAD_ADDRESS,  /* mailbox syntax, <> or <postmaster> refused,
                              invalid UTF-8 */
    HR_PARSE_TOO_LONG,     /* local part, domain, label or path too long */
    HR_PARSE_BAD_PARAM,    /* esmtp-param syntax, too many parameters */
    HR_PARSE_DUP_PARAM     /* the same keyword twice */
} hr_parse_status;

/** A reverse-path or forward-path, parsed. Strings are pool copies. */
typedef struct hr_path {
    const char *address;   /* mailbox without <> and without source route;
                              "" for <> */
    const char *local;     /* local part as it appears (quotes kept) */
    const char *domain;    /* domain or address literal (with its []);
                              "" for <> and <postmaster> */
    int utf8;              /* the mailbox has non-ASCII octets: it needs
                              SMTPUTF8 (RFC 6531 §3.3) */
    int params_utf8;       /* an esmtp-value has non-ASCII octets */
    int null_path;         /* it was <> */
    int postmaster;        /* it was <postmaster> without a domain */
} hr_path;

/* Flags of hr_parse_mail_rcpt() and hr_parse_mailbox(). */
#define HR_PATH_ALLOW_NULL 0x01       /* <> is valid (MAIL, RFC 5321
                                         §4.5.5) */
#define HR_PATH_ALLOW_POSTMASTER 0x02 /* <postmaster> without a domain is
                                         valid (RCPT, RFC 5321 §4.1.1.3) */
#define HR_PATH_LOCAL_ONLY 0x04       /* hr_parse_mailbox: a local part
                                         alone is valid (VRFY user) */

/**
 * Split a command line into its verb and its arguments.  The verb is a
 * letter followed by letters, digits or '-' up to SP or the end of the
 * line, at most HR_MAX_VERB octets; *verb is an upper-cased pool copy.
 * *args points into @line just after the single SP that follows the verb
 * ("" when there is none) and is left exactly as received.
 * Returns HR_PARSE_OK or HR_PARSE_SYNTAX (*verb and *args are then NULL).
 */
HR_DECLARE(int) hr_parse_command(apr_pool_t *p, const char *line,
                                 const char **verb, const char **args);

/**
 * Parse the arguments of MAIL ("FROM:<path> [SP params]", @kind "FROM") or
 * RCPT ("TO:<path> [SP params]", @kind "TO").  @kind is matched without
 * regard to case and must be followed by ':'.
 *
 * XXX compromise: RFC 5321 §4.1.2 has no space after the colon, but
 * "MAIL FROM: <a@b>" is common; exactly one space there is tolerated (as
 * Postfix does).  Spaces between and after parameters are tolerated.
 *
 * @flags: HR_PATH_ALLOW_NULL (= 1, so "allow_null" may be passed) for
 * MAIL.  @kind "TO" implies HR_PATH_ALLOW_POSTMASTER (RFC 5321 §4.1.1.3).
 * On success *path is filled and the parameters are appended to @params
 * (an array of hr_param_value: keyword upper-cased, value or NULL; xtext
 * values are NOT decoded).  On failure @params is left as it was and *why
 * (when @why is not NULL) holds a short text for the reply.
 * Returns an hr_parse_status.
 */
HR_DECLARE(int) hr_parse_mail_rcpt(apr_pool_t *p, const char *args,
                                   const char *kind, int flags,
                                   hr_path *path, apr_array_header_t *params,
                                   const char **why);

/**
 * Parse a bare mailbox "local@domain" (the whole of @text; VRFY, EXPN,
 * ORCPT's rfc822 address).  "<mailbox>" is accepted too.  With
 * HR_PATH_LOCAL_ONLY a local part alone is valid (domain ""); with
 * HR_PATH_ALLOW_POSTMASTER "postmaster" alone is.  Returns an
 * hr_parse_status and a reply text in *why.
 */
HR_DECLARE(int) hr_parse_mailbox(apr_pool_t *p, const char *text,
                                 int flags, hr_path *path, const char **why);

/**
 * Is @text a Domain (RFC 5321 §4.1.2: sub-domain *("." sub-domain)),
 * ASCII only, at most 255 octets, labels at most 63, no trailing dot?
 * Used for the HELO/EHLO argument (EHLO also allows an address literal:
 * see hr_is_address_literal()).  Returns 1 or 0.
 */
HR_DECLARE(int) hr_parse_domain(const char *text);

/**
 * Is @s valid xtext (RFC 3461 §4): xchar / "+" 2 upper-case hex digits?
 * "+00" is refused (it would decode to NUL).  Returns 1 or 0.
 */
HR_DECLARE(int) hr_xtext_valid(const char *s);

/**
 * Is [@s, @s+@len) valid UTF-8 (RFC 3629 §4: no overlong forms, no
 * surrogates, nothing above U+10FFFF)?  Returns 1 or 0.
 */
HR_DECLARE(int) hr_utf8_valid(const char *s, apr_size_t len);

/**
 * The usual reply for a failed MAIL (@rcpt 0) or RCPT (@rcpt 1) parse:
 *   SYNTAX       501 5.5.4   BAD_ADDRESS / TOO_LONG  501 5.1.7 / 5.1.3
 *   BAD_PARAM    501 5.5.4   DUP_PARAM               555 5.5.4
 * (RFC 5321 §4.1.1.11 and §4.5.3.1.10, RFC 3463 §3.2 and §3.6).
 */
HR_DECLARE(void) hr_parse_status_reply(int status, int rcpt, int *code,
                                       const char **enhanced);

#ifdef __cplusplus
}
#endif
#endif /* HR_SMTP_PARSE_H */
