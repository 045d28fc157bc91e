/*
 * smtp_mail.c -- MAIL FROM and RCPT TO.
 *
 *     [session.rcpt]
 *     relay = false                 # expression: may send off-site
 *     max-recipients = 100          # 452 4.5.3 beyond
 *     [session.rcpt.lookup]
 *     domains = ["example.org"]     # local domains
 *
 * The path is parsed per RFC 5321 §4.1.2 (smtp_parse.c).  Parameters are
 * looked up in the registry; one whose extension was not advertised in
 * this session, or that appears twice, is refused with 555 5.5.4 (RFC
 * 5321 §4.1.1.11, RFC 1869 §6).  The core itself owns SIZE (RFC 1870),
 * BODY (RFC 6152, RFC 3030) and SMTPUTF8 (RFC 6531).
 *
 * A recipient is accepted by the first module of the rcpt hook that
 * answers; when none does, local domains are accepted and others only
 * when relaying is allowed: Herald is never an open relay by default.
 */
#include <string.h>
#include <apr_strings.h>
#include <apr_lib.h>

#include "session_core.h"
#include "hr_smtp.h"

/* A core-owned MAIL parameter.  Returns HR_OK or an error (reply set). */
static int core_mail_param(hr_session *s, hr_txn *t, const hr_param_value *pv,
                           int *handled)
{
    *handled = 1;
    if (strcmp(pv->keyword, "SIZE") == 0 && hr_session_advertised(s, "SIZE")) {
        apr_off_t limit = hr_session_size_limit(s);
        char *end;
        apr_int64_t n;

        if (pv->value == NULL || !apr_isdigit(pv->value[0]) ||
            strlen(pv->value) > 18) {
            hr_reply(s, 501, "5.5.4", "Invalid SIZE value");
            return HR_DENY;
        }
        n = apr_strtoi64(pv->value, &end, 10);
        if (*end != '\0') {
            hr_reply(s, 501, "5.5.4", "Invalid SIZE value");
            return HR_DENY;
        }
        /* RFC 1870 §6.2: a declared size over the fixed limit */
        if (limit > 0 && n > limit) {
            hr_reply(s, 552, "5.3.4", "Message size exceeds fixed maximum "
                     "message size (%" APR_OFF_T_FMT ")", limit);
            return HR_DENY;
        }
        t->declared_size = n;
        return HR_OK;
    }
    if (strcmp(pv->keyword, "BODY") == 0 &&
        hr_session_advertised(s, "8BITMIME")) {
        if (pv->value && strcasecmp(pv->value, "7BIT") == 0) {
            t->body = HR_BODY_7BIT;
        }
        else if (pv->value && strcasecmp(pv->value, "8BITMIME") == 0) {
            t->body = HR_BODY_8BITMIME;
        }
        else if (pv->value && strcasecmp(pv->value, "BINARYMIME") == 0 &&
                 hr_session_advertised(s, "BINARYMIME")) {
            t->body = HR_BODY_BINARYMIME;   /* RFC 3030 §3 */
        }
        else {
            hr_reply(s, 501, "5.5.4", "Invalid BODY value");
            return HR_DENY;
        }
        return HR_OK;
    }
    if (strcmp(pv->keyword, "SMTPUTF8") == 0 &&
        hr_session_advertised(s, "SMTPUTF8")) {
        if (pv->value != NULL) {
            /* RFC 6531 §3.4: SMTPUTF8 has no value */
            hr_reply(s, 501, "5.5.4", "SMTPUTF8 takes no value");
            return HR_DENY;
        }
        t->smtputf8 = 1;
        return HR_OK;
    }
    *handled = 0;
    return HR_OK;
}

/*
 * Run the parameters of MAIL (@rcpt NULL) or RCPT through their owners.
 * Returns HR_OK, or HR_DENY with the reply queued.
 */
