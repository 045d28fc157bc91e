/*
 * spool.c -- the durable spool (layout and use: spool.h).
 *
 * A message is written to tmp/ID.msg through a buffer, fsync'd, its
 * envelope written to tmp/ID.env and fsync'd, both renamed into queue/
 * (the message first, so that the envelope appearing is the commit point)
 * and queue/ fsync'd.  Only then does the core answer 250: "nothing lost
 * once 250 was sent" (RFC 5321 §6.1).  A crash at any earlier point leaves
 * files that hr_spool_init() removes at the next start; the client never
 * got its 250 and will retry.
 *
 * Configured by `queue.path` (server->spool_dir).  Nothing here logs.
 */
#include <string.h>
#include <stdlib.h>
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include <apr_strings.h>
#include <apr_atomic.h>
#include <apr_hash.h>
#include <apr_file_info.h>

#include "spool.h"

#define SPOOL_DIR_PERMS                                                        \
    (APR_FPROT_UREAD | APR_FPROT_UWRITE | APR_FPROT_UEXECUTE)
#define SPOOL_FILE_PERMS (APR_FPROT_UREAD | APR_FPROT_UWRITE)
/* Attempts at a fresh id when tmp/ID.msg already exists. */
#define SPOOL_OPEN_TRIES 8
/* Length of the ids made here: 16 hex, '-', 8 hex, '-', 8 hex. */
#define SPOOL_ID_LEN 34

typedef enum {
    MSG_OPEN,      /* being written */
    MSG_COMMITTED, /* in queue/: nothing to clean up */
    MSG_GONE       /* aborted or failed: files removed */
} msg_state;

struct hr_spool_msg {
    apr_pool_t *pool;
    const char *spool_dir;
    const char *id;
    const char *tmp_msg, *tmp_env;     /* tmp/ID.msg, tmp/ID.env */
    const char *queue_msg, *queue_env; /* queue/ID.msg, queue/ID.env */
    apr_file_t *file;                  /* tmp/ID.msg while open */
    apr_off_t size;
    apr_status_t write_error; /* first failed write */
    msg_state state;
};

/* Per-process counter of ids. */
static volatile apr_uint32_t spool_counter;
/* When this process made its first id or ran hr_spool_init(). */
static volatile apr_uint64_t spool_epoch;

static const char hex_upper[] = "0123456789ABCDEF";

/* Remember the first moment this process touched the spool. */
static void spool_mark_epoch(void)
{
    if (apr_atomic_read64(&spool_epoch) == 0) {
        apr_atomic_cas64(&spool_epoch, (apr_uint64_t)apr_time_now(), 0);
    }
}

static void put_hex(char *out, apr_uint64_t v, int digits)
{
    int i;

    for (i = digits - 1; i >= 0; i--) {
        out[i] = hex_upper[v & 0x0F];
        v >>= 4;
    }
}

const char *hr_spool_new_id(apr_pool_t *p)
{
    char *id = apr_palloc(p, SPOOL_ID_LEN + 1);
    apr_uint32_t count;

    spool_mark_epoch();
    count = apr_atomic_inc32(&spool_counter);
    put_hex(id, (apr_uint64_t)apr_time_now(), 16);
    id[16] = '-';
    put_hex(id + 17, (apr_uint64_t)(apr_uint32_t)getpid(), 8);
    id[25] = '-';
    put_hex(id + 26, count, 8);
    id[SPOOL_ID_LEN] = '\0';
    return id;
}

int hr_spool_id_valid(const char *id)
{
    return id != NULL && hr_envelope_id_valid(id);
}

/* Hex digits @s[0..n) as a number; -1 when one is not a hex digit. */
static int parse_hex(const char *s, int n, apr_uint64_t *out)
{
    apr_uint64_t v = 0;
    int i;

    for (i = 0; i < n; i++) {
        const char *d = strchr(hex_upper, s[i]);

        if (s[i] == '\0' || d == NULL) {
            return -1;
        }
        v = v << 4 | (apr_uint64_t)(d - hex_upper);
    }
    *out = v;
    return 0;
}

/*
 * Was @id made by this process?  Its pid must be ours and its time not
 * before our first spool action (a crashed predecessor may have had the
 * same pid, as pid 1 in a container does).
 */
