/*
 * test_sasl.c -- table-driven tests of modules/auth/sasl_parse.c: strict
 * base64 (RFC 4648), PLAIN messages (RFC 4616), mechanism names (RFC 4422
 * §3.1) and whole PLAIN/LOGIN exchanges as mod_auth runs them (RFC 4954
 * §4: initial response, "=", "*", line limits).
 *
 * Byte strings with NULs inside are written B("\0alice\0pw") so their
 * length is the literal's, not strlen's.
 * Run: make test/unit/test_sasl && ./test/unit/test_sasl
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <CUnit/Basic.h>
#include <apr_general.h>
#include <apr_strings.h>
#include <apr_base64.h>

#include "sasl_parse.h"

#define B(lit) lit, sizeof(lit) - 1

static apr_pool_t *pool;

static const char *status_name(sasl_status st)
{
    static const char *names[] = {"CONTINUE", "DONE", "CANCELLED",
                                  "BAD_BASE64", "MALFORMED", "TOO_LONG"};
    return st >= 0 && st <= SASL_TOO_LONG ? names[st] : "?";
}

/* base64 of @len octets (to build exchange lines from readable rows) */
static const char *b64(const char *data, apr_size_t len)
{
    char *out = apr_palloc(pool, apr_base64_encode_len((int)len));
    apr_base64_encode_binary(out, (const unsigned char *)data, (int)len);
    return out;
}

/* A string of @n copies of @c. */
static char *repeat(char c, apr_size_t n)
{
    char *s = apr_palloc(pool, n + 1);
    memset(s, c, n);
    s[n] = '\0';
    return s;
}

/* --------------------------------------------------------------- base64 */

typedef struct {
    const char *text;
    sasl_status status;         /* SASL_CONTINUE = decoded */
    const char *octets;         /* expected result when decoded */
    apr_size_t octets_len;
} b64_row;

static const b64_row b64_rows[] = {
    {"", SASL_CONTINUE, B("")},
    {"YQ==", SASL_CONTINUE, B("a")},
    {"YWI=", SASL_CONTINUE, B("ab")},
    {"YWJj", SASL_CONTINUE, B("abc")},
    {"VXNlcm5hbWU6", SASL_CONTINUE, B("Username:")},
    {"AGFsaWNlAHNlY3JldA==", SASL_CONTINUE, B("\0alice\0secret")},
    {"+/+/", SASL_CONTINUE, B("\xfb\xff\xbf")},
    /* length not a multiple of 4 (RFC 4648 §4: padding is required) */
    {"YQ", SASL_BAD_BASE64, NULL, 0},
    {"YQ=", SASL_BAD_BASE64, NULL, 0},
    {"YWJjZ", SASL_BAD_BASE64, NULL, 0},
    /* padding in the wrong place, or too much of it */
    {"Y===", SASL_BAD_BASE64, NULL, 0},
    {"====", SASL_BAD_BASE64, NULL, 0},
    {"YQ==YQ==", SASL_BAD_BASE64, NULL, 0},
    {"Y=Q=", SASL_BAD_BASE64, NULL, 0},
    {"=YWJ", SASL_BAD_BASE64, NULL, 0},
    /* characters outside the alphabet: URL-safe, spaces, line breaks */
    {"YW-_", SASL_BAD_BASE64, NULL, 0},
    {"YW J", SASL_BAD_BASE64, NULL, 0},
    {"YWJj\r\n==", SASL_BAD_BASE64, NULL, 0},
    {"YWJ*", SASL_BAD_BASE64, NULL, 0},
    {"*", SASL_BAD_BASE64, NULL, 0},
    {"=", SASL_BAD_BASE64, NULL, 0},
    {"\xc3\xa9\xc3\xa9", SASL_BAD_BASE64, NULL, 0},
    /* non-zero bits left over by the padding (RFC 4648 §3.5) */
    {"YR==", SASL_BAD_BASE64, NULL, 0},
    {"YWJ=", SASL_BAD_BASE64, NULL, 0},
    {NULL}};

static void test_base64_table(void)
{
    const b64_row *r;

    for (r = b64_rows; r->text; r++) {
        char *out;
        apr_size_t len;
        sasl_status st = sasl_base64_decode(pool, r->text, strlen(r->text),
                                            &out, &len);
        int ok = st == r->status;

        if (ok && st == SASL_CONTINUE) {
            ok = len == r->octets_len && memcmp(out, r->octets, len) == 0 &&
                 out[len] == '\0';
        }
        if (!ok) {
            fprintf(stderr, "\nbase64 \"%s\": got %s\n", r->text,
                    status_name(st));
        }
        CU_ASSERT_TRUE(ok);
    }
}

