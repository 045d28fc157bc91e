/*
 * mod_sieve.h -- what the files of mod_sieve share.  Private to the
 * module, not installed; the engine's own interface is sieve.h.
 *
 *   mod_sieve.c          the user's manual, the module record and its
 *                        keys, the stage hooks, choosing a stage's script
 *   mod_sieve_load.c     post_config: the scripts of [sieve.scripts]
 *                        (inline or file://), compiled once per stage
 *   mod_sieve_host.c     the sieve_host callbacks a script asks (env,
 *                        envelope, lists, headers, size), running a
 *                        script and enforcing its outcome (reject replies)
 *   mod_sieve_headers.c  the header section for the DATA stage: capture
 *                        from the body stream, unfolding, RFC 2047
 *
 * The functions declared here are not static, but they stay inside
 * mod_sieve.so: they are hidden, and the module links with an
 * -export-symbols-regex (modules/sieve/Makefile.inc) that exports only
 * sieve_module, since modules are loaded RTLD_GLOBAL.
 */
#ifndef MOD_SIEVE_H
#define MOD_SIEVE_H

#include <apr_hash.h>
#include <apr_tables.h>

#include "herald.h"
#include "hr_module.h"
#include "sieve.h"

#if defined(__GNUC__)
#define SIEVE_PRIVATE __attribute__((visibility("hidden")))
#else
#define SIEVE_PRIVATE
#endif

extern hr_module sieve_module;

#define SIEVE_KEY_BUDGET "sieve.budget"
#define SIEVE_KEY_SCRIPTS "sieve.scripts"
#define SIEVE_KEY_TRUSTED "sieve.trusted.scripts"
#define SIEVE_BUDGET_MAX 100000000          /* instructions per run */
#define SIEVE_HEADER_MAX (64 * 1024)        /* octets of header section */
#define SIEVE_HEADER_FIELDS 1000            /* header fields kept */
#define SIEVE_HEADER_NAME_MAX 256           /* octets of a field name */
#define SIEVE_ENCODED_WORD_MAX 1024         /* octets of one encoded-word */
#define SIEVE_REPLY_LINES 16                /* lines of a reject reply */

/* ------------------------------------------------------------ stages */

typedef enum {
    SIEVE_AT_CONNECT,
    SIEVE_AT_EHLO,
    SIEVE_AT_MAIL,
    SIEVE_AT_RCPT,
    SIEVE_AT_DATA,
    SIEVE_STAGES
} sieve_stage;

/* What each stage is called, its key, and the tests it can answer
 * (mod_sieve.c). */
struct sieve_stage_def {
    const char *name;       /* ${env.stage}, logs */
    const char *key;        /* the setting naming its script */
    unsigned allow;         /* tests the host can answer there */
};
SIEVE_PRIVATE extern const struct sieve_stage_def
    sieve_stage_defs[SIEVE_STAGES];

/* Per configuration generation (srv->pool), read-only once built. */
typedef struct sieve_conf {
    apr_hash_t *programs[SIEVE_STAGES]; /* script name -> sieve_program */
    unsigned budget;
    const hr_lists *lists;
} sieve_conf;

/* The header section of the message (DATA stage). */
typedef struct sieve_headers {
    apr_hash_t *fields;     /* lower-case name -> array of const char * */
} sieve_headers;

/* Per transaction: the DATA stage script and the header section seen. */
typedef struct sieve_txn {
    int selected;           /* the data script was looked up */
    const char *name;
    const sieve_program *prog;
    int capture;            /* collect the header section */
    char *buf;              /* raw header section, without the end line */
    apr_size_t len, cap;
    apr_size_t line_len;    /* octets on the current line, CR excluded */
    int done;               /* the empty line was seen, or the cap hit */
    int truncated;          /* SIEVE_HEADER_MAX was reached */
} sieve_txn;

/* What the host callbacks know during one run. */
typedef struct sieve_call {
    hr_session *s;
    hr_txn *txn;
    hr_rcpt *rcpt;          /* RCPT: the recipient; DATA: the first */
    const char *helo;       /* EHLO stage: the name being offered */
    sieve_stage stage;
    const sieve_conf *conf;
    const sieve_headers *headers;
    char local_port[8];
    char remote_port[8];
} sieve_call;

/* mod_sieve_load.c: read and compile every script (post_config hook). */
SIEVE_PRIVATE int sieve_post_config(hr_server *srv, apr_pool_t *ptemp,
                                    apr_array_header_t *errors);

/* mod_sieve_host.c: run @prog for @call and enforce its outcome; returns
 * HR_OK, HR_DENY (a refusal was queued) or HR_DISCONNECT (421). */
SIEVE_PRIVATE int sieve_execute(sieve_call *call, const char *name,
                                const sieve_program *prog);

/* mod_sieve_headers.c: collect the header section from the body stream,
 * then split it into fields as a script sees them. */
SIEVE_PRIVATE void sieve_capture(sieve_txn *st, apr_pool_t *p,
                                 const char *data, apr_size_t len);
SIEVE_PRIVATE sieve_headers *sieve_parse_headers(apr_pool_t *p,
                                                 const sieve_txn *st);

#endif /* MOD_SIEVE_H */
