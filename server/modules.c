/*
 * modules.c -- loading modules and building the registries.
 *
 *     [server.modules]
 *     load = ["mod_ehlo", "mod_pipelining", "mod_dsn"]
 *     path = "/usr/lib/herald/modules"     # default: the compiled-in folder
 *
 * Each name is opened as PATH/NAME.so with apr_dso; the record symbol is
 * the name without "mod_" plus "_module" (mod_dsn -> dsn_module).  Before
 * anything else of the record is used, its magic cookie and API major
 * version are checked, and every problem is reported naming the file: a
 * module built for another API must never run (cf. httpd's mod_so.c and
 * ap_mmn.h).
 *
 * The registries come from each module's capability table: the EHLO
 * keyword, its verbs and its MAIL/RCPT parameters.  Two modules claiming
 * the same verb or parameter is a load error.
 */
#include <stdio.h>
#include <string.h>
#include <stdlib.h>
#include <apr_dso.h>
#include <apr_strings.h>
#include <apr_file_info.h>
#include <apr_lib.h>

#include "hr_core.h"

/* The record symbol of a module: "mod_dsn" -> "dsn_module". */
static const char *record_symbol(apr_pool_t *p, const char *name)
{
    const char *base = strncmp(name, "mod_", 4) == 0 ? name + 4 : name;
    return apr_pstrcat(p, base, "_module", NULL);
}

/* A module name must be a plain file name: no path, no dots. */
static int valid_module_name(const char *name)
{
    const char *c;

    if (*name == '\0' || strlen(name) > 64) {
        return 0;
    }
    for (c = name; *c; c++) {
        if (!apr_isalnum(*c) && *c != '_' && *c != '-') {
            return 0;
        }
    }
    return 1;
}

/*
 * Open one module file and check its record.  On failure returns NULL and
 * sets *why to a sentence naming the file.
 */
static hr_module *open_module(apr_pool_t *p, const char *dir,
                              const char *name, const char **why)
{
    const char *path = apr_pstrcat(p, dir, "/", name, ".so", NULL);
    const char *symbol = record_symbol(p, name);
    apr_dso_handle_t *dso;
    apr_dso_handle_sym_t sym;
    hr_module *m;
    char err[256];

    if (apr_dso_load(&dso, path, p) != APR_SUCCESS) {
        *why = apr_psprintf(p, "cannot load module %s: %s", path,
                            apr_dso_error(dso, err, sizeof(err)));
        return NULL;
    }
    if (apr_dso_sym(&sym, dso, symbol) != APR_SUCCESS) {
        *why = apr_psprintf(p, "module %s has no symbol '%s' (is it a "
                            "Herald module?)", path, symbol);
        apr_dso_unload(dso);
        return NULL;
    }
    m = (hr_module *)sym;
    if (m->magic != HR_MODULE_MAGIC) {
        *why = apr_psprintf(p, "module %s is not a Herald module (bad magic "
                            "cookie 0x%08x, expected 0x%08x)", path,
                            (unsigned)m->magic, HR_MODULE_MAGIC);
        apr_dso_unload(dso);
        return NULL;
    }
    if (m->api_major != HR_API_MAJOR || m->api_minor > HR_API_MINOR) {
        *why = apr_psprintf(p, "module %s was built for module API %d.%d; "
                            "this Herald has API %d.%d: rebuild it against "
                            "the installed headers", path, m->api_major,
                            m->api_minor, HR_API_MAJOR, HR_API_MINOR);
        apr_dso_unload(dso);
        return NULL;
    }
    m->dso = dso;
    m->path = path;
    return m;
}

/*
 * A module keeps its slot number (hr_module.index) for the life of the
 * process, whatever the load order of later generations: sessions that
 * started on an old generation index their module_state with it while a
 * reloaded generation serves new ones.  Only the main thread loads.
 */
static const char *slot_names[HR_MAX_MODULES];
static int slot_count;

static int module_slot(const char *name)
{
    int i;

    for (i = 0; i < slot_count; i++) {
        if (strcmp(slot_names[i], name) == 0) {
            return i;
        }
    }
    if (slot_count == HR_MAX_MODULES) {
        return -1;
    }
    slot_names[slot_count] = strdup(name);   /* process lifetime */
    return slot_count++;
}

