/*
 * envelope.c -- the envelope of a spooled message: the queue/ID.env text
 * format (writer and strict reader) and the JSON form that
 * `herald queue ... --json` prints.
 *
 * The format is described in envelope.h.  The writer is used by
 * hr_spool_commit(), the reader by hr_spool_load(); nothing here knows
 * about sessions, files or logging, so the queue manager and the admin
 * command share it with the server.
 */
#include <string.h>

#include <apr_strings.h>
#include <apr_hash.h>
#include <apr_lib.h>

#include "envelope.h"

/* ------------------------------------------------------------ buffer */

/* A growable string in a pool: the writers below append to one. */
typedef struct {
    apr_pool_t *pool;
    char *data;
    apr_size_t len;
    apr_size_t cap;
} env_buf;

static void buf_init(env_buf *b, apr_pool_t *p, apr_size_t cap)
{
    b->pool = p;
    b->cap = cap;
    b->len = 0;
    b->data = apr_palloc(p, cap);
}

/* Make room for @more octets plus a terminating NUL. */
static void buf_reserve(env_buf *b, apr_size_t more)
{
    char *bigger;
    apr_size_t cap = b->cap;

    if (b->len + more + 1 <= cap) {
        return;
    }
    while (b->len + more + 1 > cap) {
        cap *= 2;
    }
    bigger = apr_palloc(b->pool, cap);
    memcpy(bigger, b->data, b->len);
    b->data = bigger;
    b->cap = cap;
}

static void buf_add(env_buf *b, const char *s, apr_size_t n)
{
    buf_reserve(b, n);
    memcpy(b->data + b->len, s, n);
    b->len += n;
}

static void buf_puts(env_buf *b, const char *s)
{
    buf_add(b, s, strlen(s));
}

static void buf_putc(env_buf *b, char c)
{
    buf_reserve(b, 1);
    b->data[b->len++] = c;
}

static char *buf_finish(env_buf *b, apr_size_t *len)
{
    buf_reserve(b, 0);
    b->data[b->len] = '\0';
    if (len != NULL) {
        *len = b->len;
    }
    return b->data;
}

static const char hex_digits[] = "0123456789ABCDEF";

/* ---------------------------------------------------------- envelope */

hr_envelope *hr_envelope_make(apr_pool_t *p)
{
    hr_envelope *e = apr_pcalloc(p, sizeof(*e));

    e->sender = "";
    e->mail_params = apr_array_make(p, 4, sizeof(hr_param_value));
    e->fields = apr_table_make(p, 4);
    e->rcpts = apr_array_make(p, 4, sizeof(hr_envelope_rcpt));
    return e;
}

hr_envelope_rcpt *hr_envelope_add_rcpt(apr_pool_t *p, hr_envelope *e,
                                       const char *address)
{
    hr_envelope_rcpt *r = apr_array_push(e->rcpts);

    r->address = address;
    r->params = apr_array_make(p, 2, sizeof(hr_param_value));
    r->fields = apr_table_make(p, 2);
    return r;
}

/* ------------------------------------------------------------ writer */

/* Must octet @c be written as %XX?  '=' only inside a parameter keyword. */
static int must_escape(unsigned char c, int in_keyword)
{
    return c < 0x21 || c == '%' || c == 0x7F || (in_keyword && c == '=');
}

static void put_escaped(env_buf *b, const char *s, int in_keyword)
{
    const unsigned char *u = (const unsigned char *)(s ? s : "");

    for (; *u != '\0'; u++) {
        if (must_escape(*u, in_keyword)) {
            char esc[3];

            esc[0] = '%';
            esc[1] = hex_digits[*u >> 4];
            esc[2] = hex_digits[*u & 0x0F];
            buf_add(b, esc, 3);
        } else {
            buf_putc(b, (char)*u);
        }
    }
}

