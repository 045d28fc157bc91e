/*
 * mod_futurerelease.c -- FUTURERELEASE (RFC 4865): a submission client
 * asks the server to hold a message until a time in the future.
 *
 *     [server.modules]
 *     load = ["mod_futurerelease"]
 *     [session.extensions]
 *     # longest hold; false (the default) disables the extension
 *     future-release = [ { if = "authenticated-as", ne = "", then = "7d" },
 *                        { else = false } ]
 *
 * When the setting is a duration of at least one second for the session,
 * EHLO advertises
 *
 *     FUTURERELEASE <interval> <date-time>
 *
 * (RFC 4865 §3: max-future-release-interval in seconds, and
 * max-future-release-date-time = now + interval, in RFC 3339 UTC form)
 * and MAIL accepts one of
 *
 *     HOLDFOR=<seconds>            1*9DIGIT, 0 = release at once
 *     HOLDUNTIL=<date-time>        RFC 3339, "Z" or a numeric offset
 *     HOLDUNTIL=<unix-seconds>     an extension: a bare decimal Unix time
 *
 * The release time is made absolute at MAIL time and stored in the
 * envelope for the queue manager:
 *
 *     futurerelease.hold-until       2026-05-08T09:30:00Z
 *     futurerelease.hold-until-unix  1778232600
 *     futurerelease.request          for;3600 | until;<value as sent>
 *                                    (the request, for DSNs)
 *
 * Errors all get "501 5.5.4" (syntax error in parameters, RFC 3463 X.5.4
 * "invalid command arguments"): a malformed value, HOLDFOR and HOLDUNTIL
 * together, a HOLDUNTIL in the past, and a hold beyond the advertised
 * maximum.  XXX: the last two are not syntax errors; RFC 4865 advises
 * answering them as such, and so do the servers that implement it.
 * Without the extension advertised the core refuses both parameters with
 * 555 5.5.4.
 */
#include <string.h>
#include <apr_strings.h>
#include <apr_time.h>

#include "herald.h"
#include "hr_module.h"
#include "futurerelease_parse.h"

extern hr_module futurerelease_module;

#define FR_SETTING "session.extensions.future-release"

/* Per transaction: the hold parameter already accepted, if any. */
typedef struct fr_txn_state {
    const char *keyword;        /* "HOLDFOR" or "HOLDUNTIL" */
} fr_txn_state;

/* The longest hold for this session in seconds; 0 when disabled. */
static apr_int64_t fr_max_interval(hr_session *s)
{
    apr_int64_t ms = 0;

    if (!hr_session_int(s, FR_SETTING, &ms) || ms < 1000) {
        return 0;
    }
    /* RFC 4865 §3: the interval is a future-release-integer (1*9DIGIT) */
    return ms / 1000 > FR_MAX_INTERVAL ? FR_MAX_INTERVAL : ms / 1000;
}

static apr_int64_t fr_now(void)
{
    return (apr_int64_t)apr_time_sec(apr_time_now());
}

/* RFC 4865 §3: "FUTURERELEASE" SP interval SP date-time. */
static int fr_advertise(hr_session *s, const char **line)
{
    apr_int64_t max = fr_max_interval(s);
    char until[FR_DATETIME_SIZE];

    if (max == 0 || futurerelease_format(fr_now() + max, until,
                                         sizeof(until)) != 0) {
        return 0;
    }
    *line = apr_psprintf(s->pool, "FUTURERELEASE %" APR_INT64_T_FMT " %s",
                         max, until);
    return 1;
}

/*
 * Common checks of HOLDFOR and HOLDUNTIL; returns the session's maximum
 * interval, or 0 with the reply queued.
 */
static apr_int64_t fr_begin(hr_session *s, hr_txn *t, const char *keyword)
{
    fr_txn_state *st = hr_txn_state(t, &futurerelease_module);
    apr_int64_t max;

    if (st != NULL && st->keyword != NULL) {
        /* RFC 4865 §3: one hold-param, HOLDFOR or HOLDUNTIL */
        hr_reply(s, 501, "5.5.4", "%s cannot be used together with %s",
                 keyword, st->keyword);
        return 0;
    }
    max = fr_max_interval(s);
    if (max == 0) {
        /* the setting changed since EHLO (AUTH ended, ...): the extension
         * is not offered now (RFC 5321 §4.1.1.11) */
        hr_reply(s, 555, "5.5.4", "Unsupported MAIL parameter %s", keyword);
        return 0;
    }
    return max;
}

