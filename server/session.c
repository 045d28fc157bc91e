/*
 * session.c -- one SMTP/LMTP connection: input buffer, command dispatch,
 * pipelining, output, and the session API modules use.
 *
 *     [session]
 *     timeout = "5m"          # idle: 421 4.4.2 and close
 *     line-length = 4096      # longest command line: 500 5.5.2 beyond
 *     transfer-limit = "250M" # octets per session
 *     [session.errors]
 *     max = 10                # protocol errors before 421 4.7.0
 *     wait = "1s"             # each error reply is delayed this long
 *
 * A worker thread runs hr_session_step() when the poller saw input: it
 * reads what is there, runs every complete command (or feeds DATA/BDAT
 * octets to the body reader), and writes the replies.  Replies are held
 * while more pipelined input is buffered and written at a group end or
 * when the buffer is empty (RFC 2920 §3.2), so a whole MAIL/RCPT/DATA
 * group costs one round trip.  A client that sends ahead without
 * PIPELINING having been advertised is out of sync and is dropped with
 * 554 5.5.0 (RFC 2920 §3.1; the same defence stops SMTP smuggling tricks
 * that rely on a server reading ahead).
 */
#include <string.h>
#include <errno.h>
#include <poll.h>
#include <unistd.h>
#include <sys/socket.h>
#include <apr_strings.h>
#include <apr_lib.h>
#include <apr_atomic.h>
#include <apr_portable.h>

#include "session_core.h"
#include "hr_smtp.h"

static int send_greeting(hr_session *s);

/* ------------------------------------------------------- the plain layer */

static apr_ssize_t plain_read(hr_io *io, char *buf, apr_size_t len,
                              int *again)
{
    ssize_t n = read(io->fd, buf, len);
    *again = (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK ||
                        errno == EINTR));
    return n;
}

static apr_ssize_t plain_write(hr_io *io, const char *buf, apr_size_t len,
                               int *again)
{
    ssize_t n = write(io->fd, buf, len);
    *again = (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK ||
                        errno == EINTR));
    return n;
}

static int plain_pending(hr_io *io)
{
    return 0;
}

static void plain_close(hr_io *io)
{
    /* the socket is closed with the session pool */
}

/* ---------------------------------------------------------------- create */

hr_session *hr_session_create(hr_server *srv, const hr_listener *l,
                              apr_socket_t *sock, apr_pool_t *pool)
{
    static apr_uint32_t counter;
    hr_session *s = apr_pcalloc(pool, sizeof(*s));
    hr_session_core *c = apr_pcalloc(pool, sizeof(*c));
    apr_sockaddr_t *sa;
    apr_os_sock_t fd;
    char *ip;

    s->pool = pool;
    s->server = srv;
    s->listener = l;
    s->core = c;
    s->connected_at = apr_time_now();
    s->id = apr_psprintf(pool, "%08x", apr_atomic_inc32(&counter) + 1);
    s->module_state = apr_pcalloc(pool, sizeof(void *) * HR_MAX_MODULES);
    c->socket = sock;
    apr_os_sock_get(&fd, sock);
    c->plain_io.name = "plain";
    c->plain_io.read = plain_read;
    c->plain_io.write = plain_write;
    c->plain_io.pending = plain_pending;
    c->plain_io.close = plain_close;
    c->plain_io.fd = fd;
    c->io = &c->plain_io;
    c->in = apr_palloc(pool, HR_INBUF_SIZE);
    c->advertised = apr_array_make(pool, 16, sizeof(const char *));
    c->extra_caps = apr_array_make(pool, 2, sizeof(const char *));

    if (apr_socket_addr_get(&sa, APR_REMOTE, sock) == APR_SUCCESS) {
        apr_sockaddr_ip_get(&ip, sa);
        /* ::ffff:192.0.2.1 is an IPv4 client on a dual-stack socket */
        s->remote_ip = strncmp(ip, "::ffff:", 7) == 0 && strchr(ip, '.')
                           ? ip + 7 : ip;
        s->remote_port = sa->port;
    }
    if (apr_socket_addr_get(&sa, APR_LOCAL, sock) == APR_SUCCESS) {
        apr_sockaddr_ip_get(&ip, sa);
        s->local_ip = strncmp(ip, "::ffff:", 7) == 0 && strchr(ip, '.')
                          ? ip + 7 : ip;
        s->local_port = sa->port;
    }
    return s;
}

