/* proxy_ntk.c — TE-NAS's NTK condition number: J holds one row per sample, the
 * gradient of that sample's summed logits with respect to every conv/dense weight and
 * BN gamma (TE-NAS takes the parameters named "weight"; biases and BN betas are out);
 * the proxy is λmax/λmin of J·Jᵀ, eigenvalues from LAPACK's dsyevd, J·Jᵀ accumulated
 * in double with dsyrk over column blocks (two partial sums, on two threads).
 *
 * Modes: "exact" runs one forward in BN training mode and one backward per sample
 * through it (the batch statistics couple the samples, as in TE-NAS's per-sample
 * backward with retain_graph); "fast" holds the BN statistics constant in backward
 * (MN_BN_FROZEN), which makes samples independent, so one backward pass with
 * per-sample gradient rows gives J. */
#include <cblas.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "ops.h"
#include "proxy_impl.h"

#define CHUNK 1024 /* J columns converted to double per dsyrk */
#define SUMS 2     /* partial sums of J·Jᵀ: chunk c goes to sum c % SUMS */

static int in_j(enum mn_param_kind k)
{
    return k == MN_PARAM_WEIGHT || k == MN_PARAM_BN_GAMMA;
}

/* One run of J columns: `count` parameters from `offset` of each J row. */
struct span {
    int64_t offset, count;
};

/* buf [n][CHUNK] ← columns [from, from + take) of the J columns (the spans one after
 * another), in double. */
static void fill(double *buf, const float *J, int64_t ld, int n, const struct span *sp,
                 int64_t from, int take)
{
    int m = 0;
    for (; m < take; sp++) {
        if (from >= sp->count) {
            from -= sp->count;
            continue;
        }
        int k = (int)(sp->count - from < take - m ? sp->count - from : take - m);
        for (int r = 0; r < n; r++)
            mn_widen(buf + (int64_t)r * CHUNK + m, J + r * ld + sp->offset + from, k);
        m += k;
        from = 0;
    }
}

/* G [n][n] (upper triangle) = J·Jᵀ over the J columns, J rows n_params apart: the
 * chunks of CHUNK columns, widened into cols [SUMS][n][CHUNK], are summed by dsyrk into
 * SUMS partial sums (G and part [SUMS - 1][n][n]), each on its own thread when there
 * are several (the sums add their chunks in order and are added last in order, so the
 * result does not depend on the thread count). */
static int gram(struct mn_net *net, const float *J, int n, double *G, double *cols,
                double *part, int threads)
{
    const struct mn_param_view *v;
    int nv = mn_net_param_views(net, &v), ns = 0;
    int64_t ld = mn_net_n_params(net), total = 0, nn = (int64_t)n * n;
    struct span *sp = malloc((size_t)(nv + 1) * sizeof *sp);
    if (!sp)
        return MN_ENOMEM;
    for (int i = 0; i < nv; i++)
        if (in_j(v[i].kind) && v[i].count > 0) {
            sp[ns++] = (struct span){v[i].offset, v[i].count};
            total += v[i].count;
        }
    memset(G, 0, (size_t)nn * sizeof *G);
    memset(part, 0, (size_t)(SUMS - 1) * (size_t)nn * sizeof *part);
    int nt = threads < SUMS ? threads : SUMS;
#pragma omp parallel for num_threads(nt) if (nt > 1) schedule(static, 1)
    for (int s = 0; s < SUMS; s++) {
        double *b = cols + (int64_t)s * n * CHUNK, *g = s ? part + (s - 1) * nn : G;
        for (int64_t from = (int64_t)s * CHUNK; from < total; from += SUMS * CHUNK) {
            int take = (int)(total - from < CHUNK ? total - from : CHUNK);
            fill(b, J, ld, n, sp, from, take);
            cblas_dsyrk(CblasRowMajor, CblasUpper, CblasNoTrans, n, take, 1.0, b, CHUNK,
                        1.0, g, n);
        }
    }
    for (int s = 1; s < SUMS; s++)
        for (int64_t e = 0; e < nn; e++)
            G[e] += part[(s - 1) * nn + e];
    free(sp);
    return MN_OK;
}

/* Backward passes the exact mode runs at once (mn_net_backward_passes): each reads
 * the forward's activations once per group. */
#ifndef PASSES /* a benchmark build may choose another group size (-DPASSES=n) */
#define PASSES 4
#endif

/* Fills the n gradient rows with J: one backward per sample (exact; `group` at a time,
 * dout [group][n][classes]) or one backward with per-sample rows (fast). */
