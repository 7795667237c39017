#ifndef MN_TMPL_PASS
/* net.c — the CNN engine (see net.h): plans a network from a layer graph (parameter
 * layout, activation and gradient memory, workspace), initialises parameters, and
 * runs the graph forward and backward through the kernels of ops.h.
 *
 * Memory plan, fixed at build time for max_batch samples:
 *   act    every layer's output (kept for backward and for the accessors); flatten
 *          aliases its input; a conv2d/dwconv2d/dense with BN also keeps its pre-BN
 *          output ("raw"); the input is copied in. With share_acts, an output that no
 *          backward reads (kinds[].reads_in/reads_out, an activation's mask, the
 *          network output) is live only from its layer's forward step to its last
 *          consumer's, and such outputs share memory by the same first fit as dpool
 *          (in NB201 cells: post-BN conv outputs, pools and node sums).
 *   dups   a parameter-free layer identical to an earlier one (same op, settings and
 *          inputs: NB201 gives every conv op of an edge its own ReLU of the same node)
 *          is computed once: its output aliases the earlier layer's, its consumers
 *          read that layer, and it is neither run nor given a gradient buffer. It
 *          stays a ReLU site (mn_net_relu_sites), so patterns are those of the graph.
 *   dpool  gradients of layer outputs. Backward visits layers in reverse index order;
 *          the gradient of layer i is live from its last consumer's step down to step
 *          i, and buffers whose live ranges are disjoint share memory (first-fit by
 *          size), which keeps backward memory near the widest cut of the graph. An
 *          add passes its gradient on unchanged, so an input whose only consumer is
 *          the add and whose backward leaves its gradient as it is (no activation)
 *          shares the add's buffer instead of receiving a copy.
 *   col    with keep_cols, every im2col conv2d's columns for every sample (at col_off)
 *   ws     the kernels' scratch (the largest mn_conv2d_ws_size, mn_avgpool_ws_size), dtmp
 *          (the gradient of a BN layer's pre-BN output, but a conv2d's: its kernel
 *          makes that one sample by sample from coef, mn_bn_bwd_coef's coefficients):
 *          one of each per thread.
 *   bsum   a BN forward's row sums of every sample (mn_bn_row_sums), in double.
 * Threads: forward and backward are a sequence of steps (a layer's core op and
 * activation; a BN's forward; a layer's backward), each run by F(run) on the
 * network's OpenMP threads, every thread on its share (struct part) of the samples or
 * the passes, writing disjoint parts of the buffers above. The
 * driver (stamps, which gradients a step starts) stays on the calling thread.
 * The execution half of this file is compiled for float and double (op_tmpl.h); the
 * one table of layer kinds (`kinds`) follows it. */
#include "net.h"
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include "netmem.h"
#include "ops.h"
#include "rng.h"
#ifdef _OPENMP
#include <omp.h>
#else /* without OpenMP every step runs whole on the calling thread */
static int omp_get_thread_num(void)
{
    return 0;
}
static int omp_get_num_threads(void)
{
    return 1;
}
#endif

#define MAX_BATCH 65536
#define MAX_BYTES (1LL << 38)

/* One executable layer. Offsets are in elements of the net's type; -1 = none. */
struct nl {
    const struct mn_layer *l;
    int in[MN_GRAPH_MAX_IN];          /* l->in with duplicates replaced by the original */
    int dup;                          /* the identical earlier layer, or -1 */
    int64_t out_size, in_size;        /* per sample */
    int64_t w, b, gamma, beta;        /* parameter offsets */
    int64_t n_w, fan_in, fan_out;
    struct mn_win win;                /* windowed ops; n set per call */
    int64_t out_off, raw_off, stat_off, d_off, col_off, col_size; /* col_size per sample */
    int64_t t_off;                    /* shared (transient) output: offset in the shared
                                         region at the start of act; -1 = kept */
    int last_use;                     /* largest index of a live consumer, -1 none */
    int uses;                         /* input slots of executed layers reading it */
    int galias;                       /* the add whose gradient buffer it shares, or -1 */
    int d_root, d_lo;                 /* layer owning that buffer; with d_lo the range
                                         [d_lo, last_use] over which the buffer lives */
    char reach, run;                  /* feeds the output; is executed (reach, not a dup) */
    char shared;                      /* output in the shared region (own, or aliased) */
    char anc_param, anc_input;        /* has parameters / the input upstream (itself
                                         included) */
    unsigned stamp;                   /* backward pass in which d was zeroed */
};

#define N_BUF 10

struct mn_net {
    struct mn_graph *g;
    struct nl *L;
    enum mn_dtype dt;
    size_t esz;
    int max_batch, n, grad_rows, keep_cols, threads;
    int max_passes, passes, prow;     /* backward passes per call: the most, this call's,
                                         and the gradient row of its first pass */
    int64_t n_params;
    void *params, *grads, *act, *stats, *dpool, *col, *ws, *dtmp, *coef, *bsum; /* buf[k].p */
    struct mn_block buf[N_BUF]; /* the buffers above, in that order (netmem.h) */
    int64_t ws_size, dtmp_size, coef_size; /* elements of one thread's ws, dtmp, coef */
    struct mn_param_view *views;
    int n_views;
    struct mn_relu_site *relus;
    int n_relus;
    int64_t relu_bits;
    struct mn_bn_site *bns;
    int n_bns;
    enum mn_bn_mode bn_mode;
    int fwd_done, fwd_bn_off, have_stats;
    /* per backward call */
    unsigned stamp;
    int zero[MN_GRAPH_MAX_IN], n_zero; /* input gradients the current step starts */
    void *dx;
    int want_params, want_dx;
    int64_t pstride;
};

/* One thread's share of a step (see "Threads" above): samples [s0, s0 + n) of passes
 * [p0, p0 + passes), the number of threads nt sharing the step, and the thread's
 * scratch. A step splits the samples (forward; backward with one pass and per-sample
 * gradient rows) or the passes (backward of several), never both, so every output
 * element is computed by one thread exactly as it is without threads. */
struct part {
    int s0, n, p0, passes, nt;
    void *ws, *dtmp, *coef;
};

typedef void (*layer_fn)(struct mn_net *net, const struct part *q, int i);

/* A layer kind: its execution for float and double, and how it is planned. */
struct kind {
    layer_fn fwd[2], bwd[2];
    unsigned char weights;  /* conv2d/dwconv2d/dense weights */
    unsigned char window;   /* uses struct mn_win */
    unsigned char identity; /* core op is the identity: BN/act read the input */
    unsigned char reads_in; /* backward reads the input's output */
    unsigned char reads_out; /* backward reads the layer's own output (besides the
                                activation mask, which every layer with an act reads) */
    unsigned char whole;    /* runs on one thread over the whole batch (dense: its GEMMs
                               span the batch, and a split would change their blocking) */
};
static const struct kind kinds[MN_OP_COUNT];

static int has_bn(const struct mn_net *net, const struct nl *L)
{
    return (L->l->bn || L->l->op == MN_OP_BATCHNORM) && net->bn_mode != MN_BN_OFF;
}

/* Gradient of layer j's output is wanted in this backward pass. */
static int wants(const struct mn_net *net, int j)
{
    const struct nl *L = &net->L[j];
    if (j == 0)
        return net->want_dx;
    return L->d_off >= 0 &&
           ((L->anc_param && net->want_params) || (L->anc_input && net->want_dx));
}

/* Layer L's window geometry for a batch of n. */
static struct mn_win win_of(const struct nl *L, int n)
{
    struct mn_win w = L->win;
    w.n = n;
    return w;
}

