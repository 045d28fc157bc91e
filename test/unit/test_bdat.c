/*
 * test_bdat.c -- tests of modules/extensions/bdat_parse.c, the argument
 * parser of BDAT (RFC 3030 §2).
 *
 * Each row is the text after "BDAT " with the verdict, the chunk size and
 * the LAST flag the parser must give.  The verdict matters beyond valid or
 * not: BDAT_BAD_ARGS and BDAT_ZERO_NOT_LAST still give the size (the
 * module reads that many octets before it replies, so the session stays in
 * step), BDAT_BAD_SIZE means the octet count is unknown.
 *
 * Run: make test/unit/test_bdat && ./test/unit/test_bdat
 */
#include <stdio.h>
#include <string.h>
#include <CUnit/Basic.h>
#include <apr_general.h>

#include "../../modules/extensions/bdat_parse.h"

typedef struct {
    const char *args;
    bdat_status status;
    apr_off_t size;     /* expected *size (0 when unknown) */
    int last;
} bdat_case;

#define OK BDAT_OK
#define BAD_SIZE BDAT_BAD_SIZE
#define BAD_ARGS BDAT_BAD_ARGS
#define ZERO BDAT_ZERO_NOT_LAST

static const bdat_case cases[] = {
    /* valid: chunk-size ::= 1*DIGIT, end-marker ::= "LAST" */
    {"100", OK, 100, 0},
    {"100 LAST", OK, 100, 1},
    {"1", OK, 1, 0},
    {"0 LAST", OK, 0, 1},
    {"00 LAST", OK, 0, 1},
    {"007", OK, 7, 0},
    {"65536 LAST", OK, 65536, 1},
    /* LAST is case-insensitive (RFC 5321 §2.4, RFC 5234 §2.3) */
    {"100 last", OK, 100, 1},
    {"100 Last", OK, 100, 1},
    {"100 lAsT", OK, 100, 1},
    /* 18 significant digits is the cap; leading zeros are free */
    {"999999999999999999", OK, 999999999999999999LL, 0},
    {"999999999999999999 LAST", OK, 999999999999999999LL, 1},
    {"0000000000000000000000000001", OK, 1, 0},
    {"000000000000000000000000000000000000000000 LAST", OK, 0, 1},

    /* "BDAT 0" without LAST: an empty chunk that ends nothing */
    {"0", ZERO, 0, 0},
    {"000", ZERO, 0, 0},

    /* no size can be read: the octet count is unknown */
    {"", BAD_SIZE, 0, 0},
    {" ", BAD_SIZE, 0, 0},
    {"-1", BAD_SIZE, 0, 0},
    {"+1", BAD_SIZE, 0, 0},
    {"1x", BAD_SIZE, 0, 0},
    {"1x LAST", BAD_SIZE, 0, 0},
    {"x1", BAD_SIZE, 0, 0},
    {"LAST", BAD_SIZE, 0, 0},
    {"LAST 100", BAD_SIZE, 0, 0},
    {"0x10", BAD_SIZE, 0, 0},
    {"1.5", BAD_SIZE, 0, 0},
    {"1,024", BAD_SIZE, 0, 0},
    {"100\tLAST", BAD_SIZE, 0, 0},
    {"100\r", BAD_SIZE, 0, 0},
    {"\xc2\xb9", BAD_SIZE, 0, 0},        /* superscript one */
    {"1000000000000000000", BAD_SIZE, 0, 0},  /* 19 digits */
    {"99999999999999999999999999999999999999", BAD_SIZE, 0, 0},
    {"18446744073709551617 LAST", BAD_SIZE, 0, 0},  /* > 2^64 */
    {"9223372036854775808", BAD_SIZE, 0, 0},        /* 2^63 */

    /* the size is read, the rest of the line is wrong */
    {"100  LAST", BAD_ARGS, 100, 0},
    {"100 LAST ", BAD_ARGS, 100, 0},
    {"100 ", BAD_ARGS, 100, 0},
    {" 100", BAD_ARGS, 100, 0},
    {"  100 LAST", BAD_ARGS, 100, 0},
    {"100 LAST extra", BAD_ARGS, 100, 0},
    {"100 LAST LAST", BAD_ARGS, 100, 0},
    {"100 LASTX", BAD_ARGS, 100, 0},
    {"100 LAS", BAD_ARGS, 100, 0},
    {"100 FIRST", BAD_ARGS, 100, 0},
    {"100 200", BAD_ARGS, 100, 0},
    {"100 BODY=BINARYMIME", BAD_ARGS, 100, 0},
    {"100 \tLAST", BAD_ARGS, 100, 0},
    {"0 ", BAD_ARGS, 0, 0},
    {"0 FOO", BAD_ARGS, 0, 0},
    {"0  LAST", BAD_ARGS, 0, 0},
};

#define NCASES (sizeof(cases) / sizeof(cases[0]))