static int id_is_ours(const char *id)
{
    apr_uint64_t when, pid, epoch;

    if (strlen(id) != SPOOL_ID_LEN || id[16] != '-' || id[25] != '-' ||
        parse_hex(id, 16, &when) != 0 || parse_hex(id + 17, 8, &pid) != 0) {
        return 0;
    }
    epoch = apr_atomic_read64(&spool_epoch);
    return pid == (apr_uint64_t)(apr_uint32_t)getpid() && epoch != 0 &&
           when >= epoch;
}

/* fsync a directory so that renames and removals in it are durable. */
static apr_status_t fsync_dir(const char *path)
{
    apr_status_t rv = APR_SUCCESS;
    int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

    if (fd < 0) {
        return APR_FROM_OS_ERROR(errno);
    }
    if (fsync(fd) != 0) {
        rv = APR_FROM_OS_ERROR(errno);
    }
    close(fd);
    return rv;
}

static const char *spool_path(apr_pool_t *p, const char *spool_dir,
                              const char *sub, const char *id, const char *ext)
{
    return apr_pstrcat(p, spool_dir, "/", sub, "/", id, ext, NULL);
}

/* Names in @dir (not "." or ".."), with the directory flag of each. */
static apr_status_t read_names(apr_pool_t *p, const char *dir,
                               apr_array_header_t *names,
                               apr_array_header_t *is_dir)
{
    apr_dir_t *d;
    apr_finfo_t fi;
    apr_status_t rv = apr_dir_open(&d, dir, p);

    if (rv != APR_SUCCESS) {
        return rv;
    }
    for (;;) {
        rv = apr_dir_read(&fi, APR_FINFO_NAME | APR_FINFO_TYPE, d);
        if (rv != APR_SUCCESS && rv != APR_INCOMPLETE) {
            break;
        }
        if (fi.name == NULL || strcmp(fi.name, ".") == 0 ||
            strcmp(fi.name, "..") == 0) {
            continue;
        }
        APR_ARRAY_PUSH(names, const char *) = apr_pstrdup(p, fi.name);
        if (is_dir != NULL) {
            int dirflag = (fi.valid & APR_FINFO_TYPE) && fi.filetype == APR_DIR;

            if (!(fi.valid & APR_FINFO_TYPE)) {
                apr_finfo_t st;

                dirflag = apr_stat(&st, apr_pstrcat(p, dir, "/", fi.name, NULL),
                                   APR_FINFO_TYPE | APR_FINFO_LINK,
                                   p) == APR_SUCCESS &&
                          st.filetype == APR_DIR;
            }
            APR_ARRAY_PUSH(is_dir, int) = dirflag;
        }
    }
    apr_dir_close(d);
    return APR_STATUS_IS_ENOENT(rv) ? APR_SUCCESS : rv;
}

/* Bits of what queue/ holds per id. */
#define HAS_MSG 1
#define HAS_ENV 2

/* Split "ID.msg" / "ID.env"; NULL for any other name. */
static const char *queue_name_id(apr_pool_t *p, const char *name, int *kind)
{
    apr_size_t n = strlen(name);
    const char *id;

    if (n < 5) {
        return NULL;
    }
    if (strcmp(name + n - 4, ".msg") == 0) {
        *kind = HAS_MSG;
    } else if (strcmp(name + n - 4, ".env") == 0) {
        *kind = HAS_ENV;
    } else {
        return NULL;
    }
    id = apr_pstrmemdup(p, name, n - 4);
    return hr_spool_id_valid(id) ? id : NULL;
}

/* Map id -> HAS_* bits for everything in queue/. */
static apr_status_t scan_queue(apr_pool_t *p, const char *spool_dir,
                               apr_hash_t **out)
{
    apr_array_header_t *names = apr_array_make(p, 64, sizeof(const char *));
    apr_hash_t *ids = apr_hash_make(p);
    apr_status_t rv;
    int i;

    rv = read_names(p, apr_pstrcat(p, spool_dir, "/queue", NULL), names, NULL);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    for (i = 0; i < names->nelts; i++) {
        int kind, *bits;
        const char *id =
            queue_name_id(p, APR_ARRAY_IDX(names, i, const char *), &kind);

        if (id == NULL) {
            continue;
        }
        bits = apr_hash_get(ids, id, APR_HASH_KEY_STRING);
        if (bits == NULL) {
            bits = apr_pcalloc(p, sizeof(*bits));
            apr_hash_set(ids, id, APR_HASH_KEY_STRING, bits);
        }
        *bits |= kind;
    }
    *out = ids;
    return APR_SUCCESS;
}

