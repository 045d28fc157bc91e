/*
 * mod_auth.c -- SMTP AUTH (RFC 4954) with SASL PLAIN (RFC 4616) and LOGIN,
 * checked against an htpasswd file.
 *
 *     [server.modules]
 *     load = ["mod_auth"]
 *     [session.auth]
 *     mechanisms = ["PLAIN", "LOGIN"]        # expression; [] = no AUTH
 *     lookup = "file://users.htpasswd"       # beside the config file
 *     require = [ { if = "listener", eq = "submission", then = true },
 *                 { else = false } ]         # MAIL before AUTH: 530 5.7.0
 *     allow-plain-text = false               # AUTH only after STARTTLS
 *     [session.auth.errors]
 *     max = 3                                # failures before 421 4.7.0
 *     wait = "5s"
 *     [session.rcpt]
 *     relay = [ { if = "authenticated-as", ne = "", then = true },
 *               { else = false } ]
 *
 * users.htpasswd holds "user:hash" lines as written by `htpasswd -B`
 * (bcrypt $2y$), `htpasswd -m` ($apr1$), `htpasswd -s` ({SHA}) or
 * `openssl passwd -6` (SHA-512-crypt $6$, also $5$); '#' starts a
 * comment.  APR-util's apr_password_validate() checks them.  The file is
 * read at load and again on every reload (a new configuration
 * generation); a missing file, a line without a hash or an unknown hash
 * scheme is a configuration error with FILE:LINE.
 *
 * AUTH is advertised (EHLO "AUTH PLAIN LOGIN") when the session is
 * encrypted or allow-plain-text is true, and stays advertised after a
 * successful AUTH: RFC 4954 §5 ties the MAIL parameter AUTH= to the
 * extension, and an authenticated client is the one that may use it.  A
 * second AUTH is refused with 503 5.5.1 (RFC 4954 §4).
 *
 * After 235, s->authenticated_as holds the user, so expressions such as
 * `relay` or `session.extensions.dsn` can test `authenticated-as`; the
 * spooled envelope records it.  MAIL FROM's AUTH=<mailbox> is kept as the
 * envelope field "auth.mail" (RFC 4954 §5).
 *
 * User names and passwords are compared as octets.  XXX RFC 4954 §4
 * says both sides SHOULD prepare them with SASLprep (RFC 4013); that is
 * not done, so a name written in another Unicode normalization form
 * does not match (ASCII names, the usual case, are unaffected).
 *
 * A failed AUTH is also a protocol error (hr_session_error, with its
 * session.errors.wait tarpit); its reply is held for the longer of that
 * and session.auth.errors.wait, which slows password guessing without
 * holding a worker thread (hr_session_delay).
 */
#include <stdarg.h>
#include <string.h>
#include <apr_strings.h>
#include <apr_lib.h>
#include <apr_md5.h>          /* apr_password_validate */
#include <apr_file_io.h>

#include "herald.h"
#include "hr_module.h"
#include "hr_smtp.h" /* hr_parse_mailbox: the public parsers */
#include "sasl_parse.h"

extern hr_module auth_module;

#define AUTH_HTPASSWD_MAX (16 * 1024 * 1024)  /* octets read from lookup */
#define AUTH_USER_MAX SASL_FIELD_MAX

/* Hash schemes apr_password_validate() checks (crypt(3) for $5$/$6$). */
static const char *const auth_schemes[] = {
    "$2y$", "$2a$", "$2b$", "$apr1$", "$5$", "$6$", "{SHA}", NULL};

/** Per configuration generation. */
typedef struct auth_config {
    apr_hash_t *users;         /* user -> hash */
    const char *decoy_hash;    /* checked for unknown users (same cost) */
} auth_config;

/** Per session. */
typedef struct auth_state {
    unsigned failures;         /* failed AUTH commands */
    apr_pool_t *pool;          /* the exchange in progress, or NULL */
    sasl_exchange x;
} auth_state;

/* ------------------------------------------------------------ settings */

/* Does the session allow AUTH over this connection? */
static int auth_transport_ok(hr_session *s)
{
    /* RFC 4954 §4: a server MUST offer a configuration without plaintext
     * password mechanisms before STARTTLS; it is the default here */
    return s->is_tls || hr_session_bool(s, "session.auth.allow-plain-text");
}

