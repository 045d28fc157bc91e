/*
 * test_dot_reader.c -- tests of server/dot_reader.c, the DATA body reader.
 *
 * Each row is a raw input (what follows "354"), a bare-newline policy and a
 * size limit, with the body that must be emitted, how much input must be
 * consumed and the flags that must be set.  Every row is fed whole, then
 * split in two at every possible offset, then one octet at a time, then
 * in random chunk sizes: the result must be the same every time (split
 * CRLFs, a "." at a chunk boundary, ".\r" held across calls ...).
 *
 * Run: make test/unit/test_dot_reader && ./test/unit/test_dot_reader
 */
#include <stdio.h>
#include <string.h>
#include <CUnit/Basic.h>
#include <apr_general.h>
#include <apr_strings.h>

#include "dot_reader.h"

static apr_pool_t *pool;

/* ------------------------------------------------------------ the sink */

typedef struct {
    char *data;
    apr_size_t len, cap;
    int empty_calls;       /* emit() called with len 0 (must not happen) */
} sink;

static void sink_emit(void *baton, const char *data, apr_size_t len)
{
    sink *k = baton;

    if (len == 0) {
        k->empty_calls++;
        return;
    }
    if (k->len + len > k->cap) {
        apr_size_t cap = (k->len + len) * 2 + 64;
        char *grown = apr_palloc(pool, cap);
        if (k->len) {
            memcpy(grown, k->data, k->len);
        }
        k->data = grown;
        k->cap = cap;
    }
    memcpy(k->data + k->len, data, len);
    k->len += len;
}

/* ------------------------------------------------------------ the rows */

#define ALL (-1L)          /* consumed everything, not done */
#define REJ HR_BARE_REJECT
#define NORM HR_BARE_NORMALIZE

typedef struct {
    const char *name;
    const char *input;
    apr_size_t input_len;
    hr_bare_policy policy;
    apr_off_t max_size;    /* 0: unlimited */
    const char *body;
    apr_size_t body_len;
    long consumed;         /* octets, or ALL */
    int too_big, bare_lf, bare_cr;
    apr_off_t size;        /* -1: body_len */
} dot_case;

/* sizeof so that rows may hold NUL octets */
#define IN(s) s, sizeof(s) - 1
#define OUT(s) s, sizeof(s) - 1
/* D(name, input, policy, max, body, consumed, too_big, lf, cr, size) */
#define D(n, in, pol, max, body, used, big, lf, cr, size) \
    { n, IN(in), pol, max, OUT(body), used, big, lf, cr, size }
/* a plain row: no flags, unlimited */
#define P(n, in, body, used) D(n, in, REJ, 0, body, used, 0, 0, 0, -1)

