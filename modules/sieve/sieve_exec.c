/*
 * sieve_exec.c -- runs a compiled Sieve program (sieve_run).
 *
 * A run walks the immutable program tree (tests are evaluated by
 * sieve_eval.c) with all of its state in one struct (sv_run) on the
 * caller's stack: user variables in a fixed arena (values up to
 * SIEVE_MAX_VALUE octets, compacted when it fills up), match
 * variables ${0}..${9}, three scratch buffers for expanded strings, and
 * a small allocator for PCRE2's match data.  Nothing is allocated on the
 * heap in the common case, nothing shared is written, so any number of
 * threads may run one program at once.
 *
 * Every command, test, comparison, host call and expansion costs budget;
 * glob and substring searches cost by the work they do, PCRE2 gets a
 * match limit.  When the budget runs out the run stops with
 * SIEVE_EBUDGET and the outcome is implicit keep (the host logs it), as
 * for any run-time error (RFC 5228 §2.10.6).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sieve_int.h"

static const sieve_host no_host;

/* ------------------------------------------------- budget and errors */

int sv_exhausted(sv_run *r)
{
    r->spent += r->budget;
    r->budget = 0;
    r->out->status = SIEVE_EBUDGET;
    return -1;
}

/* Spend N units; -1 (and SIEVE_EBUDGET) when there are not enough. */
int sv_charge(sv_run *r, unsigned long n)
{
    if (n > r->budget)
        return sv_exhausted(r);
    r->budget -= n;
    r->spent += n;
    return 0;
}

int sv_runtime_error(sv_run *r, int line, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(r->out->error, sizeof(r->out->error), fmt, ap);
    va_end(ap);
    r->out->status = SIEVE_ERUNTIME;
    r->out->error_line = line;
    return -1;
}

/* ------------------------------------------------------- expansion */

static void env_get(sv_run *r, unsigned idx, const char **v, apr_size_t *len)
{
    if (!(r->env_done & ((apr_uint64_t)1 << idx))) {
        const char *val = r->host->env
            ? r->host->env(r->ctx, r->prog->env_names[idx]) : NULL;

        r->env_val[idx] = val ? val : "";
        r->env_len[idx] = val ? strlen(val) : 0;
        r->env_done |= (apr_uint64_t)1 << idx;
    }
    *v = r->env_val[idx];
    *len = r->env_len[idx];
}

/* The value of one template part. */
static void part_value(sv_run *r, const sv_part *p, const char **v,
                       apr_size_t *len)
{
    switch (p->kind) {
    case SV_PART_TEXT:
        *v = p->text;
        *len = p->len;
        return;
    case SV_PART_VAR:
        *len = r->vars[p->index].len;
        *v = *len ? r->arena + r->vars[p->index].off : "";
        return;
    case SV_PART_MATCH:
        if (p->index < r->nmatch) {
            *v = r->match_buf + r->match[p->index].off;
            *len = r->match[p->index].len;
        }
        else {
            *v = "";
            *len = 0;
        }
        return;
    default:
        env_get(r, p->index, v, len);
    }
}

/*
 * Expand S (RFC 5229 §3).  The result, always NUL-terminated and at most
 * SIEVE_MAX_VALUE octets, is the constant itself, a variable's storage,
 * a host string, or BUF.  Returns -1 when the budget ran out.
 */
int sv_expand(sv_run *r, const sv_string *s, char *buf,
                  const char **out, apr_size_t *len)
{
    apr_size_t n = 0;
    unsigned i;

    if (s->nparts == 0) {
        *out = s->text;
        *len = s->len;
        return 0;
    }
    if (sv_charge(r, 1 + s->nparts))
        return -1;
    if (s->nparts == 1 && s->parts[0].kind != SV_PART_MATCH) {
        part_value(r, &s->parts[0], out, len);
        if (*len <= SIEVE_MAX_VALUE)
            return 0;
    }
    /* Copy up to one octet more than allowed, so the clip can tell
     * whether the last character was cut. */
    for (i = 0; i < s->nparts && n <= SIEVE_MAX_VALUE; i++) {
        const char *v;
        apr_size_t vlen;

        part_value(r, &s->parts[i], &v, &vlen);
        if (vlen > SIEVE_MAX_VALUE + 1 - n)
            vlen = SIEVE_MAX_VALUE + 1 - n;
        memcpy(buf + n, v, vlen);
        n += vlen;
    }
    n = sv_utf8_clip(buf, n, SIEVE_MAX_VALUE);
    buf[n] = '\0';
    *out = buf;
    *len = n;
    return 0;
}

/* Make sure *V is in a scratch buffer that may be written (SV_TMP_VAL or
 * SV_TMP_NAME), copying it into SV_TMP_VAL otherwise. */
static void to_scratch(sv_run *r, const char **v, apr_size_t len)
{
    if (*v == r->tmp[SV_TMP_VAL] || *v == r->tmp[SV_TMP_NAME])
        return;
    memmove(r->tmp[SV_TMP_VAL], *v, len);
    r->tmp[SV_TMP_VAL][len] = '\0';
    *v = r->tmp[SV_TMP_VAL];
}

