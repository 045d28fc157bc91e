/*
 * mod_mtpriority.c -- Message Transfer Priorities (RFC 6710): advertises
 * "MT-PRIORITY <policy>" and owns the MAIL parameter MT-PRIORITY.
 *
 *     [server.modules]
 *     load = ["mod_mtpriority"]
 *     [session.extensions]
 *     # the Priority Assignment Policy to advertise: "mixer",
 *     # "stanag4406" or "nsep", or false; an expression evaluated per
 *     # session (listener, remote-ip, is-tls, helo-domain,
 *     # authenticated-as ...)
 *     mt-priority = [ { if = "authenticated-as", ne = "", then = "mixer" },
 *                     { else = false } ]
 *     [session.mt-priority]
 *     # highest priority granted to a session that did not authenticate
 *     # (-9..9; default 0, "normal"); may also test sender, sender-domain
 *     max-unauthenticated = 0
 *
 * MT-PRIORITY=<-9..9> is accepted only in a session whose EHLO reply
 * carried MT-PRIORITY (the core answers 555 5.5.4 otherwise); a malformed
 * or out-of-range value gets 501 5.5.4.  The value asked for is first
 * capped for unauthenticated sessions (RFC 6710 §4: a server
 * may lower the priority of senders it does not trust; lowering rather
 * than refusing keeps the message), then rounded to the levels of the
 * advertised policy (mtpriority_parse.c).  The result is the
 * transaction's priority (the `priority` variable of later expressions)
 * and is stored in the envelope for the queue manager:
 *
 *     mtpriority.priority    the effective priority, "-9".."9"
 *     mtpriority.requested   what the client asked for, only when it
 *                            differs from the effective priority
 *     mtpriority.policy      "MIXER", "STANAG4406" or "NSEP"
 *
 * Policy names and the cap are checked when the configuration is loaded.
 */
#include <string.h>
#include <apr_strings.h>
#include <apr_network_io.h>   /* apr_port_t, for herald.h */

#include "herald.h"
#include "hr_module.h"
#include "mtpriority_parse.h"

#define MTP_SETTING "session.extensions.mt-priority"
#define MTP_CAP_SETTING "session.mt-priority.max-unauthenticated"

extern hr_module mtpriority_module;

/* ------------------------------------------------------ configuration */

typedef void mtp_leaf_fn(hr_server *srv, const hr_value *v,
                         apr_array_header_t *errors);

/* Call @fn on every value a setting can take: the constant itself, or
 * the `then` and `else` of each rule of a rule table. */
static void mtp_each_result(hr_server *srv, const char *path, mtp_leaf_fn *fn,
                            apr_array_header_t *errors)
{
    const hr_value *v = hr_value_lookup(srv->config, path);
    int i;

    if (v == NULL) {
        return;
    }
    if (v->type != HR_VAL_ARRAY) {
        fn(srv, v, errors);
        return;
    }
    for (i = 0; i < v->u.array->nelts; i++) {
        const hr_value *rule = APR_ARRAY_IDX(v->u.array, i, hr_value *);
        const hr_value *result;

        if (rule->type != HR_VAL_TABLE) {
            continue;   /* the expression compiler said why */
        }
        if ((result = hr_table_get(rule->u.table, "then")) != NULL) {
            fn(srv, result, errors);
        }
        if ((result = hr_table_get(rule->u.table, "else")) != NULL) {
            fn(srv, result, errors);
        }
    }
}

static void mtp_check_policy(hr_server *srv, const hr_value *v,
                             apr_array_header_t *errors)
{
    if (v->type == HR_VAL_STRING && v->u.s[0] != '\0' &&
        mtpriority_policy_find(v->u.s) == NULL) {
        APR_ARRAY_PUSH(errors, char *) = apr_psprintf(
            srv->pool, "%s:%d: setting '%s' names an unknown priority "
            "assignment policy \"%s\" (RFC 6710: mixer, stanag4406, nsep; "
            "or false)", v->file, v->line, MTP_SETTING, v->u.s);
    }
}

static void mtp_check_cap(hr_server *srv, const hr_value *v,
                          apr_array_header_t *errors)
{
    if (v->type == HR_VAL_INTEGER && (v->u.i < MTP_MIN || v->u.i > MTP_MAX)) {
        APR_ARRAY_PUSH(errors, char *) = apr_psprintf(
            srv->pool, "%s:%d: setting '%s' must be between -9 and 9, got %"
            APR_INT64_T_FMT, v->file, v->line, MTP_CAP_SETTING, v->u.i);
    }
}

