/* calib.c — fitting MCU profile coefficients to measured single-layer latencies and
 * model/arena sizes: CSV reading, lowering rows to graphs, non-negative least squares
 * on LAPACK, k-fold cross-validation, Spearman ρ (see calib.h). */
#include "calib.h"
#include <errno.h>
#include <lapacke.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cost.h"

#define MAX_LINE 4096
#define MAX_COLS 64
#define MAX_NNLS_COLS 8

/* The CSV columns used; `need` marks those that must be present. */
enum col {
    C_BOARD, C_OP, C_IN_H, C_IN_W, C_IN_C, C_OUT_H, C_OUT_W, C_OUT_C, C_K_H, C_K_W, C_S_H,
    C_S_W, C_PADDING, C_ACT, C_BIAS, C_OP_CYCLES, C_INVOKE_CYCLES, C_FLASH, C_ARENA, N_COL
};
static const struct {
    const char *name;
    int need;
} cols[N_COL] = {
    {"board", 1}, {"op", 1}, {"in_h", 1}, {"in_w", 1}, {"in_c", 1}, {"out_h", 1},
    {"out_w", 1}, {"out_c", 1}, {"k_h", 1}, {"k_w", 1}, {"s_h", 1}, {"s_w", 1},
    {"padding", 1}, {"activation", 1}, {"use_bias", 1}, {"op_cycles", 0},
    {"invoke_cycles", 0}, {"flash_bytes", 0}, {"tensor_arena_used", 0},
};

/* CSV op names and the graph op each lowers to. */
static const struct {
    const char *csv;
    enum mn_op op;
} csv_ops[] = {
    {"conv2d", MN_OP_CONV2D},
    {"depthwise_conv2d", MN_OP_DWCONV2D},
    {"dense", MN_OP_DENSE},
    {"add", MN_OP_ADD},
    {"global_average_pooling2d", MN_OP_GAVGPOOL},
    {"global_max_pooling2d", MN_OP_GMAXPOOL},
    {"average_pooling2d", MN_OP_AVGPOOL},
    {"max_pooling2d", MN_OP_MAXPOOL},
    {"softmax", MN_OP_SOFTMAX},
};

void mn_calib_data_release(struct mn_calib_data *d)
{
    if (!d)
        return;
    for (int i = 0; i < d->n; i++)
        mn_graph_free(d->rows[i].g);
    free(d->rows);
    memset(d, 0, sizeof *d);
}

/* Splits line (modified in place) at commas; returns the field count. */
static int split(char *line, char **f, int max)
{
    int n = 0;
    char *p = line;
    while (n < max) {
        f[n++] = p;
        p = strchr(p, ',');
        if (!p)
            break;
        *p++ = '\0';
    }
    return n;
}

static int num(const char *s, double *out)
{
    char *end;
    if (!s || !*s)
        return 0;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || *end || !isfinite(v))
        return 0;
    *out = v;
    return 1;
}

static int dim(const char *s)
{
    double v;
    return num(s, &v) && v >= 1 && v <= 65536 && v == floor(v) ? (int)v : 0;
}

/* TensorFlow 'same' padding: total split with the extra pixel at the end. */
static void same_pad(int in, int k, int s, int *p0, int *p1)
{
    int out = (in + s - 1) / s;
    int total = (out - 1) * s + k - in;
    if (total < 0)
        total = 0;
    *p0 = total / 2;
    *p1 = total - *p0;
}

