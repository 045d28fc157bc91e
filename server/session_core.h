/*
 * session_core.h -- the core-private part of a session (hr_session.core)
 * and the functions the session files share.  Not installed.
 *
 * One session is run by at most one worker thread at a time (the poller
 * hands it over and takes it back), so nothing here needs a lock.
 */
#ifndef HR_SESSION_CORE_H
#define HR_SESSION_CORE_H

#include "hr_core.h"
#include "dot_reader.h"
#include "spool.h"

#define HR_INBUF_SIZE 65536      /* input buffer: longest line + slack */
#define HR_OUTBUF_MAX (1 << 20)  /* replies held before a forced flush */

typedef enum {
    HR_IN_COMMAND = 0,   /* reading command lines */
    HR_IN_DATA,          /* DATA body through the dot reader */
    HR_IN_OCTETS,        /* counted octets (BDAT) */
    HR_IN_DISCARD_LINE   /* skipping the rest of an over-long line */
} hr_input_mode;

/* Per-transaction core state (hr_txn.core). */
typedef struct hr_txn_core {
    hr_spool_msg *spool;         /* the message file being written */
    int spool_failed;            /* a write failed: answer 451 at the end */
    int too_big;                 /* over the size limit: 552 at the end */
    apr_off_t size_limit;        /* the session's limit, read at the start */
    int bad_newline;             /* bare CR/LF in DATA: 550 at the end */
    int received_count;          /* Received: headers seen (loop guard) */
    int in_headers;              /* still in the header section */
    int header_line_start;       /* at the start of a header line */
    char header_prefix[10];      /* start of the current header line */
    int header_prefix_len;
} hr_txn_core;

struct hr_session_core {
    hr_io *io;
    hr_io plain_io;
    apr_socket_t *socket;

    /* input */
    char *in;                    /* HR_INBUF_SIZE octets */
    apr_size_t in_start, in_end; /* unread octets are in[in_start..end) */
    int eof;
    hr_input_mode mode;
    hr_dot_reader dot;           /* HR_IN_DATA */
    apr_off_t octets_left;       /* HR_IN_OCTETS */
    hr_octets_fn *octets_data;
    hr_octets_done_fn *octets_done;
    void *octets_baton;
    hr_resume_fn *resume_fn;     /* parked: call this when ready */
    void *resume_baton;
    int resume_events;           /* APR_POLLIN / APR_POLLOUT */
    apr_interval_time_t resume_timeout;
    int greeting_pending;        /* the connect hook parked the session */
    hr_line_fn *line_fn;         /* next line goes here (SASL) */
    void *line_baton;

    /* output */
    char *out;
    apr_size_t out_len, out_cap;

    /* state */
    int greeted_refused;         /* connect hook refused: only QUIT */
    int closing;                 /* close after flushing */
    int want_write;              /* replies wait for the socket to drain */
    int close_now;               /* close without flushing more */
    apr_interval_time_t delay;   /* tarpit before the next reply */
    apr_array_header_t *advertised; /* keywords of the last EHLO reply */
    apr_array_header_t *extra_caps; /* lines from the capabilities hook */
    hr_rcpt *current_rcpt;       /* for rcpt-stage expressions */
    const char *pending_helo;    /* the name offered, during the helo hook */
    apr_off_t transferred;       /* octets received (transfer-limit) */
    apr_time_t deadline;         /* idle timeout */
    apr_time_t hard_deadline;    /* session.duration */
    char var_buf[HR_VAR_COUNT][32]; /* scratch for numeric variables */

    /* owned by event.c */
    void *event;
};

#define HR_SCORE(s) ((s)->core)

/* session.c */
hr_session *hr_session_create(hr_server *srv, const hr_listener *l,
                              apr_socket_t *sock, apr_pool_t *pool);
/** Run the session on input readiness; returns 1 when it must close. */
int hr_session_step(hr_session *s);
/** Start: the connect hook and the greeting. Returns 1 to close. */
int hr_session_start(hr_session *s);
/** Idle timeout or shutdown: queue @code text, flush, close. */
void hr_session_abort(hr_session *s, int code, const char *esc,
                      const char *text);
/** End of the session: hooks, txn reset, close the socket. */
void hr_session_end(hr_session *s);
/** Is there buffered input (in the session or the I/O layer)? */
int hr_session_has_input(hr_session *s);
/** Open a new transaction (MAIL). */
hr_txn *hr_txn_open(hr_session *s);

/* smtp_verbs.c / smtp_mail.c: the core's command table */
typedef int hr_core_verb_fn(hr_session *s, const char *args);
typedef struct hr_core_verb {
    const char *name;
    hr_core_verb_fn *handler;
    unsigned flags;              /* HR_VERB_GROUP_END */
} hr_core_verb;
extern const hr_core_verb hr_core_verbs[];
int hr_verb_mail(hr_session *s, const char *args);
int hr_verb_rcpt(hr_session *s, const char *args);

/* body.c: received-header scanning and the DATA end */
void hr_body_data_emit(void *baton, const char *data, apr_size_t len);
int hr_body_data_done(hr_session *s);

/* reply.c */
void hr_out_append(hr_session *s, const char *data, apr_size_t len);

#endif /* HR_SESSION_CORE_H */
