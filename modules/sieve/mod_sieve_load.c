/*
 * mod_sieve_load.c -- mod_sieve's post_config hook: gather the scripts of
 * [sieve.scripts] (and its alias [sieve.trusted.scripts]), inline text or
 * "file://path" relative to the configuration's folder; check each one's
 * syntax and lists once; then compile, for every stage, each script its
 * session.<stage>.script key can name, with that stage's tests only.  The
 * programs land in the generation's sieve_conf, shared read-only by the
 * workers.
 *
 * Every problem is an error of the configuration, at the place of the
 * value that caused it:
 *     herald.toml:40: sieve script 'ehlo':3:5: unknown command 'rejct'
 *     herald.toml:12: session.ehlo.script: unknown sieve script 'x' ...
 */
#include <stdarg.h>
#include <string.h>
#include <apr_strings.h>
#include <apr_file_io.h>
#include <apr_file_info.h>

#include "mod_sieve.h"

/* One script of [sieve.scripts] while the configuration loads. */
typedef struct sieve_source {
    const char *name;
    const hr_value *where;  /* the value in the configuration */
    const char *path;       /* file:// path, NULL for inline text */
    const char *text;
    apr_size_t len;
    int ok;                 /* read, compiled, lists exist */
} sieve_source;

/* ------------------------------------------------- loading: helpers */

