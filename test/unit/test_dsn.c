/*
 * test_dsn.c -- table-driven tests of modules/extensions/dsn_parse.c: the
 * values of RET, ENVID, NOTIFY and ORCPT (RFC 3461 §4, RFC 6533 §3).
 *
 * Each row is an input and the expected outcome: NULL for "refused"
 * (501 5.5.4 in the module), or the stored form.  Rows may use {X<n>}:
 * n times 'x', to build values at and over the length limits.
 * Run: make test/unit/test_dsn && ./test/unit/test_dsn
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <CUnit/Basic.h>
#include <apr_general.h>
#include <apr_strings.h>

#include "dsn_parse.h"

static apr_pool_t *pool;

/* Expand {X<n>} in @text into n times 'x'. */
static const char *expand(const char *text)
{
    const char *open;
    char *end;
    long n;
    char *xs;

    if (text == NULL || (open = strstr(text, "{X")) == NULL) {
        return text;
    }
    n = strtol(open + 2, &end, 10);
    xs = apr_palloc(pool, n + 1);
    memset(xs, 'x', n);
    xs[n] = '\0';
    return expand(apr_pstrcat(pool, apr_pstrndup(pool, text, open - text),
                              xs, end + 1, NULL));
}

static int failures_in_table;

/* Report a row that went wrong (CUnit counts; the message says which). */
static void row_failed(const char *table, const char *input,
                       const char *want, const char *got)
{
    fprintf(stderr, "\n  %s: \"%s\": want %s, got %s", table,
            input ? input : "(null)", want ? want : "refused",
            got ? got : "refused");
    failures_in_table++;
}

static int same(const char *a, const char *b)
{
    return (a == NULL && b == NULL) || (a && b && strcmp(a, b) == 0);
}

/* ------------------------------------------------------------------ RET */

static const struct {
    const char *value;
    const char *want;
} ret_rows[] = {
    {"FULL", "FULL"},
    {"HDRS", "HDRS"},
    {"full", "FULL"},          /* ABNF strings ignore case */
    {"Hdrs", "HDRS"},
    {"hDrS", "HDRS"},
    {NULL, NULL},              /* RET without a value */
    {"", NULL},
    {"HEADERS", NULL},
    {"FULL,HDRS", NULL},
    {"FUL", NULL},
    {"FULLX", NULL},
    {"NEVER", NULL},
    {"+46ULL", NULL},          /* RET is not xtext */
};

static void test_ret_table(void)
{
    size_t i;

    failures_in_table = 0;
    for (i = 0; i < sizeof(ret_rows) / sizeof(ret_rows[0]); i++) {
        const char *ret = NULL, *why = NULL;
        int rc = dsn_parse_ret(ret_rows[i].value, &ret, &why);
        const char *got = rc == 0 ? ret : NULL;

        if (!same(got, ret_rows[i].want) || (rc != 0 && why == NULL)) {
            row_failed("RET", ret_rows[i].value, ret_rows[i].want, got);
        }
    }
    CU_ASSERT_EQUAL(failures_in_table, 0);
}

/* ---------------------------------------------------------------- ENVID */

static const struct {
    const char *value;
    const char *want;          /* decoded, or NULL: refused */
} envid_rows[] = {
    {"QQ314159", "QQ314159"},
    {"a+2Bb", "a+b"},
    {"+3Dequals", "=equals"},
    {"with+20space", "with space"},           /* SP is printable */
    {"<1234.5678@host.example>", "<1234.5678@host.example>"},
    {"{X100}", "{X100}"},                      /* the limit */
    {"{X101}", NULL},                          /* RFC 3461 §4.4: 100 */
    {"{X98}+2B", NULL},                        /* 99 decoded, 101 sent */
    {"", NULL},
    {NULL, NULL},
    {"a+2bb", NULL},                           /* lower-case hex */
    {"a+2", NULL},                             /* truncated hexchar */
    {"a+", NULL},
    {"a+00b", NULL},                           /* NUL */
    {"a+0Ab", NULL},                           /* LF: not printable */
    {"a+7Fb", NULL},                           /* DEL */
    {"a+C3+A9", NULL},                         /* not US-ASCII */
    {"a+GGb", NULL},
    {"\x01", NULL},
};

static void test_envid_table(void)
{
    size_t i;

    failures_in_table = 0;
    for (i = 0; i < sizeof(envid_rows) / sizeof(envid_rows[0]); i++) {
        const char *in = expand(envid_rows[i].value);
        const char *want = expand(envid_rows[i].want);
        const char *envid = NULL, *why = NULL;
        int rc = dsn_parse_envid(pool, in, &envid, &why);
        const char *got = rc == 0 ? envid : NULL;

        if (!same(got, want) || (rc != 0 && why == NULL)) {
            row_failed("ENVID", in, want, got);
        }
    }
    CU_ASSERT_EQUAL(failures_in_table, 0);
}