static int run_params(hr_session *s, hr_txn *t, hr_rcpt *rcpt,
                      apr_array_header_t *params)
{
    hr_core_server *core = HR_CORE(s->server);
    unsigned where = rcpt ? HR_PARAM_RCPT : HR_PARAM_MAIL;
    int i;

    for (i = 0; i < params->nelts; i++) {
        const hr_param_value *pv = &APR_ARRAY_IDX(params, i, hr_param_value);
        hr_param_entry *e;
        int handled = 0, rv;

        if (!rcpt) {
            rv = core_mail_param(s, t, pv, &handled);
            if (rv != HR_OK) {
                return rv;
            }
            if (handled) {
                continue;
            }
        }
        e = apr_hash_get(core->params, pv->keyword, APR_HASH_KEY_STRING);
        if (e == NULL || !(e->param->where & where) ||
            (e->cap->keyword && !hr_session_advertised(s, e->cap->keyword))) {
            /* RFC 5321 §4.1.1.11: not an advertised extension's */
            hr_reply(s, 555, "5.5.4", "Unsupported %s parameter %s",
                     rcpt ? "RCPT" : "MAIL", pv->keyword);
            return HR_DENY;
        }
        rv = e->param->handler(s, t, rcpt, pv->value);
        if (rv != HR_OK) {
            return rv == HR_DECLINED ? HR_DENY : rv;
        }
    }
    return HR_OK;
}

/* Map a parse failure to its reply (RFC 3463 §3.2 for the X.1.x codes). */
static int reply_parse_error(hr_session *s, int status, const char *why,
                             int rcpt)
{
    switch (status) {
    case HR_PARSE_DUP_PARAM:
        hr_reply(s, 555, "5.5.4", "%s", why);
        break;
    case HR_PARSE_BAD_PARAM:
        hr_reply(s, 501, "5.5.4", "%s", why);
        break;
    case HR_PARSE_TOO_LONG:
        /* RFC 5321 §4.5.3.1: local part 64, domain 255, path 256 */
        hr_reply(s, 501, rcpt ? "5.1.3" : "5.1.7", "%s", why);
        break;
    default:
        hr_reply(s, 501, rcpt ? "5.1.3" : "5.1.7", "%s", why);
        break;
    }
    return hr_session_error(s);
}

int hr_verb_mail(hr_session *s, const char *args)
{
    apr_array_header_t *params;
    apr_int64_t max_messages = 0;
    hr_path path;
    const char *why = "Syntax error";
    hr_txn *t;
    int status, rv, i;

    if (s->txn != NULL) {
        hr_reply(s, 503, "5.5.1", "Bad sequence of commands: nested MAIL");
        return hr_session_error(s);
    }
    if (hr_session_int(s, "session.data.limits.messages", &max_messages) &&
        max_messages > 0 && s->messages >= (unsigned)max_messages) {
        hr_reply(s, 451, "4.7.0", "Too many messages in this session, "
                 "please reconnect");
        return HR_DENY;
    }
    t = hr_txn_open(s);
    params = apr_array_make(t->pool, 4, sizeof(hr_param_value));
    status = hr_parse_mail_rcpt(t->pool, args, "FROM", 1, &path, params,
                                &why);
    if (status != HR_PARSE_OK) {
        hr_session_reset_txn(s);
        return reply_parse_error(s, status, why, 0);
    }
    t->sender = path.address;
    t->sender_domain = path.domain;
    rv = run_params(s, t, NULL, params);
    if (rv == HR_OK && path.utf8 && !t->smtputf8) {
        /* RFC 6531 §3.2: non-ASCII needs SMTPUTF8 */
        hr_reply(s, 553, "5.6.7", "Non-ASCII address requires SMTPUTF8");
        rv = HR_DENY;
    }
    if (rv == HR_OK) {
        rv = hr_run_mail(s, t);
    }
    if (rv != HR_OK) {
        hr_session_reset_txn(s);
        if (rv == HR_DISCONNECT) {
            hr_session_close(s);
        }
        return rv;
    }
    for (i = 0; i < params->nelts; i++) {
        APR_ARRAY_PUSH(t->mail_params, hr_param_value) =
            APR_ARRAY_IDX(params, i, hr_param_value);
    }
    hr_log_session(s, HR_LOG_INFO, "MAIL FROM:<%s>",
                   hr_log_escape(s->pool, t->sender, 256));
    hr_reply(s, 250, "2.1.0", "Sender <%s> OK", t->sender);
    return HR_OK;
}

