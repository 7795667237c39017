#ifndef MN_TMPL_PASS
/* op_conv.c — convolution kernels (see ops.h). conv2d runs one of two ways, chosen per
 * layer by mn_conv2d_direct:
 *   GEMM    im2col + GEMM per sample, with a fast path for 1×1, stride 1, unpadded
 *           convolutions that multiplies the input directly, and optionally the
 *           columns of every sample kept from forward for backward;
 *   direct  for few channels, where the GEMMs are tiny (M = 3 output channels) and
 *           memory-bound and im2col inflates the data kh·kw times: the input is copied
 *           into a zero-padded plane whose rows are as wide as the output's padded
 *           rows, so every kernel tap is one constant offset and each output channel is
 *           a sum of shifted whole planes, in registers over blocks of the flattened
 *           plane (a few padding columns are computed and dropped). Input gradients
 *           are the same sum over the padded output gradient with the kernel flipped
 *           and transposed; weight gradients are dot products of the output gradient
 *           with shifted input planes. Stride 1 only.
 * depthwise conv2d runs as direct loops. Compiled for float and double. */
#include <string.h>
#include "ops.h"

static int fast_1x1(const struct mn_win *d)
{
    return d->kh == 1 && d->kw == 1 && d->sh == 1 && d->sw == 1 && d->pt == 0 &&
           d->pl == 0 && d->ho == d->h && d->wo == d->w;
}

int mn_conv2d_direct_ok(const struct mn_win *d)
{
    int pb = d->ho + d->kh - 1 - d->h - d->pt, pr = d->wo + d->kw - 1 - d->w - d->pl;
    return d->sh == 1 && d->sw == 1 && d->pt < d->kh && d->pl < d->kw && pb >= 0 &&
           pb < d->kh && pr >= 0 && pr < d->kw;
}

/* Where the direct path wins, measured per sample (forward + both gradients, stride 1,
 * same padding, 8–32 pixels square, ci = co = c): 3×3 direct over GEMM 1.9–2.2x at c =
 * 3, 1.3–1.6x at 6, 1.0–1.3x at 8, 1.1–1.9x at 12, 0.7–0.96x at 16 and 0.5–0.7x at 32;
 * 1×1 never (the GEMM fast path needs no im2col: direct 0.3–0.7x). */
#define DIRECT_MAX_CC 144 /* ci·co */

int mn_conv2d_direct(const struct mn_win *d)
{
    return mn_conv2d_direct_ok(d) && d->kh * d->kw > 1 &&
           (int64_t)d->ci * d->co <= DIRECT_MAX_CC;
}

int64_t mn_conv2d_col_size(const struct mn_win *d)
{
    return fast_1x1(d) || d->direct ? 0 : (int64_t)d->ci * d->kh * d->kw * d->ho * d->wo;
}

/* Direct path geometry: the input padded to (hp + 1) rows of wp (one spare row, as
 * shifted planes run past the last padded row), the output gradient padded for the
 * input gradient to (hq + 1) rows of wq. */
struct dgeo {
    int wp, wq;
    int64_t xplane, qplane, len, dlen; /* padded planes; output and input sums' lengths */
};

static struct dgeo dgeo(const struct mn_win *d)
{
    struct dgeo g;
    g.wp = d->wo + d->kw - 1;
    g.wq = d->w + d->kw - 1;
    g.xplane = (int64_t)(d->ho + d->kh) * g.wp;
    g.qplane = (int64_t)(d->h + d->kh) * g.wq;
    g.len = (int64_t)d->ho * g.wp;
    g.dlen = (int64_t)d->h * g.wq;
    return g;
}