int hr_spool_init_ex(apr_pool_t *p, const char *spool_dir,
                     hr_spool_recovery *rec, const char **why)
{
    const char *tmp = apr_pstrcat(p, spool_dir, "/tmp", NULL);
    const char *queue = apr_pstrcat(p, spool_dir, "/queue", NULL);
    apr_array_header_t *names = apr_array_make(p, 16, sizeof(const char *));
    apr_array_header_t *is_dir = apr_array_make(p, 16, sizeof(int));
    hr_spool_recovery counts = {0, 0, 0};
    apr_hash_t *ids;
    apr_hash_index_t *hi;
    apr_status_t rv;
    int i;

    spool_mark_epoch();
    if ((rv = apr_dir_make_recursive(tmp, SPOOL_DIR_PERMS, p)) != APR_SUCCESS ||
        (rv = apr_dir_make_recursive(queue, SPOOL_DIR_PERMS, p)) !=
            APR_SUCCESS) {
        *why = apr_psprintf(p, "cannot create the spool in %s: %pm", spool_dir,
                            &rv);
        return -1;
    }

    /* tmp/ holds only messages that were never accepted. */
    if ((rv = read_names(p, tmp, names, is_dir)) != APR_SUCCESS) {
        *why = apr_psprintf(p, "cannot read %s: %pm", tmp, &rv);
        return -1;
    }
    for (i = 0; i < names->nelts; i++) {
        const char *name = APR_ARRAY_IDX(names, i, const char *);
        apr_size_t n = strlen(name);

        if (APR_ARRAY_IDX(is_dir, i, int)) {
            continue;
        }
        if (n > 4 && id_is_ours(apr_pstrmemdup(p, name, n - 4))) {
            continue;
        }
        rv = apr_file_remove(apr_pstrcat(p, tmp, "/", name, NULL), p);
        if (rv != APR_SUCCESS && !APR_STATUS_IS_ENOENT(rv)) {
            *why = apr_psprintf(p, "cannot remove %s/%s: %pm", tmp, name, &rv);
            return -1;
        }
        counts.tmp_removed++;
    }

    /* A half pair in queue/ is a commit that did not finish. */
    if ((rv = scan_queue(p, spool_dir, &ids)) != APR_SUCCESS) {
        *why = apr_psprintf(p, "cannot read %s: %pm", queue, &rv);
        return -1;
    }
    for (hi = apr_hash_first(p, ids); hi != NULL; hi = apr_hash_next(hi)) {
        const char *id = apr_hash_this_key(hi);
        int bits = *(int *)apr_hash_this_val(hi);
        const char *orphan;

        if (bits == (HAS_MSG | HAS_ENV)) {
            counts.committed++;
            continue;
        }
        if (id_is_ours(id)) {
            continue;
        }
        orphan = spool_path(p, spool_dir, "queue", id,
                            bits == HAS_MSG ? ".msg" : ".env");
        rv = apr_file_remove(orphan, p);
        if (rv != APR_SUCCESS && !APR_STATUS_IS_ENOENT(rv)) {
            *why = apr_psprintf(p, "cannot remove %s: %pm", orphan, &rv);
            return -1;
        }
        counts.orphans_removed++;
    }
    if (counts.orphans_removed > 0 && (rv = fsync_dir(queue)) != APR_SUCCESS) {
        *why = apr_psprintf(p, "cannot sync %s: %pm", queue, &rv);
        return -1;
    }
    if (counts.tmp_removed > 0 && (rv = fsync_dir(tmp)) != APR_SUCCESS) {
        *why = apr_psprintf(p, "cannot sync %s: %pm", tmp, &rv);
        return -1;
    }
    if (rec != NULL) {
        *rec = counts;
    }
    return 0;
}

