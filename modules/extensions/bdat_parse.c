/*
 * bdat_parse.c -- the argument parser of the BDAT verb (RFC 3030 §2); see
 * bdat_parse.h.  A pure function over a string: no pools, no session.
 */
#include <strings.h>
#include <apr_lib.h>

#include "bdat_parse.h"

BDAT_HIDDEN bdat_status bdat_parse(const char *args, apr_off_t *size,
                                   int *last)
{
    const char *p = args;
    const char *digits;
    int extra_space = 0;
    int significant = 0;
    apr_off_t value = 0;

    *size = 0;
    *last = 0;
    if (p == NULL) {
        return BDAT_BAD_SIZE;
    }
    /* "BDAT  100": the size is still plain to see; reading it keeps the
     * session in step, but the line is not what RFC 3030 §2 allows. */
    while (*p == ' ') {
        extra_space = 1;
        p++;
    }
    digits = p;
    while (apr_isdigit(*p)) {
        p++;
    }
    /* chunk-size ::= 1*DIGIT, ending at SP or the end of the line;
     * "1x", "-1", "+1" and "" leave the octet count unknown. */
    if (p == digits || (*p != '\0' && *p != ' ')) {
        return BDAT_BAD_SIZE;
    }
    while (digits < p && *digits == '0') {
        digits++;   /* leading zeros do not count against the cap */
    }
    for (; digits < p; digits++) {
        if (++significant > BDAT_MAX_DIGITS) {
            return BDAT_BAD_SIZE;
        }
        value = value * 10 + (*digits - '0');
    }
    *size = value;

    if (*p == '\0') {
        if (extra_space) {
            return BDAT_BAD_ARGS;
        }
        /* RFC 3030 §2 allows a zero count only on the last chunk */
        return value == 0 ? BDAT_ZERO_NOT_LAST : BDAT_OK;
    }
    /* *p == ' ': the end-marker, matched without regard to case */
    if (!extra_space && strcasecmp(p + 1, "LAST") == 0) {
        *last = 1;
        return BDAT_OK;
    }
    return BDAT_BAD_ARGS;
}

BDAT_HIDDEN const char *bdat_status_text(bdat_status status)
{
    switch (status) {
    case BDAT_OK:
        return "ok";
    case BDAT_BAD_SIZE:
        return "bad chunk-size";
    case BDAT_BAD_ARGS:
        return "bad arguments";
    case BDAT_ZERO_NOT_LAST:
        return "zero chunk-size without LAST";
    }
    return "unknown";
}
