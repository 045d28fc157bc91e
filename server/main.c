/*
 * main.c -- the herald command: run the server, check a configuration,
 * list modules, inspect the queue.
 *
 *     herald -f FILE            run in the foreground
 *     herald -f FILE -t         check the configuration: exit 0, or 1 with
 *                               every error as FILE:LINE: message
 *     herald -f FILE -M         list loaded modules and what they own
 *     herald -f FILE queue list [--json]
 *     herald -f FILE queue show ID [--json]
 *     herald -V                 version
 *     herald -l syslog ...      log to syslog (LOG_MAIL) instead of stderr
 *     herald -l /var/log/herald.log ...   or append to a file
 *
 * Without -f the installed configuration is used
 * ($sysconfdir/herald/herald.toml).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <apr_general.h>
#include <apr_getopt.h>
#include <apr_strings.h>
#include <apr_file_io.h>

#include "hr_core.h"
#include "spool.h"

static const char *config_file = HR_SYSCONF_DIR "/herald.toml";

/* SIGHUP: load and check the configuration again (hr_event_run swaps). */
static hr_server *reload_config(apr_pool_t *p)
{
    apr_array_header_t *errors = apr_array_make(p, 8, sizeof(char *));
    apr_array_header_t *warnings = apr_array_make(p, 8, sizeof(char *));
    hr_server *srv = hr_config_load(p, config_file, 1, errors, warnings);
    const char *why = NULL;
    int i;

    for (i = 0; i < errors->nelts; i++) {
        hr_log(HR_LOG_ERR, "%s", APR_ARRAY_IDX(errors, i, char *));
    }
    if (srv == NULL) {
        return NULL;
    }
    for (i = 0; i < warnings->nelts; i++) {
        hr_log(HR_LOG_WARNING, "%s", APR_ARRAY_IDX(warnings, i, char *));
    }
    if (hr_spool_init(srv->pool, srv->spool_dir, &why) != 0) {
        hr_log(HR_LOG_ERR, "spool %s: %s", srv->spool_dir, why);
        apr_pool_destroy(srv->pool);
        return NULL;
    }
    return srv;
}

static void usage(void)
{
    fprintf(stderr,
            "usage: herald [-f FILE] [-l stderr|syslog|/PATH] [-t|-M|-d]\n"
            "       herald [-f FILE] queue list [--json]\n"
            "       herald [-f FILE] queue show ID [--json]\n"
            "       herald -V\n"
            "  -f FILE  configuration (default %s/herald.toml)\n"
            "  -t       check the configuration and exit\n"
            "  -M       list the loaded modules and what they own\n"
            "  -d       log debug detail\n"
            "  -l WHERE log to stderr (default, the journal), syslog, or "
            "a file\n"
            "  -V       print the version\n",
            HR_SYSCONF_DIR);
}

static void print_lines(const char *prefix, apr_array_header_t *lines)
{
    int i;
    for (i = 0; i < lines->nelts; i++) {
        fprintf(stderr, "%s%s\n", prefix, APR_ARRAY_IDX(lines, i, char *));
    }
}

/* Write the pid file when server.pid-file is set. */
static int write_pid_file(hr_server *srv, apr_pool_t *p)
{
    const hr_value *v = hr_value_lookup(srv->config, "server.pid-file");
    apr_file_t *f;

    if (v == NULL || v->type != HR_VAL_STRING || v->u.s[0] == '\0') {
        return 0;
    }
    if (apr_file_open(&f, v->u.s, APR_FOPEN_WRITE | APR_FOPEN_CREATE |
                      APR_FOPEN_TRUNCATE, APR_FPROT_OS_DEFAULT, p)
        != APR_SUCCESS) {
        hr_log(HR_LOG_ERR, "cannot write pid file %s", v->u.s);
        return -1;
    }
    apr_file_printf(f, "%d\n", (int)getpid());
    apr_file_close(f);
    return 0;
}

int main(int argc, const char *const *argv)
{
    apr_pool_t *pool;
    apr_getopt_t *opt;
    apr_array_header_t *errors, *warnings;
    const char *file = config_file;
    const char *arg;
    const char *log_target = "stderr";
    int check = 0, list_modules = 0, debug = 0, queue_cmd;
    hr_server *srv;
    const char *why = NULL;
    apr_status_t rv;
    char ch;

    if (apr_app_initialize(&argc, &argv, NULL) != APR_SUCCESS) {
        fprintf(stderr, "herald: cannot initialize APR\n");
        return 1;
    }
    atexit(apr_terminate);
    apr_pool_create(&pool, NULL);
    apr_getopt_init(&opt, pool, argc, argv);
    while ((rv = apr_getopt(opt, "f:l:tMVdh", &ch, &arg)) == APR_SUCCESS) {
        switch (ch) {
        case 'f':
            file = arg;
            break;
        case 't':
            check = 1;
            break;
        case 'M':
            list_modules = 1;
            break;
        case 'd':
            debug = 1;
            break;
        case 'l':
            if (strcmp(arg, "stderr") != 0 && strcmp(arg, "syslog") != 0 &&
                arg[0] != '/') {
                usage();
                return 2;
            }
            log_target = arg;
            break;
        case 'V':
            printf("Herald %s (module API %d.%d)\n", HERALD_VERSION,
                   HR_API_MAJOR, HR_API_MINOR);
            return 0;
        default:
            usage();
            return 2;
        }
    }
    if (rv != APR_EOF) {
        usage();
        return 2;
    }
    queue_cmd = opt->ind < argc && strcmp(argv[opt->ind], "queue") == 0;
    if (opt->ind < argc && !queue_cmd) {
        usage();
        return 2;
    }
    if (hr_log_init(log_target, debug ? HR_LOG_DEBUG : HR_LOG_INFO) != 0) {
        fprintf(stderr, "herald: cannot open log file %s\n", log_target);
        return 1;
    }
    config_file = file;

    errors = apr_array_make(pool, 8, sizeof(char *));
    warnings = apr_array_make(pool, 8, sizeof(char *));
    srv = hr_config_load(pool, file, !queue_cmd, errors, warnings);
    print_lines("warning: ", warnings);
    if (srv == NULL) {
        print_lines("", errors);
        fprintf(stderr, "herald: %d error(s) in the configuration\n",
                errors->nelts);
        return 1;
    }
    if (queue_cmd) {
        return hr_queue_cli(pool, srv->spool_dir, argc - opt->ind,
                            argv + opt->ind);
    }
    if (check) {
        printf("%s: configuration OK\n", file);
        return 0;
    }
    if (list_modules) {
        hr_modules_print(srv);
        return 0;
    }
    if (hr_spool_init(pool, srv->spool_dir, &why) != 0) {
        hr_log(HR_LOG_ERR, "spool %s: %s", srv->spool_dir, why);
        return 1;
    }
    if (srv->listeners->nelts == 0) {
        hr_log(HR_LOG_ERR, "%s: no [server.listener.<id>] configured", file);
        return 1;
    }
    if (hr_service_drop_privileges(srv, 1, errors) != 0) {
        print_lines("herald: ", errors);
        return 1;
    }
    if (hr_event_listen(srv, pool, errors) != 0) {
        print_lines("", errors);
        return 1;
    }
    if (write_pid_file(srv, pool) != 0) {
        return 1;
    }
    if (hr_service_drop_privileges(srv, 0, errors) != 0) {
        print_lines("herald: ", errors);
        return 1;
    }
    hr_modules_register_hooks(srv);
    return hr_event_run(srv, pool, reload_config);
}
