/*
 * toml_scalar.c -- unquoted values for Herald's TOML reader.
 *
 * A value that does not start with a quote, '[' or '{' is a "word":
 * true or false, an integer (decimal with '_', 0x, 0o, 0b), a float (with
 * inf and nan), or a date and time as RFC 3339 writes them.  Dates and
 * times are checked and kept as the string written (HR_VAL_STRING): no
 * Herald key needs them as timestamps.
 *
 *     port = 25                  -> HR_VAL_INTEGER 25
 *     ratio = 1e-3               -> HR_VAL_FLOAT 0.001
 *     since = 2024-02-29         -> HR_VAL_STRING "2024-02-29"
 *     retry = soon               -> error: strings must be quoted
 *
 * toml_parse_word() is called by the grammar (toml_parse.c) with P->pos on
 * the first character of the word; the checks below it are pure functions
 * over the NUL-terminated token.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <apr_lib.h>
#include <apr_strings.h>

#include "toml_int.h"

/* ------------------------------------------------ numbers, dates, words */

/*
 * Parse a TOML integer: decimal (no leading zeros), or 0x, 0o, 0b with no
 * sign; '_' only between digits.  Returns 0, -1 (syntax) or -2 (range).
 */
static int parse_integer(const char *s, apr_int64_t *out)
{
    apr_uint64_t acc = 0, limit = APR_INT64_MAX;
    int base = 10, negative = 0, has_sign = 0, prev_digit = 0, ndigits = 0;

    if (*s == '+' || *s == '-') {
        negative = (*s == '-');
        has_sign = 1;
        s++;
    }
    if (s[0] == '0' && (s[1] == 'x' || s[1] == 'o' || s[1] == 'b')) {
        if (has_sign) {
            return -1; /* TOML 1.0: no sign on prefixed integers */
        }
        base = (s[1] == 'x') ? 16 : (s[1] == 'o') ? 8 : 2;
        s += 2;
    } else if (s[0] == '0' && s[1] != '\0') {
        return -1; /* leading zero */
    }
    if (negative) {
        limit = (apr_uint64_t)APR_INT64_MAX + 1;
    }
    for (; *s != '\0'; s++) {
        int d = toml_hex_value((unsigned char)*s);

        if (*s == '_') {
            if (!prev_digit) {
                return -1;
            }
            prev_digit = 0;
            continue;
        }
        if (d < 0 || d >= base) {
            return -1;
        }
        if (acc > (limit - (apr_uint64_t)d) / (apr_uint64_t)base) {
            return -2;
        }
        acc = acc * (apr_uint64_t)base + (apr_uint64_t)d;
        prev_digit = 1;
        ndigits++;
    }
    if (ndigits == 0 || !prev_digit) {
        return -1;
    }
    if (negative) {
        *out = (acc == (apr_uint64_t)APR_INT64_MAX + 1) ? APR_INT64_MIN
                                                        : -(apr_int64_t)acc;
    } else {
        *out = (apr_int64_t)acc;
    }
    return 0;
}

/* Digits with '_' only between them; copies the digits to out. */
static const char *scan_digits(const char *s, char **out, int allow_leading0)
{
    const char *start = s;
    int prev_digit = 0;

    if (!allow_leading0 && s[0] == '0' && apr_isdigit(s[1])) {
        return NULL;
    }
    while (apr_isdigit(*s) || *s == '_') {
        if (*s == '_') {
            if (!prev_digit || !apr_isdigit(s[1])) {
                return NULL;
            }
            prev_digit = 0;
        } else {
            *(*out)++ = *s;
            prev_digit = 1;
        }
        s++;
    }
    return s == start ? NULL : s;
}

/*
 * Parse a TOML float: [sign] int [. digits] [e [sign] digits], with a
 * fraction or an exponent or both, or [sign] inf / nan.  0, -1 or -2.
 */