/*
 * The mechanisms offered to this session, known ones only, in the order
 * configured, without duplicates.  Fills @on (indexed by sasl_mech) and
 * returns the EHLO text ("PLAIN LOGIN"), or NULL when there is none.
 */
static const char *auth_mechanisms(hr_session *s, int on[SASL_MECH_COUNT])
{
    const hr_value *v = hr_session_eval(s, "session.auth.mechanisms");
    const char *text = NULL;
    int i;

    memset(on, 0, sizeof(int) * SASL_MECH_COUNT);
    if (v->type != HR_VAL_ARRAY) {
        return NULL;
    }
    for (i = 0; i < v->u.array->nelts; i++) {
        const hr_value *m = APR_ARRAY_IDX(v->u.array, i, hr_value *);
        sasl_mech mech;

        if (m->type != HR_VAL_STRING ||
            (mech = sasl_mech_by_name(m->u.s)) == SASL_MECH_UNKNOWN ||
            on[mech]) {
            continue;
        }
        on[mech] = 1;
        text = text ? apr_pstrcat(s->pool, text, " ", sasl_mech_name(mech),
                                  NULL)
                    : sasl_mech_name(mech);
    }
    return text;
}

static auth_state *auth_session(hr_session *s)
{
    auth_state *st = hr_session_state(s, &auth_module);

    if (st == NULL) {
        st = apr_pcalloc(s->pool, sizeof(*st));
        hr_session_state(s, &auth_module) = st;
    }
    return st;
}

/* ---------------------------------------------------------- advertising */

static int auth_advertise(hr_session *s, const char **line)
{
    int on[SASL_MECH_COUNT];
    const char *mechs;

    if (!auth_transport_ok(s)) {
        return 0;
    }
    mechs = auth_mechanisms(s, on);
    if (mechs == NULL) {
        return 0;
    }
    /* RFC 4954 §3: the keyword's parameters are the mechanisms */
    *line = apr_pstrcat(s->pool, "AUTH ", mechs, NULL);
    return 1;
}

/* ------------------------------------------------------------- exchange */

/* Pool cleanup of an exchange: the password never outlives it, even
 * when the connection drops in the middle. */
static apr_status_t auth_wipe_cleanup(void *data)
{
    auth_state *st = data;

    sasl_wipe(&st->x);
    st->pool = NULL;
    return APR_SUCCESS;
}

/* Forget the exchange: wipe the password and free what it used. */
static void auth_end_exchange(auth_state *st)
{
    if (st->pool != NULL) {
        apr_pool_destroy(st->pool);   /* runs auth_wipe_cleanup */
    }
}

/* Are the credentials right?  Unknown users cost as much as known ones. */
static int auth_check_password(hr_session *s, const char *user,
                               const char *passwd)
{
    auth_config *conf = hr_module_config(s->server, &auth_module);
    const char *hash = apr_hash_get(conf->users, user, APR_HASH_KEY_STRING);

    if (hash == NULL) {
        /* no timing oracle for which user names exist */
        if (conf->decoy_hash != NULL) {
            apr_password_validate(passwd, conf->decoy_hash);
        }
        return 0;
    }
    return apr_password_validate(passwd, hash) == APR_SUCCESS;
}

/* A failed AUTH: 535, counted; 421 and close past errors.max. */
static int auth_failed(hr_session *s, auth_state *st, const char *user,
                       const char *why)
{
    apr_int64_t max = 3, wait = 0;

    st->failures++;
    hr_log_session(s, HR_LOG_NOTICE, "AUTH %s failed for [%s] user '%s': %s",
                   sasl_mech_name(st->x.mech), s->remote_ip,
                   hr_log_escape(s->pool, user ? user : "", 64), why);
    hr_reply(s, 535, "5.7.8", "Authentication credentials invalid");
    hr_session_int(s, "session.auth.errors.max", &max);
    if (max > 0 && st->failures >= (apr_uint64_t)max) {
        hr_reply(s, 421, "4.7.0", "%s Too many failed authentications, "
                 "closing connection", s->listener->hostname);
        hr_session_close(s);
        return HR_DISCONNECT;
    }
    if (hr_session_int(s, "session.auth.errors.wait", &wait) && wait > 0) {
        hr_session_delay(s, apr_time_from_msec(wait));
    }
    return hr_session_error(s);
}

