/*
 * sieve_compile.c -- checks commands and tests and builds the program.
 *
 * sieve_compile() runs the parser (sieve_parser.c), which hands every
 * command head and test here.  This file knows each command and test:
 * which extension it needs (RFC 5228 §3.2: using an extension that was
 * not required is an error), which tagged and positional arguments it
 * takes, and whether the host can answer it at the compile stage
 * (SIEVE_ALLOW_*).  Constant regular expressions are compiled here, once,
 * with PCRE2 (and its JIT when available); they are freed with the
 * program's pool.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <apr_hash.h>
#include <apr_strings.h>

#include "sieve_int.h"

/* --------------------------------------------------------- require */

static const struct {
    const char *name;
    unsigned ext;
} extensions[] = {
    { "variables", SV_EXT_VARIABLES },
    { "extlists", SV_EXT_EXTLISTS },
    { "reject", SV_EXT_REJECT },
    { "ereject", SV_EXT_EREJECT },
    { "relational", SV_EXT_RELATIONAL },
    { "regex", SV_EXT_REGEX },
    { "envelope", SV_EXT_ENVELOPE },
    { "environment", SV_EXT_ENVIRONMENT },
    { "comparator-i;ascii-numeric", SV_EXT_NUMERIC },
    /* RFC 5228 §2.7.3: these two are always available; naming them is
     * harmless. */
    { "comparator-i;octet", 0 },
    { "comparator-i;ascii-casemap", 0 },
};

void sv_compile_require(sv_compiler *cc, const sv_node *n)
{
    int i;
    apr_size_t k;

    if (n->nargs != 1 || n->args[0].type != SV_ARG_STRINGS)
        sv_fail(cc->ec, n->line, n->col,
                "require needs one string list of extensions");
    for (i = 0; i < n->args[0].nstrings; i++) {
        const sv_str *s = &n->args[0].strings[i];

        for (k = 0; k < sizeof(extensions) / sizeof(extensions[0]); k++)
            if (strlen(extensions[k].name) == s->len &&
                memcmp(extensions[k].name, s->text, s->len) == 0)
                break;
        if (k == sizeof(extensions) / sizeof(extensions[0]))
            sv_fail(cc->ec, s->line, s->col, "unsupported extension \"%s\"",
                    s->text);
        cc->exts |= extensions[k].ext;
    }
}

static const char *ext_name(unsigned ext)
{
    apr_size_t k;

    for (k = 0; k < sizeof(extensions) / sizeof(extensions[0]); k++)
        if (extensions[k].ext == ext)
            return extensions[k].name;
    return "?";
}

/* --------------------------------------------------------- commands */

static const struct {
    const char *name;
    int takes_test, takes_block;
} commands[] = {
    { "require", 0, 0 }, { "if", 1, 1 }, { "elsif", 1, 1 },
    { "else", 0, 1 }, { "stop", 0, 0 }, { "keep", 0, 0 },
    { "discard", 0, 0 }, { "reject", 0, 0 }, { "ereject", 0, 0 },
    { "set", 0, 0 },
};

int sv_command_known(const char *name, int *takes_test, int *takes_block)
{
    apr_size_t k;

    for (k = 0; k < sizeof(commands) / sizeof(commands[0]); k++) {
        if (strcmp(commands[k].name, name) == 0) {
            *takes_test = commands[k].takes_test;
            *takes_block = commands[k].takes_block;
            return 1;
        }
    }
    return 0;
}

static void need_ext(sv_compiler *cc, unsigned ext, int line, int col,
                     const char *what)
{
    if (!(cc->exts & ext))
        sv_fail(cc->ec, line, col, "%s needs require \"%s\"", what,
                ext_name(ext));
}

/* A positional argument that must be one string. */
static const sv_str *single_string(sv_compiler *cc, const sv_node *n,
                                   const sv_arg *a, const char *what)
{
    if (a->type != SV_ARG_STRINGS || a->nstrings != 1)
        sv_fail(cc->ec, a->line, a->col, "'%s' expects a string as %s",
                n->name, what);
    return &a->strings[0];
}

