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

/* Member k of the channel group starting at o: o + k, or the group's last channel. */
static int member(int o, int k, int n)
{
    return o + k < n ? o + k : n - 1;
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

/* The scratch of either path, before the one sample of a BN input gradient
 * (mn_conv2d_bwd_passes with bn) that ends the workspace. */
static int64_t path_ws(const struct mn_win *d)
{
    if (!d->direct)
        return 2 * mn_conv2d_col_size(d);
    struct dgeo g = dgeo(d);
    int64_t taps = (int64_t)d->co * d->ci * d->kh * d->kw;
    return d->ci * g.xplane + (int64_t)d->co * g.len + d->co * g.qplane + taps +
           d->ci * g.dlen + /* weight-gradient sums: DACC ≤ 17 elements a tap, per pass */
           taps * 17 * (d->passes > 1 ? d->passes : 1);
}

int64_t mn_conv2d_ws_size(const struct mn_win *d)
{
    return path_ws(d) + (int64_t)d->co * d->ho * d->wo;
}

#define MN_TMPL_FILE "op_conv.c"
#include "op_tmpl.h"
#else

/* col [ci·kh·kw][ho·wo] ← the patches of one sample x [ci][h][w], 0 where padded.
 * Rows are short (a feature-map row), so plain loops rather than memcpy calls. */
MN_CLONES static void F(im2col)(T *col, const T *x, const struct mn_win *d)
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
MN_CLONES static void F(col2im)(T *x, const T *col, const struct mn_win *d)
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

#include "op_plane.h"
#define DBLOCK (2 * VN) /* outputs per channel summed in registers at a time */

/* pad's inverse: dst [c][h][w] = src's rows (planes splane apart, rows wd wide) +
 * bias[k] (0 without), or with `add` dst += them. */
MN_CLONES static void F(unpad)(T *dst, const T *src, int c, int h, int w, int64_t splane,
                               int wd, const T *bias, int add)
{
    for (int k = 0; k < c; k++) {
        T bo = bias ? bias[k] : 0;
        for (int y = 0; y < h; y++) {
            T *restrict d = dst + ((int64_t)k * h + y) * w;
            const T *restrict s = src + k * splane + (int64_t)y * wd;
            if (add)
                for (int x = 0; x < w; x++)
                    d[x] += s[x];
            else
                for (int x = 0; x < w; x++)
                    d[x] = s[x] + bo;
        }
    }
}

/* Output channels are summed GROUP at a time (the channel counts of NB201's C = 3
 * supernet and its reductions, 3, 6 and 12, are multiples of it); a short last group
 * repeats its last channel, computed twice and stored the same. Per output element
 * every kernel is summed in the same (c, ky, kx) order and every weight gradient in
 * the same lanes, whatever the blocking, so the blocking leaves results unchanged. */
#define GROUP 3

/* Three output channels k = 0, 1, 2: outk[j] (+)= Σ_{c,ky,kx} wk[c][ky][kx] ·
 * in[c·plane + ky·wp + kx + j] for j < len: blocks of three vectors of each channel
 * summed in registers (nine independent sums keep two adders busy through their
 * latency), then single vectors, then scalars. Every input vector loaded serves the
 * three channels. The sums are read before any is stored, so a repeated channel
 * (out2 == out1, w2 == w1) stores one value. */
MN_CLONES static void F(taps)(T *out0, T *out1, T *out2, int add, const T *in, int64_t plane,
                              int wp, const T *w0, const T *w1, const T *w2, int ci, int kh,
                              int kw, int64_t len)
{
    int64_t j = 0;
    for (; j + 3 * VN <= len; j += 3 * VN) {
        F(vec) a0 = {0}, a1 = {0}, a2 = {0}, b0 = {0}, b1 = {0}, b2 = {0}, c0 = {0};
        F(vec) c1 = {0}, c2 = {0}, x0, x1, x2, wv;
#define TAP(kx, t)                                                                   \
    VLOAD(x0, r + (kx));                                                             \
    VLOAD(x1, r + (kx) + VN);                                                        \
    VLOAD(x2, r + (kx) + 2 * VN);                                                    \
    wv = VSPLAT(w0[t]);                                                                \
    a0 += wv * x0;                                                                   \
    a1 += wv * x1;                                                                   \
    a2 += wv * x2;                                                                   \
    wv = VSPLAT(w1[t]);                                                                \
    b0 += wv * x0;                                                                   \
    b1 += wv * x1;                                                                   \
    b2 += wv * x2;                                                                   \
    wv = VSPLAT(w2[t]);                                                                \
    c0 += wv * x0;                                                                   \
    c1 += wv * x1;                                                                   \
    c2 += wv * x2
        int t = 0;
        for (int c = 0; c < ci; c++)
            for (int ky = 0; ky < kh; ky++) {
                const T *r = in + c * plane + (int64_t)ky * wp + j;
                if (kw == 3) { /* the common kernel, unrolled */
                    TAP(0, t);
                    TAP(1, t + 1);
                    TAP(2, t + 2);
                    t += 3;
                } else {
                    for (int kx = 0; kx < kw; kx++, t++) {
                        TAP(kx, t);
                    }
                }
            }
#undef TAP
        if (add) {
            F(vec) o;
#define ADD(v, p)                                                                    \
    VLOAD(o, p);                                                                     \
    v += o
            ADD(a0, out0 + j);
            ADD(a1, out0 + j + VN);
            ADD(a2, out0 + j + 2 * VN);
            ADD(b0, out1 + j);
            ADD(b1, out1 + j + VN);
            ADD(b2, out1 + j + 2 * VN);
            ADD(c0, out2 + j);
            ADD(c1, out2 + j + VN);
            ADD(c2, out2 + j + 2 * VN);
        }
        VSTORE(out0 + j, a0);
        VSTORE(out0 + j + VN, a1);
        VSTORE(out0 + j + 2 * VN, a2);
        VSTORE(out1 + j, b0);
        VSTORE(out1 + j + VN, b1);
        VSTORE(out1 + j + 2 * VN, b2);
        VSTORE(out2 + j, c0);
        VSTORE(out2 + j + VN, c1);
        VSTORE(out2 + j + 2 * VN, c2);
    }
    for (; j + VN <= len; j += VN) {
        F(vec) a = {0}, b = {0}, c = {0}, x;
        int t = 0;
        for (int ch = 0; ch < ci; ch++)
            for (int ky = 0; ky < kh; ky++) {
                const T *r = in + ch * plane + (int64_t)ky * wp + j;
                for (int kx = 0; kx < kw; kx++, t++) {
                    VLOAD(x, r + kx);
                    a += w0[t] * x;
                    b += w1[t] * x;
                    c += w2[t] * x;
                }
            }
        if (add) {
            F(vec) o;
            ADD(a, out0 + j);
            ADD(b, out1 + j);
            ADD(c, out2 + j);
        }
#undef ADD
        VSTORE(out0 + j, a);
        VSTORE(out1 + j, b);
        VSTORE(out2 + j, c);
    }
    for (; j < len; j++) {
        T s0 = 0, s1 = 0, s2 = 0;
        int t = 0;
        for (int c = 0; c < ci; c++)
            for (int ky = 0; ky < kh; ky++)
                for (int kx = 0; kx < kw; kx++, t++) {
                    T v = in[c * plane + (int64_t)ky * wp + kx + j];
                    s0 += w0[t] * v;
                    s1 += w1[t] * v;
                    s2 += w2[t] * v;
                }
        T o0 = add ? out0[j] + s0 : s0, o1 = add ? out1[j] + s1 : s1;
        T o2 = add ? out2[j] + s2 : s2;
        out0[j] = o0;
        out1[j] = o1;
        out2[j] = o2;
    }
}

/* Channel groups of taps: out [n_out][ostride] (+)= the sums with weights w
 * [n_out][wstride]. */
static void F(taps_all)(T *out, int64_t ostride, int add, const T *in, int64_t plane,
                        int wp, const T *w, int64_t wstride, int n_out, int ci, int kh,
                        int kw, int64_t len)
{
    for (int o = 0; o < n_out; o += GROUP) {
        int p = member(o, 1, n_out), q = member(o, 2, n_out);
        F(taps)(out + o * ostride, out + p * ostride, out + q * ostride, add, in, plane, wp,
                w + o * wstride, w + p * wstride, w + q * wstride, ci, kh, kw, len);
    }
}

/* Weight gradients of the direct path are sums over every sample of a batch; per tap
 * they accumulate in DACC elements of the workspace — DBLOCK partial sums (two
 * vectors, lane l of vector h summing the terms j ≡ h·VN + l mod DBLOCK) and a scalar
 * tail — and are folded into dw once per batch (once per sample for per-sample rows),
 * not once per sample and tap. */
#define DACC (DBLOCK + 1)

/* The weight-gradient sums of three output channels (gk → acck, acck [taps][DACC]) for
 * up to three taps of a kernel row at a time: acck[t] (+)= the partial sums of Σ_j gk[j]
 * · in[c·plane + ky·wp + kx + j], j < len, set when `init`, else added. Each half of
 * the blocks is one sweep with nine sums in registers, every vector loaded serving
 * three of them. A repeated channel (acc2 == acc1, g2 == g1) stores one value. */
MN_CLONES static void F(tap_dots)(T *acc0, T *acc1, T *acc2, int init, const T *g0,
                                  const T *g1, const T *g2, const T *in, int64_t plane, int wp,
                                  int ci, int kh, int kw, int64_t len)
{
    const F(vec) zero = {0};
    int64_t full = len / DBLOCK * DBLOCK;
    for (int c = 0; c < ci; c++)
        for (int ky = 0; ky < kh; ky++)
            for (int kx = 0; kx < kw;) {
                const T *r = in + c * plane + (int64_t)ky * wp + kx;
                int nt = kw - kx < 3 ? 1 : 3; /* taps this step */
                for (int h = 0; h < 2; h++) {
                    /* a<channel><tap>, named so that they stay in registers */
                    F(vec) a00 = zero, a01 = zero, a02 = zero, a10 = zero, a11 = zero;
                    F(vec) a12 = zero, a20 = zero, a21 = zero, a22 = zero, v0, v1, v2, x;
                    int off = h * VN;
#define LD(v, a, t) VLOAD(v, a + (t) * DACC + off)
#define ST(a, t, v) VSTORE(a + (t) * DACC + off, v)
                    if (!init) {
                        LD(a00, acc0, 0);
                        LD(a10, acc1, 0);
                        LD(a20, acc2, 0);
                        if (nt == 3) {
                            LD(a01, acc0, 1);
                            LD(a02, acc0, 2);
                            LD(a11, acc1, 1);
                            LD(a12, acc1, 2);
                            LD(a21, acc2, 1);
                            LD(a22, acc2, 2);
                        }
                    }
#define TAP(t, p, q, s)                                                              \
    VLOAD(x, r + (t) + j);                                                           \
    p += v0 * x;                                                                     \
    q += v1 * x;                                                                     \
    s += v2 * x
#define GS                                                                           \
    VLOAD(v0, g0 + j);                                                               \
    VLOAD(v1, g1 + j);                                                               \
    VLOAD(v2, g2 + j)
                    if (nt == 1) {
                        for (int64_t j = off; j < full; j += DBLOCK) {
                            GS;
                            TAP(0, a00, a10, a20);
                        }
                    } else {
                        for (int64_t j = off; j < full; j += DBLOCK) {
                            GS;
                            TAP(0, a00, a10, a20);
                            TAP(1, a01, a11, a21);
                            TAP(2, a02, a12, a22);
                        }
                        ST(acc0, 1, a01);
                        ST(acc0, 2, a02);
                        ST(acc1, 1, a11);
                        ST(acc1, 2, a12);
                        ST(acc2, 1, a21);
                        ST(acc2, 2, a22);
                    }
#undef GS
#undef TAP
                    ST(acc0, 0, a00);
                    ST(acc1, 0, a10);
                    ST(acc2, 0, a20);
#undef LD
#undef ST
                }
                for (int t = 0; t < nt; t++, acc0 += DACC, acc1 += DACC, acc2 += DACC) {
                    T s0 = 0, s1 = 0, s2 = 0;
                    for (int64_t i = full; i < len; i++) {
                        s0 += g0[i] * r[t + i];
                        s1 += g1[i] * r[t + i];
                        s2 += g2[i] * r[t + i];
                    }
                    T o0 = init ? s0 : acc0[DBLOCK] + s0, o1 = init ? s1 : acc1[DBLOCK] + s1;
                    T o2 = init ? s2 : acc2[DBLOCK] + s2;
                    acc0[DBLOCK] = o0;
                    acc1[DBLOCK] = o1;
                    acc2[DBLOCK] = o2;
                }
                kx += nt;
            }
}

/* dw[t] += the sum held in acc [taps][DACC]: the tail, then lane by lane the sum of
 * the two vectors' lanes (added as vectors, the one step that can be). */
static void F(acc_fold)(T *dw, const T *acc, int64_t taps)
{
    for (int64_t t = 0; t < taps; t++, acc += DACC) {
        F(vec) lo, hi;
        VLOAD(lo, acc);
        VLOAD(hi, acc + VN);
        lo += hi;
        T s = acc[DBLOCK];
        for (int q = 0; q < VN; q++)
            s += lo[q];
        dw[t] += s;
    }
}

/* One sample forward: y [co][ho][wo]; ws as mn_conv2d_ws_size. */
static void F(direct_fwd)(T *y, T *ws, const T *x, const T *w, const T *b,
                          const struct mn_win *d, int fresh)
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
    F(pad)(xp, x, d->ci, d->h, d->w, d->pt, d->pl, d->ho + d->kh, g.wp, fresh);
    F(taps_all)(ext, g.len, 0, xp, g.xplane, g.wp, w, k, d->co, d->ci, d->kh, d->kw, g.len);
    F(unpad)(y, ext, d->co, d->ho, d->wo, g.len, g.wp, b, 0);
}

