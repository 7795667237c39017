/* config.c — option table, environment and flag parsing (see config.h). */
#include "config.h"
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

enum kind { STR, LONG, BOOL };

static const struct option {
    const char *flag, *env, *dflt;
    enum kind kind;
    size_t off, size;
    long min, max;
    const char *help;
} options[] = {
#define S(f) offsetof(struct mn_config, f), sizeof(((struct mn_config *)0)->f)
    {"listen", "MONAS_LISTEN", "127.0.0.1:8080", STR, S(listen), 0, 0,
     "address to serve the API on, host:port ([v6]:port); port 0 picks a free port"},
    {"db", "MONAS_DB", "./var/monas.db", STR, S(db), 0, 0,
     "SQLite database file (created, and its directory, if missing)"},
    {"tokens-file", "MONAS_TOKENS_FILE", "", STR, S(tokens_file), 0, 0,
     "bearer tokens, one 'token scope[,scope]' per line (scopes: admin, worker, read); "
     "MONAS_TOKENS may also hold entries separated by ';'"},
    {"insecure", "MONAS_INSECURE", "0", BOOL, S(insecure), 0, 1,
     "allow a non-loopback address without tokens"},
    {"max-body-bytes", "MONAS_MAX_BODY_BYTES", "4194304", LONG, S(max_body_bytes), 1024,
     1L << 30, "largest request body accepted (larger: 413)"},
    {"reap-interval-ms", "MONAS_REAP_INTERVAL_MS", "1000", LONG, S(reap_interval_ms), 10,
     600000, "how often expired leases are requeued and job time budgets checked"},
    {"max-connections", "MONAS_MAX_CONNECTIONS", "512", LONG, S(max_connections), 4, 65536,
     "concurrent HTTP connections (one thread each)"},
    {"drain-seconds", "MONAS_DRAIN_SECONDS", "10", LONG, S(drain_seconds), 0, 3600,
     "on SIGTERM/SIGINT, how long in-flight requests may take to finish"},
    {"port-file", "MONAS_PORT_FILE", "", STR, S(port_file), 0, 0,
     "write the bound port number to this file once listening"},
    {"log-level", "MONAS_LOG_LEVEL", "info", STR, S(log_level), 0, 0,
     "debug, info, warn or error"},
    {"help", NULL, "0", BOOL, S(help), 0, 1, "print this help and exit"},
    {"version", NULL, "0", BOOL, S(version), 0, 1, "print the version and exit"},
#undef S
};
#define N_OPTIONS (int)(sizeof options / sizeof options[0])

static int set(struct mn_config *c, const struct option *o, const char *v, const char *src,
               struct mn_error *err)
{
    char *dst = (char *)c + o->off;
    if (o->kind == STR) {
        if (strlen(v) >= o->size)
            return mn_error_set(err, MN_EINVAL, o->flag, "%s: value too long", src);
        strcpy(dst, v);
        return MN_OK;
    }
    if (o->kind == BOOL) {
        static const char *const yes[] = {"1", "true", "yes", "on"}, *const no[] = {"0", "false", "no", "off", ""};
        for (int i = 0; i < 4; i++)
            if (strcmp(v, yes[i]) == 0)
                return *(int *)dst = 1, MN_OK;
        for (int i = 0; i < 5; i++)
            if (strcmp(v, no[i]) == 0)
                return *(int *)dst = 0, MN_OK;
        return mn_error_set(err, MN_EINVAL, o->flag, "%s: expected true or false", src);
    }
    char *end;
    errno = 0;
    long n = strtol(v, &end, 10);
    if (errno || end == v || *end || n < o->min || n > o->max)
        return mn_error_set(err, MN_EINVAL, o->flag, "%s: expected an integer in [%ld, %ld]",
                            src, o->min, o->max);
    *(long *)dst = n;
    return MN_OK;
}

int mn_config_load(struct mn_config *c, int argc, char **argv, struct mn_error *err)
{
    memset(c, 0, sizeof *c);
    int rc;
    for (int i = 0; i < N_OPTIONS; i++) {
        const char *v = options[i].env ? getenv(options[i].env) : NULL;
        if ((rc = set(c, &options[i], options[i].dflt, "default", err)))
            return rc;
        if (v && (rc = set(c, &options[i], v, options[i].env, err)))
            return rc;
    }
    for (int a = 1; a < argc; a++) {
        const char *arg = argv[a];
        if (strncmp(arg, "--", 2) != 0)
            return mn_error_set(err, MN_EINVAL, NULL, "unexpected argument '%s'", arg);
        const char *name = arg + 2, *eq = strchr(name, '=');
        size_t len = eq ? (size_t)(eq - name) : strlen(name);
        const struct option *o = NULL;
        for (int i = 0; i < N_OPTIONS; i++)
            if (strlen(options[i].flag) == len && strncmp(options[i].flag, name, len) == 0)
                o = &options[i];
        if (!o)
            return mn_error_set(err, MN_EINVAL, NULL, "unknown option '%s' (see --help)", arg);
        const char *v = eq ? eq + 1 : NULL;
        if (!v && o->kind == BOOL)
            v = "1";
        else if (!v && a + 1 < argc)
            v = argv[++a];
        else if (!v)
            return mn_error_set(err, MN_EINVAL, o->flag, "option --%s needs a value", o->flag);
        if ((rc = set(c, o, v, arg, err)))
            return rc;
    }
    return MN_OK;
}

void mn_config_usage(FILE *out)
{
    fprintf(out, "usage: monasd [options]\n\nThe monas coordinator: REST API, job store, "
                 "leases and search strategies.\nEvery option can also be set by the "
                 "environment variable shown.\n\n");
    for (int i = 0; i < N_OPTIONS; i++) {
        const struct option *o = &options[i];
        fprintf(out, "  --%-18s %s\n", o->flag, o->help);
        if (o->env)
            fprintf(out, "  %-20s env %s, default '%s'\n", "", o->env, o->dflt);
    }
}
