/*
 * sieve.h -- Herald's Sieve engine: compile a script once, run it often.
 *
 * A self-contained library (APR + PCRE2 only, no Herald session types) so
 * it can be tested and fuzzed alone.  mod_sieve uses it like this:
 *
 *   at config load, once per [sieve.scripts] entry and stage:
 *       sieve_error err;
 *       sieve_program *prog = sieve_compile(conf_pool, "ehlo", text,
 *                                           strlen(text), SIEVE_STAGE_EHLO,
 *                                           &err);
 *       if (prog == NULL)
 *           report "ehlo:%d:%d: %s", err.line, err.column, err.message;
 *
 *   at each SMTP stage, from any worker thread (the program is immutable
 *   and shared read-only):
 *       sieve_result res;
 *       sieve_run(prog, &host_callbacks, session, 0, &res);
 *       if (res.action == SIEVE_REJECT) reply with res.reject_text ...
 *
 * Language: RFC 5228 (core), RFC 5229 (variables, with the read-only
 * "env" namespace ${env.NAME} supplied by the host), RFC 6134 (extlists:
 * the :list match type), RFC 5231 (relational), RFC 5429 (reject,
 * ereject), RFC 5183 (environment), draft-ietf-sieve-regex (:regex, via
 * PCRE2), comparators i;octet, i;ascii-casemap and i;ascii-numeric.
 *
 * Limits (hostile scripts and hostile mail cannot exhaust the host):
 * script size SIEVE_MAX_SCRIPT, nesting depth SIEVE_MAX_DEPTH, strings per
 * list SIEVE_MAX_LIST, distinct variables SIEVE_MAX_VARIABLES, a value or
 * an expanded string SIEVE_MAX_VALUE octets (longer ones are truncated on
 * a UTF-8 boundary, as RFC 5229 §4 allows), and an instruction budget per
 * run.  sieve_run() writes nothing shared and does not touch the heap in
 * the common case: its state (about 90 KiB, mostly the variable arena)
 * lives on the caller's stack, so threads that run scripts need a stack
 * of at least 256 KiB (PCRE2's JIT takes 32 KiB more for :regex).
 */
#ifndef SIEVE_H
#define SIEVE_H

#include <apr_pools.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Limits. */
#define SIEVE_MAX_SCRIPT    (1024 * 1024) /* octets of script text */
#define SIEVE_MAX_DEPTH     64    /* nested blocks and tests together */
#define SIEVE_MAX_LIST      1024  /* strings in one string list */
#define SIEVE_MAX_VARIABLES 128   /* distinct variable names */
#define SIEVE_MAX_VALUE     4096  /* octets of a variable or an expansion */
#define SIEVE_DEFAULT_BUDGET 100000 /* used when sieve_run's budget is 0 */

/*
 * Stage masks for sieve_compile(): which tests the host can answer at the
 * stage the script runs in.  A script that uses a test outside the mask
 * fails to compile ("header test is not available at this stage").
 * Tests not listed here (string, environment, true, ...) are always
 * available.
 */
#define SIEVE_ALLOW_HEADERS  0x01u  /* header, address, exists */
#define SIEVE_ALLOW_ENVELOPE 0x02u  /* envelope */
#define SIEVE_ALLOW_SIZE     0x04u  /* size */
#define SIEVE_ALLOW_ALL      0x07u

#define SIEVE_STAGE_CONNECT  0u
#define SIEVE_STAGE_EHLO     0u
#define SIEVE_STAGE_MAIL     SIEVE_ALLOW_ENVELOPE
#define SIEVE_STAGE_RCPT     SIEVE_ALLOW_ENVELOPE
#define SIEVE_STAGE_DATA     SIEVE_ALLOW_ALL

/* A compiled script; immutable, lives as long as the compile pool. */
typedef struct sieve_program sieve_program;

/* Where and why a compilation failed (line and column are 1-based). */
typedef struct sieve_error {
    int line;
    int column;
    char message[256];
} sieve_error;

/*
 * The host's answers.  Every callback may be NULL (the data is then
 * "not available").  Strings returned must be NUL-terminated and stay
 * valid until sieve_run() returns.  Callbacks are called from the thread
 * that called sieve_run(), with its ctx.
 */