/* The credentials are complete: check them and answer. */
static int auth_finish(hr_session *s, auth_state *st)
{
    sasl_exchange *x = &st->x;

    /* RFC 4616 §2: an authzid other than the authcid asks to act as
     * someone else; nobody may here. */
    if (x->authzid[0] != '\0' && strcmp(x->authzid, x->authcid) != 0) {
        return auth_failed(s, st, x->authcid,
                           "authorization identity not allowed");
    }
    if (!auth_check_password(s, x->authcid, x->passwd)) {
        return auth_failed(s, st, x->authcid, "wrong user or password");
    }
    s->authenticated_as = apr_pstrdup(s->pool, x->authcid);
    hr_log_session(s, HR_LOG_INFO, "AUTH %s: authenticated as '%s'",
                   sasl_mech_name(x->mech),
                   hr_log_escape(s->pool, s->authenticated_as, 64));
    /* RFC 4954 §4 */
    hr_reply(s, 235, "2.7.0", "Authentication successful");
    return HR_OK;
}

static void auth_line(hr_session *s, const char *line, apr_size_t len,
                      void *baton);

/* Act on what the SASL layer said.  Returns HR_OK or HR_DISCONNECT. */
static int auth_progress(hr_session *s, auth_state *st, sasl_status status)
{
    int rv;

    switch (status) {
    case SASL_CONTINUE:
        /* RFC 4954 §4: "334" SP base64; no enhanced code on a
         * continuation (RFC 2034 §3 covers 2xx, 4xx and 5xx only) */
        hr_reply(s, 334, NULL, "%s", st->x.challenge);
        hr_session_read_line(s, auth_line, st);
        return HR_OK;
    case SASL_DONE:
        rv = auth_finish(s, st);
        break;
    case SASL_CANCELLED:
        /* RFC 4954 §4: a "*" line cancels with 501 */
        hr_reply(s, 501, "5.7.0", "Authentication cancelled");
        rv = HR_OK;
        break;
    case SASL_BAD_BASE64:
        /* RFC 4954 §4: a response that cannot be decoded gets 501 */
        hr_reply(s, 501, "5.5.2", "Cannot decode the base64 response");
        rv = hr_session_error(s);
        break;
    case SASL_TOO_LONG:
        /* RFC 4954 §6 */
        hr_reply(s, 500, "5.5.6", "Authentication Exchange line is too "
                 "long");
        rv = hr_session_error(s);
        break;
    case SASL_MALFORMED:
    default:
        rv = auth_failed(s, st, st->x.authcid,
                         st->x.why ? st->x.why : "malformed response");
        break;
    }
    auth_end_exchange(st);
    return rv == HR_DISCONNECT ? HR_DISCONNECT : HR_OK;
}

/* A client line during the exchange (hr_session_read_line). */
static void auth_line(hr_session *s, const char *line, apr_size_t len,
                      void *baton)
{
    auth_state *st = baton;

    if (st->pool == NULL) {
        return;   /* cannot happen: the exchange owns the line reader */
    }
    if (auth_progress(s, st, sasl_step(st->pool, &st->x, line, len))
        == HR_DISCONNECT) {
        hr_session_close(s);
    }
}

/* --------------------------------------------------------------- verb */

