/* main.c — monas-worker entry point: dispatches to its subcommands (commands.h). */
#include <stdio.h>
#include <string.h>
#include "commands.h"

static const struct mn_command commands[] = {
    {"estimate", "MCU cost (MACs, params, flash, peak SRAM, latency) of architectures",
     mn_cmd_estimate, mn_cmd_estimate_help},
    {"calibrate", "fit MCU latency coefficients to measured layers; report CV error",
     mn_cmd_calibrate, mn_cmd_calibrate_help},
    {"score", "zero-cost proxies and MCU cost of architectures, one JSON line each",
     mn_cmd_score, mn_cmd_score_help},
    {"run", "the worker service: lease candidates from monasd, score them, post results",
     mn_cmd_run, mn_cmd_run_help},
};
#define N_COMMANDS (sizeof commands / sizeof commands[0])

static void usage(FILE *out)
{
    fprintf(out, "usage: monas-worker COMMAND [OPTIONS]\n\ncommands:\n");
    for (size_t i = 0; i < N_COMMANDS; i++)
        fprintf(out, "  %-10s %s\n", commands[i].name, commands[i].summary);
    fprintf(out, "\n`monas-worker COMMAND --help` describes a command.\n");
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return MN_EXIT_USAGE;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
        strcmp(argv[1], "help") == 0) {
        usage(stdout);
        return MN_EXIT_OK;
    }
    for (size_t i = 0; i < N_COMMANDS; i++) {
        if (strcmp(argv[1], commands[i].name) != 0)
            continue;
        for (int a = 2; a < argc; a++)
            if (strcmp(argv[a], "--help") == 0 || strcmp(argv[a], "-h") == 0) {
                commands[i].help(stdout);
                return MN_EXIT_OK;
            }
        return commands[i].run(argc - 1, argv + 1);
    }
    fprintf(stderr, "monas-worker: unknown command '%s' (try --help)\n", argv[1]);
    return MN_EXIT_USAGE;
}
