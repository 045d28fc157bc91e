/*
 * sieve_exec.c -- runs a compiled Sieve program (sieve_run).
 *
 * A run walks the immutable program tree with all of its state in one
 * struct on the caller's stack: user variables in a fixed arena (values
 * up to SIEVE_MAX_VALUE octets, compacted when it fills up), match
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

#define SV_ARENA      (64 * 1024)  /* octets for all variable values */
#define SV_PCRE_MEM   4096         /* PCRE2 contexts and match data */
#define SV_GLOB_RATE  16           /* glob steps per budget unit */
#define SV_SCAN_RATE  256          /* octets compared per budget unit */

enum { T_NAME, T_VAL, T_KEY, T_COUNT };   /* scratch buffers */

typedef struct sv_slot {
    apr_uint32_t off, len, cap;
} sv_slot;

typedef struct sv_run {
    const sieve_program *prog;
    const sieve_host *host;
    void *ctx;
    sieve_result *out;
    unsigned long budget;        /* remaining */
    unsigned long spent;
    int keep, discard, reject;   /* actions so far */

    apr_uint64_t env_done;       /* ${env.*} cache */
    const char *env_val[SV_MAX_ENV];
    apr_size_t env_len[SV_MAX_ENV];

    unsigned nmatch;             /* match variables */
    sv_span match[SV_MAX_MATCH];
    char match_buf[SIEVE_MAX_VALUE + 1];

    sv_slot vars[SIEVE_MAX_VARIABLES];
    apr_size_t arena_used;
    char arena[SV_ARENA];

    char tmp[T_COUNT][SIEVE_MAX_VALUE + 2];

    pcre2_general_context *gctx;
    pcre2_match_context *mctx;
    pcre2_match_data *md;
    apr_size_t pcre_used;
    union {
        char bytes[SV_PCRE_MEM];
        double align;
        void *palign;
    } pcre_mem;
} sv_run;

static const sieve_host no_host;

/* ------------------------------------------------- budget and errors */

static int exhausted(sv_run *r)
{
    r->spent += r->budget;
    r->budget = 0;
    r->out->status = SIEVE_EBUDGET;
    return -1;
}

/* Spend N units; -1 (and SIEVE_EBUDGET) when there are not enough. */
static int charge(sv_run *r, unsigned long n)
{
    if (n > r->budget)
        return exhausted(r);
    r->budget -= n;
    r->spent += n;
    return 0;
}

