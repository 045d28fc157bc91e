/*
 * tls_io.c -- the TLS handshake and the hr_io layer over OpenSSL.
 *
 * One SSL object per session, created from the listener's SSL_CTX (which
 * is shared read-only by every worker: OpenSSL 3 is thread-safe for
 * that) and freed with the session's pool.  The socket stays
 * non-blocking: read and write return -1 with *again set when OpenSSL
 * would block, and the core's event loop waits for the socket as it does
 * for plain sessions.  Decrypted octets OpenSSL holds back are reported by
 * pending(), so the event loop does not wait for a socket that will stay
 * quiet.
 *
 * The handshake runs in steps: each time OpenSSL wants to read or write,
 * the session is parked in the poller (hr_session_wait) and resumed when
 * the socket is ready, so a client that stalls mid-handshake holds no
 * worker thread; server.tls.handshake-timeout bounds the whole handshake.
 */
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <string.h>
#include <apr_strings.h>
#include <apr_poll.h>
#include <openssl/err.h>

#include "mod_tls.h"

/* How often one read or write may wait for the other direction. */
#define TLS_MAX_TURNS 8

/* The TLS state of one session (hr_io.ctx). */
struct tls_conn {
    hr_io io;
    SSL *ssl;
    hr_session *session;
    apr_int64_t timeout_ms;    /* longest wait inside one call */
    int failed;                /* fatal error: no close_notify may follow */
    int starttls;              /* began with STARTTLS (not implicit) */
    apr_time_t until;          /* the handshake's deadline */
    int closed;
};

static apr_status_t free_ssl(void *data)
{
    SSL_free(data);
    return APR_SUCCESS;
}

/* Wait until @fd is ready for @events; >0 ready, 0 timeout, <0 error. */
static int wait_for(int fd, short events, apr_int64_t timeout_ms)
{
    struct pollfd pfd;
    apr_time_t until = apr_time_now() + apr_time_from_msec(timeout_ms);
    int rv;

    for (;;) {
        apr_int64_t left = apr_time_as_msec(until - apr_time_now());

        if (left <= 0) {
            return 0;
        }
        pfd.fd = fd;
        pfd.events = events;
        pfd.revents = 0;
        rv = poll(&pfd, 1, left > INT_MAX ? INT_MAX : (int)left);
        if (rv >= 0 || errno != EINTR) {
            return rv;
        }
    }
}

/* Why an OpenSSL call failed, for the log. */
static const char *failure(tls_conn *tc, int err)
{
    apr_pool_t *p = tc->session->pool;
    const char *reason;

    if (err == SSL_ERROR_SYSCALL) {
        return errno ? apr_pstrdup(p, strerror(errno))
                     : "connection closed by the client";
    }
    if (err == SSL_ERROR_ZERO_RETURN) {
        return "closed by the client (close_notify)";
    }
    reason = tls_error_reason(p);
    return reason[0] ? reason : "protocol error";
}

static apr_ssize_t tls_read(hr_io *io, char *buf, apr_size_t len, int *again)
{
    tls_conn *tc = io->ctx;
    int turn;

    *again = 0;
    if (tc->failed || tc->closed) {
        return -1;
    }
    for (turn = 0; turn < TLS_MAX_TURNS; turn++) {
        int n, err;

        ERR_clear_error();
        n = SSL_read(tc->ssl, buf, len > INT_MAX ? INT_MAX : (int)len);
        if (n > 0) {
            return n;
        }
        err = SSL_get_error(tc->ssl, n);
        if (err == SSL_ERROR_WANT_READ) {
            *again = 1;
            return -1;
        }
        if (err == SSL_ERROR_WANT_WRITE) {
            /* XXX: OpenSSL must answer something (a TLS 1.3 KeyUpdate)
             * and the socket is full; the event loop only waits for
             * input, so wait for room here. */
            if (wait_for(io->fd, POLLOUT, tc->timeout_ms) > 0) {
                continue;
            }
        }
        if (err == SSL_ERROR_ZERO_RETURN) {
            return 0;   /* RFC 8446 §6.1: close_notify is the end */
        }
        tc->failed = 1;
        hr_log_session(tc->session, HR_LOG_DEBUG, "TLS read: %s",
                       failure(tc, err));
        return -1;
    }
    *again = 1;
    return -1;
}

static apr_ssize_t tls_write(hr_io *io, const char *buf, apr_size_t len,
                             int *again)
{
    tls_conn *tc = io->ctx;
    int n, err;

    *again = 0;
    if (tc->failed || tc->closed || len == 0) {
        return len == 0 ? 0 : -1;
    }
    ERR_clear_error();
    n = SSL_write(tc->ssl, buf, len > INT_MAX ? INT_MAX : (int)len);
    if (n > 0) {
        return n;
    }
    err = SSL_get_error(tc->ssl, n);
    if (err == SSL_ERROR_WANT_WRITE) {
        *again = 1;   /* the core's flush waits for POLLOUT */
        return -1;
    }
    if (err == SSL_ERROR_WANT_READ) {
        /* Only a handshake message can make a write wait for input, and
         * renegotiation is off; wait for it here rather than let the
         * core's flush spin on a writable socket. */
        if (wait_for(io->fd, POLLIN, tc->timeout_ms) > 0) {
            *again = 1;
            return -1;
        }
    }
    tc->failed = 1;
    hr_log_session(tc->session, HR_LOG_DEBUG, "TLS write: %s",
                   failure(tc, err));
    return -1;
}

