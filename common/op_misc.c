#ifndef MN_TMPL_PASS
/* op_misc.c — element-wise and small kernels (see ops.h): ReLU/ReLU6, add,
 * accumulate, dense (GEMM), softmax, compiled for float and double; and the widening
 * of float to double. */
#include <math.h>
#include <string.h>
#include "ops.h"

MN_CLONES void mn_widen(double *restrict y, const float *restrict x, int64_t n)
{
    for (int64_t i = 0; i < n; i++)
        y[i] = x[i];
}

#define MN_TMPL_FILE "op_misc.c"
#include "op_tmpl.h"
#else

static inline T F(relu)(T v)
{
    return v > 0 ? v : 0;
}

static inline T F(relu6)(T v)
{
    return v > 0 ? (v < 6 ? v : 6) : 0;
}

/* y = act(x) in one pass; in place through a single pointer, so both loops vectorise. */
MN_CLONES void F(mn_act_fwd)(T *y, const T *x, int64_t size, enum mn_act act)
{
    if (act != MN_ACT_RELU && act != MN_ACT_RELU6) {
        if (y != x)
            memcpy(y, x, (size_t)size * sizeof *y);
        return;
    }
    int six = act == MN_ACT_RELU6;
    if (y == x) {
        T *restrict v = y;
        for (int64_t i = 0; six && i < size; i++)
            v[i] = F(relu6)(v[i]);
        for (int64_t i = 0; !six && i < size; i++)
            v[i] = F(relu)(v[i]);
    } else {
        T *restrict o = y;
        const T *restrict v = x;
        for (int64_t i = 0; six && i < size; i++)
            o[i] = F(relu6)(v[i]);
        for (int64_t i = 0; !six && i < size; i++)
            o[i] = F(relu)(v[i]);
    }
}

/* The gradient g passed where the output is y: g, or 0 where the derivative is 0
 * (PyTorch's convention: 0 at the kinks, where relu6's output is 0 or 6). Selects
 * rather than multiplies, so the loops below compile to compare-and-mask. */
static inline T F(pass_relu)(T g, T y)
{
    return y > 0 ? g : 0;
}

static inline T F(pass_relu6)(T g, T y)
{
    return y > 0 && y < 6 ? g : 0;
}

MN_CLONES void F(mn_act_bwd)(T *restrict dx, const T *restrict dy, const T *restrict y, int64_t size,
                   enum mn_act act)
{
    if (act == MN_ACT_RELU)
        for (int64_t i = 0; i < size; i++)
            dx[i] += F(pass_relu)(dy[i], y[i]);
    else if (act == MN_ACT_RELU6)
        for (int64_t i = 0; i < size; i++)
            dx[i] += F(pass_relu6)(dy[i], y[i]);
    else
        F(mn_acc)(dx, dy, size);
}

MN_CLONES void F(mn_act_mask)(T *restrict dy, const T *restrict y, int64_t size, enum mn_act act)
{
    if (act == MN_ACT_RELU)
        for (int64_t i = 0; i < size; i++)
            dy[i] = F(pass_relu)(dy[i], y[i]);
    else if (act == MN_ACT_RELU6)
        for (int64_t i = 0; i < size; i++)
            dy[i] = F(pass_relu6)(dy[i], y[i]);
}

#define ADD_BLOCK 1024 /* elements summed over all inputs while they stay in L1 */

MN_CLONES void F(mn_add_fwd)(T *restrict y, const T *const *x, int n_in, int64_t size)
{
    for (int64_t b = 0; b < size; b += ADD_BLOCK) {
        int64_t e = size - b < ADD_BLOCK ? size : b + ADD_BLOCK;
        const T *restrict x0 = x[0], *restrict x1 = n_in > 1 ? x[1] : NULL;
        if (x1) /* the first two in one sweep rather than a copy and a sweep */
            for (int64_t i = b; i < e; i++)
                y[i] = x0[i] + x1[i];
        else
            memcpy(y + b, x0 + b, (size_t)(e - b) * sizeof *y);
        for (int k = 2; k < n_in; k++) {
            const T *restrict xk = x[k];
            for (int64_t i = b; i < e; i++)
                y[i] += xk[i];
        }
    }
}

MN_CLONES void F(mn_acc)(T *restrict dx, const T *restrict dy, int64_t size)
{
    for (int64_t i = 0; i < size; i++)
        dx[i] += dy[i];
}

void F(mn_dense_fwd)(T *y, const T *x, const T *w, const T *b, int n, int in, int out)
{
    for (int s = 0; s < n; s++)
        for (int o = 0; o < out; o++)
            y[(int64_t)s * out + o] = b ? b[o] : 0;
    F(mn_gemm)(0, 1, n, out, in, 1, x, in, w, in, 1, y, out);
}

void F(mn_dense_bwd)(T *dx, T *dw, T *db, const T *dy, const T *x, const T *w, int n,
                     int in, int out, int64_t pstride)
{
    if (dx)
        F(mn_gemm)(0, 0, n, in, out, 1, dy, out, w, in, 1, dx, in);
    if (dw && !pstride)
        F(mn_gemm)(1, 0, out, in, n, 1, dy, out, x, in, 1, dw, in);
    for (int s = 0; dw && pstride && s < n; s++)
        F(mn_gemm)(1, 0, out, in, 1, 1, dy + (int64_t)s * out, out, x + (int64_t)s * in, in,
                   1, dw + s * pstride, in);
    for (int s = 0; db && s < n; s++)
        for (int o = 0; o < out; o++)
            db[s * pstride + o] += dy[(int64_t)s * out + o];
}

void F(mn_softmax_fwd)(T *y, const T *x, int n, int c)
{
    for (int s = 0; s < n; s++) {
        const T *xs = x + (int64_t)s * c;
        T *ys = y + (int64_t)s * c;
        T m = xs[0], z = 0;
        for (int i = 1; i < c; i++)
            if (xs[i] > m)
                m = xs[i];
        for (int i = 0; i < c; i++)
            z += ys[i] = (T)exp((double)(xs[i] - m));
        for (int i = 0; i < c; i++)
            ys[i] /= z;
    }
}

void F(mn_softmax_bwd)(T *dx, const T *dy, const T *y, int n, int c)
{
    for (int s = 0; s < n; s++) {
        const T *dys = dy + (int64_t)s * c, *ys = y + (int64_t)s * c;
        T dot = 0;
        for (int i = 0; i < c; i++)
            dot += dys[i] * ys[i];
        for (int i = 0; i < c; i++)
            dx[(int64_t)s * c + i] += ys[i] * (dys[i] - dot);
    }
}

#endif