static int parse_float(const char *s, double *out)
{
    char clean[TOML_MAX_TOKEN + 2];
    char *o = clean;
    const char *word = s;
    int has_frac_or_exp = 0;
    double d;

    if (*word == '+' || *word == '-') {
        word++;
    }
    if (strcmp(word, "inf") == 0) {
        *out = (*s == '-') ? -INFINITY : INFINITY;
        return 0;
    }
    if (strcmp(word, "nan") == 0) {
        *out = (*s == '-') ? -NAN : NAN;
        return 0;
    }
    if (*s == '+' || *s == '-') {
        *o++ = *s++;
    }
    s = scan_digits(s, &o, 0);
    if (s == NULL) {
        return -1;
    }
    if (*s == '.') {
        *o++ = *s++;
        s = scan_digits(s, &o, 1);
        if (s == NULL) {
            return -1;
        }
        has_frac_or_exp = 1;
    }
    if (*s == 'e' || *s == 'E') {
        *o++ = *s++;
        if (*s == '+' || *s == '-') {
            *o++ = *s++;
        }
        s = scan_digits(s, &o, 1);
        if (s == NULL) {
            return -1;
        }
        has_frac_or_exp = 1;
    }
    if (*s != '\0' || !has_frac_or_exp) {
        return -1;
    }
    *o = '\0';
    /* XXX strtod() follows LC_NUMERIC; Herald never calls setlocale(), so
     * the decimal point is '.', as TOML requires. */
    d = strtod(clean, NULL);
    if (isinf(d)) {
        return -2;
    }
    *out = d;
    return 0;
}

static int is_digits(const char *s, int n)
{
    int i;

    for (i = 0; i < n; i++) {
        if (!apr_isdigit(s[i])) {
            return 0;
        }
    }
    return 1;
}

static int two_digits(const char *s)
{
    return (s[0] - '0') * 10 + (s[1] - '0');
}

