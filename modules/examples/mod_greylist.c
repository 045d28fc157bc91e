/*
 * mod_greylist.c -- greylisting of (client network, sender, recipient)
 * triplets (RFC 6647), and an example of a third-party module: it is built
 * out of tree from the installed headers alone.
 *
 * The first time a triplet is seen, its RCPT TO gets a temporary failure,
 * "451 4.7.1".  A real mail server keeps the message queued and tries again
 * later (RFC 5321 §4.5.4.1); once `delay` has passed since the first
 * attempt, the retry is accepted and the triplet is remembered as good, so
 * later mail from the same correspondents is not delayed again.  Bulk
 * senders that never retry are simply never seen again.
 *
 * Build and install:
 *
 *     herald-mod -c mod_greylist.c          # writes mod_greylist.so
 *     herald-mod -i mod_greylist.so         # into `herald-mod -q MODULEDIR`
 * or, without herald-mod:
 *     cc -shared -fPIC $(pkg-config --cflags herald) mod_greylist.c \
 *         -o mod_greylist.so
 *
 * Configure:
 *
 *     [server.modules]
 *     load = ["mod_greylist"]
 *
 *     [greylist]
 *     delay = "5m"                # a retry is accepted after this
 *     expire = "4h"               # a triplet not retried by then is dropped
 *     passed-expire = "36d"       # a passed triplet unused this long, too
 *     whitelist-authenticated = true  # AUTH'd sessions are never delayed
 *     max-entries = 100000        # table bound: least recently seen go
 *     ipv4-prefix = 24            # the client's network: its /24 ...
 *     ipv6-prefix = 64            # ... or its /64
 *     enable = [ { if = "listener", eq = "submission", then = false },
 *                { else = true } ]
 *
 * `enable`, `delay` and `whitelist-authenticated` are expressions,
 * evaluated at each RCPT TO (they may test any variable up to rcpt and
 * rcpt-domain, e.g. exempt a network with remote-ip and a CIDR operand);
 * the others are fixed for a configuration.  The module advertises
 * nothing: greylisting works the same after HELO and after EHLO.
 *
 * It runs in the rcpt_check hook, last: the core's relay and local-domain
 * rules and other modules' permanent refusals come first, so a recipient
 * that would be refused anyway is not recorded.  The table is in memory,
 * bounded, shared by all worker threads under a mutex; a reload carries it
 * over to the new configuration, a restart empties it.
 */
#include <string.h>
#include <pthread.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include <apr_general.h>
#include <apr_strings.h>
#include <apr_sha1.h>
#include <apr_thread_mutex.h>

#include <herald/herald.h>
#include <herald/hr_module.h>
#include <herald/hr_config.h>

extern hr_module greylist_module;

#define GL_NONE 0xffffffffu            /* "no entry" in links and chains */
#define GL_MAX_ENTRIES 10000000        /* about 64 octets each */
#define GL_SALT_SIZE 16

/* One triplet.  Only its digest is kept: entries have a fixed size. */
typedef struct gl_entry {
    unsigned char digest[APR_SHA1_DIGESTSIZE];
    int passed;                 /* a retry was accepted */
    apr_time_t first_seen;      /* first (refused) attempt */
    apr_time_t last_seen;       /* most recent attempt: the LRU order */
    apr_uint32_t chain;         /* next entry in the same bucket */
    apr_uint32_t older;         /* LRU list neighbours */
    apr_uint32_t newer;
} gl_entry;

/*
 * The triplet table of one configuration generation: a fixed array of
 * entries, hash buckets over them, and a least-recently-seen list that
 * says which entry goes when the table is full.
 */
