/*
 * test_parse.c -- table-driven tests of server/smtp_parse.c and
 * server/util.c: MAIL/RCPT arguments, bare mailboxes, domains, command
 * splitting, FQDNs, address literals, xtext and UTF-8.
 *
 * Rows may contain length macros expanded before the test runs:
 *     {A64}   64 times 'a'
 *     {D189}  a valid domain of exactly 189 octets (labels <= 63)
 * Run: make test/unit/test_parse && ./test/unit/test_parse
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <CUnit/Basic.h>
#include <apr_general.h>
#include <apr_strings.h>
#include <apr_network_io.h>

#include "herald.h"
#include "hr_smtp.h"

static apr_pool_t *pool;

/* Expand {A<n>} and {D<n>} in @text (see the header comment). */
static const char *expand(const char *text)
{
    char *out, *o;
    const char *s;
    long n, take;
    apr_size_t cap = strlen(text) + 1;

    if (text == NULL) {
        return NULL;
    }
    for (s = text; (s = strchr(s, '{')) != NULL; s++) {
        cap += strtol(s + 2, NULL, 10);
    }
    o = out = apr_palloc(pool, cap);
    for (s = text; *s != '\0'; ) {
        if (*s == '{' && (s[1] == 'A' || s[1] == 'D')) {
            char kind = s[1];
            char *end;
            n = strtol(s + 2, &end, 10);
            if (kind == 'A') {
                memset(o, 'a', n);
                o += n;
            }
            else {
                /* labels of up to 62 'b' and a last label of 'c' */
                while (n > 63) {
                    take = n - 2 < 61 ? n - 2 : 61;
                    memset(o, 'b', take);
                    o += take;
                    *o++ = '.';
                    n -= take + 1;
                }
                memset(o, 'c', n);
                o += n;
            }
            s = end + 1;        /* past '}' */
        }
        else {
            *o++ = *s++;
        }
    }
    *o = '\0';
    return out;
}

static void test_expand(void)
{
    CU_ASSERT_EQUAL(strlen(expand("{A64}")), 64);
    CU_ASSERT_EQUAL(strlen(expand("x{D189}y")), 191);
    CU_ASSERT_EQUAL(strlen(expand("{D255}")), 255);
    CU_ASSERT_TRUE(hr_parse_domain(expand("{D255}")));
    CU_ASSERT_TRUE(hr_parse_domain(expand("{D64}")));
}

/* ------------------------------------------------------------ MAIL/RCPT */

typedef struct {
    const char *kind;      /* "FROM" (MAIL) or "TO" (RCPT) */
    const char *args;
    int status;
    const char *address;   /* when OK */
    const char *local;     /* when OK; NULL: not checked */
    const char *domain;    /* when OK */
    int utf8;
    int params_utf8;
    const char *params;    /* "KEY=value KEY" in order */
} path_case;

#define OK HR_PARSE_OK
#define SYN HR_PARSE_SYNTAX
#define BAD HR_PARSE_BAD_ADDRESS
#define LONG HR_PARSE_TOO_LONG
#define BADP HR_PARSE_BAD_PARAM
#define DUP HR_PARSE_DUP_PARAM

/* MAIL / RCPT rows: M(args, status, address, domain, params) */
#define M(a, st, addr, dom, par) { "FROM", a, st, addr, NULL, dom, 0, 0, par }
#define R(a, st, addr, dom, par) { "TO", a, st, addr, NULL, dom, 0, 0, par }
#define MF(a, st) M(a, st, NULL, NULL, NULL)
#define RF(a, st) R(a, st, NULL, NULL, NULL)
/* with the local part checked */
#define ML(a, addr, local, dom) { "FROM", a, OK, addr, local, dom, 0, 0, "" }
/* UTF-8: MU(args, status, address, domain, utf8, params_utf8, params) */
#define MU(a, st, addr, dom, u, pu, par) \
    { "FROM", a, st, addr, NULL, dom, u, pu, par }

