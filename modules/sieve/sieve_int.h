/*
 * sieve_int.h -- internals shared by the files of the Sieve engine.
 *
 * The engine is split as:
 *   sieve_lexer.c    script text -> tokens (RFC 5228 §2)
 *   sieve_parser.c   tokens -> one command's arguments and tests (syntax)
 *   sieve_compile.c  commands and tests -> program tree (semantics)
 *   sieve_string.c   strings -> variable templates (RFC 5229 §3)
 *   sieve_match.c    comparators, match types, address parsing
 *   sieve_eval.c     evaluates tests at run time
 *   sieve_exec.c     runs a program (sieve_run): commands, variables
 * Nothing here is part of the public API (see sieve.h).
 */
#ifndef SIEVE_INT_H
#define SIEVE_INT_H

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <apr_tables.h>
#include <setjmp.h>

#include "sieve.h"

#define SV_MAX_ARGS   32      /* arguments of one command or test */
#define SV_MAX_MATCH  10      /* match variables ${0}..${9} */
#define SV_MAX_ENV    64      /* distinct ${env.*} names in one script */
#define SV_MAX_NAME   128     /* octets of an identifier or tag */

/* ------------------------------------------------------------- lexer */

typedef enum {
    SV_TOK_EOF = 0,
    SV_TOK_IDENT,      /* require, if, header, ... */
    SV_TOK_TAG,        /* :is (text without the colon) */
    SV_TOK_NUMBER,     /* 10K (value already multiplied) */
    SV_TOK_STRING,     /* "..." or text: ... (decoded) */
    SV_TOK_SEMI, SV_TOK_COMMA, SV_TOK_LPAREN, SV_TOK_RPAREN,
    SV_TOK_LBRACKET, SV_TOK_RBRACKET, SV_TOK_LBRACE, SV_TOK_RBRACE
} sv_tok_type;

typedef struct sv_token {
    sv_tok_type type;
    int line, col;           /* where the token starts */
    int end_line, end_col;   /* just after its last character */
    const char *text;        /* identifier, tag or decoded string */
    apr_size_t len;
    apr_uint64_t number;
} sv_token;

/* Error reporting: the first error wins and unwinds with longjmp. */
typedef struct sv_errctx {
    sieve_error *err;
    jmp_buf jump;
} sv_errctx;

void sv_fail(sv_errctx *ec, int line, int col, const char *fmt, ...)
    __attribute__((noreturn, format(printf, 4, 5)));

typedef struct sv_lexer {
    const char *src;
    apr_size_t len, pos;
    int line, col;
    apr_pool_t *pool;        /* decoded strings */
    sv_errctx *ec;
    sv_token ahead;          /* one token of look-ahead */
    int have_ahead;
    int prev_end_line, prev_end_col; /* end of the last consumed token */
} sv_lexer;

void sv_lex_init(sv_lexer *lx, const char *src, apr_size_t len,
                 apr_pool_t *pool, sv_errctx *ec);
const sv_token *sv_lex_peek(sv_lexer *lx);
sv_token sv_lex_next(sv_lexer *lx);
const char *sv_tok_describe(apr_pool_t *p, const sv_token *t);

/* ---------------------------------------------- syntax tree (one cmd) */

typedef enum { SV_ARG_STRINGS, SV_ARG_NUMBER, SV_ARG_TAG } sv_arg_type;

typedef struct sv_str {
    const char *text;
    apr_size_t len;
    int line, col;
} sv_str;

typedef struct sv_arg {
    sv_arg_type type;
    int line, col;
    int bracketed;           /* written as [ ... ] */
    sv_str *strings;         /* SV_ARG_STRINGS */
    int nstrings;
    apr_uint64_t number;     /* SV_ARG_NUMBER */
    const char *tag;         /* SV_ARG_TAG, lower-cased, no colon */
} sv_arg;

typedef struct sv_node {     /* a test, or the head of a command */
    const char *name;        /* lower-cased identifier */
    int line, col;
    sv_arg *args;
    int nargs;
    struct sv_node *tests;
    int ntests;
    int test_list;           /* tests were written as ( ... ) */
} sv_node;

typedef struct sv_parser sv_parser;

/* ----------------------------------------------------- program tree */

enum {                       /* parts of a string template */
    SV_PART_TEXT, SV_PART_VAR, SV_PART_MATCH, SV_PART_ENV
};

typedef struct sv_part {
    unsigned char kind;
    unsigned short index;    /* variable slot, match number, env slot */
    apr_size_t len;          /* SV_PART_TEXT */
    const char *text;
} sv_part;

