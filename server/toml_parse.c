/*
 * toml_parse.c -- Herald's TOML configuration reader: the grammar.
 *
 * Debian 12 packages no C TOML library, so Herald reads its configuration
 * itself.  The reader turns TOML text into the hr_value tree of hr_config.h;
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
 *
 * The reader is in three files around toml_int.h: toml_lex.c scans
 * (blanks, comments, strings, keys), toml_scalar.c reads unquoted values
 * (numbers, booleans, dates), and this file holds the grammar -- values,
 * arrays, inline tables, `key = value` lines, [table] and [[array]]
 * headers and the rules against redefinition -- with the value tree, the
 * error list and the public entry points.
 */
#include <stdarg.h>
#include <string.h>

#include <apr_file_io.h>
#include <apr_hash.h>
#include <apr_lib.h>
#include <apr_strings.h>

#include "toml_int.h"

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

/* ------------------------------------------------------------ messages */

/* Append "FILE:LINE: message" to the error list, up to the limit. */
void toml_error(toml_parser *P, int line, const char *fmt, ...)
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

/* Input quoted for a message: printable, at most TOML_SHOW_MAX bytes. */
const char *toml_show(toml_parser *P, const char *s, apr_size_t len)
{
    char *out = apr_palloc(P->scratch, TOML_SHOW_MAX + 4);
    apr_size_t i = 0, o = 0;

    while (i < len && o < TOML_SHOW_MAX) {
        unsigned char c = (unsigned char)s[i];
        int n = toml_utf8_sequence_length(s + i, s + len);

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
const char *toml_show_rest_of_line(toml_parser *P)
{
    const char *e = P->pos;

    while (e < P->end && *e != '\n' && *e != '\r' &&
           e - P->pos <= TOML_SHOW_MAX) {
        e++;
    }
    return toml_show(P, P->pos, (apr_size_t)(e - P->pos));
}

/* "a.b" + "c" for messages; the root has the empty name. */
const char *toml_join_path(toml_parser *P, const char *prefix, const char *name)
{
    if (prefix == NULL || *prefix == '\0') {
        return name;
    }
    return apr_pstrcat(P->scratch, prefix, ".", name, NULL);
}

/* A key part as TOML would write it: bare when it can be, else quoted. */
const char *toml_key_part_display(toml_parser *P, const char *part)
{
    const char *c;

    for (c = part; *c != '\0'; c++) {
        if (!apr_isalnum(*c) && *c != '_' && *c != '-') {
            break;
        }
    }
    if (*c == '\0' && c != part) {
        return toml_show(P, part, strlen(part));
    }
    return apr_pstrcat(P->scratch, "\"", toml_show(P, part, strlen(part)), "\"",
                       NULL);
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

hr_value *toml_make_value(toml_parser *P, hr_value_type type, int line)
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

/* ----------------------------------------------- arrays, inline tables */

static hr_value *parse_value(toml_parser *P, const char *path);
static int parse_keyval(toml_parser *P, hr_table *t, const char *ctx_path);

/* [ value, value, ... ]: newlines, comments and a trailing comma allowed. */
static hr_value *parse_array(toml_parser *P, const char *path)
{
    int open_line = P->line;
    hr_value *v = toml_make_value(P, HR_VAL_ARRAY, open_line);
    const char *elem_path = apr_pstrcat(P->scratch, path, "[]", NULL);

    v->u.array = apr_array_make(P->p, 4, sizeof(hr_value *));
    P->pos++;
    for (;;) {
        hr_value *elem;

        if (toml_skip_ws_comments_newlines(P) != 0) {
            return NULL;
        }
        if (toml_peek(P) == -1) {
            break;
        }
        if (toml_peek(P) == ']') {
            P->pos++;
            return v;
        }
        elem = parse_value(P, elem_path);
        if (elem == NULL) {
            return NULL;
        }
        APR_ARRAY_PUSH(v->u.array, hr_value *) = elem;
        if (toml_skip_ws_comments_newlines(P) != 0) {
            return NULL;
        }
        if (toml_peek(P) == ',') {
            P->pos++;
            continue;
        }
        if (toml_peek(P) == ']') {
            P->pos++;
            return v;
        }
        if (toml_peek(P) == -1) {
            break;
        }
        toml_error(P, P->line,
                   "expected ',' or ']' after an element of "
                   "array '%s' (opened at line %d), found '%s'",
                   path, open_line, toml_show_rest_of_line(P));
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
    toml_skip_ws(P);
    if (toml_peek(P) == '}') {
        P->pos++;
        close_inline_table(v->u.table);
        return v;
    }
    for (;;) {
        toml_skip_ws(P);
        if (toml_at_line_end(P)) {
            toml_error(P, P->line,
                       "unclosed inline table '%s' (an inline "
                       "table must be on one line)",
                       path);
            return NULL;
        }
        if (parse_keyval(P, v->u.table, path) != 0) {
            return NULL;
        }
        toml_skip_ws(P);
        if (toml_peek(P) == ',') {
            P->pos++;
            toml_skip_ws(P);
            if (toml_peek(P) == '}') {
                toml_error(P, P->line, "trailing comma in inline table '%s'",
                           path);
                return NULL;
            }
            continue;
        }
        if (toml_peek(P) == '}') {
            P->pos++;
            break;
        }
        if (toml_at_line_end(P)) {
            toml_error(P, P->line,
                       "unclosed inline table '%s' (an inline "
                       "table must be on one line)",
                       path);
        } else {
            toml_error(P, P->line,
                       "expected ',' or '}' in inline table "
                       "'%s', found '%s'",
                       path, toml_show_rest_of_line(P));
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
    int c = toml_peek(P);
    hr_value *v = NULL;

    if (c == '"' || c == '\'') {
        const char *s = toml_parse_string(P, 1, NULL);

        if (s == NULL) {
            return NULL;
        }
        v = toml_make_value(P, HR_VAL_STRING, line);
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
    if (toml_is_token_char(c)) {
        return toml_parse_word(P, line);
    }
    if (c == -1 || c == '\n' || c == '\r' || c == '#') {
        toml_error(P, line, "expected a value for '%s'", path);
    } else {
        int n = toml_utf8_sequence_length(P->pos, P->end);

        toml_error(P, line, "expected a value for '%s', found '%s'", path,
                   toml_show(P, P->pos, n > 0 ? (apr_size_t)n : 1));
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

        path = toml_join_path(P, path, toml_key_part_display(P, part));
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

    parts = toml_parse_key(P, &display);
    if (parts == NULL) {
        return -1;
    }
    full = toml_join_path(P, ctx_path, display);
    toml_skip_ws(P);
    if (toml_peek(P) != '=') {
        toml_error(P, P->line, "expected '=' after key '%s'", display);
        return -1;
    }
    P->pos++;
    toml_skip_ws(P);
    if (toml_at_line_end(P)) {
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

        path = toml_join_path(P, path, toml_key_part_display(P, part));
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
                sub = toml_make_value(P, HR_VAL_ARRAY, line);
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
    if (toml_peek(P) == '[') {
        is_array = 1;
        P->pos++;
    }
    toml_skip_ws(P);
    parts = toml_parse_key(P, &display);
    if (parts == NULL) {
        goto failed;
    }
    toml_skip_ws(P);
    if (toml_peek(P) != ']' || (is_array && toml_peek_at(P, 1) != ']')) {
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
    toml_buf_init(&P->text, P->work);

    /* A UTF-8 byte order mark is tolerated. */
    if (P->end - P->pos >= 3 && memcmp(P->pos, "\xEF\xBB\xBF", 3) == 0) {
        P->pos += 3;
    }

    while (P->pos < P->end && P->nerrors < TOML_MAX_ERRORS && !P->stop) {
        int c, rc;

        apr_pool_clear(P->scratch);
        toml_skip_ws(P);
        c = toml_peek(P);
        if (c == -1) {
            break;
        }
        if (c == '\n' || c == '\r') {
            if (toml_consume_newline(P) != 0) {
                toml_skip_line(P);
            }
            continue;
        }
        if (c == '#') {
            toml_skip_comment(P);
            continue;
        }
        if (c == '[') {
            rc = parse_header(P);
            if (rc == 0) {
                rc = toml_end_of_statement(P, "table header");
            }
        } else if (toml_is_bare_key_char(c) || c == '"' || c == '\'') {
            rc = parse_keyval(P, P->current, P->current_path);
            if (rc == 0) {
                rc = toml_end_of_statement(P, "value");
            }
        } else {
            int n = toml_utf8_sequence_length(P->pos, P->end);

            toml_error(P, P->line, "expected a key or a [table], found '%s'",
                       toml_show(P, P->pos, n > 0 ? (apr_size_t)n : 1));
            rc = -1;
        }
        if (rc != 0) {
            if (P->error_depth > 0) {
                toml_skip_open_brackets(P, P->error_depth);
            }
            toml_skip_line(P);
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
