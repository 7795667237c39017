#ifndef MN_TMPL_PASS
/* op_pool.c — pooling kernels (see ops.h): average pool (count_include_pad either
 * way), max pool (padding never wins), global average and max pool. Windows never
 * reach past the padded input (floor mode), so with count_include_pad the divisor is
 * always kh·kw, as in PyTorch. Compiled for float and double. */
#include <string.h>
#include "ops.h"

/* Valid input rows/cols [*lo, *hi) of the window starting at o·s − p. */
static void window(int *lo, int *hi, int o, int s, int p, int k, int size)
{
    int a = o * s - p;
    *lo = a < 0 ? 0 : a;
    *hi = a + k > size ? size : a + k;
}

int64_t mn_avgpool_ws_size(const struct mn_win *d)
{
    if (d->sh != 1 || d->sw != 1)
        return 0;
    int64_t f = (int64_t)(d->ho + d->kh - 1) * (d->wo + d->kw - 1);
    int64_t b = (int64_t)(d->h + d->kh - 1) * (d->w + d->kw - 1);
    return f > b ? f : b;
}

#define MN_TMPL_FILE "op_pool.c"
#include "op_tmpl.h"
#else

#include "op_plane.h"

/* Average pools with stride 1 run on a zero-padded plane (op_plane.h): forward over the
 * input, backward over the outputs' shares (gradient / divisor), each element a sum of
 * the window in its plain loop order (rows, then columns, ascending), the backward's
 * after the gradient already held. Strided pools run the plain loops. */

/* The divisor of output column ox in a row whose windows span `rows` input rows: the
 * window's size, or kh·kw with count_include_pad. Branch-free (window's bounds as min
 * and max), so that the division loops vectorise. */
static inline MN_INLINE T F(divisor)(int ox, int rows, const struct mn_win *d, int cip)
{
    int a = ox * d->sw - d->pl, b = a + d->kw;
    a = a < 0 ? 0 : a;
    b = b > d->w ? d->w : b;
    return (T)(cip ? d->kh * d->kw : rows * (b - a));
}

/* dst[j] = (dst[j] when `add`, else 0) + Σ_{ky<kh, kx<kw} src[ky·wd + kx + j] in (ky, kx)
 * order, j < len. */
static inline MN_INLINE void F(box_row)(T *restrict dst, const T *restrict src, int64_t wd,
                                        int kh, int kw, int len, int add)
{
    int j = 0;
    for (; j + VN <= len; j += VN) {
        F(vec) v = {0}, x;
        if (add)
            VLOAD(v, dst + j);
        for (int ky = 0; ky < kh; ky++)
            for (int kx = 0; kx < kw; kx++) {
                VLOAD(x, src + ky * wd + kx + j);
                v += x;
            }
        VSTORE(dst + j, v);
    }
    for (; j < len; j++) {
        T v = add ? dst[j] : 0;
        for (int ky = 0; ky < kh; ky++)
            for (int kx = 0; kx < kw; kx++)
                v += src[ky * wd + kx + j];
        dst[j] = v;
    }
}

MN_CLONES void F(mn_avgpool_fwd)(T *y, T *ws, const T *x, const struct mn_win *d, int cip)
{
    int64_t hw = (int64_t)d->h * d->w, ohw = (int64_t)d->ho * d->wo;
    int wp = d->wo + d->kw - 1; /* padded row: output column ox's window starts at ox */
    for (int64_t nc = 0; nc < (int64_t)d->n * d->ci; nc++) {
        const T *restrict xc = x + nc * hw;
        if (d->sh == 1 && d->sw == 1)
            F(pad)(ws, xc, 1, d->h, d->w, d->pt, d->pl, d->ho + d->kh - 1, wp, nc == 0);
        for (int oy = 0; oy < d->ho; oy++) {
            T *restrict yr = y + nc * ohw + (int64_t)oy * d->wo;
            int y0, y1;
            window(&y0, &y1, oy, d->sh, d->pt, d->kh, d->h);
            if (d->sh == 1 && d->sw == 1) {
                F(box_row)(yr, ws + (int64_t)oy * wp, wp, d->kh, d->kw, d->wo, 0);
            } else {
                for (int ox = 0; ox < d->wo; ox++)
                    yr[ox] = 0;
                for (int iy = y0; iy < y1; iy++)
                    for (int kx = 0; kx < d->kw; kx++) {
                        int lo, hi;
                        mn_win_span(&lo, &hi, kx, d->pl, d->sw, d->w, d->wo);
                        int64_t off = (int64_t)iy * d->w - d->pl + kx;
                        for (int ox = lo; ox < hi; ox++)
                            yr[ox] += xc[off + (int64_t)ox * d->sw];
                    }
            }
            for (int ox = 0; ox < d->wo; ox++)
                yr[ox] /= F(divisor)(ox, y1 - y0, d, cip);
        }
    }
}

/* Strided: each output's share added to its window's input elements, outputs in
 * order. */
static void F(avgpool_bwd_strided)(T *dx, const T *dy, const struct mn_win *d, int cip)
{
    int64_t hw = (int64_t)d->h * d->w, ohw = (int64_t)d->ho * d->wo;
    for (int64_t nc = 0; nc < (int64_t)d->n * d->ci; nc++)
        for (int oy = 0; oy < d->ho; oy++) {
            int y0, y1;
            window(&y0, &y1, oy, d->sh, d->pt, d->kh, d->h);
            for (int ox = 0; ox < d->wo; ox++) {
                T g = dy[nc * ohw + (int64_t)oy * d->wo + ox] / F(divisor)(ox, y1 - y0, d, cip);
                int x0, x1;
                window(&x0, &x1, ox, d->sw, d->pl, d->kw, d->w);
                for (int iy = y0; iy < y1; iy++)
                    for (int ix = x0; ix < x1; ix++)
                        dx[nc * hw + (int64_t)iy * d->w + ix] += g;
            }
        }
}

