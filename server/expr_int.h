/*
 * expr_int.h -- what the parts of Herald's setting expressions share (not
 * installed; the public API is hr_expr_* and hr_parse_duration,
 * hr_parse_size in hr_config.h).
 *
 *   units.c         durations and sizes ("30s", "10M") as numbers;
 *   expr_compile.c  variables, value conversion and the compiler, at load
 *                   (the rule language is described there);
 *   expr_eval.c     addresses and evaluation, per session, on any thread.
 *
 * The compiled form below is written by expr_compile.c only and read by
 * expr_eval.c only.  These names are private: they carry expr_, not hr_.
 */
#ifndef HR_EXPR_INT_H
#define HR_EXPR_INT_H

#include <apr.h>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "hr_config.h"

/* Limits on what one setting may hold. */
#define EXPR_MAX_RULES 1024      /* rules in one rule table */
#define EXPR_MAX_GROUP 1024      /* conditions in one any/all/none-of */
#define EXPR_MAX_DEPTH 8         /* nesting of groups */
#define EXPR_MAX_PATTERN 4096    /* octets of a `matches` pattern */
#define EXPR_MATCH_LIMIT 100000  /* PCRE2 match limit (backtracking cap) */
#define EXPR_MATCH_ARENA 32768   /* stack memory for one regex match */

/* ----------------------------------------------------- the compiled form */

typedef enum {
    OP_EQ,
    OP_STARTS_WITH,
    OP_ENDS_WITH,
    OP_IN_LIST,
    OP_MATCHES
} expr_op;

typedef enum { COND_TEST, COND_ANY_OF, COND_ALL_OF, COND_NONE_OF } cond_kind;

/** An address block for eq/ne on remote-ip and local-ip. */
typedef struct {
    int family;              /* AF_INET, AF_INET6; 0: not an address */
    unsigned char addr[16];  /* network order; 4 octets for AF_INET */
    unsigned prefix;         /* significant bits */
} expr_cidr;

typedef struct expr_cond expr_cond;

/** One condition: a test of a variable or a group of conditions. */
struct expr_cond {
    cond_kind kind;
    /* COND_TEST */
    hr_var var;
    expr_op op;
    int negate;              /* the "not-" form */
    int caseless;            /* ASCII case-insensitive comparison */
    const char *operand;     /* text form; the list name for in-list */
    apr_size_t operand_len;
    expr_cidr cidr;          /* eq/ne on an IP variable */
    pcre2_code *re;          /* matches */
    pcre2_match_context *mctx;
    /* groups */
    const expr_cond *children;
    int nchildren;
};

typedef struct {
    expr_cond cond;
    const hr_value *then;
} expr_rule;

struct hr_expr {
    const expr_rule *rules;  /* none for a constant */
    int nrules;
    const hr_value *otherwise; /* the else value, or the constant */
    unsigned variables;      /* HR_VARBIT mask of the variables tested */
    const hr_lists *lists;   /* for in-list */
};

/* --------------------------------------------------------------- units.c */

/* Parse leading decimal digits into *out; returns the end or NULL. */
const char *expr_parse_decimal(const char *s, apr_int64_t *out);

/* Multiply without overflow; returns -1 when the product does not fit. */
int expr_scale(apr_int64_t n, apr_int64_t factor, apr_int64_t *out);

/* ----------------------------------------------------------- expr_eval.c */

/* Result of a disabled or missing value. */
extern const hr_value expr_false_value;

/*
 * Parse "ADDRESS" or "ADDRESS/PREFIX" (IPv4 or IPv6); with @is_value, a
 * session's address ("[::1]", "fe80::1%eth0", no prefix).  0 or -1.
 */
int expr_parse_cidr(const char *text, int is_value, expr_cidr *out);

#endif /* HR_EXPR_INT_H */
