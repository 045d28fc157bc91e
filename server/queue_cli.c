/*
 * queue_cli.c -- `herald queue ...`: look at the spool from the shell.
 *
 *     herald queue list [--json]     one line per committed message:
 *         ID  ARRIVAL  SIZE  SENDER  RCPTS    (or a JSON array)
 *     herald queue show ID [--json]  the whole envelope: every field,
 *                                    parameter and recipient (or JSON)
 *
 * The spool folder is `queue.path` of the configuration; main.c reads the
 * configuration and calls hr_queue_cli() with argv starting at "queue".
 * Exit status: 0, 1 when a message is unknown or unreadable, 2 on a usage
 * error.  Text that came from clients is shown with control octets and
 * invalid UTF-8 as \xNN, so a hostile envelope cannot drive the terminal.
 * Read-only: it never changes the spool.
 */
#include <string.h>

#include <apr_strings.h>
#include <apr_file_io.h>

#include "spool.h"

#define QUEUE_USAGE                                                            \
    "usage: herald queue list [--json]\n"                                      \
    "       herald queue show ID [--json]\n"

/* Largest number of positional arguments a command takes. */
#define QUEUE_MAX_ARGS 1

/* @s for a terminal: control octets, '\' and invalid UTF-8 as \xNN. */
static const char *display(apr_pool_t *p, const char *s)
{
    const unsigned char *u = (const unsigned char *)s;
    apr_size_t n, o = 0;
    char *out;

    if (s == NULL) {
        return "(none)";
    }
    n = strlen(s);
    out = apr_palloc(p, n * 4 + 1);
    while (n > 0) {
        apr_size_t seq = hr_envelope_utf8_len(u, n);

        if (seq == 0 || *u < 0x20 || *u == 0x7F || *u == '\\') {
            apr_snprintf(out + o, 5, "\\x%02X", *u);
            o += 4;
            seq = 1;
        } else {
            memcpy(out + o, u, seq);
            o += seq;
        }
        u += seq;
        n -= seq;
    }
    out[o] = '\0';
    return out;
}

/* "KEYWORD=value" or "KEYWORD". */
static const char *param_text(apr_pool_t *p, const hr_param_value *pv)
{
    if (pv->value == NULL) {
        return display(p, pv->keyword);
    }
    return apr_pstrcat(p, display(p, pv->keyword), "=", display(p, pv->value),
                       NULL);
}

static void show_line(apr_file_t *out, const char *label, const char *value)
{
    apr_file_printf(out, "%-18s%s\n", label, value);
}

static void show_params(apr_pool_t *p, apr_file_t *out, const char *label,
                        const apr_array_header_t *params)
{
    int i;

    for (i = 0; params != NULL && i < params->nelts; i++) {
        show_line(out, label,
                  param_text(p, &APR_ARRAY_IDX(params, i, hr_param_value)));
    }
}

static void show_fields(apr_pool_t *p, apr_file_t *out, const char *label,
                        const apr_table_t *fields)
{
    const apr_array_header_t *arr = fields ? apr_table_elts(fields) : NULL;
    int i;

    for (i = 0; arr != NULL && i < arr->nelts; i++) {
        const apr_table_entry_t *te = &APR_ARRAY_IDX(arr, i, apr_table_entry_t);

        show_line(out, label,
                  apr_pstrcat(p, display(p, te->key), " = ",
                              display(p, te->val ? te->val : ""), NULL));
    }
}

/* Every line of one envelope, for a human. */
static void show_envelope(apr_pool_t *p, apr_file_t *out, const hr_envelope *e)
{
    int i;

    show_line(out, "id:", display(p, e->id));
    show_line(out, "arrival:",
              apr_psprintf(p, "%s (%" APR_TIME_T_FMT ".%06" APR_TIME_T_FMT ")",
                           hr_envelope_time_rfc3339(p, e->arrival),
                           apr_time_sec(e->arrival),
                           apr_time_usec(e->arrival)));
    show_line(out, "listener:", display(p, e->listener));
    show_line(out, "remote-ip:", display(p, e->remote_ip));
    show_line(out, "helo:", display(p, e->helo));
    show_line(out, "authenticated-as:", display(p, e->authenticated_as));
    show_line(out, "tls:", display(p, e->tls));
    show_line(out,
              "sender:", apr_pstrcat(p, "<", display(p, e->sender), ">", NULL));
    show_line(out, "size:", apr_off_t_toa(p, e->size));
    show_params(p, out, "mail-param:", e->mail_params);
    show_fields(p, out, "field:", e->fields);
    for (i = 0; e->rcpts != NULL && i < e->rcpts->nelts; i++) {
        const hr_envelope_rcpt *r =
            &APR_ARRAY_IDX(e->rcpts, i, hr_envelope_rcpt);

        show_line(out, "recipient:",
                  apr_pstrcat(p, "<", display(p, r->address), ">", NULL));
        show_params(p, out, "  param:", r->params);
        show_fields(p, out, "  field:", r->fields);
    }
}