static const path_case path_cases[] = {
    /* "FROM:" and spacing (RFC 5321 §4.1.2; one space tolerated) */
    M("FROM:<user@example.com>", OK, "user@example.com", "example.com", ""),
    M("from:<user@example.com>", OK, "user@example.com", "example.com", ""),
    M("FrOm:<User@Example.COM>", OK, "User@Example.COM", "Example.COM", ""),
    M("FROM: <user@example.com>", OK, "user@example.com", "example.com", ""),
    MF("FROM:  <user@example.com>", SYN),
    MF("FROM :<user@example.com>", SYN),
    MF(" FROM:<user@example.com>", SYN),
    MF("FROM<user@example.com>", SYN),
    MF("FROM:user@example.com", SYN),
    MF("FROM:<user@example.com", SYN),
    MF("FROM:", SYN),
    MF("", SYN),
    MF("TO:<user@example.com>", SYN),
    MF("FROMX:<user@example.com>", SYN),
    M("FROM:<user@example.com> ", OK, "user@example.com", "example.com", ""),
    M("FROM:<user@example.com>   ", OK, "user@example.com", "example.com",
      ""),
    MF("FROM:<user@example.com>x", SYN),
    MF("FROM:<user@example.com>>", SYN),
    MF("FROM:<user@example.com>\t", SYN),
    /* null path: MAIL only (RFC 5321 §4.5.5) */
    M("FROM:<>", OK, "", "", ""),
    M("FROM: <>", OK, "", "", ""),
    M("FROM:<> SIZE=100", OK, "", "", "SIZE=100"),
    MF("FROM:< >", BAD),
    RF("TO:<>", BAD),
    /* local parts: dot-string */
    ML("FROM:<first.last@example.com>", "first.last@example.com",
       "first.last", "example.com"),
    M("FROM:<a!#$%&'*+-/=?^_`{|}~z@example.com>", OK,
      "a!#$%&'*+-/=?^_`{|}~z@example.com", "example.com", ""),
    MF("FROM:<user>", BAD),
    MF("FROM:<postmaster>", BAD),
    MF("FROM:<user@>", BAD),
    MF("FROM:<@example.com>", BAD),
    MF("FROM:<a b@example.com>", BAD),
    MF("FROM:<.user@example.com>", BAD),
    MF("FROM:<user.@example.com>", BAD),
    MF("FROM:<us..er@example.com>", BAD),
    MF("FROM:<us(er)@example.com>", BAD),
    MF("FROM:<user@@example.com>", BAD),
    MF("FROM:<user@example.com@example.org>", BAD),
    /* local parts: quoted-string (qtextSMTP / quoted-pairSMTP) */
    ML("FROM:<\"john doe\"@example.com>", "\"john doe\"@example.com",
       "\"john doe\"", "example.com"),
    ML("FROM:<\"a\\\"b\"@example.com>", "\"a\\\"b\"@example.com",
       "\"a\\\"b\"", "example.com"),
    ML("FROM:<\"\"@example.com>", "\"\"@example.com", "\"\"",
       "example.com"),
    ML("FROM:<\"a>b\"@example.com>", "\"a>b\"@example.com", "\"a>b\"",
       "example.com"),
    ML("FROM:<\"a\\\\b\"@example.com>", "\"a\\\\b\"@example.com",
       "\"a\\\\b\"", "example.com"),
    MF("FROM:<\"unterminated@example.com>", BAD),
    MF("FROM:<\"a\tb\"@example.com>", BAD),
    MF("FROM:<\"a\\\x01\"@example.com>", BAD),
    MF("FROM:<\"a\"b@example.com>", BAD),
    MF("FROM:<\"a\".b@example.com>", BAD),
    /* source routes: accepted and dropped (RFC 5321 §4.1.1.3, App. C) */
    M("FROM:<@relay.example:user@example.com>", OK, "user@example.com",
      "example.com", ""),
    M("FROM:<@a.example,@b.example:user@example.com>", OK,
      "user@example.com", "example.com", ""),
    MF("FROM:<@a.example,b.example:user@example.com>", BAD),
    MF("FROM:<@a.example,user@example.com>", BAD),
    MF("FROM:<@a.example:>", BAD),
    MF("FROM:<@:user@example.com>", BAD),
    MF("FROM:<@[192.0.2.1]:user@example.com>", BAD),
    /* domains and address literals (RFC 5321 §4.1.2, §4.1.3) */
    M("FROM:<user@localhost>", OK, "user@localhost", "localhost", ""),
    M("FROM:<user@mx-1.example.com>", OK, "user@mx-1.example.com",
      "mx-1.example.com", ""),
    M("FROM:<user@[192.0.2.1]>", OK, "user@[192.0.2.1]", "[192.0.2.1]", ""),
    M("FROM:<user@[IPv6:2001:db8::1]>", OK, "user@[IPv6:2001:db8::1]",
      "[IPv6:2001:db8::1]", ""),
    M("FROM:<user@[ipv6:2001:DB8::1]>", OK, "user@[ipv6:2001:DB8::1]",
      "[ipv6:2001:DB8::1]", ""),
    M("FROM:<user@[IPv6:::ffff:192.0.2.1]>", OK,
      "user@[IPv6:::ffff:192.0.2.1]", "[IPv6:::ffff:192.0.2.1]", ""),
    M("FROM:<user@[x-tag:a>b]> SIZE=1", OK, "user@[x-tag:a>b]",
      "[x-tag:a>b]", "SIZE=1"),
    MF("FROM:<user@[192.0.2.256]>", BAD),
    MF("FROM:<user@[1.2.3]>", BAD),
    MF("FROM:<user@[IPv6:2001:db8::g]>", BAD),
    MF("FROM:<user@[IPv6:2001:db8::1::2]>", BAD),
    MF("FROM:<user@[192.0.2.1>", BAD),
    MF("FROM:<user@[]>", BAD),
    MF("FROM:<user@-example.com>", BAD),
    MF("FROM:<user@example-.com>", BAD),
    MF("FROM:<user@example..com>", BAD),
    MF("FROM:<user@example.com.>", BAD),
    MF("FROM:<user@.example.com>", BAD),
    MF("FROM:<user@ex_ample.com>", BAD),
    /* RFC 5321 §4.5.3.1: local 64, domain 255, path 256 */
    M("FROM:<{A64}@example.com>", OK, "{A64}@example.com", "example.com",
      ""),
    MF("FROM:<{A65}@example.com>", LONG),
    M("FROM:<\"{A62}\"@example.com>", OK, "\"{A62}\"@example.com",
      "example.com", ""),
    MF("FROM:<\"{A63}\"@example.com>", LONG),
    M("FROM:<{A64}@{D189}>", OK, "{A64}@{D189}", "{D189}", ""),
    MF("FROM:<{A64}@{D190}>", LONG),
    MF("FROM:<a@{D255}>", LONG),
    MF("FROM:<a@{D256}>", LONG),
    M("FROM:<a@{A63}.com>", OK, "a@{A63}.com", "{A63}.com", ""),
    MF("FROM:<a@{A64}.com>", LONG),
    M("FROM:<@{D120},@{D120}:a@b.c>", OK, "a@b.c", "b.c", ""),
    MF("FROM:<@{D125},@{D125}:a@b.c>", LONG),
    /* ESMTP parameters (RFC 5321 §4.1.2 esmtp-param) */
    M("FROM:<a@b.c> SIZE=1000 BODY=8BITMIME", OK, "a@b.c", "b.c",
      "SIZE=1000 BODY=8BITMIME"),
    M("FROM:<a@b.c> size=1000 body=8bitmime", OK, "a@b.c", "b.c",
      "SIZE=1000 BODY=8bitmime"),
    M("FROM:<a@b.c>  SIZE=1000   BODY=8BITMIME  ", OK, "a@b.c", "b.c",
      "SIZE=1000 BODY=8BITMIME"),
    M("FROM:<a@b.c> SMTPUTF8", OK, "a@b.c", "b.c", "SMTPUTF8"),
    M("FROM:<a@b.c> RET=HDRS ENVID=QQ314159+2B REQUIRETLS", OK, "a@b.c",
      "b.c", "RET=HDRS ENVID=QQ314159+2B REQUIRETLS"),
    M("FROM:<a@b.c> X-Foo-1=bar 8BIT", OK, "a@b.c", "b.c",
      "X-FOO-1=bar 8BIT"),
    M("FROM:<a@b.c> AUTH=<>", OK, "a@b.c", "b.c", "AUTH=<>"),
    MF("FROM:<a@b.c> SIZE=1 SIZE=2", DUP),
    MF("FROM:<a@b.c> SIZE=1 size=2", DUP),
    MF("FROM:<a@b.c> SMTPUTF8 BODY=7BIT SMTPUTF8", DUP),
    MF("FROM:<a@b.c> SI_ZE=1", BADP),
    MF("FROM:<a@b.c> -SIZE=1", BADP),
    MF("FROM:<a@b.c> SIZE=", BADP),
    MF("FROM:<a@b.c> SIZE==1", BADP),
    MF("FROM:<a@b.c> SIZE=1=2", BADP),
    MF("FROM:<a@b.c> =1", BADP),
    MF("FROM:<a@b.c> SIZE=1\t", BADP),
    MF("FROM:<a@b.c> A=\x7f", BADP),
    MF("FROM:<a@b.c> A=b\x01", BADP),
    /* UTF-8 (RFC 6531 §3.3): valid only, flagged for the caller */
    MU("FROM:<j\xc3\xb6rg@example.com>", OK, "j\xc3\xb6rg@example.com",
       "example.com", 1, 0, ""),
    MU("FROM:<user@m\xc3\xbcller.example>", OK, "user@m\xc3\xbcller.example",
       "m\xc3\xbcller.example", 1, 0, ""),
    MU("FROM:<\xe7\x94\xa8\xe6\x88\xb7@\xe4\xbe\x8b\xe5\xad\x90.\xe5\xb9\xbf"
       "\xe5\x91\x8a>", OK,
       "\xe7\x94\xa8\xe6\x88\xb7@\xe4\xbe\x8b\xe5\xad\x90.\xe5\xb9\xbf"
       "\xe5\x91\x8a", "\xe4\xbe\x8b\xe5\xad\x90.\xe5\xb9\xbf\xe5\x91\x8a",
       1, 0, ""),
    MU("FROM:<\"j\xc3\xb6rg x\"@example.com>", OK,
       "\"j\xc3\xb6rg x\"@example.com", "example.com", 1, 0, ""),
    MU("FROM:<\xf0\x9f\x93\xa7@example.com>", OK,
       "\xf0\x9f\x93\xa7@example.com", "example.com", 1, 0, ""),
    MU("FROM:<a@b.c> X=\xc3\xa9t\xc3\xa9", OK, "a@b.c", "b.c", 0, 1,
       "X=\xc3\xa9t\xc3\xa9"),
    MF("FROM:<\xff@example.com>", BAD),
    MF("FROM:<\xc0\xaf@example.com>", BAD),
    MF("FROM:<\xe0\x80\xaf@example.com>", BAD),
    MF("FROM:<\xed\xa0\x80@example.com>", BAD),
    MF("FROM:<\xf4\x90\x80\x80@example.com>", BAD),
    MF("FROM:<\xe4\xbd@example.com>", BAD),
    MF("FROM:<\x80@example.com>", BAD),
    MF("FROM:<a@b\x80.com>", BAD),
    MF("FROM:<\"\xff\"@example.com>", BAD),
    MF("FROM:<a@b.c> X=\xc3", BADP),
    /* RCPT */
    R("TO:<user@example.com>", OK, "user@example.com", "example.com", ""),
    R("to:<user@example.com>", OK, "user@example.com", "example.com", ""),
    R("TO: <user@example.com>", OK, "user@example.com", "example.com", ""),
    R("TO:<user@example.com> NOTIFY=SUCCESS,FAILURE "
      "ORCPT=rfc822;user@example.com", OK, "user@example.com",
      "example.com", "NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;user@example.com"),
    R("TO:<postmaster>", OK, "postmaster", "", ""),
    R("TO:<PostMaster>", OK, "PostMaster", "", ""),
    R("TO:<postmaster> NOTIFY=NEVER", OK, "postmaster", "", "NOTIFY=NEVER"),
    R("TO:<postmaster@example.com>", OK, "postmaster@example.com",
      "example.com", ""),
    R("TO:<@a.example:user@example.com>", OK, "user@example.com",
      "example.com", ""),
    R("TO:<\"john doe\"@example.com>", OK, "\"john doe\"@example.com",
      "example.com", ""),
    RF("TO:<postmaster2>", BAD),
    RF("TO:<postmaste>", BAD),
    RF("TO:<\"postmaster\">", BAD),
    RF("TO:<user>", BAD),
    RF("FROM:<user@example.com>", SYN),
    RF("TO:user@example.com", SYN),
    RF("TO:<user@example.com> SIZE=1 SIZE=1", DUP),
};