typedef struct gl_table {
    apr_thread_mutex_t *lock;   /* workers check triplets concurrently */
    gl_entry *entries;
    apr_uint32_t *buckets;      /* first entry of each chain */
    apr_uint32_t bucket_mask;   /* buckets - 1 (a power of two) */
    apr_uint32_t capacity;      /* greylist.max-entries */
    apr_uint32_t used;
    apr_uint32_t newest;
    apr_uint32_t oldest;
    unsigned char salt[GL_SALT_SIZE]; /* secret: chains cannot be aimed */
    apr_interval_time_t expire;       /* microseconds */
    apr_interval_time_t passed_expire;
    int ipv4_prefix;
    int ipv6_prefix;
    struct gl_table *older_table;     /* the live tables, newest first */
    struct gl_table *newer_table;
} gl_table;

/*
 * Live tables of every generation still in use, so that a reload can
 * copy the newest one.  The list is touched only while building or
 * destroying a generation, whatever thread does it.
 */
static pthread_mutex_t gl_tables_lock = PTHREAD_MUTEX_INITIALIZER;
static gl_table *gl_newest_table;

/* ------------------------------------------------------------- the table */

static apr_uint32_t gl_bucket(const gl_table *t, const unsigned char *digest)
{
    apr_uint32_t h;

    memcpy(&h, digest, sizeof(h));
    return h & t->bucket_mask;
}

static apr_uint32_t gl_find(const gl_table *t, const unsigned char *digest)
{
    apr_uint32_t i = t->buckets[gl_bucket(t, digest)];

    while (i != GL_NONE &&
           memcmp(t->entries[i].digest, digest, APR_SHA1_DIGESTSIZE) != 0) {
        i = t->entries[i].chain;
    }
    return i;
}

static void gl_lru_unlink(gl_table *t, apr_uint32_t i)
{
    gl_entry *e = &t->entries[i];

    if (e->older != GL_NONE) {
        t->entries[e->older].newer = e->newer;
    }
    else {
        t->oldest = e->newer;
    }
    if (e->newer != GL_NONE) {
        t->entries[e->newer].older = e->older;
    }
    else {
        t->newest = e->older;
    }
}

static void gl_lru_push_newest(gl_table *t, apr_uint32_t i)
{
    gl_entry *e = &t->entries[i];

    e->newer = GL_NONE;
    e->older = t->newest;
    if (t->newest != GL_NONE) {
        t->entries[t->newest].newer = i;
    }
    t->newest = i;
    if (t->oldest == GL_NONE) {
        t->oldest = i;
    }
}

/* Take the least recently seen entry out of the table; returns its slot. */
static apr_uint32_t gl_evict_oldest(gl_table *t)
{
    apr_uint32_t victim = t->oldest;
    apr_uint32_t *link =
        &t->buckets[gl_bucket(t, t->entries[victim].digest)];

    while (*link != victim) {
        link = &t->entries[*link].chain;
    }
    *link = t->entries[victim].chain;
    gl_lru_unlink(t, victim);
    return victim;
}

/* Add a triplet as the most recently seen; full: the oldest one goes. */
static gl_entry *gl_insert(gl_table *t, const unsigned char *digest,
                           apr_time_t first_seen, apr_time_t last_seen,
                           int passed)
{
    apr_uint32_t i, b = gl_bucket(t, digest);
    gl_entry *e;

    if (t->used < t->capacity) {
        i = t->used++;
    }
    else {
        i = gl_evict_oldest(t);
    }
    e = &t->entries[i];
    memcpy(e->digest, digest, APR_SHA1_DIGESTSIZE);
    e->passed = passed;
    e->first_seen = first_seen;
    e->last_seen = last_seen;
    e->chain = t->buckets[b];
    t->buckets[b] = i;
    gl_lru_push_newest(t, i);
    return e;
}

/*
 * The greylisting decision for one attempt at @now.  Returns 1 when the
 * recipient may be accepted, 0 when it is deferred (*wait: how long until
 * a retry would pass).  Call with the table locked.
 */