/* ------------------------------------------------------------- variables */

static const char *session_var(void *ctx, hr_var v)
{
    hr_session *s = ctx;
    hr_session_core *c = HR_SCORE(s);
    hr_txn *t = s->txn;

    switch (v) {
    case HR_VAR_LISTENER:
        return s->listener->id;
    case HR_VAR_REMOTE_IP:
        return s->remote_ip ? s->remote_ip : "";
    case HR_VAR_LOCAL_IP:
        return s->local_ip ? s->local_ip : "";
    case HR_VAR_LOCAL_PORT:
        apr_snprintf(c->var_buf[v], sizeof(c->var_buf[v]), "%u",
                     (unsigned)s->local_port);
        return c->var_buf[v];
    case HR_VAR_HELO_DOMAIN:
        if (c->pending_helo != NULL) {
            return c->pending_helo;   /* the helo hook judges this one */
        }
        return s->helo_domain ? s->helo_domain : "";
    case HR_VAR_AUTHENTICATED_AS:
        return s->authenticated_as ? s->authenticated_as : "";
    case HR_VAR_IS_TLS:
        return s->is_tls ? "true" : "false";
    case HR_VAR_SENDER:
        return t ? t->sender : "";
    case HR_VAR_SENDER_DOMAIN:
        return t && t->sender_domain ? t->sender_domain : "";
    case HR_VAR_RCPT:
        return c->current_rcpt ? c->current_rcpt->address : "";
    case HR_VAR_RCPT_DOMAIN:
        return c->current_rcpt ? c->current_rcpt->domain : "";
    case HR_VAR_PRIORITY:
        apr_snprintf(c->var_buf[v], sizeof(c->var_buf[v]), "%d",
                     t ? t->priority : 0);
        return c->var_buf[v];
    default:
        return "";
    }
}

HR_DECLARE(const char *) hr_session_var(hr_session *s, hr_var v)
{
    return session_var(s, v);
}

HR_DECLARE(const hr_value *) hr_session_eval(hr_session *s, const char *path)
{
    static const hr_value disabled = {HR_VAL_BOOLEAN, "<none>", 0, {0}};
    const hr_expr *e = hr_setting(s->server, path);

    if (e == NULL) {
        return &disabled;
    }
    return hr_expr_eval(e, session_var, s);
}

HR_DECLARE(int) hr_session_bool(hr_session *s, const char *path)
{
    const hr_value *v = hr_session_eval(s, path);

    switch (v->type) {
    case HR_VAL_BOOLEAN:
        return v->u.b;
    case HR_VAL_INTEGER:
        return v->u.i != 0;
    case HR_VAL_STRING:
        return v->u.s[0] != '\0';
    default:
        return 1;
    }
}

HR_DECLARE(const char *) hr_session_string(hr_session *s, const char *path)
{
    const hr_value *v = hr_session_eval(s, path);
    return v->type == HR_VAL_STRING && v->u.s[0] ? v->u.s : NULL;
}

HR_DECLARE(int) hr_session_int(hr_session *s, const char *path,
                               apr_int64_t *out)
{
    const hr_value *v = hr_session_eval(s, path);
    if (v->type != HR_VAL_INTEGER) {
        return 0;
    }
    *out = v->u.i;
    return 1;
}

HR_DECLARE(int) hr_session_advertised(hr_session *s, const char *keyword)
{
    hr_session_core *c = HR_SCORE(s);
    int i;

    for (i = 0; i < c->advertised->nelts; i++) {
        if (strcasecmp(APR_ARRAY_IDX(c->advertised, i, const char *),
                       keyword) == 0) {
            return 1;
        }
    }
    return 0;
}

HR_DECLARE(apr_off_t) hr_session_size_limit(hr_session *s)
{
    apr_int64_t size = 0;
    return hr_session_int(s, "session.data.limits.size", &size) ? size : 0;
}

/* ---------------------------------------------------------- transactions */

