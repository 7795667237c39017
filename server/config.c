/* config.c — monasd's option table and usage text (see config.h; options.h parses). */
#include "config.h"
#include "options.h"

static const struct mn_opt options[] = {
#define S(f) MN_OPT_SLOT(struct mn_config, f)
    {"listen", "MONAS_LISTEN", "127.0.0.1:8080", MN_OPT_STR, S(listen), 0, 0,
     "address to serve the API on, host:port ([v6]:port); port 0 picks a free port", 0},
    {"db", "MONAS_DB", "./var/monas.db", MN_OPT_STR, S(db), 0, 0,
     "SQLite database file (created, and its directory, if missing)", 0},
    {"tokens-file", "MONAS_TOKENS_FILE", "", MN_OPT_STR, S(tokens_file), 0, 0,
     "bearer tokens, one 'token scope[,scope]' per line (scopes: admin, worker, read); "
     "MONAS_TOKENS may also hold entries separated by ';'", 0},
    {"insecure", "MONAS_INSECURE", "0", MN_OPT_BOOL, S(insecure), 0, 1,
     "allow a non-loopback address without tokens", 0},
    {"max-body-bytes", "MONAS_MAX_BODY_BYTES", "4194304", MN_OPT_LONG, S(max_body_bytes), 1024,
     1L << 30, "largest request body accepted (larger: 413)", 0},
    {"reap-interval-ms", "MONAS_REAP_INTERVAL_MS", "1000", MN_OPT_LONG, S(reap_interval_ms), 10,
     600000, "how often expired leases are requeued and job time budgets checked", 0},
    {"max-connections", "MONAS_MAX_CONNECTIONS", "512", MN_OPT_LONG, S(max_connections), 4, 65536,
     "concurrent HTTP connections (one thread each)", 0},
    {"drain-seconds", "MONAS_DRAIN_SECONDS", "10", MN_OPT_LONG, S(drain_seconds), 0, 3600,
     "on SIGTERM/SIGINT, how long in-flight requests may take to finish", 0},
    {"port-file", "MONAS_PORT_FILE", "", MN_OPT_STR, S(port_file), 0, 0,
     "write the bound port number to this file once listening", 0},
    {"log-level", "MONAS_LOG_LEVEL", "info", MN_OPT_STR, S(log_level), 0, 0,
     "debug, info, warn or error", 0},
    {"help", NULL, "0", MN_OPT_BOOL, S(help), 0, 1, "print this help and exit", 0},
    {"version", NULL, "0", MN_OPT_BOOL, S(version), 0, 1, "print the version and exit", 0},
#undef S
};
#define N_OPTIONS (int)(sizeof options / sizeof options[0])

int mn_config_load(struct mn_config *c, int argc, char **argv, struct mn_error *err)
{
    return mn_opts_load(options, N_OPTIONS, c, sizeof *c, argc, argv, err);
}

void mn_config_usage(FILE *out)
{
    fprintf(out, "usage: monasd [options]\n\nThe monas coordinator: REST API, job store, "
                 "leases and search strategies.\nEvery option can also be set by the "
                 "environment variable shown.\n\n");
    for (int i = 0; i < N_OPTIONS; i++) {
        const struct mn_opt *o = &options[i];
        fprintf(out, "  --%-18s %s\n", o->flag, o->help);
        if (o->env)
            fprintf(out, "  %-20s env %s, default '%s'\n", "", o->env, o->dflt);
    }
}