typedef struct sv_string {   /* constant when nparts == 0 */
    const char *text;        /* NUL-terminated constant text */
    apr_size_t len;
    const sv_part *parts;
    unsigned nparts;
} sv_string;

typedef struct sv_strlist {
    const sv_string *items;
    unsigned n;
} sv_strlist;

enum {                       /* comparators (RFC 4790) */
    SV_CMP_CASEMAP, SV_CMP_OCTET, SV_CMP_NUMERIC
};
enum {                       /* match types */
    SV_MATCH_IS, SV_MATCH_CONTAINS, SV_MATCH_MATCHES, SV_MATCH_REGEX,
    SV_MATCH_VALUE, SV_MATCH_COUNT, SV_MATCH_LIST
};
enum { SV_REL_GT, SV_REL_GE, SV_REL_LT, SV_REL_LE, SV_REL_EQ, SV_REL_NE };
enum { SV_ADDR_ALL, SV_ADDR_LOCAL, SV_ADDR_DOMAIN };

enum {                       /* tests */
    SV_T_TRUE, SV_T_FALSE, SV_T_NOT, SV_T_ANYOF, SV_T_ALLOF,
    SV_T_HEADER, SV_T_ADDRESS, SV_T_ENVELOPE, SV_T_EXISTS, SV_T_SIZE,
    SV_T_STRING, SV_T_ENVIRONMENT, SV_T_VALID_LIST
};

typedef struct sv_test {
    unsigned char kind, comparator, match, relop, addrpart, over;
    int line;
    apr_off_t limit;                /* size */
    sv_strlist names;               /* header names, parts, sources */
    sv_strlist keys;
    pcre2_code **regex;             /* per key; NULL when not constant */
    const struct sv_test *children; /* not, anyof, allof */
    unsigned nchildren;
} sv_test;

enum {                       /* commands */
    SV_C_IF, SV_C_STOP, SV_C_KEEP, SV_C_DISCARD, SV_C_REJECT,
    SV_C_EREJECT, SV_C_SET
};

/* set modifiers (RFC 5229 §4.1) */
#define SV_MOD_LOWER      0x01u
#define SV_MOD_UPPER      0x02u
#define SV_MOD_LOWERFIRST 0x04u
#define SV_MOD_UPPERFIRST 0x08u
#define SV_MOD_QUOTEWILD  0x10u
#define SV_MOD_QUOTEREGEX 0x20u
#define SV_MOD_LENGTH     0x40u

typedef struct sv_cmd sv_cmd;

typedef struct sv_block {
    const sv_cmd *cmds;
    unsigned n;
} sv_block;

typedef struct sv_branch {   /* if / elsif arm; test NULL for else */
    const sv_test *test;
    sv_block body;
} sv_branch;

struct sv_cmd {
    unsigned char kind;
    unsigned modifiers;
    int line;
    unsigned var;            /* set: variable slot */
    sv_string value;         /* set value, reject reason */
    const sv_branch *branches;
    unsigned nbranches;
};

/* extensions named by require */
#define SV_EXT_VARIABLES   0x001u
#define SV_EXT_EXTLISTS    0x002u
#define SV_EXT_REJECT      0x004u
#define SV_EXT_EREJECT     0x008u
#define SV_EXT_RELATIONAL  0x010u
#define SV_EXT_REGEX       0x020u
#define SV_EXT_ENVELOPE    0x040u
#define SV_EXT_ENVIRONMENT 0x080u
#define SV_EXT_NUMERIC     0x100u

struct sieve_program {
    const char *name;
    sv_block top;
    unsigned nvars;
    const char **var_names;
    unsigned nenv;
    const char **env_names;  /* lower-cased, without "env." */
    unsigned needs;          /* SIEVE_ALLOW_* used */
    const char **lists;
    int nlists;
};

/* ------------------------------------------------------ compilation */

typedef struct sv_compiler {
    apr_pool_t *pool;        /* the program's pool */
    apr_pool_t *tmp;         /* syntax trees, freed after compile */
    sv_errctx *ec;
    unsigned allow;          /* SIEVE_ALLOW_* of the stage */
    unsigned exts;           /* SV_EXT_* required so far */
    int seen_command;        /* a non-require command was compiled */
    sieve_program *prog;
    apr_array_header_t *vars;   /* const char * */
    apr_array_header_t *envs;   /* const char * */
    apr_array_header_t *lists;  /* const char * */
    struct apr_hash_t *list_seen; /* the same, for de-duplication */
} sv_compiler;

/* sieve_parser.c */
void sv_parse_script(sv_compiler *cc, sv_lexer *lx);

/* sieve_compile.c */
const sv_test *sv_compile_test(sv_compiler *cc, const sv_node *n,
                               int depth);