typedef struct sieve_host {
    /* Value of host variable NAME, for ${env.NAME} (NAME lower-cased) and
     * the environment test (NAME as written): "helo_domain", "remote_ip",
     * "listener", "authenticated_as", "tls", ...  NULL when unknown. */
    const char *(*env)(void *ctx, const char *name);

    /* extlists (RFC 6134): does LIST (as written in the script, e.g.
     * "list/blocked-domains") hold VALUE (NUL-terminated, LEN octets)?
     * CASEFOLD is 1 for i;ascii-casemap, 0 for i;octet.
     * Return 1 yes, 0 no, -1 no such list (a run-time error). */
    int (*list_contains)(void *ctx, const char *list, const char *value,
                         apr_size_t len, int casefold);

    /* valid_ext_list test: 1 when LIST exists, else 0. */
    int (*list_exists)(void *ctx, const char *list);

    /* The INDEX-th (0-based) address of envelope PART ("from" or "to"),
     * without angle brackets; "" for the null reverse-path; NULL past the
     * last one. */
    const char *(*envelope)(void *ctx, const char *part, unsigned index);

    /* The INDEX-th (0-based) instance of header field NAME (compared
     * case-insensitively), unfolded and decoded; NULL past the last. */
    const char *(*header)(void *ctx, const char *name, unsigned index);

    /* Message size in octets, or -1 when not known yet. */
    apr_off_t (*size)(void *ctx);
} sieve_host;

/* The outcome the host must enforce. */
typedef enum {
    SIEVE_KEEP = 0,  /* accept: explicit keep or implicit keep */
    SIEVE_DISCARD,   /* accept and silently drop */
    SIEVE_REJECT,    /* refuse; reject_text holds the reason */
    SIEVE_EREJECT    /* refuse at protocol level; reject_text holds it */
} sieve_action;

/* sieve_run() return codes (also in sieve_result.status). */
#define SIEVE_OK            0
#define SIEVE_EBUDGET       1   /* instruction budget exhausted */
#define SIEVE_ERUNTIME      2   /* run-time error, see error[] */

typedef struct sieve_result {
    sieve_action action;
    int status;              /* SIEVE_OK, SIEVE_EBUDGET or SIEVE_ERUNTIME */
    int implicit_keep;       /* 1 when no action cancelled implicit keep */
    int explicit_keep;       /* 1 when "keep" ran */
    int budget_exhausted;    /* 1 when status == SIEVE_EBUDGET */
    int runtime_error;       /* 1 when status == SIEVE_ERUNTIME */
    unsigned steps;          /* instructions spent */
    int error_line;          /* where the run-time error happened */
    char reject_text[1024];  /* reason of reject/ereject */
    char error[256];         /* run-time error message */
} sieve_result;

/*
 * Compile TEXT (LEN octets) named NAME for a stage whose available tests
 * are ALLOW_FLAGS (SIEVE_ALLOW_*).  Returns the program, allocated in a
 * subpool of P, or NULL with ERR filled in.
 */
sieve_program *sieve_compile(apr_pool_t *p, const char *name,
                             const char *text, apr_size_t len,
                             unsigned allow_flags, sieve_error *err);

/*
 * Run PROG against HOST/CTX with at most BUDGET instructions (0 means
 * SIEVE_DEFAULT_BUDGET) and fill OUT.  On a run-time error or an
 * exhausted budget the outcome is SIEVE_KEEP with implicit_keep set
 * (RFC 5228 §2.10.6).  Thread-safe: many threads may run one program.
 */
int sieve_run(const sieve_program *prog, const sieve_host *host, void *ctx,
              unsigned budget, sieve_result *out);

/* The name given to sieve_compile(). */
const char *sieve_program_name(const sieve_program *prog);

/* The SIEVE_ALLOW_* tests the program actually uses (so the host knows
 * whether it must collect headers, for instance). */
unsigned sieve_program_needs(const sieve_program *prog);

/* The constant list names used with :list or valid_ext_list, so the host
 * can check at load time that they exist.  Sets *COUNT. */
const char *const *sieve_program_lists(const sieve_program *prog,
                                       int *count);

#ifdef __cplusplus
}
#endif
#endif /* SIEVE_H */
