/*
 * test_spool.c -- CUnit tests of the envelope format (envelope.c), the
 * durable spool (spool.c) and `herald queue` (queue_cli.c).
 *
 * Every spool test works in its own folder under $TMPDIR (mkdtemp) and
 * removes it afterwards.  Run: make test/unit/test_spool &&
 * ./test/unit/test_spool
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <fcntl.h>

#include <apr_general.h>
#include <apr_strings.h>
#include <apr_file_io.h>
#include <apr_thread_proc.h>
#include <apr_hash.h>

#include <CUnit/Basic.h>

#include "envelope.h"
#include "spool.h"

static apr_pool_t *test_pool;

#define ID1 "0000018C2F3A4B5C-00003A41-00000001"
#define ID2 "0000018C2F3A4B5D-00003A41-00000002"

/* ------------------------------------------------------------ helpers */

static void add_param(apr_array_header_t *arr, const char *keyword,
                      const char *value)
{
    hr_param_value *pv = apr_array_push(arr);

    pv->keyword = keyword;
    pv->value = value;
}

/* Both NULL or equal strings. */
static int same(const char *a, const char *b)
{
    if (a == NULL || b == NULL) {
        return a == b;
    }
    return strcmp(a, b) == 0;
}

static int params_equal(const apr_array_header_t *a,
                        const apr_array_header_t *b)
{
    int i;

    if (a->nelts != b->nelts) {
        return 0;
    }
    for (i = 0; i < a->nelts; i++) {
        const hr_param_value *x = &APR_ARRAY_IDX(a, i, hr_param_value);
        const hr_param_value *y = &APR_ARRAY_IDX(b, i, hr_param_value);

        if (!same(x->keyword, y->keyword) || !same(x->value, y->value)) {
            return 0;
        }
    }
    return 1;
}

static int tables_equal(const apr_table_t *a, const apr_table_t *b)
{
    const apr_array_header_t *x = apr_table_elts(a);
    const apr_array_header_t *y = apr_table_elts(b);
    int i;

    if (x->nelts != y->nelts) {
        return 0;
    }
    for (i = 0; i < x->nelts; i++) {
        const apr_table_entry_t *ex = &APR_ARRAY_IDX(x, i, apr_table_entry_t);
        const apr_table_entry_t *ey = &APR_ARRAY_IDX(y, i, apr_table_entry_t);

        if (!same(ex->key, ey->key) || !same(ex->val, ey->val)) {
            return 0;
        }
    }
    return 1;
}

/* The first member in which the envelopes differ, or NULL. */
static const char *envelope_diff(const hr_envelope *a, const hr_envelope *b)
{
    int i;

    if (!same(a->id, b->id)) {
        return "id";
    }
    if (a->arrival != b->arrival) {
        return "arrival";
    }
    if (!same(a->listener, b->listener)) {
        return "listener";
    }
    if (!same(a->remote_ip, b->remote_ip)) {
        return "remote_ip";
    }
    if (!same(a->helo, b->helo)) {
        return "helo";
    }
    if (!same(a->authenticated_as, b->authenticated_as)) {
        return "auth";
    }
    if (!same(a->tls, b->tls)) {
        return "tls";
    }
    if (!same(a->sender, b->sender)) {
        return "sender";
    }
    if (!params_equal(a->mail_params, b->mail_params)) {
        return "mail_params";
    }
    if (!tables_equal(a->fields, b->fields)) {
        return "fields";
    }
    if (a->size != b->size) {
        return "size";
    }
    if (a->rcpts->nelts != b->rcpts->nelts) {
        return "rcpt count";
    }
    for (i = 0; i < a->rcpts->nelts; i++) {
        const hr_envelope_rcpt *x =
            &APR_ARRAY_IDX(a->rcpts, i, hr_envelope_rcpt);
        const hr_envelope_rcpt *y =
            &APR_ARRAY_IDX(b->rcpts, i, hr_envelope_rcpt);

        if (!same(x->address, y->address)) {
            return "rcpt address";
        }
        if (!params_equal(x->params, y->params)) {
            return "rcpt params";
        }
        if (!tables_equal(x->fields, y->fields)) {
            return "rcpt fields";
        }
    }
    return NULL;
}

/* The envelope with every nasty value the format must carry. */
static hr_envelope *nasty_envelope(apr_pool_t *p)
{
    hr_envelope *e = hr_envelope_make(p);
    hr_envelope_rcpt *r;

    e->id = ID1;
    e->arrival = APR_INT64_C(1733350000123456);
    e->listener = "smtp";
    e->remote_ip = "127.0.0.1";
    e->helo = "client example\r\n";
    e->authenticated_as = "user%name";
    e->tls = "TLSv1.3 TLS_AES_256_GCM_SHA384";
    e->sender = "";
    add_param(e->mail_params, "SIZE", "1234");
    add_param(e->mail_params, "SMTPUTF8", NULL);
    add_param(e->mail_params, "X=Y", "a=b");
    add_param(e->mail_params, "EMPTY", "");
    apr_table_add(e->fields, "dsn.ret", "FULL");
    apr_table_add(e->fields, "dsn.envid", "a b%c\x7f");
    apr_table_add(e->fields, "note", "");
    apr_table_add(e->fields, "greeting",
                  "Gr\xC3\xBC\xC3\x9F"
                  "e");
    r = hr_envelope_add_rcpt(p, e, "x@y.example");
    add_param(r->params, "NOTIFY", "SUCCESS,FAILURE");
    apr_table_add(r->fields, "dsn.notify", "SUCCESS,FAILURE");
    r = hr_envelope_add_rcpt(p, e, "\xC3\xBC@\xE4\xBE\x8B\xE3\x81\x88.jp");
    apr_table_add(r->fields, "comment", "\t\n");
    hr_envelope_add_rcpt(p, e, "postmaster");
    e->size = 1234;
    return e;
}

static const char nasty_text[] = "herald-envelope 1\n"
                                 "id " ID1 "\n"
                                 "arrival 1733350000123456\n"
                                 "listener smtp\n"
                                 "remote-ip 127.0.0.1\n"
                                 "helo client%20example%0D%0A\n"
                                 "auth user%25name\n"
                                 "tls TLSv1.3%20TLS_AES_256_GCM_SHA384\n"
                                 "sender\n"
                                 "mail-param SIZE=1234\n"
                                 "mail-param SMTPUTF8\n"
                                 "mail-param X%3DY=a=b\n"
                                 "mail-param EMPTY=\n"
                                 "field dsn.ret FULL\n"
                                 "field dsn.envid a%20b%25c%7F\n"
                                 "field note\n"
                                 "field greeting Gr\xC3\xBC\xC3\x9F"
                                 "e\n"
                                 "rcpt x@y.example\n"
                                 "rcpt-param NOTIFY=SUCCESS,FAILURE\n"
                                 "rcpt-field dsn.notify SUCCESS,FAILURE\n"
                                 "rcpt \xC3\xBC@\xE4\xBE\x8B\xE3\x81\x88.jp\n"
                                 "rcpt-field comment %09%0A\n"
                                 "rcpt postmaster\n"
                                 "size 1234\n"
                                 "end\n";

/* A fresh folder for one test. */
static const char *make_temp_dir(apr_pool_t *p)
{
    const char *base = getenv("TMPDIR");
    char *tmpl = apr_pstrcat(p, base && *base ? base : "/tmp",
                             "/herald-spool-XXXXXX", NULL);

    return mkdtemp(tmpl);
}

/* rm -rf @path */
static void remove_tree(apr_pool_t *p, const char *path)
{
    apr_dir_t *d;
    apr_finfo_t fi;

    if (apr_dir_open(&d, path, p) != APR_SUCCESS) {
        apr_file_remove(path, p);
        return;
    }
    while (apr_dir_read(&fi, APR_FINFO_NAME | APR_FINFO_TYPE, d) ==
           APR_SUCCESS) {
        const char *child;

        if (strcmp(fi.name, ".") == 0 || strcmp(fi.name, "..") == 0) {
            continue;
        }
        child = apr_pstrcat(p, path, "/", fi.name, NULL);
        if (fi.filetype == APR_DIR) {
            remove_tree(p, child);
        } else {
            apr_file_remove(child, p);
        }
    }
    apr_dir_close(d);
    apr_dir_remove(path, p);
}

