/*
 * test_toml.c -- CUnit tests of the TOML reader (server/toml_*.c).
 *
 * Table-driven: every valid input is parsed and the resulting tree is
 * dumped one value a line ("path = type value @line") and compared with
 * the expected dump, which checks types, values, lines and order at once;
 * every invalid input must give its first error with the exact
 * "FILE:LINE: " prefix, a message containing the expected words, and the
 * expected number of errors (which checks the recovery after an error).
 *
 * Golden files live in test/data/toml (TOML_DATA_DIR, set by toml.am):
 * NAME.toml with NAME.ref (the dump) or NAME.err (the errors, one a line,
 * file names without their directory).
 *
 * Run: make test/unit/test_toml && ./test/unit/test_toml
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <apr_general.h>
#include <apr_file_io.h>
#include <apr_strings.h>

#include <CUnit/Basic.h>

#include "hr_config.h"

#ifndef TOML_DATA_DIR
#define TOML_DATA_DIR "test/data/toml"
#endif

static apr_pool_t *pool;

/* ------------------------------------------------------------- helpers */

static void dump_append(apr_array_header_t *out, const char *s)
{
    APR_ARRAY_PUSH(out, const char *) = s;
}

/* A string as a C literal would show it. */
static const char *quote(apr_pool_t *p, const char *s)
{
    apr_array_header_t *out = apr_array_make(p, 16, sizeof(const char *));

    dump_append(out, "\"");
    for (; *s != '\0'; s++) {
        unsigned char c = (unsigned char)*s;

        if (c == '"' || c == '\\') {
            dump_append(out, apr_psprintf(p, "\\%c", c));
        } else if (c == '\n') {
            dump_append(out, "\\n");
        } else if (c == '\t') {
            dump_append(out, "\\t");
        } else if (c < 0x20 || c == 0x7F) {
            dump_append(out, apr_psprintf(p, "\\x%02X", c));
        } else {
            dump_append(out, apr_pstrndup(p, s, 1));
        }
    }
    dump_append(out, "\"");
    return apr_array_pstrcat(p, out, 0);
}

static const char *key_name(apr_pool_t *p, const char *key)
{
    const char *c;

    for (c = key; *c != '\0'; c++) {
        if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
              (*c >= '0' && *c <= '9') || *c == '-' || *c == '_')) {
            return quote(p, key);
        }
    }
    return *key ? key : quote(p, key);
}

/* One line per value, depth first, in definition order. */
static void dump_value(apr_pool_t *p, apr_array_header_t *out, const char *path,
                       const hr_value *v)
{
    char num[64];
    int i;

    switch (v->type) {
    case HR_VAL_STRING:
        dump_append(out, apr_psprintf(p, "%s = string %s @%d\n", path,
                                      quote(p, v->u.s), v->line));
        break;
    case HR_VAL_INTEGER:
        dump_append(out,
                    apr_psprintf(p, "%s = integer %" APR_INT64_T_FMT " @%d\n",
                                 path, v->u.i, v->line));
        break;
    case HR_VAL_FLOAT:
        /* snprintf: APR's formatter has no exact %g. */
        snprintf(num, sizeof(num), "%.17g", v->u.f);
        dump_append(out,
                    apr_psprintf(p, "%s = float %s @%d\n", path, num, v->line));
        break;
    case HR_VAL_BOOLEAN:
        dump_append(out, apr_psprintf(p, "%s = boolean %s @%d\n", path,
                                      v->u.b ? "true" : "false", v->line));
        break;
    case HR_VAL_ARRAY:
        dump_append(out, apr_psprintf(p, "%s = array %d @%d\n", path,
                                      v->u.array->nelts, v->line));
        for (i = 0; i < v->u.array->nelts; i++) {
            dump_value(p, out, apr_psprintf(p, "%s[%d]", path, i),
                       APR_ARRAY_IDX(v->u.array, i, hr_value *));
        }
        break;
    case HR_VAL_TABLE:
        if (*path != '\0') {
            dump_append(out,
                        apr_psprintf(p, "%s = table%s%s%s @%d\n", path,
                                     v->u.table->is_inline ? " inline" : "",
                                     v->u.table->is_defined ? " defined" : "",
                                     v->u.table->from_array ? " element" : "",
                                     v->line));
        }
        for (i = 0; i < v->u.table->entries->nelts; i++) {
            hr_table_entry *e =
                &APR_ARRAY_IDX(v->u.table->entries, i, hr_table_entry);
            const char *name = key_name(p, e->key);

            /* The index must agree with the entries. */
            if (hr_table_find(v->u.table, e->key) != e) {
                dump_append(out, apr_psprintf(p, "INDEX MISMATCH %s\n", name));
            }
            dump_value(p, out,
                       *path ? apr_pstrcat(p, path, ".", name, NULL) : name,
                       e->value);
        }
        if (apr_hash_count(v->u.table->index) !=
            (unsigned)v->u.table->entries->nelts) {
            dump_append(out, apr_psprintf(p, "INDEX SIZE MISMATCH %s\n", path));
        }
        break;
    }
}

static const char *dump(apr_pool_t *p, const hr_value *root)
{
    apr_array_header_t *out = apr_array_make(p, 16, sizeof(const char *));

    dump_value(p, out, "", root);
    return apr_array_pstrcat(p, out, 0);
}

/* Parse text as "t.toml" into a fresh root; errors into *errors. */
static hr_value *parse(apr_pool_t *p, const char *text, apr_size_t len,
                       apr_array_header_t **errors, int *rc)
{
    hr_value *root = hr_value_make_table(p, "t.toml", 0);

    *errors = apr_array_make(p, 4, sizeof(char *));
    *rc = hr_toml_parse(p, "t.toml", text, len, root, *errors);
    return root;
}

/* Show a mismatch in the CUnit log before the assertion fails. */
static void report_mismatch(const char *name, const char *what,
                            const char *expected, const char *got)
{
    fprintf(stderr, "\n--- %s: %s\n--- expected:\n%s\n--- got:\n%s\n", name,
            what, expected, got);
}

static const char *errors_text(apr_pool_t *p, apr_array_header_t *errors)
{
    apr_array_header_t *out = apr_array_make(p, 8, sizeof(const char *));
    int i;

    for (i = 0; i < errors->nelts; i++) {
        dump_append(out, APR_ARRAY_IDX(errors, i, const char *));
        dump_append(out, "\n");
    }
    return apr_array_pstrcat(p, out, 0);
}

/* ---------------------------------------------------------- valid input */

typedef struct {
    const char *name;
    const char *input;
    const char *dump;
} valid_case;

