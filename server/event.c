/*
 * event.c -- listeners, the poller, the worker pool and the timers.
 *
 *     [server]
 *     workers = 16              # threads that run session steps
 *     max-connections = 4096    # more are answered 421 4.7.0 and closed
 *
 * Like httpd's event MPM: the main thread owns one epoll pollset holding
 * the listening sockets and every idle connection.  When a connection is
 * readable it leaves the pollset and a worker thread (apr_thread_pool)
 * runs one session step; afterwards the worker puts it back.  An idle
 * connection costs its buffers, never a thread.
 *
 * Timers live in one skiplist ordered by deadline: the idle timeout of
 * every connection in the pollset, and the wake-up of connections that
 * are being tarpitted after an error (session.errors.wait).  The poller
 * sleeps until the nearest deadline.
 *
 * SIGTERM/SIGINT stop the server: listeners close at once, sessions may
 * go on for server.stop-timeout (default 10s) to finish what they are
 * doing, then the rest get 421 4.3.2 (nothing answered 250 is ever lost:
 * the 250 follows the commit).  A second signal skips the wait.
 *
 * SIGHUP reloads: the new configuration is loaded and checked first (on
 * any error the old one stays, and every error is logged).  Then, with
 * the workers paused between steps (a rwlock), the hooks are swapped,
 * listeners whose address did not change keep their socket, new ones
 * open, removed ones close, and new sessions start on the new generation.
 * Sessions in flight finish on the generation they started with, which is
 * destroyed when its last session ends.
 */
#include <signal.h>
#include <sys/signalfd.h>
#include <string.h>
#include <unistd.h>
#include <apr_poll.h>
#include <apr_thread_pool.h>
#include <apr_skiplist.h>
#include <apr_atomic.h>
#include <apr_strings.h>
#include <apr_thread_rwlock.h>
#include <apr_portable.h>
#include <apr_file_info.h>

#include "session_core.h"

#define HR_STOP_GRACE apr_time_from_sec(10) /* for steps under way */

typedef enum { EV_START, EV_READ, EV_TIMEOUT, EV_WAKE, EV_STOP } hr_event;

/* What a pollset entry is: its client data starts with one of these. */
#define HR_TAG_CONN 0
#define HR_TAG_LISTENER 1
#define HR_TAG_SIGNAL 2

typedef struct hr_listen {
    int is_listener;            /* first member: HR_TAG_LISTENER */
    apr_socket_t *sock;
    const hr_listener *listener;
    const char *bind;           /* "ip:port" as configured */
    int keep;                   /* still wanted by the new generation */
} hr_listen;

typedef struct hr_conn {
    int is_listener;            /* first member: HR_TAG_CONN */
    hr_session *session;
    apr_pool_t *pool;
    apr_pollfd_t pfd;
    apr_time_t deadline;
    int sleeping;               /* the deadline is a wake-up */
    int in_pollset;
    int in_timers;
    hr_event event;
} hr_conn;

static struct {
    hr_server *srv;
    apr_pool_t *pool;
    apr_pollset_t *pollset;
    apr_thread_pool_t *workers;
    apr_thread_mutex_t *lock;   /* pollset membership and timers */
    apr_skiplist *timers;
    apr_array_header_t *listens;
    apr_thread_rwlock_t *generation_lock; /* steps read, reload writes */
    apr_array_header_t *retired;          /* old generations, hr_server * */
    volatile apr_uint32_t connections;
    volatile int stopping;
    int max_connections;
} loop;

static int timer_compare(void *a, void *b)
{
    hr_conn *x = a, *y = b;
    if (x->deadline != y->deadline) {
        return x->deadline < y->deadline ? -1 : 1;
    }
    return x == y ? 0 : (x < y ? -1 : 1);
}

