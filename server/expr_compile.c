/*
 * expr_compile.c -- setting expressions: constants and rule tables,
 * compiled at load.
 *
 * Every declared key (hr_config_key) is compiled once, at load, into an
 * hr_expr.  A key holds either a constant or, when it carries HR_KEY_EXPR,
 * a rule table evaluated per session against the session's variables:
 *
 *     reject-non-fqdn = [ { if = "listener", eq = "smtp", then = true },
 *                         { else = false } ]
 *     relay = [ { any-of = [ { if = "remote-ip", eq = "10.0.0.0/8" },
 *                            { if = "authenticated-as", ne = "" } ],
 *                 then = true },
 *               { else = false } ]
 *
 * Rules:
 *   - a rule is { if = VAR, OP = OPERAND, then = VALUE } or a group
 *     { any-of | all-of | none-of = [ conditions ], then = VALUE }; a
 *     condition inside a group is { if = VAR, OP = OPERAND } or another
 *     group (at most EXPR_MAX_DEPTH levels);
 *   - the first rule that matches wins; one { else = VALUE } is required
 *     and must be the last rule;
 *   - OP is eq, ne, starts-with, ends-with, in-list, matches, or a "not-"
 *     form of any of them (not-eq is ne);
 *   - an operand is a string, an integer or a boolean; integers and
 *     booleans compare as their text ("true", "25");
 *   - eq, ne, starts-with and ends-with ignore ASCII case for the
 *     variables holding domains or addresses (helo-domain, sender,
 *     sender-domain, rcpt, rcpt-domain; RFC 5321 §2.4: domain names are
 *     case-insensitive) and compare octets exactly for the others;
 *     matches on those variables is compiled caseless (PCRE2_CASELESS);
 *   - in-list names a list of [list] that must exist at load; it is
 *     looked up ignoring ASCII case (hr_lists_contains with casefold);
 *   - eq/ne on remote-ip and local-ip accept an address or a CIDR block
 *     ("10.0.0.0/8", "2001:db8::/32"); an IPv4-mapped IPv6 address
 *     (::ffff:192.0.2.1) matches IPv4 blocks and the other way round;
 *   - matches is a PCRE2 pattern compiled at load (unanchored: write ^..$
 *     to match the whole value).
 *
 * The then/else values and constants are checked against the key's type
 * and converted at load (durations and sizes become integers of
 * milliseconds and bytes), so evaluation only picks a value.  Evaluation
 * allocates nothing and writes nothing into the expression: worker threads
 * evaluate the same expression concurrently.
 *
 * This file holds the variables, the checking and conversion of values
 * and the compiler; evaluation is in expr_eval.c, durations and sizes in
 * units.c, and the compiled form they share in expr_int.h.
 */
#include <stdarg.h>
#include <string.h>

#include <apr_strings.h>

#include "expr_int.h"

/* ------------------------------------------------------------- variables */

/* Indexed by hr_var. */
static const char *const var_names[HR_VAR_COUNT] = {
    "listener",      "remote-ip",        "local-ip",    "local-port",
    "helo-domain",   "authenticated-as", "is-tls",      "sender",
    "sender-domain", "rcpt",             "rcpt-domain", "priority",
};

const char *hr_var_name(hr_var v)
{
    if ((unsigned)v >= HR_VAR_COUNT) {
        return "unknown";
    }
    return var_names[v];
}

int hr_var_lookup(const char *name)
{
    int i;

    if (name == NULL) {
        return -1;
    }
    for (i = 0; i < HR_VAR_COUNT; i++) {
        if (strcmp(var_names[i], name) == 0) {
            return i;
        }
    }
    return -1;
}

/* Variables holding domains or addresses compare ignoring ASCII case. */
static int var_is_caseless(hr_var v)
{
    return v == HR_VAR_HELO_DOMAIN || v == HR_VAR_SENDER ||
           v == HR_VAR_SENDER_DOMAIN || v == HR_VAR_RCPT ||
           v == HR_VAR_RCPT_DOMAIN;
}

static int var_is_ip(hr_var v)
{
    return v == HR_VAR_REMOTE_IP || v == HR_VAR_LOCAL_IP;
}