static int auth_verb(hr_session *s, const char *args)
{
    auth_state *st = auth_session(s);
    int on[SASL_MECH_COUNT];
    const char *space, *initial = NULL;
    char *name;
    sasl_mech mech;

    /* RFC 4954 §4: no second AUTH once one succeeded */
    if (s->authenticated_as != NULL) {
        hr_reply(s, 503, "5.5.1", "Already authenticated");
        return hr_session_error(s);
    }
    /* RFC 4954 §4: not during a mail transaction */
    if (s->txn != NULL) {
        hr_reply(s, 503, "5.5.1", "AUTH is not permitted during a mail "
                 "transaction");
        return hr_session_error(s);
    }
    /* RFC 4954 §3: AUTH is a service extension, negotiated by EHLO */
    if (!s->esmtp) {
        hr_reply(s, 503, "5.5.1", "Send EHLO first");
        return hr_session_error(s);
    }
    if (!auth_transport_ok(s)) {
        /* RFC 4954 §6 */
        hr_reply(s, 538, "5.7.11", "Encryption required for requested "
                 "authentication mechanism");
        return hr_session_error(s);
    }
    if (!hr_session_advertised(s, "AUTH")) {
        hr_reply(s, 502, "5.5.1", "AUTH is not available");
        return hr_session_error(s);
    }

    /* "AUTH" SP sasl-mech [SP initial-response] (RFC 4954 §4); the
     * initial response's length is checked with its base64 */
    space = strchr(args, ' ');
    name = space ? apr_pstrmemdup(s->pool, args, space - args)
                 : apr_pstrdup(s->pool, args);
    if (space != NULL) {
        initial = space + 1;
        if (*initial == '\0' || strchr(initial, ' ') != NULL) {
            hr_reply(s, 501, "5.5.4", "Syntax: AUTH mechanism "
                     "[initial-response]");
            return hr_session_error(s);
        }
    }
    if (!sasl_mech_name_valid(name)) {
        hr_reply(s, 501, "5.5.4", "Syntax: AUTH mechanism "
                 "[initial-response]");
        return hr_session_error(s);
    }
    mech = sasl_mech_by_name(name);
    auth_mechanisms(s, on);
    if (mech == SASL_MECH_UNKNOWN || !on[mech]) {
        /* RFC 4954 §4 */
        hr_reply(s, 504, "5.5.4", "Unrecognized authentication type");
        return hr_session_error(s);
    }

    auth_end_exchange(st);   /* nothing should be left; be sure */
    apr_pool_create(&st->pool, s->pool);
    apr_pool_cleanup_register(st->pool, st, auth_wipe_cleanup,
                              apr_pool_cleanup_null);
    return auth_progress(s, st, sasl_start(st->pool, &st->x, mech, initial));
}

/* ------------------------------------------------------ MAIL parameter */

/*
 * MAIL FROM:<...> AUTH=<mailbox> or AUTH=<> (RFC 4954 §5): xtext whose
 * decoded form is an addr-spec or "<>".  Only an authenticated session is
 * trusted with it; any other "MUST behave as if AUTH=<>" was given.
 */
static int auth_mail_param(hr_session *s, hr_txn *t, hr_rcpt *r,
                           const char *value)
{
    const char *decoded, *why = NULL;
    hr_path path;

    if (value == NULL || *value == '\0') {
        hr_reply(s, 501, "5.5.4", "AUTH= needs a mailbox or <>");
        return HR_DENY;
    }
    decoded = hr_xtext_decode(t->pool, value);
    if (decoded == NULL) {
        hr_reply(s, 501, "5.5.4", "Invalid xtext in AUTH=");
        return HR_DENY;
    }
    if (strcmp(decoded, "<>") != 0 &&
        (decoded[0] == '<' ||
         hr_parse_mailbox(t->pool, decoded, 0, &path, &why)
             != HR_PARSE_OK)) {
        hr_reply(s, 501, "5.5.4", "Invalid mailbox in AUTH=");
        return HR_DENY;
    }
    hr_txn_set_field(t, "auth.mail", s->authenticated_as ? decoded : "<>");
    return HR_OK;
}

/* ---------------------------------------------------------------- hooks */

/* session.auth.require: MAIL before AUTH is refused (RFC 4954 §6). */
static int auth_mail(hr_session *s, hr_txn *t)
{
    if (s->authenticated_as == NULL &&
        hr_session_bool(s, "session.auth.require")) {
        hr_reply(s, 530, "5.7.0", "Authentication required");
        return hr_session_error(s);
    }
    return HR_OK;
}

static void auth_register_hooks(apr_pool_t *p)
{
    hr_hook_mail(auth_mail, NULL, NULL, APR_HOOK_FIRST);
}

/* ---------------------------------------------------------- post_config */

/*
 * Every mechanism named in session.auth.mechanisms, constant or in the
 * `then`/`else` of a rule, must be one this module implements.
 */