/* Open one listening socket; NULL with an error appended on failure. */
static hr_listen *open_listen(const hr_listener *l, const char *bind,
                              apr_pool_t *p, apr_array_header_t *errors)
{
    char *host, *scope;
    apr_port_t port;
    apr_sockaddr_t *sa;
    apr_socket_t *sock;
    apr_status_t rv;
    char err[128];
    hr_listen *hl;

    {
        {
            rv = apr_parse_addr_port(&host, &scope, &port, bind, p);
            if (rv == APR_SUCCESS) {
                rv = apr_sockaddr_info_get(&sa, host, APR_UNSPEC, port, 0, p);
            }
            if (rv == APR_SUCCESS) {
                rv = apr_socket_create(&sock, sa->family, SOCK_STREAM,
                                       APR_PROTO_TCP, p);
            }
            if (rv == APR_SUCCESS) {
                apr_socket_opt_set(sock, APR_SO_REUSEADDR, 1);
                if (sa->family == APR_INET6) {
                    apr_socket_opt_set(sock, APR_IPV6_V6ONLY, 1);
                }
                rv = apr_socket_bind(sock, sa);
            }
            if (rv == APR_SUCCESS) {
                rv = apr_socket_listen(sock, 511);
            }
            if (rv != APR_SUCCESS) {
                APR_ARRAY_PUSH(errors, char *) = apr_psprintf(
                    p, "listener %s: cannot listen on %s: %s", l->id, bind,
                    apr_strerror(rv, err, sizeof(err)));
                return NULL;
            }
        }
    }
    apr_socket_opt_set(sock, APR_SO_NONBLOCK, 1);
    apr_socket_timeout_set(sock, 0);
    hl = apr_pcalloc(p, sizeof(*hl));
    hl->is_listener = HR_TAG_LISTENER;
    hl->sock = sock;
    hl->listener = l;
    hl->bind = apr_pstrdup(p, bind);
    hr_log(HR_LOG_NOTICE, "listening on %s (%s, %s)", bind, l->id,
           l->lmtp ? "lmtp" : "smtp");
    return hl;
}

int hr_event_listen(hr_server *srv, apr_pool_t *p, apr_array_header_t *errors)
{
    int i, j;

    loop.listens = apr_array_make(p, 4, sizeof(hr_listen *));
    for (i = 0; i < srv->listeners->nelts; i++) {
        hr_listener *l = APR_ARRAY_IDX(srv->listeners, i, hr_listener *);
        for (j = 0; j < l->binds->nelts; j++) {
            hr_listen *hl = open_listen(
                l, APR_ARRAY_IDX(l->binds, j, const char *), p, errors);
            if (hl != NULL) {
                APR_ARRAY_PUSH(loop.listens, hr_listen *) = hl;
            }
        }
    }
    return errors->nelts ? -1 : 0;
}

static void dispatch(hr_conn *conn, hr_event ev);

/* Put a connection back: into the pollset, or asleep (tarpit). */
static void rearm(hr_conn *conn)
{
    hr_session *s = conn->session;
    hr_session_core *c = HR_SCORE(s);
    apr_int64_t timeout = 300000;
    apr_time_t now = apr_time_now();

    if (!c->want_write && c->resume_fn == NULL && c->io->pending(c->io)) {
        dispatch(conn, EV_READ);   /* decrypted input is waiting */
        return;
    }
    hr_session_int(s, "session.timeout", &timeout);
    if (c->resume_fn != NULL && c->resume_timeout > 0) {
        timeout = apr_time_as_msec(c->resume_timeout);
    }
    apr_thread_mutex_lock(loop.lock);
    if (loop.stopping) {
        apr_thread_mutex_unlock(loop.lock);
        dispatch(conn, EV_STOP);
        return;
    }
    if (c->delay > 0) {
        conn->sleeping = 1;
        conn->deadline = now + c->delay;
    }
    else {
        conn->sleeping = 0;
        conn->deadline = now + apr_time_from_msec(timeout);
        if (c->hard_deadline && conn->deadline > c->hard_deadline) {
            conn->deadline = c->hard_deadline;
        }
        /* parked by a module (a TLS handshake): what it waits for; a
         * slow reader: room to write, and no more input meanwhile */
        conn->pfd.reqevents = c->resume_fn ? c->resume_events
                              : c->want_write ? APR_POLLOUT : APR_POLLIN;
        if (apr_pollset_add(loop.pollset, &conn->pfd) == APR_SUCCESS) {
            conn->in_pollset = 1;
        }
    }
    apr_skiplist_insert(loop.timers, conn);
    conn->in_timers = 1;
    apr_thread_mutex_unlock(loop.lock);
}