static void no_tests(sv_compiler *cc, const sv_node *n)
{
    if (n->ntests)
        sv_fail(cc->ec, n->tests[0].line, n->tests[0].col,
                "'%s' takes no tests", n->name);
}

/* set [MODIFIER] <name: string> <value: string> (RFC 5229 §4) */
static void compile_set(sv_compiler *cc, const sv_node *n, sv_cmd *c)
{
    static const struct {
        const char *tag;
        unsigned bit;
        int precedence;
    } mods[] = {
        { "lower", SV_MOD_LOWER, 40 }, { "upper", SV_MOD_UPPER, 40 },
        { "lowerfirst", SV_MOD_LOWERFIRST, 30 },
        { "upperfirst", SV_MOD_UPPERFIRST, 30 },
        { "quotewildcard", SV_MOD_QUOTEWILD, 20 },
        { "quoteregex", SV_MOD_QUOTEREGEX, 20 },
        { "length", SV_MOD_LENGTH, 10 },
    };
    const sv_arg *pos[2];
    const sv_str *name;
    int i, npos = 0, used[5] = { 0 };
    apr_size_t k;

    for (i = 0; i < n->nargs; i++) {
        const sv_arg *a = &n->args[i];

        if (a->type != SV_ARG_TAG) {
            if (npos == 2)
                sv_fail(cc->ec, a->line, a->col,
                        "too many arguments for 'set'");
            pos[npos++] = a;
            continue;
        }
        for (k = 0; k < sizeof(mods) / sizeof(mods[0]); k++)
            if (strcmp(mods[k].tag, a->tag) == 0)
                break;
        if (k == sizeof(mods) / sizeof(mods[0]))
            sv_fail(cc->ec, a->line, a->col, "unknown tag ':%s' for 'set'",
                    a->tag);
        if (mods[k].bit == SV_MOD_QUOTEREGEX)
            need_ext(cc, SV_EXT_REGEX, a->line, a->col, ":quoteregex");
        /* RFC 5229 §4.1: one modifier per precedence level. */
        if (used[mods[k].precedence / 10])
            sv_fail(cc->ec, a->line, a->col,
                    "'set' takes only one modifier of precedence %d",
                    mods[k].precedence);
        used[mods[k].precedence / 10] = 1;
        c->modifiers |= mods[k].bit;
    }
    if (npos != 2)
        sv_fail(cc->ec, n->line, n->col,
                "'set' needs a variable name and a value");
    name = single_string(cc, n, pos[0], "the variable name");
    if (!sv_valid_identifier(name->text, name->len))
        sv_fail(cc->ec, name->line, name->col,
                "invalid variable name \"%s\"", name->text);
    c->var = (unsigned)sv_variable_slot(cc, name->text, name->len,
                                        name->line, name->col);
    sv_compile_string(cc, single_string(cc, n, pos[1], "the value"),
                      &c->value);
}

void sv_compile_simple(sv_compiler *cc, const sv_node *n, sv_cmd *c)
{
    c->line = n->line;
    no_tests(cc, n);
    if (strcmp(n->name, "set") == 0) {
        need_ext(cc, SV_EXT_VARIABLES, n->line, n->col, "'set'");
        c->kind = SV_C_SET;
        compile_set(cc, n, c);
        return;
    }
    if (strcmp(n->name, "reject") == 0 || strcmp(n->name, "ereject") == 0) {
        int ere = n->name[0] == 'e';

        need_ext(cc, ere ? SV_EXT_EREJECT : SV_EXT_REJECT, n->line, n->col,
                 ere ? "'ereject'" : "'reject'");
        c->kind = ere ? SV_C_EREJECT : SV_C_REJECT;
        if (n->nargs != 1)
            sv_fail(cc->ec, n->line, n->col, "'%s' needs one reason string",
                    n->name);
        sv_compile_string(cc, single_string(cc, n, &n->args[0], "reason"),
                          &c->value);
        return;
    }
    if (n->nargs)
        sv_fail(cc->ec, n->args[0].line, n->args[0].col,
                "'%s' takes no arguments", n->name);
    if (strcmp(n->name, "stop") == 0)
        c->kind = SV_C_STOP;
    else if (strcmp(n->name, "keep") == 0)
        c->kind = SV_C_KEEP;
    else
        c->kind = SV_C_DISCARD;
}

