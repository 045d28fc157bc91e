/*
 * toml.c -- Herald's TOML configuration reader.
 *
 * Debian 12 packages no C TOML library, so Herald reads its configuration
 * itself.  This file turns TOML text into the hr_value tree of hr_config.h;
 * every value remembers the file and the line where it starts, so that the
 * schema checker and the expression compiler can say "FILE:LINE: message".
 *
 * Usage (the core's config loader):
 *
 *     hr_value *root = hr_value_make_table(pconf, path, 0);
 *     apr_array_header_t *errors = apr_array_make(pconf, 8, sizeof(char *));
 *     if (hr_toml_parse_file(pconf, path, root, errors) > 0) {
 *         ... print each APR_ARRAY_IDX(errors, i, char *) and give up ...
 *     }
 *
 * The subset of TOML 1.0 (https://toml.io/en/v1.0.0) that Herald reads:
 *   - comments, [table] and [[array.of.tables]] headers, bare, quoted and
 *     dotted keys (`a.b = 1` creates the table a);
 *   - basic "..." strings with escapes (\uXXXX and \UXXXXXXXX become
 *     UTF-8), literal '...' strings, multi-line """...""" and '''...'''
 *     (Sieve scripts are written in the latter);
 *   - integers (decimal with '_', 0x, 0o, 0b), floats (with inf and nan),
 *     booleans, arrays (mixed types, newlines, comments, trailing comma)
 *     and one-line inline tables;
 *   - dates and times are checked and kept as strings (HR_VAL_STRING) as
 *     written: no Herald key needs them as timestamps.
 *
 * Everything TOML forbids is an error: a key defined twice, a table
 * defined twice, a table extended after it was closed ({ inline }), a
 * [[x]] on something that is not an array of tables.  Parsing goes into a
 * root that may already hold the keys of another file (`include`): a
 * [table] header may reopen a table that an earlier file defined, but a
 * key defined in both is an error naming both places.
 *
 * Errors are appended as "FILE:LINE: message"; after one, the reader skips
 * to the next line and goes on, up to TOML_MAX_ERRORS.  Nothing recurses
 * without a bound: arrays and inline tables nest at most TOML_MAX_DEPTH
 * deep, a key has at most TOML_MAX_KEY_PARTS parts of TOML_MAX_KEY_LEN
 * bytes, a file is at most TOML_MAX_FILE_SIZE bytes and makes at most
 * TOML_MAX_TABLES tables (each costs some 400 bytes).
 */
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <apr_file_io.h>
#include <apr_hash.h>
#include <apr_lib.h>
#include <apr_strings.h>

#include "hr_config.h"

#define TOML_MAX_ERRORS 50
#define TOML_MAX_DEPTH 64      /* nested arrays and inline tables */
#define TOML_MAX_KEY_LEN 255   /* bytes in one part of a key */
#define TOML_MAX_KEY_PARTS 64  /* parts of one dotted key */
#define TOML_MAX_TOKEN 128     /* numbers, booleans, dates */
#define TOML_MAX_TABLES 100000 /* tables made by one parse */
#define TOML_MAX_FILE_SIZE (16 * 1024 * 1024)
#define TOML_SHOW_MAX 48 /* input bytes quoted in a message */

/*
 * How this parse has seen a table.  Tables absent from the parser's state
 * hash (TABLE_OPEN) come from an earlier file: they may be reopened.
 */
typedef enum {
    TABLE_OPEN = 0,
    TABLE_IMPLICIT, /* created as a parent by a header: [a.b] creates a */
    TABLE_HEADER,   /* defined by [header] or [[header]] */
    TABLE_DOTTED    /* created by a dotted key: a.b = 1 creates a */
} table_state;

/* A growable byte buffer for decoded strings, in the scratch pool. */
typedef struct {
    apr_pool_t *pool;
    char *data;
    apr_size_t len;
    apr_size_t cap;
} toml_buf;

typedef struct {
    apr_pool_t *p;              /* the tree's pool */
    apr_pool_t *work;           /* lives for this parse */
    apr_pool_t *scratch;        /* cleared before every statement */
    apr_array_header_t *errors; /* of char * */
    const char *file;
    const char *pos;
    const char *end;
    int line;
    int nerrors;     /* errors added by this parse */
    int depth;       /* nesting of arrays and inline tables */
    int error_depth; /* depth at the last error */
    int ntables;     /* tables made so far */
    int stop;        /* a limit was hit: give up */
    hr_value *root;
    hr_table *current;        /* where `key = value` lines go */
    const char *current_path; /* its name, for messages ("" = root) */
    apr_hash_t *states;       /* hr_table * -> table_state */
    toml_buf text;            /* the string being decoded (reused) */
} toml_parser;

/* ------------------------------------------------------------ messages */

