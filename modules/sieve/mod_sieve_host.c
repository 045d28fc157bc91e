/*
 * mod_sieve_host.c -- what a running script asks of Herald, and what its
 * outcome does.
 *
 * The sieve_host callbacks answer for one sieve_call (a session at one
 * stage): ${env.NAME} and the environment test (RFC 5229, RFC 5183), the
 * :list match type against [list] (RFC 6134), the envelope (RFC 5228
 * §5.4), the header fields collected by mod_sieve_headers.c and the
 * message size.  sieve_execute() runs a program with them and turns the
 * result into the hook's answer: keep goes on, reject/ereject queue the
 * reply the script wrote (RFC 5429; on LMTP one per recipient), discard
 * answers 250 without queueing the message.
 */
#include <string.h>
#include <apr_strings.h>
#include <apr_lib.h>

#include "mod_sieve.h"

/* ------------------------------------------------ host: environment */

enum {
    SIEVE_ENV_HELO, SIEVE_ENV_REMOTE_IP, SIEVE_ENV_REMOTE_PORT,
    SIEVE_ENV_LOCAL_IP, SIEVE_ENV_LOCAL_PORT, SIEVE_ENV_LISTENER,
    SIEVE_ENV_AUTH, SIEVE_ENV_TLS, SIEVE_ENV_TLS_VERSION,
    SIEVE_ENV_TLS_CIPHER, SIEVE_ENV_SENDER, SIEVE_ENV_SENDER_DOMAIN,
    SIEVE_ENV_RCPT, SIEVE_ENV_RCPT_DOMAIN, SIEVE_ENV_STAGE,
    SIEVE_ENV_HOST, SIEVE_ENV_LOCATION, SIEVE_ENV_NAME, SIEVE_ENV_PHASE,
    SIEVE_ENV_VERSION
};

/* ${env.NAME} names (lower case) and RFC 5183 §4.1 environment items. */
static const struct {
    const char *name;
    int id;
} sieve_env_names[] = {
    {"helo_domain", SIEVE_ENV_HELO},
    {"remote_ip", SIEVE_ENV_REMOTE_IP},
    {"remote-ip", SIEVE_ENV_REMOTE_IP},
    {"remote_port", SIEVE_ENV_REMOTE_PORT},
    {"local_ip", SIEVE_ENV_LOCAL_IP},
    {"local_port", SIEVE_ENV_LOCAL_PORT},
    {"listener", SIEVE_ENV_LISTENER},
    {"authenticated_as", SIEVE_ENV_AUTH},
    {"tls", SIEVE_ENV_TLS},
    {"tls_version", SIEVE_ENV_TLS_VERSION},
    {"tls_cipher", SIEVE_ENV_TLS_CIPHER},
    {"sender", SIEVE_ENV_SENDER},
    {"sender_domain", SIEVE_ENV_SENDER_DOMAIN},
    {"rcpt", SIEVE_ENV_RCPT},
    {"rcpt_domain", SIEVE_ENV_RCPT_DOMAIN},
    {"stage", SIEVE_ENV_STAGE},
    {"domain", SIEVE_ENV_HOST},
    {"host", SIEVE_ENV_HOST},
    {"location", SIEVE_ENV_LOCATION},
    {"name", SIEVE_ENV_NAME},
    {"phase", SIEVE_ENV_PHASE},
    {"version", SIEVE_ENV_VERSION},
    {NULL, 0}};