static const valid_case valid_cases[] = {
    {"empty", "", ""},
    {"blank and comments", "# only a comment\n\n   \t\n# another # one\n", ""},
    {"crlf line ends", "a = 1\r\n# c\r\nb = \"x\"\r\n",
     "a = integer 1 @1\n"
     "b = string \"x\" @3\n"},
    {"bom",
     "\xEF\xBB\xBF"
     "a = true\n",
     "a = boolean true @1\n"},
    {"no final newline", "a=1", "a = integer 1 @1\n"},
    {"bare and quoted keys",
     "bare_key-1 = 1\n"
     "\"quoted key\" = 2\n"
     "'literal.key' = 3\n"
     "\"\" = 4\n"
     "1234 = 5\n"
     "true = 6\n",
     "bare_key-1 = integer 1 @1\n"
     "\"quoted key\" = integer 2 @2\n"
     "\"literal.key\" = integer 3 @3\n"
     "\"\" = integer 4 @4\n"
     "1234 = integer 5 @5\n"
     "true = integer 6 @6\n"},
    {"dotted keys make tables",
     "a.b.c = 1\n"
     "a . b . d = 2   # spaces around dots\n"
     "a.\"x.y\" = 3\n"
     "site.\"google.com\" = true\n"
     "3.14 = 'pi'\n",
     "a = table @1\n"
     "a.b = table @1\n"
     "a.b.c = integer 1 @1\n"
     "a.b.d = integer 2 @2\n"
     "a.\"x.y\" = integer 3 @3\n"
     "site = table @4\n"
     "site.\"google.com\" = boolean true @4\n"
     "3 = table @5\n"
     "3.14 = string \"pi\" @5\n"},
    {"dotted keys interleaved",
     "apple.type = 'fruit'\n"
     "orange.type = 'fruit'\n"
     "apple.skin = 'thin'\n",
     "apple = table @1\n"
     "apple.type = string \"fruit\" @1\n"
     "apple.skin = string \"thin\" @3\n"
     "orange = table @2\n"
     "orange.type = string \"fruit\" @2\n"},
    {"basic string escapes",
     "s = \"b\\bt\\tn\\nf\\fr\\rq\\\"s\\\\\"\n"
     "u = \"\\u00e9\\u20AC\\U0001F600\\u0041\"\n"
     "t = \"tab\there\"\n",
     "s = string \"b\\x08t\\tn\\nf\\x0Cr\\x0Dq\\\"s\\\\\" @1\n"
     "u = string \"\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80"
     "A\" @2\n"
     "t = string \"tab\\there\" @3\n"},
    {"utf-8 passes through",
     "s = \"caf\xC3\xA9 \xE2\x9C\x93\"  # d\xC3\xA9j\xC3\xA0 vu\n",
     "s = string \"caf\xC3\xA9 \xE2\x9C\x93\" @1\n"},
    {"literal strings",
     "path = 'C:\\Users\\nodejs\\templates'\n"
     "quoted = 'Tom \"Dubs\" Preston-Werner'\n"
     "regex = '<\\i\\c*\\s*>'\n"
     "empty = ''\n",
     "path = string \"C:\\\\Users\\\\nodejs\\\\templates\" @1\n"
     "quoted = string \"Tom \\\"Dubs\\\" Preston-Werner\" @2\n"
     "regex = string \"<\\\\i\\\\c*\\\\s*>\" @3\n"
     "empty = string \"\" @4\n"},
    {"multi-line basic strings",
     "a = \"\"\"\nRoses are red\nViolets are blue\"\"\"\n"
     "b = \"\"\"\\\n   The quick \\\n\n   brown fox.\\\n   \"\"\"\n"
     "c = \"\"\"Here are two quotes: \"\". Simple.\"\"\"\n"
     "d = \"\"\"ends in a quote\"\"\"\"\n"
     "e = \"\"\"ends in two\"\"\"\"\"\n"
     "f = \"\"\"esc \\t \\u00e9\"\"\"\n"
     "g = \"\"\"\r\ncrlf\r\nline\"\"\"\n"
     "h = 1\n",
     "a = string \"Roses are red\\nViolets are blue\" @1\n"
     "b = string \"The quick brown fox.\" @4\n"
     "c = string \"Here are two quotes: \\\"\\\". Simple.\" @9\n"
     "d = string \"ends in a quote\\\"\" @10\n"
     "e = string \"ends in two\\\"\\\"\" @11\n"
     "f = string \"esc \\t \xC3\xA9\" @12\n"
     "g = string \"crlf\\nline\" @13\n"
     "h = integer 1 @16\n"},
    {"multi-line literal strings",
     "re = '''I [dw]on't need \\d{2} apples'''\n"
     "lines = '''\nThe first newline is\ntrimmed in raw strings.\n"
     "   All other whitespace\n   is preserved.\n'''\n"
     "q = ''''That,' she said, 'is still pointless.''''\n"
     "after = 2\n",
     "re = string \"I [dw]on't need \\\\d{2} apples\" @1\n"
     "lines = string \"The first newline is\\ntrimmed in raw strings.\\n"
     "   All other whitespace\\n   is preserved.\\n\" @2\n"
     "q = string \"'That,' she said, 'is still pointless.'\" @8\n"
     "after = integer 2 @9\n"},
    {"integers",
     "a = 99\nb = +17\nc = -17\nd = 0\ne = -0\nf = 1_000\n"
     "g = 5_349_221\nh = 0xDEADBEEF\ni = 0xdead_beef\nj = 0o755\n"
     "k = 0b11010110\nl = 9223372036854775807\n"
     "m = -9223372036854775808\nn = 0x7FFFFFFFFFFFFFFF\no = 0o0\n",
     "a = integer 99 @1\n"
     "b = integer 17 @2\n"
     "c = integer -17 @3\n"
     "d = integer 0 @4\n"
     "e = integer 0 @5\n"
     "f = integer 1000 @6\n"
     "g = integer 5349221 @7\n"
     "h = integer 3735928559 @8\n"
     "i = integer 3735928559 @9\n"
     "j = integer 493 @10\n"
     "k = integer 214 @11\n"
     "l = integer 9223372036854775807 @12\n"
     "m = integer -9223372036854775808 @13\n"
     "n = integer 9223372036854775807 @14\n"
     "o = integer 0 @15\n"},
    {"floats",
     "a = +1.0\nb = 3.1415\nc = -0.01\nd = 5e+22\ne = 1e06\n"
     "f = -2E-2\ng = 6.626e-34\nh = 224_617.445_991\ni = 0.0\n"
     "j = inf\nk = -inf\nl = +inf\nm = 1e1_0\n",
     "a = float 1 @1\n"
     "b = float 3.1415000000000002 @2\n"
     "c = float -0.01 @3\n"
     "d = float 4.9999999999999996e+22 @4\n"
     "e = float 1000000 @5\n"
     "f = float -0.02 @6\n"
     "g = float 6.6259999999999998e-34 @7\n"
     "h = float 224617.44599099999 @8\n"
     "i = float 0 @9\n"
     "j = float inf @10\n"
     "k = float -inf @11\n"
     "l = float inf @12\n"
     "m = float 10000000000 @13\n"},
    {"booleans", "t = true\nf = false # no\n",
     "t = boolean true @1\n"
     "f = boolean false @2\n"},
    {"date-times are strings",
     "odt1 = 1979-05-27T07:32:00Z\n"
     "odt2 = 1979-05-27T00:32:00-07:00\n"
     "odt3 = 1979-05-27T00:32:00.999999+05:30\n"
     "odt4 = 1979-05-27 07:32:00Z\n"
     "ldt = 1979-05-27T07:32:00\n"
     "ld = 2024-02-29\n"
     "lt = 00:32:00.5\n",
     "odt1 = string \"1979-05-27T07:32:00Z\" @1\n"
     "odt2 = string \"1979-05-27T00:32:00-07:00\" @2\n"
     "odt3 = string \"1979-05-27T00:32:00.999999+05:30\" @3\n"
     "odt4 = string \"1979-05-27 07:32:00Z\" @4\n"
     "ldt = string \"1979-05-27T07:32:00\" @5\n"
     "ld = string \"2024-02-29\" @6\n"
     "lt = string \"00:32:00.5\" @7\n"},
    {"arrays",
     "a = [ 1, 2, 3 ]\n"
     "b = []\n"
     "c = [ \"red\", 'yellow', \"\"\"green\"\"\" ]\n"
     "d = [ [ 1, 2 ], [\"a\", 'b'] ]\n"
     "e = [ 0.1, \"mixed\", true, { x = 1 } ]\n"
     "f = [\n  1, # one\n  2,\n  # alone\n\n  3,\n]\n"
     "g = [ [ ], [[]] ]\n",
     "a = array 3 @1\n"
     "a[0] = integer 1 @1\n"
     "a[1] = integer 2 @1\n"
     "a[2] = integer 3 @1\n"
     "b = array 0 @2\n"
     "c = array 3 @3\n"
     "c[0] = string \"red\" @3\n"
     "c[1] = string \"yellow\" @3\n"
     "c[2] = string \"green\" @3\n"
     "d = array 2 @4\n"
     "d[0] = array 2 @4\n"
     "d[0][0] = integer 1 @4\n"
     "d[0][1] = integer 2 @4\n"
     "d[1] = array 2 @4\n"
     "d[1][0] = string \"a\" @4\n"
     "d[1][1] = string \"b\" @4\n"
     "e = array 4 @5\n"
     "e[0] = float 0.10000000000000001 @5\n"
     "e[1] = string \"mixed\" @5\n"
     "e[2] = boolean true @5\n"
     "e[3] = table inline @5\n"
     "e[3].x = integer 1 @5\n"
     "f = array 3 @6\n"
     "f[0] = integer 1 @7\n"
     "f[1] = integer 2 @8\n"
     "f[2] = integer 3 @11\n"
     "g = array 2 @13\n"
     "g[0] = array 0 @13\n"
     "g[1] = array 1 @13\n"
     "g[1][0] = array 0 @13\n"},
    {"inline tables",
     "name = { first = \"Tom\", last = \"Preston-Werner\" }\n"
     "point = {x=1,y=2}\n"
     "animal = { type.name = \"pug\", type.age = 3 }\n"
     "empty = {}\n"
     "nested = { a = { b = { c = [1] } } }\n",
     "name = table inline @1\n"
     "name.first = string \"Tom\" @1\n"
     "name.last = string \"Preston-Werner\" @1\n"
     "point = table inline @2\n"
     "point.x = integer 1 @2\n"
     "point.y = integer 2 @2\n"
     "animal = table inline @3\n"
     "animal.type = table inline @3\n"
     "animal.type.name = string \"pug\" @3\n"
     "animal.type.age = integer 3 @3\n"
     "empty = table inline @4\n"
     "nested = table inline @5\n"
     "nested.a = table inline @5\n"
     "nested.a.b = table inline @5\n"
     "nested.a.b.c = array 1 @5\n"
     "nested.a.b.c[0] = integer 1 @5\n"},
    {"tables and dotted headers",
     "top = 0\n"
     "[table-1]\n"
     "key1 = \"some string\"\n"
     "[ dog . \"tater.man\" ]   # spaces\n"
     "type.name = \"pug\"\n"
     "[a.b.\"quoted key\"]\n"
     "x = 1\n"
     "[a]   # defining the implicit parent later is fine\n"
     "y = 2\n"
     "[a.c]\n",
     "top = integer 0 @1\n"
     "table-1 = table defined @2\n"
     "table-1.key1 = string \"some string\" @3\n"
     "dog = table @4\n"
     "dog.\"tater.man\" = table defined @4\n"
     "dog.\"tater.man\".type = table @5\n"
     "dog.\"tater.man\".type.name = string \"pug\" @5\n"
     "a = table defined @8\n"
     "a.b = table @6\n"
     "a.b.\"quoted key\" = table defined @6\n"
     "a.b.\"quoted key\".x = integer 1 @7\n"
     "a.y = integer 2 @9\n"
     "a.c = table defined @10\n"},
    {"sub-table under a dotted-key table",
     "[fruit]\n"
     "apple.color = \"red\"\n"
     "apple.taste.sweet = true\n"
     "[fruit.apple.texture]\n"
     "smooth = true\n",
     "fruit = table defined @1\n"
     "fruit.apple = table @2\n"
     "fruit.apple.color = string \"red\" @2\n"
     "fruit.apple.taste = table @3\n"
     "fruit.apple.taste.sweet = boolean true @3\n"
     "fruit.apple.texture = table defined @4\n"
     "fruit.apple.texture.smooth = boolean true @5\n"},
    {"arrays of tables",
     "[[products]]\n"
     "name = \"Hammer\"\n"
     "[[products]]  # empty\n"
     "[[products]]\n"
     "name = \"Nail\"\n"
     "[[fruits]]\n"
     "name = \"apple\"\n"
     "[fruits.physical]\n"
     "color = \"red\"\n"
     "[[fruits.varieties]]\n"
     "name = \"red delicious\"\n"
     "[[fruits.varieties]]\n"
     "name = \"granny smith\"\n"
     "[[fruits]]\n"
     "name = \"banana\"\n"
     "[fruits.physical]\n",
     "products = array 3 @1\n"
     "products[0] = table defined element @1\n"
     "products[0].name = string \"Hammer\" @2\n"
     "products[1] = table defined element @3\n"
     "products[2] = table defined element @4\n"
     "products[2].name = string \"Nail\" @5\n"
     "fruits = array 2 @6\n"
     "fruits[0] = table defined element @6\n"
     "fruits[0].name = string \"apple\" @7\n"
     "fruits[0].physical = table defined @8\n"
     "fruits[0].physical.color = string \"red\" @9\n"
     "fruits[0].varieties = array 2 @10\n"
     "fruits[0].varieties[0] = table defined element @10\n"
     "fruits[0].varieties[0].name = string \"red delicious\" @11\n"
     "fruits[0].varieties[1] = table defined element @12\n"
     "fruits[0].varieties[1].name = string \"granny smith\" @13\n"
     "fruits[1] = table defined element @14\n"
     "fruits[1].name = string \"banana\" @15\n"
     "fruits[1].physical = table defined @16\n"},
    {"lines after multi-line values",
     "a = '''\none\ntwo\n'''\n"
     "b = [\n 1,\n 2 ]\n"
     "c = \"\"\"x\\\n\n\n  y\"\"\"\n"
     "d = 4\n",
     "a = string \"one\\ntwo\\n\" @1\n"
     "b = array 2 @5\n"
     "b[0] = integer 1 @6\n"
     "b[1] = integer 2 @7\n"
     "c = string \"xy\" @8\n"
     "d = integer 4 @12\n"},
    {"seed: ehlo and extensions",
     "[session.ehlo]\n"
     "require = true\n"
     "reject-non-fqdn = [ { if = \"listener\", eq = \"smtp\", then = true},\n"
     "                    { else = false } ]\n"
     "script = \"ehlo\"\n"
     "\n"
     "[session.extensions]\n"
     "pipelining = true\n"
     "no-soliciting = \"\"\n"
     "future-release = [ { if = \"authenticated-as\", ne = \"\", "
     "then = \"7d\"},\n"
     "                   { else = false } ]\n",
     "session = table @1\n"
     "session.ehlo = table defined @1\n"
     "session.ehlo.require = boolean true @2\n"
     "session.ehlo.reject-non-fqdn = array 2 @3\n"
     "session.ehlo.reject-non-fqdn[0] = table inline @3\n"
     "session.ehlo.reject-non-fqdn[0].if = string \"listener\" @3\n"
     "session.ehlo.reject-non-fqdn[0].eq = string \"smtp\" @3\n"
     "session.ehlo.reject-non-fqdn[0].then = boolean true @3\n"
     "session.ehlo.reject-non-fqdn[1] = table inline @4\n"
     "session.ehlo.reject-non-fqdn[1].else = boolean false @4\n"
     "session.ehlo.script = string \"ehlo\" @5\n"
     "session.extensions = table defined @7\n"
     "session.extensions.pipelining = boolean true @8\n"
     "session.extensions.no-soliciting = string \"\" @9\n"
     "session.extensions.future-release = array 2 @10\n"
     "session.extensions.future-release[0] = table inline @10\n"
     "session.extensions.future-release[0].if = "
     "string \"authenticated-as\" @10\n"
     "session.extensions.future-release[0].ne = string \"\" @10\n"
     "session.extensions.future-release[0].then = string \"7d\" @10\n"
     "session.extensions.future-release[1] = table inline @11\n"
     "session.extensions.future-release[1].else = boolean false @11\n"},
};

