/*
 * tls_config.c -- mod_tls's certificates, built once per configuration
 * generation (post_config) and shared read-only by every worker.
 *
 *     [certificate.default]
 *     cert = "file://certs/mx.pem"          # chain: leaf first
 *     private-key = "file://certs/mx.key"   # PEM, not encrypted
 *     [certificate.other]
 *     cert = "file://certs/other.pem"
 *     private-key = "file://certs/other.key"
 *     [server.tls]
 *     certificate = "default"               # default for every listener
 *     protocols = ["TLSv1.2", "TLSv1.3"]
 *     ciphers = "ECDHE+AESGCM:ECDHE+CHACHA20" # TLS 1.2 (OpenSSL syntax)
 *     ignore-client-order = false
 *     handshake-timeout = "30s"
 *     [server.listener.submissions.tls]
 *     certificate = "other"                 # per-listener override
 *
 * Paths are relative to the folder of the main configuration file.  When
 * server.tls.certificate is not set and exactly one certificate is
 * defined, that one is the default.
 *
 * Each certificate gets its own SSL_CTX with the same options; a session
 * starts on its listener's and the SNI callback switches to another
 * certificate whose names (subjectAltName DNS entries, or the CN when
 * there are none) match the name the client asked for: exact names
 * first, then wildcards, the listener's own certificate first in each
 * pass.  No match keeps the listener's certificate.
 *
 * Every certificate is checked at load, so `herald -t` finds the mistakes
 * before a client does: a missing or unreadable file, a file without a
 * PEM certificate or key, a key that does not belong to the certificate
 * and an expired certificate are errors naming the certificate.
 */
#include <string.h>
#include <apr_strings.h>
#include <apr_file_io.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "mod_tls.h"

/* Options applied to every certificate's SSL_CTX. */
typedef struct tls_options {
    int min_version, max_version;
    const char *ciphers;       /* NULL: OpenSSL's default list */
    int ignore_client_order;
} tls_options;