/* Take a connection out of the pollset and the timers (lock held). */
static void unarm(hr_conn *conn)
{
    if (conn->in_pollset) {
        apr_pollset_remove(loop.pollset, &conn->pfd);
        conn->in_pollset = 0;
    }
    if (conn->in_timers) {
        apr_skiplist_remove(loop.timers, conn, NULL);
        conn->in_timers = 0;
    }
}

static void conn_finish(hr_conn *conn)
{
    hr_core_server *generation = HR_CORE(conn->session->server);

    hr_session_end(conn->session);
    apr_pool_destroy(conn->pool);   /* closes the socket */
    apr_atomic_dec32(&generation->refcount);   /* the poller frees it */
    apr_atomic_dec32(&loop.connections);
}

/* A worker runs one step of a session. */
static void *APR_THREAD_FUNC conn_task(apr_thread_t *thread, void *data)
{
    hr_conn *conn = data;
    hr_session *s = conn->session;
    int close = 0;

    /* a reload swaps the hooks only between steps */
    apr_thread_rwlock_rdlock(loop.generation_lock);
    switch (conn->event) {
    case EV_START:
        close = hr_session_start(s);
        break;
    case EV_TIMEOUT:
        if (HR_SCORE(s)->resume_fn != NULL) {
            /* a parked step (TLS handshake) that never completed: there
             * is no channel to send a reply in */
            hr_log_session(s, HR_LOG_INFO, "timed out while waiting");
        }
        else if (HR_SCORE(s)->hard_deadline &&
            apr_time_now() >= HR_SCORE(s)->hard_deadline) {
            hr_session_abort(s, 421, "4.4.2", "Session too long, closing "
                             "connection");
        }
        else {
            /* RFC 5321 §4.5.3.2: the server may time out an idle client */
            hr_session_abort(s, 421, "4.4.2", "Timeout, closing connection");
        }
        close = 1;
        break;
    case EV_STOP:
        hr_session_abort(s, 421, "4.3.2", "Service shutting down, closing "
                         "connection");
        close = 1;
        break;
    case EV_READ:
    case EV_WAKE:
        close = hr_session_step(s);
        break;
    }
    if (close) {
        conn_finish(conn);
    }
    apr_thread_rwlock_unlock(loop.generation_lock);
    if (!close) {
        rearm(conn);
    }
    return NULL;
}

static void dispatch(hr_conn *conn, hr_event ev)
{
    conn->event = ev;
    if (apr_thread_pool_push(loop.workers, conn_task, conn,
                             APR_THREAD_TASK_PRIORITY_NORMAL, NULL)
        != APR_SUCCESS) {
        conn_task(NULL, conn);   /* XXX: no thread to be had: run here */
    }
}

