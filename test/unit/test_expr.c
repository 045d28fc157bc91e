/*
 * test_expr.c -- unit tests of server/expr_*.c and units.c and server/lists.c.
 *
 * Settings are written in a tiny TOML-like notation (inline values only:
 * strings, integers, booleans, arrays, inline tables, newlines counted as
 * lines) that a small builder below turns into hr_value trees, so these
 * tests do not depend on the real TOML reader.  Every table row is one
 * case: expression, session variables, expected result (or error).
 *
 * Run: make test/unit/test_expr && ./test/unit/test_expr
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <apr_general.h>
#include <apr_strings.h>
#include <apr_file_io.h>
#include <apr_thread_proc.h>

#include <CUnit/Basic.h>

#include "hr_config.h"

#define TEST_FILE "t.toml"

static apr_pool_t *pool;       /* whole program */
static hr_lists *test_lists;   /* "blocked" and "users", for in-list */
static char tmpdir[256];       /* for list files */

/* ------------------------------------------------------ value builder */

static hr_value *make_value(hr_value_type type, int line)
{
    hr_value *v = apr_pcalloc(pool, sizeof(*v));

    v->type = type;
    v->file = TEST_FILE;
    v->line = line;
    return v;
}

static hr_value *make_str(const char *s, int line)
{
    hr_value *v = make_value(HR_VAL_STRING, line);

    v->u.s = apr_pstrdup(pool, s);
    return v;
}

static hr_value *make_array(int line)
{
    hr_value *v = make_value(HR_VAL_ARRAY, line);

    v->u.array = apr_array_make(pool, 4, sizeof(hr_value *));
    return v;
}

static void array_push(hr_value *array, hr_value *elt)
{
    APR_ARRAY_PUSH(array->u.array, hr_value *) = elt;
}

static void table_set(hr_value *table, const char *key, hr_value *v)
{
    hr_table *t = table->u.table;
    hr_table_entry *e = apr_array_push(t->entries);

    e->key = apr_pstrdup(pool, key);
    e->value = v;
    e->used = 0;
    apr_hash_set(t->index, e->key, APR_HASH_KEY_STRING,
                 (void *)(apr_uintptr_t)t->entries->nelts);
}

/** Cursor of the builder over its text. */
typedef struct {
    const char *s;
    int line;
    int bad;
} builder;

static void skip_blanks(builder *b)
{
    while (*b->s == ' ' || *b->s == '\t' || *b->s == '\n') {
        if (*b->s == '\n') {
            b->line++;
        }
        b->s++;
    }
}

static hr_value *build_value(builder *b);

static char *build_string(builder *b)
{
    char *out = apr_palloc(pool, strlen(b->s) + 1), *o = out;

    b->s++; /* opening quote */
    while (*b->s != '"') {
        if (*b->s == '\0' || *b->s == '\n') {
            b->bad = 1;
            return NULL;
        }
        if (*b->s == '\\' && b->s[1] != '\0') {
            b->s++;
            *o++ = *b->s == 'n' ? '\n' : *b->s == 't' ? '\t' : *b->s;
        }
        else {
            *o++ = *b->s;
        }
        b->s++;
    }
    b->s++;
    *o = '\0';
    return out;
}

static hr_value *build_value(builder *b)
{
    hr_value *v;
    int line;

    skip_blanks(b);
    line = b->line;
    if (*b->s == '"') {
        char *s = build_string(b);
        return s ? make_str(s, line) : NULL;
    }
    if (strncmp(b->s, "true", 4) == 0 || strncmp(b->s, "false", 5) == 0) {
        v = make_value(HR_VAL_BOOLEAN, line);
        v->u.b = *b->s == 't';
        b->s += v->u.b ? 4 : 5;
        return v;
    }
    if (*b->s == '-' || (*b->s >= '0' && *b->s <= '9')) {
        char *end;

        v = make_value(HR_VAL_INTEGER, line);
        v->u.i = strtoll(b->s, &end, 10);
        b->s = end;
        return v;
    }
    if (*b->s == '[') {
        v = make_array(line);
        b->s++;
        for (;;) {
            hr_value *elt;

            skip_blanks(b);
            if (*b->s == ']') {
                b->s++;
                return v;
            }
            if ((elt = build_value(b)) == NULL) {
                return NULL;
            }
            array_push(v, elt);
            skip_blanks(b);
            if (*b->s == ',') {
                b->s++;
            }
            else if (*b->s != ']') {
                b->bad = 1;
                return NULL;
            }
        }
    }
    if (*b->s == '{') {
        v = hr_value_make_table(pool, TEST_FILE, line);
        v->u.table->is_inline = 1;
        b->s++;
        for (;;) {
            const char *start;
            char *key;
            hr_value *elt;

            skip_blanks(b);
            if (*b->s == '}') {
                b->s++;
                return v;
            }
            start = b->s;
            while ((*b->s >= 'a' && *b->s <= 'z') ||
                   (*b->s >= 'A' && *b->s <= 'Z') ||
                   (*b->s >= '0' && *b->s <= '9') || *b->s == '-' ||
                   *b->s == '_') {
                b->s++;
            }
            if (b->s == start) {
                b->bad = 1;
                return NULL;
            }
            key = apr_pstrmemdup(pool, start, (apr_size_t)(b->s - start));
            skip_blanks(b);
            if (*b->s != '=') {
                b->bad = 1;
                return NULL;
            }
            b->s++;
            if ((elt = build_value(b)) == NULL) {
                return NULL;
            }
            table_set(v, key, elt);
            skip_blanks(b);
            if (*b->s == ',') {
                b->s++;
            }
            else if (*b->s != '}') {
                b->bad = 1;
                return NULL;
            }
        }
    }
    b->bad = 1;
    return NULL;
}

/* Build the value written in @text (line 1 is its first line). */
static hr_value *build(const char *text)
{
    builder b = { text, 1, 0 };
    hr_value *v = build_value(&b);

    skip_blanks(&b);
    if (v == NULL || b.bad || *b.s != '\0') {
        fprintf(stderr, "test builder cannot read: %s\n", text);
        CU_FAIL("test builder: bad input");
        return NULL;
    }
    return v;
}

/* Text form of a result: "s" for strings, [a, b] for arrays. */
static const char *render(const hr_value *v)
{
    const char *out;
    int i;

    switch (v->type) {
    case HR_VAL_STRING:
        return apr_psprintf(pool, "\"%s\"", v->u.s);
    case HR_VAL_INTEGER:
        return apr_psprintf(pool, "%" APR_INT64_T_FMT, v->u.i);
    case HR_VAL_FLOAT:
        return apr_psprintf(pool, "%g", v->u.f);
    case HR_VAL_BOOLEAN:
        return v->u.b ? "true" : "false";
    case HR_VAL_TABLE:
        return "{table}";
    case HR_VAL_ARRAY:
        out = "[";
        for (i = 0; i < v->u.array->nelts; i++) {
            out = apr_pstrcat(pool, out, i ? ", " : "",
                              render(APR_ARRAY_IDX(v->u.array, i,
                                                   hr_value *)),
                              NULL);
        }
        return apr_pstrcat(pool, out, "]", NULL);
    }
    return "?";
}

/* ------------------------------------------------------ variables */

/** Session variables for one evaluation, and those the expression read. */
typedef struct {
    const char *value[HR_VAR_COUNT];
    unsigned asked;
} test_vars;

static const char *get_var(void *ctx, hr_var v)
{
    test_vars *vars = ctx;

    vars->asked |= HR_VARBIT(v);
    return vars->value[v];  /* NULL (unset) is allowed */
}

/* Fill @vars from "name=value;name=value". */
static int parse_vars(const char *spec, test_vars *vars)
{
    char *copy = apr_pstrdup(pool, spec), *last, *item;

    memset(vars, 0, sizeof(*vars));
    for (item = apr_strtok(copy, ";", &last); item != NULL;
         item = apr_strtok(NULL, ";", &last)) {
        char *eq = strchr(item, '=');
        int var;

        if (eq == NULL) {
            return -1;
        }
        *eq = '\0';
        if ((var = hr_var_lookup(item)) < 0) {
            return -1;
        }
        vars->value[var] = eq + 1;
    }
    return 0;
}

/* Print the errors of a failed compilation (to explain a failure). */
static void dump_errors(const char *what, apr_array_header_t *errors)
{
    int i;

    for (i = 0; i < errors->nelts; i++) {
        fprintf(stderr, "\n  %s: %s", what,
                APR_ARRAY_IDX(errors, i, char *));
    }
}

/* ------------------------------------------------------ durations */

static const struct {
    const char *text;
    int ok;
    apr_int64_t ms;
} duration_rows[] = {
    { "500ms", 1, 500 },
    { "0ms", 1, 0 },
    { "30s", 1, 30000 },
    { "5m", 1, 300000 },
    { "1h", 1, 3600000 },
    { "7d", 1, 604800000 },
    { "2w", 1, 1209600000 },
    { "45", 1, 45000 },
    { "0", 1, 0 },
    { "007s", 1, 7000 },
    { "9223372036854775807ms", 1, APR_INT64_C(9223372036854775807) },
    { "106751991167d", 1, APR_INT64_C(9223372036828800000) },
    { "106751991168d", 0, 0 },          /* overflows */
    { "9223372036854775807", 0, 0 },    /* seconds overflow */
    { "99999999999999999999ms", 0, 0 }, /* digits overflow */
    { "", 0, 0 },
    { "s", 0, 0 },
    { "ms", 0, 0 },
    { "-1s", 0, 0 },
    { "+5s", 0, 0 },
    { " 5s", 0, 0 },
    { "5s ", 0, 0 },
    { "5 s", 0, 0 },
    { "1.5h", 0, 0 },
    { "5S", 0, 0 },
    { "5sec", 0, 0 },
    { "5x", 0, 0 },
    { "1h30m", 0, 0 },
};