static const dot_case cases[] = {
    P("simple", "Hello\r\n.\r\n", "Hello\r\n", 10),
    P("headers and body", "Subject: x\r\nFrom: <a@b.c>\r\n\r\nbody\r\n.\r\n",
      "Subject: x\r\nFrom: <a@b.c>\r\n\r\nbody\r\n", 38),
    /* RFC 5321 §4.1.1.4: the DATA line's CRLF counts */
    P("empty message", ".\r\n", "", 3),
    P("empty message, pipelined QUIT", ".\r\nQUIT\r\n", "", 3),
    P("pipelined commands stay unread",
      "a\r\n.\r\nMAIL FROM:<a@b.c>\r\nRCPT TO:<d@e.f>\r\n", "a\r\n", 6),
    P("next message's dot stays unread", "a\r\n.\r\n.\r\n", "a\r\n", 6),
    /* RFC 5321 §4.5.2: dot-unstuffing */
    P("stuffed dot", "a\r\n..b\r\n.\r\n", "a\r\n.b\r\n", 11),
    P("stuffed lone dot", "..\r\n.\r\n", ".\r\n", 7),
    P("three dots", "...\r\n.\r\n", "..\r\n", 8),
    P("single dot removed", ".x\r\n.\r\n", "x\r\n", 7),
    P("dot then space", ". \r\n.\r\n", " \r\n", 7),
    P("two stuffed lines", "..\r\n..\r\n.\r\n", ".\r\n.\r\n", 11),
    P("stuffed line before end", "x\r\n..\r\n.\r\n", "x\r\n.\r\n", 10),
    P("dots inside lines", "a.b\r\nc.\r\n.\r\n", "a.b\r\nc.\r\n", 12),
    P("dot before CRLF mid-line", "abc.\r\n.\r\n", "abc.\r\n", 9),
    P("empty line", "\r\n.\r\n", "\r\n", 5),
    P("two empty lines", "\r\n\r\n.\r\n", "\r\n\r\n", 7),
    P("8-bit and NUL octets", "a\0b\xff\r\n.\r\n", "a\0b\xff\r\n", 9),
    /* not finished: everything consumed, held octets not emitted */
    P("unterminated, dot held", "abc\r\n.", "abc\r\n", ALL),
    P("unterminated, dot CR held", "abc\r\n.\r", "abc\r\n", ALL),
    P("unterminated, CR", "abc\r", "abc\r", ALL),
    P("unterminated, no newline", "abc", "abc", ALL),
    P("unterminated, CRLF dot dot", "abc\r\n..", "abc\r\n.", ALL),
    /* bare LF and bare CR: flagged or normalised */
    D("bare LF, reject", "a\nb\r\n.\r\n", REJ, 0, "a\nb\r\n", 8, 0, 1, 0, -1),
    D("bare LF, normalize", "a\nb\r\n.\r\n", NORM, 0, "a\r\nb\r\n", 8, 0, 1,
      0, -1),
    D("bare CR, reject", "a\rb\r\n.\r\n", REJ, 0, "a\rb\r\n", 8, 0, 0, 1, -1),
    D("bare CR, normalize", "a\rb\r\n.\r\n", NORM, 0, "a\r\nb\r\n", 8, 0, 0,
      1, -1),
    D("CR CR LF, reject", "a\r\r\n.\r\n", REJ, 0, "a\r\r\n", 7, 0, 0, 1, -1),
    D("CR CR LF, normalize", "a\r\r\n.\r\n", NORM, 0, "a\r\n\r\n", 7, 0, 0, 1,
      -1),
    D("LF LF, normalize", "a\n\nb\r\n.\r\n", NORM, 0, "a\r\n\r\nb\r\n", 9, 0,
      1, 0, -1),
    D("bare LF first, normalize", "\nb\r\n.\r\n", NORM, 0, "\r\nb\r\n", 7, 0,
      1, 0, -1),
    /* SMTP smuggling: none of these forms ends the data */
    D("LF.LF, reject", "a\n.\nMAIL FROM:<x@y.z>\r\n.\r\n", REJ, 0,
      "a\n.\nMAIL FROM:<x@y.z>\r\n", 26, 0, 1, 0, -1),
    D("LF.LF, normalize", "a\n.\nMAIL FROM:<x@y.z>\r\n.\r\n", NORM, 0,
      "a\r\n.\r\nMAIL FROM:<x@y.z>\r\n", 26, 0, 1, 0, -1),
    D("CRLF.LF, reject", "a\r\n.\nRCPT TO:<x@y.z>\r\n.\r\n", REJ, 0,
      "a\r\n\nRCPT TO:<x@y.z>\r\n", 25, 0, 1, 0, -1),
    D("CRLF.LF, normalize", "a\r\n.\nRCPT TO:<x@y.z>\r\n.\r\n", NORM, 0,
      "a\r\n\r\nRCPT TO:<x@y.z>\r\n", 25, 0, 1, 0, -1),
    D("LF.CRLF, reject", "a\n.\r\nDATA\r\n.\r\n", REJ, 0, "a\n.\r\nDATA\r\n",
      14, 0, 1, 0, -1),
    D("LF.CRLF, normalize", "a\n.\r\nDATA\r\n.\r\n", NORM, 0,
      "a\r\n.\r\nDATA\r\n", 14, 0, 1, 0, -1),
    D("CR.CR, reject", "a\r.\rQUIT\r\n.\r\n", REJ, 0, "a\r.\rQUIT\r\n", 13,
      0, 0, 1, -1),
    D("CR.CR, normalize", "a\r.\rQUIT\r\n.\r\n", NORM, 0,
      "a\r\n.\r\nQUIT\r\n", 13, 0, 0, 1, -1),
    D("CR.CRLF, reject", "a\r.\r\nQUIT\r\n.\r\n", REJ, 0,
      "a\r.\r\nQUIT\r\n", 14, 0, 0, 1, -1),
    D("CRLF.CR then text, reject", "a\r\n.\rb\r\n.\r\n", REJ, 0,
      "a\r\n\rb\r\n", 11, 0, 0, 1, -1),
    D("CRLF.CR then text, normalize", "a\r\n.\rb\r\n.\r\n", NORM, 0,
      "a\r\n\r\nb\r\n", 11, 0, 0, 1, -1),
    D("CRLF.CR.CRLF, reject", "a\r\n.\r.\r\n.\r\n", REJ, 0, "a\r\n\r.\r\n",
      11, 0, 0, 1, -1),
    D("CRLF.CR.CRLF, normalize", "a\r\n.\r.\r\n.\r\n", NORM, 0,
      "a\r\n\r\n.\r\n", 11, 0, 0, 1, -1),
    D("CRLF.CRCRLF, reject", "a\r\n.\r\r\n.\r\n", REJ, 0, "a\r\n\r\r\n", 10,
      0, 0, 1, -1),
    D("LF.LF at the start", "\n.\n.\r\n.\r\n", REJ, 0, "\n.\n.\r\n", 9, 0, 1,
      0, -1),
    D("CRLF LF.CRLF", "\r\n\n.\r\n.\r\n", REJ, 0, "\r\n\n.\r\n", 9, 0, 1, 0,
      -1),
    D("dot LF at the start", ".\nX\r\n.\r\n", REJ, 0, "\nX\r\n", 8, 0, 1, 0,
      -1),
    D("LF.LF unterminated", "a\n.\n", NORM, 0, "a\r\n.\r\n", ALL, 0, 1, 0,
      -1),
    /* RFC 5321 §4.5.3.1.7: over the limit, keep reading to the end */
    D("oversize", "0123456789ABCDEF\r\n.\r\nQUIT\r\n", REJ, 10, "0123456789",
      21, 1, 0, 0, 18),
    D("exactly the limit", "Hello\r\n.\r\n", REJ, 7, "Hello\r\n", 10, 0, 0,
      0, -1),
    D("one over the limit", "Hello\r\n.\r\n", REJ, 6, "Hello\r", 10, 1, 0, 0,
      7),
    D("oversize, stuffed", "..........\r\n.\r\n", REJ, 5, ".....", 15, 1, 0,
      0, 11),
    D("oversize, normalized LF counts", "ab\ncd\r\n.\r\n", NORM, 4, "ab\r\n",
      10, 1, 1, 0, 8),
    D("oversize, normalized LF split", "abc\nd\r\n.\r\n", NORM, 4, "abc\r",
      10, 1, 1, 0, 8),
    D("oversize, pipelined", "xxxxxxxxxxxxxxxxxxxx\r\n.\r\nRSET\r\n", REJ,
      1, "x", 25, 1, 0, 0, 22),
};

