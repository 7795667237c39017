/* check_ops.c — the engine's kernels (ops.h): forward against naive references and
 * hand-computed values, every backward against central finite differences in double
 * precision on small random shapes, per-sample parameter gradients, and float against
 * double. */
#include <check.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "ops.h"
#include "rng.h"

/* ---- finite-difference harness ----
 * A case has up to 4 inputs; fwd computes y from them; the loss is Σ r·y. The
 * analytic gradients (from the backward under test, with dy = r) are compared with
 * central differences of the loss for every input element. */
struct fd {
    int n_in;
    double *in[4];
    int64_t len[4];
    double *grad[4]; /* analytic */
    double *y, *r;
    int64_t ny;
    const void *ctx;
    void (*fwd)(struct fd *f);
};

static double loss(struct fd *f)
{
    f->fwd(f);
    double s = 0;
    for (int64_t i = 0; i < f->ny; i++)
        s += f->r[i] * f->y[i];
    return s;
}

/* Largest |numeric − analytic| / max(1, |numeric|) over every input element. */
static double fd_error(struct fd *f)
{
    const double h = 1e-6;
    double worst = 0;
    for (int k = 0; k < f->n_in; k++)
        for (int64_t i = 0; i < f->len[k]; i++) {
            double keep = f->in[k][i];
            f->in[k][i] = keep + h;
            double lp = loss(f);
            f->in[k][i] = keep - h;
            double lm = loss(f);
            f->in[k][i] = keep;
            double num = (lp - lm) / (2 * h), err = fabs(num - f->grad[k][i]);
            err /= fmax(1.0, fabs(num));
            if (err > worst)
                worst = err;
        }
    f->fwd(f);
    return worst;
}

static struct mn_rng rng;

static double *rnd(int64_t n, double lo, double hi)
{
    double *p = malloc((size_t)(n > 0 ? n : 1) * sizeof *p);
    for (int64_t i = 0; i < n; i++)
        p[i] = lo + (hi - lo) * mn_rng_uniform(&rng);
    return p;
}

static double *zeros(int64_t n)
{
    return calloc((size_t)(n > 0 ? n : 1), sizeof(double));
}

static void fd_free(struct fd *f)
{
    for (int k = 0; k < f->n_in; k++) {
        free(f->in[k]);
        free(f->grad[k]);
    }
    free(f->y);
    free(f->r);
}

/* Sets up inputs of the given lengths (random in [lo, hi]), y and r. */
static void fd_init(struct fd *f, int n_in, const int64_t *len, int64_t ny, double lo,
                    double hi)
{
    memset(f, 0, sizeof *f);
    f->n_in = n_in;
    for (int k = 0; k < n_in; k++) {
        f->len[k] = len[k];
        f->in[k] = rnd(len[k], lo, hi);
        f->grad[k] = zeros(len[k]);
    }
    f->ny = ny;
    f->y = zeros(ny);
    f->r = rnd(ny, -1, 1);
}

static struct mn_win win(int n, int ci, int h, int w, int co, int kh, int kw, int sh,
                         int sw, int pt, int pb, int pl, int pr)
{
    struct mn_win d = {n, ci, h, w, co, (h + pt + pb - kh) / sh + 1,
                       (w + pl + pr - kw) / sw + 1, kh, kw, sh, sw, pt, pl, 0, 0};
    return d;
}

static int64_t xsize(const struct mn_win *d)
{
    return (int64_t)d->n * d->ci * d->h * d->w;
}

static int64_t ysize(const struct mn_win *d)
{
    return (int64_t)d->n * d->co * d->ho * d->wo;
}

/* Naive (grouped) convolution: groups = 1 for conv2d, ci for depthwise. */
static void ref_conv(double *y, const double *x, const double *w, const double *b,
                     const struct mn_win *d, int groups)
{
    int cpg = d->ci / groups, opg = d->co / groups;
    for (int n = 0; n < d->n; n++)
        for (int o = 0; o < d->co; o++)
            for (int oy = 0; oy < d->ho; oy++)
                for (int ox = 0; ox < d->wo; ox++) {
                    double s = b ? b[o] : 0;
                    int g = o / opg;
                    for (int c = 0; c < cpg; c++)
                        for (int ky = 0; ky < d->kh; ky++)
                            for (int kx = 0; kx < d->kw; kx++) {
                                int iy = oy * d->sh - d->pt + ky, ix = ox * d->sw - d->pl + kx;
                                if (iy < 0 || iy >= d->h || ix < 0 || ix >= d->w)
                                    continue;
                                s += x[(((int64_t)n * d->ci + g * cpg + c) * d->h + iy) * d->w +
                                       ix] *
                                     w[(((int64_t)o * cpg + c) * d->kh + ky) * d->kw + kx];
                            }
                    y[(((int64_t)n * d->co + o) * d->ho + oy) * d->wo + ox] = s;
                }
}