/* Lowers one CSV row (f indexed by enum col) to a graph; NULL when not usable. */
static struct mn_graph *lower_row(char **f, enum mn_op op)
{
    int ih = dim(f[C_IN_H]), iw = dim(f[C_IN_W]), ic = dim(f[C_IN_C]);
    struct mn_graph *g = NULL;
    if (op == MN_OP_SOFTMAX || (op == MN_OP_DENSE && !iw)) {
        g = ih ? mn_graph_new(ih, 1, 1) : NULL; /* a flat (n,) tensor */
    } else if (ih && iw && ic) {
        g = mn_graph_new(ic, ih, iw);
    }
    if (!g)
        return NULL;
    struct mn_layer l = mn_layer_make(op, 0);
    if (op == MN_OP_ADD) {
        l.n_in = 2; /* two inputs of the same shape */
    } else if (op == MN_OP_CONV2D || op == MN_OP_DWCONV2D || op == MN_OP_AVGPOOL ||
               op == MN_OP_MAXPOOL) {
        l.kh = dim(f[C_K_H]);
        l.kw = dim(f[C_K_W]);
        l.sh = dim(f[C_S_H]);
        l.sw = dim(f[C_S_W]);
        l.filters = dim(f[C_OUT_C]);
        if (strcmp(f[C_PADDING], "same") == 0 && l.kh && l.kw && l.sh && l.sw) {
            same_pad(ih, l.kh, l.sh, &l.pad_t, &l.pad_b);
            same_pad(iw, l.kw, l.sw, &l.pad_l, &l.pad_r);
        } else if (strcmp(f[C_PADDING], "valid") != 0) {
            l.kh = 0; /* rejected by mn_graph_add */
        }
    } else if (op == MN_OP_DENSE) {
        l.filters = dim(f[C_OUT_H]);
    }
    if (op == MN_OP_CONV2D || op == MN_OP_DWCONV2D || op == MN_OP_DENSE) {
        l.bias = strcmp(f[C_BIAS], "True") == 0 || strcmp(f[C_BIAS], "true") == 0;
        int a = mn_act_from_name(f[C_ACT]);
        l.act = a > 0 ? (enum mn_act)a : MN_ACT_NONE;
    }
    if (mn_graph_add(g, &l) < 0) {
        mn_graph_free(g);
        return NULL;
    }
    /* The measured output shape must be the one the graph infers. */
    struct mn_shape s = g->layers[1].out;
    int oh = dim(f[C_OUT_H]), ow = dim(f[C_OUT_W]), oc = dim(f[C_OUT_C]);
    int flat = s.h == 1 && s.w == 1 && !ow;
    if (!(flat ? oh == s.c : (oh == s.h && ow == s.w && oc == s.c))) {
        mn_graph_free(g);
        return NULL;
    }
    return g;
}

static int add_row(struct mn_calib_data *d, char **f, enum mn_op op)
{
    double cycles = 0;
    struct mn_graph *g;
    /* A row without the kernel's own count is a failed measurement (the one such row
     * in the shared data has an impossible arena size too). */
    if (!num(f[C_OP_CYCLES], &cycles) || cycles <= 0 ||
        (num(f[C_INVOKE_CYCLES], &cycles), cycles <= 0) || !(g = lower_row(f, op))) {
        d->skipped++;
        return MN_OK;
    }
    if (d->n == d->cap) {
        int cap = d->cap ? d->cap * 2 : 256;
        struct mn_calib_row *r = realloc(d->rows, (size_t)cap * sizeof *r);
        if (!r) {
            mn_graph_free(g);
            return MN_ENOMEM;
        }
        d->rows = r;
        d->cap = cap;
    }
    struct mn_calib_row *r = &d->rows[d->n++];
    memset(r, 0, sizeof *r);
    snprintf(r->board, sizeof r->board, "%s", f[C_BOARD]);
    r->op = op;
    r->g = g;
    r->cycles = cycles;
    num(f[C_FLASH], &r->flash_bytes);
    num(f[C_ARENA], &r->arena_bytes);
    return MN_OK;
}

