/*
 * test_deliverby.c -- table-driven tests of
 * modules/extensions/deliverby_parse.c: BY=<by-time>;<by-mode>[T] values
 * (RFC 2852 §4), the acceptable range of a by-time (mode R > 0, the
 * min-by-time, the configured maximum) and the deadline's formatting.
 * Run: make test/unit/test_deliverby && ./test/unit/test_deliverby
 */
#include <stdio.h>
#include <string.h>
#include <CUnit/Basic.h>

#include "deliverby_parse.h"

#define BAD (-1)

typedef struct {
    const char *text;
    int status;                 /* 0 or BAD */
    apr_int64_t by_time;
    char mode;
    int trace;
} parse_row;

static const parse_row parse_rows[] = {
    {"3600;R", 0, 3600, 'R', 0},
    {"3600;N", 0, 3600, 'N', 0},
    {"3600;RT", 0, 3600, 'R', 1},
    {"3600;NT", 0, 3600, 'N', 1},
    {"3600;r", 0, 3600, 'R', 0},        /* ABNF literals ignore case */
    {"3600;nt", 0, 3600, 'N', 1},
    {"+60;R", 0, 60, 'R', 0},
    {"-60;N", 0, -60, 'N', 0},          /* already late: notify */
    {"-60;R", 0, -60, 'R', 0},          /* the range check refuses it */
    {"0;N", 0, 0, 'N', 0},
    {"-0;N", 0, 0, 'N', 0},
    {"000000001;R", 0, 1, 'R', 0},
    {"999999999;R", 0, 999999999, 'R', 0},
    {"-999999999;N", 0, -999999999, 'N', 0},
    {"1000000000;R", BAD, 0, 0, 0},     /* ten digits */
    {"-1000000000;N", BAD, 0, 0, 0},
    {"3600", BAD, 0, 0, 0},             /* no mode */
    {"3600;", BAD, 0, 0, 0},
    {";R", BAD, 0, 0, 0},
    {"-;R", BAD, 0, 0, 0},
    {"+-5;R", BAD, 0, 0, 0},
    {"3600;X", BAD, 0, 0, 0},
    {"3600;T", BAD, 0, 0, 0},           /* trace without a mode */
    {"3600;TR", BAD, 0, 0, 0},
    {"3600;RTT", BAD, 0, 0, 0},
    {"3600;RN", BAD, 0, 0, 0},
    {"3600; R", BAD, 0, 0, 0},
    {"3600 ;R", BAD, 0, 0, 0},
    {" 3600;R", BAD, 0, 0, 0},
    {"3600;R ", BAD, 0, 0, 0},
    {"3600:R", BAD, 0, 0, 0},
    {"1h;R", BAD, 0, 0, 0},
    {"36.5;R", BAD, 0, 0, 0},
    {"0x10;R", BAD, 0, 0, 0},
    {"3600;R;T", BAD, 0, 0, 0},
    {"", BAD, 0, 0, 0},
    {NULL, BAD, 0, 0, 0},
};

static void test_parse(void)
{
    int i;

    for (i = 0; parse_rows[i].text != NULL; i++) {
        const parse_row *r = &parse_rows[i];
        deliverby_request req = {-42, '?', -1};
        int status = deliverby_parse(r->text, &req);

        if (status != r->status ||
            (status == 0 && (req.by_time != r->by_time ||
                             req.mode != r->mode || req.trace != r->trace))) {
            fprintf(stderr, "\nBY row %d \"%s\": status %d (%lld %c %d), "
                    "expected %d (%lld %c %d)\n", i, r->text, status,
                    (long long)req.by_time, req.mode, req.trace, r->status,
                    (long long)r->by_time, r->mode ? r->mode : '-',
                    r->trace);
        }
        CU_ASSERT_EQUAL(status, r->status);
        if (r->status == 0) {
            CU_ASSERT_EQUAL(req.by_time, r->by_time);
            CU_ASSERT_EQUAL(req.mode, r->mode);
            CU_ASSERT_EQUAL(req.trace, r->trace);
        }
    }
    CU_ASSERT_EQUAL(deliverby_parse(NULL, NULL), BAD);
}

static void test_check(void)
{
    static const struct {
        apr_int64_t by_time;
        char mode;
        apr_int64_t min, max;
        db_range expected;
    } rows[] = {
        {3600, 'R', 0, 1296000, DB_OK},
        {1, 'R', 0, 1296000, DB_OK},
        {0, 'R', 0, 1296000, DB_RETURN_NOT_POSITIVE},
        {-1, 'R', 0, 1296000, DB_RETURN_NOT_POSITIVE},
        {-1, 'R', 300, 1296000, DB_RETURN_NOT_POSITIVE},
        {299, 'R', 300, 1296000, DB_BELOW_MIN},
        {300, 'R', 300, 1296000, DB_OK},
        {299, 'N', 300, 1296000, DB_OK},     /* the minimum is for R */
        {0, 'N', 300, 1296000, DB_OK},
        {-999999999, 'N', 300, 1296000, DB_OK},
        {1296000, 'R', 0, 1296000, DB_OK},   /* exactly the maximum */
        {1296001, 'R', 0, 1296000, DB_ABOVE_MAX},
        {1296001, 'N', 0, 1296000, DB_ABOVE_MAX},
        {999999999, 'N', 0, 999999999, DB_OK},
    };
    unsigned i;

    for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        deliverby_request req;

        req.by_time = rows[i].by_time;
        req.mode = rows[i].mode;
        req.trace = 0;
        if (deliverby_check(&req, rows[i].min, rows[i].max)
            != rows[i].expected) {
            fprintf(stderr, "\ncheck row %u: got %d, expected %d\n", i,
                    deliverby_check(&req, rows[i].min, rows[i].max),
                    rows[i].expected);
        }
        CU_ASSERT_EQUAL(deliverby_check(&req, rows[i].min, rows[i].max),
                        rows[i].expected);
    }
}

static void test_format(void)
{
    char buf[DB_DATETIME_SIZE];

    CU_ASSERT_EQUAL(deliverby_format(0, buf, sizeof(buf)), 0);
    CU_ASSERT_STRING_EQUAL(buf, "1970-01-01T00:00:00Z");
    CU_ASSERT_EQUAL(deliverby_format(1778232600, buf, sizeof(buf)), 0);
    CU_ASSERT_STRING_EQUAL(buf, "2026-05-08T09:30:00Z");
    CU_ASSERT_EQUAL(deliverby_format(1709164800, buf, sizeof(buf)), 0);
    CU_ASSERT_STRING_EQUAL(buf, "2024-02-29T00:00:00Z");
    CU_ASSERT_EQUAL(deliverby_format(253402300800LL, buf, sizeof(buf)), -1);
    CU_ASSERT_EQUAL(deliverby_format(0, buf, DB_DATETIME_SIZE - 1), -1);
}

int main(void)
{
    CU_pSuite suite;
    unsigned failures;

    if (CU_initialize_registry() != CUE_SUCCESS) {
        return 1;
    }
    suite = CU_add_suite("deliverby", NULL, NULL);
    CU_add_test(suite, "BY values", test_parse);
    CU_add_test(suite, "by-time range", test_check);
    CU_add_test(suite, "deadline formatting", test_format);
    CU_basic_set_mode(CU_BRM_VERBOSE);
    CU_basic_run_tests();
    failures = CU_get_number_of_failures();
    CU_cleanup_registry();
    return failures == 0 ? 0 : 1;
}