static const char *sieve_host_env(void *ctx, const char *name)
{
    sieve_call *call = ctx;
    hr_session *s = call->s;
    int i;

    for (i = 0; sieve_env_names[i].name; i++) {
        if (strcasecmp(sieve_env_names[i].name, name) == 0) {
            break;
        }
    }
    switch (sieve_env_names[i].name ? sieve_env_names[i].id : -1) {
    case SIEVE_ENV_HELO:
        /* the core records the name only after the helo hook said OK */
        if (call->helo != NULL) {
            return call->helo;
        }
        return s->helo_domain ? s->helo_domain : "";
    case SIEVE_ENV_REMOTE_IP:
        return s->remote_ip ? s->remote_ip : "";
    case SIEVE_ENV_REMOTE_PORT:
        apr_snprintf(call->remote_port, sizeof(call->remote_port), "%u",
                     (unsigned)s->remote_port);
        return call->remote_port;
    case SIEVE_ENV_LOCAL_IP:
        return s->local_ip ? s->local_ip : "";
    case SIEVE_ENV_LOCAL_PORT:
        apr_snprintf(call->local_port, sizeof(call->local_port), "%u",
                     (unsigned)s->local_port);
        return call->local_port;
    case SIEVE_ENV_LISTENER:
        return s->listener->id;
    case SIEVE_ENV_AUTH:
        return s->authenticated_as ? s->authenticated_as : "";
    case SIEVE_ENV_TLS:
        return s->is_tls ? "true" : "false";
    case SIEVE_ENV_TLS_VERSION:
        return s->is_tls && s->tls_version ? s->tls_version : "";
    case SIEVE_ENV_TLS_CIPHER:
        return s->is_tls && s->tls_cipher ? s->tls_cipher : "";
    case SIEVE_ENV_SENDER:
        return call->txn ? call->txn->sender : "";
    case SIEVE_ENV_SENDER_DOMAIN:
        return call->txn && call->txn->sender_domain
                   ? call->txn->sender_domain : "";
    case SIEVE_ENV_RCPT:
        return call->rcpt ? call->rcpt->address : "";
    case SIEVE_ENV_RCPT_DOMAIN:
        return call->rcpt ? call->rcpt->domain : "";
    case SIEVE_ENV_STAGE:
        return sieve_stage_defs[call->stage].name;
    case SIEVE_ENV_HOST:
        return s->listener->hostname;
    case SIEVE_ENV_LOCATION:
        return "MTA";
    case SIEVE_ENV_NAME:
        return "Herald";
    case SIEVE_ENV_PHASE:
        return "pre";
    case SIEVE_ENV_VERSION:
        return HERALD_VERSION;
    default:
        return NULL;   /* unknown, or remote-host: not available */
    }
}

/* ------------------------------------------- host: lists, envelope */

/* "list/<name>" -> the [list] key, NULL for any other naming. */
static const char *sieve_list_key(const sieve_call *call, const char *list)
{
    if (strncmp(list, "list/", 5) != 0 ||
        !hr_lists_exists(call->conf->lists, list + 5)) {
        return NULL;
    }
    return list + 5;
}

static int sieve_host_list_contains(void *ctx, const char *list,
                                    const char *value, apr_size_t len,
                                    int casefold)
{
    sieve_call *call = ctx;
    const char *key = sieve_list_key(call, list);

    if (key == NULL) {
        return -1;
    }
    if (strlen(value) != len) {
        return 0;   /* a NUL inside: no list entry holds one */
    }
    return hr_lists_contains(call->conf->lists, key, value, casefold) ? 1
                                                                       : 0;
}

static int sieve_host_list_exists(void *ctx, const char *list)
{
    return sieve_list_key(ctx, list) != NULL;
}

/* RFC 5228 §5.4: "from" is the reverse-path, "to" the forward-paths. */
static const char *sieve_host_envelope(void *ctx, const char *part,
                                       unsigned index)
{
    sieve_call *call = ctx;
    hr_txn *txn = call->txn;

    if (txn == NULL) {
        return NULL;
    }
    if (strcmp(part, "from") == 0) {
        return index == 0 ? txn->sender : NULL;
    }
    if (strcmp(part, "to") == 0) {
        if (call->stage == SIEVE_AT_RCPT) {
            return index == 0 && call->rcpt ? call->rcpt->address : NULL;
        }
        if (call->stage == SIEVE_AT_DATA &&
            index < (unsigned)txn->rcpts->nelts) {
            return APR_ARRAY_IDX(txn->rcpts, index, hr_rcpt *)->address;
        }
        return NULL;
    }
    return NULL;
}

