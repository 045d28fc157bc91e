/*
 * toml_lex.c -- the scanner of Herald's TOML reader.
 *
 * Everything that reads the input character by character: UTF-8 checks,
 * blanks, comments, newlines (LF or CRLF, counted for "FILE:LINE"), the
 * skipping that error recovery does, strings of the four kinds (basic
 * "..." with escapes, literal '...', and their multi-line forms """...""" and
 * '''...'''), and keys (bare, quoted, dotted).  Numbers, dates and the other
 * unquoted values are read by toml_scalar.c; the grammar that puts the
 * pieces together, the value tree and the error list are in toml_parse.c,
 * which also describes the TOML subset Herald reads.
 *
 * The scanner works on the parser's toml_parser (toml_int.h): P->pos moves
 * through the text, P->line follows it, and a decoded string is built in
 * P->text before it is copied into the tree's pool:
 *
 *     if (toml_peek(P) == '"' || toml_peek(P) == '\'') {
 *         const char *s = toml_parse_string(P, 1, NULL);   NULL: reported
 *     }
 */
#include <string.h>

#include <apr_strings.h>
#include <apr_tables.h>

#include "toml_int.h"

/* ---------------------------------------------------------- characters */

/*
 * Length of the valid UTF-8 sequence at s (RFC 3629 §4: no overlong
 * forms, no surrogates, nothing above U+10FFFF), or 0 when invalid.
 */
int toml_utf8_sequence_length(const char *s, const char *end)
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

/* ------------------------------------------------------------- buffers */

void toml_buf_init(toml_buf *b, apr_pool_t *pool)
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

/* ------------------------------------------------------------- scanning */

int toml_peek(const toml_parser *P)
{
    return P->pos < P->end ? (unsigned char)*P->pos : -1;
}

int toml_peek_at(const toml_parser *P, apr_size_t n)
{
    return (apr_size_t)(P->end - P->pos) > n ? (unsigned char)P->pos[n] : -1;
}

int toml_is_bare_key_char(int c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
           (c >= '0' && c <= '9') || c == '_' || c == '-';
}

/* Characters of an unquoted value: numbers, booleans, dates. */
int toml_is_token_char(int c)
{
    return toml_is_bare_key_char(c) || c == '+' || c == '.' || c == ':';
}

int toml_at_line_end(const toml_parser *P)
{
    int c = toml_peek(P);
    return c == -1 || c == '\n' || c == '\r' || c == '#';
}

void toml_skip_ws(toml_parser *P)
{
    while (P->pos < P->end && (*P->pos == ' ' || *P->pos == '\t')) {
        P->pos++;
    }
}

