/*
 * mod_ehlo.c -- the EHLO stage policy: insist on a greeting before MAIL,
 * and refuse HELO/EHLO/LHLO names that are not fully-qualified.
 *
 *     [server.modules]
 *     load = ["mod_ehlo"]
 *
 *     [session.ehlo]
 *     require = true                  # MAIL before HELO/EHLO/LHLO: 503 5.5.1
 *     reject-non-fqdn = [ { if = "listener", eq = "smtp", then = true },
 *                         { else = false } ]
 *
 * Both keys are expressions evaluated for each session when they are
 * needed, so they may test listener, remote-ip, local-ip, local-port,
 * is-tls, helo-domain and authenticated-as:
 *
 *   require          (default true) a MAIL command in a session that has
 *                    not been greeted successfully is refused with
 *                    "503 5.5.1 Polite people say EHLO first".  The seed
 *                    recommends it, so the SPF HELO identity is known.
 *   reject-non-fqdn  (default false) the argument of HELO, EHLO and LHLO
 *                    must be a fully-qualified domain name (see
 *                    hr_is_fqdn(): two labels or more, a top label that is
 *                    not numeric) or an address literal ("[192.0.2.1]",
 *                    "[IPv6:2001:db8::1]"); otherwise "550 5.5.0" and the
 *                    session stays un-greeted.
 *
 * `session.ehlo.script` (a Sieve script run after a successful EHLO) is
 * declared and run by mod_sieve, not here.
 *
 * The core checks the syntax of the argument (501 5.5.2), resets the
 * transaction on every new greeting (RFC 5321 §4.1.4) and keeps the
 * session un-greeted when this module's helo hook refuses it.
 */
#include <string.h>
#include <apr_strings.h>

#include "herald.h"
#include "hr_module.h"

#define EHLO_KEY_REQUIRE "session.ehlo.require"
#define EHLO_KEY_REJECT_NON_FQDN "session.ehlo.reject-non-fqdn"

/* The session and the name being offered, while the helo hook runs. */
typedef struct ehlo_greeting {
    hr_session *session;
    const char *domain;
} ehlo_greeting;

/*
 * Variables of reject-non-fqdn.  The helo hook runs before the core
 * records the new name, so s->helo_domain still holds the previous one
 * (or nothing): `helo-domain` must mean the name being offered now.
 */
static const char *ehlo_greeting_var(void *ctx, hr_var v)
{
    ehlo_greeting *g = ctx;

    if (v == HR_VAR_HELO_DOMAIN) {
        return g->domain;
    }
    return hr_session_var(g->session, v);
}

/* Is reject-non-fqdn on for this session and this name? */
static int ehlo_reject_non_fqdn(hr_session *s, const char *domain)
{
    const hr_expr *e = hr_setting(s->server, EHLO_KEY_REJECT_NON_FQDN);
    ehlo_greeting g;
    const hr_value *v;

    if (e == NULL) {
        return 0;
    }
    g.session = s;
    g.domain = domain;
    v = hr_expr_eval(e, ehlo_greeting_var, &g);
    return v->type == HR_VAL_BOOLEAN && v->u.b;
}

/*
 * helo hook (HELO, EHLO and LHLO alike): the FQDN policy.
 *
 * RFC 5321 §4.1.4: "The domain name given in the EHLO command MUST be
 * either a primary host name (a domain name that resolves to an address
 * RR) or, if the host has no name, an address literal".  "localhost",
 * "mail" or a container id are neither, so a server that wants real
 * names may refuse them.  The argument is syntactically valid (the core
 * answered 501 5.5.2 otherwise), so this is a policy refusal, not a
 * syntax error: 550 is one of the replies §4.3.2 lists for EHLO/HELO,
 * with X.5.0 (RFC 3463 §3.6: other protocol status).  The name is not
 * checked against the client's address: §4.1.4 forbids refusing mail on
 * that basis.
 */
static int ehlo_helo(hr_session *s, const char *verb, const char *domain)
{
    if (hr_is_address_literal(domain) || hr_is_fqdn(domain)) {
        return HR_OK;
    }
    if (!ehlo_reject_non_fqdn(s, domain)) {
        return HR_OK;
    }
    hr_log_session(s, HR_LOG_INFO, "%s %s refused: not a fully-qualified "
                   "domain name", verb, hr_log_escape(s->pool, domain, 255));
    hr_reply(s, 550, "5.5.0", "%s argument '%s' is not a fully-qualified "
             "domain name or an address literal (RFC 5321 4.1.4)", verb,
             domain);
    return hr_session_error(s);
}

/*
 * mail hook, run before any other module's: MAIL needs a greeting.
 * RFC 5321 §4.1.4 lets a server refuse MAIL before EHLO/HELO ("503 ...
 * Bad sequence of commands"); RFC 3463 §3.6: X.5.1 invalid command.
 * LMTP sessions are asked for LHLO (RFC 2033 §4.1).
 */
static int ehlo_mail(hr_session *s, hr_txn *txn)
{
    if (s->helo_domain != NULL || !hr_session_bool(s, EHLO_KEY_REQUIRE)) {
        return HR_OK;
    }
    hr_reply(s, 503, "5.5.1", "Polite people say %s first",
             s->listener->lmtp ? "LHLO" : "EHLO");
    return hr_session_error(s);
}

static void ehlo_register_hooks(apr_pool_t *p)
{
    hr_hook_helo(ehlo_helo, NULL, NULL, APR_HOOK_FIRST);
    hr_hook_mail(ehlo_mail, NULL, NULL, APR_HOOK_REALLY_FIRST);
}

static const hr_config_key ehlo_keys[] = {
    {EHLO_KEY_REQUIRE, HR_KEY_BOOL, HR_KEY_EXPR, "true", HR_VARS_EHLO,
     "refuse MAIL before HELO/EHLO/LHLO (503 5.5.1)"},
    {EHLO_KEY_REJECT_NON_FQDN, HR_KEY_BOOL, HR_KEY_EXPR, "false",
     HR_VARS_EHLO,
     "refuse a HELO/EHLO/LHLO name that is not an FQDN or address "
     "literal (550 5.5.0)"},
    {NULL}};

HR_MODULE(ehlo) = {HR_MODULE_STUFF, "mod_ehlo", ehlo_keys, NULL, NULL,
                   ehlo_register_hooks};