/* ------------------------------------------------------------ tests */

#define TAG_CMP   0x01u   /* :comparator */
#define TAG_MATCH 0x02u   /* :is :contains :matches :regex :value ... */
#define TAG_ADDR  0x04u   /* :all :localpart :domain */
#define TAG_SIZE  0x08u   /* :over :under */

static const struct test_spec {
    const char *name;
    int kind;
    unsigned ext;        /* SV_EXT_* needed */
    unsigned stage;      /* SIEVE_ALLOW_* needed */
    unsigned tags;
    const char *args;    /* positional: l = string list, s = string,
                          * n = number */
} tests[] = {
    { "true", SV_T_TRUE, 0, 0, 0, "" },
    { "false", SV_T_FALSE, 0, 0, 0, "" },
    { "not", SV_T_NOT, 0, 0, 0, "" },
    { "anyof", SV_T_ANYOF, 0, 0, 0, "" },
    { "allof", SV_T_ALLOF, 0, 0, 0, "" },
    { "header", SV_T_HEADER, 0, SIEVE_ALLOW_HEADERS, TAG_CMP | TAG_MATCH,
      "ll" },
    { "address", SV_T_ADDRESS, 0, SIEVE_ALLOW_HEADERS,
      TAG_CMP | TAG_MATCH | TAG_ADDR, "ll" },
    { "envelope", SV_T_ENVELOPE, SV_EXT_ENVELOPE, SIEVE_ALLOW_ENVELOPE,
      TAG_CMP | TAG_MATCH | TAG_ADDR, "ll" },
    { "exists", SV_T_EXISTS, 0, SIEVE_ALLOW_HEADERS, 0, "l" },
    { "size", SV_T_SIZE, 0, SIEVE_ALLOW_SIZE, TAG_SIZE, "n" },
    { "string", SV_T_STRING, SV_EXT_VARIABLES, 0, TAG_CMP | TAG_MATCH,
      "ll" },
    { "environment", SV_T_ENVIRONMENT, SV_EXT_ENVIRONMENT, 0,
      TAG_CMP | TAG_MATCH, "sl" },
    { "valid_ext_list", SV_T_VALID_LIST, SV_EXT_EXTLISTS, 0, 0, "l" },
};

static const struct {
    const char *tag;
    int match;
    unsigned ext;
} match_tags[] = {
    { "is", SV_MATCH_IS, 0 },
    { "contains", SV_MATCH_CONTAINS, 0 },
    { "matches", SV_MATCH_MATCHES, 0 },
    { "regex", SV_MATCH_REGEX, SV_EXT_REGEX },
    { "value", SV_MATCH_VALUE, SV_EXT_RELATIONAL },
    { "count", SV_MATCH_COUNT, SV_EXT_RELATIONAL },
    { "list", SV_MATCH_LIST, SV_EXT_EXTLISTS },
};

static const char *const relops[] = { "gt", "ge", "lt", "le", "eq", "ne" };

static apr_status_t free_regex_cleanup(void *code)
{
    pcre2_code_free(code);
    return APR_SUCCESS;
}

