/*
 * mod_chunking.c -- message transfer in counted chunks: CHUNKING and the
 * BDAT verb, and BINARYMIME (RFC 3030).
 *
 *     [server.modules]
 *     load = ["mod_pipelining", "mod_chunking"]
 *
 *     [session.extensions]
 *     chunking = true                   # the default once loaded
 *     # or per session, e.g. not for one network:
 *     # chunking = [ { if = "remote-ip", eq = "192.0.2.0/24", then = false },
 *     #              { else = true } ]
 *
 * `session.extensions.chunking` is an expression evaluated when the
 * EHLO/LHLO reply is built (variables: listener, remote-ip, local-ip,
 * local-port, is-tls, helo-domain, authenticated-as).  When it is true the
 * reply carries CHUNKING and BINARYMIME (RFC 3030 §3: BINARYMIME is only
 * usable with CHUNKING, so both follow the same setting).  The core then
 * accepts MAIL ... BODY=BINARYMIME, and refuses DATA for such a
 * transaction (503 5.5.1); BDAT carries it.
 *
 *     BDAT <chunk-size> [LAST]
 *
 * The chunk-size octets that follow the command line are message data,
 * stored exactly as received: no dot-unstuffing, a bare LF is data, and a
 * line "." is just a line (RFC 3030 §2).  Each chunk is answered
 * "250 2.0.0 <n> octets received"; the LAST chunk gets the final reply of
 * the message once it is durably queued (one per recipient on LMTP, RFC
 * 2033 §4.2).  The size limit (`session.data.limits.size`) is counted
 * across the chunks.  BDAT may be pipelined: it is not among the commands
 * that end a group (RFC 2920 §3.1), and RFC 3030 §4.2 shows chunks sent
 * back to back.
 *
 * Errors.  RFC 3030 §2: "If a failure occurs after a BDAT command is
 * received, the receiver-SMTP MUST accept and discard the associated
 * message data before sending the appropriate 5XX or 4XX code", so every
 * refusal below is sent after the chunk's octets were read and thrown
 * away, and none of them is ever parsed as a command:
 *
 *   CHUNKING not advertised in the session   503 5.5.1
 *   no MAIL, or no accepted RCPT              503 5.5.1
 *   a BDAT after BDAT LAST (no transaction)   503 5.5.1
 *   "BDAT 0" without LAST, extra arguments    501 5.5.4
 *   the chunk takes the message over the size limit   552 5.3.4
 *
 * A 4xx/5xx reply to a chunk fails the transaction: the client "MUST NOT
 * send any additional BDAT segments" and the server "MUST be prepared to
 * accept and discard additional BDAT chunks already in the pipeline"
 * (RFC 3030 §2).  So the transaction is dropped with the refusal (nothing
 * is stored), and chunks already in flight are read, discarded and
 * answered 503 5.5.1 (there is no transaction any more) until the client
 * starts again with MAIL (or RSET first, which is harmless).  Nothing of a
 * failed message can be completed by a later "BDAT 0 LAST".
 *
 * A malformed chunk-size ("BDAT", "BDAT -1", "BDAT 1x", more than 18
 * digits) is answered 501 5.5.4 at once: the number of octets that follow
 * is unknown, so there is nothing the server can skip.  RFC 3030 does not
 * say what to do; RFC 5321 §3.8 lets a server close a connection on its
 * own initiative only with a 421 and for reasons such as shutting down, so
 * Herald, like Postfix, replies and goes on reading commands.  Any octets
 * the client sends anyway then arrive as (almost certainly invalid)
 * commands and count towards `session.errors.max`; the transaction is
 * dropped so that none of them can complete a message.
 */
#include <string.h>
#include <apr_strings.h>

#include "herald.h"
#include "hr_module.h"
#include "bdat_parse.h"

#define CHUNKING_KEY "session.extensions.chunking"

extern hr_module chunking_module;

/*
 * The chunk being read.  One per session (only one BDAT is in progress at
 * a time), reused by every BDAT; it lives in the session pool.
 */