static void sieve_error_at(hr_server *srv, apr_array_header_t *errors,
                           const hr_value *at, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Record "FILE:LINE: message" (in srv->pool: errors outlive ptemp). */
static void sieve_error_at(hr_server *srv, apr_array_header_t *errors,
                           const hr_value *at, const char *fmt, ...)
{
    va_list ap;
    const char *msg;

    va_start(ap, fmt);
    msg = apr_pvsprintf(srv->pool, fmt, ap);
    va_end(ap);
    APR_ARRAY_PUSH(errors, char *) = apr_psprintf(
        srv->pool, "%s:%d: %s", at && at->file ? at->file : srv->config_file,
        at ? at->line : 0, msg);
}

/* A compile error: "FILE:LINE: sieve script 'x'[: PATH]:L:C: message". */
static void sieve_compile_error(hr_server *srv, apr_array_header_t *errors,
                                const sieve_source *src,
                                const sieve_error *err, const char *tail)
{
    sieve_error_at(srv, errors, src->where, "sieve script '%s'%s%s:%d:%d: "
                   "%s%s", src->name, src->path ? ": " : "",
                   src->path ? src->path : "", err->line, err->column,
                   err->message, tail ? tail : "");
}

/* Read a file:// script (relative to the configuration's folder). */
static int sieve_read_file(hr_server *srv, apr_pool_t *ptemp,
                           sieve_source *src, apr_array_header_t *errors)
{
    apr_file_t *f;
    apr_finfo_t fi;
    apr_size_t got;
    char *buf, msg[120];
    apr_status_t rv;

    if (src->path[0] != '/') {
        src->path = apr_pstrcat(srv->pool, srv->config_dir, "/", src->path,
                                NULL);
    }
    rv = apr_file_open(&f, src->path, APR_FOPEN_READ | APR_FOPEN_BINARY,
                       APR_FPROT_OS_DEFAULT, ptemp);
    if (rv == APR_SUCCESS) {
        rv = apr_file_info_get(&fi, APR_FINFO_SIZE | APR_FINFO_TYPE, f);
        if (rv == APR_SUCCESS && fi.filetype != APR_REG) {
            apr_file_close(f);
            sieve_error_at(srv, errors, src->where, "sieve script '%s': %s "
                           "is not a regular file", src->name, src->path);
            return -1;
        }
    }
    if (rv != APR_SUCCESS) {
        sieve_error_at(srv, errors, src->where, "sieve script '%s': cannot "
                       "read %s: %s", src->name, src->path,
                       apr_strerror(rv, msg, sizeof(msg)));
        return -1;
    }
    if (fi.size > SIEVE_MAX_SCRIPT) {
        apr_file_close(f);
        sieve_error_at(srv, errors, src->where, "sieve script '%s': %s is "
                       "larger than %d octets", src->name, src->path,
                       SIEVE_MAX_SCRIPT);
        return -1;
    }
    buf = apr_palloc(ptemp, (apr_size_t)fi.size + 1);
    rv = apr_file_read_full(f, buf, (apr_size_t)fi.size, &got);
    apr_file_close(f);
    if (rv != APR_SUCCESS && rv != APR_EOF) {
        sieve_error_at(srv, errors, src->where, "sieve script '%s': cannot "
                       "read %s: %s", src->name, src->path,
                       apr_strerror(rv, msg, sizeof(msg)));
        return -1;
    }
    buf[got] = '\0';
    src->text = buf;
    src->len = got;
    return 0;
}

/* Collect the scripts of one table ([sieve.scripts] or its alias). */
static void sieve_collect(hr_server *srv, apr_pool_t *ptemp,
                          const char *table, apr_hash_t *sources,
                          apr_array_header_t *errors)
{
    const hr_value *t = hr_value_lookup(srv->config, table);
    int i;

    if (t == NULL) {
        return;
    }
    if (t->type != HR_VAL_TABLE) {
        sieve_error_at(srv, errors, t, "%s must be a table of scripts "
                       "([%s] name = '''...''' or \"file://path\")", table,
                       table);
        return;
    }
    for (i = 0; i < t->u.table->entries->nelts; i++) {
        const hr_table_entry *te =
            &APR_ARRAY_IDX(t->u.table->entries, i, hr_table_entry);
        sieve_source *src, *other;

        if (te->value->type != HR_VAL_STRING) {
            sieve_error_at(srv, errors, te->value, "%s.%s must be a string: "
                           "the script, or \"file://path\"", table, te->key);
            continue;
        }
        other = apr_hash_get(sources, te->key, APR_HASH_KEY_STRING);
        if (other != NULL) {
            sieve_error_at(srv, errors, te->value, "sieve script '%s' is "
                           "also defined at %s:%d", te->key,
                           other->where->file, other->where->line);
            continue;
        }
        src = apr_pcalloc(ptemp, sizeof(*src));
        src->name = te->key;
        src->where = te->value;
        if (strncmp(te->value->u.s, "file://", 7) == 0) {
            src->path = te->value->u.s + 7;
            if (sieve_read_file(srv, ptemp, src, errors) != 0) {
                apr_hash_set(sources, src->name, APR_HASH_KEY_STRING, src);
                continue;
            }
        }
        else {
            src->text = te->value->u.s;
            src->len = strlen(src->text);
        }
        src->ok = 1;
        apr_hash_set(sources, src->name, APR_HASH_KEY_STRING, src);
    }
}

/*
 * Check a script once, whatever its stage: its syntax (compiled with
 * every test allowed) and its lists.  extlists names are "list/<name>"
 * (RFC 6134 §2.1 leaves the naming to the implementation); a constant
 * name must be one of [list].
 */
static void sieve_check(hr_server *srv, apr_pool_t *ptemp, sieve_source *src,
                        apr_array_header_t *errors)
{
    const sieve_program *prog;
    const char *const *lists;
    sieve_error err;
    int n, i;

    prog = sieve_compile(ptemp, src->name, src->text, src->len,
                         SIEVE_ALLOW_ALL, &err);
    if (prog == NULL) {
        sieve_compile_error(srv, errors, src, &err, NULL);
        src->ok = 0;
        return;
    }
    lists = sieve_program_lists(prog, &n);
    for (i = 0; i < n; i++) {
        const char *name = lists[i];

        if (strncmp(name, "list/", 5) != 0) {
            sieve_error_at(srv, errors, src->where, "sieve script '%s': "
                           "list \"%s\" must be written \"list/<name>\" "
                           "with <name> a key of [list]", src->name, name);
            src->ok = 0;
        }
        else if (!hr_lists_exists(srv->lists, name + 5)) {
            sieve_error_at(srv, errors, src->where, "sieve script '%s': "
                           "unknown list \"%s\" (no key '%s' in [list])",
                           src->name, name, name + 5);
            src->ok = 0;
        }
    }
}

/*
 * Every script name a stage key can produce: the string itself, or each
 * then/else string of its rule table (false and "" mean no script).  The
 * core compiled the key already, so the shapes here are the valid ones.
 */
static void sieve_stage_names(const hr_value *v, apr_array_header_t *out)
{
    static const char *const arms[] = {"then", "else"};
    int i, j;

    if (v == NULL) {
        return;
    }
    if (v->type == HR_VAL_STRING) {
        if (v->u.s[0] != '\0') {
            APR_ARRAY_PUSH(out, const hr_value *) = v;
        }
        return;
    }
    if (v->type != HR_VAL_ARRAY) {
        return;
    }
    for (i = 0; i < v->u.array->nelts; i++) {
        const hr_value *rule = APR_ARRAY_IDX(v->u.array, i, hr_value *);

        if (rule->type != HR_VAL_TABLE) {
            continue;
        }
        for (j = 0; j < 2; j++) {
            const hr_value *r = hr_table_get(rule->u.table, arms[j]);

            if (r != NULL && r->type == HR_VAL_STRING && r->u.s[0] != '\0') {
                APR_ARRAY_PUSH(out, const hr_value *) = r;
            }
        }
    }
}

/* Compile the scripts one stage may run, with that stage's tests. */
static void sieve_load_stage(hr_server *srv, apr_pool_t *ptemp,
                             sieve_conf *conf, sieve_stage stage,
                             apr_hash_t *sources, apr_array_header_t *errors)
{
    const struct sieve_stage_def *def = &sieve_stage_defs[stage];
    apr_array_header_t *names = apr_array_make(ptemp, 4,
                                               sizeof(const hr_value *));
    int i;

    conf->programs[stage] = apr_hash_make(srv->pool);
    sieve_stage_names(hr_value_lookup(srv->config, def->key), names);
    for (i = 0; i < names->nelts; i++) {
        const hr_value *v = APR_ARRAY_IDX(names, i, const hr_value *);
        const char *name = v->u.s;
        sieve_source *src = apr_hash_get(sources, name, APR_HASH_KEY_STRING);
        sieve_program *prog;
        sieve_error err;

        if (src == NULL) {
            sieve_error_at(srv, errors, v, "%s: unknown sieve script '%s' "
                           "(define it in [%s])", def->key, name,
                           SIEVE_KEY_SCRIPTS);
            continue;
        }
        if (!src->ok || apr_hash_get(conf->programs[stage], name,
                                     APR_HASH_KEY_STRING) != NULL) {
            continue;   /* reported already, or compiled already */
        }
        prog = sieve_compile(srv->pool, name, src->text, src->len,
                             def->allow, &err);
        if (prog == NULL) {
            /* the syntax was fine: a test the stage cannot answer */
            sieve_compile_error(srv, errors, src, &err, apr_psprintf(
                ptemp, " (it runs at the %s stage: %s at %s:%d)", def->name,
                def->key, v->file, v->line));
            continue;
        }
        apr_hash_set(conf->programs[stage], name, APR_HASH_KEY_STRING, prog);
    }
}

int sieve_post_config(hr_server *srv, apr_pool_t *ptemp,
                      apr_array_header_t *errors)
{
    sieve_conf *conf = apr_pcalloc(srv->pool, sizeof(*conf));
    apr_hash_t *sources = apr_hash_make(ptemp);
    const hr_expr *e = hr_setting(srv, SIEVE_KEY_BUDGET);
    apr_hash_index_t *hi;
    int before = errors->nelts, stage;

    conf->lists = srv->lists;
    conf->budget = SIEVE_DEFAULT_BUDGET;
    if (e != NULL) {
        const hr_value *v = hr_expr_eval(e, NULL, NULL);

        if (v->type == HR_VAL_INTEGER && v->u.i >= 1 &&
            v->u.i <= SIEVE_BUDGET_MAX) {
            conf->budget = (unsigned)v->u.i;
        }
        else {
            sieve_error_at(srv, errors, hr_value_lookup(srv->config,
                                                        SIEVE_KEY_BUDGET),
                           "%s must be an integer from 1 to %d",
                           SIEVE_KEY_BUDGET, SIEVE_BUDGET_MAX);
        }
    }

    sieve_collect(srv, ptemp, SIEVE_KEY_SCRIPTS, sources, errors);
    sieve_collect(srv, ptemp, SIEVE_KEY_TRUSTED, sources, errors);
    for (hi = apr_hash_first(ptemp, sources); hi; hi = apr_hash_next(hi)) {
        sieve_source *src = apr_hash_this_val(hi);

        if (src->ok) {
            sieve_check(srv, ptemp, src, errors);
        }
    }
    for (stage = 0; stage < SIEVE_STAGES; stage++) {
        sieve_load_stage(srv, ptemp, conf, stage, sources, errors);
    }
    hr_module_config(srv, &sieve_module) = conf;
    return errors->nelts > before ? -1 : 0;
}