#ifdef __GNUC__
static void toml_error(toml_parser *P, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
#endif

/* Append "FILE:LINE: message" to the error list, up to the limit. */
static void toml_error(toml_parser *P, int line, const char *fmt, ...)
{
    apr_pool_t *pool = P->errors->pool;
    va_list ap;
    char *msg;

    if (P->nerrors >= TOML_MAX_ERRORS) {
        return;
    }
    va_start(ap, fmt);
    msg = apr_pvsprintf(pool, fmt, ap);
    va_end(ap);
    if (P->nerrors == TOML_MAX_ERRORS - 1) {
        msg = apr_pstrcat(pool, msg, " (too many errors, giving up)", NULL);
    }
    APR_ARRAY_PUSH(P->errors, char *) =
        apr_psprintf(pool, "%s:%d: %s", P->file, line, msg);
    P->nerrors++;
    P->error_depth = P->depth;
}

/*
 * Length of the valid UTF-8 sequence at s (RFC 3629 §4: no overlong
 * forms, no surrogates, nothing above U+10FFFF), or 0 when invalid.
 */
static int utf8_sequence_length(const char *s, const char *end)
{
    const unsigned char *u = (const unsigned char *)s;
    apr_size_t avail = (apr_size_t)(end - s);
    int n, i;
    unsigned cp;

    if (avail == 0) {
        return 0;
    }
    if (u[0] < 0x80) {
        return 1;
    } else if (u[0] >= 0xC2 && u[0] <= 0xDF) {
        n = 2;
        cp = u[0] & 0x1F;
    } else if (u[0] >= 0xE0 && u[0] <= 0xEF) {
        n = 3;
        cp = u[0] & 0x0F;
    } else if (u[0] >= 0xF0 && u[0] <= 0xF4) {
        n = 4;
        cp = u[0] & 0x07;
    } else {
        return 0;
    }
    if (avail < (apr_size_t)n) {
        return 0;
    }
    for (i = 1; i < n; i++) {
        if ((u[i] & 0xC0) != 0x80) {
            return 0;
        }
        cp = (cp << 6) | (u[i] & 0x3F);
    }
    if ((n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) ||
        (cp >= 0xD800 && cp <= 0xDFFF) || cp > 0x10FFFF) {
        return 0;
    }
    return n;
}

/* Input quoted for a message: printable, at most TOML_SHOW_MAX bytes. */
static const char *show(toml_parser *P, const char *s, apr_size_t len)
{
    char *out = apr_palloc(P->scratch, TOML_SHOW_MAX + 4);
    apr_size_t i = 0, o = 0;

    while (i < len && o < TOML_SHOW_MAX) {
        unsigned char c = (unsigned char)s[i];
        int n = utf8_sequence_length(s + i, s + len);

        if (c >= 0x80 && n > 1 && o + (apr_size_t)n <= TOML_SHOW_MAX) {
            memcpy(out + o, s + i, (apr_size_t)n);
            o += (apr_size_t)n;
            i += (apr_size_t)n;
            continue;
        }
        out[o++] = (c < 0x20 || c >= 0x7F) ? '?' : (char)c;
        i++;
    }
    if (i < len) {
        memcpy(out + o, "...", 3);
        o += 3;
    }
    out[o] = '\0';
    return out;
}

/* The rest of the current line, quoted for a message. */
static const char *show_rest_of_line(toml_parser *P)
{
    const char *e = P->pos;

    while (e < P->end && *e != '\n' && *e != '\r' &&
           e - P->pos <= TOML_SHOW_MAX) {
        e++;
    }
    return show(P, P->pos, (apr_size_t)(e - P->pos));
}

/* "a.b" + "c" for messages; the root has the empty name. */
static const char *join_path(toml_parser *P, const char *prefix,
                             const char *name)
{
    if (prefix == NULL || *prefix == '\0') {
        return name;
    }
    return apr_pstrcat(P->scratch, prefix, ".", name, NULL);
}

/* A key part as TOML would write it: bare when it can be, else quoted. */
static const char *key_part_display(toml_parser *P, const char *part)
{
    const char *c;

    for (c = part; *c != '\0'; c++) {
        if (!apr_isalnum(*c) && *c != '_' && *c != '-') {
            break;
        }
    }
    if (*c == '\0' && c != part) {
        return show(P, part, strlen(part));
    }
    return apr_pstrcat(P->scratch, "\"", show(P, part, strlen(part)), "\"",
                       NULL);
}

/* ------------------------------------------------------------- buffers */

static void buf_init(toml_buf *b, apr_pool_t *pool)
{
    b->pool = pool;
    b->cap = 64;
    b->len = 0;
    b->data = apr_palloc(pool, b->cap);
}

static void buf_append(toml_buf *b, const char *s, apr_size_t n)
{
    if (b->len + n + 1 > b->cap) {
        apr_size_t cap = b->cap * 2;
        char *data;

        while (cap < b->len + n + 1) {
            cap *= 2;
        }
        data = apr_palloc(b->pool, cap);
        memcpy(data, b->data, b->len);
        b->data = data;
        b->cap = cap;
    }
    memcpy(b->data + b->len, s, n);
    b->len += n;
}

static void buf_byte(toml_buf *b, char c)
{
    buf_append(b, &c, 1);
}

/* ------------------------------------------------------- the value tree */

/* Append an entry to a table and index it (position + 1, see values.c). */
static void table_add(hr_table *t, const char *key, hr_value *v)
{
    hr_table_entry *e = apr_array_push(t->entries);

    e->key = key;
    e->value = v;
    e->used = 0;
    apr_hash_set(t->index, key, APR_HASH_KEY_STRING,
                 (void *)(apr_uintptr_t)t->entries->nelts);
}

static hr_value *make_value(toml_parser *P, hr_value_type type, int line)
{
    hr_value *v = apr_pcalloc(P->p, sizeof(*v));

    v->type = type;
    v->file = P->file;
    v->line = line;
    return v;
}

/* A new table value, within TOML_MAX_TABLES; NULL (and stop) beyond. */
static hr_value *new_table(toml_parser *P, int line)
{
    if (++P->ntables > TOML_MAX_TABLES) {
        toml_error(P, line, "too many tables (limit %d)", TOML_MAX_TABLES);
        P->stop = 1;
        return NULL;
    }
    return hr_value_make_table(P->p, P->file, line);
}

static table_state get_state(toml_parser *P, hr_table *t)
{
    return (table_state)(apr_uintptr_t)apr_hash_get(P->states, &t, sizeof(t));
}

static void set_state(toml_parser *P, hr_table *t, table_state state)
{
    hr_table **key;

    if (apr_hash_get(P->states, &t, sizeof(t)) != NULL) {
        apr_hash_set(P->states, &t, sizeof(t), (void *)(apr_uintptr_t)state);
        return;
    }
    key = apr_palloc(P->work, sizeof(*key));
    *key = t;
    apr_hash_set(P->states, key, sizeof(*key), (void *)(apr_uintptr_t)state);
}

/* Is v an array made by [[header]] (as opposed to a static `x = [...]`)? */
static int is_array_of_tables(const hr_value *v)
{
    const hr_value *last;

    if (v->type != HR_VAL_ARRAY || v->u.array->nelts == 0) {
        return 0;
    }
    last = APR_ARRAY_IDX(v->u.array, v->u.array->nelts - 1, hr_value *);
    return last->type == HR_VAL_TABLE && last->u.table->from_array;
}

/*
 * Close an inline table after its '}', with the tables its dotted keys
 * created inside it (TOML 1.0 "Inline Table": self-contained).  Nested
 * inline tables were closed already, so this descends only into dotted
 * parts: at most TOML_MAX_KEY_PARTS deep.
 */
static void close_inline_table(hr_table *t)
{
    int i;

    t->is_inline = 1;
    for (i = 0; i < t->entries->nelts; i++) {
        hr_value *v = APR_ARRAY_IDX(t->entries, i, hr_table_entry).value;

        if (v->type == HR_VAL_TABLE && !v->u.table->is_inline) {
            close_inline_table(v->u.table);
        }
    }
}

/* ------------------------------------------------------------- scanning */

static int peek(const toml_parser *P)
{
    return P->pos < P->end ? (unsigned char)*P->pos : -1;
}

static int peek_at(const toml_parser *P, apr_size_t n)
{
    return (apr_size_t)(P->end - P->pos) > n ? (unsigned char)P->pos[n] : -1;
}

static int is_bare_key_char(int c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
           (c >= '0' && c <= '9') || c == '_' || c == '-';
}

/* Characters of an unquoted value: numbers, booleans, dates. */
static int is_token_char(int c)
{
    return is_bare_key_char(c) || c == '+' || c == '.' || c == ':';
}

static int at_line_end(const toml_parser *P)
{
    int c = peek(P);
    return c == -1 || c == '\n' || c == '\r' || c == '#';
}

static void skip_ws(toml_parser *P)
{
    while (P->pos < P->end && (*P->pos == ' ' || *P->pos == '\t')) {
        P->pos++;
    }
}

/* Move past the next newline (error recovery). */
static void skip_line(toml_parser *P)
{
    const char *nl = memchr(P->pos, '\n', (apr_size_t)(P->end - P->pos));

    if (nl == NULL) {
        P->pos = P->end;
        return;
    }
    P->pos = nl + 1;
    P->line++;
}

/* Consume "\n" or "\r\n"; a lone CR is an error.  Returns 0 or -1. */
static int consume_newline(toml_parser *P)
{
    if (peek(P) == '\n') {
        P->pos++;
        P->line++;
        return 0;
    }
    if (peek(P) == '\r' && peek_at(P, 1) == '\n') {
        P->pos += 2;
        P->line++;
        return 0;
    }
    toml_error(P, P->line, "carriage return not followed by a newline");
    return -1;
}

/*
 * Skip a comment up to (not including) the end of its line.  TOML 1.0
 * "Comment": no control characters but tab, and the file is UTF-8.  A bad
 * byte is reported once, and the rest of the comment is still skipped.
 */
static void skip_comment(toml_parser *P)
{
    int reported = 0;

    P->pos++;
    while (P->pos < P->end) {
        unsigned char c = (unsigned char)*P->pos;
        int n = 1;

        if (c == '\n' || (c == '\r' && peek_at(P, 1) == '\n')) {
            return;
        }
        if ((c < 0x20 && c != '\t') || c == 0x7F) {
            if (!reported) {
                toml_error(P, P->line, "control character 0x%02X in comment",
                           c);
            }
            reported = 1;
        } else if (c >= 0x80) {
            n = utf8_sequence_length(P->pos, P->end);
            if (n == 0) {
                if (!reported) {
                    toml_error(P, P->line, "invalid UTF-8 in comment");
                }
                reported = 1;
                n = 1;
            }
        }
        P->pos += n;
    }
}

/* Skip blanks, comments and newlines (inside arrays). */
static int skip_ws_comments_newlines(toml_parser *P)
{
    for (;;) {
        skip_ws(P);
        switch (peek(P)) {
        case '#':
            skip_comment(P);
            break;
        case '\n':
        case '\r':
            if (consume_newline(P) != 0) {
                return -1;
            }
            break;
        default:
            return 0;
        }
    }
}

/* Skip a string of any kind without decoding it (error recovery). */
static void skip_string_raw(toml_parser *P)
{
    char quote = *P->pos;
    int multi = (peek_at(P, 1) == quote && peek_at(P, 2) == quote);

    P->pos += multi ? 3 : 1;
    while (P->pos < P->end) {
        char c = *P->pos;

        if (c == quote &&
            (!multi || (peek_at(P, 1) == quote && peek_at(P, 2) == quote))) {
            P->pos += multi ? 3 : 1;
            return;
        }
        if (c == '\\' && quote == '"' && P->pos + 1 < P->end) {
            P->pos++;
            c = *P->pos;
        }
        if (c == '\n') {
            if (!multi) {
                return;
            }
            P->line++;
        }
        P->pos++;
    }
}

/*
 * After an error inside @open arrays or inline tables, skip to the
 * bracket that closes the outermost one (strings and comments skipped
 * whole), so that its remaining lines are not reported again as bad
 * statements of their own.
 */
static void skip_open_brackets(toml_parser *P, int open)
{
    while (open > 0 && P->pos < P->end) {
        switch (*P->pos) {
        case '"':
        case '\'':
            skip_string_raw(P);
            continue;
        case '#':
            while (P->pos < P->end && *P->pos != '\n') {
                P->pos++;
            }
            continue;
        case '\n':
            P->line++;
            break;
        case '[':
        case '{':
            open++;
            break;
        case ']':
        case '}':
            open--;
            break;
        default:
            break;
        }
        P->pos++;
    }
}

/* After a statement: blanks, an optional comment, then end of line. */
static int end_of_statement(toml_parser *P, const char *what)
{
    skip_ws(P);
    if (peek(P) == '#') {
        skip_comment(P);
    }
    if (peek(P) == -1) {
        return 0;
    }
    if (peek(P) == '\n' || peek(P) == '\r') {
        return consume_newline(P);
    }
    toml_error(P, P->line, "unexpected text after %s: '%s'", what,
               show_rest_of_line(P));
    return -1;
}

/* -------------------------------------------------------------- strings */

static int hex_value(int c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }
    if (c >= 'A' && c <= 'F') {
        return c - 'A' + 10;
    }
    return -1;
}