/* How a step divides among the threads (struct part), and the steps. */
enum split { SPLIT_NONE, SPLIT_SAMPLES, SPLIT_PASSES };
enum step { STEP_FWD, STEP_BN, STEP_BWD };

/* [*lo, *lo + *cnt): part t of nt of total items, in order. */
static void span(int t, int nt, int total, int *lo, int *cnt)
{
    *lo = (int)((int64_t)t * total / nt);
    *cnt = (int)((int64_t)(t + 1) * total / nt) - *lo;
}

/* Thread t of nt's share of a step over the batch and passes of this call. */
static struct part share(const struct mn_net *net, enum split sp, int t, int nt)
{
    struct part q = {0, net->n, 0, net->passes, nt, NULL, NULL, NULL};
    if (sp == SPLIT_SAMPLES)
        span(t, nt, net->n, &q.s0, &q.n);
    else if (sp == SPLIT_PASSES)
        span(t, nt, net->passes, &q.p0, &q.passes);
    q.ws = (char *)net->ws + (size_t)t * (size_t)net->ws_size * net->esz;
    q.dtmp = (char *)net->dtmp + (size_t)t * (size_t)net->dtmp_size * net->esz;
    q.coef = (char *)net->coef + (size_t)t * (size_t)net->coef_size * net->esz;
    return q;
}

/* How layer i's backward step splits: passes when there are several (each pass is
 * independent); otherwise samples, unless the step reduces over the batch (BN
 * statistics in training mode, batch-summed parameter gradients) or is `whole`. */
static enum split bwd_split(const struct mn_net *net, int i)
{
    const struct nl *L = &net->L[i];
    if (net->passes > 1)
        return SPLIT_PASSES;
    if (kinds[L->l->op].whole || (has_bn(net, L) && net->bn_mode == MN_BN_TRAIN) ||
        ((L->w >= 0 || L->gamma >= 0) && net->want_params && !net->pstride))
        return SPLIT_NONE;
    return SPLIT_SAMPLES;
}

/* Waits for the other threads of a step. */
static void barrier(const struct part *q)
{
    if (q->nt > 1) {
#pragma omp barrier
    }
}

#define MN_TMPL_FILE "net.c"
#include "op_tmpl.h"
#else

#define TI (sizeof(T) == sizeof(double))
/* A layer's output, pre-BN output and output gradient at this share's first sample
 * (gradients: of its first pass). */
#define SH(j) ((int64_t)q->s0 * net->L[j].out_size)
#define OUT(j) ((T *)net->act + net->L[j].out_off + SH(j))
#define RAW(j) ((T *)net->act + net->L[j].raw_off + SH(j))
#define P(off) ((T *)net->params + (off))
#define PN(off) ((off) >= 0 ? (T *)net->params + (off) : NULL)
#define DG(j)                                                                           \
    ((j) == 0 ? (T *)net->dx + SH(0)                                                   \
              : (T *)net->dpool + net->L[j].d_off +                                    \
                    (int64_t)q->p0 * net->n * net->L[j].out_size + SH(j))
#define DW(j) (wants(net, j) ? DG(j) : NULL)

/* Gradient pointer of parameter `off` in the row of the share's first pass or (per-sample
 * rows) first sample (NULL when none or not wanted); pass p's is n_params·p further. */
static T *F(gp)(struct mn_net *net, const struct part *q, int64_t off)
{
    return off >= 0 && net->want_params
               ? (T *)net->grads + (int64_t)(net->prow + q->p0 + q->s0) * net->n_params + off
               : NULL;
}

/* p + o, or NULL when p is. */
static T *F(at)(T *p, int64_t o)
{
    return p ? p + o : NULL;
}

/* Elements of layer i's gradient over every pass of this call. */
static int64_t F(dsize)(const struct mn_net *net, const struct part *q, int i)
{
    return (int64_t)q->passes * q->n * net->L[i].out_size;
}

/* The activation after a layer's core op, pre → out, on the share's samples; with BN
 * the driver's BN step (bn_fwd) applies both instead. */
static void F(post_fwd)(struct mn_net *net, const struct part *q, int i, const T *pre)
{
    struct nl *L = &net->L[i];
    if (!has_bn(net, L))
        F(mn_act_fwd)(OUT(i), pre, q->n * L->out_size, L->l->act);
}

/* A BN step: the batch statistics, then normalisation and activation of the share's
 * samples. Every thread of the step runs it, also one without samples, as it waits
 * twice for all: each thread sums its samples' rows into bsum (sums, then squared
 * deviations), and each adds every sample's in order, so the statistics do not
 * depend on the split. The thread's coef holds the mean and variance in double [c]
 * each, then the scale and shift [2c]; the share ending the batch stores the stats. */
static void F(bn_fwd)(struct mn_net *net, const struct part *q, int i)
{
    struct nl *L = &net->L[i];
    T *out = OUT(i), *st = (T *)net->stats + L->stat_off;
    const T *pre = kinds[L->l->op].identity ? OUT(L->in[0]) : RAW(i);
    int c = L->l->out.c, last = q->s0 + q->n == net->n;
    int64_t hw = (int64_t)L->l->out.h * L->l->out.w, xs = c * hw;
    double *sums = net->bsum, *sq = sums + (int64_t)net->n * c, *mu = q->coef, *var = mu + c;
    T *ab = (T *)(var + c);
    F(mn_bn_row_sums)(sums + (int64_t)q->s0 * c, pre, NULL, q->n, c, hw);
    barrier(q);
    mn_bn_channel_means(mu, sums, net->n, c, hw);
    F(mn_bn_row_sums)(sq + (int64_t)q->s0 * c, pre, mu, q->n, c, hw);
    barrier(q);
    mn_bn_channel_means(var, sq, net->n, c, hw);
    F(mn_bn_affine)(ab, last ? st : NULL, last ? st + c : NULL, mu, var, P(L->gamma),
                    P(L->beta), c);
    for (int s = 0; s < q->n; s++) { /* the activation while the sample is in cache */
        F(mn_bn_apply)(out + s * xs, pre + s * xs, ab, 1, c, hw);
        F(mn_act_fwd)(out + s * xs, out + s * xs, xs, L->l->act);
    }
}

/* Backward of post_fwd. The activation is undone in place on the layer's own
 * gradient. With `into` the gradient w.r.t. pre is accumulated there and NULL is
 * returned; otherwise a buffer holding it is returned (the own gradient or dtmp).
 * With `coef` a BN's backward stops after its reductions (mn_bn_bwd_coef) and the
 * gradient of the BN's output is returned. */
static T *F(post_bwd)(struct mn_net *net, const struct part *q, int i, const T *pre, T *into,
                      T *coef)
{
    struct nl *L = &net->L[i];
    T *dy = DG(i);
    int64_t size = q->n * L->out_size; /* one pass */
    if (!has_bn(net, L) && into) {
        for (int p = 0; p < q->passes; p++)
            F(mn_act_bwd)(into + p * size, dy + p * size, OUT(i), size, L->l->act);
        return NULL;
    }
    for (int p = 0; p < q->passes; p++)
        F(mn_act_mask)(dy + p * size, OUT(i), size, L->l->act);
    if (!has_bn(net, L))
        return dy;
    const T *st = (const T *)net->stats + L->stat_off;
    int c = L->l->out.c;
    int64_t hw = (int64_t)L->l->out.h * L->l->out.w, xs = c * hw;
    T *cf = coef ? coef : (T *)q->coef, *dst = into ? into : (T *)q->dtmp;
    F(mn_bn_bwd_coef)(cf, F(gp)(net, q, L->gamma), F(gp)(net, q, L->beta), dy, pre,
                      P(L->gamma), st, st + c, q->n, c, hw, net->bn_mode == MN_BN_FROZEN,
                      net->pstride, q->passes, net->n_params);
    if (coef)
        return dy;
    for (int p = 0; p < q->passes; p++)
        for (int s = 0; s < q->n; s++) {
            int64_t o = (p * q->n + s) * xs;
            F(mn_bn_dx)(dst + o, !into, dy + o, pre + s * xs, cf, c, hw, p);
        }
    return into ? NULL : dst;
}

