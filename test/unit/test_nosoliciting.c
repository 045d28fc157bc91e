/*
 * test_nosoliciting.c -- table-driven tests of
 * modules/extensions/nosoliciting_parse.c: solicitation class keyword
 * lists (RFC 3865 §2.2) as SOLICIT values and as configured, and
 * matching them.
 * Run: make test/unit/test_nosoliciting && ./test/unit/test_nosoliciting
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <CUnit/Basic.h>
#include <apr_general.h>
#include <apr_strings.h>

#include "nosoliciting_parse.h"

static apr_pool_t *pool;

/* Repeat @piece @n times (long inputs for the limits). */
static const char *repeat(const char *piece, int n, const char *sep)
{
    apr_array_header_t *a = apr_array_make(pool, n, sizeof(char *));
    int i;

    for (i = 0; i < n; i++) {
        APR_ARRAY_PUSH(a, const char *) = apr_psprintf(pool, piece, i);
    }
    return apr_array_pstrcat(pool, a, *sep);
}

/* ---------------------------------------------------------------- syntax */

static const struct {
    const char *text;
    unsigned flags;
    const char *want;          /* the keywords joined with ",", or NULL */
} syntax_rows[] = {
    {"net.example:ADV", 0, "net.example:ADV"},
    {"ADV", 0, "ADV"},
    {"net.example:ADV,org.example:BULK", 0,
     "net.example:ADV,org.example:BULK"},
    {"a", 0, "a"},
    {"a-b_c.d:e9", 0, "a-b_c.d:e9"},
    {"com.example:adv-2004", 0, "com.example:adv-2004"},
    {"A,B,C", 0, "A,B,C"},
    {"net.example:ADV, org.example:BULK", NOSOL_ALLOW_SPACE,
     "net.example:ADV,org.example:BULK"},
    {"  net.example:ADV ,\torg.example:BULK  ", NOSOL_ALLOW_SPACE,
     "net.example:ADV,org.example:BULK"},
    {"net.example:ADV, org.example:BULK", 0, NULL}, /* no SP in SOLICIT */
    {" ADV", 0, NULL},
    {"", 0, NULL},
    {"", NOSOL_ALLOW_SPACE, NULL},
    {"   ", NOSOL_ALLOW_SPACE, NULL},
    {NULL, 0, NULL},
    {",", 0, NULL},
    {"ADV,", 0, NULL},
    {",ADV", 0, NULL},
    {"ADV,,BULK", 0, NULL},
    {"ADV , ", NOSOL_ALLOW_SPACE, NULL},
    {"9adv", 0, NULL},         /* starts with a letter */
    {".adv", 0, NULL},
    {":ADV", 0, NULL},
    {"net.example:ADV;BULK", 0, NULL},
    {"net.example/ADV", 0, NULL},
    {"net.example:ADV+", 0, NULL},
    {"ADV=1", 0, NULL},
    {"caf\xc3\xa9", 0, NULL},  /* US-ASCII only */
    {"net example", NOSOL_ALLOW_SPACE, NULL}, /* space inside a word */
};

static void test_syntax_table(void)
{
    size_t i;
    int bad = 0;

    for (i = 0; i < sizeof(syntax_rows) / sizeof(syntax_rows[0]); i++) {
        apr_array_header_t *kw = NULL;
        const char *why = NULL, *got = NULL;
        int rc = nosoliciting_parse(pool, syntax_rows[i].text,
                                    syntax_rows[i].flags, &kw, &why);

        if (rc == 0) {
            got = nosoliciting_join(pool, kw);
        }
        if ((got == NULL) != (syntax_rows[i].want == NULL) ||
            (got && strcmp(got, syntax_rows[i].want) != 0) ||
            (rc != 0 && why == NULL)) {
            fprintf(stderr, "\n  \"%s\": want %s, got %s",
                    syntax_rows[i].text ? syntax_rows[i].text : "(null)",
                    syntax_rows[i].want ? syntax_rows[i].want : "refused",
                    got ? got : "refused");
            bad++;
        }
    }
    CU_ASSERT_EQUAL(bad, 0);
}