static int compare_names(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The names in @dir, sorted, joined by ' ' ("" when empty). */
static const char *listing(apr_pool_t *p, const char *dir)
{
    apr_array_header_t *names = apr_array_make(p, 8, sizeof(const char *));
    apr_dir_t *d;
    apr_finfo_t fi;

    if (apr_dir_open(&d, dir, p) != APR_SUCCESS) {
        return "(missing)";
    }
    while (apr_dir_read(&fi, APR_FINFO_NAME, d) == APR_SUCCESS) {
        if (strcmp(fi.name, ".") != 0 && strcmp(fi.name, "..") != 0) {
            APR_ARRAY_PUSH(names, const char *) = apr_pstrdup(p, fi.name);
        }
    }
    apr_dir_close(d);
    qsort(names->elts, (size_t)names->nelts, sizeof(const char *),
          compare_names);
    return apr_array_pstrcat(p, names, ' ');
}

/* Whole content of @path ("(missing)" when it cannot be read). */
static const char *slurp(apr_pool_t *p, const char *path, apr_size_t *len)
{
    apr_file_t *f;
    apr_finfo_t fi;
    apr_size_t got = 0;
    char *buf;

    if (apr_file_open(&f, path, APR_FOPEN_READ, 0, p) != APR_SUCCESS) {
        return "(missing)";
    }
    apr_file_info_get(&fi, APR_FINFO_SIZE, f);
    buf = apr_palloc(p, (apr_size_t)fi.size + 1);
    apr_file_read_full(f, buf, (apr_size_t)fi.size, &got);
    apr_file_close(f);
    buf[got] = '\0';
    if (len != NULL) {
        *len = got;
    }
    return buf;
}

static void write_file(apr_pool_t *p, const char *path, const char *text)
{
    apr_file_t *f;

    CU_ASSERT_FATAL(
        apr_file_open(&f, path,
                      APR_FOPEN_WRITE | APR_FOPEN_CREATE | APR_FOPEN_TRUNCATE,
                      APR_FPROT_OS_DEFAULT, p) == APR_SUCCESS);
    apr_file_write_full(f, text, strlen(text), NULL);
    apr_file_close(f);
}

/* ----------------------------------------------------------- envelope */

static void test_serialize_golden(void)
{
    apr_pool_t *p;
    apr_size_t len;
    char *text;

    apr_pool_create(&p, test_pool);
    text = hr_envelope_serialize(p, nasty_envelope(p), &len);
    CU_ASSERT_STRING_EQUAL(text, nasty_text);
    CU_ASSERT_EQUAL(len, strlen(nasty_text));
    apr_pool_destroy(p);
}

/* Envelopes that must survive serialize -> parse unchanged. */
static hr_envelope *minimal_envelope(apr_pool_t *p)
{
    hr_envelope *e = hr_envelope_make(p);

    e->id = "A-1";
    return e;
}

static hr_envelope *every_octet_envelope(apr_pool_t *p)
{
    hr_envelope *e = hr_envelope_make(p);
    char all[256];
    int i;

    for (i = 1; i < 256; i++) {
        all[i - 1] = (char)i;
    }
    all[255] = '\0';
    e->id = ID2;
    e->arrival = APR_INT64_C(1);
    e->sender = apr_pstrdup(p, all);
    e->helo = "";
    e->listener = "%";
    add_param(e->mail_params, apr_pstrdup(p, all), apr_pstrdup(p, all));
    apr_table_add(e->fields, apr_pstrdup(p, all), apr_pstrdup(p, all));
    for (i = 0; i < 50; i++) {
        hr_envelope_rcpt *r = hr_envelope_add_rcpt(
            p, e, apr_psprintf(p, "r%d @ %s", i, all + 200));

        add_param(r->params, "ORCPT", apr_psprintf(p, "rfc822;r%d", i));
        add_param(r->params, "X", NULL);
        apr_table_add(r->fields, "k", i % 2 ? "" : "v v");
    }
    e->size = APR_INT64_C(9000000000);
    return e;
}

static void test_roundtrip(void)
{
    static hr_envelope *(*const makers[])(apr_pool_t *) = {
        nasty_envelope, minimal_envelope, every_octet_envelope};
    apr_size_t i;

    for (i = 0; i < sizeof(makers) / sizeof(makers[0]); i++) {
        apr_pool_t *p;
        hr_envelope *e, back;
        const char *why = NULL, *diff;
        apr_size_t len;
        char *text;

        apr_pool_create(&p, test_pool);
        e = makers[i](p);
        text = hr_envelope_serialize(p, e, &len);
        CU_ASSERT_EQUAL(strlen(text), len);
        CU_ASSERT_EQUAL_FATAL(hr_envelope_parse(p, text, len, &back, &why), 0);
        diff = envelope_diff(e, &back);
        if (diff != NULL) {
            fprintf(stderr, "\nround trip %d differs in %s\n", (int)i, diff);
        }
        CU_ASSERT_PTR_NULL(diff);
        /* And writing it again gives the same octets. */
        CU_ASSERT_STRING_EQUAL(hr_envelope_serialize(p, &back, NULL), text);
        apr_pool_destroy(p);
    }
}

#define MINIMAL "herald-envelope 1\nid A-1\narrival 5\nsender a@b\n"

/* Inputs the strict reader must refuse, with a part of the reason. */
static const struct {
    const char *text;
    apr_size_t len; /* 0: strlen(text) */
    const char *why;
} bad_envelopes[] = {
    {"", 0, "empty"},
    {MINIMAL "size 0\n", 0, "no \"end\""},
    {MINIMAL "size 0\nen", 0, "no end of line"},
    {MINIMAL "size 0\nend", 0, "no end of line"},
    {MINIMAL "size 0\nend\nend\n", 0, "after \"end\""},
    {MINIMAL "size 0\nend\nx", 0, "after \"end\""},
    {MINIMAL "size 0\nbogus x\nend\n", 0, "unknown keyword \"bogus\""},
    {MINIMAL "size 0\nSIZE 1\nend\n", 0, "unknown keyword"},
    {MINIMAL "helo a%4\nsize 0\nend\n", 0, "truncated %-escape"},
    {MINIMAL "helo a%\nsize 0\nend\n", 0, "truncated %-escape"},
    {MINIMAL "helo a%ZZ\nsize 0\nend\n", 0, "bad %-escape"},
    {MINIMAL "helo a%G1b\nsize 0\nend\n", 0, "bad %-escape"},
    {MINIMAL "helo a%00\nsize 0\nend\n", 0, "escaped NUL"},
    {MINIMAL "helo a\tb\nsize 0\nend\n", 0, "control octet"},
    {MINIMAL "helo a\x7f\nsize 0\nend\n", 0, "control octet"},
    {MINIMAL "helo a\r\nsize 0\nend\n", 0, "control octet"},
    {MINIMAL "helo a\0b\nsize 0\nend\n", sizeof(MINIMAL) + 17, "NUL"},
    {MINIMAL "id B-2\nsize 0\nend\n", 0, "repeated id"},
    {MINIMAL "size 0\nsize 0\nend\n", 0, "repeated size"},
    {"herald-envelope 2\nid A-1\narrival 5\nsender\nsize 0\nend\n", 0,
     "version 2"},
    {"herald-envelope\nid A-1\nend\n", 0, "not a herald envelope"},
    {"id A-1\narrival 5\nsender\nsize 0\nend\n", 0, "not a herald"},
    {"herald-envelope 1\narrival 5\nsender\nsize 0\nend\n", 0, "missing id"},
    {"herald-envelope 1\nid A-1\nsender\nsize 0\nend\n", 0, "missing arrival"},
    {"herald-envelope 1\nid A-1\narrival 5\nsize 0\nend\n", 0,
     "missing sender"},
    {MINIMAL "end\n", 0, "missing size"},
    {MINIMAL "rcpt-param NOTIFY=NEVER\nsize 0\nend\n", 0, "before any rcpt"},
    {MINIMAL "rcpt-field k v\nsize 0\nend\n", 0, "before any rcpt"},
    {MINIMAL "rcpt x@y\nmail-param SIZE=1\nsize 0\nend\n", 0,
     "mail-param after rcpt"},
    {MINIMAL "rcpt x@y\nfield k v\nsize 0\nend\n", 0, "field after rcpt"},
    {MINIMAL "helo a b\nsize 0\nend\n", 0, "wrong number of values"},
    {MINIMAL "field a b c\nsize 0\nend\n", 0, "wrong number of values"},
    {MINIMAL "field\nsize 0\nend\n", 0, "wrong number of values"},
    {MINIMAL "end x\n", 0, "wrong number of values"},
    {MINIMAL "helo a \nsize 0\nend\n", 0, "empty token"},
    {MINIMAL "helo  a\nsize 0\nend\n", 0, "empty token"},
    {MINIMAL "mail-param =1\nsize 0\nend\n", 0, "empty parameter keyword"},
    {MINIMAL "mail-param\nsize 0\nend\n", 0, "empty parameter keyword"},
    {MINIMAL "field %41%00 v\nsize 0\nend\n", 0, "escaped NUL"},
    {MINIMAL "size -1\nend\n", 0, "bad size"},
    {MINIMAL "size 12x\nend\n", 0, "bad size"},
    {MINIMAL "size 99999999999999999999\nend\n", 0, "bad size"},
    {"herald-envelope 1\nid A-1\narrival -5\nsender\nsize 0\nend\n", 0,
     "bad arrival"},
    {"herald-envelope 1\nid ../etc\narrival 5\nsender\nsize 0\nend\n", 0,
     "invalid queue id"},
    {"herald-envelope 1\nid\narrival 5\nsender\nsize 0\nend\n", 0,
     "invalid queue id"},
    {"herald-envelope 1\r\nid A-1\r\narrival 5\r\nsender\r\nsize 0\r\n"
     "end\r\n",
     0, "unsupported envelope version"},
};

static void test_parse_rejects(void)
{
    apr_size_t i;

    for (i = 0; i < sizeof(bad_envelopes) / sizeof(bad_envelopes[0]); i++) {
        apr_pool_t *p;
        hr_envelope e;
        const char *why = NULL;
        apr_size_t len = bad_envelopes[i].len ? bad_envelopes[i].len
                                              : strlen(bad_envelopes[i].text);
        int rc;

        apr_pool_create(&p, test_pool);
        rc = hr_envelope_parse(p, bad_envelopes[i].text, len, &e, &why);
        CU_ASSERT_EQUAL(rc, -1);
        CU_ASSERT_PTR_NOT_NULL(why);
        if (rc != -1 || why == NULL ||
            strstr(why, bad_envelopes[i].why) == NULL) {
            fprintf(stderr,
                    "\nbad envelope %d: rc %d, why \"%s\", "
                    "expected \"%s\"\n",
                    (int)i, rc, why ? why : "(null)", bad_envelopes[i].why);
            CU_FAIL("wrong verdict or reason");
        }
        apr_pool_destroy(p);
    }
}

/* Every truncation of a good envelope is refused. */
static void test_parse_truncated(void)
{
    apr_pool_t *p;
    apr_size_t len = strlen(nasty_text), cut;
    int refused = 0;

    apr_pool_create(&p, test_pool);
    for (cut = 0; cut < len; cut++) {
        hr_envelope e;
        const char *why = NULL;

        if (hr_envelope_parse(p, nasty_text, cut, &e, &why) == -1) {
            refused++;
        }
    }
    CU_ASSERT_EQUAL(refused, (int)len);
    apr_pool_destroy(p);
}

/* Accepted variants, and what they mean. */
static void test_parse_accepts(void)
{
    apr_pool_t *p;
    hr_envelope e;
    const char *why = NULL;
    const char *text = MINIMAL "helo %2a%41\nrcpt\nrcpt-param A==\n"
                               "size 9000000000\nend\n";
    const hr_param_value *pv;

    apr_pool_create(&p, test_pool);
    CU_ASSERT_EQUAL_FATAL(hr_envelope_parse(p, text, strlen(text), &e, &why),
                          0);
    CU_ASSERT_STRING_EQUAL(e.helo, "*A");
    CU_ASSERT_EQUAL(e.arrival, 5);
    CU_ASSERT_EQUAL(e.size, APR_INT64_C(9000000000));
    CU_ASSERT_PTR_NULL(e.listener);
    CU_ASSERT_PTR_NULL(e.authenticated_as);
    CU_ASSERT_PTR_NULL(e.tls);
    CU_ASSERT_EQUAL_FATAL(e.rcpts->nelts, 1);
    CU_ASSERT_STRING_EQUAL(APR_ARRAY_IDX(e.rcpts, 0, hr_envelope_rcpt).address,
                           "");
    pv = &APR_ARRAY_IDX(APR_ARRAY_IDX(e.rcpts, 0, hr_envelope_rcpt).params, 0,
                        hr_param_value);
    CU_ASSERT_STRING_EQUAL(pv->keyword, "A");
    CU_ASSERT_STRING_EQUAL(pv->value, "=");
    apr_pool_destroy(p);
}

static void test_json_golden(void)
{
    apr_pool_t *p;
    hr_envelope *e;
    hr_envelope_rcpt *r;
    char *json = NULL;

    apr_pool_create(&p, test_pool);
    e = hr_envelope_make(p);
    e->id = ID1;
    e->arrival = APR_INT64_C(1796418896123456);
    e->listener = "smtp";
    e->remote_ip = "127.0.0.1";
    e->helo = "c.example";
    e->tls = "TLSv1.3 TLS_AES_256_GCM_SHA384";
    e->sender = "q\"b\\s@x.example";
    add_param(e->mail_params, "SIZE", "1234");
    add_param(e->mail_params, "BODY", "8BITMIME");
    add_param(e->mail_params, "SMTPUTF8", NULL);
    add_param(e->mail_params, "SIZE", "999"); /* repeat: dropped */
    apr_table_add(e->fields, "dsn.ret", "FULL");
    apr_table_add(e->fields, "ctl",
                  "a\x01"
                  "b\x7f\r\n\t");
    apr_table_add(e->fields, "bad", "\xff\xc3(\xed\xa0\x80");
    apr_table_add(e->fields, "utf", "\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80");
    apr_table_add(e->fields, "dsn.ret", "HDRS"); /* repeat: dropped */
    r = hr_envelope_add_rcpt(p, e, "x@y.example");
    add_param(r->params, "NOTIFY", "SUCCESS,FAILURE");
    add_param(r->params, "ORCPT", "rfc822;x@y.example");
    apr_table_add(r->fields, "dsn.notify", "SUCCESS,FAILURE");
    hr_envelope_add_rcpt(p, e, "z@y.example");
    e->size = 1234;

    hr_envelope_to_json(p, e, &json);
    CU_ASSERT_STRING_EQUAL(
        json, "{\"id\":\"" ID1 "\",\"arrival\":\"2026-12-04T21:14:56Z\","
              "\"arrival_unix\":1796418896,\"listener\":\"smtp\","
              "\"remote_ip\":\"127.0.0.1\",\"helo\":\"c.example\","
              "\"authenticated_as\":null,"
              "\"tls\":\"TLSv1.3 TLS_AES_256_GCM_SHA384\","
              "\"sender\":\"q\\\"b\\\\s@x.example\","
              "\"mail_params\":{\"SIZE\":\"1234\",\"BODY\":\"8BITMIME\","
              "\"SMTPUTF8\":true},"
              "\"fields\":{\"dsn.ret\":\"FULL\","
              "\"ctl\":\"a\\u0001b\\u007F\\u000D\\u000A\\u0009\","
              "\"bad\":\"\xEF\xBF\xBD\xEF\xBF\xBD(\xEF\xBF\xBD\xEF\xBF\xBD"
              "\xEF\xBF\xBD\","
              "\"utf\":\"\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80\"},"
              "\"recipients\":[{\"address\":\"x@y.example\","
              "\"params\":{\"NOTIFY\":\"SUCCESS,FAILURE\","
              "\"ORCPT\":\"rfc822;x@y.example\"},"
              "\"fields\":{\"dsn.notify\":\"SUCCESS,FAILURE\"}},"
              "{\"address\":\"z@y.example\",\"params\":{},\"fields\":{}}],"
              "\"size\":1234}");

    /* The smallest envelope: every optional member is null or empty. */
    hr_envelope_to_json(p, minimal_envelope(p), &json);
    CU_ASSERT_STRING_EQUAL(
        json, "{\"id\":\"A-1\",\"arrival\":\"1970-01-01T00:00:00Z\","
              "\"arrival_unix\":0,\"listener\":null,\"remote_ip\":null,"
              "\"helo\":null,\"authenticated_as\":null,\"tls\":null,"
              "\"sender\":\"\",\"mail_params\":{},\"fields\":{},"
              "\"recipients\":[],\"size\":0}");
    apr_pool_destroy(p);
}

static void test_utf8_len(void)
{
    static const struct {
        const char *s;
        apr_size_t n; /* octets available */
        apr_size_t want;
    } cases[] = {
        {"a", 1, 1},
        {"\xC3\xA9", 2, 2},
        {"\xC3\xA9", 1, 0}, /* truncated */
        {"\xE2\x82\xAC", 3, 3},
        {"\xEF\xBF\xBF", 3, 3},
        {"\xF0\x9F\x98\x80", 4, 4},
        {"\xF4\x8F\xBF\xBF", 4, 4}, /* U+10FFFF */
        {"\xF4\x90\x80\x80", 4, 0}, /* above U+10FFFF */
        {"\xF5\x80\x80\x80", 4, 0},
        {"\xC0\x80", 2, 0}, /* overlong NUL */
        {"\xC1\xBF", 2, 0},
        {"\xE0\x80\x80", 3, 0},     /* overlong */
        {"\xF0\x80\x80\x80", 4, 0}, /* overlong */
        {"\xED\xA0\x80", 3, 0},     /* surrogate */
        {"\xED\x9F\xBF", 3, 3},
        {"\x80", 1, 0}, /* lone continuation */
        {"\xE2\x28\xA1", 3, 0},
        {"\xE2\x82\x28", 3, 0},
        {"\xFF", 1, 0},
    };
    apr_size_t i;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        apr_size_t got =
            hr_envelope_utf8_len((const unsigned char *)cases[i].s, cases[i].n);

        if (got != cases[i].want) {
            fprintf(stderr, "\nutf8 case %d: %d, expected %d\n", (int)i,
                    (int)got, (int)cases[i].want);
        }
        CU_ASSERT_EQUAL(got, cases[i].want);
    }
}

