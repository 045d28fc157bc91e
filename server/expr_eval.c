/*
 * expr_eval.c -- evaluating Herald's setting expressions per session.
 *
 * An hr_expr compiled at load (expr_compile.c, which describes the rule
 * language) is evaluated against the session's variables, read through
 * the caller's getter:
 *
 *     const hr_value *v = hr_expr_eval(e, session_var, session);
 *
 * The first rule whose condition holds gives its value; when none does,
 * the else value (for a constant, its only value) is the result.
 * Evaluation allocates nothing and writes nothing into the expression:
 * worker threads evaluate the same expression concurrently.
 * A `matches` runs in a match data block carved from this thread's stack;
 * eq/ne on remote-ip and local-ip compare addresses as numbers (an
 * IPv4-mapped IPv6 address matches IPv4 blocks and the other way round).
 */
#include <stddef.h>
#include <string.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include "expr_int.h"

/* Result of a disabled or missing value. */
const hr_value expr_false_value = { HR_VAL_BOOLEAN, "<none>", 0,
                                    { .b = 0 } };

/* ------------------------------------------------------------- addresses */

/*
 * Parse "ADDRESS" or "ADDRESS/PREFIX" (IPv4 or IPv6).  With @is_value the
 * text is a session's address: brackets ("[::1]") and a zone ("%eth0")
 * are dropped and no prefix is allowed.  Returns 0 or -1.
 */
int expr_parse_cidr(const char *text, int is_value, expr_cidr *out)
{
    char buf[64];
    const char *end = text + strlen(text);
    const char *slash = is_value ? NULL : strchr(text, '/');
    const char *addr_end = slash ? slash : end;
    const char *start = text;
    unsigned max;
    size_t len;
    char *zone;

    if (is_value && *start == '[' && addr_end > start + 1 &&
        addr_end[-1] == ']') {
        start++;
        addr_end--;
    }
    len = (size_t)(addr_end - start);
    if (len == 0 || len >= sizeof(buf)) {
        return -1;
    }
    memcpy(buf, start, len);
    buf[len] = '\0';
    if (is_value && (zone = strchr(buf, '%')) != NULL) {
        *zone = '\0';
    }

    memset(out, 0, sizeof(*out));
    if (inet_pton(AF_INET, buf, out->addr) == 1) {
        out->family = AF_INET;
        max = 32;
    }
    else if (inet_pton(AF_INET6, buf, out->addr) == 1) {
        out->family = AF_INET6;
        max = 128;
    }
    else {
        return -1;
    }
    out->prefix = max;
    if (slash != NULL) {
        apr_int64_t bits;
        const char *rest = expr_parse_decimal(slash + 1, &bits);

        if (rest == NULL || *rest != '\0' || rest - slash > 4 || bits > max) {
            out->family = 0;
            return -1;
        }
        out->prefix = (unsigned)bits;
    }
    return 0;
}

/* Does the first @bits bits of @a equal those of @b? */
static int prefix_equal(const unsigned char *a, const unsigned char *b,
                        unsigned bits)
{
    unsigned whole = bits / 8, rest = bits % 8;

    if (memcmp(a, b, whole) != 0) {
        return 0;
    }
    if (rest != 0) {
        unsigned char mask = (unsigned char)(0xff << (8 - rest));
        return (a[whole] & mask) == (b[whole] & mask);
    }
    return 1;
}

static const unsigned char v4_mapped_prefix[12] = {
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff
};

/* Is the session address @value inside the block @rule? */
static int cidr_match(const expr_cidr *rule, const char *value)
{
    expr_cidr a;

    if (expr_parse_cidr(value, 1, &a) != 0) {
        return 0;
    }
    /* RFC 4291 §2.5.5.2: ::ffff:a.b.c.d is the IPv4 address a.b.c.d. */
    if (rule->family == AF_INET && a.family == AF_INET6) {
        if (memcmp(a.addr, v4_mapped_prefix, 12) != 0) {
            return 0;
        }
        memmove(a.addr, a.addr + 12, 4);
    }
    else if (rule->family == AF_INET6 && a.family == AF_INET) {
        memmove(a.addr + 12, a.addr, 4);
        memcpy(a.addr, v4_mapped_prefix, 12);
    }
    return prefix_equal(rule->addr, a.addr, rule->prefix);
}

/* ------------------------------------------------------------ evaluating */

static int ascii_lower(int ch)
{
    return (ch >= 'A' && ch <= 'Z') ? ch + ('a' - 'A') : ch;
}

