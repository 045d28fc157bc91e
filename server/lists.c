/*
 * lists.c -- the named lists of `[list]`, hashed once at load.
 *
 * Each key of [list] is a list, given inline or read from a file:
 *
 *     [list]
 *     blocked-domains = ["spam.example", "bad.example"]
 *     trusted-relays = "file://lists/relays.txt"   # relative to the config
 *
 * A list file holds one entry per line.  Leading and trailing blanks (and
 * the CR of CRLF files) are trimmed; blank lines and lines whose first
 * non-blank character is '#' are skipped ('#' later in a line is part of
 * the entry).  A file may hold at most LIST_MAX_ENTRIES entries in
 * LIST_MAX_FILE_SIZE octets; an entry is at most LIST_MAX_ENTRY_LEN
 * octets.
 *
 * Expressions (`in-list`) and Sieve (`:list "list/blocked-domains"`) ask
 * hr_lists_contains().  Every list is kept twice, as an exact hash and an
 * ASCII-lowercased one, so a lookup costs one hash probe whatever the size
 * of the list and whatever the comparator (i;octet or i;ascii-casemap,
 * RFC 4790 §9.2, §9.3).  The lists are read-only once built, so worker
 * threads look them up concurrently without locks.
 */
#include <stdarg.h>
#include <string.h>

#include <apr_strings.h>
#include <apr_file_io.h>
#include <apr_file_info.h>

#include "hr_config.h"

#define LIST_MAX_FILE_SIZE (64 * 1024 * 1024) /* octets of a list file */
#define LIST_MAX_ENTRIES 10000000             /* entries in one list */
#define LIST_MAX_ENTRY_LEN 2048               /* octets of one entry */

/** One list: its entries as they are, and lowercased. */
typedef struct {
    apr_hash_t *exact;   /* entry -> entry */
    apr_hash_t *folded;  /* lowercased entry -> same */
} hr_list;

struct hr_lists {
    apr_hash_t *by_name; /* name -> hr_list * */
};

