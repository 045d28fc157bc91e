/*
 * mod_tls.h -- what the files of mod_tls share (not installed).
 *
 *   mod_tls.c     the module record, its keys, STARTTLS and implicit TLS
 *   tls_config.c  certificates and SSL_CTXs, built once per configuration
 *                 generation in post_config; SNI
 *   tls_io.c      the TLS handshake and the hr_io layer over OpenSSL
 *
 * Nothing here is exported from mod_tls.so: modules are loaded
 * RTLD_GLOBAL, so the functions shared between these files are hidden.
 */
#ifndef MOD_TLS_H
#define MOD_TLS_H

#include <openssl/ssl.h>

#include "herald.h"
#include "hr_module.h"

#define TLS_PRIVATE __attribute__((visibility("hidden")))

extern hr_module tls_module;

/** One `[certificate.<id>]`: its own SSL_CTX holding the key pair. */
typedef struct tls_certificate {
    const char *id;
    SSL_CTX *ctx;              /* freed with the generation's pool */
    X509 *leaf;                /* owned by ctx */
} tls_certificate;

/** Per configuration generation (hr_module_config). */
typedef struct tls_config {
    apr_array_header_t *certificates; /* of tls_certificate *, in order */
    apr_hash_t *by_listener;   /* listener id -> tls_certificate * */
    apr_int64_t handshake_timeout_ms;
} tls_config;

/** Build every certificate's SSL_CTX and the listener map (post_config). */
TLS_PRIVATE int tls_post_config(hr_server *srv, apr_pool_t *ptemp,
                                apr_array_header_t *errors);

/** The certificate of the session's listener, or NULL (no TLS there). */
TLS_PRIVATE tls_certificate *tls_listener_certificate(hr_session *s);

/** The TLS state of one session (tls_io.c). */
typedef struct tls_conn tls_conn;

/**
 * Make the session's SSL object from @cert's context, before anything is
 * promised to the client.  NULL when OpenSSL cannot (logged): STARTTLS
 * then answers 454 (RFC 3207 §4).
 */
TLS_PRIVATE tls_conn *tls_conn_create(hr_session *s, tls_certificate *cert);

/**
 * Start the server side of the handshake on the session's socket.  When
 * it completes, the TLS layer is installed, the version and cipher are
 * recorded and (@starttls) the session forgets what it learned in the
 * clear.  Returns HR_OK (done at once), HR_DECLINED (parked in the poller
 * until the client answers: the core resumes it) or HR_DISCONNECT (failed,
 * logged).
 */
TLS_PRIVATE int tls_handshake_start(hr_session *s, tls_conn *tc,
                                    int starttls);

/** The reason of the last OpenSSL error of this thread ("" when none). */
TLS_PRIVATE const char *tls_error_reason(apr_pool_t *p);

#endif /* MOD_TLS_H */