/* Compile the constant :regex keys now; variable ones at run time. */
static void compile_regexes(sv_compiler *cc, sv_test *t, const sv_arg *keys)
{
    unsigned i;

    t->regex = apr_pcalloc(cc->pool, sizeof(pcre2_code *) * t->keys.n);
    for (i = 0; i < t->keys.n; i++) {
        const sv_string *k = &t->keys.items[i];
        PCRE2_UCHAR msg[160];
        PCRE2_SIZE off;
        int code;
        pcre2_code *re;

        if (k->nparts)
            continue;
        re = pcre2_compile((PCRE2_SPTR)k->text, k->len,
                           t->comparator == SV_CMP_CASEMAP ? PCRE2_CASELESS
                                                           : 0,
                           &code, &off, NULL);
        if (re == NULL) {
            pcre2_get_error_message(code, msg, sizeof(msg));
            sv_fail(cc->ec, keys->strings[i].line, keys->strings[i].col,
                    "invalid regular expression: %s", (char *)msg);
        }
        apr_pool_cleanup_register(cc->pool, re, free_regex_cleanup,
                                  apr_pool_cleanup_null);
        pcre2_jit_compile(re, PCRE2_JIT_COMPLETE); /* optional speed-up */
        t->regex[i] = re;
    }
}

/* Note a constant list name once, for sieve_program_lists(). */
static void remember_list(sv_compiler *cc, const char *name)
{
    if (apr_hash_get(cc->list_seen, name, APR_HASH_KEY_STRING))
        return;
    apr_hash_set(cc->list_seen, name, APR_HASH_KEY_STRING, name);
    APR_ARRAY_PUSH(cc->lists, const char *) = name;
}

/* RFC 5322 §3.6.8: field-name = 1*ftext (printable, no colon). */
static int valid_header_name(const char *s, apr_size_t len)
{
    apr_size_t i;

    if (len == 0)
        return 0;
    for (i = 0; i < len; i++)
        if ((unsigned char)s[i] < 33 || (unsigned char)s[i] > 126 ||
            s[i] == ':')
            return 0;
    return 1;
}

/* Compile-time checks of the header names or envelope parts. */
static void check_names(sv_compiler *cc, const sv_test *t, const sv_arg *a)
{
    unsigned i;

    for (i = 0; i < t->names.n; i++) {
        const sv_string *s = &t->names.items[i];
        const sv_str *src = &a->strings[i];

        if (s->nparts)
            continue;
        if (t->kind == SV_T_ENVELOPE) {
            /* RFC 5228 §5.4: "from" and "to" are the parts defined */
            if (strcasecmp(s->text, "from") != 0 &&
                strcasecmp(s->text, "to") != 0)
                sv_fail(cc->ec, src->line, src->col,
                        "unknown envelope part \"%s\"", s->text);
        }
        else if (!valid_header_name(s->text, s->len)) {
            sv_fail(cc->ec, src->line, src->col,
                    "invalid header name \"%s\"", s->text);
        }
        else if (t->kind == SV_T_ADDRESS &&
                 !sv_is_address_header(s->text, s->len)) {
            /* RFC 5228 §5.1: address only applies to address headers */
            sv_fail(cc->ec, src->line, src->col,
                    "header \"%s\" does not contain addresses", s->text);
        }
    }
}

