/*
 * test_sieve.c -- conformance suite of the Sieve engine (modules/sieve).
 *
 * Table-driven: RUN_CASES rows give a script, the host's view of the
 * session (env values, headers, envelope, size) and the expected status,
 * action and reject text; reject "${a}/${b}" is how rows check variable
 * values.  ERROR_CASES rows give invalid scripts with the expected
 * line:column and message.  Further tests cover the seed EHLO script,
 * stage masks, limits, the budget, every prefix of a large script
 * (robustness under ASan), and one program run from two threads.
 *
 * Run: make test/unit/test_sieve && ./test/unit/test_sieve
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <CUnit/Basic.h>
#include <apr_general.h>
#include <apr_strings.h>
#include <apr_thread_proc.h>

#include "sieve.h"

static apr_pool_t *pool;

/* ------------------------------------------------------ the test host */

#define MAX_ITEMS 16

typedef struct test_ctx {
    const char *env_names[MAX_ITEMS], *env_values[MAX_ITEMS];
    int nenv;
    const char *hdr_names[MAX_ITEMS], *hdr_values[MAX_ITEMS];
    int nhdr;
    const char *from;
    const char *to[MAX_ITEMS];
    int nto;
    apr_off_t size;
} test_ctx;

static const char *const blocked[] = { "spam.example", "bad.example", NULL };
static const char *const vips[] = { "boss@example.com", NULL };

static const char *const *find_list(const char *name)
{
    if (strcmp(name, "list/blocked-domains") == 0)
        return blocked;
    if (strcmp(name, "list/vip") == 0)
        return vips;
    return NULL;
}

static const char *host_env(void *c, const char *name)
{
    test_ctx *t = c;
    int i;

    for (i = 0; i < t->nenv; i++)
        if (strcmp(t->env_names[i], name) == 0)
            return t->env_values[i];
    return NULL;
}

static int host_list_contains(void *c, const char *list, const char *value,
                              apr_size_t len, int casefold)
{
    const char *const *l = find_list(list);
    int i;

    if (l == NULL)
        return -1;
    if (strlen(value) != len)
        return -2;                        /* would be an engine bug */
    for (i = 0; l[i]; i++)
        if (casefold ? strcasecmp(l[i], value) == 0
                     : strcmp(l[i], value) == 0)
            return 1;
    return 0;
}

static int host_list_exists(void *c, const char *list)
{
    return find_list(list) != NULL;
}

static const char *host_envelope(void *c, const char *part, unsigned idx)
{
    test_ctx *t = c;

    if (strcmp(part, "from") == 0)
        return idx == 0 ? t->from : NULL;
    if (strcmp(part, "to") == 0)
        return (int)idx < t->nto ? t->to[idx] : NULL;
    return NULL;
}

static const char *host_header(void *c, const char *name, unsigned idx)
{
    test_ctx *t = c;
    int i;

    for (i = 0; i < t->nhdr; i++)
        if (strcasecmp(t->hdr_names[i], name) == 0 && idx-- == 0)
            return t->hdr_values[i];
    return NULL;
}

static apr_off_t host_size(void *c)
{
    return ((test_ctx *)c)->size;
}

static const sieve_host test_host = {
    host_env, host_list_contains, host_list_exists, host_envelope,
    host_header, host_size
};

/* Fill CTX from "k=v|k=v" env, "Name: v|Name: v" headers and "a,b" to. */
static void setup_ctx(test_ctx *t, const char *env, const char *headers,
                      const char *from, const char *to, long size)
{
    char *s, *item, *last;

    memset(t, 0, sizeof(*t));
    t->from = from;
    t->size = size;
    s = apr_pstrdup(pool, env ? env : "");
    for (item = apr_strtok(s, "|", &last); item && t->nenv < MAX_ITEMS;
         item = apr_strtok(NULL, "|", &last)) {
        char *eq = strchr(item, '=');

        if (eq == NULL)
            continue;
        *eq = '\0';
        t->env_names[t->nenv] = item;
        t->env_values[t->nenv++] = eq + 1;
    }
    s = apr_pstrdup(pool, headers ? headers : "");
    for (item = apr_strtok(s, "|", &last); item && t->nhdr < MAX_ITEMS;
         item = apr_strtok(NULL, "|", &last)) {
        char *colon = strchr(item, ':');

        if (colon == NULL)
            continue;
        *colon = '\0';
        t->hdr_names[t->nhdr] = item;
        t->hdr_values[t->nhdr++] = colon + 1;
    }
    s = apr_pstrdup(pool, to ? to : "");
    for (item = apr_strtok(s, ",", &last); item && t->nto < MAX_ITEMS;
         item = apr_strtok(NULL, ",", &last))
        t->to[t->nto++] = item;
}

/* --------------------------------------------------------- run cases */

typedef struct run_case {
    const char *script;
    const char *env, *headers, *from, *to;
    long size;
    int status;
    sieve_action action;
    const char *reject;          /* expected reject text ("" for none) */
} run_case;

#define OK SIEVE_OK
#define KEEP SIEVE_KEEP
#define DISCARD SIEVE_DISCARD
#define REJECT SIEVE_REJECT
#define V "require [\"variables\", \"reject\"];\n"
#define SEED "require [\"variables\", \"extlists\", \"reject\"];\n" \
    "if string :list \"${env.helo_domain}\" \"list/blocked-domains\" {\n" \
    "    reject \"551 5.1.1 Your domain '${env.helo_domain}' has been " \
    "blacklisted.\";\n}\n"
#define MSG "From: \"John Doe\" <John@Example.COM>|To: a@x.com, " \
    "Group: b@y.com, c@z.com;, d@w.com|Subject: [acme-users] [fwd] " \
    "version 1.0|Received: one|Received: two|X-Score: 7|Cc: " \
    "boss (the boss) @ example.com"