static void config_error(hr_server *srv, apr_array_header_t *errors,
                         const hr_value *v, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Append "FILE:LINE: message" (the main file when @v is NULL). */
static void config_error(hr_server *srv, apr_array_header_t *errors,
                         const hr_value *v, const char *fmt, ...)
{
    va_list ap;
    const char *msg;

    va_start(ap, fmt);
    msg = apr_pvsprintf(srv->pool, fmt, ap);
    va_end(ap);
    hr_config_error(srv, errors, v ? v->file : srv->config_file,
                    v ? v->line : 0, "%s", msg);
}

TLS_PRIVATE const char *tls_error_reason(apr_pool_t *p)
{
    unsigned long e = ERR_peek_last_error();
    const char *reason;

    if (e == 0) {
        return "";
    }
    reason = ERR_reason_error_string(e);
    ERR_clear_error();
    return reason ? apr_pstrdup(p, reason)
                  : apr_psprintf(p, "OpenSSL error %lx", e);
}

/* A constant setting (the keys of mod_tls are not expressions). */
static const hr_value *setting_value(hr_server *srv, const char *path)
{
    const hr_expr *e = hr_setting(srv, path);
    return e ? hr_expr_eval(e, NULL, NULL) : NULL;
}

/* Never prompt on a terminal for a pass phrase: encrypted keys fail. */
static int no_pass_phrase(char *buf, int size, int rwflag, void *u)
{
    return -1;
}

static apr_status_t free_ctx(void *data)
{
    SSL_CTX_free(data);
    return APR_SUCCESS;
}

/* server.tls.protocols -> the range of versions (RFC 8996: no 1.0/1.1). */
static int parse_protocols(hr_server *srv, const hr_value *list,
                           tls_options *opt, apr_array_header_t *errors)
{
    int i, have12 = 0, have13 = 0;

    if (list == NULL || list->type != HR_VAL_ARRAY) {
        config_error(srv, errors, list, "server.tls.protocols must be a "
                     "list such as [\"TLSv1.2\", \"TLSv1.3\"]");
        return -1;
    }
    for (i = 0; i < list->u.array->nelts; i++) {
        const hr_value *v = APR_ARRAY_IDX(list->u.array, i, hr_value *);

        if (v->type == HR_VAL_STRING && strcasecmp(v->u.s, "TLSv1.2") == 0) {
            have12 = 1;
        }
        else if (v->type == HR_VAL_STRING &&
                 strcasecmp(v->u.s, "TLSv1.3") == 0) {
            have13 = 1;
        }
        else if (v->type == HR_VAL_STRING &&
                 (strcasecmp(v->u.s, "TLSv1") == 0 ||
                  strcasecmp(v->u.s, "TLSv1.0") == 0 ||
                  strcasecmp(v->u.s, "TLSv1.1") == 0 ||
                  strncasecmp(v->u.s, "SSL", 3) == 0)) {
            config_error(srv, errors, v, "server.tls.protocols: %s is not "
                         "supported (RFC 8996 deprecates TLS 1.0 and 1.1)",
                         v->u.s);
            return -1;
        }
        else {
            config_error(srv, errors, v, "server.tls.protocols: unknown "
                         "protocol (use \"TLSv1.2\" and/or \"TLSv1.3\")");
            return -1;
        }
    }
    if (!have12 && !have13) {
        config_error(srv, errors, list, "server.tls.protocols is empty: "
                     "name \"TLSv1.2\" and/or \"TLSv1.3\"");
        return -1;
    }
    opt->min_version = have12 ? TLS1_2_VERSION : TLS1_3_VERSION;
    opt->max_version = have13 ? TLS1_3_VERSION : TLS1_2_VERSION;
    return 0;
}

/* Read server.tls.* into @opt; the cipher list is tried once here. */
static int load_options(hr_server *srv, tls_options *opt, tls_config *conf,
                        apr_array_header_t *errors)
{
    const hr_value *v;
    int rv = 0;

    rv |= parse_protocols(srv, setting_value(srv, "server.tls.protocols"),
                          opt, errors);
    v = setting_value(srv, "server.tls.ignore-client-order");
    opt->ignore_client_order = v && v->type == HR_VAL_BOOLEAN && v->u.b;
    v = setting_value(srv, "server.tls.handshake-timeout");
    conf->handshake_timeout_ms =
        v && v->type == HR_VAL_INTEGER && v->u.i > 0 ? v->u.i : 30000;
    v = setting_value(srv, "server.tls.ciphers");
    if (v && v->type == HR_VAL_STRING && v->u.s[0] != '\0') {
        SSL_CTX *probe = SSL_CTX_new(TLS_server_method());
        int ok = probe && SSL_CTX_set_cipher_list(probe, v->u.s) == 1;

        SSL_CTX_free(probe);
        if (!ok) {
            config_error(srv, errors, v, "server.tls.ciphers: no usable "
                         "cipher in \"%s\" (%s)", v->u.s,
                         tls_error_reason(srv->pool));
            rv = -1;
        }
        opt->ciphers = v->u.s;
    }
    return rv;
}

/* A "file://PATH" value, resolved against the configuration's folder. */
static const char *file_path(hr_server *srv, const char *id,
                             const char *name, const hr_value *v,
                             apr_array_header_t *errors)
{
    const char *path;

    if (v == NULL || v->type != HR_VAL_STRING ||
        strncmp(v->u.s, "file://", 7) != 0 || v->u.s[7] == '\0') {
        config_error(srv, errors, v, "certificate '%s': %s must be "
                     "\"file://PATH\"", id, name);
        return NULL;
    }
    path = v->u.s + 7;
    return path[0] == '/' ? path
                          : apr_pstrcat(srv->pool, srv->config_dir, "/",
                                        path, NULL);
}

/* Can the file be opened for reading?  Reports why not. */
static int readable(hr_server *srv, const char *id, const char *path,
                    const hr_value *v, apr_array_header_t *errors)
{
    apr_file_t *f;
    apr_status_t rv;
    char why[128];

    rv = apr_file_open(&f, path, APR_FOPEN_READ, APR_FPROT_OS_DEFAULT,
                       srv->pool);
    if (rv != APR_SUCCESS) {
        config_error(srv, errors, v, "certificate '%s': cannot read %s: %s",
                     id, path, apr_strerror(rv, why, sizeof(why)));
        return 0;
    }
    apr_file_close(f);
    return 1;
}

/* A certificate time as text ("Dec  3 21:33:43 2026 GMT"). */
static const char *asn1_time_text(apr_pool_t *p, const ASN1_TIME *t)
{
    BIO *mem = BIO_new(BIO_s_mem());
    char *data = NULL;
    long len;
    const char *text = "an unknown date";

    if (mem != NULL && ASN1_TIME_print(mem, t) == 1) {
        len = BIO_get_mem_data(mem, &data);
        text = apr_pstrndup(p, data, len);
    }
    BIO_free(mem);
    return text;
}

static int sni_callback(SSL *ssl, int *alert, void *arg);

/* A new SSL_CTX with the options every certificate shares. */
static SSL_CTX *make_ctx(hr_server *srv, const tls_options *opt,
                         tls_config *conf)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());

    if (ctx == NULL) {
        return NULL;
    }
    apr_pool_cleanup_register(srv->pool, ctx, free_ctx,
                              apr_pool_cleanup_null);
    SSL_CTX_set_min_proto_version(ctx, opt->min_version);
    SSL_CTX_set_max_proto_version(ctx, opt->max_version);
    /* Renegotiation is refused: a client-initiated one costs the server
     * a handshake per request (CVE-2011-1473) and it was the vehicle of
     * the TLS 1.2 prefix injection (CVE-2009-3555). */
    SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION |
                        (opt->ignore_client_order
                             ? SSL_OP_CIPHER_SERVER_PREFERENCE : 0));
    /* Writes are retried by the core's flush from where they stopped; idle
     * sessions should not hold 34 KB of record buffers each. */
    SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE |
                     SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER |
                     SSL_MODE_RELEASE_BUFFERS);
    if (opt->ciphers != NULL) {
        SSL_CTX_set_cipher_list(ctx, opt->ciphers);
    }
    SSL_CTX_set_dh_auto(ctx, 1);
    SSL_CTX_set_default_passwd_cb(ctx, no_pass_phrase);
    SSL_CTX_set_session_id_context(ctx, (const unsigned char *)"herald", 6);
    SSL_CTX_set_tlsext_servername_callback(ctx, sni_callback);
    SSL_CTX_set_tlsext_servername_arg(ctx, conf);
    return ctx;
}

