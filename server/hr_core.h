/*
 * hr_core.h -- declarations shared by the core's own files (not installed).
 *
 * The core is split along the architecture:
 *   main.c        command line, startup, signals
 *   config.c      loading a configuration generation: files, includes,
 *                 declared keys, settings, listeners
 *   modules.c     the module loader (apr_dso) and the capability/verb/
 *                 parameter registries
 *   hooks.c       the hook implementations (apr_hooks)
 *   event.c       listeners, the poller, the worker pool, timers
 *   session.c     one connection: input buffer, command dispatch,
 *                 pipelining, output
 *   reply.c       formatting and queueing replies
 *   smtp_verbs.c  HELO/EHLO/LHLO, RSET, NOOP, QUIT, HELP, VRFY, EXPN, DATA
 *   smtp_mail.c   MAIL and RCPT
 *   body.c        the body stream: trace header, limits, spooling
 *   log.c         logging
 */
#ifndef HR_CORE_H
#define HR_CORE_H

#include <apr_thread_mutex.h>
#include <apr_network_io.h>

#include "herald.h"
#include "hr_module.h"
#include "hr_config.h"

/* Module slots (module_state, module_config) for the process's life. */
#define HR_MAX_MODULES 128

/* A capability declared by a module, with its owner. */
typedef struct hr_capability_entry {
    const hr_capability *cap;
    hr_module *module;
} hr_capability_entry;

/* A verb or parameter in the registry, with the capability it belongs to
 * (whose keyword must have been advertised for a parameter to be used). */
typedef struct hr_verb_entry {
    const hr_verb *verb;
    const hr_capability *cap;
    hr_module *module;
} hr_verb_entry;

typedef struct hr_param_entry {
    const hr_param *param;
    const hr_capability *cap;
    hr_module *module;
} hr_param_entry;

/* A declared key with its owner (NULL = the core). */
typedef struct hr_key_entry {
    const hr_config_key *key;
    const char *owner;          /* "core" or module name */
} hr_key_entry;

/* Core-private part of a configuration generation (hr_server.core). */
typedef struct hr_core_server {
    apr_array_header_t *keys;          /* hr_key_entry, core + loaded */
    apr_array_header_t *capabilities;  /* hr_capability_entry, load order */
    apr_hash_t *verbs;                 /* "BDAT" -> hr_verb_entry * */
    apr_hash_t *params;                /* "RET" -> hr_param_entry * */
    apr_array_header_t *warnings;      /* char *, printed by -t and at start */
    apr_uint32_t refcount;             /* sessions using this generation */
    int retired;                       /* replaced by a reload */
    int log_level;
} hr_core_server;

#define HR_CORE(srv) ((hr_core_server *)(srv)->core)

/* ----------------------------------------------------------- config.c */

/** The core's own declared keys (NULL-terminated). */
extern const hr_config_key hr_core_keys[];

/**
 * Load a configuration generation from @file into a new pool under
 * @parent.  Errors ("FILE:LINE: message") and warnings are appended to the
 * arrays.  @load_modules = 0 skips dlopen (used by `queue` commands).
 * Returns the server, or NULL when there were errors.
 */
hr_server *hr_config_load(apr_pool_t *parent, const char *file,
                          int load_modules, apr_array_header_t *errors,
                          apr_array_header_t *warnings);

/* ---------------------------------------------------------- modules.c */

/** Load the modules named in server.modules.load into srv->modules. */
int hr_modules_load(hr_server *srv, apr_array_header_t *errors);
/** Build the capability, verb and parameter registries. */
int hr_modules_build_registry(hr_server *srv, apr_array_header_t *errors);
/** (Re)register every module's hooks, then sort them. */
void hr_modules_register_hooks(hr_server *srv);
/** Run every module's post_config. */
int hr_modules_post_config(hr_server *srv, apr_pool_t *ptemp,
                           apr_array_header_t *errors);
/**
 * Which not-loaded module in @dir owns @path?  Returns its name or NULL.
 * (Opens the module files without registering anything.)
 */
const char *hr_modules_find_owner(apr_pool_t *p, const char *dir,
                                  const char *path);
/** Does a declared key pattern match a dotted path? */
int hr_key_matches(const hr_config_key *key, const char *path);
/** Print the loaded modules with what they own (herald -M). */
void hr_modules_print(hr_server *srv);

/* ------------------------------------------------------------ event.c */

/** Open the listeners of @srv; errors name the address. */
int hr_event_listen(hr_server *srv, apr_pool_t *p,
                    apr_array_header_t *errors);
/**
 * Run the server until SIGTERM/SIGINT.  SIGHUP calls @reload, which
 * returns a new generation (hooks not yet registered) or NULL to keep the
 * current one.  Returns the exit code.
 */
typedef hr_server *hr_reload_fn(apr_pool_t *p);
int hr_event_run(hr_server *srv, apr_pool_t *p, hr_reload_fn *reload);

/* service.c: systemd notification and privileges */
void hr_service_notify(const char *state);
/** Become server.run-as.user/group (after binding); @check_only only
 * resolves the names (before binding, so a typo stops the start early). */
int hr_service_drop_privileges(hr_server *srv, int check_only,
                               apr_array_header_t *errors);

/* ------------------------------------------------------------- log.c */

/** "stderr", "syslog" or an absolute file path; -1 when it cannot open. */
int hr_log_init(const char *target, int level);

#endif /* HR_CORE_H */