static const run_case run_cases[] = {
    /* the seed EHLO script */
    { SEED, "helo_domain=spam.example", 0, 0, 0, -1, OK, REJECT,
      "551 5.1.1 Your domain 'spam.example' has been blacklisted." },
    { SEED, "helo_domain=SPAM.Example", 0, 0, 0, -1, OK, REJECT,
      "551 5.1.1 Your domain 'SPAM.Example' has been blacklisted." },
    { SEED, "helo_domain=bad.example", 0, 0, 0, -1, OK, REJECT,
      "551 5.1.1 Your domain 'bad.example' has been blacklisted." },
    { SEED, "helo_domain=good.example", 0, 0, 0, -1, OK, KEEP, "" },
    { SEED, "", 0, 0, 0, -1, OK, KEEP, "" },
    /* core commands (RFC 5228 §4) and control (§3) */
    { "", 0, 0, 0, 0, -1, OK, KEEP, "" },
    { "keep;", 0, 0, 0, 0, -1, OK, KEEP, "" },
    { "discard;", 0, 0, 0, 0, -1, OK, DISCARD, "" },
    { "discard; keep;", 0, 0, 0, 0, -1, OK, KEEP, "" },
    { "stop; discard;", 0, 0, 0, 0, -1, OK, KEEP, "" },
    { "# comment\n/* two\n lines */ discard; # end", 0, 0, 0, 0, -1, OK,
      DISCARD, "" },
    { "if false { keep; } elsif true { discard; } else { keep; }", 0, 0, 0,
      0, -1, OK, DISCARD, "" },
    { "if false { keep; } elsif false { keep; } else { discard; }", 0, 0, 0,
      0, -1, OK, DISCARD, "" },
    { "if true { discard; } else { keep; }", 0, 0, 0, 0, -1, OK, DISCARD,
      "" },
    { "if anyof(false, true) { discard; }", 0, 0, 0, 0, -1, OK, DISCARD,
      "" },
    { "if anyof(false, false) { discard; }", 0, 0, 0, 0, -1, OK, KEEP, "" },
    { "if allof(true, true) { discard; }", 0, 0, 0, 0, -1, OK, DISCARD, "" },
    { "if allof(true, false) { discard; }", 0, 0, 0, 0, -1, OK, KEEP, "" },
    { "if not false { discard; }", 0, 0, 0, 0, -1, OK, DISCARD, "" },
    { "if not not true { discard; }", 0, 0, 0, 0, -1, OK, DISCARD, "" },
    { "if true { if true { stop; } } discard;", 0, 0, 0, 0, -1, OK, KEEP,
      "" },
    /* strings (RFC 5228 §2.4.2) */
    { "require \"reject\"; reject \"a\\\"b\\\\c\\d\";", 0, 0, 0, 0, -1, OK,
      REJECT, "a\"b\\cd" },
    { "require \"reject\";\nreject text: # reason\nline1\n..dot\n.\n;", 0,
      0, 0, 0, -1, OK, REJECT, "line1\n.dot\n" },
    { "require \"reject\";\nreject text:\r\nA\r\n.\r\n;", 0, 0, 0, 0, -1,
      OK, REJECT, "A\r\n" },
    { "require \"reject\"; reject \"${x}\";", 0, 0, 0, 0, -1, OK, REJECT,
      "${x}" },
    /* header (RFC 5228 §5.7), comparators and match types */
    { "if header :is \"subject\" \"[ACME-users] [fwd] version 1.0\" "
      "{ discard; }", 0, MSG, 0, 0, -1, OK, DISCARD, "" },
    { "if header :comparator \"i;octet\" :is \"subject\" "
      "\"[ACME-users] [fwd] version 1.0\" { discard; }", 0, MSG, 0, 0, -1,
      OK, KEEP, "" },
    { "if header :contains [\"x-none\", \"subject\"] \"FWD\" { discard; }",
      0, MSG, 0, 0, -1, OK, DISCARD, "" },
    { "if header :comparator \"i;octet\" :contains \"subject\" \"FWD\" "
      "{ discard; }", 0, MSG, 0, 0, -1, OK, KEEP, "" },
    { "if header :contains \"subject\" \"\" { discard; }", 0, MSG, 0, 0, -1,
      OK, DISCARD, "" },
    { "if header :contains \"x-missing\" \"\" { discard; }", 0, MSG, 0, 0,
      -1, OK, KEEP, "" },
    { "if header :matches \"subject\" \"*version ?.?\" { discard; }", 0,
      MSG, 0, 0, -1, OK, DISCARD, "" },
    { "if header :matches \"subject\" \"version*\" { discard; }", 0, MSG, 0,
      0, -1, OK, KEEP, "" },
    { "if header :is \"received\" \"two\" { discard; }", 0, MSG, 0, 0, -1,
      OK, DISCARD, "" },
    { "if header :is \"subject\" [\"a\", \"b\", \"[acme-users] [fwd] "
      "version 1.0\"] { discard; }", 0, MSG, 0, 0, -1, OK, DISCARD, "" },
    { "if header :is \"x-padded\" \"v\" { discard; }", 0, "X-Padded:  v  ",
      0, 0, -1, OK, DISCARD, "" },
    /* :matches wildcards and escapes (RFC 5228 §2.7.1) */
    { V "if string :matches \"a*b\" \"a\\\\*b\" { discard; }", 0, 0, 0, 0,
      -1, OK, DISCARD, "" },
    { V "if string :matches \"axb\" \"a\\\\*b\" { discard; }", 0, 0, 0, 0,
      -1, OK, KEEP, "" },
    { V "if string :matches \"\xc3\xa9\" \"?\" { discard; }", 0, 0, 0, 0,
      -1, OK, DISCARD, "" },
    { V "if string :comparator \"i;octet\" :matches \"\xc3\xa9\" \"?\" "
      "{ discard; }", 0, 0, 0, 0, -1, OK, KEEP, "" },
    { V "if string :matches \"\" \"*\" { discard; }", 0, 0, 0, 0, -1, OK,
      DISCARD, "" },
    { V "if string :matches \"abcabd\" \"*ab?\" { reject \"${1}|${2}\"; }",
      0, 0, 0, 0, -1, OK, REJECT, "abc|d" },
    /* match variables (RFC 5229 §3.2) */
    { V "if header :matches \"subject\" \"[*] *\" "
      "{ reject \"${1}|${2}|${0}\"; }", 0, MSG, 0, 0, -1, OK, REJECT,
      "acme-users|[fwd] version 1.0|[acme-users] [fwd] version 1.0" },
    { V "if header :matches \"subject\" \"x*\" { keep; } "
      "reject \"[${1}]\";", 0, MSG, 0, 0, -1, OK, REJECT, "[]" },
    { V "if string :matches \"a-b\" \"*-*\" { set \"x\" \"${2}${1}\"; } "
      "reject \"${x}${01}${10}\";", 0, 0, 0, 0, -1, OK, REJECT, "baa" },
    /* address (RFC 5228 §5.1, §2.7.4) */
    { "if address :domain \"from\" \"example.com\" { discard; }", 0, MSG, 0,
      0, -1, OK, DISCARD, "" },
    { "if address :localpart \"from\" \"john\" { discard; }", 0, MSG, 0, 0,
      -1, OK, DISCARD, "" },
    { "if address :all :comparator \"i;octet\" \"from\" "
      "\"John@Example.COM\" { discard; }", 0, MSG, 0, 0, -1, OK, DISCARD,
      "" },
    { "if address \"from\" \"John Doe\" { discard; }", 0, MSG, 0, 0, -1, OK,
      KEEP, "" },
    { "if address :is \"cc\" \"boss@example.com\" { discard; }", 0, MSG, 0,
      0, -1, OK, DISCARD, "" },
    { "if address :domain \"to\" \"z.com\" { discard; }", 0, MSG, 0, 0, -1,
      OK, DISCARD, "" },
    { "require [\"relational\", \"comparator-i;ascii-numeric\"];\n"
      "if address :count \"eq\" :comparator \"i;ascii-numeric\" \"to\" \"4\""
      " { discard; }", 0, MSG, 0, 0, -1, OK, DISCARD, "" },
    { "if address :domain \"to\" \"group\" { discard; }", 0, MSG, 0, 0, -1,
      OK, KEEP, "" },
    { "if address :all \"to\" \"undisclosed\" { discard; }", 0,
      "To: undisclosed", 0, 0, -1, OK, DISCARD, "" },
    { "if address :domain \"from\" \"b.example\" { discard; }", 0,
      "From: <@a.example,@c.example:user@b.example>", 0, 0, -1, OK,
      DISCARD, "" },
    { V "if address :matches :localpart \"from\" \"*.*\" "
      "{ reject \"${1}-${2}\"; }", 0, "From: First.Last@x.example (me)", 0,
      0, -1, OK, REJECT, "First-Last" },
    { V "set \"h\" \"Subject\";\nif exists \"${h}\" { discard; }", 0,
      MSG, 0, 0, -1, OK, DISCARD, "" },
    { "require \"relational\";\nif header :count \"eq\" "
      "[\"received\", \"subject\"] \"3\" { discard; }", 0, MSG, 0, 0, -1,
      OK, DISCARD, "" },
    { "if header :comparator \"I;OCTET\" :is \"subject\" "
      "\"[acme-users] [fwd] version 1.0\" { discard; }", 0, MSG, 0, 0, -1,
      OK, DISCARD, "" },
    { "if false { } elsif false { } elsif false { } elsif true "
      "{ discard; } else { keep; }", 0, 0, 0, 0, -1, OK, DISCARD, "" },
    /* envelope (RFC 5228 §5.4) */
    { "require \"envelope\";\nif envelope :domain \"to\" \"example.org\" "
      "{ discard; }", 0, 0, "s@example.net", "a@example.com,b@EXAMPLE.org",
      -1, OK, DISCARD, "" },
    { "require \"envelope\";\nif envelope :localpart \"From\" \"s\" "
      "{ discard; }", 0, 0, "<s@example.net>", 0, -1, OK, DISCARD, "" },
    { "require \"envelope\";\nif envelope :domain \"from\" \"\" "
      "{ discard; }", 0, 0, "", 0, -1, OK, DISCARD, "" },
    { "require [\"envelope\", \"relational\"];\nif envelope :count \"eq\" "
      "\"to\" \"2\" { discard; }", 0, 0, "", "a@b,c@d", -1, OK, DISCARD,
      "" },
    /* exists, size (RFC 5228 §5.5, §5.9) */
    { "if exists [\"from\", \"subject\"] { discard; }", 0, MSG, 0, 0, -1,
      OK, DISCARD, "" },
    { "if exists [\"from\", \"x-nope\"] { discard; }", 0, MSG, 0, 0, -1, OK,
      KEEP, "" },
    { "if size :over 1K { discard; }", 0, 0, 0, 0, 2000, OK, DISCARD, "" },
    { "if size :under 1K { discard; }", 0, 0, 0, 0, 2000, OK, KEEP, "" },
    { "if size :over 2000 { discard; }", 0, 0, 0, 0, 2000, OK, KEEP, "" },
    { "if size :under 1M { discard; }", 0, 0, 0, 0, 1048575, OK, DISCARD,
      "" },
    { "if size :over 0 { discard; }", 0, 0, 0, 0, -1, OK, KEEP, "" },
    { "if size :under 1G { discard; }", 0, 0, 0, 0, 5, OK, DISCARD, "" },
    /* variables (RFC 5229) */
    { V "set \"a\" \"Hello\"; set :lower \"b\" \"${a}\"; "
      "reject \"${a}-${b}-${A}\";", 0, 0, 0, 0, -1, OK, REJECT,
      "Hello-hello-Hello" },
    { V "set :upper \"a\" \"mIx\"; set :lowerfirst \"b\" \"ABC\"; "
      "set :upperfirst \"c\" \"abc\"; reject \"${a} ${b} ${c}\";", 0, 0, 0,
      0, -1, OK, REJECT, "MIX aBC Abc" },
    { V "set :lower :upperfirst \"a\" \"hELLO\"; reject \"${a}\";", 0, 0, 0,
      0, -1, OK, REJECT, "Hello" },
    { V "set :quotewildcard \"a\" \"a*b?c\\\\\"; reject \"${a}\";", 0, 0, 0,
      0, -1, OK, REJECT, "a\\*b\\?c\\\\" },
    { V "set :length \"a\" \"h\xc3\xa9llo\"; reject \"${a}\";", 0, 0, 0, 0,
      -1, OK, REJECT, "5" },
    { V "set :upper :length \"a\" \"\"; reject \"${a}\";", 0, 0, 0, 0, -1,
      OK, REJECT, "0" },
    { V "set \"a\" \"x\"; set \"a\" \"${a}${a}y\"; set \"a\" \"${a}\"; "
      "reject \"${a}\";", 0, 0, 0, 0, -1, OK, REJECT, "xxy" },
    { V "reject \"[${undefined}] ${ ${bad-name} $${a} ${a\";", 0, 0, 0, 0,
      -1, OK, REJECT, "[] ${ ${bad-name} $ ${a" },
    { V "reject \"${env.helo_domain}/${ENV.Helo_Domain}/${env.nope}\";",
      "helo_domain=h.example", 0, 0, 0, -1, OK, REJECT,
      "h.example/h.example/" },
    { V "set \"d\" \"example.com\";\nif address :domain \"from\" \"${d}\" "
      "{ discard; }", 0, MSG, 0, 0, -1, OK, DISCARD, "" },
    { V "if string :is \"\" \"\" { discard; }", 0, 0, 0, 0, -1, OK, DISCARD,
      "" },
    { V "if string :is [\"a\", \"b\"] \"B\" { discard; }", 0, 0, 0, 0, -1,
      OK, DISCARD, "" },
    { "require [\"variables\", \"relational\", "
      "\"comparator-i;ascii-numeric\"];\nif string :count \"eq\" "
      ":comparator \"i;ascii-numeric\" [\"a\", \"\", \"b\"] \"2\" "
      "{ discard; }", 0, 0, 0, 0, -1, OK, DISCARD, "" },
    /* relational (RFC 5231) and i;ascii-numeric (RFC 4790 §9.1) */
    { "require [\"relational\", \"comparator-i;ascii-numeric\"];\n"
      "if header :value \"ge\" :comparator \"i;ascii-numeric\" \"x-score\" "
      "\"5\" { discard; }", 0, MSG, 0, 0, -1, OK, DISCARD, "" },
    { "require [\"relational\", \"comparator-i;ascii-numeric\"];\n"
      "if header :value \"lt\" :comparator \"i;ascii-numeric\" \"x-score\" "
      "\"10\" { discard; }", 0, MSG, 0, 0, -1, OK, DISCARD, "" },
    { "require [\"relational\"];\nif header :value \"lt\" \"x-score\" \"10\""
      " { discard; }", 0, MSG, 0, 0, -1, OK, KEEP, "" },
    { "require [\"relational\", \"comparator-i;ascii-numeric\"];\n"
      "if header :value \"gt\" :comparator \"i;ascii-numeric\" \"subject\" "
      "\"99999\" { discard; }", 0, MSG, 0, 0, -1, OK, DISCARD, "" },
    { "require [\"relational\", \"comparator-i;ascii-numeric\"];\n"
      "if header :is :comparator \"i;ascii-numeric\" \"x-score\" \"007\" "
      "{ discard; }", 0, MSG, 0, 0, -1, OK, DISCARD, "" },
    { "require [\"relational\"];\nif header :value \"ne\" \"x-score\" "
      "\"7\" { discard; }", 0, MSG, 0, 0, -1, OK, KEEP, "" },
    { "require [\"relational\"];\nif header :value \"eq\" \"x-score\" "
      "[\"1\", \"7\"] { discard; }", 0, MSG, 0, 0, -1, OK, DISCARD, "" },
    { "require [\"relational\"];\nif header :count \"ge\" \"received\" "
      "\"2\" { discard; }", 0, MSG, 0, 0, -1, OK, DISCARD, "" },
    { "require [\"relational\"];\nif header :count \"eq\" \"x-none\" "
      "\"0\" { discard; }", 0, MSG, 0, 0, -1, OK, DISCARD, "" },
    { "require [\"relational\"];\nif header :value \"le\" \"x-score\" "
      "\"7\" { discard; }", 0, MSG, 0, 0, -1, OK, DISCARD, "" },
    /* extlists (RFC 6134) */
    { "require [\"variables\", \"extlists\"];\nif string :list "
      ":comparator \"i;octet\" \"${env.helo_domain}\" "
      "\"list/blocked-domains\" { discard; }",
      "helo_domain=SPAM.Example", 0, 0, 0, -1, OK, KEEP, "" },
    { "require [\"extlists\"];\nif address :list \"cc\" \"list/vip\" "
      "{ discard; }", 0, MSG, 0, 0, -1, OK, DISCARD, "" },
    { "require [\"extlists\"];\nif header :list \"x-none\" \"list/nope\" "
      "{ discard; }", 0, MSG, 0, 0, -1, OK, KEEP, "" },
    { "require [\"extlists\"];\nif header :list \"subject\" \"list/nope\" "
      "{ discard; }", 0, MSG, 0, 0, -1, SIEVE_ERUNTIME, KEEP, "" },
    { "require [\"extlists\"];\nif valid_ext_list \"list/vip\" "
      "{ discard; }", 0, 0, 0, 0, -1, OK, DISCARD, "" },
    { "require [\"extlists\"];\nif valid_ext_list [\"list/vip\", "
      "\"list/nope\"] { discard; }", 0, 0, 0, 0, -1, OK, KEEP, "" },
    /* regex (draft-ietf-sieve-regex) */
    { V "require \"regex\";\nif header :regex \"subject\" "
      "\"^\\\\[([a-z-]+)\\\\] (.*)$\" { reject \"${1}|${2}\"; }", 0, MSG, 0,
      0, -1, OK, REJECT, "acme-users|[fwd] version 1.0" },
    { V "require \"regex\";\nif header :regex \"subject\" \"ACME\" "
      "{ reject \"${0}\"; }", 0, MSG, 0, 0, -1, OK, REJECT, "acme" },
    { "require \"regex\";\nif header :regex :comparator \"i;octet\" "
      "\"subject\" \"ACME\" { discard; }", 0, MSG, 0, 0, -1, OK, KEEP, "" },
    { V "require \"regex\";\nset \"p\" \"sp.m\";\nif string :regex "
      "\"SPAM here\" \"${p}\" { reject \"${0}\"; }", 0, 0, 0, 0, -1, OK,
      REJECT, "SPAM" },
    { V "require \"regex\";\nset \"p\" \"(\";\nif string :regex \"x\" "
      "\"${p}\" { discard; }", 0, 0, 0, 0, -1, SIEVE_ERUNTIME, KEEP, "" },
    { V "require \"regex\";\nset :quoteregex \"q\" \"a.b*\";\n"
      "if string :regex \"a.b*\" \"^${q}$\" { reject \"${q}\"; }", 0, 0, 0,
      0, -1, OK, REJECT, "a\\.b\\*" },
    /* reject, ereject (RFC 5429) */
    { "require \"ereject\"; ereject \"no\";", 0, 0, 0, 0, -1, OK,
      SIEVE_EREJECT, "no" },
    { "require \"reject\"; reject \"no\"; discard;", 0, 0, 0, 0, -1, OK,
      REJECT, "no" },
    { "require \"reject\"; keep; reject \"no\";", 0, 0, 0, 0, -1,
      SIEVE_ERUNTIME, KEEP, "" },
    { "require \"reject\"; reject \"no\"; keep;", 0, 0, 0, 0, -1,
      SIEVE_ERUNTIME, KEEP, "" },
    { "require [\"reject\", \"ereject\"]; reject \"a\"; ereject \"b\";", 0,
      0, 0, 0, -1, SIEVE_ERUNTIME, KEEP, "" },
    /* environment (RFC 5183) */
    { "require \"environment\";\nif environment :is \"remote_ip\" "
      "\"192.0.2.1\" { discard; }", "remote_ip=192.0.2.1", 0, 0, 0, -1, OK,
      DISCARD, "" },
    { "require \"environment\";\nif environment :matches \"listener\" "
      "\"sub*\" { discard; }", "listener=submission", 0, 0, 0, -1, OK,
      DISCARD, "" },
    { "require [\"environment\", \"relational\"];\nif environment "
      ":count \"eq\" \"listener\" \"1\" { discard; }", "listener=smtp", 0,
      0, 0, -1, OK, DISCARD, "" },
    { "require [\"envelope\", \"variables\", \"reject\"];\n"
      "if envelope :matches :domain \"to\" \"*.org\" "
      "{ reject \"${1}\"; }", 0, 0, "", "a@x.com,b@y.org", -1, OK, REJECT,
      "y" },
    { "require \"environment\";\nif environment :contains \"nope\" \"\" "
      "{ discard; }", "listener=smtp", 0, 0, 0, -1, OK, KEEP, "" },
};