/* The scratch buffer that V is not in. */
static char *other_scratch(sv_run *r, const char *v)
{
    return v == r->tmp[SV_TMP_VAL] ? r->tmp[SV_TMP_NAME] : r->tmp[SV_TMP_VAL];
}

/* ------------------------------------------------------- variables */

/* Squeeze the arena: move live values down, in address order. */
static void compact_arena(sv_run *r)
{
    unsigned order[SIEVE_MAX_VARIABLES], n = 0, i, j;
    apr_size_t used = 0;

    for (i = 0; i < r->prog->nvars; i++) {
        if (r->vars[i].cap == 0)
            continue;
        for (j = n; j > 0 && r->vars[order[j - 1]].off > r->vars[i].off; j--)
            order[j] = order[j - 1];
        order[j] = i;
        n++;
    }
    for (i = 0; i < n; i++) {
        sv_slot *s = &r->vars[order[i]];

        if (s->len == 0) {
            s->cap = 0;
            continue;
        }
        memmove(r->arena + used, r->arena + s->off, s->len + 1);
        s->off = (apr_uint32_t)used;
        s->cap = s->len;
        used += s->len + 1;
    }
    r->arena_used = used;
}

static int store_var(sv_run *r, int line, unsigned idx, const char *v,
                     apr_size_t len)
{
    sv_slot *s = &r->vars[idx];

    if (len > s->cap || s->cap == 0) {
        if (len == 0) {
            s->len = 0;
            return 0;
        }
        if (len + 1 > SV_ARENA - r->arena_used) {
            s->cap = 0;
            s->len = 0;                    /* the old value is dead */
            compact_arena(r);
            if (len + 1 > SV_ARENA - r->arena_used)
                return sv_runtime_error(r, line,
                                     "variable storage exhausted "
                                     "(limit %d octets)", SV_ARENA);
        }
        s->off = (apr_uint32_t)r->arena_used;
        s->cap = (apr_uint32_t)len;
        r->arena_used += len + 1;
    }
    memmove(r->arena + s->off, v, len);
    r->arena[s->off + len] = '\0';
    s->len = (apr_uint32_t)len;
    return 0;
}

/* Quote the characters in SPECIALS with a backslash (:quotewildcard,
 * :quoteregex), never splitting a pair at the size limit. */
static apr_size_t quote_chars(const char *v, apr_size_t len, char *out,
                              const char *specials)
{
    apr_size_t i, n = 0;

    for (i = 0; i < len; i++) {
        int special = strchr(specials, v[i]) != NULL && v[i] != '\0';

        if (n + 1 + (apr_size_t)special > SIEVE_MAX_VALUE)
            break;
        if (special)
            out[n++] = '\\';
        out[n++] = v[i];
    }
    if (i < len && ((unsigned char)v[i] & 0xC0) == 0x80) {
        /* cut in the middle of a character: drop all of it */
        while (n > 0 && ((unsigned char)out[n - 1] & 0xC0) == 0x80)
            n--;
        if (n > 0)
            n--;
    }
    out[n] = '\0';
    return n;
}

/* set (RFC 5229 §4): modifiers apply from the highest precedence down. */
static int do_set(sv_run *r, const sv_cmd *c)
{
    const char *v;
    apr_size_t len, i;
    unsigned m = c->modifiers;

    if (sv_expand(r, &c->value, r->tmp[SV_TMP_NAME], &v, &len))
        return -1;
    if (m & (SV_MOD_LOWER | SV_MOD_UPPER)) {          /* precedence 40 */
        char *w;

        to_scratch(r, &v, len);
        w = (char *)v;
        if (sv_charge(r, 1 + len / SV_SCAN_RATE))
            return -1;
        for (i = 0; i < len; i++)
            w[i] = (char)((m & SV_MOD_LOWER)
                          ? sv_fold[(unsigned char)w[i]]
                          : (w[i] >= 'a' && w[i] <= 'z' ? w[i] - 32 : w[i]));
    }
    if (len && (m & (SV_MOD_LOWERFIRST | SV_MOD_UPPERFIRST))) { /* 30 */
        char *w;

        to_scratch(r, &v, len);
        w = (char *)v;
        if (m & SV_MOD_LOWERFIRST)
            w[0] = (char)sv_fold[(unsigned char)w[0]];
        else if (w[0] >= 'a' && w[0] <= 'z')
            w[0] = (char)(w[0] - 32);
    }
    if (m & (SV_MOD_QUOTEWILD | SV_MOD_QUOTEREGEX)) {   /* precedence 20 */
        char *o = other_scratch(r, v);

        if (sv_charge(r, 1 + len / SV_SCAN_RATE))
            return -1;
        len = quote_chars(v, len, o, (m & SV_MOD_QUOTEWILD)
                                     ? "*?\\" : "\\^$.[]|()?*+{}");
        v = o;
    }
    if (m & SV_MOD_LENGTH) {                            /* precedence 10 */
        /* the length in characters, not octets */
        char *o = other_scratch(r, v);
        apr_size_t chars = 0;

        for (i = 0; i < len; i++)
            if (((unsigned char)v[i] & 0xC0) != 0x80)
                chars++;
        len = (apr_size_t)snprintf(o, SIEVE_MAX_VALUE, "%lu",
                                   (unsigned long)chars);
        v = o;
    }
    if (v >= r->arena && v < r->arena + SV_ARENA)
        to_scratch(r, &v, len);            /* compaction may move it */
    return store_var(r, c->line, c->var, v, len);
}

