/* ops.h — the engine's kernels (internal to the engine and its tests; the NTK proxy
 * uses mn_widen): forward and backward function pairs over flat arrays. Outputs come
 * first, then inputs, then sizes; every pointer carries its shape. Forward kernels
 * overwrite their outputs; backward kernels ACCUMULATE into their outputs (dx, dw, db,
 * ...), and a NULL gradient output means "not wanted". Parameter gradients take
 * `pstride`: 0 sums over the batch into one buffer, otherwise sample i's gradient goes
 * to dw + i·pstride (per-sample gradients).
 *
 * The *_passes variants run `passes` backward passes through one forward at once:
 * gradient tensors (dy, dx) carry a leading pass dimension over their usual shape
 * ([passes][n][...], pass p at p·n·size), activations are shared, and pass p's
 * parameter gradients go to dw + p·gstride (and + i·pstride per sample as above).
 * Each pass computes exactly what a separate call would; the shared activations are
 * read while they are in cache. The plain kernel is the one-pass case.
 *
 * Every kernel exists as name_f32 (float) and name_f64 (double), compiled from one
 * source (op_tmpl.h). Files: op_conv.c (conv2d, dwconv2d), op_pool.c (avg/max pool,
 * global pools), op_bn.c (batch norm), op_misc.c (activations, add, dense, softmax). */
#ifndef MN_OPS_H
#define MN_OPS_H
#include <cblas.h>
#include <stdint.h>
#include "graph.h"

#define MN_BN_EPS 1e-5

/* Hot kernels get AVX-512 (x86-64-v4) and AVX2 clones beside the baseline one (chosen
 * once per process by the CPU); the arithmetic is the same element by element (no FMA
 * contraction in ISO C mode), so results do not depend on which runs. The AVX-512
 * clone's 32 vector registers and wider loops took a fast NTK from 38.8 to 34.5 ms on
 * one Zen 4 thread, with the same bits. */
#if defined(__GNUC__) && defined(__x86_64__)
#define MN_CLONES __attribute__((target_clones("arch=x86-64-v4", "avx2", "default")))
#else
#define MN_CLONES
#endif
#if defined(__GNUC__)
#define MN_INLINE __attribute__((always_inline)) /* helpers of a cloned kernel */
#else
#define MN_INLINE
#endif

/* Geometry of a sliding-window op (conv2d, dwconv2d, pools) for a batch: input
 * [n][ci][h][w], output [n][co][ho][wo], kernel kh×kw, stride sh×sw, top and left
 * padding pt, pl (bottom/right padding is implied by ho, wo). conv2d only: `direct`
 * selects the direct path over im2col + GEMM (set only where mn_conv2d_direct_ok);
 * `passes` is the most backward passes one call runs (conv2d's *_passes; 0 means 1),
 * which sizes the workspace. */
struct mn_win {
    int n, ci, h, w, co, ho, wo, kh, kw, sh, sw, pt, pl;
    int direct, passes;
};

/* Output positions o in [*lo, *hi) of a window op whose input index o·s − p + k (k the
 * kernel offset) lies in [0, size); `out` output positions in all. */
static inline void mn_win_span(int *lo, int *hi, int k, int p, int s, int size, int out)
{
    int a = p - k; /* need o·s ≥ a */
    int l = a <= 0 ? 0 : (a + s - 1) / s;
    int b = size - 1 + p - k; /* need o·s ≤ b */
    int h = b < 0 ? 0 : b / s + 1;
    *lo = l < out ? l : out;
    *hi = h < out ? h : out;
    if (*hi < *lo)
        *hi = *lo;
}

/* conv2d: whether the direct path handles the geometry (stride 1, every padding
 * smaller than the kernel), and whether the engine uses it (few channels, where it
 * measured faster than im2col + GEMM). */
int mn_conv2d_direct_ok(const struct mn_win *d);
int mn_conv2d_direct(const struct mn_win *d);
/* conv2d: elements of the im2col columns forward keeps per sample with `keep` (0 on
 * the 1×1 fast path and the direct path), and of the scratch workspace ws. */
int64_t mn_conv2d_col_size(const struct mn_win *d);
int64_t mn_conv2d_ws_size(const struct mn_win *d);
/* Average pool: elements of its scratch workspace ws. */
int64_t mn_avgpool_ws_size(const struct mn_win *d);
/* y [n] = x [n] in double (the NTK's J columns before their Gram matrix). */
void mn_widen(double *y, const float *x, int64_t n);
/* The batch mean (or variance) of mn_bn_row_sums's sums [n][c] of rows of hw elements:
 * avg [c], every channel's sums added in sample order. */
