/*
 * spool.h -- the durable spool: where an accepted message is kept until
 * the queue manager has delivered it, and `herald queue` (queue_cli.c).
 *
 * Layout under the spool folder (`queue.path` in the configuration):
 *
 *     tmp/ID.msg     a message being received (not yet accepted)
 *     tmp/ID.env     its envelope, while it is being committed
 *     queue/ID.msg   a committed message: the octets as received, with
 *                    the trace header the core wrote first
 *     queue/ID.env   its envelope (envelope.h); its presence is the commit
 *
 * Use by the core, for one message:
 *
 *     hr_spool_open(txn->pool, srv->spool_dir, &msg, &why);
 *     hr_spool_write(msg, trace_header, n);  ...  hr_spool_write(msg, ...);
 *     if (hr_spool_commit(msg, env, &why) == 0)  -> only now answer 250
 *     else                                       -> 451 4.3.0, log why
 *
 * Dropping the pool (or hr_spool_abort()) before the commit removes the
 * temporary file, so an aborted session never leaves anything behind.
 * hr_spool_init() at startup removes what a crash left: every file in
 * tmp/ and any half-committed pair in queue/ (never answered 250).
 *
 * Whoever removes a delivered message removes ID.env first (un-commit),
 * then ID.msg: hr_spool_remove() does.
 *
 * Every function is thread-safe: many workers spool at the same time.
 * Nothing here logs; errors come back in *why.
 */
#ifndef HR_SPOOL_H
#define HR_SPOOL_H

#include <apr_pools.h>
#include <apr_tables.h>
#include <apr_file_io.h>

#include "envelope.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Buffer of the message writer. */
#define HR_SPOOL_BUFFER_SIZE (64 * 1024)

typedef struct hr_spool_msg hr_spool_msg;

/** What hr_spool_init_ex() cleaned up. */
typedef struct hr_spool_recovery {
    int tmp_removed;     /* files removed from tmp/ */
    int orphans_removed; /* queue/ files without their partner */
    int committed;       /* complete pairs kept in queue/ */
} hr_spool_recovery;

/**
 * Create @spool_dir/tmp and @spool_dir/queue (mode 0700, parents too) and
 * remove leftovers of a crash: every file in tmp/, every queue/ID.msg
 * without its ID.env and every ID.env without its ID.msg.  Files whose id
 * was made by this process are left alone (a reload calls this while
 * sessions of the old generation are still spooling).  Returns 0, or -1
 * with *why.
 */
int hr_spool_init(apr_pool_t *p, const char *spool_dir, const char **why);
/** hr_spool_init() that also reports what it did in *@rec (may be NULL). */
int hr_spool_init_ex(apr_pool_t *p, const char *spool_dir,
                     hr_spool_recovery *rec, const char **why);

/**
 * A new unique queue id: 16 hex digits of apr_time_now(), the process id
 * and a per-process counter ("0000018C2F3A4B5C-00003A41-00000007"), so
 * ids are unique across threads and processes and sort by arrival.
 */
const char *hr_spool_new_id(apr_pool_t *p);

/** Is @id a well-formed queue id (hr_envelope_id_valid())? */
int hr_spool_id_valid(const char *id);

/**
 * Start a message: a new id, tmp/ID.msg created (O_EXCL, mode 0600) and
 * opened through a HR_SPOOL_BUFFER_SIZE buffer.  A cleanup on @p aborts
 * the message unless it was committed.  Returns 0, or -1 with *why.
 */
int hr_spool_open(apr_pool_t *p, const char *spool_dir, hr_spool_msg **msg,
                  const char **why);

/**
 * Append @len octets to the message.  Returns 0, or -1 on a write error
 * (remembered: the commit then fails with the reason).
 */
int hr_spool_write(hr_spool_msg *m, const char *data, apr_size_t len);

/** The message's queue id. */
const char *hr_spool_id(const hr_spool_msg *m);

/** Octets written so far. */
apr_off_t hr_spool_size(const hr_spool_msg *m);

/**
 * Commit durably: flush and fsync the message; set env->id and env->size
 * (and env->arrival when it is 0) from the message; write tmp/ID.env and
 * fsync it; rename tmp/ID.msg to queue/ID.msg, then tmp/ID.env to
 * queue/ID.env (the commit point); fsync queue/ and tmp/.  Only after
 * this returned 0 may the server answer 250 (RFC 5321 §6.1: once it
 * accepts a message the server takes responsibility for it).  On any
 * failure everything written is removed and -1 returned with *why.
 */
int hr_spool_commit(hr_spool_msg *m, hr_envelope *env, const char **why);

/** Close and remove the uncommitted message (no-op after commit). */
void hr_spool_abort(hr_spool_msg *m);

/**
 * Committed ids (those with both ID.env and ID.msg), as const char *,
 * appended to @ids sorted by arrival.  Returns 0, or -1 with *why when
 * queue/ cannot be read (@why may be NULL).
 */
int hr_spool_list(apr_pool_t *p, const char *spool_dir,
                  apr_array_header_t *ids);
int hr_spool_list_ex(apr_pool_t *p, const char *spool_dir,
                     apr_array_header_t *ids, const char **why);

/**
 * Read and parse queue/ID.env.  Returns 0, or -1 with *why ("no such
 * message" when it does not exist, or the parser's complaint).
 */
int hr_spool_load(apr_pool_t *p, const char *spool_dir, const char *id,
                  hr_envelope *env, const char **why);

/** The path of queue/ID.msg (the message octets), for the deliverer. */
const char *hr_spool_msg_path(apr_pool_t *p, const char *spool_dir,
                              const char *id);

/**
 * Remove a committed message: queue/ID.env first (so it is no longer
 * committed), then queue/ID.msg, then fsync queue/.  Returns 0, or -1
 * with *why.
 */
int hr_spool_remove(apr_pool_t *p, const char *spool_dir, const char *id,
                    const char **why);

/**
 * `herald queue ...`: argv[0] is "queue".
 *
 *     queue list [--json]       one line per message, or a JSON array
 *     queue show ID [--json]    the whole envelope, or its JSON object
 *
 * Writes to stdout/stderr and returns the exit status: 0, 1 when a
 * message is unknown or unreadable, 2 on a usage error.
 */
int hr_queue_cli(apr_pool_t *p, const char *spool_dir, int argc,
                 const char *const *argv);
/** hr_queue_cli() writing to @out and @err instead (tests). */
int hr_queue_cli_to(apr_pool_t *p, const char *spool_dir, int argc,
                    const char *const *argv, apr_file_t *out, apr_file_t *err);

#ifdef __cplusplus
}
#endif
#endif /* HR_SPOOL_H */
