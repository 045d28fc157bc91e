/*
 * mod_recipients.c -- local mailboxes and aliases: RCPT TO checks for
 * local domains, VRFY (RFC 5321 §3.5.1) and EXPN (RFC 5321 §3.5.2).
 *
 *     [server.modules]
 *     load = ["mod_recipients"]
 *     [session.rcpt.lookup]
 *     domains = ["example.org"]              # core: the local domains
 *     addresses = ["alice@example.org", "bob@example.org"]
 *                 # or "file://mailboxes.txt" (one per line, '#' comments)
 *                 # or "list/mailboxes" (a [list] entry)
 *     vrfy = false                           # expressions
 *     expn = [ { if = "authenticated-as", ne = "", then = true },
 *              { else = false } ]
 *     [session.rcpt.lookup.aliases]
 *     "staff@example.org" = ["alice@example.org", "bob@example.org"]
 *
 * RCPT TO (the rcpt hook): an address in a local domain is accepted when
 * it is a known mailbox, an alias or postmaster (RFC 5321 §4.5.1), and
 * refused with 550 5.1.1 otherwise; other domains are left to the core,
 * which relays them only when session.rcpt.relay allows (550 5.7.1).
 * Without `addresses` or `aliases` the module accepts nothing itself:
 * every local address is left to the core, and VRFY and EXPN answer 252.
 *
 * Addresses are compared without regard to ASCII case, local part
 * included.  XXX RFC 5321 §2.4 says local parts are case-sensitive, but
 * a server may treat them otherwise for its own mailboxes, and Postfix
 * and Stalwart fold them: mail to Alice@ and alice@ goes to one mailbox.
 * A quoted local part that needs no quoting ("alice"@) is the same
 * mailbox as the unquoted one (RFC 5321 §4.1.2).
 *
 * VRFY and EXPN are off by default: RFC 5321 §7.3 lets a site disable
 * them, and then both MUST answer 252 rather than a code that reads as
 * success or failure.  When enabled, EXPN is advertised in the EHLO reply
 * (RFC 5321 §3.5.2: an implemented EXPN MUST be listed) and so is VRFY
 * (§3.5.2: "MAY be listed as a convenience", as Postfix does).
 * Aliases are accepted as recipients but not expanded here: expansion is
 * the delivery agent's work.
 */
#include <stdarg.h>
#include <string.h>
#include <apr_strings.h>
#include <apr_lib.h>
#include <apr_file_io.h>

#include "herald.h"
#include "hr_module.h"
#include "hr_smtp.h" /* hr_parse_mailbox: the public parsers */

extern hr_module recipients_module;

#define RCPT_FILE_MAX (64 * 1024 * 1024)   /* octets read from a file */
#define RCPT_REPLY_MAX 3500   /* octets of an EXPN/VRFY reply: hr_reply()
                                 formats at most 4096 */

/** Per configuration generation. */
typedef struct rcpt_config {
    int active;              /* addresses or aliases are configured */
    apr_hash_t *mailboxes;   /* folded address -> address as configured */
    const char *list;        /* name of a [list] of mailboxes, or NULL */
    apr_hash_t *aliases;     /* folded address -> rcpt_alias * */
} rcpt_config;

typedef struct rcpt_alias {
    const char *address;           /* as configured */
    apr_array_header_t *members;   /* of const char * */
} rcpt_alias;

/* ------------------------------------------------------------- folding */

/*
 * The lookup key of a mailbox: quotes removed from a quoted local part
 * (with their backslash escapes), then ASCII lower case throughout.
 * @local and @domain are a parsed path's parts.
 */
static const char *rcpt_fold(apr_pool_t *p, const char *local,
                             const char *domain)
{
    apr_size_t n = strlen(local);
    char *key = apr_palloc(p, n + strlen(domain) + 2), *k = key;
    const char *c;

    if (n >= 2 && local[0] == '"' && local[n - 1] == '"') {
        for (c = local + 1; c < local + n - 1; c++) {
            if (*c == '\\' && c + 1 < local + n - 1) {
                c++;
            }
            *k++ = apr_tolower(*c);
        }
    }
    else {
        for (c = local; *c; c++) {
            *k++ = apr_tolower(*c);
        }
    }
    *k++ = '@';
    for (c = domain; *c; c++) {
        *k++ = apr_tolower(*c);
    }
    *k = '\0';
    return key;
}

