/*
 * mod_sieve.c -- Sieve scripts (RFC 5228) at the SMTP stages: connect,
 * EHLO, MAIL, RCPT and the end of DATA.
 *
 *     [server.modules]
 *     load = ["mod_ehlo", "mod_sieve"]
 *
 *     [session.ehlo]
 *     script = "ehlo"                  # or a rule table, see below
 *     [session.data]
 *     script = [ { if = "listener", eq = "smtp", then = "inbound" },
 *                { else = false } ]
 *
 *     [sieve]
 *     budget = 100000                  # instructions per run
 *
 *     [sieve.scripts]          # or [sieve.trusted.scripts]
 *     ehlo = '''
 *       require ["variables", "extlists", "reject"];
 *       if string :list "${env.helo_domain}" "list/blocked-domains" {
 *         reject "551 5.1.1 Your domain '${env.helo_domain}' is blocked.";
 *       }
 *     '''
 *     inbound = "file://sieve/inbound.sieve"   # relative to the config
 *
 *     [list]
 *     blocked-domains = ["spam.example", "bad.example"]
 *
 * Stages.  Each of session.{connect,ehlo,mail,rcpt,data}.script names the
 * script to run there (a string, or a rule table over the variables known
 * at that stage; false or "" runs nothing):
 *
 *   connect  connect hook, before the greeting      string, environment
 *   ehlo     helo hook (HELO, EHLO, LHLO), after     string, environment
 *            mod_ehlo's checks, before the name is recorded
 *   mail     mail hook                              + envelope "from"
 *   rcpt     rcpt_check hook, once per recipient    + envelope "from", "to"
 *            (envelope "to" is that recipient)
 *   data     data_end hook, the whole message read  + header, address,
 *                                                     exists, size, and
 *                                                     envelope "to" = all
 *
 * A script that uses a test its stage cannot answer (`header` at EHLO) is
 * refused when the configuration is loaded, as are a syntax error, a
 * stage key naming a script that does not exist, and a `:list` name that
 * is not "list/<a [list] key>".  Errors read
 *     herald.toml:40: sieve script 'ehlo':3:5: unknown command 'rejct'
 * (the place of the script's value, then line:column in the script; for
 * a file:// script the file's path comes before line:column).  Every
 * script is compiled once per stage that uses it, when the configuration
 * is loaded, and the compiled programs are shared read-only by every
 * worker thread.
 *
 * The `env` namespace (RFC 5229 variables: "${env.NAME}") and the
 * `environment` test (RFC 5183) ask the same table:
 *
 *   helo_domain       the HELO/EHLO/LHLO name (at the EHLO stage: the one
 *                     being offered); "" before
 *   remote_ip, remote-ip        the client's address
 *   remote_port, local_ip, local_port, listener (its id: "smtp" ...)
 *   authenticated_as  the AUTH identity, "" when not authenticated
 *   tls               "true" or "false" (as the is-tls expression
 *                     variable); tls_version ("TLSv1.3") and tls_cipher
 *                     are "" on a plain connection
 *   sender, sender_domain       the reverse-path ("" for <>), from MAIL on
 *   rcpt, rcpt_domain the recipient being checked (RCPT stage), the first
 *                     recipient at the DATA stage
 *   stage             "connect", "ehlo", "mail", "rcpt" or "data"
 *   RFC 5183 §4.1:    domain and host (the listener's host name), location
 *                     ("MTA"), name ("Herald"), phase ("pre": before final
 *                     delivery), version; remote-host is not available
 *                     (Herald does no reverse DNS)
 *
 * The rule tables of the stage keys see the same variables as any
 * expression; helo-domain at the EHLO stage is the name being offered,
 * and rcpt / rcpt-domain at the DATA stage are the first recipient's.
 *
 * Actions (RFC 5429 for reject and ereject):
 *   keep, implicit keep   go on
 *   reject "TEXT", ereject "TEXT"
 *                     refuse the command: when TEXT starts with a 4xx or
 *                     5xx code (and optionally an enhanced status code) it
 *                     is the reply as written; the enhanced code is X.0.0
 *                     when missing, and takes the reply's class when it
 *                     has another (RFC 3463 §2).  Otherwise the reply is
 *                     "550 5.7.1 TEXT" ("554 5.7.1 TEXT" at connect, as
 *                     RFC 5321 §3.1 wants for a refused session).  Each
 *                     line of a multi-line TEXT is a line of the reply
 *                     (up to SIEVE_REPLY_LINES).  A 421 reply closes the
 *                     connection after it.
 *                     At connect the reply replaces the greeting and the
 *                     session then refuses everything but QUIT; at EHLO
 *                     the name is not recorded (the client is still not
 *                     greeted); at MAIL the transaction is dropped; at
 *                     RCPT the recipient; at DATA the message (on LMTP
 *                     one reply per recipient, RFC 2033 §4.2).
 *   discard           at the DATA stage the message is answered 250 and
 *                     not queued (RFC 5228 §4.5: silently thrown away;
 *                     logged at notice level); before DATA there is no
 *                     message to throw away yet, so it acts as keep.
 *
 * A refusal by a script is policy, not a protocol error: it does not count
 * towards session.errors.max.  BDAT (mod_chunking) feeds the same body
 * stream as DATA, so the DATA stage works for both.
 *
 * Reply texts never carry CR, LF or other controls from the mail: header
 * values are unfolded (RFC 5322 §2.2.3), their encoded-words decoded
 * (RFC 2047) and controls replaced by spaces before a script sees them,
 * and hr_reply() cleans what is left.
 *
 * Limits: each run has an instruction budget (sieve.budget, default
 * 100000; RFC 5228 §2.10.6 lets an implementation bound a script's
 * resources); when it runs out, or on a run-time error, the outcome is
 * implicit keep and a warning is logged.  At the DATA stage the header
 * section is collected from the body stream only when the script needs
 * it, at most SIEVE_HEADER_MAX octets and SIEVE_HEADER_FIELDS fields; a
 * field beyond them is invisible to the script.  The engine keeps its run
 * state (about 90 KiB, 32 KiB more for :regex) on the stack of the worker
 * thread, whose stack is the default 8 MiB.
 */