static int jacobian(struct mn_net *net, int n, int64_t classes, enum mn_ntk_mode mode,
                    int group, float *dout)
{
    int rc;
    mn_net_zero_grad(net);
    if (mode == NTK_FAST) {
        for (int64_t i = 0; i < n * classes; i++)
            dout[i] = 1.0f;
        return mn_net_backward(net, dout, NULL, MN_BW_PER_SAMPLE);
    }
    int64_t one = n * classes; /* elements of one pass's dout */
    for (int s = 0; s < n; s += group) {
        int passes = n - s < group ? n - s : group;
        memset(dout, 0, (size_t)(passes * one) * sizeof *dout);
        for (int p = 0; p < passes; p++) /* pass p: sample s + p's summed logits */
            for (int64_t k = 0; k < classes; k++)
                dout[p * one + (s + p) * classes + k] = 1.0f;
        if ((rc = mn_net_backward_passes(net, dout, passes, s)))
            return rc;
    }
    return MN_OK;
}

int mn_proxy_ntk_setup(struct mn_proxy_ctx *ctx, struct mn_ntk_run *run)
{
    int n = ctx->s->batch_size, rc;
    /* exact: one forward serves n backward passes, so keep the im2col columns; each
     * thread takes PASSES of a call's passes */
    int exact = ctx->s->mode == NTK_EXACT, passes = exact ? PASSES * ctx->threads : 1;
    struct mn_net_opts opts = {MN_F32, 1, exact, 1, passes, ctx->threads};
    *run = (struct mn_ntk_run){.n = n, .classes = mn_proxy_out_size(ctx->g),
                               .mode = ctx->s->mode, .passes = passes};
    if (!(run->net = mn_proxy_net(ctx, n, &opts)))
        return ctx->err->code;
    /* one block (pooled per thread when large, so a candidate's setup in a search does
     * not fault in fresh pages): the doubles, then the floats */
    int64_t nn = (int64_t)n * n, doubles = SUMS * nn + n + SUMS * n * CHUNK;
    int64_t floats = n * mn_proxy_in_size(ctx->g) + n * run->classes * passes;
    size_t bytes = (size_t)doubles * sizeof(double) + (size_t)floats * sizeof(float);
    if (mn_netmem_get(&run->mem, bytes, 0, 0))
        return mn_error_set(ctx->err, MN_ENOMEM, NULL, "out of memory");
    run->G = run->mem.p;
    run->part = run->G + nn;
    run->w = run->part + (SUMS - 1) * nn;
    run->cols = run->w + n;
    run->x = (float *)(run->cols + SUMS * n * CHUNK);
    run->dout = run->x + n * mn_proxy_in_size(ctx->g);
    rc = mn_proxy_inputs(ctx, 0, 0, run->x, n, NULL, 0);
    if (rc)
        mn_proxy_ntk_release(run);
    return rc;
}

int mn_proxy_ntk_compute(struct mn_proxy_ctx *ctx, struct mn_ntk_run *run, double *value)
{
    int n = run->n;
    mn_net_set_bn_mode(run->net, run->mode == NTK_FAST ? MN_BN_FROZEN : MN_BN_TRAIN);
    if (!mn_net_forward(run->net, run->x, n) ||
        jacobian(run->net, n, run->classes, run->mode, run->passes, run->dout))
        return mn_error_set(ctx->err, MN_ESTATE, NULL, "engine refused the forward/backward");
    if (gram(run->net, mn_net_grads(run->net), n, run->G, run->cols, run->part, ctx->threads))
        return mn_error_set(ctx->err, MN_ENOMEM, NULL, "out of memory");
    if (mn_proxy_eigvalsh(run->G, n, run->w) == MN_OK)
        *value = run->w[0] > 0 ? run->w[n - 1] / run->w[0] : INFINITY;
    return MN_OK;
}

void mn_proxy_ntk_release(struct mn_ntk_run *run)
{
    mn_netmem_put(&run->mem, 1);
    run->G = run->part = run->w = run->cols = NULL;
    run->x = run->dout = NULL;
    run->net = NULL; /* owned by the context */
}

int mn_proxy_ntk(struct mn_proxy_ctx *ctx, double *value)
{
    struct mn_ntk_run run;
    int rc = mn_proxy_ntk_setup(ctx, &run);
    if (rc)
        return rc;
    rc = mn_proxy_ntk_compute(ctx, &run, value);
    mn_proxy_ntk_release(&run);
    return rc;
}
