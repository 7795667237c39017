#ifndef MN_TMPL_PASS
/* op_bn.c — batch normalisation kernels (see ops.h) with batch statistics: forward
 * computes the per-channel batch mean and biased variance (accumulated in double) and
 * normalises with gamma/beta (eps MN_BN_EPS, as PyTorch); backward either propagates
 * through the statistics (training mode) or treats them as constants (frozen).
 * Compiled for float and double. */
#include <math.h>
#include <string.h>
#include "ops.h"

void mn_bn_channel_means(double *avg, const double *sums, int n, int c, int64_t hw)
{
    double m = (double)n * hw;
    for (int ch = 0; ch < c; ch++) {
        double t = 0;
        for (int s = 0; s < n; s++)
            t += sums[(int64_t)s * c + ch];
        avg[ch] = t / m;
    }
}

#define MN_TMPL_FILE "op_bn.c"
#include "op_tmpl.h"
#else

/* Reductions in double over one channel row, with eight partial sums so that the
 * loops vectorise (a single running sum is one long dependency chain). Always inlined,
 * so that they run in the caller's clone (ops.h MN_CLONES). */
#define PARTS 8

static inline MN_INLINE double F(total)(const double *p, double tail)
{
    return ((p[0] + p[1]) + (p[2] + p[3])) + ((p[4] + p[5]) + (p[6] + p[7])) + tail;
}

/* Σ x[j] (sq = 0) or Σ (x[j] − mu)² (sq = 1), j < len. */
static inline MN_INLINE double F(row_sum)(const T *restrict x, double mu, int64_t len, int sq)
{
    double p[PARTS] = {0}, t = 0;
    int64_t j = 0;
    if (sq) {
        for (; j + PARTS <= len; j += PARTS)
            for (int k = 0; k < PARTS; k++)
                p[k] += (x[j + k] - mu) * (x[j + k] - mu);
        for (; j < len; j++)
            t += (x[j] - mu) * (x[j] - mu);
    } else {
        for (; j + PARTS <= len; j += PARTS)
            for (int k = 0; k < PARTS; k++)
                p[k] += x[j + k];
        for (; j < len; j++)
            t += x[j];
    }
    return F(total)(p, t);
}

/* *a = Σ dy[j], *b = Σ dy[j]·(x[j] − mu), j < len: blocks of 4·PARTS elements summed
 * in T (PARTS lanes of 4 terms), the block sums in double (PARTS lanes). The lanes are
 * GCC/Clang vectors where available (left to itself GCC interleaved the T lanes through
 * shuffles and kept the double ones on the stack); the arithmetic lane by lane is the
 * same either way. */
#if defined(__GNUC__)
typedef T F(lanes) __attribute__((vector_size(PARTS * sizeof(T))));
typedef double F(dlanes) __attribute__((vector_size(PARTS * sizeof(double))));
#define LANES_LOAD(v, p) memcpy(&(v), (p), sizeof(v))
#endif
static inline MN_INLINE void F(row_dsums)(const T *restrict dy, const T *restrict x, double mu, int64_t len,
                         double *a, double *b)
{
    double pa[PARTS] = {0}, pb[PARTS] = {0}, ta = 0, tb = 0;
    T m = (T)mu;
    int64_t j = 0;
#if defined(__GNUC__)
    F(dlanes) da = {0}, db = {0};
    for (; j + 4 * PARTS <= len; j += 4 * PARTS) {
        F(lanes) fa = {0}, fb = {0}, vd, vx;
        for (int r = 0; r < 4 * PARTS; r += PARTS) {
            LANES_LOAD(vd, dy + j + r);
            LANES_LOAD(vx, x + j + r);
            fa += vd;
            fb += vd * (vx - m);
        }
        da += __builtin_convertvector(fa, F(dlanes));
        db += __builtin_convertvector(fb, F(dlanes));
    }
    memcpy(pa, &da, sizeof pa);
    memcpy(pb, &db, sizeof pb);
#else
    for (; j + 4 * PARTS <= len; j += 4 * PARTS) {
        T fa[PARTS] = {0}, fb[PARTS] = {0};
        for (int r = 0; r < 4 * PARTS; r += PARTS)
            for (int k = 0; k < PARTS; k++) {
                fa[k] += dy[j + r + k];
                fb[k] += dy[j + r + k] * (x[j + r + k] - m);
            }
        for (int k = 0; k < PARTS; k++) {
            pa[k] += fa[k];
            pb[k] += fb[k];
        }
    }
#endif
    for (; j < len; j++) {
        ta += dy[j];
        tb += dy[j] * (x[j] - mu);
    }
    *a = F(total)(pa, ta);
    *b = F(total)(pb, tb);
}

MN_CLONES void F(mn_bn_row_sums)(double *sums, const T *x, const double *mu, int ns, int c,
                                 int64_t hw)
{
    for (int64_t r = 0; r < (int64_t)ns * c; r++)
        sums[r] = F(row_sum)(x + r * hw, mu ? mu[r % c] : 0, hw, mu != NULL);
}