/* YYYY-MM-DD (RFC 3339 §5.6 full-date), with the days of each month. */
static int valid_date(const char *s)
{
    static const int days[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int year, month, day;

    if (!is_digits(s, 4) || s[4] != '-' || !is_digits(s + 5, 2) ||
        s[7] != '-' || !is_digits(s + 8, 2)) {
        return 0;
    }
    year = two_digits(s) * 100 + two_digits(s + 2);
    month = two_digits(s + 5);
    day = two_digits(s + 8);
    if (month < 1 || month > 12 || day < 1 || day > days[month - 1]) {
        return 0;
    }
    if (month == 2 && day == 29 &&
        !(year % 4 == 0 && (year % 100 != 0 || year % 400 == 0))) {
        return 0;
    }
    return 1;
}

/* HH:MM:SS[.frac] (RFC 3339 §5.6 partial-time): its length, or 0. */
static apr_size_t valid_time(const char *s)
{
    apr_size_t n = 8;

    if (!is_digits(s, 2) || s[2] != ':' || !is_digits(s + 3, 2) ||
        s[5] != ':' || !is_digits(s + 6, 2)) {
        return 0;
    }
    /* RFC 3339 §5.7: second 60 is a leap second. */
    if (two_digits(s) > 23 || two_digits(s + 3) > 59 ||
        two_digits(s + 6) > 60) {
        return 0;
    }
    if (s[8] == '.') {
        for (n = 9; apr_isdigit(s[n]); n++) {
        }
        if (n == 9) {
            return 0;
        }
    }
    return n;
}

/* Z or +HH:MM / -HH:MM (RFC 3339 §5.6 time-offset), alone in s. */
static int valid_offset(const char *s)
{
    if ((s[0] == 'Z' || s[0] == 'z') && s[1] == '\0') {
        return 1;
    }
    return (s[0] == '+' || s[0] == '-') && is_digits(s + 1, 2) && s[3] == ':' &&
           is_digits(s + 4, 2) && s[6] == '\0' && two_digits(s + 1) <= 23 &&
           two_digits(s + 4) <= 59;
}

/*
 * TOML 1.0 offset date-time, local date-time, local date or local time.
 * Date and time are separated by T, t or one space.
 */
static int valid_datetime(const char *s)
{
    apr_size_t n;

    if (s[0] != '\0' && s[1] != '\0' && s[2] == ':') {
        n = valid_time(s);
        return n > 0 && s[n] == '\0';
    }
    if (!valid_date(s)) {
        return 0;
    }
    if (s[10] == '\0') {
        return 1;
    }
    if (s[10] != 'T' && s[10] != 't' && s[10] != ' ') {
        return 0;
    }
    n = valid_time(s + 11);
    if (n == 0) {
        return 0;
    }
    return s[11 + n] == '\0' || valid_offset(s + 11 + n);
}

/* Does the token look like a date or a time rather than a number? */
static int looks_like_datetime(const char *s)
{
    return (is_digits(s, 4) && s[4] == '-') || (is_digits(s, 2) && s[2] == ':');
}

/*
 * An unquoted value: true/false, an integer, a float, or a date/time
 * (kept as the string written).
 */
hr_value *toml_parse_word(toml_parser *P, int line)
{
    const char *start = P->pos;
    char tok[TOML_MAX_TOKEN + 1];
    const char *word;
    apr_size_t len;
    hr_value *v;
    int rc;

    while (toml_is_token_char(toml_peek(P))) {
        P->pos++;
    }
    /* TOML 1.0 "Offset Date-Time": a space may stand for the T. */
    if (P->pos - start == 10 && is_digits(start, 4) && start[4] == '-' &&
        toml_peek(P) == ' ' && apr_isdigit(toml_peek_at(P, 1)) &&
        apr_isdigit(toml_peek_at(P, 2)) && toml_peek_at(P, 3) == ':') {
        P->pos++;
        while (toml_is_token_char(toml_peek(P))) {
            P->pos++;
        }
    }
    len = (apr_size_t)(P->pos - start);
    if (len > TOML_MAX_TOKEN) {
        toml_error(P, line, "value too long: '%s'", toml_show(P, start, len));
        return NULL;
    }
    memcpy(tok, start, len);
    tok[len] = '\0';

    if (strcmp(tok, "true") == 0 || strcmp(tok, "false") == 0) {
        v = toml_make_value(P, HR_VAL_BOOLEAN, line);
        v->u.b = (tok[0] == 't');
        return v;
    }
    if (looks_like_datetime(tok)) {
        if (!valid_datetime(tok)) {
            toml_error(P, line, "invalid date-time '%s'",
                       toml_show(P, tok, len));
            return NULL;
        }
        v = toml_make_value(P, HR_VAL_STRING, line);
        v->u.s = apr_pstrmemdup(P->p, tok, len);
        return v;
    }
    word = (tok[0] == '+' || tok[0] == '-') ? tok + 1 : tok;
    if (strcmp(word, "inf") != 0 && strcmp(word, "nan") != 0 &&
        (apr_isalpha(tok[0]) || tok[0] == '_')) {
        toml_error(P, line, "invalid value '%s' (strings must be quoted)",
                   toml_show(P, tok, len));
        return NULL;
    }
    if (!(word[0] == '0' &&
          (word[1] == 'x' || word[1] == 'o' || word[1] == 'b')) &&
        (strpbrk(tok, ".eE") != NULL || strcmp(word, "inf") == 0 ||
         strcmp(word, "nan") == 0)) {
        v = toml_make_value(P, HR_VAL_FLOAT, line);
        rc = parse_float(tok, &v->u.f);
    } else {
        v = toml_make_value(P, HR_VAL_INTEGER, line);
        rc = parse_integer(tok, &v->u.i);
    }
    if (rc == -2) {
        toml_error(P, line, "%s out of range: '%s'",
                   v->type == HR_VAL_FLOAT ? "float" : "integer",
                   toml_show(P, tok, len));
        return NULL;
    }
    if (rc != 0) {
        toml_error(P, line, "invalid number '%s'", toml_show(P, tok, len));
        return NULL;
    }
    return v;
}
