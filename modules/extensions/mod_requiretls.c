/*
 * mod_requiretls.c -- REQUIRETLS (RFC 8689): the sender asks that the
 * message only travel over verified TLS from here on; and the opposite,
 * the "TLS-Required: No" header field, asks that recipient-side TLS
 * policies (MTA-STS, DANE) be ignored for it.
 *
 *     [server.modules]
 *     load = ["mod_tls", "mod_requiretls"]
 *     [session.extensions]
 *     requiretls = true           # expression; default false
 *
 * REQUIRETLS is advertised only on a TLS session (RFC 8689 §2: the
 * option may only be used over TLS) when the setting is true for it.
 * MAIL accepts the parameter without a value (a value: 501 5.5.4) and
 * the envelope records
 *
 *     requiretls = yes
 *
 * On a plaintext session REQUIRETLS is not advertised, so the core
 * refuses the parameter with 555 5.5.4 (RFC 5321 §4.1.1.11).
 *
 * Whatever the TLS state, the header section of each message is scanned
 * for "TLS-Required: No" (RFC 8689 §3, case-insensitive, folded or not);
 * RFC 8689 §4.1 has a server implementing the RFC tag such a message.
 * When present, and REQUIRETLS was not given on MAIL (RFC 8689 §3: the
 * option wins, the header field is ignored), the envelope records
 *
 *     requiretls.tls-required-header = no
 *
 * The scan is a small state machine fed by the body hook: it stops at
 * the empty line ending the header section and keeps at most a few dozen
 * octets per field, however long the lines are.
 */
#include <string.h>
#include <strings.h>
#include <apr_strings.h>
#include <apr_lib.h>

#include "herald.h"
#include "hr_module.h"

extern hr_module requiretls_module;

#define RT_SETTING "session.extensions.requiretls"
#define RT_FIELD_NAME "tls-required"
#define RT_NAME_MAX 16          /* longer names cannot be TLS-Required */
#define RT_VALUE_MAX 32         /* "No" with room for folding blanks */

/* Where the scanner is within the current header line. */
typedef enum {
    RT_NAME,                    /* reading a field name, up to ':' */
    RT_VALUE,                   /* reading the value of TLS-Required */
    RT_SKIP                     /* any other field, or a malformed line */
} rt_mode;

/* Per transaction: the header scanner. */
typedef struct rt_scan {
    int in_headers;             /* before the empty line */
    int line_start;             /* the next octet starts a line */
    rt_mode mode;
    char name[RT_NAME_MAX];
    apr_size_t name_len;
    char value[RT_VALUE_MAX];
    apr_size_t value_len;
    int value_overflow;
    int no_seen;                /* a "TLS-Required: No" field was seen */
} rt_scan;

/* REQUIRETLS is offered on TLS sessions where the setting is true. */
static int rt_advertise(hr_session *s, const char **line)
{
    return s->is_tls && hr_session_bool(s, RT_SETTING);
}

/* MAIL FROM:<...> REQUIRETLS */
static int rt_param(hr_session *s, hr_txn *t, hr_rcpt *r, const char *value)
{
    if (value != NULL) {
        /* RFC 8689 §2: the parameter has no value */
        hr_reply(s, 501, "5.5.4", "REQUIRETLS takes no value");
        return HR_DENY;
    }
    if (!s->is_tls) {
        /* XXX: unreachable while the core forgets the advertised list at
         * STARTTLS; kept so a plaintext session can never set the flag */
        hr_reply(s, 530, "5.7.10", "REQUIRETLS needs a TLS session");
        return HR_DENY;
    }
    hr_txn_set_field(t, "requiretls", "yes");
    hr_log_session(s, HR_LOG_INFO, "REQUIRETLS requested");
    return HR_OK;
}

/* The field just ended: was it "TLS-Required: No"? */
static void rt_end_field(rt_scan *sc)
{
    apr_size_t start = 0, end = sc->value_len;

    if (sc->mode != RT_VALUE || sc->value_overflow) {
        return;
    }
    /* RFC 8689 §3: "TLS-Required:" [FWS] "No"; blanks from folding and
     * trailing blanks are tolerated */
    while (start < end && (sc->value[start] == ' ' ||
                           sc->value[start] == '\t')) {
        start++;
    }
    while (end > start && (sc->value[end - 1] == ' ' ||
                           sc->value[end - 1] == '\t')) {
        end--;
    }
    if (end - start == 2 && apr_tolower(sc->value[start]) == 'n' &&
        apr_tolower(sc->value[start + 1]) == 'o') {
        sc->no_seen = 1;
    }
}