/* Where a layer with parameters writes its core output: raw when BN follows. */
static T *F(core)(struct mn_net *net, const struct part *q, int i)
{
    return net->L[i].raw_off >= 0 ? RAW(i) : OUT(i);
}

/* The im2col columns a conv2d keeps (keep_cols), at the share's first sample. */
static T *F(cols)(struct mn_net *net, const struct part *q, int i)
{
    return (T *)net->col + net->L[i].col_off + (int64_t)q->s0 * net->L[i].col_size;
}

static void F(fwd_conv2d)(struct mn_net *net, const struct part *q, int i)
{
    struct nl *L = &net->L[i];
    struct mn_win w = win_of(L, q->n);
    F(mn_conv2d_fwd)(F(core)(net, q, i), F(cols)(net, q, i), net->keep_cols, (T *)q->ws,
                     OUT(L->in[0]), P(L->w), PN(L->b), &w);
    F(post_fwd)(net, q, i, F(core)(net, q, i));
}

static void F(bwd_conv2d)(struct mn_net *net, const struct part *q, int i)
{
    struct nl *L = &net->L[i];
    int j = L->in[0];
    T *coef = has_bn(net, L) ? (T *)q->coef : NULL; /* BN dx made by the kernel */
    T *dpre = F(post_bwd)(net, q, i, F(core)(net, q, i), NULL, coef);
    struct mn_win w = win_of(L, q->n);
    F(mn_conv2d_bwd_passes)(DW(j), F(gp)(net, q, L->w), F(gp)(net, q, L->b),
                            net->keep_cols ? F(cols)(net, q, i) : NULL, (T *)q->ws, dpre,
                            OUT(j), P(L->w), &w, net->pstride, q->passes,
                            net->n_params, coef ? F(core)(net, q, i) : NULL, coef);
}

static void F(fwd_dwconv2d)(struct mn_net *net, const struct part *q, int i)
{
    struct nl *L = &net->L[i];
    struct mn_win w = win_of(L, q->n);
    F(mn_dwconv2d_fwd)(F(core)(net, q, i), OUT(L->in[0]), P(L->w), PN(L->b), &w);
    F(post_fwd)(net, q, i, F(core)(net, q, i));
}

static void F(bwd_dwconv2d)(struct mn_net *net, const struct part *q, int i)
{
    struct nl *L = &net->L[i];
    int j = L->in[0];
    T *dpre = F(post_bwd)(net, q, i, F(core)(net, q, i), NULL, NULL);
    int64_t xs = q->n * L->in_size, ys = q->n * L->out_size, ps = net->n_params;
    struct mn_win w = win_of(L, q->n);
    for (int p = 0; p < q->passes; p++)
        F(mn_dwconv2d_bwd)(F(at)(DW(j), p * xs), F(at)(F(gp)(net, q, L->w), p * ps),
                           F(at)(F(gp)(net, q, L->b), p * ps), dpre + p * ys, OUT(j), P(L->w),
                           &w, net->pstride);
}

static void F(fwd_dense)(struct mn_net *net, const struct part *q, int i)
{
    struct nl *L = &net->L[i];
    F(mn_dense_fwd)(F(core)(net, q, i), OUT(L->in[0]), P(L->w), PN(L->b), q->n,
                    (int)L->in_size, (int)L->out_size);
    F(post_fwd)(net, q, i, F(core)(net, q, i));
}

static void F(bwd_dense)(struct mn_net *net, const struct part *q, int i)
{
    struct nl *L = &net->L[i];
    int j = L->in[0];
    T *dpre = F(post_bwd)(net, q, i, F(core)(net, q, i), NULL, NULL);
    int64_t xs = q->n * L->in_size, ys = q->n * L->out_size, ps = net->n_params;
    for (int p = 0; p < q->passes; p++)
        F(mn_dense_bwd)(F(at)(DW(j), p * xs), F(at)(F(gp)(net, q, L->w), p * ps),
                        F(at)(F(gp)(net, q, L->b), p * ps), dpre + p * ys, OUT(j), P(L->w),
                        q->n, (int)L->in_size, (int)L->out_size, net->pstride);
}

/* relu and batchnorm layers: BN/act applied to the input itself. */
static void F(fwd_identity)(struct mn_net *net, const struct part *q, int i)
{
    F(post_fwd)(net, q, i, OUT(net->L[i].in[0]));
}

static void F(bwd_identity)(struct mn_net *net, const struct part *q, int i)
{
    int j = net->L[i].in[0];
    if (wants(net, j))
        F(post_bwd)(net, q, i, OUT(j), DG(j), NULL);
    else if (has_bn(net, &net->L[i]) && net->want_params) /* gamma/beta only */
        F(post_bwd)(net, q, i, OUT(j), NULL, NULL);
}

static void F(fwd_avgpool)(struct mn_net *net, const struct part *q, int i)
{
    struct nl *L = &net->L[i];
    struct mn_win w = win_of(L, q->n);
    F(mn_avgpool_fwd)(OUT(i), (T *)q->ws, OUT(L->in[0]), &w, L->l->count_include_pad);
}

static void F(bwd_avgpool)(struct mn_net *net, const struct part *q, int i)
{
    struct nl *L = &net->L[i];
    /* reads no activation: the passes are a larger batch */
    struct mn_win w = win_of(L, q->n * q->passes);
    F(mn_avgpool_bwd)(DG(L->in[0]), (T *)q->ws, DG(i), &w, L->l->count_include_pad);
}

static void F(fwd_maxpool)(struct mn_net *net, const struct part *q, int i)
{
    struct nl *L = &net->L[i];
    struct mn_win w = win_of(L, q->n);
    F(mn_maxpool_fwd)(OUT(i), OUT(L->in[0]), &w);
}

static void F(bwd_maxpool)(struct mn_net *net, const struct part *q, int i)
{
    struct nl *L = &net->L[i];
    int j = L->in[0];
    int64_t xs = q->n * L->in_size, ys = q->n * L->out_size;
    struct mn_win w = win_of(L, q->n);
    for (int p = 0; p < q->passes; p++)
        F(mn_maxpool_bwd)(DG(j) + p * xs, DG(i) + p * ys, OUT(j), OUT(i), &w);
}

static void F(fwd_gavgpool)(struct mn_net *net, const struct part *q, int i)
{
    struct nl *L = &net->L[i];
    F(mn_gavgpool_fwd)(OUT(i), OUT(L->in[0]), q->n, L->l->out.c,
                       L->in_size / L->l->out.c);
}

static void F(bwd_gavgpool)(struct mn_net *net, const struct part *q, int i)
{
    struct nl *L = &net->L[i];
    F(mn_gavgpool_bwd)(DG(L->in[0]), DG(i), q->n * q->passes, L->l->out.c,
                       L->in_size / L->l->out.c);
}

static void F(fwd_gmaxpool)(struct mn_net *net, const struct part *q, int i)
{
    struct nl *L = &net->L[i];
    F(mn_gmaxpool_fwd)(OUT(i), OUT(L->in[0]), q->n, L->l->out.c,
                       L->in_size / L->l->out.c);
}