static int runtime_error(sv_run *r, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int runtime_error(sv_run *r, int line, const char *fmt, ...)
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
static int expand(sv_run *r, const sv_string *s, char *buf,
                  const char **out, apr_size_t *len)
{
    apr_size_t n = 0;
    unsigned i;

    if (s->nparts == 0) {
        *out = s->text;
        *len = s->len;
        return 0;
    }
    if (charge(r, 1 + s->nparts))
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

/* Make sure *V is in a scratch buffer that may be written (T_VAL or
 * T_NAME), copying it into T_VAL otherwise. */
static void to_scratch(sv_run *r, const char **v, apr_size_t len)
{
    if (*v == r->tmp[T_VAL] || *v == r->tmp[T_NAME])
        return;
    memmove(r->tmp[T_VAL], *v, len);
    r->tmp[T_VAL][len] = '\0';
    *v = r->tmp[T_VAL];
}

/* The scratch buffer that V is not in. */
static char *other_scratch(sv_run *r, const char *v)
{
    return v == r->tmp[T_VAL] ? r->tmp[T_NAME] : r->tmp[T_VAL];
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
                return runtime_error(r, line,
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

    if (expand(r, &c->value, r->tmp[T_NAME], &v, &len))
        return -1;
    if (m & (SV_MOD_LOWER | SV_MOD_UPPER)) {          /* precedence 40 */
        char *w;

        to_scratch(r, &v, len);
        w = (char *)v;
        if (charge(r, 1 + len / SV_SCAN_RATE))
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

        if (charge(r, 1 + len / SV_SCAN_RATE))
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

/* --------------------------------------------------------- matching */

/* Record the match variables of a successful :matches or :regex. */
static void set_match_vars(sv_run *r, const char *subject, apr_size_t len,
                           const sv_span *spans, unsigned n)
{
    unsigned i;

    len = sv_utf8_clip(subject, len, SIEVE_MAX_VALUE);
    memmove(r->match_buf, subject, len);
    r->match_buf[len] = '\0';
    for (i = 0; i < n && i < SV_MAX_MATCH; i++) {
        apr_size_t off = spans[i].off, l = spans[i].len;

        if (off > len)
            off = len;
        if (l > len - off)
            l = len - off;
        r->match[i].off = off;
        r->match[i].len = l;
    }
    r->nmatch = n;
}

static void *pcre_alloc(PCRE2_SIZE size, void *data)
{
    sv_run *r = data;
    apr_size_t need = (size + 15) & ~(apr_size_t)15;

    if (need <= SV_PCRE_MEM - r->pcre_used) {
        void *p = r->pcre_mem.bytes + r->pcre_used;

        r->pcre_used += need;
        return p;
    }
    return malloc(size);
}

static void pcre_free(void *ptr, void *data)
{
    sv_run *r = data;
    apr_uintptr_t p = (apr_uintptr_t)ptr;
    apr_uintptr_t base = (apr_uintptr_t)r->pcre_mem.bytes;

    if (p >= base && p < base + SV_PCRE_MEM)
        return;
    free(ptr);
}

/* :regex (draft-ietf-sieve-regex), with ${0} the matched text and ${N}
 * its groups. */
static int regex_match(sv_run *r, const sv_test *t, unsigned k,
                       const char *v, apr_size_t vlen, const char *key,
                       apr_size_t klen)
{
    pcre2_code *re = t->regex[k];
    int own = 0, rc, i;
    sv_span spans[SV_MAX_MATCH];
    PCRE2_SIZE *ov;
    unsigned long limit;

    if (re == NULL) {
        PCRE2_UCHAR msg[160];
        PCRE2_SIZE off;
        int code;

        if (charge(r, 1 + klen / 16))
            return -1;
        re = pcre2_compile((PCRE2_SPTR)key, klen,
                           t->comparator == SV_CMP_CASEMAP ? PCRE2_CASELESS
                                                           : 0,
                           &code, &off, NULL);
        if (re == NULL) {
            pcre2_get_error_message(code, msg, sizeof(msg));
            return runtime_error(r, t->line,
                                 "invalid regular expression: %s",
                                 (char *)msg);
        }
        own = 1;
    }
    if (r->md == NULL) {
        r->gctx = pcre2_general_context_create(pcre_alloc, pcre_free, r);
        r->mctx = r->gctx ? pcre2_match_context_create(r->gctx) : NULL;
        r->md = r->mctx ? pcre2_match_data_create(SV_MAX_MATCH, r->gctx)
                        : NULL;
        if (r->md == NULL) {
            if (own)
                pcre2_code_free(re);
            return runtime_error(r, t->line, "out of memory");
        }
        pcre2_set_depth_limit(r->mctx, 10000);
        pcre2_set_heap_limit(r->mctx, 1024);          /* KiB */
    }
    if (charge(r, 1 + vlen / SV_SCAN_RATE)) {
        if (own)
            pcre2_code_free(re);
        return -1;
    }
    limit = r->budget > 100000 ? 10000000 : r->budget * 100 + 1;
    pcre2_set_match_limit(r->mctx, (uint32_t)limit);
    rc = pcre2_match(re, (PCRE2_SPTR)v, vlen, 0, 0, r->md, r->mctx);
    if (own)
        pcre2_code_free(re);
    if (rc == PCRE2_ERROR_NOMATCH)
        return 0;
    if (rc == PCRE2_ERROR_MATCHLIMIT || rc == PCRE2_ERROR_DEPTHLIMIT ||
        rc == PCRE2_ERROR_HEAPLIMIT || rc == PCRE2_ERROR_JIT_STACKLIMIT)
        return exhausted(r);
    if (rc < 0)
        return runtime_error(r, t->line, "regular expression failed (%d)",
                             rc);
    if (rc == 0)
        rc = SV_MAX_MATCH;                 /* more groups than we keep */
    ov = pcre2_get_ovector_pointer(r->md);
    for (i = 0; i < rc; i++) {
        if (ov[2 * i] == PCRE2_UNSET || ov[2 * i + 1] < ov[2 * i]) {
            spans[i].off = spans[i].len = 0;
        }
        else {
            spans[i].off = ov[2 * i];
            spans[i].len = ov[2 * i + 1] - ov[2 * i];
        }
    }
    set_match_vars(r, v, vlen, spans, (unsigned)rc);
    return 1;
}

/* Compare one value with one key under the test's match type. */
static int match_one(sv_run *r, const sv_test *t, unsigned k,
                     const char *v, apr_size_t vlen, const char *key,
                     apr_size_t klen)
{
    unsigned long work = 0;
    int rc;

    switch (t->match) {
    case SV_MATCH_IS:
        return sv_compare_equal(t->comparator, v, vlen, key, klen);
    case SV_MATCH_VALUE:
        return sv_relation_holds(t->relop, sv_compare_order(t->comparator,
                                                            v, vlen, key,
                                                            klen));
    case SV_MATCH_CONTAINS:
        rc = sv_contains(t->comparator, v, vlen, key, klen, &work);
        return charge(r, work / SV_SCAN_RATE) ? -1 : rc;
    case SV_MATCH_MATCHES: {
        sv_span caps[SV_MAX_MATCH];
        unsigned ncaps = 0;

        rc = sv_glob(t->comparator, key, klen, v, vlen, caps + 1, &ncaps,
                     r->budget * SV_GLOB_RATE + SV_GLOB_RATE, &work);
        if (rc < 0 || charge(r, work / SV_GLOB_RATE))
            return exhausted(r);
        if (rc == 1) {
            /* RFC 5229 §3.2: ${0} is the whole value, ${N} the N-th
             * wildcard */
            caps[0].off = 0;
            caps[0].len = vlen;
            set_match_vars(r, v, vlen, caps, ncaps + 1);
        }
        return rc;
    }
    case SV_MATCH_REGEX:
        return regex_match(r, t, k, v, vlen, key, klen);
    case SV_MATCH_LIST:
        if (r->host->list_contains == NULL)
            return runtime_error(r, t->line, "list \"%s\" is not available",
                                 key);
        if (v[vlen] != '\0' || vlen > SIEVE_MAX_VALUE) {
            vlen = sv_utf8_clip(v, vlen, SIEVE_MAX_VALUE);
            memmove(r->tmp[T_VAL], v, vlen);
            r->tmp[T_VAL][vlen] = '\0';
            v = r->tmp[T_VAL];
        }
        rc = r->host->list_contains(r->ctx, key, v, vlen,
                                    t->comparator != SV_CMP_OCTET);
        if (rc < 0)
            return runtime_error(r, t->line, "list \"%s\" is not available",
                                 key);
        return rc > 0;
    }
    return 0;
}

typedef struct sv_matcher {
    const sv_test *t;
    unsigned long count;         /* :count */
    const char *key;             /* the single key, expanded once */
    apr_size_t klen;
    int have_key;
} sv_matcher;

/* Offer one value of the test to the keys: 1 matched, 0 not, -1 abort. */
static int offer(sv_run *r, sv_matcher *m, const char *v, apr_size_t vlen)
{
    const sv_test *t = m->t;
    unsigned k;
    int rc;

    if (t->match == SV_MATCH_COUNT) {
        m->count++;
        return 0;
    }
    for (k = 0; k < t->keys.n; k++) {
        const char *key = m->key;
        apr_size_t klen = m->klen;

        if (!m->have_key &&
            expand(r, &t->keys.items[k], r->tmp[T_KEY], &key, &klen))
            return -1;
        if (charge(r, 1))
            return -1;
        rc = match_one(r, t, k, v, vlen, key, klen);
        if (rc)
            return rc;
    }
    return 0;
}

/* RFC 5231 §4.2: compare the number of values with the keys. */
static int count_compare(sv_run *r, sv_matcher *m)
{
    const sv_test *t = m->t;
    char num[32];
    apr_size_t nlen;
    unsigned k;

    nlen = (apr_size_t)snprintf(num, sizeof(num), "%lu", m->count);
    for (k = 0; k < t->keys.n; k++) {
        const char *key;
        apr_size_t klen;

        if (expand(r, &t->keys.items[k], r->tmp[T_KEY], &key, &klen) ||
            charge(r, 1))
            return -1;
        if (sv_relation_holds(t->relop, sv_compare_order(t->comparator, num,
                                                         nlen, key, klen)))
            return 1;
    }
    return 0;
}

/* Strip the white space around a header value (RFC 5322 §2.2.3). */
static void trim(const char **v, apr_size_t *len)
{
    while (*len && (**v == ' ' || **v == '\t' || **v == '\r' || **v == '\n')) {
        (*v)++;
        (*len)--;
    }
    while (*len && ((*v)[*len - 1] == ' ' || (*v)[*len - 1] == '\t' ||
                    (*v)[*len - 1] == '\r' || (*v)[*len - 1] == '\n'))
        (*len)--;
}

/* Offer each address of one header value or envelope path. */
static int offer_addresses(sv_run *r, sv_matcher *m, const char *v,
                           apr_size_t vlen, int envelope)
{
    sv_addr_iter it;
    apr_size_t alen, at;
    const char *part;
    apr_size_t plen;
    int rc;

    if (envelope) {
        /* RFC 5228 §5.4: the null reverse-path matches "" whatever the
         * address part; it is no address to count */
        trim(&v, &vlen);
        if (vlen >= 2 && v[0] == '<' && v[vlen - 1] == '>') {
            v++;
            vlen -= 2;
        }
        if (vlen == 0)
            return m->t->match == SV_MATCH_COUNT ? 0 : offer(r, m, "", 0);
    }
    memset(&it, 0, sizeof(it));
    it.s = v;
    it.len = vlen;
    while (sv_addr_next(&it, r->tmp[T_VAL], SIEVE_MAX_VALUE + 1, &alen,
                        &at)) {
        if (charge(r, 1))
            return -1;
        sv_addr_part(m->t->addrpart, r->tmp[T_VAL], alen, at, &part, &plen);
        if (m->t->match == SV_MATCH_LIST && part[plen] != '\0') {
            memmove(r->tmp[T_VAL], part, plen);   /* NUL-terminate it */
            r->tmp[T_VAL][plen] = '\0';
            part = r->tmp[T_VAL];
        }
        rc = offer(r, m, part, plen);
        if (rc)
            return rc;
    }
    return 0;
}

/* header, address, envelope, string and environment. */
static int match_test(sv_run *r, const sv_test *t)
{
    const sieve_host *h = r->host;
    sv_matcher m;
    unsigned i, idx;
    int rc;

    memset(&m, 0, sizeof(m));
    m.t = t;
    if (t->keys.n == 1 && t->match != SV_MATCH_COUNT) {
        if (expand(r, &t->keys.items[0], r->tmp[T_KEY], &m.key, &m.klen))
            return -1;
        m.have_key = 1;
    }
    for (i = 0; i < t->names.n; i++) {
        const char *name, *v;
        apr_size_t nlen, vlen;

        if (expand(r, &t->names.items[i], r->tmp[T_NAME], &name, &nlen))
            return -1;
        switch (t->kind) {
        case SV_T_STRING:
            /* RFC 5229 §5: :count counts the non-empty strings */
            if (t->match == SV_MATCH_COUNT) {
                m.count += nlen > 0;
                continue;
            }
            rc = offer(r, &m, name, nlen);
            if (rc)
                return rc;
            continue;
        case SV_T_ENVIRONMENT:
            if (charge(r, 1))
                return -1;
            v = h->env ? h->env(r->ctx, name) : NULL;
            if (v && (rc = offer(r, &m, v, strlen(v))) != 0)
                return rc;
            continue;
        case SV_T_ADDRESS:
            if (!sv_is_address_header(name, nlen))
                continue;
            break;
        default:
            break;
        }
        for (idx = 0;; idx++) {
            if (charge(r, 1))
                return -1;
            if (t->kind == SV_T_ENVELOPE) {
                char part[8];
                apr_size_t k;

                if (nlen >= sizeof(part) || h->envelope == NULL)
                    break;
                for (k = 0; k <= nlen; k++)
                    part[k] = (char)sv_fold[(unsigned char)name[k]];
                v = h->envelope(r->ctx, part, idx);
            }
            else {
                v = h->header ? h->header(r->ctx, name, idx) : NULL;
            }
            if (v == NULL)
                break;
            vlen = strlen(v);
            if (t->kind == SV_T_HEADER) {
                trim(&v, &vlen);
                rc = offer(r, &m, v, vlen);
            }
            else {
                rc = offer_addresses(r, &m, v, vlen,
                                     t->kind == SV_T_ENVELOPE);
            }
            if (rc)
                return rc;
        }
    }
    return t->match == SV_MATCH_COUNT ? count_compare(r, &m) : 0;
}

static int eval_test(sv_run *r, const sv_test *t)
{
    const sieve_host *h = r->host;
    unsigned i;
    int rc;

    if (charge(r, 1))
        return -1;
    switch (t->kind) {
    case SV_T_TRUE:
        return 1;
    case SV_T_FALSE:
        return 0;
    case SV_T_NOT:
        rc = eval_test(r, &t->children[0]);
        return rc < 0 ? rc : !rc;
    case SV_T_ANYOF:
    case SV_T_ALLOF:
        /* RFC 5228 §5.2, §5.3: evaluated left to right, stopping early */
        for (i = 0; i < t->nchildren; i++) {
            rc = eval_test(r, &t->children[i]);
            if (rc < 0)
                return rc;
            if ((t->kind == SV_T_ANYOF) == (rc == 1))
                return rc;
        }
        return t->kind == SV_T_ALLOF;
    case SV_T_SIZE: {
        apr_off_t size = h->size ? h->size(r->ctx) : -1;

        /* RFC 5228 §5.9: :over is strictly greater, :under strictly less */
        if (size < 0)
            return 0;
        return t->over ? size > t->limit : size < t->limit;
    }
    case SV_T_EXISTS:
    case SV_T_VALID_LIST:
        for (i = 0; i < t->names.n; i++) {
            const char *name;
            apr_size_t nlen;

            if (expand(r, &t->names.items[i], r->tmp[T_NAME], &name, &nlen)
                || charge(r, 1))
                return -1;
            if (t->kind == SV_T_EXISTS
                ? (h->header == NULL || h->header(r->ctx, name, 0) == NULL)
                : (h->list_exists == NULL ||
                   h->list_exists(r->ctx, name) <= 0))
                return 0;
        }
        return 1;
    default:
        return match_test(r, t);
    }
}

/* --------------------------------------------------------- commands */

/* Run a block: 0 at its end, 1 on stop, -1 on error or budget. */
static int exec_block(sv_run *r, const sv_block *b)
{
    unsigned i, j;
    int rc;

    for (i = 0; i < b->n; i++) {
        const sv_cmd *c = &b->cmds[i];

        if (charge(r, 1))
            return -1;
        switch (c->kind) {
        case SV_C_IF:
            for (j = 0; j < c->nbranches; j++) {
                const sv_branch *br = &c->branches[j];

                rc = br->test ? eval_test(r, br->test) : 1;
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
                return runtime_error(r, c->line,
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
                return runtime_error(r, c->line,
                                     "only one reject or ereject allowed");
            if (r->keep)
                return runtime_error(r, c->line,
                                     "reject is incompatible with keep");
            if (expand(r, &c->value, r->tmp[T_NAME], &v, &len))
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