/* The private key in @path, or NULL with the reason in *why. */
static EVP_PKEY *read_private_key(apr_pool_t *p, const char *path,
                                  const char **why)
{
    BIO *in = BIO_new_file(path, "r");
    EVP_PKEY *key = NULL;

    ERR_clear_error();
    if (in != NULL) {
        key = PEM_read_bio_PrivateKey(in, NULL, no_pass_phrase, NULL);
        BIO_free(in);
    }
    if (key == NULL) {
        const char *reason = tls_error_reason(p);
        *why = strstr(reason, "bad decrypt") || strstr(reason, "password")
                   ? "it is encrypted (Herald needs an unencrypted key)"
                   : apr_psprintf(p, "no PEM private key could be read (%s)",
                                  *reason ? reason : "empty file");
    }
    return key;
}

/* Load and check one [certificate.<id>]; NULL after reporting errors. */
static tls_certificate *load_certificate(hr_server *srv, const char *id,
                                         const hr_value *table,
                                         const tls_options *opt,
                                         tls_config *conf,
                                         apr_array_header_t *errors)
{
    const hr_value *cert_v, *key_v;
    const char *cert_path, *key_path, *why = NULL;
    tls_certificate *c;
    EVP_PKEY *key;
    SSL_CTX *ctx;
    int ok;

    if (table->type != HR_VAL_TABLE) {
        config_error(srv, errors, table, "certificate '%s' must be a table "
                     "with cert and private-key", id);
        return NULL;
    }
    cert_v = hr_table_get(table->u.table, "cert");
    key_v = hr_table_get(table->u.table, "private-key");
    if (cert_v == NULL || key_v == NULL) {
        config_error(srv, errors, table, "certificate '%s' has no %s", id,
                     cert_v == NULL ? "cert" : "private-key");
        return NULL;
    }
    cert_path = file_path(srv, id, "cert", cert_v, errors);
    key_path = file_path(srv, id, "private-key", key_v, errors);
    if (cert_path == NULL || key_path == NULL ||
        !readable(srv, id, cert_path, cert_v, errors) ||
        !readable(srv, id, key_path, key_v, errors)) {
        return NULL;
    }
    ctx = make_ctx(srv, opt, conf);
    if (ctx == NULL) {
        config_error(srv, errors, cert_v, "certificate '%s': cannot create "
                     "a TLS context (%s)", id, tls_error_reason(srv->pool));
        return NULL;
    }
    ERR_clear_error();
    if (SSL_CTX_use_certificate_chain_file(ctx, cert_path) != 1) {
        config_error(srv, errors, cert_v, "certificate '%s': %s holds no "
                     "usable PEM certificate (%s)", id, cert_path,
                     tls_error_reason(srv->pool));
        return NULL;
    }
    c = apr_pcalloc(srv->pool, sizeof(*c));
    c->id = id;
    c->ctx = ctx;
    c->leaf = SSL_CTX_get0_certificate(ctx);
    if (X509_cmp_current_time(X509_get0_notAfter(c->leaf)) < 0) {
        config_error(srv, errors, cert_v, "certificate '%s': %s expired on "
                     "%s", id, cert_path,
                     asn1_time_text(srv->pool, X509_get0_notAfter(c->leaf)));
        return NULL;
    }
    if (X509_cmp_current_time(X509_get0_notBefore(c->leaf)) > 0) {
        hr_log(HR_LOG_WARNING, "certificate '%s': %s is not valid before %s",
               id, cert_path,
               asn1_time_text(srv->pool, X509_get0_notBefore(c->leaf)));
    }
    key = read_private_key(srv->pool, key_path, &why);
    if (key == NULL) {
        config_error(srv, errors, key_v, "certificate '%s': private key %s: "
                     "%s", id, key_path, why);
        return NULL;
    }
    ok = X509_check_private_key(c->leaf, key) == 1;
    ERR_clear_error();
    if (!ok) {
        config_error(srv, errors, key_v, "certificate '%s': private key %s "
                     "does not match the certificate in %s", id, key_path,
                     cert_path);
    }
    else if (SSL_CTX_use_PrivateKey(ctx, key) != 1) {
        config_error(srv, errors, key_v, "certificate '%s': private key %s "
                     "cannot be used (%s)", id, key_path,
                     tls_error_reason(srv->pool));
        ok = 0;
    }
    EVP_PKEY_free(key);
    return ok ? c : NULL;
}