/* Accept what is waiting on one listener. */
static void accept_connections(hr_listen *hl)
{
    int n;

    for (n = 0; n < 64; n++) {
        apr_pool_t *p;
        apr_socket_t *client;
        hr_conn *conn;
        apr_int64_t duration = 0;

        if (apr_pool_create_unmanaged_ex(&p, NULL, NULL) != APR_SUCCESS) {
            return;
        }
        if (apr_socket_accept(&client, hl->sock, p) != APR_SUCCESS) {
            apr_pool_destroy(p);
            return;
        }
        apr_socket_opt_set(client, APR_SO_NONBLOCK, 1);
        apr_socket_timeout_set(client, 0);
        if (apr_atomic_read32(&loop.connections) >=
            (apr_uint32_t)loop.max_connections) {
            static const char busy[] =
                "421 4.7.0 Too many connections, try again later\r\n";
            apr_size_t len = sizeof(busy) - 1;
            apr_socket_send(client, busy, &len);
            apr_pool_destroy(p);
            continue;
        }
        apr_atomic_inc32(&loop.connections);
        apr_atomic_inc32(&HR_CORE(loop.srv)->refcount);
        conn = apr_pcalloc(p, sizeof(*conn));
        conn->pool = p;
        conn->session = hr_session_create(loop.srv, hl->listener, client, p);
        conn->session->core->event = conn;
        conn->pfd.p = p;
        conn->pfd.desc_type = APR_POLL_SOCKET;
        conn->pfd.desc.s = client;
        conn->pfd.client_data = conn;
        if (hr_session_int(conn->session, "session.duration", &duration) &&
            duration > 0) {
            conn->session->core->hard_deadline =
                apr_time_now() + apr_time_from_msec(duration);
        }
        dispatch(conn, EV_START);
    }
}

/* Dispatch every connection whose deadline passed. */
static void expire_timers(void)
{
    apr_time_t now = apr_time_now();
    hr_conn *due[64];
    int n = 0, i;

    apr_thread_mutex_lock(loop.lock);
    while (n < 64) {
        hr_conn *conn = apr_skiplist_peek(loop.timers);
        if (conn == NULL || conn->deadline > now) {
            break;
        }
        unarm(conn);
        due[n++] = conn;
    }
    apr_thread_mutex_unlock(loop.lock);
    for (i = 0; i < n; i++) {
        dispatch(due[i], due[i]->sleeping ? EV_WAKE : EV_TIMEOUT);
    }
}

/* How long the poller may sleep: until the nearest deadline, at most 1s. */
static apr_interval_time_t poll_timeout(void)
{
    apr_interval_time_t t = apr_time_from_sec(1);
    hr_conn *next;

    apr_thread_mutex_lock(loop.lock);
    next = apr_skiplist_peek(loop.timers);
    if (next != NULL) {
        apr_time_t left = next->deadline - apr_time_now();
        t = left < 0 ? 0 : (left < t ? left : t);
    }
    apr_thread_mutex_unlock(loop.lock);
    return t;
}

/* A pending SIGTERM/SIGINT/SIGHUP, or 0.  (They are blocked everywhere
 * and collected here by the poller; a signalfd in the pollset wakes it.) */
static int pending_signal(void)
{
    sigset_t set;
    siginfo_t info;
    struct timespec zero = {0, 0};

    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGHUP);
    return sigtimedwait(&set, &info, &zero) > 0 ? info.si_signo : 0;
}

/*
 * Make the blocked signals wake the poller: a signalfd in the pollset
 * becomes readable while one is pending (Linux).  Without it the poller
 * still sees them within a second.
 */
static void watch_signals(sigset_t *set, apr_pool_t *p)
{
    static int signal_tag = HR_TAG_SIGNAL;
    apr_os_file_t fd = signalfd(-1, set, SFD_NONBLOCK | SFD_CLOEXEC);
    apr_pollfd_t pfd = {p, APR_POLL_FILE, APR_POLLIN, 0, {NULL},
                        &signal_tag};
    apr_file_t *file;

    if (fd < 0 || apr_os_file_put(&file, &fd, APR_FOPEN_READ, p)
                      != APR_SUCCESS) {
        return;
    }
    pfd.desc.f = file;
    apr_pollset_add(loop.pollset, &pfd);
}

