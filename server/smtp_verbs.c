/*
 * smtp_verbs.c -- the core's verbs: HELO, EHLO, LHLO, DATA, RSET, NOOP,
 * QUIT, HELP, VRFY and EXPN (MAIL and RCPT are in smtp_mail.c).
 *
 * Modules own further verbs (BDAT, STARTTLS, AUTH) through their
 * capability tables, and may take VRFY and EXPN over; the registry is
 * asked before this table.
 *
 * The EHLO reply is the host name, then SIZE (when a limit is set), the
 * keywords of loaded modules that choose to be advertised in this session,
 * lines added by the capabilities hook, and the extensions the core always
 * implements: ENHANCEDSTATUSCODES (RFC 2034), 8BITMIME (RFC 6152) and
 * SMTPUTF8 (RFC 6531).  The keywords sent are remembered: a parameter of
 * an extension that was not advertised is refused (RFC 5321 §4.1.1.11).
 */
#include <string.h>
#include <apr_strings.h>
#include <apr_lib.h>

#include "session_core.h"
#include "hr_smtp.h"

/* Remember an advertised keyword (its first word, upper case). */
static void remember_keyword(hr_session *s, const char *line)
{
    apr_size_t n = strcspn(line, " ");
    char *kw = apr_pstrndup(s->pool, line, n);
    char *c;

    for (c = kw; *c; c++) {
        *c = apr_toupper(*c);
    }
    APR_ARRAY_PUSH(HR_SCORE(s)->advertised, const char *) = kw;
}

HR_DECLARE(void) hr_capability_add(hr_session *s, const char *line)
{
    APR_ARRAY_PUSH(HR_SCORE(s)->extra_caps, const char *) =
        apr_pstrdup(s->pool, line);
}

/* Build the EHLO/LHLO reply (RFC 5321 §4.1.1.1: no enhanced codes on the
 * reply to EHLO, RFC 2034 §3). */
static void reply_capabilities(hr_session *s, const char *domain)
{
    hr_session_core *c = HR_SCORE(s);
    hr_core_server *core = HR_CORE(s->server);
    apr_array_header_t *lines = apr_array_make(s->pool, 16, sizeof(char *));
    apr_off_t limit = hr_session_size_limit(s);
    char *text;
    int i;

    apr_array_clear(c->advertised);
    apr_array_clear(c->extra_caps);
    APR_ARRAY_PUSH(lines, const char *) =
        apr_psprintf(s->pool, "%s Hello %s [%s]", s->listener->hostname,
                     domain, s->remote_ip);
    /* RFC 1870 §4: SIZE with the fixed limit (0 would mean none) */
    if (limit > 0) {
        APR_ARRAY_PUSH(lines, const char *) =
            apr_psprintf(s->pool, "SIZE %" APR_OFF_T_FMT, limit);
    }
    for (i = 0; i < core->capabilities->nelts; i++) {
        const hr_capability *cap =
            APR_ARRAY_IDX(core->capabilities, i, hr_capability_entry).cap;
        const char *line = NULL;

        if (cap->keyword == NULL) {
            continue;
        }
        if (cap->advertise != NULL && !cap->advertise(s, &line)) {
            continue;
        }
        APR_ARRAY_PUSH(lines, const char *) = line ? line : cap->keyword;
    }
    hr_run_capabilities(s);
    for (i = 0; i < c->extra_caps->nelts; i++) {
        APR_ARRAY_PUSH(lines, const char *) =
            APR_ARRAY_IDX(c->extra_caps, i, const char *);
    }
    APR_ARRAY_PUSH(lines, const char *) = "ENHANCEDSTATUSCODES";
    APR_ARRAY_PUSH(lines, const char *) = "8BITMIME";
    APR_ARRAY_PUSH(lines, const char *) = "SMTPUTF8";
    for (i = 1; i < lines->nelts; i++) {
        remember_keyword(s, APR_ARRAY_IDX(lines, i, const char *));
    }
    text = apr_array_pstrcat(s->pool, lines, '\n');
    hr_reply(s, 250, NULL, "%s", text);
}

