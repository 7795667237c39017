/* cmd_estimate.c — `monas-worker estimate`: decodes architectures of a search space,
 * lowers them to layer graphs and prints the MCU cost model's estimate (cost.h) as
 * one JSON object per architecture. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cli.h"
#include "commands.h"
#include "cost.h"
#include "json.h"
#include "mcu.h"
#include "space.h"

void mn_cmd_estimate_help(FILE *out)
{
    fprintf(out,
            "usage: monas-worker estimate [--space NAME] [--settings JSON]\n"
            "                             [--mcu ID | --mcu-file FILE] [--layers]\n"
            "                             [--file FILE | ARCH...]\n"
            "\n"
            "Prints one JSON object per architecture: MACs, parameters, flash bytes, peak\n"
            "SRAM (best operator order; with and without the input tensor), latency in ms,\n"
            "and whether it fits the MCU's SRAM and flash.\n"
            "\n"
            "  --space NAME      search space: nb201 (default), unas, graph\n"
            "  --settings JSON   space settings, e.g. '{\"C\":16,\"N\":5}'\n"
            "  --mcu ID          built-in MCU profile (default stm32f746); --mcu list\n"
            "                    prints the built-in profiles\n"
            "  --mcu-file FILE   a custom MCU profile (JSON, the form of --mcu-show)\n"
            "  --mcu-show        print the selected profile as JSON and exit\n"
            "  --layers          add the per-layer table (execution order)\n"
            "  --file FILE       architectures, one per line (text form)\n"
            "  ARCH              an architecture: the nb201 string or JSON text\n"
            "Without ARCH or --file, reads JSON lines from stdin (one architecture each).\n"
            "Errors print one line naming the problem and exit non-zero.\n");
}

struct opts {
    const char *space, *settings, *mcu, *mcu_file, *file;
    int layers, show;
};

/* Estimates one architecture (text form, or JSON when json is set) and prints it. */
static int estimate_one(const struct mn_space *sp, const struct mn_mcu *m, const char *text,
                        int json, int layers, struct mn_error *err)
{
    struct mn_arch *a = NULL;
    struct mn_graph *g = NULL;
    struct mn_cost c = {0};
    cJSON *out = NULL;
    int rc;
    if (json) {
        cJSON *j = cJSON_Parse(text);
        if (!j)
            return mn_error_set(err, MN_EPARSE, NULL, "malformed JSON line");
        rc = mn_space_arch_from_json(sp, j, &a, err);
        cJSON_Delete(j);
    } else {
        rc = mn_space_arch_from_text(sp, text, &a, err);
    }
    if (rc || (rc = mn_space_lower(sp, a, &g, err)) || (rc = mn_cost_estimate(g, m, &c, err)))
        goto done;
    cJSON *cost = mn_cost_to_json(&c, layers);
    char *key = mn_space_arch_key(sp, a), *line = NULL;
    out = cJSON_CreateObject();
    int ok = cost && key && out && cJSON_AddStringToObject(out, "arch", key);
    while (ok && cost->child) {
        cJSON *it = cJSON_DetachItemViaPointer(cost, cost->child);
        ok = cJSON_AddItemToObject(out, it->string, it);
    }
    cJSON_Delete(cost);
    if (!ok || !(line = mn_json_print(out)))
        rc = mn_error_set(err, MN_ENOMEM, NULL, "out of memory");
    else
        printf("%s\n", line);
    free(line);
    free(key);
done:
    cJSON_Delete(out);
    mn_cost_release(&c);
    mn_graph_free(g);
    mn_arch_free(a);
    return rc;
}

int mn_cmd_estimate(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"space", required_argument, NULL, 's'},
        {"settings", required_argument, NULL, 'S'},
        {"mcu", required_argument, NULL, 'm'},
        {"mcu-file", required_argument, NULL, 'M'},
        {"mcu-show", no_argument, NULL, 'w'},
        {"file", required_argument, NULL, 'f'},
        {"layers", no_argument, NULL, 'l'},
        {NULL, 0, NULL, 0},
    };
    struct opts o = {.space = "nb201", .mcu = "stm32f746"};
    struct mn_error err = {0};
    struct mn_space *sp = NULL;
    struct mn_mcu *m = NULL;
    struct mn_cli_items items = {0};
    int c, status = MN_EXIT_FAIL, failures = 0;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        switch (c) {
        case 's': o.space = optarg; break;
        case 'S': o.settings = optarg; break;
        case 'm': o.mcu = optarg; break;
        case 'M': o.mcu_file = optarg; break;
        case 'w': o.show = 1; break;
        case 'f': o.file = optarg; break;
        case 'l': o.layers = 1; break;
        default: return mn_cli_bad_option("estimate", argv[optind - 1]);
        }
    }
    if ((status = mn_cli_mcu_option("estimate", o.mcu, o.mcu_file, &m)) >= 0)
        return status;
    status = MN_EXIT_FAIL;
    if (o.show) {
        cJSON *j = mn_mcu_to_json(m);
        char *s = j ? cJSON_Print(j) : NULL;
        if (s)
            printf("%s\n", s);
        status = s ? MN_EXIT_OK : MN_EXIT_FAIL;
        free(s);
        cJSON_Delete(j);
        goto done;
    }
    if (!(sp = mn_cli_space(o.space, o.settings, "--settings", &err))) {
        mn_cli_report("estimate", NULL, &err);
        goto done;
    }
    if ((status = mn_cli_collect("estimate", argc - optind, argv + optind, o.file, &items)))
        goto done;
    for (int i = 0; i < items.n; i++)
        if (estimate_one(sp, m, items.v[i].text, items.v[i].json, o.layers, &err)) {
            mn_cli_report("estimate", items.v[i].where, &err);
            failures++;
        }
    status = failures ? MN_EXIT_FAIL : MN_EXIT_OK;
done:
    mn_cli_items_free(&items);
    mn_space_free(sp);
    mn_mcu_free(m);
    return status;
}