hr_txn *hr_txn_open(hr_session *s)
{
    apr_pool_t *p;
    hr_txn *t;

    apr_pool_create(&p, s->pool);
    t = apr_pcalloc(p, sizeof(*t));
    t->pool = p;
    t->sender = "";
    t->mail_params = apr_array_make(p, 4, sizeof(hr_param_value));
    t->rcpts = apr_array_make(p, 8, sizeof(hr_rcpt *));
    t->fields = apr_table_make(p, 8);
    t->module_state = apr_pcalloc(p, sizeof(void *) * HR_MAX_MODULES);
    s->txn = t;
    return t;
}

HR_DECLARE(void) hr_session_reset_txn(hr_session *s)
{
    hr_txn *t = s->txn;

    if (t == NULL) {
        return;
    }
    hr_run_reset(s, t);
    s->txn = NULL;
    HR_SCORE(s)->current_rcpt = NULL;
    apr_pool_destroy(t->pool);   /* an unfinished spool file goes too */
}

HR_DECLARE(void) hr_txn_set_field(hr_txn *t, const char *key,
                                  const char *value)
{
    apr_table_set(t->fields, key, value);
}

HR_DECLARE(void) hr_rcpt_set_field(hr_txn *t, hr_rcpt *r, const char *key,
                                   const char *value)
{
    apr_table_set(r->fields, key, value);
}

/* ---------------------------------------------------------------- errors */

HR_DECLARE(int) hr_session_error(hr_session *s)
{
    apr_int64_t max = 10, wait = 0;

    s->errors++;
    hr_session_int(s, "session.errors.max", &max);
    if (max > 0 && s->errors >= (unsigned)max) {
        hr_reply(s, 421, "4.7.0", "%s Too many errors, closing connection",
                 s->listener->hostname);
        hr_session_close(s);
        return HR_DISCONNECT;
    }
    if (hr_session_int(s, "session.errors.wait", &wait) && wait > 0) {
        HR_SCORE(s)->delay = apr_time_from_msec(wait);
    }
    return HR_DENY;
}

HR_DECLARE(void) hr_session_delay(hr_session *s, apr_interval_time_t wait)
{
    if (wait > HR_SCORE(s)->delay) {
        HR_SCORE(s)->delay = wait;
    }
}

HR_DECLARE(void) hr_session_close(hr_session *s)
{
    HR_SCORE(s)->closing = 1;
}

/* ------------------------------------------------------------------- I/O */

HR_DECLARE(void) hr_session_set_io(hr_session *s, hr_io *io)
{
    HR_SCORE(s)->io = io;
}

HR_DECLARE(hr_io *) hr_session_get_io(hr_session *s)
{
    return HR_SCORE(s)->io;
}

HR_DECLARE(void) hr_session_discard_input(hr_session *s)
{
    hr_session_core *c = HR_SCORE(s);
    c->in_start = c->in_end = 0;
}

int hr_session_has_input(hr_session *s)
{
    hr_session_core *c = HR_SCORE(s);
    return c->in_end > c->in_start || c->io->pending(c->io);
}

/*
 * Write what the socket takes now, without waiting: 0 when everything
 * went, 1 when some is left (the client is slow to read: the session then
 * waits in the poller for POLLOUT and reads no more input meanwhile), -1
 * when the connection failed.  No worker thread ever waits for a client.
 */
static int flush_some(hr_session *s)
{
    hr_session_core *c = HR_SCORE(s);
    apr_size_t done = 0;

    while (done < c->out_len) {
        int again = 0;
        apr_ssize_t n = c->io->write(c->io, c->out + done, c->out_len - done,
                                     &again);
        if (n > 0) {
            done += n;
            continue;
        }
        if (again) {
            break;
        }
        c->out_len = 0;
        c->want_write = 0;
        c->close_now = 1;
        return -1;
    }
    if (done > 0) {
        memmove(c->out, c->out + done, c->out_len - done);
        c->out_len -= done;
    }
    if (c->out_len > 0 && !c->want_write) {
        hr_log_session(s, HR_LOG_DEBUG, "client reads slowly: %lu octets "
                       "of replies wait", (unsigned long)c->out_len);
    }
    c->want_write = c->out_len > 0;
    return c->want_write;
}