void F(mn_bn_affine)(T *ab, T *mean, T *var, const double *mu, const double *v,
                     const T *gamma, const T *beta, int c)
{
    for (int ch = 0; ch < c; ch++) {
        T m = (T)mu[ch], s2 = (T)v[ch];
        T a = (T)(gamma[ch] / sqrt((double)s2 + MN_BN_EPS));
        ab[ch] = a;
        ab[c + ch] = beta[ch] - m * a;
        if (mean)
            mean[ch] = m;
        if (var)
            var[ch] = s2;
    }
}

MN_CLONES void F(mn_bn_apply)(T *y, const T *x, const T *ab, int ns, int c, int64_t hw)
{
    for (int64_t r = 0; r < (int64_t)ns * c; r++) {
        const T *restrict xc = x + r * hw;
        T *restrict yc = y + r * hw;
        T a = ab[r % c], b = ab[c + r % c];
        for (int64_t j = 0; j < hw; j++)
            yc[j] = xc[j] * a + b;
    }
}

/* Coefficients of pass p's input gradient in coef [mn_bn_coef_size]: k [c], mu [c], then
 * per pass cdy [c] and cx [c]; after them, in double per channel, the two sums and 1/σ. */
#define COEF_PASS(coef, c, p) ((coef) + 2 * (int64_t)(c) * (1 + (p)))
#define COEF_SUMS(coef, c, passes) ((double *)(void *)COEF_PASS(coef, c, passes))

MN_CLONES void F(mn_bn_bwd_coef)(T *coef, T *dgamma, T *dbeta, const T *dy, const T *x,
                                 const T *gamma, const T *mean, const T *var, int n, int c,
                                 int64_t hw, int frozen, int64_t pstride, int passes,
                                 int64_t gstride)
{
    int64_t bs = (int64_t)n * c * hw; /* elements of one pass */
    double m = (double)n * hw, *sdy = COEF_SUMS(coef, c, passes), *sdyx = sdy + c;
    double *inv = sdyx + c; /* 1 / σ per channel */
    for (int ch = 0; ch < c; ch++) {
        inv[ch] = 1.0 / sqrt((double)var[ch] + MN_BN_EPS);
        coef[ch] = (T)(gamma[ch] * inv[ch]);
        coef[c + ch] = mean[ch];
    }
    for (int p = 0; p < passes; p++) {
        const T *dyp = dy + p * bs;
        T *dgp = dgamma ? dgamma + p * gstride : NULL, *dbp = dbeta ? dbeta + p * gstride : NULL;
        for (int ch = 0; ch < c; ch++)
            sdy[ch] = sdyx[ch] = 0;
        /* sample by sample, its channels in memory order: one sweep of the pass */
        for (int i = 0; i < n; i++)
            for (int ch = 0; ch < c; ch++) {
                int64_t o = ((int64_t)i * c + ch) * hw;
                double a, b;
                F(row_dsums)(dyp + o, x + o, mean[ch], hw, &a, &b);
                b *= inv[ch];
                sdy[ch] += a;
                sdyx[ch] += b;
                if (pstride && dgp)
                    dgp[i * pstride + ch] += (T)b;
                if (pstride && dbp)
                    dbp[i * pstride + ch] += (T)a;
            }
        T *pc = COEF_PASS(coef, c, p);
        for (int ch = 0; ch < c; ch++) {
            if (!pstride && dgp)
                dgp[ch] += (T)sdyx[ch];
            if (!pstride && dbp)
                dbp[ch] += (T)sdy[ch];
            pc[ch] = frozen ? 0 : (T)(sdy[ch] / m);
            pc[c + ch] = frozen ? 0 : (T)(sdyx[ch] / m * inv[ch]);
        }
    }
}

MN_CLONES void F(mn_bn_dx)(T *dx, int over, const T *dy, const T *x, const T *coef, int c,
                           int64_t hw, int p)
{
    const T *pc = COEF_PASS(coef, c, p);
    for (int ch = 0; ch < c; ch++) {
        T *restrict d = dx + ch * hw;
        const T *restrict g = dy + ch * hw, *restrict v = x + ch * hw;
        T k = coef[ch], mu = coef[c + ch], cdy = pc[ch], cx = pc[c + ch];
        if (over)
            for (int64_t j = 0; j < hw; j++)
                d[j] = k * (g[j] - cdy - (v[j] - mu) * cx);
        else
            for (int64_t j = 0; j < hw; j++)
                d[j] += k * (g[j] - cdy - (v[j] - mu) * cx);
    }
}

void F(mn_bn_bwd)(T *dx, int over, T *dgamma, T *dbeta, const T *dy, const T *x,
                  const T *gamma, const T *mean, const T *var, int n, int c, int64_t hw,
                  int frozen, int64_t pstride, T *coef)
{
    F(mn_bn_bwd_coef)(coef, dgamma, dbeta, dy, x, gamma, mean, var, n, c, hw, frozen, pstride,
                      1, 0);
    for (int i = 0; dx && i < n; i++) {
        int64_t o = (int64_t)i * c * hw;
        F(mn_bn_dx)(dx + o, over, dy + o, x + o, coef, c, hw, 0);
    }
}

#undef COEF_PASS
#undef COEF_SUMS
#undef PARTS
#endif