/* Move past the next newline (error recovery). */
void toml_skip_line(toml_parser *P)
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
int toml_consume_newline(toml_parser *P)
{
    if (toml_peek(P) == '\n') {
        P->pos++;
        P->line++;
        return 0;
    }
    if (toml_peek(P) == '\r' && toml_peek_at(P, 1) == '\n') {
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
void toml_skip_comment(toml_parser *P)
{
    int reported = 0;

    P->pos++;
    while (P->pos < P->end) {
        unsigned char c = (unsigned char)*P->pos;
        int n = 1;

        if (c == '\n' || (c == '\r' && toml_peek_at(P, 1) == '\n')) {
            return;
        }
        if ((c < 0x20 && c != '\t') || c == 0x7F) {
            if (!reported) {
                toml_error(P, P->line, "control character 0x%02X in comment",
                           c);
            }
            reported = 1;
        } else if (c >= 0x80) {
            n = toml_utf8_sequence_length(P->pos, P->end);
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
int toml_skip_ws_comments_newlines(toml_parser *P)
{
    for (;;) {
        toml_skip_ws(P);
        switch (toml_peek(P)) {
        case '#':
            toml_skip_comment(P);
            break;
        case '\n':
        case '\r':
            if (toml_consume_newline(P) != 0) {
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
    int multi = (toml_peek_at(P, 1) == quote && toml_peek_at(P, 2) == quote);

    P->pos += multi ? 3 : 1;
    while (P->pos < P->end) {
        char c = *P->pos;

        if (c == quote && (!multi || (toml_peek_at(P, 1) == quote &&
                                      toml_peek_at(P, 2) == quote))) {
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
void toml_skip_open_brackets(toml_parser *P, int open)
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
int toml_end_of_statement(toml_parser *P, const char *what)
{
    toml_skip_ws(P);
    if (toml_peek(P) == '#') {
        toml_skip_comment(P);
    }
    if (toml_peek(P) == -1) {
        return 0;
    }
    if (toml_peek(P) == '\n' || toml_peek(P) == '\r') {
        return toml_consume_newline(P);
    }
    toml_error(P, P->line, "unexpected text after %s: '%s'", what,
               toml_show_rest_of_line(P));
    return -1;
}

/* -------------------------------------------------------------- strings */

int toml_hex_value(int c)
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
        int h = toml_hex_value(toml_peek_at(P, (apr_size_t)i));
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
        int c = toml_peek(P);

        if (c == ' ' || c == '\t') {
            P->pos++;
        } else if (c == '\n' || (c == '\r' && toml_peek_at(P, 1) == '\n')) {
            toml_consume_newline(P);
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
const char *toml_parse_string(toml_parser *P, int allow_multiline,
                              apr_size_t *lenp)
{
    char quote = *P->pos;
    int literal = (quote == '\'');
    int multi = (toml_peek_at(P, 1) == quote && toml_peek_at(P, 2) == quote);
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
        if (toml_peek(P) == '\n' ||
            (toml_peek(P) == '\r' && toml_peek_at(P, 1) == '\n')) {
            toml_consume_newline(P);
        }
    }

    for (;;) {
        int c = toml_peek(P);

        if (c == -1 ||
            (!multi &&
             (c == '\n' || (c == '\r' && toml_peek_at(P, 1) == '\n')))) {
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
            while (toml_peek_at(P, run) == quote) {
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
            int e = toml_peek_at(P, 1);
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
        if (c == '\r' && toml_peek_at(P, 1) == '\n') {
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
            int n = toml_utf8_sequence_length(P->pos, P->end);

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
apr_array_header_t *toml_parse_key(toml_parser *P, const char **display)
{
    apr_array_header_t *parts =
        apr_array_make(P->scratch, 4, sizeof(const char *));
    const char *shown = "";

    for (;;) {
        int c = toml_peek(P);
        const char *part;
        apr_size_t len;

        if (toml_is_bare_key_char(c)) {
            const char *start = P->pos;

            while (toml_is_bare_key_char(toml_peek(P))) {
                P->pos++;
            }
            len = (apr_size_t)(P->pos - start);
            part = (len <= TOML_MAX_KEY_LEN) ? apr_pstrmemdup(P->p, start, len)
                                             : NULL;
        } else if (c == '"' || c == '\'') {
            /* toml_parse_string refuses NUL: the part is a whole C string. */
            part = toml_parse_string(P, 0, &len);
            if (part == NULL) {
                return NULL;
            }
        } else if (c == -1 || c == '\n' || c == '\r' || c == '#') {
            toml_error(P, P->line, "expected a key%s%s%s",
                       *shown ? " after '" : "", shown, *shown ? "'" : "");
            return NULL;
        } else {
            toml_error(P, P->line, "invalid character '%s' in key%s%s%s",
                       toml_show(P, P->pos, 1), *shown ? " after '" : "", shown,
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
        shown = toml_join_path(P, shown, toml_key_part_display(P, part));

        toml_skip_ws(P);
        if (toml_peek(P) != '.') {
            break;
        }
        P->pos++;
        toml_skip_ws(P);
    }
    *display = shown;
    return parts;
}
