/* config.h — monasd's options: one table (name, environment variable, default, help)
 * read from MONAS_* environment variables, then overridden by --flags. */
#ifndef MN_CONFIG_H
#define MN_CONFIG_H
#include <stdio.h>
#include "error.h"

struct mn_config {
    char listen[256];       /* host:port; port 0 picks a free one */
    char db[1024];
    char tokens_file[1024];
    char port_file[1024];   /* written with the bound port once listening */
    char log_level[16];
    int insecure;
    long max_body_bytes;
    long reap_interval_ms;
    long max_connections;
    long drain_seconds;
    int help, version;
};

/* Fills c from defaults, then environment, then argv. MN_EINVAL with a message naming
 * the option on an unknown flag or bad value. */
int mn_config_load(struct mn_config *c, int argc, char **argv, struct mn_error *err);
/* Writes the usage text: every option with its variable and default. */
void mn_config_usage(FILE *out);

#endif
