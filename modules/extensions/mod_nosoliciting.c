/*
 * mod_nosoliciting.c -- the No Soliciting extension (RFC 3865):
 * advertises "NO-SOLICITING <keywords>" and owns the MAIL parameter
 * SOLICIT.
 *
 *     [server.modules]
 *     load = ["mod_nosoliciting"]
 *     [session.extensions]
 *     # the solicitation class keywords this server refuses, separated
 *     # by commas; "" or false turns the extension off (the default).  An
 *     # expression evaluated per session (listener, remote-ip, is-tls,
 *     # helo-domain, authenticated-as ...)
 *     no-soliciting = "net.example:ADV, org.example:BULK"
 *
 * EHLO then carries "NO-SOLICITING net.example:ADV,org.example:BULK"
 * (RFC 3865 §2.1).  MAIL FROM:<...> SOLICIT=<keyword>[,<keyword>...] is
 * accepted only in a session whose EHLO reply carried NO-SOLICITING (the
 * core answers 555 5.5.4 otherwise); bad keyword syntax gets 501 5.5.4.
 * A message whose SOLICIT names a refused keyword (ASCII case ignored)
 * is refused at MAIL with 554 5.7.1 (RFC 3865 §2.4: delivery not
 * authorized).  Otherwise the keywords are stored as the envelope field
 * "nosoliciting.solicit", exactly as received, for the queue manager
 * (RFC 3865 §2.7: they travel with the message when it is relayed).
 *
 * Keyword lists are checked when the configuration is loaded.
 */
#include <string.h>
#include <apr_strings.h>
#include <apr_network_io.h>   /* apr_port_t, for herald.h */

#include "herald.h"
#include "hr_module.h"
#include "nosoliciting_parse.h"

#define NOSOL_SETTING "session.extensions.no-soliciting"

extern hr_module nosoliciting_module;

/* ------------------------------------------------------ configuration */

/* Check one value the setting can take. */
static void nosol_check(hr_server *srv, apr_pool_t *ptemp,
                        const hr_value *v, apr_array_header_t *errors)
{
    apr_array_header_t *keywords;
    const char *why;

    if (v->type != HR_VAL_STRING || v->u.s[0] == '\0') {
        return;   /* "" or false: off */
    }
    if (nosoliciting_parse(ptemp, v->u.s, NOSOL_ALLOW_SPACE, &keywords,
                           &why) != 0) {
        APR_ARRAY_PUSH(errors, char *) = apr_psprintf(
            srv->pool, "%s:%d: setting '%s': %s in \"%s\" (RFC 3865 "
            "§2.2: keywords such as \"net.example:ADV\", separated by "
            "commas)", v->file, v->line, NOSOL_SETTING, why, v->u.s);
    }
}

/* Every value the setting can take: the constant itself, or the `then`
 * and `else` of each rule of a rule table. */
static int nosol_post_config(hr_server *srv, apr_pool_t *ptemp,
                             apr_array_header_t *errors)
{
    const hr_value *v = hr_value_lookup(srv->config, NOSOL_SETTING);
    int before = errors->nelts, i;

    if (v == NULL) {
        return 0;
    }
    if (v->type != HR_VAL_ARRAY) {
        nosol_check(srv, ptemp, v, errors);
    }
    for (i = 0; v->type == HR_VAL_ARRAY && i < v->u.array->nelts; i++) {
        const hr_value *rule = APR_ARRAY_IDX(v->u.array, i, hr_value *);
        const hr_value *result;

        if (rule->type != HR_VAL_TABLE) {
            continue;   /* the expression compiler said why */
        }
        if ((result = hr_table_get(rule->u.table, "then")) != NULL) {
            nosol_check(srv, ptemp, result, errors);
        }
        if ((result = hr_table_get(rule->u.table, "else")) != NULL) {
            nosol_check(srv, ptemp, result, errors);
        }
    }
    return errors->nelts > before ? -1 : 0;
}

/* ---------------------------------------------------------- protocol */

/*
 * RFC 3865 §2.1: "NO-SOLICITING" followed by the keywords the server
 * refuses.  The list advertised is remembered for the session: SOLICIT
 * is checked against what the client was told.
 */
static int nosol_advertise(hr_session *s, const char **line)
{
    const char *text = hr_session_string(s, NOSOL_SETTING);
    apr_array_header_t *keywords = NULL;
    const char *why;

    hr_session_state(s, &nosoliciting_module) = NULL;
    if (text == NULL) {
        return 0;
    }
    if (nosoliciting_parse(s->pool, text, NOSOL_ALLOW_SPACE, &keywords,
                           &why) != 0) {
        /* checked at load time; only a bug gets here */
        hr_log_session(s, HR_LOG_ERR, "%s: %s; NO-SOLICITING not "
                       "advertised", NOSOL_SETTING, why);
        return 0;
    }
    hr_session_state(s, &nosoliciting_module) = keywords;
    *line = apr_pstrcat(s->pool, "NO-SOLICITING ",
                        nosoliciting_join(s->pool, keywords), NULL);
    return 1;
}

/* MAIL SOLICIT=keyword[,keyword...] (RFC 3865 §2.3). */
static int nosol_param(hr_session *s, hr_txn *t, hr_rcpt *r,
                       const char *value)
{
    const apr_array_header_t *refused =
        hr_session_state(s, &nosoliciting_module);
    apr_array_header_t *offered;
    const char *why, *match;

    if (value == NULL) {
        hr_reply(s, 501, "5.5.4", "SOLICIT needs a value");
        return HR_DENY;
    }
    if (nosoliciting_parse(t->pool, value, 0, &offered, &why) != 0) {
        hr_reply(s, 501, "5.5.4", "Invalid SOLICIT value: %s", why);
        return HR_DENY;
    }
    match = nosoliciting_match(offered, refused);
    if (match != NULL) {
        /* RFC 3865 §2.4: the message is not accepted */
        hr_log_session(s, HR_LOG_INFO, "SOLICIT %s refused",
                       hr_log_escape(t->pool, match, NOSOL_MAX_KEYWORD));
        hr_reply(s, 554, "5.7.1", "Message refused: solicitation class "
                 "keyword %s is not accepted here", match);
        return HR_DENY;
    }
    hr_txn_set_field(t, "nosoliciting.solicit", value);
    return HR_OK;
}

static const hr_param nosol_params[] = {
    {"SOLICIT", HR_PARAM_MAIL, nosol_param},
    {NULL}};

static const hr_capability nosol_capabilities[] = {
    {"NO-SOLICITING", nosol_advertise, nosol_params, NULL},
    {NULL}};

static const hr_config_key nosol_keys[] = {
    {NOSOL_SETTING, HR_KEY_STRING, HR_KEY_EXPR | HR_KEY_OPTIONAL, "\"\"",
     HR_VARS_EHLO,
     "solicitation class keywords refused and advertised with "
     "NO-SOLICITING, comma-separated; \"\" or false: off (RFC 3865)"},
    {NULL}};

HR_MODULE(nosoliciting) = {HR_MODULE_STUFF, "mod_nosoliciting", nosol_keys,
                           nosol_capabilities, nosol_post_config, NULL};