/* --------------------------------------------------------------- NOTIFY */

static const struct {
    const char *value;
    const char *want;          /* canonical text, or NULL: refused */
} notify_rows[] = {
    {"NEVER", "NEVER"},
    {"never", "NEVER"},
    {"SUCCESS", "SUCCESS"},
    {"FAILURE", "FAILURE"},
    {"DELAY", "DELAY"},
    {"SUCCESS,FAILURE", "SUCCESS,FAILURE"},
    {"FAILURE,SUCCESS", "SUCCESS,FAILURE"},    /* canonical order */
    {"DELAY,FAILURE", "FAILURE,DELAY"},
    {"success,Failure,DELAY", "SUCCESS,FAILURE,DELAY"},
    {"DELAY,SUCCESS,FAILURE", "SUCCESS,FAILURE,DELAY"},
    {"SUCCESS,DELAY", "SUCCESS,DELAY"},
    {NULL, NULL},
    {"", NULL},
    {"NEVER,SUCCESS", NULL},                   /* NEVER must be alone */
    {"FAILURE,NEVER", NULL},
    {"NEVER,NEVER", NULL},
    {"SUCCESS,SUCCESS", NULL},                 /* duplicates */
    {"FAILURE,DELAY,failure", NULL},
    {"SUCCESS,", NULL},                        /* empty elements */
    {",SUCCESS", NULL},
    {"SUCCESS,,FAILURE", NULL},
    {",", NULL},
    {"ALWAYS", NULL},
    {"SUCCES", NULL},
    {"SUCCESSX", NULL},
    {"SUCCESS;FAILURE", NULL},
    {"DELAYED", NULL},
};

static void test_notify_table(void)
{
    size_t i;

    failures_in_table = 0;
    for (i = 0; i < sizeof(notify_rows) / sizeof(notify_rows[0]); i++) {
        unsigned flags = 0;
        const char *why = NULL;
        int rc = dsn_parse_notify(notify_rows[i].value, &flags, &why);
        const char *got = rc == 0 ? dsn_notify_text(flags) : NULL;

        if (!same(got, notify_rows[i].want) || (rc != 0 && why == NULL)) {
            row_failed("NOTIFY", notify_rows[i].value, notify_rows[i].want,
                       got);
        }
    }
    CU_ASSERT_EQUAL(failures_in_table, 0);
}

static void test_notify_bits(void)
{
    unsigned flags = 0;
    const char *why;

    CU_ASSERT_EQUAL(dsn_parse_notify("FAILURE,DELAY", &flags, &why), 0);
    CU_ASSERT_EQUAL(flags, DSN_NOTIFY_FAILURE | DSN_NOTIFY_DELAY);
    CU_ASSERT_EQUAL(dsn_parse_notify("never", &flags, &why), 0);
    CU_ASSERT_EQUAL(flags, DSN_NOTIFY_NEVER);
    CU_ASSERT_STRING_EQUAL(dsn_notify_text(DSN_NOTIFY_SUCCESS |
                                           DSN_NOTIFY_DELAY),
                           "SUCCESS,DELAY");
}

/* ---------------------------------------------------------------- ORCPT */