static apr_off_t sieve_host_size(void *ctx)
{
    sieve_call *call = ctx;

    return call->stage == SIEVE_AT_DATA && call->txn ? call->txn->size : -1;
}

/* --------------------------------------------- host: header section */

static const char *sieve_host_header(void *ctx, const char *name,
                                     unsigned index)
{
    sieve_call *call = ctx;
    char lower[SIEVE_HEADER_NAME_MAX + 1];
    apr_array_header_t *values;
    apr_size_t i;

    if (call->headers == NULL) {
        return NULL;
    }
    for (i = 0; name[i] != '\0'; i++) {
        if (i == SIEVE_HEADER_NAME_MAX) {
            return NULL;
        }
        lower[i] = (char)apr_tolower(name[i]);
    }
    lower[i] = '\0';
    values = apr_hash_get(call->headers->fields, lower, (apr_ssize_t)i);
    if (values == NULL || index >= (unsigned)values->nelts) {
        return NULL;
    }
    return APR_ARRAY_IDX(values, index, const char *);
}

static const sieve_host sieve_host_callbacks = {
    sieve_host_env,
    sieve_host_list_contains,
    sieve_host_list_exists,
    sieve_host_envelope,
    sieve_host_header,
    sieve_host_size};

/* ------------------------------------------------------- running */

/* Is @s (@len octets) an enhanced status code "C.S.D" (RFC 3463 §2:
 * class 2, 4 or 5, subject and detail of 1 to 3 digits)? */
static int sieve_enhanced_code(const char *s, apr_size_t len)
{
    apr_size_t i = 2, digits;
    int part;

    if (len < 5 || (s[0] != '2' && s[0] != '4' && s[0] != '5') ||
        s[1] != '.') {
        return 0;
    }
    for (part = 0; part < 2; part++) {
        for (digits = 0; i < len && apr_isdigit(s[i]); i++) {
            digits++;
        }
        if (digits < 1 || digits > 3) {
            return 0;
        }
        if (part == 0) {
            if (i >= len || s[i] != '.') {
                return 0;
            }
            i++;
        }
    }
    return i == len;
}

/*
 * Queue the reply of reject/ereject (RFC 5429 §2.1.1: at SMTP time the
 * refusal is the protocol reply).  Returns the SMTP code used.
 */
static int sieve_reject_reply(hr_session *s, const char *reason,
                              int dflt_code, const char *prefix)
{
    char esc[16];
    const char *text = reason;
    int code = dflt_code, lines = 1;
    const char *enhanced = "5.7.1";
    char *out, *o;
    apr_size_t n;

    /* "550 5.7.1 text" or "451 text": the reply as written */
    if ((text[0] == '4' || text[0] == '5') && text[1] >= '0' &&
        text[1] <= '5' && apr_isdigit(text[2]) &&
        (text[3] == ' ' || text[3] == '\0' || text[3] == '\r' ||
         text[3] == '\n')) {
        char class = text[0];

        code = (text[0] - '0') * 100 + (text[1] - '0') * 10 + text[2] - '0';
        text += 3;
        while (*text == ' ') {
            text++;
        }
        n = strcspn(text, " \r\n");
        if (sieve_enhanced_code(text, n)) {
            /* RFC 3463 §2: the class must be the reply's */
            apr_snprintf(esc, sizeof(esc), "%c%.*s", class, (int)n - 1,
                         text + 1);
            text += n;
            while (*text == ' ') {
                text++;
            }
        }
        else {
            apr_snprintf(esc, sizeof(esc), "%c.0.0", class);
        }
        enhanced = esc;
    }
    /* one reply line per line of the reason; CRs and empty lines out */
    out = apr_palloc(s->pool, strlen(text) + 1);
    for (o = out; *text != '\0'; text++) {
        if (*text == '\r') {
            continue;
        }
        if (*text == '\n') {
            if (o > out && o[-1] != '\n') {
                *o++ = lines < SIEVE_REPLY_LINES ? '\n' : ' ';
                lines++;
            }
            continue;
        }
        *o++ = *text;
    }
    while (o > out && o[-1] == '\n') {
        o--;
    }
    *o = '\0';
    if (*out == '\0') {
        out = "Rejected by local policy";
    }
    if (prefix != NULL) {
        hr_reply(s, code, enhanced, "%s %s", prefix, out);
    }
    else {
        hr_reply(s, code, enhanced, "%s", out);
    }
    return code;
}

