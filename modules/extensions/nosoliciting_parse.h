/*
 * nosoliciting_parse.h -- the pure parts of mod_nosoliciting (RFC 3865):
 * lists of solicitation class keywords and matching them.  No session
 * types, so the CUnit suite (test/unit/test_nosoliciting.c) links this
 * file alone.
 *
 * The functions are hidden: modules are loaded RTLD_GLOBAL and these
 * names must not leak into other modules.
 */
#ifndef NOSOLICITING_PARSE_H
#define NOSOLICITING_PARSE_H

#include <apr.h>
#include <apr_pools.h>
#include <apr_tables.h>

#define NOSOL_HIDDEN __attribute__((visibility("hidden")))

/* Limits: keywords in one list, octets in one keyword. */
#define NOSOL_MAX_KEYWORDS 32
#define NOSOL_MAX_KEYWORD 128

/* Flags of nosoliciting_parse(). */
#define NOSOL_ALLOW_SPACE 0x01 /* SP/HTAB around commas (configuration) */

/**
 * Parse a comma-separated list of solicitation class keywords (RFC 3865
 * §2.2: solicitation-keywords = word *("," word), word = ALPHA
 * *(ALPHA / DIGIT / "." / "-" / "_" / ":"), e.g. "net.example:ADV").  The
 * SOLICIT parameter allows no space; a configured list may have spaces
 * around its commas (@flags NOSOL_ALLOW_SPACE).  Stores an array of
 * const char * (pool copies, as written) in *keywords; returns 0, or -1
 * with a reply text in *why.
 */
NOSOL_HIDDEN int nosoliciting_parse(apr_pool_t *p, const char *text,
                                    unsigned flags,
                                    apr_array_header_t **keywords,
                                    const char **why);

/**
 * The first keyword of @offered that is also in @refused, compared
 * without regard to ASCII case, or NULL when none is.
 */
NOSOL_HIDDEN const char *
nosoliciting_match(const apr_array_header_t *offered,
                   const apr_array_header_t *refused);

/** The keywords joined with "," (the EHLO parameter), a pool copy. */
NOSOL_HIDDEN const char *nosoliciting_join(apr_pool_t *p,
                                           const apr_array_header_t *kw);

#endif /* NOSOLICITING_PARSE_H */