#define NCASES (sizeof(cases) / sizeof(cases[0]))

/* --------------------------------------------------------------- runs */

typedef struct {
    sink out;
    long consumed;         /* ALL when not done */
    int done;
    hr_dot_reader r;
    int bad_return;        /* a feed returned less than given, not done */
    int fed_after_done;    /* a feed after done did not return 0 */
} result;

/* Feed @c's input in pieces: the length of each is asked from @piece. */
static void run(const dot_case *c, apr_size_t (*piece)(void *, apr_size_t),
                void *state, result *res)
{
    apr_size_t off = 0, k, used;
    int done = 0;

    memset(res, 0, sizeof(*res));
    hr_dot_reader_init(&res->r, c->max_size, c->policy);
    res->consumed = ALL;
    while (off < c->input_len) {
        k = piece(state, c->input_len - off);
        used = hr_dot_reader_feed(&res->r, c->input + off, k, &done,
                                  sink_emit, &res->out);
        if (done) {
            res->done = 1;
            res->consumed = (long)(off + used);
            if (used > k) {
                res->bad_return = 1;
            }
            /* what follows is not ours any more */
            used = hr_dot_reader_feed(&res->r, c->input + off + used,
                                      c->input_len - off - used, &done,
                                      sink_emit, &res->out);
            if (used != 0 || !done) {
                res->fed_after_done = 1;
            }
            return;
        }
        if (used != k) {
            res->bad_return = 1;
        }
        off += k;
    }
}

static apr_size_t piece_whole(void *state, apr_size_t remaining)
{
    return remaining;
}

static apr_size_t piece_one(void *state, apr_size_t remaining)
{
    return remaining ? 1 : 0;
}

/* First piece of *state octets (possibly 0), then the rest. */
static apr_size_t piece_split(void *state, apr_size_t remaining)
{
    apr_size_t *first = state, k;

    if (*first == (apr_size_t)-1) {
        return remaining;
    }
    k = *first < remaining ? *first : remaining;
    *first = (apr_size_t)-1;
    return k;
}