int hr_spool_init(apr_pool_t *p, const char *spool_dir, const char **why)
{
    return hr_spool_init_ex(p, spool_dir, NULL, why);
}

/* --------------------------------------------------------- one message */

/* Remove every file of an uncommitted message (best effort). */
static void msg_discard(hr_spool_msg *m)
{
    if (m->file != NULL) {
        apr_file_close(m->file);
        m->file = NULL;
    }
    apr_file_remove(m->tmp_msg, m->pool);
    apr_file_remove(m->tmp_env, m->pool);
    m->state = MSG_GONE;
}

/* Pool cleanup: an aborted session never leaves a file behind. */
static apr_status_t msg_cleanup(void *data)
{
    hr_spool_abort(data);
    return APR_SUCCESS;
}

int hr_spool_open(apr_pool_t *p, const char *spool_dir, hr_spool_msg **msg,
                  const char **why)
{
    hr_spool_msg *m = apr_pcalloc(p, sizeof(*m));
    apr_status_t rv = APR_SUCCESS;
    int tries;

    m->pool = p;
    m->spool_dir = apr_pstrdup(p, spool_dir);
    for (tries = 0; tries < SPOOL_OPEN_TRIES; tries++) {
        m->id = hr_spool_new_id(p);
        m->tmp_msg = spool_path(p, spool_dir, "tmp", m->id, ".msg");
        rv = apr_file_open(&m->file, m->tmp_msg,
                           APR_FOPEN_WRITE | APR_FOPEN_CREATE | APR_FOPEN_EXCL |
                               APR_FOPEN_BUFFERED | APR_FOPEN_BINARY,
                           SPOOL_FILE_PERMS, p);
        if (!APR_STATUS_IS_EEXIST(rv)) {
            break;
        }
    }
    if (rv != APR_SUCCESS) {
        *why = apr_psprintf(p, "cannot create %s: %pm", m->tmp_msg, &rv);
        return -1;
    }
    rv = apr_file_buffer_set(m->file, apr_palloc(p, HR_SPOOL_BUFFER_SIZE),
                             HR_SPOOL_BUFFER_SIZE);
    if (rv != APR_SUCCESS) {
        /* XXX: the default 4 KiB buffer is still correct, only slower. */
        rv = APR_SUCCESS;
    }
    m->tmp_env = spool_path(p, spool_dir, "tmp", m->id, ".env");
    m->queue_msg = spool_path(p, spool_dir, "queue", m->id, ".msg");
    m->queue_env = spool_path(p, spool_dir, "queue", m->id, ".env");
    m->state = MSG_OPEN;
    /* Registered after the file's own cleanup, so it runs first. */
    apr_pool_cleanup_register(p, m, msg_cleanup, apr_pool_cleanup_null);
    *msg = m;
    return 0;
}

int hr_spool_write(hr_spool_msg *m, const char *data, apr_size_t len)
{
    apr_status_t rv;

    if (m->state != MSG_OPEN || m->write_error != APR_SUCCESS) {
        return -1;
    }
    if (len == 0) {
        return 0;
    }
    rv = apr_file_write_full(m->file, data, len, NULL);
    if (rv != APR_SUCCESS) {
        m->write_error = rv;
        return -1;
    }
    m->size += (apr_off_t)len;
    return 0;
}

const char *hr_spool_id(const hr_spool_msg *m)
{
    return m->id;
}

apr_off_t hr_spool_size(const hr_spool_msg *m)
{
    return m->size;
}

/* Write @text to @path (new file), flushed to disk. */
static apr_status_t write_synced(apr_pool_t *p, const char *path,
                                 const char *text, apr_size_t len)
{
    apr_file_t *f;
    apr_status_t rv, rv2;

    rv = apr_file_open(&f, path,
                       APR_FOPEN_WRITE | APR_FOPEN_CREATE | APR_FOPEN_EXCL |
                           APR_FOPEN_BINARY,
                       SPOOL_FILE_PERMS, p);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    rv = apr_file_write_full(f, text, len, NULL);
    if (rv == APR_SUCCESS) {
        rv = apr_file_datasync(f);
    }
    rv2 = apr_file_close(f);
    return rv != APR_SUCCESS ? rv : rv2;
}