static void test_durations(void)
{
    apr_int64_t ms;
    size_t i;

    for (i = 0; i < sizeof(duration_rows) / sizeof(duration_rows[0]); i++) {
        int rc;

        ms = -42;
        rc = hr_parse_duration(duration_rows[i].text, &ms);
        if (duration_rows[i].ok) {
            CU_ASSERT_EQUAL(rc, 0);
            CU_ASSERT_EQUAL(ms, duration_rows[i].ms);
        }
        else {
            CU_ASSERT_EQUAL(rc, -1);
        }
        if ((rc == 0) != duration_rows[i].ok ||
            (rc == 0 && ms != duration_rows[i].ms)) {
            fprintf(stderr, "\n  duration \"%s\": rc %d ms %" APR_INT64_T_FMT,
                    duration_rows[i].text, rc, ms);
        }
    }
    CU_ASSERT_EQUAL(hr_parse_duration(NULL, &ms), -1);
}

/* ------------------------------------------------------ sizes */

static const struct {
    const char *text;
    int ok;
    apr_int64_t bytes;
} size_rows[] = {
    { "1024", 1, 1024 },
    { "0", 1, 0 },
    { "10k", 1, 10240 },
    { "10K", 1, 10240 },
    { "25M", 1, 26214400 },
    { "25m", 1, 26214400 },
    { "1G", 1, 1073741824 },
    { "1g", 1, 1073741824 },
    { "2T", 1, APR_INT64_C(2199023255552) },
    { "8388607T", 1, APR_INT64_C(9223370937343148032) },
    { "8388608T", 0, 0 }, /* 2^63 */
    { "9223372036854775807", 1, APR_INT64_C(9223372036854775807) },
    { "9223372036854775808", 0, 0 },
    { "", 0, 0 },
    { "K", 0, 0 },
    { "-1", 0, 0 },
    { "+1", 0, 0 },
    { "10KB", 0, 0 },
    { "10 K", 0, 0 },
    { " 1", 0, 0 },
    { "1 ", 0, 0 },
    { "1.5M", 0, 0 },
    { "10x", 0, 0 },
    { "0x10", 0, 0 },
};

static void test_sizes(void)
{
    apr_int64_t bytes;
    size_t i;

    for (i = 0; i < sizeof(size_rows) / sizeof(size_rows[0]); i++) {
        int rc;

        bytes = -42;
        rc = hr_parse_size(size_rows[i].text, &bytes);
        if (size_rows[i].ok) {
            CU_ASSERT_EQUAL(rc, 0);
            CU_ASSERT_EQUAL(bytes, size_rows[i].bytes);
        }
        else {
            CU_ASSERT_EQUAL(rc, -1);
        }
        if ((rc == 0) != size_rows[i].ok ||
            (rc == 0 && bytes != size_rows[i].bytes)) {
            fprintf(stderr, "\n  size \"%s\": rc %d bytes %" APR_INT64_T_FMT,
                    size_rows[i].text, rc, bytes);
        }
    }
    CU_ASSERT_EQUAL(hr_parse_size(NULL, &bytes), -1);
}

/* ------------------------------------------------------ variable names */

static void test_var_names(void)
{
    static const char *const names[HR_VAR_COUNT] = {
        "listener",    "remote-ip",        "local-ip", "local-port",
        "helo-domain", "authenticated-as", "is-tls",   "sender",
        "sender-domain", "rcpt",           "rcpt-domain", "priority",
    };
    int i;

    for (i = 0; i < HR_VAR_COUNT; i++) {
        CU_ASSERT_STRING_EQUAL(hr_var_name((hr_var)i), names[i]);
        CU_ASSERT_EQUAL(hr_var_lookup(names[i]), i);
    }
    CU_ASSERT_EQUAL(hr_var_lookup("Listener"), -1);
    CU_ASSERT_EQUAL(hr_var_lookup("remote_ip"), -1);
    CU_ASSERT_EQUAL(hr_var_lookup(""), -1);
    CU_ASSERT_EQUAL(hr_var_lookup(NULL), -1);
    CU_ASSERT_PTR_NOT_NULL(hr_var_name(HR_VAR_COUNT));
}

/* ------------------------------------------------------ evaluation */

#define E HR_KEY_EXPR
#define EO (HR_KEY_EXPR | HR_KEY_OPTIONAL)
/* A rule table that is true when the condition @c holds. */
#define RULE(c) "[ { " c ", then = true }, { else = false } ]"
#define Q(s) "\"" s "\""