/* Tagged arguments common to the match tests. */
static void compile_tag(sv_compiler *cc, const struct test_spec *spec,
                        const sv_node *n, int *i, sv_test *t,
                        int *seen_cmp, int *seen_match, int *seen_addr)
{
    const sv_arg *a = &n->args[*i];
    const char *tag = a->tag;
    apr_size_t k;

    if ((spec->tags & TAG_CMP) && strcmp(tag, "comparator") == 0) {
        const sv_str *s;

        if (*seen_cmp)
            sv_fail(cc->ec, a->line, a->col, "duplicate :comparator");
        *seen_cmp = 1;
        if (++*i >= n->nargs)
            sv_fail(cc->ec, a->line, a->col,
                    ":comparator needs a comparator name");
        s = single_string(cc, n, &n->args[*i], "comparator name");
        /* RFC 4790 §3.1: collation names are case-insensitive */
        if (strcasecmp(s->text, "i;ascii-casemap") == 0) {
            t->comparator = SV_CMP_CASEMAP;
        }
        else if (strcasecmp(s->text, "i;octet") == 0) {
            t->comparator = SV_CMP_OCTET;
        }
        else if (strcasecmp(s->text, "i;ascii-numeric") == 0) {
            need_ext(cc, SV_EXT_NUMERIC, s->line, s->col,
                     "comparator \"i;ascii-numeric\"");
            t->comparator = SV_CMP_NUMERIC;
        }
        else {
            sv_fail(cc->ec, s->line, s->col, "unknown comparator \"%s\"",
                    s->text);
        }
        return;
    }
    if (spec->tags & TAG_MATCH) {
        for (k = 0; k < sizeof(match_tags) / sizeof(match_tags[0]); k++) {
            if (strcmp(match_tags[k].tag, tag) != 0)
                continue;
            if (match_tags[k].ext)
                need_ext(cc, match_tags[k].ext, a->line, a->col,
                         apr_psprintf(cc->tmp, ":%s", tag));
            if (*seen_match)
                sv_fail(cc->ec, a->line, a->col,
                        "only one match type may be given");
            *seen_match = 1;
            t->match = (unsigned char)match_tags[k].match;
            if (t->match == SV_MATCH_VALUE || t->match == SV_MATCH_COUNT) {
                const sv_str *s;
                apr_size_t r;

                if (++*i >= n->nargs)
                    sv_fail(cc->ec, a->line, a->col,
                            ":%s needs a relational operator", tag);
                s = single_string(cc, n, &n->args[*i],
                                  "relational operator");
                for (r = 0; r < 6; r++)
                    if (strcasecmp(relops[r], s->text) == 0)
                        break;
                if (r == 6)
                    sv_fail(cc->ec, s->line, s->col,
                            "invalid relational operator \"%s\"", s->text);
                t->relop = (unsigned char)r;
            }
            return;
        }
    }
    if (spec->tags & TAG_ADDR) {
        int part = strcmp(tag, "all") == 0 ? SV_ADDR_ALL
                   : strcmp(tag, "localpart") == 0 ? SV_ADDR_LOCAL
                   : strcmp(tag, "domain") == 0 ? SV_ADDR_DOMAIN : -1;

        if (part >= 0) {
            if (*seen_addr)
                sv_fail(cc->ec, a->line, a->col,
                        "only one address part may be given");
            *seen_addr = 1;
            t->addrpart = (unsigned char)part;
            return;
        }
    }
    if ((spec->tags & TAG_SIZE) &&
        (strcmp(tag, "over") == 0 || strcmp(tag, "under") == 0)) {
        if (*seen_match)
            sv_fail(cc->ec, a->line, a->col,
                    "'size' takes only one of :over and :under");
        *seen_match = 1;
        t->over = tag[0] == 'o';
        return;
    }
    sv_fail(cc->ec, a->line, a->col, "unknown tag ':%s' for '%s'", tag,
            spec->name);
}

