/*
 * sieve_string.c -- compiles Sieve strings into variable templates.
 *
 * With "variables" required (RFC 5229 §3), a string such as
 *     "Your domain '${env.helo_domain}' has been blacklisted."
 * is split once, at compile time, into parts: literal text, a user
 * variable (slot number), a match variable ${0}..${9}, or a host value
 * from the read-only "env" namespace.  Run time only concatenates parts.
 * Variable names are case-insensitive; "${" not followed by a valid name
 * and "}" is plain text; an unknown namespace is a compile error
 * (RFC 5229 §3: namespaces need their extension).  Without "variables"
 * every string is a constant.
 */
#include <string.h>
#include <strings.h>

#include <apr_strings.h>

#include "sieve_int.h"

int sv_valid_identifier(const char *s, apr_size_t len)
{
    apr_size_t i;

    if (len == 0 || len > SV_MAX_NAME)
        return 0;
    for (i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        int alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                    c == '_';

        if (!alpha && !(i > 0 && c >= '0' && c <= '9'))
            return 0;
    }
    return 1;
}

static char *lower_dup(apr_pool_t *p, const char *s, apr_size_t len)
{
    char *out = apr_palloc(p, len + 1);
    apr_size_t i;

    for (i = 0; i < len; i++)
        out[i] = (char)sv_fold[(unsigned char)s[i]];
    out[len] = '\0';
    return out;
}

/* Slot of a user variable, created on first use. */
int sv_variable_slot(sv_compiler *cc, const char *name, apr_size_t len,
                     int line, int col)
{
    int i;

    for (i = 0; i < cc->vars->nelts; i++) {
        const char *v = APR_ARRAY_IDX(cc->vars, i, const char *);

        if (strlen(v) == len && strncasecmp(v, name, len) == 0)
            return i;
    }
    if (cc->vars->nelts >= SIEVE_MAX_VARIABLES)
        sv_fail(cc->ec, line, col, "too many variables (limit %d)",
                SIEVE_MAX_VARIABLES);
    APR_ARRAY_PUSH(cc->vars, const char *) = lower_dup(cc->pool, name, len);
    return cc->vars->nelts - 1;
}

/* Slot of an ${env.NAME} value, cached per run. */
static int env_slot(sv_compiler *cc, const char *name, apr_size_t len,
                    int line, int col)
{
    int i;

    for (i = 0; i < cc->envs->nelts; i++) {
        const char *v = APR_ARRAY_IDX(cc->envs, i, const char *);

        if (strlen(v) == len && strncasecmp(v, name, len) == 0)
            return i;
    }
    if (cc->envs->nelts >= SV_MAX_ENV)
        sv_fail(cc->ec, line, col, "too many env names (limit %d)",
                SV_MAX_ENV);
    APR_ARRAY_PUSH(cc->envs, const char *) = lower_dup(cc->pool, name, len);
    return cc->envs->nelts - 1;
}

/* RFC 5229 §3: variable-name = num-variable / identifier *("." identifier)
 * Returns 1 when NAME is one (and says whether it is a number). */
static int valid_variable_name(const char *s, apr_size_t len, int *numeric)
{
    apr_size_t i, start = 0;

    if (len == 0)
        return 0;
    *numeric = 1;
    for (i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9') {
            *numeric = 0;
            break;
        }
    }
    if (*numeric)
        return 1;
    for (i = 0; i <= len; i++) {
        if (i == len || s[i] == '.') {
            if (!sv_valid_identifier(s + start, i - start))
                return 0;
            start = i + 1;
        }
    }
    return 1;
}

static void push_text(apr_array_header_t *parts, apr_pool_t *p,
                      const char *s, apr_size_t len)
{
    sv_part *part;

    if (len == 0)
        return;
    part = apr_array_push(parts);
    part->kind = SV_PART_TEXT;
    part->index = 0;
    part->text = apr_pstrmemdup(p, s, len);
    part->len = len;
}