/* "keyword value\n"; an empty value leaves the keyword alone. */
static void put_line(env_buf *b, const char *keyword, const char *value)
{
    buf_puts(b, keyword);
    if (value != NULL && *value != '\0') {
        buf_putc(b, ' ');
        put_escaped(b, value, 0);
    }
    buf_putc(b, '\n');
}

/* "keyword KEY value\n" for a module field. */
static void put_field(env_buf *b, const char *keyword, const char *key,
                      const char *value)
{
    buf_puts(b, keyword);
    buf_putc(b, ' ');
    put_escaped(b, key, 0);
    if (value != NULL && *value != '\0') {
        buf_putc(b, ' ');
        put_escaped(b, value, 0);
    }
    buf_putc(b, '\n');
}

/* "keyword KEYWORD[=value]\n" for a MAIL or RCPT parameter. */
static void put_param(env_buf *b, const char *keyword, const hr_param_value *pv)
{
    buf_puts(b, keyword);
    buf_putc(b, ' ');
    put_escaped(b, pv->keyword, 1);
    if (pv->value != NULL) {
        buf_putc(b, '=');
        put_escaped(b, pv->value, 0);
    }
    buf_putc(b, '\n');
}

static void put_params(env_buf *b, const char *keyword,
                       const apr_array_header_t *params)
{
    int i;

    for (i = 0; params != NULL && i < params->nelts; i++) {
        put_param(b, keyword, &APR_ARRAY_IDX(params, i, hr_param_value));
    }
}

static void put_fields(env_buf *b, const char *keyword,
                       const apr_table_t *fields)
{
    const apr_array_header_t *arr;
    int i;

    if (fields == NULL) {
        return;
    }
    arr = apr_table_elts(fields);
    for (i = 0; i < arr->nelts; i++) {
        const apr_table_entry_t *te = &APR_ARRAY_IDX(arr, i, apr_table_entry_t);

        if (te->key != NULL) {
            put_field(b, keyword, te->key, te->val);
        }
    }
}

char *hr_envelope_serialize(apr_pool_t *p, const hr_envelope *e,
                            apr_size_t *len)
{
    env_buf b;
    int i;

    buf_init(&b, p, 1024);
    buf_puts(&b, apr_psprintf(p, "herald-envelope %d\n", HR_ENVELOPE_VERSION));
    put_line(&b, "id", e->id);
    buf_puts(&b, apr_psprintf(p, "arrival %" APR_TIME_T_FMT "\n", e->arrival));
    if (e->listener != NULL) {
        put_line(&b, "listener", e->listener);
    }
    if (e->remote_ip != NULL) {
        put_line(&b, "remote-ip", e->remote_ip);
    }
    if (e->helo != NULL) {
        put_line(&b, "helo", e->helo);
    }
    if (e->authenticated_as != NULL) {
        put_line(&b, "auth", e->authenticated_as);
    }
    if (e->tls != NULL) {
        put_line(&b, "tls", e->tls);
    }
    put_line(&b, "sender", e->sender);
    put_params(&b, "mail-param", e->mail_params);
    put_fields(&b, "field", e->fields);
    for (i = 0; e->rcpts != NULL && i < e->rcpts->nelts; i++) {
        const hr_envelope_rcpt *r =
            &APR_ARRAY_IDX(e->rcpts, i, hr_envelope_rcpt);

        put_line(&b, "rcpt", r->address);
        put_params(&b, "rcpt-param", r->params);
        put_fields(&b, "rcpt-field", r->fields);
    }
    buf_puts(&b, apr_psprintf(p, "size %" APR_OFF_T_FMT "\n", e->size));
    buf_puts(&b, "end\n");
    return buf_finish(&b, len);
}

/* ------------------------------------------------------------ reader */

