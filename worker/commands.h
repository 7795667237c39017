/* commands.h — the monas-worker subcommands: each takes the arguments after its name
 * (argv[0] is the subcommand name), prints its results on stdout and one-line errors
 * on stderr, and returns the process exit status. main.c lists them in one table. */
#ifndef MN_WORKER_COMMANDS_H
#define MN_WORKER_COMMANDS_H
#include <stdio.h>

struct mn_command {
    const char *name;
    const char *summary;                 /* one line for `monas-worker --help` */
    int (*run)(int argc, char **argv);
    void (*help)(FILE *out);             /* full usage for `monas-worker NAME --help` */
};

int mn_cmd_estimate(int argc, char **argv);
void mn_cmd_estimate_help(FILE *out);
int mn_cmd_calibrate(int argc, char **argv);
void mn_cmd_calibrate_help(FILE *out);
int mn_cmd_score(int argc, char **argv);
void mn_cmd_score_help(FILE *out);
int mn_cmd_run(int argc, char **argv);
void mn_cmd_run_help(FILE *out);

/* Exit statuses shared by the subcommands. */
enum { MN_EXIT_OK = 0, MN_EXIT_FAIL = 1, MN_EXIT_USAGE = 2 };

#endif