/* --------------------------------------------------------- commands */

/* Run a block: 0 at its end, 1 on stop, -1 on error or budget. */
static int exec_block(sv_run *r, const sv_block *b)
{
    unsigned i, j;
    int rc;

    for (i = 0; i < b->n; i++) {
        const sv_cmd *c = &b->cmds[i];

        if (sv_charge(r, 1))
            return -1;
        switch (c->kind) {
        case SV_C_IF:
            for (j = 0; j < c->nbranches; j++) {
                const sv_branch *br = &c->branches[j];

                rc = br->test ? sv_eval_test(r, br->test) : 1;
                if (rc < 0)
                    return rc;
                if (rc) {
                    rc = exec_block(r, &br->body);
                    if (rc)
                        return rc;
                    break;
                }
            }
            break;
        case SV_C_STOP:
            return 1;
        case SV_C_KEEP:
            /* RFC 5429 §2.1: reject and keep cannot both be done */
            if (r->reject)
                return sv_runtime_error(r, c->line,
                                     "keep is incompatible with reject");
            r->keep = 1;
            break;
        case SV_C_DISCARD:
            r->discard = 1;
            break;
        case SV_C_REJECT:
        case SV_C_EREJECT: {
            const char *v;
            apr_size_t len;

            /* RFC 5429 §2.1: at most one reject/ereject, and no keep */
            if (r->reject)
                return sv_runtime_error(r, c->line,
                                     "only one reject or ereject allowed");
            if (r->keep)
                return sv_runtime_error(r, c->line,
                                     "reject is incompatible with keep");
            if (sv_expand(r, &c->value, r->tmp[SV_TMP_NAME], &v, &len))
                return -1;
            len = sv_utf8_clip(v, len, sizeof(r->out->reject_text) - 1);
            memcpy(r->out->reject_text, v, len);
            r->out->reject_text[len] = '\0';
            r->reject = c->kind;
            break;
        }
        case SV_C_SET:
            if (do_set(r, c))
                return -1;
            break;
        }
    }
    return 0;
}

int sieve_run(const sieve_program *prog, const sieve_host *host, void *ctx,
              unsigned budget, sieve_result *out)
{
    sv_run r;
    unsigned i;
    int rc;

    if (prog == NULL) {
        memset(out, 0, sizeof(*out));
        out->implicit_keep = 1;
        out->runtime_error = 1;
        out->status = SIEVE_ERUNTIME;
        snprintf(out->error, sizeof(out->error), "no program");
        return SIEVE_ERUNTIME;
    }
    out->status = SIEVE_OK;
    out->reject_text[0] = '\0';
    out->error[0] = '\0';
    out->error_line = 0;
    r.prog = prog;
    r.host = host ? host : &no_host;
    r.ctx = ctx;
    r.out = out;
    r.budget = budget ? budget : SIEVE_DEFAULT_BUDGET;
    r.spent = 0;
    r.keep = r.discard = r.reject = 0;
    r.env_done = 0;
    r.nmatch = 0;
    r.arena_used = 0;
    for (i = 0; i < prog->nvars; i++)
        r.vars[i].off = r.vars[i].len = r.vars[i].cap = 0;
    r.gctx = NULL;
    r.mctx = NULL;
    r.md = NULL;
    r.pcre_used = 0;

    rc = exec_block(&r, &prog->top);

    if (r.md)
        pcre2_match_data_free(r.md);
    if (r.mctx)
        pcre2_match_context_free(r.mctx);
    if (r.gctx)
        pcre2_general_context_free(r.gctx);

    out->steps = (unsigned)r.spent;
    out->budget_exhausted = out->status == SIEVE_EBUDGET;
    out->runtime_error = out->status == SIEVE_ERUNTIME;
    out->explicit_keep = 0;
    if (rc < 0) {
        /* RFC 5228 §2.10.6: an error means implicit keep, nothing else */
        out->action = SIEVE_KEEP;
        out->implicit_keep = 1;
        out->reject_text[0] = '\0';
        return out->status;
    }
    out->implicit_keep = 0;
    if (r.reject) {
        out->action = r.reject == SV_C_EREJECT ? SIEVE_EREJECT : SIEVE_REJECT;
    }
    else if (r.keep) {
        out->action = SIEVE_KEEP;
        out->explicit_keep = 1;
    }
    else if (r.discard) {
        out->action = SIEVE_DISCARD;
    }
    else {
        out->action = SIEVE_KEEP;          /* RFC 5228 §2.10.2 */
        out->implicit_keep = 1;
    }
    return SIEVE_OK;
}