/* Keywords of the format; the bit is used to refuse repeated lines. */
typedef enum {
    KW_ID = 1 << 0,
    KW_ARRIVAL = 1 << 1,
    KW_LISTENER = 1 << 2,
    KW_REMOTE_IP = 1 << 3,
    KW_HELO = 1 << 4,
    KW_AUTH = 1 << 5,
    KW_TLS = 1 << 6,
    KW_SENDER = 1 << 7,
    KW_SIZE = 1 << 8,
    KW_MAIL_PARAM = 1 << 9,  /* repeatable */
    KW_FIELD = 1 << 10,      /* repeatable */
    KW_RCPT = 1 << 11,       /* repeatable */
    KW_RCPT_PARAM = 1 << 12, /* repeatable */
    KW_RCPT_FIELD = 1 << 13, /* repeatable */
    KW_END = 1 << 14
} env_keyword;

#define KW_ONCE                                                                \
    (KW_ID | KW_ARRIVAL | KW_LISTENER | KW_REMOTE_IP | KW_HELO | KW_AUTH |     \
     KW_TLS | KW_SENDER | KW_SIZE)
#define KW_REQUIRED (KW_ID | KW_ARRIVAL | KW_SENDER | KW_SIZE)

static const struct {
    const char *name;
    env_keyword kw;
    int tokens; /* value tokens: 1, or 2 (KEY value) */
} env_keywords[] = {{"id", KW_ID, 1},
                    {"arrival", KW_ARRIVAL, 1},
                    {"listener", KW_LISTENER, 1},
                    {"remote-ip", KW_REMOTE_IP, 1},
                    {"helo", KW_HELO, 1},
                    {"auth", KW_AUTH, 1},
                    {"tls", KW_TLS, 1},
                    {"sender", KW_SENDER, 1},
                    {"size", KW_SIZE, 1},
                    {"mail-param", KW_MAIL_PARAM, 1},
                    {"field", KW_FIELD, 2},
                    {"rcpt", KW_RCPT, 1},
                    {"rcpt-param", KW_RCPT_PARAM, 1},
                    {"rcpt-field", KW_RCPT_FIELD, 2},
                    {"end", KW_END, 0},
                    {NULL, 0, 0}};

static int hex_value(unsigned char c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    if (c >= 'A' && c <= 'F') {
        return c - 'A' + 10;
    }
    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }
    return -1;
}

/*
 * Decode one token of @n octets; NULL with *why on a bad escape, an
 * escaped NUL (a C string cannot hold it) or a raw control octet.
 */
static char *unescape(apr_pool_t *p, const char *s, apr_size_t n,
                      const char **why)
{
    char *out = apr_palloc(p, n + 1);
    apr_size_t i, o = 0;

    for (i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];

        if (c == '%') {
            int hi, lo;

            if (i + 2 >= n) {
                *why = "truncated %-escape";
                return NULL;
            }
            hi = hex_value((unsigned char)s[i + 1]);
            lo = hex_value((unsigned char)s[i + 2]);
            if (hi < 0 || lo < 0) {
                *why = "bad %-escape";
                return NULL;
            }
            if (hi == 0 && lo == 0) {
                *why = "escaped NUL octet";
                return NULL;
            }
            out[o++] = (char)(hi << 4 | lo);
            i += 2;
        } else if (c < 0x21 || c == 0x7F) {
            *why = "unescaped control octet";
            return NULL;
        } else {
            out[o++] = (char)c;
        }
    }
    out[o] = '\0';
    return out;
}

/* A decimal integer >= 0 with nothing else around it. */
static int parse_count(const char *s, apr_int64_t *out)
{
    apr_int64_t v = 0;

    if (*s == '\0' || strlen(s) > 18) {
        return -1;
    }
    for (; *s != '\0'; s++) {
        if (!apr_isdigit(*s)) {
            return -1;
        }
        v = v * 10 + (*s - '0');
    }
    *out = v;
    return 0;
}