static void test_base64_limits(void)
{
    char *out;
    apr_size_t len;

    /* RFC 4954 §4: 12288 octets per line is the limit, not beyond */
    CU_ASSERT_EQUAL(sasl_base64_decode(pool, repeat('A', SASL_LINE_MAX),
                                       SASL_LINE_MAX, &out, &len),
                    SASL_CONTINUE);
    CU_ASSERT_EQUAL(len, SASL_LINE_MAX / 4 * 3);
    CU_ASSERT_EQUAL(sasl_base64_decode(pool, repeat('A', SASL_LINE_MAX + 4),
                                       SASL_LINE_MAX + 4, &out, &len),
                    SASL_TOO_LONG);
    CU_ASSERT_PTR_NULL(out);
    /* a NUL inside the line is not base64 */
    CU_ASSERT_EQUAL(sasl_base64_decode(pool, "YW\0j", 4, &out, &len),
                    SASL_BAD_BASE64);
}

/* ---------------------------------------------------------------- PLAIN */

typedef struct {
    const char *msg;
    apr_size_t len;
    sasl_status status;
    const char *authzid, *authcid, *passwd;
} plain_row;

#define P(msg, st, z, c, pw) {B(msg), st, z, c, pw}
#define PBAD(msg) {B(msg), SASL_MALFORMED, NULL, NULL, NULL}

static const plain_row plain_rows[] = {
    P("\0alice\0secret", SASL_DONE, "", "alice", "secret"),
    P("alice\0alice\0secret", SASL_DONE, "alice", "alice", "secret"),
    P("admin\0alice\0secret", SASL_DONE, "admin", "alice", "secret"),
    P("\0al ice\0pass word", SASL_DONE, "", "al ice", "pass word"),
    /* UTF-8 is allowed in all three parts (RFC 4616 §2) */
    P("\0j\xc3\xb6rg\0p\xc3\xa4ss", SASL_DONE, "", "j\xc3\xb6rg",
      "p\xc3\xa4ss"),
    PBAD(""),
    PBAD("alice"),
    PBAD("\0alice"),
    PBAD("alicesecret\0"),
    PBAD("\0alice\0secret\0"),         /* a third NUL */
    PBAD("\0alice\0sec\0ret"),
    PBAD("\0\0secret"),                /* empty authcid */
    PBAD("\0alice\0"),                 /* empty password */
    PBAD("\0\0"),
    PBAD("\0al\xff" "ce\0secret"),     /* not UTF-8 */
    PBAD("\0alice\0se\xc3\x28t"),
    PBAD("\xc0\xaf\0alice\0secret"),   /* overlong form in authzid */
    {NULL}};

static void test_plain_table(void)
{
    const plain_row *r;

    for (r = plain_rows; r->msg; r++) {
        const char *z, *c, *pw, *why;
        char *copy = apr_pstrmemdup(pool, r->msg, r->len);
        sasl_status st = sasl_plain_parse(pool, copy, r->len, &z, &c, &pw,
                                          &why);
        int ok = st == r->status;

        if (ok && st == SASL_DONE) {
            ok = strcmp(z, r->authzid) == 0 && strcmp(c, r->authcid) == 0 &&
                 strcmp(pw, r->passwd) == 0 && why == NULL;
        }
        if (ok && st == SASL_MALFORMED) {
            ok = why != NULL && z == NULL && c == NULL && pw == NULL;
        }
        if (!ok) {
            fprintf(stderr, "\nPLAIN row %d: got %s\n",
                    (int)(r - plain_rows), status_name(st));
        }
        CU_ASSERT_TRUE(ok);
    }
}