static void test_limits(void)
{
    apr_array_header_t *kw;
    const char *why, *word;

    /* NOSOL_MAX_KEYWORDS keywords, then one more */
    CU_ASSERT_EQUAL(nosoliciting_parse(pool, repeat("k%d", 32, ","), 0, &kw,
                                       &why), 0);
    CU_ASSERT_EQUAL(kw->nelts, 32);
    CU_ASSERT_EQUAL(nosoliciting_parse(pool, repeat("k%d", 33, ","), 0, &kw,
                                       &why), -1);
    /* NOSOL_MAX_KEYWORD octets in one keyword, then one more */
    word = apr_pstrcat(pool, "a", repeat("b", 127, ""), NULL);
    CU_ASSERT_EQUAL(strlen(word), 128);
    CU_ASSERT_EQUAL(nosoliciting_parse(pool, word, 0, &kw, &why), 0);
    word = apr_pstrcat(pool, word, "c", NULL);
    CU_ASSERT_EQUAL(nosoliciting_parse(pool, word, 0, &kw, &why), -1);
}

/* -------------------------------------------------------------- matching */

static const struct {
    const char *offered;
    const char *refused;
    const char *want;          /* the offered keyword that matched */
} match_rows[] = {
    {"net.example:ADV", "net.example:ADV", "net.example:ADV"},
    {"net.example:adv", "NET.EXAMPLE:ADV", "net.example:adv"},
    {"org.example:BULK,net.example:ADV", "net.example:ADV",
     "net.example:ADV"},
    {"net.example:ADV", "org.example:BULK,net.example:ADV",
     "net.example:ADV"},
    {"a,b,c", "x,y,c", "c"},
    {"a,b", "b,a", "a"},               /* the first offered one */
    {"net.example:ADV", "org.example:ADV", NULL},
    {"net.example:ADV", "net.example:AD", NULL},   /* whole keywords */
    {"net.example:AD", "net.example:ADV", NULL},
    {"ADV", "net.example:ADV", NULL},
    {"net.example:ADVERT", "net.example:ADV", NULL},
    {"a,b", "c,d", NULL},
};

static void test_match_table(void)
{
    size_t i;
    int bad = 0;

    for (i = 0; i < sizeof(match_rows) / sizeof(match_rows[0]); i++) {
        apr_array_header_t *offered, *refused;
        const char *why, *got;

        CU_ASSERT_EQUAL_FATAL(nosoliciting_parse(pool, match_rows[i].offered,
                                                 0, &offered, &why), 0);
        CU_ASSERT_EQUAL_FATAL(nosoliciting_parse(pool, match_rows[i].refused,
                                                 NOSOL_ALLOW_SPACE, &refused,
                                                 &why), 0);
        got = nosoliciting_match(offered, refused);
        if ((got == NULL) != (match_rows[i].want == NULL) ||
            (got && strcmp(got, match_rows[i].want) != 0)) {
            fprintf(stderr, "\n  %s vs %s: want %s, got %s",
                    match_rows[i].offered, match_rows[i].refused,
                    match_rows[i].want ? match_rows[i].want : "none",
                    got ? got : "none");
            bad++;
        }
    }
    CU_ASSERT_EQUAL(bad, 0);
    CU_ASSERT_PTR_NULL(nosoliciting_match(NULL, NULL));
}

int main(void)
{
    CU_pSuite suite;
    int failed;

    apr_initialize();
    apr_pool_create(&pool, NULL);
    if (CU_initialize_registry() != CUE_SUCCESS) {
        return 1;
    }
    suite = CU_add_suite("nosoliciting_parse", NULL, NULL);
    CU_add_test(suite, "keyword syntax table", test_syntax_table);
    CU_add_test(suite, "limits", test_limits);
    CU_add_test(suite, "matching table", test_match_table);
    CU_basic_set_mode(CU_BRM_VERBOSE);
    CU_basic_run_tests();
    failed = CU_get_number_of_failures() != 0 || CU_get_error();
    CU_cleanup_registry();
    apr_pool_destroy(pool);
    apr_terminate();
    return failed;
}
