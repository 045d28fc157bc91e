/*
 * futurerelease_parse.c -- HOLDFOR / HOLDUNTIL values and RFC 3339
 * date-times for mod_futurerelease (RFC 4865).  See futurerelease_parse.h.
 *
 * RFC 3339 §5.6:
 *     date-time      = full-date "T" full-time
 *     full-date      = date-fullyear "-" date-month "-" date-mday
 *     full-time      = partial-time time-offset
 *     partial-time   = time-hour ":" time-minute ":" time-second
 *                      [time-secfrac]
 *     time-secfrac   = "." 1*DIGIT
 *     time-offset    = "Z" / ("+" / "-") time-hour ":" time-minute
 * ABNF literals are case-insensitive (RFC 5234 §2.3; RFC 3339 §5.6 NOTE),
 * so "t" and "z" are accepted too.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <apr_lib.h>

#include "futurerelease_parse.h"

/* Read exactly @n digits at *p; -1 when any is not a digit. */
static int read_digits(const char **p, int n)
{
    int value = 0;

    while (n-- > 0) {
        if (!apr_isdigit(**p)) {
            return -1;
        }
        value = value * 10 + (**p - '0');
        (*p)++;
    }
    return value;
}

static int is_leap_year(int year)
{
    return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
}

static int days_in_month(int year, int month)
{
    static const int days[12] = {31, 28, 31, 30, 31, 30,
                                 31, 31, 30, 31, 30, 31};
    return month == 2 && is_leap_year(year) ? 29 : days[month - 1];
}

FR_HIDDEN int futurerelease_parse_holdfor(const char *text,
                                          apr_int64_t *seconds)
{
    apr_int64_t value = 0;
    int n = 0;

    if (text == NULL) {
        return -1;
    }
    for (; *text != '\0'; text++, n++) {
        /* RFC 4865 §3: 1*9DIGIT, no sign, no blanks */
        if (!apr_isdigit(*text) || n == 9) {
            return -1;
        }
        value = value * 10 + (*text - '0');
    }
    if (n == 0) {
        return -1;
    }
    *seconds = value;
    return 0;
}

FR_HIDDEN int futurerelease_parse_datetime(const char *text,
                                           apr_int64_t *unix_time)
{
    const char *p = text;
    int year, month, mday, hour, minute, second;
    int offset_minutes = 0, fraction = 0;
    struct tm tm;
    time_t t;
    apr_int64_t result;

    if (text == NULL || strlen(text) > FR_MAX_VALUE_LEN) {
        return -1;
    }
    if ((year = read_digits(&p, 4)) < 0 || *p++ != '-' ||
        (month = read_digits(&p, 2)) < 0 || *p++ != '-' ||
        (mday = read_digits(&p, 2)) < 0 || (*p != 'T' && *p != 't')) {
        return -1;
    }
    p++;
    if ((hour = read_digits(&p, 2)) < 0 || *p++ != ':' ||
        (minute = read_digits(&p, 2)) < 0 || *p++ != ':' ||
        (second = read_digits(&p, 2)) < 0) {
        return -1;
    }
    if (month < 1 || month > 12 || mday < 1 ||
        mday > days_in_month(year, month) || hour > 23 || minute > 59 ||
        second > 60) {
        return -1;
    }
    if (*p == '.') {
        p++;
        if (!apr_isdigit(*p)) {
            return -1;          /* "." 1*DIGIT */
        }
        for (; apr_isdigit(*p); p++) {
            if (*p != '0') {
                fraction = 1;
            }
        }
    }
    if (*p == 'Z' || *p == 'z') {
        p++;
    }
    else if (*p == '+' || *p == '-') {
        int sign = *p++ == '-' ? -1 : 1;
        int oh, om;

        if ((oh = read_digits(&p, 2)) < 0 || *p++ != ':' ||
            (om = read_digits(&p, 2)) < 0 || oh > 23 || om > 59) {
            return -1;
        }
        offset_minutes = sign * (oh * 60 + om);
    }
    else {
        return -1;              /* the offset is not optional */
    }
    if (*p != '\0') {
        return -1;
    }
    /* RFC 3339 §5.7: a leap second is only ever the last second of a
     * UTC day, whatever offset it is written with */
    if (second == 60 &&
        (((hour * 60 + minute - offset_minutes) % 1440 + 1440) % 1440)
            != 1439) {
        return -1;
    }

    memset(&tm, 0, sizeof(tm));
    tm.tm_year = year - 1900;
    tm.tm_mon = month - 1;
    tm.tm_mday = mday;
    tm.tm_hour = hour;
    tm.tm_min = minute;
    tm.tm_sec = second;         /* 60 becomes 00 of the next minute */
    t = timegm(&tm);
    result = (apr_int64_t)t - (apr_int64_t)offset_minutes * 60;
    *unix_time = result + fraction;
    return 0;
}

FR_HIDDEN int futurerelease_parse_holduntil(const char *text,
                                            apr_int64_t *unix_time)
{
    apr_int64_t value = 0;
    const char *p;

    if (text == NULL || *text == '\0') {
        return -1;
    }
    for (p = text; apr_isdigit(*p); p++) {
        value = value * 10 + (*p - '0');
        if (p - text >= FR_MAX_UNIX_DIGITS) {
            return -1;
        }
    }
    if (*p == '\0') {
        *unix_time = value;     /* a bare Unix time */
        return 0;
    }
    return futurerelease_parse_datetime(text, unix_time);
}

FR_HIDDEN fr_range futurerelease_check(apr_int64_t now,
                                       apr_int64_t hold_until,
                                       apr_int64_t max_interval)
{
    if (hold_until < now) {
        return FR_IN_PAST;
    }
    if (hold_until - now > max_interval) {
        return FR_TOO_FAR;
    }
    return FR_OK;
}

FR_HIDDEN int futurerelease_format(apr_int64_t unix_time, char *buf,
                                   apr_size_t len)
{
    time_t t = (time_t)unix_time;
    struct tm tm;

    if (len < FR_DATETIME_SIZE || gmtime_r(&t, &tm) == NULL ||
        tm.tm_year + 1900 < 0 || tm.tm_year + 1900 > 9999) {
        return -1;
    }
    snprintf(buf, len, "%04d-%02d-%02dT%02d:%02d:%02dZ", tm.tm_year + 1900,
             tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
    return 0;
}
