/*
 * sieve_parser.c -- the Sieve grammar (RFC 5228 §8.2).
 *
 *   start    = commands
 *   command  = identifier arguments (";" / block)
 *   block    = "{" commands "}"
 *   arguments = *argument [ test / test-list ]
 *   argument = string-list / number / tag
 *   test     = identifier arguments
 *   test-list = "(" test *("," test) ")"
 *
 * Each command's head (its arguments and tests) is read into a small
 * syntax tree in a scratch pool and handed at once to sieve_compile.c,
 * so errors come out in text order; then its block is parsed.  If,
 * elsif and else are folded into one SV_C_IF command with branches.
 * Nesting (blocks and tests together) is capped at SIEVE_MAX_DEPTH so
 * hostile input cannot exhaust the stack.
 */
#include <string.h>

#include <apr_strings.h>

#include "sieve_int.h"

struct sv_parser {
    sv_compiler *cc;
    sv_lexer *lx;
};

static void check_depth(sv_parser *ps, int depth, const sv_token *t)
{
    if (depth > SIEVE_MAX_DEPTH)
        sv_fail(ps->cc->ec, t->line, t->col, "nesting too deep (limit %d)",
                SIEVE_MAX_DEPTH);
}

/* string-list = "[" string *("," string) "]" / string */
static void parse_string_list(sv_parser *ps, sv_arg *a)
{
    apr_array_header_t *arr = apr_array_make(ps->cc->tmp, 4, sizeof(sv_str));
    sv_token t = sv_lex_next(ps->lx);

    a->type = SV_ARG_STRINGS;
    a->line = t.line;
    a->col = t.col;
    if (t.type == SV_TOK_LBRACKET) {
        a->bracketed = 1;
        for (;;) {
            sv_str *s;

            t = sv_lex_next(ps->lx);
            if (t.type != SV_TOK_STRING)
                sv_fail(ps->cc->ec, t.line, t.col,
                        "expected a string in the string list, found %s",
                        sv_tok_describe(ps->cc->tmp, &t));
            if (arr->nelts >= SIEVE_MAX_LIST)
                sv_fail(ps->cc->ec, t.line, t.col,
                        "string list too long (limit %d)", SIEVE_MAX_LIST);
            s = apr_array_push(arr);
            s->text = t.text;
            s->len = t.len;
            s->line = t.line;
            s->col = t.col;
            t = sv_lex_next(ps->lx);
            if (t.type == SV_TOK_RBRACKET)
                break;
            if (t.type != SV_TOK_COMMA)
                sv_fail(ps->cc->ec, t.line, t.col,
                        "expected ',' or ']' in the string list, found %s",
                        sv_tok_describe(ps->cc->tmp, &t));
        }
    }
    else {
        sv_str *s = apr_array_push(arr);

        s->text = t.text;
        s->len = t.len;
        s->line = t.line;
        s->col = t.col;
    }
    a->strings = (sv_str *)arr->elts;
    a->nstrings = arr->nelts;
}

static void parse_test(sv_parser *ps, sv_node *n, int depth);

/* arguments = *argument [ test / test-list ]; WANT_TESTS says whether
 * the trailing test part is read (commands other than if/elsif have none,
 * so a following identifier there means a missing semicolon). */