static void test_rfc3339_and_ids(void)
{
    CU_ASSERT_STRING_EQUAL(
        hr_envelope_time_rfc3339(test_pool, APR_INT64_C(1796418896999999)),
        "2026-12-04T21:14:56Z");
    CU_ASSERT_STRING_EQUAL(hr_envelope_time_rfc3339(test_pool, 0),
                           "1970-01-01T00:00:00Z");
    CU_ASSERT_TRUE(hr_envelope_id_valid(ID1));
    CU_ASSERT_TRUE(hr_envelope_id_valid("a-Z-9"));
    CU_ASSERT_FALSE(hr_envelope_id_valid(""));
    CU_ASSERT_FALSE(hr_envelope_id_valid("../x"));
    CU_ASSERT_FALSE(hr_envelope_id_valid("a/b"));
    CU_ASSERT_FALSE(hr_envelope_id_valid("a.env"));
    CU_ASSERT_FALSE(hr_envelope_id_valid("a b"));
    CU_ASSERT_FALSE(hr_envelope_id_valid(
        "0123456789012345678901234567890123456789012345678901234567890123"
        "4"));
    CU_ASSERT_FALSE(hr_spool_id_valid(NULL));
}

/* --------------------------------------------------------------- spool */

static hr_envelope *sample_envelope(apr_pool_t *p, const char *sender)
{
    hr_envelope *e = hr_envelope_make(p);
    hr_envelope_rcpt *r;

    e->listener = "smtp";
    e->remote_ip = "192.0.2.1";
    e->helo = "client.example";
    e->sender = sender;
    add_param(e->mail_params, "BODY", "8BITMIME");
    r = hr_envelope_add_rcpt(p, e, "rcpt@example.org");
    apr_table_set(r->fields, "dsn.notify", "NEVER");
    return e;
}