int64_t mn_conv2d_ws_size(const struct mn_win *d)
{
    if (!d->direct)
        return 2 * mn_conv2d_col_size(d);
    struct dgeo g = dgeo(d);
    int64_t taps = (int64_t)d->co * d->ci * d->kh * d->kw;
    return d->ci * g.xplane + (int64_t)d->co * g.len + d->co * g.qplane + taps +
           d->ci * g.dlen + taps * 17; /* weight-gradient sums: DACC ≤ 17 elements a tap */
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

/* ---- direct path ---- */

/* The direct path's inner loops run on GCC/Clang vector types of 32 bytes (8 floats, 4
 * doubles): auto-vectorisation spilled the register-blocked sums to the stack. On
 * x86-64 they are compiled twice (AVX2, and the SSE2 baseline, which splits each vector
 * into two registers) and the loader picks one per CPU; lane-wise arithmetic is that of
 * scalar code (no FMA contraction in ISO C mode), so both give the same bits. */
typedef T F(vec) __attribute__((vector_size(32)));
#define VN ((int)(sizeof(F(vec)) / sizeof(T)))
#define DBLOCK (2 * VN) /* outputs per channel summed in registers at a time */
#define VLOAD(v, p) memcpy(&(v), (p), sizeof(v))
#define VSTORE(p, v) memcpy((p), &(v), sizeof(v))

/* dst [c][rows][wd] ← src [c][h][w] placed at row top, column left; zeros elsewhere. */
static void F(pad)(T *dst, const T *src, int c, int h, int w, int top, int left, int rows,
                   int wd)
{
    memset(dst, 0, (size_t)c * rows * wd * sizeof *dst);
    for (int k = 0; k < c; k++)
        for (int y = 0; y < h; y++)
            memcpy(dst + ((int64_t)k * rows + top + y) * wd + left,
                   src + ((int64_t)k * h + y) * w, (size_t)w * sizeof *dst);
}

/* Two output channels k = 0, 1: outk[j] (+)= Σ_{c,ky,kx} wk[c][ky][kx] ·
 * in[c·plane + ky·wp + kx + j] for j < len, DBLOCK outputs of each summed in registers
 * at a time, every input vector loaded once for both. out1 == out0 with w1 == w0 runs
 * one channel (both sums are read before either is stored). */
MN_CLONES static void F(taps)(T *out0, T *out1, int add, const T *in, int64_t plane, int wp,
                              const T *w0, const T *w1, int ci, int kh, int kw, int64_t len)
{
    int64_t j = 0;
    for (; j + DBLOCK <= len; j += DBLOCK) {
        F(vec) a0 = {0}, a1 = {0}, b0 = {0}, b1 = {0}, x0, x1;
        int t = 0;
        for (int c = 0; c < ci; c++)
            for (int ky = 0; ky < kh; ky++) {
                const T *r = in + c * plane + (int64_t)ky * wp + j;
                for (int kx = 0; kx < kw; kx++, t++) {
                    VLOAD(x0, r + kx);
                    VLOAD(x1, r + kx + VN);
                    a0 += w0[t] * x0;
                    a1 += w0[t] * x1;
                    b0 += w1[t] * x0;
                    b1 += w1[t] * x1;
                }
            }
        if (add) {
            F(vec) o0, o1, p0, p1;
            VLOAD(o0, out0 + j);
            VLOAD(o1, out0 + j + VN);
            VLOAD(p0, out1 + j);
            VLOAD(p1, out1 + j + VN);
            a0 += o0;
            a1 += o1;
            b0 += p0;
            b1 += p1;
        }
        VSTORE(out0 + j, a0);
        VSTORE(out0 + j + VN, a1);
        VSTORE(out1 + j, b0);
        VSTORE(out1 + j + VN, b1);
    }
    for (; j < len; j++) {
        T s0 = 0, s1 = 0;
        int t = 0;
        for (int c = 0; c < ci; c++)
            for (int ky = 0; ky < kh; ky++)
                for (int kx = 0; kx < kw; kx++, t++) {
                    T v = in[c * plane + (int64_t)ky * wp + kx + j];
                    s0 += w0[t] * v;
                    s1 += w1[t] * v;
                }
        T o0 = add ? out0[j] + s0 : s0, o1 = add ? out1[j] + s1 : s1;
        out0[j] = o0;
        out1[j] = o1;
    }
}

/* Channel pairs of taps: out [n_out][ostride] (+)= the sums with weights w
 * [n_out][wstride]. */
static void F(taps_all)(T *out, int64_t ostride, int add, const T *in, int64_t plane,
                        int wp, const T *w, int64_t wstride, int n_out, int ci, int kh,
                        int kw, int64_t len)
{
    for (int o = 0; o < n_out; o += 2) {
        int p = o + 1 < n_out ? o + 1 : o;
        F(taps)(out + o * ostride, out + p * ostride, add, in, plane, wp, w + o * wstride,
                w + p * wstride, ci, kh, kw, len);
    }
}

/* Weight gradients of the direct path are sums over every sample of a batch; per tap
 * they accumulate in DACC elements of the workspace — DBLOCK partial sums (two
 * vectors) and a scalar tail — and are folded into dw once per batch (once per sample
 * for per-sample rows), not once per sample and tap. */
#define DACC (DBLOCK + 1)

/* acc [ci][kh][kw][DACC] (+)= the partial sums of Σ_j g[j] · in[c·plane + ky·wp + kx + j],
 * j < len: set when `init`, else added. */
MN_CLONES static void F(tap_dots)(T *acc, int init, const T *g, const T *in, int64_t plane,
                                  int wp, int ci, int kh, int kw, int64_t len)
{
    const F(vec) zero = {0};
    for (int c = 0; c < ci; c++)
        for (int ky = 0; ky < kh; ky++)
            for (int kx = 0; kx < kw; kx++, acc += DACC) {
                const T *r = in + c * plane + (int64_t)ky * wp + kx;
                F(vec) a0 = zero, a1 = zero, g0, g1, x0, x1;
                if (!init) {
                    VLOAD(a0, acc);
                    VLOAD(a1, acc + VN);
                }
                T s = 0;
                int64_t j = 0;
                for (; j + DBLOCK <= len; j += DBLOCK) {
                    VLOAD(g0, g + j);
                    VLOAD(g1, g + j + VN);
                    VLOAD(x0, r + j);
                    VLOAD(x1, r + j + VN);
                    a0 += g0 * x0;
                    a1 += g1 * x1;
                }
                for (; j < len; j++)
                    s += g[j] * r[j];
                VSTORE(acc, a0);
                VSTORE(acc + VN, a1);
                acc[DBLOCK] = init ? s : acc[DBLOCK] + s;
            }
}

/* tap_dots for two output channels (g0 → acc0, g1 → acc1) and three taps of a kernel
 * row at a time, so that each input vector loaded serves six dot products. */
MN_CLONES static void F(tap_dots2)(T *acc0, T *acc1, int init, const T *g0, const T *g1,
                                   const T *in, int64_t plane, int wp, int ci, int kh, int kw,
                                   int64_t len)
{
    const F(vec) zero = {0};
    for (int c = 0; c < ci; c++)
        for (int ky = 0; ky < kh; ky++)
            for (int kx = 0; kx < kw;) {
                const T *r = in + c * plane + (int64_t)ky * wp + kx;
                int nt = kw - kx < 3 ? 1 : 3; /* taps this step */
                /* a<channel><tap><half>, named so that they stay in registers */
                F(vec) a000 = zero, a001 = zero, a010 = zero, a011 = zero, a020 = zero;
                F(vec) a021 = zero, a100 = zero, a101 = zero, a110 = zero, a111 = zero;
                F(vec) a120 = zero, a121 = zero, v0, v1, u0, u1, x0, x1;
                if (!init) {
                    VLOAD(a000, acc0);
                    VLOAD(a001, acc0 + VN);
                    VLOAD(a100, acc1);
                    VLOAD(a101, acc1 + VN);
                }
                int64_t j = 0;
#define TAP(t, p0, p1, q0, q1)                                                       \
    VLOAD(x0, r + (t) + j);                                                          \
    VLOAD(x1, r + (t) + j + VN);                                                     \
    p0 += v0 * x0;                                                                   \
    p1 += v1 * x1;                                                                   \
    q0 += u0 * x0;                                                                   \
    q1 += u1 * x1
#define GS                                                                           \
    VLOAD(v0, g0 + j);                                                               \
    VLOAD(v1, g0 + j + VN);                                                          \
    VLOAD(u0, g1 + j);                                                               \
    VLOAD(u1, g1 + j + VN)
                if (nt == 1) {
                    for (; j + DBLOCK <= len; j += DBLOCK) {
                        GS;
                        TAP(0, a000, a001, a100, a101);
                    }
                } else {
                    if (!init) {
                        VLOAD(a010, acc0 + DACC);
                        VLOAD(a011, acc0 + DACC + VN);
                        VLOAD(a020, acc0 + 2 * DACC);
                        VLOAD(a021, acc0 + 2 * DACC + VN);
                        VLOAD(a110, acc1 + DACC);
                        VLOAD(a111, acc1 + DACC + VN);
                        VLOAD(a120, acc1 + 2 * DACC);
                        VLOAD(a121, acc1 + 2 * DACC + VN);
                    }
                    for (; j + DBLOCK <= len; j += DBLOCK) {
                        GS;
                        TAP(0, a000, a001, a100, a101);
                        TAP(1, a010, a011, a110, a111);
                        TAP(2, a020, a021, a120, a121);
                    }
                    VSTORE(acc0 + DACC, a010);
                    VSTORE(acc0 + DACC + VN, a011);
                    VSTORE(acc0 + 2 * DACC, a020);
                    VSTORE(acc0 + 2 * DACC + VN, a021);
                    VSTORE(acc1 + DACC, a110);
                    VSTORE(acc1 + DACC + VN, a111);
                    VSTORE(acc1 + 2 * DACC, a120);
                    VSTORE(acc1 + 2 * DACC + VN, a121);
                }
#undef GS
#undef TAP
                VSTORE(acc0, a000);
                VSTORE(acc0 + VN, a001);
                VSTORE(acc1, a100);
                VSTORE(acc1 + VN, a101);
                for (int t = 0; t < nt; t++, acc0 += DACC, acc1 += DACC) {
                    T s = 0, u = 0;
                    for (int64_t i = j; i < len; i++) {
                        s += g0[i] * r[t + i];
                        u += g1[i] * r[t + i];
                    }
                    acc0[DBLOCK] = init ? s : acc0[DBLOCK] + s;
                    acc1[DBLOCK] = init ? u : acc1[DBLOCK] + u;
                }
                kx += nt;
            }
}

/* dw[t] += the sum held in acc [taps][DACC]. */
static void F(acc_fold)(T *dw, const T *acc, int64_t taps)
{
    for (int64_t t = 0; t < taps; t++, acc += DACC) {
        T s = acc[DBLOCK];
        for (int q = 0; q < VN; q++)
            s += acc[q] + acc[q + VN];
        dw[t] += s;
    }
}

/* One sample forward: y [co][ho][wo]; ws as mn_conv2d_ws_size. */
static void F(direct_fwd)(T *y, T *ws, const T *x, const T *w, const T *b,
                          const struct mn_win *d)
{
    struct dgeo g = dgeo(d);
    int64_t ohw = (int64_t)d->ho * d->wo, k = (int64_t)d->ci * d->kh * d->kw;
    if (fast_1x1(d)) { /* the input is its own padded plane, the output its own sum */
        F(taps_all)(y, ohw, 0, x, ohw, d->w, w, k, d->co, d->ci, 1, 1, ohw);
        for (int o = 0; b && o < d->co; o++)
            for (int64_t i = 0; i < ohw; i++)
                y[o * ohw + i] += b[o];
        return;
    }
    T *xp = ws, *ext = ws + d->ci * g.xplane;
    F(pad)(xp, x, d->ci, d->h, d->w, d->pt, d->pl, d->ho + d->kh, g.wp);
    F(taps_all)(ext, g.len, 0, xp, g.xplane, g.wp, w, k, d->co, d->ci, d->kh, d->kw, g.len);
    for (int o = 0; o < d->co; o++) {
        T bo = b ? b[o] : 0;
        for (int oy = 0; oy < d->ho; oy++) {
            T *restrict yr = y + o * ohw + (int64_t)oy * d->wo;
            const T *restrict er = ext + o * g.len + (int64_t)oy * g.wp;
            for (int ox = 0; ox < d->wo; ox++)
                yr[ox] = er[ox] + bo;
        }
    }
}

/* One sample backward: dx [ci][h][w], dw [co][ci][kh][kw] (either may be NULL);
 * dy [co][ho][wo]; ws as mn_conv2d_ws_size. Weight gradients accumulate in the
 * workspace from the `first` sample of a run on and reach dw at its `last`. */
static void F(direct_bwd)(T *dx, T *dw, T *ws, const T *dy, const T *x, const T *w,
                          const struct mn_win *d, int first, int last)
{
    struct dgeo g = dgeo(d);
    int one = fast_1x1(d), kk = d->kh * d->kw;
    int64_t hw = (int64_t)d->h * d->w, k = (int64_t)d->ci * kk;
    T *xp = ws, *gext = xp + d->ci * g.xplane, *gp = gext + d->co * g.len;
    T *wf = gp + d->co * g.qplane, *ext = wf + d->co * k, *acc = ext + d->ci * g.dlen;
    if (dw) {
        const T *xin = x, *gin = dy;
        if (!one) {
            F(pad)(xp, x, d->ci, d->h, d->w, d->pt, d->pl, d->ho + d->kh, g.wp);
            F(pad)(gext, dy, d->co, d->ho, d->wo, 0, 0, d->ho, g.wp);
            xin = xp;
            gin = gext;
        }
        int o = 0;
        for (; o + 1 < d->co; o += 2)
            F(tap_dots2)(acc + o * k * DACC, acc + (o + 1) * k * DACC, first, gin + o * g.len,
                         gin + (o + 1) * g.len, xin, one ? hw : g.xplane, g.wp, d->ci, d->kh,
                         d->kw, g.len);
        if (o < d->co)
            F(tap_dots)(acc + o * k * DACC, first, gin + o * g.len, xin, one ? hw : g.xplane, g.wp,
                        d->ci, d->kh, d->kw, g.len);
        if (last)
            F(acc_fold)(dw, acc, d->co * k);
    }
    if (!dx)
        return;
    for (int o = 0; o < d->co; o++) /* wf [ci][co][kh][kw]: transposed, flipped */
        for (int c = 0; c < d->ci; c++)
            for (int t = 0; t < kk; t++)
                wf[((int64_t)c * d->co + o) * kk + t] = w[o * k + (int64_t)c * kk + kk - 1 - t];
    if (one) {
        F(taps_all)(dx, hw, 1, dy, hw, d->w, wf, d->co, d->ci, d->co, 1, 1, hw);
        return;
    }
    F(pad)(gp, dy, d->co, d->ho, d->wo, d->kh - 1 - d->pt, d->kw - 1 - d->pl, d->h + d->kh,
           g.wq);
    F(taps_all)(ext, g.dlen, 0, gp, g.qplane, g.wq, wf, (int64_t)d->co * kk, d->ci, d->co,
                d->kh, d->kw, g.dlen);
    for (int c = 0; c < d->ci; c++) {
        for (int iy = 0; iy < d->h; iy++) {
            T *restrict xr = dx + c * hw + (int64_t)iy * d->w;
            const T *restrict er = ext + c * g.dlen + (int64_t)iy * g.wq;
            for (int ix = 0; ix < d->w; ix++)
                xr[ix] += er[ix];
        }
    }
}

/* ---- GEMM path and the entry points ---- */

void F(mn_conv2d_fwd)(T *y, T *col, int keep, T *ws, const T *x, const T *w, const T *b,
                      const struct mn_win *d)
{
    int hw = d->ho * d->wo, k = d->ci * d->kh * d->kw;
    int64_t xs = (int64_t)d->ci * d->h * d->w, ys = (int64_t)d->co * hw;
    int64_t cs = keep ? mn_conv2d_col_size(d) : 0;
    int fast = fast_1x1(d);
    for (int n = 0; n < d->n; n++) {
        const T *xn = x + n * xs;
        T *yn = y + n * ys, *coln = keep ? col + n * cs : ws;
        if (d->direct) {
            F(direct_fwd)(yn, ws, xn, w, b, d);
            continue;
        }
        if (!fast)
            F(im2col)(coln, xn, d);
        for (int c = 0; b && c < d->co; c++)
            for (int i = 0; i < hw; i++)
                yn[(int64_t)c * hw + i] = b[c];
        F(mn_gemm)(0, 0, d->co, hw, k, 1, w, k, fast ? xn : coln, hw, b ? 1 : 0, yn, hw);
    }
}

void F(mn_conv2d_bwd)(T *dx, T *dw, T *db, const T *col, T *ws, const T *dy, const T *x,
                      const T *w, const struct mn_win *d, int64_t pstride)
{
    int hw = d->ho * d->wo, k = d->ci * d->kh * d->kw;
    int64_t xs = (int64_t)d->ci * d->h * d->w, ys = (int64_t)d->co * hw;
    int64_t cs = mn_conv2d_col_size(d);
    int fast = fast_1x1(d);
    T *scol = ws, *dcol = ws + cs;
    for (int n = 0; n < d->n; n++) {
        const T *xn = x + n * xs, *dyn = dy + n * ys, *coln = col ? col + n * cs : scol;
        if (db)
            for (int c = 0; c < d->co; c++) {
                T s = 0;
                for (int i = 0; i < hw; i++)
                    s += dyn[(int64_t)c * hw + i];
                db[n * pstride + c] += s;
            }
        if (d->direct) {
            F(direct_bwd)(dx ? dx + n * xs : NULL, dw ? dw + n * pstride : NULL, ws, dyn, xn,
                          w, d, pstride || n == 0, pstride || n == d->n - 1);
            continue;
        }
        if (dw) {
            if (!fast && !col)
                F(im2col)(scol, xn, d);
            F(mn_gemm)(0, 1, d->co, k, hw, 1, dyn, hw, fast ? xn : coln, hw, 1,
                       dw + n * pstride, k);
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

#undef DACC
#undef DBLOCK
#undef VN
#undef VLOAD
#undef VSTORE
#endif
