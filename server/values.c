/*
 * values.c -- the configuration value tree (hr_value, hr_table).
 *
 * The TOML reader builds it; the schema checker marks the keys it knows
 * (hr_table_entry.used) so that unknown keys can be reported with their
 * file and line.  Everything lives in the configuration generation's pool.
 */
#include <string.h>
#include <apr_strings.h>

#include "hr_config.h"

hr_value *hr_value_make_table(apr_pool_t *p, const char *file, int line)
{
    hr_value *v = apr_pcalloc(p, sizeof(*v));
    v->type = HR_VAL_TABLE;
    v->file = file;
    v->line = line;
    v->u.table = apr_pcalloc(p, sizeof(hr_table));
    v->u.table->entries = apr_array_make(p, 8, sizeof(hr_table_entry));
    v->u.table->index = apr_hash_make(p);
    return v;
}

hr_table_entry *hr_table_find(const hr_table *t, const char *key)
{
    /* The index stores position + 1 so that 0 can mean "absent". */
    apr_uintptr_t pos = (apr_uintptr_t)apr_hash_get(t->index, key,
                                                    APR_HASH_KEY_STRING);
    if (pos == 0) {
        return NULL;
    }
    return &APR_ARRAY_IDX(t->entries, pos - 1, hr_table_entry);
}

hr_value *hr_table_get(const hr_table *t, const char *key)
{
    hr_table_entry *e = hr_table_find(t, key);
    return e ? e->value : NULL;
}

hr_value *hr_value_lookup(const hr_value *root, const char *path)
{
    const hr_value *v = root;
    const char *seg = path;

    while (v != NULL && *seg != '\0') {
        const char *dot = strchr(seg, '.');
        size_t len = dot ? (size_t)(dot - seg) : strlen(seg);
        char name[256];

        if (v->type != HR_VAL_TABLE || len >= sizeof(name)) {
            return NULL;
        }
        memcpy(name, seg, len);
        name[len] = '\0';
        v = hr_table_get(v->u.table, name);
        seg = dot ? dot + 1 : seg + len;
    }
    return (hr_value *)v;
}

const char *hr_value_type_name(hr_value_type type)
{
    switch (type) {
    case HR_VAL_STRING:
        return "string";
    case HR_VAL_INTEGER:
        return "integer";
    case HR_VAL_FLOAT:
        return "float";
    case HR_VAL_BOOLEAN:
        return "boolean";
    case HR_VAL_ARRAY:
        return "array";
    case HR_VAL_TABLE:
        return "table";
    }
    return "value";
}
