/*
 * bench_sieve.c -- how long one run of a compiled Sieve script takes.
 *
 * Compiles the seed EHLO script once, then runs it N times (default
 * 2,000,000; the first argument overrides it, bounded to 1,000 ..
 * 100,000,000) against a host whose "list/blocked-domains" is an
 * apr_hash of 10,000 domains, alternating a listed and an unlisted HELO
 * domain, and prints the mean time per run.  It does the same for a
 * heavier script (:matches, match variables, set modifiers, :regex).
 * Built by `make check`, not run by it:
 *     ./bench/bench_sieve [runs]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <apr_general.h>
#include <apr_hash.h>
#include <apr_strings.h>

#include "sieve.h"

#define LIST_SIZE 10000

typedef struct bench_ctx {
    apr_hash_t *domains;        /* lower-case keys */
    const char *helo;
    const char *remote_ip;
    const char *listener;
} bench_ctx;

static const char *bench_env(void *c, const char *name)
{
    bench_ctx *b = c;

    if (strcmp(name, "helo_domain") == 0)
        return b->helo;
    if (strcmp(name, "remote_ip") == 0)
        return b->remote_ip;
    if (strcmp(name, "listener") == 0)
        return b->listener;
    return NULL;
}

/* A host list lookup as mod_sieve would do it: fold, then hash. */
static int bench_list_contains(void *c, const char *list, const char *value,
                               apr_size_t len, int casefold)
{
    bench_ctx *b = c;
    char key[256];
    apr_size_t i;

    if (strcmp(list, "list/blocked-domains") != 0)
        return -1;
    if (len >= sizeof(key))
        return 0;
    for (i = 0; i < len; i++) {
        char ch = value[i];

        key[i] = casefold && ch >= 'A' && ch <= 'Z' ? (char)(ch + 32) : ch;
    }
    return apr_hash_get(b->domains, key, (apr_ssize_t)len) != NULL;
}

static const sieve_host bench_host = {
    bench_env, bench_list_contains, NULL, NULL, NULL, NULL
};

static double now_us(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

/* Run PROG RUNS times; returns microseconds per run, or -1 when an
 * outcome was wrong. */
static double bench(const sieve_program *prog, bench_ctx *listed,
                    bench_ctx *unlisted, long runs, int expect_reject)
{
    long i, rejects = 0;
    double t0, t1;

    t0 = now_us();
    for (i = 0; i < runs; i++) {
        sieve_result res;

        sieve_run(prog, &bench_host, (i & 1) ? unlisted : listed, 0, &res);
        rejects += res.action == SIEVE_REJECT;
    }
    t1 = now_us();
    if (expect_reject && rejects != (runs + 1) / 2) {
        fprintf(stderr, "wrong outcomes: %ld rejects of %ld runs\n",
                rejects, runs);
        return -1;
    }
    return (t1 - t0) / (double)runs;
}

static sieve_program *compile(apr_pool_t *p, const char *name,
                              const char *text)
{
    sieve_error err;
    sieve_program *prog = sieve_compile(p, name, text, strlen(text),
                                        SIEVE_STAGE_EHLO, &err);

    if (prog == NULL)
        fprintf(stderr, "%s:%d:%d: %s\n", name, err.line, err.column,
                err.message);
    return prog;
}

int main(int argc, char **argv)
{
    static const char seed[] =
        "require [\"variables\", \"extlists\", \"reject\"];\n"
        "\n"
        "if string :list \"${env.helo_domain}\" \"list/blocked-domains\" {\n"
        "    reject \"551 5.1.1 Your domain '${env.helo_domain}' has been "
        "blacklisted.\";\n"
        "}\n";
    static const char heavy[] =
        "require [\"variables\", \"extlists\", \"reject\", \"regex\",\n"
        "         \"environment\", \"relational\"];\n"
        "set :lower \"helo\" \"${env.helo_domain}\";\n"
        "set \"tld\" \"\";\n"
        "if string :matches \"${helo}\" \"*.*\" { set \"tld\" \"${2}\"; }\n"
        "if string :matches \"${env.remote_ip}\" \"192.0.2.*\" {\n"
        "    set \"local\" \"${1}\";\n"
        "}\n"
        "if string :regex \"${helo}\" \"^[0-9]+-[0-9]+-\" {\n"
        "    reject \"550 5.7.1 dynamic-looking name ${helo}\";\n"
        "    stop;\n"
        "}\n"
        "if anyof(string :list \"${helo}\" \"list/blocked-domains\",\n"
        "         string :is \"${tld}\" [\"xyz\", \"top\", \"click\"],\n"
        "         string :count \"gt\" [\"${local}\"] \"1\") {\n"
        "    reject \"551 5.1.1 Your domain '${env.helo_domain}' "
        "(${env.remote_ip}) has been blacklisted.\";\n"
        "    stop;\n"
        "}\n"
        "if environment :matches \"listener\" \"sub*\" { keep; }\n";
    apr_pool_t *pool;
    bench_ctx listed, unlisted;
    sieve_program *prog;
    long runs = 2000000;
    double us;
    int i;

    if (argc > 1) {
        runs = strtol(argv[1], NULL, 10);
        if (runs < 1000)
            runs = 1000;
        if (runs > 100000000)
            runs = 100000000;
    }
    apr_initialize();
    apr_pool_create(&pool, NULL);

    memset(&listed, 0, sizeof(listed));
    listed.domains = apr_hash_make(pool);
    for (i = 0; i < LIST_SIZE; i++) {
        const char *d = apr_psprintf(pool, "d%05d.example", i);

        apr_hash_set(listed.domains, d, APR_HASH_KEY_STRING, "");
    }
    listed.helo = "D04242.Example";
    listed.remote_ip = "198.51.100.7";
    listed.listener = "smtp";
    unlisted = listed;
    unlisted.helo = "mail.good-sender.example";

    prog = compile(pool, "seed", seed);
    if (prog == NULL)
        return 1;
    bench(prog, &listed, &unlisted, runs / 10, 1);       /* warm up */
    us = bench(prog, &listed, &unlisted, runs, 1);
    if (us < 0)
        return 1;
    printf("sieve seed EHLO script, %d-entry list: %.3f us/run (%ld runs)\n",
           LIST_SIZE, us, runs);

    prog = compile(pool, "heavy", heavy);
    if (prog == NULL)
        return 1;
    bench(prog, &listed, &unlisted, runs / 10, 1);
    us = bench(prog, &listed, &unlisted, runs, 1);
    if (us < 0)
        return 1;
    printf("sieve heavier script (:matches, variables, :regex, %d-entry "
           "list): %.3f us/run (%ld runs)\n", LIST_SIZE, us, runs);

    apr_pool_destroy(pool);
    apr_terminate();
    return 0;
}