/* The local part of a recipient ("" when it has none). */
static const char *rcpt_local_part(apr_pool_t *p, const hr_rcpt *r)
{
    apr_size_t alen = strlen(r->address), dlen = strlen(r->domain);

    if (dlen == 0 || alen < dlen + 1) {
        return r->address;
    }
    return apr_pstrmemdup(p, r->address, alen - dlen - 1);
}

/* ---------------------------------------------------------- the lookups */

static rcpt_config *rcpt_conf(hr_session *s)
{
    return hr_module_config(s->server, &recipients_module);
}

/* Is @domain one of session.rcpt.lookup.domains (owned by the core)? */
static int rcpt_local_domain(hr_session *s, const char *domain)
{
    const hr_value *v = hr_session_eval(s, "session.rcpt.lookup.domains");
    int i;

    if (v->type != HR_VAL_ARRAY || domain[0] == '\0') {
        return 0;
    }
    for (i = 0; i < v->u.array->nelts; i++) {
        const hr_value *d = APR_ARRAY_IDX(v->u.array, i, hr_value *);
        if (d->type == HR_VAL_STRING && strcasecmp(d->u.s, domain) == 0) {
            return 1;
        }
    }
    return 0;
}

/*
 * Is the folded address @key a known mailbox or alias?  Returns the
 * address to show (as configured when known; else @shown) or NULL.
 */
static const char *rcpt_known(hr_session *s, const char *key,
                              const char *shown)
{
    rcpt_config *conf = rcpt_conf(s);
    const char *mailbox;
    rcpt_alias *alias;

    mailbox = apr_hash_get(conf->mailboxes, key, APR_HASH_KEY_STRING);
    if (mailbox != NULL) {
        return mailbox;
    }
    if (conf->list != NULL &&
        hr_lists_contains(s->server->lists, conf->list, key, 1)) {
        return shown;
    }
    alias = apr_hash_get(conf->aliases, key, APR_HASH_KEY_STRING);
    return alias ? alias->address : NULL;
}

static int rcpt_is_postmaster(const char *key)
{
    /* RFC 5321 §4.5.1: "postmaster", case-insensitive, in every domain */
    return strncmp(key, "postmaster@", 11) == 0;
}

/* ----------------------------------------------------------- RCPT hook */

static int rcpt_check(hr_session *s, hr_txn *t, hr_rcpt *r)
{
    rcpt_config *conf = rcpt_conf(s);
    const char *key;

    if (conf == NULL || !conf->active || !rcpt_local_domain(s, r->domain)) {
        return HR_DECLINED;   /* the core decides: relay or not */
    }
    key = rcpt_fold(t->pool, rcpt_local_part(t->pool, r), r->domain);
    if (rcpt_is_postmaster(key) || rcpt_known(s, key, r->address)) {
        return HR_OK;
    }
    /* RFC 3463 §3.2: X.1.1 bad destination mailbox address */
    hr_reply(s, 550, "5.1.1", "<%s>: Recipient address rejected: User "
             "unknown", r->address);
    return HR_DENY;
}

/* -------------------------------------------------------- VRFY and EXPN */

/*
 * Find what a VRFY/EXPN argument names: "local@domain" in a local domain,
 * or a bare local part looked up in every local domain.  Fills @found
 * with the addresses to show (an alias's own address for aliases), and
 * @aliases (when not NULL) with the rcpt_alias of each.  Returns 0, or
 * -1 after replying to a syntax error.  *local_domain tells whether the
 * domain was local (always 1 for a bare local part).
 */