void sv_compile_require(sv_compiler *cc, const sv_node *n);
void sv_compile_simple(sv_compiler *cc, const sv_node *n, sv_cmd *out);
int sv_command_known(const char *name, int *takes_test, int *takes_block);

/* sieve_string.c */
void sv_compile_string(sv_compiler *cc, const sv_str *s, sv_string *out);
void sv_compile_strlist(sv_compiler *cc, const sv_arg *a, sv_strlist *out);
int sv_variable_slot(sv_compiler *cc, const char *name, apr_size_t len,
                     int line, int col);
int sv_valid_identifier(const char *s, apr_size_t len);

/* ---------------------------------------------------------- matching */

extern const unsigned char sv_fold[256];

int sv_compare_equal(int cmp, const char *a, apr_size_t alen,
                     const char *b, apr_size_t blen);
int sv_compare_order(int cmp, const char *a, apr_size_t alen,
                     const char *b, apr_size_t blen);
int sv_relation_holds(int relop, int order);
int sv_contains(int cmp, const char *hay, apr_size_t hlen,
                const char *needle, apr_size_t nlen, unsigned long *work);

/* glob match (:matches); CAPS gets SV_MAX_MATCH-1 (start, len) pairs
 * for the wildcards; returns 1 match, 0 no match, -1 over MAX_STEPS */
typedef struct sv_span {
    apr_size_t off, len;
} sv_span;
int sv_glob(int cmp, const char *pat, apr_size_t plen, const char *s,
            apr_size_t slen, sv_span *caps, unsigned *ncaps,
            unsigned long max_steps, unsigned long *steps);

/* address list iteration (RFC 5322 §3.4) */
typedef struct sv_addr_iter {
    const char *s;
    apr_size_t len, pos;
    int in_group;
} sv_addr_iter;
int sv_addr_next(sv_addr_iter *it, char *buf, apr_size_t cap,
                 apr_size_t *outlen, apr_size_t *at);
void sv_addr_part(int part, const char *addr, apr_size_t len,
                  apr_size_t at, const char **out, apr_size_t *outlen);
int sv_is_address_header(const char *name, apr_size_t len);

apr_size_t sv_utf8_clip(const char *s, apr_size_t len, apr_size_t cap);

/* ---------------------------------------------------------- running */

#define SV_ARENA      (64 * 1024)  /* octets for all variable values */
#define SV_PCRE_MEM   4096         /* PCRE2 contexts and match data */
#define SV_GLOB_RATE  16           /* glob steps per budget unit */
#define SV_SCAN_RATE  256          /* octets compared per budget unit */

enum { SV_TMP_NAME, SV_TMP_VAL, SV_TMP_KEY, SV_TMP_COUNT }; /* scratch */

typedef struct sv_slot {     /* a variable's value in the arena */
    apr_uint32_t off, len, cap;
} sv_slot;

/* The whole state of one run, on the caller's stack (sieve_exec.c).
 * Only the fields for the program's variables are initialised. */
typedef struct sv_run {
    const sieve_program *prog;
    const sieve_host *host;
    void *ctx;
    sieve_result *out;
    unsigned long budget;        /* remaining */
    unsigned long spent;
    int keep, discard, reject;   /* actions so far */

    apr_uint64_t env_done;       /* ${env.*} cache */
    const char *env_val[SV_MAX_ENV];
    apr_size_t env_len[SV_MAX_ENV];

    unsigned nmatch;             /* match variables */
    sv_span match[SV_MAX_MATCH];
    char match_buf[SIEVE_MAX_VALUE + 1];

    sv_slot vars[SIEVE_MAX_VARIABLES];
    apr_size_t arena_used;
    char arena[SV_ARENA];

    /* expansions: names/sources, values/address parts, keys; one spare
     * octet lets sv_utf8_clip() see a character cut at the limit */
    char tmp[SV_TMP_COUNT][SIEVE_MAX_VALUE + 2];

    pcre2_general_context *gctx; /* created at the first :regex */
    pcre2_match_context *mctx;
    pcre2_match_data *md;
    apr_size_t pcre_used;
    union {
        char bytes[SV_PCRE_MEM];
        double align;
        void *palign;
    } pcre_mem;
} sv_run;

/* sieve_exec.c */
int sv_charge(sv_run *r, unsigned long n);
int sv_exhausted(sv_run *r);
int sv_runtime_error(sv_run *r, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
int sv_expand(sv_run *r, const sv_string *s, char *buf, const char **out,
              apr_size_t *len);

/* sieve_eval.c: 1 true, 0 false, -1 stopped (budget or error) */
int sv_eval_test(sv_run *r, const sv_test *t);

#endif /* SIEVE_INT_H */