/* Serialise parsed parameters from index @first as "KEY=value KEY". */
static const char *params_text(const apr_array_header_t *params, int first)
{
    const char *out = "";
    int i;

    for (i = first; i < params->nelts; i++) {
        const hr_param_value *pv = &APR_ARRAY_IDX(params, i, hr_param_value);
        out = apr_pstrcat(pool, out, i > first ? " " : "", pv->keyword,
                          pv->value ? "=" : "", pv->value ? pv->value : "",
                          NULL);
    }
    return out;
}

static void test_mail_rcpt_table(void)
{
    apr_size_t i;
    int failures = 0;

    CU_ASSERT_TRUE(sizeof(path_cases) / sizeof(path_cases[0]) >= 60);
    for (i = 0; i < sizeof(path_cases) / sizeof(path_cases[0]); i++) {
        const path_case *c = &path_cases[i];
        int rcpt = strcmp(c->kind, "TO") == 0;
        apr_array_header_t *params = apr_array_make(pool, 2,
                                                    sizeof(hr_param_value));
        hr_param_value *sentinel = apr_array_push(params);
        const char *why = NULL, *args = expand(c->args);
        hr_path path;
        int st, ok;

        /* the caller's earlier entries must survive, whatever happens */
        sentinel->keyword = "KEEP";
        sentinel->value = NULL;
        /* as the core calls it: allow_null for MAIL, 0 for RCPT */
        st = hr_parse_mail_rcpt(pool, args, c->kind, rcpt ? 0 : 1, &path,
                                params, &why);
        ok = (st == c->status);
        if (ok && st == HR_PARSE_OK) {
            ok = strcmp(path.address, expand(c->address)) == 0
                 && strcmp(path.domain, expand(c->domain)) == 0
                 && (c->local == NULL || strcmp(path.local, c->local) == 0)
                 && path.utf8 == c->utf8
                 && path.params_utf8 == c->params_utf8
                 && strcmp(params_text(params, 1), c->params) == 0
                 && why == NULL;
        }
        else if (ok) {
            ok = params->nelts == 1 && why != NULL && *why != '\0';
        }
        ok = ok && strcmp(APR_ARRAY_IDX(params, 0, hr_param_value).keyword,
                          "KEEP") == 0;
        if (!ok) {
            failures++;
            fprintf(stderr, "\n  row %lu '%s': status %d (want %d) "
                    "address '%s' domain '%s' utf8 %d/%d params '%s' "
                    "why '%s'", (unsigned long)i, c->args, st,
                    c->status, st ? "" : path.address,
                    st ? "" : path.domain, path.utf8, path.params_utf8,
                    params_text(params, 1), why ? why : "(null)");
        }
        CU_ASSERT_EQUAL(st, c->status);
    }
    CU_ASSERT_EQUAL(failures, 0);
}