void sv_compile_string(sv_compiler *cc, const sv_str *s, sv_string *out)
{
    apr_array_header_t *parts;
    apr_size_t i = 0, lit = 0;

    memset(out, 0, sizeof(*out));
    out->text = apr_pstrmemdup(cc->pool, s->text, s->len);
    out->len = s->len;
    if (!(cc->exts & SV_EXT_VARIABLES) || memchr(s->text, '$', s->len) == NULL)
        return;

    parts = apr_array_make(cc->tmp, 4, sizeof(sv_part));
    while (i + 1 < s->len) {
        apr_size_t j, nlen;
        const char *name;
        int numeric;
        sv_part ref;

        if (s->text[i] != '$' || s->text[i + 1] != '{') {
            i++;
            continue;
        }
        name = s->text + i + 2;
        for (j = i + 2; j < s->len && s->text[j] != '}'; j++)
            if (j - i - 2 > SV_MAX_NAME * 2)
                break;
        nlen = j - i - 2;
        if (j >= s->len || s->text[j] != '}' ||
            !valid_variable_name(name, nlen, &numeric)) {
            i++;
            continue;
        }

        memset(&ref, 0, sizeof(ref));
        if (numeric) {
            apr_size_t k;
            unsigned n = 0;

            for (k = 0; k < nlen && n < SV_MAX_MATCH; k++)
                n = n * 10 + (unsigned)(name[k] - '0');
            ref.kind = SV_PART_MATCH;
            ref.index = (unsigned short)(n < SV_MAX_MATCH ? n : SV_MAX_MATCH);
        }
        else {
            const char *dot = memchr(name, '.', nlen);

            if (dot == NULL) {
                ref.kind = SV_PART_VAR;
                ref.index = (unsigned short)sv_variable_slot(cc, name, nlen,
                                                             s->line, s->col);
            }
            else if (dot - name == 3 && strncasecmp(name, "env", 3) == 0) {
                ref.kind = SV_PART_ENV;
                ref.index = (unsigned short)env_slot(cc, dot + 1,
                                                     nlen - 4, s->line,
                                                     s->col);
            }
            else {
                sv_fail(cc->ec, s->line, s->col,
                        "unknown variable namespace '%.*s'",
                        (int)(dot - name), name);
            }
        }
        push_text(parts, cc->pool, s->text + lit, i - lit);
        /* ${10} and beyond are always empty: keep nothing for them */
        if (!(ref.kind == SV_PART_MATCH && ref.index >= SV_MAX_MATCH))
            *(sv_part *)apr_array_push(parts) = ref;
        i = j + 1;
        lit = i;
    }
    if (lit == 0)
        return;                            /* no reference: a constant */
    push_text(parts, cc->pool, s->text + lit, s->len - lit);
    for (i = 0; i < (apr_size_t)parts->nelts; i++)
        if (APR_ARRAY_IDX(parts, i, sv_part).kind != SV_PART_TEXT)
            break;
    if (i == (apr_size_t)parts->nelts) {
        /* only ${10}-like references, which are always empty */
        char *text = apr_palloc(cc->pool, s->len + 1);
        apr_size_t n = 0;

        for (i = 0; i < (apr_size_t)parts->nelts; i++) {
            const sv_part *pt = &APR_ARRAY_IDX(parts, i, sv_part);

            memcpy(text + n, pt->text, pt->len);
            n += pt->len;
        }
        text[n] = '\0';
        out->text = text;
        out->len = n;
        return;
    }
    out->parts = apr_pmemdup(cc->pool, parts->elts,
                             sizeof(sv_part) * parts->nelts);
    out->nparts = parts->nelts;
}

void sv_compile_strlist(sv_compiler *cc, const sv_arg *a, sv_strlist *out)
{
    sv_string *items = apr_pcalloc(cc->pool,
                                   sizeof(sv_string) * (a->nstrings + 1));
    int i;

    for (i = 0; i < a->nstrings; i++)
        sv_compile_string(cc, &a->strings[i], &items[i]);
    out->items = items;
    out->n = (unsigned)a->nstrings;
}
