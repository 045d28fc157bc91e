/*
 * sieve_lexer.c -- turns Sieve script text into tokens (RFC 5228 §2).
 *
 * Handles identifiers (case-insensitive, returned lower-cased), tags
 * (":is"), numbers with K/M/G quantifiers, quoted strings with backslash
 * escapes, "text:" multi-line strings with dot-stuffing, the punctuation
 * ; , ( ) [ ] { }, and both comment forms (# to end of line, and
 * bracketed).  Every token carries its 1-based line and column so that
 * compile errors can point at it.  The first error unwinds the whole
 * compilation through sv_fail().
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <apr_strings.h>

#include "sieve_int.h"

/* Record the first compile error and unwind to sieve_compile(). */
void sv_fail(sv_errctx *ec, int line, int col, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(ec->err->message, sizeof(ec->err->message), fmt, ap);
    va_end(ap);
    ec->err->line = line;
    ec->err->column = col;
    longjmp(ec->jump, 1);
}

void sv_lex_init(sv_lexer *lx, const char *src, apr_size_t len,
                 apr_pool_t *pool, sv_errctx *ec)
{
    memset(lx, 0, sizeof(*lx));
    lx->src = src;
    lx->len = len;
    lx->line = 1;
    lx->col = 1;
    lx->pool = pool;
    lx->ec = ec;
    lx->prev_end_line = 1;
    lx->prev_end_col = 1;
}

static int lx_peekc(const sv_lexer *lx, apr_size_t ahead)
{
    if (lx->pos + ahead >= lx->len)
        return -1;
    return (unsigned char)lx->src[lx->pos + ahead];
}

/* Consume one character, keeping line and column up to date. */
static int lx_getc(sv_lexer *lx)
{
    int c;

    if (lx->pos >= lx->len)
        return -1;
    c = (unsigned char)lx->src[lx->pos++];
    if (c == '\n') {
        lx->line++;
        lx->col = 1;
    }
    else {
        lx->col++;
    }
    return c;
}

static int is_alpha_(int c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

static int is_digit(int c)
{
    return c >= '0' && c <= '9';
}

/* Skip white space, "# ..." and bracketed comments. */
static void lx_skip_space(sv_lexer *lx)
{
    for (;;) {
        int c = lx_peekc(lx, 0);

        if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
            lx_getc(lx);
        }
        else if (c == '#') {
            while ((c = lx_peekc(lx, 0)) != -1 && c != '\n') {
                if (c == 0)
                    sv_fail(lx->ec, lx->line, lx->col,
                            "NUL character in script");
                lx_getc(lx);
            }
        }
        else if (c == '/' && lx_peekc(lx, 1) == '*') {
            int line = lx->line, col = lx->col;

            lx_getc(lx);
            lx_getc(lx);
            for (;;) {
                c = lx_getc(lx);
                if (c == -1)
                    sv_fail(lx->ec, line, col, "unterminated comment");
                if (c == '*' && lx_peekc(lx, 0) == '/') {
                    lx_getc(lx);
                    break;
                }
            }
        }
        else {
            return;
        }
    }
}

/* Read an identifier (after its first character was checked). */
static void lx_identifier(sv_lexer *lx, sv_token *t)
{
    apr_size_t start = lx->pos, n, i;
    char *out;

    while (lx_peekc(lx, 0) != -1 &&
           (is_alpha_(lx_peekc(lx, 0)) || is_digit(lx_peekc(lx, 0))))
        lx_getc(lx);
    n = lx->pos - start;
    if (n > SV_MAX_NAME)
        sv_fail(lx->ec, t->line, t->col, "name too long (limit %d)",
                SV_MAX_NAME);
    /* RFC 5228 §2.1: identifiers are case-insensitive. */
    out = apr_palloc(lx->pool, n + 1);
    for (i = 0; i < n; i++)
        out[i] = (char)sv_fold[(unsigned char)lx->src[start + i]];
    out[n] = '\0';
    t->text = out;
    t->len = n;
}