static int auth_check_mechanisms(hr_server *srv, const hr_value *v,
                                 apr_array_header_t *errors)
{
    int i, nerr = 0;

    switch (v->type) {
    case HR_VAL_STRING:
        if (sasl_mech_by_name(v->u.s) == SASL_MECH_UNKNOWN) {
            hr_config_error(srv, errors, v->file, v->line, "session.auth."
                       "mechanisms: unknown SASL mechanism \"%s\" (mod_auth "
                       "offers PLAIN and LOGIN)", v->u.s);
            nerr++;
        }
        break;
    case HR_VAL_ARRAY:
        for (i = 0; i < v->u.array->nelts; i++) {
            nerr += auth_check_mechanisms(
                srv, APR_ARRAY_IDX(v->u.array, i, hr_value *), errors);
        }
        break;
    case HR_VAL_TABLE: {
        const hr_value *then = hr_table_get(v->u.table, "then");
        const hr_value *otherwise = hr_table_get(v->u.table, "else");
        if (then != NULL) {
            nerr += auth_check_mechanisms(srv, then, errors);
        }
        if (otherwise != NULL) {
            nerr += auth_check_mechanisms(srv, otherwise, errors);
        }
        break;
    }
    default:
        break;   /* the expression compiler reports wrong types */
    }
    return nerr;
}

/* Is @hash in a scheme apr_password_validate() checks safely? */
static int auth_scheme_known(const char *hash)
{
    int i;

    for (i = 0; auth_schemes[i] != NULL; i++) {
        if (strncmp(hash, auth_schemes[i], strlen(auth_schemes[i])) == 0) {
            return hash[strlen(auth_schemes[i])] != '\0';
        }
    }
    return 0;
}

/* Read "user:hash" lines into conf->users.  Returns the error count. */
static int auth_load_htpasswd(hr_server *srv, apr_pool_t *ptemp,
                              auth_config *conf, const char *path,
                              const hr_value *where,
                              apr_array_header_t *errors)
{
    apr_file_t *f;
    apr_finfo_t fi;
    apr_status_t rv;
    apr_size_t size;
    char *text, *line, *next, err[128];
    int lineno = 0, nerr = 0;

    rv = apr_file_open(&f, path, APR_FOPEN_READ, APR_FPROT_OS_DEFAULT,
                       ptemp);
    if (rv == APR_SUCCESS) {
        rv = apr_file_info_get(&fi, APR_FINFO_SIZE, f);
    }
    if (rv != APR_SUCCESS) {
        hr_config_error(srv, errors, where->file, where->line, "session.auth."
                   "lookup: cannot read %s: %s", path,
                   apr_strerror(rv, err, sizeof(err)));
        return 1;
    }
    if (fi.size > AUTH_HTPASSWD_MAX) {
        hr_config_error(srv, errors, where->file, where->line, "session.auth."
                   "lookup: %s is larger than %d octets", path,
                   AUTH_HTPASSWD_MAX);
        return 1;
    }
    size = (apr_size_t)fi.size;
    text = apr_palloc(ptemp, size + 1);
    rv = apr_file_read_full(f, text, size, &size);
    apr_file_close(f);
    if (rv != APR_SUCCESS && rv != APR_EOF) {
        hr_config_error(srv, errors, where->file, where->line, "session.auth."
                   "lookup: cannot read %s: %s", path,
                   apr_strerror(rv, err, sizeof(err)));
        return 1;
    }
    text[size] = '\0';
    if (memchr(text, '\0', size) != NULL) {
        hr_config_error(srv, errors, path, 0, "not a text file (NUL octet)");
        return 1;
    }

    for (line = text; line != NULL && *line != '\0'; line = next) {
        char *colon, *end, *hash;

        lineno++;
        next = strchr(line, '\n');
        if (next != NULL) {
            *next++ = '\0';
        }
        end = line + strlen(line);
        while (end > line && apr_isspace(end[-1])) {
            *--end = '\0';
        }
        while (apr_isspace(*line)) {
            line++;
        }
        if (*line == '\0' || *line == '#') {
            continue;
        }
        colon = strchr(line, ':');
        if (colon == NULL || colon == line) {
            hr_config_error(srv, errors, path, lineno, "expected user:hash");
            nerr++;
            continue;
        }
        *colon = '\0';
        hash = colon + 1;
        if (colon - line > AUTH_USER_MAX) {
            hr_config_error(srv, errors, path, lineno, "user name longer than "
                       "%d octets", AUTH_USER_MAX);
            nerr++;
            continue;
        }
        if (!auth_scheme_known(hash) || strchr(hash, ':') != NULL) {
            hr_config_error(srv, errors, path, lineno, "user '%s': unsupported "
                       "password hash (use bcrypt $2y$, SHA-512-crypt $6$, "
                       "SHA-256-crypt $5$, $apr1$ or {SHA})", line);
            nerr++;
            continue;
        }
        if (apr_hash_get(conf->users, line, APR_HASH_KEY_STRING) != NULL) {
            hr_config_error(srv, errors, path, lineno, "user '%s' is defined "
                       "twice", line);
            nerr++;
            continue;
        }
        apr_hash_set(conf->users, apr_pstrdup(srv->pool, line),
                     APR_HASH_KEY_STRING, apr_pstrdup(srv->pool, hash));
        if (conf->decoy_hash == NULL) {
            conf->decoy_hash = apr_pstrdup(srv->pool, hash);
        }
    }
    return nerr;
}