/* Parse "KEYWORD[=value]" into @pv: the keyword is up to the first '='. */
static int parse_param(apr_pool_t *p, const char *tok, apr_size_t n,
                       hr_param_value *pv, const char **why)
{
    const char *eq = memchr(tok, '=', n);
    apr_size_t klen = eq ? (apr_size_t)(eq - tok) : n;

    if (klen == 0) {
        *why = "empty parameter keyword";
        return -1;
    }
    pv->keyword = unescape(p, tok, klen, why);
    if (pv->keyword == NULL) {
        return -1;
    }
    pv->value = NULL;
    if (eq != NULL) {
        pv->value = unescape(p, eq + 1, n - klen - 1, why);
        if (pv->value == NULL) {
            return -1;
        }
    }
    return 0;
}

int hr_envelope_id_valid(const char *id)
{
    apr_size_t n = strlen(id);
    apr_size_t i;

    if (n == 0 || n > HR_ENVELOPE_MAX_ID) {
        return 0;
    }
    for (i = 0; i < n; i++) {
        if (!apr_isalnum(id[i]) && id[i] != '-') {
            return 0;
        }
    }
    return 1;
}

/* Handle one line, already split into keyword and tokens. */
static int parse_line(apr_pool_t *p, hr_envelope *e, env_keyword kw,
                      const char *tok1, apr_size_t n1, const char *tok2,
                      apr_size_t n2, const char **why)
{
    hr_envelope_rcpt *r = NULL;
    hr_param_value *pv;
    const char *v1 = NULL, *v2 = "";
    apr_int64_t num;

    if (e->rcpts->nelts > 0) {
        r = &APR_ARRAY_IDX(e->rcpts, e->rcpts->nelts - 1, hr_envelope_rcpt);
    }
    if (kw != KW_MAIL_PARAM && kw != KW_RCPT_PARAM) {
        v1 = unescape(p, tok1, n1, why);
        if (v1 == NULL) {
            return -1;
        }
    }
    if (tok2 != NULL) {
        v2 = unescape(p, tok2, n2, why);
        if (v2 == NULL) {
            return -1;
        }
    }
    switch (kw) {
    case KW_ID:
        if (!hr_envelope_id_valid(v1)) {
            *why = "invalid queue id";
            return -1;
        }
        e->id = v1;
        break;
    case KW_ARRIVAL:
        if (parse_count(v1, &num) != 0) {
            *why = "bad arrival time";
            return -1;
        }
        e->arrival = (apr_time_t)num;
        break;
    case KW_SIZE:
        if (parse_count(v1, &num) != 0) {
            *why = "bad size";
            return -1;
        }
        e->size = (apr_off_t)num;
        break;
    case KW_LISTENER:
        e->listener = v1;
        break;
    case KW_REMOTE_IP:
        e->remote_ip = v1;
        break;
    case KW_HELO:
        e->helo = v1;
        break;
    case KW_AUTH:
        e->authenticated_as = v1;
        break;
    case KW_TLS:
        e->tls = v1;
        break;
    case KW_SENDER:
        e->sender = v1;
        break;
    case KW_MAIL_PARAM:
    case KW_RCPT_PARAM:
        if (kw == KW_MAIL_PARAM && r != NULL) {
            *why = "mail-param after rcpt";
            return -1;
        }
        if (kw == KW_RCPT_PARAM && r == NULL) {
            *why = "rcpt-param before any rcpt";
            return -1;
        }
        pv = apr_array_push(kw == KW_MAIL_PARAM ? e->mail_params : r->params);
        return parse_param(p, tok1, n1, pv, why);
    case KW_FIELD:
    case KW_RCPT_FIELD:
        if (*v1 == '\0') {
            *why = "empty field name";
            return -1;
        }
        if (kw == KW_FIELD && r != NULL) {
            *why = "field after rcpt";
            return -1;
        }
        if (kw == KW_RCPT_FIELD && r == NULL) {
            *why = "rcpt-field before any rcpt";
            return -1;
        }
        apr_table_addn(kw == KW_FIELD ? e->fields : r->fields, v1, v2);
        break;
    case KW_RCPT:
        hr_envelope_add_rcpt(p, e, v1);
        break;
    case KW_END:
        break;
    }
    return 0;
}

