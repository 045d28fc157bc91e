/*
 * deliverby_parse.c -- the BY=<by-time>;<by-mode>[T] value of RFC 2852
 * and the range rules of mod_deliverby.  See deliverby_parse.h.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <apr_lib.h>

#include "deliverby_parse.h"

DB_HIDDEN int deliverby_parse(const char *text, deliverby_request *out)
{
    const char *p = text;
    apr_int64_t value = 0;
    int negative = 0, digits = 0;
    char mode;

    if (text == NULL) {
        return -1;
    }
    if (*p == '-' || *p == '+') {
        negative = *p == '-';
        p++;
    }
    for (; apr_isdigit(*p); p++) {
        if (++digits > 9) {
            return -1;          /* 1*9DIGIT */
        }
        value = value * 10 + (*p - '0');
    }
    if (digits == 0 || *p++ != ';') {
        return -1;
    }
    mode = apr_toupper(*p);
    if (mode != 'R' && mode != 'N') {
        return -1;
    }
    p++;
    out->trace = 0;
    if (*p == 'T' || *p == 't') {
        out->trace = 1;
        p++;
    }
    if (*p != '\0') {
        return -1;
    }
    out->by_time = negative ? -value : value;
    out->mode = mode;
    return 0;
}

DB_HIDDEN db_range deliverby_check(const deliverby_request *req,
                                   apr_int64_t min_by_time,
                                   apr_int64_t max_by_time)
{
    if (req->mode == 'R') {
        /* RFC 2852: "R" needs time left in which to deliver; a zero or
         * negative by-time means the message is already undeliverable */
        if (req->by_time <= 0) {
            return DB_RETURN_NOT_POSITIVE;
        }
        if (min_by_time > 0 && req->by_time < min_by_time) {
            return DB_BELOW_MIN;
        }
    }
    if (req->by_time > max_by_time) {
        return DB_ABOVE_MAX;
    }
    return DB_OK;
}

DB_HIDDEN int deliverby_format(apr_int64_t unix_time, char *buf,
                               apr_size_t len)
{
    time_t t = (time_t)unix_time;
    struct tm tm;

    if (len < DB_DATETIME_SIZE || gmtime_r(&t, &tm) == NULL ||
        tm.tm_year + 1900 < 0 || tm.tm_year + 1900 > 9999) {
        return -1;
    }
    snprintf(buf, len, "%04d-%02d-%02dT%02d:%02d:%02dZ", tm.tm_year + 1900,
             tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
    return 0;
}