static int gl_check(gl_table *t, const unsigned char *digest, apr_time_t now,
                    apr_interval_time_t delay, apr_interval_time_t *wait)
{
    apr_uint32_t i = gl_find(t, digest);
    gl_entry *e;

    if (i == GL_NONE) {
        gl_insert(t, digest, now, now, 0);
        *wait = delay;
        return 0;
    }
    e = &t->entries[i];
    if (e->passed ? now - e->last_seen > t->passed_expire
                  : now - e->first_seen > t->expire) {
        /* Forgotten: the client did not retry in time, or a passed
         * triplet went unused; it starts over as an unknown one. */
        e->passed = 0;
        e->first_seen = now;
    }
    else if (!e->passed && now - e->first_seen >= delay) {
        /* RFC 6647 §4: a retry after the delay is accepted, and the
         * triplet is remembered so that later mail is not delayed. */
        e->passed = 1;
    }
    /* An early retry does not restart the clock: the delay counts from
     * the first attempt, or a client that retries often could never
     * pass. */
    e->last_seen = now;
    gl_lru_unlink(t, i);
    gl_lru_push_newest(t, i);
    if (e->passed) {
        return 1;
    }
    *wait = delay - (now - e->first_seen);
    return 0;
}

/* ----------------------------------------------------------- the triplet */

/* Keep the first @prefix bits of @addr, clear the others. */
static void gl_mask(unsigned char *addr, int len, int prefix)
{
    int i;

    for (i = 0; i < len; i++) {
        int keep = prefix - i * 8;
        if (keep <= 0) {
            addr[i] = 0;
        }
        else if (keep < 8) {
            addr[i] &= (unsigned char)(0xff << (8 - keep));
        }
    }
}

/*
 * Hash the client's network: RFC 6647 §4 notes that large senders retry
 * from another address of the same pool, so by default the IPv4 /24 (and
 * IPv6 /64) is keyed, not the address.  An IPv4-mapped IPv6 address counts
 * as IPv4.  Anything that does not parse is hashed as text.
 */
static void gl_hash_network(apr_sha1_ctx_t *ctx, const gl_table *t,
                            const char *ip)
{
    unsigned char net[1 + 16];
    struct in_addr a4;
    struct in6_addr a6;

    if (inet_pton(AF_INET, ip, &a4) == 1) {
        net[0] = 4;
        memcpy(net + 1, &a4, 4);
    }
    else if (inet_pton(AF_INET6, ip, &a6) == 1) {
        if (IN6_IS_ADDR_V4MAPPED(&a6)) {
            net[0] = 4;
            memcpy(net + 1, a6.s6_addr + 12, 4);
        }
        else {
            net[0] = 6;
            memcpy(net + 1, a6.s6_addr, 16);
            gl_mask(net + 1, 16, t->ipv6_prefix);
            apr_sha1_update_binary(ctx, net, 17);
            return;
        }
    }
    else {
        net[0] = 0;
        apr_sha1_update_binary(ctx, net, 1);
        apr_sha1_update_binary(ctx, (const unsigned char *)ip,
                               (unsigned int)strlen(ip) + 1);
        return;
    }
    gl_mask(net + 1, 4, t->ipv4_prefix);
    apr_sha1_update_binary(ctx, net, 5);
}

/*
 * Hash an address with ASCII letters folded, and its NUL as separator.
 * RFC 5321 §2.4 lets a local part be case-sensitive, but two spellings of
 * one mailbox sharing a triplet only spares a client one retry.
 */
static void gl_hash_address(apr_sha1_ctx_t *ctx, const char *address)
{
    unsigned char buf[64];
    unsigned int n = 0;
    const char *c;

    for (c = address;; c++) {
        unsigned char ch = (unsigned char)*c;
        buf[n++] = (ch >= 'A' && ch <= 'Z') ? ch + ('a' - 'A') : ch;
        if (ch == '\0' || n == sizeof(buf)) {
            apr_sha1_update_binary(ctx, buf, n);
            n = 0;
        }
        if (ch == '\0') {
            break;
        }
    }
}