static int rcpt_resolve(hr_session *s, const char *verb, const char *args,
                        apr_array_header_t *found,
                        apr_array_header_t *aliases, int *local_domain)
{
    rcpt_config *conf = rcpt_conf(s);
    const hr_value *domains;
    const char *why = "Syntax error";
    hr_path path;
    int status, code, i;
    const char *enhanced;

    status = hr_parse_mailbox(s->pool, args, HR_PATH_LOCAL_ONLY, &path,
                              &why);
    if (status != HR_PARSE_OK) {
        hr_parse_status_reply(status, 1, &code, &enhanced);
        hr_reply(s, code, enhanced, "%s: %s", verb, why);
        return -1;
    }
    *local_domain = 1;
    if (path.domain[0] != '\0') {
        domains = NULL;
        *local_domain = rcpt_local_domain(s, path.domain);
    }
    else {
        domains = hr_session_eval(s, "session.rcpt.lookup.domains");
    }
    if (!*local_domain) {
        return 0;
    }
    for (i = 0; domains == NULL || (domains->type == HR_VAL_ARRAY &&
                                    i < domains->u.array->nelts); i++) {
        const char *domain = path.domain, *key, *shown;
        rcpt_alias *alias;

        if (domains != NULL) {
            const hr_value *d = APR_ARRAY_IDX(domains->u.array, i,
                                              hr_value *);
            if (d->type != HR_VAL_STRING) {
                continue;
            }
            domain = d->u.s;
        }
        key = rcpt_fold(s->pool, path.local, domain);
        shown = rcpt_known(s, key, apr_pstrcat(s->pool, path.local, "@",
                                               domain, NULL));
        if (shown == NULL && rcpt_is_postmaster(key)) {
            shown = apr_pstrcat(s->pool, path.local, "@", domain, NULL);
        }
        if (shown != NULL) {
            APR_ARRAY_PUSH(found, const char *) = shown;
            alias = conf ? apr_hash_get(conf->aliases, key,
                                        APR_HASH_KEY_STRING) : NULL;
            if (aliases != NULL) {
                APR_ARRAY_PUSH(aliases, rcpt_alias *) = alias;
            }
        }
        if (domains == NULL) {
            break;
        }
    }
    return 0;
}

/* RFC 5321 §3.5.1: "553 User ambiguous", listing the possibilities. */
static void rcpt_reply_ambiguous(hr_session *s, apr_array_header_t *found)
{
    const char *text = "Ambiguous; possibilities are";
    int i;

    for (i = 0; i < found->nelts; i++) {
        const char *more = apr_psprintf(s->pool, "%s\n<%s>", text,
                                        APR_ARRAY_IDX(found, i,
                                                      const char *));
        if (strlen(more) > RCPT_REPLY_MAX) {
            break;   /* the short form "553 User ambiguous" is enough */
        }
        text = more;
    }
    /* RFC 3463 §3.2: X.1.4 destination mailbox address ambiguous */
    hr_reply(s, 553, "5.1.4", "%s", text);
}

/* VRFY and EXPN disabled: RFC 5321 §7.3 demands 252, never 250 or 550. */
static int rcpt_reply_disabled(hr_session *s, const char *verb)
{
    hr_reply(s, 252, "2.5.1", "Cannot %s user, but will accept message "
             "and attempt delivery", verb);
    return HR_OK;
}

static int rcpt_vrfy(hr_session *s, const char *args)
{
    apr_array_header_t *found;
    int local;

    if (*args == '\0') {
        hr_reply(s, 501, "5.5.4", "Syntax: VRFY address");
        return hr_session_error(s);
    }
    if (!hr_session_bool(s, "session.rcpt.lookup.vrfy") ||
        !rcpt_conf(s)->active) {
        return rcpt_reply_disabled(s, "VRFY");
    }
    found = apr_array_make(s->pool, 2, sizeof(const char *));
    if (rcpt_resolve(s, "VRFY", args, found, NULL, &local) != 0) {
        return hr_session_error(s);
    }
    if (!local) {
        /* RFC 5321 §3.5.3: 252 when the address is not local */
        hr_reply(s, 252, "2.5.1", "Cannot VRFY a non-local address, but "
                 "will attempt delivery when accepted");
    }
    else if (found->nelts == 0) {
        hr_reply(s, 550, "5.1.1", "%s: User unknown", args);
    }
    else if (found->nelts > 1) {
        rcpt_reply_ambiguous(s, found);
    }
    else {
        /* RFC 5321 §3.5.1: the reply MUST include the mailbox */
        hr_reply(s, 250, "2.1.5", "<%s>",
                 APR_ARRAY_IDX(found, 0, const char *));
    }
    return HR_OK;
}