/* RFC 5228 §2.4.1: a number with an optional K, M or G quantifier. */
static void lx_number(sv_lexer *lx, sv_token *t)
{
    apr_uint64_t v = 0;
    const apr_uint64_t max = APR_UINT64_C(0x7fffffffffffffff);
    int c, shift = 0;

    while ((c = lx_peekc(lx, 0)) != -1 && is_digit(c)) {
        if (v > (max - (apr_uint64_t)(c - '0')) / 10)
            sv_fail(lx->ec, t->line, t->col, "number too large");
        v = v * 10 + (apr_uint64_t)(c - '0');
        lx_getc(lx);
    }
    c = lx_peekc(lx, 0);
    if (c == 'K' || c == 'k')
        shift = 10;
    else if (c == 'M' || c == 'm')
        shift = 20;
    else if (c == 'G' || c == 'g')
        shift = 30;
    if (shift) {
        lx_getc(lx);
        if (v > (max >> shift))
            sv_fail(lx->ec, t->line, t->col, "number too large");
        v <<= shift;
    }
    t->number = v;
}

/* RFC 5228 §2.4.2: a quoted string; "\x" stands for "x". */
static void lx_quoted(sv_lexer *lx, sv_token *t)
{
    apr_size_t start, n = 0;
    char *out;
    int c;

    lx_getc(lx);                          /* the opening quote */
    start = lx->pos;
    /* First pass: find the end and the decoded length. */
    for (;;) {
        c = lx_getc(lx);
        if (c == -1)
            sv_fail(lx->ec, t->line, t->col, "unterminated string");
        if (c == 0)
            sv_fail(lx->ec, lx->line, lx->col - 1, "NUL character in script");
        if (c == '"')
            break;
        if (c == '\\') {
            c = lx_getc(lx);
            if (c == -1)
                sv_fail(lx->ec, t->line, t->col, "unterminated string");
            if (c == 0)
                sv_fail(lx->ec, lx->line, lx->col - 1,
                        "NUL character in script");
        }
        n++;
    }
    out = apr_palloc(lx->pool, n + 1);
    t->text = out;
    t->len = n;
    /* Second pass over the raw text: drop the escaping backslashes. */
    for (; start < lx->pos - 1; start++) {
        if (lx->src[start] == '\\')
            start++;
        *out++ = lx->src[start];
    }
    *out = '\0';
}

/*
 * RFC 5228 §2.4.2: "text:" up to a line holding a lone ".".  A line that
 * starts with "." has that dot removed (dot-stuffing); no escapes apply.
 * Line ends are kept as written (CRLF or LF).
 */
static void lx_multiline(sv_lexer *lx, sv_token *t)
{
    apr_size_t i;
    char *out;
    int c;

    for (i = 0; i < 5; i++)               /* "text:" */
        lx_getc(lx);
    while ((c = lx_peekc(lx, 0)) == ' ' || c == '\t')
        lx_getc(lx);
    if (c == '#') {
        while ((c = lx_peekc(lx, 0)) != -1 && c != '\n')
            lx_getc(lx);
    }
    else if (c == '\r' && lx_peekc(lx, 1) == '\n') {
        lx_getc(lx);
    }
    if (lx_peekc(lx, 0) != '\n')
        sv_fail(lx->ec, lx->line, lx->col,
                "expected end of line after 'text:'");
    lx_getc(lx);

    /* The decoded text is never longer than the rest of the script. */
    out = apr_palloc(lx->pool, lx->len - lx->pos + 1);
    t->text = out;
    for (;;) {
        if (lx->pos >= lx->len)
            sv_fail(lx->ec, t->line, t->col,
                    "unterminated multi-line string");
        if (lx_peekc(lx, 0) == '.') {
            int c1 = lx_peekc(lx, 1);

            if (c1 == '\n' || (c1 == '\r' && lx_peekc(lx, 2) == '\n')) {
                lx_getc(lx);
                if (c1 == '\r')
                    lx_getc(lx);
                lx_getc(lx);
                break;
            }
            lx_getc(lx);                  /* dot-stuffing */
        }
        while ((c = lx_getc(lx)) != -1) {
            if (c == 0)
                sv_fail(lx->ec, lx->line, lx->col - 1,
                        "NUL character in script");
            *out++ = (char)c;
            if (c == '\n')
                break;
        }
    }
    *out = '\0';
    t->len = (apr_size_t)(out - t->text);
}