static void test_commit(void)
{
    apr_pool_t *p, *txn;
    const char *dir, *why = NULL, *id;
    hr_spool_msg *m;
    hr_envelope *env, loaded;
    char *body, *expected_env;
    const char *stored;
    apr_size_t i, stored_len = 0, body_len = 200 * 1024 + 17;

    apr_pool_create(&p, test_pool);
    dir = make_temp_dir(p);
    CU_ASSERT_PTR_NOT_NULL_FATAL(dir);
    CU_ASSERT_EQUAL_FATAL(hr_spool_init(p, dir, &why), 0);
    CU_ASSERT_STRING_EQUAL(listing(p, dir), "queue tmp");

    /* More than the writer's buffer, written in odd pieces. */
    body = apr_palloc(p, body_len);
    for (i = 0; i < body_len; i++) {
        body[i] = (char)(i * 7 + i / 1000);
    }
    apr_pool_create(&txn, p);
    CU_ASSERT_EQUAL_FATAL(hr_spool_open(txn, dir, &m, &why), 0);
    id = apr_pstrdup(p, hr_spool_id(m));
    CU_ASSERT_TRUE(hr_spool_id_valid(id));
    CU_ASSERT_EQUAL(strlen(id), 34);
    CU_ASSERT_STRING_EQUAL(listing(p, apr_pstrcat(p, dir, "/tmp", NULL)),
                           apr_pstrcat(p, id, ".msg", NULL));
    for (i = 0; i < body_len;) {
        apr_size_t n = body_len - i < 3001 ? body_len - i : 3001;

        CU_ASSERT_EQUAL(hr_spool_write(m, body + i, n), 0);
        i += n;
    }
    CU_ASSERT_EQUAL(hr_spool_write(m, "", 0), 0);
    CU_ASSERT_EQUAL(hr_spool_size(m), (apr_off_t)body_len);

    env = sample_envelope(txn, "s@example.net");
    CU_ASSERT_EQUAL_FATAL(hr_spool_commit(m, env, &why), 0);
    CU_ASSERT_STRING_EQUAL(env->id, id);
    CU_ASSERT_EQUAL(env->size, (apr_off_t)body_len);
    CU_ASSERT_NOT_EQUAL(env->arrival, 0);
    CU_ASSERT_EQUAL(hr_spool_write(m, "x", 1), -1);
    CU_ASSERT_EQUAL(hr_spool_commit(m, env, &why), -1);
    hr_spool_abort(m); /* no-op after the commit */
    expected_env = hr_envelope_serialize(p, env, NULL);
    apr_pool_destroy(txn); /* nor does the cleanup remove it */

    CU_ASSERT_STRING_EQUAL(listing(p, apr_pstrcat(p, dir, "/tmp", NULL)), "");
    CU_ASSERT_STRING_EQUAL(listing(p, apr_pstrcat(p, dir, "/queue", NULL)),
                           apr_pstrcat(p, id, ".env ", id, ".msg", NULL));
    stored = slurp(p, hr_spool_msg_path(p, dir, id), &stored_len);
    CU_ASSERT_EQUAL(stored_len, body_len);
    CU_ASSERT(memcmp(stored, body, body_len) == 0);
    CU_ASSERT_STRING_EQUAL(
        slurp(p, apr_pstrcat(p, dir, "/queue/", id, ".env", NULL), NULL),
        expected_env);

    CU_ASSERT_EQUAL_FATAL(hr_spool_load(p, dir, id, &loaded, &why), 0);
    CU_ASSERT_STRING_EQUAL(loaded.id, id);
    CU_ASSERT_EQUAL(loaded.size, (apr_off_t)body_len);
    CU_ASSERT_STRING_EQUAL(loaded.sender, "s@example.net");
    CU_ASSERT_STRING_EQUAL(hr_envelope_serialize(p, &loaded, NULL),
                           expected_env);

    /* Removing it leaves the queue empty. */
    CU_ASSERT_EQUAL(hr_spool_remove(p, dir, id, &why), 0);
    CU_ASSERT_STRING_EQUAL(listing(p, apr_pstrcat(p, dir, "/queue", NULL)), "");
    CU_ASSERT_EQUAL(hr_spool_remove(p, dir, "../x", &why), -1);
    remove_tree(p, dir);
    apr_pool_destroy(p);
}