/* Messages committed in the spool (files named ID.env in queue/). */
static int queue_size(apr_pool_t *p)
{
    apr_pool_t *tmp;
    apr_dir_t *dir;
    apr_finfo_t fi;
    int count = 0;

    apr_pool_create(&tmp, p);
    if (apr_dir_open(&dir, apr_pstrcat(tmp, loop.srv->spool_dir, "/queue",
                                       NULL), tmp) == APR_SUCCESS) {
        while (apr_dir_read(&fi, APR_FINFO_NAME, dir) == APR_SUCCESS) {
            size_t len = strlen(fi.name);
            count += len > 4 && strcmp(fi.name + len - 4, ".env") == 0;
        }
        apr_dir_close(dir);
    }
    apr_pool_destroy(tmp);
    return count;
}

/* Tell systemd how we are doing. */
static void notify_status(const char *state, apr_pool_t *p)
{
    char line[160];

    apr_snprintf(line, sizeof(line), "%s%sSTATUS=%u sessions, %d queued",
                 state ? state : "", state ? "\n" : "",
                 apr_atomic_read32(&loop.connections), queue_size(p));
    hr_service_notify(line);
}

/* Swap in a new generation: listeners, hooks, then new sessions. */
static void reload(hr_reload_fn *load, apr_pool_t *p)
{
    apr_array_header_t *errors = apr_array_make(p, 4, sizeof(char *));
    apr_array_header_t *opened = apr_array_make(p, 4, sizeof(hr_listen *));
    hr_server *next;
    int i, j, k;

    hr_service_notify("RELOADING=1");
    hr_log(HR_LOG_NOTICE, "reloading %s", loop.srv->config_file);
    next = load(p);
    if (next == NULL) {
        hr_log(HR_LOG_ERR, "reload failed: keeping the running "
               "configuration");
        notify_status("READY=1", p);
        return;
    }
    /* open what is new before anything is closed */
    for (i = 0; i < loop.listens->nelts; i++) {
        APR_ARRAY_IDX(loop.listens, i, hr_listen *)->keep = 0;
    }
    for (i = 0; i < next->listeners->nelts; i++) {
        hr_listener *l = APR_ARRAY_IDX(next->listeners, i, hr_listener *);
        for (j = 0; j < l->binds->nelts; j++) {
            const char *bind = APR_ARRAY_IDX(l->binds, j, const char *);
            hr_listen *found = NULL;
            for (k = 0; k < loop.listens->nelts; k++) {
                hr_listen *hl = APR_ARRAY_IDX(loop.listens, k, hr_listen *);
                if (strcmp(hl->bind, bind) == 0) {
                    found = hl;
                }
            }
            if (found != NULL) {
                found->keep = 1;
                found->listener = l;
                continue;
            }
            found = open_listen(l, bind, p, errors);
            if (found != NULL) {
                found->keep = 1;
                APR_ARRAY_PUSH(opened, hr_listen *) = found;
            }
        }
    }
    for (i = 0; i < errors->nelts; i++) {
        hr_log(HR_LOG_ERR, "reload: %s", APR_ARRAY_IDX(errors, i, char *));
    }

    apr_thread_rwlock_wrlock(loop.generation_lock);
    hr_modules_register_hooks(next);
    HR_CORE(loop.srv)->retired = 1;
    APR_ARRAY_PUSH(loop.retired, hr_server *) = loop.srv;
    loop.srv = next;
    apr_thread_rwlock_unlock(loop.generation_lock);

    for (i = 0; i < loop.listens->nelts; i++) {
        hr_listen *hl = APR_ARRAY_IDX(loop.listens, i, hr_listen *);
        apr_pollfd_t pfd = {p, APR_POLL_SOCKET, APR_POLLIN, 0, {NULL}, hl};
        if (hl->keep) {
            continue;
        }
        pfd.desc.s = hl->sock;
        apr_pollset_remove(loop.pollset, &pfd);
        apr_socket_close(hl->sock);
        hr_log(HR_LOG_NOTICE, "closed listener %s", hl->bind);
        APR_ARRAY_IDX(loop.listens, i, hr_listen *) =
            APR_ARRAY_IDX(loop.listens, loop.listens->nelts - 1, hr_listen *);
        loop.listens->nelts--;
        i--;
    }
    for (i = 0; i < opened->nelts; i++) {
        hr_listen *hl = APR_ARRAY_IDX(opened, i, hr_listen *);
        apr_pollfd_t pfd = {p, APR_POLL_SOCKET, APR_POLLIN, 0, {NULL}, hl};
        pfd.desc.s = hl->sock;
        apr_pollset_add(loop.pollset, &pfd);
        APR_ARRAY_PUSH(loop.listens, hr_listen *) = hl;
    }
    hr_log(HR_LOG_NOTICE, "reloaded: %d listeners", loop.listens->nelts);
    notify_status("READY=1", p);
}

