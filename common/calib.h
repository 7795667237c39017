/* calib.h — calibration of MCU profile coefficients from measured layers: reads a CSV
 * of single-layer measurements (the format of shared/data/mcu/, see its README),
 * lowers each row to a one-layer graph so the cost model's own terms (cost.h) are the
 * regression features, fits the latency coefficients of one (board, op kind) by
 * non-negative least squares on relative error (LAPACK dgelsd), and reports k-fold
 * cross-validated MAPE and Spearman ρ. Also fits the flash and arena overheads of the
 * runtime from the measured model and arena sizes. */
#ifndef MN_CALIB_H
#define MN_CALIB_H
#include <cjson/cJSON.h>
#include "error.h"
#include "graph.h"
#include "mcu.h"

struct mn_calib_row {
    char board[32];
    enum mn_op op;
    struct mn_graph *g;     /* input → the measured layer; owned */
    double cycles;          /* invoke_cycles (rows without op_cycles are skipped) */
    double flash_bytes;     /* size of the one-layer model, 0 if unknown */
    double arena_bytes;     /* TFLM arena used, 0 if unknown */
};

struct mn_calib_data {
    int n, cap;
    struct mn_calib_row *rows;
    int skipped;            /* lines not usable (unknown op, missing cycles, bad shape) */
};

/* Parses CSV text (header line naming the columns) into *out; release with
 * mn_calib_data_release. MN_EPARSE names the line of a malformed row or a missing
 * column. */
int mn_calib_parse_csv(const char *text, struct mn_calib_data *out, struct mn_error *err);
/* Same from a file (MN_EIO when unreadable). */
int mn_calib_read_csv(const char *path, struct mn_calib_data *out, struct mn_error *err);
void mn_calib_data_release(struct mn_calib_data *d);

/* Distinct boards in order of first appearance; returns how many (≤ max). */
int mn_calib_boards(const struct mn_calib_data *d, const char **names, int max);

#define MN_CALIB_TERMS 3 /* fixed (per call), per MAC, per element: as mcu.h */

struct mn_calib_fit {
    char board[32];
    enum mn_op op;
    int n;                        /* rows */
    double coef[MN_CALIB_TERMS];  /* fixed_cycles, cycles_per_mac, cycles_per_element */
    double mape_fit;              /* % on the rows fitted */
    int folds;                    /* folds used (n for leave-one-out), 0: too few rows */
    double mape_cv, spearman_cv;  /* % and ρ of held-out predictions; NaN when folds 0 */
};

/* Fits the latency of `op` on `board` with `folds`-fold cross-validation (rows go to
 * folds round-robin; folds ≤ 0 or ≥ n means leave-one-out). MN_ENOTFOUND when no row
 * matches. */
int mn_calib_fit_latency(const struct mn_calib_data *d, const char *board, enum mn_op op,
                         int folds, struct mn_calib_fit *out, struct mn_error *err);

struct mn_calib_memory {
    int n;
    double model_bytes, tensor_bytes, flash_mape; /* flash framing fit and its error */
    double runtime_sram_bytes, arena_mape;        /* arena bookkeeping fit, error */
};

/* Fits the flash framing (model + per-tensor bytes) and the arena bookkeeping of
 * `board`; scratch rules and per-layer/per-channel SRAM come from base. */
int mn_calib_fit_memory(const struct mn_calib_data *d, const char *board,
                        const struct mn_mcu *base, struct mn_calib_memory *out,
                        struct mn_error *err);

/* Non-negative least squares of A x ≈ y, rows weighted by w (NULL: 1): exact by
 * trying every support of the ≤ 8 columns. A is m×k row-major. Returns 0 or
 * MN_ENUMERIC / MN_EINVAL / MN_ENOMEM. */
int mn_calib_nnls(const double *A, const double *y, const double *w, int m, int k,
                  double *x);

/* Spearman rank correlation of a and b (average ranks for ties); NaN if undefined. */
double mn_calib_spearman(const double *a, const double *b, int n);

#endif