static int rcpt_expn(hr_session *s, const char *args)
{
    apr_array_header_t *found, *aliases;
    rcpt_alias *alias;
    const char *text = NULL;
    int local, i;

    if (*args == '\0') {
        hr_reply(s, 501, "5.5.4", "Syntax: EXPN list");
        return hr_session_error(s);
    }
    if (!hr_session_bool(s, "session.rcpt.lookup.expn") ||
        !rcpt_conf(s)->active) {
        return rcpt_reply_disabled(s, "EXPN");
    }
    found = apr_array_make(s->pool, 2, sizeof(const char *));
    aliases = apr_array_make(s->pool, 2, sizeof(rcpt_alias *));
    if (rcpt_resolve(s, "EXPN", args, found, aliases, &local) != 0) {
        return hr_session_error(s);
    }
    if (!local) {
        hr_reply(s, 252, "2.5.1", "Cannot EXPN a non-local address");
        return HR_OK;
    }
    if (found->nelts == 0) {
        hr_reply(s, 550, "5.1.1", "%s: No such mailing list", args);
        return HR_OK;
    }
    if (found->nelts > 1) {
        rcpt_reply_ambiguous(s, found);
        return HR_OK;
    }
    alias = APR_ARRAY_IDX(aliases, 0, rcpt_alias *);
    if (alias == NULL) {
        /* RFC 5321 §3.5.2: a user name MAY expand to a list of one */
        hr_reply(s, 250, "2.1.5", "<%s>",
                 APR_ARRAY_IDX(found, 0, const char *));
        return HR_OK;
    }
    /* RFC 5321 §3.5.2: one mailbox on each line of a multi-line 250 */
    for (i = 0; i < alias->members->nelts; i++) {
        const char *m = APR_ARRAY_IDX(alias->members, i, const char *);
        text = text ? apr_psprintf(s->pool, "%s\n<%s>", text, m)
                    : apr_psprintf(s->pool, "<%s>", m);
    }
    if (strlen(text) > RCPT_REPLY_MAX) {
        /* never a truncated list under 250: that would read as complete */
        hr_reply(s, 252, "2.5.1", "Cannot EXPN %s: the list is too long "
                 "to show", alias->address);
        return HR_OK;
    }
    hr_reply(s, 250, "2.1.5", "%s", text);
    return HR_OK;
}

static int rcpt_advertise_vrfy(hr_session *s, const char **line)
{
    return rcpt_conf(s)->active &&
           hr_session_bool(s, "session.rcpt.lookup.vrfy");
}

static int rcpt_advertise_expn(hr_session *s, const char **line)
{
    return rcpt_conf(s)->active &&
           hr_session_bool(s, "session.rcpt.lookup.expn");
}

static void rcpt_register_hooks(apr_pool_t *p)
{
    hr_hook_rcpt(rcpt_check, NULL, NULL, APR_HOOK_MIDDLE);
}

/* ---------------------------------------------------------- post_config */

/* Parse a configured mailbox; its folded key in *key.  0 or -1. */
static int rcpt_parse_config_address(hr_server *srv, apr_pool_t *p,
                                     const char *text, const char *file,
                                     int line, const char *what,
                                     const char **key,
                                     apr_array_header_t *errors)
{
    const char *why = "syntax error";
    hr_path path;

    if (hr_parse_mailbox(p, text, 0, &path, &why) != HR_PARSE_OK ||
        text[0] == '<') {
        hr_config_error(srv, errors, file, line, "%s: \"%s\" is not a mailbox "
                   "(local@domain): %s", what, text, why);
        return -1;
    }
    *key = rcpt_fold(srv->pool, path.local, path.domain);
    return 0;
}

/* Add one mailbox (from the list, or a file's line). */
static int rcpt_add_mailbox(hr_server *srv, rcpt_config *conf,
                            const char *text, const char *file, int line,
                            apr_array_header_t *errors)
{
    const char *key;

    if (rcpt_parse_config_address(srv, srv->pool, text, file, line,
                                  "session.rcpt.lookup.addresses", &key,
                                  errors) != 0) {
        return 1;
    }
    apr_hash_set(conf->mailboxes, key, APR_HASH_KEY_STRING,
                 apr_pstrdup(srv->pool, text));
    return 0;
}