/* HELO, EHLO and LHLO. */
static int greet(hr_session *s, const char *args, const char *verb)
{
    int lhlo = strcmp(verb, "LHLO") == 0;
    const char *domain;
    char *end;
    int rv;

    /* RFC 2033 §4.1: LMTP speaks LHLO only; SMTP never does */
    if (s->listener->lmtp != lhlo) {
        hr_reply(s, 500, "5.5.1", "%s is not used on this %s listener; "
                 "use %s", verb, s->listener->lmtp ? "LMTP" : "SMTP",
                 s->listener->lmtp ? "LHLO" : "EHLO or HELO");
        return hr_session_error(s);
    }
    while (*args == ' ') {
        args++;
    }
    domain = apr_pstrdup(s->pool, args);
    end = (char *)domain + strlen(domain);
    while (end > domain && end[-1] == ' ') {
        *--end = '\0';
    }
    /* RFC 5321 §4.1.1.1: the argument is a domain or an address literal.
     * Only its syntax is checked here; mod_ehlo adds the FQDN policy. */
    if (*domain == '\0') {
        hr_reply(s, 501, "5.5.2", "Syntax: %s hostname", verb);
        return hr_session_error(s);
    }
    if (strchr(domain, ' ') != NULL ||
        (!hr_is_address_literal(domain) && !hr_parse_domain(domain))) {
        hr_reply(s, 501, "5.5.2", "Invalid domain name in %s", verb);
        return hr_session_error(s);
    }
    /* RFC 5321 §4.1.4: a new EHLO/HELO resets the transaction */
    hr_session_reset_txn(s);
    HR_SCORE(s)->pending_helo = domain;   /* helo-domain for the hook */
    rv = hr_run_helo(s, verb, domain);
    HR_SCORE(s)->pending_helo = NULL;
    if (rv == HR_DENY || rv == HR_DISCONNECT) {
        s->helo_domain = NULL;
        s->esmtp = 0;
        apr_array_clear(HR_SCORE(s)->advertised);
        hr_log_session(s, HR_LOG_INFO, "%s %s refused", verb,
                       hr_log_escape(s->pool, domain, 255));
        return rv;
    }
    s->helo_domain = domain;
    s->esmtp = strcmp(verb, "HELO") != 0;
    hr_log_session(s, HR_LOG_INFO, "%s %s", verb,
                   hr_log_escape(s->pool, domain, 255));
    if (!s->esmtp) {
        apr_array_clear(HR_SCORE(s)->advertised);
        hr_reply(s, 250, NULL, "%s", s->listener->hostname);
        return HR_OK;
    }
    reply_capabilities(s, domain);
    return HR_OK;
}

static int verb_helo(hr_session *s, const char *args)
{
    return greet(s, args, "HELO");
}

static int verb_ehlo(hr_session *s, const char *args)
{
    return greet(s, args, "EHLO");
}

static int verb_lhlo(hr_session *s, const char *args)
{
    return greet(s, args, "LHLO");
}

static int verb_rset(hr_session *s, const char *args)
{
    if (*args != '\0') {
        hr_reply(s, 501, "5.5.4", "RSET takes no arguments");
        return hr_session_error(s);
    }
    hr_session_reset_txn(s);
    hr_reply(s, 250, "2.0.0", "OK");
    return HR_OK;
}

static int verb_noop(hr_session *s, const char *args)
{
    /* RFC 5321 §4.1.1.9: an argument is allowed and ignored */
    hr_reply(s, 250, "2.0.0", "OK");
    return HR_OK;
}

static int verb_quit(hr_session *s, const char *args)
{
    hr_run_quit(s);
    hr_reply(s, 221, "2.0.0", "%s closing connection",
             s->listener->hostname);
    hr_session_close(s);
    return HR_OK;
}