static const struct {
    const char *expr;
    hr_key_type type;
    unsigned flags;
    const char *vars;
    const char *expect;
} eval_rows[] = {
    /* eq: exact for listener, caseless for domains */
    { RULE("if = \"listener\", eq = \"smtp\""), HR_KEY_BOOL, E,
      "listener=smtp", "true" },
    { RULE("if = \"listener\", eq = \"smtp\""), HR_KEY_BOOL, E,
      "listener=submission", "false" },
    { RULE("if = \"listener\", eq = \"smtp\""), HR_KEY_BOOL, E, "", "false" },
    { RULE("if = \"listener\", eq = \"smtp\""), HR_KEY_BOOL, E,
      "listener=SMTP", "false" },
    { RULE("if = \"listener\", eq = \"smtp\""), HR_KEY_BOOL, E,
      "listener=smtps", "false" },
    { RULE("if = \"helo-domain\", eq = \"Mail.Example\""), HR_KEY_BOOL, E,
      "helo-domain=mail.EXAMPLE", "true" },
    { RULE("if = \"rcpt-domain\", eq = \"example.org\""), HR_KEY_BOOL, E,
      "rcpt-domain=EXAMPLE.ORG", "true" },
    { RULE("if = \"authenticated-as\", eq = \"Alice\""), HR_KEY_BOOL, E,
      "authenticated-as=alice", "false" },
    /* ne and not-eq */
    { RULE("if = \"authenticated-as\", ne = \"\""), HR_KEY_BOOL, E,
      "authenticated-as=alice", "true" },
    { RULE("if = \"authenticated-as\", ne = \"\""), HR_KEY_BOOL, E, "",
      "false" },
    { RULE("if = \"authenticated-as\", not-eq = \"\""), HR_KEY_BOOL, E,
      "authenticated-as=bob", "true" },
    { RULE("if = \"authenticated-as\", not-eq = \"\""), HR_KEY_BOOL, E,
      "authenticated-as=", "false" },
    { RULE("if = \"sender-domain\", ne = \"Example.COM\""), HR_KEY_BOOL, E,
      "sender-domain=example.com", "false" },
    /* starts-with */
    { RULE("if = \"sender\", starts-with = \"postmaster@\""), HR_KEY_BOOL, E,
      "sender=PostMaster@x.example", "true" },
    { RULE("if = \"sender\", starts-with = \"postmaster@\""), HR_KEY_BOOL, E,
      "sender=x@postmaster", "false" },
    { RULE("if = \"sender\", starts-with = \"postmaster@\""), HR_KEY_BOOL, E,
      "sender=post", "false" },
    { RULE("if = \"listener\", starts-with = \"sub\""), HR_KEY_BOOL, E,
      "listener=SUBmission", "false" },
    { RULE("if = \"sender\", not-starts-with = \"postmaster@\""), HR_KEY_BOOL,
      E, "sender=postmaster@a", "false" },
    { RULE("if = \"sender\", not-starts-with = \"postmaster@\""), HR_KEY_BOOL,
      E, "sender=abuse@a", "true" },
    /* ends-with */
    { RULE("if = \"helo-domain\", ends-with = \".example\""), HR_KEY_BOOL, E,
      "helo-domain=MX.EXAMPLE", "true" },
    { RULE("if = \"helo-domain\", ends-with = \".example\""), HR_KEY_BOOL, E,
      "helo-domain=example", "false" },
    { RULE("if = \"helo-domain\", ends-with = \".example\""), HR_KEY_BOOL, E,
      "helo-domain=mx.example.net", "false" },
    { RULE("if = \"authenticated-as\", ends-with = \"@Corp\""), HR_KEY_BOOL,
      E, "authenticated-as=a@corp", "false" },
    { RULE("if = \"authenticated-as\", ends-with = \"@Corp\""), HR_KEY_BOOL,
      E, "authenticated-as=a@Corp", "true" },
    { RULE("if = \"rcpt\", not-ends-with = \"@example.org\""), HR_KEY_BOOL,
      E, "rcpt=u@Example.Org", "false" },
    { RULE("if = \"rcpt\", not-ends-with = \"@example.org\""), HR_KEY_BOOL,
      E, "rcpt=u@example.net", "true" },
    { RULE("if = \"rcpt\", ends-with = \"\""), HR_KEY_BOOL, E, "", "true" },
    /* in-list (lists "blocked" and "users", always caseless) */
    { RULE("if = \"sender-domain\", in-list = \"blocked\""), HR_KEY_BOOL, E,
      "sender-domain=SPAM.example", "true" },
    { RULE("if = \"sender-domain\", in-list = \"blocked\""), HR_KEY_BOOL, E,
      "sender-domain=ok.example", "false" },
    { RULE("if = \"sender-domain\", in-list = \"blocked\""), HR_KEY_BOOL, E,
      "", "false" },
    { RULE("if = \"sender-domain\", not-in-list = \"blocked\""), HR_KEY_BOOL,
      E, "sender-domain=bad.example", "false" },
    { RULE("if = \"sender-domain\", not-in-list = \"blocked\""), HR_KEY_BOOL,
      E, "sender-domain=good.example", "true" },
    { RULE("if = \"authenticated-as\", in-list = \"users\""), HR_KEY_BOOL, E,
      "authenticated-as=BOB", "true" },
    /* matches: caseless for domains, unanchored unless ^...$ */
    { RULE("if = \"helo-domain\", matches = \"^[a-z0-9-]+\\\\.example$\""),
      HR_KEY_BOOL, E, "helo-domain=MX1.example", "true" },
    { RULE("if = \"helo-domain\", matches = \"^[a-z0-9-]+\\\\.example$\""),
      HR_KEY_BOOL, E, "helo-domain=mx1xexample", "false" },
    { RULE("if = \"helo-domain\", matches = \"^[a-z0-9-]+\\\\.example$\""),
      HR_KEY_BOOL, E, "helo-domain=a.b.example", "false" },
    { RULE("if = \"helo-domain\", not-matches = \"^\\\\[\""), HR_KEY_BOOL, E,
      "helo-domain=[192.0.2.1]", "false" },
    { RULE("if = \"helo-domain\", not-matches = \"^\\\\[\""), HR_KEY_BOOL, E,
      "helo-domain=mx.example", "true" },
    { RULE("if = \"listener\", matches = \"^sub\""), HR_KEY_BOOL, E,
      "listener=SUBmission", "false" },
    { RULE("if = \"listener\", matches = \"^sub\""), HR_KEY_BOOL, E,
      "listener=submission", "true" },
    { RULE("if = \"rcpt\", matches = \"abuse\""), HR_KEY_BOOL, E,
      "rcpt=ABUSE@x.example", "true" },
    { RULE("if = \"rcpt\", matches = \"^$\""), HR_KEY_BOOL, E, "", "true" },
    { RULE("if = \"helo-domain\", matches = \"\\\\x{e9}\\\\.\""),
      HR_KEY_BOOL, E, "helo-domain=caf\xc3\xa9.example", "true" },
    { RULE("if = \"helo-domain\", matches = \"caf\xc3\xa9\""), HR_KEY_BOOL, E,
      "helo-domain=CAF\xc3\xa9.example", "true" },
    { RULE("if = \"helo-domain\", matches = \"^x\""), HR_KEY_BOOL, E,
      "helo-domain=x\xff\xfe", "true" }, /* invalid UTF-8 is no crash */
    /* integer and boolean operands compare as text */
    { RULE("if = \"local-port\", eq = 25"), HR_KEY_BOOL, E, "local-port=25",
      "true" },
    { RULE("if = \"local-port\", eq = 25"), HR_KEY_BOOL, E, "local-port=587",
      "false" },
    { RULE("if = \"local-port\", ne = 25"), HR_KEY_BOOL, E, "local-port=587",
      "true" },
    { RULE("if = \"is-tls\", eq = true"), HR_KEY_BOOL, E, "is-tls=true",
      "true" },
    { RULE("if = \"is-tls\", eq = true"), HR_KEY_BOOL, E, "is-tls=false",
      "false" },
    { RULE("if = \"is-tls\", ne = false"), HR_KEY_BOOL, E, "is-tls=true",
      "true" },
    { RULE("if = \"priority\", eq = -3"), HR_KEY_BOOL, E, "priority=-3",
      "true" },
    { RULE("if = \"priority\", starts-with = \"-\""), HR_KEY_BOOL, E,
      "priority=5", "false" },
    /* IPv4 CIDR, with IPv4-mapped IPv6 session addresses */
    { RULE("if = \"remote-ip\", eq = \"10.0.0.0/8\""), HR_KEY_BOOL, E,
      "remote-ip=10.200.3.4", "true" },
    { RULE("if = \"remote-ip\", eq = \"10.0.0.0/8\""), HR_KEY_BOOL, E,
      "remote-ip=11.0.0.1", "false" },
    { RULE("if = \"remote-ip\", eq = \"10.0.0.0/8\""), HR_KEY_BOOL, E,
      "remote-ip=::ffff:10.1.2.3", "true" },
    { RULE("if = \"remote-ip\", eq = \"10.0.0.0/8\""), HR_KEY_BOOL, E,
      "remote-ip=::FFFF:10.1.2.3", "true" },
    { RULE("if = \"remote-ip\", eq = \"10.0.0.0/8\""), HR_KEY_BOOL, E,
      "remote-ip=::ffff:11.1.2.3", "false" },
    { RULE("if = \"remote-ip\", eq = \"10.0.0.0/8\""), HR_KEY_BOOL, E,
      "remote-ip=::10.1.2.3", "false" },
    { RULE("if = \"remote-ip\", eq = \"10.0.0.0/8\""), HR_KEY_BOOL, E, "",
      "false" },
    { RULE("if = \"remote-ip\", eq = \"10.0.0.0/8\""), HR_KEY_BOOL, E,
      "remote-ip=garbage", "false" },
    { RULE("if = \"remote-ip\", eq = \"10.0.0.0/8\""), HR_KEY_BOOL, E,
      "remote-ip=10.0.0.1/8", "false" },
    { RULE("if = \"remote-ip\", ne = \"10.0.0.0/8\""), HR_KEY_BOOL, E,
      "remote-ip=192.0.2.1", "true" },
    { RULE("if = \"remote-ip\", ne = \"10.0.0.0/8\""), HR_KEY_BOOL, E,
      "remote-ip=10.0.0.1", "false" },
    { RULE("if = \"remote-ip\", not-eq = \"10.0.0.0/8\""), HR_KEY_BOOL, E,
      "remote-ip=::ffff:10.0.0.1", "false" },
    { RULE("if = \"remote-ip\", eq = \"192.168.0.0/23\""), HR_KEY_BOOL, E,
      "remote-ip=192.168.1.255", "true" },
    { RULE("if = \"remote-ip\", eq = \"192.168.0.0/23\""), HR_KEY_BOOL, E,
      "remote-ip=192.168.2.0", "false" },
    { RULE("if = \"remote-ip\", eq = \"192.168.1.77/24\""), HR_KEY_BOOL, E,
      "remote-ip=192.168.1.3", "true" },
    { RULE("if = \"remote-ip\", eq = \"0.0.0.0/0\""), HR_KEY_BOOL, E,
      "remote-ip=203.0.113.9", "true" },
    { RULE("if = \"remote-ip\", eq = \"0.0.0.0/0\""), HR_KEY_BOOL, E,
      "remote-ip=2001:db8::1", "false" },
    /* plain addresses compare as addresses */
    { RULE("if = \"remote-ip\", eq = \"192.0.2.1\""), HR_KEY_BOOL, E,
      "remote-ip=192.0.2.1", "true" },
    { RULE("if = \"remote-ip\", eq = \"192.0.2.1\""), HR_KEY_BOOL, E,
      "remote-ip=192.0.2.10", "false" },
    { RULE("if = \"remote-ip\", eq = \"192.0.2.1\""), HR_KEY_BOOL, E,
      "remote-ip=::ffff:192.0.2.1", "true" },
    { RULE("if = \"remote-ip\", eq = \"2001:db8::1\""), HR_KEY_BOOL, E,
      "remote-ip=2001:0DB8:0:0:0:0:0:1", "true" },
    /* IPv6 CIDR */
    { RULE("if = \"remote-ip\", eq = \"2001:db8::/32\""), HR_KEY_BOOL, E,
      "remote-ip=2001:DB8:1::5", "true" },
    { RULE("if = \"remote-ip\", eq = \"2001:db8::/32\""), HR_KEY_BOOL, E,
      "remote-ip=2001:db9::1", "false" },
    { RULE("if = \"remote-ip\", eq = \"2001:db8::/32\""), HR_KEY_BOOL, E,
      "remote-ip=10.0.0.1", "false" },
    { RULE("if = \"remote-ip\", eq = \"2001:db8::/32\""), HR_KEY_BOOL, E,
      "remote-ip=[2001:db8::1]", "true" },
    { RULE("if = \"remote-ip\", eq = \"2001:db8:8000::/33\""), HR_KEY_BOOL,
      E, "remote-ip=2001:db8:7fff::1", "false" },
    { RULE("if = \"remote-ip\", eq = \"2001:db8:8000::/33\""), HR_KEY_BOOL,
      E, "remote-ip=2001:db8:ffff::1", "true" },
    { RULE("if = \"local-ip\", eq = \"fe80::/10\""), HR_KEY_BOOL, E,
      "local-ip=fe80::1%eth0", "true" },
    { RULE("if = \"remote-ip\", eq = \"::1\""), HR_KEY_BOOL, E,
      "remote-ip=::1", "true" },
    { RULE("if = \"remote-ip\", eq = \"::ffff:10.0.0.0/104\""), HR_KEY_BOOL,
      E, "remote-ip=10.9.9.9", "true" },
    { RULE("if = \"remote-ip\", eq = \"::/0\""), HR_KEY_BOOL, E,
      "remote-ip=198.51.100.1", "true" },
    /* text operands on IP variables stay text */
    { RULE("if = \"remote-ip\", eq = \"\""), HR_KEY_BOOL, E, "", "true" },
    { RULE("if = \"remote-ip\", eq = \"\""), HR_KEY_BOOL, E,
      "remote-ip=192.0.2.1", "false" },
    { RULE("if = \"remote-ip\", starts-with = \"192.0.2.\""), HR_KEY_BOOL, E,
      "remote-ip=192.0.2.7", "true" },
    { RULE("if = \"remote-ip\", matches = \"^192\\\\.0\\\\.2\\\\.\""),
      HR_KEY_BOOL, E, "remote-ip=192.0.2.7", "true" },
    /* groups */
    { "[ { any-of = [ { if = \"remote-ip\", eq = \"10.0.0.0/8\" },"
      " { if = \"helo-domain\", ends-with = \".example\" } ], then = 1 },"
      " { else = 0 } ]",
      HR_KEY_INTEGER, E, "remote-ip=10.1.1.1", "1" },
    { "[ { any-of = [ { if = \"remote-ip\", eq = \"10.0.0.0/8\" },"
      " { if = \"helo-domain\", ends-with = \".example\" } ], then = 1 },"
      " { else = 0 } ]",
      HR_KEY_INTEGER, E, "helo-domain=a.example", "1" },
    { "[ { any-of = [ { if = \"remote-ip\", eq = \"10.0.0.0/8\" },"
      " { if = \"helo-domain\", ends-with = \".example\" } ], then = 1 },"
      " { else = 0 } ]",
      HR_KEY_INTEGER, E, "remote-ip=1.1.1.1;helo-domain=a.test", "0" },
    { RULE("all-of = [ { if = \"listener\", eq = \"smtp\" },"
           " { if = \"is-tls\", eq = true } ]"),
      HR_KEY_BOOL, E, "listener=smtp;is-tls=true", "true" },
    { RULE("all-of = [ { if = \"listener\", eq = \"smtp\" },"
           " { if = \"is-tls\", eq = true } ]"),
      HR_KEY_BOOL, E, "listener=smtp;is-tls=false", "false" },
    { RULE("all-of = [ { if = \"listener\", eq = \"smtp\" },"
           " { if = \"is-tls\", eq = true } ]"),
      HR_KEY_BOOL, E, "listener=lmtp;is-tls=true", "false" },
    { RULE("none-of = [ { if = \"listener\", eq = \"smtp\" },"
           " { if = \"is-tls\", eq = true } ]"),
      HR_KEY_BOOL, E, "listener=submission;is-tls=false", "true" },
    { RULE("none-of = [ { if = \"listener\", eq = \"smtp\" },"
           " { if = \"is-tls\", eq = true } ]"),
      HR_KEY_BOOL, E, "listener=smtp;is-tls=false", "false" },
    { RULE("none-of = [ { if = \"listener\", eq = \"smtp\" },"
           " { if = \"is-tls\", eq = true } ]"),
      HR_KEY_BOOL, E, "listener=submission;is-tls=true", "false" },
    /* nested groups */
    { RULE("any-of = [ { all-of = [ { if = \"listener\", eq = \"submission\""
           " }, { if = \"is-tls\", eq = true } ] },"
           " { if = \"remote-ip\", eq = \"127.0.0.1\" } ]"),
      HR_KEY_BOOL, E, "listener=submission;is-tls=true", "true" },
    { RULE("any-of = [ { all-of = [ { if = \"listener\", eq = \"submission\""
           " }, { if = \"is-tls\", eq = true } ] },"
           " { if = \"remote-ip\", eq = \"127.0.0.1\" } ]"),
      HR_KEY_BOOL, E, "listener=submission;is-tls=false", "false" },
    { RULE("any-of = [ { all-of = [ { if = \"listener\", eq = \"submission\""
           " }, { if = \"is-tls\", eq = true } ] },"
           " { if = \"remote-ip\", eq = \"127.0.0.1\" } ]"),
      HR_KEY_BOOL, E, "listener=smtp;remote-ip=127.0.0.1", "true" },
    { RULE("all-of = [ { if = \"authenticated-as\", ne = \"\" },"
           " { none-of = [ { if = \"authenticated-as\","
           " in-list = \"users\" } ] } ]"),
      HR_KEY_BOOL, E, "authenticated-as=carol", "true" },
    { RULE("all-of = [ { if = \"authenticated-as\", ne = \"\" },"
           " { none-of = [ { if = \"authenticated-as\","
           " in-list = \"users\" } ] } ]"),
      HR_KEY_BOOL, E, "authenticated-as=Alice", "false" },
    { RULE("all-of = [ { if = \"authenticated-as\", ne = \"\" },"
           " { none-of = [ { if = \"authenticated-as\","
           " in-list = \"users\" } ] } ]"),
      HR_KEY_BOOL, E, "", "false" },
    /* first match wins */
    { "[ { if = \"listener\", eq = \"smtp\", then = \"first\" },"
      " { if = \"listener\", starts-with = \"s\", then = \"second\" },"
      " { else = \"other\" } ]",
      HR_KEY_STRING, E, "listener=smtp", Q("first") },
    { "[ { if = \"listener\", eq = \"smtp\", then = \"first\" },"
      " { if = \"listener\", starts-with = \"s\", then = \"second\" },"
      " { else = \"other\" } ]",
      HR_KEY_STRING, E, "listener=submission", Q("second") },
    { "[ { if = \"listener\", eq = \"smtp\", then = \"first\" },"
      " { if = \"listener\", starts-with = \"s\", then = \"second\" },"
      " { else = \"other\" } ]",
      HR_KEY_STRING, E, "listener=lmtp", Q("other") },
    /* then/else converted by type */
    { "[ { if = \"authenticated-as\", ne = \"\", then = \"7d\" },"
      " { else = \"30s\" } ]",
      HR_KEY_DURATION, E, "authenticated-as=a", "604800000" },
    { "[ { if = \"authenticated-as\", ne = \"\", then = \"7d\" },"
      " { else = \"30s\" } ]",
      HR_KEY_DURATION, E, "", "30000" },
    { "[ { if = \"is-tls\", eq = true, then = 90 }, { else = \"500ms\" } ]",
      HR_KEY_DURATION, E, "is-tls=true", "90000" },
    { "[ { if = \"is-tls\", eq = true, then = 90 }, { else = \"500ms\" } ]",
      HR_KEY_DURATION, E, "is-tls=false", "500" },
    { "[ { if = \"is-tls\", eq = true, then = \"10M\" }, { else = 1024 } ]",
      HR_KEY_SIZE, E, "is-tls=true", "10485760" },
    { "[ { if = \"is-tls\", eq = true, then = \"10M\" }, { else = 1024 } ]",
      HR_KEY_SIZE, E, "is-tls=false", "1024" },
    { "[ { if = \"authenticated-as\", ne = \"\", then = \"7d\" },"
      " { else = false } ]",
      HR_KEY_DURATION, EO, "authenticated-as=a", "604800000" },
    { "[ { if = \"authenticated-as\", ne = \"\", then = \"7d\" },"
      " { else = false } ]",
      HR_KEY_DURATION, EO, "", "false" },
    { "[ { if = \"listener\", eq = \"smtp\", then = \"\" },"
      " { else = \"hello\" } ]",
      HR_KEY_STRING, EO, "listener=smtp", "false" },
    { "[ { if = \"listener\", eq = \"smtp\", then = \"\" },"
      " { else = \"hello\" } ]",
      HR_KEY_STRING, EO, "listener=lmtp", Q("hello") },
    { "[ { if = \"listener\", eq = \"smtp\", then = \"\" },"
      " { else = \"x\" } ]",
      HR_KEY_STRING, E, "listener=smtp", Q("") },
    { "[ { if = \"listener\", eq = \"smtp\", then = \"a\" },"
      " { else = [\"x\", \"y\"] } ]",
      HR_KEY_STRING_LIST, E, "listener=smtp", "[\"a\"]" },
    { "[ { if = \"listener\", eq = \"smtp\", then = \"a\" },"
      " { else = [\"x\", \"y\"] } ]",
      HR_KEY_STRING_LIST, E, "", "[\"x\", \"y\"]" },
    { "[ { else = true } ]", HR_KEY_BOOL, E, "", "true" },
    /* multi-line rule tables */
    { "[\n  { if = \"rcpt-domain\", eq = \"a.example\", then = 1 },\n"
      "  { if = \"rcpt-domain\", eq = \"b.example\", then = 2 },\n"
      "  { else = 3 }\n]",
      HR_KEY_INTEGER, E, "rcpt-domain=B.example", "2" },
};