int mn_calib_parse_csv(const char *text, struct mn_calib_data *out, struct mn_error *err)
{
    char line[MAX_LINE], *f[MAX_COLS];
    int at[N_COL], lineno = 0, rc = MN_OK;
    memset(out, 0, sizeof *out);
    for (int c = 0; c < N_COL; c++)
        at[c] = -1;
    for (const char *p = text; *p && rc == MN_OK;) {
        const char *e = strchr(p, '\n');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        lineno++;
        if (len >= sizeof line) {
            rc = mn_error_set(err, MN_EPARSE, "csv", "line %d: longer than %d bytes", lineno,
                              MAX_LINE);
            break;
        }
        memcpy(line, p, len);
        line[len] = '\0';
        if (len && line[len - 1] == '\r')
            line[len - 1] = '\0';
        p = e ? e + 1 : p + len;
        if (!line[0])
            continue;
        int nf = split(line, f, MAX_COLS);
        if (lineno == 1) {
            for (int c = 0; c < N_COL; c++) {
                for (int i = 0; i < nf; i++)
                    if (strcmp(f[i], cols[c].name) == 0)
                        at[c] = i;
                if (at[c] < 0 && cols[c].need && !rc)
                    rc = mn_error_set(err, MN_EPARSE, "csv", "header lacks column '%s'",
                                      cols[c].name);
            }
            if (!rc && at[C_OP_CYCLES] < 0 && at[C_INVOKE_CYCLES] < 0)
                rc = mn_error_set(err, MN_EPARSE, "csv", "header lacks op_cycles and "
                                  "invoke_cycles");
            continue;
        }
        char *row[N_COL], empty[1] = "";
        for (int c = 0; c < N_COL; c++)
            row[c] = at[c] >= 0 && at[c] < nf ? f[at[c]] : empty;
        int op = -1;
        for (size_t k = 0; k < sizeof csv_ops / sizeof csv_ops[0]; k++)
            if (strcmp(row[C_OP], csv_ops[k].csv) == 0)
                op = (int)csv_ops[k].op;
        if (op < 0 || !row[C_BOARD][0]) {
            out->skipped++;
            continue;
        }
        if (add_row(out, row, (enum mn_op)op))
            rc = mn_error_set(err, MN_ENOMEM, NULL, "out of memory");
    }
    if (rc == MN_OK && lineno == 0)
        rc = mn_error_set(err, MN_EPARSE, "csv", "empty CSV");
    if (rc)
        mn_calib_data_release(out);
    return rc;
}

int mn_calib_read_csv(const char *path, struct mn_calib_data *out, struct mn_error *err)
{
    FILE *fp = fopen(path, "rb");
    if (!fp)
        return mn_error_set(err, MN_EIO, "csv", "cannot open %s: %s", path, strerror(errno));
    char *buf = NULL;
    size_t len = 0, cap = 0, got;
    int rc = MN_OK;
    do {
        if (cap - len < 65536) {
            char *b = realloc(buf, cap + 65536 + 1);
            if (!b) {
                rc = mn_error_set(err, MN_ENOMEM, NULL, "out of memory");
                break;
            }
            buf = b;
            cap += 65536;
        }
        got = fread(buf + len, 1, cap - len, fp);
        len += got;
    } while (got > 0);
    if (!rc && ferror(fp))
        rc = mn_error_set(err, MN_EIO, "csv", "cannot read %s", path);
    fclose(fp);
    if (!rc) {
        buf[len] = '\0';
        rc = mn_calib_parse_csv(buf, out, err);
    }
    free(buf);
    return rc;
}

int mn_calib_boards(const struct mn_calib_data *d, const char **names, int max)
{
    int n = 0;
    for (int i = 0; i < d->n; i++) {
        int seen = 0;
        for (int k = 0; k < n && !seen; k++)
            seen = strcmp(names[k], d->rows[i].board) == 0;
        if (!seen && n < max)
            names[n++] = d->rows[i].board;
    }
    return n;
}

/* Least squares on the columns in `mask` (column-normalised, via dgelsd); x gets the
 * solution (0 outside mask), returns the weighted squared residual or −1. */