/* Direct path workspace regions (ws as mn_conv2d_ws_size): xp the padded input, gext
 * the padded output gradient (weight gradients), gp the padded output gradient (input
 * gradient), wf the flipped weights, ext the input gradient's sums, acc the weight
 * gradients' sums of each pass. */
struct F(dws) {
    T *xp, *gext, *gp, *wf, *ext, *acc;
};

static struct F(dws) F(dws_of)(T *ws, const struct mn_win *d)
{
    struct dgeo g = dgeo(d);
    struct F(dws) r;
    r.xp = ws;
    r.gext = r.xp + d->ci * g.xplane;
    r.gp = r.gext + d->co * g.len;
    r.wf = r.gp + d->co * g.qplane;
    r.ext = r.wf + (int64_t)d->co * d->ci * d->kh * d->kw;
    r.acc = r.ext + d->ci * g.dlen;
    return r;
}

/* wf [ci][co][kh][kw] ← w [co][ci][kh][kw] transposed and flipped (input gradient). */
static void F(flip)(T *wf, const T *w, const struct mn_win *d)
{
    int kk = d->kh * d->kw;
    int64_t k = (int64_t)d->ci * kk;
    for (int o = 0; o < d->co; o++)
        for (int c = 0; c < d->ci; c++)
            for (int t = 0; t < kk; t++)
                wf[((int64_t)c * d->co + o) * kk + t] = w[o * k + (int64_t)c * kk + kk - 1 - t];
}