static void test_plain_lengths(void)
{
    const char *z, *c, *pw, *why;
    char *msg;

    /* RFC 4616 §2: each part is at most 255 octets */
    msg = apr_pstrcat(pool, "x", repeat('u', 255), "x", repeat('p', 255),
                      NULL);
    msg[0] = '\0';
    msg[256] = '\0';
    CU_ASSERT_EQUAL(sasl_plain_parse(pool, msg, 512, &z, &c, &pw, &why),
                    SASL_DONE);
    CU_ASSERT_EQUAL(strlen(c), 255);
    CU_ASSERT_EQUAL(strlen(pw), 255);
    msg = apr_pstrcat(pool, "x", repeat('u', 256), "x", "pw", NULL);
    msg[0] = '\0';
    msg[257] = '\0';
    CU_ASSERT_EQUAL(sasl_plain_parse(pool, msg, 260, &z, &c, &pw, &why),
                    SASL_MALFORMED);
    msg = apr_pstrcat(pool, repeat('z', 256), "x", "u", "x", "pw", NULL);
    msg[256] = '\0';
    msg[258] = '\0';
    CU_ASSERT_EQUAL(sasl_plain_parse(pool, msg, 261, &z, &c, &pw, &why),
                    SASL_MALFORMED);
}

/* ------------------------------------------------------ mechanism names */

static void test_mech_names(void)
{
    CU_ASSERT_EQUAL(sasl_mech_by_name("PLAIN"), SASL_MECH_PLAIN);
    CU_ASSERT_EQUAL(sasl_mech_by_name("plain"), SASL_MECH_PLAIN);
    CU_ASSERT_EQUAL(sasl_mech_by_name("Login"), SASL_MECH_LOGIN);
    CU_ASSERT_EQUAL(sasl_mech_by_name("CRAM-MD5"), SASL_MECH_UNKNOWN);
    CU_ASSERT_EQUAL(sasl_mech_by_name(""), SASL_MECH_UNKNOWN);
    CU_ASSERT_EQUAL(sasl_mech_by_name("PLAINX"), SASL_MECH_UNKNOWN);
    CU_ASSERT_STRING_EQUAL(sasl_mech_name(SASL_MECH_LOGIN), "LOGIN");
    CU_ASSERT_TRUE(sasl_mech_name_valid("SCRAM-SHA-256"));
    CU_ASSERT_TRUE(sasl_mech_name_valid("X_TOKEN"));
    CU_ASSERT_TRUE(sasl_mech_name_valid("plain"));
    CU_ASSERT_TRUE(sasl_mech_name_valid("ABCDEFGHIJKLMNOPQRST"));  /* 20 */
    CU_ASSERT_FALSE(sasl_mech_name_valid("ABCDEFGHIJKLMNOPQRSTU")); /* 21 */
    CU_ASSERT_FALSE(sasl_mech_name_valid(""));
    CU_ASSERT_FALSE(sasl_mech_name_valid("PLAIN LOGIN"));
    CU_ASSERT_FALSE(sasl_mech_name_valid("PL@IN"));
    CU_ASSERT_FALSE(sasl_mech_name_valid("PL.IN"));
}

/* ------------------------------------------------------------ exchanges */

#define MAX_LINES 4
#define END ((const char *)0)

/*
 * One whole exchange: the initial response (NULL: none), the client's
 * lines, the status expected after sasl_start and after each line, and
 * the challenge expected with each SASL_CONTINUE ("" for "334 ").
 * A line written "b64:TEXT" is sent as the base64 of TEXT.
 */
typedef struct {
    const char *name;
    sasl_mech mech;
    const char *initial;
    const char *lines[MAX_LINES];
    sasl_status status[MAX_LINES + 1];
    const char *challenge[MAX_LINES + 1];
    const char *authzid, *authcid, *passwd;   /* when it ends DONE */
} exchange_row;