/* Random sizes from 0 (an empty read) to 9 octets; xorshift, seeded. */
static apr_size_t piece_random(void *state, apr_size_t remaining)
{
    apr_uint32_t *x = state;
    apr_size_t k;

    *x ^= *x << 13;
    *x ^= *x >> 17;
    *x ^= *x << 5;
    k = *x % 10;
    return k < remaining ? k : remaining;
}

/* Does @res match what row @c expects?  Prints the difference. */
static int check(const dot_case *c, const result *res, const char *how)
{
    int want_done = c->consumed != ALL;
    apr_off_t want_size = c->size >= 0 ? c->size : (apr_off_t)c->body_len;
    int want_bad = c->policy == HR_BARE_REJECT && (c->bare_lf || c->bare_cr);
    int ok = res->out.len == c->body_len
             && (c->body_len == 0
                 || memcmp(res->out.data, c->body, c->body_len) == 0)
             && res->consumed == c->consumed && res->done == want_done
             && res->r.done == want_done
             && res->r.too_big == c->too_big
             && res->r.bare_lf_seen == c->bare_lf
             && res->r.bare_cr_seen == c->bare_cr
             && res->r.bad_newline == want_bad
             && res->r.size == want_size
             && !res->bad_return && !res->fed_after_done
             && res->out.empty_calls == 0;

    if (!ok) {
        fprintf(stderr, "\n  %s (%s): emitted %lu octets '%.*s', consumed "
                "%ld, done %d, too_big %d, lf %d, cr %d, bad %d, size %ld",
                c->name, how, (unsigned long)res->out.len,
                (int)res->out.len, res->out.data ? res->out.data : "",
                res->consumed, res->done, res->r.too_big,
                res->r.bare_lf_seen, res->r.bare_cr_seen,
                res->r.bad_newline, (long)res->r.size);
    }
    return ok;
}

static void test_whole(void)
{
    apr_size_t i;
    result res;

    for (i = 0; i < NCASES; i++) {
        run(&cases[i], piece_whole, NULL, &res);
        CU_ASSERT_TRUE(check(&cases[i], &res, "whole"));
    }
}

static void test_every_split(void)
{
    apr_size_t i, at;
    result res;
    char how[32];

    for (i = 0; i < NCASES; i++) {
        for (at = 0; at <= cases[i].input_len; at++) {
            apr_size_t first = at;
            run(&cases[i], piece_split, &first, &res);
            snprintf(how, sizeof(how), "split at %lu", (unsigned long)at);
            CU_ASSERT_TRUE(check(&cases[i], &res, how));
        }
    }
}

static void test_one_octet(void)
{
    apr_size_t i;
    result res;

    for (i = 0; i < NCASES; i++) {
        run(&cases[i], piece_one, NULL, &res);
        CU_ASSERT_TRUE(check(&cases[i], &res, "1-octet pieces"));
    }
}

static void test_random_chunks(void)
{
    apr_uint32_t seed = 2463534242u;
    apr_size_t i;
    int round;
    result res;

    for (i = 0; i < NCASES; i++) {
        for (round = 0; round < 50; round++) {
            run(&cases[i], piece_random, &seed, &res);
            CU_ASSERT_TRUE(check(&cases[i], &res, "random chunks"));
        }
    }
}

/* Octets are emitted as soon as they arrive: only a "." or ".\r" at the
 * start of a line waits for the next octet. */
static void test_streaming(void)
{
    hr_dot_reader r;
    sink out = { 0 };
    int done;

    hr_dot_reader_init(&r, 0, HR_BARE_REJECT);
    CU_ASSERT_EQUAL(hr_dot_reader_feed(&r, "Hello wor", 9, &done, sink_emit,
                                       &out), 9);
    CU_ASSERT_FALSE(done);
    CU_ASSERT_EQUAL(out.len, 9);
    CU_ASSERT_EQUAL(hr_dot_reader_feed(&r, "ld\r\n.", 5, &done, sink_emit,
                                       &out), 5);
    CU_ASSERT_EQUAL(out.len, 13);   /* the dot is held */
    CU_ASSERT_EQUAL(hr_dot_reader_feed(&r, "\r", 1, &done, sink_emit, &out),
                    1);
    CU_ASSERT_EQUAL(out.len, 13);
    CU_ASSERT_FALSE(done);
    CU_ASSERT_EQUAL(hr_dot_reader_feed(&r, "\nNOOP\r\n", 7, &done,
                                       sink_emit, &out), 1);
    CU_ASSERT_TRUE(done);
    CU_ASSERT_EQUAL(memcmp(out.data, "Hello world\r\n", 13), 0);
    CU_ASSERT_EQUAL(hr_dot_reader_feed(&r, "NOOP\r\n", 6, &done, sink_emit,
                                       &out), 0);
    CU_ASSERT_TRUE(done);
    CU_ASSERT_EQUAL(out.len, 13);
}