/*
 * RFC 6647 §2: the classic key is the triplet of client IP address (here
 * its network), envelope sender and envelope recipient.  The secret salt
 * keeps a client from choosing triplets that fall in one hash chain.
 */
static void gl_triplet_digest(const gl_table *t, const char *ip,
                              const char *sender, const char *rcpt,
                              unsigned char *digest)
{
    apr_sha1_ctx_t ctx;

    apr_sha1_init(&ctx);
    apr_sha1_update_binary(&ctx, t->salt, sizeof(t->salt));
    gl_hash_network(&ctx, t, ip);
    gl_hash_address(&ctx, sender);
    gl_hash_address(&ctx, rcpt);
    apr_sha1_final(digest, &ctx);
}

/* ------------------------------------------------------------- the hook */

/*
 * rcpt_check: defer an unknown triplet with 451 4.7.1 (RFC 3463: delivery
 * not authorized, transient).  RFC 5321 §4.2.5: a 4yz reply to RCPT asks
 * the client to keep the message and try this recipient again later.
 */
static int gl_rcpt_check(hr_session *s, hr_txn *txn, hr_rcpt *rcpt)
{
    gl_table *t = hr_module_config(s->server, &greylist_module);
    unsigned char digest[APR_SHA1_DIGESTSIZE];
    apr_int64_t delay_ms = 0;
    apr_interval_time_t wait = 0;
    apr_int64_t seconds;
    int pass;

    if (t == NULL || !hr_session_bool(s, "greylist.enable")) {
        return HR_OK;
    }
    /* RFC 6647 §4: clients known to be legitimate, such as a user who
     * authenticated to submit mail, should not be greylisted. */
    if (s->authenticated_as != NULL &&
        hr_session_bool(s, "greylist.whitelist-authenticated")) {
        return HR_OK;
    }
    if (!hr_session_int(s, "greylist.delay", &delay_ms) || delay_ms <= 0) {
        return HR_OK;
    }
    gl_triplet_digest(t, s->remote_ip, txn->sender, rcpt->address, digest);
    apr_thread_mutex_lock(t->lock);
    pass = gl_check(t, digest, apr_time_now(),
                    (apr_interval_time_t)delay_ms * 1000, &wait);
    apr_thread_mutex_unlock(t->lock);
    if (pass) {
        return HR_OK;
    }
    seconds = (wait + APR_USEC_PER_SEC - 1) / APR_USEC_PER_SEC;
    if (seconds < 1) {
        seconds = 1;
    }
    hr_log_session(s, HR_LOG_INFO, "greylisted <%s> -> <%s> from %s, "
                   "retry in %" APR_INT64_T_FMT "s",
                   hr_log_escape(s->pool, txn->sender, 256),
                   hr_log_escape(s->pool, rcpt->address, 256), s->remote_ip,
                   seconds);
    hr_reply(s, 451, "4.7.1", "<%s>: greylisted, please try again in %"
             APR_INT64_T_FMT " second%s", rcpt->address, seconds,
             seconds == 1 ? "" : "s");
    return HR_DENY;
}

/* ------------------------------------------------------- configuration */

/* A fixed (non-expression) integer or duration setting. */
static apr_int64_t gl_constant(hr_server *srv, const char *path)
{
    const hr_expr *e = hr_setting(srv, path);
    const hr_value *v = e ? hr_expr_eval(e, NULL, NULL) : NULL;

    return v && v->type == HR_VAL_INTEGER ? v->u.i : -1;
}