static int tls_pending(hr_io *io)
{
    tls_conn *tc = io->ctx;

    return !tc->failed && !tc->closed && SSL_pending(tc->ssl) > 0;
}

/* The id of the certificate the handshake chose (SNI may switch). */
static const char *served_certificate(tls_config *conf, SSL *ssl)
{
    SSL_CTX *ctx = SSL_get_SSL_CTX(ssl);
    int i;

    for (i = 0; i < conf->certificates->nelts; i++) {
        tls_certificate *c =
            APR_ARRAY_IDX(conf->certificates, i, tls_certificate *);
        if (c->ctx == ctx) {
            return c->id;
        }
    }
    return "?";
}

/* Best effort: send our close_notify, do not wait for the client's. */
static void tls_close(hr_io *io)
{
    tls_conn *tc = io->ctx;

    if (!tc->failed && !tc->closed) {
        ERR_clear_error();
        SSL_shutdown(tc->ssl);
        ERR_clear_error();
    }
    tc->closed = 1;
}

TLS_PRIVATE tls_conn *tls_conn_create(hr_session *s, tls_certificate *cert)
{
    tls_config *conf = hr_module_config(s->server, &tls_module);
    tls_conn *tc = apr_pcalloc(s->pool, sizeof(*tc));

    tc->session = s;
    tc->timeout_ms = conf->handshake_timeout_ms;
    ERR_clear_error();
    tc->ssl = SSL_new(cert->ctx);
    if (tc->ssl == NULL) {
        hr_log_session(s, HR_LOG_ERR, "TLS: cannot create a session: %s",
                       tls_error_reason(s->pool));
        return NULL;
    }
    apr_pool_cleanup_register(s->pool, tc->ssl, free_ssl,
                              apr_pool_cleanup_null);
    if (SSL_set_fd(tc->ssl, hr_session_get_io(s)->fd) != 1) {
        hr_log_session(s, HR_LOG_ERR, "TLS: cannot attach the socket: %s",
                       tls_error_reason(s->pool));
        return NULL;
    }
    return tc;
}

/* The handshake is done: the TLS layer goes under the session. */
static void tls_install(hr_session *s, tls_conn *tc)
{
    tls_config *conf = hr_module_config(s->server, &tls_module);
    const char *sni;

    tc->io.name = "tls";
    tc->io.read = tls_read;
    tc->io.write = tls_write;
    tc->io.pending = tls_pending;
    tc->io.close = tls_close;
    tc->io.fd = hr_session_get_io(s)->fd;
    tc->io.ctx = tc;
    hr_session_set_io(s, &tc->io);
    hr_session_state(s, &tls_module) = tc;
    s->is_tls = 1;
    s->tls_version = apr_pstrdup(s->pool, SSL_get_version(tc->ssl));
    s->tls_cipher = apr_pstrdup(s->pool, SSL_get_cipher_name(tc->ssl));
    sni = SSL_get_servername(tc->ssl, TLSEXT_NAMETYPE_host_name);
    hr_log_session(s, HR_LOG_INFO, "TLS established: %s with cipher %s "
                   "(%d bits), certificate '%s'%s%s", s->tls_version,
                   s->tls_cipher, SSL_get_cipher_bits(tc->ssl, NULL),
                   served_certificate(conf, tc->ssl), sni ? ", SNI " : "",
                   sni ? hr_log_escape(s->pool, sni, 255) : "");
    if (tc->starttls) {
        /* RFC 3207 §4.2: "the server MUST discard any knowledge obtained
         * from the client, such as the argument to the EHLO command,
         * which was not obtained from the TLS negotiation itself" (and
         * the transaction and the keywords advertised before, so a new
         * EHLO is needed). */
        hr_session_forget(s);
    }
}

/*
 * One step of the handshake, run whenever the socket is ready for what
 * OpenSSL last asked for.  Between steps the session is parked in the
 * poller (hr_session_wait): a client that stalls mid-handshake costs no
 * worker thread, only its deadline (server.tls.handshake-timeout, for the
 * whole handshake).
 */
static int tls_handshake_step(hr_session *s, void *baton)
{
    tls_conn *tc = baton;
    apr_time_t left;
    int rc, err;

    ERR_clear_error();
    rc = SSL_accept(tc->ssl);
    if (rc == 1) {
        tls_install(s, tc);
        return HR_OK;
    }
    err = SSL_get_error(tc->ssl, rc);
    left = tc->until - apr_time_now();
    if ((err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE) &&
        left > 0) {
        hr_session_wait(s, err == SSL_ERROR_WANT_READ ? APR_POLLIN
                                                      : APR_POLLOUT,
                        left, tls_handshake_step, tc);
        return HR_DECLINED;
    }
    hr_log_session(s, HR_LOG_INFO, "TLS handshake failed: %s",
                   left <= 0 ? "timed out" : failure(tc, err));
    tc->failed = 1;
    return HR_DISCONNECT;
}

TLS_PRIVATE int tls_handshake_start(hr_session *s, tls_conn *tc,
                                    int starttls)
{
    tc->starttls = starttls;
    tc->until = apr_time_now() + apr_time_from_msec(tc->timeout_ms);
    return tls_handshake_step(s, tc);
}