static int auth_post_config(hr_server *srv, apr_pool_t *ptemp,
                            apr_array_header_t *errors)
{
    auth_config *conf = apr_pcalloc(srv->pool, sizeof(*conf));
    const hr_value *mechs, *lookup;
    const char *path;
    int nerr = 0;

    conf->users = apr_hash_make(srv->pool);
    hr_module_config(srv, &auth_module) = conf;

    mechs = hr_value_lookup(srv->config, "session.auth.mechanisms");
    if (mechs != NULL) {
        nerr += auth_check_mechanisms(srv, mechs, errors);
    }
    lookup = hr_value_lookup(srv->config, "session.auth.lookup");
    if (lookup == NULL) {
        hr_config_error(srv, errors, srv->config_file, 0, "mod_auth is loaded "
                   "but session.auth.lookup (\"file://users.htpasswd\") is "
                   "not set");
        return -1;
    }
    if (lookup->type != HR_VAL_STRING ||
        strncmp(lookup->u.s, "file://", 7) != 0 || lookup->u.s[7] == '\0') {
        hr_config_error(srv, errors, lookup->file, lookup->line, "session.auth."
                   "lookup must be \"file://PATH\" (an htpasswd file)");
        return -1;
    }
    path = lookup->u.s + 7;
    if (path[0] != '/') {
        path = apr_pstrcat(ptemp, srv->config_dir, "/", path, NULL);
    }
    nerr += auth_load_htpasswd(srv, ptemp, conf, path, lookup, errors);
    return nerr ? -1 : 0;
}

/* -------------------------------------------------------------- record */

static const hr_param auth_params[] = {
    {"AUTH", HR_PARAM_MAIL, auth_mail_param},
    {NULL}};

/* Not HR_VERB_ADVERTISED: AUTH over plain text must get 538, not 502.
 * A group end: the client waits for 334/235 (RFC 4954 §4). */
static const hr_verb auth_verbs[] = {
    {"AUTH", HR_VERB_GROUP_END, auth_verb},
    {NULL}};

static const hr_capability auth_capabilities[] = {
    {"AUTH", auth_advertise, auth_params, auth_verbs},
    {NULL}};

static const hr_config_key auth_keys[] = {
    {"session.auth.mechanisms", HR_KEY_STRING_LIST, HR_KEY_EXPR,
     "[\"PLAIN\", \"LOGIN\"]", HR_VARS_EHLO,
     "SASL mechanisms offered: PLAIN, LOGIN ([] disables AUTH)"},
    {"session.auth.lookup", HR_KEY_STRING, 0, NULL, 0,
     "credentials: \"file://users.htpasswd\" (htpasswd format)"},
    {"session.auth.require", HR_KEY_BOOL, HR_KEY_EXPR, "false",
     HR_VARS_MAIL, "refuse MAIL before AUTH (530 5.7.0)"},
    {"session.auth.allow-plain-text", HR_KEY_BOOL, HR_KEY_EXPR, "false",
     HR_VARS_EHLO, "offer AUTH without TLS (else 538 5.7.11)"},
    {"session.auth.errors.max", HR_KEY_INTEGER, HR_KEY_EXPR, "3",
     HR_VARS_EHLO, "failed AUTH commands before 421 4.7.0 (0: no limit)"},
    {"session.auth.errors.wait", HR_KEY_DURATION, HR_KEY_EXPR, "\"1s\"",
     HR_VARS_EHLO, "delay of the reply to a failed AUTH"},
    {NULL}};

HR_MODULE(auth) = {HR_MODULE_STUFF, "mod_auth", auth_keys,
                   auth_capabilities, auth_post_config,
                   auth_register_hooks};
