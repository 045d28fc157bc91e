/*
 * mod_dsn.c -- Delivery Status Notifications (RFC 3461): advertises DSN
 * and owns its MAIL parameters RET and ENVID and its RCPT parameters
 * NOTIFY and ORCPT.
 *
 *     [server.modules]
 *     load = ["mod_dsn"]
 *     [session.extensions]
 *     # an expression, evaluated per session (listener, remote-ip,
 *     # local-ip, local-port, is-tls, helo-domain, authenticated-as)
 *     dsn = [ { if = "authenticated-as", ne = "", then = true },
 *             { else = false } ]
 *
 * The parameters are accepted only in a session whose EHLO reply carried
 * DSN (the core answers 555 5.5.4 otherwise); a bad value gets 501 5.5.4.
 * What the client asked for is stored in the envelope, for the queue
 * manager that writes the notifications (RFC 3464), and nothing else: no
 * default is filled in.
 *
 *   message fields
 *     dsn.ret             "FULL" or "HDRS" (upper case)
 *     dsn.envid           the envelope id, decoded from xtext
 *     dsn.envid.xtext     the ENVID value exactly as received, to be
 *                         passed on unchanged when relaying (RFC 3461
 *                         §5.2)
 *   recipient fields
 *     dsn.notify          "NEVER", or a comma list in the order
 *                         SUCCESS,FAILURE,DELAY
 *     dsn.orcpt           the ORCPT value exactly as received
 *                         ("rfc822;a+2Bb@example.org"), to pass on and
 *                         to quote in Original-Recipient (RFC 3464 §2.3.1)
 *     dsn.orcpt.type      its addr-type, lower case ("rfc822", "utf-8")
 *     dsn.orcpt.address   its address, decoded ("a+b@example.org"; UTF-8
 *                         for the utf-8 type of RFC 6533)
 */
#include <string.h>
#include <apr_strings.h>
#include <apr_network_io.h>   /* apr_port_t, for herald.h */

#include "herald.h"
#include "hr_module.h"
#include "dsn_parse.h"

#define DSN_SETTING "session.extensions.dsn"

/* Refuse a bad value (RFC 5321 §4.1.1.11, RFC 3463 §3.6: 5.5.4). */
static int dsn_bad_value(hr_session *s, const char *why)
{
    hr_reply(s, 501, "5.5.4", "%s", why);
    return HR_DENY;
}

static int dsn_advertise(hr_session *s, const char **line)
{
    return hr_session_bool(s, DSN_SETTING);
}

/* MAIL RET=FULL|HDRS (RFC 3461 §4.3). */
static int dsn_ret(hr_session *s, hr_txn *t, hr_rcpt *r, const char *value)
{
    const char *ret, *why;

    if (dsn_parse_ret(value, &ret, &why) != 0) {
        return dsn_bad_value(s, why);
    }
    hr_txn_set_field(t, "dsn.ret", ret);
    return HR_OK;
}

/* MAIL ENVID=xtext (RFC 3461 §4.4). */
static int dsn_envid(hr_session *s, hr_txn *t, hr_rcpt *r,
                     const char *value)
{
    const char *envid, *why;

    if (dsn_parse_envid(t->pool, value, &envid, &why) != 0) {
        return dsn_bad_value(s, why);
    }
    hr_txn_set_field(t, "dsn.envid", envid);
    hr_txn_set_field(t, "dsn.envid.xtext", value);
    return HR_OK;
}

/* RCPT NOTIFY=NEVER|SUCCESS,FAILURE,DELAY (RFC 3461 §4.1). */
static int dsn_notify(hr_session *s, hr_txn *t, hr_rcpt *r,
                      const char *value)
{
    const char *why;
    unsigned flags;

    if (dsn_parse_notify(value, &flags, &why) != 0) {
        return dsn_bad_value(s, why);
    }
    hr_rcpt_set_field(t, r, "dsn.notify", dsn_notify_text(flags));
    return HR_OK;
}

/* RCPT ORCPT=addr-type;xtext (RFC 3461 §4.2, RFC 6533 §3). */
static int dsn_orcpt_param(hr_session *s, hr_txn *t, hr_rcpt *r,
                           const char *value)
{
    const char *why;
    dsn_orcpt orcpt;

    if (dsn_parse_orcpt(t->pool, value, t->smtputf8, &orcpt, &why) != 0) {
        return dsn_bad_value(s, why);
    }
    hr_rcpt_set_field(t, r, "dsn.orcpt", value);
    hr_rcpt_set_field(t, r, "dsn.orcpt.type", orcpt.type);
    hr_rcpt_set_field(t, r, "dsn.orcpt.address", orcpt.address);
    return HR_OK;
}

static const hr_param dsn_params[] = {
    {"RET", HR_PARAM_MAIL, dsn_ret},
    {"ENVID", HR_PARAM_MAIL, dsn_envid},
    {"NOTIFY", HR_PARAM_RCPT, dsn_notify},
    {"ORCPT", HR_PARAM_RCPT, dsn_orcpt_param},
    {NULL}};

static const hr_capability dsn_capabilities[] = {
    {"DSN", dsn_advertise, dsn_params, NULL},
    {NULL}};

static const hr_config_key dsn_keys[] = {
    {DSN_SETTING, HR_KEY_BOOL, HR_KEY_EXPR, "false", HR_VARS_EHLO,
     "advertise DSN and accept RET, ENVID, NOTIFY, ORCPT (RFC 3461)"},
    {NULL}};

HR_MODULE(dsn) = {HR_MODULE_STUFF, "mod_dsn", dsn_keys, dsn_capabilities,
                  NULL, NULL};
