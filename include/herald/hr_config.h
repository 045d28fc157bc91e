/*
 * hr_config.h -- configuration values, declared keys, expressions, lists.
 *
 * Herald's configuration is TOML.  The reader (server/toml_*.c) turns a file
 * into a tree of hr_value nodes that remember the file and line they came
 * from, so every later error can say "FILE:LINE: message".
 *
 * Modules never walk the tree themselves: they declare the keys they own
 * (hr_config_key, in their module record) and the core compiles each one
 * into an hr_expr at load time.  Any key may hold a constant or a rule
 * table, evaluated per session against the session's variables:
 *
 *     dsn = [ { if = "authenticated-as", ne = "", then = true },
 *             { else = false } ]
 *
 * Lists (`[list] blocked-domains = [...]` or "file://path", one entry a
 * line) are hashed once at load and shared read-only by all workers.
 */
#ifndef HR_CONFIG_H
#define HR_CONFIG_H

#include <apr_pools.h>
#include <apr_tables.h>
#include <apr_hash.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---------------------------------------------------------------- values */

typedef enum {
    HR_VAL_STRING,
    HR_VAL_INTEGER,
    HR_VAL_FLOAT,
    HR_VAL_BOOLEAN,
    HR_VAL_ARRAY,
    HR_VAL_TABLE
} hr_value_type;

typedef struct hr_table hr_table;
typedef struct hr_value hr_value;

/** One TOML value with the place it was defined. */
struct hr_value {
    hr_value_type type;
    const char *file;              /* file it came from ("<default>" ...) */
    int line;                      /* 1-based line of the value */
    union {
        const char *s;             /* HR_VAL_STRING (NUL-terminated, UTF-8) */
        apr_int64_t i;             /* HR_VAL_INTEGER */
        double f;                  /* HR_VAL_FLOAT */
        int b;                     /* HR_VAL_BOOLEAN */
        apr_array_header_t *array; /* HR_VAL_ARRAY: elements are hr_value * */
        hr_table *table;           /* HR_VAL_TABLE */
    } u;
};

/** One key of a table, in definition order. */
typedef struct hr_table_entry {
    const char *key;
    hr_value *value;
    int used;                      /* set by the schema checker */
} hr_table_entry;

/** A TOML table: ordered entries plus a hash index by key. */
struct hr_table {
    apr_array_header_t *entries;   /* of hr_table_entry */
    apr_hash_t *index;             /* key -> index into entries (int, +1) */
    int is_inline;                 /* inline tables are closed after '}' */
    int is_defined;                /* [header] seen (redefinition error) */
    int from_array;                /* element of an array of tables */
};

/** Make an empty table value (used for the root). */
hr_value *hr_value_make_table(apr_pool_t *p, const char *file, int line);

/** Look a key up in a table; NULL when absent. */
hr_table_entry *hr_table_find(const hr_table *t, const char *key);
hr_value *hr_table_get(const hr_table *t, const char *key);

/** Follow a dotted path ("session.ehlo.require") from a table value. */
hr_value *hr_value_lookup(const hr_value *root, const char *path);

/** Name of a value type for messages ("string", "table" ...). */
const char *hr_value_type_name(hr_value_type type);

/**
 * Parse TOML text into the table @root (which may already hold keys:
 * `include` merges further files into one tree, and a key defined twice is
 * an error).  Every error is appended to @errors as "FILE:LINE: message"
 * (char *).  Returns the number of errors added (0 on success).
 */
int hr_toml_parse(apr_pool_t *p, const char *file, const char *text,
                  apr_size_t len, hr_value *root, apr_array_header_t *errors);

/** Read a file and parse it as above.  A missing file is one error. */
int hr_toml_parse_file(apr_pool_t *p, const char *path, hr_value *root,
                       apr_array_header_t *errors);

/* ----------------------------------------------------- durations, sizes */

/**
 * Parse a duration: "500ms", "30s", "5m", "1h", "7d" (or a bare integer
 * of seconds).  Stores milliseconds in *ms.  Returns 0, or -1 on error.
 */
int hr_parse_duration(const char *text, apr_int64_t *ms);

/** Parse a size: "1024", "10k", "25M", "1G" (binary multiples). */
int hr_parse_size(const char *text, apr_int64_t *bytes);

/* ---------------------------------------------------------------- lists */

typedef struct hr_lists hr_lists;

/**
 * Build the lists of `[list]`: each key is an array of strings or a
 * "file://path" with one entry per line ('#' comments and blank lines are
 * skipped).  Errors go to @errors as "FILE:LINE: message".
 */
hr_lists *hr_lists_build(apr_pool_t *p, const hr_value *list_table,
                         const char *config_dir, apr_array_header_t *errors);

/** Does list @name exist? */
int hr_lists_exists(const hr_lists *lists, const char *name);

/**
 * Is @value in list @name?  With @casefold, ASCII case is ignored on both
 * sides (i;ascii-casemap); otherwise octets compare exactly (i;octet).
 * A hash lookup: the cost does not grow with the list.  Unknown list: 0.
 */
int hr_lists_contains(const hr_lists *lists, const char *name,
                      const char *value, int casefold);

/** Number of entries in list @name (-1 when there is no such list). */
int hr_lists_count(const hr_lists *lists, const char *name);

/* ------------------------------------------------------------ variables */

/**
 * The variables an expression can test.  A key declares which ones it may
 * use (the stage it is evaluated at); using another one is a load error.
 */