static void test_run_table(void)
{
    size_t i;

    for (i = 0; i < sizeof(run_cases) / sizeof(run_cases[0]); i++) {
        const run_case *c = &run_cases[i];
        sieve_error err;
        sieve_result res;
        test_ctx ctx;
        sieve_program *prog;
        int rc, ok;

        prog = sieve_compile(pool, "t", c->script, strlen(c->script),
                             SIEVE_ALLOW_ALL, &err);
        if (prog == NULL) {
            fprintf(stderr, "\nrow %d: compile %d:%d %s\n", (int)i,
                    err.line, err.column, err.message);
            CU_FAIL("run row did not compile");
            continue;
        }
        setup_ctx(&ctx, c->env, c->headers, c->from, c->to, c->size);
        rc = sieve_run(prog, &test_host, &ctx, 0, &res);
        ok = rc == c->status && res.status == c->status &&
             res.action == c->action &&
             strcmp(res.reject_text, c->reject) == 0;
        if (!ok)
            fprintf(stderr, "\nrow %d: rc %d action %d reject [%s] "
                    "error [%s]\n", (int)i, rc, (int)res.action,
                    res.reject_text, res.error);
        CU_ASSERT(ok);
        CU_ASSERT_EQUAL(res.runtime_error, c->status == SIEVE_ERUNTIME);
        CU_ASSERT_EQUAL(res.implicit_keep,
                        c->status != SIEVE_OK || (c->action == KEEP &&
                                                  !res.explicit_keep));
    }
}