static void test_valid(void)
{
    size_t i;

    for (i = 0; i < sizeof(valid_cases) / sizeof(valid_cases[0]); i++) {
        const valid_case *c = &valid_cases[i];
        apr_pool_t *p;
        apr_array_header_t *errors;
        const char *got;
        hr_value *root;
        int rc;

        apr_pool_create(&p, pool);
        root = parse(p, c->input, strlen(c->input), &errors, &rc);
        if (rc != 0 || errors->nelts != 0) {
            report_mismatch(c->name, "unexpected errors", "",
                            errors_text(p, errors));
        }
        CU_ASSERT_EQUAL(rc, 0);
        CU_ASSERT_EQUAL(errors->nelts, 0);
        got = dump(p, root);
        if (strcmp(got, c->dump) != 0) {
            report_mismatch(c->name, "tree", c->dump, got);
        }
        CU_ASSERT_STRING_EQUAL(got, c->dump);
        apr_pool_destroy(p);
    }
}

/* Values the dump cannot show exactly: nan, NUL-free long strings. */
static void test_special_values(void)
{
    apr_pool_t *p;
    apr_array_header_t *errors;
    hr_value *root, *v;
    int rc;
    const char *text = "a = nan\nb = -nan\nc = +nan\n"
                       "d = \"\\u0000\"\n";

    apr_pool_create(&p, pool);
    root = parse(p, text, strlen(text), &errors, &rc);
    /* d: NUL cannot live in a C string, so it is refused. */
    CU_ASSERT_EQUAL(rc, 1);
    v = hr_table_get(root->u.table, "a");
    CU_ASSERT_PTR_NOT_NULL_FATAL(v);
    CU_ASSERT_EQUAL(v->type, HR_VAL_FLOAT);
    CU_ASSERT(v->u.f != v->u.f);
    v = hr_table_get(root->u.table, "b");
    CU_ASSERT_PTR_NOT_NULL_FATAL(v);
    CU_ASSERT(v->u.f != v->u.f);
    CU_ASSERT_PTR_NULL(hr_table_get(root->u.table, "d"));
    CU_ASSERT_STRING_EQUAL(APR_ARRAY_IDX(errors, 0, char *),
                           "t.toml:4: NUL character (\\u0000) is not "
                           "allowed in strings");

    /* The text need not be NUL-terminated: only len bytes are read. */
    root = parse(p, "x = 12345", 6, &errors, &rc);
    CU_ASSERT_EQUAL(rc, 0);
    v = hr_table_get(root->u.table, "x");
    CU_ASSERT_PTR_NOT_NULL_FATAL(v);
    CU_ASSERT_EQUAL(v->u.i, 12);

    /* Every value carries the file name. */
    CU_ASSERT_STRING_EQUAL(v->file, "t.toml");
    apr_pool_destroy(p);
}