/* Compile one setting with the test lists; NULL and a message on error. */
static hr_expr *compile(const char *text, hr_key_type type, unsigned flags,
                        unsigned allowed, apr_array_header_t *errors)
{
    hr_value *v = build(text);

    if (v == NULL) {
        return NULL;
    }
    return hr_expr_compile(pool, "k", v, type, flags, allowed, test_lists,
                           errors);
}

static void test_eval_rows(void)
{
    size_t i;

    for (i = 0; i < sizeof(eval_rows) / sizeof(eval_rows[0]); i++) {
        apr_array_header_t *errors = apr_array_make(pool, 4, sizeof(char *));
        hr_expr *e = compile(eval_rows[i].expr, eval_rows[i].type,
                             eval_rows[i].flags, HR_VARS_RCPT, errors);
        test_vars vars;
        const hr_value *result;
        const char *got;

        CU_ASSERT_PTR_NOT_NULL(e);
        CU_ASSERT_EQUAL(errors->nelts, 0);
        if (e == NULL) {
            fprintf(stderr, "\n  row %u: %s", (unsigned)i, eval_rows[i].expr);
            dump_errors("compile", errors);
            continue;
        }
        CU_ASSERT_EQUAL_FATAL(parse_vars(eval_rows[i].vars, &vars), 0);
        result = hr_expr_eval(e, get_var, &vars);
        CU_ASSERT_PTR_NOT_NULL_FATAL(result);
        got = render(result);
        CU_ASSERT_STRING_EQUAL(got, eval_rows[i].expect);
        if (strcmp(got, eval_rows[i].expect) != 0) {
            fprintf(stderr, "\n  row %u: %s\n    vars %s: got %s, want %s",
                    (unsigned)i, eval_rows[i].expr, eval_rows[i].vars, got,
                    eval_rows[i].expect);
        }
        /* Only the variables the expression tests are ever asked for. */
        CU_ASSERT_EQUAL(vars.asked & ~hr_expr_variables(e), 0);
    }
}

/* ------------------------------------------------------ constants */

static const struct {
    const char *value;
    hr_key_type type;
    unsigned flags;
    const char *expect;
} constant_rows[] = {
    { "true", HR_KEY_BOOL, 0, "true" },
    { "false", HR_KEY_BOOL, E, "false" },
    { "42", HR_KEY_INTEGER, 0, "42" },
    { "-7", HR_KEY_INTEGER, 0, "-7" },
    { Q("hi"), HR_KEY_STRING, 0, Q("hi") },
    { Q(""), HR_KEY_STRING, 0, Q("") },
    { Q("500ms"), HR_KEY_DURATION, 0, "500" },
    { Q("5m"), HR_KEY_DURATION, 0, "300000" },
    { Q("7d"), HR_KEY_DURATION, 0, "604800000" },
    { "3", HR_KEY_DURATION, 0, "3000" },
    { "0", HR_KEY_DURATION, 0, "0" },
    { Q("1G"), HR_KEY_SIZE, 0, "1073741824" },
    { Q("10k"), HR_KEY_SIZE, 0, "10240" },
    { "2048", HR_KEY_SIZE, 0, "2048" },
    { "false", HR_KEY_DURATION, HR_KEY_OPTIONAL, "false" },
    { Q(""), HR_KEY_DURATION, HR_KEY_OPTIONAL, "false" },
    { Q(""), HR_KEY_SIZE, EO, "false" },
    { Q(""), HR_KEY_STRING, HR_KEY_OPTIONAL, "false" },
    { "false", HR_KEY_STRING, HR_KEY_OPTIONAL, "false" },
    { "false", HR_KEY_INTEGER, HR_KEY_OPTIONAL, "false" },
    { "false", HR_KEY_STRING_LIST, HR_KEY_OPTIONAL, "false" },
    { "true", HR_KEY_BOOL, HR_KEY_OPTIONAL, "true" },
    { Q("30s"), HR_KEY_DURATION, HR_KEY_OPTIONAL, "30000" },
    { Q("one"), HR_KEY_STRING_LIST, 0, "[\"one\"]" },
    { "[\"a\", \"b\"]", HR_KEY_STRING_LIST, 0, "[\"a\", \"b\"]" },
    { "[]", HR_KEY_STRING_LIST, E, "[]" },
    { "{ a = 1 }", HR_KEY_ANY, 0, "{table}" },
    { "[ { else = 1 } ]", HR_KEY_ANY, 0, "[{table}]" },
    { "false", HR_KEY_ANY, HR_KEY_OPTIONAL, "false" },
    { "[1, \"x\"]", HR_KEY_ANY, E, "[1, \"x\"]" },
};