/* "file://PATH": one mailbox a line, '#' comments, blank lines. */
static int rcpt_load_file(hr_server *srv, apr_pool_t *ptemp,
                          rcpt_config *conf, const hr_value *v,
                          apr_array_header_t *errors)
{
    const char *path = v->u.s + 7;
    apr_file_t *f;
    apr_finfo_t fi;
    apr_status_t rv;
    apr_size_t size;
    char *text, *line, *next, err[128];
    int lineno = 0, nerr = 0;

    if (path[0] != '/') {
        path = apr_pstrcat(ptemp, srv->config_dir, "/", path, NULL);
    }
    rv = apr_file_open(&f, path, APR_FOPEN_READ, APR_FPROT_OS_DEFAULT,
                       ptemp);
    if (rv == APR_SUCCESS) {
        rv = apr_file_info_get(&fi, APR_FINFO_SIZE, f);
    }
    if (rv == APR_SUCCESS && fi.size > RCPT_FILE_MAX) {
        hr_config_error(srv, errors, v->file, v->line, "session.rcpt.lookup."
                   "addresses: %s is larger than %d octets", path,
                   RCPT_FILE_MAX);
        return 1;
    }
    if (rv == APR_SUCCESS) {
        size = (apr_size_t)fi.size;
        text = apr_palloc(ptemp, size + 1);
        rv = apr_file_read_full(f, text, size, &size);
        if (rv == APR_EOF) {
            rv = APR_SUCCESS;
        }
        text[size] = '\0';
    }
    if (rv != APR_SUCCESS) {
        hr_config_error(srv, errors, v->file, v->line, "session.rcpt.lookup."
                   "addresses: cannot read %s: %s", path,
                   apr_strerror(rv, err, sizeof(err)));
        return 1;
    }
    apr_file_close(f);
    for (line = text; line != NULL && *line != '\0'; line = next) {
        char *end;

        lineno++;
        next = strchr(line, '\n');
        if (next != NULL) {
            *next++ = '\0';
        }
        end = line + strlen(line);
        while (end > line && apr_isspace(end[-1])) {
            *--end = '\0';
        }
        while (apr_isspace(*line)) {
            line++;
        }
        if (*line == '\0' || *line == '#') {
            continue;
        }
        nerr += rcpt_add_mailbox(srv, conf, line, path, lineno, errors);
    }
    return nerr;
}

/* session.rcpt.lookup.addresses: a list, "file://PATH" or "list/NAME". */
static int rcpt_load_addresses(hr_server *srv, apr_pool_t *ptemp,
                               rcpt_config *conf, const hr_value *v,
                               apr_array_header_t *errors)
{
    int i, nerr = 0;

    if (v->type == HR_VAL_ARRAY) {
        for (i = 0; i < v->u.array->nelts; i++) {
            const hr_value *a = APR_ARRAY_IDX(v->u.array, i, hr_value *);
            if (a->type != HR_VAL_STRING) {
                hr_config_error(srv, errors, a->file, a->line, "session.rcpt."
                           "lookup.addresses must hold strings");
                nerr++;
                continue;
            }
            nerr += rcpt_add_mailbox(srv, conf, a->u.s, a->file, a->line,
                                     errors);
        }
        return nerr;
    }
    if (v->type == HR_VAL_STRING && strncmp(v->u.s, "file://", 7) == 0 &&
        v->u.s[7] != '\0') {
        return rcpt_load_file(srv, ptemp, conf, v, errors);
    }
    if (v->type == HR_VAL_STRING && strncmp(v->u.s, "list/", 5) == 0) {
        if (!hr_lists_exists(srv->lists, v->u.s + 5)) {
            hr_config_error(srv, errors, v->file, v->line, "session.rcpt.lookup."
                       "addresses: there is no [list] entry \"%s\"",
                       v->u.s + 5);
            return 1;
        }
        conf->list = v->u.s + 5;
        return 0;
    }
    hr_config_error(srv, errors, v->file, v->line, "session.rcpt.lookup."
               "addresses must be a list of mailboxes, \"file://PATH\" or "
               "\"list/NAME\"");
    return 1;
}

