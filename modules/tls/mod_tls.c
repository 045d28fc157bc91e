/*
 * mod_tls.c -- TLS for Herald: STARTTLS (RFC 3207) and implicit TLS on a
 * listener (RFC 8314), with OpenSSL 3.
 *
 *     [server.modules]
 *     load = ["mod_tls"]
 *     [certificate.default]
 *     cert = "file://certs/mx.pem"          # relative to this file
 *     private-key = "file://certs/mx.key"
 *     [server.tls]
 *     certificate = "default"               # the listeners' certificate
 *     protocols = ["TLSv1.2", "TLSv1.3"]    # the default
 *     ciphers = "ECDHE+AESGCM:ECDHE+CHACHA20" # TLS 1.2 list (optional)
 *     ignore-client-order = false           # true: server's cipher order
 *     handshake-timeout = "30s"
 *     [server.listener.submission]
 *     bind = ["[::]:587"]                   # STARTTLS offered here
 *     [server.listener.submissions]
 *     bind = ["[::]:465"]
 *     [server.listener.submissions.tls]
 *     implicit = true                       # TLS before the greeting
 *     certificate = "default"               # per-listener override
 *
 * A listener with a certificate (its own, server.tls.certificate, or the
 * only one defined) advertises STARTTLS on plaintext sessions; a listener
 * with tls.implicit = true runs the handshake as soon as the client
 * connects and greets only after it.  Several [certificate.<id>] tables
 * may be defined: the client's SNI name picks among them (tls_config.c).
 *
 * After a successful handshake the session is marked TLS: the is-tls
 * expression variable is "true", the Received header reads "with ESMTPS"
 * and names the protocol and cipher, and the spooled envelope records
 * them.  Files: mod_tls.c (this: the SMTP side), tls_config.c
 * (certificates, SNI), tls_io.c (handshake and the I/O layer).
 */
#include <string.h>
#include <apr_strings.h>

#include "mod_tls.h"

/* Is STARTTLS offered in this session? */
static int starttls_advertise(hr_session *s, const char **line)
{
    /* RFC 3207 §4.2: not after the handshake (and not on implicit TLS) */
    return !s->is_tls && tls_listener_certificate(s) != NULL;
}

/*
 * STARTTLS (RFC 3207 §4).  The checks are made here rather than with
 * HR_VERB_ADVERTISED so that each case gets its own reply.
 */
static int starttls_verb(hr_session *s, const char *args)
{
    tls_certificate *cert = tls_listener_certificate(s);
    tls_conn *tc;

    if (s->is_tls) {
        hr_reply(s, 503, "5.5.1", "Bad sequence of commands: TLS is "
                 "already active");
        return hr_session_error(s);
    }
    if (cert == NULL) {
        hr_reply(s, 502, "5.5.1", "STARTTLS is not available on this "
                 "listener");
        return hr_session_error(s);
    }
    /* RFC 3207 §4: "STARTTLS" takes no parameters */
    if (*args != '\0') {
        hr_reply(s, 501, "5.5.4", "Syntax: STARTTLS (no parameters)");
        return hr_session_error(s);
    }
    tc = tls_conn_create(s, cert);
    if (tc == NULL) {
        hr_reply(s, 454, "4.7.0", "TLS not available due to temporary "
                 "reason");
        return hr_session_error(s);
    }
    hr_reply(s, 220, "2.0.0", "Ready to start TLS");
    if (hr_session_flush(s) != 0) {
        return HR_DISCONNECT;
    }
    /* RFC 3207 §4.2 and CVE-2011-0411: whatever the client sent after
     * the STARTTLS line was sent in the clear, where anyone could have
     * added it; none of it may be read as coming from inside TLS. */
    hr_session_discard_input(s);
    if (tls_handshake_start(s, tc, 1) == HR_DISCONNECT) {
        /* the connection is in an unknown TLS state: no reply is
         * possible, only closing it */
        return HR_DISCONNECT;
    }
    return HR_OK;   /* done, or parked until the client answers */
}

/*
 * Implicit TLS (RFC 8314 §3.3): the handshake comes first, before the
 * greeting and before any other module looks at the connection.
 */
static int tls_connect(hr_session *s)
{
    tls_certificate *cert;
    tls_conn *tc;

    if (!s->listener->tls_implicit) {
        return HR_OK;
    }
    cert = tls_listener_certificate(s);
    tc = cert ? tls_conn_create(s, cert) : NULL;
    if (tc == NULL || tls_handshake_start(s, tc, 0) == HR_DISCONNECT) {
        /* no reply can be sent: there is no TLS channel to send it in,
         * and a plaintext one would be read as garbage */
        return HR_DISCONNECT;
    }
    return HR_OK;   /* the core holds the greeting until it completes */
}

static void tls_register_hooks(apr_pool_t *p)
{
    hr_hook_connect(tls_connect, NULL, NULL, APR_HOOK_REALLY_FIRST);
}

static const hr_verb tls_verbs[] = {
    /* RFC 2920 §3.1: STARTTLS ends a pipelined group */
    {"STARTTLS", HR_VERB_GROUP_END, starttls_verb},
    {NULL}};

static const hr_capability tls_capabilities[] = {
    {"STARTTLS", starttls_advertise, NULL, tls_verbs},
    {NULL}};

static const hr_config_key tls_keys[] = {
    {"server.tls.certificate", HR_KEY_STRING, 0, NULL, 0,
     "certificate id used by listeners without their own"},
    {"server.tls.protocols", HR_KEY_STRING_LIST, 0,
     "[\"TLSv1.2\", \"TLSv1.3\"]", 0,
     "TLS versions offered: \"TLSv1.2\", \"TLSv1.3\""},
    {"server.tls.ciphers", HR_KEY_STRING, 0, NULL, 0,
     "TLS 1.2 cipher list (OpenSSL syntax; default: OpenSSL's)"},
    {"server.tls.ignore-client-order", HR_KEY_BOOL, 0, "false", 0,
     "choose the cipher by the server's order, not the client's"},
    {"server.tls.handshake-timeout", HR_KEY_DURATION, 0, "\"30s\"", 0,
     "longest TLS handshake"},
    {"certificate.*.cert", HR_KEY_STRING, HR_KEY_WILDCARD, NULL, 0,
     "certificate chain, PEM, leaf first (\"file://PATH\")"},
    {"certificate.*.private-key", HR_KEY_STRING, HR_KEY_WILDCARD, NULL, 0,
     "its private key, PEM, unencrypted (\"file://PATH\")"},
    {NULL}};

HR_MODULE(tls) = {HR_MODULE_STUFF, "mod_tls", tls_keys, tls_capabilities,
                  tls_post_config, tls_register_hooks};