/* The seed's configuration, with the lookups the modules will make. */
static void test_seed(void)
{
    static const char seed[] =
        "[session.ehlo]\n"
        "require = true\n"
        "reject-non-fqdn = [ { if = \"listener\", eq = \"smtp\", "
        "then = true},\n"
        "                    { else = false } ]\n"
        "script = \"ehlo\"\n"
        "\n"
        "[sieve.trusted.scripts]\n"
        "ehlo = '''\n"
        "    require [\"variables\", \"extlists\", \"reject\"];\n"
        "\n"
        "    if string :list \"${env.helo_domain}\" "
        "\"list/blocked-domains\" {\n"
        "        reject \"551 5.1.1 Your domain '${env.helo_domain}' has "
        "been blacklisted.\";\n"
        "    }\n"
        "'''\n"
        "[list]\n"
        "blocked-domains = [\"spam.example\", \"bad.example\"]\n"
        "\n"
        "[session.extensions]\n"
        "pipelining = true\n"
        "no-soliciting = \"\"\n"
        "dsn = [ { if = \"authenticated-as\", ne = \"\", then = true},\n"
        "        { else = false } ]\n"
        "future-release = [ { if = \"authenticated-as\", ne = \"\", "
        "then = \"7d\"},\n"
        "                   { else = false } ]\n";
    static const char script[] =
        "    require [\"variables\", \"extlists\", \"reject\"];\n"
        "\n"
        "    if string :list \"${env.helo_domain}\" "
        "\"list/blocked-domains\" {\n"
        "        reject \"551 5.1.1 Your domain '${env.helo_domain}' has "
        "been blacklisted.\";\n"
        "    }\n";
    apr_pool_t *p;
    apr_array_header_t *errors;
    hr_value *root, *v, *rule;
    hr_table_entry *e;
    int rc;

    apr_pool_create(&p, pool);
    root = parse(p, seed, sizeof(seed) - 1, &errors, &rc);
    CU_ASSERT_EQUAL_FATAL(rc, 0);

    v = hr_value_lookup(root, "session.ehlo.require");
    CU_ASSERT_PTR_NOT_NULL_FATAL(v);
    CU_ASSERT_EQUAL(v->type, HR_VAL_BOOLEAN);
    CU_ASSERT_EQUAL(v->u.b, 1);
    CU_ASSERT_EQUAL(v->line, 2);

    v = hr_value_lookup(root, "session.ehlo.reject-non-fqdn");
    CU_ASSERT_PTR_NOT_NULL_FATAL(v);
    CU_ASSERT_EQUAL_FATAL(v->type, HR_VAL_ARRAY);
    CU_ASSERT_EQUAL_FATAL(v->u.array->nelts, 2);
    rule = APR_ARRAY_IDX(v->u.array, 0, hr_value *);
    CU_ASSERT_EQUAL_FATAL(rule->type, HR_VAL_TABLE);
    e = &APR_ARRAY_IDX(rule->u.table->entries, 0, hr_table_entry);
    CU_ASSERT_STRING_EQUAL(e->key, "if");
    CU_ASSERT_STRING_EQUAL(e->value->u.s, "listener");
    e = &APR_ARRAY_IDX(rule->u.table->entries, 2, hr_table_entry);
    CU_ASSERT_STRING_EQUAL(e->key, "then");
    CU_ASSERT_EQUAL(e->value->type, HR_VAL_BOOLEAN);
    rule = APR_ARRAY_IDX(v->u.array, 1, hr_value *);
    CU_ASSERT_EQUAL(rule->line, 4);
    CU_ASSERT_PTR_NOT_NULL(hr_table_get(rule->u.table, "else"));

    v = hr_value_lookup(root, "sieve.trusted.scripts.ehlo");
    CU_ASSERT_PTR_NOT_NULL_FATAL(v);
    CU_ASSERT_EQUAL_FATAL(v->type, HR_VAL_STRING);
    CU_ASSERT_STRING_EQUAL(v->u.s, script);
    CU_ASSERT_EQUAL(v->line, 8);

    v = hr_value_lookup(root, "list.blocked-domains");
    CU_ASSERT_PTR_NOT_NULL_FATAL(v);
    CU_ASSERT_EQUAL_FATAL(v->type, HR_VAL_ARRAY);
    CU_ASSERT_EQUAL_FATAL(v->u.array->nelts, 2);
    CU_ASSERT_STRING_EQUAL(APR_ARRAY_IDX(v->u.array, 1, hr_value *)->u.s,
                           "bad.example");
    CU_ASSERT_EQUAL(v->line, 16);

    v = hr_value_lookup(root, "session.extensions.no-soliciting");
    CU_ASSERT_PTR_NOT_NULL_FATAL(v);
    CU_ASSERT_EQUAL(v->type, HR_VAL_STRING);
    CU_ASSERT_STRING_EQUAL(v->u.s, "");
    v = hr_value_lookup(root, "session.extensions.future-release");
    CU_ASSERT_PTR_NOT_NULL_FATAL(v);
    rule = APR_ARRAY_IDX(v->u.array, 0, hr_value *);
    CU_ASSERT_STRING_EQUAL(hr_table_get(rule->u.table, "then")->u.s, "7d");
    CU_ASSERT_EQUAL(v->line, 23);

    /* session: ehlo first, extensions second. */
    v = hr_value_lookup(root, "session");
    CU_ASSERT_PTR_NOT_NULL_FATAL(v);
    CU_ASSERT_EQUAL_FATAL(v->u.table->entries->nelts, 2);
    CU_ASSERT_STRING_EQUAL(
        APR_ARRAY_IDX(v->u.table->entries, 1, hr_table_entry).key,
        "extensions");
    apr_pool_destroy(p);
}