static void test_abort(void)
{
    apr_pool_t *p, *txn;
    const char *dir, *why = NULL;
    hr_spool_msg *m;

    apr_pool_create(&p, test_pool);
    dir = make_temp_dir(p);
    CU_ASSERT_PTR_NOT_NULL_FATAL(dir);
    CU_ASSERT_EQUAL_FATAL(hr_spool_init(p, dir, &why), 0);

    /* Explicit abort. */
    apr_pool_create(&txn, p);
    CU_ASSERT_EQUAL_FATAL(hr_spool_open(txn, dir, &m, &why), 0);
    CU_ASSERT_EQUAL(hr_spool_write(m, "Subject: x\r\n\r\nbody\r\n", 20), 0);
    hr_spool_abort(m);
    CU_ASSERT_STRING_EQUAL(listing(p, apr_pstrcat(p, dir, "/tmp", NULL)), "");
    CU_ASSERT_EQUAL(hr_spool_write(m, "x", 1), -1);
    CU_ASSERT_EQUAL(hr_spool_commit(m, sample_envelope(txn, ""), &why), -1);
    hr_spool_abort(m); /* twice is harmless */
    apr_pool_destroy(txn);

    /* A session that goes away: the pool cleanup removes the file. */
    apr_pool_create(&txn, p);
    CU_ASSERT_EQUAL_FATAL(hr_spool_open(txn, dir, &m, &why), 0);
    CU_ASSERT_EQUAL(hr_spool_write(m, "partial", 7), 0);
    CU_ASSERT_STRING_NOT_EQUAL(listing(p, apr_pstrcat(p, dir, "/tmp", NULL)),
                               "");
    apr_pool_destroy(txn);
    CU_ASSERT_STRING_EQUAL(listing(p, apr_pstrcat(p, dir, "/tmp", NULL)), "");
    CU_ASSERT_STRING_EQUAL(listing(p, apr_pstrcat(p, dir, "/queue", NULL)), "");
    remove_tree(p, dir);
    apr_pool_destroy(p);
}

/* A commit that cannot finish removes everything and says why. */
static void test_commit_failure(void)
{
    apr_pool_t *p, *txn;
    const char *dir, *why = NULL;
    hr_spool_msg *m;

    apr_pool_create(&p, test_pool);
    dir = make_temp_dir(p);
    CU_ASSERT_PTR_NOT_NULL_FATAL(dir);
    CU_ASSERT_EQUAL_FATAL(hr_spool_init(p, dir, &why), 0);
    apr_pool_create(&txn, p);
    CU_ASSERT_EQUAL_FATAL(hr_spool_open(txn, dir, &m, &why), 0);
    CU_ASSERT_EQUAL(hr_spool_write(m, "hello\r\n", 7), 0);
    /* queue/ vanished: the rename into it fails. */
    CU_ASSERT_EQUAL_FATAL(
        apr_dir_remove(apr_pstrcat(p, dir, "/queue", NULL), p), APR_SUCCESS);
    why = NULL;
    CU_ASSERT_EQUAL(hr_spool_commit(m, sample_envelope(txn, ""), &why), -1);
    CU_ASSERT_PTR_NOT_NULL(why);
    CU_ASSERT_PTR_NOT_NULL(why ? strstr(why, "cannot move") : NULL);
    CU_ASSERT_STRING_EQUAL(listing(p, apr_pstrcat(p, dir, "/tmp", NULL)), "");
    apr_pool_destroy(txn);
    CU_ASSERT_STRING_EQUAL(listing(p, dir), "tmp");

    /* Opening in a spool that does not exist fails cleanly. */
    CU_ASSERT_EQUAL(
        hr_spool_open(p, apr_pstrcat(p, dir, "/none", NULL), &m, &why), -1);
    CU_ASSERT_PTR_NOT_NULL(strstr(why, "cannot create"));
    remove_tree(p, dir);
    apr_pool_destroy(p);
}

static void test_init_recovery(void)
{
    apr_pool_t *p, *txn;
    const char *base, *dir, *why = NULL, *tmp, *queue, *kept, *ours;
    hr_spool_msg *m;
    hr_spool_recovery rec;

    apr_pool_create(&p, test_pool);
    base = make_temp_dir(p);
    CU_ASSERT_PTR_NOT_NULL_FATAL(base);
    dir = apr_pstrcat(p, base, "/deep/spool", NULL);
    tmp = apr_pstrcat(p, dir, "/tmp", NULL);
    queue = apr_pstrcat(p, dir, "/queue", NULL);
    CU_ASSERT_EQUAL_FATAL(hr_spool_init_ex(p, dir, &rec, &why), 0);
    CU_ASSERT_EQUAL(rec.tmp_removed + rec.orphans_removed + rec.committed, 0);

    /* One complete pair, committed the normal way. */
    apr_pool_create(&txn, p);
    CU_ASSERT_EQUAL_FATAL(hr_spool_open(txn, dir, &m, &why), 0);
    hr_spool_write(m, "x\r\n", 3);
    CU_ASSERT_EQUAL_FATAL(hr_spool_commit(m, sample_envelope(txn, "a@b"), &why),
                          0);
    kept = apr_pstrdup(p, hr_spool_id(m));
    apr_pool_destroy(txn);

    /* What crashed processes leave (another pid, an earlier time). */
    write_file(p,
               apr_pstrcat(p, tmp,
                           "/0000000000000001-7FFFFFFF-00000001"
                           ".msg",
                           NULL),
               "half");
    write_file(p,
               apr_pstrcat(p, tmp,
                           "/0000000000000001-7FFFFFFF-00000001"
                           ".env",
                           NULL),
               "half");
    write_file(p, apr_pstrcat(p, tmp, "/junk", NULL), "junk");
    write_file(p,
               apr_pstrcat(p, queue,
                           "/0000000000000002-7FFFFFFF-00000002"
                           ".msg",
                           NULL),
               "no env");
    write_file(p,
               apr_pstrcat(p, queue,
                           "/0000000000000003-7FFFFFFF-00000003"
                           ".env",
                           NULL),
               "no msg");
    write_file(p, apr_pstrcat(p, queue, "/README", NULL), "not ours");
    /* Our own pid but before this process's first spool action. */
    write_file(p,
               apr_pstrcat(p, tmp,
                           apr_psprintf(p,
                                        "/0000000000000004-%08X-"
                                        "00000004.msg",
                                        (unsigned)getpid()),
                           NULL),
               "predecessor with the same pid");
    /* A message this process is writing right now. */
    apr_pool_create(&txn, p);
    CU_ASSERT_EQUAL_FATAL(hr_spool_open(txn, dir, &m, &why), 0);
    ours = apr_pstrcat(p, hr_spool_id(m), ".msg", NULL);

    CU_ASSERT_EQUAL_FATAL(hr_spool_init_ex(p, dir, &rec, &why), 0);
    CU_ASSERT_EQUAL(rec.tmp_removed, 4);
    CU_ASSERT_EQUAL(rec.orphans_removed, 2);
    CU_ASSERT_EQUAL(rec.committed, 1);
    CU_ASSERT_STRING_EQUAL(listing(p, tmp), ours);
    CU_ASSERT_STRING_EQUAL(
        listing(p, queue),
        apr_pstrcat(p, kept, ".env ", kept, ".msg README", NULL));
    /* The message in flight still commits. */
    hr_spool_write(m, "y\r\n", 3);
    CU_ASSERT_EQUAL(hr_spool_commit(m, sample_envelope(txn, ""), &why), 0);
    apr_pool_destroy(txn);
    CU_ASSERT_STRING_EQUAL(listing(p, tmp), "");

    /* A second run finds nothing to do. */
    CU_ASSERT_EQUAL_FATAL(hr_spool_init_ex(p, dir, &rec, &why), 0);
    CU_ASSERT_EQUAL(rec.tmp_removed + rec.orphans_removed, 0);
    CU_ASSERT_EQUAL(rec.committed, 2);

    /* A spool that cannot be made. */
    write_file(p, apr_pstrcat(p, dir, "/file", NULL), "x");
    CU_ASSERT_EQUAL(
        hr_spool_init(p, apr_pstrcat(p, dir, "/file/sub", NULL), &why), -1);
    remove_tree(p, base);
    apr_pool_destroy(p);
}