void mn_bn_channel_means(double *avg, const double *sums, int n, int c, int64_t hw);
/* Elements (of either type) of mn_bn_bwd_coef's coef for c channels and `passes`
 * passes: two per channel and pass and two more per channel, then three doubles per
 * channel (two sums and 1/σ). */
static inline int64_t mn_bn_coef_size(int c, int passes)
{
    return 2 * (int64_t)c * (1 + passes) + 6 * (int64_t)c;
}

/* Row-major GEMM C[m][n] = alpha·op(A)·op(B) + beta·C, one per element type. */
static inline void mn_gemm_f32(int ta, int tb, int m, int n, int k, float alpha,
                               const float *a, int lda, const float *b, int ldb,
                               float beta, float *c, int ldc)
{
    cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans,
                m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}
static inline void mn_gemm_f64(int ta, int tb, int m, int n, int k, double alpha,
                               const double *a, int lda, const double *b, int ldb,
                               double beta, double *c, int ldc)
{
    cblas_dgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans,
                m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}

#define MN_OPS_DECLARE(T, S)                                                             \
    /* conv2d. y [n][co][ho][wo]; with `keep`, col [n][mn_conv2d_col_size] receives the \
     * im2col columns for backward (else unused); ws [mn_conv2d_ws_size] scratch;        \
     * x [n][ci][h][w]; w [co][ci][kh][kw]; b [co] or NULL. */                           \
    void mn_conv2d_fwd##S(T *y, T *col, int keep, T *ws, const T *x, const T *w,        \
                          const T *b, const struct mn_win *d);                           \
    /* dx like x, dw like w, db like b (each may be NULL); dy like y; col the columns    \
     * forward kept, or NULL to recompute them; ws [mn_conv2d_ws_size] scratch. */       \
    void mn_conv2d_bwd##S(T *dx, T *dw, T *db, const T *col, T *ws, const T *dy,        \
                          const T *x, const T *w, const struct mn_win *d,                \
                          int64_t pstride);                                              \
    /* passes at once: dy, dx [passes][n][..], pass p's dw, db gstride after pass 0's.   \
     * With bn (a BN after the conv whose backward was left half done: bn_x its input    \
     * [n][co][ho][wo], bn_coef from mn_bn_bwd_coef) dy is the BN output's gradient. */   \
    void mn_conv2d_bwd_passes##S(T *dx, T *dw, T *db, const T *col, T *ws, const T *dy, \
                                 const T *x, const T *w, const struct mn_win *d,         \
                                 int64_t pstride, int passes, int64_t gstride,           \
                                 const T *bn_x, const T *bn_coef);                       \
    /* depthwise conv2d (ci == co). y [n][c][ho][wo]; x [n][c][h][w]; w [c][kh][kw];     \
     * b [c] or NULL. */                                                                 \
    void mn_dwconv2d_fwd##S(T *y, const T *x, const T *w, const T *b,                   \
                            const struct mn_win *d);                                     \
    void mn_dwconv2d_bwd##S(T *dx, T *dw, T *db, const T *dy, const T *x, const T *w,   \
                            const struct mn_win *d, int64_t pstride);                    \
    /* average pool; divisor kh·kw with count_include_pad, else the real elements.      \
     * y [n][c][ho][wo]; x [n][c][h][w]; ws [mn_avgpool_ws_size] scratch. */             \
    void mn_avgpool_fwd##S(T *y, T *ws, const T *x, const struct mn_win *d, int cip);   \
    void mn_avgpool_bwd##S(T *dx, T *ws, const T *dy, const struct mn_win *d, int cip); \
    /* max pool over real elements; backward routes to the first maximum in window      \
     * order (as PyTorch). y [n][c][ho][wo]; x [n][c][h][w]. */                          \
    void mn_maxpool_fwd##S(T *y, const T *x, const struct mn_win *d);                   \
    void mn_maxpool_bwd##S(T *dx, const T *dy, const T *x, const T *y,                  \
                           const struct mn_win *d);                                      \
    /* global pools. y [n][c]; x [n][c][hw]. */                                          \
    void mn_gavgpool_fwd##S(T *y, const T *x, int n, int c, int64_t hw);                \
    void mn_gavgpool_bwd##S(T *dx, const T *dy, int n, int c, int64_t hw);              \
    void mn_gmaxpool_fwd##S(T *y, const T *x, int n, int c, int64_t hw);                \
    void mn_gmaxpool_bwd##S(T *dx, const T *dy, const T *x, const T *y, int n, int c,   \
                            int64_t hw);                                                 \
    /* batch norm forward with batch statistics, in steps, so that threads may split  \
     * the samples and still give the same bits: mn_bn_row_sums fills sums [ns][c] of  \
     * ns samples x [ns][c][hw] with the sum of each (sample, channel) row (mu NULL),    \
     * or of its squared deviations from mu [c];                                         \
     * mn_bn_channel_means turns the sums of every sample into the batch mean, then the  \
     * biased variance; mn_bn_affine rounds them to mean, var [c] (either may be NULL)   \
     * and makes the scale and shift ab [2c] from gamma, beta [c]; mn_bn_apply           \
     * normalises ns samples, y = x·scale + shift. */                                     \
    void mn_bn_row_sums##S(double *sums, const T *x, const double *mu, int ns, int c,    \
                           int64_t hw);                                                  \
    void mn_bn_affine##S(T *ab, T *mean, T *var, const double *mu, const double *v,      \
                         const T *gamma, const T *beta, int c);                          \
    void mn_bn_apply##S(T *y, const T *x, const T *ab, int ns, int c, int64_t hw);       \
    /* backward in two halves. mn_bn_bwd_coef runs the reductions of `passes` passes     \
     * (dy [passes][n][c][hw]; pass p's dgamma/dbeta gstride after pass 0's, may be      \
     * NULL, per sample rows pstride apart when pstride) and leaves the coefficients of  \
     * the input gradient in coef [mn_bn_coef_size(c, passes)]; mn_bn_dx then makes pass \
     * p's input gradient of one sample [c][hw] from its dy and x, where a consumer      \
     * reads it. frozen: mean and var are constants (no gradient through the            \
     * statistics). With `over` dx is overwritten rather than accumulated. mn_bn_bwd is  \
     * both for one pass: dx like x (may be NULL), dgamma/dbeta like gamma, dy like y. */ \
    void mn_bn_bwd_coef##S(T *coef, T *dgamma, T *dbeta, const T *dy, const T *x,       \
                           const T *gamma, const T *mean, const T *var, int n, int c,    \
                           int64_t hw, int frozen, int64_t pstride, int passes,          \
                           int64_t gstride);                                             \
    void mn_bn_dx##S(T *dx, int over, const T *dy, const T *x, const T *coef, int c,    \
                     int64_t hw, int p);                                                 \
    void mn_bn_bwd##S(T *dx, int over, T *dgamma, T *dbeta, const T *dy, const T *x,    \
                      const T *gamma, const T *mean, const T *var, int n, int c,         \
                      int64_t hw, int frozen, int64_t pstride, T *coef);                 \
    /* activation (relu or relu6; none copies). y [size]; x [size]; y == x allowed. */   \
    void mn_act_fwd##S(T *y, const T *x, int64_t size, enum mn_act act);                \
    /* dx [size] += dy · act'(from y); y the forward output. */                          \
    void mn_act_bwd##S(T *dx, const T *dy, const T *y, int64_t size, enum mn_act act);  \
    /* dy [size] ·= act'(from y), in place. */                                           \
    void mn_act_mask##S(T *dy, const T *y, int64_t size, enum mn_act act);              \
    /* y [size] = Σ x[i] [size], i in order. */                                          \
    void mn_add_fwd##S(T *y, const T *const *x, int n_in, int64_t size);                \
    /* dx [size] += dy [size] (the backward of add for each input, of flatten, ...). */  \
    void mn_acc##S(T *dx, const T *dy, int64_t size);                                    \
    /* dense. y [n][o]; x [n][i]; w [o][i]; b [o] or NULL. */                            \
    void mn_dense_fwd##S(T *y, const T *x, const T *w, const T *b, int n, int in,       \
                         int out);                                                       \
    void mn_dense_bwd##S(T *dx, T *dw, T *db, const T *dy, const T *x, const T *w,      \
                         int n, int in, int out, int64_t pstride);                       \
    /* softmax over c. y [n][c]; x [n][c]. */                                            \
    void mn_softmax_fwd##S(T *y, const T *x, int n, int c);                             \
    void mn_softmax_bwd##S(T *dx, const T *dy, const T *y, int n, int c);

MN_OPS_DECLARE(float, _f32)
MN_OPS_DECLARE(double, _f64)

#endif