/* -------------------------------------------------------- invalid input */

typedef struct {
    const char *name;
    const char *input;
    int line;            /* line of the first error */
    const char *message; /* words the first message must contain */
    int count;           /* number of errors (recovery) */
} invalid_case;

#define OPEN10 "[[[[[[[[[["
#define CLOSE10 "]]]]]]]]]]"

static const invalid_case invalid_cases[] = {
    /* strings */
    {"unterminated string", "a = 1\nb = \"abc\nc = 2\n", 2,
     "unterminated string", 1},
    {"unterminated literal string", "a = 'abc", 1, "unterminated string", 1},
    {"unterminated multi-line basic", "a = 1\nb = \"\"\"abc\n\ndef\n", 2,
     "unterminated multi-line string", 1},
    {"unterminated multi-line literal", "\n\nc = '''\nabc ''\n", 3,
     "unterminated multi-line string", 1},
    {"invalid escape", "a = 1\nb = \"x\\qy\"\nc = 2\n", 2, "invalid escape \\q",
     1},
    {"invalid escape in multi-line", "a = \"\"\"\nok\nbad \\x41\n\"\"\"\n", 3,
     "invalid escape \\x", 1},
    {"backslash-space not at line end", "a = \"\"\"x \\ y\"\"\"\n", 1,
     "invalid escape", 1},
    {"short \\u escape", "s = \"\\u12G4\"\n", 1, "expected 4 hex digits", 1},
    {"surrogate \\u escape", "s = \"\\uD800\"\n", 1,
     "not a Unicode scalar value", 1},
    {"\\U above U+10FFFF", "s = \"\\U00110000\"\n", 1,
     "not a Unicode scalar value", 1},
    {"control character in string",
     "s = \"a\x01"
     "b\"\n",
     1, "control character 0x01", 1},
    {"DEL in literal string", "s = 'a\x7F'\n", 1, "control character 0x7F", 1},
    {"invalid UTF-8 in string", "s = \"\xC3\x28\"\n", 1, "invalid UTF-8", 1},
    {"overlong UTF-8", "s = '\xC0\xAF'\n", 1, "invalid UTF-8", 1},
    {"too many quotes", "s = \"\"\"abc\"\"\"\"\"\"\n", 1, "too many quotes", 1},
    {"multi-line key", "\"\"\"k\"\"\" = 1\n", 1, "cannot be a key", 1},
    /* keys and statements */
    {"missing =", "a = 1\nfoo 1\n", 2, "expected '=' after key 'foo'", 1},
    {"missing = at end of line", "foo.bar\n", 1,
     "expected '=' after key 'foo.bar'", 1},
    {"missing value", "a =\nb = 2\n", 1, "missing value for key 'a'", 1},
    {"missing value before comment", "a = # nothing\n", 1,
     "missing value for key 'a'", 1},
    {"invalid key character", "a$b = 1\n", 1, "expected '=' after key 'a'", 1},
    {"statement starts badly", "ok = 1\n= 1\n", 2,
     "expected a key or a [table]", 1},
    {"dot without a part", "a. = 1\n", 1, "invalid character '='", 1},
    {"key too long",
     "kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk"
     "kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk"
     "kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk"
     "kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk"
     " = 1\n",
     1, "key too long", 1},
    {"garbage after value", "a = 1 2\nb = 3\n", 1,
     "unexpected text after value: '2'", 1},
    {"garbage after string", "a = \"x\" y\n", 1,
     "unexpected text after value: 'y'", 1},
    {"garbage after header", "[a] b = 1\n", 1,
     "unexpected text after table header", 1},
    {"bare carriage return", "a = 1\rb = 2\n", 1,
     "carriage return not followed by a newline", 1},
    {"control character in comment", "a = 1 # x\x02y\n", 1,
     "control character 0x02 in comment", 1},
    {"unquoted string value", "a = yes\n", 1,
     "invalid value 'yes' (strings must be quoted)", 1},
    {"no value in array", "a = [ , ]\n", 1, "expected a value", 1},
    /* numbers and dates */
    {"leading zero", "a = 012\n", 1, "invalid number '012'", 1},
    {"double underscore", "a = 1__0\n", 1, "invalid number '1__0'", 1},
    {"leading underscore", "a = 1\nb = _1\n", 2, "invalid value '_1'", 1},
    {"trailing underscore", "a = 1_\n", 1, "invalid number '1_'", 1},
    {"empty hex", "a = 0x\n", 1, "invalid number '0x'", 1},
    {"signed hex", "a = +0x10\n", 1, "invalid number '+0x10'", 1},
    {"bad octal digit", "a = 0o8\n", 1, "invalid number '0o8'", 1},
    {"uppercase prefix", "a = 0X1F\n", 1, "invalid number '0X1F'", 1},
    {"integer too big", "a = 9223372036854775808\n", 1, "integer out of range",
     1},
    {"integer too small", "a = -9223372036854775809\n", 1,
     "integer out of range", 1},
    {"hex too big", "a = 0x1_0000_0000_0000_0000\n", 1, "integer out of range",
     1},
    {"float without fraction digits", "a = 1.\n", 1, "invalid number '1.'", 1},
    {"float without integer part", "a = .5\n", 1, "invalid number '.5'", 1},
    {"float with empty exponent", "a = 1e\n", 1, "invalid number '1e'", 1},
    {"float with leading zero", "a = 03.14\n", 1, "invalid number", 1},
    {"float out of range", "a = 1e999\n", 1, "float out of range", 1},
    {"bad month", "d = 1979-13-27\n", 1, "invalid date-time", 1},
    {"not a leap year", "d = 2023-02-29\n", 1, "invalid date-time", 1},
    {"bad hour", "t = 24:00:00\n", 1, "invalid date-time", 1},
    {"bad offset", "t = 1979-05-27T07:32:00+25:00\n", 1, "invalid date-time",
     1},
    {"value too long",
     "a = 1111111111111111111111111111111111111111111111111111111111111111"
     "11111111111111111111111111111111111111111111111111111111111111111111"
     "\n",
     1, "value too long", 1},
    /* arrays and inline tables */
    {"unclosed array", "a = 1\nb = [ 1, 2,\n 3\n", 2, "unclosed array 'b'", 1},
    {"array without comma", "a = [ 1 2 ]\n", 1,
     "expected ',' or ']' after an element of array 'a'", 1},
    {"array cut by a header", "a = [ 1,\n[b]\nc = 1\n", 2, "invalid value 'b'",
     1},
    {"inline table with newline", "a = { b = 1,\n c = 2 }\n", 1,
     "unclosed inline table 'a'", 1},
    {"inline table trailing comma", "a = { b = 1, }\n", 1,
     "trailing comma in inline table 'a'", 1},
    {"inline table without comma", "a = { b = 1 c = 2 }\n", 1,
     "expected ',' or '}' in inline table 'a'", 1},
    {"inline table duplicate key", "a = { b = 1, b = 2 }\n", 1,
     "duplicate key 'a.b'", 1},
    {"inline table extended by header", "a = { b = 1 }\n[a]\nc = 2\n", 2,
     "cannot define [a]: 'a' is already an inline table (defined at "
     "t.toml:1)",
     1},
    {"inline table extended by dotted key", "a = { b = 1 }\na.c = 2\n", 2,
     "inline table 'a' cannot be extended", 1},
    {"inline sub-table extended", "a = { b.c = 1 }\n[a.b.d]\n", 2,
     "cannot define [a.b.d]: 'a' is an inline table", 1},
    {"nesting too deep",
     "a = " OPEN10 OPEN10 OPEN10 OPEN10 OPEN10 OPEN10 OPEN10 CLOSE10 CLOSE10
         CLOSE10 CLOSE10 CLOSE10 CLOSE10 CLOSE10 "\n",
     1, "nested too deep (limit 64)", 1},
    {"nesting just deep enough",
     "a = 1\n"
     "b = " OPEN10 OPEN10 OPEN10 OPEN10 OPEN10 OPEN10
     "[[[[ 1 ]]]]" CLOSE10 CLOSE10 CLOSE10 CLOSE10 CLOSE10 CLOSE10
     "\nc = [[" OPEN10 OPEN10 OPEN10 OPEN10 OPEN10 OPEN10 "[[[[",
     3, "nested too deep", 1},
    /* redefinitions */
    {"duplicate key", "a = 1\nb = 2\na = 3\n", 3,
     "duplicate key 'a' (first defined at t.toml:1)", 1},
    {"duplicate key in table", "[t]\nx = 1\n\nx = 2\n", 4,
     "duplicate key 't.x' (first defined at t.toml:2)", 1},
    {"duplicate dotted key", "a.b = 1\na.b = 2\n", 2, "duplicate key 'a.b'", 1},
    {"key redefines a table", "a.b = 1\na = 2\n", 2, "duplicate key 'a'", 1},
    {"dotted key through a value", "a = 1\na.b = 2\n", 2,
     "cannot set 'a.b': 'a' is an integer (defined at t.toml:1)", 1},
    {"table defined twice", "[x]\na = 1\n[y]\n[x]\nb = 2\n", 4,
     "table [x] defined twice (first at t.toml:1)", 1},
    {"dotted table defined twice", "[a.b]\n[a]\n[a.b]\n", 3,
     "table [a.b] defined twice", 1},
    {"header on a dotted-key table", "a.b = 1\n[a]\n", 2,
     "table [a] was already defined by dotted keys at t.toml:1", 1},
    {"header on a dotted sub-table",
     "[fruit]\napple.color = 'red'\n"
     "[fruit.apple]\n",
     3, "already defined by dotted keys", 1},
    {"header replaces a value", "a = 1\n[a]\n", 2,
     "cannot define [a]: 'a' is already an integer", 1},
    {"header through a static array", "a = [1]\n[a.b]\n", 2,
     "cannot define [a.b]: 'a' is an array", 1},
    {"dotted key into a defined table", "[a.b.c]\nz = 9\n[a]\nb.c.t = 1\n", 4,
     "table [a.b.c] was defined at t.toml:1", 1},
    {"array of tables on a value", "x = 1\n[[x]]\n", 2,
     "cannot append to [[x]]: 'x' is an integer, not an array of tables", 1},
    {"array of tables on a static array", "x = [ {a = 1} ]\n[[x]]\n", 2,
     "'x' is an array, not an array of tables", 1},
    {"array of tables on a table", "[x]\n[[x]]\n", 2,
     "'x' is a table, not an array of tables", 1},
    {"table over an array of tables", "[[x]]\n[x]\n", 2,
     "'x' is already an array of tables", 1},
    /* headers */
    {"unclosed header", "[a\nb = 1\n", 1, "expected ']' after '[a'", 1},
    {"unclosed array header", "[[a]\n", 1, "expected ']]' after '[[a'", 1},
    {"empty header", "[]\n", 1, "invalid character ']' in key", 1},
    {"header with bad key", "[a b]\n", 1, "expected ']' after '[a'", 1},
    {"too many key parts",
     "a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a."
     "a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a"
     " = 1\n",
     1, "too many parts (limit 64)", 1},
    /* recovery: errors on several lines, the rest still parsed */
    {"several errors", "a =\nb = 1\nc = ?\nd = 2\n[x\ne = 'z\n", 1,
     "missing value", 4},
    {"keys after a bad header are dropped", "[t]\nk = 1\n[t]\nk = 2\n", 3,
     "defined twice", 1},
};

