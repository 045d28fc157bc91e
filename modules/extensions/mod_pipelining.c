/*
 * mod_pipelining.c -- advertise SMTP command pipelining (RFC 2920).
 *
 *     [server.modules]
 *     load = ["mod_pipelining"]
 *
 *     [session.extensions]
 *     pipelining = true                 # the default once loaded
 *     # or per session, e.g. only on the submission port:
 *     # pipelining = [ { if = "listener", eq = "submission", then = true },
 *     #                { else = false } ]
 *
 * `session.extensions.pipelining` is an expression evaluated when the
 * EHLO/LHLO reply is built, so it may test listener, remote-ip, local-ip,
 * local-port, is-tls, helo-domain and authenticated-as.  When it is true
 * the reply carries the PIPELINING keyword.
 *
 * This module only advertises: the mechanism is the core's (session.c).
 * Replies are held while more pipelined input is buffered and written at
 * the end of a group (EHLO, DATA, NOOP, QUIT ..., RFC 2920 §3.1) or when
 * the input buffer is empty, so a MAIL/RCPT.../DATA group costs one round
 * trip (RFC 2920 §3.2).  A client that sends ahead although PIPELINING was
 * not advertised in its session, or that talks before the greeting, is out
 * of step with the server (RFC 5321 §4.1.4, §4.3.1): it gets
 * "554 5.5.0" and is disconnected, which also defeats SMTP smuggling
 * tricks that rely on a server reading ahead.
 */
#include "herald.h"
#include "hr_module.h"

#define PIPELINING_KEY "session.extensions.pipelining"

/* RFC 2920 §2: the EHLO keyword is PIPELINING, with no parameters. */
static int pipelining_advertise(hr_session *s, const char **line)
{
    return hr_session_bool(s, PIPELINING_KEY);
}

static const hr_capability pipelining_capabilities[] = {
    {"PIPELINING", pipelining_advertise, NULL, NULL},
    {NULL}};

static const hr_config_key pipelining_keys[] = {
    {PIPELINING_KEY, HR_KEY_BOOL, HR_KEY_EXPR, "true", HR_VARS_EHLO,
     "advertise PIPELINING (RFC 2920)"},
    {NULL}};

HR_MODULE(pipelining) = {HR_MODULE_STUFF, "mod_pipelining", pipelining_keys,
                         pipelining_capabilities, NULL, NULL};