#define IDS_PER_THREAD 1000

typedef struct {
    apr_pool_t *pool;
    const char *ids[IDS_PER_THREAD];
    const char *spool_dir; /* when set: also spool messages */
    int committed;
} id_worker;

static void *APR_THREAD_FUNC make_ids(apr_thread_t *t, void *data)
{
    id_worker *w = data;
    int i;

    for (i = 0; i < IDS_PER_THREAD; i++) {
        w->ids[i] = hr_spool_new_id(w->pool);
    }
    return NULL;
}

#define MSGS_PER_THREAD 50

static void *APR_THREAD_FUNC spool_messages(apr_thread_t *t, void *data)
{
    id_worker *w = data;
    int i;

    for (i = 0; i < MSGS_PER_THREAD; i++) {
        apr_pool_t *txn;
        hr_spool_msg *m;
        const char *why;

        apr_pool_create(&txn, w->pool);
        if (hr_spool_open(txn, w->spool_dir, &m, &why) == 0 &&
            hr_spool_write(m, "message\r\n", 9) == 0 &&
            hr_spool_commit(m, sample_envelope(txn, "t@example"), &why) == 0) {
            w->committed++;
        }
        apr_pool_destroy(txn);
    }
    return NULL;
}

static void test_ids_unique_threads(void)
{
    apr_pool_t *p;
    apr_thread_t *threads[2];
    id_worker workers[2];
    apr_hash_t *seen;
    apr_status_t rv;
    int t, i, dups = 0, unordered = 0, invalid = 0;

    apr_pool_create(&p, test_pool);
    memset(workers, 0, sizeof(workers));
    for (t = 0; t < 2; t++) {
        apr_pool_create(&workers[t].pool, p);
        CU_ASSERT_EQUAL_FATAL(
            apr_thread_create(&threads[t], NULL, make_ids, &workers[t], p),
            APR_SUCCESS);
    }
    for (t = 0; t < 2; t++) {
        apr_thread_join(&rv, threads[t]);
    }
    seen = apr_hash_make(p);
    for (t = 0; t < 2; t++) {
        for (i = 0; i < IDS_PER_THREAD; i++) {
            const char *id = workers[t].ids[i];

            if (apr_hash_get(seen, id, APR_HASH_KEY_STRING) != NULL) {
                dups++;
            }
            apr_hash_set(seen, id, APR_HASH_KEY_STRING, id);
            if (!hr_spool_id_valid(id) || strlen(id) != 34) {
                invalid++;
            }
            /* Time-ordered within one thread. */
            if (i > 0 && strcmp(workers[t].ids[i - 1], id) >= 0) {
                unordered++;
            }
        }
    }
    CU_ASSERT_EQUAL(dups, 0);
    CU_ASSERT_EQUAL(invalid, 0);
    CU_ASSERT_EQUAL(unordered, 0);
    CU_ASSERT_EQUAL(apr_hash_count(seen), 2 * IDS_PER_THREAD);
    apr_pool_destroy(p);
}

static void test_concurrent_spool(void)
{
    apr_pool_t *p;
    apr_thread_t *threads[2];
    id_worker *workers;
    apr_array_header_t *ids;
    const char *dir, *why = NULL;
    apr_status_t rv;
    int t;

    apr_pool_create(&p, test_pool);
    dir = make_temp_dir(p);
    CU_ASSERT_PTR_NOT_NULL_FATAL(dir);
    CU_ASSERT_EQUAL_FATAL(hr_spool_init(p, dir, &why), 0);
    workers = apr_pcalloc(p, 2 * sizeof(*workers));
    for (t = 0; t < 2; t++) {
        apr_pool_create(&workers[t].pool, p);
        workers[t].spool_dir = dir;
        CU_ASSERT_EQUAL_FATAL(apr_thread_create(&threads[t], NULL,
                                                spool_messages, &workers[t], p),
                              APR_SUCCESS);
    }
    for (t = 0; t < 2; t++) {
        apr_thread_join(&rv, threads[t]);
    }
    CU_ASSERT_EQUAL(workers[0].committed + workers[1].committed,
                    2 * MSGS_PER_THREAD);
    ids = apr_array_make(p, 8, sizeof(const char *));
    CU_ASSERT_EQUAL(hr_spool_list(p, dir, ids), 0);
    CU_ASSERT_EQUAL(ids->nelts, 2 * MSGS_PER_THREAD);
    CU_ASSERT_STRING_EQUAL(listing(p, apr_pstrcat(p, dir, "/tmp", NULL)), "");
    remove_tree(p, dir);
    apr_pool_destroy(p);
}

/* Write a committed pair by hand (fixed ids and times for golden output). */
static void put_pair(apr_pool_t *p, const char *dir, hr_envelope *e)
{
    write_file(p, apr_pstrcat(p, dir, "/queue/", e->id, ".env", NULL),
               hr_envelope_serialize(p, e, NULL));
    write_file(p, hr_spool_msg_path(p, dir, e->id), "Subject: x\r\n\r\n");
}

static void test_list_order(void)
{
    apr_pool_t *p, *txn;
    apr_array_header_t *ids;
    const char *dir, *why = NULL, *committed[3];
    hr_spool_msg *m;
    hr_envelope *e;
    int i;

    apr_pool_create(&p, test_pool);
    dir = make_temp_dir(p);
    CU_ASSERT_PTR_NOT_NULL_FATAL(dir);
    CU_ASSERT_EQUAL_FATAL(hr_spool_init(p, dir, &why), 0);
    ids = apr_array_make(p, 8, sizeof(const char *));
    CU_ASSERT_EQUAL(hr_spool_list(p, dir, ids), 0);
    CU_ASSERT_EQUAL(ids->nelts, 0);

    /* Three messages committed one after another list in that order. */
    for (i = 0; i < 3; i++) {
        apr_pool_create(&txn, p);
        CU_ASSERT_EQUAL_FATAL(hr_spool_open(txn, dir, &m, &why), 0);
        CU_ASSERT_EQUAL_FATAL(
            hr_spool_commit(m, sample_envelope(txn, "o@example"), &why), 0);
        committed[i] = apr_pstrdup(p, hr_spool_id(m));
        apr_pool_destroy(txn);
        apr_sleep(2000);
    }
    /* Older ones written later, and an incomplete one (not listed). */
    e = sample_envelope(p, "old@example");
    e->id = "0000000000000002-00000001-00000000";
    put_pair(p, dir, e);
    e->id = "0000000000000001-00000001-00000009";
    put_pair(p, dir, e);
    write_file(p, hr_spool_msg_path(p, dir, "0000000000000000-00000001-00"),
               "no envelope");
    CU_ASSERT_EQUAL(hr_spool_list(p, dir, ids), 0);
    CU_ASSERT_EQUAL_FATAL(ids->nelts, 5);
    CU_ASSERT_STRING_EQUAL(APR_ARRAY_IDX(ids, 0, const char *),
                           "0000000000000001-00000001-00000009");
    CU_ASSERT_STRING_EQUAL(APR_ARRAY_IDX(ids, 1, const char *),
                           "0000000000000002-00000001-00000000");
    for (i = 0; i < 3; i++) {
        CU_ASSERT_STRING_EQUAL(APR_ARRAY_IDX(ids, i + 2, const char *),
                               committed[i]);
    }
    /* Listing a spool that does not exist is an error. */
    CU_ASSERT_EQUAL(hr_spool_list(p, apr_pstrcat(p, dir, "/none", NULL), ids),
                    -1);
    remove_tree(p, dir);
    apr_pool_destroy(p);
}