int hr_modules_load(hr_server *srv, apr_array_header_t *errors)
{
    const hr_value *load = hr_value_lookup(srv->config, "server.modules.load");
    int i, nerr = 0;

    srv->modules = apr_array_make(srv->pool, 16, sizeof(hr_module *));
    if (load == NULL) {
        return 0;
    }
    if (load->type != HR_VAL_ARRAY) {
        APR_ARRAY_PUSH(errors, char *) = apr_psprintf(
            srv->pool, "%s:%d: server.modules.load must be an array of "
            "module names", load->file, load->line);
        return -1;
    }
    for (i = 0; i < load->u.array->nelts; i++) {
        const hr_value *v = APR_ARRAY_IDX(load->u.array, i, hr_value *);
        const char *why = NULL;
        hr_module *m;

        if (v->type != HR_VAL_STRING || !valid_module_name(v->u.s)) {
            APR_ARRAY_PUSH(errors, char *) = apr_psprintf(
                srv->pool, "%s:%d: invalid module name", v->file, v->line);
            nerr++;
            continue;
        }
        if (hr_find_module(srv, v->u.s) != NULL) {
            APR_ARRAY_PUSH(errors, char *) = apr_psprintf(
                srv->pool, "%s:%d: module %s is loaded twice", v->file,
                v->line, v->u.s);
            nerr++;
            continue;
        }
        m = open_module(srv->pool, srv->module_dir, v->u.s, &why);
        if (m == NULL) {
            APR_ARRAY_PUSH(errors, char *) =
                apr_psprintf(srv->pool, "%s:%d: %s", v->file, v->line, why);
            nerr++;
            continue;
        }
        if (strcmp(m->name, v->u.s) != 0) {
            APR_ARRAY_PUSH(errors, char *) = apr_psprintf(
                srv->pool, "%s:%d: module %s calls itself '%s'", v->file,
                v->line, m->path, m->name);
            nerr++;
            continue;
        }
        m->index = module_slot(m->name);
        if (m->index < 0) {
            APR_ARRAY_PUSH(errors, char *) = apr_psprintf(
                srv->pool, "%s:%d: more than %d different modules", v->file,
                v->line, HR_MAX_MODULES);
            nerr++;
            continue;
        }
        APR_ARRAY_PUSH(srv->modules, hr_module *) = m;
    }
    srv->module_config = apr_pcalloc(srv->pool,
                                     sizeof(void *) * HR_MAX_MODULES);
    return nerr ? -1 : 0;
}

HR_DECLARE(hr_module *) hr_find_module(const hr_server *srv, const char *name)
{
    int i;

    if (srv->modules == NULL) {
        return NULL;
    }
    for (i = 0; i < srv->modules->nelts; i++) {
        hr_module *m = APR_ARRAY_IDX(srv->modules, i, hr_module *);
        if (strcmp(m->name, name) == 0) {
            return m;
        }
    }
    return NULL;
}

/* Add one module's verbs and parameters to the registries. */
static int register_capability(hr_server *srv, hr_module *m,
                               const hr_capability *cap,
                               apr_array_header_t *errors)
{
    hr_core_server *core = HR_CORE(srv);
    const hr_verb *v;
    const hr_param *pa;
    int nerr = 0;

    for (v = cap->verbs; v && v->verb; v++) {
        hr_verb_entry *old = apr_hash_get(core->verbs, v->verb,
                                          APR_HASH_KEY_STRING);
        hr_verb_entry *e;
        if (old != NULL) {
            APR_ARRAY_PUSH(errors, char *) = apr_psprintf(
                srv->pool, "%s: verb %s is claimed by both %s and %s",
                srv->config_file, v->verb, old->module->name, m->name);
            nerr++;
            continue;
        }
        e = apr_pcalloc(srv->pool, sizeof(*e));
        e->verb = v;
        e->cap = cap;
        e->module = m;
        apr_hash_set(core->verbs, v->verb, APR_HASH_KEY_STRING, e);
    }
    for (pa = cap->params; pa && pa->keyword; pa++) {
        hr_param_entry *old = apr_hash_get(core->params, pa->keyword,
                                           APR_HASH_KEY_STRING);
        hr_param_entry *e;
        if (old != NULL) {
            APR_ARRAY_PUSH(errors, char *) = apr_psprintf(
                srv->pool, "%s: parameter %s is claimed by both %s and %s",
                srv->config_file, pa->keyword, old->module->name, m->name);
            nerr++;
            continue;
        }
        e = apr_pcalloc(srv->pool, sizeof(*e));
        e->param = pa;
        e->cap = cap;
        e->module = m;
        apr_hash_set(core->params, pa->keyword, APR_HASH_KEY_STRING, e);
    }
    return nerr;
}

int hr_modules_build_registry(hr_server *srv, apr_array_header_t *errors)
{
    hr_core_server *core = HR_CORE(srv);
    int i, nerr = 0;

    core->capabilities = apr_array_make(srv->pool, 16,
                                        sizeof(hr_capability_entry));
    core->verbs = apr_hash_make(srv->pool);
    core->params = apr_hash_make(srv->pool);
    for (i = 0; i < srv->modules->nelts; i++) {
        hr_module *m = APR_ARRAY_IDX(srv->modules, i, hr_module *);
        const hr_capability *cap;

        for (cap = m->capabilities; cap && (cap->keyword || cap->verbs ||
                                            cap->params); cap++) {
            hr_capability_entry *e = apr_array_push(core->capabilities);
            e->cap = cap;
            e->module = m;
            nerr += register_capability(srv, m, cap, errors);
        }
    }
    return nerr ? -1 : 0;
}

