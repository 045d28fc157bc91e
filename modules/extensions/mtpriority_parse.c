/*
 * mtpriority_parse.c -- MT-PRIORITY values and Priority Assignment
 * Policies (RFC 6710), pure functions of their arguments.
 *
 *     mtpriority_parse_value("+4", &v)                 v 4
 *     mtpriority_effective(mixer, 3, MTP_MAX)          4
 *     mtpriority_effective(mixer, 9, 0)                0 (capped)
 *
 * The levels each policy defines, as MT-PRIORITY values:
 *
 *   MIXER (RFC 2156 "Priority:", X.400 priority): three levels,
 *     non-urgent -4, normal 0, urgent 4.
 *   STANAG4406 (NATO military messaging precedence): six levels,
 *     deferred -4, routine -2, priority 0, immediate 2, flash 4,
 *     override 6.
 *   NSEP (National Security and Emergency Preparedness): five levels,
 *     0 (routine) to 4 (the highest NSEP level).
 *
 * XXX these tables were written from the policy descriptions in RFC
 * 6710's registry and appendices without the RFC text at hand; check
 * them against it.  Every rule of the mapping lives in this file.
 */
#include <stddef.h>
#include <string.h>
#include <strings.h>

#include "mtpriority_parse.h"

static const int mixer_levels[] = {-4, 0, 4};
static const int stanag4406_levels[] = {-4, -2, 0, 2, 4, 6};
static const int nsep_levels[] = {0, 1, 2, 3, 4};

static const mtpriority_policy policies[] = {
    {"MIXER", mixer_levels, 3},
    {"STANAG4406", stanag4406_levels, 6},
    {"NSEP", nsep_levels, 5},
};

MTP_HIDDEN const mtpriority_policy *mtpriority_policy_find(const char *name)
{
    size_t i;

    for (i = 0; name != NULL && i < sizeof(policies) / sizeof(policies[0]);
         i++) {
        if (strcasecmp(name, policies[i].name) == 0) {
            return &policies[i];
        }
    }
    return NULL;
}

MTP_HIDDEN int mtpriority_parse_value(const char *text, int *value)
{
    int negative = 0;

    if (text == NULL) {
        return -1;
    }
    if (*text == '-' || *text == '+') {
        negative = *text == '-';
        text++;
    }
    /* one digit, and nothing after it */
    if (*text < '0' || *text > '9' || text[1] != '\0') {
        return -1;
    }
    /* RFC 6710 priority-value: "-" is only followed by 1-9 */
    if (negative && *text == '0') {
        return -1;
    }
    *value = negative ? -(*text - '0') : *text - '0';
    return 0;
}

MTP_HIDDEN int mtpriority_effective(const mtpriority_policy *policy,
                                    int requested, int cap)
{
    int value = requested, best, i;

    if (value > cap) {
        value = cap;
    }
    if (value < MTP_MIN) {
        value = MTP_MIN;
    }
    if (value > MTP_MAX) {
        value = MTP_MAX;
    }
    if (policy == NULL || policy->nlevels == 0) {
        return value;
    }
    /* levels rise: the first one at least as close as every later one
     * wins, which sends a tie to the lower level */
    best = policy->levels[0];
    for (i = 1; i < policy->nlevels; i++) {
        int level = policy->levels[i];
        int d_best = best > value ? best - value : value - best;
        int d_level = level > value ? level - value : value - level;

        if (d_level < d_best) {
            best = level;
        }
    }
    /* rounding up must not undo the cap: then the highest level under
     * it (or the lowest level when there is none) */
    if (best > cap) {
        best = policy->levels[0];
        for (i = 1; i < policy->nlevels && policy->levels[i] <= cap; i++) {
            best = policy->levels[i];
        }
    }
    return best;
}