HR_DECLARE(int) hr_session_flush(hr_session *s)
{
    hr_session_core *c = HR_SCORE(s);
    apr_size_t done = 0;
    apr_int64_t timeout_ms = 300000;

    hr_session_int(s, "session.timeout", &timeout_ms);
    while (done < c->out_len) {
        int again = 0;
        apr_ssize_t n = c->io->write(c->io, c->out + done, c->out_len - done,
                                     &again);
        if (n > 0) {
            done += n;
            continue;
        }
        if (again) {
            /* XXX: this blocking form is for modules that must have the
             * reply out before they go on (STARTTLS's 220 before the
             * handshake); the session itself uses flush_some(). */
            struct pollfd pfd = {c->io->fd, POLLOUT, 0};
            if (poll(&pfd, 1, (int)timeout_ms) > 0) {
                continue;
            }
        }
        c->out_len = 0;
        c->close_now = 1;
        return -1;
    }
    c->out_len = 0;
    c->want_write = 0;
    return 0;
}

HR_DECLARE(void) hr_session_forget(hr_session *s)
{
    hr_session_core *c = HR_SCORE(s);

    hr_session_reset_txn(s);
    s->helo_domain = NULL;
    s->esmtp = 0;
    s->authenticated_as = NULL;
    apr_array_clear(c->advertised);
}

HR_DECLARE(void) hr_session_read_octets(hr_session *s, apr_off_t count,
                                        hr_octets_fn *on_data,
                                        hr_octets_done_fn *on_done,
                                        void *baton)
{
    hr_session_core *c = HR_SCORE(s);

    if (count <= 0) {
        on_done(s, baton);
        return;
    }
    c->mode = HR_IN_OCTETS;
    c->octets_left = count;
    c->octets_data = on_data;
    c->octets_done = on_done;
    c->octets_baton = baton;
}

HR_DECLARE(void) hr_session_wait(hr_session *s, int events,
                                 apr_interval_time_t timeout,
                                 hr_resume_fn *fn, void *baton)
{
    hr_session_core *c = HR_SCORE(s);

    c->resume_fn = fn;
    c->resume_baton = baton;
    c->resume_events = events;
    c->resume_timeout = timeout;
}

HR_DECLARE(void) hr_session_read_line(hr_session *s, hr_line_fn *fn,
                                      void *baton)
{
    HR_SCORE(s)->line_fn = fn;
    HR_SCORE(s)->line_baton = baton;
}

/* --------------------------------------------------------------- dispatch */

/* The session's line-length limit, kept within the input buffer. */
static apr_size_t line_limit(hr_session *s)
{
    apr_int64_t n = 4096;
    hr_session_int(s, "session.line-length", &n);
    if (n < 512) {
        n = 512;   /* RFC 5321 §4.5.3.1.4: the minimum a server accepts */
    }
    if (HR_SCORE(s)->line_fn != NULL && n < 12288) {
        n = 12288; /* RFC 4954 §4: SASL lines may be this long */
    }
    if (n > HR_INBUF_SIZE - 2) {
        n = HR_INBUF_SIZE - 2;
    }
    return (apr_size_t)n;
}

static const hr_core_verb *find_core_verb(const char *verb)
{
    const hr_core_verb *v;
    for (v = hr_core_verbs; v->name; v++) {
        if (strcmp(v->name, verb) == 0) {
            return v;
        }
    }
    return NULL;
}