static const struct {
    const char *value;
    int smtputf8;
    const char *type;          /* NULL: refused */
    const char *address;
} orcpt_rows[] = {
    {"rfc822;user@example.org", 0, "rfc822", "user@example.org"},
    {"RFC822;User@Example.ORG", 0, "rfc822", "User@Example.ORG"},
    {"rfc822;a+2Bb@example.org", 0, "rfc822", "a+b@example.org"},
    {"rfc822;a+3Db@example.org", 0, "rfc822", "a=b@example.org"},
    {"rfc822;\"a+20b\"@example.org", 0, "rfc822", "\"a b\"@example.org"},
    {"x400;c=US;a=;p=x", 0, NULL, NULL},       /* '=' is not xtext */
    {"x400;/c+3DUS/a+3D/", 0, "x400", "/c=US/a=/"},
    {"x-local;postmaster", 0, "x-local", "postmaster"},
    {"rfc822;{X493}", 0, "rfc822", "{X493}"},  /* 500 in all */
    {"rfc822;{X494}", 0, NULL, NULL},          /* 501 */
    {"rfc822;", 0, NULL, NULL},                /* empty address */
    {";user@example.org", 0, NULL, NULL},      /* empty addr-type */
    {"user@example.org", 0, NULL, NULL},       /* no ';' */
    {"", 0, NULL, NULL},
    {NULL, 0, NULL, NULL},
    {"rfc 822;user@example.org", 0, NULL, NULL},  /* not an atom */
    {"rfc822(x);user@example.org", 0, NULL, NULL},
    {"rfc822;a+2bb@example.org", 0, NULL, NULL},  /* lower-case hex */
    {"rfc822;a+00@example.org", 0, NULL, NULL},
    {"rfc822;a+0D+0A@example.org", 0, NULL, NULL}, /* not printable */
    {"rfc822;a+C3+A9@example.org", 0, NULL, NULL}, /* not US-ASCII */
    {"rfc822;\xc3\xa9@example.org", 1, NULL, NULL}, /* raw UTF-8 */
    /* RFC 6533 §3: the utf-8 addr-type */
    {"utf-8;user@example.org", 0, "utf-8", "user@example.org"},
    {"UTF-8;j\\x{E9}r\\x{F4}me@example.org", 0, "utf-8",
     "j\xc3\xa9r\xc3\xb4me@example.org"},
    {"utf-8;\\x{65E5}\\x{672C}@example.jp", 0, "utf-8",
     "\xe6\x97\xa5\xe6\x9c\xac@example.jp"},
    {"utf-8;\\x{1F600}@example.org", 0, "utf-8",
     "\xf0\x9f\x98\x80@example.org"},
    {"utf-8;a\\x{2B}b@example.org", 0, "utf-8", "a+b@example.org"},
    {"utf-8;a\\x{5C}b@example.org", 0, "utf-8", "a\\b@example.org"},
    {"utf-8;\\x{10FFFF}@example.org", 0, "utf-8",
     "\xf4\x8f\xbf\xbf@example.org"},
    {"utf-8;j\xc3\xa9r\xc3\xb4me@example.org", 1, "utf-8",
     "j\xc3\xa9r\xc3\xb4me@example.org"},      /* unitext with SMTPUTF8 */
    {"utf-8;j\xc3\xa9r\xc3\xb4me@example.org", 0, NULL, NULL},
    {"utf-8;\xc3@example.org", 1, NULL, NULL},  /* broken UTF-8 */
    {"utf-8;\xed\xa0\x80@example.org", 1, NULL, NULL}, /* surrogate */
    {"utf-8;a+2Bb@example.org", 0, NULL, NULL}, /* no '+' in QCHAR */
    {"utf-8;\\x{41}@example.org", 0, NULL, NULL}, /* needless escape */
    {"utf-8;\\x{0E9}@example.org", 0, NULL, NULL}, /* leading zero */
    {"utf-8;\\x{D800}@example.org", 0, NULL, NULL}, /* surrogate */
    {"utf-8;\\x{110000}@example.org", 0, NULL, NULL}, /* > U+10FFFF */
    {"utf-8;\\x{1234567}@example.org", 0, NULL, NULL}, /* 7 digits */
    {"utf-8;\\x{0A}@example.org", 0, NULL, NULL}, /* control */
    {"utf-8;\\x{E9@example.org", 0, NULL, NULL},   /* unterminated */
    {"utf-8;\\xE9@example.org", 0, NULL, NULL},
    {"utf-8;a\\b@example.org", 0, NULL, NULL},     /* bare '\' */
    {"utf-8;\\x{}@example.org", 0, NULL, NULL},
};

static void test_orcpt_table(void)
{
    size_t i;

    failures_in_table = 0;
    for (i = 0; i < sizeof(orcpt_rows) / sizeof(orcpt_rows[0]); i++) {
        const char *in = expand(orcpt_rows[i].value);
        const char *want = expand(orcpt_rows[i].address);
        dsn_orcpt o = {NULL, NULL, NULL};
        const char *why = NULL;
        int rc = dsn_parse_orcpt(pool, in, orcpt_rows[i].smtputf8, &o,
                                 &why);
        const char *got = rc == 0 ? o.address : NULL;

        if (!same(got, want) || (rc != 0 && why == NULL) ||
            (rc == 0 && !same(o.type, orcpt_rows[i].type)) ||
            (rc == 0 && !same(o.encoded, strchr(in, ';') + 1))) {
            row_failed("ORCPT", in, want, got);
        }
    }
    CU_ASSERT_EQUAL(failures_in_table, 0);
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
    suite = CU_add_suite("dsn_parse", NULL, NULL);
    CU_add_test(suite, "RET table", test_ret_table);
    CU_add_test(suite, "ENVID table", test_envid_table);
    CU_add_test(suite, "NOTIFY table", test_notify_table);
    CU_add_test(suite, "NOTIFY bits", test_notify_bits);
    CU_add_test(suite, "ORCPT table", test_orcpt_table);
    CU_basic_set_mode(CU_BRM_VERBOSE);
    CU_basic_run_tests();
    failed = CU_get_number_of_failures() != 0 || CU_get_error();
    CU_cleanup_registry();
    apr_pool_destroy(pool);
    apr_terminate();
    return failed;
}