static void F(bwd_gmaxpool)(struct mn_net *net, const struct part *q, int i)
{
    struct nl *L = &net->L[i];
    int j = L->in[0];
    int64_t xs = q->n * L->in_size, ys = q->n * L->out_size;
    for (int p = 0; p < q->passes; p++)
        F(mn_gmaxpool_bwd)(DG(j) + p * xs, DG(i) + p * ys, OUT(j), OUT(i), q->n,
                           L->l->out.c, L->in_size / L->l->out.c);
}

static void F(fwd_add)(struct mn_net *net, const struct part *q, int i)
{
    const struct nl *L = &net->L[i];
    const T *in[MN_GRAPH_MAX_IN];
    for (int k = 0; k < L->l->n_in; k++)
        in[k] = OUT(L->in[k]);
    F(mn_add_fwd)(OUT(i), in, L->l->n_in, q->n * L->out_size);
    F(post_fwd)(net, q, i, OUT(i));
}

static void F(bwd_add)(struct mn_net *net, const struct part *q, int i)
{
    const struct nl *L = &net->L[i];
    T *dpre = F(post_bwd)(net, q, i, OUT(i), NULL, NULL);
    for (int k = 0; k < L->l->n_in; k++) /* inputs sharing the buffer have it already */
        if (wants(net, L->in[k]) && net->L[L->in[k]].galias != i)
            F(mn_acc)(DG(L->in[k]), dpre, F(dsize)(net, q, i));
}

static void F(fwd_zero)(struct mn_net *net, const struct part *q, int i)
{
    memset(OUT(i), 0, (size_t)(q->n * net->L[i].out_size) * sizeof(T));
}

static void F(bwd_none)(struct mn_net *net, const struct part *q, int i)
{
    (void)net;
    (void)q;
    (void)i;
}

static void F(fwd_none)(struct mn_net *net, const struct part *q, int i)
{
    (void)net;
    (void)q;
    (void)i;
}

/* flatten: the output aliases the input; backward passes the gradient on. */
static void F(bwd_flatten)(struct mn_net *net, const struct part *q, int i)
{
    F(mn_acc)(DG(net->L[i].in[0]), DG(i), F(dsize)(net, q, i));
}

static void F(fwd_softmax)(struct mn_net *net, const struct part *q, int i)
{
    struct nl *L = &net->L[i];
    F(mn_softmax_fwd)(OUT(i), OUT(L->in[0]), q->n, (int)L->out_size);
}

static void F(bwd_softmax)(struct mn_net *net, const struct part *q, int i)
{
    struct nl *L = &net->L[i];
    int64_t ys = q->n * L->out_size;
    for (int p = 0; p < q->passes; p++)
        F(mn_softmax_bwd)(DG(L->in[0]) + p * ys, DG(i) + p * ys, OUT(i), q->n,
                          (int)L->out_size);
}

/* One thread's part of step st of layer i. A backward step first clears its share of
 * the input gradients the driver listed (net->zero). */
static void F(step)(struct mn_net *net, const struct part *q, int i, enum step st)
{
    const struct nl *L = &net->L[i];
    if (st == STEP_FWD) {
        kinds[L->l->op].fwd[TI](net, q, i);
    } else if (st == STEP_BN) {
        F(bn_fwd)(net, q, i);
    } else {
        for (int k = 0; k < net->n_zero; k++)
            memset(DG(net->zero[k]), 0, (size_t)F(dsize)(net, q, net->zero[k]) * sizeof(T));
        kinds[L->l->op].bwd[TI](net, q, i);
    }
}

/* Runs step st of layer i on the network's threads, split as sp says. */
static void F(run)(struct mn_net *net, int i, enum step st, enum split sp)
{
    int nt = sp == SPLIT_NONE ? 1 : net->threads;
    if (nt == 1) {
        struct part q = share(net, SPLIT_NONE, 0, 1);
        F(step)(net, &q, i, st);
        return;
    }
#pragma omp parallel num_threads(nt)
    {
        struct part q = share(net, sp, omp_get_thread_num(), omp_get_num_threads());
        if (st == STEP_BN || (q.n > 0 && q.passes > 0)) /* BN waits for every thread */
            F(step)(net, &q, i, st);
    }
}

static const T *F(forward)(struct mn_net *net, const T *x, int n)
{
    if (!net || !x || n < 1 || n > net->max_batch || TI != (net->dt == MN_F64))
        return NULL;
    net->n = n;
    net->passes = 1;
    const struct part whole = share(net, SPLIT_NONE, 0, 1), *q = &whole;
    memcpy(OUT(0), x, (size_t)(n * net->L[0].out_size) * sizeof(T));
    for (int i = 1; i < net->g->n; i++) {
        const struct nl *L = &net->L[i];
        if (!L->run)
            continue;
        F(run)(net, i, STEP_FWD, kinds[L->l->op].whole ? SPLIT_NONE : SPLIT_SAMPLES);
        if (has_bn(net, L))
            F(run)(net, i, STEP_BN, SPLIT_SAMPLES);
    }
    net->fwd_done = 1;
    net->fwd_bn_off = net->bn_mode == MN_BN_OFF;
    net->have_stats = !net->fwd_bn_off;
    return OUT(net->g->output);
}

/* Backward of `passes` passes at once (dout [passes][n][out]), pass p's parameter
 * gradients into gradient row row + p; dx only with one pass. */
static int F(backward)(struct mn_net *net, const T *dout, T *dx, unsigned flags, int passes,
                       int row)
{
    if (!net || !dout || TI != (net->dt == MN_F64) || passes < 1 ||
        passes > net->max_passes || row < 0 || row + passes > net->grad_rows ||
        (passes > 1 && (dx || flags)))
        return MN_EINVAL;
    if ((flags & MN_BW_PER_SAMPLE) && net->grad_rows < net->max_batch)
        return MN_EINVAL;
    if (!net->fwd_done || net->fwd_bn_off != (net->bn_mode == MN_BN_OFF))
        return MN_ESTATE;
    net->passes = passes;
    net->prow = row;
    net->stamp++;
    net->dx = dx;
    net->want_dx = dx != NULL;
    net->want_params = !(flags & MN_BW_NO_PARAMS);
    net->pstride = (flags & MN_BW_PER_SAMPLE) ? net->n_params : 0;
    int out = net->g->output;
    const struct part whole = share(net, SPLIT_NONE, 0, 1), *q = &whole;
    if (wants(net, out)) {
        memcpy(DG(out), dout, (size_t)F(dsize)(net, q, out) * sizeof(T));
        net->L[out].stamp = net->stamp;
    }
    for (int i = out; i > 0; i--) {
        struct nl *L = &net->L[i];
        if (!L->run || !wants(net, i) || L->stamp != net->stamp)
            continue;
        net->n_zero = 0; /* inputs whose gradient this step starts */
        for (int k = 0; k < L->l->n_in; k++) {
            int j = L->in[k];
            if (wants(net, j) && net->L[j].stamp != net->stamp) {
                if (net->L[j].galias != i)
                    net->zero[net->n_zero++] = j;
                net->L[j].stamp = net->stamp;
            }
        }
        F(run)(net, i, STEP_BWD, bwd_split(net, i));
    }
    if (dx && net->L[0].stamp != net->stamp)
        memset(dx, 0, (size_t)(q->n * net->L[0].out_size) * sizeof(T));
    net->dx = NULL;
    return MN_OK;
}

static void F(relu_pattern)(const struct mn_net *net, uint64_t *words, int64_t wps)
{
    const struct part whole = {0}, *q = &whole;
    memset(words, 0, (size_t)(net->n * wps) * sizeof *words);
    for (int s = 0; s < net->n; s++) {
        uint64_t *ws = words + s * wps;
        int64_t b = 0;
        for (int k = 0; k < net->n_relus; k++) {
            const struct mn_relu_site *site = &net->relus[k];
            const T *y = OUT(site->layer) + s * site->size;
            for (int64_t e = 0; e < site->size; e++, b++)
                if (y[e] > 0)
                    ws[b >> 6] |= 1ULL << (b & 63);
        }
    }
}