/* Run one command line.  Returns the verb's flags (for flushing). */
static unsigned dispatch_line(hr_session *s, char *line, apr_size_t len)
{
    hr_session_core *c = HR_SCORE(s);
    hr_core_server *core = HR_CORE(s->server);
    char verb[16];
    const char *args;
    apr_size_t i = 0;
    hr_verb_entry *mv;
    const hr_core_verb *cv;
    const char *shown;
    int rv;

    if (memchr(line, '\0', len) != NULL) {
        hr_reply(s, 500, "5.5.2", "Syntax error: NUL in command");
        hr_session_error(s);
        return 0;
    }
    while (i < len && i < sizeof(verb) - 1 && apr_isalpha(line[i])) {
        verb[i] = apr_toupper(line[i]);
        i++;
    }
    verb[i] = '\0';
    if (i == 0 || (i < len && line[i] != ' ')) {
        hr_reply(s, 500, "5.5.2", "Syntax error, command unrecognized");
        hr_session_error(s);
        return 0;
    }
    args = i < len ? line + i + 1 : "";
    /* never log credentials: AUTH shows its mechanism only */
    shown = strcmp(verb, "AUTH") == 0
                ? apr_pstrndup(s->pool, line,
                               i < len ? i + 1 + strcspn(args, " ") : i)
                : line;
    hr_log_session(s, HR_LOG_DEBUG, "command: %s",
                   hr_log_escape(s->pool, shown, 120));

    if (c->greeted_refused && strcmp(verb, "QUIT") != 0) {
        /* RFC 5321 §3.1: after a 554 greeting only QUIT makes sense */
        hr_reply(s, 503, "5.5.1", "No service, only QUIT is accepted");
        hr_session_error(s);
        return 0;
    }
    mv = apr_hash_get(core->verbs, verb, APR_HASH_KEY_STRING);
    if (mv != NULL) {
        if ((mv->verb->flags & HR_VERB_ADVERTISED) && mv->cap->keyword &&
            !hr_session_advertised(s, mv->cap->keyword)) {
            hr_reply(s, 502, "5.5.1", "%s is not available", verb);
            hr_session_error(s);
            return 0;
        }
        rv = mv->verb->handler(s, args);
        if (rv == HR_DISCONNECT) {
            hr_session_close(s);
        }
        return mv->verb->flags;
    }
    cv = find_core_verb(verb);
    if (cv == NULL) {
        hr_reply(s, 500, "5.5.1", "Command unrecognized: %s", verb);
        hr_session_error(s);
        return 0;
    }
    rv = cv->handler(s, args);
    if (rv == HR_DISCONNECT) {
        hr_session_close(s);
    }
    return cv->flags;
}

/* An over-long line: 500, and a pending SASL exchange is over. */
static void reply_line_too_long(hr_session *s)
{
    hr_session_core *c = HR_SCORE(s);

    if (c->line_fn != NULL) {
        c->line_fn = NULL;   /* RFC 4954 §4: the exchange fails */
        hr_reply(s, 500, "5.5.6", "Authentication exchange line is too "
                 "long");
    }
    else {
        hr_reply(s, 500, "5.5.2", "Line too long");
    }
    hr_session_error(s);
}

/* A line that does not fit: everything up to its LF is thrown away. */
static void discard_long_line(hr_session *s)
{
    hr_session_core *c = HR_SCORE(s);
    char *lf = memchr(c->in + c->in_start, '\n', c->in_end - c->in_start);

    if (lf == NULL) {
        c->in_start = c->in_end;
        return;
    }
    c->in_start = lf - c->in + 1;
    c->mode = HR_IN_COMMAND;
    reply_line_too_long(s);
}

/*
 * After a reply that the client must wait for, is more input already
 * here?  RFC 2920 §3.1 / RFC 5321 §4.1.4: without PIPELINING the client
 * waits for every reply (and, even with it, for the 354 before the
 * message).  Input sent ahead is refused with 554 5.5.0 and the session
 * closed: such a client is not speaking SMTP, or is trying to smuggle a
 * second message past a reader that would read ahead.
 */
static int out_of_step(hr_session *s)
{
    hr_session_core *c = HR_SCORE(s);

    if (c->in_start >= c->in_end || c->closing || c->mode == HR_IN_OCTETS) {
        return 0;
    }
    if (c->mode == HR_IN_COMMAND && hr_session_advertised(s, "PIPELINING")) {
        return 0;
    }
    if (c->mode == HR_IN_DATA && hr_session_advertised(s, "PIPELINING")) {
        /* XXX: a pipelining client that sends the message before the 354
         * is tolerated, as Postfix does; the dot reader still ends the
         * data only at CRLF.CRLF */
        return 0;
    }
    if (c->mode == HR_IN_DATA) {
        hr_body_abort(s);
        hr_session_reset_txn(s);
    }
    hr_reply(s, 554, "5.5.0", "Protocol error: input sent before the reply "
             "(no PIPELINING)");
    hr_session_close(s);
    return 1;
}

