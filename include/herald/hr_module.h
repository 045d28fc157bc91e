/*
 * hr_module.h -- the module record, its capability table, and the hooks.
 *
 * A module is a shared object that exports one symbol, its record, named
 * after the file: mod_dsn.so exports `dsn_module`.  The loader checks the
 * magic cookie and the API version before it touches anything else, then
 * calls register_hooks().
 *
 *     static const hr_param dsn_params[] = {
 *         { "RET", HR_PARAM_MAIL, dsn_ret },
 *         { "NOTIFY", HR_PARAM_RCPT, dsn_notify },
 *         { NULL }
 *     };
 *     static const hr_capability dsn_capabilities[] = {
 *         { "DSN", dsn_advertise, dsn_params, NULL },
 *         { NULL }
 *     };
 *     static const hr_config_key dsn_keys[] = {
 *         { "session.extensions.dsn", HR_KEY_BOOL, HR_KEY_EXPR, "false",
 *           HR_VARS_EHLO, "advertise DSN (RFC 3461)" },
 *         { NULL }
 *     };
 *     HR_MODULE(dsn) = { HR_MODULE_STUFF, "mod_dsn", dsn_keys,
 *                        dsn_capabilities, NULL, dsn_register_hooks };
 *
 * Advertising and handling come from the same declaration: a keyword is
 * advertised only when its advertise callback says so for the session, and
 * its parameters are accepted only when it was advertised in the session
 * (otherwise 555 5.5.4, RFC 5321 §4.1.1.11).
 *
 * API changes (bump HR_API_MAJOR on any incompatible change):
 *   1.0  first release.
 */
#ifndef HR_MODULE_H
#define HR_MODULE_H

#include <apr_hooks.h>
#include "herald.h"

