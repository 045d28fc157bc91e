/*
 * mtpriority_parse.h -- the pure parts of mod_mtpriority (RFC 6710): the
 * MT-PRIORITY value and the Priority Assignment Policies that map it to
 * the levels a policy defines.  No session types, so the CUnit suite
 * (test/unit/test_mtpriority.c) links this file alone.
 *
 * The functions are hidden: modules are loaded RTLD_GLOBAL and these
 * names must not leak into other modules.
 */
#ifndef MTPRIORITY_PARSE_H
#define MTPRIORITY_PARSE_H

#define MTP_HIDDEN __attribute__((visibility("hidden")))

/* RFC 6710 §3: priorities are -9 (lowest) to 9 (highest), 0 normal. */
#define MTP_MIN (-9)
#define MTP_MAX 9

/** A Priority Assignment Policy (RFC 6710, IANA registry of policies). */
typedef struct mtpriority_policy {
    const char *name;      /* as written in the EHLO line: "MIXER" */
    const int *levels;     /* the MT-PRIORITY values it defines, rising */
    int nlevels;
} mtpriority_policy;

/**
 * The policy named @name ("mixer", "STANAG4406", "nsep"; case is
 * ignored), or NULL when Herald does not know it.
 */
MTP_HIDDEN const mtpriority_policy *mtpriority_policy_find(const char *name);

/**
 * Parse an MT-PRIORITY value (RFC 6710 §3, ABNF priority-value =
 * ( "-" levels ) / ( [ "+" ] ( "0" / levels ) ), levels = %x31-39):
 * one digit with an optional sign, "-0" excluded.  Stores it in *value;
 * returns 0, or -1 when malformed.
 */
MTP_HIDDEN int mtpriority_parse_value(const char *text, int *value);

/**
 * The priority a message gets: @requested, lowered to @cap when it is
 * higher (pass MTP_MAX for no cap), then rounded to the nearest level the
 * policy defines; a value halfway between two levels goes to the lower
 * one, so rounding never grants more than half a step.  Values beyond
 * the policy's extreme levels go to those levels, and the result is never
 * above @cap unless the policy has no level that low (then its lowest).
 */
MTP_HIDDEN int mtpriority_effective(const mtpriority_policy *policy,
                                    int requested, int cap);

#endif /* MTPRIORITY_PARSE_H */