/* Destroy old generations that no session uses any more. */
static void free_retired(void)
{
    int i;

    for (i = 0; i < loop.retired->nelts; i++) {
        hr_server *old = APR_ARRAY_IDX(loop.retired, i, hr_server *);
        if (apr_atomic_read32(&HR_CORE(old)->refcount) != 0) {
            continue;
        }
        apr_pool_destroy(old->pool);   /* unloads its DSO references */
        APR_ARRAY_IDX(loop.retired, i, hr_server *) =
            APR_ARRAY_IDX(loop.retired, loop.retired->nelts - 1, hr_server *);
        loop.retired->nelts--;
        i--;
    }
}

/* The first step of a stop: no new connections. */
static void stop_listening(apr_pool_t *p)
{
    int i;

    hr_service_notify("STOPPING=1");
    hr_log(HR_LOG_NOTICE, "stopping: %u connections",
           apr_atomic_read32(&loop.connections));
    for (i = 0; i < loop.listens->nelts; i++) {
        hr_listen *hl = APR_ARRAY_IDX(loop.listens, i, hr_listen *);
        apr_pollfd_t pfd = {p, APR_POLL_SOCKET, APR_POLLIN, 0, {NULL}, hl};
        pfd.desc.s = hl->sock;
        apr_pollset_remove(loop.pollset, &pfd);
        apr_socket_close(hl->sock);
    }
    loop.listens->nelts = 0;
}

/* The end of a stop: 421 to idle sessions, wait for busy ones. */
static void stop_everything(void)
{
    apr_time_t until = apr_time_now() + HR_STOP_GRACE;

    apr_thread_mutex_lock(loop.lock);
    loop.stopping = 1;
    for (;;) {
        hr_conn *conn = apr_skiplist_peek(loop.timers);
        if (conn == NULL) {
            break;
        }
        unarm(conn);
        apr_thread_mutex_unlock(loop.lock);
        dispatch(conn, EV_STOP);
        apr_thread_mutex_lock(loop.lock);
    }
    apr_thread_mutex_unlock(loop.lock);
    while (apr_atomic_read32(&loop.connections) > 0 &&
           apr_time_now() < until) {
        apr_sleep(apr_time_from_msec(20));
    }
    apr_thread_pool_destroy(loop.workers);
}

/* A constant integer setting within [lo, hi] (unchanged otherwise). */
static void server_int(hr_server *srv, const char *path, apr_int64_t lo,
                       apr_int64_t hi, apr_int64_t *out)
{
    const hr_expr *e = hr_setting(srv, path);
    const hr_value *v = e ? hr_expr_eval(e, NULL, NULL) : NULL;

    if (v && v->type == HR_VAL_INTEGER && v->u.i >= lo && v->u.i <= hi) {
        *out = v->u.i;
    }
}