/* Run everything buffered, until more input is needed. */
static void process_input(hr_session *s)
{
    hr_session_core *c = HR_SCORE(s);

    while (c->in_start < c->in_end && !c->closing && !c->close_now &&
           c->delay == 0 && !c->want_write && c->resume_fn == NULL) {
        char *start = c->in + c->in_start;
        apr_size_t avail = c->in_end - c->in_start;
        unsigned flags;
        char *lf;
        apr_size_t len;

        switch (c->mode) {
        case HR_IN_OCTETS: {
            apr_size_t n = avail < (apr_uint64_t)c->octets_left
                               ? avail : (apr_size_t)c->octets_left;
            c->octets_data(s, start, n, c->octets_baton);
            c->in_start += n;
            c->octets_left -= n;
            if (c->octets_left == 0) {
                c->mode = HR_IN_COMMAND;
                c->octets_done(s, c->octets_baton);
                if (out_of_step(s)) {
                    return;
                }
            }
            continue;
        }
        case HR_IN_DATA: {
            int done = 0;
            apr_size_t used = hr_dot_reader_feed(&c->dot, start, avail,
                                                 &done, hr_body_data_emit, s);
            c->in_start += used;
            if (done) {
                c->mode = HR_IN_COMMAND;
                hr_body_data_done(s);
                if (out_of_step(s)) {
                    return;
                }
                flush_some(s);
            }
            continue;
        }
        case HR_IN_DISCARD_LINE:
            discard_long_line(s);
            continue;
        case HR_IN_COMMAND:
            break;
        }

        lf = memchr(start, '\n', avail);
        if (lf == NULL) {
            if (avail > line_limit(s)) {
                c->mode = HR_IN_DISCARD_LINE;
                c->in_start = c->in_end;
            }
            return;   /* wait for the rest of the line */
        }
        len = lf - start;
        c->in_start += len + 1;
        if (len > line_limit(s)) {
            reply_line_too_long(s);
            continue;
        }
        /* CRLF ends a command; a bare LF is tolerated here (it cannot end
         * DATA, which is what smuggling needs: see dot_reader.c). */
        if (len > 0 && start[len - 1] == '\r') {
            len--;
        }
        start[len] = '\0';
        if (c->line_fn != NULL) {
            hr_line_fn *fn = c->line_fn;
            c->line_fn = NULL;
            fn(s, start, len, c->line_baton);
            flags = HR_VERB_GROUP_END;
        }
        else {
            flags = dispatch_line(s, start, len);
        }

        if (c->resume_fn == NULL && out_of_step(s)) {
            return;
        }
        if ((flags & HR_VERB_GROUP_END) || c->out_len > HR_OUTBUF_MAX) {
            flush_some(s);
        }
    }
}

/* Make room at the end of the input buffer. */
static void compact_input(hr_session_core *c)
{
    if (c->in_start == c->in_end) {
        c->in_start = c->in_end = 0;
    }
    else if (c->in_start > 0 && HR_INBUF_SIZE - c->in_end < 8192) {
        memmove(c->in, c->in + c->in_start, c->in_end - c->in_start);
        c->in_end -= c->in_start;
        c->in_start = 0;
    }
}

int hr_session_step(hr_session *s)
{
    hr_session_core *c = HR_SCORE(s);
    apr_int64_t limit = 0;
    int rounds;

    if (c->out_len > 0) {
        int rv = flush_some(s);
        if (rv != 0) {
            return rv < 0;   /* failed, or still waiting to write */
        }
    }
    if (c->closing) {
        return 1;   /* the last replies went out */
    }
    if (c->resume_fn != NULL) {
        hr_resume_fn *fn = c->resume_fn;
        int rv;

        c->resume_fn = NULL;
        rv = fn(s, c->resume_baton);
        if (rv == HR_DISCONNECT) {
            flush_some(s);
            return 1;
        }
        if (c->resume_fn != NULL) {
            return 0;   /* parked again */
        }
        if (c->greeting_pending) {
            c->greeting_pending = 0;
            if (send_greeting(s)) {
                return 1;
            }
        }
    }
    c->delay = 0;
    hr_session_int(s, "session.transfer-limit", &limit);
    for (rounds = 0;; rounds++) {
        apr_ssize_t n;
        int again = 0;

        process_input(s);
        /* bounded: a fast client cannot keep one worker forever.  Stop
         * only after what was read has been processed: the poller wakes
         * the session for what is still in the socket, never for what
         * already sits in the buffer. */
        if (c->closing || c->close_now || c->delay > 0 || c->want_write ||
            c->resume_fn != NULL || rounds == 64) {
            break;
        }
        compact_input(c);
        if (c->in_end >= HR_INBUF_SIZE) {
            break;   /* cannot happen: every mode consumes */
        }
        n = c->io->read(c->io, c->in + c->in_end, HR_INBUF_SIZE - c->in_end,
                        &again);
        if (n > 0) {
            c->in_end += n;
            c->transferred += n;
            if (limit > 0 && c->transferred > limit) {
                hr_reply(s, 421, "4.7.0", "%s Transfer limit exceeded, "
                         "closing connection", s->listener->hostname);
                hr_session_close(s);
                break;
            }
            continue;
        }
        if (n == 0 || !again) {
            c->eof = 1;
            c->close_now = 1;
            break;
        }
        if (!c->io->pending(c->io)) {
            break;
        }
    }
    if (c->delay > 0) {
        return 0;   /* the event loop sleeps, then flushes and goes on */
    }
    if (!c->close_now && flush_some(s) < 0) {
        return 1;
    }
    if (c->close_now) {
        return 1;
    }
    /* closing with replies still queued: wait until they are written */
    return c->closing && c->out_len == 0;
}

