#ifndef MN_TMPL_PASS
/* op_conv.c — convolution kernels (see ops.h): conv2d as im2col + GEMM per sample,
 * with a fast path for 1×1, stride 1, unpadded convolutions that multiplies the input
 * directly, and optionally the columns of every sample kept from forward for backward;
 * depthwise conv2d as direct loops. Compiled for float and double. */
#include <string.h>
#include "ops.h"

static int fast_1x1(const struct mn_win *d)
{
    return d->kh == 1 && d->kw == 1 && d->sh == 1 && d->sw == 1 && d->pt == 0 &&
           d->pl == 0 && d->ho == d->h && d->wo == d->w;
}

int64_t mn_conv2d_col_size(const struct mn_win *d)
{
    return fast_1x1(d) ? 0 : (int64_t)d->ci * d->kh * d->kw * d->ho * d->wo;
}

#define MN_TMPL_FILE "op_conv.c"
#include "op_tmpl.h"
#else

/* col [ci·kh·kw][ho·wo] ← the patches of one sample x [ci][h][w], 0 where padded.
 * Rows are short (a feature-map row), so plain loops rather than memcpy calls. */
static void F(im2col)(T *col, const T *x, const struct mn_win *d)
{
    int64_t hw = (int64_t)d->ho * d->wo;
    for (int c = 0; c < d->ci; c++)
        for (int ky = 0; ky < d->kh; ky++)
            for (int kx = 0; kx < d->kw; kx++) {
                T *row = col + ((int64_t)(c * d->kh + ky) * d->kw + kx) * hw;
                const T *restrict xc = x + (int64_t)c * d->h * d->w;
                int lo, hi;
                mn_win_span(&lo, &hi, kx, d->pl, d->sw, d->w, d->wo);
                for (int oy = 0; oy < d->ho; oy++) {
                    T *restrict r = row + (int64_t)oy * d->wo;
                    int iy = oy * d->sh - d->pt + ky;
                    int a = iy < 0 || iy >= d->h ? d->wo : lo, b = a == lo ? hi : d->wo;
                    int64_t off = (int64_t)iy * d->w - d->pl + kx;
                    for (int ox = 0; ox < a; ox++)
                        r[ox] = 0;
                    if (d->sw == 1)
                        for (int ox = a; ox < b; ox++)
                            r[ox] = xc[off + ox];
                    else
                        for (int ox = a; ox < b; ox++)
                            r[ox] = xc[off + (int64_t)ox * d->sw];
                    for (int ox = b; ox < d->wo; ox++)
                        r[ox] = 0;
                }
            }
}

/* x [ci][h][w] += the patches in col [ci·kh·kw][ho·wo] put back (im2col's adjoint). */
static void F(col2im)(T *x, const T *col, const struct mn_win *d)
{
    int64_t hw = (int64_t)d->ho * d->wo;
    for (int c = 0; c < d->ci; c++)
        for (int ky = 0; ky < d->kh; ky++)
            for (int kx = 0; kx < d->kw; kx++) {
                const T *row = col + ((int64_t)(c * d->kh + ky) * d->kw + kx) * hw;
                T *xc = x + (int64_t)c * d->h * d->w;
                int lo, hi;
                mn_win_span(&lo, &hi, kx, d->pl, d->sw, d->w, d->wo);
                for (int oy = 0; oy < d->ho; oy++) {
                    int iy = oy * d->sh - d->pt + ky;
                    if (iy < 0 || iy >= d->h)
                        continue;
                    const T *restrict r = row + (int64_t)oy * d->wo;
                    int64_t off = (int64_t)iy * d->w - d->pl + kx;
                    if (d->sw == 1) {
                        T *restrict xr = xc + off + lo;
                        for (int ox = 0; ox < hi - lo; ox++)
                            xr[ox] += r[lo + ox];
                    } else {
                        for (int ox = lo; ox < hi; ox++)
                            xc[off + ox * d->sw] += r[ox];
                    }
                }
            }
}

void F(mn_conv2d_fwd)(T *y, T *col, int keep, const T *x, const T *w, const T *b,
                      const struct mn_win *d)
{
    int hw = d->ho * d->wo, k = d->ci * d->kh * d->kw;
    int64_t xs = (int64_t)d->ci * d->h * d->w, ys = (int64_t)d->co * hw;
    int64_t cs = keep ? mn_conv2d_col_size(d) : 0;
    int fast = fast_1x1(d);
    for (int n = 0; n < d->n; n++) {
        const T *xn = x + n * xs;
        T *yn = y + n * ys, *coln = col + n * cs;
        if (!fast)
            F(im2col)(coln, xn, d);
        for (int c = 0; b && c < d->co; c++)
            for (int i = 0; i < hw; i++)
                yn[(int64_t)c * hw + i] = b[c];
        F(mn_gemm)(0, 0, d->co, hw, k, 1, w, k, fast ? xn : coln, hw, b ? 1 : 0, yn, hw);
    }
}