#ifdef __cplusplus
extern "C" {
#endif

#define HR_MODULE_MAGIC 0x48524c44u /* "HRLD" */
#define HR_API_MAJOR 1
#define HR_API_MINOR 0

/* ---------------------------------------------------- capability table */

typedef enum { HR_PARAM_MAIL = 1, HR_PARAM_RCPT = 2 } hr_param_where;

/**
 * Handler of a MAIL or RCPT parameter.  @value is what follows '=' (NULL
 * when the parameter has none); @rcpt is NULL for MAIL parameters (the
 * recipient is not yet in txn->rcpts while its parameters are checked).
 * Returns HR_OK to accept, or HR_DENY after hr_reply() (501 5.5.4 for a
 * bad value, RFC 5321 §4.1.1.11).
 */
typedef int hr_param_fn(hr_session *s, hr_txn *txn, hr_rcpt *rcpt,
                        const char *value);

typedef struct hr_param {
    const char *keyword;        /* upper case: "RET" */
    unsigned where;             /* HR_PARAM_MAIL | HR_PARAM_RCPT */
    hr_param_fn *handler;
} hr_param;

/* Verb flags. */
#define HR_VERB_GROUP_END 0x01  /* ends a pipelined group (RFC 2920 §3.1) */
#define HR_VERB_ADVERTISED 0x02 /* only when the capability was advertised;
                                   otherwise 502 5.5.1 */

/**
 * Handler of a verb.  @args is the rest of the line after the verb and one
 * space ("" when none).  Queue the reply with hr_reply(); return HR_OK, or
 * HR_DISCONNECT to close after it.
 */
typedef int hr_verb_fn(hr_session *s, const char *args);

typedef struct hr_verb {
    const char *verb;           /* upper case: "BDAT" */
    unsigned flags;
    hr_verb_fn *handler;
} hr_verb;

/**
 * Should the capability be advertised in this session?  Returns 1 and may
 * set *line to the full EHLO line ("MT-PRIORITY MIXER", allocated from the
 * session pool; the keyword alone when left NULL), or 0.  NULL callback:
 * always advertised.
 */
typedef int hr_advertise_fn(hr_session *s, const char **line);

typedef struct hr_capability {
    const char *keyword;        /* EHLO keyword, or NULL for verbs only */
    hr_advertise_fn *advertise;
    const hr_param *params;     /* NULL-terminated, or NULL */
    const hr_verb *verbs;       /* NULL-terminated, or NULL */
} hr_capability;

/* -------------------------------------------------------- module record */

struct hr_module {
    apr_uint32_t magic;         /* HR_MODULE_MAGIC */
    int api_major;              /* HR_API_MAJOR it was built against */
    int api_minor;
    const char *name;           /* "mod_dsn" */
    const hr_config_key *keys;  /* NULL-terminated, or NULL */
    const hr_capability *capabilities; /* NULL-terminated, or NULL */
    /**
     * After the configuration is loaded and compiled (settings are
     * available through hr_setting()).  Build per-generation data in
     * srv->pool, store it in srv->module_config[module->index].  Return
     * 0, or append "FILE:LINE: message" strings to @errors and return -1.
     */
    int (*post_config)(hr_server *srv, apr_pool_t *ptemp,
                       apr_array_header_t *errors);
    void (*register_hooks)(apr_pool_t *p);
    /* Set by the loader. */
    int index;                  /* slot in module_state/module_config */
    void *dso;                  /* apr_dso_handle_t * */
    const char *path;
};

#define HR_MODULE_STUFF HR_MODULE_MAGIC, HR_API_MAJOR, HR_API_MINOR
/** Declare the record of module @short ("dsn" -> dsn_module). */
#define HR_MODULE(short) hr_module short##_module

/**
 * For post_config: append "FILE:LINE: message" to @errors ("FILE: message"
 * when @line is 0), allocated from the generation's pool.  @file is the
 * configuration file of the value at fault (hr_value.file) or a data
 * file the module read (an htpasswd file, a list).
 */
HR_DECLARE(void) hr_config_error(hr_server *srv, apr_array_header_t *errors,
                                 const char *file, int line,
                                 const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

/** Module by name ("mod_dsn"), NULL when not loaded. */
HR_DECLARE(hr_module *) hr_find_module(const hr_server *srv,
                                       const char *name);
/** Per-session / per-transaction state of a module. */
#define hr_session_state(s, m) ((s)->module_state[(m)->index])
#define hr_txn_state(t, m) ((t)->module_state[(m)->index])
#define hr_module_config(srv, m) ((srv)->module_config[(m)->index])

/* ---------------------------------------------------------------- hooks */

/*
 * Every hook takes the session first.  Return codes:
 *   HR_OK          done, go on (RUN_ALL: the next module runs too)
 *   HR_DECLINED    not mine (RUN_FIRST: ask the next module)
 *   HR_DENY        refused; the module queued the reply with hr_reply()
 *   HR_DISCONNECT  refused; reply queued; close the connection after it
 * RUN_ALL hooks stop at the first DENY/DISCONNECT.  Ordering between
 * modules is by name (predecessor/successor lists), not load order.
 */
#define HR_HOOK_DECLARE(name, args)                                          \
    APR_DECLARE_EXTERNAL_HOOK(hr, HR, int, name, args)

/**
 * connect: a client connected, before the greeting (after the implicit TLS
 * handshake).  RUN_ALL.  DENY replaces the greeting with the reply (554
 * 5.7.1 ...) and the session then refuses every command but QUIT.
 */
HR_HOOK_DECLARE(connect, (hr_session *s))

/**
 * helo: HELO, EHLO or LHLO with a syntactically valid argument, before the
 * greeting is recorded.  @verb is "HELO", "EHLO" or "LHLO".  RUN_ALL.
 * DENY: the reply is sent and the session stays un-greeted.  On OK the
 * core records s->helo_domain and (EHLO/LHLO) sends the capability list.
 */
HR_HOOK_DECLARE(helo, (hr_session *s, const char *verb, const char *domain))

/**
 * capabilities: while the EHLO reply is built, after each module's
 * declared capabilities were asked.  RUN_ALL.  A module may add lines with
 * hr_capability_add() (for keywords that are not in a table).
 */
HR_HOOK_DECLARE(capabilities, (hr_session *s))
HR_DECLARE(void) hr_capability_add(hr_session *s, const char *line);

/**
 * mail: MAIL FROM accepted by the core's checks and its parameters were
 * handled; txn is open with the sender set.  RUN_ALL.  DENY refuses the
 * MAIL (the transaction is dropped).
 */
HR_HOOK_DECLARE(mail, (hr_session *s, hr_txn *txn))

/**
 * rcpt: decides whether a recipient is accepted.  RUN_FIRST.  HR_OK
 * accepts, HR_DENY refuses (reply queued), HR_DECLINED asks the next.
 * When every module declines, the core applies its own rule: local
 * domains (`session.rcpt.lookup.domains`) are accepted and other domains
 * only when `session.rcpt.relay` is true for the session; else 550 5.7.1.
 */
HR_HOOK_DECLARE(rcpt, (hr_session *s, hr_txn *txn, hr_rcpt *rcpt))

/**
 * rcpt_check: after a recipient was accepted by the rcpt hook, before it
 * is added.  RUN_ALL.  DENY refuses it (policy: greylisting, Sieve ...).
 */
HR_HOOK_DECLARE(rcpt_check, (hr_session *s, hr_txn *txn, hr_rcpt *rcpt))

/**
 * data: DATA or the first BDAT, before 354 / before the body is read.
 * RUN_ALL.  DENY refuses the message before any of it is read.
 */
HR_HOOK_DECLARE(data, (hr_session *s, hr_txn *txn))

/**
 * body: a piece of the body as it will be stored (after dot-unstuffing),
 * in order.  RUN_ALL.  Observe only: the return code is ignored but
 * DISCONNECT.  @data lives only during the call.
 */
HR_HOOK_DECLARE(body, (hr_session *s, hr_txn *txn, const char *data,
                       apr_size_t len))

/**
 * data_end: the whole body was received, before it is committed to the
 * queue.  RUN_ALL.  DENY refuses the message (nothing is queued).
 */
HR_HOOK_DECLARE(data_end, (hr_session *s, hr_txn *txn))

/**
 * queued: the message was committed durably as @queue_id.  RUN_ALL;
 * return codes are ignored (the 250 is already decided).
 */
HR_HOOK_DECLARE(queued, (hr_session *s, hr_txn *txn, const char *queue_id))

/**
 * reset: the transaction is about to be discarded (RSET, a new EHLO,
 * STARTTLS, the end of a message, the end of the session).  RUN_ALL;
 * return codes are ignored.  txn->pool is still valid.
 */
HR_HOOK_DECLARE(reset, (hr_session *s, hr_txn *txn))

/** quit: QUIT received, before 221.  RUN_ALL; codes ignored. */
HR_HOOK_DECLARE(quit, (hr_session *s))

/**
 * disconnect: the connection is closing (any reason), before the session
 * pool is destroyed.  RUN_ALL; codes ignored.
 */
HR_HOOK_DECLARE(disconnect, (hr_session *s))

#ifdef __cplusplus
}
#endif
#endif /* HR_MODULE_H */