/* Undo a commit that failed part way (see hr_spool_commit()). */
static void commit_undo(hr_spool_msg *m, int env_in_queue, int msg_in_queue)
{
    if (env_in_queue) {
        apr_file_remove(m->queue_env, m->pool);
    }
    if (msg_in_queue) {
        apr_file_remove(m->queue_msg, m->pool);
    }
    if (env_in_queue || msg_in_queue) {
        fsync_dir(apr_pstrcat(m->pool, m->spool_dir, "/queue", NULL));
    }
    msg_discard(m);
}

int hr_spool_commit(hr_spool_msg *m, hr_envelope *env, const char **why)
{
    apr_pool_t *p = m->pool;
    const char *queue = apr_pstrcat(p, m->spool_dir, "/queue", NULL);
    const char *step;
    apr_status_t rv;
    apr_size_t len;
    char *text;
    int msg_in_queue = 0, env_in_queue = 0;

    if (m->state != MSG_OPEN) {
        *why = "spool message is not open";
        return -1;
    }
    if (m->write_error != APR_SUCCESS) {
        rv = m->write_error;
        step = apr_psprintf(p, "cannot write %s", m->tmp_msg);
        goto failed;
    }

    /* The message octets are on disk before anything refers to them. */
    step = apr_psprintf(p, "cannot sync %s", m->tmp_msg);
    if ((rv = apr_file_flush(m->file)) != APR_SUCCESS ||
        (rv = apr_file_datasync(m->file)) != APR_SUCCESS) {
        goto failed;
    }
    rv = apr_file_close(m->file);
    m->file = NULL;
    if (rv != APR_SUCCESS) {
        goto failed;
    }

    env->id = m->id;
    env->size = m->size;
    if (env->arrival == 0) {
        env->arrival = apr_time_now();
    }
    text = hr_envelope_serialize(p, env, &len);
    step = apr_psprintf(p, "cannot write %s", m->tmp_env);
    if ((rv = write_synced(p, m->tmp_env, text, len)) != APR_SUCCESS) {
        goto failed;
    }

    /* The message first: the envelope appearing is the commit point. */
    step = apr_psprintf(p, "cannot move %s into queue/", m->tmp_msg);
    if ((rv = apr_file_rename(m->tmp_msg, m->queue_msg, p)) != APR_SUCCESS) {
        goto failed;
    }
    msg_in_queue = 1;
    step = apr_psprintf(p, "cannot move %s into queue/", m->tmp_env);
    if ((rv = apr_file_rename(m->tmp_env, m->queue_env, p)) != APR_SUCCESS) {
        goto failed;
    }
    env_in_queue = 1;
    /*
     * XXX: the queue manager may see ID.env before the directory is
     * synced; if the sync then fails the message is withdrawn under it
     * and it must cope with a vanished file (it was never answered 250).
     */
    step = apr_psprintf(p, "cannot sync %s", queue);
    if ((rv = fsync_dir(queue)) != APR_SUCCESS) {
        goto failed;
    }
    /* Committed.  Syncing tmp/ only makes the removal durable. */
    (void)fsync_dir(apr_pstrcat(p, m->spool_dir, "/tmp", NULL));
    m->state = MSG_COMMITTED;
    return 0;

failed:
    *why = apr_psprintf(p, "%s: %pm", step, &rv);
    commit_undo(m, env_in_queue, msg_in_queue);
    return -1;
}

void hr_spool_abort(hr_spool_msg *m)
{
    if (m != NULL && m->state == MSG_OPEN) {
        msg_discard(m);
    }
}

/* ------------------------------------------------------------- reading */

