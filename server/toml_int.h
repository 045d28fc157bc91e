/*
 * toml_int.h -- what the three parts of Herald's TOML reader share (not
 * installed; the public entry points are hr_toml_parse and
 * hr_toml_parse_file in hr_config.h).
 *
 *   toml_lex.c     the scanner: UTF-8, blanks, comments, newlines, error
 *                  recovery, strings of the four kinds, keys;
 *   toml_scalar.c  unquoted values: integers, floats, booleans, dates;
 *   toml_parse.c   the grammar, the value tree, the redefinition rules,
 *                  the error list and the entry points (the TOML subset
 *                  Herald reads is described there).
 *
 * All three work on one toml_parser, made by hr_toml_parse for one text.
 * These names are private to the reader: they carry toml_, not hr_.
 */
#ifndef HR_TOML_INT_H
#define HR_TOML_INT_H

#include <apr_hash.h>
#include <apr_pools.h>
#include <apr_tables.h>

#include "hr_config.h"

#define TOML_MAX_ERRORS 50
#define TOML_MAX_DEPTH 64      /* nested arrays and inline tables */
#define TOML_MAX_KEY_LEN 255   /* bytes in one part of a key */
#define TOML_MAX_KEY_PARTS 64  /* parts of one dotted key */
#define TOML_MAX_TOKEN 128     /* numbers, booleans, dates */
#define TOML_MAX_TABLES 100000 /* tables made by one parse */
#define TOML_MAX_FILE_SIZE (16 * 1024 * 1024)
#define TOML_SHOW_MAX 48 /* input bytes quoted in a message */

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

#ifdef __GNUC__
#define TOML_PRINTF(fmt, args) __attribute__((format(printf, fmt, args)))
#else
#define TOML_PRINTF(fmt, args)
#endif

/* ---------------------------------------------- toml_parse.c: messages */

/* Append "FILE:LINE: message" to the error list, up to the limit. */
void toml_error(toml_parser *P, int line, const char *fmt, ...)
    TOML_PRINTF(3, 4);

/* Input quoted for a message: printable, at most TOML_SHOW_MAX bytes. */
const char *toml_show(toml_parser *P, const char *s, apr_size_t len);

/* The rest of the current line, quoted for a message. */
const char *toml_show_rest_of_line(toml_parser *P);

/* "a.b" + "c" for messages; the root has the empty name. */
const char *toml_join_path(toml_parser *P, const char *prefix,
                           const char *name);

/* A key part as TOML would write it: bare when it can be, else quoted. */
const char *toml_key_part_display(toml_parser *P, const char *part);

/* A new value of @type at @line of the file, in the tree's pool. */
hr_value *toml_make_value(toml_parser *P, hr_value_type type, int line);

/* ------------------------------------------------ toml_lex.c: scanning */

/* Length of the valid UTF-8 sequence at s, or 0 when invalid. */
int toml_utf8_sequence_length(const char *s, const char *end);

/* Start the growable buffer @b, allocating from @pool. */
void toml_buf_init(toml_buf *b, apr_pool_t *pool);

/* The byte at P->pos (at P->pos + n), or -1 at the end of the text. */
int toml_peek(const toml_parser *P);
int toml_peek_at(const toml_parser *P, apr_size_t n);

/* A-Z a-z 0-9 _ - (TOML 1.0 "Keys"). */
int toml_is_bare_key_char(int c);

/* Characters of an unquoted value: numbers, booleans, dates. */
int toml_is_token_char(int c);

/* At the end of the text, of the line, or at a comment? */
int toml_at_line_end(const toml_parser *P);

/* Skip blanks (spaces and tabs). */
void toml_skip_ws(toml_parser *P);

/* Move past the next newline (error recovery). */
void toml_skip_line(toml_parser *P);

/* Consume "\n" or "\r\n"; a lone CR is an error.  Returns 0 or -1. */
int toml_consume_newline(toml_parser *P);

/* Skip a comment up to (not including) the end of its line. */
void toml_skip_comment(toml_parser *P);

/* Skip blanks, comments and newlines (inside arrays).  0 or -1. */
int toml_skip_ws_comments_newlines(toml_parser *P);

/* After an error inside @open arrays or inline tables, skip past them. */
void toml_skip_open_brackets(toml_parser *P, int open);

/* After a statement: blanks, an optional comment, then end of line. */
int toml_end_of_statement(toml_parser *P, const char *what);

/* The value of a hex digit, or -1. */
int toml_hex_value(int c);

/*
 * A string of any of the four kinds at P->pos, NUL-terminated in the
 * tree's pool (its length in *lenp when not NULL), or NULL after an error.
 */
const char *toml_parse_string(toml_parser *P, int allow_multiline,
                              apr_size_t *lenp);

/*
 * A key, bare, quoted or dotted: an array of its parts (const char *) and
 * in *display the key as TOML writes it; NULL after an error.
 */
apr_array_header_t *toml_parse_key(toml_parser *P, const char **display);

/* -------------------------------------- toml_scalar.c: unquoted values */

/* true/false, an integer, a float or a date/time at P->pos; NULL: error. */
hr_value *toml_parse_word(toml_parser *P, int line);

#endif /* HR_TOML_INT_H */