/* ---- conv2d ---- */

static void conv_fwd(struct fd *f)
{
    const struct mn_win *d = f->ctx;
    double *ws = malloc((size_t)(mn_conv2d_ws_size(d) + 1) * sizeof *ws);
    mn_conv2d_fwd_f64(f->y, NULL, 0, ws, f->in[0], f->in[1], f->n_in > 2 ? f->in[2] : NULL,
                      d);
    free(ws);
}

/* conv2d on geometry d by the path d.direct selects. */
static void check_conv_path(struct mn_win d, int bias)
{
    struct fd f;
    int64_t len[3] = {xsize(&d), (int64_t)d.co * d.ci * d.kh * d.kw, d.co};
    fd_init(&f, bias ? 3 : 2, len, ysize(&d), -1, 1);
    f.ctx = &d;
    f.fwd = conv_fwd;
    /* forward against the naive reference */
    double *ref = zeros(f.ny);
    ref_conv(ref, f.in[0], f.in[1], bias ? f.in[2] : NULL, &d, 1);
    f.fwd(&f);
    for (int64_t i = 0; i < f.ny; i++)
        ck_assert_double_eq_tol(f.y[i], ref[i], 1e-12);
    /* backward against finite differences */
    int64_t cs = mn_conv2d_col_size(&d) + 1;
    double *ws = zeros(mn_conv2d_ws_size(&d) + 1);
    mn_conv2d_bwd_f64(f.grad[0], f.grad[1], bias ? f.grad[2] : NULL, NULL, ws, f.r, f.in[0],
                      f.in[1], &d, 0);
    ck_assert_double_le(fd_error(&f), 1e-6);
    /* columns kept from forward: the same forward and gradients, without im2col */
    double *kept = zeros(cs * d.n), *y2 = zeros(f.ny), *g2[3];
    for (int k = 0; k < 3; k++)
        g2[k] = zeros(len[k]);
    mn_conv2d_fwd_f64(y2, kept, 1, ws, f.in[0], f.in[1], bias ? f.in[2] : NULL, &d);
    mn_conv2d_bwd_f64(g2[0], g2[1], bias ? g2[2] : NULL, kept, ws, f.r, f.in[0], f.in[1], &d,
                      0);
    f.fwd(&f);
    for (int64_t i = 0; i < f.ny; i++)
        ck_assert_double_eq(y2[i], f.y[i]);
    for (int k = 0; k < (bias ? 3 : 2); k++)
        for (int64_t i = 0; i < len[k]; i++)
            ck_assert_double_eq(g2[k][i], f.grad[k][i]);
    for (int k = 0; k < 3; k++)
        free(g2[k]);
    free(kept);
    free(y2);
    /* per-sample weight gradients: rows sum to the batch gradient, and row n is the
     * gradient of sample n alone */
    int64_t ps = len[1] + d.co;
    double *pw = zeros(ps * d.n);
    mn_conv2d_bwd_f64(NULL, pw, pw + len[1], NULL, ws, f.r, f.in[0], f.in[1], &d, ps);
    for (int64_t k = 0; k < len[1]; k++) {
        double s = 0;
        for (int n = 0; n < d.n; n++)
            s += pw[n * ps + k];
        ck_assert_double_eq_tol(s, f.grad[1][k], 1e-9);
    }
    struct mn_win d1 = d;
    d1.n = 1;
    double *g1 = zeros(ps);
    mn_conv2d_bwd_f64(NULL, g1, g1 + len[1], NULL, ws, f.r + ysize(&d1), f.in[0] + xsize(&d1),
                      f.in[1], &d1, 0);
    for (int64_t k = 0; k < ps; k++)
        ck_assert_double_eq_tol(g1[k], pw[ps + k], 1e-12);
    free(g1);
    free(pw);
    free(ws);
    free(ref);
    fd_free(&f);
}