/* qsort order of ids: fixed width hex time first, so by arrival. */
static int compare_ids(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

int hr_spool_list_ex(apr_pool_t *p, const char *spool_dir,
                     apr_array_header_t *ids, const char **why)
{
    apr_hash_t *found;
    apr_hash_index_t *hi;
    apr_status_t rv;
    int first = ids->nelts;

    if ((rv = scan_queue(p, spool_dir, &found)) != APR_SUCCESS) {
        if (why != NULL) {
            *why = apr_psprintf(p, "cannot read %s/queue: %pm", spool_dir, &rv);
        }
        return -1;
    }
    for (hi = apr_hash_first(p, found); hi != NULL; hi = apr_hash_next(hi)) {
        if (*(int *)apr_hash_this_val(hi) == (HAS_MSG | HAS_ENV)) {
            APR_ARRAY_PUSH(ids, const char *) = apr_hash_this_key(hi);
        }
    }
    if (ids->nelts - first > 1) {
        qsort(ids->elts + (apr_size_t)first * sizeof(const char *),
              (size_t)(ids->nelts - first), sizeof(const char *), compare_ids);
    }
    return 0;
}

int hr_spool_list(apr_pool_t *p, const char *spool_dir, apr_array_header_t *ids)
{
    return hr_spool_list_ex(p, spool_dir, ids, NULL);
}

int hr_spool_load(apr_pool_t *p, const char *spool_dir, const char *id,
                  hr_envelope *env, const char **why)
{
    const char *path, *err;
    apr_file_t *f;
    apr_finfo_t fi;
    apr_status_t rv;
    apr_size_t got = 0;
    char *text = NULL;

    if (!hr_spool_id_valid(id)) {
        *why = "invalid queue id";
        return -1;
    }
    path = spool_path(p, spool_dir, "queue", id, ".env");
    rv = apr_file_open(&f, path, APR_FOPEN_READ | APR_FOPEN_BINARY, 0, p);
    if (APR_STATUS_IS_ENOENT(rv)) {
        *why = "no such message";
        return -1;
    }
    if (rv != APR_SUCCESS) {
        *why = apr_psprintf(p, "cannot open %s: %pm", path, &rv);
        return -1;
    }
    rv = apr_file_info_get(&fi, APR_FINFO_SIZE, f);
    if (rv == APR_SUCCESS && fi.size > HR_ENVELOPE_MAX_SIZE) {
        apr_file_close(f);
        *why = apr_psprintf(p, "%s: envelope too large", path);
        return -1;
    }
    if (rv == APR_SUCCESS) {
        text = apr_palloc(p, (apr_size_t)fi.size + 1);
        rv = apr_file_read_full(f, text, (apr_size_t)fi.size, &got);
        if (rv == APR_EOF) {
            rv = APR_SUCCESS; /* shrank under us: the parser will see */
        }
    }
    apr_file_close(f);
    if (rv != APR_SUCCESS) {
        *why = apr_psprintf(p, "cannot read %s: %pm", path, &rv);
        return -1;
    }
    if (hr_envelope_parse(p, text, got, env, &err) != 0) {
        *why = apr_psprintf(p, "%s: %s", path, err);
        return -1;
    }
    if (strcmp(env->id, id) != 0) {
        *why = apr_psprintf(p, "%s: envelope is for %s", path, env->id);
        return -1;
    }
    return 0;
}

const char *hr_spool_msg_path(apr_pool_t *p, const char *spool_dir,
                              const char *id)
{
    return spool_path(p, spool_dir, "queue", id, ".msg");
}

int hr_spool_remove(apr_pool_t *p, const char *spool_dir, const char *id,
                    const char **why)
{
    const char *env_path, *msg_path;
    apr_status_t rv;

    if (!hr_spool_id_valid(id)) {
        *why = "invalid queue id";
        return -1;
    }
    env_path = spool_path(p, spool_dir, "queue", id, ".env");
    msg_path = spool_path(p, spool_dir, "queue", id, ".msg");
    /* The envelope first: without it the message is not committed. */
    rv = apr_file_remove(env_path, p);
    if (rv != APR_SUCCESS && !APR_STATUS_IS_ENOENT(rv)) {
        *why = apr_psprintf(p, "cannot remove %s: %pm", env_path, &rv);
        return -1;
    }
    rv = apr_file_remove(msg_path, p);
    if (rv != APR_SUCCESS && !APR_STATUS_IS_ENOENT(rv)) {
        *why = apr_psprintf(p, "cannot remove %s: %pm", msg_path, &rv);
        return -1;
    }
    rv = fsync_dir(apr_pstrcat(p, spool_dir, "/queue", NULL));
    if (rv != APR_SUCCESS) {
        *why = apr_psprintf(p, "cannot sync %s/queue: %pm", spool_dir, &rv);
        return -1;
    }
    return 0;
}
