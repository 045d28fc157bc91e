/*
 * body.c -- the message body stream shared by DATA and BDAT: the trace
 * header, the limits, and the durable commit before the final reply.
 *
 *     [session.data.limits]
 *     size = "50M"              # 552 5.3.4 beyond (RFC 1870)
 *     messages = 100            # messages per session
 *     received-headers = 50     # more Received: lines = a mail loop
 *
 * hr_body_begin() opens the spool file and writes the Received: header
 * (RFC 5321 §4.4); hr_body_write() counts and stores octets and offers
 * them to the body hook; hr_body_finish() decides: too big, a loop, bare
 * newlines, a refusing module, or a write error each get their reply and
 * nothing is queued; otherwise the spool commit (fsync, rename, fsync of
 * the folder) happens *before* 250 is sent (RFC 5321 §6.1).  LMTP gets one
 * reply per recipient (RFC 2033 §4.2).
 */
#include <string.h>
#include <time.h>
#include <apr_strings.h>
#include <apr_lib.h>

#include "session_core.h"
#include "envelope.h"

static hr_txn_core *txn_core(hr_txn *t)
{
    if (t->core == NULL) {
        t->core = apr_pcalloc(t->pool, sizeof(hr_txn_core));
    }
    return t->core;
}

/* RFC 5322 §3.3 date in UTC: "Fri, 04 Dec 2026 21:14:56 +0000". */
static const char *rfc5322_date(apr_pool_t *p, apr_time_t now)
{
    char buf[64];
    time_t secs = (time_t)apr_time_sec(now);
    struct tm tm;

    gmtime_r(&secs, &tm);
    strftime(buf, sizeof(buf), "%a, %d %b %Y %H:%M:%S +0000", &tm);
    return apr_pstrdup(p, buf);
}

/* The "with" protocol of the trace header (RFC 3848). */
static const char *with_protocol(hr_session *s)
{
    if (s->listener->lmtp) {
        return s->is_tls ? "LMTPS" : "LMTP";
    }
    if (!s->esmtp) {
        return "SMTP";
    }
    if (s->authenticated_as) {
        return s->is_tls ? "ESMTPSA" : "ESMTPA";
    }
    return s->is_tls ? "ESMTPS" : "ESMTP";
}

/* Write the Received: header (RFC 5321 §4.4) to the spool file. */
static int write_trace_header(hr_session *s, hr_txn *t, hr_txn_core *tc)
{
    const char *tls = "";
    const char *rcpt = "";
    const char *header;

    if (s->is_tls) {
        tls = apr_psprintf(t->pool, "\r\n\t(using %s with cipher %s)",
                           s->tls_version ? s->tls_version : "TLS",
                           s->tls_cipher ? s->tls_cipher : "unknown");
    }
    if (t->rcpts->nelts == 1) {
        rcpt = apr_psprintf(t->pool, "\r\n\tfor <%s>",
                            APR_ARRAY_IDX(t->rcpts, 0, hr_rcpt *)->address);
    }
    header = apr_psprintf(
        t->pool, "Received: from %s ([%s])\r\n\tby %s (Herald) with %s id "
        "%s%s%s;\r\n\t%s\r\n",
        hr_log_escape(t->pool, s->helo_domain ? s->helo_domain : "unknown",
                      255),
        s->remote_ip, s->listener->hostname, with_protocol(s),
        hr_spool_id(tc->spool), tls, rcpt,
        rfc5322_date(t->pool, apr_time_now()));
    return hr_spool_write(tc->spool, header, strlen(header));
}

HR_DECLARE(int) hr_body_begin(hr_session *s)
{
    hr_txn *t = s->txn;
    hr_txn_core *tc = txn_core(t);
    const char *why = NULL;

    if (hr_spool_open(t->pool, s->server->spool_dir, &tc->spool, &why) != 0 ||
        write_trace_header(s, t, tc) != 0) {
        hr_log_session(s, HR_LOG_ERR, "spool: %s", why ? why : "write error");
        hr_reply(s, 451, "4.3.0", "Local error: cannot store the message, "
                 "try again later");
        tc->spool = NULL;
        return HR_DENY;
    }
    t->body_started = 1;
    tc->size_limit = hr_session_size_limit(s);   /* not per chunk */
    tc->in_headers = 1;
    tc->header_line_start = 1;
    return HR_OK;
}

/* Count Received: lines in the header section (the loop guard). */
static void scan_headers(hr_txn_core *tc, const char *data, apr_size_t len)
{
    apr_size_t i;

    for (i = 0; i < len && tc->in_headers; i++) {
        char ch = data[i];

        if (tc->header_line_start) {
            if (ch == '\r') {
                continue;
            }
            if (ch == '\n') {
                tc->in_headers = 0;   /* the empty line ends the header */
                break;
            }
            tc->header_line_start = 0;
            tc->header_prefix_len = 0;
        }
        if (ch == '\n') {
            tc->header_line_start = 1;
            continue;
        }
        if (tc->header_prefix_len < (int)sizeof(tc->header_prefix)) {
            tc->header_prefix[tc->header_prefix_len++] = apr_tolower(ch);
            if (tc->header_prefix_len == 9 &&
                memcmp(tc->header_prefix, "received:", 9) == 0) {
                tc->received_count++;
            }
        }
    }
}