static double solve_subset(const double *A, const double *y, const double *w, int m, int k,
                           unsigned mask, double *x, double *work)
{
    int cols[MAX_NNLS_COLS], nc = 0;
    for (int c = 0; c < k; c++)
        if (mask & (1u << c))
            cols[nc++] = c;
    int rows = m > nc ? m : nc;
    double *a = work, *b = a + (size_t)m * nc, *s = b + rows, *scale = s + nc;
    for (int j = 0; j < nc; j++) {
        double ss = 0;
        for (int i = 0; i < m; i++) {
            double v = A[(size_t)i * k + cols[j]] * (w ? w[i] : 1);
            ss += v * v;
        }
        if (ss <= 0)
            return -1; /* an all-zero column gets no coefficient */
        scale[j] = 1 / sqrt(ss);
    }
    for (int i = 0; i < m; i++) {
        for (int j = 0; j < nc; j++)
            a[(size_t)i * nc + j] = A[(size_t)i * k + cols[j]] * (w ? w[i] : 1) * scale[j];
        b[i] = y[i] * (w ? w[i] : 1);
    }
    for (int i = m; i < rows; i++)
        b[i] = 0;
    lapack_int rank;
    if (LAPACKE_dgelsd(LAPACK_ROW_MAJOR, m, nc, 1, a, nc, b, 1, s, 1e-12, &rank) != 0)
        return -1;
    memset(x, 0, (size_t)k * sizeof *x);
    for (int j = 0; j < nc; j++) {
        x[cols[j]] = b[j] * scale[j];
        if (!(x[cols[j]] >= 0) || !isfinite(x[cols[j]]))
            return -1;
    }
    double sse = 0;
    for (int i = 0; i < m; i++) {
        double p = 0;
        for (int c = 0; c < k; c++)
            p += A[(size_t)i * k + c] * x[c];
        double r = (p - y[i]) * (w ? w[i] : 1);
        sse += r * r;
    }
    return sse;
}

int mn_calib_nnls(const double *A, const double *y, const double *w, int m, int k, double *x)
{
    if (m < 1 || k < 1 || k > MAX_NNLS_COLS)
        return MN_EINVAL;
    int rows = m > k ? m : k;
    double *work = malloc(((size_t)m * k + (size_t)rows + 2 * (size_t)k) * sizeof *work);
    double *cand = malloc((size_t)k * sizeof *cand);
    if (!work || !cand) {
        free(work);
        free(cand);
        return MN_ENOMEM;
    }
    double best = 0; /* x = 0 is always feasible */
    for (int i = 0; i < m; i++)
        best += y[i] * (w ? w[i] : 1) * y[i] * (w ? w[i] : 1);
    memset(x, 0, (size_t)k * sizeof *x);
    for (unsigned mask = 1; mask < (1u << k); mask++) {
        double sse = solve_subset(A, y, w, m, k, mask, cand, work);
        if (sse >= 0 && sse < best * (1 - 1e-12)) {
            best = sse;
            memcpy(x, cand, (size_t)k * sizeof *x);
        }
    }
    free(work);
    free(cand);
    return isfinite(best) ? MN_OK : MN_ENUMERIC;
}

/* Average ranks (1-based) of v into r. */
static void ranks(const double *v, double *r, int n)
{
    for (int i = 0; i < n; i++) {
        int less = 0, equal = 0;
        for (int j = 0; j < n; j++) {
            less += v[j] < v[i];
            equal += v[j] == v[i];
        }
        r[i] = less + (equal + 1) / 2.0;
    }
}

double mn_calib_spearman(const double *a, const double *b, int n)
{
    double *ra = malloc((size_t)n * sizeof *ra), *rb = malloc((size_t)n * sizeof *rb);
    double rho = NAN;
    if (n >= 2 && ra && rb) {
        ranks(a, ra, n);
        ranks(b, rb, n);
        double ma = (n + 1) / 2.0, sab = 0, saa = 0, sbb = 0;
        for (int i = 0; i < n; i++) {
            sab += (ra[i] - ma) * (rb[i] - ma);
            saa += (ra[i] - ma) * (ra[i] - ma);
            sbb += (rb[i] - ma) * (rb[i] - ma);
        }
        if (saa > 0 && sbb > 0)
            rho = sab / sqrt(saa * sbb);
    }
    free(ra);
    free(rb);
    return rho;
}