typedef enum {
    HR_VAR_LISTENER = 0,
    HR_VAR_REMOTE_IP,
    HR_VAR_LOCAL_IP,
    HR_VAR_LOCAL_PORT,
    HR_VAR_HELO_DOMAIN,
    HR_VAR_AUTHENTICATED_AS,
    HR_VAR_IS_TLS,
    HR_VAR_SENDER,
    HR_VAR_SENDER_DOMAIN,
    HR_VAR_RCPT,
    HR_VAR_RCPT_DOMAIN,
    HR_VAR_PRIORITY,
    HR_VAR_COUNT
} hr_var;

#define HR_VARBIT(v) (1u << (v))
/** Known at connect time. */
#define HR_VARS_CONNECT                                                      \
    (HR_VARBIT(HR_VAR_LISTENER) | HR_VARBIT(HR_VAR_REMOTE_IP) |              \
     HR_VARBIT(HR_VAR_LOCAL_IP) | HR_VARBIT(HR_VAR_LOCAL_PORT) |             \
     HR_VARBIT(HR_VAR_IS_TLS))
/** Known from HELO/EHLO on (and after AUTH). */
#define HR_VARS_EHLO                                                         \
    (HR_VARS_CONNECT | HR_VARBIT(HR_VAR_HELO_DOMAIN) |                       \
     HR_VARBIT(HR_VAR_AUTHENTICATED_AS))
/** Known from MAIL FROM on. */
#define HR_VARS_MAIL                                                         \
    (HR_VARS_EHLO | HR_VARBIT(HR_VAR_SENDER) |                               \
     HR_VARBIT(HR_VAR_SENDER_DOMAIN) | HR_VARBIT(HR_VAR_PRIORITY))
/** Known at RCPT TO. */
#define HR_VARS_RCPT                                                         \
    (HR_VARS_MAIL | HR_VARBIT(HR_VAR_RCPT) | HR_VARBIT(HR_VAR_RCPT_DOMAIN))

/** Name of a variable as written in expressions ("remote-ip"). */
const char *hr_var_name(hr_var v);
/** Variable by name; -1 when unknown. */
int hr_var_lookup(const char *name);

/**
 * Supplies a variable's current value as a string ("" when unset; is-tls
 * is "true"/"false"; local-port and priority are decimal).
 */
typedef const char *hr_var_getter(void *ctx, hr_var v);

/* ---------------------------------------------------------- expressions */

/** What a key holds once evaluated; constants are converted at load. */
typedef enum {
    HR_KEY_BOOL,        /* true / false */
    HR_KEY_INTEGER,     /* TOML integer */
    HR_KEY_STRING,      /* string */
    HR_KEY_DURATION,    /* "30s" -> HR_VAL_INTEGER milliseconds */
    HR_KEY_SIZE,        /* 1024 or "10M" -> HR_VAL_INTEGER bytes */
    HR_KEY_STRING_LIST, /* array of strings (HR_VAL_ARRAY) */
    HR_KEY_ANY          /* any value, not compiled (tables, free-form) */
} hr_key_type;

/** Key flags. */
#define HR_KEY_EXPR     0x01 /* may be a rule table evaluated per session */
#define HR_KEY_OPTIONAL 0x02 /* false or "" disables (result: boolean false) */
#define HR_KEY_WILDCARD 0x04 /* path has '*' segments (one any segment) */
#define HR_KEY_SUBTREE  0x08 /* anything below this path belongs to it */

typedef struct hr_expr hr_expr;

/**
 * Compile @v (a constant or a rule table) as a value of @type.  @allowed is
 * the mask of variables the key may use; @lists resolves `in-list`
 * operands (which must name an existing list).  @key names the setting in
 * messages.  Errors go to @errors as "FILE:LINE: message"; returns NULL on
 * error.
 *
 * Rule table syntax:
 *     [ { if = VAR, OP = OPERAND, then = VALUE },
 *       { any-of = [ {if=..,OP=..}, ... ], then = VALUE },
 *       { else = VALUE } ]
 * OP: eq ne starts-with ends-with in-list matches, and not-eq ...
 * (`ne` is not-eq).  IP variables accept CIDR operands with eq/ne.
 * The first rule that matches wins; `else` is required and last.
 */
hr_expr *hr_expr_compile(apr_pool_t *p, const char *key, const hr_value *v,
                         hr_key_type type, unsigned flags, unsigned allowed,
                         const hr_lists *lists, apr_array_header_t *errors);

/** Compile a constant (used for defaults). */
hr_expr *hr_expr_constant(apr_pool_t *p, const hr_value *v);

/** Evaluate: never NULL.  The result lives as long as the expression. */
const hr_value *hr_expr_eval(const hr_expr *e, hr_var_getter *get, void *ctx);

/** Is the expression a constant (no rules)? */
int hr_expr_is_constant(const hr_expr *e);

/** Variables an expression uses (a mask of HR_VARBIT). */
unsigned hr_expr_variables(const hr_expr *e);

/* --------------------------------------------------------- declared keys */

/**
 * A configuration key owned by the core or a module.  Paths are dotted
 * ("session.extensions.dsn"); with HR_KEY_WILDCARD a segment "*" matches
 * any one name ("server.listener.*.bind"); with HR_KEY_SUBTREE every key
 * below the path belongs to the owner (e.g. "sieve.scripts").
 */
typedef struct hr_config_key {
    const char *path;
    hr_key_type type;
    unsigned flags;               /* HR_KEY_* */
    const char *default_toml;     /* default as TOML text ("true", "\"7d\"",
                                     "[]"), or NULL for none */
    unsigned variables;           /* HR_VARS_* the expression may use */
    const char *description;      /* one line, shown by herald -M */
} hr_config_key;

#ifdef __cplusplus
}
#endif
#endif /* HR_CONFIG_H */
