/*
 * mod_test_hooks.c -- a test-only module that exercises every hook and
 * every kind of declaration a module can make.  Not installed.
 *
 *     [server.modules]
 *     load = ["mod_test_hooks"]
 *     [test-hooks]
 *     log = "/tmp/hooks.log"          # one line per hook call
 *     deny-helo = "evil.example"      # helo hook refuses this name
 *     accept-domain = "hooks.example" # rcpt hook accepts this domain
 *     deny-rcpt = "nobody@hooks.example" # rcpt_check refuses it
 *
 * It advertises XTEST, owns the MAIL parameter XTEST=<value> (stored as
 * the envelope field "test.xtest") and the verb XECHO, which echoes its
 * argument.  The integration suite reads the log to check that each hook
 * ran, in order, with the right arguments.
 */
#include <stdio.h>
#include <string.h>
#include <apr_strings.h>
#include <apr_file_io.h>

#include "herald.h"
#include "hr_module.h"

extern hr_module test_hooks_module;

static const char *setting(hr_server *srv, const char *path)
{
    const hr_expr *e = hr_setting(srv, path);
    const hr_value *v = e ? hr_expr_eval(e, NULL, NULL) : NULL;
    return v && v->type == HR_VAL_STRING ? v->u.s : "";
}

/* Append one line to the log file (O_APPEND: whole lines, any thread). */
static void note(hr_session *s, const char *fmt, ...)
{
    const char *path = setting(s->server, "test-hooks.log");
    char line[512];
    apr_file_t *f;
    apr_pool_t *p;
    va_list ap;

    if (*path == '\0') {
        return;
    }
    va_start(ap, fmt);
    vsnprintf(line, sizeof(line) - 1, fmt, ap);
    va_end(ap);
    strcat(line, "\n");
    apr_pool_create(&p, NULL);
    if (apr_file_open(&f, path, APR_FOPEN_WRITE | APR_FOPEN_CREATE |
                      APR_FOPEN_APPEND, APR_FPROT_OS_DEFAULT, p)
        == APR_SUCCESS) {
        apr_file_write_full(f, line, strlen(line), NULL);
        apr_file_close(f);
    }
    apr_pool_destroy(p);
}

static int th_connect(hr_session *s)
{
    note(s, "connect %s %s", s->listener->id, s->remote_ip);
    return HR_OK;
}

static int th_helo(hr_session *s, const char *verb, const char *domain)
{
    note(s, "helo %s %s", verb, domain);
    if (strcasecmp(domain, setting(s->server, "test-hooks.deny-helo")) == 0) {
        hr_reply(s, 550, "5.7.1", "test-hooks refuses %s", domain);
        return HR_DENY;
    }
    return HR_OK;
}

static int th_capabilities(hr_session *s)
{
    note(s, "capabilities");
    hr_capability_add(s, "XHOOKS");
    return HR_OK;
}

static int th_mail(hr_session *s, hr_txn *t)
{
    note(s, "mail <%s>", t->sender);
    return HR_OK;
}

static int th_rcpt(hr_session *s, hr_txn *t, hr_rcpt *r)
{
    note(s, "rcpt <%s>", r->address);
    if (strcasecmp(r->domain, setting(s->server, "test-hooks.accept-domain"))
        == 0) {
        return HR_OK;
    }
    return HR_DECLINED;
}

static int th_rcpt_check(hr_session *s, hr_txn *t, hr_rcpt *r)
{
    note(s, "rcpt_check <%s>", r->address);
    if (strcasecmp(r->address, setting(s->server, "test-hooks.deny-rcpt"))
        == 0) {
        hr_reply(s, 550, "5.1.1", "test-hooks refuses <%s>", r->address);
        return HR_DENY;
    }
    return HR_OK;
}

static int th_data(hr_session *s, hr_txn *t)
{
    note(s, "data %d", t->rcpts->nelts);
    return HR_OK;
}