/* ----------------------------------------------------------- start, end */

/* The 220 greeting, or 554 to a client that talked first.  1: close. */
static int send_greeting(hr_session *s)
{
    hr_session_core *c = HR_SCORE(s);
    const hr_listener *l = s->listener;
    char probe[1];
    int again = 0;
    /* RFC 5321 §4.3.1: the server speaks first; a client that talks
     * before the greeting is not waiting for it (Postfix's "pregreet"
     * test). */
    apr_ssize_t n = c->io->read(c->io, probe, 1, &again);

    if (n > 0) {
        hr_reply(s, 554, "5.5.0", "Protocol error: talked before the "
                 "greeting");
        flush_some(s);
        return 1;
    }
    hr_reply(s, 220, NULL, "%s %s", l->hostname, l->greeting);
    return flush_some(s) < 0;
}

int hr_session_start(hr_session *s)
{
    hr_session_core *c = HR_SCORE(s);
    const hr_listener *l = s->listener;
    int rv;

    hr_log_session(s, HR_LOG_INFO, "connect from [%s]:%u to %s [%s]:%u",
                   s->remote_ip, (unsigned)s->remote_port, l->id,
                   s->local_ip, (unsigned)s->local_port);
    rv = hr_run_connect(s);
    if (c->close_now) {
        return 1;
    }
    if (rv == HR_DISCONNECT) {
        flush_some(s);   /* best effort: the connection is going */
        return 1;
    }
    if (rv == HR_DENY) {
        c->greeted_refused = 1;
        return flush_some(s) < 0;
    }
    if (c->resume_fn != NULL) {
        c->greeting_pending = 1;   /* e.g. after the implicit TLS handshake */
        return 0;
    }
    return send_greeting(s);
}

void hr_session_abort(hr_session *s, int code, const char *esc,
                      const char *text)
{
    hr_reply(s, code, esc, "%s %s", s->listener->hostname, text);
    flush_some(s);   /* best effort: a client that does not read loses it */
}

/*
 * Close gently: stop sending, then read and drop what the client still
 * sends for a moment, so that a reply sent just before the close (a 554
 * to a client that talked out of turn) is not destroyed by a TCP reset
 * caused by unread input (cf. httpd's lingering close).  Bounded in time
 * and octets.
 */
static void lingering_close(hr_session_core *c)
{
    char drain[4096];
    apr_size_t total = 0;
    int rounds;

    if (shutdown(c->plain_io.fd, SHUT_WR) != 0) {
        return;
    }
    for (rounds = 0; rounds < 10 && total < 65536; rounds++) {
        struct pollfd pfd = {c->plain_io.fd, POLLIN, 0};
        ssize_t n;

        if (poll(&pfd, 1, 20) <= 0) {
            return;
        }
        n = read(c->plain_io.fd, drain, sizeof(drain));
        if (n <= 0) {
            return;
        }
        total += n;
    }
}

void hr_session_end(hr_session *s)
{
    hr_session_core *c = HR_SCORE(s);

    hr_session_reset_txn(s);
    hr_run_disconnect(s);
    c->io->close(c->io);
    if (!c->eof) {
        lingering_close(c);
    }
    hr_log_session(s, HR_LOG_INFO, "disconnect from [%s] messages=%u "
                   "errors=%u", s->remote_ip, s->messages, s->errors);
}