static void test_invalid(void)
{
    size_t i;

    for (i = 0; i < sizeof(invalid_cases) / sizeof(invalid_cases[0]); i++) {
        const invalid_case *c = &invalid_cases[i];
        apr_pool_t *p;
        apr_array_header_t *errors;
        const char *prefix, *first;
        int rc, ok;

        apr_pool_create(&p, pool);
        parse(p, c->input, strlen(c->input), &errors, &rc);
        prefix = apr_psprintf(p, "t.toml:%d: ", c->line);
        first = errors->nelts > 0 ? APR_ARRAY_IDX(errors, 0, char *) : "";
        ok = rc == errors->nelts && rc == c->count &&
             strncmp(first, prefix, strlen(prefix)) == 0 &&
             strstr(first + strlen(prefix), c->message) != NULL;
        if (!ok) {
            report_mismatch(
                c->name, "errors",
                apr_psprintf(p, "%d error(s), first: %s%s", c->count, prefix,
                             c->message),
                apr_psprintf(p, "rc=%d\n%s", rc, errors_text(p, errors)));
        }
        CU_ASSERT(ok);
        apr_pool_destroy(p);
    }
}

/* Recovery keeps the good keys; a failed header does not leak its keys. */
static void test_recovery(void)
{
    apr_pool_t *p;
    apr_array_header_t *errors;
    hr_value *root;
    const char *text = "a =\nb = 1\nc = ?\nd = 2\n[x\ne = 'z'\n[y]\nf = 3\n";
    int rc;

    apr_pool_create(&p, pool);
    root = parse(p, text, strlen(text), &errors, &rc);
    CU_ASSERT_EQUAL(rc, 3);
    CU_ASSERT_STRING_EQUAL(dump(p, root), "b = integer 1 @2\n"
                                          "d = integer 2 @4\n"
                                          "y = table defined @7\n"
                                          "y.f = integer 3 @8\n");
    CU_ASSERT_STRING_EQUAL(errors_text(p, errors),
                           "t.toml:1: missing value for key 'a'\n"
                           "t.toml:3: expected a value for 'c', found '?'\n"
                           "t.toml:5: expected ']' after '[x'\n");
    apr_pool_destroy(p);
}

/* An error inside a multi-line array is reported once, not per line. */
static void test_recovery_in_arrays(void)
{
    apr_pool_t *p;
    apr_array_header_t *errors;
    hr_value *root;
    const char *text =
        "a = [\n"
        "  1,\n"
        "  x,\n"
        "  '] in a string', # ] in a comment\n"
        "  [ 3, 4 ],\n"
        "]\n"
        "b = 2\n"
        "rules = [ { if = \"listener\" eq = \"smtp\", then = true },\n"
        "          { else = false } ]\n"
        "c = 3\n"
        "d = [ \"\"\"\n"
        "] \\q \"\"\" ]\n"
        "e = 5\n";
    int rc;

    apr_pool_create(&p, pool);
    root = parse(p, text, strlen(text), &errors, &rc);
    CU_ASSERT_STRING_EQUAL(errors_text(p, errors),
                           "t.toml:3: invalid value 'x' (strings must be "
                           "quoted)\n"
                           "t.toml:8: expected ',' or '}' in inline table "
                           "'rules[]', found 'eq = \"smtp\", then = true "
                           "},'\n"
                           "t.toml:12: invalid escape \\q\n");
    CU_ASSERT_EQUAL(rc, 3);
    CU_ASSERT_STRING_EQUAL(dump(p, root), "b = integer 2 @7\n"
                                          "c = integer 3 @10\n"
                                          "e = integer 5 @13\n");
    apr_pool_destroy(p);
}