/* ------------------------------------------------------------ structures */

static const struct {
    const char *name;
    expr_op op;
    int negate;
} op_names[] = {
    { "eq", OP_EQ, 0 },
    { "ne", OP_EQ, 1 },
    { "not-eq", OP_EQ, 1 },
    { "starts-with", OP_STARTS_WITH, 0 },
    { "not-starts-with", OP_STARTS_WITH, 1 },
    { "ends-with", OP_ENDS_WITH, 0 },
    { "not-ends-with", OP_ENDS_WITH, 1 },
    { "in-list", OP_IN_LIST, 0 },
    { "not-in-list", OP_IN_LIST, 1 },
    { "matches", OP_MATCHES, 0 },
    { "not-matches", OP_MATCHES, 1 },
};

static const char *const group_names[] = { NULL, "any-of", "all-of",
                                           "none-of" };

/** State of one compilation. */
typedef struct {
    apr_pool_t *p;
    const char *key;
    unsigned allowed;
    const hr_lists *lists;
    apr_array_header_t *errors;
    unsigned used;           /* variables seen so far */
    pcre2_match_context *mctx; /* shared by the patterns of this key */
    int failed;
} expr_compiler;

/* ------------------------------------------------------- error reporting */

/* Record "FILE:LINE: setting 'KEY' <message>" located at @at. */
static void expr_error(expr_compiler *c, const hr_value *at,
                       const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void expr_error(expr_compiler *c, const hr_value *at,
                       const char *fmt, ...)
{
    va_list ap;
    char *msg;

    c->failed = 1;
    if (c->errors == NULL) {
        return;
    }
    va_start(ap, fmt);
    msg = apr_pvsprintf(c->p, fmt, ap);
    va_end(ap);
    APR_ARRAY_PUSH(c->errors, char *) =
        apr_psprintf(c->p, "%s:%d: setting '%s' %s",
                     at && at->file ? at->file : "<unknown>",
                     at ? at->line : 0, c->key, msg);
}

/* ---------------------------------------------------- value conversion */

static hr_value *new_value(apr_pool_t *p, const hr_value *from,
                           hr_value_type type)
{
    hr_value *v = apr_pcalloc(p, sizeof(*v));

    v->type = type;
    v->file = from->file;
    v->line = from->line;
    return v;
}

static const char *type_wanted(hr_key_type type)
{
    switch (type) {
    case HR_KEY_BOOL:
        return "a boolean (true or false)";
    case HR_KEY_INTEGER:
        return "an integer";
    case HR_KEY_STRING:
        return "a string";
    case HR_KEY_DURATION:
        return "a duration (e.g. \"30s\")";
    case HR_KEY_SIZE:
        return "a size (e.g. \"10M\")";
    case HR_KEY_STRING_LIST:
        return "a list of strings";
    case HR_KEY_ANY:
        break;
    }
    return "a value";
}

/* Check @v against the key's type and return the converted copy. */
static const hr_value *convert_value(expr_compiler *c, const hr_value *v,
                                     hr_key_type type, unsigned flags)
{
    hr_value *out;
    apr_int64_t n;

    if (type == HR_KEY_ANY) {
        return v;
    }
    if ((flags & HR_KEY_OPTIONAL) &&
        ((v->type == HR_VAL_BOOLEAN && !v->u.b) ||
         (v->type == HR_VAL_STRING && v->u.s[0] == '\0'))) {
        out = new_value(c->p, v, HR_VAL_BOOLEAN);
        out->u.b = 0;
        return out;
    }

    switch (type) {
    case HR_KEY_BOOL:
    case HR_KEY_INTEGER:
    case HR_KEY_STRING:
        if ((type == HR_KEY_BOOL && v->type == HR_VAL_BOOLEAN) ||
            (type == HR_KEY_INTEGER && v->type == HR_VAL_INTEGER) ||
            (type == HR_KEY_STRING && v->type == HR_VAL_STRING)) {
            out = new_value(c->p, v, v->type);
            out->u = v->u;
            return out;
        }
        break;

    case HR_KEY_DURATION:
    case HR_KEY_SIZE:
        if (v->type == HR_VAL_INTEGER) {
            /* A bare integer is seconds (durations) or bytes (sizes). */
            if (v->u.i < 0 ||
                expr_scale(v->u.i, type == HR_KEY_DURATION ? 1000 : 1,
                           &n) != 0) {
                expr_error(c, v, "expects %s, got %" APR_INT64_T_FMT
                           " (out of range)", type_wanted(type), v->u.i);
                return NULL;
            }
        }
        else if (v->type == HR_VAL_STRING) {
            int rc = type == HR_KEY_DURATION ? hr_parse_duration(v->u.s, &n)
                                             : hr_parse_size(v->u.s, &n);
            if (rc != 0) {
                expr_error(c, v, "expects %s, got \"%s\"", type_wanted(type),
                           v->u.s);
                return NULL;
            }
        }
        else {
            break;
        }
        out = new_value(c->p, v, HR_VAL_INTEGER);
        out->u.i = n;
        return out;

    case HR_KEY_STRING_LIST:
        if (v->type == HR_VAL_STRING) {
            /* A single string is a list of one. */
            hr_value *elt = new_value(c->p, v, HR_VAL_STRING);

            elt->u.s = v->u.s;
            out = new_value(c->p, v, HR_VAL_ARRAY);
            out->u.array = apr_array_make(c->p, 1, sizeof(hr_value *));
            APR_ARRAY_PUSH(out->u.array, hr_value *) = elt;
            return out;
        }
        if (v->type == HR_VAL_ARRAY) {
            int i, ok = 1;

            out = new_value(c->p, v, HR_VAL_ARRAY);
            out->u.array =
                apr_array_make(c->p, v->u.array->nelts, sizeof(hr_value *));
            for (i = 0; i < v->u.array->nelts; i++) {
                const hr_value *from = APR_ARRAY_IDX(v->u.array, i, hr_value *);
                hr_value *elt;

                if (from->type != HR_VAL_STRING) {
                    expr_error(c, from, "expects a list of strings, got %s "
                               "at element %d", hr_value_type_name(from->type),
                               i + 1);
                    ok = 0;
                    continue;
                }
                elt = new_value(c->p, from, HR_VAL_STRING);
                elt->u.s = from->u.s;
                APR_ARRAY_PUSH(out->u.array, hr_value *) = elt;
            }
            return ok ? out : NULL;
        }
        break;

    case HR_KEY_ANY:
        return v;
    }

    expr_error(c, v, "expects %s, got %s", type_wanted(type),
               hr_value_type_name(v->type));
    return NULL;
}

/* ------------------------------------------------------------ compiling */

static apr_status_t free_pattern(void *data)
{
    pcre2_code_free(data);
    return APR_SUCCESS;
}

static apr_status_t free_match_context(void *data)
{
    pcre2_match_context_free(data);
    return APR_SUCCESS;
}

/* Compile the `matches` operand once; JIT when the platform has it. */
static int compile_pattern(expr_compiler *c, expr_cond *cond,
                           const hr_value *opv)
{
    PCRE2_UCHAR msg[256];
    PCRE2_SIZE offset;
    uint32_t options = PCRE2_UTF | PCRE2_MATCH_INVALID_UTF |
                       PCRE2_NEVER_BACKSLASH_C;
    int code;

    if (cond->operand_len > EXPR_MAX_PATTERN) {
        expr_error(c, opv, "has a pattern longer than %d octets",
                   EXPR_MAX_PATTERN);
        return -1;
    }
    if (cond->caseless) {
        options |= PCRE2_CASELESS;
    }
    cond->re = pcre2_compile((PCRE2_SPTR)cond->operand, cond->operand_len,
                             options, &code, &offset, NULL);
    if (cond->re == NULL) {
        pcre2_get_error_message(code, msg, sizeof(msg));
        expr_error(c, opv, "has an invalid regular expression \"%s\" at "
                   "offset %lu: %s", cond->operand, (unsigned long)offset,
                   (const char *)msg);
        return -1;
    }
    apr_pool_cleanup_register(c->p, cond->re, free_pattern,
                              apr_pool_cleanup_null);
    /* Without JIT the interpreter is used: slower, same results. */
    (void)pcre2_jit_compile(cond->re, PCRE2_JIT_COMPLETE);

    if (c->mctx == NULL) {
        c->mctx = pcre2_match_context_create(NULL);
        if (c->mctx == NULL) {
            expr_error(c, opv, "cannot allocate a regex match context");
            return -1;
        }
        pcre2_set_match_limit(c->mctx, EXPR_MATCH_LIMIT);
        apr_pool_cleanup_register(c->p, c->mctx, free_match_context,
                                  apr_pool_cleanup_null);
    }
    cond->mctx = c->mctx;
    return 0;
}

/* Text form of an operand: strings as they are, integers, booleans. */
static const char *operand_text(apr_pool_t *p, const hr_value *v)
{
    switch (v->type) {
    case HR_VAL_STRING:
        return v->u.s;
    case HR_VAL_INTEGER:
        return apr_psprintf(p, "%" APR_INT64_T_FMT, v->u.i);
    case HR_VAL_BOOLEAN:
        return v->u.b ? "true" : "false";
    default:
        return NULL;
    }
}

/* Fill @cond with the test "if = VAR, OP = OPERAND". */
static int compile_test(expr_compiler *c, expr_cond *cond,
                        const hr_value *ifv, const char *opname,
                        const hr_value *opv, expr_op op, int negate)
{
    int var;

    if (ifv->type != HR_VAL_STRING) {
        expr_error(c, ifv, "expects a variable name after 'if', got %s",
                   hr_value_type_name(ifv->type));
        return -1;
    }
    var = hr_var_lookup(ifv->u.s);
    if (var < 0) {
        expr_error(c, ifv, "uses unknown variable '%s'", ifv->u.s);
        return -1;
    }
    if (!(c->allowed & HR_VARBIT(var))) {
        expr_error(c, ifv, "cannot use variable '%s' at this stage",
                   ifv->u.s);
        return -1;
    }
    c->used |= HR_VARBIT(var);

    cond->kind = COND_TEST;
    cond->var = (hr_var)var;
    cond->op = op;
    cond->negate = negate;
    cond->caseless = var_is_caseless(cond->var);

    if ((op == OP_IN_LIST || op == OP_MATCHES) &&
        opv->type != HR_VAL_STRING) {
        expr_error(c, opv, "expects a string after '%s', got %s", opname,
                   hr_value_type_name(opv->type));
        return -1;
    }
    cond->operand = operand_text(c->p, opv);
    if (cond->operand == NULL) {
        expr_error(c, opv, "expects a string, integer or boolean after "
                   "'%s', got %s", opname, hr_value_type_name(opv->type));
        return -1;
    }
    cond->operand_len = strlen(cond->operand);

    switch (op) {
    case OP_IN_LIST:
        if (!hr_lists_exists(c->lists, cond->operand)) {
            expr_error(c, opv, "uses unknown list '%s' (define it in "
                       "[list])", cond->operand);
            return -1;
        }
        break;
    case OP_MATCHES:
        return compile_pattern(c, cond, opv);
    case OP_EQ:
        if (var_is_ip(cond->var) && opv->type == HR_VAL_STRING) {
            /* An address or block compares as numbers; other text
             * ("" for unset) compares as text. */
            if (expr_parse_cidr(cond->operand, 0, &cond->cidr) != 0 &&
                strchr(cond->operand, '/') != NULL) {
                expr_error(c, opv, "has an invalid address block '%s'",
                           cond->operand);
                return -1;
            }
        }
        break;
    case OP_STARTS_WITH:
    case OP_ENDS_WITH:
        break;
    }
    return 0;
}

static int lookup_op(const char *name, expr_op *op, int *negate)
{
    size_t i;

    for (i = 0; i < sizeof(op_names) / sizeof(op_names[0]); i++) {
        if (strcmp(op_names[i].name, name) == 0) {
            *op = op_names[i].op;
            *negate = op_names[i].negate;
            return 0;
        }
    }
    return -1;
}

static cond_kind lookup_group(const char *name)
{
    int i;

    for (i = COND_ANY_OF; i <= COND_NONE_OF; i++) {
        if (strcmp(group_names[i], name) == 0) {
            return (cond_kind)i;
        }
    }
    return COND_TEST;
}

static int compile_cond(expr_compiler *c, const hr_value *tv,
                        expr_cond *cond, int depth, int top);

/* Fill @cond with the group "any-of = [ conditions ]" (or all/none). */
static int compile_group(expr_compiler *c, expr_cond *cond, cond_kind kind,
                         const hr_value *gv, int depth)
{
    const char *name = group_names[kind];
    expr_cond *children;
    int i, n, rc = 0;

    if (gv->type != HR_VAL_ARRAY) {
        expr_error(c, gv, "expects a list of conditions after '%s', got %s",
                   name, hr_value_type_name(gv->type));
        return -1;
    }
    n = gv->u.array->nelts;
    if (n == 0 || n > EXPR_MAX_GROUP) {
        expr_error(c, gv, "needs 1 to %d conditions in '%s', got %d",
                   EXPR_MAX_GROUP, name, n);
        return -1;
    }
    if (depth >= EXPR_MAX_DEPTH) {
        expr_error(c, gv, "nests groups deeper than %d levels",
                   EXPR_MAX_DEPTH);
        return -1;
    }
    children = apr_pcalloc(c->p, n * sizeof(*children));
    for (i = 0; i < n; i++) {
        const hr_value *elt = APR_ARRAY_IDX(gv->u.array, i, hr_value *);

        if (elt->type != HR_VAL_TABLE) {
            expr_error(c, elt, "expects conditions ({ if = ..., eq = ... }) "
                       "in '%s', got %s", name,
                       hr_value_type_name(elt->type));
            rc = -1;
            continue;
        }
        if (compile_cond(c, elt, &children[i], depth + 1, 0) != 0) {
            rc = -1;
        }
    }
    cond->kind = kind;
    cond->children = children;
    cond->nchildren = n;
    return rc;
}

/*
 * Compile the condition of the inline table @tv: a test or a group.  On a
 * top-level rule (@top) the key "then" belongs to the rule and is skipped.
 */
static int compile_cond(expr_compiler *c, const hr_value *tv,
                        expr_cond *cond, int depth, int top)
{
    const apr_array_header_t *entries = tv->u.table->entries;
    const hr_value *ifv = NULL, *opv = NULL, *groupv = NULL;
    const char *opname = NULL;
    cond_kind group = COND_TEST;
    expr_op op = OP_EQ;
    int negate = 0, i;

    for (i = 0; i < entries->nelts; i++) {
        const hr_table_entry *e = &APR_ARRAY_IDX(entries, i, hr_table_entry);
        cond_kind g;

        if (strcmp(e->key, "if") == 0) {
            ifv = e->value;
        }
        else if (strcmp(e->key, "then") == 0 || strcmp(e->key, "else") == 0) {
            if (!top) {
                expr_error(c, e->value, "has '%s' inside a group (only a "
                           "rule has 'then', only the last rule 'else')",
                           e->key);
                return -1;
            }
        }
        else if ((g = lookup_group(e->key)) != COND_TEST) {
            if (groupv != NULL) {
                expr_error(c, e->value, "has both '%s' and '%s' in one "
                           "condition", group_names[group], e->key);
                return -1;
            }
            group = g;
            groupv = e->value;
        }
        else if (lookup_op(e->key, &op, &negate) == 0) {
            if (opv != NULL) {
                expr_error(c, e->value, "has two operators ('%s' and '%s') "
                           "in one condition", opname, e->key);
                return -1;
            }
            opname = e->key;
            opv = e->value;
        }
        else {
            expr_error(c, e->value, "uses unknown operator '%s' (expected "
                       "eq, ne, starts-with, ends-with, in-list, matches, "
                       "a not- form, any-of, all-of or none-of)", e->key);
            return -1;
        }
    }

    if (groupv != NULL) {
        if (ifv != NULL || opv != NULL) {
            expr_error(c, ifv ? ifv : opv, "mixes '%s' with '%s' in one "
                       "condition", group_names[group],
                       ifv ? "if" : opname);
            return -1;
        }
        return compile_group(c, cond, group, groupv, depth);
    }
    if (ifv == NULL) {
        if (opv != NULL) {
            expr_error(c, opv, "has operator '%s' without 'if'", opname);
        }
        else {
            expr_error(c, tv, "has a rule without a condition ('if' or "
                       "any-of, all-of, none-of)");
        }
        return -1;
    }
    if (opv == NULL) {
        expr_error(c, ifv, "has 'if' without an operator (eq, ne, "
                   "starts-with, ends-with, in-list, matches ...)");
        return -1;
    }
    return compile_test(c, cond, ifv, opname, opv, op, negate);
}

/* An array whose first element is a table is a rule table. */
static int is_rule_table(const hr_value *v)
{
    return v->type == HR_VAL_ARRAY && v->u.array->nelts > 0 &&
           APR_ARRAY_IDX(v->u.array, 0, hr_value *)->type == HR_VAL_TABLE;
}

/* Compile the rule table @v into @e. */
static void compile_rules(expr_compiler *c, hr_expr *e, const hr_value *v,
                          hr_key_type type, unsigned flags)
{
    int i, n = v->u.array->nelts, seen_else = 0;
    expr_rule *rules;

    if (n > EXPR_MAX_RULES) {
        expr_error(c, v, "has more than %d rules", EXPR_MAX_RULES);
        return;
    }
    rules = apr_pcalloc(c->p, n * sizeof(*rules));
    e->rules = rules;
    for (i = 0; i < n; i++) {
        const hr_value *rv = APR_ARRAY_IDX(v->u.array, i, hr_value *);
        const hr_value *elsev, *thenv;

        if (rv->type != HR_VAL_TABLE) {
            expr_error(c, rv, "has a rule that is %s, not an inline table",
                       hr_value_type_name(rv->type));
            continue;
        }
        elsev = hr_table_get(rv->u.table, "else");
        if (elsev != NULL) {
            if (rv->u.table->entries->nelts != 1) {
                expr_error(c, rv, "combines 'else' with other keys (write "
                           "{ else = VALUE } alone, as the last rule)");
            }
            else if (i != n - 1) {
                expr_error(c, rv, "has 'else' before the last rule (rules "
                           "after it would never be used)");
            }
            else {
                e->otherwise = convert_value(c, elsev, type, flags);
            }
            seen_else = 1;
            continue;
        }
        thenv = hr_table_get(rv->u.table, "then");
        if (thenv == NULL) {
            expr_error(c, rv, "has a rule without 'then'");
            continue;
        }
        if (compile_cond(c, rv, &rules[e->nrules].cond, 0, 1) == 0) {
            rules[e->nrules].then = convert_value(c, thenv, type, flags);
        }
        e->nrules++;
    }
    if (!seen_else) {
        expr_error(c, v, "needs a last rule { else = VALUE }");
    }
}

hr_expr *hr_expr_compile(apr_pool_t *p, const char *key, const hr_value *v,
                         hr_key_type type, unsigned flags, unsigned allowed,
                         const hr_lists *lists, apr_array_header_t *errors)
{
    expr_compiler c;
    hr_expr *e;

    memset(&c, 0, sizeof(c));
    c.p = p;
    c.key = key ? key : "?";
    c.allowed = allowed;
    c.lists = lists;
    c.errors = errors;

    if (v == NULL) {
        expr_error(&c, NULL, "has no value");
        return NULL;
    }
    e = apr_pcalloc(p, sizeof(*e));
    e->lists = lists;
    if (type != HR_KEY_ANY && is_rule_table(v)) {
        if (!(flags & HR_KEY_EXPR)) {
            expr_error(&c, v, "cannot be a rule table (it is read once, not "
                       "evaluated per session)");
            return NULL;
        }
        compile_rules(&c, e, v, type, flags);
    }
    else {
        e->otherwise = convert_value(&c, v, type, flags);
    }
    if (c.failed) {
        return NULL;
    }
    e->variables = c.used;
    return e;
}

hr_expr *hr_expr_constant(apr_pool_t *p, const hr_value *v)
{
    hr_expr *e = apr_pcalloc(p, sizeof(*e));

    e->otherwise = v ? v : &expr_false_value;
    return e;
}