/* ------------------------------------------------------- error cases */

typedef struct error_case {
    const char *script;
    unsigned allow;
    int line, column;
    const char *message;
} error_case;

#define ALL SIEVE_ALLOW_ALL
#define EHLO SIEVE_STAGE_EHLO

static const error_case error_cases[] = {
    { "require \"reject\";\nkeep\nkeep;", ALL, 2, 5,
      "missing ';' after 'keep'" },
    { "require \"reject\";\nreject \"x\"\n}", ALL, 2, 11,
      "missing ';' after 'reject'" },
    { "frobnicate;", ALL, 1, 1, "unknown command 'frobnicate'" },
    { "fileinto \"x\";", ALL, 1, 1, "unknown command 'fileinto'" },
    { "reject \"no\";", ALL, 1, 1, "'reject' needs require \"reject\"" },
    { "require [\"variables\", \"fileinto\"];", ALL, 1, 23,
      "unsupported extension \"fileinto\"" },
    { "require \"reject\";\nreject \"abc;\n", ALL, 2, 8,
      "unterminated string" },
    { "if header :bogus \"a\" \"b\" { keep; }", ALL, 1, 11,
      "unknown tag ':bogus' for 'header'" },
    { "if header :localpart \"a\" \"b\" { keep; }", ALL, 1, 11,
      "unknown tag ':localpart' for 'header'" },
    { "if header :is \"from\" \"x\" { keep; }", EHLO, 1, 4,
      "header test is not available at this stage" },
    { "if size :over 1 { keep; }", EHLO, 1, 4,
      "size test is not available at this stage" },
    { "if address \"from\" \"x\" { keep; }", EHLO, 1, 4,
      "address test is not available at this stage" },
    { "if exists \"from\" { keep; }", SIEVE_STAGE_MAIL, 1, 4,
      "exists test is not available at this stage" },
    { "require \"envelope\";\nif envelope \"from\" \"x\" { keep; }", EHLO,
      2, 4, "envelope test is not available at this stage" },
    { "if foo { keep; }", ALL, 1, 4, "unknown test 'foo'" },
    { "keep;\nrequire \"reject\";", ALL, 2, 1,
      "require must come before any other command" },
    { "if true { require \"reject\"; }", ALL, 1, 11,
      "require must come before any other command" },
    { "elsif true { keep; }", ALL, 1, 1,
      "'elsif' without a preceding 'if'" },
    { "if true { keep; } else { keep; } else { keep; }", ALL, 1, 34,
      "'else' without a preceding 'if'" },
    { "if true {\nkeep;\n", ALL, 1, 9, "unclosed '{'" },
    { "keep;\n}", ALL, 2, 1, "unexpected '}'" },
    { "keep; /* forever\nkeep;", ALL, 1, 7, "unterminated comment" },
    { "require \"reject\";\nreject text:\nhello\n", ALL, 2, 8,
      "unterminated multi-line string" },
    { "require \"reject\";\nreject text: x\nhello\n.\n;", ALL, 2, 14,
      "expected end of line after 'text:'" },
    { "require \"variables\";\nif string :list \"a\" \"list/x\" { keep; }",
      ALL, 2, 11, ":list needs require \"extlists\"" },
    { "if header :count \"eq\" \"a\" \"1\" { keep; }", ALL, 1, 11,
      ":count needs require \"relational\"" },
    { "require \"relational\";\nif header :value \"xx\" \"a\" \"b\" "
      "{ keep; }", ALL, 2, 18, "invalid relational operator \"xx\"" },
    { "if header :comparator \"i;foo\" \"a\" \"b\" { keep; }", ALL, 1, 23,
      "unknown comparator \"i;foo\"" },
    { "if header :comparator \"i;ascii-numeric\" \"a\" \"b\" { keep; }",
      ALL, 1, 23,
      "comparator \"i;ascii-numeric\" needs require "
      "\"comparator-i;ascii-numeric\"" },
    { "require \"comparator-i;ascii-numeric\";\nif header :contains "
      ":comparator \"i;ascii-numeric\" \"a\" \"b\" { keep; }", ALL, 2, 4,
      "comparator \"i;ascii-numeric\" does not support :contains" },
    { "require \"regex\";\nif header :regex \"subject\" \"(\" { keep; }",
      ALL, 2, 28,
      "invalid regular expression: missing closing parenthesis" },
    { "require \"variables\";\nset \"1abc\" \"x\";", ALL, 2, 5,
      "invalid variable name \"1abc\"" },
    { "require \"variables\";\nset \"env.x\" \"x\";", ALL, 2, 5,
      "invalid variable name \"env.x\"" },
    { "require \"variables\";\nset \"a\" \"${foo.bar}\";", ALL, 2, 9,
      "unknown variable namespace 'foo'" },
    { "require \"variables\";\nset :lower :upper \"a\" \"b\";", ALL, 2, 12,
      "'set' takes only one modifier of precedence 40" },
    { "set \"a\" \"b\";", ALL, 1, 1, "'set' needs require \"variables\"" },
    { "if string \"a\" \"b\" { keep; }", ALL, 1, 4,
      "'string' needs require \"variables\"" },
    { "if header :is :contains \"a\" \"b\" { keep; }", ALL, 1, 15,
      "only one match type may be given" },
    { "stop \"x\";", ALL, 1, 6, "'stop' takes no arguments" },
    { "if true keep;", ALL, 1, 13, "expected '{' after 'if', found ';'" },
    { "if { keep; }", ALL, 1, 4, "expected a test after 'if', found '{'" },
    { "if address :is \"subject\" \"x\" { keep; }", ALL, 1, 16,
      "header \"subject\" does not contain addresses" },
    { "if anyof true { keep; }", ALL, 1, 4, "'anyof' needs a test list" },
    { "require \"envelope\";\nif envelope \"bcc\" \"x\" { keep; }", ALL, 2,
      13, "unknown envelope part \"bcc\"" },
    { "if size 100 { keep; }", ALL, 1, 4, "'size' needs :over or :under" },
    { "if size :over \"1\" { keep; }", ALL, 1, 15, "'size' expects a number" },
    { "if header \"a\" { keep; }", ALL, 1, 4,
      "'header' needs 2 arguments, found 1" },
    { "if header [] \"x\" { keep; }", ALL, 1, 12,
      "expected a string in the string list, found ']'" },
    { "if header [\"a\" \"b\"] \"x\" { keep; }", ALL, 1, 16,
      "expected ',' or ']' in the string list, found a string" },
    { "if header \"a:b\" \"x\" { keep; }", ALL, 1, 11,
      "invalid header name \"a:b\"" },
    { "if size :over 99999999999999999999 { keep; }", ALL, 1, 15,
      "number too large" },
    { "keep; @", ALL, 1, 7, "unexpected character '@'" },
    { "if anyof(true false) { keep; }", ALL, 1, 15,
      "'true' takes no tests" },
    { "if anyof(true; false) { keep; }", ALL, 1, 14,
      "expected ',' or ')' in the test list, found ';'" },
    { "if header : \"a\" \"b\" { keep; }", ALL, 1, 11,
      "expected a tag name after ':'" },
    { "require [\"reject\"];\nreject;", ALL, 2, 1,
      "'reject' needs one reason string" },
    { "\"x\";", ALL, 1, 1, "expected a command, found a string" },
};