/* At most 50 errors; earlier entries of the error list are kept. */
static void test_error_limit(void)
{
    apr_pool_t *p;
    apr_array_header_t *errors;
    hr_value *root;
    char *text;
    int i, rc;

    apr_pool_create(&p, pool);
    text = apr_palloc(p, 200 * 4 + 1);
    for (i = 0; i < 200; i++) {
        memcpy(text + i * 4, "= 1\n", 4);
    }
    text[200 * 4] = '\0';
    root = hr_value_make_table(p, "many.toml", 0);
    errors = apr_array_make(p, 4, sizeof(char *));
    APR_ARRAY_PUSH(errors, char *) = "earlier error";
    rc = hr_toml_parse(p, "many.toml", text, strlen(text), root, errors);
    CU_ASSERT_EQUAL(rc, 50);
    CU_ASSERT_EQUAL(errors->nelts, 51);
    CU_ASSERT_STRING_EQUAL(APR_ARRAY_IDX(errors, 0, char *), "earlier error");
    CU_ASSERT_STRING_EQUAL(APR_ARRAY_IDX(errors, 1, char *),
                           "many.toml:1: expected a key or a [table], "
                           "found '='");
    CU_ASSERT_PTR_NOT_NULL(
        strstr(APR_ARRAY_IDX(errors, 50, char *), "many.toml:50: "));
    CU_ASSERT_PTR_NOT_NULL(
        strstr(APR_ARRAY_IDX(errors, 50, char *), "giving up"));
    apr_pool_destroy(p);
}

/* ---------------------------------------------------- several documents */

static void test_merge(void)
{
    apr_pool_t *p;
    apr_array_header_t *errors;
    hr_value *root;
    const char *one = "a = 1\n[t]\nx = 1\n[[srv]]\nn = 1\n";
    const char *two = "b = 2\n[t]\ny = 2\n[[srv]]\nn = 2\n";
    const char *three = "\n\na = 3\n[t]\nx = 3\nt2.k = 1\n";
    int rc;

    apr_pool_create(&p, pool);
    root = hr_value_make_table(p, "<root>", 0);
    errors = apr_array_make(p, 4, sizeof(char *));
    rc = hr_toml_parse(p, "one.toml", one, strlen(one), root, errors);
    CU_ASSERT_EQUAL(rc, 0);
    rc = hr_toml_parse(p, "two.toml", two, strlen(two), root, errors);
    CU_ASSERT_EQUAL(rc, 0);
    CU_ASSERT_STRING_EQUAL(dump(p, root), "a = integer 1 @1\n"
                                          "t = table defined @2\n"
                                          "t.x = integer 1 @3\n"
                                          "t.y = integer 2 @3\n"
                                          "srv = array 2 @4\n"
                                          "srv[0] = table defined element @4\n"
                                          "srv[0].n = integer 1 @5\n"
                                          "srv[1] = table defined element @4\n"
                                          "srv[1].n = integer 2 @5\n"
                                          "b = integer 2 @1\n");
    CU_ASSERT_STRING_EQUAL(hr_value_lookup(root, "t.y")->file, "two.toml");
    CU_ASSERT_STRING_EQUAL(hr_value_lookup(root, "t.x")->file, "one.toml");

    /* A key defined in two files: the error names both places. */
    rc = hr_toml_parse(p, "three.toml", three, strlen(three), root, errors);
    CU_ASSERT_EQUAL(rc, 2);
    CU_ASSERT_STRING_EQUAL(errors_text(p, errors),
                           "three.toml:3: duplicate key 'a' (first defined "
                           "at one.toml:1)\n"
                           "three.toml:5: duplicate key 't.x' (first "
                           "defined at one.toml:3)\n");
    CU_ASSERT_PTR_NOT_NULL(hr_value_lookup(root, "t.t2.k"));

    /* The root must be a table. */
    errors = apr_array_make(p, 4, sizeof(char *));
    root->type = HR_VAL_STRING;
    CU_ASSERT_EQUAL(hr_toml_parse(p, "x.toml", "a=1", 3, root, errors), 1);
    apr_pool_destroy(p);
}

/* ---------------------------------------------------------------- files */

static char *read_whole(apr_pool_t *p, const char *path)
{
    apr_file_t *f;
    apr_finfo_t fi;
    apr_size_t n;
    char *buf;

    if (apr_file_open(&f, path, APR_FOPEN_READ, APR_FPROT_OS_DEFAULT, p) !=
            APR_SUCCESS ||
        apr_file_info_get(&fi, APR_FINFO_SIZE, f) != APR_SUCCESS) {
        return NULL;
    }
    n = (apr_size_t)fi.size;
    buf = apr_palloc(p, n + 1);
    if (apr_file_read_full(f, buf, n, &n) != APR_SUCCESS) {
        n = 0;
    }
    buf[n] = '\0';
    apr_file_close(f);
    return buf;
}

/* s with every occurrence of cut removed. */
static const char *without(apr_pool_t *p, const char *s, const char *cut)
{
    apr_array_header_t *out = apr_array_make(p, 4, sizeof(const char *));
    const char *hit;

    while ((hit = strstr(s, cut)) != NULL) {
        dump_append(out, apr_pstrndup(p, s, (apr_size_t)(hit - s)));
        s = hit + strlen(cut);
    }
    dump_append(out, s);
    return apr_array_pstrcat(p, out, 0);
}

/*
 * NAME.toml parses to the tree NAME.ref (when present) with exactly the
 * errors of NAME.err (none when absent).
 */
static void test_golden_files(void)
{
    static const char *const names[] = {"seed", "features", "errors",
                                        "recovery"};
    size_t i;

    for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        apr_pool_t *p;
        apr_array_header_t *errors, *got_lines;
        hr_value *root;
        const char *path, *ref, *err, *got;
        int rc, j;

        apr_pool_create(&p, pool);
        path = apr_psprintf(p, "%s/%s.toml", TOML_DATA_DIR, names[i]);
        ref = read_whole(p,
                         apr_psprintf(p, "%s/%s.ref", TOML_DATA_DIR, names[i]));
        err = read_whole(p,
                         apr_psprintf(p, "%s/%s.err", TOML_DATA_DIR, names[i]));
        CU_ASSERT_FATAL(ref != NULL || err != NULL);
        root = hr_value_make_table(p, path, 0);
        errors = apr_array_make(p, 4, sizeof(char *));
        rc = hr_toml_parse_file(p, path, root, errors);
        CU_ASSERT_EQUAL(rc, errors->nelts);

        /* Errors are compared without the data directory. */
        got_lines = apr_array_make(p, 8, sizeof(const char *));
        for (j = 0; j < errors->nelts; j++) {
            dump_append(got_lines,
                        without(p, APR_ARRAY_IDX(errors, j, const char *),
                                TOML_DATA_DIR "/"));
            dump_append(got_lines, "\n");
        }
        got = apr_array_pstrcat(p, got_lines, 0);
        if (strcmp(got, err ? err : "") != 0) {
            report_mismatch(names[i], "errors", err ? err : "", got);
        }
        CU_ASSERT_STRING_EQUAL(got, err ? err : "");
        if (ref != NULL) {
            got = dump(p, root);
            if (strcmp(got, ref) != 0) {
                report_mismatch(names[i], "tree", ref, got);
            }
            CU_ASSERT_STRING_EQUAL(got, ref);
        }
        apr_pool_destroy(p);
    }
}

