/* proxy_zen.c — Zen-NAS's Zen-score (Lin et al., ICCV 2021) as Zen-NAS's code computes
 * it: with Gaussian weights (N(0,1), biases 0) and BN in training mode, x and x′
 * standard Gaussian batches,
 *   zen = log( mean_n Σ |f(x) − f(x + γx′)| ) + Σ_BN log √( mean_c rv_c )
 * where f is the pre-head feature map (the input of the trailing run of global pools,
 * flatten and dense layers) and rv_c channel c's running variance after the two
 * forward passes (x, then x + γx′) starting from PyTorch's initial 1 with momentum
 * 0.1: rv = 0.81 + 0.09·u₁ + 0.1·u₂, u the unbiased batch variance of each pass. The
 * paper writes the mini-batch variance instead; the code's running variance is what
 * the published correlations were measured with, and it stays positive where a BN
 * sees a constant input (a network whose cell output is all zero), which would make
 * the paper's log −∞. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "proxy_impl.h"

/* The layer whose output is the pre-head feature map. */
static int pre_head(const struct mn_graph *g)
{
    int i = g->output;
    while (i > 0) {
        enum mn_op op = g->layers[i].op;
        if (op != MN_OP_DENSE && op != MN_OP_GAVGPOOL && op != MN_OP_GMAXPOOL &&
            op != MN_OP_FLATTEN && op != MN_OP_SOFTMAX)
            break;
        i = g->layers[i].in[0];
    }
    return i;
}

#define MOMENTUM 0.1 /* PyTorch's BatchNorm default */

/* PyTorch's running-variance update after the last forward: rv ← (1 − MOMENTUM)·rv +
 * MOMENTUM·u for every BN channel (rv in site order), u the channel's unbiased batch
 * variance over n samples of h·w each; var is scratch [max channels]. */
static void update_running_var(struct mn_net *net, int n, double *rv, double *var)
{
    const struct mn_bn_site *bns;
    const struct mn_graph *g = mn_net_graph(net);
    int nb = mn_net_bn_sites(net, &bns);
    for (int i = 0, off = 0; i < nb; off += bns[i].channels, i++) {
        struct mn_shape s = g->layers[bns[i].layer].out;
        double m = (double)n * s.h * s.w, unbias = m > 1 ? m / (m - 1) : 1;
        mn_net_bn_stats(net, i, NULL, var);
        for (int c = 0; c < bns[i].channels; c++)
            rv[off + c] = (1 - MOMENTUM) * rv[off + c] + MOMENTUM * unbias * var[c];
    }
}

int mn_proxy_zen(struct mn_proxy_ctx *ctx, double *value)
{
    int n = ctx->s->batch_size, rc = MN_OK, f = pre_head(ctx->g);
    int64_t in = mn_proxy_in_size(ctx->g), d = mn_shape_size(ctx->g->layers[f].out);
    struct mn_net *net = mn_proxy_net(ctx, n, NULL);
    if (net && !mn_net_layer_output(net, f)) { /* f's memory is shared: keep every output */
        struct mn_net_opts keep = {MN_F32, 0, 0, 0, 0, 0};
        net = mn_proxy_net(ctx, n, &keep);
    }
    if (!net)
        return ctx->err->code;
    float *x = malloc((size_t)(2 * n * in) * sizeof *x), *x2 = x ? x + n * in : NULL;
    float *f1 = malloc((size_t)(n * d) * sizeof *f1);
    const struct mn_bn_site *bns;
    int nb = mn_net_bn_sites(net, &bns), maxc = 1, total = 1;
    for (int i = 0; i < nb; i++) {
        maxc = bns[i].channels > maxc ? bns[i].channels : maxc;
        total += bns[i].channels;
    }
    double *var = malloc((size_t)maxc * sizeof *var), *rv = malloc((size_t)total * sizeof *rv);
    if (!x || !f1 || !var || !rv) {
        rc = mn_error_set(ctx->err, MN_ENOMEM, NULL, "out of memory");
        goto done;
    }
    for (int i = 0; i < total; i++)
        rv[i] = 1; /* PyTorch's initial running variance */
    if ((rc = mn_proxy_inputs(ctx, 0, 0, x, n, NULL, 0)) ||
        (rc = mn_proxy_inputs(ctx, 0, 1, x2, n, NULL, 0)))
        goto done;
    if (!mn_net_forward(net, x, n)) {
        rc = mn_error_set(ctx->err, MN_ESTATE, NULL, "engine refused the forward pass");
        goto done;
    }
    memcpy(f1, mn_net_layer_output(net, f), (size_t)(n * d) * sizeof *f1);
    update_running_var(net, n, rv, var);
    for (int64_t i = 0; i < n * in; i++)
        x2[i] = x[i] + (float)ctx->s->mixup_gamma * x2[i];
    if (!mn_net_forward(net, x2, n)) {
        rc = mn_error_set(ctx->err, MN_ESTATE, NULL, "engine refused the forward pass");
        goto done;
    }
    update_running_var(net, n, rv, var);
    double bn_term = 0;
    for (int i = 0, off = 0; i < nb; off += bns[i].channels, i++) {
        double m = 0;
        for (int c = 0; c < bns[i].channels; c++)
            m += rv[off + c];
        bn_term += 0.5 * log(m / bns[i].channels);
    }
    const float *f2 = mn_net_layer_output(net, f);
    double diff = 0;
    for (int64_t i = 0; i < n * d; i++)
        diff += fabs((double)f1[i] - (double)f2[i]);
    *value = log(diff / n) + bn_term;
done:
    free(rv);
    free(var);
    free(f1);
    free(x);
    return rc;
}