static void test_constant_rows(void)
{
    size_t i;

    for (i = 0; i < sizeof(constant_rows) / sizeof(constant_rows[0]); i++) {
        apr_array_header_t *errors = apr_array_make(pool, 4, sizeof(char *));
        hr_expr *e = compile(constant_rows[i].value, constant_rows[i].type,
                             constant_rows[i].flags, HR_VARS_RCPT, errors);
        const char *got;

        CU_ASSERT_PTR_NOT_NULL(e);
        if (e == NULL) {
            fprintf(stderr, "\n  constant row %u: %s", (unsigned)i,
                    constant_rows[i].value);
            dump_errors("compile", errors);
            continue;
        }
        CU_ASSERT_TRUE(hr_expr_is_constant(e));
        CU_ASSERT_EQUAL(hr_expr_variables(e), 0);
        /* A constant needs no getter at all. */
        got = render(hr_expr_eval(e, NULL, NULL));
        CU_ASSERT_STRING_EQUAL(got, constant_rows[i].expect);
        if (strcmp(got, constant_rows[i].expect) != 0) {
            fprintf(stderr, "\n  constant row %u: %s: got %s, want %s",
                    (unsigned)i, constant_rows[i].value, got,
                    constant_rows[i].expect);
        }
    }
}

/* Converted values are new nodes that keep the place of the original. */
static void test_constant_location(void)
{
    hr_value *v = build("\n\n\"90s\"");
    hr_expr *e;
    const hr_value *r;

    CU_ASSERT_PTR_NOT_NULL_FATAL(v);
    e = hr_expr_compile(pool, "k", v, HR_KEY_DURATION, 0, 0, NULL, NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(e);
    r = hr_expr_eval(e, NULL, NULL);
    CU_ASSERT_EQUAL(r->type, HR_VAL_INTEGER);
    CU_ASSERT_EQUAL(r->u.i, 90000);
    CU_ASSERT_EQUAL(r->line, 3);
    CU_ASSERT_STRING_EQUAL(r->file, TEST_FILE);
    CU_ASSERT_PTR_NOT_EQUAL(r, v);
    CU_ASSERT_EQUAL(v->type, HR_VAL_STRING); /* the tree is untouched */
}

static void test_expr_constant(void)
{
    hr_value *v = build("\"25M\"");
    hr_expr *e = hr_expr_constant(pool, v);
    test_vars vars;

    memset(&vars, 0, sizeof(vars));
    CU_ASSERT_PTR_NOT_NULL_FATAL(e);
    CU_ASSERT_TRUE(hr_expr_is_constant(e));
    CU_ASSERT_EQUAL(hr_expr_variables(e), 0);
    CU_ASSERT_PTR_EQUAL(hr_expr_eval(e, get_var, &vars), v);
    CU_ASSERT_EQUAL(vars.asked, 0);

    /* Never NULL: no value and no expression give boolean false. */
    e = hr_expr_constant(pool, NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(hr_expr_eval(e, NULL, NULL));
    CU_ASSERT_EQUAL(hr_expr_eval(e, NULL, NULL)->type, HR_VAL_BOOLEAN);
    CU_ASSERT_FALSE(hr_expr_eval(e, NULL, NULL)->u.b);
    CU_ASSERT_PTR_NOT_NULL_FATAL(hr_expr_eval(NULL, NULL, NULL));
    CU_ASSERT_EQUAL(hr_expr_eval(NULL, NULL, NULL)->type, HR_VAL_BOOLEAN);
}

/* hr_expr_variables, hr_expr_is_constant, and lazy variable reads. */
static void test_variables_mask(void)
{
    apr_array_header_t *errors = apr_array_make(pool, 4, sizeof(char *));
    hr_expr *e = compile(
        "[ { if = \"listener\", eq = \"smtp\", then = 1 },\n"
        "  { any-of = [ { if = \"remote-ip\", eq = \"10.0.0.0/8\" },\n"
        "    { none-of = [ { if = \"rcpt\", matches = \"x\" } ] } ],\n"
        "    then = 2 },\n"
        "  { else = 3 } ]",
        HR_KEY_INTEGER, E, HR_VARS_RCPT, errors);
    test_vars vars;

    CU_ASSERT_PTR_NOT_NULL_FATAL(e);
    CU_ASSERT_FALSE(hr_expr_is_constant(e));
    CU_ASSERT_EQUAL(hr_expr_variables(e),
                    HR_VARBIT(HR_VAR_LISTENER) | HR_VARBIT(HR_VAR_REMOTE_IP) |
                        HR_VARBIT(HR_VAR_RCPT));

    /* The first rule matches: later variables are not read. */
    parse_vars("listener=smtp;remote-ip=10.0.0.1", &vars);
    CU_ASSERT_EQUAL(hr_expr_eval(e, get_var, &vars)->u.i, 1);
    CU_ASSERT_EQUAL(vars.asked, HR_VARBIT(HR_VAR_LISTENER));

    /* any-of stops at its first true member. */
    parse_vars("listener=lmtp;remote-ip=10.0.0.1", &vars);
    CU_ASSERT_EQUAL(hr_expr_eval(e, get_var, &vars)->u.i, 2);
    CU_ASSERT_EQUAL(vars.asked, HR_VARBIT(HR_VAR_LISTENER) |
                                    HR_VARBIT(HR_VAR_REMOTE_IP));

    parse_vars("listener=lmtp;remote-ip=192.0.2.1;rcpt=xyz", &vars);
    CU_ASSERT_EQUAL(hr_expr_eval(e, get_var, &vars)->u.i, 3);
    CU_ASSERT_EQUAL(vars.asked, hr_expr_variables(e));

    /* No getter: every variable reads as "". */
    CU_ASSERT_EQUAL(hr_expr_eval(e, NULL, NULL)->u.i, 2);

    /* An else-only table is a constant. */
    e = compile("[ { else = 9 } ]", HR_KEY_INTEGER, E, 0, errors);
    CU_ASSERT_PTR_NOT_NULL_FATAL(e);
    CU_ASSERT_TRUE(hr_expr_is_constant(e));
    CU_ASSERT_EQUAL(hr_expr_variables(e), 0);
    CU_ASSERT_EQUAL(errors->nelts, 0);
}

/* ------------------------------------------------------ compile errors */

static const struct {
    const char *expr;
    hr_key_type type;
    unsigned flags;
    unsigned allowed;
    int line;             /* line the first error must point at */
    const char *message;  /* text after "t.toml:LINE: setting 'k' " */
} error_rows[] = {
    /* variables out of stage, unknown */
    { RULE("if = \"rcpt\", eq = \"x\""), HR_KEY_BOOL, E, HR_VARS_EHLO, 1,
      "cannot use variable 'rcpt' at this stage" },
    { "[\n  { if = \"listener\", eq = \"smtp\", then = true },\n"
      "  { if = \"sender\", eq = \"x\", then = true },\n"
      "  { else = false } ]",
      HR_KEY_BOOL, E, HR_VARS_CONNECT, 3,
      "cannot use variable 'sender' at this stage" },
    { "[ { any-of = [\n  { if = \"listener\", eq = \"smtp\" },\n"
      "  { all-of = [ { if = \"is-tls\", eq = true },\n"
      "    { if = \"helo-domain\", eq = \"x\" } ] } ],\n"
      "  then = true },\n  { else = false } ]",
      HR_KEY_BOOL, E, HR_VARS_CONNECT, 4,
      "cannot use variable 'helo-domain' at this stage" },
    { RULE("if = \"color\", eq = \"red\""), HR_KEY_BOOL, E, HR_VARS_RCPT, 1,
      "uses unknown variable 'color'" },
    { RULE("if = \"Listener\", eq = \"smtp\""), HR_KEY_BOOL, E, HR_VARS_RCPT,
      1, "uses unknown variable 'Listener'" },
    { RULE("if = 5, eq = \"smtp\""), HR_KEY_BOOL, E, HR_VARS_RCPT, 1,
      "expects a variable name after 'if', got integer" },
    /* operators */
    { "[\n { if = \"listener\",\n   equals = \"smtp\", then = true },\n"
      " { else = false } ]",
      HR_KEY_BOOL, E, HR_VARS_RCPT, 3, "uses unknown operator 'equals'" },
    { RULE("if = \"listener\", not-ne = \"smtp\""), HR_KEY_BOOL, E,
      HR_VARS_RCPT, 1, "uses unknown operator 'not-ne'" },
    { RULE("if = \"listener\", eq = \"a\", ne = \"b\""), HR_KEY_BOOL, E,
      HR_VARS_RCPT, 1, "has two operators ('eq' and 'ne')" },
    { "[ { if = \"listener\", then = true }, { else = false } ]", HR_KEY_BOOL,
      E, HR_VARS_RCPT, 1, "has 'if' without an operator" },
    { "[ { eq = \"smtp\", then = true }, { else = false } ]", HR_KEY_BOOL, E,
      HR_VARS_RCPT, 1, "has operator 'eq' without 'if'" },
    { "[ { then = true }, { else = false } ]", HR_KEY_BOOL, E, HR_VARS_RCPT,
      1, "has a rule without a condition" },
    { RULE("if = \"listener\", eq = [\"a\"]"), HR_KEY_BOOL, E, HR_VARS_RCPT,
      1, "expects a string, integer or boolean after 'eq', got array" },
    { RULE("if = \"listener\", in-list = 5"), HR_KEY_BOOL, E, HR_VARS_RCPT, 1,
      "expects a string after 'in-list', got integer" },
    { RULE("if = \"listener\", matches = true"), HR_KEY_BOOL, E,
      HR_VARS_RCPT, 1, "expects a string after 'matches', got boolean" },
    { "[\n { if = \"sender-domain\",\n   in-list = \"nope\", then = true },\n"
      " { else = false } ]",
      HR_KEY_BOOL, E, HR_VARS_RCPT, 3, "uses unknown list 'nope'" },
    { RULE("if = \"helo-domain\", matches = \"(\""), HR_KEY_BOOL, E,
      HR_VARS_RCPT, 1, "has an invalid regular expression \"(\"" },
    { RULE("if = \"helo-domain\", not-matches = \"[a-\""), HR_KEY_BOOL, E,
      HR_VARS_RCPT, 1, "has an invalid regular expression" },
    { RULE("if = \"remote-ip\", eq = \"10.0.0.0/33\""), HR_KEY_BOOL, E,
      HR_VARS_RCPT, 1, "has an invalid address block '10.0.0.0/33'" },
    { RULE("if = \"remote-ip\", ne = \"2001:db8::/129\""), HR_KEY_BOOL, E,
      HR_VARS_RCPT, 1, "has an invalid address block" },
    { RULE("if = \"local-ip\", eq = \"10.0.0.0/x\""), HR_KEY_BOOL, E,
      HR_VARS_RCPT, 1, "has an invalid address block" },
    { RULE("if = \"local-ip\", eq = \"10.0.0.0/\""), HR_KEY_BOOL, E,
      HR_VARS_RCPT, 1, "has an invalid address block" },
    { RULE("if = \"remote-ip\", eq = \"bogus/8\""), HR_KEY_BOOL, E,
      HR_VARS_RCPT, 1, "has an invalid address block" },
    { RULE("if = \"remote-ip\", eq = \"10.0.0.0/0008\""), HR_KEY_BOOL, E,
      HR_VARS_RCPT, 1, "has an invalid address block" },
    /* rule structure */
    { "[\n { if = \"listener\", eq = \"smtp\" },\n { else = false } ]",
      HR_KEY_BOOL, E, HR_VARS_RCPT, 2, "has a rule without 'then'" },
    { "[\n { if = \"listener\", eq = \"smtp\", then = true } ]", HR_KEY_BOOL,
      E, HR_VARS_RCPT, 1, "needs a last rule { else = VALUE }" },
    { "[\n { else = false },\n"
      " { if = \"listener\", eq = \"smtp\", then = true } ]",
      HR_KEY_BOOL, E, HR_VARS_RCPT, 2, "has 'else' before the last rule" },
    { "[ { if = \"listener\", eq = \"smtp\", else = true } ]", HR_KEY_BOOL, E,
      HR_VARS_RCPT, 1, "combines 'else' with other keys" },
    { "[ { if = \"listener\", eq = \"a\", then = true },\n 5,\n"
      " { else = false } ]",
      HR_KEY_BOOL, E, HR_VARS_RCPT, 2,
      "has a rule that is integer, not an inline table" },
    { RULE("if = \"listener\", eq = \"smtp\""), HR_KEY_BOOL, 0, HR_VARS_RCPT,
      1, "cannot be a rule table" },
    { RULE("if = \"listener\", eq = \"smtp\""), HR_KEY_BOOL,
      HR_KEY_OPTIONAL, HR_VARS_RCPT, 1, "cannot be a rule table" },
    /* groups */
    { RULE("any-of = [ { if = \"listener\", eq = \"smtp\", then = true } ]"),
      HR_KEY_BOOL, E, HR_VARS_RCPT, 1, "has 'then' inside a group" },
    { RULE("any-of = []"), HR_KEY_BOOL, E, HR_VARS_RCPT, 1,
      "needs 1 to 1024 conditions in 'any-of', got 0" },
    { RULE("all-of = \"listener\""), HR_KEY_BOOL, E, HR_VARS_RCPT, 1,
      "expects a list of conditions after 'all-of', got string" },
    { RULE("none-of = [ \"listener\" ]"), HR_KEY_BOOL, E, HR_VARS_RCPT, 1,
      "expects conditions ({ if = ..., eq = ... }) in 'none-of', got string" },
    { RULE("if = \"listener\", eq = \"a\", any-of = [ { if = \"is-tls\","
           " eq = true } ]"),
      HR_KEY_BOOL, E, HR_VARS_RCPT, 1, "mixes 'any-of' with 'if'" },
    { RULE("any-of = [ { if = \"is-tls\", eq = true } ],"
           " all-of = [ { if = \"is-tls\", eq = true } ]"),
      HR_KEY_BOOL, E, HR_VARS_RCPT, 1, "has both 'any-of' and 'all-of'" },
    /* values checked by type */
    { "true", HR_KEY_DURATION, 0, 0, 1,
      "expects a duration (e.g. \"30s\"), got boolean" },
    { "true", HR_KEY_DURATION, HR_KEY_OPTIONAL, 0, 1,
      "expects a duration (e.g. \"30s\"), got boolean" },
    { "\n\"30 s\"", HR_KEY_DURATION, 0, 0, 2,
      "expects a duration (e.g. \"30s\"), got \"30 s\"" },
    { "-5", HR_KEY_DURATION, 0, 0, 1,
      "expects a duration (e.g. \"30s\"), got -5 (out of range)" },
    { "9223372036854776", HR_KEY_DURATION, 0, 0, 1,
      "expects a duration (e.g. \"30s\"), got 9223372036854776 "
      "(out of range)" },
    { "\"10 M\"", HR_KEY_SIZE, 0, 0, 1,
      "expects a size (e.g. \"10M\"), got \"10 M\"" },
    { "-1", HR_KEY_SIZE, 0, 0, 1,
      "expects a size (e.g. \"10M\"), got -1 (out of range)" },
    { "[1]", HR_KEY_SIZE, E, 0, 1, "expects a size (e.g. \"10M\"), got array" },
    { "\"yes\"", HR_KEY_BOOL, 0, 0, 1,
      "expects a boolean (true or false), got string" },
    { "\"\"", HR_KEY_BOOL, 0, 0, 1,
      "expects a boolean (true or false), got string" },
    { "\"1\"", HR_KEY_INTEGER, 0, 0, 1, "expects an integer, got string" },
    { "1", HR_KEY_STRING, 0, 0, 1, "expects a string, got integer" },
    { "false", HR_KEY_STRING, 0, 0, 1, "expects a string, got boolean" },
    { "{ a = 1 }", HR_KEY_STRING, E, 0, 1, "expects a string, got table" },
    { "[\"a\",\n 1]", HR_KEY_STRING_LIST, 0, 0, 2,
      "expects a list of strings, got integer at element 2" },
    { "true", HR_KEY_STRING_LIST, HR_KEY_OPTIONAL, 0, 1,
      "expects a list of strings, got boolean" },
    { "[\n { if = \"listener\", eq = \"smtp\",\n   then = \"yes\" },\n"
      " { else = false } ]",
      HR_KEY_BOOL, E, HR_VARS_RCPT, 3,
      "expects a boolean (true or false), got string" },
    { "[\n { if = \"listener\", eq = \"smtp\", then = \"7d\" },\n"
      " { else = \"forever\" } ]",
      HR_KEY_DURATION, E, HR_VARS_RCPT, 3,
      "expects a duration (e.g. \"30s\"), got \"forever\"" },
    { "[ { if = \"listener\", eq = \"smtp\", then = true },"
      " { else = false } ]",
      HR_KEY_DURATION, E, HR_VARS_RCPT, 1,
      "expects a duration (e.g. \"30s\"), got boolean" },
};

static void test_error_rows(void)
{
    size_t i;

    for (i = 0; i < sizeof(error_rows) / sizeof(error_rows[0]); i++) {
        apr_array_header_t *errors = apr_array_make(pool, 4, sizeof(char *));
        hr_expr *e = compile(error_rows[i].expr, error_rows[i].type,
                             error_rows[i].flags, error_rows[i].allowed,
                             errors);
        const char *prefix = apr_psprintf(pool, TEST_FILE ":%d: setting 'k' ",
                                          error_rows[i].line);
        const char *first;
        int ok;

        CU_ASSERT_PTR_NULL(e);
        CU_ASSERT_TRUE(errors->nelts >= 1);
        if (errors->nelts < 1) {
            fprintf(stderr, "\n  error row %u compiled: %s", (unsigned)i,
                    error_rows[i].expr);
            continue;
        }
        first = APR_ARRAY_IDX(errors, 0, char *);
        ok = strncmp(first, prefix, strlen(prefix)) == 0 &&
             strstr(first + strlen(prefix), error_rows[i].message) ==
                 first + strlen(prefix);
        CU_ASSERT_TRUE(ok);
        if (!ok) {
            fprintf(stderr, "\n  error row %u: got \"%s\"\n    want \"%s%s\"",
                    (unsigned)i, first, prefix, error_rows[i].message);
        }
    }
}

/* Exact texts of the messages administrators will see most. */
static void test_error_texts(void)
{
    apr_array_header_t *errors = apr_array_make(pool, 4, sizeof(char *));

    CU_ASSERT_PTR_NULL(compile(RULE("if = \"rcpt\", eq = \"x\""), HR_KEY_BOOL,
                               E, HR_VARS_MAIL, errors));
    CU_ASSERT_EQUAL_FATAL(errors->nelts, 1);
    CU_ASSERT_STRING_EQUAL(APR_ARRAY_IDX(errors, 0, char *),
                           "t.toml:1: setting 'k' cannot use variable 'rcpt' "
                           "at this stage");

    apr_array_clear(errors);
    CU_ASSERT_PTR_NULL(compile("true", HR_KEY_DURATION, EO, 0, errors));
    CU_ASSERT_EQUAL_FATAL(errors->nelts, 1);
    CU_ASSERT_STRING_EQUAL(APR_ARRAY_IDX(errors, 0, char *),
                           "t.toml:1: setting 'k' expects a duration (e.g. "
                           "\"30s\"), got boolean");

    /* All the errors of a setting are reported, not just the first. */
    apr_array_clear(errors);
    CU_ASSERT_PTR_NULL(compile("[\n { if = \"rcpt\", eq = \"x\", then = 1 },\n"
                               " { if = \"nope\", eq = \"x\", then = 2 },\n"
                               " { else = \"z\" } ]",
                               HR_KEY_INTEGER, E, HR_VARS_EHLO, errors));
    CU_ASSERT_EQUAL(errors->nelts, 3);

    /* A NULL error array is allowed; the result still says "failed". */
    CU_ASSERT_PTR_NULL(compile("true", HR_KEY_STRING, 0, 0, NULL));
    CU_ASSERT_PTR_NULL(hr_expr_compile(pool, "k", NULL, HR_KEY_BOOL, 0, 0,
                                       NULL, NULL));
}

/* Groups nest EXPR_MAX_DEPTH (8) levels deep, no more. */
static void test_nesting_limit(void)
{
    int depth;

    for (depth = 7; depth <= 9; depth++) {
        apr_array_header_t *errors = apr_array_make(pool, 4, sizeof(char *));
        const char *cond = "{ if = \"is-tls\", eq = true }";
        int i;

        for (i = 0; i < depth; i++) {
            cond = apr_psprintf(pool, "{ any-of = [ %s ] }", cond);
        }
        /* The outermost group is the rule itself: strip its braces. */
        cond = apr_pstrmemdup(pool, cond + 2, strlen(cond) - 4);
        cond = apr_psprintf(pool, "[ { %s, then = true }, { else = false } ]",
                            cond);
        if (depth <= 8) {
            hr_expr *e = compile(cond, HR_KEY_BOOL, E, HR_VARS_RCPT, errors);
            test_vars vars;

            CU_ASSERT_PTR_NOT_NULL_FATAL(e);
            parse_vars("is-tls=true", &vars);
            CU_ASSERT_TRUE(hr_expr_eval(e, get_var, &vars)->u.b);
        }
        else {
            CU_ASSERT_PTR_NULL(compile(cond, HR_KEY_BOOL, E, HR_VARS_RCPT,
                                       errors));
            CU_ASSERT_EQUAL_FATAL(errors->nelts, 1);
            CU_ASSERT_PTR_NOT_NULL(strstr(APR_ARRAY_IDX(errors, 0, char *),
                                          "nests groups deeper than 8"));
        }
    }
}

/* ------------------------------------------------------ lists */

static const char *write_file(const char *name, const char *text)
{
    const char *path = apr_pstrcat(pool, tmpdir, "/", name, NULL);
    FILE *f = fopen(path, "wb");

    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    fputs(text, f);
    fclose(f);
    return path;
}

static void test_lists_null(void)
{
    apr_array_header_t *errors = apr_array_make(pool, 4, sizeof(char *));
    hr_lists *lists = hr_lists_build(pool, NULL, NULL, errors);

    CU_ASSERT_PTR_NOT_NULL_FATAL(lists);
    CU_ASSERT_EQUAL(errors->nelts, 0);
    CU_ASSERT_FALSE(hr_lists_exists(lists, "x"));
    CU_ASSERT_EQUAL(hr_lists_count(lists, "x"), -1);
    CU_ASSERT_FALSE(hr_lists_contains(lists, "x", "x", 1));
    CU_ASSERT_FALSE(hr_lists_exists(NULL, "x"));
    CU_ASSERT_FALSE(hr_lists_contains(NULL, "x", "x", 0));
    CU_ASSERT_EQUAL(hr_lists_count(NULL, "x"), -1);
}

static void test_lists_array(void)
{
    apr_array_header_t *errors = apr_array_make(pool, 4, sizeof(char *));
    hr_value *t = build("{ blocked = [\"Spam.Example\", \"bad.example\","
                        " \"dup\", \"DUP\", \"\"], empty = [] }");
    hr_lists *lists = hr_lists_build(pool, t, NULL, errors);

    CU_ASSERT_EQUAL(errors->nelts, 0);
    CU_ASSERT_TRUE(hr_lists_exists(lists, "blocked"));
    CU_ASSERT_TRUE(hr_lists_exists(lists, "empty"));
    CU_ASSERT_FALSE(hr_lists_exists(lists, "Blocked"));
    CU_ASSERT_EQUAL(hr_lists_count(lists, "blocked"), 5);
    CU_ASSERT_EQUAL(hr_lists_count(lists, "empty"), 0);
    /* i;ascii-casemap */
    CU_ASSERT_TRUE(hr_lists_contains(lists, "blocked", "spam.example", 1));
    CU_ASSERT_TRUE(hr_lists_contains(lists, "blocked", "SPAM.EXAMPLE", 1));
    CU_ASSERT_TRUE(hr_lists_contains(lists, "blocked", "Bad.Example", 1));
    CU_ASSERT_TRUE(hr_lists_contains(lists, "blocked", "dUp", 1));
    /* i;octet */
    CU_ASSERT_FALSE(hr_lists_contains(lists, "blocked", "spam.example", 0));
    CU_ASSERT_TRUE(hr_lists_contains(lists, "blocked", "Spam.Example", 0));
    CU_ASSERT_TRUE(hr_lists_contains(lists, "blocked", "DUP", 0));
    CU_ASSERT_FALSE(hr_lists_contains(lists, "blocked", "Dup", 0));
    /* no partial matches, empty entry, unknown list */
    CU_ASSERT_FALSE(hr_lists_contains(lists, "blocked", "bad.exampl", 1));
    CU_ASSERT_FALSE(hr_lists_contains(lists, "blocked", "x.bad.example", 1));
    CU_ASSERT_TRUE(hr_lists_contains(lists, "blocked", "", 0));
    CU_ASSERT_FALSE(hr_lists_contains(lists, "empty", "", 0));
    CU_ASSERT_FALSE(hr_lists_contains(lists, "nope", "dup", 1));
    CU_ASSERT_FALSE(hr_lists_contains(lists, "blocked", NULL, 1));
    CU_ASSERT_FALSE(hr_lists_contains(lists, NULL, "dup", 1));
}

static void test_lists_file(void)
{
    apr_array_header_t *errors = apr_array_make(pool, 4, sizeof(char *));
    const char *path = write_file("list.txt",
                                  "# blocked senders\n"
                                  "\n"
                                  "Alpha.Example\r\n"
                                  "  beta.example \t\n"
                                  "   # indented comment\n"
                                  "gamma#not-a-comment\n"
                                  "\r\n"
                                  "last-no-newline");
    hr_value *t = build(apr_psprintf(pool,
                                     "{ rel = \"file://list.txt\",\n"
                                     "  abs = \"file://%s\" }",
                                     path));
    hr_lists *lists = hr_lists_build(pool, t, tmpdir, errors);

    dump_errors("lists", errors);
    CU_ASSERT_EQUAL(errors->nelts, 0);
    CU_ASSERT_EQUAL(hr_lists_count(lists, "rel"), 4);
    CU_ASSERT_EQUAL(hr_lists_count(lists, "abs"), 4);
    CU_ASSERT_TRUE(hr_lists_contains(lists, "rel", "alpha.example", 1));
    CU_ASSERT_FALSE(hr_lists_contains(lists, "rel", "alpha.example", 0));
    CU_ASSERT_TRUE(hr_lists_contains(lists, "rel", "Alpha.Example", 0));
    CU_ASSERT_FALSE(hr_lists_contains(lists, "rel", "Alpha.Example\r", 0));
    CU_ASSERT_TRUE(hr_lists_contains(lists, "rel", "beta.example", 0));
    CU_ASSERT_TRUE(hr_lists_contains(lists, "abs", "BETA.example", 1));
    CU_ASSERT_TRUE(hr_lists_contains(lists, "rel", "gamma#not-a-comment", 0));
    CU_ASSERT_TRUE(hr_lists_contains(lists, "rel", "last-no-newline", 0));
    CU_ASSERT_FALSE(hr_lists_contains(lists, "rel", "# blocked senders", 0));
    CU_ASSERT_FALSE(hr_lists_contains(lists, "rel", "", 0));

    /* An empty file is an empty list. */
    write_file("empty.txt", "");
    apr_array_clear(errors);
    lists = hr_lists_build(pool, build("{ e = \"file://empty.txt\" }"),
                           tmpdir, errors);
    CU_ASSERT_EQUAL(errors->nelts, 0);
    CU_ASSERT_EQUAL(hr_lists_count(lists, "e"), 0);
}

static const struct {
    const char *table;
    const char *message; /* exact */
} list_error_rows[] = {
    { "{ bad = [\"a\",\n 5] }",
      "t.toml:2: list 'bad': entry 2 is integer, expected a string" },
    { "{ ok = [\"a\"],\n  plain = \"spam.example\" }",
      "t.toml:2: list 'plain': expected an array of strings or "
      "\"file://path\", got string without file://" },
    { "{ num = 5 }",
      "t.toml:1: list 'num': expected an array of strings or "
      "\"file://path\", got integer" },
    { "{ nofile = \"file://\" }",
      "t.toml:1: list 'nofile': \"file://\" names no file" },
    { "{\n\n  missing = \"file://does-not-exist.txt\" }",
      "t.toml:3: list 'missing': cannot open '%s/does-not-exist.txt': " },
    { "{ dir = \"file://.\" }", "t.toml:1: list 'dir': '%s' is not a regular "
      "file" },
    { "{ nul = \"file://nul.txt\" }",
      "t.toml:1: list 'nul': %s/nul.txt line 2 holds a NUL octet" },
    { "{ long = \"file://long.txt\" }",
      "t.toml:1: list 'long': %s/long.txt line 1 is longer than 2048 octets" },
};

static void test_lists_errors(void)
{
    char *line = apr_palloc(pool, 2050);
    char *dirpath;
    FILE *f;
    size_t i;

    /* A file with a NUL octet on its second line; a line too long. */
    f = fopen(apr_pstrcat(pool, tmpdir, "/nul.txt", NULL), "wb");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    fwrite("ok\nb\0d\n", 1, 7, f);
    fclose(f);
    memset(line, 'x', 2049);
    line[2049] = '\0';
    write_file("long.txt", line);
    apr_filepath_merge(&dirpath, tmpdir, ".", 0, pool);

    for (i = 0; i < sizeof(list_error_rows) / sizeof(list_error_rows[0]);
         i++) {
        apr_array_header_t *errors = apr_array_make(pool, 4, sizeof(char *));
        hr_value *t = build(list_error_rows[i].table);
        const char *want = strstr(list_error_rows[i].message, "'%s' is not")
                               ? apr_psprintf(pool, list_error_rows[i].message,
                                              dirpath)
                               : apr_psprintf(pool, list_error_rows[i].message,
                                              tmpdir);
        hr_lists *lists = hr_lists_build(pool, t, tmpdir, errors);
        const char *got;

        CU_ASSERT_PTR_NOT_NULL(lists);
        CU_ASSERT_EQUAL(errors->nelts, 1);
        if (errors->nelts < 1) {
            fprintf(stderr, "\n  list error row %u: no error", (unsigned)i);
            continue;
        }
        got = APR_ARRAY_IDX(errors, 0, char *);
        /* "cannot open" ends with the system's reason: compare a prefix. */
        CU_ASSERT_EQUAL(strncmp(got, want, strlen(want)), 0);
        if (strncmp(got, want, strlen(want)) != 0) {
            fprintf(stderr, "\n  list error row %u: got \"%s\"\n    want "
                    "\"%s\"", (unsigned)i, got, want);
        }
    }

    /* [list] that is not a table. */
    {
        apr_array_header_t *errors = apr_array_make(pool, 4, sizeof(char *));

        hr_lists_build(pool, build("\n\"x\""), NULL, errors);
        CU_ASSERT_EQUAL_FATAL(errors->nelts, 1);
        CU_ASSERT_STRING_EQUAL(APR_ARRAY_IDX(errors, 0, char *),
                               "t.toml:2: [list] must be a table, got string");
    }
}

/* 100,000 entries: built from a file and from an array, O(1) lookups. */
static void test_lists_large(void)
{
    enum { N = 100000 };
    apr_array_header_t *errors = apr_array_make(pool, 4, sizeof(char *));
    const char *path = apr_pstrcat(pool, tmpdir, "/large.txt", NULL);
    hr_value *table = hr_value_make_table(pool, TEST_FILE, 1);
    hr_value *array = make_array(2);
    hr_lists *lists;
    FILE *f = fopen(path, "wb");
    int i, found = 0, found_array = 0;

    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    for (i = 0; i < N; i++) {
        fprintf(f, "host%d.Example\n", i);
        array_push(array, make_str(apr_psprintf(pool, "user%d@Example", i),
                                   2));
    }
    fclose(f);
    table_set(table, "large", make_str("file://large.txt", 1));
    table_set(table, "array", array);

    lists = hr_lists_build(pool, table, tmpdir, errors);
    CU_ASSERT_EQUAL(errors->nelts, 0);
    CU_ASSERT_EQUAL(hr_lists_count(lists, "large"), N);
    CU_ASSERT_EQUAL(hr_lists_count(lists, "array"), N);
    for (i = 0; i < N; i++) {
        char name[64];

        snprintf(name, sizeof(name), "HOST%d.example", i);
        found += hr_lists_contains(lists, "large", name, 1);
        snprintf(name, sizeof(name), "user%d@Example", i);
        found_array += hr_lists_contains(lists, "array", name, 0);
    }
    CU_ASSERT_EQUAL(found, N);
    CU_ASSERT_EQUAL(found_array, N);
    CU_ASSERT_FALSE(hr_lists_contains(lists, "large", "host100000.example",
                                      1));
    CU_ASSERT_TRUE(hr_lists_contains(lists, "large", "host5.Example", 0));
    CU_ASSERT_FALSE(hr_lists_contains(lists, "large", "host5.example", 0));
    CU_ASSERT_FALSE(hr_lists_contains(lists, "array", "user5@example", 0));
    CU_ASSERT_TRUE(hr_lists_contains(lists, "array", "USER5@example", 1));
    apr_file_remove(path, pool);
}

/* ------------------------------------------------------ threads */

#define THREAD_ROUNDS 20000

static const char *thread_expr =
    "[ { any-of = [ { if = \"remote-ip\", eq = \"10.0.0.0/8\" },\n"
    "               { if = \"remote-ip\", eq = \"2001:db8::/32\" } ],\n"
    "    then = \"internal\" },\n"
    "  { if = \"helo-domain\", matches = \"^mx[0-9]+\\\\.\", then = \"mx\" },\n"
    "  { if = \"sender-domain\", in-list = \"blocked\", then = \"blocked\" },\n"
    "  { else = \"other\" } ]";

static const struct {
    const char *vars;
    const char *expect;
} thread_cases[] = {
    { "remote-ip=10.1.2.3", "internal" },
    { "remote-ip=::ffff:10.9.9.9", "internal" },
    { "remote-ip=2001:db8::25", "internal" },
    { "remote-ip=192.0.2.1;helo-domain=MX12.example", "mx" },
    { "remote-ip=192.0.2.1;helo-domain=mail.example;"
      "sender-domain=Spam.Example", "blocked" },
    { "remote-ip=192.0.2.1;helo-domain=mail.example", "other" },
};
#define THREAD_CASES (sizeof(thread_cases) / sizeof(thread_cases[0]))

typedef struct {
    const hr_expr *expr;
    test_vars vars[THREAD_CASES];
    int offset;     /* threads walk the cases in different orders */
    int failures;
} thread_job;

static void *APR_THREAD_FUNC eval_thread(apr_thread_t *thread, void *data)
{
    thread_job *job = data;
    int i;

    for (i = 0; i < THREAD_ROUNDS; i++) {
        size_t c = (size_t)(i + job->offset) % THREAD_CASES;
        const hr_value *r = hr_expr_eval(job->expr, get_var, &job->vars[c]);

        if (r->type != HR_VAL_STRING ||
            strcmp(r->u.s, thread_cases[c].expect) != 0) {
            job->failures++;
        }
    }
    apr_thread_exit(thread, APR_SUCCESS);
    return NULL;
}

static void test_threads(void)
{
    apr_array_header_t *errors = apr_array_make(pool, 4, sizeof(char *));
    hr_expr *e = compile(thread_expr, HR_KEY_STRING, E, HR_VARS_RCPT, errors);
    thread_job jobs[2];
    apr_thread_t *threads[2];
    apr_status_t rv;
    size_t t, c;

    dump_errors("threads", errors);
    CU_ASSERT_PTR_NOT_NULL_FATAL(e);
    for (t = 0; t < 2; t++) {
        memset(&jobs[t], 0, sizeof(jobs[t]));
        jobs[t].expr = e;
        jobs[t].offset = (int)t * 3;
        for (c = 0; c < THREAD_CASES; c++) {
            parse_vars(thread_cases[c].vars, &jobs[t].vars[c]);
        }
    }
    for (t = 0; t < 2; t++) {
        rv = apr_thread_create(&threads[t], NULL, eval_thread, &jobs[t],
                               pool);
        CU_ASSERT_EQUAL_FATAL(rv, APR_SUCCESS);
    }
    for (t = 0; t < 2; t++) {
        apr_status_t trv;

        CU_ASSERT_EQUAL(apr_thread_join(&trv, threads[t]), APR_SUCCESS);
        CU_ASSERT_EQUAL(jobs[t].failures, 0);
    }
}

/* ------------------------------------------------------ main */

static int suite_init(void)
{
    apr_array_header_t *errors;
    hr_value *t;
    char tmpl[] = "/tmp/herald-expr-XXXXXX";

    if (apr_pool_create(&pool, NULL) != APR_SUCCESS) {
        return -1;
    }
    if (mkdtemp(tmpl) == NULL) {
        return -1;
    }
    apr_cpystrn(tmpdir, tmpl, sizeof(tmpdir));
    errors = apr_array_make(pool, 4, sizeof(char *));
    t = build("{ blocked = [\"spam.example\", \"Bad.Example\"],"
              " users = [\"alice\", \"Bob\"] }");
    if (t == NULL) {
        return -1;
    }
    test_lists = hr_lists_build(pool, t, NULL, errors);
    return errors->nelts == 0 ? 0 : -1;
}

static int suite_clean(void)
{
    static const char *const files[] = { "list.txt", "empty.txt", "nul.txt",
                                         "long.txt", "large.txt" };
    size_t i;

    for (i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
        apr_file_remove(apr_pstrcat(pool, tmpdir, "/", files[i], NULL), pool);
    }
    apr_dir_remove(tmpdir, pool);
    apr_pool_destroy(pool);
    return 0;
}

int main(void)
{
    CU_pSuite suite;
    unsigned failures;

    apr_initialize();
    if (CU_initialize_registry() != CUE_SUCCESS) {
        return 1;
    }
    suite = CU_add_suite("expr", suite_init, suite_clean);
    if (suite == NULL ||
        !CU_add_test(suite, "durations", test_durations) ||
        !CU_add_test(suite, "sizes", test_sizes) ||
        !CU_add_test(suite, "variable names", test_var_names) ||
        !CU_add_test(suite, "evaluation rows", test_eval_rows) ||
        !CU_add_test(suite, "constant rows", test_constant_rows) ||
        !CU_add_test(suite, "constant location", test_constant_location) ||
        !CU_add_test(suite, "hr_expr_constant", test_expr_constant) ||
        !CU_add_test(suite, "variables mask", test_variables_mask) ||
        !CU_add_test(suite, "compile error rows", test_error_rows) ||
        !CU_add_test(suite, "compile error texts", test_error_texts) ||
        !CU_add_test(suite, "nesting limit", test_nesting_limit) ||
        !CU_add_test(suite, "lists: none", test_lists_null) ||
        !CU_add_test(suite, "lists: arrays", test_lists_array) ||
        !CU_add_test(suite, "lists: files", test_lists_file) ||
        !CU_add_test(suite, "lists: errors", test_lists_errors) ||
        !CU_add_test(suite, "lists: 100000 entries", test_lists_large) ||
        !CU_add_test(suite, "two threads", test_threads)) {
        CU_cleanup_registry();
        return 1;
    }
    CU_basic_set_mode(CU_BRM_VERBOSE);
    CU_basic_run_tests();
    failures = CU_get_number_of_failures() != 0 || CU_get_error();
    CU_cleanup_registry();
    apr_terminate();
    return failures != 0;
}