/* <> is refused unless allowed; <postmaster> needs "TO" or its flag. */
static void test_mail_rcpt_flags(void)
{
    apr_array_header_t *params = apr_array_make(pool, 2,
                                                sizeof(hr_param_value));
    hr_path path;

    CU_ASSERT_EQUAL(hr_parse_mail_rcpt(pool, "TO:<>", "TO",
                                       HR_PATH_ALLOW_NULL, &path, params,
                                       NULL), HR_PARSE_OK);
    CU_ASSERT_TRUE(path.null_path);
    CU_ASSERT_EQUAL(hr_parse_mail_rcpt(pool, "FROM:<postmaster>", "FROM",
                                       HR_PATH_ALLOW_POSTMASTER, &path,
                                       params, NULL), HR_PARSE_OK);
    CU_ASSERT_TRUE(path.postmaster);
    CU_ASSERT_STRING_EQUAL(path.local, "postmaster");
    CU_ASSERT_EQUAL(hr_parse_mail_rcpt(pool, "FROM:<postmaster>", "FROM", 0,
                                       &path, params, NULL),
                    HR_PARSE_BAD_ADDRESS);
    CU_ASSERT_EQUAL(hr_parse_mail_rcpt(pool, "FROM:<>", "FROM", 0, &path,
                                       params, NULL), HR_PARSE_BAD_ADDRESS);
    CU_ASSERT_EQUAL(params->nelts, 0);
}

