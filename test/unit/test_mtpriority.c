/*
 * test_mtpriority.c -- table-driven tests of
 * modules/extensions/mtpriority_parse.c: MT-PRIORITY values (RFC 6710
 * §3) and their mapping to the levels of the MIXER, STANAG4406 and NSEP
 * Priority Assignment Policies, with and without a cap.
 *
 * The mapping tables list every value from -9 to 9 for each policy, so
 * a change to a policy's levels or to the rounding rule shows here.
 * Run: make test/unit/test_mtpriority && ./test/unit/test_mtpriority
 */
#include <stdio.h>
#include <string.h>
#include <CUnit/Basic.h>

#include "mtpriority_parse.h"

/* --------------------------------------------------------------- values */

static const struct {
    const char *text;
    int ok;
    int value;
} value_rows[] = {
    {"0", 1, 0},
    {"+0", 1, 0},
    {"1", 1, 1},
    {"9", 1, 9},
    {"+9", 1, 9},
    {"-1", 1, -1},
    {"-9", 1, -9},
    {"+4", 1, 4},
    {"-4", 1, -4},
    {"5", 1, 5},
    {"-0", 0, 0},              /* "-" is followed by 1-9 only */
    {"10", 0, 0},              /* out of range */
    {"-10", 0, 0},
    {"99", 0, 0},
    {"09", 0, 0},              /* one digit */
    {"+-1", 0, 0},
    {"--1", 0, 0},
    {"++1", 0, 0},
    {"-", 0, 0},
    {"+", 0, 0},
    {"", 0, 0},
    {"a", 0, 0},
    {"1a", 0, 0},
    {" 1", 0, 0},
    {"1 ", 0, 0},
    {"1.0", 0, 0},
    {"0x1", 0, 0},
    {"\xd9\xa1", 0, 0},        /* ARABIC-INDIC DIGIT ONE */
};

static void test_value_table(void)
{
    size_t i;
    int bad = 0;

    for (i = 0; i < sizeof(value_rows) / sizeof(value_rows[0]); i++) {
        int value = 1234;
        int rc = mtpriority_parse_value(value_rows[i].text, &value);

        if ((rc == 0) != value_rows[i].ok ||
            (rc == 0 && value != value_rows[i].value)) {
            fprintf(stderr, "\n  value \"%s\": want %s %d, got rc %d %d",
                    value_rows[i].text, value_rows[i].ok ? "ok" : "refused",
                    value_rows[i].value, rc, value);
            bad++;
        }
    }
    CU_ASSERT_EQUAL(bad, 0);
    CU_ASSERT_EQUAL(mtpriority_parse_value(NULL, &bad), -1);
}

/* -------------------------------------------------------------- policies */

static void test_policy_names(void)
{
    const mtpriority_policy *p;

    p = mtpriority_policy_find("mixer");
    CU_ASSERT_PTR_NOT_NULL_FATAL(p);
    CU_ASSERT_STRING_EQUAL(p->name, "MIXER");
    CU_ASSERT_EQUAL(p->nlevels, 3);
    p = mtpriority_policy_find("STANAG4406");
    CU_ASSERT_PTR_NOT_NULL_FATAL(p);
    CU_ASSERT_STRING_EQUAL(p->name, "STANAG4406");
    CU_ASSERT_EQUAL(p->nlevels, 6);
    p = mtpriority_policy_find("Nsep");
    CU_ASSERT_PTR_NOT_NULL_FATAL(p);
    CU_ASSERT_STRING_EQUAL(p->name, "NSEP");
    CU_ASSERT_EQUAL(p->nlevels, 5);
    CU_ASSERT_PTR_NULL(mtpriority_policy_find("stanag"));
    CU_ASSERT_PTR_NULL(mtpriority_policy_find("stanag 4406"));
    CU_ASSERT_PTR_NULL(mtpriority_policy_find(""));
    CU_ASSERT_PTR_NULL(mtpriority_policy_find(NULL));
}

/* Levels rise strictly, lie within -9..9, and map to themselves. */
static void test_policy_levels(void)
{
    static const char *names[] = {"MIXER", "STANAG4406", "NSEP"};
    size_t n;
    int i;

    for (n = 0; n < 3; n++) {
        const mtpriority_policy *p = mtpriority_policy_find(names[n]);
        CU_ASSERT_PTR_NOT_NULL_FATAL(p);
        for (i = 0; i < p->nlevels; i++) {
            CU_ASSERT(p->levels[i] >= MTP_MIN && p->levels[i] <= MTP_MAX);
            CU_ASSERT(i == 0 || p->levels[i] > p->levels[i - 1]);
            CU_ASSERT_EQUAL(mtpriority_effective(p, p->levels[i], MTP_MAX),
                            p->levels[i]);
        }
    }
}