const sv_test *sv_compile_test(sv_compiler *cc, const sv_node *n, int depth)
{
    const struct test_spec *spec = NULL;
    const sv_arg *pos[2] = { NULL, NULL };
    int i, npos = 0, seen_cmp = 0, seen_match = 0, seen_addr = 0;
    apr_size_t k;
    sv_test *t;

    if (depth > SIEVE_MAX_DEPTH)
        sv_fail(cc->ec, n->line, n->col, "nesting too deep (limit %d)",
                SIEVE_MAX_DEPTH);
    for (k = 0; k < sizeof(tests) / sizeof(tests[0]); k++)
        if (strcmp(tests[k].name, n->name) == 0)
            spec = &tests[k];
    if (spec == NULL)
        sv_fail(cc->ec, n->line, n->col, "unknown test '%s'", n->name);
    if (spec->ext)
        need_ext(cc, spec->ext, n->line, n->col,
                 apr_psprintf(cc->tmp, "'%s'", n->name));
    if (spec->stage && !(cc->allow & spec->stage))
        sv_fail(cc->ec, n->line, n->col,
                "%s test is not available at this stage", n->name);
    cc->prog->needs |= spec->stage;

    t = apr_pcalloc(cc->pool, sizeof(*t));
    t->kind = (unsigned char)spec->kind;
    t->line = n->line;
    t->comparator = SV_CMP_CASEMAP;       /* RFC 5228 §2.7.3 default */
    t->match = SV_MATCH_IS;
    t->addrpart = SV_ADDR_ALL;

    if (spec->kind == SV_T_NOT || spec->kind == SV_T_ANYOF ||
        spec->kind == SV_T_ALLOF) {
        sv_test *kids;

        if (n->nargs)
            sv_fail(cc->ec, n->args[0].line, n->args[0].col,
                    "'%s' takes no arguments", n->name);
        if (spec->kind == SV_T_NOT ? n->ntests != 1
                                   : (!n->test_list || n->ntests < 1))
            sv_fail(cc->ec, n->line, n->col,
                    spec->kind == SV_T_NOT ? "'not' needs one test"
                                           : "'%s' needs a test list",
                    n->name);
        kids = apr_pcalloc(cc->pool, sizeof(sv_test) * n->ntests);
        for (i = 0; i < n->ntests; i++)
            kids[i] = *sv_compile_test(cc, &n->tests[i], depth + 1);
        t->children = kids;
        t->nchildren = (unsigned)n->ntests;
        return t;
    }
    no_tests(cc, n);

    for (i = 0; i < n->nargs; i++) {
        if (n->args[i].type == SV_ARG_TAG) {
            compile_tag(cc, spec, n, &i, t, &seen_cmp, &seen_match,
                        &seen_addr);
            continue;
        }
        if ((apr_size_t)npos >= strlen(spec->args))
            sv_fail(cc->ec, n->args[i].line, n->args[i].col,
                    "too many arguments for '%s'", n->name);
        if (spec->args[npos] == 'n' && n->args[i].type != SV_ARG_NUMBER)
            sv_fail(cc->ec, n->args[i].line, n->args[i].col,
                    "'%s' expects a number", n->name);
        if (spec->args[npos] != 'n' && n->args[i].type != SV_ARG_STRINGS)
            sv_fail(cc->ec, n->args[i].line, n->args[i].col,
                    "'%s' expects a string list", n->name);
        if (spec->args[npos] == 's')
            single_string(cc, n, &n->args[i], "name");
        pos[npos++] = &n->args[i];
    }
    if ((apr_size_t)npos < strlen(spec->args))
        sv_fail(cc->ec, n->line, n->col,
                "'%s' needs %d arguments, found %d", n->name,
                (int)strlen(spec->args), npos);

    switch (spec->kind) {
    case SV_T_SIZE:
        if (!seen_match)
            sv_fail(cc->ec, n->line, n->col,
                    "'size' needs :over or :under");
        if (pos[0]->number > APR_INT64_MAX)
            sv_fail(cc->ec, pos[0]->line, pos[0]->col, "number too large");
        t->limit = (apr_off_t)pos[0]->number;
        return t;
    case SV_T_EXISTS:
    case SV_T_VALID_LIST:
        sv_compile_strlist(cc, pos[0], &t->names);
        if (spec->kind == SV_T_EXISTS) {
            check_names(cc, t, pos[0]);
        }
        else {
            unsigned j;

            for (j = 0; j < t->names.n; j++)
                if (!t->names.items[j].nparts)
                    remember_list(cc, t->names.items[j].text);
        }
        return t;
    case SV_T_TRUE:
    case SV_T_FALSE:
        return t;
    default:
        break;
    }

    /* the match tests: names/sources, then keys */
    sv_compile_strlist(cc, pos[0], &t->names);
    sv_compile_strlist(cc, pos[1], &t->keys);
    if (spec->kind == SV_T_HEADER || spec->kind == SV_T_ADDRESS ||
        spec->kind == SV_T_ENVELOPE)
        check_names(cc, t, pos[0]);

    if (t->comparator == SV_CMP_NUMERIC &&
        (t->match == SV_MATCH_CONTAINS || t->match == SV_MATCH_MATCHES ||
         t->match == SV_MATCH_REGEX || t->match == SV_MATCH_LIST))
        /* RFC 4790 §9.1: i;ascii-numeric offers equality and ordering */
        sv_fail(cc->ec, n->line, n->col,
                "comparator \"i;ascii-numeric\" does not support :%s",
                match_tags[t->match].tag);
    if (t->match == SV_MATCH_REGEX)
        compile_regexes(cc, t, pos[1]);
    if (t->match == SV_MATCH_LIST) {
        unsigned j;

        for (j = 0; j < t->keys.n; j++)
            if (!t->keys.items[j].nparts)
                remember_list(cc, t->keys.items[j].text);
    }
    return t;
}