/* HR_MAX_PARAMS parameters pass, one more is refused. */
static void test_mail_rcpt_param_count(void)
{
    apr_array_header_t *params = apr_array_make(pool, 2,
                                                sizeof(hr_param_value));
    const char *args = "FROM:<a@b.c>";
    const char *why;
    hr_path path;
    int i;

    for (i = 0; i < HR_MAX_PARAMS; i++) {
        args = apr_psprintf(pool, "%s X%d=%d", args, i, i);
    }
    CU_ASSERT_EQUAL(hr_parse_mail_rcpt(pool, args, "FROM", 0, &path, params,
                                       &why), HR_PARSE_OK);
    CU_ASSERT_EQUAL(params->nelts, HR_MAX_PARAMS);
    CU_ASSERT_STRING_EQUAL(APR_ARRAY_IDX(params, 31, hr_param_value).value,
                           "31");
    params->nelts = 0;
    args = apr_pstrcat(pool, args, " ONEMORE", NULL);
    CU_ASSERT_EQUAL(hr_parse_mail_rcpt(pool, args, "FROM", 0, &path, params,
                                       &why), HR_PARSE_BAD_PARAM);
    CU_ASSERT_EQUAL(params->nelts, 0);
}

static void test_status_reply(void)
{
    int code;
    const char *enhanced;

    hr_parse_status_reply(HR_PARSE_DUP_PARAM, 0, &code, &enhanced);
    CU_ASSERT_EQUAL(code, 555);
    CU_ASSERT_STRING_EQUAL(enhanced, "5.5.4");
    hr_parse_status_reply(HR_PARSE_BAD_ADDRESS, 0, &code, &enhanced);
    CU_ASSERT_EQUAL(code, 501);
    CU_ASSERT_STRING_EQUAL(enhanced, "5.1.7");
    hr_parse_status_reply(HR_PARSE_TOO_LONG, 1, &code, &enhanced);
    CU_ASSERT_EQUAL(code, 501);
    CU_ASSERT_STRING_EQUAL(enhanced, "5.1.3");
    hr_parse_status_reply(HR_PARSE_SYNTAX, 1, &code, &enhanced);
    CU_ASSERT_EQUAL(code, 501);
    CU_ASSERT_STRING_EQUAL(enhanced, "5.5.4");
    hr_parse_status_reply(HR_PARSE_BAD_PARAM, 0, &code, &enhanced);
    CU_ASSERT_EQUAL(code, 501);
}

/* ------------------------------------------------------------- mailbox */

typedef struct {
    const char *text;
    int flags;
    int status;
    const char *address;
    const char *domain;
} mailbox_case;

static const mailbox_case mailbox_cases[] = {
    { "user@example.com", 0, OK, "user@example.com", "example.com" },
    { "<user@example.com>", 0, OK, "user@example.com", "example.com" },
    { "\"john doe\"@example.com", 0, OK, "\"john doe\"@example.com",
      "example.com" },
    { "user@[192.0.2.1]", 0, OK, "user@[192.0.2.1]", "[192.0.2.1]" },
    { "user", 0, BAD, NULL, NULL },
    { "user", HR_PATH_LOCAL_ONLY, OK, "user", "" },
    { "\"john doe\"", HR_PATH_LOCAL_ONLY, OK, "\"john doe\"", "" },
    { "postmaster", HR_PATH_ALLOW_POSTMASTER, OK, "postmaster", "" },
    { "<postmaster>", HR_PATH_ALLOW_POSTMASTER, OK, "postmaster", "" },
    { "postmaster", 0, BAD, NULL, NULL },
    { "<>", 0, BAD, NULL, NULL },
    { "<>", HR_PATH_ALLOW_NULL, OK, "", "" },
    { "user@example.com x", 0, BAD, NULL, NULL },
    { "user@example.com>", 0, BAD, NULL, NULL },
    { "John Smith", HR_PATH_LOCAL_ONLY, BAD, NULL, NULL },
    { "", 0, BAD, NULL, NULL },
    { "{A64}@{D189}", 0, OK, "{A64}@{D189}", "{D189}" },
    { "{A64}@{D190}", 0, LONG, NULL, NULL },
    { "{A65}@example.com", 0, LONG, NULL, NULL },
};

