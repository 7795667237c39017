#ifndef MN_TMPL_PASS
/* op_bn.c — batch normalisation kernels (see ops.h) with batch statistics: forward
 * computes the per-channel batch mean and biased variance (accumulated in double) and
 * normalises with gamma/beta (eps MN_BN_EPS, as PyTorch); backward either propagates
 * through the statistics (training mode) or treats them as constants (frozen).
 * Compiled for float and double. */
#include <math.h>
#include "ops.h"

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
 * in T (PARTS lanes of 4 terms: vectorises for float, where GCC will not widen to
 * double inside the loop), the block sums in double. */
static inline MN_INLINE void F(row_dsums)(const T *restrict dy, const T *restrict x, double mu, int64_t len,
                         double *a, double *b)
{
    double pa[PARTS] = {0}, pb[PARTS] = {0}, ta = 0, tb = 0;
    T m = (T)mu;
    int64_t j = 0;
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
    for (; j < len; j++) {
        ta += dy[j];
        tb += dy[j] * (x[j] - mu);
    }
    *a = F(total)(pa, ta);
    *b = F(total)(pb, tb);
}

MN_CLONES void F(mn_bn_fwd)(T *y, T *mean, T *var, const T *x, const T *gamma, const T *beta, int n,
                  int c, int64_t hw)
{
    double m = (double)n * hw;
    for (int ch = 0; ch < c; ch++) {
        double s = 0, v = 0;
        for (int i = 0; i < n; i++)
            s += F(row_sum)(x + ((int64_t)i * c + ch) * hw, 0, hw, 0);
        double mu = s / m;
        for (int i = 0; i < n; i++)
            v += F(row_sum)(x + ((int64_t)i * c + ch) * hw, mu, hw, 1);
        v /= m;
        mean[ch] = (T)mu;
        var[ch] = (T)v;
        T a = (T)(gamma[ch] / sqrt((double)var[ch] + MN_BN_EPS));
        T b = beta[ch] - mean[ch] * a;
        for (int i = 0; i < n; i++) {
            const T *restrict xc = x + ((int64_t)i * c + ch) * hw;
            T *restrict yc = y + ((int64_t)i * c + ch) * hw;
            for (int64_t j = 0; j < hw; j++)
                yc[j] = xc[j] * a + b;
        }
    }
}

MN_CLONES void F(mn_bn_bwd)(T *dx, int over, T *dgamma, T *dbeta, const T *dy, const T *x,
                  const T *gamma, const T *mean, const T *var, int n, int c, int64_t hw,
                  int frozen, int64_t pstride)
{
    double m = (double)n * hw;
    for (int ch = 0; ch < c; ch++) {
        double inv = 1.0 / sqrt((double)var[ch] + MN_BN_EPS), mu = mean[ch];
        double sdy = 0, sdyx = 0;
        for (int i = 0; i < n; i++) {
            double a, b;
            F(row_dsums)(dy + ((int64_t)i * c + ch) * hw, x + ((int64_t)i * c + ch) * hw, mu,
                         hw, &a, &b);
            b *= inv;
            sdy += a;
            sdyx += b;
            if (pstride && dgamma)
                dgamma[i * pstride + ch] += (T)b;
            if (pstride && dbeta)
                dbeta[i * pstride + ch] += (T)a;
        }
        if (!pstride && dgamma)
            dgamma[ch] += (T)sdyx;
        if (!pstride && dbeta)
            dbeta[ch] += (T)sdy;
        if (!dx)
            continue;
        T k = (T)(gamma[ch] * inv);
        T cdy = frozen ? 0 : (T)(sdy / m), cx = frozen ? 0 : (T)(sdyx / m * inv);
        for (int i = 0; i < n; i++) {
            const T *restrict xc = x + ((int64_t)i * c + ch) * hw;
            const T *restrict dyc = dy + ((int64_t)i * c + ch) * hw;
            T *restrict dxc = dx + ((int64_t)i * c + ch) * hw;
            if (over)
                for (int64_t j = 0; j < hw; j++)
                    dxc[j] = k * (dyc[j] - cdy - (xc[j] - (T)mu) * cx);
            else
                for (int64_t j = 0; j < hw; j++)
                    dxc[j] += k * (dyc[j] - cdy - (xc[j] - (T)mu) * cx);
        }
    }
}

#undef PARTS
#endif
