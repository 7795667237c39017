/* proxy_grad.c — the gradient-based proxies of zero-cost-nas (Abdelfattah et al.),
 * summed over the conv/dense weight tensors (their get_layer_metric_array):
 *   synflow    float64 network, BN off, every parameter replaced by its absolute
 *              value, one all-ones input, R = Σ outputs: Σ |θ ⊙ ∂R/∂θ|
 *   snip       cross-entropy L (mean over the batch) on seeded labels: Σ |θ ⊙ ∂L/∂θ|
 *   grad_norm  Σ over weight tensors of ‖∂L/∂W‖₂
 *   jacob_cov  per-sample input gradients of Σ outputs (BN training mode: one backward
 *              of all-ones), their row correlation matrix C, eigenvalues v:
 *              −Σ [log(v + k) + 1/(v + k)], k = 1e-5 */
#include <cblas.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "proxy_impl.h"

#define JACOB_K 1e-5

int mn_proxy_synflow(struct mn_proxy_ctx *ctx, double *value)
{
    struct mn_net_opts opts = {MN_F64, 0, 0, 1, 0, 0};
    struct mn_net *net = mn_proxy_net(ctx, 1, &opts);
    if (!net)
        return ctx->err->code;
    int64_t in = mn_proxy_in_size(ctx->g), out = mn_proxy_out_size(ctx->g);
    int64_t np = mn_net_n_params(net);
    double *x = malloc((size_t)(in + out) * sizeof *x), *p = mn_net_params_f64(net);
    int rc = MN_OK;
    if (!x) {
        rc = mn_error_set(ctx->err, MN_ENOMEM, NULL, "out of memory");
        goto done;
    }
    for (int64_t i = 0; i < in + out; i++)
        x[i] = 1.0; /* the input, then dout */
    for (int64_t i = 0; i < np; i++)
        p[i] = fabs(p[i]);
    mn_net_set_bn_mode(net, MN_BN_OFF);
    mn_net_zero_grad(net);
    if (!mn_net_forward_f64(net, x, 1) || mn_net_backward_f64(net, x + in, NULL, 0)) {
        rc = mn_error_set(ctx->err, MN_ESTATE, NULL, "engine refused the forward/backward");
        goto done;
    }
    const struct mn_param_view *v;
    int nv = mn_net_param_views(net, &v);
    const double *g = mn_net_grads_f64(net);
    double s = 0;
    for (int i = 0; i < nv; i++)
        for (int64_t k = 0; v[i].kind == MN_PARAM_WEIGHT && k < v[i].count; k++)
            s += fabs(p[v[i].offset + k] * g[v[i].offset + k]);
    *value = s;
done:
    free(x);
    return rc;
}

/* Forward and backward of the mean cross-entropy on batch 0 with labels; leaves the
 * batch-summed parameter gradients in the network. */
static int ce_backward(struct mn_proxy_ctx *ctx, struct mn_net *net)
{
    int n = ctx->s->batch_size;
    int64_t in = mn_proxy_in_size(ctx->g), classes = mn_proxy_out_size(ctx->g);
    float *x = malloc((size_t)(n * in) * sizeof *x);
    float *dout = malloc((size_t)(n * classes) * sizeof *dout);
    int *labels = malloc((size_t)n * sizeof *labels), rc;
    const float *y = NULL;
    if (!x || !dout || !labels)
        rc = mn_error_set(ctx->err, MN_ENOMEM, NULL, "out of memory");
    else if (!(rc = mn_proxy_inputs(ctx, 0, 0, x, n, labels, (int)classes)) &&
             !(y = mn_net_forward(net, x, n)))
        rc = mn_error_set(ctx->err, MN_ESTATE, NULL, "engine refused the forward pass");
    for (int i = 0; !rc && i < n; i++) {
        const float *yi = y + i * classes;
        double mx = yi[0], z = 0;
        for (int64_t k = 1; k < classes; k++)
            mx = yi[k] > mx ? yi[k] : mx;
        for (int64_t k = 0; k < classes; k++)
            z += exp(yi[k] - mx);
        for (int64_t k = 0; k < classes; k++)
            dout[i * classes + k] =
                (float)((exp(yi[k] - mx) / z - (k == labels[i])) / n);
    }
    if (!rc) {
        mn_net_zero_grad(net);
        if (mn_net_backward(net, dout, NULL, 0))
            rc = mn_error_set(ctx->err, MN_ESTATE, NULL, "engine refused the backward pass");
    }
    free(labels);
    free(dout);
    free(x);
    return rc;
}