static const exchange_row exchange_rows[] = {
    {"PLAIN with initial response", SASL_MECH_PLAIN,
     "AGFsaWNlAHNlY3JldA==", {END}, {SASL_DONE}, {NULL},
     "", "alice", "secret"},
    {"PLAIN with authzid", SASL_MECH_PLAIN, "YWxpY2UAYWxpY2UAc2VjcmV0",
     {END}, {SASL_DONE}, {NULL}, "alice", "alice", "secret"},
    {"PLAIN without initial response", SASL_MECH_PLAIN, NULL,
     {"AGFsaWNlAHNlY3JldA==", END}, {SASL_CONTINUE, SASL_DONE}, {""},
     "", "alice", "secret"},
    {"PLAIN: '=' is an empty initial response", SASL_MECH_PLAIN, "=",
     {END}, {SASL_MALFORMED}, {NULL}},
    {"PLAIN: empty continuation line", SASL_MECH_PLAIN, NULL, {"", END},
     {SASL_CONTINUE, SASL_MALFORMED}, {""}},
    {"PLAIN: bad base64 initial response", SASL_MECH_PLAIN, "AGFsaWNl!",
     {END}, {SASL_BAD_BASE64}, {NULL}},
    {"PLAIN: '*' in the initial response is not a cancel",
     SASL_MECH_PLAIN, "*", {END}, {SASL_BAD_BASE64}, {NULL}},
    {"PLAIN: cancelled", SASL_MECH_PLAIN, NULL, {"*", END},
     {SASL_CONTINUE, SASL_CANCELLED}, {""}},
    {"PLAIN: bad base64 line", SASL_MECH_PLAIN, NULL, {"AGFsaWNl=AA", END},
     {SASL_CONTINUE, SASL_BAD_BASE64}, {""}},
    {"PLAIN: missing separator", SASL_MECH_PLAIN, NULL,
     {"b64:alice secret", END}, {SASL_CONTINUE, SASL_MALFORMED}, {""}},
    {"LOGIN", SASL_MECH_LOGIN, NULL, {"YWxpY2U=", "c2VjcmV0", END},
     {SASL_CONTINUE, SASL_CONTINUE, SASL_DONE},
     {"VXNlcm5hbWU6", "UGFzc3dvcmQ6"}, "", "alice", "secret"},
    {"LOGIN with the user name as initial response", SASL_MECH_LOGIN,
     "YWxpY2U=", {"c2VjcmV0", END}, {SASL_CONTINUE, SASL_DONE},
     {"UGFzc3dvcmQ6"}, "", "alice", "secret"},
    {"LOGIN: '*' at the password", SASL_MECH_LOGIN, NULL,
     {"YWxpY2U=", "*", END},
     {SASL_CONTINUE, SASL_CONTINUE, SASL_CANCELLED},
     {"VXNlcm5hbWU6", "UGFzc3dvcmQ6"}},
    {"LOGIN: '*' at the user name", SASL_MECH_LOGIN, NULL, {"*", END},
     {SASL_CONTINUE, SASL_CANCELLED}, {"VXNlcm5hbWU6"}},
    {"LOGIN: empty user name", SASL_MECH_LOGIN, NULL, {"", END},
     {SASL_CONTINUE, SASL_MALFORMED}, {"VXNlcm5hbWU6"}},
    {"LOGIN: '=' initial response (empty user)", SASL_MECH_LOGIN, "=",
     {END}, {SASL_MALFORMED}, {NULL}},
    {"LOGIN: NUL in the user name", SASL_MECH_LOGIN, NULL,
     {"YWwAaWNl", END}, {SASL_CONTINUE, SASL_MALFORMED},
     {"VXNlcm5hbWU6"}},
    {"LOGIN: empty password", SASL_MECH_LOGIN, NULL, {"YWxpY2U=", "", END},
     {SASL_CONTINUE, SASL_CONTINUE, SASL_MALFORMED},
     {"VXNlcm5hbWU6", "UGFzc3dvcmQ6"}},
    {"LOGIN: NUL in the password", SASL_MECH_LOGIN, NULL,
     {"YWxpY2U=", "c2VjAHJldA==", END},
     {SASL_CONTINUE, SASL_CONTINUE, SASL_MALFORMED},
     {"VXNlcm5hbWU6", "UGFzc3dvcmQ6"}},
    {"LOGIN: bad base64 password", SASL_MECH_LOGIN, NULL,
     {"YWxpY2U=", "c2VjcmV0=", END},
     {SASL_CONTINUE, SASL_CONTINUE, SASL_BAD_BASE64},
     {"VXNlcm5hbWU6", "UGFzc3dvcmQ6"}},
    {"LOGIN: UTF-8 credentials", SASL_MECH_LOGIN, NULL,
     {"b64:j\xc3\xb6rg", "b64:p\xc3\xa4ss", END},
     {SASL_CONTINUE, SASL_CONTINUE, SASL_DONE},
     {"VXNlcm5hbWU6", "UGFzc3dvcmQ6"}, "", "j\xc3\xb6rg", "p\xc3\xa4ss"},
    {"unknown mechanism", SASL_MECH_UNKNOWN, NULL, {END},
     {SASL_MALFORMED}, {NULL}},
    {NULL}};