typedef struct chunking_chunk {
    apr_off_t size;          /* octets announced */
    int last;                /* BDAT ... LAST */
    int store;               /* octets go to the body stream */
    int over_limit;          /* the body stream refused: over the size */
    /* when the octets are discarded: the reply to send after them */
    int reply_code;          /* 0: the reply was queued already */
    const char *reply_esc;
    const char *reply_text;
    int protocol_error;      /* count it (session.errors.max / wait) */
} chunking_chunk;

/* RFC 3030 §2 and §3: CHUNKING, and BINARYMIME which needs it. */
static int chunking_advertise(hr_session *s, const char **line)
{
    return hr_session_bool(s, CHUNKING_KEY);
}

static chunking_chunk *chunking_state(hr_session *s)
{
    chunking_chunk *ch = hr_session_state(s, &chunking_module);

    if (ch == NULL) {
        ch = apr_palloc(s->pool, sizeof(*ch));
        hr_session_state(s, &chunking_module) = ch;
    }
    memset(ch, 0, sizeof(*ch));
    return ch;
}

/* Octets of the chunk, as they arrive (never parsed as commands). */
static void chunking_data(hr_session *s, const char *data, apr_size_t len,
                          void *baton)
{
    chunking_chunk *ch = baton;

    if (!ch->store || ch->over_limit) {
        return;   /* discarded */
    }
    if (hr_body_write(s, data, len) != HR_OK) {
        /* over session.data.limits.size: read the rest of the chunk, keep
         * nothing more (RFC 3030 §2: discard, then reply) */
        ch->over_limit = 1;
    }
}

/* Drop the transaction after a refused chunk (RFC 3030 §2: it failed). */
static void chunking_fail_txn(hr_session *s)
{
    if (s->txn != NULL) {
        hr_body_abort(s);
        hr_session_reset_txn(s);
    }
}

/* All octets of the chunk were read: the reply. */
static void chunking_done(hr_session *s, void *baton)
{
    chunking_chunk *ch = baton;

    if (!ch->store) {
        if (ch->reply_code != 0) {
            hr_reply(s, ch->reply_code, ch->reply_esc, "%s",
                     ch->reply_text);
        }
        chunking_fail_txn(s);
        if (ch->protocol_error) {
            hr_session_error(s);
        }
        return;
    }
    if (ch->last) {
        /* the end of the message: checks, data_end hooks, the durable
         * commit and the final reply(s); 552 5.3.4 if it grew too big */
        hr_body_finish(s);
        return;
    }
    if (ch->over_limit) {
        /* RFC 1870 §6.3 (552) and RFC 3030 §2: the chunk was read in
         * full; the message is failed and nothing of it is kept */
        hr_log_session(s, HR_LOG_INFO, "BDAT: message over the size limit "
                       "after %" APR_OFF_T_FMT " octets",
                       s->txn ? s->txn->size : (apr_off_t)0);
        hr_reply(s, 552, "5.3.4", "Message size exceeds fixed maximum "
                 "message size");
        chunking_fail_txn(s);
        return;
    }
    hr_reply(s, 250, "2.0.0", "%" APR_OFF_T_FMT " octets received",
             ch->size);
}

/* Read and discard @ch->size octets, then send the given reply. */
static int chunking_discard(hr_session *s, chunking_chunk *ch, int code,
                            const char *esc, const char *text,
                            int protocol_error)
{
    ch->store = 0;
    ch->reply_code = code;
    ch->reply_esc = esc;
    ch->reply_text = text;
    ch->protocol_error = protocol_error;
    hr_session_read_octets(s, ch->size, chunking_data, chunking_done, ch);
    return HR_OK;
}