static void parse_arguments(sv_parser *ps, sv_node *n, int want_tests,
                            int depth)
{
    apr_array_header_t *args = apr_array_make(ps->cc->tmp, 4,
                                              sizeof(sv_arg));
    const sv_token *t;

    for (;;) {
        sv_arg *a;

        t = sv_lex_peek(ps->lx);
        if (t->type != SV_TOK_STRING && t->type != SV_TOK_LBRACKET &&
            t->type != SV_TOK_NUMBER && t->type != SV_TOK_TAG)
            break;
        if (args->nelts >= SV_MAX_ARGS)
            sv_fail(ps->cc->ec, t->line, t->col,
                    "too many arguments (limit %d)", SV_MAX_ARGS);
        a = apr_array_push(args);
        memset(a, 0, sizeof(*a));
        if (t->type == SV_TOK_STRING || t->type == SV_TOK_LBRACKET) {
            parse_string_list(ps, a);
        }
        else {
            sv_token tok = sv_lex_next(ps->lx);

            a->line = tok.line;
            a->col = tok.col;
            if (tok.type == SV_TOK_NUMBER) {
                a->type = SV_ARG_NUMBER;
                a->number = tok.number;
            }
            else {
                a->type = SV_ARG_TAG;
                a->tag = tok.text;
            }
        }
    }
    n->args = (sv_arg *)args->elts;
    n->nargs = args->nelts;
    if (!want_tests)
        return;

    if (t->type == SV_TOK_IDENT) {
        n->tests = apr_pcalloc(ps->cc->tmp, sizeof(sv_node));
        n->ntests = 1;
        parse_test(ps, n->tests, depth + 1);
    }
    else if (t->type == SV_TOK_LPAREN) {
        apr_array_header_t *tests = apr_array_make(ps->cc->tmp, 4,
                                                   sizeof(sv_node));
        sv_token tok = sv_lex_next(ps->lx);

        check_depth(ps, depth + 1, &tok);
        n->test_list = 1;
        for (;;) {
            sv_node *sub;

            if (tests->nelts >= SIEVE_MAX_LIST)
                sv_fail(ps->cc->ec, tok.line, tok.col,
                        "test list too long (limit %d)", SIEVE_MAX_LIST);
            sub = apr_array_push(tests);
            memset(sub, 0, sizeof(*sub));
            parse_test(ps, sub, depth + 1);
            tok = sv_lex_next(ps->lx);
            if (tok.type == SV_TOK_RPAREN)
                break;
            if (tok.type != SV_TOK_COMMA)
                sv_fail(ps->cc->ec, tok.line, tok.col,
                        "expected ',' or ')' in the test list, found %s",
                        sv_tok_describe(ps->cc->tmp, &tok));
        }
        n->tests = (sv_node *)tests->elts;
        n->ntests = tests->nelts;
    }
}

/* test = identifier arguments */
static void parse_test(sv_parser *ps, sv_node *n, int depth)
{
    sv_token t = sv_lex_next(ps->lx);

    if (t.type != SV_TOK_IDENT)
        sv_fail(ps->cc->ec, t.line, t.col, "expected a test, found %s",
                sv_tok_describe(ps->cc->tmp, &t));
    check_depth(ps, depth, &t);
    n->name = t.text;
    n->line = t.line;
    n->col = t.col;
    parse_arguments(ps, n, 1, depth);
}

/* Work list of an if/elsif/else chain while its block is being read. */
typedef struct if_chain {
    apr_array_header_t *branches;   /* sv_branch */
    int has_else;
} if_chain;

static void parse_block(sv_parser *ps, int depth, const sv_token *open,
                        sv_block *out);