static int mtp_post_config(hr_server *srv, apr_pool_t *ptemp,
                           apr_array_header_t *errors)
{
    int before = errors->nelts;

    mtp_each_result(srv, MTP_SETTING, mtp_check_policy, errors);
    mtp_each_result(srv, MTP_CAP_SETTING, mtp_check_cap, errors);
    return errors->nelts > before ? -1 : 0;
}

/* ---------------------------------------------------------- protocol */

/* The policy for this session (NULL: the extension is off). */
static const mtpriority_policy *mtp_session_policy(hr_session *s)
{
    const char *name = hr_session_string(s, MTP_SETTING);
    return name ? mtpriority_policy_find(name) : NULL;
}

/*
 * RFC 6710 §3: the EHLO keyword carries the policy's name.  The policy
 * advertised is remembered for the session: MT-PRIORITY values are
 * mapped with the policy the client was told about.
 */
static int mtp_advertise(hr_session *s, const char **line)
{
    const mtpriority_policy *policy = mtp_session_policy(s);

    hr_session_state(s, &mtpriority_module) = (void *)policy;
    if (policy == NULL) {
        return 0;
    }
    *line = apr_pstrcat(s->pool, "MT-PRIORITY ", policy->name, NULL);
    return 1;
}

/* MAIL MT-PRIORITY=<-9..9> (RFC 6710 §3). */
static int mtp_param(hr_session *s, hr_txn *t, hr_rcpt *r, const char *value)
{
    const mtpriority_policy *policy =
        hr_session_state(s, &mtpriority_module);
    apr_int64_t cap = MTP_MAX;
    int requested, effective;

    if (mtpriority_parse_value(value, &requested) != 0) {
        hr_reply(s, 501, "5.5.4", "Invalid MT-PRIORITY value: expected an "
                 "integer from -9 to 9");
        return HR_DENY;
    }
    if (policy == NULL) {
        policy = mtp_session_policy(s);
    }
    if (s->authenticated_as == NULL) {
        cap = 0;
        hr_session_int(s, MTP_CAP_SETTING, &cap);
        cap = cap < MTP_MIN ? MTP_MIN : cap > MTP_MAX ? MTP_MAX : cap;
    }
    effective = mtpriority_effective(policy, requested, (int)cap);
    t->priority = effective;
    hr_txn_set_field(t, "mtpriority.priority",
                     apr_itoa(t->pool, effective));
    if (effective != requested) {
        hr_txn_set_field(t, "mtpriority.requested",
                         apr_itoa(t->pool, requested));
        hr_log_session(s, HR_LOG_INFO, "MT-PRIORITY=%d handled as %d "
                       "(policy %s%s)", requested, effective,
                       policy ? policy->name : "none",
                       s->authenticated_as ? "" : ", unauthenticated");
    }
    if (policy != NULL) {
        hr_txn_set_field(t, "mtpriority.policy", policy->name);
    }
    return HR_OK;
}

static const hr_param mtp_params[] = {
    {"MT-PRIORITY", HR_PARAM_MAIL, mtp_param},
    {NULL}};

static const hr_capability mtp_capabilities[] = {
    {"MT-PRIORITY", mtp_advertise, mtp_params, NULL},
    {NULL}};

static const hr_config_key mtp_keys[] = {
    {MTP_SETTING, HR_KEY_STRING, HR_KEY_EXPR | HR_KEY_OPTIONAL, "false",
     HR_VARS_EHLO,
     "advertise MT-PRIORITY with this policy: mixer, stanag4406, nsep, or "
     "false (RFC 6710)"},
    {MTP_CAP_SETTING, HR_KEY_INTEGER, HR_KEY_EXPR, "0",
     HR_VARS_EHLO | HR_VARBIT(HR_VAR_SENDER) |
         HR_VARBIT(HR_VAR_SENDER_DOMAIN),
     "highest MT-PRIORITY granted without authentication (-9..9)"},
    {NULL}};

HR_MODULE(mtpriority) = {HR_MODULE_STUFF, "mod_mtpriority", mtp_keys,
                         mtp_capabilities, mtp_post_config, NULL};