/* Every row: verdict, size and LAST as listed. */
static void test_table(void)
{
    apr_size_t i;
    int bad = 0;

    for (i = 0; i < NCASES; i++) {
        const bdat_case *c = &cases[i];
        apr_off_t size = -42;
        int last = -42;
        bdat_status got = bdat_parse(c->args, &size, &last);

        if (got != c->status || size != c->size || last != c->last) {
            printf("\n  row %lu \"%s\": got %s size=%" APR_OFF_T_FMT
                   " last=%d, want %s size=%" APR_OFF_T_FMT " last=%d",
                   (unsigned long)i, c->args, bdat_status_text(got), size,
                   last, bdat_status_text(c->status), c->size, c->last);
            bad++;
        }
    }
    if (bad) {
        printf("\n");
    }
    CU_ASSERT_EQUAL(bad, 0);
}

/* NULL arguments, and the outputs are always written. */
static void test_null_and_reset(void)
{
    apr_off_t size = 5;
    int last = 1;

    CU_ASSERT_EQUAL(bdat_parse(NULL, &size, &last), BDAT_BAD_SIZE);
    CU_ASSERT_EQUAL(size, 0);
    CU_ASSERT_EQUAL(last, 0);
    size = 5;
    last = 1;
    CU_ASSERT_EQUAL(bdat_parse("x", &size, &last), BDAT_BAD_SIZE);
    CU_ASSERT_EQUAL(size, 0);
    CU_ASSERT_EQUAL(last, 0);
    last = 1;
    CU_ASSERT_EQUAL(bdat_parse("12 LAST x", &size, &last), BDAT_BAD_ARGS);
    CU_ASSERT_EQUAL(size, 12);
    CU_ASSERT_EQUAL(last, 0);
}

/* Every count from 0 to 100000 round-trips, with and without LAST. */
static void test_round_trip(void)
{
    char text[64];
    apr_off_t n, size;
    int last, bad = 0;

    for (n = 0; n <= 100000; n++) {
        snprintf(text, sizeof(text), "%" APR_OFF_T_FMT " LAST", n);
        if (bdat_parse(text, &size, &last) != BDAT_OK || size != n ||
            !last) {
            bad++;
        }
        snprintf(text, sizeof(text), "%" APR_OFF_T_FMT, n);
        if (bdat_parse(text, &size, &last) !=
                (n == 0 ? BDAT_ZERO_NOT_LAST : BDAT_OK) ||
            size != n || last) {
            bad++;
        }
    }
    CU_ASSERT_EQUAL(bad, 0);
}

/* Every power of ten up to the cap, and each one past it. */
static void test_digit_cap(void)
{
    char text[64];
    apr_off_t size, expect = 1;
    int last, digits;

    for (digits = 1; digits <= BDAT_MAX_DIGITS + 3; digits++) {
        memset(text, '9', digits);
        text[digits] = '\0';
        if (digits <= BDAT_MAX_DIGITS) {
            expect = expect * 10;
            CU_ASSERT_EQUAL(bdat_parse(text, &size, &last), BDAT_OK);
            CU_ASSERT_EQUAL(size, expect - 1);
        }
        else {
            CU_ASSERT_EQUAL(bdat_parse(text, &size, &last), BDAT_BAD_SIZE);
            CU_ASSERT_EQUAL(size, 0);
        }
    }
}

/* A long run of junk is refused without reading past the string. */
static void test_long_input(void)
{
    static char text[100001];
    apr_off_t size;
    int last;

    memset(text, '0', sizeof(text) - 1);
    CU_ASSERT_EQUAL(bdat_parse(text, &size, &last), BDAT_ZERO_NOT_LAST);
    text[sizeof(text) - 2] = '7';
    CU_ASSERT_EQUAL(bdat_parse(text, &size, &last), BDAT_OK);
    CU_ASSERT_EQUAL(size, 7);
    memset(text, ' ', sizeof(text) - 1);
    CU_ASSERT_EQUAL(bdat_parse(text, &size, &last), BDAT_BAD_SIZE);
}

int main(void)
{
    CU_pSuite suite;
    int failed;

    apr_initialize();
    if (CU_initialize_registry() != CUE_SUCCESS) {
        return 2;
    }
    suite = CU_add_suite("bdat_parse", NULL, NULL);
    CU_add_test(suite, "table of BDAT arguments", test_table);
    CU_add_test(suite, "NULL and output reset", test_null_and_reset);
    CU_add_test(suite, "counts 0..100000 round-trip", test_round_trip);
    CU_add_test(suite, "18-digit cap", test_digit_cap);
    CU_add_test(suite, "100000-octet arguments", test_long_input);
    CU_basic_set_mode(CU_BRM_VERBOSE);
    CU_basic_run_tests();
    failed = CU_get_number_of_failures() != 0 || CU_get_error();
    CU_cleanup_registry();
    apr_terminate();
    return failed;
}