static double mape(const double *pred, const double *y, int n)
{
    double s = 0;
    for (int i = 0; i < n; i++)
        s += fabs(pred[i] - y[i]) / y[i];
    return n ? 100 * s / n : NAN;
}

/* Features [calls, macs, elements] of a row's measured layer. */
static void features(const struct mn_calib_row *r, double *x)
{
    struct mn_cost_terms t;
    mn_cost_layer_terms(r->g, 1, &t);
    x[0] = t.calls;
    x[1] = t.macs;
    x[2] = t.elements;
}

int mn_calib_fit_latency(const struct mn_calib_data *d, const char *board, enum mn_op op,
                         int folds, struct mn_calib_fit *out, struct mn_error *err)
{
    const int K = MN_CALIB_TERMS;
    int m = 0, rc = MN_OK;
    memset(out, 0, sizeof *out);
    snprintf(out->board, sizeof out->board, "%s", board);
    out->op = op;
    out->mape_cv = out->spearman_cv = NAN;
    for (int i = 0; i < d->n; i++)
        m += d->rows[i].op == op && strcmp(d->rows[i].board, board) == 0;
    if (!m)
        return mn_error_set(err, MN_ENOTFOUND, "board", "no %s rows for board '%s'",
                            mn_op_name(op), board);
    double *A = malloc((size_t)m * K * sizeof *A), *y = malloc((size_t)m * sizeof *y);
    double *w = malloc((size_t)m * sizeof *w), *pred = malloc((size_t)m * sizeof *pred);
    double *At = malloc((size_t)m * K * sizeof *At), *yt = malloc((size_t)m * sizeof *yt);
    double *wt = malloc((size_t)m * sizeof *wt);
    if (!A || !y || !w || !pred || !At || !yt || !wt) {
        rc = mn_error_set(err, MN_ENOMEM, NULL, "out of memory");
        goto done;
    }
    for (int i = 0, j = 0; i < d->n; i++) {
        const struct mn_calib_row *r = &d->rows[i];
        if (r->op != op || strcmp(r->board, board) != 0)
            continue;
        features(r, &A[(size_t)j * K]);
        y[j] = r->cycles;
        w[j] = 1 / r->cycles; /* relative error */
        j++;
    }
    out->n = m;
    if ((rc = mn_calib_nnls(A, y, w, m, K, out->coef))) {
        mn_error_set(err, rc, NULL, "least squares failed for %s on %s", mn_op_name(op),
                     board);
        goto done;
    }
    for (int i = 0; i < m; i++) {
        pred[i] = 0;
        for (int c = 0; c < K; c++)
            pred[i] += A[(size_t)i * K + c] * out->coef[c];
    }
    out->mape_fit = mape(pred, y, m);
    if (m < 2)
        goto done;
    out->folds = folds <= 0 || folds >= m ? m : folds;
    for (int f = 0; f < out->folds; f++) {
        int mt = 0;
        double x[MN_CALIB_TERMS];
        for (int i = 0; i < m; i++) {
            if (i % out->folds == f)
                continue;
            memcpy(&At[(size_t)mt * K], &A[(size_t)i * K], (size_t)K * sizeof *A);
            yt[mt] = y[i];
            wt[mt++] = w[i];
        }
        if ((rc = mn_calib_nnls(At, yt, wt, mt, K, x))) {
            mn_error_set(err, rc, NULL, "least squares failed in fold %d", f);
            goto done;
        }
        for (int i = f; i < m; i += out->folds) {
            pred[i] = 0;
            for (int c = 0; c < K; c++)
                pred[i] += A[(size_t)i * K + c] * x[c];
        }
    }
    out->mape_cv = mape(pred, y, m);
    out->spearman_cv = mn_calib_spearman(pred, y, m);
done:
    free(A);
    free(y);
    free(w);
    free(pred);
    free(At);
    free(yt);
    free(wt);
    return rc;
}