/* The certificate by id, or NULL. */
static tls_certificate *find_certificate(tls_config *conf, const char *id)
{
    int i;

    for (i = 0; i < conf->certificates->nelts; i++) {
        tls_certificate *c =
            APR_ARRAY_IDX(conf->certificates, i, tls_certificate *);
        if (strcmp(c->id, id) == 0) {
            return c;
        }
    }
    return NULL;
}

/*
 * Which certificate serves each listener: its own tls.certificate, else
 * server.tls.certificate, else the only one defined.  An implicit-TLS
 * listener must have one.
 */
static int map_listeners(hr_server *srv, tls_config *conf, int all_loaded,
                         apr_array_header_t *errors)
{
    const hr_value *dflt_v = hr_value_lookup(srv->config,
                                             "server.tls.certificate");
    const char *dflt = NULL;
    int i, rv = 0;

    if (dflt_v != NULL && dflt_v->type == HR_VAL_STRING &&
        dflt_v->u.s[0] != '\0') {
        dflt = dflt_v->u.s;
        if (all_loaded && find_certificate(conf, dflt) == NULL) {
            config_error(srv, errors, dflt_v, "server.tls.certificate: no "
                         "[certificate.%s] is defined", dflt);
            rv = -1;
        }
    }
    else if (conf->certificates->nelts == 1) {
        dflt = APR_ARRAY_IDX(conf->certificates, 0, tls_certificate *)->id;
    }
    for (i = 0; i < srv->listeners->nelts; i++) {
        hr_listener *l = APR_ARRAY_IDX(srv->listeners, i, hr_listener *);
        const char *id = l->tls_certificate ? l->tls_certificate : dflt;
        const hr_value *where = hr_value_lookup(
            srv->config, apr_pstrcat(srv->pool, "server.listener.", l->id,
                                     l->tls_certificate ? ".tls.certificate"
                                                        : ".tls.implicit",
                                     NULL));
        tls_certificate *c = id ? find_certificate(conf, id) : NULL;

        if (id != NULL && c == NULL && l->tls_certificate != NULL &&
            all_loaded) {
            config_error(srv, errors, where, "listener '%s': no "
                         "[certificate.%s] is defined", l->id, id);
            rv = -1;
        }
        else if (c == NULL && l->tls_implicit && all_loaded) {
            /* RFC 8314 §3.3: implicit TLS cannot work without one */
            config_error(srv, errors, where, "listener '%s': tls.implicit "
                         "needs a certificate (server.tls.certificate or "
                         "server.listener.%s.tls.certificate)", l->id,
                         l->id);
            rv = -1;
        }
        if (c != NULL) {
            apr_hash_set(conf->by_listener, l->id, APR_HASH_KEY_STRING, c);
        }
    }
    return rv;
}

