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

void F(mn_avgpool_fwd)(T *y, const T *x, const struct mn_win *d, int cip)
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
                T s = 0;
                for (int iy = y0; iy < y1; iy++)
                    for (int ix = x0; ix < x1; ix++)
                        s += xc[(int64_t)iy * d->w + ix];
                int cnt = cip ? d->kh * d->kw : (y1 - y0) * (x1 - x0);
                yc[(int64_t)oy * d->wo + ox] = s / (T)cnt;
            }
        }
    }
}

void F(mn_avgpool_bwd)(T *dx, const T *dy, const struct mn_win *d, int cip)
{
    int64_t hw = (int64_t)d->h * d->w, ohw = (int64_t)d->ho * d->wo;
    for (int64_t nc = 0; nc < (int64_t)d->n * d->ci; nc++) {
        T *dxc = dx + nc * hw;
        const T *dyc = dy + nc * ohw;
        for (int oy = 0; oy < d->ho; oy++) {
            int y0, y1;
            window(&y0, &y1, oy, d->sh, d->pt, d->kh, d->h);
            for (int ox = 0; ox < d->wo; ox++) {
                int x0, x1;
                window(&x0, &x1, ox, d->sw, d->pl, d->kw, d->w);
                int cnt = cip ? d->kh * d->kw : (y1 - y0) * (x1 - x0);
                T g = dyc[(int64_t)oy * d->wo + ox] / (T)cnt;
                for (int iy = y0; iy < y1; iy++)
                    for (int ix = x0; ix < x1; ix++)
                        dxc[(int64_t)iy * d->w + ix] += g;
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