static void test_error_table(void)
{
    size_t i;

    for (i = 0; i < sizeof(error_cases) / sizeof(error_cases[0]); i++) {
        const error_case *c = &error_cases[i];
        sieve_error err;
        sieve_program *prog;
        int ok;

        prog = sieve_compile(pool, "t", c->script, strlen(c->script),
                             c->allow, &err);
        ok = prog == NULL && err.line == c->line &&
             err.column == c->column && strcmp(err.message, c->message) == 0;
        if (!ok)
            fprintf(stderr, "\nerror row %d: got %s %d:%d [%s]\n", (int)i,
                    prog ? "program" : "error", err.line, err.column,
                    err.message);
        CU_ASSERT(ok);
    }
}

/* ------------------------------------------------- seed, stage, info */

static sieve_program *compile_ok(const char *script, unsigned allow)
{
    sieve_error err;
    sieve_program *prog = sieve_compile(pool, "t", script, strlen(script),
                                        allow, &err);

    if (prog == NULL)
        fprintf(stderr, "\ncompile %d:%d %s\n", err.line, err.column,
                err.message);
    CU_ASSERT_PTR_NOT_NULL(prog);
    return prog;
}

static void test_seed_at_ehlo(void)
{
    sieve_program *prog = compile_ok(SEED, SIEVE_STAGE_EHLO);
    const char *const *lists;
    sieve_result res;
    test_ctx ctx;
    int n = 0;

    if (prog == NULL)
        return;
    CU_ASSERT_EQUAL(sieve_program_needs(prog), 0);
    lists = sieve_program_lists(prog, &n);
    CU_ASSERT_EQUAL(n, 1);
    CU_ASSERT_STRING_EQUAL(lists[0], "list/blocked-domains");
    CU_ASSERT_STRING_EQUAL(sieve_program_name(prog), "t");

    setup_ctx(&ctx, "helo_domain=spam.example", 0, 0, 0, -1);
    CU_ASSERT_EQUAL(sieve_run(prog, &test_host, &ctx, 0, &res), SIEVE_OK);
    CU_ASSERT_EQUAL(res.action, SIEVE_REJECT);
    CU_ASSERT_STRING_EQUAL(res.reject_text, "551 5.1.1 Your domain "
                           "'spam.example' has been blacklisted.");
    CU_ASSERT(res.steps > 0 && res.steps < 20);

    /* no host at all: the list is missing, a run-time error, and the
     * outcome is implicit keep (RFC 5228 §2.10.6) */
    CU_ASSERT_EQUAL(sieve_run(prog, NULL, NULL, 0, &res), SIEVE_ERUNTIME);
    CU_ASSERT_EQUAL(res.action, SIEVE_KEEP);
    CU_ASSERT_EQUAL(res.implicit_keep, 1);
    CU_ASSERT_STRING_EQUAL(res.error,
                           "list \"list/blocked-domains\" is not available");
    CU_ASSERT_EQUAL(res.error_line, 2);

    prog = compile_ok("if header :is \"a\" \"b\" { keep; }", ALL);
    if (prog)
        CU_ASSERT_EQUAL(sieve_program_needs(prog), SIEVE_ALLOW_HEADERS);
}

