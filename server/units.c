/*
 * units.c -- durations and sizes in Herald's settings.
 *
 * A duration is a number of milliseconds, a size a number of bytes; both
 * are written as decimal digits and one unit, no blank between:
 *
 *     hr_parse_duration("90s", &ms)   -> 0, ms = 90000
 *     hr_parse_duration("30", &ms)    -> 0, ms = 30000 (bare: seconds)
 *     hr_parse_size("10M", &bytes)    -> 0, bytes = 10485760
 *     hr_parse_size("1.5G", &bytes)   -> -1 (no fractions)
 *
 * Durations take ms, s, m, h, d and w; sizes take k, M, G, T in either
 * case, as powers of 1024.  A value that overflows 64 bits is refused.
 * The expression compiler (expr_compile.c) converts the values of
 * duration and size keys with these at load.
 */
#include <string.h>

#include "expr_int.h"

/* ------------------------------------------------------------- durations */

/* Parse leading decimal digits into *out; returns the end or NULL. */
const char *expr_parse_decimal(const char *s, apr_int64_t *out)
{
    apr_int64_t n = 0;
    const char *start = s;

    while (*s >= '0' && *s <= '9') {
        int digit = *s - '0';

        if (n > (APR_INT64_MAX - digit) / 10) {
            return NULL;
        }
        n = n * 10 + digit;
        s++;
    }
    if (s == start) {
        return NULL;
    }
    *out = n;
    return s;
}

/* Multiply without overflow; returns -1 when the product does not fit. */
int expr_scale(apr_int64_t n, apr_int64_t factor, apr_int64_t *out)
{
    if (n > APR_INT64_MAX / factor) {
        return -1;
    }
    *out = n * factor;
    return 0;
}

int hr_parse_duration(const char *text, apr_int64_t *ms)
{
    static const struct {
        const char *unit;
        apr_int64_t ms;
    } units[] = {
        { "", 1000 }, /* a bare number is seconds */
        { "ms", 1 },
        { "s", 1000 },
        { "m", 60 * 1000 },
        { "h", 60 * 60 * 1000 },
        { "d", 24 * 60 * 60 * 1000 },
        { "w", 7 * 24 * 60 * 60 * 1000 },
    };
    apr_int64_t n;
    const char *unit;
    size_t i;

    if (text == NULL || (unit = expr_parse_decimal(text, &n)) == NULL) {
        return -1;
    }
    for (i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
        if (strcmp(unit, units[i].unit) == 0) {
            return expr_scale(n, units[i].ms, ms);
        }
    }
    return -1;
}

int hr_parse_size(const char *text, apr_int64_t *bytes)
{
    apr_int64_t n, factor;
    const char *unit;

    if (text == NULL || (unit = expr_parse_decimal(text, &n)) == NULL) {
        return -1;
    }
    switch (*unit) {
    case '\0':
        return expr_scale(n, 1, bytes);
    case 'k':
    case 'K':
        factor = APR_INT64_C(1) << 10;
        break;
    case 'm':
    case 'M':
        factor = APR_INT64_C(1) << 20;
        break;
    case 'g':
    case 'G':
        factor = APR_INT64_C(1) << 30;
        break;
    case 't':
    case 'T':
        factor = APR_INT64_C(1) << 40;
        break;
    default:
        return -1;
    }
    if (unit[1] != '\0') {
        return -1;
    }
    return expr_scale(n, factor, bytes);
}