void F(mn_conv2d_bwd)(T *dx, T *dw, T *db, T *col, int kept, T *dcol, const T *dy,
                      const T *x, const T *w, const struct mn_win *d, int64_t pstride)
{
    int hw = d->ho * d->wo, k = d->ci * d->kh * d->kw;
    int64_t xs = (int64_t)d->ci * d->h * d->w, ys = (int64_t)d->co * hw;
    int64_t cs = kept ? mn_conv2d_col_size(d) : 0;
    int fast = fast_1x1(d);
    for (int n = 0; n < d->n; n++) {
        const T *xn = x + n * xs, *dyn = dy + n * ys;
        T *coln = col + n * cs;
        if (dw) {
            if (!fast && !kept)
                F(im2col)(coln, xn, d);
            F(mn_gemm)(0, 1, d->co, k, hw, 1, dyn, hw, fast ? xn : coln, hw, 1,
                       dw + n * pstride, k);
        }
        if (db)
            for (int c = 0; c < d->co; c++) {
                T s = 0;
                for (int i = 0; i < hw; i++)
                    s += dyn[(int64_t)c * hw + i];
                db[n * pstride + c] += s;
            }
        if (dx) {
            if (fast) {
                F(mn_gemm)(1, 0, d->ci, hw, d->co, 1, w, k, dyn, hw, 1, dx + n * xs, hw);
            } else {
                F(mn_gemm)(1, 0, k, hw, d->co, 1, w, k, dyn, hw, 0, dcol, hw);
                F(col2im)(dx + n * xs, dcol, d);
            }
        }
    }
}

void F(mn_dwconv2d_fwd)(T *y, const T *x, const T *w, const T *b, const struct mn_win *d)
{
    int64_t hw = (int64_t)d->h * d->w, ohw = (int64_t)d->ho * d->wo;
    for (int n = 0; n < d->n; n++)
        for (int c = 0; c < d->ci; c++) {
            const T *xc = x + ((int64_t)n * d->ci + c) * hw;
            T *yc = y + ((int64_t)n * d->ci + c) * ohw;
            const T *wc = w + (int64_t)c * d->kh * d->kw;
            for (int64_t i = 0; i < ohw; i++)
                yc[i] = b ? b[c] : 0;
            for (int ky = 0; ky < d->kh; ky++)
                for (int kx = 0; kx < d->kw; kx++) {
                    T wv = wc[ky * d->kw + kx];
                    int lo, hi;
                    mn_win_span(&lo, &hi, kx, d->pl, d->sw, d->w, d->wo);
                    for (int oy = 0; oy < d->ho; oy++) {
                        int iy = oy * d->sh - d->pt + ky;
                        if (iy < 0 || iy >= d->h)
                            continue;
                        int64_t off = (int64_t)iy * d->w - d->pl + kx;
                        T *yr = yc + (int64_t)oy * d->wo;
                        for (int ox = lo; ox < hi; ox++)
                            yr[ox] += wv * xc[off + ox * d->sw];
                    }
                }
        }
}

void F(mn_dwconv2d_bwd)(T *dx, T *dw, T *db, const T *dy, const T *x, const T *w,
                        const struct mn_win *d, int64_t pstride)
{
    int64_t hw = (int64_t)d->h * d->w, ohw = (int64_t)d->ho * d->wo;
    for (int n = 0; n < d->n; n++)
        for (int c = 0; c < d->ci; c++) {
            const T *xc = x + ((int64_t)n * d->ci + c) * hw;
            const T *dyc = dy + ((int64_t)n * d->ci + c) * ohw;
            T *dxc = dx ? dx + ((int64_t)n * d->ci + c) * hw : NULL;
            const T *wc = w + (int64_t)c * d->kh * d->kw;
            T *dwc = dw ? dw + n * pstride + (int64_t)c * d->kh * d->kw : NULL;
            if (db) {
                T s = 0;
                for (int64_t i = 0; i < ohw; i++)
                    s += dyc[i];
                db[n * pstride + c] += s;
            }
            for (int ky = 0; ky < d->kh; ky++)
                for (int kx = 0; kx < d->kw; kx++) {
                    T wv = wc[ky * d->kw + kx], s = 0;
                    int lo, hi;
                    mn_win_span(&lo, &hi, kx, d->pl, d->sw, d->w, d->wo);
                    for (int oy = 0; oy < d->ho; oy++) {
                        int iy = oy * d->sh - d->pt + ky;
                        if (iy < 0 || iy >= d->h)
                            continue;
                        int64_t off = (int64_t)iy * d->w - d->pl + kx;
                        const T *dyr = dyc + (int64_t)oy * d->wo;
                        for (int ox = lo; ox < hi; ox++)
                            s += dyr[ox] * xc[off + ox * d->sw];
                        if (dxc)
                            for (int ox = lo; ox < hi; ox++)
                                dxc[off + ox * d->sw] += wv * dyr[ox];
                    }
                    if (dwc)
                        dwc[ky * d->kw + kx] += s;
                }
        }
}

#endif