int hr_envelope_parse(apr_pool_t *p, const char *text, apr_size_t len,
                      hr_envelope *e, const char **why)
{
    const char *pos = text, *stop = text + len;
    unsigned seen = 0;
    int lineno = 0;
    const char *err = NULL;
    hr_envelope *fresh = hr_envelope_make(p);

    *e = *fresh;
    if (len > HR_ENVELOPE_MAX_SIZE) {
        *why = "envelope too large";
        return -1;
    }
    if (memchr(text, '\0', len) != NULL) {
        *why = "NUL octet in envelope";
        return -1;
    }
    while (pos < stop && !(seen & KW_END)) {
        const char *eol = memchr(pos, '\n', (apr_size_t)(stop - pos));
        const char *sp1, *sp2 = NULL, *tok1 = NULL, *tok2 = NULL;
        apr_size_t klen, n1 = 0, n2 = 0;
        int i, tokens;

        lineno++;
        if (eol == NULL) {
            *why =
                apr_psprintf(p, "line %d: truncated (no end of line)", lineno);
            return -1;
        }
        /* keyword [SP token [SP token]] */
        sp1 = memchr(pos, ' ', (apr_size_t)(eol - pos));
        klen = (apr_size_t)((sp1 ? sp1 : eol) - pos);
        tokens = 0;
        if (sp1 != NULL) {
            tok1 = sp1 + 1;
            sp2 = memchr(tok1, ' ', (apr_size_t)(eol - tok1));
            n1 = (apr_size_t)((sp2 ? sp2 : eol) - tok1);
            tokens = 1;
            if (sp2 != NULL) {
                tok2 = sp2 + 1;
                n2 = (apr_size_t)(eol - tok2);
                tokens = 2;
                if (memchr(tok2, ' ', n2) != NULL) {
                    tokens = 3;
                }
            }
        }
        if ((tok1 != NULL && n1 == 0) || (tok2 != NULL && n2 == 0)) {
            *why = apr_psprintf(p, "line %d: empty token", lineno);
            return -1;
        }
        if (lineno == 1) {
            if (klen != 15 || memcmp(pos, "herald-envelope", 15) != 0 ||
                tokens != 1) {
                *why = "not a herald envelope";
                return -1;
            }
            if (n1 != 1 || *tok1 != '0' + HR_ENVELOPE_VERSION) {
                *why = apr_psprintf(p, "unsupported envelope version %s",
                                    apr_pstrmemdup(p, tok1, n1 > 8 ? 8 : n1));
                return -1;
            }
            pos = eol + 1;
            continue;
        }
        for (i = 0; env_keywords[i].name != NULL; i++) {
            if (strlen(env_keywords[i].name) == klen &&
                memcmp(env_keywords[i].name, pos, klen) == 0) {
                break;
            }
        }
        if (env_keywords[i].name == NULL) {
            *why = apr_psprintf(p, "line %d: unknown keyword \"%s\"", lineno,
                                apr_pstrmemdup(p, pos, klen > 32 ? 32 : klen));
            return -1;
        }
        /* One token lines may leave an empty value out; "end" has none. */
        if (tokens > env_keywords[i].tokens ||
            (env_keywords[i].tokens == 2 && tokens == 0)) {
            *why = apr_psprintf(p, "line %d: wrong number of values for %s",
                                lineno, env_keywords[i].name);
            return -1;
        }
        if ((env_keywords[i].kw & KW_ONCE) && (seen & env_keywords[i].kw)) {
            *why = apr_psprintf(p, "line %d: repeated %s", lineno,
                                env_keywords[i].name);
            return -1;
        }
        seen |= env_keywords[i].kw;
        if (parse_line(p, e, env_keywords[i].kw, tok1 ? tok1 : "", n1, tok2, n2,
                       &err) != 0) {
            *why = apr_psprintf(p, "line %d: %s", lineno, err);
            return -1;
        }
        pos = eol + 1;
    }
    if (lineno == 0) {
        *why = "empty envelope";
        return -1;
    }
    if (!(seen & KW_END)) {
        *why = "truncated envelope (no \"end\" line)";
        return -1;
    }
    if (pos != stop) {
        *why = "data after \"end\"";
        return -1;
    }
    if ((seen & KW_REQUIRED) != KW_REQUIRED) {
        *why = apr_psprintf(p, "missing %s",
                            !(seen & KW_ID)        ? "id"
                            : !(seen & KW_ARRIVAL) ? "arrival"
                            : !(seen & KW_SENDER)  ? "sender"
                                                   : "size");
        return -1;
    }
    return 0;
}

