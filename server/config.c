/*
 * config.c -- loading one configuration generation.
 *
 *     herald -f /etc/herald/herald.toml -t      check, print every error
 *
 * Order of work:
 *   1. read the file and everything `include = ["conf.d/NAME.toml"]` names
 *      (relative to the including file's folder), into one tree;
 *   2. open the modules of server.modules.load;
 *   3. build the lists of [list];
 *   4. compile every declared key (core's and loaded modules') into a
 *      setting: a constant or a rule table, with its default when absent;
 *   5. check that every key in the files is declared by someone: unknown
 *      keys are errors with FILE:LINE; keys of a module that is not loaded
 *      are warnings naming the module;
 *   6. listeners, registries, and each module's post_config.
 * Hooks are registered by the caller (hr_modules_register_hooks) when the
 * generation goes live: a failed reload must leave the old ones alone.
 * Everything lives in the generation's pool; a failed load leaves nothing
 * behind but that pool, which the caller destroys.
 */
#include <stdio.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <apr_strings.h>
#include <apr_fnmatch.h>
#include <apr_file_info.h>
#include <apr_network_io.h>

#include "hr_core.h"

#define HR_MAX_INCLUDE_DEPTH 8

/* Keys the core owns.  Stage masks say which variables each may test. */
const hr_config_key hr_core_keys[] = {
    {"include", HR_KEY_STRING_LIST, 0, NULL, 0,
     "further configuration files to merge (globs)"},
    {"server.hostname", HR_KEY_STRING, 0, NULL, 0,
     "name in the banner and EHLO reply (default: the host name)"},
    {"server.greeting", HR_KEY_STRING, 0, "\"ESMTP Herald\"", 0,
     "text after the host name in the 220 banner"},
    {"server.modules.load", HR_KEY_STRING_LIST, 0, "[]", 0,
     "modules to load"},
    {"server.modules.path", HR_KEY_STRING, 0, NULL, 0,
     "folder of the module files"},
    {"server.workers", HR_KEY_INTEGER, 0, "16", 0,
     "worker threads that run session steps"},
    {"server.max-connections", HR_KEY_INTEGER, 0, "4096", 0,
     "concurrent connections; more are refused with 421"},
    {"server.pid-file", HR_KEY_STRING, 0, NULL, 0, "write the pid here"},
    {"server.stop-timeout", HR_KEY_DURATION, 0, "\"10s\"", 0,
     "on SIGTERM, how long sessions may go on before 421 4.3.2"},
    {"server.run-as.user", HR_KEY_STRING, 0, NULL, 0,
     "drop root privileges to this user after binding"},
    {"server.run-as.group", HR_KEY_STRING, 0, NULL, 0,
     "and to this group (default: the user's)"},
    {"server.listener.*.bind", HR_KEY_STRING_LIST, HR_KEY_WILDCARD, NULL, 0,
     "addresses to listen on (\"ip:port\")"},
    {"server.listener.*.protocol", HR_KEY_STRING, HR_KEY_WILDCARD, NULL, 0,
     "smtp or lmtp"},
    {"server.listener.*.hostname", HR_KEY_STRING, HR_KEY_WILDCARD, NULL, 0,
     "banner name for this listener"},
    {"server.listener.*.greeting", HR_KEY_STRING, HR_KEY_WILDCARD, NULL, 0,
     "banner text for this listener"},
    {"server.listener.*.tls.implicit", HR_KEY_BOOL, HR_KEY_WILDCARD, NULL, 0,
     "TLS handshake before the greeting (RFC 8314)"},
    {"server.listener.*.tls.certificate", HR_KEY_STRING, HR_KEY_WILDCARD,
     NULL, 0, "certificate id for this listener"},
    {"queue.path", HR_KEY_STRING, 0, NULL, 0, "the spool folder"},
    {"session.timeout", HR_KEY_DURATION, HR_KEY_EXPR, "\"5m\"",
     HR_VARS_CONNECT, "idle time before 421 4.4.2"},
    {"session.duration", HR_KEY_DURATION, HR_KEY_EXPR, "\"30m\"",
     HR_VARS_CONNECT, "longest session"},
    {"session.transfer-limit", HR_KEY_SIZE, HR_KEY_EXPR, "\"250M\"",
     HR_VARS_CONNECT, "octets a session may send"},
    {"session.line-length", HR_KEY_INTEGER, 0, "4096", 0,
     "longest command line (RFC 5321 §4.5.3.1.4: at least 512)"},
    {"session.errors.max", HR_KEY_INTEGER, HR_KEY_EXPR, "10", HR_VARS_EHLO,
     "protocol errors before 421 4.7.0"},
    {"session.errors.wait", HR_KEY_DURATION, HR_KEY_EXPR, "\"1s\"",
     HR_VARS_EHLO, "delay added to every error reply"},
    {"session.data.limits.size", HR_KEY_SIZE, HR_KEY_EXPR, "\"50M\"",
     HR_VARS_EHLO, "largest message (SIZE)"},
    {"session.data.limits.messages", HR_KEY_INTEGER, HR_KEY_EXPR, "100",
     HR_VARS_EHLO, "messages per session"},
    {"session.data.limits.received-headers", HR_KEY_INTEGER, HR_KEY_EXPR,
     "50", HR_VARS_MAIL, "Received: headers before a loop is assumed"},
    {"session.data.bare-newline", HR_KEY_STRING, HR_KEY_EXPR, "\"reject\"",
     HR_VARS_MAIL, "bare LF or CR in DATA: reject or normalize"},
    {"session.rcpt.relay", HR_KEY_BOOL, HR_KEY_EXPR, "false", HR_VARS_RCPT,
     "may the session send to non-local domains"},
    {"session.rcpt.max-recipients", HR_KEY_INTEGER, HR_KEY_EXPR, "100",
     HR_VARS_MAIL, "recipients per message (452 4.5.3 beyond)"},
    {"session.rcpt.lookup.domains", HR_KEY_STRING_LIST, 0, "[]", 0,
     "local domains"},
    {"list", HR_KEY_ANY, HR_KEY_SUBTREE, NULL, 0,
     "named lists: arrays or \"file://path\""},
    {NULL}};