/* conv2d on geometry d by im2col + GEMM and, where it applies, the direct path. */
static void check_conv(struct mn_win d, int bias)
{
    d.direct = 0;
    check_conv_path(d, bias);
    d.direct = 1;
    if (mn_conv2d_direct_ok(&d))
        check_conv_path(d, bias);
}

START_TEST(conv2d_3x3_padded)
{
    check_conv(win(2, 3, 6, 5, 4, 3, 3, 1, 1, 1, 1, 1, 1), 1);
}
END_TEST

START_TEST(conv2d_strided_asymmetric)
{
    /* TensorFlow 'same' with stride 2: padding only bottom/right */
    check_conv(win(2, 2, 7, 6, 3, 3, 3, 2, 2, 0, 1, 0, 1), 0);
    /* left/top only, non-square kernel and stride */
    check_conv(win(2, 2, 5, 7, 3, 2, 3, 1, 2, 1, 0, 2, 0), 1);
}
END_TEST

START_TEST(conv2d_1x1)
{
    check_conv(win(3, 4, 3, 5, 2, 1, 1, 1, 1, 0, 0, 0, 0), 1); /* fast path */
    check_conv(win(2, 3, 5, 5, 2, 1, 1, 2, 2, 0, 0, 0, 0), 0); /* strided: im2col */
}
END_TEST

START_TEST(conv2d_direct_geometries)
{
    /* unpadded (output narrower than input), planes longer than a register block */
    check_conv(win(2, 3, 9, 11, 2, 3, 3, 1, 1, 0, 0, 0, 0), 1);
    /* asymmetric padding, non-square kernel */
    check_conv(win(2, 2, 7, 8, 3, 2, 3, 1, 1, 1, 0, 0, 2), 0);
    /* 5×5 'same' */
    check_conv(win(2, 2, 6, 6, 2, 5, 5, 1, 1, 2, 2, 2, 2), 1);
    /* padding as large as the kernel: GEMM only */
    struct mn_win d = win(2, 1, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1);
    ck_assert(!mn_conv2d_direct_ok(&d));
    check_conv(d, 1);
}
END_TEST

/* ---- depthwise conv2d ---- */

static void dw_fwd(struct fd *f)
{
    mn_dwconv2d_fwd_f64(f->y, f->in[0], f->in[1], f->n_in > 2 ? f->in[2] : NULL, f->ctx);
}

static void check_dw(struct mn_win d, int bias)
{
    struct fd f;
    int64_t len[3] = {xsize(&d), (int64_t)d.ci * d.kh * d.kw, d.ci};
    fd_init(&f, bias ? 3 : 2, len, ysize(&d), -1, 1);
    f.ctx = &d;
    f.fwd = dw_fwd;
    double *ref = zeros(f.ny);
    ref_conv(ref, f.in[0], f.in[1], bias ? f.in[2] : NULL, &d, d.ci);
    f.fwd(&f);
    for (int64_t i = 0; i < f.ny; i++)
        ck_assert_double_eq_tol(f.y[i], ref[i], 1e-12);
    mn_dwconv2d_bwd_f64(f.grad[0], f.grad[1], bias ? f.grad[2] : NULL, f.r, f.in[0], f.in[1],
                        &d, 0);
    ck_assert_double_le(fd_error(&f), 1e-6);
    free(ref);
    fd_free(&f);
}

START_TEST(dwconv2d_kernels)
{
    check_dw(win(2, 3, 6, 6, 3, 3, 3, 1, 1, 1, 1, 1, 1), 1);
    check_dw(win(2, 2, 9, 8, 2, 5, 5, 2, 2, 1, 2, 2, 1), 0);
    check_dw(win(1, 4, 5, 4, 4, 3, 2, 2, 1, 0, 1, 1, 0), 1);
}
END_TEST

/* ---- pools ---- */

struct pool_ctx {
    struct mn_win d;
    int cip, max;
    double *ws;
};

static void pool_fwd(struct fd *f)
{
    const struct pool_ctx *p = f->ctx;
    if (p->max)
        mn_maxpool_fwd_f64(f->y, f->in[0], &p->d);
    else
        mn_avgpool_fwd_f64(f->y, p->ws, f->in[0], &p->d, p->cip);
}

