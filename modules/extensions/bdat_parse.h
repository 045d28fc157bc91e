/*
 * bdat_parse.h -- the argument parser of the BDAT verb (RFC 3030 §2), kept
 * apart from mod_chunking so that test/unit/test_bdat.c can drive it
 * without the module.  Not installed.
 *
 *     bdat-cmd   ::= "BDAT" SP chunk-size [ SP end-marker ] CR LF
 *     chunk-size ::= 1*DIGIT
 *     end-marker ::= "LAST"
 *
 * The verdict says more than "valid or not": after a BDAT line the client
 * sends chunk-size octets without waiting, so the server can stay in step
 * with it whenever the size can be read, even when the rest of the line is
 * wrong.  Only when no size can be read is the count of octets that follow
 * unknown.
 */
#ifndef BDAT_PARSE_H
#define BDAT_PARSE_H

#include <apr.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Linked into mod_chunking.so, which is loaded RTLD_GLOBAL: keep the
 * symbol out of the dynamic symbol table. */
#if defined(__GNUC__)
#define BDAT_HIDDEN __attribute__((visibility("hidden")))
#else
#define BDAT_HIDDEN
#endif

/* Significant digits accepted in chunk-size: below 10^18, so the count
 * always fits in a 64-bit apr_off_t. */
#define BDAT_MAX_DIGITS 18

typedef enum {
    BDAT_OK = 0,        /* *size and *last are set */
    BDAT_BAD_SIZE,      /* no chunk-size could be read (missing, not all
                           digits, too long): the octet count is unknown */
    BDAT_BAD_ARGS,      /* chunk-size read into *size, but the rest of the
                           line is wrong: the octets must still be read */
    BDAT_ZERO_NOT_LAST  /* "BDAT 0": an empty chunk that is not the last
                           one makes no progress (*size = 0) */
} bdat_status;

/**
 * Parse the arguments of BDAT (@args: the line after "BDAT ", without
 * CRLF, NUL-terminated).  LAST is matched without regard to case (RFC 5321
 * §2.4, RFC 5234 §2.3).  Exactly one SP separates the tokens; anything
 * else is BDAT_BAD_ARGS when the size could still be read.  Sets *size
 * (0 when unknown) and *last (0 unless the line is valid and ends with
 * LAST).
 */
BDAT_HIDDEN bdat_status bdat_parse(const char *args, apr_off_t *size,
                                   int *last);

/** Short text for a verdict (for replies and test messages). */
BDAT_HIDDEN const char *bdat_status_text(bdat_status status);

#ifdef __cplusplus
}
#endif
#endif /* BDAT_PARSE_H */
