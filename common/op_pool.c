#ifndef MN_TMPL_PASS
/* op_pool.c — pooling kernels (see ops.h): average pool (count_include_pad either
 * way), max pool (padding never wins), global average and max pool. Windows never
 * reach past the padded input (floor mode), so with count_include_pad the divisor is
 * always kh·kw, as in PyTorch. Compiled for float and double. */
#include "ops.h"

/* Valid input rows/cols [*lo, *hi) of the window starting at o·s − p. */
static void window(int *lo, int *hi, int o, int s, int p, int k, int size)
{
    int a = o * s - p;
    *lo = a < 0 ? 0 : a;
    *hi = a + k > size ? size : a + k;
}

#define MN_TMPL_FILE "op_pool.c"
#include "op_tmpl.h"
#else

/* Average pools run row by row: every valid (input row, kernel column) pair adds a
 * contiguous stretch of an input row into an output row (forward) or of an output row
 * into an input row (backward), in the order of the plain window loops (input row,
 * then column ascending), so results are those of summing each window in turn. */

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

/* Stride 1: output row yr [wo] += the window columns of input row xr [w], each
 * element its columns in ascending order; where all kw exist and kw = 3 (NB201) the
 * three adds are unrolled, so that the row is swept once. */
static inline MN_INLINE void F(gather_row)(T *restrict yr, const T *restrict xr, int pl, int kw,
                                           int w, int wo)
{
    int ia = pl, ib = w - kw + 1 + pl; /* ox whose window columns all exist */
    ia = ia > wo ? wo : ia;
    ib = ib > wo ? wo : ib < ia ? ia : ib;
    for (int ox = 0; ox < wo; ox++) {
        if (ox == ia && kw == 3) {
            for (; ox < ib; ox++)
                yr[ox] = ((yr[ox] + xr[ox - pl]) + xr[ox - pl + 1]) + xr[ox - pl + 2];
            if (ox >= wo)
                break;
        }
        T v = yr[ox];
        for (int kx = 0; kx < kw; kx++) {
            int ix = ox - pl + kx;
            if (ix >= 0 && ix < w)
                v += xr[ix];
        }
        yr[ox] = v;
    }
}

MN_CLONES void F(mn_avgpool_fwd)(T *y, const T *x, const struct mn_win *d, int cip)
{
    int64_t hw = (int64_t)d->h * d->w, ohw = (int64_t)d->ho * d->wo;
    for (int64_t nc = 0; nc < (int64_t)d->n * d->ci; nc++) {
        const T *restrict xc = x + nc * hw;
        for (int oy = 0; oy < d->ho; oy++) {
            T *restrict yr = y + nc * ohw + (int64_t)oy * d->wo;
            int y0, y1;
            window(&y0, &y1, oy, d->sh, d->pt, d->kh, d->h);
            for (int ox = 0; ox < d->wo; ox++)
                yr[ox] = 0;
            for (int iy = y0; iy < y1 && d->sw == 1; iy++)
                F(gather_row)(yr, xc + (int64_t)iy * d->w, d->pl, d->kw, d->w, d->wo);
            for (int iy = y0; iy < y1 && d->sw != 1; iy++)
                for (int kx = 0; kx < d->kw; kx++) {
                    int lo, hi;
                    mn_win_span(&lo, &hi, kx, d->pl, d->sw, d->w, d->wo);
                    int64_t off = (int64_t)iy * d->w - d->pl + kx;
                    for (int ox = lo; ox < hi; ox++)
                        yr[ox] += xc[off + (int64_t)ox * d->sw];
                }
            for (int ox = 0; ox < d->wo; ox++)
                yr[ox] /= F(divisor)(ox, y1 - y0, d, cip);
        }
    }
}

#define POOL_CHUNK 256 /* output columns whose gradients are spread at a time */

/* Stride 1: input row dr [w] receives the shares g [ox − c0] of output columns ox in
 * [c0, c1), each element its shares in ascending ox (kernel column descending), as
 * the column loops of the general case add them, but summed in a register rather than
 * stored back after each kernel column. */
static inline MN_INLINE void F(spread_row)(T *restrict dr, const T *restrict g, int c0, int c1,
                                           int pl, int kw, int w)
{
    const T *gk = g + pl - c0; /* gk[ix − kx]: the share of ox = ix + pl − kx */
    int a = c0 - pl, b = c1 - pl + kw - 1; /* ix receiving any share */
    int ia = a + kw - 1, ib = c1 - pl;      /* ix receiving all kw shares */
    a = a < 0 ? 0 : a;
    b = b > w ? w : b;
    ia = ia < a ? a : ia > b ? b : ia;
    ib = ib > b ? b : ib < ia ? ia : ib;
    for (int ix = a; ix < b; ix++) {
        if (ix == ia && kw == 3) { /* the interior, where every share exists */
            for (; ix < ib; ix++)
                dr[ix] = ((dr[ix] + gk[ix - 2]) + gk[ix - 1]) + gk[ix];
            if (ix >= b)
                break;
        }
        T v = dr[ix];
        for (int kx = kw - 1; kx >= 0; kx--) {
            int ox = ix + pl - kx;
            if (ox >= c0 && ox < c1)
                v += gk[ix - kx];
        }
        dr[ix] = v;
    }
}

MN_CLONES void F(mn_avgpool_bwd)(T *dx, const T *dy, const struct mn_win *d, int cip)
{
    int64_t hw = (int64_t)d->h * d->w, ohw = (int64_t)d->ho * d->wo;
    T g[POOL_CHUNK];
    for (int64_t nc = 0; nc < (int64_t)d->n * d->ci; nc++) {
        T *restrict dxc = dx + nc * hw;
        for (int oy = 0; oy < d->ho; oy++) {
            const T *dyr = dy + nc * ohw + (int64_t)oy * d->wo;
            int y0, y1;
            window(&y0, &y1, oy, d->sh, d->pt, d->kh, d->h);
            for (int c0 = 0; c0 < d->wo; c0 += POOL_CHUNK) {
                int c1 = d->wo - c0 < POOL_CHUNK ? d->wo : c0 + POOL_CHUNK;
                for (int ox = c0; ox < c1; ox++)
                    g[ox - c0] = dyr[ox] / F(divisor)(ox, y1 - y0, d, cip);
                /* kernel columns descending: each input element then receives its
                 * windows' shares in ascending output order */
                for (int iy = y0; iy < y1 && d->sw == 1; iy++)
                    F(spread_row)(dxc + (int64_t)iy * d->w, g, c0, c1, d->pl, d->kw, d->w);
                for (int iy = y0; iy < y1 && d->sw != 1; iy++)
                    for (int kx = d->kw - 1; kx >= 0; kx--) {
                        int lo, hi;
                        mn_win_span(&lo, &hi, kx, d->pl, d->sw, d->w, d->wo);
                        lo = lo > c0 ? lo : c0;
                        hi = hi < c1 ? hi : c1;
                        int64_t off = (int64_t)iy * d->w - d->pl + kx;
                        for (int ox = lo; ox < hi; ox++)
                            dxc[off + (int64_t)ox * d->sw] += g[ox - c0];
                    }
            }
        }
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

#endif
