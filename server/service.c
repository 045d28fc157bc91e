/*
 * service.c -- running as a system service: systemd notification and
 * dropping root privileges.
 *
 *     [server.run-as]
 *     user = "herald"
 *     group = "herald"
 *
 * Under systemd (Type=notify) Herald reports READY=1 once it listens,
 * RELOADING=1 / READY=1 around a SIGHUP reload, STOPPING=1 on SIGTERM and
 * a STATUS= line.  Without libsystemd at build time, or without
 * NOTIFY_SOCKET at run time, the calls do nothing.
 *
 * Privileges: ports and keys are opened as root, then the process becomes
 * run-as.user for good (setgroups, setgid, setuid, and a check that root
 * cannot be regained).  When run-as is set and cannot be applied, Herald
 * refuses to run rather than run as root.
 */
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <string.h>
#include <unistd.h>
#include <sys/types.h>
#include <apr_strings.h>

#include "hr_core.h"
#include "config.h"

#ifdef HAVE_SYSTEMD
#include <systemd/sd-daemon.h>
#endif

void hr_service_notify(const char *state)
{
#ifdef HAVE_SYSTEMD
    sd_notify(0, state);
#else
    (void)state;
#endif
}

/* A string under server.run-as, or NULL. */
static const char *run_as(hr_server *srv, const char *name)
{
    const hr_value *v = hr_value_lookup(srv->config,
                                        apr_pstrcat(srv->pool,
                                                    "server.run-as.", name,
                                                    NULL));
    return v && v->type == HR_VAL_STRING && v->u.s[0] ? v->u.s : NULL;
}

int hr_service_drop_privileges(hr_server *srv, int check_only,
                               apr_array_header_t *errors)
{
    const char *user = run_as(srv, "user");
    const char *group = run_as(srv, "group");
    struct passwd *pw;
    gid_t gid;

    if (user == NULL && group == NULL) {
        return 0;
    }
    if (user == NULL) {
        APR_ARRAY_PUSH(errors, char *) = apr_pstrdup(
            srv->pool, "server.run-as.group needs server.run-as.user");
        return -1;
    }
    pw = getpwnam(user);
    if (pw == NULL) {
        APR_ARRAY_PUSH(errors, char *) = apr_psprintf(
            srv->pool, "server.run-as.user: no user '%s'", user);
        return -1;
    }
    gid = pw->pw_gid;
    if (group != NULL) {
        struct group *gr = getgrnam(group);
        if (gr == NULL) {
            APR_ARRAY_PUSH(errors, char *) = apr_psprintf(
                srv->pool, "server.run-as.group: no group '%s'", group);
            return -1;
        }
        gid = gr->gr_gid;
    }
    if (check_only) {
        return 0;   /* the names resolve: the drop itself comes later */
    }
    if (getuid() == pw->pw_uid && geteuid() == pw->pw_uid &&
        getgid() == gid) {
        return 0;   /* already there */
    }
    /* the spool must stay writable by the new user */
    if (chown(srv->spool_dir, pw->pw_uid, gid) != 0 ||
        chown(apr_pstrcat(srv->pool, srv->spool_dir, "/tmp", NULL),
              pw->pw_uid, gid) != 0 ||
        chown(apr_pstrcat(srv->pool, srv->spool_dir, "/queue", NULL),
              pw->pw_uid, gid) != 0) {
        APR_ARRAY_PUSH(errors, char *) = apr_psprintf(
            srv->pool, "cannot give the spool %s to %s: %s", srv->spool_dir,
            user, strerror(errno));
        return -1;
    }
    if (setgroups(1, &gid) != 0 || setgid(gid) != 0 ||
        setuid(pw->pw_uid) != 0) {
        APR_ARRAY_PUSH(errors, char *) = apr_psprintf(
            srv->pool, "cannot switch to user %s: %s (refusing to run as "
            "root)", user, strerror(errno));
        return -1;
    }
    if (pw->pw_uid != 0 && setuid(0) == 0) {
        APR_ARRAY_PUSH(errors, char *) = apr_pstrdup(
            srv->pool, "privileges could be regained after dropping them");
        return -1;
    }
    hr_log(HR_LOG_NOTICE, "running as %s (uid %d, gid %d)", user,
           (int)pw->pw_uid, (int)gid);
    return 0;
}
