/*
 * futurerelease_parse.h -- the pure parsers of mod_futurerelease (RFC
 * 4865): HOLDFOR and HOLDUNTIL values, RFC 3339 date-times, and the range
 * check against the advertised maximum.  No session types, so the CUnit
 * suite (test/unit/test_futurerelease.c) links this file alone.
 *
 * The functions are hidden: modules are loaded RTLD_GLOBAL and these
 * names must not leak into other modules.
 */
#ifndef FUTURERELEASE_PARSE_H
#define FUTURERELEASE_PARSE_H

#include <apr.h>

#define FR_HIDDEN __attribute__((visibility("hidden")))

/* RFC 4865 §3: future-release-integer = 1*9DIGIT (seconds). */
#define FR_MAX_INTERVAL 999999999

/* "YYYY-MM-DDTHH:MM:SSZ" plus NUL. */
#define FR_DATETIME_SIZE 21

/* Longest HOLDUNTIL value we look at (the longest valid date-time with
 * an offset and nanoseconds is 35 octets). */
#define FR_MAX_VALUE_LEN 64

/* Longest bare Unix time accepted by HOLDUNTIL (up to year 5138). */
#define FR_MAX_UNIX_DIGITS 11

/** Result of futurerelease_check(). */
typedef enum {
    FR_OK = 0,
    FR_IN_PAST,     /* HOLDUNTIL before now */
    FR_TOO_FAR      /* beyond now + max-future-release-interval */
} fr_range;

/**
 * Parse a HOLDFOR value: 1*9DIGIT seconds (RFC 4865 §3).  Stores the
 * interval in *seconds; returns 0, or -1 when the value is malformed.
 */
FR_HIDDEN int futurerelease_parse_holdfor(const char *text,
                                          apr_int64_t *seconds);

/**
 * Parse an RFC 3339 §5.6 date-time ("2026-05-01T09:30:00Z",
 * "2026-05-01T11:30:00.25+02:00") strictly: four-digit year, real
 * calendar dates (leap years), hours 00-23, minutes 00-59, seconds 00-59
 * (60 only for a leap second at 23:59 UTC), optional fraction, and a
 * "Z" or numeric offset.  Stores the instant as Unix seconds; a fraction
 * rounds up, so a message is never released before the time asked for.
 * Returns 0, or -1 when malformed.
 */
FR_HIDDEN int futurerelease_parse_datetime(const char *text,
                                           apr_int64_t *unix_time);

/**
 * Parse a HOLDUNTIL value: an RFC 3339 date-time (RFC 4865 §3, erratum
 * 2040), or -- an extension -- a bare decimal Unix time, which cannot be
 * mistaken for a date-time (that always holds '-' and 'T').
 */
FR_HIDDEN int futurerelease_parse_holduntil(const char *text,
                                            apr_int64_t *unix_time);

/**
 * Is @hold_until acceptable at @now with at most @max_interval seconds
 * of hold?  @hold_until == @now is accepted (release at once).
 */
FR_HIDDEN fr_range futurerelease_check(apr_int64_t now,
                                       apr_int64_t hold_until,
                                       apr_int64_t max_interval);

/**
 * Format Unix seconds as an RFC 3339 UTC date-time into @buf (at least
 * FR_DATETIME_SIZE octets).  Returns 0, or -1 when the year is outside
 * 0000-9999 or @len is too small.
 */
FR_HIDDEN int futurerelease_format(apr_int64_t unix_time, char *buf,
                                   apr_size_t len);

#endif /* FUTURERELEASE_PARSE_H */