static void test_exchange_table(void)
{
    const exchange_row *r;

    for (r = exchange_rows; r->name; r++) {
        sasl_exchange x;
        sasl_status st;
        int i, ok = 1;

        st = sasl_start(pool, &x, r->mech, r->initial);
        for (i = 0; ok; i++) {
            const char *line;

            ok = st == r->status[i];
            if (ok && st == SASL_CONTINUE) {
                ok = r->challenge[i] != NULL &&
                     strcmp(x.challenge, r->challenge[i]) == 0;
            }
            if (!ok || st != SASL_CONTINUE || i >= MAX_LINES ||
                r->lines[i] == END) {
                break;
            }
            line = r->lines[i];
            if (strncmp(line, "b64:", 4) == 0) {
                line = b64(line + 4, strlen(line + 4));
            }
            st = sasl_step(pool, &x, line, strlen(line));
        }
        /* every line of the row was used */
        ok = ok && (i >= MAX_LINES || r->lines[i] == END);
        if (ok && st == SASL_DONE) {
            ok = strcmp(x.authzid, r->authzid) == 0 &&
                 strcmp(x.authcid, r->authcid) == 0 &&
                 strcmp(x.passwd, r->passwd) == 0;
            sasl_wipe(&x);
            ok = ok && x.passwd == NULL && x.secret == NULL;
        }
        if (!ok) {
            fprintf(stderr, "\nexchange \"%s\": stopped at step %d with "
                    "%s\n", r->name, i, status_name(st));
        }
        CU_ASSERT_TRUE(ok);
    }
}

static void test_exchange_limits(void)
{
    sasl_exchange x;
    char *line = repeat('A', SASL_LINE_MAX + 1);

    /* RFC 4954 §4: longer than 12288 octets (500 5.5.6) */
    CU_ASSERT_EQUAL(sasl_start(pool, &x, SASL_MECH_PLAIN, NULL),
                    SASL_CONTINUE);
    CU_ASSERT_EQUAL(sasl_step(pool, &x, line, SASL_LINE_MAX + 1),
                    SASL_TOO_LONG);
    CU_ASSERT_EQUAL(sasl_start(pool, &x, SASL_MECH_LOGIN, line),
                    SASL_TOO_LONG);
    /* exactly at the limit it decodes, then fails as a PLAIN message */
    CU_ASSERT_EQUAL(sasl_start(pool, &x, SASL_MECH_PLAIN, NULL),
                    SASL_CONTINUE);
    line[SASL_LINE_MAX] = '\0';
    CU_ASSERT_EQUAL(sasl_step(pool, &x, line, SASL_LINE_MAX),
                    SASL_MALFORMED);
}

static void test_wipe(void)
{
    sasl_exchange x;
    const char *secret;
    char *buf;
    apr_size_t i, len;
    int zero = 1;

    CU_ASSERT_EQUAL(sasl_start(pool, &x, SASL_MECH_PLAIN,
                               "AGFsaWNlAHNlY3JldA=="), SASL_DONE);
    buf = x.secret;
    len = x.secret_len;
    secret = x.passwd;
    CU_ASSERT_EQUAL(len, 13);
    CU_ASSERT_STRING_EQUAL(secret, "secret");
    sasl_wipe(&x);
    for (i = 0; i < len; i++) {
        zero = zero && buf[i] == '\0';
    }
    CU_ASSERT_TRUE(zero);
}

int main(void)
{
    CU_pSuite suite;
    int failed;

    apr_initialize();
    apr_pool_create(&pool, NULL);
    if (CU_initialize_registry() != CUE_SUCCESS) {
        return 2;
    }
    suite = CU_add_suite("sasl", NULL, NULL);
    CU_add_test(suite, "base64 table", test_base64_table);
    CU_add_test(suite, "base64 limits", test_base64_limits);
    CU_add_test(suite, "PLAIN table", test_plain_table);
    CU_add_test(suite, "PLAIN lengths", test_plain_lengths);
    CU_add_test(suite, "mechanism names", test_mech_names);
    CU_add_test(suite, "exchange table", test_exchange_table);
    CU_add_test(suite, "exchange limits", test_exchange_limits);
    CU_add_test(suite, "password wipe", test_wipe);
    CU_basic_set_mode(CU_BRM_VERBOSE);
    CU_basic_run_tests();
    failed = CU_get_number_of_failures() != 0 || CU_get_error();
    CU_cleanup_registry();
    apr_pool_destroy(pool);
    apr_terminate();
    return failed;
}