static void add_error(apr_array_header_t *errors, apr_pool_t *p,
                      const hr_value *v, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void add_error(apr_array_header_t *errors, apr_pool_t *p,
                      const hr_value *v, const char *fmt, ...)
{
    va_list ap;
    const char *msg;

    va_start(ap, fmt);
    msg = apr_pvsprintf(p, fmt, ap);
    va_end(ap);
    APR_ARRAY_PUSH(errors, char *) =
        v ? apr_psprintf(p, "%s:%d: %s", v->file, v->line, msg)
          : apr_pstrdup(p, msg);
}

/* The folder of a file path ("." when it has none). */
static const char *dir_of(apr_pool_t *p, const char *path)
{
    const char *slash = strrchr(path, '/');
    return slash ? apr_pstrndup(p, path, slash - path + (slash == path))
                 : ".";
}

/* Resolve @path against @dir unless it is absolute. */
static const char *resolve(apr_pool_t *p, const char *dir, const char *path)
{
    if (path[0] == '/') {
        return path;
    }
    return apr_pstrcat(p, dir, "/", path, NULL);
}

/*
 * Merge the files named by the `include` key of @file's tree.  Each file
 * parsed adds its own `include` (nested up to HR_MAX_INCLUDE_DEPTH); the
 * key itself is removed before the next file so they do not clash.
 */
static int read_with_includes(apr_pool_t *p, const char *file, hr_value *root,
                              int depth, apr_array_header_t *errors)
{
    hr_table_entry *inc;
    const hr_value *list;
    int i, nerr;

    nerr = hr_toml_parse_file(p, file, root, errors);
    inc = hr_table_find(root->u.table, "include");
    if (inc == NULL || inc->key[0] == '\0') {
        return nerr;
    }
    list = inc->value;
    inc->key = "";   /* hide it: the next file may define its own */
    apr_hash_set(root->u.table->index, "include", APR_HASH_KEY_STRING, NULL);
    if (depth >= HR_MAX_INCLUDE_DEPTH) {
        add_error(errors, p, list, "includes nested more than %d deep",
                  HR_MAX_INCLUDE_DEPTH);
        return nerr + 1;
    }
    if (list->type == HR_VAL_STRING) {
        hr_value *one = apr_pcalloc(p, sizeof(*one));
        *one = *list;
        list = apr_pcalloc(p, sizeof(hr_value));
        ((hr_value *)list)->type = HR_VAL_ARRAY;
        ((hr_value *)list)->u.array = apr_array_make(p, 1, sizeof(hr_value *));
        APR_ARRAY_PUSH(list->u.array, hr_value *) = one;
    }
    if (list->type != HR_VAL_ARRAY) {
        add_error(errors, p, list, "include must be a list of file patterns");
        return nerr + 1;
    }
    for (i = 0; i < list->u.array->nelts; i++) {
        const hr_value *pat = APR_ARRAY_IDX(list->u.array, i, hr_value *);
        apr_array_header_t *files;
        int j;

        if (pat->type != HR_VAL_STRING) {
            add_error(errors, p, pat, "include must be a list of strings");
            nerr++;
            continue;
        }
        if (apr_match_glob(resolve(p, dir_of(p, pat->file), pat->u.s), &files,
                           p) != APR_SUCCESS) {
            continue;   /* an empty conf.d is fine */
        }
        qsort(files->elts, files->nelts, sizeof(char *),
              (int (*)(const void *, const void *))strcmp);
        for (j = 0; j < files->nelts; j++) {
            const char *name = APR_ARRAY_IDX(files, j, char *);
            const char *path = resolve(
                p, dir_of(p, resolve(p, dir_of(p, pat->file), pat->u.s)),
                name);
            nerr += read_with_includes(p, path, root, depth + 1, errors);
        }
    }
    return nerr;
}

/* The value of @key from the files, or its default parsed from TOML. */
static const hr_value *key_value(hr_server *srv, const hr_config_key *key,
                                 apr_array_header_t *errors)
{
    hr_value *v = hr_value_lookup(srv->config, key->path);
    hr_value *tmp;
    const char *text;

    if (v != NULL || key->default_toml == NULL) {
        return v;
    }
    tmp = hr_value_make_table(srv->pool, "<default>", 0);
    text = apr_pstrcat(srv->pool, "v = ", key->default_toml, "\n", NULL);
    if (hr_toml_parse(srv->pool, apr_pstrcat(srv->pool, "<default of ",
                                             key->path, ">", NULL),
                      text, strlen(text), tmp, errors) != 0) {
        return NULL;
    }
    return hr_table_get(tmp->u.table, "v");
}

/* Compile every non-wildcard declared key into srv->settings. */
static int compile_settings(hr_server *srv, apr_array_header_t *errors)
{
    hr_core_server *core = HR_CORE(srv);
    int i, before = errors->nelts;

    srv->settings = apr_hash_make(srv->pool);
    for (i = 0; i < core->keys->nelts; i++) {
        const hr_config_key *key =
            APR_ARRAY_IDX(core->keys, i, hr_key_entry).key;
        const hr_value *v;
        hr_expr *e;

        if (key->flags & (HR_KEY_WILDCARD | HR_KEY_SUBTREE) ||
            key->type == HR_KEY_ANY) {
            continue;
        }
        v = key_value(srv, key, errors);
        if (v == NULL) {
            continue;
        }
        e = hr_expr_compile(srv->pool, key->path, v, key->type, key->flags,
                            key->variables, srv->lists, errors);
        if (e != NULL) {
            apr_hash_set(srv->settings, key->path, APR_HASH_KEY_STRING, e);
        }
    }
    return errors->nelts > before ? -1 : 0;
}

/*
 * The standard modules' sections, for the warning when a module's file is
 * not even installed (hr_modules_find_owner asks the installed files
 * first; this table only names the modules shipped with Herald).
 */
static const char *standard_owner(const char *path)
{
    static const struct {
        const char *prefix;
        const char *module;
    } owners[] = {
        {"session.connect.script", "mod_sieve"},
        {"session.ehlo.script", "mod_sieve"},
        {"session.mail.script", "mod_sieve"},
        {"session.rcpt.script", "mod_sieve"},
        {"session.data.script", "mod_sieve"},
        {"sieve.", "mod_sieve"},
        {"session.ehlo.", "mod_ehlo"},
        {"session.extensions.pipelining", "mod_pipelining"},
        {"session.extensions.chunking", "mod_chunking"},
        {"session.extensions.requiretls", "mod_requiretls"},
        {"session.extensions.no-soliciting", "mod_nosoliciting"},
        {"session.extensions.dsn", "mod_dsn"},
        {"session.extensions.future-release", "mod_futurerelease"},
        {"session.extensions.deliver-by", "mod_deliverby"},
        {"session.deliver-by.", "mod_deliverby"},
        {"session.extensions.mt-priority", "mod_mtpriority"},
        {"session.mt-priority.", "mod_mtpriority"},
        {"session.auth.", "mod_auth"},
        {"server.tls.", "mod_tls"},
        {"certificate.", "mod_tls"},
        {"session.rcpt.lookup.addresses", "mod_recipients"},
        {"session.rcpt.lookup.aliases", "mod_recipients"},
        {"session.rcpt.lookup.vrfy", "mod_recipients"},
        {"session.rcpt.lookup.expn", "mod_recipients"},
    };
    size_t i;

    for (i = 0; i < sizeof(owners) / sizeof(owners[0]); i++) {
        if (strncmp(path, owners[i].prefix, strlen(owners[i].prefix)) == 0) {
            return owners[i].module;
        }
    }
    return NULL;
}

/* Who declares @path?  Returns the entry or NULL. */
static hr_key_entry *find_key(hr_server *srv, const char *path)
{
    hr_core_server *core = HR_CORE(srv);
    int i;

    for (i = 0; i < core->keys->nelts; i++) {
        hr_key_entry *e = &APR_ARRAY_IDX(core->keys, i, hr_key_entry);
        if (hr_key_matches(e->key, path)) {
            return e;
        }
    }
    return NULL;
}

/*
 * Walk the tree: every leaf must belong to a declared key.  Tables are
 * walked into unless a key owns them whole (HR_KEY_ANY or a subtree).
 */
static void check_keys(hr_server *srv, const hr_value *table,
                       const char *prefix, apr_array_header_t *errors)
{
    hr_core_server *core = HR_CORE(srv);
    int i;

    for (i = 0; i < table->u.table->entries->nelts; i++) {
        hr_table_entry *te =
            &APR_ARRAY_IDX(table->u.table->entries, i, hr_table_entry);
        const char *path;
        hr_key_entry *owner;
        const char *other;

        if (te->key[0] == '\0') {
            continue;   /* a consumed include */
        }
        path = prefix ? apr_pstrcat(srv->pool, prefix, ".", te->key, NULL)
                      : te->key;
        owner = find_key(srv, path);
        if (owner != NULL) {
            te->used = 1;
            if (te->value->type != HR_VAL_TABLE ||
                owner->key->type == HR_KEY_ANY ||
                (owner->key->flags & HR_KEY_SUBTREE)) {
                continue;
            }
        }
        if (te->value->type == HR_VAL_TABLE) {
            check_keys(srv, te->value, path, errors);
            continue;
        }
        other = hr_modules_find_owner(srv->pool, srv->module_dir, path);
        if (other == NULL) {
            other = standard_owner(path);
            if (other != NULL && hr_find_module(srv, other) != NULL) {
                other = NULL;   /* loaded: a typo in its section */
            }
        }
        if (other != NULL) {
            APR_ARRAY_PUSH(core->warnings, char *) = apr_psprintf(
                srv->pool, "%s:%d: key '%s' belongs to %s, which is not "
                "loaded (add it to server.modules.load)", te->value->file,
                te->value->line, path, other);
        }
        else {
            add_error(errors, srv->pool, te->value, "unknown key '%s'", path);
        }
    }
}

/* A string member of a listener table, checked. */
static const char *listener_string(hr_server *srv, const hr_value *lt,
                                   const char *name,
                                   apr_array_header_t *errors)
{
    const hr_value *v = hr_value_lookup(lt, name);
    if (v == NULL) {
        return NULL;
    }
    if (v->type != HR_VAL_STRING) {
        add_error(errors, srv->pool, v, "%s must be a string", name);
        return NULL;
    }
    return v->u.s;
}

static int build_listeners(hr_server *srv, apr_array_header_t *errors)
{
    const hr_value *all = hr_value_lookup(srv->config, "server.listener");
    int i, before = errors->nelts;

    srv->listeners = apr_array_make(srv->pool, 4, sizeof(hr_listener *));
    if (all == NULL) {
        return 0;
    }
    if (all->type != HR_VAL_TABLE) {
        add_error(errors, srv->pool, all, "server.listener must be a table "
                  "of listeners ([server.listener.<id>])");
        return -1;
    }
    for (i = 0; i < all->u.table->entries->nelts; i++) {
        hr_table_entry *te =
            &APR_ARRAY_IDX(all->u.table->entries, i, hr_table_entry);
        const hr_value *lt = te->value, *bind, *implicit;
        const char *proto;
        hr_listener *l;
        int j;

        if (lt->type != HR_VAL_TABLE) {
            add_error(errors, srv->pool, lt, "server.listener.%s must be a "
                      "table", te->key);
            continue;
        }
        l = apr_pcalloc(srv->pool, sizeof(*l));
        l->id = te->key;
        l->binds = apr_array_make(srv->pool, 2, sizeof(const char *));
        proto = listener_string(srv, lt, "protocol", errors);
        if (proto == NULL || strcmp(proto, "smtp") == 0) {
            l->lmtp = 0;
        }
        else if (strcmp(proto, "lmtp") == 0) {
            l->lmtp = 1;
        }
        else {
            add_error(errors, srv->pool, hr_value_lookup(lt, "protocol"),
                      "protocol must be \"smtp\" or \"lmtp\", not \"%s\"",
                      proto);
        }
        l->hostname = listener_string(srv, lt, "hostname", errors);
        l->greeting = listener_string(srv, lt, "greeting", errors);
        l->tls_certificate = listener_string(srv, lt, "tls.certificate",
                                             errors);
        implicit = hr_value_lookup(lt, "tls.implicit");
        if (implicit != NULL) {
            if (implicit->type != HR_VAL_BOOLEAN) {
                add_error(errors, srv->pool, implicit,
                          "tls.implicit must be true or false");
            }
            else {
                l->tls_implicit = implicit->u.b;
            }
        }
        if (l->hostname == NULL) {
            l->hostname = srv->hostname;
        }
        if (l->greeting == NULL) {
            l->greeting = srv->greeting;
        }
        bind = hr_value_lookup(lt, "bind");
        if (bind == NULL) {
            add_error(errors, srv->pool, lt, "listener '%s' has no bind "
                      "address", l->id);
            continue;
        }
        if (bind->type == HR_VAL_STRING) {
            APR_ARRAY_PUSH(l->binds, const char *) = bind->u.s;
        }
        else if (bind->type == HR_VAL_ARRAY) {
            for (j = 0; j < bind->u.array->nelts; j++) {
                const hr_value *b = APR_ARRAY_IDX(bind->u.array, j,
                                                  hr_value *);
                char *host, *scope;
                apr_port_t port;

                if (b->type != HR_VAL_STRING ||
                    apr_parse_addr_port(&host, &scope, &port, b->u.s,
                                        srv->pool) != APR_SUCCESS ||
                    port == 0) {
                    add_error(errors, srv->pool, b, "bind must be "
                              "\"ip:port\" or \"[ipv6]:port\"");
                    continue;
                }
                APR_ARRAY_PUSH(l->binds, const char *) = b->u.s;
            }
        }
        else {
            add_error(errors, srv->pool, bind, "bind must be a list of "
                      "\"ip:port\"");
        }
        APR_ARRAY_PUSH(srv->listeners, hr_listener *) = l;
    }
    return errors->nelts > before ? -1 : 0;
}

/* A plain string setting read straight from the tree (no expression). */
static const char *tree_string(hr_server *srv, const char *path,
                               const char *dflt, apr_array_header_t *errors)
{
    const hr_value *v = hr_value_lookup(srv->config, path);
    if (v == NULL) {
        return dflt;
    }
    if (v->type != HR_VAL_STRING) {
        add_error(errors, srv->pool, v, "%s must be a string", path);
        return dflt;
    }
    return v->u.s;
}

hr_server *hr_config_load(apr_pool_t *parent, const char *file,
                          int load_modules, apr_array_header_t *errors,
                          apr_array_header_t *warnings)
{
    apr_pool_t *p, *ptemp;
    hr_server *srv;
    hr_core_server *core;
    const hr_config_key *k;
    char host[256];
    int i, nerr = 0;

    apr_pool_create(&p, parent);
    srv = apr_pcalloc(p, sizeof(*srv));
    core = apr_pcalloc(p, sizeof(*core));
    srv->pool = p;
    srv->core = core;
    srv->config_file = apr_pstrdup(p, file);
    srv->config_dir = dir_of(p, file);
    core->warnings = warnings;
    core->keys = apr_array_make(p, 64, sizeof(hr_key_entry));
    srv->config = hr_value_make_table(p, srv->config_file, 1);

    if (read_with_includes(p, srv->config_file, srv->config, 0, errors)) {
        return NULL;
    }
    if (gethostname(host, sizeof(host)) != 0) {
        strcpy(host, "localhost");
    }
    host[sizeof(host) - 1] = '\0';
    srv->hostname = tree_string(srv, "server.hostname",
                                apr_pstrdup(p, host), errors);
    srv->greeting = tree_string(srv, "server.greeting", "ESMTP Herald",
                                errors);
    srv->module_dir = resolve(p, srv->config_dir,
                              tree_string(srv, "server.modules.path",
                                          HR_MODULE_DIR, errors));
    srv->spool_dir = resolve(p, srv->config_dir,
                             tree_string(srv, "queue.path",
                                         HR_LOCALSTATE_DIR "/spool/herald",
                                         errors));
    if (load_modules) {
        nerr += hr_modules_load(srv, errors) != 0;
    }
    else {
        srv->modules = apr_array_make(p, 1, sizeof(hr_module *));
        srv->module_config = apr_pcalloc(p, sizeof(void *) * HR_MAX_MODULES);
    }

    for (k = hr_core_keys; k->path; k++) {
        hr_key_entry *e = apr_array_push(core->keys);
        e->key = k;
        e->owner = "core";
    }
    for (i = 0; i < srv->modules->nelts; i++) {
        hr_module *m = APR_ARRAY_IDX(srv->modules, i, hr_module *);
        for (k = m->keys; k && k->path; k++) {
            hr_key_entry *e = apr_array_push(core->keys);
            e->key = k;
            e->owner = m->name;
        }
    }

    srv->lists = hr_lists_build(p, hr_value_lookup(srv->config, "list"),
                                srv->config_dir, errors);
    nerr += compile_settings(srv, errors) != 0;
    if (load_modules) {
        check_keys(srv, srv->config, NULL, errors);
    }
    nerr += build_listeners(srv, errors) != 0;
    if (!load_modules) {
        return errors->nelts ? NULL : srv;
    }
    nerr += hr_modules_build_registry(srv, errors) != 0;
    if (errors->nelts || nerr) {
        return NULL;
    }
    apr_pool_create(&ptemp, p);
    nerr += hr_modules_post_config(srv, ptemp, errors) != 0;
    apr_pool_destroy(ptemp);
    if (errors->nelts || nerr) {
        return NULL;
    }
    return srv;
}

HR_DECLARE(void) hr_config_error(hr_server *srv, apr_array_header_t *errors,
                                 const char *file, int line,
                                 const char *fmt, ...)
{
    va_list ap;
    const char *msg;

    va_start(ap, fmt);
    msg = apr_pvsprintf(srv->pool, fmt, ap);
    va_end(ap);
    APR_ARRAY_PUSH(errors, char *) =
        line > 0 ? apr_psprintf(srv->pool, "%s:%d: %s", file, line, msg)
                 : apr_psprintf(srv->pool, "%s: %s", file, msg);
}

HR_DECLARE(const hr_expr *) hr_setting(const hr_server *srv, const char *path)
{
    return apr_hash_get(srv->settings, path, APR_HASH_KEY_STRING);
}