static void check_pool(struct mn_win d, int cip, int max)
{
    double *ws = malloc((size_t)(mn_avgpool_ws_size(&d) + 1) * sizeof *ws);
    struct pool_ctx p = {d, cip, max, ws};
    struct fd f;
    int64_t len[1] = {xsize(&d)};
    fd_init(&f, 1, len, ysize(&d), -1, 1);
    f.ctx = &p;
    f.fwd = pool_fwd;
    f.fwd(&f);
    if (max)
        mn_maxpool_bwd_f64(f.grad[0], f.r, f.in[0], f.y, &d);
    else
        mn_avgpool_bwd_f64(f.grad[0], ws, f.r, &d, cip);
    ck_assert_double_le(fd_error(&f), 1e-6);
    fd_free(&f);
    free(ws);
}

START_TEST(pool_values)
{
    /* 1..9 in a 3×3 map, 3×3 window, stride 1, padding 1 */
    double x[9] = {1, 2, 3, 4, 5, 6, 7, 8, 9}, y[9], ws[25];
    struct mn_win d = win(1, 1, 3, 3, 1, 3, 3, 1, 1, 1, 1, 1, 1);
    ck_assert_int_le(mn_avgpool_ws_size(&d), 25);
    mn_avgpool_fwd_f64(y, ws, x, &d, 0);
    ck_assert_double_eq_tol(y[0], 3.0, 1e-12);       /* (1+2+4+5)/4 */
    ck_assert_double_eq_tol(y[4], 5.0, 1e-12);
    mn_avgpool_fwd_f64(y, ws, x, &d, 1);
    ck_assert_double_eq_tol(y[0], 12.0 / 9, 1e-12);  /* padding counted */
    ck_assert_double_eq_tol(y[1], 21.0 / 9, 1e-12);
    double neg[9] = {-1, -2, -3, -4, -5, -6, -7, -8, -9};
    mn_maxpool_fwd_f64(y, neg, &d);
    ck_assert_double_eq(y[8], -5.0);                  /* padding never wins */
    ck_assert_double_eq(y[0], -1.0);
    double g[2];
    mn_gmaxpool_fwd_f64(g, x, 1, 1, 9);
    mn_gavgpool_fwd_f64(g + 1, x, 1, 1, 9);
    ck_assert_double_eq(g[0], 9.0);
    ck_assert_double_eq_tol(g[1], 5.0, 1e-12);
}
END_TEST

START_TEST(avgpool_backward)
{
    check_pool(win(2, 2, 5, 6, 2, 3, 3, 1, 1, 1, 1, 1, 1), 0, 0); /* NB201 avg_pool_3x3 */
    check_pool(win(2, 2, 5, 6, 2, 3, 3, 1, 1, 1, 1, 1, 1), 1, 0);
    check_pool(win(2, 3, 6, 6, 3, 2, 2, 2, 2, 0, 0, 0, 0), 0, 0);  /* 2×2 stride 2 */
    check_pool(win(1, 2, 7, 5, 2, 3, 3, 2, 2, 0, 1, 1, 0), 1, 0);  /* asymmetric */
}
END_TEST

/* The input rows [*y0, *y1) and columns [*x0, *x1) of output (oy, ox)'s window; returns
 * its divisor (kh·kw with count_include_pad, else the real elements). */
static float ref_window(const struct mn_win *d, int cip, int oy, int ox, int *y0, int *y1,
                        int *x0, int *x1)
{
    int a = oy * d->sh - d->pt, b = ox * d->sw - d->pl;
    *y1 = a + d->kh > d->h ? d->h : a + d->kh;
    *x1 = b + d->kw > d->w ? d->w : b + d->kw;
    *y0 = a < 0 ? 0 : a;
    *x0 = b < 0 ? 0 : b;
    return (float)(cip ? d->kh * d->kw : (*y1 - *y0) * (*x1 - *x0));
}

/* Float average pool backward gives, bit for bit, what the plain window loops give
 * (each output's share added to its window in output order), onto a gradient that
 * already holds values, and so does forward (each window summed in order): stride 1
 * (on padded planes; rows longer than a vector, kernels larger than 3×3) and
 * strided. */
