/*
 * nosoliciting_parse.c -- solicitation class keyword lists (RFC 3865
 * §2.2), pure functions of their text.
 *
 *     nosoliciting_parse(p, "net.example:ADV,org.example:BULK", 0,
 *                        &kw, &why)                  2 keywords
 *     nosoliciting_match(offered, refused)           "net.example:ADV"
 */
#include <string.h>
#include <strings.h>
#include <apr_strings.h>

#include "nosoliciting_parse.h"

#define IS_ALPHA(c) ((((c) | 0x20) >= 'a') && (((c) | 0x20) <= 'z'))
#define IS_DIGIT(c) ((c) >= '0' && (c) <= '9')
#define IS_WORD(c)                                                           \
    (IS_ALPHA(c) || IS_DIGIT(c) || (c) == '.' || (c) == '-' ||             \
     (c) == '_' || (c) == ':')
#define IS_SPACE(c) ((c) == ' ' || (c) == '\t')

NOSOL_HIDDEN int nosoliciting_parse(apr_pool_t *p, const char *text,
                                    unsigned flags,
                                    apr_array_header_t **keywords,
                                    const char **why)
{
    apr_array_header_t *list;
    const char *s = text, *start;
    int allow_space = (flags & NOSOL_ALLOW_SPACE) != 0;

    if (text == NULL || *text == '\0') {
        *why = "Empty solicitation keyword list";
        return -1;
    }
    list = apr_array_make(p, 4, sizeof(const char *));
    for (;;) {
        while (allow_space && IS_SPACE(*s)) {
            s++;
        }
        /* word = ALPHA *(ALPHA / DIGIT / "." / "-" / "_" / ":") */
        start = s;
        if (!IS_ALPHA(*s)) {
            *why = *s == ',' || *s == '\0'
                       ? "Empty solicitation keyword"
                       : "Solicitation keyword must start with a letter";
            return -1;
        }
        while (IS_WORD(*s)) {
            s++;
        }
        if (s - start > NOSOL_MAX_KEYWORD) {
            *why = "Solicitation keyword too long";
            return -1;
        }
        if (list->nelts >= NOSOL_MAX_KEYWORDS) {
            *why = "Too many solicitation keywords";
            return -1;
        }
        APR_ARRAY_PUSH(list, const char *) =
            apr_pstrmemdup(p, start, s - start);
        while (allow_space && IS_SPACE(*s)) {
            s++;
        }
        if (*s == '\0') {
            break;
        }
        if (*s != ',') {
            *why = "Invalid character in solicitation keyword";
            return -1;
        }
        s++;
    }
    *keywords = list;
    return 0;
}

NOSOL_HIDDEN const char *
nosoliciting_match(const apr_array_header_t *offered,
                   const apr_array_header_t *refused)
{
    int i, j;

    if (offered == NULL || refused == NULL) {
        return NULL;
    }
    /* both lists hold at most NOSOL_MAX_KEYWORDS: at most 32 x 32 */
    for (i = 0; i < offered->nelts; i++) {
        const char *o = APR_ARRAY_IDX(offered, i, const char *);
        for (j = 0; j < refused->nelts; j++) {
            if (strcasecmp(o, APR_ARRAY_IDX(refused, j, const char *)) ==
                0) {
                return o;
            }
        }
    }
    return NULL;
}

NOSOL_HIDDEN const char *nosoliciting_join(apr_pool_t *p,
                                           const apr_array_header_t *kw)
{
    return apr_array_pstrcat(p, kw, ',');
}
