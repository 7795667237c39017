/* cmd_calibrate.c — `monas-worker calibrate`: fits MCU latency coefficients per board
 * and op kind to a CSV of measured layers (calib.h) and reports cross-validated error;
 * with --mcu, prints that profile with the fitted coefficients filled in. */
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "calib.h"
#include "cli.h"
#include "commands.h"
#include "json.h"
#include "mcu.h"

#define MAX_BOARDS 32

void mn_cmd_calibrate_help(FILE *out)
{
    fprintf(out,
            "usage: monas-worker calibrate --csv FILE [--board NAME] [--folds K] [--json]\n"
            "                              [--mcu ID]\n"
            "\n"
            "Fits latency = fixed·calls + per_mac·MACs + per_element·elements per board and\n"
            "op kind by non-negative least squares on relative error, and reports the\n"
            "in-sample MAPE and the K-fold cross-validated MAPE and Spearman rho; then the\n"
            "flash framing and arena overheads fitted from the measured model sizes.\n"
            "\n"
            "  --csv FILE    measurements (columns as in shared/data/mcu/README)\n"
            "  --board NAME  only this board (default: every board in the file)\n"
            "  --folds K     cross-validation folds (default 10; 0 = leave-one-out)\n"
            "  --json        JSON lines instead of a table\n"
            "  --mcu ID      with --board: print built-in profile ID with the fitted\n"
            "                coefficients and provenance (how shipped profiles are made)\n");
}

static void report(const struct mn_error *e)
{
    fprintf(stderr, "monas-worker calibrate: %s%s%s\n", e->field, e->field[0] ? ": " : "",
            e->message);
}

static cJSON *fit_json(const struct mn_calib_fit *f)
{
    cJSON *o = cJSON_CreateObject();
    if (o && cJSON_AddStringToObject(o, "board", f->board) &&
        cJSON_AddStringToObject(o, "op", mn_op_name(f->op)) &&
        cJSON_AddNumberToObject(o, "n", f->n) &&
        mn_json_add_num(o, "fixed_cycles", f->coef[0]) &&
        mn_json_add_num(o, "cycles_per_mac", f->coef[1]) &&
        mn_json_add_num(o, "cycles_per_element", f->coef[2]) &&
        mn_json_add_num(o, "mape_fit", f->mape_fit) && cJSON_AddNumberToObject(o, "folds", f->folds) &&
        mn_json_add_num(o, "mape_cv", f->mape_cv) && mn_json_add_num(o, "spearman_cv", f->spearman_cv))
        return o;
    cJSON_Delete(o);
    return NULL;
}

/* Writes the fitted groups of one board into profile m with their provenance. */
static int apply(struct mn_mcu *m, const struct mn_calib_fit *fits, int nf,
                 const struct mn_calib_memory *mem, const char *csv, int folds)
{
    char text[800];
    const char *base = strrchr(csv, '/');
    base = base ? base + 1 : csv;
    for (int i = 0; i < nf; i++) {
        const struct mn_calib_fit *f = &fits[i];
        struct mn_mcu_latency *l = &m->latency[f->op];
        l->fixed_cycles = f->coef[0];
        l->cycles_per_mac = f->coef[1];
        l->cycles_per_element = f->coef[2];
        snprintf(text, sizeof text,
                 "fitted: monas-worker calibrate --csv %.200s --board %.31s --folds %d; %d layers "
                 "(TFLM+CMSIS-NN invoke cycles, DWT); NNLS on relative error; CV MAPE %.1f%%, "
                 "Spearman rho %.3f", base, f->board, folds, f->n, f->mape_cv, f->spearman_cv);
        if (mn_mcu_set_provenance(m, mn_op_name(f->op), text))
            return MN_ENOMEM;
    }
    if (mem->n) {
        m->flash.model_bytes = (int64_t)llround(mem->model_bytes);
        m->flash.tensor_bytes = (int64_t)llround(mem->tensor_bytes);
        m->sram.runtime_bytes = (int64_t)llround(mem->runtime_sram_bytes);
    }
    return MN_OK;
}