static void test_mailbox_table(void)
{
    apr_size_t i;

    for (i = 0; i < sizeof(mailbox_cases) / sizeof(mailbox_cases[0]); i++) {
        const mailbox_case *c = &mailbox_cases[i];
        const char *why = NULL;
        hr_path path;
        int st = hr_parse_mailbox(pool, expand(c->text), c->flags, &path,
                                  &why);
        int ok = st == c->status;

        if (ok && st == HR_PARSE_OK) {
            ok = strcmp(path.address, expand(c->address)) == 0
                 && strcmp(path.domain, expand(c->domain)) == 0;
        }
        else if (ok) {
            ok = why != NULL;
        }
        if (!ok) {
            fprintf(stderr, "\n  mailbox row %lu '%s': status %d want %d",
                    (unsigned long)i, c->text, st, c->status);
        }
        CU_ASSERT_TRUE(ok);
    }
}

/* -------------------------------------------------------------- domain */

typedef struct {
    const char *text;
    int valid;
} bool_case;

static const bool_case domain_cases[] = {
    { "example.com", 1 },
    { "mx1.example.com", 1 },
    { "a", 1 },
    { "localhost", 1 },
    { "a-b.c", 1 },
    { "a--b.c", 1 },
    { "1.2.3.4", 1 },
    { "EXAMPLE.COM", 1 },
    { "-a.com", 0 },
    { "a-.com", 0 },
    { "a..com", 0 },
    { "a.com.", 0 },
    { ".a.com", 0 },
    { "", 0 },
    { ".", 0 },
    { "a_b.com", 0 },
    { "a b", 0 },
    { "[192.0.2.1]", 0 },
    { "m\xc3\xbcller.de", 0 },
    { "{A63}.com", 1 },
    { "{A64}.com", 0 },
    { "{D255}", 1 },
    { "{D256}", 0 },
};

static void test_domain_table(void)
{
    apr_size_t i;

    for (i = 0; i < sizeof(domain_cases) / sizeof(domain_cases[0]); i++) {
        int got = hr_parse_domain(expand(domain_cases[i].text));
        if (got != domain_cases[i].valid) {
            fprintf(stderr, "\n  domain '%s': %d", domain_cases[i].text, got);
        }
        CU_ASSERT_EQUAL(got, domain_cases[i].valid);
    }
}

/* ------------------------------------------------------------- command */

typedef struct {
    const char *line;
    int status;
    const char *verb;
    const char *args;
} command_case;

static const command_case command_cases[] = {
    { "MAIL FROM:<a@b.c>", OK, "MAIL", "FROM:<a@b.c>" },
    { "mail from:<a@b.c> SIZE=1", OK, "MAIL", "from:<a@b.c> SIZE=1" },
    { "Rcpt TO:<a@b.c>", OK, "RCPT", "TO:<a@b.c>" },
    { "QUIT", OK, "QUIT", "" },
    { "QUIT ", OK, "QUIT", "" },
    { "NOOP  x", OK, "NOOP", " x" },
    { "EHLO mx.example.org", OK, "EHLO", "mx.example.org" },
    { "STARTTLS", OK, "STARTTLS", "" },
    { "X-FOO bar", OK, "X-FOO", "bar" },
    { "BDAT 100 LAST", OK, "BDAT", "100 LAST" },
    { "ABCDEFGHIJKLMNOPQRSTUVWXYZABCDEF", OK,
      "ABCDEFGHIJKLMNOPQRSTUVWXYZABCDEF", "" },
    { "ABCDEFGHIJKLMNOPQRSTUVWXYZABCDEFG", SYN, NULL, NULL },
    { "", SYN, NULL, NULL },
    { " MAIL FROM:<a@b.c>", SYN, NULL, NULL },
    { "MAIL:", SYN, NULL, NULL },
    { "8BIT", SYN, NULL, NULL },
    { "HELO\tx", SYN, NULL, NULL },
    { "-X", SYN, NULL, NULL },
    { "D\xc3\xa4TA", SYN, NULL, NULL },
};

static void test_command_table(void)
{
    apr_size_t i;

    for (i = 0; i < sizeof(command_cases) / sizeof(command_cases[0]); i++) {
        const command_case *c = &command_cases[i];
        const char *verb = "x", *args = "x";
        int st = hr_parse_command(pool, c->line, &verb, &args);
        int ok = st == c->status;

        if (ok && st == HR_PARSE_OK) {
            ok = strcmp(verb, c->verb) == 0 && strcmp(args, c->args) == 0;
        }
        else if (ok) {
            ok = verb == NULL && args == NULL;
        }
        if (!ok) {
            fprintf(stderr, "\n  command '%s': %d", c->line, st);
        }
        CU_ASSERT_TRUE(ok);
    }
}