/* The byte a short escape (\n, \t ...) stands for, or -1 (TOML 1.0). */
static int short_escape(int letter)
{
    static const char pairs[] = "b\bt\tn\nf\fr\r\"\"\\\\";
    int i;

    for (i = 0; pairs[i] != '\0'; i += 2) {
        if (pairs[i] == letter) {
            return (unsigned char)pairs[i + 1];
        }
    }
    return -1;
}

/* Encode a Unicode scalar value as UTF-8 (RFC 3629 §3). */
static apr_size_t utf8_encode(unsigned long cp, char *out)
{
    if (cp < 0x80) {
        out[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (char)(0xC0 | (cp >> 6));
        out[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (char)(0xE0 | (cp >> 12));
        out[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        out[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    out[0] = (char)(0xF0 | (cp >> 18));
    out[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    out[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
    out[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

/*
 * Decode \uXXXX or \UXXXXXXXX at P->pos (which points at the 'u'/'U').
 * TOML 1.0 "String": the value must be a Unicode scalar value.  U+0000 is
 * refused too: Herald's strings are NUL-terminated.
 */
static int decode_unicode_escape(toml_parser *P, toml_buf *b)
{
    int digits = (*P->pos == 'u') ? 4 : 8;
    unsigned long cp = 0;
    char utf8[4];
    int i;

    for (i = 1; i <= digits; i++) {
        int h = hex_value(peek_at(P, (apr_size_t)i));
        if (h < 0) {
            toml_error(P, P->line,
                       "invalid escape \\%c: expected %d hex "
                       "digits",
                       *P->pos, digits);
            P->pos++;
            return -1;
        }
        cp = (cp << 4) | (unsigned long)h;
    }
    P->pos += digits + 1;
    if (cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
        toml_error(P, P->line,
                   "invalid escape: U+%X is not a Unicode "
                   "scalar value",
                   (unsigned)cp);
        return -1;
    }
    if (cp == 0) {
        toml_error(P, P->line,
                   "NUL character (\\u0000) is not allowed in "
                   "strings");
        return -1;
    }
    buf_append(b, utf8, utf8_encode(cp, utf8));
    return 0;
}

/*
 * After a backslash in a multi-line basic string: if only blanks follow
 * up to the end of the line, trim them, the newlines and the leading
 * blanks of the next lines (TOML 1.0 "line ending backslash").  Returns 1
 * when trimmed, 0 when this is not a line-ending backslash.
 */
static int trim_line_ending_backslash(toml_parser *P)
{
    const char *q = P->pos + 1;

    while (q < P->end && (*q == ' ' || *q == '\t')) {
        q++;
    }
    if (!(q < P->end &&
          (*q == '\n' || (*q == '\r' && q + 1 < P->end && q[1] == '\n')))) {
        return 0;
    }
    P->pos = q;
    for (;;) {
        int c = peek(P);

        if (c == ' ' || c == '\t') {
            P->pos++;
        } else if (c == '\n' || (c == '\r' && peek_at(P, 1) == '\n')) {
            consume_newline(P);
        } else {
            return 1;
        }
    }
}

/*
 * Parse a string of any of the four kinds at P->pos.  Returns it
 * NUL-terminated in the tree's pool, or NULL after an error.  A string with
 * a bad character is still read to its end, so the next line is parsed
 * from a sane place; only its first error is reported.
 */
static const char *parse_string(toml_parser *P, int allow_multiline,
                                apr_size_t *lenp)
{
    char quote = *P->pos;
    int literal = (quote == '\'');
    int multi = (peek_at(P, 1) == quote && peek_at(P, 2) == quote);
    int start_line = P->line;
    int failed = 0;
    toml_buf *b = &P->text;

    if (multi && !allow_multiline) {
        toml_error(P, P->line, "a multi-line string cannot be a key");
        return NULL;
    }
    b->len = 0;
    P->pos += multi ? 3 : 1;
    if (multi) {
        /* TOML 1.0: a newline right after the opening delimiter is
         * trimmed. */
        if (peek(P) == '\n' || (peek(P) == '\r' && peek_at(P, 1) == '\n')) {
            consume_newline(P);
        }
    }

    for (;;) {
        int c = peek(P);

        if (c == -1 ||
            (!multi && (c == '\n' || (c == '\r' && peek_at(P, 1) == '\n')))) {
            toml_error(P, start_line, "unterminated %sstring",
                       multi ? "multi-line " : "");
            return NULL;
        }
        if (c == quote) {
            apr_size_t run = 0;

            if (!multi) {
                P->pos++;
                break;
            }
            while (peek_at(P, run) == quote) {
                run++;
            }
            if (run < 3) {
                buf_append(b, P->pos, run);
                P->pos += run;
                continue;
            }
            /* Up to two quotes may sit right before the closing three. */
            if (run > 5) {
                if (!failed) {
                    toml_error(P, P->line,
                               "too many quotes at the end of a "
                               "multi-line string");
                }
                failed = 1;
                P->pos += run;
                break;
            }
            buf_append(b, P->pos, run - 3);
            P->pos += run;
            break;
        }
        if (c == '\\' && !literal) {
            int e = peek_at(P, 1);
            int simple;

            if (multi && (e == ' ' || e == '\t' || e == '\n' || e == '\r') &&
                trim_line_ending_backslash(P)) {
                continue;
            }
            simple = short_escape(e);
            if (simple >= 0) {
                buf_byte(b, (char)simple);
                P->pos += 2;
                continue;
            }
            if (e == 'u' || e == 'U') {
                P->pos++;
                if (failed) {
                    P->pos++; /* already bad: only find the end */
                } else if (decode_unicode_escape(P, b) != 0) {
                    failed = 1;
                }
                continue;
            }
            if (e == -1 || e == '\n' || e == '\r') {
                P->pos++; /* reported as unterminated above */
                continue;
            }
            if (!failed) {
                if (e > 0x20 && e < 0x7F) {
                    toml_error(P, P->line, "invalid escape \\%c", e);
                } else {
                    toml_error(P, P->line,
                               "invalid escape \\ followed by "
                               "byte 0x%02X",
                               (unsigned)e);
                }
            }
            failed = 1;
            P->pos += 2;
            continue;
        }
        if (c == '\n') {
            buf_byte(b, '\n');
            P->pos++;
            P->line++;
            continue;
        }
        if (c == '\r' && peek_at(P, 1) == '\n') {
            buf_byte(b, '\n'); /* newlines are stored as LF */
            P->pos += 2;
            P->line++;
            continue;
        }
        if ((c < 0x20 && c != '\t') || c == 0x7F) {
            /* TOML 1.0 "String": control characters must be escaped. */
            if (!failed) {
                toml_error(P, P->line,
                           "control character 0x%02X in string "
                           "(write it as an escape)",
                           (unsigned)c);
            }
            failed = 1;
            P->pos++;
            continue;
        }
        if (c >= 0x80) {
            int n = utf8_sequence_length(P->pos, P->end);

            if (n == 0) {
                if (!failed) {
                    toml_error(P, P->line, "invalid UTF-8 in string");
                }
                failed = 1;
                P->pos++;
                continue;
            }
            buf_append(b, P->pos, (apr_size_t)n);
            P->pos += n;
            continue;
        }
        buf_byte(b, (char)c);
        P->pos++;
    }
    if (failed) {
        return NULL;
    }
    if (lenp != NULL) {
        *lenp = b->len;
    }
    return apr_pstrmemdup(P->p, b->data, b->len);
}

/* ---------------------------------------------------------------- keys */

/*
 * Parse a key: parts separated by dots, each bare or quoted, blanks
 * allowed around the dots.  Returns an array of const char * (the parts,
 * in the tree's pool) and sets *display to the key as TOML writes it.
 */
static apr_array_header_t *parse_key(toml_parser *P, const char **display)
{
    apr_array_header_t *parts =
        apr_array_make(P->scratch, 4, sizeof(const char *));
    const char *shown = "";

    for (;;) {
        int c = peek(P);
        const char *part;
        apr_size_t len;

        if (is_bare_key_char(c)) {
            const char *start = P->pos;

            while (is_bare_key_char(peek(P))) {
                P->pos++;
            }
            len = (apr_size_t)(P->pos - start);
            part = (len <= TOML_MAX_KEY_LEN) ? apr_pstrmemdup(P->p, start, len)
                                             : NULL;
        } else if (c == '"' || c == '\'') {
            /* parse_string refuses NUL: the part is a whole C string. */
            part = parse_string(P, 0, &len);
            if (part == NULL) {
                return NULL;
            }
        } else if (c == -1 || c == '\n' || c == '\r' || c == '#') {
            toml_error(P, P->line, "expected a key%s%s%s",
                       *shown ? " after '" : "", shown, *shown ? "'" : "");
            return NULL;
        } else {
            toml_error(P, P->line, "invalid character '%s' in key%s%s%s",
                       show(P, P->pos, 1), *shown ? " after '" : "", shown,
                       *shown ? "'" : "");
            return NULL;
        }
        if (len > TOML_MAX_KEY_LEN) {
            toml_error(P, P->line,
                       "key too long (%" APR_SIZE_T_FMT " bytes, limit %d)",
                       len, TOML_MAX_KEY_LEN);
            return NULL;
        }
        if (parts->nelts >= TOML_MAX_KEY_PARTS) {
            toml_error(P, P->line, "key has too many parts (limit %d)",
                       TOML_MAX_KEY_PARTS);
            return NULL;
        }
        APR_ARRAY_PUSH(parts, const char *) = part;
        shown = join_path(P, shown, key_part_display(P, part));

        skip_ws(P);
        if (peek(P) != '.') {
            break;
        }
        P->pos++;
        skip_ws(P);
    }
    *display = shown;
    return parts;
}

/* ------------------------------------------------ numbers, dates, words */

/*
 * Parse a TOML integer: decimal (no leading zeros), or 0x, 0o, 0b with no
 * sign; '_' only between digits.  Returns 0, -1 (syntax) or -2 (range).
 */
static int parse_integer(const char *s, apr_int64_t *out)
{
    apr_uint64_t acc = 0, limit = APR_INT64_MAX;
    int base = 10, negative = 0, has_sign = 0, prev_digit = 0, ndigits = 0;

    if (*s == '+' || *s == '-') {
        negative = (*s == '-');
        has_sign = 1;
        s++;
    }
    if (s[0] == '0' && (s[1] == 'x' || s[1] == 'o' || s[1] == 'b')) {
        if (has_sign) {
            return -1; /* TOML 1.0: no sign on prefixed integers */
        }
        base = (s[1] == 'x') ? 16 : (s[1] == 'o') ? 8 : 2;
        s += 2;
    } else if (s[0] == '0' && s[1] != '\0') {
        return -1; /* leading zero */
    }
    if (negative) {
        limit = (apr_uint64_t)APR_INT64_MAX + 1;
    }
    for (; *s != '\0'; s++) {
        int d = hex_value((unsigned char)*s);

        if (*s == '_') {
            if (!prev_digit) {
                return -1;
            }
            prev_digit = 0;
            continue;
        }
        if (d < 0 || d >= base) {
            return -1;
        }
        if (acc > (limit - (apr_uint64_t)d) / (apr_uint64_t)base) {
            return -2;
        }
        acc = acc * (apr_uint64_t)base + (apr_uint64_t)d;
        prev_digit = 1;
        ndigits++;
    }
    if (ndigits == 0 || !prev_digit) {
        return -1;
    }
    if (negative) {
        *out = (acc == (apr_uint64_t)APR_INT64_MAX + 1) ? APR_INT64_MIN
                                                        : -(apr_int64_t)acc;
    } else {
        *out = (apr_int64_t)acc;
    }
    return 0;
}

/* Digits with '_' only between them; copies the digits to out. */
static const char *scan_digits(const char *s, char **out, int allow_leading0)
{
    const char *start = s;
    int prev_digit = 0;

    if (!allow_leading0 && s[0] == '0' && apr_isdigit(s[1])) {
        return NULL;
    }
    while (apr_isdigit(*s) || *s == '_') {
        if (*s == '_') {
            if (!prev_digit || !apr_isdigit(s[1])) {
                return NULL;
            }
            prev_digit = 0;
        } else {
            *(*out)++ = *s;
            prev_digit = 1;
        }
        s++;
    }
    return s == start ? NULL : s;
}

/*
 * Parse a TOML float: [sign] int [. digits] [e [sign] digits], with a
 * fraction or an exponent or both, or [sign] inf / nan.  0, -1 or -2.
 */
static int parse_float(const char *s, double *out)
{
    char clean[TOML_MAX_TOKEN + 2];
    char *o = clean;
    const char *word = s;
    int has_frac_or_exp = 0;
    double d;

    if (*word == '+' || *word == '-') {
        word++;
    }
    if (strcmp(word, "inf") == 0) {
        *out = (*s == '-') ? -INFINITY : INFINITY;
        return 0;
    }
    if (strcmp(word, "nan") == 0) {
        *out = (*s == '-') ? -NAN : NAN;
        return 0;
    }
    if (*s == '+' || *s == '-') {
        *o++ = *s++;
    }
    s = scan_digits(s, &o, 0);
    if (s == NULL) {
        return -1;
    }
    if (*s == '.') {
        *o++ = *s++;
        s = scan_digits(s, &o, 1);
        if (s == NULL) {
            return -1;
        }
        has_frac_or_exp = 1;
    }
    if (*s == 'e' || *s == 'E') {
        *o++ = *s++;
        if (*s == '+' || *s == '-') {
            *o++ = *s++;
        }
        s = scan_digits(s, &o, 1);
        if (s == NULL) {
            return -1;
        }
        has_frac_or_exp = 1;
    }
    if (*s != '\0' || !has_frac_or_exp) {
        return -1;
    }
    *o = '\0';
    /* XXX strtod() follows LC_NUMERIC; Herald never calls setlocale(), so
     * the decimal point is '.', as TOML requires. */
    d = strtod(clean, NULL);
    if (isinf(d)) {
        return -2;
    }
    *out = d;
    return 0;
}

static int is_digits(const char *s, int n)
{
    int i;

    for (i = 0; i < n; i++) {
        if (!apr_isdigit(s[i])) {
            return 0;
        }
    }
    return 1;
}

static int two_digits(const char *s)
{
    return (s[0] - '0') * 10 + (s[1] - '0');
}

/* YYYY-MM-DD (RFC 3339 §5.6 full-date), with the days of each month. */
static int valid_date(const char *s)
{
    static const int days[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int year, month, day;

    if (!is_digits(s, 4) || s[4] != '-' || !is_digits(s + 5, 2) ||
        s[7] != '-' || !is_digits(s + 8, 2)) {
        return 0;
    }
    year = two_digits(s) * 100 + two_digits(s + 2);
    month = two_digits(s + 5);
    day = two_digits(s + 8);
    if (month < 1 || month > 12 || day < 1 || day > days[month - 1]) {
        return 0;
    }
    if (month == 2 && day == 29 &&
        !(year % 4 == 0 && (year % 100 != 0 || year % 400 == 0))) {
        return 0;
    }
    return 1;
}

/* HH:MM:SS[.frac] (RFC 3339 §5.6 partial-time): its length, or 0. */
static apr_size_t valid_time(const char *s)
{
    apr_size_t n = 8;

    if (!is_digits(s, 2) || s[2] != ':' || !is_digits(s + 3, 2) ||
        s[5] != ':' || !is_digits(s + 6, 2)) {
        return 0;
    }
    /* RFC 3339 §5.7: second 60 is a leap second. */
    if (two_digits(s) > 23 || two_digits(s + 3) > 59 ||
        two_digits(s + 6) > 60) {
        return 0;
    }
    if (s[8] == '.') {
        for (n = 9; apr_isdigit(s[n]); n++) {
        }
        if (n == 9) {
            return 0;
        }
    }
    return n;
}

/* Z or +HH:MM / -HH:MM (RFC 3339 §5.6 time-offset), alone in s. */
static int valid_offset(const char *s)
{
    if ((s[0] == 'Z' || s[0] == 'z') && s[1] == '\0') {
        return 1;
    }
    return (s[0] == '+' || s[0] == '-') && is_digits(s + 1, 2) && s[3] == ':' &&
           is_digits(s + 4, 2) && s[6] == '\0' && two_digits(s + 1) <= 23 &&
           two_digits(s + 4) <= 59;
}

/*
 * TOML 1.0 offset date-time, local date-time, local date or local time.
 * Date and time are separated by T, t or one space.
 */
static int valid_datetime(const char *s)
{
    apr_size_t n;

    if (s[0] != '\0' && s[1] != '\0' && s[2] == ':') {
        n = valid_time(s);
        return n > 0 && s[n] == '\0';
    }
    if (!valid_date(s)) {
        return 0;
    }
    if (s[10] == '\0') {
        return 1;
    }
    if (s[10] != 'T' && s[10] != 't' && s[10] != ' ') {
        return 0;
    }
    n = valid_time(s + 11);
    if (n == 0) {
        return 0;
    }
    return s[11 + n] == '\0' || valid_offset(s + 11 + n);
}

/* Does the token look like a date or a time rather than a number? */
static int looks_like_datetime(const char *s)
{
    return (is_digits(s, 4) && s[4] == '-') || (is_digits(s, 2) && s[2] == ':');
}

/* "a string", "an array of tables" ... for messages. */
static const char *describe(const hr_value *v)
{
    switch (v->type) {
    case HR_VAL_INTEGER:
        return "an integer";
    case HR_VAL_ARRAY:
        return is_array_of_tables(v) ? "an array of tables" : "an array";
    case HR_VAL_TABLE:
        return v->u.table->is_inline ? "an inline table" : "a table";
    case HR_VAL_STRING:
        return "a string";
    case HR_VAL_FLOAT:
        return "a float";
    case HR_VAL_BOOLEAN:
        return "a boolean";
    }
    return "a value";
}

/*
 * An unquoted value: true/false, an integer, a float, or a date/time
 * (kept as the string written).
 */
static hr_value *parse_word(toml_parser *P, int line)
{
    const char *start = P->pos;
    char tok[TOML_MAX_TOKEN + 1];
    const char *word;
    apr_size_t len;
    hr_value *v;
    int rc;

    while (is_token_char(peek(P))) {
        P->pos++;
    }
    /* TOML 1.0 "Offset Date-Time": a space may stand for the T. */
    if (P->pos - start == 10 && is_digits(start, 4) && start[4] == '-' &&
        peek(P) == ' ' && apr_isdigit(peek_at(P, 1)) &&
        apr_isdigit(peek_at(P, 2)) && peek_at(P, 3) == ':') {
        P->pos++;
        while (is_token_char(peek(P))) {
            P->pos++;
        }
    }
    len = (apr_size_t)(P->pos - start);
    if (len > TOML_MAX_TOKEN) {
        toml_error(P, line, "value too long: '%s'", show(P, start, len));
        return NULL;
    }
    memcpy(tok, start, len);
    tok[len] = '\0';

    if (strcmp(tok, "true") == 0 || strcmp(tok, "false") == 0) {
        v = make_value(P, HR_VAL_BOOLEAN, line);
        v->u.b = (tok[0] == 't');
        return v;
    }
    if (looks_like_datetime(tok)) {
        if (!valid_datetime(tok)) {
            toml_error(P, line, "invalid date-time '%s'", show(P, tok, len));
            return NULL;
        }
        v = make_value(P, HR_VAL_STRING, line);
        v->u.s = apr_pstrmemdup(P->p, tok, len);
        return v;
    }
    word = (tok[0] == '+' || tok[0] == '-') ? tok + 1 : tok;
    if (strcmp(word, "inf") != 0 && strcmp(word, "nan") != 0 &&
        (apr_isalpha(tok[0]) || tok[0] == '_')) {
        toml_error(P, line, "invalid value '%s' (strings must be quoted)",
                   show(P, tok, len));
        return NULL;
    }
    if (!(word[0] == '0' &&
          (word[1] == 'x' || word[1] == 'o' || word[1] == 'b')) &&
        (strpbrk(tok, ".eE") != NULL || strcmp(word, "inf") == 0 ||
         strcmp(word, "nan") == 0)) {
        v = make_value(P, HR_VAL_FLOAT, line);
        rc = parse_float(tok, &v->u.f);
    } else {
        v = make_value(P, HR_VAL_INTEGER, line);
        rc = parse_integer(tok, &v->u.i);
    }
    if (rc == -2) {
        toml_error(P, line, "%s out of range: '%s'",
                   v->type == HR_VAL_FLOAT ? "float" : "integer",
                   show(P, tok, len));
        return NULL;
    }
    if (rc != 0) {
        toml_error(P, line, "invalid number '%s'", show(P, tok, len));
        return NULL;
    }
    return v;
}

/* ----------------------------------------------- arrays, inline tables */

static hr_value *parse_value(toml_parser *P, const char *path);
static int parse_keyval(toml_parser *P, hr_table *t, const char *ctx_path);

/* [ value, value, ... ]: newlines, comments and a trailing comma allowed. */
static hr_value *parse_array(toml_parser *P, const char *path)
{
    int open_line = P->line;
    hr_value *v = make_value(P, HR_VAL_ARRAY, open_line);
    const char *elem_path = apr_pstrcat(P->scratch, path, "[]", NULL);

    v->u.array = apr_array_make(P->p, 4, sizeof(hr_value *));
    P->pos++;
    for (;;) {
        hr_value *elem;

        if (skip_ws_comments_newlines(P) != 0) {
            return NULL;
        }
        if (peek(P) == -1) {
            break;
        }
        if (peek(P) == ']') {
            P->pos++;
            return v;
        }
        elem = parse_value(P, elem_path);
        if (elem == NULL) {
            return NULL;
        }
        APR_ARRAY_PUSH(v->u.array, hr_value *) = elem;
        if (skip_ws_comments_newlines(P) != 0) {
            return NULL;
        }
        if (peek(P) == ',') {
            P->pos++;
            continue;
        }
        if (peek(P) == ']') {
            P->pos++;
            return v;
        }
        if (peek(P) == -1) {
            break;
        }
        toml_error(P, P->line,
                   "expected ',' or ']' after an element of "
                   "array '%s' (opened at line %d), found '%s'",
                   path, open_line, show_rest_of_line(P));
        return NULL;
    }
    toml_error(P, open_line, "unclosed array '%s'", path);
    return NULL;
}

/*
 * { key = value, ... } on one line, no trailing comma (TOML 1.0 "Inline
 * Table").  The table is closed once its '}' is read.
 */
static hr_value *parse_inline_table(toml_parser *P, const char *path)
{
    int open_line = P->line;
    hr_value *v = new_table(P, open_line);

    if (v == NULL) {
        return NULL;
    }
    P->pos++;
    skip_ws(P);
    if (peek(P) == '}') {
        P->pos++;
        close_inline_table(v->u.table);
        return v;
    }
    for (;;) {
        skip_ws(P);
        if (at_line_end(P)) {
            toml_error(P, P->line,
                       "unclosed inline table '%s' (an inline "
                       "table must be on one line)",
                       path);
            return NULL;
        }
        if (parse_keyval(P, v->u.table, path) != 0) {
            return NULL;
        }
        skip_ws(P);
        if (peek(P) == ',') {
            P->pos++;
            skip_ws(P);
            if (peek(P) == '}') {
                toml_error(P, P->line, "trailing comma in inline table '%s'",
                           path);
                return NULL;
            }
            continue;
        }
        if (peek(P) == '}') {
            P->pos++;
            break;
        }
        if (at_line_end(P)) {
            toml_error(P, P->line,
                       "unclosed inline table '%s' (an inline "
                       "table must be on one line)",
                       path);
        } else {
            toml_error(P, P->line,
                       "expected ',' or '}' in inline table "
                       "'%s', found '%s'",
                       path, show_rest_of_line(P));
        }
        return NULL;
    }
    close_inline_table(v->u.table);
    return v;
}

/* Any value; @path names it in messages.  NULL after an error. */
static hr_value *parse_value(toml_parser *P, const char *path)
{
    int line = P->line;
    int c = peek(P);
    hr_value *v = NULL;

    if (c == '"' || c == '\'') {
        const char *s = parse_string(P, 1, NULL);

        if (s == NULL) {
            return NULL;
        }
        v = make_value(P, HR_VAL_STRING, line);
        v->u.s = s;
        return v;
    }
    if (c == '[' || c == '{') {
        if (P->depth >= TOML_MAX_DEPTH) {
            toml_error(P, line,
                       "arrays and inline tables nested too deep "
                       "(limit %d)",
                       TOML_MAX_DEPTH);
            return NULL;
        }
        P->depth++;
        v = (c == '[') ? parse_array(P, path) : parse_inline_table(P, path);
        P->depth--;
        return v;
    }
    if (is_token_char(c)) {
        return parse_word(P, line);
    }
    if (c == -1 || c == '\n' || c == '\r' || c == '#') {
        toml_error(P, line, "expected a value for '%s'", path);
    } else {
        int n = utf8_sequence_length(P->pos, P->end);

        toml_error(P, line, "expected a value for '%s', found '%s'", path,
                   show(P, P->pos, n > 0 ? (apr_size_t)n : 1));
    }
    return NULL;
}

/* ------------------------------------------------------ keys and tables */

/*
 * Store @v under the dotted key @parts of table @t, creating the tables
 * of the leading parts (TOML 1.0 "Keys": dotted keys define tables).
 */
static int assign_key(toml_parser *P, hr_table *t, const char *ctx_path,
                      const char *full, apr_array_header_t *parts, hr_value *v,
                      int line)
{
    const char *path = ctx_path;
    int i;

    for (i = 0; i < parts->nelts; i++) {
        const char *part = APR_ARRAY_IDX(parts, i, const char *);
        hr_table_entry *e = hr_table_find(t, part);
        hr_value *sub;

        path = join_path(P, path, key_part_display(P, part));
        if (i == parts->nelts - 1) {
            if (e != NULL) {
                toml_error(P, line,
                           "duplicate key '%s' (first defined at "
                           "%s:%d)",
                           path, e->value->file, e->value->line);
                return -1;
            }
            table_add(t, part, v);
            return 0;
        }
        if (e == NULL) {
            sub = new_table(P, line);
            if (sub == NULL) {
                return -1;
            }
            set_state(P, sub->u.table, TABLE_DOTTED);
            table_add(t, part, sub);
            t = sub->u.table;
            continue;
        }
        sub = e->value;
        if (sub->type != HR_VAL_TABLE) {
            toml_error(P, line,
                       "cannot set '%s': '%s' is %s (defined at "
                       "%s:%d)",
                       full, path, describe(sub), sub->file, sub->line);
            return -1;
        }
        if (sub->u.table->is_inline) {
            toml_error(P, line,
                       "cannot set '%s': inline table '%s' cannot "
                       "be extended (defined at %s:%d)",
                       full, path, sub->file, sub->line);
            return -1;
        }
        switch (get_state(P, sub->u.table)) {
        case TABLE_HEADER:
            /* TOML 1.0 "Table": a [table] is not extended by dotted keys
             * from elsewhere. */
            toml_error(P, line,
                       "cannot set '%s': table [%s] was defined at "
                       "%s:%d, add the key there",
                       full, path, sub->file, sub->line);
            return -1;
        case TABLE_IMPLICIT:
            set_state(P, sub->u.table, TABLE_DOTTED);
            break;
        default:
            break;
        }
        t = sub->u.table;
    }
    return 0;
}

/* key = value, into table @t whose name is @ctx_path. */
static int parse_keyval(toml_parser *P, hr_table *t, const char *ctx_path)
{
    int line = P->line;
    const char *display, *full;
    apr_array_header_t *parts;
    hr_value *v;

    parts = parse_key(P, &display);
    if (parts == NULL) {
        return -1;
    }
    full = join_path(P, ctx_path, display);
    skip_ws(P);
    if (peek(P) != '=') {
        toml_error(P, P->line, "expected '=' after key '%s'", display);
        return -1;
    }
    P->pos++;
    skip_ws(P);
    if (at_line_end(P)) {
        toml_error(P, P->line, "missing value for key '%s'", display);
        return -1;
    }
    v = parse_value(P, full);
    if (v == NULL) {
        return -1;
    }
    return assign_key(P, t, ctx_path, full, parts, v, line);
}

/*
 * Make the table named by a [header] (or a new element of a [[header]])
 * the current one, creating its parents.  TOML 1.0 "Table" and "Array of
 * Tables": a table is defined once; a parent created by a header may be
 * defined later; a table created by dotted keys or inline may not be.
 */
static int open_table(toml_parser *P, apr_array_header_t *parts,
                      const char *display, int is_array, int line)
{
    hr_table *t = P->root->u.table;
    const char *path = "";
    const char *name =
        apr_psprintf(P->scratch, is_array ? "[[%s]]" : "[%s]", display);
    int i;

    for (i = 0; i < parts->nelts; i++) {
        const char *part = APR_ARRAY_IDX(parts, i, const char *);
        hr_table_entry *e = hr_table_find(t, part);
        hr_value *sub = e ? e->value : NULL;

        path = join_path(P, path, key_part_display(P, part));
        if (i < parts->nelts - 1) {
            if (sub == NULL) {
                sub = new_table(P, line);
                if (sub == NULL) {
                    return -1;
                }
                set_state(P, sub->u.table, TABLE_IMPLICIT);
                table_add(t, part, sub);
                t = sub->u.table;
            } else if (is_array_of_tables(sub)) {
                /* [a.b] after [[a]] goes into the last element of a. */
                sub = APR_ARRAY_IDX(sub->u.array, sub->u.array->nelts - 1,
                                    hr_value *);
                t = sub->u.table;
            } else if (sub->type != HR_VAL_TABLE || sub->u.table->is_inline) {
                toml_error(P, line,
                           "cannot define %s: '%s' is %s (defined "
                           "at %s:%d)",
                           name, path, describe(sub), sub->file, sub->line);
                return -1;
            } else {
                t = sub->u.table;
            }
            continue;
        }

        if (is_array) {
            hr_value *elem;

            if (sub == NULL) {
                sub = make_value(P, HR_VAL_ARRAY, line);
                sub->u.array = apr_array_make(P->p, 4, sizeof(hr_value *));
                table_add(t, part, sub);
            } else if (!is_array_of_tables(sub)) {
                toml_error(P, line,
                           "cannot append to %s: '%s' is %s, not an "
                           "array of tables (defined at %s:%d)",
                           name, path, describe(sub), sub->file, sub->line);
                return -1;
            }
            elem = new_table(P, line);
            if (elem == NULL) {
                return -1;
            }
            elem->u.table->from_array = 1;
            elem->u.table->is_defined = 1;
            set_state(P, elem->u.table, TABLE_HEADER);
            APR_ARRAY_PUSH(sub->u.array, hr_value *) = elem;
            t = elem->u.table;
        } else if (sub == NULL) {
            sub = new_table(P, line);
            if (sub == NULL) {
                return -1;
            }
            sub->u.table->is_defined = 1;
            set_state(P, sub->u.table, TABLE_HEADER);
            table_add(t, part, sub);
            t = sub->u.table;
        } else if (sub->type != HR_VAL_TABLE || sub->u.table->is_inline) {
            toml_error(P, line,
                       "cannot define %s: '%s' is already %s "
                       "(defined at %s:%d)",
                       name, path, describe(sub), sub->file, sub->line);
            return -1;
        } else {
            switch (get_state(P, sub->u.table)) {
            case TABLE_HEADER:
                toml_error(P, line,
                           "table %s defined twice (first at "
                           "%s:%d)",
                           name, sub->file, sub->line);
                return -1;
            case TABLE_DOTTED:
                toml_error(P, line,
                           "table %s was already defined by dotted "
                           "keys at %s:%d",
                           name, sub->file, sub->line);
                return -1;
            case TABLE_IMPLICIT:
                sub->line = line; /* now defined here */
                break;
            case TABLE_OPEN:
                break; /* from an earlier file: merge */
            }
            sub->u.table->is_defined = 1;
            set_state(P, sub->u.table, TABLE_HEADER);
            t = sub->u.table;
        }
    }
    P->current = t;
    P->current_path = apr_pstrdup(P->work, path);
    return 0;
}

/* [table] or [[array.of.tables]] */
static int parse_header(toml_parser *P)
{
    int line = P->line;
    int is_array = 0;
    const char *display = "?";
    apr_array_header_t *parts;

    P->pos++;
    if (peek(P) == '[') {
        is_array = 1;
        P->pos++;
    }
    skip_ws(P);
    parts = parse_key(P, &display);
    if (parts == NULL) {
        goto failed;
    }
    skip_ws(P);
    if (peek(P) != ']' || (is_array && peek_at(P, 1) != ']')) {
        toml_error(P, P->line,
                   is_array ? "expected ']]' after '[[%s'"
                            : "expected ']' after '[%s'",
                   display);
        goto failed;
    }
    P->pos += is_array ? 2 : 1;
    if (open_table(P, parts, display, is_array, line) != 0) {
        goto failed;
    }
    return 0;

failed:
    /* The keys that follow a bad header are still checked, then dropped,
     * rather than landing in the previous table. */
    P->current = hr_value_make_table(P->work, P->file, line)->u.table;
    P->current_path = apr_pstrdup(P->work, display);
    return -1;
}

/* ------------------------------------------------------------ documents */

int hr_toml_parse(apr_pool_t *p, const char *file, const char *text,
                  apr_size_t len, hr_value *root, apr_array_header_t *errors)
{
    toml_parser parser, *P = &parser;

    memset(P, 0, sizeof(*P));
    P->p = p;
    P->errors = errors;
    P->file = apr_pstrdup(p, file != NULL ? file : "<config>");
    P->line = 1;
    P->pos = text != NULL ? text : "";
    P->end = P->pos + (text != NULL ? len : 0);
    if (root == NULL || root->type != HR_VAL_TABLE) {
        toml_error(P, 0, "internal error: the root is not a table");
        return P->nerrors;
    }
    apr_pool_create(&P->work, p);
    apr_pool_create(&P->scratch, P->work);
    P->root = root;
    P->current = root->u.table;
    P->current_path = "";
    P->states = apr_hash_make(P->work);
    buf_init(&P->text, P->work);

    /* A UTF-8 byte order mark is tolerated. */
    if (P->end - P->pos >= 3 && memcmp(P->pos, "\xEF\xBB\xBF", 3) == 0) {
        P->pos += 3;
    }

    while (P->pos < P->end && P->nerrors < TOML_MAX_ERRORS && !P->stop) {
        int c, rc;

        apr_pool_clear(P->scratch);
        skip_ws(P);
        c = peek(P);
        if (c == -1) {
            break;
        }
        if (c == '\n' || c == '\r') {
            if (consume_newline(P) != 0) {
                skip_line(P);
            }
            continue;
        }
        if (c == '#') {
            skip_comment(P);
            continue;
        }
        if (c == '[') {
            rc = parse_header(P);
            if (rc == 0) {
                rc = end_of_statement(P, "table header");
            }
        } else if (is_bare_key_char(c) || c == '"' || c == '\'') {
            rc = parse_keyval(P, P->current, P->current_path);
            if (rc == 0) {
                rc = end_of_statement(P, "value");
            }
        } else {
            int n = utf8_sequence_length(P->pos, P->end);

            toml_error(P, P->line, "expected a key or a [table], found '%s'",
                       show(P, P->pos, n > 0 ? (apr_size_t)n : 1));
            rc = -1;
        }
        if (rc != 0) {
            if (P->error_depth > 0) {
                skip_open_brackets(P, P->error_depth);
            }
            skip_line(P);
        }
        P->error_depth = 0;
    }
    apr_pool_destroy(P->work);
    return P->nerrors;
}

/* Append "PATH: message" (an error about the file as a whole). */
static int file_error(apr_array_header_t *errors, const char *path,
                      const char *what, apr_status_t rv)
{
    char reason[256];

    if (rv != APR_SUCCESS) {
        apr_strerror(rv, reason, sizeof(reason));
        APR_ARRAY_PUSH(errors, char *) =
            apr_psprintf(errors->pool, "%s: %s: %s", path, what, reason);
    } else {
        APR_ARRAY_PUSH(errors, char *) =
            apr_psprintf(errors->pool, "%s: %s", path, what);
    }
    return 1;
}

int hr_toml_parse_file(apr_pool_t *p, const char *path, hr_value *root,
                       apr_array_header_t *errors)
{
    apr_pool_t *tmp;
    apr_file_t *f;
    apr_finfo_t finfo;
    apr_status_t rv;
    apr_size_t len = 0, cap = 64 * 1024;
    char *text;
    int n;

    /* The file and its text live in tmp: the tree copies what it keeps. */
    apr_pool_create(&tmp, p);
    rv = apr_file_open(&f, path, APR_FOPEN_READ | APR_FOPEN_BINARY,
                       APR_FPROT_OS_DEFAULT, tmp);
    if (rv != APR_SUCCESS) {
        apr_pool_destroy(tmp);
        return file_error(errors, path, "cannot open", rv);
    }
    rv = apr_file_info_get(&finfo, APR_FINFO_SIZE | APR_FINFO_TYPE, f);
    if (rv == APR_SUCCESS && finfo.filetype == APR_REG) {
        if (finfo.size > TOML_MAX_FILE_SIZE) {
            apr_pool_destroy(tmp);
            return file_error(errors, path, "file too large (limit 16 MiB)",
                              APR_SUCCESS);
        }
        cap = (apr_size_t)finfo.size + 1;
    }

    /* Read to EOF, not to the size seen: the file may be a pipe. */
    text = apr_palloc(tmp, cap);
    for (;;) {
        apr_size_t chunk;

        if (len == cap) {
            apr_size_t bigger = cap * 2;
            char *grown;

            if (cap > TOML_MAX_FILE_SIZE) {
                break;
            }
            if (bigger > TOML_MAX_FILE_SIZE + 1) {
                bigger = TOML_MAX_FILE_SIZE + 1;
            }
            grown = apr_palloc(tmp, bigger);
            memcpy(grown, text, len);
            text = grown;
            cap = bigger;
        }
        chunk = cap - len;
        rv = apr_file_read(f, text + len, &chunk);
        len += chunk;
        if (APR_STATUS_IS_EOF(rv)) {
            break;
        }
        if (rv != APR_SUCCESS) {
            apr_pool_destroy(tmp);
            return file_error(errors, path, "cannot read", rv);
        }
    }
    if (len > TOML_MAX_FILE_SIZE) {
        apr_pool_destroy(tmp);
        return file_error(errors, path, "file too large (limit 16 MiB)",
                          APR_SUCCESS);
    }
    n = hr_toml_parse(p, path, text, len, root, errors);
    apr_pool_destroy(tmp);
    return n;
}
