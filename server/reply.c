/*
 * reply.c -- formatting replies into the session's output buffer.
 *
 * Every reply carries an enhanced status code (RFC 2034 §4: "the
 * enhanced status code MUST be the first token of each reply line").
 * Multi-line replies repeat both codes on each line with '-' after the
 * code on all lines but the last (RFC 5321 §4.2.1).  Text that may come
 * from a client (a domain in a reject message, a Sieve reason) is cleaned
 * of CR, LF and other controls so it can never split the reply or forge
 * another one.
 */
#include <stdio.h>
#include <stdarg.h>
#include <string.h>
#include <apr_strings.h>
#include <apr_lib.h>

#include "session_core.h"

#define HR_REPLY_LINE_MAX 998   /* RFC 5321 §4.5.3.1.5: 512 is the floor */

void hr_out_append(hr_session *s, const char *data, apr_size_t len)
{
    hr_session_core *c = HR_SCORE(s);

    if (c->out_len + len > c->out_cap) {
        apr_size_t cap = c->out_cap ? c->out_cap : 4096;
        char *bigger;
        while (cap < c->out_len + len) {
            cap *= 2;
        }
        bigger = apr_palloc(s->pool, cap);
        if (c->out_len > 0) {
            memcpy(bigger, c->out, c->out_len);
        }
        c->out = bigger;   /* the old buffer goes with the session pool */
        c->out_cap = cap;
    }
    memcpy(c->out + c->out_len, data, len);
    c->out_len += len;
}

/* Append one reply line: "250-2.0.0 text\r\n". */
static void reply_line(hr_session *s, int code, const char *enhanced,
                       int last, const char *text, apr_size_t len)
{
    char head[32];
    char clean[HR_REPLY_LINE_MAX];
    apr_size_t i, n;

    if (len > sizeof(clean) - 40) {
        len = sizeof(clean) - 40;
    }
    for (i = 0; i < len; i++) {
        unsigned char ch = (unsigned char)text[i];
        clean[i] = (ch < 0x20 || ch == 0x7f) ? ' ' : (char)ch;
    }
    n = (apr_size_t)snprintf(head, sizeof(head), "%03d%c%s%s", code,
                             last ? ' ' : '-', enhanced ? enhanced : "",
                             enhanced && len ? " " : "");
    hr_out_append(s, head, n);
    hr_out_append(s, clean, len);
    hr_out_append(s, "\r\n", 2);
}

HR_DECLARE(void) hr_reply(hr_session *s, int code, const char *enhanced,
                          const char *fmt, ...)
{
    const char *text, *line;
    va_list ap;

    va_start(ap, fmt);
    text = apr_pvsprintf(s->pool, fmt, ap);
    va_end(ap);
    line = text;
    for (;;) {
        const char *nl = strchr(line, '\n');
        if (nl == NULL) {
            reply_line(s, code, enhanced, 1, line, strlen(line));
            break;
        }
        reply_line(s, code, enhanced, 0, line, nl - line);
        line = nl + 1;
    }
    if (code >= 400) {
        hr_log_session(s, HR_LOG_INFO, "reply: %d %s %s", code,
                       enhanced ? enhanced : "",
                       hr_log_escape(s->pool, text, 200));
    }
}

HR_DECLARE(void) hr_reply_raw(hr_session *s, const char *line)
{
    int code = 0;
    const char *rest = line;
    const char *enhanced = NULL;
    char esc[16];

    /* "551 5.1.1 text": split so that the same cleaning applies */
    if (apr_isdigit(line[0]) && apr_isdigit(line[1]) &&
        apr_isdigit(line[2]) && (line[3] == ' ' || line[3] == '\0')) {
        code = (line[0] - '0') * 100 + (line[1] - '0') * 10 + line[2] - '0';
        rest = line[3] ? line + 4 : line + 3;
        if (apr_isdigit(rest[0]) && rest[1] == '.') {
            apr_size_t n = strcspn(rest, " ");
            if (n < sizeof(esc)) {
                memcpy(esc, rest, n);
                esc[n] = '\0';
                enhanced = esc;
                rest += n;
                while (*rest == ' ') {
                    rest++;
                }
            }
        }
    }
    if (code < 200 || code > 599) {
        hr_reply(s, 550, "5.7.1", "%s", line);
        return;
    }
    /* RFC 3463 §2: the class of the enhanced code matches the reply's */
    if (enhanced == NULL || enhanced[0] != line[0]) {
        snprintf(esc, sizeof(esc), "%c.0.0", line[0]);
        enhanced = esc;
    }
    hr_reply(s, code, enhanced, "%s", rest);
}