int hr_event_run(hr_server *srv, apr_pool_t *p, hr_reload_fn *load)
{
    apr_int64_t workers = 16, maxconn = 4096, stop_ms = 10000;
    apr_time_t drain_until = 0, next_status;
    sigset_t set;
    int i;

    loop.srv = srv;
    loop.pool = p;
    server_int(srv, "server.workers", 1, 1024, &workers);
    server_int(srv, "server.max-connections", 1, 1000000, &maxconn);
    server_int(srv, "server.stop-timeout", 0, 3600000, &stop_ms);
    loop.max_connections = (int)maxconn;

    /* Signals are collected by the poller, never delivered to workers. */
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);

    apr_thread_mutex_create(&loop.lock, APR_THREAD_MUTEX_DEFAULT, p);
    apr_thread_rwlock_create(&loop.generation_lock, p);
    loop.retired = apr_array_make(p, 2, sizeof(hr_server *));
    apr_skiplist_init(&loop.timers, p);
    apr_skiplist_set_compare(loop.timers, timer_compare, timer_compare);
    if (apr_pollset_create_ex(&loop.pollset,
                              (apr_uint32_t)maxconn + loop.listens->nelts, p,
                              APR_POLLSET_THREADSAFE, APR_POLLSET_DEFAULT)
        != APR_SUCCESS ||
        apr_thread_pool_create(&loop.workers, 2, (apr_size_t)workers, p)
        != APR_SUCCESS) {
        hr_log(HR_LOG_ERR, "cannot create the poller or the workers");
        return 1;
    }
    for (i = 0; i < loop.listens->nelts; i++) {
        hr_listen *hl = APR_ARRAY_IDX(loop.listens, i, hr_listen *);
        apr_pollfd_t pfd = {p, APR_POLL_SOCKET, APR_POLLIN, 0, {NULL}, hl};
        pfd.desc.s = hl->sock;
        apr_pollset_add(loop.pollset, &pfd);
    }
    watch_signals(&set, p);
    hr_log(HR_LOG_NOTICE, "Herald %s ready, %d workers", HERALD_VERSION,
           (int)workers);
    notify_status("READY=1", p);
    next_status = apr_time_now() + apr_time_from_sec(30);

    for (;;) {
        const apr_pollfd_t *ready;
        apr_int32_t n = 0;
        int sig = pending_signal();

        if (sig == SIGTERM || sig == SIGINT) {
            if (drain_until != 0) {
                break;   /* a second signal: now */
            }
            stop_listening(p);
            drain_until = apr_time_now() + apr_time_from_msec(stop_ms);
        }
        if (drain_until != 0 &&
            (apr_atomic_read32(&loop.connections) == 0 ||
             apr_time_now() >= drain_until)) {
            break;
        }
        if (sig == SIGHUP && load != NULL) {
            reload(load, p);
        }
        free_retired();
        if (apr_time_now() >= next_status) {
            notify_status(NULL, p);   /* systemctl status shows it */
            next_status = apr_time_now() + apr_time_from_sec(30);
        }

        /* while draining, look at the connection count often */
        if (apr_pollset_poll(loop.pollset,
                             drain_until ? apr_time_from_msec(20)
                                         : poll_timeout(),
                             &n, &ready) == APR_SUCCESS) {
            for (i = 0; i < n; i++) {
                int *tag = ready[i].client_data;
                hr_conn *conn;

                if (*tag == HR_TAG_SIGNAL) {
                    continue;   /* taken by pending_signal() above */
                }
                if (*tag == HR_TAG_LISTENER) {
                    accept_connections((hr_listen *)tag);
                    continue;
                }
                conn = (hr_conn *)tag;
                apr_thread_mutex_lock(loop.lock);
                if (!conn->in_pollset) {
                    apr_thread_mutex_unlock(loop.lock);
                    continue;   /* already taken by a timer */
                }
                unarm(conn);
                apr_thread_mutex_unlock(loop.lock);
                /* a deadline that passed while the poller slept wins over
                 * the input that woke it (session.duration) */
                dispatch(conn, !conn->sleeping &&
                                       conn->deadline <= apr_time_now()
                                   ? EV_TIMEOUT : EV_READ);
            }
        }
        expire_timers();
    }
    stop_everything();
    hr_log(HR_LOG_NOTICE, "stopped");
    return 0;
}