/* BDAT <chunk-size> [LAST] */
static int chunking_bdat(hr_session *s, const char *args)
{
    chunking_chunk *ch = chunking_state(s);
    hr_txn *t = s->txn;
    bdat_status status;
    int rv;

    status = bdat_parse(args, &ch->size, &ch->last);
    if (status == BDAT_BAD_SIZE) {
        /* the octet count is unknown: nothing to skip (see the top) */
        hr_log_session(s, HR_LOG_INFO, "BDAT: %s: %s",
                       bdat_status_text(status),
                       hr_log_escape(s->pool, args, 64));
        hr_reply(s, 501, "5.5.4", "Syntax: BDAT chunk-size [LAST]");
        chunking_fail_txn(s);
        return hr_session_error(s);
    }
    if (!hr_session_advertised(s, "CHUNKING")) {
        /* The verb is registered without HR_VERB_ADVERTISED so that its
         * octets are consumed here rather than read as commands. */
        return chunking_discard(s, ch, 503, "5.5.1", "Bad sequence of "
                                "commands: CHUNKING was not offered in "
                                "reply to EHLO", 1);
    }
    if (status == BDAT_ZERO_NOT_LAST) {
        return chunking_discard(s, ch, 501, "5.5.4", "BDAT 0 is only "
                                "allowed with LAST", 1);
    }
    if (status != BDAT_OK) {
        return chunking_discard(s, ch, 501, "5.5.4", "Syntax: BDAT "
                                "chunk-size [LAST]", 1);
    }
    if (t == NULL) {
        /* RFC 3030 §2: also a BDAT after BDAT LAST */
        return chunking_discard(s, ch, 503, "5.5.1", "Bad sequence of "
                                "commands: MAIL first", 1);
    }
    if (t->rcpts->nelts == 0) {
        /* RFC 5321 §3.3: no valid recipients */
        return chunking_discard(s, ch, 503, "5.5.1", "Bad sequence of "
                                "commands: RCPT first", 1);
    }
    if (!t->body_started) {
        /* The first chunk starts the message as DATA would: the data
         * hooks may refuse it before any of it is stored.
         * XXX: their reply, or the 451 of hr_body_begin(), is queued
         * now and may reach the client before the chunk was read in
         * full when it spans several reads (RFC 3030 §2 wants it after);
         * it still answers this BDAT, and the octets are discarded. */
        rv = hr_run_data(s, t);
        if (rv == HR_DISCONNECT) {
            hr_session_close(s);
            return HR_DISCONNECT;
        }
        if (rv == HR_DENY || hr_body_begin(s) != HR_OK) {
            return chunking_discard(s, ch, 0, NULL, NULL, 0);
        }
        /* RFC 3030 §2: DATA may not follow in this transaction (the
         * core refuses it with 503 5.5.1) */
        t->bdat_used = 1;
    }
    ch->store = 1;
    hr_session_read_octets(s, ch->size, chunking_data, chunking_done, ch);
    return HR_OK;
}

/*
 * BDAT is not HR_VERB_ADVERTISED: when CHUNKING was not offered the core
 * would answer 502 and then read the chunk's octets as commands; the
 * handler consumes them and answers 503 itself.  No HR_VERB_GROUP_END:
 * chunks may be pipelined (RFC 2920 §3.1, RFC 3030 §4.2).
 */
static const hr_verb chunking_verbs[] = {
    {"BDAT", 0, chunking_bdat},
    {NULL}};

static const hr_capability chunking_capabilities[] = {
    {"CHUNKING", chunking_advertise, NULL, chunking_verbs},
    /* BODY=BINARYMIME is handled by the core's BODY parameter, which
     * accepts it only when BINARYMIME was advertised */
    {"BINARYMIME", chunking_advertise, NULL, NULL},
    {NULL}};

static const hr_config_key chunking_keys[] = {
    {CHUNKING_KEY, HR_KEY_BOOL, HR_KEY_EXPR, "true", HR_VARS_EHLO,
     "advertise CHUNKING and BINARYMIME, accept BDAT (RFC 3030)"},
    {NULL}};

HR_MODULE(chunking) = {HR_MODULE_STUFF, "mod_chunking", chunking_keys,
                       chunking_capabilities, NULL, NULL};