/*
 * Run @prog and enforce its outcome at this stage.  Returns the hook's
 * answer: HR_OK to go on, HR_DENY after a refusal was queued,
 * HR_DISCONNECT for a 421.
 */
int sieve_execute(sieve_call *call, const char *name,
                  const sieve_program *prog)
{
    hr_session *s = call->s;
    const char *stage = sieve_stage_defs[call->stage].name;
    sieve_result res;
    int code = 0, i, n;

    sieve_run(prog, &sieve_host_callbacks, call, call->conf->budget, &res);
    if (res.status == SIEVE_EBUDGET) {
        hr_log_session(s, HR_LOG_WARNING, "sieve: script '%s' (%s stage) "
                       "ran out of its budget of %u instructions; implicit "
                       "keep", name, stage, call->conf->budget);
        return HR_OK;
    }
    if (res.status == SIEVE_ERUNTIME) {
        hr_log_session(s, HR_LOG_WARNING, "sieve: script '%s' (%s stage) "
                       "line %d: %s; implicit keep", name, stage,
                       res.error_line,
                       hr_log_escape(s->pool, res.error, 256));
        return HR_OK;
    }
    switch (res.action) {
    case SIEVE_REJECT:
    case SIEVE_EREJECT:
        hr_log_session(s, HR_LOG_INFO, "sieve: script '%s' (%s stage): %s "
                       "\"%s\"", name, stage,
                       res.action == SIEVE_REJECT ? "reject" : "ereject",
                       hr_log_escape(s->pool, res.reject_text, 256));
        n = call->stage == SIEVE_AT_DATA && s->listener->lmtp
                ? call->txn->rcpts->nelts : 1;
        for (i = 0; i < n; i++) {
            /* RFC 2033 §4.2: LMTP answers the DATA once per recipient */
            const char *who = NULL;

            if (call->stage == SIEVE_AT_DATA && s->listener->lmtp) {
                who = apr_psprintf(s->pool, "<%s>",
                                   APR_ARRAY_IDX(call->txn->rcpts, i,
                                                 hr_rcpt *)->address);
            }
            code = sieve_reject_reply(s, res.reject_text,
                                      call->stage == SIEVE_AT_CONNECT ? 554
                                                                      : 550,
                                      who);
        }
        /* RFC 5321 §3.8: 421 means the server closes the channel */
        return code == 421 ? HR_DISCONNECT : HR_DENY;
    case SIEVE_DISCARD:
        if (call->stage != SIEVE_AT_DATA) {
            hr_log_session(s, HR_LOG_INFO, "sieve: script '%s' (%s stage): "
                           "discard has no message to drop before DATA; "
                           "keep", name, stage);
            return HR_OK;
        }
        /* RFC 5228 §4.5: silently thrown away.  DENY keeps the core from
         * queueing it; the 250 is the script's own decision. */
        hr_log_session(s, HR_LOG_NOTICE, "sieve: script '%s' (%s stage): "
                       "message from <%s> discarded, not queued", name,
                       stage, hr_log_escape(s->pool, call->txn->sender, 256));
        n = s->listener->lmtp ? call->txn->rcpts->nelts : 1;
        for (i = 0; i < n; i++) {
            if (s->listener->lmtp) {
                hr_reply(s, 250, "2.0.0", "<%s> Message accepted",
                         APR_ARRAY_IDX(call->txn->rcpts, i,
                                       hr_rcpt *)->address);
            }
            else {
                hr_reply(s, 250, "2.0.0", "Message accepted");
            }
        }
        return HR_DENY;
    case SIEVE_KEEP:
    default:
        hr_log_session(s, HR_LOG_DEBUG, "sieve: script '%s' (%s stage): "
                       "keep (%u steps)", name, stage, res.steps);
        return HR_OK;
    }
}