/* ------------------------------------------------------------ limits */

static void test_limits(void)
{
    apr_pool_t *p;
    char *s, *cur;
    sieve_error err;
    sieve_result res;
    sieve_program *prog;
    int i;

    apr_pool_create(&p, pool);

    /* nesting: the 65th level is refused at its test */
    s = cur = apr_palloc(p, 70 * 9 + 70 * 2 + 1);
    for (i = 0; i < 70; i++)
        cur += sprintf(cur, "if true {");
    for (i = 0; i < 70; i++)
        cur += sprintf(cur, "}");
    CU_ASSERT_PTR_NULL(sieve_compile(p, "t", s, strlen(s), ALL, &err));
    CU_ASSERT_EQUAL(err.line, 1);
    CU_ASSERT_EQUAL(err.column, 64 * 9 + 4);
    CU_ASSERT_STRING_EQUAL(err.message, "nesting too deep (limit 64)");

    /* 63 nots (64 levels with the if) are fine, 70 are not */
    s = cur = apr_palloc(p, 80 * 4 + 40);
    cur += sprintf(cur, "if ");
    for (i = 0; i < 63; i++)
        cur += sprintf(cur, "not ");
    sprintf(cur, "false { discard; }");
    prog = sieve_compile(p, "t", s, strlen(s), ALL, &err);
    CU_ASSERT_PTR_NOT_NULL(prog);
    if (prog) {
        sieve_run(prog, NULL, NULL, 0, &res);
        CU_ASSERT_EQUAL(res.action, SIEVE_DISCARD);   /* odd: true */
    }
    s = cur = apr_palloc(p, 80 * 4 + 40);
    cur += sprintf(cur, "if ");
    for (i = 0; i < 70; i++)
        cur += sprintf(cur, "not ");
    sprintf(cur, "true { discard; }");
    CU_ASSERT_PTR_NULL(sieve_compile(p, "t", s, strlen(s), ALL, &err));
    CU_ASSERT_STRING_EQUAL(err.message, "nesting too deep (limit 64)");

    /* script size */
    s = apr_palloc(p, SIEVE_MAX_SCRIPT + 2);
    memset(s, ' ', SIEVE_MAX_SCRIPT + 1);
    s[SIEVE_MAX_SCRIPT + 1] = '\0';
    CU_ASSERT_PTR_NULL(sieve_compile(p, "t", s, SIEVE_MAX_SCRIPT + 1, ALL,
                                     &err));
    CU_ASSERT_EQUAL(err.line, 1);
    CU_ASSERT_STRING_EQUAL(err.message,
                           "script too large (limit 1048576 octets)");
    prog = sieve_compile(p, "t", s, SIEVE_MAX_SCRIPT, ALL, &err);
    CU_ASSERT_PTR_NOT_NULL(prog);

    /* NUL octets are refused */
    CU_ASSERT_PTR_NULL(sieve_compile(p, "t", "keep;\0keep;", 11, ALL,
                                     &err));
    CU_ASSERT_EQUAL(err.column, 6);
    CU_ASSERT_STRING_EQUAL(err.message, "NUL character in script");

    /* 128 variables are fine, the 129th is not */
    s = cur = apr_palloc(p, 130 * 24 + 64);
    cur += sprintf(cur, "require \"variables\";\n");
    for (i = 0; i < 128; i++)
        cur += sprintf(cur, "set \"v%d\" \"x\";\n", i);
    CU_ASSERT_PTR_NOT_NULL(sieve_compile(p, "t", s, strlen(s), ALL, &err));
    sprintf(cur, "set \"v%d\" \"x\";\n", i);
    CU_ASSERT_PTR_NULL(sieve_compile(p, "t", s, strlen(s), ALL, &err));
    CU_ASSERT_EQUAL(err.line, 130);
    CU_ASSERT_STRING_EQUAL(err.message, "too many variables (limit 128)");

    /* string lists hold at most SIEVE_MAX_LIST strings */
    s = cur = apr_palloc(p, (SIEVE_MAX_LIST + 2) * 5 + 64);
    cur += sprintf(cur, "if header \"a\" [");
    for (i = 0; i <= SIEVE_MAX_LIST; i++)
        cur += sprintf(cur, "%s\"x\"", i ? "," : "");
    sprintf(cur, "] { keep; }");
    CU_ASSERT_PTR_NULL(sieve_compile(p, "t", s, strlen(s), ALL, &err));
    CU_ASSERT_STRING_EQUAL(err.message, "string list too long (limit 1024)");

    apr_pool_destroy(p);
}