void hr_modules_register_hooks(hr_server *srv)
{
    int i;

    apr_hook_deregister_all();
    apr_hook_global_pool = srv->pool;
    for (i = 0; i < srv->modules->nelts; i++) {
        hr_module *m = APR_ARRAY_IDX(srv->modules, i, hr_module *);
        if (m->register_hooks != NULL) {
            /* apr_hooks names each registration after this, which is how
             * predecessor lists refer to modules. */
            apr_hook_debug_current = m->name;
            m->register_hooks(srv->pool);
        }
    }
    apr_hook_debug_current = NULL;
    apr_hook_sort_all();
}

int hr_modules_post_config(hr_server *srv, apr_pool_t *ptemp,
                           apr_array_header_t *errors)
{
    int i, nerr = 0;

    for (i = 0; i < srv->modules->nelts; i++) {
        hr_module *m = APR_ARRAY_IDX(srv->modules, i, hr_module *);
        if (m->post_config != NULL && m->post_config(srv, ptemp, errors)) {
            nerr++;
        }
    }
    return nerr ? -1 : 0;
}

int hr_key_matches(const hr_config_key *key, const char *path)
{
    const char *k = key->path, *p = path;

    if (!(key->flags & (HR_KEY_WILDCARD | HR_KEY_SUBTREE))) {
        return strcmp(k, path) == 0;
    }
    while (*k != '\0') {
        if (k[0] == '*' && (k[1] == '.' || k[1] == '\0')) {
            /* one whole segment of any name */
            if (*p == '\0' || *p == '.') {
                return 0;
            }
            while (*p != '\0' && *p != '.') {
                p++;
            }
            k++;
            continue;
        }
        if (*k != *p) {
            return 0;
        }
        k++;
        p++;
    }
    if (*p == '\0') {
        return 1;
    }
    return (key->flags & HR_KEY_SUBTREE) && *p == '.';
}

const char *hr_modules_find_owner(apr_pool_t *p, const char *dir,
                                  const char *path)
{
    apr_dir_t *d;
    apr_finfo_t fi;
    const char *owner = NULL;

    if (dir == NULL || apr_dir_open(&d, dir, p) != APR_SUCCESS) {
        return NULL;
    }
    while (owner == NULL &&
           apr_dir_read(&fi, APR_FINFO_NAME, d) == APR_SUCCESS) {
        size_t len = strlen(fi.name);
        const char *why;
        const hr_config_key *k;
        hr_module *m;
        char *name;

        if (len < 8 || strncmp(fi.name, "mod_", 4) != 0 ||
            strcmp(fi.name + len - 3, ".so") != 0) {
            continue;
        }
        name = apr_pstrndup(p, fi.name, len - 3);
        m = open_module(p, dir, name, &why);
        if (m == NULL) {
            continue;
        }
        for (k = m->keys; k && k->path; k++) {
            if (hr_key_matches(k, path)) {
                owner = apr_pstrdup(p, m->name);
                break;
            }
        }
        apr_dso_unload(m->dso);
    }
    apr_dir_close(d);
    return owner;
}

static const char *type_name(hr_key_type t)
{
    static const char *names[] = {"bool", "integer", "string", "duration",
                                  "size", "string list", "any"};
    return names[t];
}

void hr_modules_print(hr_server *srv)
{
    hr_core_server *core = HR_CORE(srv);
    int i;

    printf("core (built in)\n  capabilities: SIZE ENHANCEDSTATUSCODES "
           "8BITMIME SMTPUTF8\n  verbs: HELO EHLO LHLO MAIL RCPT DATA RSET "
           "NOOP QUIT HELP VRFY EXPN\n  parameters: SIZE BODY SMTPUTF8\n");
    for (i = 0; i < srv->modules->nelts; i++) {
        hr_module *m = APR_ARRAY_IDX(srv->modules, i, hr_module *);
        const hr_config_key *k;
        int j;

        printf("%s (%s, API %d.%d)\n", m->name, m->path, m->api_major,
               m->api_minor);
        for (j = 0; j < core->capabilities->nelts; j++) {
            hr_capability_entry *e =
                &APR_ARRAY_IDX(core->capabilities, j, hr_capability_entry);
            const hr_verb *v;
            const hr_param *pa;
            if (e->module != m) {
                continue;
            }
            if (e->cap->keyword) {
                printf("  capability: %s\n", e->cap->keyword);
            }
            for (v = e->cap->verbs; v && v->verb; v++) {
                printf("  verb: %s\n", v->verb);
            }
            for (pa = e->cap->params; pa && pa->keyword; pa++) {
                printf("  parameter: %s (%s%s%s)\n", pa->keyword,
                       (pa->where & HR_PARAM_MAIL) ? "MAIL" : "",
                       (pa->where & HR_PARAM_MAIL) &&
                               (pa->where & HR_PARAM_RCPT) ? ", " : "",
                       (pa->where & HR_PARAM_RCPT) ? "RCPT" : "");
            }
        }
        for (k = m->keys; k && k->path; k++) {
            printf("  key: %s (%s%s)%s%s\n", k->path, type_name(k->type),
                   (k->flags & HR_KEY_EXPR) ? ", expression" : "",
                   k->description ? ": " : "",
                   k->description ? k->description : "");
        }
    }
}