/* Append "FILE:LINE: greylist.x message" for the key at @path. */
static void gl_config_error(hr_server *srv, apr_array_header_t *errors,
                            const char *path, const char *message)
{
    const hr_value *v = hr_value_lookup(srv->config, path);

    if (v != NULL) {
        APR_ARRAY_PUSH(errors, char *) = apr_psprintf(
            srv->pool, "%s:%d: %s %s", v->file, v->line, path, message);
    }
    else {
        APR_ARRAY_PUSH(errors, char *) = apr_psprintf(
            srv->pool, "%s: %s %s", srv->config_file, path, message);
    }
}

/* A generation is gone: its table leaves the list of live tables. */
static apr_status_t gl_table_cleanup(void *data)
{
    gl_table *t = data;

    pthread_mutex_lock(&gl_tables_lock);
    if (t->newer_table != NULL) {
        t->newer_table->older_table = t->older_table;
    }
    else {
        gl_newest_table = t->older_table;
    }
    if (t->older_table != NULL) {
        t->older_table->newer_table = t->newer_table;
    }
    pthread_mutex_unlock(&gl_tables_lock);
    return APR_SUCCESS;
}

/*
 * Copy the triplets of the newest live table (the running configuration,
 * on a reload) into @t, oldest first so the LRU order is kept, and adopt
 * its salt so that the digests stay the same.  Without this, a reload
 * would delay every known correspondent once more.
 */
static void gl_table_adopt(gl_table *t)
{
    gl_table *from;
    apr_uint32_t i;

    pthread_mutex_lock(&gl_tables_lock);
    from = gl_newest_table;
    if (from == NULL) {
        if (apr_generate_random_bytes(t->salt, sizeof(t->salt))
            != APR_SUCCESS) {
            /* XXX: weaker, but chains stay short for honest clients */
            apr_time_t now = apr_time_now();
            memcpy(t->salt, &now, sizeof(now));
        }
    }
    else {
        memcpy(t->salt, from->salt, sizeof(t->salt));
        apr_thread_mutex_lock(from->lock);
        for (i = from->oldest; i != GL_NONE; i = from->entries[i].newer) {
            const gl_entry *e = &from->entries[i];
            gl_insert(t, e->digest, e->first_seen, e->last_seen, e->passed);
        }
        apr_thread_mutex_unlock(from->lock);
        from->newer_table = t;
    }
    t->older_table = from;
    gl_newest_table = t;
    pthread_mutex_unlock(&gl_tables_lock);
}