/* Values are truncated at SIEVE_MAX_VALUE octets on a character
 * boundary (RFC 5229 §4); the variable arena compacts and has a limit. */
static void test_value_limits(void)
{
    const char *script =
        "require [\"variables\", \"reject\"];\n"
        "set \"a\" \"\xc3\xa9\";\n"
        "set \"a\" \"${a}${a}${a}${a}${a}${a}${a}${a}\";\n"   /* 16 */
        "set \"a\" \"${a}${a}${a}${a}${a}${a}${a}${a}\";\n"   /* 128 */
        "set \"a\" \"${a}${a}${a}${a}${a}${a}${a}${a}\";\n"   /* 1024 */
        "set \"a\" \"${a}${a}${a}${a}${a}${a}${a}${a}\";\n"   /* 8192 */
        "set :length \"n\" \"${a}\";\n"
        "set \"b\" \"x${a}\";\n"
        "set :length \"m\" \"${b}\";\n"
        "reject \"${n} ${m}\";";
    sieve_program *prog = compile_ok(script, ALL);
    sieve_result res;
    char *big;
    int i;

    if (prog == NULL)
        return;
    sieve_run(prog, NULL, NULL, 0, &res);
    CU_ASSERT_EQUAL(res.status, SIEVE_OK);
    /* 4096 octets = 2048 two-octet characters; "x" + 2047 of them */
    CU_ASSERT_STRING_EQUAL(res.reject_text, "2048 2048");

    /* the reject reason is clipped to the result buffer */
    big = apr_palloc(pool, 64 * 1024);
    strcpy(big, "require [\"variables\", \"reject\"];\n"
           "set \"s\" \"0123456789abcdef\";\n"
           "set \"s\" \"${s}${s}${s}${s}${s}${s}${s}${s}\";\n"
           "set \"s\" \"${s}${s}${s}${s}${s}${s}${s}${s}\";\n"
           "reject \"${s}\";");
    prog = compile_ok(big, ALL);
    if (prog) {
        sieve_run(prog, NULL, NULL, 0, &res);
        CU_ASSERT_EQUAL(res.action, SIEVE_REJECT);
        CU_ASSERT_EQUAL(strlen(res.reject_text),
                        sizeof(res.reject_text) - 1);
    }

    /* many sets of big values: old values die, compaction makes room */
    strcpy(big, "require [\"variables\", \"reject\"];\n"
           "set \"s\" \"0123456789abcdef\";\n"
           "set \"s\" \"${s}${s}${s}${s}${s}${s}${s}${s}\";\n"
           "set \"s\" \"${s}${s}${s}${s}${s}${s}${s}${s}\";\n"); /* 1024 */
    for (i = 0; i < 60; i++)
        sprintf(big + strlen(big), "set \"v%d\" \"%d${s}\";\n"
                "set \"v%d\" \"\";\n", i % 8, i, i % 8);
    strcat(big, "set \"v0\" \"${s}\"; set \"v1\" \"${s}\";\n"
           "set :length \"n\" \"${v0}${v1}\"; reject \"${n}\";");
    prog = compile_ok(big, ALL);
    if (prog) {
        sieve_run(prog, NULL, NULL, 0, &res);
        CU_ASSERT_EQUAL(res.status, SIEVE_OK);
        CU_ASSERT_STRING_EQUAL(res.reject_text, "2048");
    }

    /* more live values than the arena holds: a run-time error */
    strcpy(big, "require [\"variables\", \"reject\"];\n"
           "set \"s\" \"0123456789abcdef\";\n"
           "set \"s\" \"${s}${s}${s}${s}${s}${s}${s}${s}\";\n"
           "set \"s\" \"${s}${s}${s}${s}${s}${s}${s}${s}\";\n"
           "set \"s\" \"${s}${s}${s}${s}\";\n");             /* 4096 */
    for (i = 0; i < 20; i++)
        sprintf(big + strlen(big), "set \"v%d\" \"${s}\";\n", i);
    prog = compile_ok(big, ALL);
    if (prog) {
        CU_ASSERT_EQUAL(sieve_run(prog, NULL, NULL, 0, &res),
                        SIEVE_ERUNTIME);
        CU_ASSERT_EQUAL(res.action, SIEVE_KEEP);
        CU_ASSERT_EQUAL(res.implicit_keep, 1);
        CU_ASSERT_PTR_NOT_NULL(strstr(res.error, "variable storage"));
    }
}

/* ------------------------------------------------------------ budget */

static void test_budget(void)
{
    sieve_program *prog;
    sieve_result res;
    char *s, *cur;
    int i;

    prog = compile_ok("if true { } if true { } if true { } discard;", ALL);
    if (prog) {
        CU_ASSERT_EQUAL(sieve_run(prog, NULL, NULL, 5, &res),
                        SIEVE_EBUDGET);
        CU_ASSERT_EQUAL(res.budget_exhausted, 1);
        CU_ASSERT_EQUAL(res.action, SIEVE_KEEP);
        CU_ASSERT_EQUAL(res.implicit_keep, 1);
        CU_ASSERT_EQUAL(sieve_run(prog, NULL, NULL, 100, &res), SIEVE_OK);
        CU_ASSERT_EQUAL(res.action, SIEVE_DISCARD);
        CU_ASSERT_EQUAL(res.budget_exhausted, 0);
    }

    /* a pathological glob: 4000 "a" against "*" + 2000 "a" + "b" */
    s = cur = apr_palloc(pool, 8192 + 256);
    cur += sprintf(cur, "require \"variables\";\nset \"a\" \"");
    for (i = 0; i < 4000; i++)
        *cur++ = 'a';
    cur += sprintf(cur, "\";\nif string :matches \"${a}\" \"*");
    for (i = 0; i < 2000; i++)
        *cur++ = 'a';
    sprintf(cur, "b\" { discard; }");
    prog = compile_ok(s, ALL);
    if (prog) {
        CU_ASSERT_EQUAL(sieve_run(prog, NULL, NULL, 0, &res),
                        SIEVE_EBUDGET);
        CU_ASSERT_EQUAL(res.action, SIEVE_KEEP);
    }

    /* catastrophic regex backtracking is stopped by the match limit */
    s = cur = apr_palloc(pool, 8192);
    cur += sprintf(cur, "require [\"variables\", \"regex\"];\n"
                   "set \"a\" \"");
    for (i = 0; i < 40; i++)
        *cur++ = 'a';
    sprintf(cur, "!\";\nif string :regex \"${a}\" \"^(a|aa)+$\" "
            "{ discard; }");
    prog = compile_ok(s, ALL);
    if (prog) {
        CU_ASSERT_EQUAL(sieve_run(prog, NULL, NULL, 1000, &res),
                        SIEVE_EBUDGET);
        CU_ASSERT_EQUAL(res.action, SIEVE_KEEP);
    }
}

