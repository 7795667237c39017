/* cmd_estimate.c — `monas-worker estimate`: decodes architectures of a search space,
 * lowers them to layer graphs and prints the MCU cost model's estimate (cost.h) as
 * one JSON object per architecture. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "commands.h"
#include "cost.h"
#include "json.h"
#include "mcu.h"
#include "space.h"

#define MAX_ARCH_TEXT (1 << 20)

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

/* Prints "monas-worker estimate: [where: ][field: ]message" on one line. */
static void report(const char *where, const struct mn_error *e)
{
    fprintf(stderr, "monas-worker estimate: %s%s%s%s%s\n", where ? where : "",
            where ? ": " : "", e->field, e->field[0] ? ": " : "", e->message);
}

static char *read_file(const char *path, struct mn_error *err)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        mn_error_set(err, MN_EIO, NULL, "cannot open %s", path);
        return NULL;
    }
    char *buf = malloc(MAX_ARCH_TEXT + 1);
    size_t n = buf ? fread(buf, 1, MAX_ARCH_TEXT + 1, f) : 0;
    fclose(f);
    if (!buf || n > MAX_ARCH_TEXT) {
        free(buf);
        mn_error_set(err, MN_ETOOBIG, NULL, "%s: larger than %d bytes", path, MAX_ARCH_TEXT);
        return NULL;
    }
    buf[n] = '\0';
    return buf;
}

static struct mn_mcu *load_mcu(const struct opts *o, struct mn_error *err)
{
    if (!o->mcu_file)
        return mn_mcu_builtin(o->mcu, err);
    char *text = read_file(o->mcu_file, err);
    if (!text)
        return NULL;
    cJSON *j = cJSON_Parse(text);
    free(text);
    if (!j) {
        mn_error_set(err, MN_EPARSE, NULL, "%s: malformed JSON", o->mcu_file);
        return NULL;
    }
    struct mn_mcu *m = mn_mcu_from_json(j, err);
    cJSON_Delete(j);
    return m;
}

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

/* Runs estimate_one over the lines of text; returns the number of failures. */
static int each_line(const struct mn_space *sp, const struct mn_mcu *m, char *text, int json,
                     const struct opts *o, const char *source)
{
    int failures = 0, lineno = 0;
    for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
        struct mn_error err = {0};
        char where[64];
        lineno++;
        size_t len = strlen(line);
        if (len && line[len - 1] == '\r')
            line[len - 1] = '\0';
        if (!line[strspn(line, " \t")])
            continue;
        snprintf(where, sizeof where, "%s line %d", source, lineno);
        if (estimate_one(sp, m, line, json, o->layers, &err)) {
            report(where, &err);
            failures++;
        }
    }
    return failures;
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
    cJSON *settings = NULL;
    char *text = NULL;
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
        default:
            fprintf(stderr, "monas-worker estimate: unknown or incomplete option '%s' "
                    "(try --help)\n", argv[optind - 1]);
            return MN_EXIT_USAGE;
        }
    }
    if (strcmp(o.mcu, "list") == 0 && !o.mcu_file) {
        cJSON *l = mn_mcu_list_json();
        char *s = l ? mn_json_print(l) : NULL;
        if (s)
            printf("%s\n", s);
        free(s);
        cJSON_Delete(l);
        return s ? MN_EXIT_OK : MN_EXIT_FAIL;
    }
    if (!(m = load_mcu(&o, &err))) {
        report(o.mcu_file ? o.mcu_file : NULL, &err);
        goto done;
    }
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
    if (o.settings && !(settings = cJSON_Parse(o.settings))) {
        fprintf(stderr, "monas-worker estimate: --settings: malformed JSON\n");
        goto done;
    }
    if (!(sp = mn_space_create(o.space, settings, &err))) {
        mn_error_prefix_field(&err, err.field[0] ? "settings" : "space");
        report(NULL, &err);
        goto done;
    }
    if (optind < argc && o.file) {
        fprintf(stderr, "monas-worker estimate: give architectures as arguments or with "
                "--file, not both\n");
        status = MN_EXIT_USAGE;
        goto done;
    }
    if (optind < argc) {
        for (int i = optind; i < argc; i++) {
            char where[32];
            snprintf(where, sizeof where, "argument %d", i - optind + 1);
            if (estimate_one(sp, m, argv[i], 0, o.layers, &err)) {
                report(where, &err);
                failures++;
            }
        }
    } else if (o.file) {
        if (!(text = read_file(o.file, &err))) {
            report("--file", &err);
            goto done;
        }
        failures = each_line(sp, m, text, 0, &o, o.file);
    } else {
        size_t cap = 0, len = 0, got;
        do {
            if (cap - len < 4096) {
                char *t = len + 4096 > MAX_ARCH_TEXT * 64 ? NULL : realloc(text, cap + 65536);
                if (!t) {
                    fprintf(stderr, "monas-worker estimate: stdin too large\n");
                    goto done;
                }
                text = t;
                cap += 65536;
            }
            got = fread(text + len, 1, cap - len - 1, stdin);
            len += got;
        } while (got > 0);
        text[len] = '\0';
        failures = each_line(sp, m, text, 1, &o, "stdin");
    }
    status = failures ? MN_EXIT_FAIL : MN_EXIT_OK;
done:
    free(text);
    cJSON_Delete(settings);
    mn_space_free(sp);
    mn_mcu_free(m);
    return status;
}