static void test_load_errors(void)
{
    apr_pool_t *p;
    const char *dir, *why = NULL;
    hr_envelope env, *e;

    apr_pool_create(&p, test_pool);
    dir = make_temp_dir(p);
    CU_ASSERT_PTR_NOT_NULL_FATAL(dir);
    CU_ASSERT_EQUAL_FATAL(hr_spool_init(p, dir, &why), 0);

    CU_ASSERT_EQUAL(hr_spool_load(p, dir, ID1, &env, &why), -1);
    CU_ASSERT_STRING_EQUAL(why, "no such message");
    CU_ASSERT_EQUAL(hr_spool_load(p, dir, "../queue/x", &env, &why), -1);
    CU_ASSERT_STRING_EQUAL(why, "invalid queue id");

    /* Truncated on disk. */
    write_file(p, apr_pstrcat(p, dir, "/queue/" ID1 ".env", NULL),
               "herald-envelope 1\nid " ID1 "\narrival 1\n");
    CU_ASSERT_EQUAL(hr_spool_load(p, dir, ID1, &env, &why), -1);
    CU_ASSERT_PTR_NOT_NULL(strstr(why, "truncated"));

    /* An envelope stored under another id. */
    e = sample_envelope(p, "x@y");
    e->id = ID2;
    write_file(p, apr_pstrcat(p, dir, "/queue/" ID1 ".env", NULL),
               hr_envelope_serialize(p, e, NULL));
    CU_ASSERT_EQUAL(hr_spool_load(p, dir, ID1, &env, &why), -1);
    CU_ASSERT_PTR_NOT_NULL(strstr(why, "envelope is for " ID2));
    remove_tree(p, dir);
    apr_pool_destroy(p);
}

/* ----------------------------------------------------------------- CLI */

/* Run the CLI on @argv; its output and errors in *out, *err. */
static int run_cli(apr_pool_t *p, const char *dir, const char *const *argv,
                   const char **out, const char **err)
{
    const char *out_path = apr_pstrcat(p, dir, "/cli.out", NULL);
    const char *err_path = apr_pstrcat(p, dir, "/cli.err", NULL);
    apr_int32_t flags = APR_FOPEN_WRITE | APR_FOPEN_CREATE | APR_FOPEN_TRUNCATE;
    apr_file_t *fo, *fe;
    int argc = 0, status;

    while (argv[argc] != NULL) {
        argc++;
    }
    apr_file_open(&fo, out_path, flags, APR_FPROT_OS_DEFAULT, p);
    apr_file_open(&fe, err_path, flags, APR_FPROT_OS_DEFAULT, p);
    status = hr_queue_cli_to(p, dir, argc, argv, fo, fe);
    apr_file_close(fo);
    apr_file_close(fe);
    *out = slurp(p, out_path, NULL);
    *err = slurp(p, err_path, NULL);
    apr_file_remove(out_path, p);
    apr_file_remove(err_path, p);
    return status;
}

/* Two messages with fixed ids; the second has a hostile HELO. */
static const char *cli_spool(apr_pool_t *p, hr_envelope **e1, hr_envelope **e2)
{
    const char *dir = make_temp_dir(p), *why;
    hr_envelope *e;
    hr_envelope_rcpt *r;

    if (dir == NULL || hr_spool_init(p, dir, &why) != 0) {
        return NULL;
    }
    e = hr_envelope_make(p);
    e->id = ID2;
    e->arrival = APR_INT64_C(1733350001000000);
    e->listener = "submission";
    e->remote_ip = "::1";
    e->helo = "evil\x1b[2J\\";
    e->authenticated_as = "joe";
    e->sender = "";
    hr_envelope_add_rcpt(p, e, "postmaster@example.org");
    e->size = 10;
    put_pair(p, dir, e);
    *e2 = e;

    e = hr_envelope_make(p);
    e->id = ID1;
    e->arrival = APR_INT64_C(1733350000123456);
    e->listener = "smtp";
    e->remote_ip = "127.0.0.1";
    e->helo = "client.example";
    e->tls = "TLSv1.3 TLS_AES_256_GCM_SHA384";
    e->sender = "a@b.example";
    add_param(e->mail_params, "SIZE", "1234");
    add_param(e->mail_params, "SMTPUTF8", NULL);
    apr_table_set(e->fields, "dsn.ret", "FULL");
    r = hr_envelope_add_rcpt(p, e, "x@y.example");
    add_param(r->params, "NOTIFY", "SUCCESS,FAILURE");
    apr_table_set(r->fields, "dsn.notify", "SUCCESS,FAILURE");
    hr_envelope_add_rcpt(p, e, "z@y.example");
    e->size = 1234;
    put_pair(p, dir, e);
    *e1 = e;
    return dir;
}

static void test_cli_list(void)
{
    apr_pool_t *p;
    hr_envelope *e1, *e2;
    const char *dir, *out, *err;
    char *j1, *j2;
    static const char *const list[] = {"queue", "list", NULL};
    static const char *const list_json[] = {"queue", "list", "--json", NULL};

    apr_pool_create(&p, test_pool);
    dir = cli_spool(p, &e1, &e2);
    CU_ASSERT_PTR_NOT_NULL_FATAL(dir);

    CU_ASSERT_EQUAL(run_cli(p, dir, list, &out, &err), 0);
    CU_ASSERT_STRING_EQUAL(
        out, "ID                                  ARRIVAL                     "
             "SIZE  SENDER                          RCPTS\n" ID1
             "  2024-12-04T22:06:40Z        1234  a@b.example        "
             "                 2\n" ID2
             "  2024-12-04T22:06:41Z          10  <>                 "
             "                 1\n"
             "2 messages, 1244 octets\n");
    CU_ASSERT_STRING_EQUAL(err, "");

    CU_ASSERT_EQUAL(run_cli(p, dir, list_json, &out, &err), 0);
    hr_envelope_to_json(p, e1, &j1);
    hr_envelope_to_json(p, e2, &j2);
    CU_ASSERT_STRING_EQUAL(out,
                           apr_pstrcat(p, "[\n", j1, ",\n", j2, "\n]\n", NULL));
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "\"helo\":\"evil\\u001B[2J\\\\\""));
    CU_ASSERT_STRING_EQUAL(err, "");

    /* A corrupt envelope is reported, the others still listed. */
    write_file(p, apr_pstrcat(p, dir, "/queue/" ID2 ".env", NULL),
               "herald-envelope 1\n");
    CU_ASSERT_EQUAL(run_cli(p, dir, list, &out, &err), 1);
    CU_ASSERT_PTR_NOT_NULL(strstr(out, ID1));
    CU_ASSERT_PTR_NULL(strstr(out, ID2));
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "1 message, 1234 octets\n"));
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "herald queue: " ID2 ": "));

    /* Empty queue. */
    remove_tree(p, apr_pstrcat(p, dir, "/queue", NULL));
    CU_ASSERT_EQUAL_FATAL(hr_spool_init(p, dir, &err), 0);
    CU_ASSERT_EQUAL(run_cli(p, dir, list, &out, &err), 0);
    CU_ASSERT_STRING_EQUAL(
        out, "ID                                  ARRIVAL                     "
             "SIZE  SENDER                          RCPTS\n"
             "0 messages, 0 octets\n");
    CU_ASSERT_EQUAL(run_cli(p, dir, list_json, &out, &err), 0);
    CU_ASSERT_STRING_EQUAL(out, "[]\n");

    /* No spool at all. */
    remove_tree(p, apr_pstrcat(p, dir, "/queue", NULL));
    CU_ASSERT_EQUAL(run_cli(p, dir, list, &out, &err), 1);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "cannot read"));
    remove_tree(p, dir);
    apr_pool_destroy(p);
}