/*
 * Every value -9..9 for each policy, no cap: the nearest level, a tie
 * going to the lower one.
 */
static const struct {
    const char *policy;
    int want[19];              /* index 0 is -9 ... index 18 is 9 */
} mapping_rows[] = {
    /*            -9  -8  -7  -6  -5  -4  -3  -2  -1   0   1   2   3   4
                   5   6   7   8   9 */
    {"MIXER", {-4, -4, -4, -4, -4, -4, -4, -4, 0, 0, 0, 0, 4, 4,
               4, 4, 4, 4, 4}},
    {"STANAG4406", {-4, -4, -4, -4, -4, -4, -4, -2, -2, 0, 0, 2, 2, 4,
                    4, 6, 6, 6, 6}},
    {"NSEP", {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 2, 3, 4,
              4, 4, 4, 4, 4}},
};

static void test_mapping_table(void)
{
    size_t n;
    int v, bad = 0;

    for (n = 0; n < sizeof(mapping_rows) / sizeof(mapping_rows[0]); n++) {
        const mtpriority_policy *p =
            mtpriority_policy_find(mapping_rows[n].policy);
        CU_ASSERT_PTR_NOT_NULL_FATAL(p);
        for (v = MTP_MIN; v <= MTP_MAX; v++) {
            int got = mtpriority_effective(p, v, MTP_MAX);
            if (got != mapping_rows[n].want[v + 9]) {
                fprintf(stderr, "\n  %s %d: want %d, got %d", p->name, v,
                        mapping_rows[n].want[v + 9], got);
                bad++;
            }
        }
    }
    CU_ASSERT_EQUAL(bad, 0);
}

/* With a cap (unauthenticated sessions). */
static const struct {
    const char *policy;        /* NULL: no policy */
    int requested, cap, want;
} cap_rows[] = {
    {"MIXER", 9, 0, 0},
    {"MIXER", 4, 0, 0},
    {"MIXER", -9, 0, -4},      /* lower than the cap: untouched */
    {"MIXER", 9, 3, 0},        /* 3 rounds to 4, over the cap: 0 */
    {"MIXER", 9, 4, 4},
    {"MIXER", 9, -9, -4},      /* no level that low: the lowest */
    {"MIXER", 2, 2, 0},
    {"STANAG4406", 9, 0, 0},
    {"STANAG4406", 9, 5, 4},
    {"STANAG4406", 9, 1, 0},
    {"STANAG4406", 6, 6, 6},
    {"STANAG4406", -1, -2, -2},
    {"STANAG4406", 9, -6, -4},
    {"NSEP", 4, 0, 0},
    {"NSEP", 4, 2, 2},
    {"NSEP", 9, 3, 3},
    {"NSEP", -5, -5, 0},       /* below every level: the lowest */
    {NULL, 7, 0, 0},           /* no policy: the capped value */
    {NULL, -7, 0, -7},
    {NULL, 5, MTP_MAX, 5},
};

static void test_cap_table(void)
{
    size_t i;
    int bad = 0;

    for (i = 0; i < sizeof(cap_rows) / sizeof(cap_rows[0]); i++) {
        const mtpriority_policy *p =
            cap_rows[i].policy ? mtpriority_policy_find(cap_rows[i].policy)
                               : NULL;
        int got = mtpriority_effective(p, cap_rows[i].requested,
                                       cap_rows[i].cap);
        if (got != cap_rows[i].want) {
            fprintf(stderr, "\n  %s %d cap %d: want %d, got %d",
                    cap_rows[i].policy ? cap_rows[i].policy : "none",
                    cap_rows[i].requested, cap_rows[i].cap,
                    cap_rows[i].want, got);
            bad++;
        }
    }
    CU_ASSERT_EQUAL(bad, 0);
}

int main(void)
{
    CU_pSuite suite;
    int failed;

    if (CU_initialize_registry() != CUE_SUCCESS) {
        return 1;
    }
    suite = CU_add_suite("mtpriority_parse", NULL, NULL);
    CU_add_test(suite, "value table", test_value_table);
    CU_add_test(suite, "policy names", test_policy_names);
    CU_add_test(suite, "policy levels", test_policy_levels);
    CU_add_test(suite, "mapping table (every value, every policy)",
                test_mapping_table);
    CU_add_test(suite, "cap table", test_cap_table);
    CU_basic_set_mode(CU_BRM_VERBOSE);
    CU_basic_run_tests();
    failed = CU_get_number_of_failures() != 0 || CU_get_error();
    CU_cleanup_registry();
    return failed;
}