/* -------------------------------------------------------------- JSON */

apr_size_t hr_envelope_utf8_len(const unsigned char *s, apr_size_t n)
{
    apr_size_t need, i;
    unsigned char lo = 0x80, hi = 0xBF;

    if (n == 0) {
        return 0;
    }
    if (s[0] < 0x80) {
        return 1;
    }
    /* RFC 3629 §4: the second octet's range depends on the first. */
    if (s[0] >= 0xC2 && s[0] <= 0xDF) {
        need = 2;
    } else if (s[0] >= 0xE0 && s[0] <= 0xEF) {
        need = 3;
        if (s[0] == 0xE0) {
            lo = 0xA0; /* no overlong forms */
        } else if (s[0] == 0xED) {
            hi = 0x9F; /* no surrogates */
        }
    } else if (s[0] >= 0xF0 && s[0] <= 0xF4) {
        need = 4;
        if (s[0] == 0xF0) {
            lo = 0x90; /* no overlong forms */
        } else if (s[0] == 0xF4) {
            hi = 0x8F; /* nothing above U+10FFFF */
        }
    } else {
        return 0;
    }
    if (n < need || s[1] < lo || s[1] > hi) {
        return 0;
    }
    for (i = 2; i < need; i++) {
        if (s[i] < 0x80 || s[i] > 0xBF) {
            return 0;
        }
    }
    return need;
}

/* A JSON string (RFC 8259 §7), or null for NULL. */
static void json_string(env_buf *b, const char *s)
{
    const unsigned char *u = (const unsigned char *)s;
    apr_size_t n;

    if (s == NULL) {
        buf_puts(b, "null");
        return;
    }
    n = strlen(s);
    buf_putc(b, '"');
    while (n > 0) {
        apr_size_t seq;

        if (*u == '"' || *u == '\\') {
            buf_putc(b, '\\');
            buf_putc(b, (char)*u);
            seq = 1;
        } else if (*u < 0x20 || *u == 0x7F) {
            char esc[6] = {'\\', 'u', '0', '0', 0, 0};

            esc[4] = hex_digits[*u >> 4];
            esc[5] = hex_digits[*u & 0x0F];
            buf_add(b, esc, 6);
            seq = 1;
        } else if ((seq = hr_envelope_utf8_len(u, n)) > 0) {
            buf_add(b, (const char *)u, seq);
        } else {
            buf_puts(b, "\xEF\xBF\xBD"); /* U+FFFD for each bad octet */
            seq = 1;
        }
        u += seq;
        n -= seq;
    }
    buf_putc(b, '"');
}

/* "KEY":value, with a comma before all but the first; skips repeats. */
static int json_key(env_buf *b, apr_hash_t *seen, const char *key, int first)
{
    if (apr_hash_get(seen, key, APR_HASH_KEY_STRING) != NULL) {
        return 0;
    }
    apr_hash_set(seen, key, APR_HASH_KEY_STRING, "");
    if (!first) {
        buf_putc(b, ',');
    }
    json_string(b, key);
    buf_putc(b, ':');
    return 1;
}