static void F(bn_stats)(const struct mn_net *net, int layer, double *mean, double *var)
{
    const struct nl *L = &net->L[layer];
    const T *st = (const T *)net->stats + L->stat_off;
    for (int c = 0; c < L->l->out.c; c++) {
        if (mean)
            mean[c] = st[c];
        if (var)
            var[c] = st[L->l->out.c + c];
    }
}

#undef TI
#undef OUT
#undef RAW
#undef P
#undef PN
#undef DG
#undef DW
#undef SH
#endif

#ifndef MN_TMPL_PASS
/* ---- the one table of layer kinds ---- */

#define K(f, b) {f##_f32, f##_f64}, {b##_f32, b##_f64}
static const struct kind kinds[MN_OP_COUNT] = {
    [MN_OP_INPUT] = {K(fwd_none, bwd_none), 0, 0, 0, 0, 0, 0},
    [MN_OP_CONV2D] = {K(fwd_conv2d, bwd_conv2d), 1, 1, 0, 1, 0, 0},
    [MN_OP_DWCONV2D] = {K(fwd_dwconv2d, bwd_dwconv2d), 1, 1, 0, 1, 0, 0},
    [MN_OP_DENSE] = {K(fwd_dense, bwd_dense), 1, 0, 0, 1, 0, 1},
    [MN_OP_AVGPOOL] = {K(fwd_avgpool, bwd_avgpool), 0, 1, 0, 0, 0, 0},
    [MN_OP_MAXPOOL] = {K(fwd_maxpool, bwd_maxpool), 0, 1, 0, 1, 1, 0},
    [MN_OP_GAVGPOOL] = {K(fwd_gavgpool, bwd_gavgpool), 0, 0, 0, 0, 0, 0},
    [MN_OP_GMAXPOOL] = {K(fwd_gmaxpool, bwd_gmaxpool), 0, 0, 0, 1, 1, 0},
    [MN_OP_ADD] = {K(fwd_add, bwd_add), 0, 0, 0, 0, 0, 0},
    [MN_OP_ZERO] = {K(fwd_zero, bwd_none), 0, 0, 0, 0, 0, 0},
    [MN_OP_RELU] = {K(fwd_identity, bwd_identity), 0, 0, 1, 0, 0, 0},
    [MN_OP_BATCHNORM] = {K(fwd_identity, bwd_identity), 0, 0, 1, 1, 0, 0},
    [MN_OP_FLATTEN] = {K(fwd_none, bwd_flatten), 0, 0, 0, 0, 0, 0},
    [MN_OP_SOFTMAX] = {K(fwd_softmax, bwd_softmax), 0, 0, 0, 0, 1, 0},
};
#undef K

/* ---- planning ---- */

/* Rebuilds g layer by layer through mn_graph_add, which re-checks every layer, so a
 * hand-edited graph cannot make the engine index out of bounds. */
static struct mn_graph *checked_copy(const struct mn_graph *g, struct mn_error *err)
{
    if (!g || g->n < 2 || !g->layers || g->layers[0].op != MN_OP_INPUT || g->output < 1 ||
        g->output >= g->n) {
        mn_error_set(err, MN_EINVAL, NULL, "graph: needs an input and at least one layer");
        return NULL;
    }
    struct mn_shape s = g->layers[0].out;
    struct mn_graph *c = mn_graph_new(s.c, s.h, s.w);
    if (!c) {
        mn_error_set(err, MN_EINVAL, NULL, "graph: bad input shape or out of memory");
        return NULL;
    }
    for (int i = 1; i < g->n; i++) {
        const struct mn_layer *l = &g->layers[i];
        int rc = mn_graph_add(c, l);
        if (rc < 0 || memcmp(&c->layers[i].out, &l->out, sizeof l->out) != 0) {
            if (rc < 0)
                mn_error_set(err, rc, NULL, "graph: %s", c->error.message);
            else
                mn_error_set(err, MN_EINVAL, NULL, "graph: layer %d has a wrong shape", i);
            mn_graph_free(c);
            return NULL;
        }
    }
    c->output = g->output;
    return c;
}

static int64_t add_view(struct mn_net *net, int layer, enum mn_param_kind kind,
                        int64_t count, int s0, int s1, int s2, int s3)
{
    struct mn_param_view *v = &net->views[net->n_views++];
    v->layer = layer;
    v->kind = kind;
    v->offset = net->n_params;
    v->count = count;
    v->shape[0] = s0;
    v->shape[1] = s1;
    v->shape[2] = s2;
    v->shape[3] = s3;
    net->n_params += count;
    return v->offset;
}

/* Layers a and b compute the same thing: same op and settings, same (deduplicated)
 * inputs. Only called for parameter-free ops. */
static int same_layer(const struct nl *a, const struct nl *b)
{
    const struct mn_layer *x = a->l, *y = b->l;
    if (x->op != y->op || x->n_in != y->n_in || x->act != y->act || x->kh != y->kh ||
        x->kw != y->kw || x->sh != y->sh || x->sw != y->sw || x->pad_t != y->pad_t ||
        x->pad_b != y->pad_b || x->pad_l != y->pad_l || x->pad_r != y->pad_r ||
        x->count_include_pad != y->count_include_pad)
        return 0;
    return memcmp(a->in, b->in, (size_t)x->n_in * sizeof a->in[0]) == 0;
}

/* Deduplicated inputs of layer i, and the earlier layer it duplicates (or -1): only
 * parameter-free ops, never the output. */
static void find_dup(struct mn_net *net, int i)
{
    struct nl *L = &net->L[i];
    const struct mn_layer *l = L->l;
    L->dup = -1;
    for (int k = 0; i && k < l->n_in; k++) {
        int j = l->in[k];
        L->in[k] = net->L[j].dup >= 0 ? net->L[j].dup : j;
    }
    if (i == 0 || i == net->g->output || kinds[l->op].weights || l->op == MN_OP_BATCHNORM)
        return;
    for (int j = L->in[0] + 1; j < i && L->dup < 0; j++)
        if (net->L[j].dup < 0 && same_layer(&net->L[j], L))
            L->dup = j;
}

/* Parameter layout, shapes and fan-in/out of layer i (order documented in net.h). */
static void plan_params(struct mn_net *net, int i)
{
    struct nl *L = &net->L[i];
    const struct mn_layer *l = L->l;
    int co = l->out.c, ci = net->g->layers[l->in[0]].out.c;
    L->w = L->b = L->gamma = L->beta = -1;
    if (kinds[l->op].weights) {
        int per = l->op == MN_OP_DWCONV2D ? 1 : ci;
        int kh = l->op == MN_OP_DENSE ? 0 : l->kh, kw = l->op == MN_OP_DENSE ? 0 : l->kw;
        int64_t rf = l->op == MN_OP_DENSE ? 1 : (int64_t)l->kh * l->kw;
        L->n_w = (int64_t)co * per * rf;
        L->fan_in = per * rf;
        L->fan_out = co * rf;
        L->w = add_view(net, i, MN_PARAM_WEIGHT, L->n_w, co, per, kh, kw);
        if (l->bias)
            L->b = add_view(net, i, MN_PARAM_BIAS, co, co, 0, 0, 0);
    }
    if (l->bn || l->op == MN_OP_BATCHNORM) {
        L->gamma = add_view(net, i, MN_PARAM_BN_GAMMA, co, co, 0, 0, 0);
        L->beta = add_view(net, i, MN_PARAM_BN_BETA, co, co, 0, 0, 0);
    }
}