/* ------------------------------------------------------- robustness */

/* Every prefix of a script that uses everything must compile or fail
 * cleanly, and whatever compiles must run. */
static void test_prefixes(void)
{
    static const char script[] =
        "require [\"variables\", \"extlists\", \"reject\", \"relational\","
        " \"regex\", \"envelope\", \"environment\", \"ereject\","
        " \"comparator-i;ascii-numeric\"];\n"
        "# a comment\n/* another */\n"
        "set :lower :upperfirst \"v\" \"${env.helo_domain}\";\n"
        "if anyof(environment :regex \"remote_ip\" \"^192\\\\.(.*)\",\n"
        "         header :matches [\"subject\", \"x\"] \"*a?b\\\\*\",\n"
        "         address :domain :comparator \"i;octet\" \"from\" \"x\",\n"
        "         envelope :count \"ge\" :comparator \"i;ascii-numeric\""
        " \"to\" \"2\",\n"
        "         not exists \"x-a\", size :over 10K,\n"
        "         string :list \"${v}\" \"list/blocked-domains\") {\n"
        "    reject text:\nline ${1}\n..x\n.\n;\n"
        "} elsif valid_ext_list \"list/vip\" { discard; stop; }\n"
        "else { keep; }\n";
    size_t n;
    int compiled = 0;

    for (n = 0; n <= sizeof(script) - 1; n++) {
        apr_pool_t *p;
        sieve_error err;
        sieve_result res;
        sieve_program *prog;
        test_ctx ctx;

        apr_pool_create(&p, pool);
        prog = sieve_compile(p, "t", script, n, ALL, &err);
        if (prog) {
            compiled++;
            setup_ctx(&ctx, "helo_domain=SPAM.example|remote_ip=192.0.2.9",
                      MSG, "a@b", "c@d,e@f", 20000);
            sieve_run(prog, &test_host, &ctx, 0, &res);
        }
        else {
            CU_ASSERT(err.line >= 1 && err.column >= 1 &&
                      err.message[0] != '\0');
        }
        apr_pool_destroy(p);
    }
    CU_ASSERT(compiled > 3);
    {
        sieve_program *prog = compile_ok(script, ALL);
        sieve_result res;
        test_ctx ctx;

        if (prog) {
            setup_ctx(&ctx, "helo_domain=SPAM.example|remote_ip=192.0.2.9",
                      MSG, "a@b", "c@d,e@f", 20000);
            CU_ASSERT_EQUAL(sieve_run(prog, &test_host, &ctx, 0, &res),
                            SIEVE_OK);
            CU_ASSERT_EQUAL(res.action, SIEVE_REJECT);
            CU_ASSERT_STRING_EQUAL(res.reject_text, "line 0.2.9\n.x\n");
        }
    }
}

/* Random byte flips of the seed script never crash the compiler. */
static void test_mutations(void)
{
    char buf[sizeof(SEED)];
    unsigned seed = 12345;
    int i, k;

    for (i = 0; i < 20000; i++) {
        apr_pool_t *p;
        sieve_error err;
        sieve_result res;
        sieve_program *prog;
        test_ctx ctx;

        memcpy(buf, SEED, sizeof(SEED));
        for (k = 0; k < 1 + i % 4; k++) {
            seed = seed * 1103515245u + 12345u;
            buf[(seed >> 8) % (sizeof(SEED) - 1)] =
                "{}[]();,:\"\\$*# \nax0"[(seed >> 20) % 20];
        }
        apr_pool_create(&p, pool);
        prog = sieve_compile(p, "m", buf, sizeof(SEED) - 1, ALL, &err);
        if (prog) {
            setup_ctx(&ctx, "helo_domain=spam.example", MSG, "a@b", "c@d",
                      10);
            sieve_run(prog, &test_host, &ctx, 0, &res);
        }
        apr_pool_destroy(p);
    }
    CU_PASS("no crash");
}

/* ------------------------------------------------------- concurrency */

typedef struct thread_job {
    const sieve_program *prog;
    int failures;
} thread_job;

static void *APR_THREAD_FUNC run_many(apr_thread_t *thd, void *data)
{
    thread_job *job = data;
    test_ctx listed, unlisted;
    int i;

    memset(&listed, 0, sizeof(listed));
    listed.env_names[0] = "helo_domain";
    listed.env_values[0] = "Bad.Example";
    listed.nenv = 1;
    unlisted = listed;
    unlisted.env_values[0] = "fine.example";
    for (i = 0; i < 10000; i++) {
        sieve_result res;
        int hit = i % 2 == 0;

        sieve_run(job->prog, &test_host, hit ? &listed : &unlisted, 0, &res);
        if (hit ? (res.action != SIEVE_REJECT ||
                   strcmp(res.reject_text, "551 5.1.1 Your domain "
                          "'Bad.Example' has been blacklisted.") != 0)
                : (res.action != SIEVE_KEEP || res.reject_text[0] != '\0'))
            job->failures++;
    }
    return NULL;              /* not apr_thread_exit: ASan and pthread_exit */
}

static void test_threads(void)
{
    sieve_program *prog = compile_ok(SEED, SIEVE_STAGE_EHLO);
    apr_thread_t *t[2];
    apr_threadattr_t *attr;
    thread_job jobs[2];
    apr_status_t st;
    int i;

    if (prog == NULL)
        return;
    apr_threadattr_create(&attr, pool);
    apr_threadattr_stacksize_set(attr, 1024 * 1024);
    for (i = 0; i < 2; i++) {
        jobs[i].prog = prog;
        jobs[i].failures = 0;
        CU_ASSERT_EQUAL(apr_thread_create(&t[i], attr, run_many, &jobs[i],
                                          pool), APR_SUCCESS);
    }
    for (i = 0; i < 2; i++) {
        apr_thread_join(&st, t[i]);
        CU_ASSERT_EQUAL(jobs[i].failures, 0);
    }
}

int main(void)
{
    CU_pSuite suite;

    apr_initialize();
    apr_pool_create(&pool, NULL);
    if (CU_initialize_registry() != CUE_SUCCESS)
        return 2;
    suite = CU_add_suite("sieve", NULL, NULL);
    CU_add_test(suite, "run table (script x host -> action)",
                test_run_table);
    CU_add_test(suite, "invalid scripts (line:column message)",
                test_error_table);
    CU_add_test(suite, "seed script at the EHLO stage", test_seed_at_ehlo);
    CU_add_test(suite, "compile limits", test_limits);
    CU_add_test(suite, "value and variable limits", test_value_limits);
    CU_add_test(suite, "instruction budget", test_budget);
    CU_add_test(suite, "every prefix of a script", test_prefixes);
    CU_add_test(suite, "mutated scripts", test_mutations);
    CU_add_test(suite, "two threads, one program", test_threads);
    CU_basic_set_mode(CU_BRM_VERBOSE);
    CU_basic_run_tests();
    {
        int failures = (int)CU_get_number_of_failures();
        int rc = failures != 0 || CU_get_error();

        CU_cleanup_registry();
        apr_pool_destroy(pool);
        apr_terminate();
        return rc;
    }
}