static int th_body(hr_session *s, hr_txn *t, const char *data,
                   apr_size_t len)
{
    apr_size_t *seen = hr_txn_state(t, &test_hooks_module);
    if (seen == NULL) {
        seen = apr_pcalloc(t->pool, sizeof(*seen));
        hr_txn_state(t, &test_hooks_module) = seen;
    }
    *seen += len;
    return HR_OK;
}

static int th_data_end(hr_session *s, hr_txn *t)
{
    apr_size_t *seen = hr_txn_state(t, &test_hooks_module);
    note(s, "data_end %lu", seen ? (unsigned long)*seen : 0UL);
    return HR_OK;
}

static int th_queued(hr_session *s, hr_txn *t, const char *id)
{
    note(s, "queued %s", id);
    return HR_OK;
}

static int th_reset(hr_session *s, hr_txn *t)
{
    note(s, "reset");
    return HR_OK;
}

static int th_quit(hr_session *s)
{
    note(s, "quit");
    return HR_OK;
}

static int th_disconnect(hr_session *s)
{
    note(s, "disconnect");
    return HR_OK;
}

static int xtest_param(hr_session *s, hr_txn *t, hr_rcpt *r,
                       const char *value)
{
    if (value == NULL || *value == '\0') {
        hr_reply(s, 501, "5.5.4", "XTEST needs a value");
        return HR_DENY;
    }
    hr_txn_set_field(t, "test.xtest", value);
    return HR_OK;
}

static int xecho_verb(hr_session *s, const char *args)
{
    hr_reply(s, 250, "2.0.0", "%s", args);
    return HR_OK;
}

static void th_register(apr_pool_t *p)
{
    hr_hook_connect(th_connect, NULL, NULL, APR_HOOK_MIDDLE);
    hr_hook_helo(th_helo, NULL, NULL, APR_HOOK_MIDDLE);
    hr_hook_capabilities(th_capabilities, NULL, NULL, APR_HOOK_MIDDLE);
    hr_hook_mail(th_mail, NULL, NULL, APR_HOOK_MIDDLE);
    hr_hook_rcpt(th_rcpt, NULL, NULL, APR_HOOK_MIDDLE);
    hr_hook_rcpt_check(th_rcpt_check, NULL, NULL, APR_HOOK_MIDDLE);
    hr_hook_data(th_data, NULL, NULL, APR_HOOK_MIDDLE);
    hr_hook_body(th_body, NULL, NULL, APR_HOOK_MIDDLE);
    hr_hook_data_end(th_data_end, NULL, NULL, APR_HOOK_MIDDLE);
    hr_hook_queued(th_queued, NULL, NULL, APR_HOOK_MIDDLE);
    hr_hook_reset(th_reset, NULL, NULL, APR_HOOK_MIDDLE);
    hr_hook_quit(th_quit, NULL, NULL, APR_HOOK_MIDDLE);
    hr_hook_disconnect(th_disconnect, NULL, NULL, APR_HOOK_MIDDLE);
}

static const hr_param th_params[] = {
    {"XTEST", HR_PARAM_MAIL, xtest_param},
    {NULL}};
static const hr_verb th_verbs[] = {
    {"XECHO", HR_VERB_GROUP_END | HR_VERB_ADVERTISED, xecho_verb},
    {NULL}};
static const hr_capability th_capabilities_table[] = {
    {"XTEST", NULL, th_params, th_verbs},
    {NULL}};
static const hr_config_key th_keys[] = {
    {"test-hooks.log", HR_KEY_STRING, 0, "\"\"", 0, "hook log file"},
    {"test-hooks.deny-helo", HR_KEY_STRING, 0, "\"\"", 0, "refused name"},
    {"test-hooks.accept-domain", HR_KEY_STRING, 0, "\"\"", 0,
     "domain the rcpt hook accepts"},
    {"test-hooks.deny-rcpt", HR_KEY_STRING, 0, "\"\"", 0,
     "address rcpt_check refuses"},
    {NULL}};

HR_MODULE(test_hooks) = {HR_MODULE_STUFF, "mod_test_hooks", th_keys,
                         th_capabilities_table, NULL, th_register};
