/*
 * herald.h -- the public API of Herald's core, for modules.
 *
 * A module needs only the headers installed in $prefix/include/herald:
 *
 *     #include <herald/herald.h>      core types, sessions, replies
 *     #include <herald/hr_module.h>   module record, capabilities, hooks
 *     #include <herald/hr_config.h>   values, declared keys, expressions
 *     #include <herald/hr_smtp.h>     parsers: paths, mailboxes, xtext
 *
 * and builds with `cc -shared -fPIC $(pkg-config --cflags herald) ...`.
 *
 * Lifetimes (pools):
 *   server->pool     one configuration generation (load .. last session)
 *   session->pool    one connection
 *   txn->pool        one transaction: MAIL .. end of message, RSET, a new
 *                    EHLO or STARTTLS (a subpool of session->pool)
 *
 * Every reply a module sends goes through hr_reply(); it always carries an
 * enhanced status code (RFC 2034, RFC 3463).
 */
#ifndef HERALD_H
#define HERALD_H

#include <apr.h>
#include <apr_pools.h>
#include <apr_tables.h>
#include <apr_hash.h>
#include <apr_time.h>
#include <apr_network_io.h>

#include "hr_config.h"

#ifdef __cplusplus
extern "C" {
#endif

#define HERALD_VERSION "0.1.0"

/* Linkage of core functions (modules resolve them from the executable). */
#define HR_DECLARE(type) type
#define HR_DECLARE_NONSTD(type) type
#define HR_DECLARE_DATA

/* Return codes of hooks and handlers. */
#define HR_OK 0          /* handled / accepted: go on */
#define HR_DECLINED (-1) /* not mine: ask the next module */
#define HR_DENY (-2)     /* refused: a reply was set with hr_reply() */
#define HR_DISCONNECT (-3) /* refused, and close after the reply */

typedef struct hr_server hr_server;
typedef struct hr_listener hr_listener;
typedef struct hr_session hr_session;
typedef struct hr_txn hr_txn;
typedef struct hr_rcpt hr_rcpt;
typedef struct hr_module hr_module;
typedef struct hr_session_core hr_session_core;
typedef struct hr_io hr_io;

/** One `[server.listener.<id>]`. */
struct hr_listener {
    const char *id;            /* "smtp", "submission" ... (`listener`) */
    int lmtp;                  /* protocol = "lmtp" */
    const char *hostname;      /* banner/EHLO name (server's by default) */
    const char *greeting;      /* text after the hostname in the banner */
    int tls_implicit;          /* tls.implicit: handshake before greeting */
    const char *tls_certificate; /* certificate id, or NULL */
    apr_array_header_t *binds; /* of const char * "ip:port" */
};

/** One configuration generation: everything loaded from the files. */
struct hr_server {
    apr_pool_t *pool;          /* lives while any session uses it */
    const char *config_file;
    const char *config_dir;    /* for relative "file://" paths */
    hr_value *config;          /* the whole tree (root table) */
    const char *hostname;      /* server.hostname */
    const char *greeting;      /* server.greeting */
    const char *spool_dir;     /* queue.path */
    const char *module_dir;    /* server.modules.path */
    apr_array_header_t *listeners; /* of hr_listener * */
    apr_array_header_t *modules;   /* of hr_module *, in load order */
    hr_lists *lists;
    apr_hash_t *settings;      /* key path -> hr_expr * */
    void **module_config;      /* per module, index = module->index */
    void *core;                /* core-private */
};

/** One recipient accepted by RCPT. */
struct hr_rcpt {
    const char *address;       /* without <> (as received) */
    const char *domain;        /* part after '@' ("" for <postmaster>) */
    apr_array_header_t *params;/* of hr_param_value, as received */
    apr_table_t *fields;       /* envelope fields set by modules */
};

/** A MAIL/RCPT parameter as received: keyword and value (NULL if none). */
typedef struct hr_param_value {
    const char *keyword;       /* upper-cased */
    const char *value;
} hr_param_value;

/** Body types (RFC 6152, RFC 3030). */
typedef enum { HR_BODY_7BIT, HR_BODY_8BITMIME, HR_BODY_BINARYMIME } hr_body;

/** One transaction: MAIL .. end of message. */
struct hr_txn {
    apr_pool_t *pool;
    const char *sender;        /* reverse path without <>; "" = null sender */
    const char *sender_domain;
    apr_array_header_t *mail_params; /* of hr_param_value */
    apr_array_header_t *rcpts; /* of hr_rcpt * */
    apr_off_t declared_size;   /* SIZE=, 0 when not given */
    hr_body body;
    int smtputf8;              /* SMTPUTF8 given */
    int priority;              /* MT-PRIORITY, 0 by default */
    apr_off_t size;            /* body octets received so far */
    int body_started;          /* DATA or BDAT began */
    int bdat_used;             /* BDAT was used in this transaction */
    apr_table_t *fields;       /* envelope fields set by modules */
    void **module_state;       /* per module, cleared with the txn */
    void *core;                /* core-private (spool file ...) */
};

/** One connection. */
struct hr_session {
    apr_pool_t *pool;
    hr_server *server;         /* generation this session runs on */
    const hr_listener *listener;
    const char *id;            /* for the log */
    const char *remote_ip;
    apr_port_t remote_port;
    const char *local_ip;
    apr_port_t local_port;
    const char *helo_domain;   /* NULL until a successful HELO/EHLO/LHLO */
    int esmtp;                 /* greeted with EHLO or LHLO */
    int is_tls;
    const char *tls_version;   /* "TLSv1.3" ... */
    const char *tls_cipher;
    const char *authenticated_as; /* NULL when not authenticated */
    hr_txn *txn;               /* open transaction, or NULL */
    unsigned errors;           /* protocol errors so far */
    unsigned messages;         /* messages accepted so far */
    apr_time_t connected_at;
    void **module_state;       /* per module, index = module->index */
    hr_session_core *core;     /* core-private */
};

/* ---------------------------------------------------------------- replies */

/**
 * Queue a reply.  @code is the SMTP code, @enhanced the enhanced status
 * code ("5.7.1"; must agree with the class of @code).  A '\n' in the text
 * makes a multi-line reply, each line carrying the same codes.  CR, LF
 * (other than the separators) and control characters in the text are
 * replaced by spaces.
 */
HR_DECLARE(void) hr_reply(hr_session *s, int code, const char *enhanced,
                          const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/** Queue a reply whose text is exactly @line ("551 5.1.1 text"). */
HR_DECLARE(void) hr_reply_raw(hr_session *s, const char *line);

/**
 * Count a protocol error (session.errors.max, session.errors.wait):
 * returns HR_DISCONNECT when the limit was reached (a 421 was queued),
 * HR_DENY otherwise.  Call after queueing the error reply.
 */
HR_DECLARE(int) hr_session_error(hr_session *s);

/**
 * Hold the replies queued so far for @wait before they are sent (a
 * tarpit, e.g. after a failed AUTH); no worker thread waits meanwhile.
 */
HR_DECLARE(void) hr_session_delay(hr_session *s, apr_interval_time_t wait);

/** Close the connection after the replies queued so far. */
HR_DECLARE(void) hr_session_close(hr_session *s);

/* ----------------------------------------------------------- settings */

/** The compiled setting at @path (NULL when not declared). */
HR_DECLARE(const hr_expr *) hr_setting(const hr_server *srv,
                                       const char *path);

/** Evaluate a setting for the session (current txn and rcpt). */
HR_DECLARE(const hr_value *) hr_session_eval(hr_session *s,
                                             const char *path);
/** Boolean setting (a disabled optional value is false). */
HR_DECLARE(int) hr_session_bool(hr_session *s, const char *path);
/** String setting; NULL when disabled (false or ""). */
HR_DECLARE(const char *) hr_session_string(hr_session *s, const char *path);
/** Integer, duration (ms) or size setting; returns 0 when disabled. */
HR_DECLARE(int) hr_session_int(hr_session *s, const char *path,
                               apr_int64_t *out);
/** The value of an expression variable for this session. */
HR_DECLARE(const char *) hr_session_var(hr_session *s, hr_var v);

/* --------------------------------------------------------- capabilities */

/** Was @keyword ("PIPELINING") in this session's last EHLO/LHLO reply? */
HR_DECLARE(int) hr_session_advertised(hr_session *s, const char *keyword);

/* ------------------------------------------------------ envelope fields */

/**
 * Envelope fields are what modules store in the spooled envelope
 * ("dsn.ret" = "FULL", "priority" = "3" ...); `herald queue show` prints
 * them and the queue manager acts on them.  Keys are "module.name".
 */
HR_DECLARE(void) hr_txn_set_field(hr_txn *t, const char *key,
                                  const char *value);
HR_DECLARE(void) hr_rcpt_set_field(hr_txn *t, hr_rcpt *r, const char *key,
                                   const char *value);

/* --------------------------------------------------------- body stream */

/**
 * Verbs that carry a message body (DATA in the core, BDAT in
 * mod_chunking) feed one stream.  hr_body_begin() opens the spool file and
 * writes the trace header; hr_body_write() appends octets exactly as they
 * are to be stored (already unstuffed); hr_body_finish() runs the data-end
 * hooks, spools durably and queues the final reply(s) (one per recipient
 * on LMTP).  hr_body_abort() drops the body.
 */
HR_DECLARE(int) hr_body_begin(hr_session *s);
HR_DECLARE(int) hr_body_write(hr_session *s, const char *data,
                              apr_size_t len);
HR_DECLARE(int) hr_body_finish(hr_session *s);
HR_DECLARE(void) hr_body_abort(hr_session *s);
/** Maximum message size for this session (0 = unlimited). */
HR_DECLARE(apr_off_t) hr_session_size_limit(hr_session *s);

/**
 * Raw octets after a verb (BDAT): the core hands the next @count octets
 * of input to @on_data as they arrive, never parsing them as commands,
 * then calls @on_done (which queues the reply).  @baton is passed back.
 */
typedef void hr_octets_fn(hr_session *s, const char *data, apr_size_t len,
                          void *baton);
typedef void hr_octets_done_fn(hr_session *s, void *baton);
HR_DECLARE(void) hr_session_read_octets(hr_session *s, apr_off_t count,
                                        hr_octets_fn *on_data,
                                        hr_octets_done_fn *on_done,
                                        void *baton);

/**
 * The next input line goes to @fn instead of the command dispatcher (for
 * SASL exchanges, RFC 4954 §4).  @line is NUL-terminated without its
 * CRLF; @fn queues the reply and may call hr_session_read_line() again.
 * Over-long lines still get 500 5.5.2.
 */
typedef void hr_line_fn(hr_session *s, const char *line, apr_size_t len,
                        void *baton);
HR_DECLARE(void) hr_session_read_line(hr_session *s, hr_line_fn *fn,
                                      void *baton);

/** Reset the transaction (RSET semantics: runs the reset hook). */
HR_DECLARE(void) hr_session_reset_txn(hr_session *s);

/* ------------------------------------------------------------------ I/O */

/**
 * An I/O layer under the line reader: the plain socket, or TLS installed
 * by mod_tls.  read/write are non-blocking: they return the count, 0 at
 * end of stream, or -1 with *again set when they would block.
 */
struct hr_io {
    const char *name;          /* "plain", "tls" */
    apr_ssize_t (*read)(hr_io *io, char *buf, apr_size_t len, int *again);
    apr_ssize_t (*write)(hr_io *io, const char *buf, apr_size_t len,
                         int *again);
    int (*pending)(hr_io *io); /* octets buffered inside the layer */
    void (*close)(hr_io *io);
    int fd;                    /* the socket */
    void *ctx;
};

/**
 * Park the session until its socket is ready for @events (APR_POLLIN or
 * APR_POLLOUT), then call @fn instead of reading commands: for work done
 * in steps without holding a worker thread, such as a TLS handshake.
 * @fn returns HR_OK when it is done (the session goes on: a greeting held
 * back by the connect hook is sent, commands are read again), HR_DECLINED
 * after calling hr_session_wait() again to wait once more, or
 * HR_DISCONNECT to close without a reply.  @timeout (0: session.timeout)
 * bounds each wait; when it passes the connection is closed.  Call it
 * from a verb handler (which then returns HR_OK) or the connect hook.
 */
typedef int hr_resume_fn(hr_session *s, void *baton);
HR_DECLARE(void) hr_session_wait(hr_session *s, int events,
                                 apr_interval_time_t timeout,
                                 hr_resume_fn *fn, void *baton);

/** Replace the session's I/O layer (STARTTLS, implicit TLS). */
HR_DECLARE(void) hr_session_set_io(hr_session *s, hr_io *io);
HR_DECLARE(hr_io *) hr_session_get_io(hr_session *s);
/**
 * Drop every input octet buffered so far (RFC 3207 §4.2: nothing sent
 * before the TLS handshake may be acted on after it; CVE-2011-0411).
 */
HR_DECLARE(void) hr_session_discard_input(hr_session *s);
/** Write queued replies now (before a TLS handshake, for instance). */
HR_DECLARE(int) hr_session_flush(hr_session *s);
/**
 * Forget everything learned from the client (RFC 3207 §4.2): HELO, AUTH,
 * the transaction and the advertised capabilities.
 */
HR_DECLARE(void) hr_session_forget(hr_session *s);

/* -------------------------------------------------------------- logging */

typedef enum {
    HR_LOG_ERR = 3,
    HR_LOG_WARNING = 4,
    HR_LOG_NOTICE = 5,
    HR_LOG_INFO = 6,
    HR_LOG_DEBUG = 7
} hr_log_level;

/** Log one line; strings from clients must go through hr_log_escape(). */
HR_DECLARE(void) hr_log(hr_log_level level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/** Log one line about a session (prefixed with its id). */
HR_DECLARE(void) hr_log_session(hr_session *s, hr_log_level level,
                                const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/** Escape control and non-ASCII octets as \xNN; at most @max octets. */
HR_DECLARE(const char *) hr_log_escape(apr_pool_t *p, const char *str,
                                       apr_size_t max);

/* ------------------------------------------------------------ utilities */

/** Is @name a fully-qualified domain name (see mod_ehlo)? */
HR_DECLARE(int) hr_is_fqdn(const char *name);
/** Is @text an address literal "[1.2.3.4]" / "[IPv6:...]"? */
HR_DECLARE(int) hr_is_address_literal(const char *text);
/** Decode xtext (RFC 3461 §4): NULL when malformed. */
HR_DECLARE(const char *) hr_xtext_decode(apr_pool_t *p, const char *xtext);

#ifdef __cplusplus
}
#endif
#endif /* HERALD_H */
