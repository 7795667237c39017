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

void F(mn_bn_fwd)(T *y, T *mean, T *var, const T *x, const T *gamma, const T *beta, int n,
                  int c, int64_t hw)
{
    double m = (double)n * hw;
    for (int ch = 0; ch < c; ch++) {
        double s = 0, v = 0;
        for (int i = 0; i < n; i++) {
            const T *xc = x + ((int64_t)i * c + ch) * hw;
            for (int64_t j = 0; j < hw; j++)
                s += xc[j];
        }
        double mu = s / m;
        for (int i = 0; i < n; i++) {
            const T *xc = x + ((int64_t)i * c + ch) * hw;
            for (int64_t j = 0; j < hw; j++)
                v += (xc[j] - mu) * (xc[j] - mu);
        }
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

void F(mn_bn_bwd)(T *dx, T *dgamma, T *dbeta, const T *dy, const T *x, const T *gamma,
                  const T *mean, const T *var, int n, int c, int64_t hw, int frozen,
                  int64_t pstride)
{
    double m = (double)n * hw;
    for (int ch = 0; ch < c; ch++) {
        double inv = 1.0 / sqrt((double)var[ch] + MN_BN_EPS), mu = mean[ch];
        double sdy = 0, sdyx = 0;
        for (int i = 0; i < n; i++) {
            const T *xc = x + ((int64_t)i * c + ch) * hw, *dyc = dy + ((int64_t)i * c + ch) * hw;
            double a = 0, b = 0;
            for (int64_t j = 0; j < hw; j++) {
                a += dyc[j];
                b += dyc[j] * (xc[j] - mu);
            }
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
            for (int64_t j = 0; j < hw; j++)
                dxc[j] += k * (dyc[j] - cdy - (xc[j] - (T)mu) * cx);
        }
    }
}

#endif