/* Record "FILE:LINE: list 'NAME': <message>" located at @at. */
static void list_error(apr_pool_t *p, apr_array_header_t *errors,
                       const hr_value *at, const char *name,
                       const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

static void list_error(apr_pool_t *p, apr_array_header_t *errors,
                       const hr_value *at, const char *name,
                       const char *fmt, ...)
{
    va_list ap;
    char *msg;

    if (errors == NULL) {
        return;
    }
    va_start(ap, fmt);
    msg = apr_pvsprintf(p, fmt, ap);
    va_end(ap);
    APR_ARRAY_PUSH(errors, char *) =
        apr_psprintf(p, "%s:%d: list '%s': %s",
                     at && at->file ? at->file : "<unknown>",
                     at ? at->line : 0, name, msg);
}

static int ascii_lower(int ch)
{
    return (ch >= 'A' && ch <= 'Z') ? ch + ('a' - 'A') : ch;
}

/* Add one entry (@len octets, NUL-terminated, living in the pool). */
static void list_add(apr_pool_t *p, hr_list *list, const char *entry,
                     apr_size_t len)
{
    const char *folded = entry;
    apr_size_t i;

    for (i = 0; i < len; i++) {
        if (entry[i] >= 'A' && entry[i] <= 'Z') {
            char *lower = apr_pstrmemdup(p, entry, len);
            apr_size_t j;

            for (j = i; j < len; j++) {
                lower[j] = (char)ascii_lower((unsigned char)lower[j]);
            }
            folded = lower;
            break;
        }
    }
    apr_hash_set(list->exact, entry, (apr_ssize_t)len, entry);
    apr_hash_set(list->folded, folded, (apr_ssize_t)len, folded);
}

/* Fill @list from an array of strings. */
static int list_from_array(apr_pool_t *p, hr_list *list, const char *name,
                           const hr_value *v, apr_array_header_t *errors)
{
    int i, rc = 0;

    if (v->u.array->nelts > LIST_MAX_ENTRIES) {
        list_error(p, errors, v, name, "more than %d entries",
                   LIST_MAX_ENTRIES);
        return -1;
    }
    for (i = 0; i < v->u.array->nelts; i++) {
        const hr_value *elt = APR_ARRAY_IDX(v->u.array, i, hr_value *);
        apr_size_t len;

        if (elt->type != HR_VAL_STRING) {
            list_error(p, errors, elt, name, "entry %d is %s, expected a "
                       "string", i + 1, hr_value_type_name(elt->type));
            rc = -1;
            continue;
        }
        len = strlen(elt->u.s);
        if (len > LIST_MAX_ENTRY_LEN) {
            list_error(p, errors, elt, name, "entry %d is longer than %d "
                       "octets", i + 1, LIST_MAX_ENTRY_LEN);
            rc = -1;
            continue;
        }
        list_add(p, list, elt->u.s, len);
    }
    return rc;
}

/* Split the file contents @buf (@size octets, NUL after) into entries. */
static int list_from_text(apr_pool_t *p, hr_list *list, const char *name,
                          const hr_value *v, const char *path, char *buf,
                          apr_size_t size, apr_array_header_t *errors)
{
    char *line = buf, *end = buf + size;
    int lineno = 0, entries = 0;

    while (line < end) {
        char *nl = memchr(line, '\n', (apr_size_t)(end - line));
        char *stop = nl ? nl : end;
        char *first = line, *last = stop;

        lineno++;
        while (first < last && (*first == ' ' || *first == '\t')) {
            first++;
        }
        while (last > first &&
               (last[-1] == ' ' || last[-1] == '\t' || last[-1] == '\r')) {
            last--;
        }
        line = nl ? nl + 1 : end;
        if (first == last || *first == '#') {
            continue;
        }
        if (memchr(first, '\0', (apr_size_t)(last - first)) != NULL) {
            list_error(p, errors, v, name, "%s line %d holds a NUL octet",
                       path, lineno);
            return -1;
        }
        if (last - first > LIST_MAX_ENTRY_LEN) {
            list_error(p, errors, v, name, "%s line %d is longer than %d "
                       "octets", path, lineno, LIST_MAX_ENTRY_LEN);
            return -1;
        }
        if (++entries > LIST_MAX_ENTRIES) {
            list_error(p, errors, v, name, "%s has more than %d entries",
                       path, LIST_MAX_ENTRIES);
            return -1;
        }
        /* The entry is terminated in place: it points into @buf. */
        *last = '\0';
        list_add(p, list, first, (apr_size_t)(last - first));
    }
    return 0;
}

/* Fill @list from "file://PATH" (relative to @config_dir). */
static int list_from_file(apr_pool_t *p, hr_list *list, const char *name,
                          const hr_value *v, const char *config_dir,
                          apr_array_header_t *errors)
{
    const char *rel = v->u.s + sizeof("file://") - 1;
    char *path, *buf, err[120];
    apr_file_t *f;
    apr_finfo_t finfo;
    apr_size_t got = 0;
    apr_status_t rv;

    if (*rel == '\0') {
        list_error(p, errors, v, name, "\"file://\" names no file");
        return -1;
    }
    rv = apr_filepath_merge(&path, config_dir, rel, 0, p);
    if (rv != APR_SUCCESS) {
        list_error(p, errors, v, name, "bad path '%s': %s", rel,
                   apr_strerror(rv, err, sizeof(err)));
        return -1;
    }
    rv = apr_file_open(&f, path, APR_FOPEN_READ, APR_FPROT_OS_DEFAULT, p);
    if (rv != APR_SUCCESS) {
        list_error(p, errors, v, name, "cannot open '%s': %s", path,
                   apr_strerror(rv, err, sizeof(err)));
        return -1;
    }
    rv = apr_file_info_get(&finfo, APR_FINFO_SIZE | APR_FINFO_TYPE, f);
    if (rv != APR_SUCCESS || finfo.filetype != APR_REG) {
        list_error(p, errors, v, name, "'%s' is not a regular file", path);
        apr_file_close(f);
        return -1;
    }
    if (finfo.size > LIST_MAX_FILE_SIZE) {
        list_error(p, errors, v, name, "'%s' is larger than %d MiB", path,
                   LIST_MAX_FILE_SIZE / (1024 * 1024));
        apr_file_close(f);
        return -1;
    }
    buf = apr_palloc(p, (apr_size_t)finfo.size + 1);
    if (finfo.size > 0) {
        rv = apr_file_read_full(f, buf, (apr_size_t)finfo.size, &got);
    }
    apr_file_close(f);
    if (rv != APR_SUCCESS && rv != APR_EOF) {
        list_error(p, errors, v, name, "cannot read '%s': %s", path,
                   apr_strerror(rv, err, sizeof(err)));
        return -1;
    }
    buf[got] = '\0';
    return list_from_text(p, list, name, v, path, buf, got, errors);
}

hr_lists *hr_lists_build(apr_pool_t *p, const hr_value *list_table,
                         const char *config_dir, apr_array_header_t *errors)
{
    hr_lists *lists = apr_pcalloc(p, sizeof(*lists));
    const apr_array_header_t *entries;
    int i;

    lists->by_name = apr_hash_make(p);
    if (list_table == NULL) {
        return lists;
    }
    if (list_table->type != HR_VAL_TABLE) {
        if (errors != NULL) {
            APR_ARRAY_PUSH(errors, char *) = apr_psprintf(
                p, "%s:%d: [list] must be a table, got %s",
                list_table->file ? list_table->file : "<unknown>",
                list_table->line, hr_value_type_name(list_table->type));
        }
        return lists;
    }

    entries = list_table->u.table->entries;
    for (i = 0; i < entries->nelts; i++) {
        const hr_table_entry *e = &APR_ARRAY_IDX(entries, i, hr_table_entry);
        const hr_value *v = e->value;
        hr_list *list = apr_pcalloc(p, sizeof(*list));

        list->exact = apr_hash_make(p);
        list->folded = apr_hash_make(p);
        if (v->type == HR_VAL_ARRAY) {
            list_from_array(p, list, e->key, v, errors);
        }
        else if (v->type == HR_VAL_STRING &&
                 strncmp(v->u.s, "file://", sizeof("file://") - 1) == 0) {
            list_from_file(p, list, e->key, v, config_dir, errors);
        }
        else {
            list_error(p, errors, v, e->key, "expected an array of strings "
                       "or \"file://path\", got %s%s",
                       hr_value_type_name(v->type),
                       v->type == HR_VAL_STRING ? " without file://" : "");
        }
        /* Registered even when broken, so that the users of the list do
         * not add "unknown list" errors to the real one. */
        apr_hash_set(lists->by_name, e->key, APR_HASH_KEY_STRING, list);
    }
    return lists;
}

static const hr_list *find_list(const hr_lists *lists, const char *name)
{
    if (lists == NULL || name == NULL) {
        return NULL;
    }
    return apr_hash_get(lists->by_name, name, APR_HASH_KEY_STRING);
}

int hr_lists_exists(const hr_lists *lists, const char *name)
{
    return find_list(lists, name) != NULL;
}

int hr_lists_contains(const hr_lists *lists, const char *name,
                      const char *value, int casefold)
{
    const hr_list *list = find_list(lists, name);
    char folded[LIST_MAX_ENTRY_LEN + 1];
    apr_size_t len, i;

    if (list == NULL || value == NULL) {
        return 0;
    }
    len = strlen(value);
    if (len > LIST_MAX_ENTRY_LEN) {
        return 0; /* no entry is that long */
    }
    if (!casefold) {
        return apr_hash_get(list->exact, value, (apr_ssize_t)len) != NULL;
    }
    for (i = 0; i < len; i++) {
        folded[i] = (char)ascii_lower((unsigned char)value[i]);
    }
    folded[len] = '\0';
    return apr_hash_get(list->folded, folded, (apr_ssize_t)len) != NULL;
}

int hr_lists_count(const hr_lists *lists, const char *name)
{
    const hr_list *list = find_list(lists, name);

    return list ? (int)apr_hash_count(list->exact) : -1;
}