enum reduce { R_SNIP, R_NORM };

static int loss_proxy(struct mn_proxy_ctx *ctx, enum reduce how, double *value)
{
    struct mn_net *net = mn_proxy_net(ctx, ctx->s->batch_size, NULL);
    if (!net)
        return ctx->err->code;
    int rc = ce_backward(ctx, net);
    const struct mn_param_view *v;
    int nv = mn_net_param_views(net, &v);
    const float *p = mn_net_params(net), *g = mn_net_grads(net);
    double s = 0;
    for (int i = 0; !rc && i < nv; i++) {
        if (v[i].kind != MN_PARAM_WEIGHT)
            continue;
        double t = 0;
        for (int64_t k = 0; k < v[i].count; k++) {
            double gk = g[v[i].offset + k];
            t += how == R_SNIP ? fabs(p[v[i].offset + k] * gk) : gk * gk;
        }
        s += how == R_SNIP ? t : sqrt(t);
    }
    *value = s;
    return rc;
}

int mn_proxy_snip(struct mn_proxy_ctx *ctx, double *value)
{
    return loss_proxy(ctx, R_SNIP, value);
}

int mn_proxy_grad_norm(struct mn_proxy_ctx *ctx, double *value)
{
    return loss_proxy(ctx, R_NORM, value);
}

int mn_proxy_jacob_cov(struct mn_proxy_ctx *ctx, double *value)
{
    int n = ctx->s->batch_size, rc = MN_OK;
    int64_t in = mn_proxy_in_size(ctx->g), out = mn_proxy_out_size(ctx->g);
    struct mn_net *net = mn_proxy_net(ctx, n, NULL);
    if (!net)
        return ctx->err->code;
    float *x = malloc((size_t)(n * in) * sizeof *x), *dx = malloc((size_t)(n * in) * sizeof *dx);
    float *dout = malloc((size_t)(n * out) * sizeof *dout);
    double *z = malloc((size_t)(n * in) * sizeof *z), *C = malloc((size_t)n * n * sizeof *C);
    double *w = malloc((size_t)n * sizeof *w);
    if (!x || !dx || !dout || !z || !C || !w) {
        rc = mn_error_set(ctx->err, MN_ENOMEM, NULL, "out of memory");
        goto done;
    }
    if ((rc = mn_proxy_inputs(ctx, 0, 0, x, n, NULL, 0)))
        goto done;
    for (int64_t i = 0; i < n * out; i++)
        dout[i] = 1.0f;
    if (!mn_net_forward(net, x, n) || mn_net_backward(net, dout, dx, MN_BW_NO_PARAMS)) {
        rc = mn_error_set(ctx->err, MN_ESTATE, NULL, "engine refused the forward/backward");
        goto done;
    }
    for (int i = 0; i < n; i++) { /* rows centred and scaled to unit norm */
        double *zi = z + i * in, mean = 0, ss = 0;
        for (int64_t k = 0; k < in; k++)
            mean += dx[i * in + k];
        mean /= (double)in;
        for (int64_t k = 0; k < in; k++) {
            zi[k] = dx[i * in + k] - mean;
            ss += zi[k] * zi[k];
        }
        double inv = 1.0 / sqrt(ss); /* inf for a constant row: degenerate */
        for (int64_t k = 0; k < in; k++)
            zi[k] *= inv;
    }
    memset(C, 0, (size_t)n * n * sizeof *C);
    cblas_dsyrk(CblasRowMajor, CblasUpper, CblasNoTrans, n, (int)in, 1.0, z, (int)in, 0.0, C, n);
    for (int i = 0; i < n * n; i++)
        if (!isfinite(C[i])) {
            *value = NAN;
            goto done;
        }
    if (mn_proxy_eigvalsh(C, n, w) == MN_OK) {
        double s = 0;
        for (int i = 0; i < n; i++)
            s += log(w[i] + JACOB_K) + 1.0 / (w[i] + JACOB_K);
        *value = -s;
    }
done:
    free(w);
    free(C);
    free(z);
    free(dout);
    free(dx);
    free(x);
    return rc;
}