START_TEST(avgpool_backward_order)
{
    struct mn_win ds[] = {win(2, 2, 5, 6, 2, 3, 3, 1, 1, 1, 1, 1, 1),
                          win(1, 2, 4, 300, 2, 3, 3, 1, 1, 1, 1, 1, 1),
                          win(1, 1, 6, 9, 1, 5, 5, 1, 1, 2, 2, 2, 2),
                          win(1, 1, 6, 7, 1, 2, 3, 1, 1, 0, 1, 0, 2),
                          win(1, 1, 3, 2, 1, 3, 3, 1, 1, 1, 1, 1, 1),
                          win(2, 3, 6, 6, 3, 2, 2, 2, 2, 0, 0, 0, 0)};
    struct mn_rng r;
    mn_rng_seed(&r, 21, 0);
    for (int k = 0; k < (int)(sizeof ds / sizeof ds[0]); k++)
        for (int cip = 0; cip < 2; cip++) {
            const struct mn_win *d = &ds[k];
            int64_t nx = xsize(d), ny = ysize(d);
            float *dy = malloc((size_t)ny * sizeof *dy), *got = malloc((size_t)nx * sizeof *got);
            float *want = malloc((size_t)nx * sizeof *want);
            float *ws = malloc((size_t)(mn_avgpool_ws_size(d) + 1) * sizeof *ws);
            for (int64_t i = 0; i < ny; i++)
                dy[i] = (float)mn_rng_normal(&r);
            for (int64_t i = 0; i < nx; i++)
                got[i] = want[i] = (float)mn_rng_normal(&r);
            mn_avgpool_bwd_f32(got, ws, dy, d, cip);
            for (int nc = 0; nc < d->n * d->ci; nc++)
                for (int oy = 0; oy < d->ho; oy++)
                    for (int ox = 0; ox < d->wo; ox++) {
                        int y0, y1, x0, x1;
                        float div = ref_window(d, cip, oy, ox, &y0, &y1, &x0, &x1);
                        float g = dy[((int64_t)nc * d->ho + oy) * d->wo + ox] / div;
                        for (int iy = y0; iy < y1; iy++)
                            for (int ix = x0; ix < x1; ix++)
                                want[((int64_t)nc * d->h + iy) * d->w + ix] += g;
                    }
            ck_assert_msg(memcmp(got, want, (size_t)nx * sizeof *got) == 0, "geometry %d cip %d",
                          k, cip);
            /* forward: each window summed in row, then column order, then divided */
            float *y = malloc((size_t)ny * sizeof *y);
            mn_avgpool_fwd_f32(y, ws, got, d, cip);
            for (int nc = 0; nc < d->n * d->ci; nc++)
                for (int oy = 0; oy < d->ho; oy++)
                    for (int ox = 0; ox < d->wo; ox++) {
                        int y0, y1, x0, x1;
                        float div = ref_window(d, cip, oy, ox, &y0, &y1, &x0, &x1);
                        float s = 0;
                        for (int iy = y0; iy < y1; iy++)
                            for (int ix = x0; ix < x1; ix++)
                                s += got[((int64_t)nc * d->h + iy) * d->w + ix];
                        s /= div;
                        ck_assert_msg(memcmp(&s, &y[((int64_t)nc * d->ho + oy) * d->wo + ox],
                                             sizeof s) == 0,
                                      "forward geometry %d cip %d", k, cip);
                    }
            free(y);
            free(ws);
            free(dy);
            free(got);
            free(want);
        }
}
END_TEST

START_TEST(maxpool_backward)
{
    check_pool(win(2, 2, 6, 6, 2, 3, 3, 2, 2, 1, 1, 1, 1), 0, 1);
    check_pool(win(2, 3, 4, 6, 3, 2, 2, 2, 2, 0, 0, 0, 0), 0, 1);
}
END_TEST

struct gp_ctx {
    int n, c, max;
    int64_t hw;
};

static void gpool_fwd(struct fd *f)
{
    const struct gp_ctx *p = f->ctx;
    if (p->max)
        mn_gmaxpool_fwd_f64(f->y, f->in[0], p->n, p->c, p->hw);
    else
        mn_gavgpool_fwd_f64(f->y, f->in[0], p->n, p->c, p->hw);
}

START_TEST(global_pool_backward)
{
    for (int max = 0; max < 2; max++) {
        struct gp_ctx p = {2, 3, max, 10};
        struct fd f;
        int64_t len[1] = {p.n * p.c * p.hw};
        fd_init(&f, 1, len, p.n * p.c, -1, 1);
        f.ctx = &p;
        f.fwd = gpool_fwd;
        f.fwd(&f);
        if (max)
            mn_gmaxpool_bwd_f64(f.grad[0], f.r, f.in[0], f.y, p.n, p.c, p.hw);
        else
            mn_gavgpool_bwd_f64(f.grad[0], f.r, p.n, p.c, p.hw);
        ck_assert_double_le(fd_error(&f), 1e-6);
        fd_free(&f);
    }
}
END_TEST