TLS_PRIVATE int tls_post_config(hr_server *srv, apr_pool_t *ptemp,
                                apr_array_header_t *errors)
{
    tls_config *conf = apr_pcalloc(srv->pool, sizeof(*conf));
    const hr_value *all = hr_value_lookup(srv->config, "certificate");
    tls_options opt = {0};
    int i, before = errors->nelts;

    conf->certificates = apr_array_make(srv->pool, 2,
                                        sizeof(tls_certificate *));
    conf->by_listener = apr_hash_make(srv->pool);
    hr_module_config(srv, &tls_module) = conf;
    if (load_options(srv, &opt, conf, errors) != 0) {
        return -1;
    }
    if (all != NULL && all->type != HR_VAL_TABLE) {
        config_error(srv, errors, all, "certificate must be a table of "
                     "certificates ([certificate.<id>])");
        return -1;
    }
    for (i = 0; all != NULL && i < all->u.table->entries->nelts; i++) {
        hr_table_entry *te =
            &APR_ARRAY_IDX(all->u.table->entries, i, hr_table_entry);
        tls_certificate *c = load_certificate(srv, te->key, te->value, &opt,
                                              conf, errors);
        if (c != NULL) {
            APR_ARRAY_PUSH(conf->certificates, tls_certificate *) = c;
            hr_log(HR_LOG_DEBUG, "certificate '%s' loaded", c->id);
        }
    }
    /* A certificate that failed was reported; do not pile "not defined"
     * errors on top of it. */
    map_listeners(srv, conf, errors->nelts == before, errors);
    return errors->nelts > before ? -1 : 0;
}

TLS_PRIVATE tls_certificate *tls_listener_certificate(hr_session *s)
{
    tls_config *conf = hr_module_config(s->server, &tls_module);

    if (conf == NULL) {
        return NULL;
    }
    return apr_hash_get(conf->by_listener, s->listener->id,
                        APR_HASH_KEY_STRING);
}

/* Does @c cover @name (exact names only, or wildcards too)? */
static int certificate_names(const tls_certificate *c, const char *name,
                             int wildcards)
{
    unsigned flags = wildcards ? X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS
                               : X509_CHECK_FLAG_NO_WILDCARDS;
    int rv = X509_check_host(c->leaf, name, strlen(name), flags, NULL);

    ERR_clear_error();
    return rv == 1;
}

/*
 * RFC 6066 §3: the client names the server it wants; serve the
 * certificate for that name.  Runs inside the handshake, on the worker
 * thread; reads only the generation's shared configuration.
 */
static int sni_callback(SSL *ssl, int *alert, void *arg)
{
    tls_config *conf = arg;
    const char *name = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
    SSL_CTX *current = SSL_get_SSL_CTX(ssl);
    tls_certificate *own = NULL;
    int pass, i;

    if (name == NULL || *name == '\0') {
        return SSL_TLSEXT_ERR_OK;
    }
    for (i = 0; i < conf->certificates->nelts; i++) {
        tls_certificate *c =
            APR_ARRAY_IDX(conf->certificates, i, tls_certificate *);
        if (c->ctx == current) {
            own = c;
        }
    }
    /* pass 0: exact names; pass 1: wildcards ("*.example.org") */
    for (pass = 0; pass < 2; pass++) {
        if (own != NULL && certificate_names(own, name, pass)) {
            return SSL_TLSEXT_ERR_OK;
        }
        for (i = 0; i < conf->certificates->nelts; i++) {
            tls_certificate *c =
                APR_ARRAY_IDX(conf->certificates, i, tls_certificate *);
            if (c != own && certificate_names(c, name, pass)) {
                SSL_set_SSL_CTX(ssl, c->ctx);
                return SSL_TLSEXT_ERR_OK;
            }
        }
    }
    /* no certificate names it: the listener's is the best we have */
    return SSL_TLSEXT_ERR_OK;
}