/* Scan the next token from the text. */
static void lx_scan(sv_lexer *lx, sv_token *t)
{
    int c;

    lx_skip_space(lx);
    memset(t, 0, sizeof(*t));
    t->line = lx->line;
    t->col = lx->col;
    c = lx_peekc(lx, 0);
    switch (c) {
    case -1:
        t->type = SV_TOK_EOF;
        break;
    case ';': t->type = SV_TOK_SEMI; lx_getc(lx); break;
    case ',': t->type = SV_TOK_COMMA; lx_getc(lx); break;
    case '(': t->type = SV_TOK_LPAREN; lx_getc(lx); break;
    case ')': t->type = SV_TOK_RPAREN; lx_getc(lx); break;
    case '[': t->type = SV_TOK_LBRACKET; lx_getc(lx); break;
    case ']': t->type = SV_TOK_RBRACKET; lx_getc(lx); break;
    case '{': t->type = SV_TOK_LBRACE; lx_getc(lx); break;
    case '}': t->type = SV_TOK_RBRACE; lx_getc(lx); break;
    case '"':
        t->type = SV_TOK_STRING;
        lx_quoted(lx, t);
        break;
    case ':':
        lx_getc(lx);
        if (!is_alpha_(lx_peekc(lx, 0)))
            sv_fail(lx->ec, t->line, t->col, "expected a tag name after ':'");
        t->type = SV_TOK_TAG;
        lx_identifier(lx, t);
        break;
    default:
        if (is_digit(c)) {
            t->type = SV_TOK_NUMBER;
            lx_number(lx, t);
        }
        else if (is_alpha_(c)) {
            if (lx->len - lx->pos >= 5 &&
                strncasecmp(lx->src + lx->pos, "text:", 5) == 0) {
                t->type = SV_TOK_STRING;
                lx_multiline(lx, t);
            }
            else {
                t->type = SV_TOK_IDENT;
                lx_identifier(lx, t);
            }
        }
        else if (c == 0) {
            sv_fail(lx->ec, t->line, t->col, "NUL character in script");
        }
        else if (c > 32 && c < 127) {
            sv_fail(lx->ec, t->line, t->col, "unexpected character '%c'", c);
        }
        else {
            sv_fail(lx->ec, t->line, t->col,
                    "unexpected character 0x%02x", (unsigned)c);
        }
    }
    t->end_line = lx->line;
    t->end_col = lx->col;
}

const sv_token *sv_lex_peek(sv_lexer *lx)
{
    if (!lx->have_ahead) {
        lx_scan(lx, &lx->ahead);
        lx->have_ahead = 1;
    }
    return &lx->ahead;
}

sv_token sv_lex_next(sv_lexer *lx)
{
    sv_token t;

    sv_lex_peek(lx);
    t = lx->ahead;
    lx->have_ahead = 0;
    lx->prev_end_line = t.end_line;
    lx->prev_end_col = t.end_col;
    return t;
}

/* A short description of a token for error messages. */
const char *sv_tok_describe(apr_pool_t *p, const sv_token *t)
{
    switch (t->type) {
    case SV_TOK_EOF: return "end of script";
    case SV_TOK_IDENT: return apr_psprintf(p, "'%s'", t->text);
    case SV_TOK_TAG: return apr_psprintf(p, "':%s'", t->text);
    case SV_TOK_NUMBER: return "a number";
    case SV_TOK_STRING: return "a string";
    case SV_TOK_SEMI: return "';'";
    case SV_TOK_COMMA: return "','";
    case SV_TOK_LPAREN: return "'('";
    case SV_TOK_RPAREN: return "')'";
    case SV_TOK_LBRACKET: return "'['";
    case SV_TOK_RBRACKET: return "']'";
    case SV_TOK_LBRACE: return "'{'";
    case SV_TOK_RBRACE: return "'}'";
    }
    return "?";
}