/* Is @domain one of session.rcpt.lookup.domains? */
static int is_local_domain(hr_session *s, const char *domain)
{
    const hr_value *v = hr_session_eval(s, "session.rcpt.lookup.domains");
    int i;

    if (v->type != HR_VAL_ARRAY) {
        return 0;
    }
    for (i = 0; i < v->u.array->nelts; i++) {
        const hr_value *d = APR_ARRAY_IDX(v->u.array, i, hr_value *);
        if (d->type == HR_VAL_STRING && strcasecmp(d->u.s, domain) == 0) {
            return 1;
        }
    }
    return 0;
}

int hr_verb_rcpt(hr_session *s, const char *args)
{
    hr_session_core *c = HR_SCORE(s);
    hr_txn *t = s->txn;
    apr_int64_t max = 100;
    hr_path path;
    const char *why = "Syntax error";
    hr_rcpt *r;
    int status, rv;

    if (t == NULL) {
        hr_reply(s, 503, "5.5.1", "Bad sequence of commands: MAIL first");
        return hr_session_error(s);
    }
    if (t->body_started) {
        hr_reply(s, 503, "5.5.1", "Bad sequence of commands: message "
                 "already started");
        return hr_session_error(s);
    }
    if (hr_session_int(s, "session.rcpt.max-recipients", &max) &&
        t->rcpts->nelts >= max) {
        /* RFC 5321 §4.5.3.1.10: 452, the client sends the rest later */
        hr_reply(s, 452, "4.5.3", "Too many recipients");
        return HR_DENY;
    }
    r = apr_pcalloc(t->pool, sizeof(*r));
    r->params = apr_array_make(t->pool, 2, sizeof(hr_param_value));
    r->fields = apr_table_make(t->pool, 4);
    status = hr_parse_mail_rcpt(t->pool, args, "TO", 0, &path, r->params,
                                &why);
    if (status != HR_PARSE_OK) {
        return reply_parse_error(s, status, why, 1);
    }
    r->address = path.address;
    r->domain = path.domain;
    if (path.utf8 && !t->smtputf8) {
        hr_reply(s, 553, "5.6.7", "Non-ASCII address requires SMTPUTF8");
        return hr_session_error(s);
    }
    c->current_rcpt = r;
    rv = run_params(s, t, r, r->params);
    if (rv == HR_OK) {
        rv = hr_run_rcpt(s, t, r);
        if (rv == HR_DECLINED) {
            /* RFC 5321 §4.5.1: postmaster is always accepted */
            if (r->domain[0] == '\0' || is_local_domain(s, r->domain) ||
                hr_session_bool(s, "session.rcpt.relay")) {
                rv = HR_OK;
            }
            else {
                hr_reply(s, 550, "5.7.1", "Relay access denied for <%s>",
                         r->address);
                rv = HR_DENY;
            }
        }
    }
    if (rv == HR_OK) {
        rv = hr_run_rcpt_check(s, t, r);
    }
    c->current_rcpt = NULL;
    if (rv != HR_OK) {
        hr_log_session(s, HR_LOG_INFO, "RCPT TO:<%s> refused",
                       hr_log_escape(s->pool, r->address, 256));
        if (rv == HR_DISCONNECT) {
            hr_session_close(s);
        }
        return rv;
    }
    APR_ARRAY_PUSH(t->rcpts, hr_rcpt *) = r;
    hr_log_session(s, HR_LOG_INFO, "RCPT TO:<%s>",
                   hr_log_escape(s->pool, r->address, 256));
    hr_reply(s, 250, "2.1.5", "Recipient <%s> OK", r->address);
    return HR_OK;
}