/* ---------------------------------------------------------------- FQDN */

static const bool_case fqdn_cases[] = {
    { "mx.example.org", 1 },
    { "mx.example.org.", 1 },
    { "example.com", 1 },
    { "a.b", 1 },
    { "EXAMPLE.COM", 1 },
    { "m-x.example.com", 1 },
    { "123.example.com", 1 },
    { "host.1a", 1 },
    { "xn--mller-kva.de", 1 },
    { "localhost", 0 },
    { "localhost.", 0 },
    { "User", 0 },
    { "mail", 0 },
    { "3f2a9c1b7d0e", 0 },
    { "", 0 },
    { ".", 0 },
    { ".example.com", 0 },
    { "example..com", 0 },
    { "example.com..", 0 },
    { "-mx.example.com", 0 },
    { "mx-.example.com", 0 },
    { "mx.-example.com", 0 },
    { "host.example.com-", 0 },
    { "mx_1.example.com", 0 },
    { "_dmarc.example.com", 0 },
    { "192.0.2.1", 0 },
    { "host.123", 0 },
    { "host.123.", 0 },
    { "m\xc3\xbcller.de", 0 },
    { "a b.com", 0 },
    { "[192.0.2.1]", 0 },
    { "{A63}.com", 1 },
    { "{A64}.com", 0 },
    { "mx.{A63}", 1 },
    { "mx.{A64}", 0 },
    { "{D253}", 1 },
    { "{D254}", 0 },
    { "{D253}.", 1 },
    { "{D254}.", 0 },
};

static void test_fqdn_table(void)
{
    apr_size_t i;

    for (i = 0; i < sizeof(fqdn_cases) / sizeof(fqdn_cases[0]); i++) {
        int got = hr_is_fqdn(expand(fqdn_cases[i].text));
        if (got != fqdn_cases[i].valid) {
            fprintf(stderr, "\n  fqdn '%s': %d", fqdn_cases[i].text, got);
        }
        CU_ASSERT_EQUAL(got, fqdn_cases[i].valid);
    }
    CU_ASSERT_FALSE(hr_is_fqdn(NULL));
}

/* ----------------------------------------------------- address literals */

static const bool_case literal_cases[] = {
    { "[192.0.2.1]", 1 },
    { "[0.0.0.0]", 1 },
    { "[255.255.255.255]", 1 },
    { "[IPv6:2001:db8::1]", 1 },
    { "[ipv6:2001:DB8::1]", 1 },
    { "[IPv6:::1]", 1 },
    { "[IPv6:::]", 1 },
    { "[IPv6:::ffff:192.0.2.1]", 1 },
    { "[IPv6:2001:db8:0:0:0:0:0:1]", 1 },
    { "[x-tag:content]", 1 },     /* General-address-literal syntax */
    { "[x-tag:a>b]", 1 },
    { "[256.1.1.1]", 0 },
    { "[1.2.3]", 0 },
    { "[1.2.3.4.5]", 0 },
    { "[1.2.3.a]", 0 },
    { "[ 192.0.2.1]", 0 },
    { "[192.0.2.1 ]", 0 },
    { "[IPv6:2001:db8::1::2]", 0 },
    { "[IPv6:2001:db8:1:2:3:4:5:6:7]", 0 },
    { "[IPv6:12345::]", 0 },
    { "[IPv6:]", 0 },
    { "[IPv6:fe80::1%eth0]", 0 },
    { "[IPv6:192.0.2.1]", 0 },
    { "[x-tag:]", 0 },
    { "[x-tag-:a]", 0 },
    { "[x_tag:a]", 0 },
    { "[:a]", 0 },
    { "[tag:a[b]", 0 },
    { "[tag:a\\b]", 0 },
    { "[tag:a b]", 0 },
    { "[]", 0 },
    { "[", 0 },
    { "", 0 },
    { "192.0.2.1", 0 },
    { "[192.0.2.1", 0 },
    { "192.0.2.1]", 0 },
    { "[[192.0.2.1]]", 0 },
};

static void test_literal_table(void)
{
    apr_size_t i;

    for (i = 0; i < sizeof(literal_cases) / sizeof(literal_cases[0]); i++) {
        int got = hr_is_address_literal(literal_cases[i].text);
        if (got != literal_cases[i].valid) {
            fprintf(stderr, "\n  literal '%s': %d", literal_cases[i].text,
                    got);
        }
        CU_ASSERT_EQUAL(got, literal_cases[i].valid);
    }
    CU_ASSERT_FALSE(hr_is_address_literal(NULL));
    CU_ASSERT_FALSE(hr_is_address_literal(
        expand("[x:{A300}]")));
}

/* --------------------------------------------------------------- xtext */

typedef struct {
    const char *xtext;
    const char *decoded;   /* NULL: malformed */
} xtext_case;