/* Feed @len octets of the message to the scanner. */
static void rt_scan_headers(rt_scan *sc, const char *data, apr_size_t len)
{
    apr_size_t i;

    for (i = 0; i < len && sc->in_headers; i++) {
        char ch = data[i];

        if (ch == '\r') {
            continue;           /* lines end with CRLF; LF decides */
        }
        if (sc->line_start) {
            sc->line_start = 0;
            if (ch == '\n') {
                rt_end_field(sc);       /* the empty line: body follows */
                sc->in_headers = 0;
                break;
            }
            if (ch == ' ' || ch == '\t') {
                /* RFC 5322 §2.2.3: a folded continuation of the field;
                 * its blanks belong to the value */
                if (sc->mode == RT_NAME) {
                    sc->mode = RT_SKIP;
                }
            }
            else {
                rt_end_field(sc);
                sc->mode = RT_NAME;
                sc->name_len = 0;
                sc->value_len = 0;
                sc->value_overflow = 0;
            }
        }
        if (ch == '\n') {
            sc->line_start = 1;
            if (sc->mode == RT_NAME) {
                sc->mode = RT_SKIP;     /* a line without a colon */
            }
            continue;
        }
        switch (sc->mode) {
        case RT_NAME:
            if (ch == ':') {
                /* RFC 5322 §4.5.3: obsolete blanks before the colon */
                while (sc->name_len > 0 &&
                       (sc->name[sc->name_len - 1] == ' ' ||
                        sc->name[sc->name_len - 1] == '\t')) {
                    sc->name_len--;
                }
                sc->mode = (sc->name_len == sizeof(RT_FIELD_NAME) - 1 &&
                            strncasecmp(sc->name, RT_FIELD_NAME,
                                        sc->name_len) == 0)
                               ? RT_VALUE : RT_SKIP;
            }
            else if (sc->name_len < sizeof(sc->name)) {
                sc->name[sc->name_len++] = ch;
            }
            else {
                sc->mode = RT_SKIP;
            }
            break;
        case RT_VALUE:
            if (sc->value_len < sizeof(sc->value)) {
                sc->value[sc->value_len++] = ch;
            }
            else {
                sc->value_overflow = 1;
            }
            break;
        case RT_SKIP:
            break;
        }
    }
}

static int rt_body(hr_session *s, hr_txn *t, const char *data,
                   apr_size_t len)
{
    rt_scan *sc = hr_txn_state(t, &requiretls_module);

    if (sc == NULL) {
        sc = apr_pcalloc(t->pool, sizeof(*sc));
        sc->in_headers = 1;
        sc->line_start = 1;
        sc->mode = RT_SKIP;
        hr_txn_state(t, &requiretls_module) = sc;
    }
    if (sc->in_headers) {
        rt_scan_headers(sc, data, len);
    }
    return HR_OK;
}

static int rt_data_end(hr_session *s, hr_txn *t)
{
    rt_scan *sc = hr_txn_state(t, &requiretls_module);
    const char *option = apr_table_get(t->fields, "requiretls");

    if (sc == NULL) {
        return HR_OK;
    }
    if (sc->in_headers) {
        rt_end_field(sc);       /* a message of header fields only */
    }
    /* RFC 8689 §3: with the REQUIRETLS option the header is ignored */
    if (sc->no_seen && (option == NULL || strcmp(option, "yes") != 0)) {
        hr_txn_set_field(t, "requiretls.tls-required-header", "no");
        hr_log_session(s, HR_LOG_INFO, "TLS-Required: No recorded");
    }
    return HR_OK;
}

static void rt_register_hooks(apr_pool_t *p)
{
    hr_hook_body(rt_body, NULL, NULL, APR_HOOK_MIDDLE);
    hr_hook_data_end(rt_data_end, NULL, NULL, APR_HOOK_MIDDLE);
}

static const hr_param rt_params[] = {
    {"REQUIRETLS", HR_PARAM_MAIL, rt_param},
    {NULL}};

static const hr_capability rt_capabilities[] = {
    {"REQUIRETLS", rt_advertise, rt_params, NULL},
    {NULL}};

static const hr_config_key rt_keys[] = {
    {RT_SETTING, HR_KEY_BOOL, HR_KEY_EXPR, "false", HR_VARS_EHLO,
     "advertise REQUIRETLS on TLS sessions (RFC 8689)"},
    {NULL}};

HR_MODULE(requiretls) = {HR_MODULE_STUFF, "mod_requiretls", rt_keys,
                         rt_capabilities, NULL, rt_register_hooks};