/* ---- batch norm ---- */

struct bn_ctx {
    int n, c, frozen;
    int64_t hw;
    double *mean, *var; /* frozen: the statistics held constant */
};

/* BN forward on one thread through the kernel's steps, in net.c's order: y, and the
 * batch mean and variance [c ≤ 8]. */
static void bn_forward(double *y, double *mean, double *var, const double *x,
                       const double *gamma, const double *beta, int n, int c, int64_t hw)
{
    double *sums = malloc((size_t)n * (size_t)c * sizeof *sums), mu[8], v[8], ab[16];
    ck_assert_ptr_nonnull(sums);
    mn_bn_row_sums_f64(sums, x, NULL, n, c, hw);
    mn_bn_channel_means(mu, sums, n, c, hw);
    mn_bn_row_sums_f64(sums, x, mu, n, c, hw);
    mn_bn_channel_means(v, sums, n, c, hw);
    mn_bn_affine_f64(ab, mean, var, mu, v, gamma, beta, c);
    mn_bn_apply_f64(y, x, ab, n, c, hw);
    free(sums);
}

static void bn_fwd(struct fd *f)
{
    const struct bn_ctx *p = f->ctx;
    double m[8], v[8];
    if (!p->frozen) {
        bn_forward(f->y, m, v, f->in[0], f->in[1], f->in[2], p->n, p->c, p->hw);
        return;
    }
    for (int i = 0; i < p->n; i++) /* the same formula with the statistics fixed */
        for (int c = 0; c < p->c; c++)
            for (int64_t j = 0; j < p->hw; j++) {
                int64_t k = ((int64_t)i * p->c + c) * p->hw + j;
                f->y[k] = f->in[1][c] * (f->in[0][k] - p->mean[c]) /
                              sqrt(p->var[c] + MN_BN_EPS) + f->in[2][c];
            }
}

static void check_bn(int n, int c, int64_t hw, int frozen)
{
    double mean[8], var[8];
    struct bn_ctx p = {n, c, frozen, hw, mean, var};
    struct fd f;
    int64_t len[3] = {(int64_t)n * c * hw, c, c};
    fd_init(&f, 3, len, len[0], -2, 3);
    for (int k = 0; k < c; k++)
        f.in[1][k] = 0.5 + mn_rng_uniform(&rng);
    f.ctx = &p;
    f.fwd = bn_fwd;
    bn_forward(f.y, mean, var, f.in[0], f.in[1], f.in[2], n, c, hw);
    /* statistics and normalisation by hand */
    for (int ch = 0; ch < c; ch++) {
        double s = 0, s2 = 0, m = (double)n * hw;
        for (int i = 0; i < n; i++)
            for (int64_t j = 0; j < hw; j++) {
                double v = f.in[0][((int64_t)i * c + ch) * hw + j];
                s += v;
                s2 += v * v;
            }
        ck_assert_double_eq_tol(mean[ch], s / m, 1e-12);
        ck_assert_double_eq_tol(var[ch], s2 / m - (s / m) * (s / m), 1e-10);
        double x0 = f.in[0][(int64_t)ch * hw];
        ck_assert_double_eq_tol(f.y[(int64_t)ch * hw],
                                f.in[1][ch] * (x0 - mean[ch]) / sqrt(var[ch] + 1e-5) +
                                    f.in[2][ch], 1e-12);
    }
    double coef[80];
    ck_assert_int_le(mn_bn_coef_size(c, 1), 80);
    mn_bn_bwd_f64(f.grad[0], 0, f.grad[1], f.grad[2], f.r, f.in[0], f.in[1], mean, var, n, c,
                  hw, frozen, 0, coef);
    ck_assert_double_le(fd_error(&f), 1e-6);
    /* overwriting: the same input gradient whatever the buffer held */
    int64_t nx = (int64_t)n * c * hw;
    double *over = rnd(nx, 5, 9);
    mn_bn_bwd_f64(over, 1, NULL, NULL, f.r, f.in[0], f.in[1], mean, var, n, c, hw, frozen, 0,
                  coef);
    for (int64_t i = 0; i < nx; i++)
        ck_assert_double_eq(over[i], f.grad[0][i]);
    free(over);
    /* per-sample gamma/beta gradients sum to the batch ones */
    double ps[2 * 8 * 4] = {0};
    mn_bn_bwd_f64(NULL, 0, ps, ps + c, f.r, f.in[0], f.in[1], mean, var, n, c, hw, frozen,
                  2 * c, coef);
    for (int ch = 0; ch < c; ch++) {
        double sg = 0, sb = 0;
        for (int i = 0; i < n; i++) {
            sg += ps[i * 2 * c + ch];
            sb += ps[i * 2 * c + c + ch];
        }
        ck_assert_double_eq_tol(sg, f.grad[1][ch], 1e-9);
        ck_assert_double_eq_tol(sb, f.grad[2][ch], 1e-9);
    }
    fd_free(&f);
}