/* Compare @len octets, ignoring ASCII case when @caseless. */
static int same_text(const char *a, const char *b, apr_size_t len,
                     int caseless)
{
    apr_size_t i;

    if (!caseless) {
        return memcmp(a, b, len) == 0;
    }
    for (i = 0; i < len; i++) {
        if (ascii_lower((unsigned char)a[i]) !=
            ascii_lower((unsigned char)b[i])) {
            return 0;
        }
    }
    return 1;
}

/*
 * PCRE2 needs a match data block per match.  It is carved out of a buffer
 * on this thread's stack, so matching allocates nothing and no two threads
 * share state.
 */
typedef struct {
    union {
        max_align_t align;
        unsigned char bytes[EXPR_MATCH_ARENA];
    } buf;
    apr_size_t used;
} match_arena;

static void *arena_malloc(PCRE2_SIZE size, void *data)
{
    match_arena *arena = data;
    apr_size_t need = (size + 15) & ~(apr_size_t)15;
    void *mem;

    if (need < size || need > sizeof(arena->buf) - arena->used) {
        return NULL;
    }
    mem = arena->buf.bytes + arena->used;
    arena->used += need;
    return mem;
}

static void arena_free(void *mem, void *data)
{
    /* The whole arena goes away with the caller's stack frame. */
    (void)mem;
    (void)data;
}

static int pattern_match(const expr_cond *cond, const char *value,
                         apr_size_t len)
{
    match_arena arena;
    pcre2_general_context *gctx;
    pcre2_match_data *md;

    arena.used = 0;
    gctx = pcre2_general_context_create(arena_malloc, arena_free, &arena);
    if (gctx == NULL) {
        return 0;
    }
    md = pcre2_match_data_create(1, gctx);
    if (md == NULL) {
        return 0;
    }
    /* XXX: a match that exceeds EXPR_MATCH_LIMIT or the arena (only the
     * interpreter uses it, for deep backtracking) counts as no match. */
    return pcre2_match(cond->re, (PCRE2_SPTR)value, len, 0, 0, md,
                       cond->mctx) >= 0;
}

/* The test itself, before "not-" is applied. */
static int eval_test(const hr_expr *e, const expr_cond *cond,
                     const char *value)
{
    apr_size_t len = strlen(value);

    switch (cond->op) {
    case OP_EQ:
        if (cond->cidr.family != 0) {
            return cidr_match(&cond->cidr, value);
        }
        return len == cond->operand_len &&
               same_text(value, cond->operand, len, cond->caseless);
    case OP_STARTS_WITH:
        return len >= cond->operand_len &&
               same_text(value, cond->operand, cond->operand_len,
                         cond->caseless);
    case OP_ENDS_WITH:
        return len >= cond->operand_len &&
               same_text(value + len - cond->operand_len, cond->operand,
                         cond->operand_len, cond->caseless);
    case OP_IN_LIST:
        return hr_lists_contains(e->lists, cond->operand, value, 1);
    case OP_MATCHES:
        return pattern_match(cond, value, len);
    }
    return 0;
}

static int eval_cond(const hr_expr *e, const expr_cond *cond,
                     hr_var_getter *get, void *ctx)
{
    const char *value;
    int i;

    switch (cond->kind) {
    case COND_ANY_OF:
        for (i = 0; i < cond->nchildren; i++) {
            if (eval_cond(e, &cond->children[i], get, ctx)) {
                return 1;
            }
        }
        return 0;
    case COND_ALL_OF:
        for (i = 0; i < cond->nchildren; i++) {
            if (!eval_cond(e, &cond->children[i], get, ctx)) {
                return 0;
            }
        }
        return 1;
    case COND_NONE_OF:
        for (i = 0; i < cond->nchildren; i++) {
            if (eval_cond(e, &cond->children[i], get, ctx)) {
                return 0;
            }
        }
        return 1;
    case COND_TEST:
        break;
    }
    value = get ? get(ctx, cond->var) : NULL;
    if (value == NULL) {
        value = "";
    }
    return eval_test(e, cond, value) != cond->negate;
}

const hr_value *hr_expr_eval(const hr_expr *e, hr_var_getter *get, void *ctx)
{
    int i;

    if (e == NULL) {
        return &expr_false_value;
    }
    for (i = 0; i < e->nrules; i++) {
        if (eval_cond(e, &e->rules[i].cond, get, ctx)) {
            return e->rules[i].then;
        }
    }
    return e->otherwise ? e->otherwise : &expr_false_value;
}

int hr_expr_is_constant(const hr_expr *e)
{
    return e == NULL || e->nrules == 0;
}

unsigned hr_expr_variables(const hr_expr *e)
{
    return e ? e->variables : 0;
}