/* {"KEYWORD":"value"|true, ...} */
static void json_params(env_buf *b, const apr_array_header_t *params)
{
    apr_hash_t *seen = apr_hash_make(b->pool);
    int i, first = 1;

    buf_putc(b, '{');
    for (i = 0; params != NULL && i < params->nelts; i++) {
        const hr_param_value *pv = &APR_ARRAY_IDX(params, i, hr_param_value);

        if (pv->keyword == NULL || !json_key(b, seen, pv->keyword, first)) {
            continue;
        }
        first = 0;
        if (pv->value == NULL) {
            buf_puts(b, "true");
        } else {
            json_string(b, pv->value);
        }
    }
    buf_putc(b, '}');
}

/* {"key":"value", ...} */
static void json_fields(env_buf *b, const apr_table_t *fields)
{
    apr_hash_t *seen = apr_hash_make(b->pool);
    const apr_array_header_t *arr;
    int i, first = 1;

    buf_putc(b, '{');
    arr = fields ? apr_table_elts(fields) : NULL;
    for (i = 0; arr != NULL && i < arr->nelts; i++) {
        const apr_table_entry_t *te = &APR_ARRAY_IDX(arr, i, apr_table_entry_t);

        if (te->key == NULL || !json_key(b, seen, te->key, first)) {
            continue;
        }
        first = 0;
        json_string(b, te->val ? te->val : "");
    }
    buf_putc(b, '}');
}

const char *hr_envelope_time_rfc3339(apr_pool_t *p, apr_time_t t)
{
    apr_time_exp_t tm;

    if (apr_time_exp_gmt(&tm, t) != APR_SUCCESS) {
        return "1970-01-01T00:00:00Z";
    }
    return apr_psprintf(p, "%04d-%02d-%02dT%02d:%02d:%02dZ", tm.tm_year + 1900,
                        tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
                        tm.tm_sec);
}

void hr_envelope_to_json(apr_pool_t *p, const hr_envelope *e, char **json)
{
    env_buf b;
    int i;

    buf_init(&b, p, 1024);
    buf_puts(&b, "{\"id\":");
    json_string(&b, e->id ? e->id : "");
    buf_puts(&b, ",\"arrival\":");
    json_string(&b, hr_envelope_time_rfc3339(p, e->arrival));
    buf_puts(&b, apr_psprintf(p, ",\"arrival_unix\":%" APR_INT64_T_FMT,
                              (apr_int64_t)apr_time_sec(e->arrival)));
    buf_puts(&b, ",\"listener\":");
    json_string(&b, e->listener);
    buf_puts(&b, ",\"remote_ip\":");
    json_string(&b, e->remote_ip);
    buf_puts(&b, ",\"helo\":");
    json_string(&b, e->helo);
    buf_puts(&b, ",\"authenticated_as\":");
    json_string(&b, e->authenticated_as);
    buf_puts(&b, ",\"tls\":");
    json_string(&b, e->tls);
    buf_puts(&b, ",\"sender\":");
    json_string(&b, e->sender ? e->sender : "");
    buf_puts(&b, ",\"mail_params\":");
    json_params(&b, e->mail_params);
    buf_puts(&b, ",\"fields\":");
    json_fields(&b, e->fields);
    buf_puts(&b, ",\"recipients\":[");
    for (i = 0; e->rcpts != NULL && i < e->rcpts->nelts; i++) {
        const hr_envelope_rcpt *r =
            &APR_ARRAY_IDX(e->rcpts, i, hr_envelope_rcpt);

        buf_puts(&b, i > 0 ? ",{\"address\":" : "{\"address\":");
        json_string(&b, r->address ? r->address : "");
        buf_puts(&b, ",\"params\":");
        json_params(&b, r->params);
        buf_puts(&b, ",\"fields\":");
        json_fields(&b, r->fields);
        buf_putc(&b, '}');
    }
    buf_puts(&b, apr_psprintf(p, "],\"size\":%" APR_OFF_T_FMT "}", e->size));
    *json = buf_finish(&b, NULL);
}