MN_CLONES void F(mn_avgpool_bwd)(T *dx, T *ws, const T *dy, const struct mn_win *d, int cip)
{
    if (d->sh != 1 || d->sw != 1) {
        F(avgpool_bwd_strided)(dx, dy, d, cip);
        return;
    }
    int64_t hw = (int64_t)d->h * d->w, ohw = (int64_t)d->ho * d->wo;
    /* shares at row kh − 1 − pt, column kw − 1 − pl of rows wq wide: input (iy, ix)'s
     * windows are then the kh×kw box at (iy, ix), the earliest output first */
    int wq = d->w + d->kw - 1, top = d->kh - 1 - d->pt, left = d->kw - 1 - d->pl;
    memset(ws, 0, (size_t)(d->h + d->kh - 1) * wq * sizeof *ws);
    for (int64_t nc = 0; nc < (int64_t)d->n * d->ci; nc++) {
        for (int oy = 0; oy < d->ho; oy++) {
            const T *restrict dyr = dy + nc * ohw + (int64_t)oy * d->wo;
            T *restrict gr = ws + (int64_t)(top + oy) * wq + left;
            int y0, y1;
            window(&y0, &y1, oy, d->sh, d->pt, d->kh, d->h);
            for (int ox = 0; ox < d->wo; ox++)
                gr[ox] = dyr[ox] / F(divisor)(ox, y1 - y0, d, cip);
        }
        for (int iy = 0; iy < d->h; iy++)
            F(box_row)(dx + nc * hw + (int64_t)iy * d->w, ws + (int64_t)iy * wq, wq, d->kh,
                       d->kw, d->w, 1);
    }
}

void F(mn_maxpool_fwd)(T *y, const T *x, const struct mn_win *d)
{
    int64_t hw = (int64_t)d->h * d->w, ohw = (int64_t)d->ho * d->wo;
    for (int64_t nc = 0; nc < (int64_t)d->n * d->ci; nc++) {
        const T *xc = x + nc * hw;
        T *yc = y + nc * ohw;
        for (int oy = 0; oy < d->ho; oy++) {
            int y0, y1;
            window(&y0, &y1, oy, d->sh, d->pt, d->kh, d->h);
            for (int ox = 0; ox < d->wo; ox++) {
                int x0, x1;
                window(&x0, &x1, ox, d->sw, d->pl, d->kw, d->w);
                T m = xc[(int64_t)y0 * d->w + x0];
                for (int iy = y0; iy < y1; iy++)
                    for (int ix = x0; ix < x1; ix++)
                        if (xc[(int64_t)iy * d->w + ix] > m)
                            m = xc[(int64_t)iy * d->w + ix];
                yc[(int64_t)oy * d->wo + ox] = m;
            }
        }
    }
}

void F(mn_maxpool_bwd)(T *dx, const T *dy, const T *x, const T *y, const struct mn_win *d)
{
    int64_t hw = (int64_t)d->h * d->w, ohw = (int64_t)d->ho * d->wo;
    for (int64_t nc = 0; nc < (int64_t)d->n * d->ci; nc++) {
        const T *xc = x + nc * hw;
        T *dxc = dx + nc * hw;
        for (int oy = 0; oy < d->ho; oy++) {
            int y0, y1;
            window(&y0, &y1, oy, d->sh, d->pt, d->kh, d->h);
            for (int ox = 0; ox < d->wo; ox++) {
                int x0, x1;
                window(&x0, &x1, ox, d->sw, d->pl, d->kw, d->w);
                int64_t o = nc * ohw + (int64_t)oy * d->wo + ox, at = -1;
                for (int iy = y0; iy < y1 && at < 0; iy++)
                    for (int ix = x0; ix < x1 && at < 0; ix++)
                        if (xc[(int64_t)iy * d->w + ix] == y[o])
                            at = (int64_t)iy * d->w + ix;
                if (at >= 0)
                    dxc[at] += dy[o];
            }
        }
    }
}

void F(mn_gavgpool_fwd)(T *y, const T *x, int n, int c, int64_t hw)
{
    for (int64_t i = 0; i < (int64_t)n * c; i++) {
        T s = 0;
        for (int64_t j = 0; j < hw; j++)
            s += x[i * hw + j];
        y[i] = s / (T)hw;
    }
}

void F(mn_gavgpool_bwd)(T *dx, const T *dy, int n, int c, int64_t hw)
{
    for (int64_t i = 0; i < (int64_t)n * c; i++) {
        T g = dy[i] / (T)hw;
        for (int64_t j = 0; j < hw; j++)
            dx[i * hw + j] += g;
    }
}

void F(mn_gmaxpool_fwd)(T *y, const T *x, int n, int c, int64_t hw)
{
    for (int64_t i = 0; i < (int64_t)n * c; i++) {
        T m = x[i * hw];
        for (int64_t j = 1; j < hw; j++)
            if (x[i * hw + j] > m)
                m = x[i * hw + j];
        y[i] = m;
    }
}

void F(mn_gmaxpool_bwd)(T *dx, const T *dy, const T *x, const T *y, int n, int c,
                        int64_t hw)
{
    for (int64_t i = 0; i < (int64_t)n * c; i++)
        for (int64_t j = 0; j < hw; j++)
            if (x[i * hw + j] == y[i]) {
                dx[i * hw + j] += dy[i];
                break;
            }
}

#undef VN
#undef VLOAD
#undef VSTORE
#undef VSPLAT
#endif