/* ------------------------------------------------------- the driver */

sieve_program *sieve_compile(apr_pool_t *p, const char *name,
                             const char *text, apr_size_t len,
                             unsigned allow_flags, sieve_error *err)
{
    apr_pool_t *pool;
    sv_compiler cc;
    sv_errctx ec;
    sv_lexer lx;
    sieve_program *prog;

    memset(err, 0, sizeof(*err));
    if (text == NULL)
        len = 0;
    if (len > SIEVE_MAX_SCRIPT) {
        err->line = 1;
        err->column = 1;
        snprintf(err->message, sizeof(err->message),
                 "script too large (limit %d octets)", SIEVE_MAX_SCRIPT);
        return NULL;
    }
    if (apr_pool_create(&pool, p) != APR_SUCCESS) {
        err->line = err->column = 1;
        snprintf(err->message, sizeof(err->message), "out of memory");
        return NULL;
    }
    memset(&cc, 0, sizeof(cc));
    ec.err = err;
    cc.pool = pool;
    cc.ec = &ec;
    cc.allow = allow_flags;
    apr_pool_create(&cc.tmp, pool);
    cc.vars = apr_array_make(cc.tmp, 8, sizeof(const char *));
    cc.envs = apr_array_make(cc.tmp, 8, sizeof(const char *));
    cc.lists = apr_array_make(cc.tmp, 4, sizeof(const char *));
    cc.list_seen = apr_hash_make(cc.tmp);
    prog = cc.prog = apr_pcalloc(pool, sizeof(*prog));
    prog->name = apr_pstrdup(pool, name ? name : "script");

    if (setjmp(ec.jump)) {
        apr_pool_destroy(pool);
        return NULL;
    }
    sv_lex_init(&lx, text ? text : "", len, cc.tmp, &ec);
    sv_parse_script(&cc, &lx);

    prog->nvars = (unsigned)cc.vars->nelts;
    prog->var_names = apr_pmemdup(pool, cc.vars->elts,
                                  sizeof(char *) * (cc.vars->nelts + 1));
    prog->nenv = (unsigned)cc.envs->nelts;
    prog->env_names = apr_pmemdup(pool, cc.envs->elts,
                                  sizeof(char *) * (cc.envs->nelts + 1));
    prog->nlists = cc.lists->nelts;
    prog->lists = apr_pmemdup(pool, cc.lists->elts,
                              sizeof(char *) * (cc.lists->nelts + 1));
    apr_pool_destroy(cc.tmp);
    return prog;
}

const char *sieve_program_name(const sieve_program *prog)
{
    return prog->name;
}

unsigned sieve_program_needs(const sieve_program *prog)
{
    return prog->needs;
}

const char *const *sieve_program_lists(const sieve_program *prog,
                                       int *count)
{
    *count = prog->nlists;
    return prog->lists;
}