#include <stdlib.h>
#include <string.h>
#include <apr_strings.h>
#include <apr_lib.h>
#include <apr_file_io.h>
#include <apr_file_info.h>
#include <apr_base64.h>
#include <apr_xlate.h>

#include "herald.h"
#include "hr_module.h"
#include "sieve.h"

extern hr_module sieve_module;

#define SIEVE_KEY_BUDGET "sieve.budget"
#define SIEVE_KEY_SCRIPTS "sieve.scripts"
#define SIEVE_KEY_TRUSTED "sieve.trusted.scripts"
#define SIEVE_BUDGET_MAX 100000000          /* instructions per run */
#define SIEVE_HEADER_MAX (64 * 1024)        /* octets of header section */
#define SIEVE_HEADER_FIELDS 1000            /* header fields kept */
#define SIEVE_HEADER_NAME_MAX 256           /* octets of a field name */
#define SIEVE_ENCODED_WORD_MAX 1024         /* octets of one encoded-word */
#define SIEVE_REPLY_LINES 16                /* lines of a reject reply */

/* ------------------------------------------------------------ stages */

typedef enum {
    SIEVE_AT_CONNECT,
    SIEVE_AT_EHLO,
    SIEVE_AT_MAIL,
    SIEVE_AT_RCPT,
    SIEVE_AT_DATA,
    SIEVE_STAGES
} sieve_stage;

static const struct sieve_stage_def {
    const char *name;       /* ${env.stage}, logs */
    const char *key;        /* the setting naming its script */
    unsigned allow;         /* tests the host can answer there */
} sieve_stage_defs[SIEVE_STAGES] = {
    {"connect", "session.connect.script", SIEVE_STAGE_CONNECT},
    {"ehlo", "session.ehlo.script", SIEVE_STAGE_EHLO},
    {"mail", "session.mail.script", SIEVE_STAGE_MAIL},
    {"rcpt", "session.rcpt.script", SIEVE_STAGE_RCPT},
    {"data", "session.data.script", SIEVE_STAGE_DATA}};

/* Per configuration generation (srv->pool), read-only once built. */
typedef struct sieve_conf {
    apr_hash_t *programs[SIEVE_STAGES]; /* script name -> sieve_program */
    unsigned budget;
    const hr_lists *lists;
} sieve_conf;

/* One script of [sieve.scripts] while the configuration loads. */
typedef struct sieve_source {
    const char *name;
    const hr_value *where;  /* the value in the configuration */
    const char *path;       /* file:// path, NULL for inline text */
    const char *text;
    apr_size_t len;
    int ok;                 /* read, compiled, lists exist */
} sieve_source;

/* The header section of the message (DATA stage). */
typedef struct sieve_headers {
    apr_hash_t *fields;     /* lower-case name -> array of const char * */
} sieve_headers;

/* Per transaction: the DATA stage script and the header section seen. */
typedef struct sieve_txn {
    int selected;           /* the data script was looked up */
    const char *name;
    const sieve_program *prog;
    int capture;            /* collect the header section */
    char *buf;              /* raw header section, without the end line */
    apr_size_t len, cap;
    apr_size_t line_len;    /* octets on the current line, CR excluded */
    int done;               /* the empty line was seen, or the cap hit */
    int truncated;          /* SIEVE_HEADER_MAX was reached */
} sieve_txn;

/* What the host callbacks know during one run. */
typedef struct sieve_call {
    hr_session *s;
    hr_txn *txn;
    hr_rcpt *rcpt;          /* RCPT: the recipient; DATA: the first */
    const char *helo;       /* EHLO stage: the name being offered */
    sieve_stage stage;
    const sieve_conf *conf;
    const sieve_headers *headers;
    char local_port[8];
    char remote_port[8];
} sieve_call;

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