/* One sample backward of one pass: dx [ci][h][w], dw [co][ci][kh][kw] (either may be
 * NULL); dy [co][ho][wo]; r the workspace, its wf already flipped (F(flip)) when dx is
 * wanted, and its xp already holding this sample's padded input unless `padx`. Weight
 * gradients accumulate in acc [co·ci·kh·kw][DACC] from the `first` sample of a run on
 * and reach dw at its `last`. `fresh`: the first sample and pass of a kernel call (pads
 * write their zeros). */
static void F(direct_bwd)(T *dx, T *dw, const struct F(dws) *r, T *acc, const T *dy,
                          const T *x, const struct mn_win *d, int first, int last, int padx,
                          int fresh)
{
    struct dgeo g = dgeo(d);
    int one = fast_1x1(d), kk = d->kh * d->kw;
    int64_t hw = (int64_t)d->h * d->w, k = (int64_t)d->ci * kk;
    /* the padded output gradient of the input gradient holds, from its first data
     * element on, the one of the weight gradients too where the rows are as wide (same
     * padding): a data row's right padding and the next row's left padding are the
     * kw − 1 zero columns that follow each row of the latter */
    int share = dx && !one && g.wp == g.wq;
    if (dx && !one)
        F(pad)(r->gp, dy, d->co, d->ho, d->wo, d->kh - 1 - d->pt, d->kw - 1 - d->pl,
               d->h + d->kh, g.wq, fresh);
    if (dw) {
        const T *xin = x, *gin = dy;
        int64_t gplane = one ? hw : g.len;
        if (!one) {
            if (padx)
                F(pad)(r->xp, x, d->ci, d->h, d->w, d->pt, d->pl, d->ho + d->kh, g.wp, fresh);
            if (!share)
                F(pad)(r->gext, dy, d->co, d->ho, d->wo, 0, 0, d->ho, g.wp, fresh);
            xin = r->xp;
            gin = share ? r->gp + (d->kh - 1 - d->pt) * g.wq + d->kw - 1 - d->pl : r->gext;
            gplane = share ? g.qplane : g.len;
        }
        /* dw is cold (a per-sample row is one in a J of many): fetch it while the
         * sums run, rather than miss on every line when they are added */
        for (int64_t e = 0; last && e < d->co * k; e += 64 / (int64_t)sizeof(T))
            __builtin_prefetch(dw + e, 1);
        for (int o = 0; o < d->co; o += GROUP) {
            int p = member(o, 1, d->co), q = member(o, 2, d->co);
            F(tap_dots)(acc + o * k * DACC, acc + p * k * DACC, acc + q * k * DACC, first,
                        gin + o * gplane, gin + p * gplane, gin + q * gplane, xin,
                        one ? hw : g.xplane, g.wp, d->ci, d->kh, d->kw, g.len);
        }
        if (last)
            F(acc_fold)(dw, acc, d->co * k);
    }
    if (!dx)
        return;
    if (one) {
        F(taps_all)(dx, hw, 1, dy, hw, d->w, r->wf, d->co, d->ci, d->co, 1, 1, hw);
        return;
    }
    F(taps_all)(r->ext, g.dlen, 0, r->gp, g.qplane, g.wq, r->wf, (int64_t)d->co * kk, d->ci,
                d->co, d->kh, d->kw, g.dlen);
    F(unpad)(dx, r->ext, d->ci, d->h, d->w, g.dlen, g.wq, NULL, 1);
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
            F(direct_fwd)(yn, ws, xn, w, b, d, n == 0);
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

void F(mn_conv2d_bwd_passes)(T *dx, T *dw, T *db, const T *col, T *ws, const T *dy,
                             const T *x, const T *w, const struct mn_win *d, int64_t pstride,
                             int passes, int64_t gstride, const T *bn_x, const T *bn_coef)
{
    int hw = d->ho * d->wo, k = d->ci * d->kh * d->kw;
    int64_t xs = (int64_t)d->ci * d->h * d->w, ys = (int64_t)d->co * hw;
    int64_t xb = d->n * xs, yb = d->n * ys; /* one pass of dx, dy */
    int64_t cs = mn_conv2d_col_size(d), taps = (int64_t)d->co * k;
    int fast = fast_1x1(d);
    T *scol = ws, *dcol = ws + cs, *bnbuf = ws + path_ws(d);
    struct F(dws) r = F(dws_of)(ws, d);
    if (d->direct && dx)
        F(flip)(r.wf, w, d);
    for (int n = 0; n < d->n; n++) {
        const T *xn = x + n * xs, *coln = col ? col + n * cs : scol;
        if (!d->direct && dw && !fast && !col)
            F(im2col)(scol, xn, d);
        for (int p = 0; p < passes; p++) { /* sample n's input stays in cache */
            const T *dyn = dy + p * yb + n * ys;
            if (bn_x) { /* the BN input's gradient, made where it is read */
                F(mn_bn_dx)(bnbuf, 1, dyn, bn_x + n * ys, bn_coef, d->co, hw, p);
                dyn = bnbuf;
            }
            T *dxn = dx ? dx + p * xb + n * xs : NULL;
            T *dwn = dw ? dw + p * gstride + n * pstride : NULL;
            if (db)
                for (int c = 0; c < d->co; c++) {
                    T s = 0;
                    for (int i = 0; i < hw; i++)
                        s += dyn[(int64_t)c * hw + i];
                    db[p * gstride + n * pstride + c] += s;
                }
            if (d->direct) {
                F(direct_bwd)(dxn, dwn, &r, r.acc + p * taps * DACC, dyn, xn, d,
                              pstride || n == 0, pstride || n == d->n - 1, p == 0,
                              n == 0 && p == 0);
                continue;
            }
            if (dw)
                F(mn_gemm)(0, 1, d->co, k, hw, 1, dyn, hw, fast ? xn : coln, hw, 1, dwn, k);
            if (dx) {
                if (fast) {
                    F(mn_gemm)(1, 0, d->ci, hw, d->co, 1, w, k, dyn, hw, 1, dxn, hw);
                } else {
                    F(mn_gemm)(1, 0, k, hw, d->co, 1, w, k, dyn, hw, 0, dcol, hw);
                    F(col2im)(dxn, dcol, d);
                }
            }
        }
    }
}

void F(mn_conv2d_bwd)(T *dx, T *dw, T *db, const T *col, T *ws, const T *dy, const T *x,
                      const T *w, const struct mn_win *d, int64_t pstride)
{
    F(mn_conv2d_bwd_passes)(dx, dw, db, col, ws, dy, x, w, d, pstride, 1, 0, NULL, NULL);
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
#undef GROUP
#undef DBLOCK
#undef VN
#undef VLOAD
#undef VSTORE
#undef VSPLAT
#endif