/* Rows whose one-layer graph matches the measured model's tensors exactly (an add
 * was measured with two input tensors; its graph reads one twice). */
static int memory_row(const struct mn_calib_row *r, const char *board)
{
    return r->op != MN_OP_ADD && r->flash_bytes > 0 && r->arena_bytes > 0 &&
           strcmp(r->board, board) == 0;
}

int mn_calib_fit_memory(const struct mn_calib_data *d, const char *board,
                        const struct mn_mcu *base, struct mn_calib_memory *out,
                        struct mn_error *err)
{
    int m = 0, rc = MN_OK;
    memset(out, 0, sizeof *out);
    for (int i = 0; i < d->n; i++)
        m += memory_row(&d->rows[i], board);
    if (!m)
        return mn_error_set(err, MN_ENOTFOUND, "board", "no rows with sizes for board '%s'",
                            board);
    struct mn_mcu *z = mn_mcu_clone(base);
    double *A = malloc((size_t)m * 2 * sizeof *A), *yf = malloc((size_t)m * sizeof *yf);
    double *ya = malloc((size_t)m * sizeof *ya), *pf = malloc((size_t)m * sizeof *pf);
    double *pa = malloc((size_t)m * sizeof *pa), *one = malloc((size_t)m * sizeof *one);
    double *sf = malloc((size_t)m * sizeof *sf), *sa = malloc((size_t)m * sizeof *sa);
    if (!z || !A || !yf || !ya || !pf || !pa || !one || !sf || !sa) {
        rc = mn_error_set(err, MN_ENOMEM, NULL, "out of memory");
        goto done;
    }
    /* The cost model with zero overheads gives the parameter and activation parts. */
    z->flash.runtime_bytes = z->flash.model_bytes = z->flash.tensor_bytes = 0;
    z->sram.runtime_bytes = 0;
    for (int i = 0, j = 0; i < d->n; i++) {
        const struct mn_calib_row *r = &d->rows[i];
        struct mn_cost c;
        if (!memory_row(r, board))
            continue;
        if ((rc = mn_cost_estimate(r->g, z, &c, err)))
            goto done;
        int tensors = 0;
        for (int k = 0; k < r->g->n; k++) {
            struct mn_cost_terms t;
            mn_cost_layer_terms(r->g, k, &t);
            tensors += t.tensors;
        }
        A[2 * j] = 1;
        A[2 * j + 1] = tensors;
        sf[j] = (double)c.flash_bytes;
        sa[j] = (double)c.peak_sram_bytes;
        yf[j] = r->flash_bytes - sf[j];
        ya[j] = r->arena_bytes - sa[j];
        one[j] = 1;
        mn_cost_release(&c);
        j++;
    }
    double xf[2], xa[1];
    if ((rc = mn_calib_nnls(A, yf, NULL, m, 2, xf)) || (rc = mn_calib_nnls(one, ya, NULL, m, 1, xa))) {
        mn_error_set(err, rc, NULL, "least squares failed for the memory overheads");
        goto done;
    }
    out->n = m;
    out->model_bytes = xf[0];
    out->tensor_bytes = xf[1];
    out->runtime_sram_bytes = xa[0];
    for (int j = 0; j < m; j++) {
        pf[j] = sf[j] + xf[0] + xf[1] * A[2 * j + 1];
        pa[j] = sa[j] + xa[0];
        yf[j] += sf[j];
        ya[j] += sa[j];
    }
    out->flash_mape = mape(pf, yf, m);
    out->arena_mape = mape(pa, ya, m);
done:
    mn_mcu_free(z);
    free(A);
    free(yf);
    free(ya);
    free(pf);
    free(pa);
    free(one);
    free(sf);
    free(sa);
    return rc;
}