/* session.rcpt.lookup.aliases: a table alias = [members] (or one). */
static int rcpt_load_aliases(hr_server *srv, rcpt_config *conf,
                             const hr_value *v, apr_array_header_t *errors)
{
    int i, j, nerr = 0;

    if (v->type != HR_VAL_TABLE) {
        hr_config_error(srv, errors, v->file, v->line, "session.rcpt.lookup."
                   "aliases must be a table: \"alias@domain\" = "
                   "[\"member@domain\", ...]");
        return 1;
    }
    for (i = 0; i < v->u.table->entries->nelts; i++) {
        hr_table_entry *te =
            &APR_ARRAY_IDX(v->u.table->entries, i, hr_table_entry);
        const hr_value *members = te->value;
        rcpt_alias *alias;
        const char *key, *mkey;

        if (rcpt_parse_config_address(srv, srv->pool, te->key,
                                      members->file, members->line,
                                      "session.rcpt.lookup.aliases", &key,
                                      errors) != 0) {
            nerr++;
            continue;
        }
        alias = apr_pcalloc(srv->pool, sizeof(*alias));
        alias->address = apr_pstrdup(srv->pool, te->key);
        alias->members = apr_array_make(srv->pool, 4, sizeof(const char *));
        if (members->type == HR_VAL_STRING) {
            if (rcpt_parse_config_address(srv, srv->pool, members->u.s,
                                          members->file, members->line,
                                          "alias member", &mkey,
                                          errors) != 0) {
                nerr++;
                continue;
            }
            APR_ARRAY_PUSH(alias->members, const char *) = members->u.s;
        }
        else if (members->type == HR_VAL_ARRAY &&
                 members->u.array->nelts > 0) {
            for (j = 0; j < members->u.array->nelts; j++) {
                const hr_value *m = APR_ARRAY_IDX(members->u.array, j,
                                                  hr_value *);
                if (m->type != HR_VAL_STRING ||
                    rcpt_parse_config_address(srv, srv->pool, m->u.s,
                                              m->file, m->line,
                                              "alias member", &mkey,
                                              errors) != 0) {
                    if (m->type != HR_VAL_STRING) {
                        hr_config_error(srv, errors, m->file, m->line, "alias "
                                   "'%s': members must be strings",
                                   te->key);
                    }
                    nerr++;
                    continue;
                }
                APR_ARRAY_PUSH(alias->members, const char *) = m->u.s;
            }
        }
        else {
            hr_config_error(srv, errors, members->file, members->line, "alias "
                       "'%s' must be a non-empty list of mailboxes",
                       te->key);
            nerr++;
            continue;
        }
        apr_hash_set(conf->aliases, key, APR_HASH_KEY_STRING, alias);
    }
    return nerr;
}

static int rcpt_post_config(hr_server *srv, apr_pool_t *ptemp,
                            apr_array_header_t *errors)
{
    rcpt_config *conf = apr_pcalloc(srv->pool, sizeof(*conf));
    const hr_value *v;
    int nerr = 0;

    conf->mailboxes = apr_hash_make(srv->pool);
    conf->aliases = apr_hash_make(srv->pool);
    hr_module_config(srv, &recipients_module) = conf;

    v = hr_value_lookup(srv->config, "session.rcpt.lookup.addresses");
    if (v != NULL) {
        conf->active = 1;
        nerr += rcpt_load_addresses(srv, ptemp, conf, v, errors);
    }
    v = hr_value_lookup(srv->config, "session.rcpt.lookup.aliases");
    if (v != NULL) {
        conf->active = 1;
        nerr += rcpt_load_aliases(srv, conf, v, errors);
    }
    return nerr ? -1 : 0;
}

/* -------------------------------------------------------------- record */

/* Group ends (RFC 2920 §3.1); never HR_VERB_ADVERTISED: VRFY is base
 * SMTP (RFC 5321 §4.5.1) and a disabled one still answers 252. */
static const hr_verb rcpt_vrfy_verbs[] = {
    {"VRFY", HR_VERB_GROUP_END, rcpt_vrfy},
    {NULL}};
static const hr_verb rcpt_expn_verbs[] = {
    {"EXPN", HR_VERB_GROUP_END, rcpt_expn},
    {NULL}};

static const hr_capability rcpt_capabilities[] = {
    {"VRFY", rcpt_advertise_vrfy, NULL, rcpt_vrfy_verbs},
    {"EXPN", rcpt_advertise_expn, NULL, rcpt_expn_verbs},
    {NULL}};

static const hr_config_key rcpt_keys[] = {
    {"session.rcpt.lookup.addresses", HR_KEY_ANY, 0, NULL, 0,
     "local mailboxes: a list, \"file://PATH\" or \"list/NAME\""},
    {"session.rcpt.lookup.aliases", HR_KEY_ANY, 0, NULL, 0,
     "aliases: \"alias@domain\" = [\"member@domain\", ...]"},
    {"session.rcpt.lookup.vrfy", HR_KEY_BOOL, HR_KEY_EXPR, "false",
     HR_VARS_EHLO, "answer VRFY (else 252 2.5.1)"},
    {"session.rcpt.lookup.expn", HR_KEY_BOOL, HR_KEY_EXPR, "false",
     HR_VARS_EHLO, "answer EXPN (else 252 2.5.1)"},
    {NULL}};

HR_MODULE(recipients) = {HR_MODULE_STUFF, "mod_recipients", rcpt_keys,
                         rcpt_capabilities, rcpt_post_config,
                         rcpt_register_hooks};