/* A line of 4 MiB in 4 KiB reads: every read is emitted whole, at once. */
static void test_long_line(void)
{
    static char chunk[4096];
    hr_dot_reader r;
    sink out = { 0 };
    apr_size_t i;
    int done, streamed = 1;

    memset(chunk, 'x', sizeof(chunk));
    hr_dot_reader_init(&r, 0, HR_BARE_NORMALIZE);
    for (i = 0; i < 1024; i++) {
        out.len = 0;            /* keep the sink small: count per read */
        hr_dot_reader_feed(&r, chunk, sizeof(chunk), &done, sink_emit, &out);
        streamed = streamed && out.len == sizeof(chunk) && !done;
    }
    CU_ASSERT_TRUE(streamed);
    CU_ASSERT_EQUAL(r.size, (apr_off_t)1024 * sizeof(chunk));
    CU_ASSERT_EQUAL(hr_dot_reader_feed(&r, "\r\n.\r\n", 5, &done, sink_emit,
                                       &out), 5);
    CU_ASSERT_TRUE(done);
    CU_ASSERT_EQUAL(r.size, (apr_off_t)1024 * sizeof(chunk) + 2);
    CU_ASSERT_FALSE(r.too_big);
}

/* init resets everything, so one reader serves many messages. */
static void test_reuse(void)
{
    hr_dot_reader r;
    sink out = { 0 };
    int done;

    hr_dot_reader_init(&r, 3, HR_BARE_REJECT);
    hr_dot_reader_feed(&r, "ab\ncdef\r\n.\r\n", 12, &done, sink_emit, &out);
    CU_ASSERT_TRUE(done && r.too_big && r.bad_newline && r.bare_lf_seen);
    hr_dot_reader_init(&r, 0, HR_BARE_REJECT);
    CU_ASSERT_FALSE(r.done || r.too_big || r.bad_newline || r.bare_lf_seen
                    || r.bare_cr_seen || r.size);
    out.len = 0;
    CU_ASSERT_EQUAL(hr_dot_reader_feed(&r, ".\r\n", 3, &done, sink_emit,
                                       &out), 3);
    CU_ASSERT_TRUE(done);
    CU_ASSERT_EQUAL(out.len, 0);
}

static void test_policy_names(void)
{
    CU_ASSERT_EQUAL(hr_bare_policy_from_name("normalize"), HR_BARE_NORMALIZE);
    CU_ASSERT_EQUAL(hr_bare_policy_from_name("Normalize"), HR_BARE_NORMALIZE);
    CU_ASSERT_EQUAL(hr_bare_policy_from_name("reject"), HR_BARE_REJECT);
    CU_ASSERT_EQUAL(hr_bare_policy_from_name(""), HR_BARE_REJECT);
    CU_ASSERT_EQUAL(hr_bare_policy_from_name(NULL), HR_BARE_REJECT);
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
    suite = CU_add_suite("dot_reader", NULL, NULL);
    CU_add_test(suite, "rows fed whole", test_whole);
    CU_add_test(suite, "rows split in two at every offset", test_every_split);
    CU_add_test(suite, "rows fed one octet at a time", test_one_octet);
    CU_add_test(suite, "rows fed in random chunks", test_random_chunks);
    CU_add_test(suite, "streaming, held dot", test_streaming);
    CU_add_test(suite, "4 MiB line", test_long_line);
    CU_add_test(suite, "reader reuse", test_reuse);
    CU_add_test(suite, "bare-newline policy names", test_policy_names);
    CU_basic_set_mode(CU_BRM_VERBOSE);
    CU_basic_run_tests();
    failed = CU_get_number_of_failures() != 0 || CU_get_error();
    CU_cleanup_registry();
    apr_pool_destroy(pool);
    apr_terminate();
    return failed;
}
