/*
 * deliverby_parse.h -- the pure parts of mod_deliverby (RFC 2852): the
 * BY=<by-time>;<by-mode>[T] value, the acceptable range of a by-time,
 * and the deadline's date-time.  No session types, so the CUnit suite
 * (test/unit/test_deliverby.c) links this file alone.
 *
 * The functions are hidden: modules are loaded RTLD_GLOBAL and these
 * names must not leak into other modules.
 */
#ifndef DELIVERBY_PARSE_H
#define DELIVERBY_PARSE_H

#include <apr.h>

#define DB_HIDDEN __attribute__((visibility("hidden")))

/* RFC 2852: by-time = ["-" / "+"] 1*9DIGIT (seconds). */
#define DB_MAX_BY_TIME 999999999

/* "YYYY-MM-DDTHH:MM:SSZ" plus NUL. */
#define DB_DATETIME_SIZE 21

/** A parsed BY parameter. */
typedef struct deliverby_request {
    apr_int64_t by_time;        /* seconds, may be zero or negative */
    char mode;                  /* 'R' (return) or 'N' (notify) */
    int trace;                  /* by-trace "T" was given */
} deliverby_request;

/** Result of deliverby_check(). */
typedef enum {
    DB_OK = 0,
    DB_RETURN_NOT_POSITIVE,     /* mode R with by-time <= 0 */
    DB_BELOW_MIN,               /* mode R with by-time < min-by-time */
    DB_ABOVE_MAX                /* by-time beyond the configured maximum */
} db_range;

/**
 * Parse a BY value (RFC 2852 §2, item 4):
 *     by-value = by-time ";" by-mode [by-trace]
 *     by-time  = ["-" / "+"] 1*9DIGIT
 *     by-mode  = "N" / "R"
 *     by-trace = "T"
 * Letters are case-insensitive (RFC 5234 §2.3); nothing else may appear.
 * Returns 0 and fills @out, or -1 when malformed.
 */
DB_HIDDEN int deliverby_parse(const char *text, deliverby_request *out);

/**
 * Is @req acceptable with @min_by_time (0: none) and @max_by_time
 * seconds?  The minimum applies to mode R only (RFC 2852 §2: it is what
 * the server needs to deliver or return in time); the maximum bounds a
 * positive by-time in either mode.  A negative by-time with mode N is
 * allowed: the deadline has passed and a "delayed" DSN is due.
 */
DB_HIDDEN db_range deliverby_check(const deliverby_request *req,
                                   apr_int64_t min_by_time,
                                   apr_int64_t max_by_time);

/**
 * Format Unix seconds as an RFC 3339 UTC date-time into @buf (at least
 * DB_DATETIME_SIZE octets).  Returns 0, or -1 when out of range.
 */
DB_HIDDEN int deliverby_format(apr_int64_t unix_time, char *buf,
                               apr_size_t len);

#endif /* DELIVERBY_PARSE_H */