/* `queue list [--json]` */
static int queue_list(apr_pool_t *p, const char *spool_dir, int json,
                      apr_file_t *out, apr_file_t *err)
{
    apr_array_header_t *ids = apr_array_make(p, 64, sizeof(const char *));
    apr_pool_t *iter;
    apr_off_t total = 0;
    int i, status = 0, shown = 0;
    const char *why;

    if (hr_spool_list_ex(p, spool_dir, ids, &why) != 0) {
        apr_file_printf(err, "herald queue: %s\n", why);
        return 1;
    }
    if (json) {
        apr_file_puts(ids->nelts > 0 ? "[\n" : "[", out);
    } else {
        apr_file_printf(out, "%-34s  %-20s  %10s  %-30s  %5s\n", "ID",
                        "ARRIVAL", "SIZE", "SENDER", "RCPTS");
    }
    /* One envelope at a time: the queue may be long. */
    apr_pool_create(&iter, p);
    for (i = 0; i < ids->nelts; i++) {
        const char *id = APR_ARRAY_IDX(ids, i, const char *);
        hr_envelope env;

        apr_pool_clear(iter);
        if (hr_spool_load(iter, spool_dir, id, &env, &why) != 0) {
            /* Delivered and removed since the listing is not an error. */
            if (strcmp(why, "no such message") != 0) {
                apr_file_printf(err, "herald queue: %s: %s\n", id, why);
                status = 1;
            }
            continue;
        }
        if (json) {
            char *obj;

            hr_envelope_to_json(iter, &env, &obj);
            if (shown > 0) {
                apr_file_puts(",\n", out);
            }
            apr_file_puts(obj, out);
        } else {
            apr_file_printf(out, "%-34s  %-20s  %10s  %-30s  %5d\n",
                            display(iter, id),
                            hr_envelope_time_rfc3339(iter, env.arrival),
                            apr_off_t_toa(iter, env.size),
                            *env.sender ? display(iter, env.sender) : "<>",
                            env.rcpts->nelts);
        }
        total += env.size;
        shown++;
    }
    apr_pool_destroy(iter);
    if (json) {
        apr_file_puts(shown > 0 ? "\n]\n" : "]\n", out);
    } else {
        apr_file_printf(out, "%d message%s, %s octets\n", shown,
                        shown == 1 ? "" : "s", apr_off_t_toa(p, total));
    }
    return status;
}

/* `queue show ID [--json]` */
static int queue_show(apr_pool_t *p, const char *spool_dir, const char *id,
                      int json, apr_file_t *out, apr_file_t *err)
{
    hr_envelope env;
    const char *why;

    if (hr_spool_load(p, spool_dir, id, &env, &why) != 0) {
        apr_file_printf(err, "herald queue: %s: %s\n", display(p, id), why);
        return 1;
    }
    if (json) {
        char *obj;

        hr_envelope_to_json(p, &env, &obj);
        apr_file_puts(obj, out);
        apr_file_puts("\n", out);
    } else {
        show_envelope(p, out, &env);
    }
    return 0;
}

int hr_queue_cli_to(apr_pool_t *p, const char *spool_dir, int argc,
                    const char *const *argv, apr_file_t *out, apr_file_t *err)
{
    const char *args[QUEUE_MAX_ARGS] = {NULL};
    const char *command;
    int i, nargs = 0, json = 0, status;

    if (argc < 2 || argv[1] == NULL) {
        apr_file_puts(QUEUE_USAGE, err);
        return 2;
    }
    command = argv[1];
    for (i = 2; i < argc && argv[i] != NULL; i++) {
        if (strcmp(argv[i], "--json") == 0) {
            json = 1;
        } else if (argv[i][0] == '-' && argv[i][1] != '\0') {
            apr_file_printf(err, "herald queue: unknown option %s\n%s",
                            display(p, argv[i]), QUEUE_USAGE);
            return 2;
        } else if (nargs < QUEUE_MAX_ARGS) {
            args[nargs++] = argv[i];
        } else {
            apr_file_printf(err, "herald queue: too many arguments\n%s",
                            QUEUE_USAGE);
            return 2;
        }
    }
    if (strcmp(command, "help") == 0 || strcmp(command, "--help") == 0 ||
        strcmp(command, "-h") == 0) {
        apr_file_puts(QUEUE_USAGE, out);
        status = 0;
    } else if (strcmp(command, "list") == 0 && nargs == 0) {
        status = queue_list(p, spool_dir, json, out, err);
    } else if (strcmp(command, "show") == 0 && nargs == 1) {
        status = queue_show(p, spool_dir, args[0], json, out, err);
    } else {
        apr_file_printf(err, "herald queue: %s %s\n%s",
                        strcmp(command, "list") == 0 ||
                                strcmp(command, "show") == 0
                            ? "wrong arguments for"
                            : "unknown command",
                        display(p, command), QUEUE_USAGE);
        return 2;
    }
    apr_file_flush(out);
    return status;
}

int hr_queue_cli(apr_pool_t *p, const char *spool_dir, int argc,
                 const char *const *argv)
{
    apr_file_t *out, *err;
    int status;

    if (apr_file_open_flags_stdout(&out, APR_FOPEN_BUFFERED, p) !=
            APR_SUCCESS ||
        apr_file_open_stderr(&err, p) != APR_SUCCESS) {
        return 1;
    }
    status = hr_queue_cli_to(p, spool_dir, argc, argv, out, err);
    apr_file_flush(out);
    return status;
}