/* Inputs of executed adds that can share the add's gradient buffer (see the memory
 * plan): wanted, read by nothing else, no activation to undo in place. Sets galias,
 * d_root and the buffer owner's d_lo; adds are visited from the output down, so a
 * chain of adds ends at one owner. */
static void plan_aliases(struct mn_net *net)
{
    for (int i = net->g->n - 1; i > 0; i--) {
        struct nl *L = &net->L[i];
        if (!L->run || L->l->op != MN_OP_ADD || L->d_off < 0)
            continue;
        for (int k = 0; k < L->l->n_in; k++) {
            struct nl *J = &net->L[L->in[k]];
            if (L->in[k] == 0 || J->d_off < 0 || J->uses != 1 || J->l->act != MN_ACT_NONE)
                continue;
            J->galias = i;
            J->d_root = L->d_root;
            if (net->L[J->d_root].d_lo > L->in[k])
                net->L[J->d_root].d_lo = L->in[k];
        }
    }
}

/* Packs one buffer of out_size·max_batch elements per layer of order[m], layer i
 * live over steps [lo[i], hi[i]]: by decreasing size (then index), each at the lowest
 * offset clear of every buffer already placed whose live range meets its own. Fills
 * off[i] and returns the total (elements). */
static int64_t pack(const struct mn_net *net, int *order, int m, const int *lo,
                    const int *hi, int64_t *off)
{
    for (int a = 1; a < m; a++) /* insertion sort: by size desc, then index */
        for (int b = a; b > 0; b--) {
            const struct nl *x = &net->L[order[b - 1]], *y = &net->L[order[b]];
            if (x->out_size > y->out_size ||
                (x->out_size == y->out_size && order[b - 1] < order[b]))
                break;
            int t = order[b];
            order[b] = order[b - 1];
            order[b - 1] = t;
        }
    int64_t top = 0, mb = net->max_batch;
    for (int a = 0; a < m; a++) {
        int x = order[a];
        int64_t o = 0, xs = net->L[x].out_size * mb;
        for (int moved = 1; moved;) { /* raise o past every conflicting placement */
            moved = 0;
            for (int b = 0; b < a; b++) {
                int y = order[b];
                if (hi[y] < lo[x] || hi[x] < lo[y])
                    continue;
                int64_t ys = off[y], ye = ys + net->L[y].out_size * mb;
                if (o < ye && ys < o + xs) {
                    o = ye;
                    moved = 1;
                }
            }
        }
        off[x] = o;
        if (o + xs > top)
            top = o + xs;
    }
    return top;
}

/* Offsets of the gradient buffers: the buffer of owner i lives over layer steps
 * [d_lo, max(last_use, i)] (pack). Layers sharing an add's buffer get its offset. */
static int plan_grads(struct mn_net *net, int64_t *total)
{
    int n = net->g->n, m = 0;
    int *order = calloc((size_t)n, sizeof *order), *lo = calloc((size_t)n, sizeof *lo);
    int *hi = calloc((size_t)n, sizeof *hi);
    int64_t *off = malloc((size_t)n * sizeof *off);
    if (!order || !lo || !hi || !off) {
        free(order);
        free(lo);
        free(hi);
        free(off);
        return MN_ENOMEM;
    }
    for (int i = 1; i < n; i++) {
        struct nl *L = &net->L[i];
        lo[i] = L->d_lo;
        hi[i] = L->last_use > i ? L->last_use : i;
        if (L->d_off == 0 && L->galias < 0) /* needs its own buffer */
            order[m++] = i;
    }
    *total = pack(net, order, m, lo, hi, off);
    for (int a = 0; a < m; a++)
        net->L[order[a]].d_off = off[order[a]];
    for (int i = 1; i < n; i++)
        if (net->L[i].galias >= 0)
            net->L[i].d_off = net->L[net->L[i].d_root].d_off;
    free(order);
    free(lo);
    free(hi);
    free(off);
    return MN_OK;
}

/* With share_acts: which outputs no backward reads, and their offsets t_off in the
 * shared region (pack over [i, last_use]; -1 = kept); *total is its size. Without,
 * every output is kept. Flatten aliases its input, so a kept flatten keeps it. */
static int plan_shared(struct mn_net *net, int share, int64_t *total)
{
    int n = net->g->n, m = 0;
    int *order = calloc((size_t)n, sizeof *order), *lo = calloc((size_t)n, sizeof *lo);
    int *hi = calloc((size_t)n, sizeof *hi), *keep = malloc((size_t)n * sizeof *keep);
    int64_t *off = malloc((size_t)n * sizeof *off);
    int rc = order && lo && hi && keep && off ? MN_OK : MN_ENOMEM;
    *total = 0;
    for (int i = 0; !rc && i < n; i++) {
        struct nl *L = &net->L[i];
        L->t_off = -1;
        keep[i] = !share || i == 0 || i == net->g->output || !L->run ||
                  L->l->act != MN_ACT_NONE || kinds[L->l->op].reads_out;
    }
    for (int i = n - 1; !rc && i > 0; i--) {
        const struct nl *L = &net->L[i];
        for (int k = 0; L->run && k < L->l->n_in; k++)
            if (kinds[L->l->op].reads_in || (L->l->op == MN_OP_FLATTEN && keep[i]))
                keep[L->in[k]] = 1;
    }
    for (int i = 0; !rc && i < n; i++) {
        lo[i] = i;
        hi[i] = net->L[i].last_use > i ? net->L[i].last_use : i;
    }
    for (int i = n - 1; !rc && i > 0; i--) { /* a flatten's readers read its input */
        const struct nl *L = &net->L[i];
        if (L->run && L->l->op == MN_OP_FLATTEN && hi[i] > hi[L->in[0]])
            hi[L->in[0]] = hi[i];
    }
    for (int i = 0; !rc && i < n; i++)
        if (!keep[i] && net->L[i].l->op != MN_OP_FLATTEN)
            order[m++] = i;
    if (!rc) {
        *total = pack(net, order, m, lo, hi, off);
        for (int a = 0; a < m; a++)
            net->L[order[a]].t_off = off[order[a]];
    }
    free(order);
    free(lo);
    free(hi);
    free(keep);
    free(off);
    return rc;
}

/* The engine's BLAS calls run on the calling thread (net.h). OpenBLAS's pthread build
 * starts its helper threads when it loads, and an idle helper spins (sched_yield) for
 * about 0.1 s before it sleeps, sharing the cores with a short process's own threads
 * (a fast NTK in `monas-worker score --threads 2`: median of 15 runs 78 → 40 ms). So
 * once per process the engine sets one thread and stops the helpers with OpenBLAS's
 * own shutdown (its fork handler's); the symbol is weak, as builds without a thread
 * server lack it. A later openblas_set_num_threads would start them again. */
extern int blas_thread_shutdown_(void) __attribute__((weak));
static pthread_once_t blas_once = PTHREAD_ONCE_INIT;

static void blas_single(void)
{
    openblas_set_num_threads(1);
    if (blas_thread_shutdown_)
        blas_thread_shutdown_();
}

#define HUGE_NET_MAX ((int64_t)256 << 20)