/* Read one command and append it to CMDS (with CHAINS in parallel). */
static void parse_command(sv_parser *ps, int depth, int toplevel,
                          apr_array_header_t *cmds,
                          apr_array_header_t *chains)
{
    sv_compiler *cc = ps->cc;
    sv_token name = sv_lex_next(ps->lx);
    int takes_test, takes_block;
    sv_node head;
    sv_token t;

    if (name.type != SV_TOK_IDENT)
        sv_fail(cc->ec, name.line, name.col, "expected a command, found %s",
                sv_tok_describe(cc->tmp, &name));
    if (!sv_command_known(name.text, &takes_test, &takes_block))
        sv_fail(cc->ec, name.line, name.col, "unknown command '%s'",
                name.text);
    memset(&head, 0, sizeof(head));
    head.name = name.text;
    head.line = name.line;
    head.col = name.col;
    parse_arguments(ps, &head, takes_test, depth);

    t = *sv_lex_peek(ps->lx);
    if (takes_test && head.ntests == 0)
        sv_fail(cc->ec, t.line, t.col, "expected a test after '%s', found %s",
                name.text, sv_tok_describe(cc->tmp, &t));
    if (takes_block && t.type != SV_TOK_LBRACE) {
        sv_fail(cc->ec, t.line, t.col, "expected '{' after '%s', found %s",
                name.text, sv_tok_describe(cc->tmp, &t));
    }
    if (!takes_block && t.type != SV_TOK_SEMI)
        sv_fail(cc->ec, ps->lx->prev_end_line, ps->lx->prev_end_col,
                "missing ';' after '%s'", name.text);

    if (strcmp(name.text, "require") == 0) {
        /* RFC 5228 §3.2: require only at the start of the script. */
        if (!toplevel || cc->seen_command)
            sv_fail(cc->ec, name.line, name.col,
                    "require must come before any other command");
        sv_compile_require(cc, &head);
        sv_lex_next(ps->lx);
        return;
    }
    cc->seen_command = 1;

    if (takes_block) {
        sv_token open = sv_lex_next(ps->lx);
        sv_branch br;
        int is_if = strcmp(name.text, "if") == 0;

        memset(&br, 0, sizeof(br));
        if (!is_if) {
            /* elsif/else continue the chain of the previous command */
            if_chain **last = cmds->nelts
                ? &APR_ARRAY_IDX(chains, chains->nelts - 1, if_chain *)
                : NULL;

            if (last == NULL || *last == NULL || (*last)->has_else)
                sv_fail(cc->ec, name.line, name.col,
                        "'%s' without a preceding 'if'", name.text);
        }
        if (takes_test) {
            if (head.ntests != 1 || head.test_list)
                sv_fail(cc->ec, head.line, head.col,
                        "'%s' needs exactly one test", name.text);
            if (head.nargs)
                sv_fail(cc->ec, head.args[0].line, head.args[0].col,
                        "'%s' takes no arguments", name.text);
            br.test = sv_compile_test(cc, head.tests, depth + 1);
        }
        else if (head.nargs) {
            sv_fail(cc->ec, head.args[0].line, head.args[0].col,
                    "'%s' takes no arguments", name.text);
        }
        parse_block(ps, depth + 1, &open, &br.body);
        if (is_if) {
            sv_cmd *c = apr_array_push(cmds);
            if_chain *chain = apr_pcalloc(cc->tmp, sizeof(*chain));

            memset(c, 0, sizeof(*c));
            c->kind = SV_C_IF;
            c->line = name.line;
            chain->branches = apr_array_make(cc->tmp, 2, sizeof(sv_branch));
            *(sv_branch *)apr_array_push(chain->branches) = br;
            APR_ARRAY_PUSH(chains, if_chain *) = chain;
        }
        else {
            if_chain *chain = APR_ARRAY_IDX(chains, chains->nelts - 1,
                                            if_chain *);

            *(sv_branch *)apr_array_push(chain->branches) = br;
            if (!takes_test)
                chain->has_else = 1;
        }
        return;
    }

    {
        sv_cmd *c = apr_array_push(cmds);

        memset(c, 0, sizeof(*c));
        sv_compile_simple(cc, &head, c);
        APR_ARRAY_PUSH(chains, if_chain *) = NULL;
    }
    sv_lex_next(ps->lx);                   /* the ';' */
}

/* Read commands up to the matching '}' (or the end of the script when
 * OPEN is NULL) and store them in the program pool. */
static void parse_block(sv_parser *ps, int depth, const sv_token *open,
                        sv_block *out)
{
    sv_compiler *cc = ps->cc;
    apr_array_header_t *cmds = apr_array_make(cc->tmp, 4, sizeof(sv_cmd));
    apr_array_header_t *chains = apr_array_make(cc->tmp, 4,
                                                sizeof(if_chain *));
    sv_cmd *final;
    int i;

    if (open)
        check_depth(ps, depth, open);
    for (;;) {
        const sv_token *t = sv_lex_peek(ps->lx);

        if (t->type == SV_TOK_EOF) {
            if (open)
                sv_fail(cc->ec, open->line, open->col, "unclosed '{'");
            break;
        }
        if (t->type == SV_TOK_RBRACE) {
            if (!open)
                sv_fail(cc->ec, t->line, t->col, "unexpected '}'");
            sv_lex_next(ps->lx);
            break;
        }
        parse_command(ps, depth, open == NULL, cmds, chains);
    }

    final = apr_pmemdup(cc->pool, cmds->elts,
                        sizeof(sv_cmd) * (cmds->nelts ? cmds->nelts : 1));
    for (i = 0; i < cmds->nelts; i++) {
        if_chain *chain = APR_ARRAY_IDX(chains, i, if_chain *);

        if (chain) {
            final[i].branches = apr_pmemdup(cc->pool, chain->branches->elts,
                                            sizeof(sv_branch)
                                            * chain->branches->nelts);
            final[i].nbranches = chain->branches->nelts;
        }
    }
    out->cmds = final;
    out->n = cmds->nelts;
}

void sv_parse_script(sv_compiler *cc, sv_lexer *lx)
{
    sv_parser ps;

    ps.cc = cc;
    ps.lx = lx;
    parse_block(&ps, 0, NULL, &cc->prog->top);
}