static int verb_help(hr_session *s, const char *args)
{
    hr_reply(s, 214, "2.0.0", "Herald: see RFC 5321; commands: HELO EHLO "
             "MAIL RCPT DATA RSET NOOP QUIT HELP VRFY");
    return HR_OK;
}

static int verb_vrfy(hr_session *s, const char *args)
{
    /* RFC 5321 §3.5.3: 252 when the server will not verify but would
     * try to deliver; no module offers verification here. */
    if (*args == '\0') {
        hr_reply(s, 501, "5.5.4", "Syntax: VRFY address");
        return hr_session_error(s);
    }
    hr_reply(s, 252, "2.5.1", "Cannot VRFY user, but will accept message "
             "and attempt delivery");
    return HR_OK;
}

static int verb_expn(hr_session *s, const char *args)
{
    if (*args == '\0') {
        hr_reply(s, 501, "5.5.4", "Syntax: EXPN list");
        return hr_session_error(s);
    }
    hr_reply(s, 252, "2.5.1", "Cannot EXPN, but will accept message and "
             "attempt delivery");
    return HR_OK;
}

static int verb_data(hr_session *s, const char *args)
{
    hr_session_core *c = HR_SCORE(s);
    hr_txn *t = s->txn;
    const char *policy;
    int rv;

    if (*args != '\0') {
        hr_reply(s, 501, "5.5.4", "DATA takes no arguments");
        return hr_session_error(s);
    }
    if (t == NULL) {
        hr_reply(s, 503, "5.5.1", "Bad sequence of commands: MAIL first");
        return hr_session_error(s);
    }
    if (t->rcpts->nelts == 0) {
        /* RFC 5321 §3.3: no valid recipients */
        hr_reply(s, 503, "5.5.1", "Bad sequence of commands: RCPT first");
        return hr_session_error(s);
    }
    if (t->bdat_used) {
        /* RFC 3030 §3: DATA and BDAT may not be mixed */
        hr_reply(s, 503, "5.5.1", "DATA after BDAT in the same "
                 "transaction");
        return hr_session_error(s);
    }
    if (t->body == HR_BODY_BINARYMIME) {
        /* RFC 3030 §3: BINARYMIME content must be sent with BDAT */
        hr_reply(s, 503, "5.5.1", "BODY=BINARYMIME requires BDAT");
        return hr_session_error(s);
    }
    rv = hr_run_data(s, t);
    if (rv == HR_DENY || rv == HR_DISCONNECT) {
        return rv;
    }
    if (hr_body_begin(s) != HR_OK) {
        return HR_DENY;
    }
    policy = hr_session_string(s, "session.data.bare-newline");
    hr_dot_reader_init(&c->dot, hr_session_size_limit(s),
                       policy && strcmp(policy, "normalize") == 0
                           ? HR_BARE_NORMALIZE : HR_BARE_REJECT);
    c->mode = HR_IN_DATA;
    hr_reply(s, 354, NULL, "End data with <CR><LF>.<CR><LF>");
    return HR_OK;
}

/* The core's command table; group ends per RFC 2920 §3.1. */
const hr_core_verb hr_core_verbs[] = {
    {"HELO", verb_helo, HR_VERB_GROUP_END},
    {"EHLO", verb_ehlo, HR_VERB_GROUP_END},
    {"LHLO", verb_lhlo, HR_VERB_GROUP_END},
    {"MAIL", hr_verb_mail, 0},
    {"RCPT", hr_verb_rcpt, 0},
    {"DATA", verb_data, HR_VERB_GROUP_END},
    {"RSET", verb_rset, 0},
    {"NOOP", verb_noop, HR_VERB_GROUP_END},
    {"QUIT", verb_quit, HR_VERB_GROUP_END},
    {"HELP", verb_help, HR_VERB_GROUP_END},
    {"VRFY", verb_vrfy, HR_VERB_GROUP_END},
    {"EXPN", verb_expn, HR_VERB_GROUP_END},
    {NULL, NULL, 0}};
