/*
 * envelope.h -- the envelope of a spooled message, its file format and
 * its JSON form.
 *
 * The envelope is everything the SMTP dialogue said about a message that
 * is not in the message itself: who sent it, from where, over which
 * listener, the MAIL and RCPT parameters as received, and the fields that
 * modules set (DSN RET/ENVID/NOTIFY/ORCPT, priority, hold-until ...).  It
 * is a plain structure, independent of sessions, so that the queue manager
 * and `herald queue` can read it without a server.
 *
 * The core fills one at the end of DATA/BDAT and hands it to
 * hr_spool_commit() (spool.h), which stores it as queue/ID.env:
 *
 *     herald-envelope 1
 *     id 0000018C2F3A4B5C-0000AB12-00000001
 *     arrival 1733350000123456
 *     listener smtp
 *     remote-ip 127.0.0.1
 *     helo client.example
 *     sender a@b.example
 *     mail-param SIZE=1234
 *     mail-param SMTPUTF8
 *     field dsn.ret FULL
 *     rcpt x@y.example
 *     rcpt-param NOTIFY=SUCCESS,FAILURE
 *     rcpt-field dsn.notify SUCCESS,FAILURE
 *     size 1234
 *     end
 *
 * One "keyword value" per line, lines end in LF.  A value is one token:
 * octets below 0x21, '%' and 0x7F are written as %XX (and '=' too in a
 * parameter keyword), every other octet (UTF-8 included) as is; so any
 * string round-trips.  An empty value is written as the keyword alone.
 * Optional lines (auth, tls, listener, remote-ip, helo) are left out when
 * the value is NULL.  "rcpt-param" and "rcpt-field" belong to the last
 * "rcpt"; "mail-param" and "field" come before the first "rcpt".  The
 * final "end" lets a reader reject a truncated file.
 */
#ifndef HR_ENVELOPE_H
#define HR_ENVELOPE_H

#include <apr_pools.h>
#include <apr_tables.h>
#include <apr_time.h>
#include "herald.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Version written on the first line; a reader refuses any other. */
#define HR_ENVELOPE_VERSION 1
/* Largest envelope text hr_envelope_parse() and hr_spool_load() accept. */
#define HR_ENVELOPE_MAX_SIZE (16 * 1024 * 1024)
/* Longest queue id accepted. */
#define HR_ENVELOPE_MAX_ID 64

/** One recipient of a spooled message. */
typedef struct hr_envelope_rcpt {
    const char *address;        /* without <> */
    apr_array_header_t *params; /* of hr_param_value, as received */
    apr_table_t *fields;        /* "dsn.notify" -> "SUCCESS,FAILURE" */
} hr_envelope_rcpt;

/** The envelope of one spooled message. */
typedef struct hr_envelope {
    const char *id;                  /* queue id */
    apr_time_t arrival;              /* when the message was committed */
    const char *listener;            /* listener id, or NULL */
    const char *remote_ip;           /* or NULL */
    const char *helo;                /* HELO/EHLO/LHLO domain, or NULL */
    const char *authenticated_as;    /* NULL when not authenticated */
    const char *tls;                 /* "TLSv1.3 TLS_AES_256_GCM_SHA384"/NULL */
    const char *sender;              /* "" for the null reverse-path */
    apr_array_header_t *mail_params; /* of hr_param_value */
    apr_table_t *fields;             /* "dsn.ret", "priority", "hold-until" */
    apr_array_header_t *rcpts;       /* of hr_envelope_rcpt */
    apr_off_t size;                  /* octets of the stored message file */
} hr_envelope;

/**
 * Is @id a well-formed queue id: 1..HR_ENVELOPE_MAX_ID octets of
 * [0-9A-Za-z-]?  (So an id can never name a path.)
 */
int hr_envelope_id_valid(const char *id);

/** An empty envelope (arrays and tables made, strings NULL, sender ""). */
hr_envelope *hr_envelope_make(apr_pool_t *p);

/** Append a recipient to @e and return it (params/fields made empty). */
hr_envelope_rcpt *hr_envelope_add_rcpt(apr_pool_t *p, hr_envelope *e,
                                       const char *address);

/**
 * The envelope file text (see the top of this file), allocated in @p;
 * its length in *@len when @len is not NULL.  NULL strings of required
 * values (id, sender) are written as empty.
 */
char *hr_envelope_serialize(apr_pool_t *p, const hr_envelope *e,
                            apr_size_t *len);

/**
 * Parse envelope text into @e (allocated in @p; @text need not outlive
 * the call).  Strict: an unknown or repeated keyword, a bad escape, a
 * control octet, a missing required line or a missing final "end" are
 * errors.  Returns 0, or -1 with the reason in *@why ("line 3: ...").
 */
int hr_envelope_parse(apr_pool_t *p, const char *text, apr_size_t len,
                      hr_envelope *e, const char **why);

/**
 * The envelope as one JSON object on one line (RFC 8259), in *@json:
 *
 *   {"id":"...","arrival":"2026-12-04T21:14:56Z","arrival_unix":1796...,
 *    "listener":"smtp","remote_ip":"127.0.0.1","helo":"c.example",
 *    "authenticated_as":null,"tls":null,"sender":"a@b.example",
 *    "mail_params":{"SIZE":"1234","SMTPUTF8":true},
 *    "fields":{"dsn.ret":"FULL"},
 *    "recipients":[{"address":"x@y.example","params":{...},
 *                   "fields":{...}}],"size":1234}
 *
 * A parameter without a value is true; a NULL string is null.  Strings
 * are escaped (quote, backslash, control octets as \u00XX) and invalid
 * UTF-8 is replaced by U+FFFD.  Repeated keys keep the first value.
 */
void hr_envelope_to_json(apr_pool_t *p, const hr_envelope *e, char **json);

/** @t as RFC 3339 UTC with whole seconds: "2026-12-04T21:14:56Z". */
const char *hr_envelope_time_rfc3339(apr_pool_t *p, apr_time_t t);

/**
 * Length of the valid UTF-8 sequence at @s (at most @n octets), or 0 when
 * it is not valid UTF-8 (RFC 3629 §4: no overlong forms, no surrogates,
 * nothing above U+10FFFF).
 */
apr_size_t hr_envelope_utf8_len(const unsigned char *s, apr_size_t n);

#ifdef __cplusplus
}
#endif
#endif /* HR_ENVELOPE_H */