struct mn_net *mn_net_create(const struct mn_graph *g, int max_batch,
                             const struct mn_net_opts *opts, struct mn_error *err)
{
    struct mn_net *net = NULL;
    if (max_batch < 1 || max_batch > MAX_BATCH) {
        mn_error_set(err, MN_EINVAL, NULL, "max_batch must be between 1 and %d", MAX_BATCH);
        return NULL;
    }
    if (opts && opts->dtype != MN_F32 && opts->dtype != MN_F64) {
        mn_error_set(err, MN_EINVAL, NULL, "unknown element type");
        return NULL;
    }
    struct mn_graph *gc = checked_copy(g, err);
    if (!gc)
        return NULL;
    net = calloc(1, sizeof *net);
    if (!net)
        goto nomem;
    net->g = gc;
    net->dt = opts ? opts->dtype : MN_F32;
    net->esz = net->dt == MN_F64 ? sizeof(double) : sizeof(float);
    net->max_batch = max_batch;
    net->max_passes = opts && opts->max_passes > 1 ? opts->max_passes : 1;
    net->threads = opts && opts->threads > 1 ? opts->threads : 1;
    int n = gc->n;
    net->L = calloc((size_t)n, sizeof *net->L);
    net->views = calloc((size_t)n * 4, sizeof *net->views);
    net->relus = calloc((size_t)n, sizeof *net->relus);
    net->bns = calloc((size_t)n, sizeof *net->bns);
    if (!net->L || !net->views || !net->relus || !net->bns)
        goto nomem;

    /* duplicates, reachability, consumers and ancestry */
    for (int i = 0; i < n; i++) {
        net->L[i].l = &gc->layers[i];
        net->L[i].last_use = net->L[i].galias = -1;
        net->L[i].d_root = net->L[i].d_lo = i;
        find_dup(net, i);
    }
    net->L[gc->output].reach = 1;
    for (int i = gc->output; i > 0; i--)
        for (int k = 0; net->L[i].reach && k < gc->layers[i].n_in; k++)
            net->L[gc->layers[i].in[k]].reach = 1;
    for (int i = gc->output; i >= 0; i--) {
        struct nl *L = &net->L[i];
        L->run = L->reach && L->dup < 0;
        for (int k = 0; i && L->run && k < L->l->n_in; k++) {
            net->L[L->in[k]].uses++;
            if (net->L[L->in[k]].last_use < i)
                net->L[L->in[k]].last_use = i;
        }
    }
    int64_t act = 0, stats = 0, ws = 0, cols = 0, dtmp = 0, coef = 0, bsum = 0, mb = max_batch;
    net->keep_cols = opts && opts->keep_cols;
    for (int i = 0; i < n; i++)
        net->L[i].out_size = mn_shape_size(gc->layers[i].out);
    if (plan_shared(net, opts && opts->share_acts, &act)) /* the shared region first */
        goto nomem;
    for (int i = 0; i < n; i++) {
        struct nl *L = &net->L[i];
        const struct mn_layer *l = L->l;
        L->in_size = i ? mn_shape_size(gc->layers[l->in[0]].out) : 0;
        L->raw_off = L->stat_off = L->d_off = -1;
        if (i)
            plan_params(net, i);
        else
            L->w = L->b = L->gamma = L->beta = -1;
        L->anc_param = L->w >= 0 || L->gamma >= 0;
        L->anc_input = i == 0;
        for (int k = 0; i && k < l->n_in; k++) {
            L->anc_param |= net->L[l->in[k]].anc_param;
            L->anc_input |= net->L[l->in[k]].anc_input;
        }
        if (L->dup >= 0) {
            L->out_off = net->L[L->dup].out_off;
            L->shared = net->L[L->dup].shared;
        } else if (l->op == MN_OP_FLATTEN) {
            L->out_off = net->L[l->in[0]].out_off;
            L->shared = net->L[l->in[0]].shared;
        } else if (L->t_off >= 0) {
            L->out_off = L->t_off;
            L->shared = 1;
        } else {
            L->out_off = act;
            act += L->out_size * mb;
        }
        if (l->bn || l->op == MN_OP_BATCHNORM) {
            L->stat_off = stats;
            stats += 2 * l->out.c;
            if (l->bn) {
                L->raw_off = act;
                act += L->out_size * mb;
            }
            if (l->op != MN_OP_CONV2D && L->out_size * mb > dtmp)
                dtmp = L->out_size * mb;
            if (mn_bn_coef_size(l->out.c, net->max_passes) > coef)
                coef = mn_bn_coef_size(l->out.c, net->max_passes);
            if (2 * l->out.c * mb > bsum) /* doubles */
                bsum = 2 * l->out.c * mb;
        }
        if (kinds[l->op].window && i) {
            struct mn_shape s = gc->layers[l->in[0]].out;
            L->win = (struct mn_win){1, s.c, s.h, s.w, l->out.c, l->out.h, l->out.w,
                                     l->kh, l->kw, l->sh, l->sw, l->pad_t, l->pad_l, 0,
                                     net->max_passes};
            L->win.direct = l->op == MN_OP_CONV2D && mn_conv2d_direct(&L->win);
            int run = l->op == MN_OP_CONV2D && L->run;
            int64_t cs = run ? mn_conv2d_col_size(&L->win) : 0;
            int64_t wss = run ? mn_conv2d_ws_size(&L->win) : 0;
            if (l->op == MN_OP_AVGPOOL && L->run)
                wss = mn_avgpool_ws_size(&L->win);
            L->col_off = cols;
            L->col_size = cs;
            cols += cs * mb;
            ws = wss > ws ? wss : ws;
        }
        if (i && L->run && (L->anc_param || L->anc_input))
            L->d_off = 0; /* needs a gradient buffer; placed by plan_grads */
        if (L->reach && l->act != MN_ACT_NONE) {
            net->relus[net->n_relus++] = (struct mn_relu_site){i, L->out_size};
            net->relu_bits += L->out_size;
        }
        if (L->reach && L->stat_off >= 0)
            net->bns[net->n_bns++] = (struct mn_bn_site){i, l->out.c};
    }
    int64_t dpool = 0;
    plan_aliases(net);
    if (plan_grads(net, &dpool))
        goto nomem;
    for (int i = 0; i < n; i++) /* every gradient buffer holds max_passes passes */
        if (net->L[i].d_off > 0)
            net->L[i].d_off *= net->max_passes;
    dpool *= net->max_passes;
    dtmp *= net->max_passes;
    net->grad_rows = opts && opts->per_sample_grads ? max_batch : 1;
    net->ws_size = ws;
    net->dtmp_size = dtmp;
    net->coef_size = coef;
    ws *= net->threads; /* each thread has its own scratch */
    dtmp *= net->threads;
    coef *= net->threads;
    bsum *= (int64_t)(sizeof(double) / net->esz);
    int64_t elems = net->n_params * (1 + net->grad_rows) + act + stats + dpool +
                    (net->keep_cols ? cols : 0) + ws + dtmp + coef + bsum;
    if (elems > MAX_BYTES / (int64_t)net->esz) {
        mn_error_set(err, MN_ETOOBIG, NULL, "network needs more than %lld bytes",
                     (long long)MAX_BYTES);
        goto fail;
    }
    /* Parameters and gradients start at zero; every other buffer is written before it
     * is read. Huge pages, for a network of at most HUGE_NET_MAX bytes: its buffers are
     * first touched by its first forward and backward, and with 4 KiB pages the page
     * faults took a quarter of a fast NTK (73 MB network: forward 51 → 29 ms); for a
     * 700 MB full-size NB201 network huge pages measured slower (snip + grad_norm 4.4 →
     * 5.6 s CPU), hence the bound. */
    void **bufs[N_BUF] = {&net->params, &net->grads, &net->act, &net->stats, &net->dpool,
                          &net->col, &net->ws, &net->dtmp, &net->coef, &net->bsum};
    const int64_t sizes[N_BUF] = {net->n_params, net->n_params * net->grad_rows, act, stats,
                                  dpool, net->keep_cols ? cols : 0, ws, dtmp, coef, bsum};
    int huge = elems <= HUGE_NET_MAX / (int64_t)net->esz;
    for (int k = 0; k < N_BUF; k++) {
        if (mn_netmem_get(&net->buf[k], (size_t)sizes[k] * net->esz, huge, k < 2))
            goto nomem;
        *bufs[k] = net->buf[k].p;
    }
    pthread_once(&blas_once, blas_single);
    return net;
nomem:
    mn_error_set(err, MN_ENOMEM, NULL, "out of memory building the network");
fail:
    if (net)
        mn_net_free(net);
    else
        mn_graph_free(gc);
    return NULL;
}