static void test_file_errors(void)
{
    apr_pool_t *p;
    apr_array_header_t *errors;
    hr_value *root;
    const char *tmpdir, *path;
    apr_file_t *f;
    int rc;

    apr_pool_create(&p, pool);
    root = hr_value_make_table(p, "x", 0);

    /* A missing file is one error naming it. */
    errors = apr_array_make(p, 4, sizeof(char *));
    rc = hr_toml_parse_file(p, "/nonexistent/herald.toml", root, errors);
    CU_ASSERT_EQUAL(rc, 1);
    CU_ASSERT_EQUAL_FATAL(errors->nelts, 1);
    CU_ASSERT_STRING_EQUAL(APR_ARRAY_IDX(errors, 0, char *),
                           "/nonexistent/herald.toml: cannot open: "
                           "No such file or directory");

    /* A directory cannot be read. */
    errors = apr_array_make(p, 4, sizeof(char *));
    rc = hr_toml_parse_file(p, TOML_DATA_DIR, root, errors);
    CU_ASSERT_EQUAL(rc, 1);
    CU_ASSERT_EQUAL_FATAL(errors->nelts, 1);
    CU_ASSERT_PTR_NOT_NULL(
        strstr(APR_ARRAY_IDX(errors, 0, char *), ": cannot "));

    /* Over 16 MiB (a sparse file: nothing is written). */
    CU_ASSERT_EQUAL_FATAL(apr_temp_dir_get(&tmpdir, p), APR_SUCCESS);
    path = apr_psprintf(p, "%s/test_toml.XXXXXX", tmpdir);
    CU_ASSERT_EQUAL_FATAL(apr_file_mktemp(&f, (char *)path,
                                          APR_FOPEN_CREATE | APR_FOPEN_READ |
                                              APR_FOPEN_WRITE | APR_FOPEN_EXCL,
                                          p),
                          APR_SUCCESS);
    CU_ASSERT_EQUAL(apr_file_trunc(f, 16 * 1024 * 1024 + 1), APR_SUCCESS);
    apr_file_close(f);
    errors = apr_array_make(p, 4, sizeof(char *));
    rc = hr_toml_parse_file(p, path, root, errors);
    CU_ASSERT_EQUAL(rc, 1);
    CU_ASSERT_EQUAL_FATAL(errors->nelts, 1);
    CU_ASSERT_STRING_EQUAL(APR_ARRAY_IDX(errors, 0, char *),
                           apr_psprintf(p,
                                        "%s: file too large (limit 16 "
                                        "MiB)",
                                        path));
    apr_file_remove(path, p);
    apr_pool_destroy(p);
}

/* ------------------------------------------------------- hostile input */

static unsigned long long rng_state = 0x9E3779B97F4A7C15ULL;

/* xorshift64: reproducible "random" input. */
static unsigned long long rng(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

/* Parse and check the error list is well-formed; returns errors added. */
static int parse_hostile(apr_pool_t *p, const char *text, apr_size_t len)
{
    apr_array_header_t *errors;
    int rc, i, ok = 1;

    parse(p, text, len, &errors, &rc);
    ok = rc == errors->nelts && rc <= 50;
    for (i = 0; i < errors->nelts; i++) {
        const char *e = APR_ARRAY_IDX(errors, i, const char *);
        char *end;
        long line;

        if (strncmp(e, "t.toml:", 7) != 0) {
            ok = 0;
            break;
        }
        line = strtol(e + 7, &end, 10);
        if (line < 1 || strncmp(end, ": ", 2) != 0 || end[2] == '\0') {
            ok = 0;
            break;
        }
    }
    if (!ok) {
        fprintf(stderr, "\nbad error list:\n%s", errors_text(p, errors));
    }
    CU_ASSERT(ok);
    return rc;
}

static void test_hostile(void)
{
    static const char alphabet[] = "[]{}=\"'.,#\n\r\t 0a1_-+eExu\\:TZ";
    apr_pool_t *p, *sub;
    apr_array_header_t *errors;
    apr_size_t big = 1024 * 1024, i;
    hr_value *root;
    char *text;
    int round, rc;

    apr_pool_create(&p, pool);

    /* Deep nesting: arrays, then inline tables. */
    text = apr_palloc(p, big + 8);
    memcpy(text, "a = ", 4);
    memset(text + 4, '[', big);
    CU_ASSERT_EQUAL(parse_hostile(p, text, big + 4), 1);
    for (i = 4; i + 4 < big; i += 4) {
        memcpy(text + i, "{a=", 3);
        text[i + 3] = ' ';
    }
    CU_ASSERT_EQUAL(parse_hostile(p, text, big), 1);

    /* A 1 MB line: a string is fine, a key or a number is not. */
    text[0] = 'a';
    text[1] = '=';
    text[2] = '"';
    memset(text + 3, 'x', big);
    text[big + 3] = '"';
    apr_pool_create(&sub, p);
    root = parse(sub, text, big + 4, &errors, &rc);
    CU_ASSERT_EQUAL(rc, 0);
    CU_ASSERT_EQUAL(errors->nelts, 0);
    if (rc == 0) {
        CU_ASSERT_EQUAL(strlen(hr_table_get(root->u.table, "a")->u.s), big);
    }
    apr_pool_destroy(sub);
    memset(text, 'k', big);
    CU_ASSERT_EQUAL(parse_hostile(p, text, big), 1);
    memcpy(text, "a = ", 4);
    memset(text + 4, '7', big - 4);
    CU_ASSERT_EQUAL(parse_hostile(p, text, big), 1);
    text[0] = '#';
    CU_ASSERT_EQUAL(parse_hostile(p, text, big), 0);
    memset(text, '\n', big);
    CU_ASSERT_EQUAL(parse_hostile(p, text, big), 0);
    memset(text, '=', big);
    CU_ASSERT_EQUAL(parse_hostile(p, text, big), 1);

    /* Too many tables: 150000 empty inline tables in one array. */
    memcpy(text, "a = [", 5);
    for (i = 0; i < 150000; i++) {
        memcpy(text + 5 + i * 3, "{},", 3);
    }
    text[5 + i * 3] = ']';
    apr_pool_create(&sub, p);
    parse(sub, text, 5 + i * 3 + 1, &errors, &rc);
    CU_ASSERT_EQUAL(rc, 1);
    CU_ASSERT_STRING_EQUAL(errors_text(sub, errors),
                           "t.toml:1: too many tables (limit 100000)\n");
    apr_pool_destroy(sub);

    /* Random bytes, then random TOML-ish characters. */
    for (round = 0; round < 3000; round++) {
        apr_size_t len = (apr_size_t)(rng() % 1024);

        apr_pool_create(&sub, p);
        for (i = 0; i < len; i++) {
            text[i] = (round & 1) ? (char)(rng() & 0xFF)
                                  : alphabet[rng() % (sizeof(alphabet) - 1)];
        }
        parse_hostile(sub, text, len);
        apr_pool_destroy(sub);
    }

    /* The seed with random bytes changed. */
    for (round = 0; round < 2000; round++) {
        const char *seed =
            valid_cases[sizeof(valid_cases) / sizeof(valid_cases[0]) - 1].input;
        apr_size_t len = strlen(seed);
        int flips = 1 + (int)(rng() % 4);

        memcpy(text, seed, len);
        while (flips-- > 0) {
            text[rng() % len] = (rng() & 1)
                                    ? (char)(rng() & 0xFF)
                                    : alphabet[rng() % (sizeof(alphabet) - 1)];
        }
        apr_pool_create(&sub, p);
        parse_hostile(sub, text, len);
        apr_pool_destroy(sub);
    }
    apr_pool_destroy(p);
}

/* ---------------------------------------------------------------- main */

int main(void)
{
    CU_pSuite suite;

    apr_initialize();
    apr_pool_create(&pool, NULL);
    if (CU_initialize_registry() != CUE_SUCCESS) {
        return 1;
    }
    suite = CU_add_suite("toml", NULL, NULL);
    if (suite == NULL || !CU_add_test(suite, "valid documents", test_valid) ||
        !CU_add_test(suite, "special values", test_special_values) ||
        !CU_add_test(suite, "seed configuration", test_seed) ||
        !CU_add_test(suite, "invalid documents", test_invalid) ||
        !CU_add_test(suite, "recovery after errors", test_recovery) ||
        !CU_add_test(suite, "recovery in arrays", test_recovery_in_arrays) ||
        !CU_add_test(suite, "error limit", test_error_limit) ||
        !CU_add_test(suite, "several files in one tree", test_merge) ||
        !CU_add_test(suite, "golden files", test_golden_files) ||
        !CU_add_test(suite, "file errors", test_file_errors) ||
        !CU_add_test(suite, "hostile input", test_hostile)) {
        CU_cleanup_registry();
        return 1;
    }
    CU_basic_set_mode(CU_BRM_VERBOSE);
    CU_basic_run_tests();
    {
        int failed = CU_get_number_of_failures() != 0 || CU_get_error();

        CU_cleanup_registry();
        apr_pool_destroy(pool);
        apr_terminate();
        return failed;
    }
}