START_TEST(batchnorm_train)
{
    check_bn(3, 2, 5, 0);
    check_bn(4, 3, 1, 0); /* BatchNorm1d after a dense layer */
}
END_TEST

START_TEST(batchnorm_frozen)
{
    check_bn(3, 2, 5, 1);
}
END_TEST

/* ---- element-wise, dense, softmax ---- */

struct el_ctx {
    enum mn_act act;
    int n, in, out, add;
};

static void act_fwd(struct fd *f)
{
    const struct el_ctx *p = f->ctx;
    mn_act_fwd_f64(f->y, f->in[0], f->ny, p->act);
}

START_TEST(activation_backward)
{
    for (enum mn_act a = MN_ACT_NONE; a < MN_ACT_COUNT; a++) {
        struct el_ctx p = {a, 0, 0, 0, 0};
        struct fd f;
        int64_t len[1] = {40};
        fd_init(&f, 1, len, 40, -3, 9);
        f.ctx = &p;
        f.fwd = act_fwd;
        f.fwd(&f);
        for (int64_t i = 0; i < 40; i++) {
            double x = f.in[0][i];
            double want = a == MN_ACT_NONE ? x : a == MN_ACT_RELU ? fmax(x, 0)
                                                                  : fmin(fmax(x, 0), 6);
            ck_assert_double_eq(f.y[i], want);
        }
        mn_act_bwd_f64(f.grad[0], f.r, f.y, 40, a);
        ck_assert_double_le(fd_error(&f), 1e-6);
        /* the in-place mask agrees with the accumulating backward */
        double m[40];
        memcpy(m, f.r, sizeof m);
        mn_act_mask_f64(m, f.y, 40, a);
        for (int64_t i = 0; i < 40; i++)
            ck_assert_double_eq(m[i], f.grad[0][i]);
        fd_free(&f);
    }
}
END_TEST

static void add_fwd(struct fd *f)
{
    const double *in[3] = {f->in[0], f->in[1], f->in[2]};
    mn_add_fwd_f64(f->y, in, 3, f->ny);
}

START_TEST(add_backward)
{
    struct fd f;
    int64_t len[3] = {12, 12, 12};
    fd_init(&f, 3, len, 12, -1, 1);
    f.fwd = add_fwd;
    f.fwd(&f);
    ck_assert_double_eq_tol(f.y[5], f.in[0][5] + f.in[1][5] + f.in[2][5], 1e-15);
    for (int k = 0; k < 3; k++)
        mn_acc_f64(f.grad[k], f.r, 12);
    ck_assert_double_le(fd_error(&f), 1e-6);
    fd_free(&f);
}
END_TEST

static void dense_fwd(struct fd *f)
{
    const struct el_ctx *p = f->ctx;
    mn_dense_fwd_f64(f->y, f->in[0], f->in[1], f->in[2], p->n, p->in, p->out);
}

START_TEST(dense_backward)
{
    struct el_ctx p = {MN_ACT_NONE, 3, 5, 4, 0};
    struct fd f;
    int64_t len[3] = {15, 20, 4};
    fd_init(&f, 3, len, 12, -1, 1);
    f.ctx = &p;
    f.fwd = dense_fwd;
    f.fwd(&f);
    double s = f.in[2][1];
    for (int i = 0; i < 5; i++)
        s += f.in[0][5 + i] * f.in[1][5 + i]; /* sample 1, unit 1 */
    ck_assert_double_eq_tol(f.y[4 + 1], s, 1e-12);
    mn_dense_bwd_f64(f.grad[0], f.grad[1], f.grad[2], f.r, f.in[0], f.in[1], 3, 5, 4, 0);
    ck_assert_double_le(fd_error(&f), 1e-6);
    double ps[3 * 24] = {0};
    mn_dense_bwd_f64(NULL, ps, ps + 20, f.r, f.in[0], f.in[1], 3, 5, 4, 24);
    for (int k = 0; k < 24; k++)
        ck_assert_double_eq_tol(ps[k] + ps[24 + k] + ps[48 + k],
                                k < 20 ? f.grad[1][k] : f.grad[2][k - 20], 1e-12);
    fd_free(&f);
}
END_TEST

