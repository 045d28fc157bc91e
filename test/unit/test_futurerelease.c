/*
 * test_futurerelease.c -- table-driven tests of
 * modules/extensions/futurerelease_parse.c: HOLDFOR values, RFC 3339
 * date-times (leap years, leap seconds, offsets, fractions, garbage),
 * HOLDUNTIL (date-time or Unix time), the range check and formatting.
 * Run: make test/unit/test_futurerelease && ./test/unit/test_futurerelease
 */
#include <stdio.h>
#include <string.h>
#include <CUnit/Basic.h>

#include "futurerelease_parse.h"

#define BAD (-1)

/* One row: input, 0 (valid) or BAD, expected value when valid. */
typedef struct {
    const char *text;
    int status;
    apr_int64_t value;
} row;

static const row holdfor_rows[] = {
    {"0", 0, 0},                    /* release at once */
    {"1", 0, 1},
    {"3600", 0, 3600},
    {"604800", 0, 604800},
    {"007", 0, 7},                  /* 1*9DIGIT: leading zeros are digits */
    {"000000000", 0, 0},
    {"999999999", 0, 999999999},    /* the largest 1*9DIGIT */
    {"1000000000", BAD, 0},         /* ten digits */
    {"0000000000", BAD, 0},
    {"", BAD, 0},
    {"-1", BAD, 0},
    {"+5", BAD, 0},
    {" 5", BAD, 0},
    {"5 ", BAD, 0},
    {"1e3", BAD, 0},
    {"0x10", BAD, 0},
    {"12.5", BAD, 0},
    {"3600s", BAD, 0},
    {"1h", BAD, 0},
    {"\xff", BAD, 0},
    {NULL, BAD, 0},
};

static const row datetime_rows[] = {
    {"1970-01-01T00:00:00Z", 0, 0},
    {"2026-01-01T12:00:00Z", 0, 1767268800},
    {"2026-01-01t12:00:00z", 0, 1767268800},  /* RFC 3339 §5.6 NOTE */
    {"2026-01-01T12:00:00+00:00", 0, 1767268800},
    {"2026-01-01T12:00:00-00:00", 0, 1767268800},
    {"2026-01-01T12:00:00+02:00", 0, 1767261600},
    {"2026-01-01T00:30:00-05:30", 0, 1767247200},
    {"2026-03-01T00:00:00+14:00", 0, 1772272800},
    {"2025-12-31T23:59:59-12:00", 0, 1767268799},
    /* leap years: 2000 and 2024 are, 1900, 2023 and 2100 are not */
    {"2000-02-29T12:00:00Z", 0, 951825600},
    {"2024-02-29T00:00:00Z", 0, 1709164800},
    {"2023-02-29T00:00:00Z", BAD, 0},
    {"1900-02-29T00:00:00Z", BAD, 0},
    {"2100-02-29T00:00:00Z", BAD, 0},
    {"2024-02-30T00:00:00Z", BAD, 0},
    {"2026-04-31T00:00:00Z", BAD, 0},
    {"2026-12-31T23:59:59Z", 0, 1798761599},
    /* fractions round up: never release early */
    {"2026-01-01T12:00:00.5Z", 0, 1767268801},
    {"2026-01-01T12:00:00.000000001Z", 0, 1767268801},
    {"2026-01-01T12:00:00.000Z", 0, 1767268800},
    {"2026-01-01T11:59:59.999+00:00", 0, 1767268800},
    {"2026-01-01T12:00:00.Z", BAD, 0},
    {"2026-01-01T12:00:00,5Z", BAD, 0},
    /* leap seconds: only the last second of a UTC day */
    {"2016-12-31T23:59:60Z", 0, 1483228800},
    {"2016-12-31T15:59:60-08:00", 0, 1483228800},
    {"2016-12-31T12:00:60Z", BAD, 0},
    {"2016-12-31T23:59:61Z", BAD, 0},
    /* field ranges */
    {"2026-13-01T00:00:00Z", BAD, 0},
    {"2026-00-10T00:00:00Z", BAD, 0},
    {"2026-01-00T00:00:00Z", BAD, 0},
    {"2026-01-32T00:00:00Z", BAD, 0},
    {"2026-01-01T24:00:00Z", BAD, 0},
    {"2026-01-01T23:60:00Z", BAD, 0},
    {"2026-01-01T12:00:00+24:00", BAD, 0},
    {"2026-01-01T12:00:00+02:60", BAD, 0},
    /* shape */
    {"2026-01-01 12:00:00Z", BAD, 0},
    {"2026-01-01T12:00:00", BAD, 0},
    {"2026-01-01T12:00Z", BAD, 0},
    {"2026-01-01", BAD, 0},
    {"26-01-01T12:00:00Z", BAD, 0},
    {"2026-1-1T12:00:00Z", BAD, 0},
    {"2026-01-01T12:00:00+0200", BAD, 0},
    {"2026-01-01T12:00:00+02", BAD, 0},
    {"2026-01-01T12:00:00Zjunk", BAD, 0},
    {"2026-01-01T12:00:00Z ", BAD, 0},
    {" 2026-01-01T12:00:00Z", BAD, 0},
    {"+2026-01-01T12:00:00Z", BAD, 0},
    {"20260101T120000Z", BAD, 0},
    {"tomorrow", BAD, 0},
    {"", BAD, 0},
    {"9999-12-31T23:59:59Z", 0, 253402300799},
    {"2026-01-01T12:00:00.000000000000000000000000000000000000000000000001Z",
     BAD, 0},                       /* longer than FR_MAX_VALUE_LEN */
    {NULL, BAD, 0},
};

