/*
 * mod_deliverby.c -- DELIVERBY (RFC 2852): the client asks that a message
 * be delivered within a time, and says what to do when it is not: return
 * it ("R") or send a "delayed" DSN ("N"), optionally with trace ("T").
 *
 *     [server.modules]
 *     load = ["mod_deliverby"]
 *     [session.extensions]
 *     # the longest by-time accepted; false (the default) disables it
 *     deliver-by = [ { if = "authenticated-as", ne = "", then = "15d" },
 *                    { else = false } ]
 *     [session.deliver-by]
 *     # the shortest by-time accepted with mode R (RFC 2852 §2
 *     # min-by-time, advertised as "DELIVERBY <seconds>"); "0s" = none
 *     min-time = "0s"
 *
 * When deliver-by is a duration of at least one second for the session,
 * EHLO advertises "DELIVERBY" (or "DELIVERBY <min-by-time>") and MAIL
 * accepts
 *
 *     BY=<by-time>;<by-mode>[T]     e.g. BY=3600;R  BY=-60;NT
 *
 * The deadline is made absolute at MAIL time and stored in the envelope
 * for the queue manager:
 *
 *     deliverby.deadline        2026-05-08T09:30:00Z (RFC 3339 UTC)
 *     deliverby.deadline-unix   1778232600
 *     deliverby.by-time         3600 (signed seconds, as sent)
 *     deliverby.mode            R | N
 *     deliverby.trace           1 (only when "T" was given)
 *
 * Replies: a malformed value, and mode R with a by-time of zero or less,
 * get 501 5.5.4; a by-time under min-by-time (mode R) or over the
 * maximum gets 555 5.5.4, a parameter value this server cannot implement
 * (RFC 5321 §4.1.1.11; sendmail answers a by-time under min-by-time with
 * 555 too).  Without the extension advertised the core refuses BY with
 * 555 5.5.4.
 */
#include <string.h>
#include <apr_strings.h>
#include <apr_time.h>

#include "herald.h"
#include "hr_module.h"
#include "deliverby_parse.h"

#define DB_SETTING_MAX "session.extensions.deliver-by"
#define DB_SETTING_MIN "session.deliver-by.min-time"

/* The largest by-time for this session in seconds; 0 when disabled. */
static apr_int64_t db_max_by_time(hr_session *s)
{
    apr_int64_t ms = 0;

    if (!hr_session_int(s, DB_SETTING_MAX, &ms) || ms < 1000) {
        return 0;
    }
    return ms / 1000 > DB_MAX_BY_TIME ? DB_MAX_BY_TIME : ms / 1000;
}

/* The min-by-time for this session in seconds (0 = none). */
static apr_int64_t db_min_by_time(hr_session *s)
{
    apr_int64_t ms = 0;

    if (!hr_session_int(s, DB_SETTING_MIN, &ms) || ms < 1000) {
        return 0;
    }
    return ms / 1000 > DB_MAX_BY_TIME ? DB_MAX_BY_TIME : ms / 1000;
}

/* RFC 2852 §2: "DELIVERBY" [SP min-by-time] */
static int db_advertise(hr_session *s, const char **line)
{
    apr_int64_t min;

    if (db_max_by_time(s) == 0) {
        return 0;
    }
    min = db_min_by_time(s);
    if (min > 0) {
        *line = apr_psprintf(s->pool, "DELIVERBY %" APR_INT64_T_FMT, min);
    }
    return 1;
}

/* MAIL FROM:<...> BY=<by-time>;<by-mode>[T] */
static int db_by(hr_session *s, hr_txn *t, hr_rcpt *r, const char *value)
{
    apr_int64_t max = db_max_by_time(s), min, deadline;
    deliverby_request req;
    char text[DB_DATETIME_SIZE];

    if (max == 0) {
        /* the setting changed since EHLO: not offered now */
        hr_reply(s, 555, "5.5.4", "Unsupported MAIL parameter BY");
        return HR_DENY;
    }
    if (deliverby_parse(value, &req) != 0) {
        hr_reply(s, 501, "5.5.4", "Invalid BY value: expected "
                 "<seconds>;R or <seconds>;N, optionally followed by T");
        return HR_DENY;
    }
    min = db_min_by_time(s);
    switch (deliverby_check(&req, min, max)) {
    case DB_RETURN_NOT_POSITIVE:
        hr_reply(s, 501, "5.5.4", "BY mode R requires a by-time greater "
                 "than zero");
        return HR_DENY;
    case DB_BELOW_MIN:
        hr_reply(s, 555, "5.5.4", "BY time %" APR_INT64_T_FMT " is less "
                 "than the minimum of %" APR_INT64_T_FMT " seconds",
                 req.by_time, min);
        return HR_DENY;
    case DB_ABOVE_MAX:
        hr_reply(s, 555, "5.5.4", "BY time %" APR_INT64_T_FMT " exceeds "
                 "the maximum of %" APR_INT64_T_FMT " seconds",
                 req.by_time, max);
        return HR_DENY;
    case DB_OK:
        break;
    }
    /* RFC 2852: the by-time counts from the message's arrival here;
     * store the absolute deadline so that time in the queue counts */
    deadline = (apr_int64_t)apr_time_sec(apr_time_now()) + req.by_time;
    if (deliverby_format(deadline, text, sizeof(text)) != 0) {
        hr_reply(s, 501, "5.5.4", "Invalid BY value");
        return HR_DENY;
    }
    hr_txn_set_field(t, "deliverby.deadline", text);
    hr_txn_set_field(t, "deliverby.deadline-unix",
                     apr_psprintf(t->pool, "%" APR_INT64_T_FMT, deadline));
    hr_txn_set_field(t, "deliverby.by-time",
                     apr_psprintf(t->pool, "%" APR_INT64_T_FMT, req.by_time));
    hr_txn_set_field(t, "deliverby.mode", req.mode == 'R' ? "R" : "N");
    if (req.trace) {
        hr_txn_set_field(t, "deliverby.trace", "1");
    }
    hr_log_session(s, HR_LOG_INFO, "BY: deliver by %s, mode %c%s", text,
                   req.mode, req.trace ? " with trace" : "");
    return HR_OK;
}

static const hr_param db_params[] = {
    {"BY", HR_PARAM_MAIL, db_by},
    {NULL}};

static const hr_capability db_capabilities[] = {
    {"DELIVERBY", db_advertise, db_params, NULL},
    {NULL}};

static const hr_config_key db_keys[] = {
    {DB_SETTING_MAX, HR_KEY_DURATION, HR_KEY_EXPR | HR_KEY_OPTIONAL, "false",
     HR_VARS_EHLO, "largest DELIVERBY by-time (RFC 2852), false = off"},
    {DB_SETTING_MIN, HR_KEY_DURATION, HR_KEY_EXPR, "\"0s\"", HR_VARS_EHLO,
     "advertised min-by-time for BY mode R (RFC 2852 §2)"},
    {NULL}};

HR_MODULE(deliverby) = {HR_MODULE_STUFF, "mod_deliverby", db_keys,
                        db_capabilities, NULL, NULL};