static int sieve_post_config(hr_server *srv, apr_pool_t *ptemp,
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

/* ------------------------------------------------ host: environment */

enum {
    SIEVE_ENV_HELO, SIEVE_ENV_REMOTE_IP, SIEVE_ENV_REMOTE_PORT,
    SIEVE_ENV_LOCAL_IP, SIEVE_ENV_LOCAL_PORT, SIEVE_ENV_LISTENER,
    SIEVE_ENV_AUTH, SIEVE_ENV_TLS, SIEVE_ENV_TLS_VERSION,
    SIEVE_ENV_TLS_CIPHER, SIEVE_ENV_SENDER, SIEVE_ENV_SENDER_DOMAIN,
    SIEVE_ENV_RCPT, SIEVE_ENV_RCPT_DOMAIN, SIEVE_ENV_STAGE,
    SIEVE_ENV_HOST, SIEVE_ENV_LOCATION, SIEVE_ENV_NAME, SIEVE_ENV_PHASE,
    SIEVE_ENV_VERSION
};

/* ${env.NAME} names (lower case) and RFC 5183 §4.1 environment items. */
static const struct {
    const char *name;
    int id;
} sieve_env_names[] = {
    {"helo_domain", SIEVE_ENV_HELO},
    {"remote_ip", SIEVE_ENV_REMOTE_IP},
    {"remote-ip", SIEVE_ENV_REMOTE_IP},
    {"remote_port", SIEVE_ENV_REMOTE_PORT},
    {"local_ip", SIEVE_ENV_LOCAL_IP},
    {"local_port", SIEVE_ENV_LOCAL_PORT},
    {"listener", SIEVE_ENV_LISTENER},
    {"authenticated_as", SIEVE_ENV_AUTH},
    {"tls", SIEVE_ENV_TLS},
    {"tls_version", SIEVE_ENV_TLS_VERSION},
    {"tls_cipher", SIEVE_ENV_TLS_CIPHER},
    {"sender", SIEVE_ENV_SENDER},
    {"sender_domain", SIEVE_ENV_SENDER_DOMAIN},
    {"rcpt", SIEVE_ENV_RCPT},
    {"rcpt_domain", SIEVE_ENV_RCPT_DOMAIN},
    {"stage", SIEVE_ENV_STAGE},
    {"domain", SIEVE_ENV_HOST},
    {"host", SIEVE_ENV_HOST},
    {"location", SIEVE_ENV_LOCATION},
    {"name", SIEVE_ENV_NAME},
    {"phase", SIEVE_ENV_PHASE},
    {"version", SIEVE_ENV_VERSION},
    {NULL, 0}};

static const char *sieve_host_env(void *ctx, const char *name)
{
    sieve_call *call = ctx;
    hr_session *s = call->s;
    int i;

    for (i = 0; sieve_env_names[i].name; i++) {
        if (strcasecmp(sieve_env_names[i].name, name) == 0) {
            break;
        }
    }
    switch (sieve_env_names[i].name ? sieve_env_names[i].id : -1) {
    case SIEVE_ENV_HELO:
        /* the core records the name only after the helo hook said OK */
        if (call->helo != NULL) {
            return call->helo;
        }
        return s->helo_domain ? s->helo_domain : "";
    case SIEVE_ENV_REMOTE_IP:
        return s->remote_ip ? s->remote_ip : "";
    case SIEVE_ENV_REMOTE_PORT:
        apr_snprintf(call->remote_port, sizeof(call->remote_port), "%u",
                     (unsigned)s->remote_port);
        return call->remote_port;
    case SIEVE_ENV_LOCAL_IP:
        return s->local_ip ? s->local_ip : "";
    case SIEVE_ENV_LOCAL_PORT:
        apr_snprintf(call->local_port, sizeof(call->local_port), "%u",
                     (unsigned)s->local_port);
        return call->local_port;
    case SIEVE_ENV_LISTENER:
        return s->listener->id;
    case SIEVE_ENV_AUTH:
        return s->authenticated_as ? s->authenticated_as : "";
    case SIEVE_ENV_TLS:
        return s->is_tls ? "true" : "false";
    case SIEVE_ENV_TLS_VERSION:
        return s->is_tls && s->tls_version ? s->tls_version : "";
    case SIEVE_ENV_TLS_CIPHER:
        return s->is_tls && s->tls_cipher ? s->tls_cipher : "";
    case SIEVE_ENV_SENDER:
        return call->txn ? call->txn->sender : "";
    case SIEVE_ENV_SENDER_DOMAIN:
        return call->txn && call->txn->sender_domain
                   ? call->txn->sender_domain : "";
    case SIEVE_ENV_RCPT:
        return call->rcpt ? call->rcpt->address : "";
    case SIEVE_ENV_RCPT_DOMAIN:
        return call->rcpt ? call->rcpt->domain : "";
    case SIEVE_ENV_STAGE:
        return sieve_stage_defs[call->stage].name;
    case SIEVE_ENV_HOST:
        return s->listener->hostname;
    case SIEVE_ENV_LOCATION:
        return "MTA";
    case SIEVE_ENV_NAME:
        return "Herald";
    case SIEVE_ENV_PHASE:
        return "pre";
    case SIEVE_ENV_VERSION:
        return HERALD_VERSION;
    default:
        return NULL;   /* unknown, or remote-host: not available */
    }
}

/* ------------------------------------------- host: lists, envelope */

/* "list/<name>" -> the [list] key, NULL for any other naming. */
static const char *sieve_list_key(const sieve_call *call, const char *list)
{
    if (strncmp(list, "list/", 5) != 0 ||
        !hr_lists_exists(call->conf->lists, list + 5)) {
        return NULL;
    }
    return list + 5;
}

static int sieve_host_list_contains(void *ctx, const char *list,
                                    const char *value, apr_size_t len,
                                    int casefold)
{
    sieve_call *call = ctx;
    const char *key = sieve_list_key(call, list);

    if (key == NULL) {
        return -1;
    }
    if (strlen(value) != len) {
        return 0;   /* a NUL inside: no list entry holds one */
    }
    return hr_lists_contains(call->conf->lists, key, value, casefold) ? 1
                                                                       : 0;
}

static int sieve_host_list_exists(void *ctx, const char *list)
{
    return sieve_list_key(ctx, list) != NULL;
}

/* RFC 5228 §5.4: "from" is the reverse-path, "to" the forward-paths. */
static const char *sieve_host_envelope(void *ctx, const char *part,
                                       unsigned index)
{
    sieve_call *call = ctx;
    hr_txn *txn = call->txn;

    if (txn == NULL) {
        return NULL;
    }
    if (strcmp(part, "from") == 0) {
        return index == 0 ? txn->sender : NULL;
    }
    if (strcmp(part, "to") == 0) {
        if (call->stage == SIEVE_AT_RCPT) {
            return index == 0 && call->rcpt ? call->rcpt->address : NULL;
        }
        if (call->stage == SIEVE_AT_DATA &&
            index < (unsigned)txn->rcpts->nelts) {
            return APR_ARRAY_IDX(txn->rcpts, index, hr_rcpt *)->address;
        }
        return NULL;
    }
    return NULL;
}

static apr_off_t sieve_host_size(void *ctx)
{
    sieve_call *call = ctx;

    return call->stage == SIEVE_AT_DATA && call->txn ? call->txn->size : -1;
}

/* --------------------------------------------- host: header section */

static const char *sieve_host_header(void *ctx, const char *name,
                                     unsigned index)
{
    sieve_call *call = ctx;
    char lower[SIEVE_HEADER_NAME_MAX + 1];
    apr_array_header_t *values;
    apr_size_t i;

    if (call->headers == NULL) {
        return NULL;
    }
    for (i = 0; name[i] != '\0'; i++) {
        if (i == SIEVE_HEADER_NAME_MAX) {
            return NULL;
        }
        lower[i] = (char)apr_tolower(name[i]);
    }
    lower[i] = '\0';
    values = apr_hash_get(call->headers->fields, lower, (apr_ssize_t)i);
    if (values == NULL || index >= (unsigned)values->nelts) {
        return NULL;
    }
    return APR_ARRAY_IDX(values, index, const char *);
}

/* Collect the header section from the body stream (bounded). */
static void sieve_capture(sieve_txn *st, apr_pool_t *p, const char *data,
                          apr_size_t len)
{
    apr_size_t i;

    for (i = 0; i < len && !st->done; i++) {
        char ch = data[i];

        if (ch == '\n') {
            if (st->line_len == 0) {
                st->done = 1;     /* RFC 5322 §2.1: the empty line */
                break;
            }
            st->line_len = 0;
        }
        else if (ch != '\r') {
            st->line_len++;
        }
        if (st->len == st->cap) {
            char *bigger;

            if (st->cap == SIEVE_HEADER_MAX) {
                st->truncated = 1;
                st->done = 1;
                break;
            }
            st->cap = st->cap ? st->cap * 2 : 8192;
            if (st->cap > SIEVE_HEADER_MAX) {
                st->cap = SIEVE_HEADER_MAX;
            }
            bigger = apr_palloc(p, st->cap);
            if (st->len) {
                memcpy(bigger, st->buf, st->len);
            }
            st->buf = bigger;
        }
        st->buf[st->len++] = ch;
    }
}

/* Decode the text of one encoded-word (B or Q, RFC 2047 §4) into @out;
 * returns the octet count, or -1. */
static apr_ssize_t sieve_decode_text(apr_pool_t *p, char enc, const char *t,
                                     apr_size_t tlen, char *out)
{
    apr_size_t i, n = 0;

    if (enc == 'B') {
        /* @out has room for tlen octets: base64 only shrinks */
        char *b64 = apr_pstrmemdup(p, t, tlen);
        int got = apr_base64_decode_binary((unsigned char *)out, b64);

        return got < 0 ? -1 : got;
    }
    for (i = 0; i < tlen; i++) {
        /* §4.2: "_" is a space, "=XX" an octet in hex */
        if (t[i] == '_') {
            out[n++] = ' ';
        }
        else if (t[i] == '=') {
            char hex[3];

            if (i + 2 >= tlen || !apr_isxdigit(t[i + 1]) ||
                !apr_isxdigit(t[i + 2])) {
                return -1;
            }
            hex[0] = t[i + 1];
            hex[1] = t[i + 2];
            hex[2] = '\0';
            out[n++] = (char)strtol(hex, NULL, 16);
            i += 2;
        }
        else {
            out[n++] = t[i];
        }
    }
    return (apr_ssize_t)n;
}

/*
 * Recognise the encoded-word at @s ("=?charset?B?text?=", RFC 2047 §2)
 * and append its text in UTF-8 to @out (which holds @cap octets).
 * Returns the octets consumed, or 0 when @s does not start a well-formed,
 * decodable word.  In an address field (@in_address) a word whose text
 * holds address syntax stays encoded: RFC 2047 §5 allows encoded-words
 * in phrases only, and "=?utf-8?q?boss=40bad.example?= <a@b.example>"
 * must not turn into a second address for the address test.
 */
static apr_size_t sieve_encoded_word(apr_pool_t *p, const char *s,
                                     apr_size_t avail, char *out,
                                     apr_size_t *outlen, apr_size_t cap,
                                     int in_address)
{
    const char *end = s + (avail < SIEVE_ENCODED_WORD_MAX
                               ? avail : SIEVE_ENCODED_WORD_MAX);
    const char *cs = s + 2, *q, *text, *stop;
    char *charset, *star, enc, *raw;
    apr_ssize_t rawlen;

    if (avail < 8 || s[0] != '=' || s[1] != '?') {
        return 0;
    }
    for (q = cs; q < end && *q != '?' && *q > ' ' && *q < 0x7f; q++) {
    }
    if (q == cs || q + 3 >= end || *q != '?' || q[2] != '?') {
        return 0;
    }
    enc = (char)apr_toupper(q[1]);
    if (enc != 'B' && enc != 'Q') {
        return 0;
    }
    text = q + 3;
    for (stop = text; stop + 1 < end && !(stop[0] == '?' && stop[1] == '=');
         stop++) {
        if (*stop <= ' ' || *stop >= 0x7f) {
            return 0;   /* §5: no white space inside an encoded-word */
        }
    }
    if (stop + 1 >= end) {
        return 0;
    }
    charset = apr_pstrmemdup(p, cs, q - cs);
    star = strchr(charset, '*');   /* RFC 2231 §5: charset*language */
    if (star != NULL) {
        *star = '\0';
    }
    raw = apr_palloc(p, (apr_size_t)(stop - text) + 4);
    rawlen = sieve_decode_text(p, enc, text, stop - text, raw);
    if (rawlen < 0) {
        return 0;
    }
    if (in_address) {
        apr_ssize_t k;

        for (k = 0; k < rawlen; k++) {
            if (raw[k] != '\0' && strchr("<>@,;:\"()[]\\", raw[k])) {
                return 0;
            }
        }
    }
    if (strcasecmp(charset, "utf-8") == 0 ||
        strcasecmp(charset, "us-ascii") == 0) {
        if ((apr_size_t)rawlen > cap - *outlen) {
            return 0;
        }
        memcpy(out + *outlen, raw, rawlen);
        *outlen += rawlen;
    }
    else {
        /* anything else through iconv; a charset it does not know
         * leaves the word undecoded */
        apr_xlate_t *x;
        apr_size_t inleft = (apr_size_t)rawlen;
        apr_size_t outleft = (apr_size_t)rawlen * 4 + 4;
        char *conv = apr_palloc(p, outleft);
        apr_size_t room = outleft;

        if (apr_xlate_open(&x, "UTF-8", charset, p) != APR_SUCCESS) {
            return 0;
        }
        if (apr_xlate_conv_buffer(x, raw, &inleft, conv, &outleft)
                != APR_SUCCESS || inleft != 0) {
            apr_xlate_close(x);
            return 0;
        }
        apr_xlate_close(x);
        if (room - outleft > cap - *outlen) {
            return 0;
        }
        memcpy(out + *outlen, conv, room - outleft);
        *outlen += room - outleft;
    }
    return (apr_size_t)(stop + 2 - s);
}

/*
 * A header value as Sieve compares it (RFC 5228 §2.7.2): unfolded (the
 * CRLFs of continuation lines removed, RFC 5322 §2.2.3), encoded-words
 * decoded with the white space between two adjacent ones dropped (RFC
 * 2047 §6.2), and every control but HT turned into a space so that no
 * value can end a reply line.
 */
static const char *sieve_header_value(apr_pool_t *p, const char *raw,
                                      apr_size_t len, int in_address)
{
    /* a decoded word is at most 3 times as long as its encoded form
     * (UTF-8 from a single-octet charset); 4 leaves room */
    apr_size_t cap = len * 4;
    char *out = apr_palloc(p, cap + 1);
    apr_size_t i = 0, n = 0, pending = 0, ws_at = 0;
    int after_word = 0;

    while (i < len) {
        char ch = raw[i];
        apr_size_t used;

        if (ch == '\r' || ch == '\n') {
            i++;
            continue;
        }
        if (ch == ' ' || ch == '\t') {
            if (pending == 0) {
                ws_at = n;
            }
            if (n < cap) {
                out[n++] = ch;
            }
            pending++;
            i++;
            continue;
        }
        if (ch == '=' && i + 1 < len && raw[i + 1] == '?') {
            apr_size_t mark = n;

            if (after_word && pending > 0) {
                n = ws_at;   /* drop the space between two words */
            }
            used = sieve_encoded_word(p, raw + i, len - i, out, &n, cap,
                                      in_address);
            if (used > 0) {
                i += used;
                pending = 0;
                after_word = 1;
                continue;
            }
            n = mark;
        }
        if (n < cap) {
            out[n++] = ch;
        }
        pending = 0;
        after_word = 0;
        i++;
    }
    for (i = 0; i < n; i++) {
        unsigned char c = (unsigned char)out[i];

        if ((c < 0x20 && c != '\t') || c == 0x7f) {
            out[i] = ' ';
        }
    }
    out[n] = '\0';
    return out;
}

/* Fields that hold addresses (RFC 5322 §3.6.2, §3.6.3, §3.6.6). */
static int sieve_address_field(const char *lower)
{
    static const char *const names[] = {
        "from", "sender", "reply-to", "to", "cc", "bcc", "resent-from",
        "resent-sender", "resent-to", "resent-cc", "resent-bcc", NULL};
    int i;

    for (i = 0; names[i]; i++) {
        if (strcmp(lower, names[i]) == 0) {
            return 1;
        }
    }
    return 0;
}

/* Split the captured header section into fields (RFC 5322 §2.2). */
static sieve_headers *sieve_parse_headers(apr_pool_t *p, const sieve_txn *st)
{
    sieve_headers *h = apr_pcalloc(p, sizeof(*h));
    const char *buf = st->buf, *end = st->buf + st->len;
    const char *line = buf;
    const char *name = NULL, *value = NULL;
    apr_size_t name_len = 0;
    int fields = 0;

    h->fields = apr_hash_make(p);
    if (st->len == 0) {
        return h;   /* an empty message */
    }
    if (st->truncated) {
        /* the line cut by the limit is not a whole field */
        while (end > buf && end[-1] != '\n') {
            end--;
        }
    }
    for (;;) {
        const char *lf = line < end ? memchr(line, '\n', end - line) : NULL;
        const char *next = lf ? lf + 1 : end;
        int continuation = line < end && (*line == ' ' || *line == '\t');

        if (name != NULL && !continuation) {
            /* the field ends here: store it */
            apr_array_header_t *values;
            char *key = apr_pstrmemdup(p, name, name_len);
            apr_size_t k;

            for (k = 0; k < name_len; k++) {
                key[k] = (char)apr_tolower(key[k]);
            }
            values = apr_hash_get(h->fields, key, (apr_ssize_t)name_len);
            if (values == NULL) {
                values = apr_array_make(p, 1, sizeof(const char *));
                apr_hash_set(h->fields, key, (apr_ssize_t)name_len, values);
            }
            APR_ARRAY_PUSH(values, const char *) =
                sieve_header_value(p, value, line - value,
                                   sieve_address_field(key));
            name = NULL;
            if (++fields == SIEVE_HEADER_FIELDS) {
                break;
            }
        }
        if (line >= end) {
            break;
        }
        if (!continuation) {
            /* field-name = 1*ftext ":" (printable, no colon); white space
             * before the colon is the obsolete syntax of §4.5 */
            const char *c = line;

            while (c < next && *c > ' ' && *c < 0x7f && *c != ':') {
                c++;
            }
            name_len = c - line;
            while (c < next && (*c == ' ' || *c == '\t')) {
                c++;
            }
            if (name_len > 0 && name_len <= SIEVE_HEADER_NAME_MAX &&
                c < next && *c == ':') {
                name = line;
                value = c + 1;
            }
        }
        line = next;
    }
    return h;
}

static const sieve_host sieve_host_callbacks = {
    sieve_host_env,
    sieve_host_list_contains,
    sieve_host_list_exists,
    sieve_host_envelope,
    sieve_host_header,
    sieve_host_size};

/* ------------------------------------------------------- running */

/* Variables of the stage keys' rule tables at this call. */
static const char *sieve_var(void *ctx, hr_var v)
{
    sieve_call *call = ctx;

    switch (v) {
    case HR_VAR_HELO_DOMAIN:
        if (call->helo != NULL) {
            return call->helo;
        }
        break;
    case HR_VAR_RCPT:
        if (call->stage == SIEVE_AT_DATA) {
            return call->rcpt ? call->rcpt->address : "";
        }
        break;
    case HR_VAR_RCPT_DOMAIN:
        if (call->stage == SIEVE_AT_DATA) {
            return call->rcpt ? call->rcpt->domain : "";
        }
        break;
    default:
        break;
    }
    return hr_session_var(call->s, v);
}

/* The script this stage runs for this session, or NULL. */
static const sieve_program *sieve_select(sieve_call *call,
                                         const char **name)
{
    hr_server *srv = call->s->server;
    const hr_expr *e = hr_setting(srv, sieve_stage_defs[call->stage].key);
    const sieve_program *prog;
    const hr_value *v;

    call->conf = hr_module_config(srv, &sieve_module);
    if (call->conf == NULL || e == NULL) {
        return NULL;
    }
    v = hr_expr_eval(e, sieve_var, call);
    if (v->type != HR_VAL_STRING || v->u.s[0] == '\0') {
        return NULL;
    }
    *name = v->u.s;
    prog = apr_hash_get(call->conf->programs[call->stage], v->u.s,
                        APR_HASH_KEY_STRING);
    if (prog == NULL) {
        /* cannot happen: every name a rule can give was compiled */
        hr_log_session(call->s, HR_LOG_ERR, "sieve: no compiled script "
                       "'%s' for the %s stage", v->u.s,
                       sieve_stage_defs[call->stage].name);
    }
    return prog;
}

/* Is @s (@len octets) an enhanced status code "C.S.D" (RFC 3463 §2:
 * class 2, 4 or 5, subject and detail of 1 to 3 digits)? */
static int sieve_enhanced_code(const char *s, apr_size_t len)
{
    apr_size_t i = 2, digits;
    int part;

    if (len < 5 || (s[0] != '2' && s[0] != '4' && s[0] != '5') ||
        s[1] != '.') {
        return 0;
    }
    for (part = 0; part < 2; part++) {
        for (digits = 0; i < len && apr_isdigit(s[i]); i++) {
            digits++;
        }
        if (digits < 1 || digits > 3) {
            return 0;
        }
        if (part == 0) {
            if (i >= len || s[i] != '.') {
                return 0;
            }
            i++;
        }
    }
    return i == len;
}

/*
 * Queue the reply of reject/ereject (RFC 5429 §2.1.1: at SMTP time the
 * refusal is the protocol reply).  Returns the SMTP code used.
 */
static int sieve_reject_reply(hr_session *s, const char *reason,
                              int dflt_code, const char *prefix)
{
    char esc[16];
    const char *text = reason;
    int code = dflt_code, lines = 1;
    const char *enhanced = "5.7.1";
    char *out, *o;
    apr_size_t n;

    /* "550 5.7.1 text" or "451 text": the reply as written */
    if ((text[0] == '4' || text[0] == '5') && text[1] >= '0' &&
        text[1] <= '5' && apr_isdigit(text[2]) &&
        (text[3] == ' ' || text[3] == '\0' || text[3] == '\r' ||
         text[3] == '\n')) {
        char class = text[0];

        code = (text[0] - '0') * 100 + (text[1] - '0') * 10 + text[2] - '0';
        text += 3;
        while (*text == ' ') {
            text++;
        }
        n = strcspn(text, " \r\n");
        if (sieve_enhanced_code(text, n)) {
            /* RFC 3463 §2: the class must be the reply's */
            apr_snprintf(esc, sizeof(esc), "%c%.*s", class, (int)n - 1,
                         text + 1);
            text += n;
            while (*text == ' ') {
                text++;
            }
        }
        else {
            apr_snprintf(esc, sizeof(esc), "%c.0.0", class);
        }
        enhanced = esc;
    }
    /* one reply line per line of the reason; CRs and empty lines out */
    out = apr_palloc(s->pool, strlen(text) + 1);
    for (o = out; *text != '\0'; text++) {
        if (*text == '\r') {
            continue;
        }
        if (*text == '\n') {
            if (o > out && o[-1] != '\n') {
                *o++ = lines < SIEVE_REPLY_LINES ? '\n' : ' ';
                lines++;
            }
            continue;
        }
        *o++ = *text;
    }
    while (o > out && o[-1] == '\n') {
        o--;
    }
    *o = '\0';
    if (*out == '\0') {
        out = "Rejected by local policy";
    }
    if (prefix != NULL) {
        hr_reply(s, code, enhanced, "%s %s", prefix, out);
    }
    else {
        hr_reply(s, code, enhanced, "%s", out);
    }
    return code;
}

/*
 * Run @prog and enforce its outcome at this stage.  Returns the hook's
 * answer: HR_OK to go on, HR_DENY after a refusal was queued,
 * HR_DISCONNECT for a 421.
 */
static int sieve_execute(sieve_call *call, const char *name,
                         const sieve_program *prog)
{
    hr_session *s = call->s;
    const char *stage = sieve_stage_defs[call->stage].name;
    sieve_result res;
    int code = 0, i, n;

    sieve_run(prog, &sieve_host_callbacks, call, call->conf->budget, &res);
    if (res.status == SIEVE_EBUDGET) {
        hr_log_session(s, HR_LOG_WARNING, "sieve: script '%s' (%s stage) "
                       "ran out of its budget of %u instructions; implicit "
                       "keep", name, stage, call->conf->budget);
        return HR_OK;
    }
    if (res.status == SIEVE_ERUNTIME) {
        hr_log_session(s, HR_LOG_WARNING, "sieve: script '%s' (%s stage) "
                       "line %d: %s; implicit keep", name, stage,
                       res.error_line,
                       hr_log_escape(s->pool, res.error, 256));
        return HR_OK;
    }
    switch (res.action) {
    case SIEVE_REJECT:
    case SIEVE_EREJECT:
        hr_log_session(s, HR_LOG_INFO, "sieve: script '%s' (%s stage): %s "
                       "\"%s\"", name, stage,
                       res.action == SIEVE_REJECT ? "reject" : "ereject",
                       hr_log_escape(s->pool, res.reject_text, 256));
        n = call->stage == SIEVE_AT_DATA && s->listener->lmtp
                ? call->txn->rcpts->nelts : 1;
        for (i = 0; i < n; i++) {
            /* RFC 2033 §4.2: LMTP answers the DATA once per recipient */
            const char *who = NULL;

            if (call->stage == SIEVE_AT_DATA && s->listener->lmtp) {
                who = apr_psprintf(s->pool, "<%s>",
                                   APR_ARRAY_IDX(call->txn->rcpts, i,
                                                 hr_rcpt *)->address);
            }
            code = sieve_reject_reply(s, res.reject_text,
                                      call->stage == SIEVE_AT_CONNECT ? 554
                                                                      : 550,
                                      who);
        }
        /* RFC 5321 §3.8: 421 means the server closes the channel */
        return code == 421 ? HR_DISCONNECT : HR_DENY;
    case SIEVE_DISCARD:
        if (call->stage != SIEVE_AT_DATA) {
            hr_log_session(s, HR_LOG_INFO, "sieve: script '%s' (%s stage): "
                           "discard has no message to drop before DATA; "
                           "keep", name, stage);
            return HR_OK;
        }
        /* RFC 5228 §4.5: silently thrown away.  DENY keeps the core from
         * queueing it; the 250 is the script's own decision. */
        hr_log_session(s, HR_LOG_NOTICE, "sieve: script '%s' (%s stage): "
                       "message from <%s> discarded, not queued", name,
                       stage, hr_log_escape(s->pool, call->txn->sender, 256));
        n = s->listener->lmtp ? call->txn->rcpts->nelts : 1;
        for (i = 0; i < n; i++) {
            if (s->listener->lmtp) {
                hr_reply(s, 250, "2.0.0", "<%s> Message accepted",
                         APR_ARRAY_IDX(call->txn->rcpts, i,
                                       hr_rcpt *)->address);
            }
            else {
                hr_reply(s, 250, "2.0.0", "Message accepted");
            }
        }
        return HR_DENY;
    case SIEVE_KEEP:
    default:
        hr_log_session(s, HR_LOG_DEBUG, "sieve: script '%s' (%s stage): "
                       "keep (%u steps)", name, stage, res.steps);
        return HR_OK;
    }
}

/* Run the script of @call's stage, if the session has one. */
static int sieve_stage_run(sieve_call *call)
{
    const char *name = NULL;
    const sieve_program *prog = sieve_select(call, &name);

    return prog ? sieve_execute(call, name, prog) : HR_OK;
}

static void sieve_call_init(sieve_call *call, hr_session *s, hr_txn *txn,
                            sieve_stage stage)
{
    memset(call, 0, sizeof(*call));
    call->s = s;
    call->txn = txn;
    call->stage = stage;
}

/* ------------------------------------------------------------ hooks */

static int sieve_connect(hr_session *s)
{
    sieve_call call;

    sieve_call_init(&call, s, NULL, SIEVE_AT_CONNECT);
    return sieve_stage_run(&call);
}

/*
 * helo hook: the name is not recorded yet (the core does that when every
 * helo hook said OK), so the script sees @domain as env.helo_domain.
 */
static int sieve_helo(hr_session *s, const char *verb, const char *domain)
{
    sieve_call call;

    sieve_call_init(&call, s, NULL, SIEVE_AT_EHLO);
    call.helo = domain;
    return sieve_stage_run(&call);
}

static int sieve_mail(hr_session *s, hr_txn *txn)
{
    sieve_call call;

    sieve_call_init(&call, s, txn, SIEVE_AT_MAIL);
    return sieve_stage_run(&call);
}

static int sieve_rcpt_check(hr_session *s, hr_txn *txn, hr_rcpt *rcpt)
{
    sieve_call call;

    sieve_call_init(&call, s, txn, SIEVE_AT_RCPT);
    call.rcpt = rcpt;
    return sieve_stage_run(&call);
}

/* The DATA stage's state: its script is chosen at the first body octets
 * (or at the end for an empty body) and decides what is collected. */
static sieve_txn *sieve_txn_get(hr_session *s, hr_txn *txn)
{
    sieve_txn *st = hr_txn_state(txn, &sieve_module);
    sieve_call call;

    if (st != NULL) {
        return st;
    }
    st = apr_pcalloc(txn->pool, sizeof(*st));
    hr_txn_state(txn, &sieve_module) = st;
    sieve_call_init(&call, s, txn, SIEVE_AT_DATA);
    if (txn->rcpts->nelts > 0) {
        call.rcpt = APR_ARRAY_IDX(txn->rcpts, 0, hr_rcpt *);
    }
    st->prog = sieve_select(&call, &st->name);
    st->capture = st->prog != NULL &&
                  (sieve_program_needs(st->prog) & SIEVE_ALLOW_HEADERS);
    st->selected = 1;
    return st;
}

static int sieve_body(hr_session *s, hr_txn *txn, const char *data,
                      apr_size_t len)
{
    sieve_txn *st = sieve_txn_get(s, txn);

    if (st->capture && !st->done) {
        sieve_capture(st, txn->pool, data, len);
    }
    return HR_OK;
}

static int sieve_data_end(hr_session *s, hr_txn *txn)
{
    sieve_txn *st = sieve_txn_get(s, txn);
    sieve_call call;

    if (st->prog == NULL) {
        return HR_OK;
    }
    sieve_call_init(&call, s, txn, SIEVE_AT_DATA);
    call.conf = hr_module_config(s->server, &sieve_module);
    if (txn->rcpts->nelts > 0) {
        call.rcpt = APR_ARRAY_IDX(txn->rcpts, 0, hr_rcpt *);
    }
    if (st->capture) {
        if (st->truncated) {
            hr_log_session(s, HR_LOG_INFO, "sieve: header section longer "
                           "than %d octets; the script sees its start",
                           SIEVE_HEADER_MAX);
        }
        call.headers = sieve_parse_headers(txn->pool, st);
    }
    return sieve_execute(&call, st->name, st->prog);
}

static void sieve_register_hooks(apr_pool_t *p)
{
    /* mod_ehlo's checks (syntax policy, FQDN) come before any script */
    static const char *const after_ehlo[] = {"mod_ehlo", NULL};

    hr_hook_connect(sieve_connect, NULL, NULL, APR_HOOK_MIDDLE);
    hr_hook_helo(sieve_helo, after_ehlo, NULL, APR_HOOK_MIDDLE);
    hr_hook_mail(sieve_mail, after_ehlo, NULL, APR_HOOK_MIDDLE);
    hr_hook_rcpt_check(sieve_rcpt_check, NULL, NULL, APR_HOOK_MIDDLE);
    hr_hook_body(sieve_body, NULL, NULL, APR_HOOK_MIDDLE);
    hr_hook_data_end(sieve_data_end, NULL, NULL, APR_HOOK_MIDDLE);
}

static const hr_config_key sieve_keys[] = {
    {"session.connect.script", HR_KEY_STRING, HR_KEY_EXPR | HR_KEY_OPTIONAL,
     NULL, HR_VARS_CONNECT, "Sieve script run when a client connects"},
    {"session.ehlo.script", HR_KEY_STRING, HR_KEY_EXPR | HR_KEY_OPTIONAL,
     NULL, HR_VARS_EHLO, "Sieve script run at HELO/EHLO/LHLO"},
    {"session.mail.script", HR_KEY_STRING, HR_KEY_EXPR | HR_KEY_OPTIONAL,
     NULL, HR_VARS_MAIL, "Sieve script run at MAIL FROM"},
    {"session.rcpt.script", HR_KEY_STRING, HR_KEY_EXPR | HR_KEY_OPTIONAL,
     NULL, HR_VARS_RCPT, "Sieve script run for each RCPT TO"},
    {"session.data.script", HR_KEY_STRING, HR_KEY_EXPR | HR_KEY_OPTIONAL,
     NULL, HR_VARS_RCPT, "Sieve script run at the end of the message"},
    {SIEVE_KEY_SCRIPTS, HR_KEY_ANY, HR_KEY_SUBTREE, NULL, 0,
     "Sieve scripts: name = text or \"file://path\""},
    {SIEVE_KEY_TRUSTED, HR_KEY_ANY, HR_KEY_SUBTREE, NULL, 0,
     "alias of sieve.scripts"},
    {SIEVE_KEY_BUDGET, HR_KEY_INTEGER, 0, "100000", 0,
     "instructions one script run may spend (then: implicit keep)"},
    {NULL}};

HR_MODULE(sieve) = {HR_MODULE_STUFF, "mod_sieve", sieve_keys, NULL,
                    sieve_post_config, sieve_register_hooks};