static void test_cli_show(void)
{
    apr_pool_t *p;
    hr_envelope *e1, *e2;
    const char *dir, *out, *err;
    char *j1;
    static const char *const show1[] = {"queue", "show", ID1, NULL};
    static const char *const show2[] = {"queue", "show", ID2, NULL};
    static const char *const show_json[] = {"queue", "show", "--json", ID1,
                                            NULL};
    static const char *const unknown[] = {"queue", "show",
                                          "0000000000000000-0-0", NULL};
    static const char *const bad_id[] = {"queue", "show", "../../etc/passwd",
                                         NULL};

    apr_pool_create(&p, test_pool);
    dir = cli_spool(p, &e1, &e2);
    CU_ASSERT_PTR_NOT_NULL_FATAL(dir);

    CU_ASSERT_EQUAL(run_cli(p, dir, show1, &out, &err), 0);
    CU_ASSERT_STRING_EQUAL(
        out, "id:               " ID1 "\n"
             "arrival:          2024-12-04T22:06:40Z (1733350000.123456)\n"
             "listener:         smtp\n"
             "remote-ip:        127.0.0.1\n"
             "helo:             client.example\n"
             "authenticated-as: (none)\n"
             "tls:              TLSv1.3 TLS_AES_256_GCM_SHA384\n"
             "sender:           <a@b.example>\n"
             "size:             1234\n"
             "mail-param:       SIZE=1234\n"
             "mail-param:       SMTPUTF8\n"
             "field:            dsn.ret = FULL\n"
             "recipient:        <x@y.example>\n"
             "  param:          NOTIFY=SUCCESS,FAILURE\n"
             "  field:          dsn.notify = SUCCESS,FAILURE\n"
             "recipient:        <z@y.example>\n");
    CU_ASSERT_STRING_EQUAL(err, "");

    /* Hostile text never reaches the terminal raw. */
    CU_ASSERT_EQUAL(run_cli(p, dir, show2, &out, &err), 0);
    CU_ASSERT_STRING_EQUAL(
        out, "id:               " ID2 "\n"
             "arrival:          2024-12-04T22:06:41Z (1733350001.000000)\n"
             "listener:         submission\n"
             "remote-ip:        ::1\n"
             "helo:             evil\\x1B[2J\\x5C\n"
             "authenticated-as: joe\n"
             "tls:              (none)\n"
             "sender:           <>\n"
             "size:             10\n"
             "recipient:        <postmaster@example.org>\n");

    CU_ASSERT_EQUAL(run_cli(p, dir, show_json, &out, &err), 0);
    hr_envelope_to_json(p, e1, &j1);
    CU_ASSERT_STRING_EQUAL(out, apr_pstrcat(p, j1, "\n", NULL));

    CU_ASSERT_EQUAL(run_cli(p, dir, unknown, &out, &err), 1);
    CU_ASSERT_STRING_EQUAL(out, "");
    CU_ASSERT_STRING_EQUAL(err, "herald queue: 0000000000000000-0-0: "
                                "no such message\n");
    CU_ASSERT_EQUAL(run_cli(p, dir, bad_id, &out, &err), 1);
    CU_ASSERT_STRING_EQUAL(err, "herald queue: ../../etc/passwd: "
                                "invalid queue id\n");
    remove_tree(p, dir);
    apr_pool_destroy(p);
}

static void test_cli_usage(void)
{
    const char *const *const usage_errors[] = {
        (const char *const[]){"queue", NULL},
        (const char *const[]){"queue", "bogus", NULL},
        (const char *const[]){"queue", "show", NULL},
        (const char *const[]){"queue", "show", "a", "b", NULL},
        (const char *const[]){"queue", "list", "extra", NULL},
        (const char *const[]){"queue", "list", "--jsn", NULL},
        (const char *const[]){"queue", "show", "-x", ID1, NULL},
    };
    static const char *const help[] = {"queue", "help", NULL};
    apr_pool_t *p;
    const char *dir, *out, *err;
    apr_size_t i;

    apr_pool_create(&p, test_pool);
    dir = make_temp_dir(p);
    CU_ASSERT_PTR_NOT_NULL_FATAL(dir);
    for (i = 0; i < sizeof(usage_errors) / sizeof(usage_errors[0]); i++) {
        int status = run_cli(p, dir, usage_errors[i], &out, &err);

        if (status != 2) {
            fprintf(stderr, "\nusage case %d: status %d\n", (int)i, status);
        }
        CU_ASSERT_EQUAL(status, 2);
        CU_ASSERT_STRING_EQUAL(out, "");
        CU_ASSERT_PTR_NOT_NULL(strstr(err, "usage: herald queue list"));
    }
    CU_ASSERT_EQUAL(run_cli(p, dir, help, &out, &err), 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "herald queue show ID [--json]"));
    remove_tree(p, dir);
    apr_pool_destroy(p);
}

/* hr_queue_cli() itself writes to the process's stdout. */
static void test_cli_stdout(void)
{
    static const char *const list[] = {"queue", "list", "--json", NULL};
    apr_pool_t *p;
    hr_envelope *e1, *e2;
    const char *dir, *path;
    int saved, fd, status;

    apr_pool_create(&p, test_pool);
    dir = cli_spool(p, &e1, &e2);
    CU_ASSERT_PTR_NOT_NULL_FATAL(dir);
    path = apr_pstrcat(p, dir, "/stdout", NULL);
    fflush(stdout);
    saved = dup(STDOUT_FILENO);
    fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    CU_ASSERT_FATAL(saved >= 0 && fd >= 0);
    dup2(fd, STDOUT_FILENO);
    close(fd);
    status = hr_queue_cli(p, dir, 3, list);
    dup2(saved, STDOUT_FILENO);
    close(saved);
    CU_ASSERT_EQUAL(status, 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(slurp(p, path, NULL), "[\n{\"id\":\"" ID1));
    remove_tree(p, dir);
    apr_pool_destroy(p);
}

/* ---------------------------------------------------------------- main */

int main(void)
{
    CU_pSuite suite;
    static const struct {
        const char *name;
        CU_TestFunc fn;
    } envelope_tests[] =
        {
            {"serialize golden text", test_serialize_golden},
            {"round trip", test_roundtrip},
            {"strict reader refuses", test_parse_rejects},
            {"every truncation refused", test_parse_truncated},
            {"reader accepts", test_parse_accepts},
            {"JSON golden text", test_json_golden},
            {"UTF-8 sequences", test_utf8_len},
            {"RFC 3339 time and ids", test_rfc3339_and_ids},
        },
      spool_tests[] =
          {
              {"commit", test_commit},
              {"abort", test_abort},
              {"commit failure", test_commit_failure},
              {"init recovery", test_init_recovery},
              {"ids unique across threads", test_ids_unique_threads},
              {"concurrent spooling", test_concurrent_spool},
              {"list order", test_list_order},
              {"load errors", test_load_errors},
          },
      cli_tests[] = {
          {"queue list", test_cli_list},
          {"queue show", test_cli_show},
          {"usage errors", test_cli_usage},
          {"stdout", test_cli_stdout},
      };
    apr_size_t i;

    apr_initialize();
    atexit(apr_terminate);
    apr_pool_create(&test_pool, NULL);
    if (CU_initialize_registry() != CUE_SUCCESS) {
        return CU_get_error();
    }
    suite = CU_add_suite("envelope", NULL, NULL);
    for (i = 0; i < sizeof(envelope_tests) / sizeof(envelope_tests[0]); i++) {
        CU_add_test(suite, envelope_tests[i].name, envelope_tests[i].fn);
    }
    suite = CU_add_suite("spool", NULL, NULL);
    for (i = 0; i < sizeof(spool_tests) / sizeof(spool_tests[0]); i++) {
        CU_add_test(suite, spool_tests[i].name, spool_tests[i].fn);
    }
    suite = CU_add_suite("queue cli", NULL, NULL);
    for (i = 0; i < sizeof(cli_tests) / sizeof(cli_tests[0]); i++) {
        CU_add_test(suite, cli_tests[i].name, cli_tests[i].fn);
    }
    CU_basic_set_mode(CU_BRM_VERBOSE);
    CU_basic_run_tests();
    i = CU_get_number_of_failures();
    CU_cleanup_registry();
    return i != 0 || CU_get_error();
}