static const row holduntil_rows[] = {
    {"2026-05-08T09:30:00Z", 0, 1778232600},
    {"2026-05-08T11:30:00+02:00", 0, 1778232600},
    {"1778232600", 0, 1778232600},       /* bare Unix time */
    {"0", 0, 0},
    {"99999999999", 0, 99999999999},     /* eleven digits */
    {"100000000000", BAD, 0},            /* twelve */
    {"2147483648", 0, 2147483648},       /* past 2038 */
    {"17782326OO", BAD, 0},
    {"-1", BAD, 0},
    {"1778232600.5", BAD, 0},
    {"", BAD, 0},
    {"HOLDUNTIL", BAD, 0},
    {NULL, BAD, 0},
};

static void test_holdfor(void)
{
    const row *r;
    int i;

    for (i = 0; holdfor_rows[i].text != NULL; i++) {
        apr_int64_t value = -42;
        int status;

        r = &holdfor_rows[i];
        status = futurerelease_parse_holdfor(r->text, &value);
        if (status != r->status || (status == 0 && value != r->value)) {
            fprintf(stderr, "\nHOLDFOR row %d \"%s\": status %d value %lld,"
                    " expected %d %lld\n", i, r->text, status,
                    (long long)value, r->status, (long long)r->value);
        }
        CU_ASSERT_EQUAL(status, r->status);
        if (r->status == 0) {
            CU_ASSERT_EQUAL(value, r->value);
        }
    }
    CU_ASSERT_EQUAL(futurerelease_parse_holdfor(NULL, NULL), BAD);
}

static void run_rows(const char *what, const row *rows,
                     int (*fn)(const char *, apr_int64_t *))
{
    int i;

    for (i = 0; rows[i].text != NULL; i++) {
        apr_int64_t value = -42;
        int status = fn(rows[i].text, &value);

        if (status != rows[i].status ||
            (status == 0 && value != rows[i].value)) {
            fprintf(stderr, "\n%s row %d \"%s\": status %d value %lld, "
                    "expected %d %lld\n", what, i, rows[i].text, status,
                    (long long)value, rows[i].status,
                    (long long)rows[i].value);
        }
        CU_ASSERT_EQUAL(status, rows[i].status);
        if (rows[i].status == 0) {
            CU_ASSERT_EQUAL(value, rows[i].value);
        }
    }
}

static void test_datetime(void)
{
    run_rows("date-time", datetime_rows, futurerelease_parse_datetime);
}

static void test_holduntil(void)
{
    run_rows("HOLDUNTIL", holduntil_rows, futurerelease_parse_holduntil);
    /* every valid date-time is a valid HOLDUNTIL with the same instant */
    run_rows("HOLDUNTIL as date-time", datetime_rows,
             futurerelease_parse_holduntil);
}

static void test_check(void)
{
    static const struct {
        apr_int64_t now, until, max;
        fr_range expected;
    } rows[] = {
        {1000, 1000, 604800, FR_OK},             /* now: release at once */
        {1000, 1001, 604800, FR_OK},
        {1000, 999, 604800, FR_IN_PAST},
        {1000, 0, 604800, FR_IN_PAST},
        {1000, 1000 + 604800, 604800, FR_OK},    /* exactly the maximum */
        {1000, 1000 + 604801, 604800, FR_TOO_FAR},
        {1000, 99999999999LL, 999999999, FR_TOO_FAR},
        {1000, 1000 + 999999999, 999999999, FR_OK},
    };
    unsigned i;

    for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        CU_ASSERT_EQUAL(futurerelease_check(rows[i].now, rows[i].until,
                                            rows[i].max),
                        rows[i].expected);
    }
}

static void test_format(void)
{
    static const struct {
        apr_int64_t t;
        const char *expected;   /* NULL: an error */
    } rows[] = {
        {0, "1970-01-01T00:00:00Z"},
        {951825600, "2000-02-29T12:00:00Z"},
        {1483228800, "2017-01-01T00:00:00Z"},
        {1778232600, "2026-05-08T09:30:00Z"},
        {2147483648LL, "2038-01-19T03:14:08Z"},
        {253402300799LL, "9999-12-31T23:59:59Z"},
        {253402300800LL, NULL},             /* year 10000 */
    };
    char buf[FR_DATETIME_SIZE];
    unsigned i;

    for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        int status = futurerelease_format(rows[i].t, buf, sizeof(buf));

        if (rows[i].expected == NULL) {
            CU_ASSERT_EQUAL(status, -1);
        }
        else {
            apr_int64_t back = -1;

            CU_ASSERT_EQUAL(status, 0);
            CU_ASSERT_STRING_EQUAL(buf, rows[i].expected);
            /* what we advertise and store parses back to the instant */
            CU_ASSERT_EQUAL(futurerelease_parse_datetime(buf, &back), 0);
            CU_ASSERT_EQUAL(back, rows[i].t);
        }
    }
    CU_ASSERT_EQUAL(futurerelease_format(0, buf, FR_DATETIME_SIZE - 1), -1);
}

int main(void)
{
    CU_pSuite suite;
    unsigned failures;

    if (CU_initialize_registry() != CUE_SUCCESS) {
        return 1;
    }
    suite = CU_add_suite("futurerelease", NULL, NULL);
    CU_add_test(suite, "HOLDFOR values", test_holdfor);
    CU_add_test(suite, "RFC 3339 date-times", test_datetime);
    CU_add_test(suite, "HOLDUNTIL values", test_holduntil);
    CU_add_test(suite, "range check", test_check);
    CU_add_test(suite, "formatting", test_format);
    CU_basic_set_mode(CU_BRM_VERBOSE);
    CU_basic_run_tests();
    failures = CU_get_number_of_failures();
    CU_cleanup_registry();
    return failures == 0 ? 0 : 1;
}