int mn_cmd_calibrate(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"csv", required_argument, NULL, 'c'},   {"board", required_argument, NULL, 'b'},
        {"folds", required_argument, NULL, 'k'}, {"json", no_argument, NULL, 'j'},
        {"mcu", required_argument, NULL, 'm'},   {NULL, 0, NULL, 0},
    };
    const char *csv = NULL, *board = NULL, *mcu_id = NULL;
    int folds = 10, json = 0, c, status = MN_EXIT_FAIL;
    struct mn_error err = {0};
    struct mn_calib_data d = {0};
    struct mn_mcu *base = NULL;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        char *end;
        switch (c) {
        case 'c': csv = optarg; break;
        case 'b': board = optarg; break;
        case 'j': json = 1; break;
        case 'm': mcu_id = optarg; break;
        case 'k':
            folds = (int)strtol(optarg, &end, 10);
            if (*end || folds < 0 || folds > 100000) {
                fprintf(stderr, "monas-worker calibrate: --folds must be an integer >= 0\n");
                return MN_EXIT_USAGE;
            }
            break;
        default: return mn_cli_bad_option("calibrate", argv[optind - 1]);
        }
    }
    if (!csv || optind < argc || (mcu_id && !board)) {
        fprintf(stderr, "monas-worker calibrate: %s (try --help)\n",
                !csv ? "--csv FILE is required"
                     : optind < argc ? "unexpected argument" : "--mcu needs --board");
        return MN_EXIT_USAGE;
    }
    /* The scratch and per-layer SRAM rules come from a TFLM+CMSIS-NN Cortex-M4 profile. */
    if (!(base = mn_mcu_builtin(mcu_id ? mcu_id : "stm32f446re", &err)) ||
        mn_calib_read_csv(csv, &d, &err)) {
        report(&err);
        goto done;
    }
    const char *boards[MAX_BOARDS];
    int nb = mn_calib_boards(&d, boards, MAX_BOARDS), matched = 0;
    if (!json && !mcu_id)
        printf("%-14s %-9s %5s %10s %8s %8s %7s %7s %6s\n", "board", "op", "n", "fixed",
               "per_mac", "per_elem", "fit%", "cv%", "rho");
    for (int b = 0; b < nb; b++) {
        if (board && strcmp(board, boards[b]) != 0)
            continue;
        matched = 1;
        struct mn_calib_fit fits[MN_OP_COUNT];
        struct mn_calib_memory mem;
        int nf = 0;
        for (int op = 1; op < MN_OP_COUNT; op++) {
            int rc = mn_calib_fit_latency(&d, boards[b], (enum mn_op)op, folds, &fits[nf], &err);
            if (rc == MN_ENOTFOUND)
                continue;
            if (rc) {
                report(&err);
                goto done;
            }
            const struct mn_calib_fit *f = &fits[nf++];
            if (mcu_id)
                continue;
            if (json) {
                if (mn_cli_print_json(fit_json(f)))
                    goto done;
            } else {
                printf("%-14s %-9s %5d %10.1f %8.3f %8.2f %7.1f %7.1f %6.3f\n", f->board,
                       mn_op_name(f->op), f->n, f->coef[0], f->coef[1], f->coef[2],
                       f->mape_fit, f->mape_cv, f->spearman_cv);
            }
        }
        int rc = mn_calib_fit_memory(&d, boards[b], base, &mem, &err);
        if (rc && rc != MN_ENOTFOUND) {
            report(&err);
            goto done;
        }
        if (rc == MN_ENOTFOUND)
            mem.n = 0;
        if (mcu_id) {
            if (apply(base, fits, nf, &mem, csv, folds) ||
                mn_cli_print_json(mn_mcu_to_json(base)))
                goto done;
        } else if (json && mem.n) {
            cJSON *o = cJSON_CreateObject();
            if (!o || !cJSON_AddStringToObject(o, "board", boards[b]) ||
                !cJSON_AddStringToObject(o, "fit", "memory") ||
                !cJSON_AddNumberToObject(o, "n", mem.n) ||
                !mn_json_add_num(o, "flash_model_bytes", mem.model_bytes) ||
                !mn_json_add_num(o, "flash_tensor_bytes", mem.tensor_bytes) ||
                !mn_json_add_num(o, "flash_mape", mem.flash_mape) ||
                !mn_json_add_num(o, "sram_runtime_bytes", mem.runtime_sram_bytes) ||
                !mn_json_add_num(o, "arena_mape", mem.arena_mape)) {
                cJSON_Delete(o);
                goto done;
            }
            if (mn_cli_print_json(o))
                goto done;
        } else if (mem.n) {
            printf("%-14s memory    %5d flash: model %.0f B + %.1f B/tensor (MAPE %.2f%%); "
                   "arena: runtime %.0f B (MAPE %.2f%%)\n", boards[b], mem.n, mem.model_bytes,
                   mem.tensor_bytes, mem.flash_mape, mem.runtime_sram_bytes, mem.arena_mape);
        }
    }
    if (!matched) {
        fprintf(stderr, "monas-worker calibrate: board '%s' not in %s\n", board ? board : "",
                csv);
        goto done;
    }
    if (!json && !mcu_id)
        printf("rows used %d, skipped %d; folds %s\n", d.n, d.skipped,
               folds ? "round-robin" : "leave-one-out");
    status = MN_EXIT_OK;
done:
    mn_calib_data_release(&d);
    mn_mcu_free(base);
    return status;
}
