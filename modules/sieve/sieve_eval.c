/*
 * sieve_eval.c -- evaluates Sieve tests during a run.
 *
 * A match test (header, address, envelope, string, environment) produces
 * a stream of values -- header instances, the addresses in them, envelope
 * paths, expanded strings -- and offers each to the keys under the test's
 * comparator and match type; :count counts the values instead and
 * compares the number (RFC 5231 §4.2).  Successful :matches and :regex
 * tests set the match variables (RFC 5229 §3.2).  Host callbacks, value
 * comparisons, glob steps and scanned octets are charged to the budget;
 * PCRE2 gets a match limit from what is left.  Constant regexes were
 * compiled at load; others are compiled here and freed at once.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sieve_int.h"

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

/* PCRE2's allocator during a run: small blocks (contexts, match data)
 * come from the run's own buffer, anything bigger from malloc. */
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

        if (sv_charge(r, 1 + klen / 16))
            return -1;
        re = pcre2_compile((PCRE2_SPTR)key, klen,
                           t->comparator == SV_CMP_CASEMAP ? PCRE2_CASELESS
                                                           : 0,
                           &code, &off, NULL);
        if (re == NULL) {
            pcre2_get_error_message(code, msg, sizeof(msg));
            return sv_runtime_error(r, t->line,
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
            return sv_runtime_error(r, t->line, "out of memory");
        }
        pcre2_set_depth_limit(r->mctx, 10000);
        pcre2_set_heap_limit(r->mctx, 1024);          /* KiB */
    }
    if (sv_charge(r, 1 + vlen / SV_SCAN_RATE)) {
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
        return sv_exhausted(r);
    if (rc < 0)
        return sv_runtime_error(r, t->line, "regular expression failed (%d)",
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
        return sv_charge(r, work / SV_SCAN_RATE) ? -1 : rc;
    case SV_MATCH_MATCHES: {
        sv_span caps[SV_MAX_MATCH];
        unsigned ncaps = 0;

        rc = sv_glob(t->comparator, key, klen, v, vlen, caps + 1, &ncaps,
                     r->budget * SV_GLOB_RATE + SV_GLOB_RATE, &work);
        if (rc < 0 || sv_charge(r, work / SV_GLOB_RATE))
            return sv_exhausted(r);
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
            return sv_runtime_error(r, t->line, "list \"%s\" is not available",
                                 key);
        if (v[vlen] != '\0' || vlen > SIEVE_MAX_VALUE) {
            vlen = sv_utf8_clip(v, vlen, SIEVE_MAX_VALUE);
            memmove(r->tmp[SV_TMP_VAL], v, vlen);
            r->tmp[SV_TMP_VAL][vlen] = '\0';
            v = r->tmp[SV_TMP_VAL];
        }
        rc = r->host->list_contains(r->ctx, key, v, vlen,
                                    t->comparator != SV_CMP_OCTET);
        if (rc < 0)
            return sv_runtime_error(r, t->line, "list \"%s\" is not available",
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
            sv_expand(r, &t->keys.items[k], r->tmp[SV_TMP_KEY], &key, &klen))
            return -1;
        if (sv_charge(r, 1))
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

        if (sv_expand(r, &t->keys.items[k], r->tmp[SV_TMP_KEY], &key, &klen) ||
            sv_charge(r, 1))
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
    while (sv_addr_next(&it, r->tmp[SV_TMP_VAL], SIEVE_MAX_VALUE + 1, &alen,
                        &at)) {
        if (sv_charge(r, 1))
            return -1;
        sv_addr_part(m->t->addrpart, r->tmp[SV_TMP_VAL], alen, at, &part,
                     &plen);
        if (m->t->match == SV_MATCH_LIST && part[plen] != '\0') {
            memmove(r->tmp[SV_TMP_VAL], part, plen);   /* NUL-terminate it */
            r->tmp[SV_TMP_VAL][plen] = '\0';
            part = r->tmp[SV_TMP_VAL];
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
        if (sv_expand(r, &t->keys.items[0], r->tmp[SV_TMP_KEY], &m.key,
                      &m.klen))
            return -1;
        m.have_key = 1;
    }
    for (i = 0; i < t->names.n; i++) {
        const char *name, *v;
        apr_size_t nlen, vlen;

        if (sv_expand(r, &t->names.items[i], r->tmp[SV_TMP_NAME], &name, &nlen))
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
            if (sv_charge(r, 1))
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
            if (sv_charge(r, 1))
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

int sv_eval_test(sv_run *r, const sv_test *t)
{
    const sieve_host *h = r->host;
    unsigned i;
    int rc;

    if (sv_charge(r, 1))
        return -1;
    switch (t->kind) {
    case SV_T_TRUE:
        return 1;
    case SV_T_FALSE:
        return 0;
    case SV_T_NOT:
        rc = sv_eval_test(r, &t->children[0]);
        return rc < 0 ? rc : !rc;
    case SV_T_ANYOF:
    case SV_T_ALLOF:
        /* RFC 5228 §5.2, §5.3: evaluated left to right, stopping early */
        for (i = 0; i < t->nchildren; i++) {
            rc = sv_eval_test(r, &t->children[i]);
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

            if (sv_expand(r, &t->names.items[i], r->tmp[SV_TMP_NAME], &name,
                          &nlen)
                || sv_charge(r, 1))
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