/* Check the fixed settings and build this generation's triplet table. */
static int gl_post_config(hr_server *srv, apr_pool_t *ptemp,
                          apr_array_header_t *errors)
{
    apr_int64_t max_entries = gl_constant(srv, "greylist.max-entries");
    apr_int64_t expire = gl_constant(srv, "greylist.expire");
    apr_int64_t passed_expire = gl_constant(srv, "greylist.passed-expire");
    apr_int64_t ipv4_prefix = gl_constant(srv, "greylist.ipv4-prefix");
    apr_int64_t ipv6_prefix = gl_constant(srv, "greylist.ipv6-prefix");
    const hr_expr *delay = hr_setting(srv, "greylist.delay");
    apr_uint32_t buckets;
    int before = errors->nelts;
    gl_table *t;

    (void)ptemp;
    if (max_entries < 1 || max_entries > GL_MAX_ENTRIES) {
        gl_config_error(srv, errors, "greylist.max-entries",
                        apr_psprintf(srv->pool, "must be between 1 and %d",
                                     GL_MAX_ENTRIES));
    }
    if (expire <= 0) {
        gl_config_error(srv, errors, "greylist.expire",
                        "must be a positive duration");
    }
    if (passed_expire <= 0) {
        gl_config_error(srv, errors, "greylist.passed-expire",
                        "must be a positive duration");
    }
    if (ipv4_prefix < 0 || ipv4_prefix > 32) {
        gl_config_error(srv, errors, "greylist.ipv4-prefix",
                        "must be between 0 and 32");
    }
    if (ipv6_prefix < 0 || ipv6_prefix > 128) {
        gl_config_error(srv, errors, "greylist.ipv6-prefix",
                        "must be between 0 and 128");
    }
    if (delay != NULL && hr_expr_is_constant(delay) && expire > 0) {
        const hr_value *v = hr_expr_eval(delay, NULL, NULL);
        if (v->type == HR_VAL_INTEGER && v->u.i >= expire) {
            /* the triplet would be forgotten before its retry passed */
            gl_config_error(srv, errors, "greylist.delay",
                            "must be shorter than greylist.expire");
        }
    }
    if (errors->nelts > before) {
        return -1;
    }

    t = apr_pcalloc(srv->pool, sizeof(*t));
    if (apr_thread_mutex_create(&t->lock, APR_THREAD_MUTEX_DEFAULT,
                                srv->pool) != APR_SUCCESS) {
        APR_ARRAY_PUSH(errors, char *) = apr_psprintf(
            srv->pool, "%s: mod_greylist: cannot create a mutex",
            srv->config_file);
        return -1;
    }
    t->capacity = (apr_uint32_t)max_entries;
    buckets = 1;
    while (buckets < t->capacity) {
        buckets <<= 1;              /* about one entry per chain */
    }
    t->bucket_mask = buckets - 1;
    /* apr_palloc: the pages of a large table are touched only as it
     * fills up. */
    t->entries = apr_palloc(srv->pool, sizeof(gl_entry) * t->capacity);
    t->buckets = apr_palloc(srv->pool, sizeof(apr_uint32_t) * buckets);
    memset(t->buckets, 0xff, sizeof(apr_uint32_t) * buckets); /* GL_NONE */
    t->newest = t->oldest = GL_NONE;
    t->expire = (apr_interval_time_t)expire * 1000;
    t->passed_expire = (apr_interval_time_t)passed_expire * 1000;
    t->ipv4_prefix = (int)ipv4_prefix;
    t->ipv6_prefix = (int)ipv6_prefix;
    gl_table_adopt(t);
    apr_pool_cleanup_register(srv->pool, t, gl_table_cleanup,
                              apr_pool_cleanup_null);
    hr_module_config(srv, &greylist_module) = t;
    return 0;
}

static void gl_register_hooks(apr_pool_t *p)
{
    (void)p;
    /* Last: permanent refusals by other modules come first. */
    hr_hook_rcpt_check(gl_rcpt_check, NULL, NULL, APR_HOOK_LAST);
}

static const hr_config_key gl_keys[] = {
    {"greylist.enable", HR_KEY_BOOL, HR_KEY_EXPR, "true", HR_VARS_RCPT,
     "greylist this recipient"},
    {"greylist.delay", HR_KEY_DURATION, HR_KEY_EXPR, "\"5m\"", HR_VARS_RCPT,
     "a retry of a new triplet is accepted after this"},
    {"greylist.expire", HR_KEY_DURATION, 0, "\"4h\"", 0,
     "a new triplet not retried within this is forgotten"},
    {"greylist.passed-expire", HR_KEY_DURATION, 0, "\"36d\"", 0,
     "a passed triplet not seen for this long is forgotten"},
    {"greylist.whitelist-authenticated", HR_KEY_BOOL, HR_KEY_EXPR, "true",
     HR_VARS_RCPT, "authenticated sessions are never greylisted"},
    {"greylist.max-entries", HR_KEY_INTEGER, 0, "100000", 0,
     "triplets kept; the least recently seen is dropped first"},
    {"greylist.ipv4-prefix", HR_KEY_INTEGER, 0, "24", 0,
     "bits of an IPv4 client address that form its network"},
    {"greylist.ipv6-prefix", HR_KEY_INTEGER, 0, "64", 0,
     "bits of an IPv6 client address that form its network"},
    {NULL}};

HR_MODULE(greylist) = {HR_MODULE_STUFF, "mod_greylist", gl_keys, NULL,
                       gl_post_config, gl_register_hooks};
