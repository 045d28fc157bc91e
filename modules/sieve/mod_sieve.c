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
 *
 * The code: mod_sieve.c (this file: module record, keys, the stage
 * hooks), mod_sieve_load.c (loading the scripts), mod_sieve_host.c (what
 * a script sees, what its outcome does), mod_sieve_headers.c (the header
 * section); mod_sieve.h says what they share.
 */
#include <string.h>

#include "mod_sieve.h"

/* ------------------------------------------------------------ stages */

const struct sieve_stage_def sieve_stage_defs[SIEVE_STAGES] = {
    {"connect", "session.connect.script", SIEVE_STAGE_CONNECT},
    {"ehlo", "session.ehlo.script", SIEVE_STAGE_EHLO},
    {"mail", "session.mail.script", SIEVE_STAGE_MAIL},
    {"rcpt", "session.rcpt.script", SIEVE_STAGE_RCPT},
    {"data", "session.data.script", SIEVE_STAGE_DATA}};

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