static void softmax_fwd(struct fd *f)
{
    mn_softmax_fwd_f64(f->y, f->in[0], 2, 5);
}

START_TEST(softmax_backward)
{
    struct fd f;
    int64_t len[1] = {10};
    fd_init(&f, 1, len, 10, -3, 3);
    f.fwd = softmax_fwd;
    f.fwd(&f);
    double s = 0;
    for (int i = 0; i < 5; i++)
        s += f.y[5 + i];
    ck_assert_double_eq_tol(s, 1.0, 1e-12);
    mn_softmax_bwd_f64(f.grad[0], f.r, f.y, 2, 5);
    ck_assert_double_le(fd_error(&f), 1e-6);
    fd_free(&f);
}
END_TEST

/* Float conv2d (strided: GEMM; stride 1: direct) against the double one. */
static void check_float_conv(struct mn_win d)
{
    int64_t nx = xsize(&d), nw = (int64_t)d.co * d.ci * 9, ny = ysize(&d);
    int64_t ws = mn_conv2d_ws_size(&d) + 1;
    double *x = rnd(nx, -1, 1), *w = rnd(nw, -1, 1), *y = zeros(ny), *wsd = zeros(ws);
    float *xf = malloc((size_t)nx * sizeof *xf), *wf = malloc((size_t)nw * sizeof *wf);
    float *yf = malloc((size_t)ny * sizeof *yf), *wsf = malloc((size_t)ws * sizeof *wsf);
    for (int64_t i = 0; i < nx; i++)
        x[i] = xf[i] = (float)x[i];
    for (int64_t i = 0; i < nw; i++)
        w[i] = wf[i] = (float)w[i];
    mn_conv2d_fwd_f64(y, NULL, 0, wsd, x, w, NULL, &d);
    mn_conv2d_fwd_f32(yf, NULL, 0, wsf, xf, wf, NULL, &d);
    for (int64_t i = 0; i < ny; i++)
        ck_assert_double_eq_tol(yf[i], y[i], 1e-5);
    free(x);
    free(w);
    free(y);
    free(wsd);
    free(xf);
    free(wf);
    free(yf);
    free(wsf);
}

START_TEST(float_matches_double)
{
    check_float_conv(win(2, 5, 9, 9, 6, 3, 3, 2, 2, 1, 1, 1, 1));
    struct mn_win d = win(2, 5, 9, 9, 6, 3, 3, 1, 1, 1, 1, 1, 1);
    d.direct = 1;
    check_float_conv(d);
}
END_TEST

static void setup(void)
{
    mn_rng_seed(&rng, 7, 1);
}

Suite *ops_suite(void)
{
    Suite *s = suite_create("ops");
    TCase *tc = tcase_create("kernels");
    tcase_add_checked_fixture(tc, setup, NULL);
    tcase_add_test(tc, conv2d_3x3_padded);
    tcase_add_test(tc, conv2d_strided_asymmetric);
    tcase_add_test(tc, conv2d_1x1);
    tcase_add_test(tc, conv2d_direct_geometries);
    tcase_add_test(tc, dwconv2d_kernels);
    tcase_add_test(tc, pool_values);
    tcase_add_test(tc, avgpool_backward);
    tcase_add_test(tc, avgpool_backward_order);
    tcase_add_test(tc, maxpool_backward);
    tcase_add_test(tc, global_pool_backward);
    tcase_add_test(tc, batchnorm_train);
    tcase_add_test(tc, batchnorm_frozen);
    tcase_add_test(tc, activation_backward);
    tcase_add_test(tc, add_backward);
    tcase_add_test(tc, dense_backward);
    tcase_add_test(tc, softmax_backward);
    tcase_add_test(tc, float_matches_double);
    suite_add_tcase(s, tc);
    return s;
}