void mn_net_free(struct mn_net *net)
{
    if (!net)
        return;
    mn_netmem_put(net->buf, N_BUF);
    free(net->views);
    free(net->relus);
    free(net->bns);
    free(net->L);
    mn_graph_free(net->g);
    free(net);
}

/* ---- initialisation ---- */

static void put(struct mn_net *net, int64_t off, double v)
{
    float f = (float)v;
    if (net->dt == MN_F64)
        ((double *)net->params)[off] = f;
    else
        ((float *)net->params)[off] = f;
}

int mn_net_init_params(struct mn_net *net, enum mn_init scheme, uint64_t seed)
{
    if (!net || scheme < 0 || scheme >= MN_INIT_COUNT)
        return MN_EINVAL;
    for (int i = 1; i < net->g->n; i++) {
        struct nl *L = &net->L[i];
        struct mn_rng r;
        mn_rng_seed(&r, seed, MN_NET_INIT_STREAM + (uint64_t)i);
        if (L->w >= 0) {
            double fan = scheme == MN_INIT_KAIMING_FAN_OUT ? L->fan_out : L->fan_in;
            double bound = 1.0 / sqrt((double)L->fan_in), sd = sqrt(2.0 / fan);
            for (int64_t k = 0; k < L->n_w; k++)
                put(net, L->w + k, scheme == MN_INIT_TORCH
                                       ? bound * (2 * mn_rng_uniform(&r) - 1)
                                       : sd * mn_rng_normal(&r));
            for (int64_t k = 0; L->b >= 0 && k < L->l->out.c; k++)
                put(net, L->b + k,
                    scheme == MN_INIT_TORCH ? bound * (2 * mn_rng_uniform(&r) - 1) : 0);
        }
        for (int64_t k = 0; L->gamma >= 0 && k < L->l->out.c; k++) {
            put(net, L->gamma + k, 1);
            put(net, L->beta + k, 0);
        }
    }
    return MN_OK;
}

/* ---- running ---- */

int mn_net_set_bn_mode(struct mn_net *net, enum mn_bn_mode mode)
{
    if (!net || mode < 0 || mode >= MN_BN_COUNT)
        return MN_EINVAL;
    net->bn_mode = mode;
    return MN_OK;
}

enum mn_bn_mode mn_net_bn_mode(const struct mn_net *net)
{
    return net->bn_mode;
}

const float *mn_net_forward(struct mn_net *net, const float *x, int n)
{
    return forward_f32(net, x, n);
}

const double *mn_net_forward_f64(struct mn_net *net, const double *x, int n)
{
    return forward_f64(net, x, n);
}

int mn_net_backward(struct mn_net *net, const float *dout, float *dx, unsigned flags)
{
    return backward_f32(net, dout, dx, flags, 1, 0);
}

int mn_net_backward_f64(struct mn_net *net, const double *dout, double *dx, unsigned flags)
{
    return backward_f64(net, dout, dx, flags, 1, 0);
}

int mn_net_backward_passes(struct mn_net *net, const float *douts, int passes, int row)
{
    return backward_f32(net, douts, NULL, 0, passes, row);
}

int mn_net_backward_passes_f64(struct mn_net *net, const double *douts, int passes, int row)
{
    return backward_f64(net, douts, NULL, 0, passes, row);
}

void mn_net_zero_grad(struct mn_net *net)
{
    size_t row = (size_t)net->n_params * net->esz;
#pragma omp parallel for num_threads(net->threads) if (net->threads > 1) schedule(static)
    for (int r = 0; r < net->grad_rows; r++) /* in fast mode, as the samples are split */
        memset((char *)net->grads + r * row, 0, row);
}

/* ---- accessors ---- */

enum mn_dtype mn_net_dtype(const struct mn_net *net)
{
    return net->dt;
}

int mn_net_max_batch(const struct mn_net *net)
{
    return net->max_batch;
}

int64_t mn_net_n_params(const struct mn_net *net)
{
    return net->n_params;
}

int mn_net_grad_rows(const struct mn_net *net)
{
    return net->grad_rows;
}

float *mn_net_params(struct mn_net *net)
{
    return net->dt == MN_F32 ? net->params : NULL;
}

double *mn_net_params_f64(struct mn_net *net)
{
    return net->dt == MN_F64 ? net->params : NULL;
}

float *mn_net_grads(struct mn_net *net)
{
    return net->dt == MN_F32 ? net->grads : NULL;
}

double *mn_net_grads_f64(struct mn_net *net)
{
    return net->dt == MN_F64 ? net->grads : NULL;
}

int mn_net_param_views(const struct mn_net *net, const struct mn_param_view **views)
{
    *views = net->views;
    return net->n_views;
}

const struct mn_graph *mn_net_graph(const struct mn_net *net)
{
    return net->g;
}

struct mn_shape mn_net_out_shape(const struct mn_net *net)
{
    return net->g->layers[net->g->output].out;
}

static const void *layer_output(const struct mn_net *net, int layer, enum mn_dtype dt)
{
    if (layer < 0 || layer >= net->g->n || net->dt != dt || !net->L[layer].reach ||
        net->L[layer].shared)
        return NULL;
    return (const char *)net->act + net->L[layer].out_off * (int64_t)net->esz;
}

const float *mn_net_layer_output(const struct mn_net *net, int layer)
{
    return layer_output(net, layer, MN_F32);
}

const double *mn_net_layer_output_f64(const struct mn_net *net, int layer)
{
    return layer_output(net, layer, MN_F64);
}

int mn_net_relu_sites(const struct mn_net *net, const struct mn_relu_site **sites)
{
    *sites = net->relus;
    return net->n_relus;
}

int64_t mn_net_relu_bits(const struct mn_net *net)
{
    return net->relu_bits;
}

int mn_net_relu_pattern(const struct mn_net *net, uint64_t *words, int64_t words_per_sample)
{
    if (!net->fwd_done)
        return MN_ESTATE;
    if (!words || words_per_sample < (net->relu_bits + 63) / 64)
        return MN_EINVAL;
    if (net->dt == MN_F64)
        relu_pattern_f64(net, words, words_per_sample);
    else
        relu_pattern_f32(net, words, words_per_sample);
    return net->n;
}

int mn_net_bn_sites(const struct mn_net *net, const struct mn_bn_site **sites)
{
    *sites = net->bns;
    return net->n_bns;
}

int mn_net_bn_stats(const struct mn_net *net, int site, double *mean, double *var)
{
    if (site < 0 || site >= net->n_bns)
        return MN_EINVAL;
    if (!net->have_stats)
        return MN_ESTATE;
    if (net->dt == MN_F64)
        bn_stats_f64(net, net->bns[site].layer, mean, var);
    else
        bn_stats_f32(net, net->bns[site].layer, mean, var);
    return MN_OK;
}

int64_t mn_net_memory_bytes(const struct mn_net *net)
{
    int64_t bytes = (int64_t)sizeof *net;
    for (int k = 0; k < N_BUF; k++)
        bytes += (int64_t)net->buf[k].cap;
    return bytes;
}
#endif