/* Record the accepted release time in the envelope. */
static int fr_hold(hr_session *s, hr_txn *t, const char *keyword,
                   apr_int64_t hold_until, const char *request)
{
    fr_txn_state *st = hr_txn_state(t, &futurerelease_module);
    char text[FR_DATETIME_SIZE];

    if (futurerelease_format(hold_until, text, sizeof(text)) != 0) {
        hr_reply(s, 501, "5.5.4", "Invalid %s value", keyword);
        return HR_DENY;
    }
    if (st == NULL) {
        st = apr_pcalloc(t->pool, sizeof(*st));
        hr_txn_state(t, &futurerelease_module) = st;
    }
    st->keyword = keyword;
    hr_txn_set_field(t, "futurerelease.hold-until", text);
    hr_txn_set_field(t, "futurerelease.hold-until-unix",
                     apr_psprintf(t->pool, "%" APR_INT64_T_FMT, hold_until));
    hr_txn_set_field(t, "futurerelease.request", request);
    hr_log_session(s, HR_LOG_INFO, "%s: held until %s", keyword, text);
    return HR_OK;
}

/* Queue the reply for an out-of-range hold. */
static int fr_range_error(hr_session *s, const char *keyword, fr_range r,
                          apr_int64_t max)
{
    if (r == FR_IN_PAST) {
        hr_reply(s, 501, "5.5.4", "%s time is in the past", keyword);
    }
    else {
        hr_reply(s, 501, "5.5.4", "%s exceeds the maximum future release "
                 "interval of %" APR_INT64_T_FMT " seconds", keyword, max);
    }
    return HR_DENY;
}

/* MAIL FROM:<...> HOLDFOR=<seconds> */
static int fr_holdfor(hr_session *s, hr_txn *t, hr_rcpt *r,
                      const char *value)
{
    apr_int64_t max, seconds, now;

    if ((max = fr_begin(s, t, "HOLDFOR")) == 0) {
        return HR_DENY;
    }
    if (futurerelease_parse_holdfor(value, &seconds) != 0) {
        hr_reply(s, 501, "5.5.4", "Invalid HOLDFOR value: expected 1 to 9 "
                 "digits of seconds");
        return HR_DENY;
    }
    now = fr_now();
    if (seconds > max) {
        return fr_range_error(s, "HOLDFOR", FR_TOO_FAR, max);
    }
    return fr_hold(s, t, "HOLDFOR", now + seconds,
                   apr_psprintf(t->pool, "for;%" APR_INT64_T_FMT, seconds));
}

/* MAIL FROM:<...> HOLDUNTIL=<date-time> */
static int fr_holduntil(hr_session *s, hr_txn *t, hr_rcpt *r,
                        const char *value)
{
    apr_int64_t max, until;
    fr_range range;

    if ((max = fr_begin(s, t, "HOLDUNTIL")) == 0) {
        return HR_DENY;
    }
    if (futurerelease_parse_holduntil(value, &until) != 0) {
        hr_reply(s, 501, "5.5.4", "Invalid HOLDUNTIL value: expected an "
                 "RFC 3339 date-time such as 2030-01-31T08:00:00Z");
        return HR_DENY;
    }
    range = futurerelease_check(fr_now(), until, max);
    if (range != FR_OK) {
        return fr_range_error(s, "HOLDUNTIL", range, max);
    }
    return fr_hold(s, t, "HOLDUNTIL", until,
                   apr_pstrcat(t->pool, "until;", value, NULL));
}

static const hr_param fr_params[] = {
    {"HOLDFOR", HR_PARAM_MAIL, fr_holdfor},
    {"HOLDUNTIL", HR_PARAM_MAIL, fr_holduntil},
    {NULL}};

static const hr_capability fr_capabilities[] = {
    {"FUTURERELEASE", fr_advertise, fr_params, NULL},
    {NULL}};

static const hr_config_key fr_keys[] = {
    {FR_SETTING, HR_KEY_DURATION, HR_KEY_EXPR | HR_KEY_OPTIONAL, "false",
     HR_VARS_EHLO, "longest FUTURERELEASE hold (RFC 4865), false = off"},
    {NULL}};

HR_MODULE(futurerelease) = {HR_MODULE_STUFF, "mod_futurerelease", fr_keys,
                            fr_capabilities, NULL, NULL};
