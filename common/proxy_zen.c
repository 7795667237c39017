/* proxy_zen.c — Zen-NAS's Zen-score (Lin et al., ICCV 2021): with Gaussian weights
 * (N(0,1), biases 0) and BN in training mode, x and x′ standard Gaussian batches,
 *   zen = log( mean_n Σ |f(x) − f(x + γx′)| ) + Σ_BN log √( mean_c σ²_c )
 * where f is the pre-head feature map (the input of the trailing run of global pools,
 * flatten and dense layers) and σ²_c the batch variance BN normalised channel c with
 * in the forward pass of x (the paper's mini-batch statistics; Zen-NAS's code reads
 * running_var after two momentum updates instead). */
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

int mn_proxy_zen(struct mn_proxy_ctx *ctx, double *value)
{
    int n = ctx->s->batch_size, rc = MN_OK, f = pre_head(ctx->g);
    int64_t in = mn_proxy_in_size(ctx->g), d = mn_shape_size(ctx->g->layers[f].out);
    struct mn_net *net = mn_proxy_net(ctx, n, NULL);
    if (!net)
        return ctx->err->code;
    float *x = malloc((size_t)(2 * n * in) * sizeof *x), *x2 = x ? x + n * in : NULL;
    float *f1 = malloc((size_t)(n * d) * sizeof *f1);
    double *var = NULL;
    const struct mn_bn_site *bns;
    int nb = mn_net_bn_sites(net, &bns), maxc = 1;
    for (int i = 0; i < nb; i++)
        maxc = bns[i].channels > maxc ? bns[i].channels : maxc;
    var = malloc((size_t)maxc * sizeof *var);
    if (!x || !f1 || !var) {
        rc = mn_error_set(ctx->err, MN_ENOMEM, NULL, "out of memory");
        goto done;
    }
    if ((rc = mn_proxy_inputs(ctx, 0, 0, x, n, NULL, 0)) ||
        (rc = mn_proxy_inputs(ctx, 0, 1, x2, n, NULL, 0)))
        goto done;
    if (!mn_net_forward(net, x, n)) {
        rc = mn_error_set(ctx->err, MN_ESTATE, NULL, "engine refused the forward pass");
        goto done;
    }
    memcpy(f1, mn_net_layer_output(net, f), (size_t)(n * d) * sizeof *f1);
    double bn_term = 0;
    for (int i = 0; i < nb; i++) {
        double m = 0;
        mn_net_bn_stats(net, i, NULL, var);
        for (int c = 0; c < bns[i].channels; c++)
            m += var[c];
        bn_term += 0.5 * log(m / bns[i].channels);
    }
    for (int64_t i = 0; i < n * in; i++)
        x2[i] = x[i] + (float)ctx->s->mixup_gamma * x2[i];
    if (!mn_net_forward(net, x2, n)) {
        rc = mn_error_set(ctx->err, MN_ESTATE, NULL, "engine refused the forward pass");
        goto done;
    }
    const float *f2 = mn_net_layer_output(net, f);
    double diff = 0;
    for (int64_t i = 0; i < n * d; i++)
        diff += fabs((double)f1[i] - (double)f2[i]);
    *value = log(diff / n) + bn_term;
done:
    free(var);
    free(f1);
    free(x);
    return rc;
}
