/*
 * log.c -- one line per event, to stderr (the journal under systemd) or
 * syslog.
 *
 *     [server.log]            (command line: herald -l syslog|stderr)
 *
 * Lines are written with a single write() so that lines from different
 * worker threads never interleave.  Anything that came from a client goes
 * through hr_log_escape() first: a client must not be able to forge log
 * lines with CR/LF or terminal escapes.
 */
#include <stdio.h>
#include <stdarg.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>
#include <fcntl.h>
#include <apr_strings.h>
#include <apr_time.h>

#include "hr_core.h"

static int log_to_syslog;
static int log_fd = STDERR_FILENO;
static int log_level = HR_LOG_INFO;

int hr_log_init(const char *target, int level)
{
    log_level = level;
    if (target != NULL && strcmp(target, "syslog") == 0) {
        openlog("herald", LOG_PID | LOG_NDELAY, LOG_MAIL);
        log_to_syslog = 1;
    }
    else if (target != NULL && target[0] == '/') {
        /* O_APPEND: each line is one write, whole, from any thread */
        int fd = open(target, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC,
                      0640);
        if (fd < 0) {
            return -1;
        }
        log_fd = fd;
    }
    return 0;
}

static void log_write(hr_log_level level, const char *prefix,
                      const char *fmt, va_list ap)
{
    char line[2048];
    int n = 0;

    if ((int)level > log_level) {
        return;
    }
    if (!log_to_syslog) {
        char stamp[APR_CTIME_LEN];
        apr_time_exp_t tm;
        apr_size_t len;

        apr_time_exp_gmt(&tm, apr_time_now());
        apr_strftime(stamp, &len, sizeof(stamp), "%Y-%m-%dT%H:%M:%SZ", &tm);
        n = snprintf(line, sizeof(line), "%s herald[%d]: ", stamp,
                     (int)getpid());
    }
    if (prefix != NULL) {
        n += snprintf(line + n, sizeof(line) - n, "%s: ", prefix);
    }
    vsnprintf(line + n, sizeof(line) - n, fmt, ap);
    if (log_to_syslog) {
        syslog(level, "%s", line);
        return;
    }
    n = strlen(line);
    if (n >= (int)sizeof(line) - 1) {
        n = sizeof(line) - 2;
    }
    line[n++] = '\n';
    if (write(log_fd, line, n) < 0) {
        /* nowhere left to report it */
    }
}

HR_DECLARE(void) hr_log(hr_log_level level, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    log_write(level, NULL, fmt, ap);
    va_end(ap);
}

HR_DECLARE(void) hr_log_session(hr_session *s, hr_log_level level,
                                const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    log_write(level, s->id, fmt, ap);
    va_end(ap);
}

HR_DECLARE(const char *) hr_log_escape(apr_pool_t *p, const char *str,
                                       apr_size_t max)
{
    static const char hex[] = "0123456789abcdef";
    apr_size_t len, i, o = 0;
    char *out;

    if (str == NULL) {
        return "";
    }
    len = strlen(str);
    if (len > max) {
        len = max;
    }
    out = apr_palloc(p, len * 4 + 4);
    for (i = 0; i < len; i++) {
        unsigned char c = (unsigned char)str[i];
        if (c < 0x20 || c == 0x7f || c == '\\') {
            out[o++] = '\\';
            out[o++] = 'x';
            out[o++] = hex[c >> 4];
            out[o++] = hex[c & 15];
        }
        else {
            out[o++] = c;   /* UTF-8 passes: the journal shows it */
        }
    }
    if (strlen(str) > max) {
        memcpy(out + o, "...", 3);
        o += 3;
    }
    out[o] = '\0';
    return out;
}