HR_DECLARE(int) hr_body_write(hr_session *s, const char *data,
                              apr_size_t len)
{
    hr_txn *t = s->txn;
    hr_txn_core *tc;

    if (t == NULL || !t->body_started) {
        return HR_DENY;
    }
    tc = txn_core(t);
    t->size += len;
    if (tc->too_big || (tc->size_limit > 0 && t->size > tc->size_limit)) {
        tc->too_big = 1;   /* keep reading, store nothing more */
        return HR_DENY;
    }
    if (tc->in_headers) {
        scan_headers(tc, data, len);
    }
    if (hr_run_body(s, t, data, len) == HR_DISCONNECT) {
        hr_session_close(s);
    }
    if (!tc->spool_failed && tc->spool &&
        hr_spool_write(tc->spool, data, len) != 0) {
        tc->spool_failed = 1;
    }
    return HR_OK;
}

HR_DECLARE(void) hr_body_abort(hr_session *s)
{
    hr_txn *t = s->txn;
    if (t != NULL && t->core && ((hr_txn_core *)t->core)->spool) {
        hr_spool_abort(((hr_txn_core *)t->core)->spool);
        ((hr_txn_core *)t->core)->spool = NULL;
    }
}

/* Copy the transaction into a spool envelope. */
static hr_envelope *make_envelope(hr_session *s, hr_txn *t)
{
    hr_envelope *e = hr_envelope_make(t->pool);
    int i;

    e->listener = s->listener->id;
    e->remote_ip = s->remote_ip;
    e->helo = s->helo_domain;
    e->authenticated_as = s->authenticated_as;
    if (s->is_tls) {
        e->tls = apr_pstrcat(t->pool, s->tls_version ? s->tls_version : "TLS",
                             " ", s->tls_cipher ? s->tls_cipher : "", NULL);
    }
    e->sender = t->sender;
    e->mail_params = t->mail_params;
    e->fields = t->fields;
    for (i = 0; i < t->rcpts->nelts; i++) {
        hr_rcpt *r = APR_ARRAY_IDX(t->rcpts, i, hr_rcpt *);
        hr_envelope_rcpt *er = hr_envelope_add_rcpt(t->pool, e, r->address);
        er->params = r->params;
        er->fields = r->fields;
    }
    return e;
}

/* The final reply, once per message or once per recipient (LMTP). */
static void final_reply(hr_session *s, hr_txn *t, int code, const char *esc,
                        const char *text)
{
    int i, n = s->listener->lmtp ? t->rcpts->nelts : 1;

    for (i = 0; i < n; i++) {
        if (s->listener->lmtp) {
            hr_reply(s, code, esc, "<%s> %s",
                     APR_ARRAY_IDX(t->rcpts, i, hr_rcpt *)->address, text);
        }
        else {
            hr_reply(s, code, esc, "%s", text);
        }
    }
}

HR_DECLARE(int) hr_body_finish(hr_session *s)
{
    hr_txn *t = s->txn;
    hr_txn_core *tc = txn_core(t);
    apr_int64_t max_received = 50;
    const char *why = NULL;
    hr_envelope *env;
    int rv = HR_OK;

    hr_session_int(s, "session.data.limits.received-headers", &max_received);
    if (tc->too_big) {
        /* RFC 1870 §6.3: over the limit, nothing is stored */
        final_reply(s, t, 552, "5.3.4", "Message size exceeds fixed maximum "
                    "message size");
        rv = HR_DENY;
    }
    else if (tc->bad_newline) {
        /* RFC 5321 §2.3.8: lines end with CRLF; bare CR/LF is how SMTP
         * smuggling hides a second message */
        final_reply(s, t, 550, "5.6.0", "Message contains a bare CR or LF, "
                    "which RFC 5321 does not allow");
        rv = HR_DENY;
    }
    else if (max_received > 0 && tc->received_count > max_received) {
        /* RFC 5321 §6.3: too many Received: lines means a loop */
        final_reply(s, t, 554, "5.4.6", "Too many Received: headers, "
                    "mail loop detected");
        rv = HR_DENY;
    }
    else if (tc->spool == NULL || tc->spool_failed) {
        final_reply(s, t, 451, "4.3.0", "Local error in processing, try "
                    "again later");
        rv = HR_DENY;
    }
    if (rv == HR_OK) {
        rv = hr_run_data_end(s, t);
        if (rv == HR_DECLINED) {
            rv = HR_OK;
        }
    }
    if (rv == HR_OK) {
        env = make_envelope(s, t);
        if (hr_spool_commit(tc->spool, env, &why) != 0) {
            hr_log_session(s, HR_LOG_ERR, "spool commit failed: %s", why);
            final_reply(s, t, 451, "4.3.0", "Local error in processing, try "
                        "again later");
            rv = HR_DENY;
        }
        else {
            const char *text = apr_psprintf(t->pool, "Message queued as %s",
                                             env->id);
            tc->spool = NULL;
            s->messages++;
            hr_log_session(s, HR_LOG_INFO, "queued %s from <%s> size=%"
                           APR_OFF_T_FMT " rcpts=%d", env->id,
                           hr_log_escape(t->pool, t->sender, 256), env->size,
                           t->rcpts->nelts);
            hr_run_queued(s, t, env->id);
            final_reply(s, t, 250, "2.0.0", text);
        }
    }
    hr_session_reset_txn(s);
    return rv == HR_DISCONNECT ? HR_DISCONNECT : HR_OK;
}

/* The dot reader's output goes into the body stream. */
void hr_body_data_emit(void *baton, const char *data, apr_size_t len)
{
    hr_body_write((hr_session *)baton, data, len);
}

int hr_body_data_done(hr_session *s)
{
    hr_session_core *c = HR_SCORE(s);
    hr_txn_core *tc = txn_core(s->txn);

    if (c->dot.too_big) {
        tc->too_big = 1;
    }
    if (c->dot.bad_newline) {
        tc->bad_newline = 1;
    }
    return hr_body_finish(s);
}