static const xtext_case xtext_cases[] = {
    { "", "" },
    { "abc", "abc" },
    { "a+2Bb", "a+b" },
    { "+2B+3D", "+=" },
    { "+41", "A" },
    { "QQ314159", "QQ314159" },
    { "!~", "!~" },
    { "a+C3+A9", "a\xc3\xa9" },
    { "rfc822;user+2Bext@example.com", "rfc822;user+ext@example.com" },
    { "a+20b", "a b" },
    { "a+2b", NULL },
    { "a+2", NULL },
    { "a+", NULL },
    { "+", NULL },
    { "+G0", NULL },
    { "+00", NULL },
    { "a=b", NULL },
    { "a b", NULL },
    { "a\tb", NULL },
    { "a\x7f", NULL },
    { "\xc3\xa9", NULL },
};

static void test_xtext_table(void)
{
    apr_size_t i;

    for (i = 0; i < sizeof(xtext_cases) / sizeof(xtext_cases[0]); i++) {
        const xtext_case *c = &xtext_cases[i];
        const char *got = hr_xtext_decode(pool, c->xtext);
        int ok = c->decoded ? (got && strcmp(got, c->decoded) == 0)
                            : got == NULL;

        ok = ok && hr_xtext_valid(c->xtext) == (c->decoded != NULL);
        if (!ok) {
            fprintf(stderr, "\n  xtext '%s': '%s'", c->xtext,
                    got ? got : "(null)");
        }
        CU_ASSERT_TRUE(ok);
    }
    CU_ASSERT_FALSE(hr_xtext_valid(NULL));
}

/* --------------------------------------------------------------- UTF-8 */

static void test_utf8(void)
{
    CU_ASSERT_TRUE(hr_utf8_valid("", 0));
    CU_ASSERT_TRUE(hr_utf8_valid("plain", 5));
    CU_ASSERT_TRUE(hr_utf8_valid("\xc3\xa9", 2));
    CU_ASSERT_TRUE(hr_utf8_valid("\xe2\x82\xac", 3));
    CU_ASSERT_TRUE(hr_utf8_valid("\xf0\x9f\x93\xa7", 4));
    CU_ASSERT_TRUE(hr_utf8_valid("\xf4\x8f\xbf\xbf", 4));  /* U+10FFFF */
    CU_ASSERT_TRUE(hr_utf8_valid("\xed\x9f\xbf", 3));      /* U+D7FF */
    CU_ASSERT_FALSE(hr_utf8_valid("\xc3", 1));
    CU_ASSERT_FALSE(hr_utf8_valid("\xe2\x82", 2));
    CU_ASSERT_FALSE(hr_utf8_valid("\xe2\x82\xac", 2));     /* cut by len */
    CU_ASSERT_FALSE(hr_utf8_valid("\xc1\xbf", 2));         /* overlong */
    CU_ASSERT_FALSE(hr_utf8_valid("\xe0\x9f\xbf", 3));     /* overlong */
    CU_ASSERT_FALSE(hr_utf8_valid("\xf0\x8f\xbf\xbf", 4)); /* overlong */
    CU_ASSERT_FALSE(hr_utf8_valid("\xed\xa0\x80", 3));     /* surrogate */
    CU_ASSERT_FALSE(hr_utf8_valid("\xf4\x90\x80\x80", 4)); /* > 10FFFF */
    CU_ASSERT_FALSE(hr_utf8_valid("\xf5\x80\x80\x80", 4));
    CU_ASSERT_FALSE(hr_utf8_valid("\x80", 1));
    CU_ASSERT_FALSE(hr_utf8_valid("\xc3\x28", 2));
    CU_ASSERT_FALSE(hr_utf8_valid("\xff", 1));
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
    suite = CU_add_suite("smtp_parse", NULL, NULL);
    CU_add_test(suite, "length macros", test_expand);
    CU_add_test(suite, "MAIL/RCPT table", test_mail_rcpt_table);
    CU_add_test(suite, "MAIL/RCPT flags", test_mail_rcpt_flags);
    CU_add_test(suite, "MAIL/RCPT parameter count",
                test_mail_rcpt_param_count);
    CU_add_test(suite, "status replies", test_status_reply);
    CU_add_test(suite, "mailbox table", test_mailbox_table);
    CU_add_test(suite, "domain table", test_domain_table);
    CU_add_test(suite, "command split table", test_command_table);
    suite = CU_add_suite("util", NULL, NULL);
    CU_add_test(suite, "FQDN table", test_fqdn_table);
    CU_add_test(suite, "address literal table", test_literal_table);
    CU_add_test(suite, "xtext table", test_xtext_table);
    CU_add_test(suite, "UTF-8", test_utf8);
    CU_basic_set_mode(CU_BRM_VERBOSE);
    CU_basic_run_tests();
    failed = CU_get_number_of_failures() != 0 || CU_get_error();
    CU_cleanup_registry();
    apr_pool_destroy(pool);
    apr_terminate();
    return failed;
}
