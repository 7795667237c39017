/* check_net.c — the CNN engine (net.h) on whole networks: finite-difference checks of
 * parameter and input gradients through small NB201 networks from the nb201 space
 * (ReLU-Conv-BN edges, avg pools, node sums, zero, residual blocks) and a small μNAS-like chain
 * (branch merged by Add, depthwise, asymmetric padding, pools, dense, softmax);
 * per-sample gradients; BN modes and statistics; ReLU patterns; initialisation;
 * determinism; errors; memory reuse; duplicate layers computed once; kept im2col
 * columns; shared outputs (share_acts); threads; memory from the pool of an earlier
 * network. */
#include <check.h>
#include <math.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include "net.h"
#include "netmem.h"
#include "rng.h"
#include "space.h"

/* ---- NB201 networks from the nb201 space (small settings) ---- */

/* An NB201 network for `arch` with C channels, N cells per stage, hw×hw inputs. */
static struct mn_graph *nb201(int c, int n, int hw, int classes, const char *arch)
{
    char text[160];
    snprintf(text, sizeof text, "{\"C\":%d,\"N\":%d,\"classes\":%d,"
             "\"input\":{\"c\":3,\"h\":%d,\"w\":%d}}", c, n, classes, hw, hw);
    cJSON *settings = cJSON_Parse(text);
    struct mn_error err;
    struct mn_space *sp = mn_space_create("nb201", settings, &err);
    ck_assert_msg(sp != NULL, "%s", err.message);
    struct mn_arch *a = NULL;
    struct mn_graph *g = NULL;
    ck_assert_int_eq(mn_space_arch_from_text(sp, arch, &a, &err), 0);
    ck_assert_int_eq(mn_space_lower(sp, a, &g, &err), 0);
    mn_arch_free(a);
    mn_space_free(sp);
    cJSON_Delete(settings);
    return g;
}

/* every op kind; node 1 alone, so its sum is an add of two edges */
static const char *const arch_a =
    "|nor_conv_3x3~0|+|skip_connect~0|nor_conv_1x1~1|+|avg_pool_3x3~0|none~1|nor_conv_3x3~2|";
/* node 1 is 'none' only: a zero layer */
static const char *const arch_b =
    "|none~0|+|skip_connect~0|nor_conv_3x3~1|+|avg_pool_3x3~0|none~1|nor_conv_1x1~2|";

/* μNAS-like chain: conv-BN-ReLU, max pool, a dwconv/1×1 branch and a 1×1 shortcut
 * merged by Add+ReLU, avg pool counting padding, TF-'same' strided conv, standalone
 * BN, flatten, dense+BN1d, a global-max-pool dense branch added to the logits,
 * softmax. */
static struct mn_graph *unas(void)
{
    struct mn_graph *g = mn_graph_new(3, 10, 10);
    int c1 = mn_graph_conv2d(g, 0, 4, 3, 1, 1, 1, 1, MN_ACT_RELU);
    int p = mn_graph_pool(g, MN_OP_MAXPOOL, c1, 2, 2, 0, 0);
    int b1 = mn_graph_dwconv2d(g, p, 3, 1, 1, 0, 1, MN_ACT_RELU6);
    int b2 = mn_graph_conv2d(g, b1, 6, 1, 1, 0, 1, 0, MN_ACT_NONE);
    int s = mn_graph_conv2d(g, p, 6, 1, 1, 0, 0, 1, MN_ACT_NONE);
    int ins[2] = {b2, s};
    int a = mn_graph_addn(g, ins, 2, MN_ACT_RELU);
    int ap = mn_graph_pool(g, MN_OP_AVGPOOL, a, 3, 1, 1, 1);
    struct mn_layer t = mn_layer_make(MN_OP_CONV2D, ap);
    t.filters = 5;
    t.kh = t.kw = 3;
    t.sh = t.sw = 2;
    t.pad_b = t.pad_r = 1;
    t.bias = 1;
    t.act = MN_ACT_RELU;
    int tc = mn_graph_add(g, &t);
    int bn = mn_graph_unary(g, MN_OP_BATCHNORM, tc);
    int f = mn_graph_unary(g, MN_OP_FLATTEN, bn);
    struct mn_layer d = mn_layer_make(MN_OP_DENSE, f);
    d.filters = 8;
    d.bias = 1;
    d.bn = 1;
    d.act = MN_ACT_RELU;
    int d1 = mn_graph_add(g, &d);
    int d2 = mn_graph_dense(g, d1, 4, 1, MN_ACT_NONE);
    int gm = mn_graph_unary(g, MN_OP_GMAXPOOL, a);
    int e = mn_graph_dense(g, gm, 4, 0, MN_ACT_NONE);
    int ins2[2] = {d2, e};
    int sum = mn_graph_addn(g, ins2, 2, MN_ACT_NONE);
    ck_assert_int_ge(mn_graph_unary(g, MN_OP_SOFTMAX, sum), 0);
    return g;
}

/* ---- helpers ---- */

static double *rnd(int64_t n, struct mn_rng *r)
{
    double *p = malloc((size_t)n * sizeof *p);
    for (int64_t i = 0; i < n; i++)
        p[i] = 2 * mn_rng_uniform(r) - 1;
    return p;
}

static struct mn_net *make(const struct mn_graph *g, int batch, enum mn_dtype dt, int ps)
{
    struct mn_net_opts o = {dt, ps, 0, 0, 0, 0};
    struct mn_error err;
    struct mn_net *net = mn_net_create(g, batch, &o, &err);
    ck_assert_msg(net != NULL, "%s", err.message);
    ck_assert_int_eq(mn_net_init_params(net, MN_INIT_TORCH, 11), 0);
    return net;
}

static int64_t in_size(const struct mn_net *net)
{
    return mn_shape_size(mn_net_graph(net)->layers[0].out);
}

static int64_t out_size(const struct mn_net *net)
{
    return mn_shape_size(mn_net_out_shape(net));
}

static double loss(struct mn_net *net, const double *x, const double *r, int n)
{
    const double *y = mn_net_forward_f64(net, x, n);
    double s = 0;
    for (int64_t i = 0; i < n * out_size(net); i++)
        s += r[i] * y[i];
    return s;
}

/* Checks backward on a float64 network against central differences of Σ r·out for
 * up to `max_p` parameters (spread over the buffer) and every input element; returns
 * the worst relative error. BN affine parameters are randomised first so that every
 * parameter matters. */
static double fd_net(const struct mn_graph *g, int n, int max_p)
{
    struct mn_rng rng;
    mn_rng_seed(&rng, 3, 4);
    struct mn_net *net = make(g, n, MN_F64, 0);
    double *p = mn_net_params_f64(net);
    const struct mn_param_view *v;
    int nv = mn_net_param_views(net, &v);
    for (int k = 0; k < nv; k++)
        for (int64_t i = 0; v[k].kind >= MN_PARAM_BIAS && i < v[k].count; i++)
            p[v[k].offset + i] = (v[k].kind == MN_PARAM_BN_GAMMA ? 1 : 0) +
                                 0.5 * (2 * mn_rng_uniform(&rng) - 1);
    int64_t nx = n * in_size(net), np = mn_net_n_params(net);
    double *x = rnd(nx, &rng), *r = rnd(n * out_size(net), &rng);
    double *dx = malloc((size_t)nx * sizeof *dx);
    ck_assert_ptr_nonnull(mn_net_forward_f64(net, x, n));
    mn_net_zero_grad(net);
    ck_assert_int_eq(mn_net_backward_f64(net, r, dx, 0), 0);
    const double *gr = mn_net_grads_f64(net);
    /* small enough that no ReLU/max-pool kink of these seeded inputs lies within h
     * (with 1e-6 one does, in the μNAS chain), large enough for double rounding */
    const double h = 1e-7;
    double worst = 0;
    int64_t step = np > max_p ? np / max_p : 1;
    for (int64_t k = 0; k < np + nx; k += k < np ? step : 1) {
        if (k < np && k + step > np)
            k = np - 1; /* always include the last parameter */
        double *at = k < np ? &p[k] : &x[k - np], keep = *at;
        *at = keep + h;
        double lp = loss(net, x, r, n);
        *at = keep - h;
        double lm = loss(net, x, r, n);
        *at = keep;
        double num = (lp - lm) / (2 * h), an = k < np ? gr[k] : dx[k - np];
        double err = fabs(num - an) / fmax(1e-2, fabs(num));
        if (err > worst)
            worst = err;
    }
    free(x);
    free(r);
    free(dx);
    mn_net_free(net);
    return worst;
}

/* ---- tests ---- */

static int count_ops(const struct mn_graph *g, enum mn_op op)
{
    int n = 0;
    for (int i = 0; i < g->n; i++)
        n += g->layers[i].op == op;
    return n;
}

START_TEST(nb201_cell_gradients)
{
    struct mn_graph *g = nb201(2, 1, 8, 3, arch_a);
    ck_assert_int_gt(count_ops(g, MN_OP_AVGPOOL), 0);
    ck_assert_int_gt(count_ops(g, MN_OP_ADD), 0);
    ck_assert_double_le(fd_net(g, 3, 600), 1e-5);
    mn_graph_free(g);
    g = nb201(2, 1, 8, 3, arch_b);
    ck_assert_int_gt(count_ops(g, MN_OP_ZERO), 0);
    ck_assert_double_le(fd_net(g, 3, 600), 1e-5);
    mn_graph_free(g);
}
END_TEST

START_TEST(unas_chain_gradients)
{
    struct mn_graph *g = unas();
    ck_assert_double_le(fd_net(g, 4, 100000), 1e-5);
    mn_graph_free(g);
}
END_TEST

/* Per-sample gradients in one backward (FROZEN or OFF) equal the gradient of each
 * sample's output alone, and sum to the batch gradient. */
static void check_per_sample(enum mn_bn_mode mode)
{
    struct mn_graph *g = unas();
    int n = 3;
    struct mn_net *net = make(g, n, MN_F64, 1);
    ck_assert_int_eq(mn_net_grad_rows(net), n);
    struct mn_rng rng;
    mn_rng_seed(&rng, 5, 5);
    int64_t no = out_size(net), np = mn_net_n_params(net);
    double *x = rnd(n * in_size(net), &rng), *r = rnd(n * no, &rng);
    double *mask = calloc((size_t)(n * no), sizeof *mask);
    mn_net_set_bn_mode(net, mode);
    mn_net_forward_f64(net, x, n);
    mn_net_zero_grad(net);
    ck_assert_int_eq(mn_net_backward_f64(net, r, NULL, MN_BW_PER_SAMPLE), 0);
    const double *rows = mn_net_grads_f64(net);
    double *keep = malloc((size_t)(n * np) * sizeof *keep);
    memcpy(keep, rows, (size_t)(n * np) * sizeof *keep);
    double worst = 0, norm = 0;
    for (int s = 0; s < n; s++) {
        memset(mask, 0, (size_t)(n * no) * sizeof *mask);
        memcpy(mask + s * no, r + s * no, (size_t)no * sizeof *mask);
        mn_net_zero_grad(net);
        ck_assert_int_eq(mn_net_backward_f64(net, mask, NULL, 0), 0);
        for (int64_t k = 0; k < np; k++) {
            worst = fmax(worst, fabs(rows[k] - keep[s * np + k]));
            norm = fmax(norm, fabs(rows[k]));
        }
    }
    ck_assert_double_gt(norm, 1e-3);
    ck_assert_double_le(worst, 1e-12 * fmax(1, norm));
    free(keep);
    free(x);
    free(r);
    free(mask);
    mn_net_free(net);
    mn_graph_free(g);
}

START_TEST(per_sample_gradients)
{
    check_per_sample(MN_BN_FROZEN);
    check_per_sample(MN_BN_OFF);
}
END_TEST

/* FROZEN and TRAIN share the forward; their parameter gradients differ (the batch
 * statistics carry gradient in TRAIN); OFF skips BN entirely. */
START_TEST(bn_modes)
{
    struct mn_graph *g = nb201(2, 1, 8, 3, arch_a);
    struct mn_net *net = make(g, 4, MN_F64, 0);
    struct mn_rng rng;
    mn_rng_seed(&rng, 9, 9);
    int64_t no = out_size(net), np = mn_net_n_params(net);
    double *x = rnd(4 * in_size(net), &rng), *r = rnd(4 * no, &rng);
    double *gt = malloc((size_t)np * sizeof *gt);
    const double *y = mn_net_forward_f64(net, x, 4);
    double y0 = y[0];
    mn_net_zero_grad(net);
    mn_net_backward_f64(net, r, NULL, 0);
    memcpy(gt, mn_net_grads_f64(net), (size_t)np * sizeof *gt);
    ck_assert_int_eq(mn_net_set_bn_mode(net, MN_BN_FROZEN), 0);
    mn_net_zero_grad(net);
    ck_assert_int_eq(mn_net_backward_f64(net, r, NULL, 0), 0);
    double diff = 0;
    for (int64_t k = 0; k < np; k++)
        diff = fmax(diff, fabs(gt[k] - mn_net_grads_f64(net)[k]));
    ck_assert_double_gt(diff, 1e-6);
    ck_assert_double_eq(mn_net_forward_f64(net, x, 4)[0], y0);
    /* OFF: forward changes; backward needs an OFF forward */
    ck_assert_int_eq(mn_net_set_bn_mode(net, MN_BN_OFF), 0);
    ck_assert_int_eq(mn_net_backward_f64(net, r, NULL, 0), MN_ESTATE);
    ck_assert_double_ne(mn_net_forward_f64(net, x, 4)[0], y0);
    ck_assert_int_eq(mn_net_backward_f64(net, r, NULL, 0), 0);
    ck_assert_int_eq(mn_net_set_bn_mode(net, MN_BN_COUNT), MN_EINVAL);
    free(gt);
    free(x);
    free(r);
    mn_net_free(net);
    mn_graph_free(g);
}
END_TEST

START_TEST(bn_statistics_and_relu_pattern)
{
    struct mn_graph *g = unas();
    int n = 5;
    struct mn_net *net = make(g, n, MN_F32, 0);
    struct mn_rng rng;
    mn_rng_seed(&rng, 1, 2);
    float *x = malloc((size_t)(n * in_size(net)) * sizeof *x);
    for (int64_t i = 0; i < n * in_size(net); i++)
        x[i] = (float)mn_rng_normal(&rng);
    ck_assert_int_eq(mn_net_bn_stats(net, 0, NULL, NULL), MN_ESTATE);
    ck_assert_int_eq(mn_net_relu_pattern(net, NULL, 0), MN_ESTATE);
    mn_net_forward(net, x, n);
    /* the standalone batchnorm layer: statistics of its input, by hand */
    const struct mn_bn_site *bs;
    int nb = mn_net_bn_sites(net, &bs), found = 0;
    ck_assert_int_eq(nb, 5); /* conv, dwconv, 1×1 shortcut, standalone, dense */
    for (int k = 0; k < nb; k++) {
        const struct mn_layer *l = &mn_net_graph(net)->layers[bs[k].layer];
        if (l->op != MN_OP_BATCHNORM)
            continue;
        found = 1;
        const float *in = mn_net_layer_output(net, l->in[0]);
        int c = l->out.c, hw = l->out.h * l->out.w;
        double mean[8], var[8];
        ck_assert_int_eq(mn_net_bn_stats(net, k, mean, var), 0);
        for (int ch = 0; ch < c; ch++) {
            double s = 0, s2 = 0;
            for (int i = 0; i < n; i++)
                for (int j = 0; j < hw; j++) {
                    double v = in[((int64_t)i * c + ch) * hw + j];
                    s += v;
                    s2 += v * v;
                }
            double m = s / (n * hw);
            ck_assert_double_eq_tol(mean[ch], m, 1e-5);
            ck_assert_double_eq_tol(var[ch], s2 / (n * hw) - m * m, 1e-4);
        }
    }
    ck_assert(found);
    ck_assert_int_eq(mn_net_bn_stats(net, nb, NULL, NULL), MN_EINVAL);
    /* relu pattern: one bit per positive ReLU output */
    const struct mn_relu_site *rs;
    int nr = mn_net_relu_sites(net, &rs);
    ck_assert_int_eq(nr, 5); /* conv, dwconv(relu6), add, strided conv, dense */
    int64_t bits = mn_net_relu_bits(net), wps = (bits + 63) / 64;
    uint64_t *words = malloc((size_t)(n * wps) * sizeof *words);
    ck_assert_int_eq(mn_net_relu_pattern(net, words, wps - 1), MN_EINVAL);
    ck_assert_int_eq(mn_net_relu_pattern(net, words, wps), n);
    for (int s = 0; s < n; s++) {
        int64_t pos = 0, set = 0;
        for (int k = 0; k < nr; k++) {
            const float *y = mn_net_layer_output(net, rs[k].layer) + s * rs[k].size;
            for (int64_t e = 0; e < rs[k].size; e++)
                pos += y[e] > 0;
        }
        for (int64_t w = 0; w < wps; w++)
            set += __builtin_popcountll(words[s * wps + w]);
        ck_assert_int_eq(set, pos);
        ck_assert_int_gt(pos, 0);
    }
    free(words);
    free(x);
    mn_net_free(net);
    mn_graph_free(g);
}
END_TEST

START_TEST(initialisation)
{
    struct mn_graph *g = mn_graph_new(32, 6, 6);
    mn_graph_conv2d(g, 0, 64, 3, 1, 1, 1, 1, MN_ACT_RELU); /* fan_in 288, fan_out 576 */
    struct mn_net *net = make(g, 1, MN_F32, 0);
    const struct mn_param_view *v;
    ck_assert_int_eq(mn_net_param_views(net, &v), 4);
    ck_assert_int_eq(v[0].kind, MN_PARAM_WEIGHT);
    ck_assert_int_eq(v[0].shape[1], 32);
    ck_assert_int_eq(v[1].kind, MN_PARAM_BIAS);
    ck_assert_int_eq(v[2].kind, MN_PARAM_BN_GAMMA);
    ck_assert_int_eq(v[3].offset + v[3].count, mn_net_n_params(net));
    ck_assert_int_eq(mn_net_n_params(net), mn_graph_params(g));
    for (enum mn_init s = MN_INIT_TORCH; s < MN_INIT_COUNT; s++) {
        ck_assert_int_eq(mn_net_init_params(net, s, 99), 0);
        const float *p = mn_net_params(net);
        double s1 = 0, s2 = 0, bound = 1 / sqrt(288.0), bmax = 0;
        for (int64_t i = 0; i < v[0].count; i++) {
            s1 += p[i];
            s2 += (double)p[i] * p[i];
            if (s == MN_INIT_TORCH)
                ck_assert_double_le(fabs(p[i]), bound);
        }
        double var = s2 / v[0].count - (s1 / v[0].count) * (s1 / v[0].count);
        double want = s == MN_INIT_TORCH ? bound * bound / 3
                      : s == MN_INIT_KAIMING_FAN_IN ? 2.0 / 288 : 2.0 / 576;
        ck_assert_double_eq_tol(var / want, 1.0, 0.05);
        for (int64_t i = 0; i < 64; i++) {
            bmax = fmax(bmax, fabs(p[v[1].offset + i]));
            ck_assert_double_eq(p[v[2].offset + i], 1.0);
            ck_assert_double_eq(p[v[3].offset + i], 0.0);
        }
        if (s == MN_INIT_TORCH)
            ck_assert(bmax > 0 && bmax <= bound);
        else
            ck_assert_double_eq(bmax, 0.0);
    }
    ck_assert_int_eq(mn_net_init_params(net, MN_INIT_COUNT, 1), MN_EINVAL);
    mn_net_free(net);
    mn_graph_free(g);
}
END_TEST

/* Same graph and seed → bit-identical parameters, outputs and gradients; float32 and
 * float64 networks hold the same parameters and agree closely. */
START_TEST(determinism)
{
    struct mn_graph *g = nb201(4, 2, 16, 10, arch_a);
    int n = 8;
    struct mn_net *a = make(g, n, MN_F32, 0), *b = make(g, n, MN_F32, 0);
    struct mn_net *d = make(g, n, MN_F64, 0);
    int64_t np = mn_net_n_params(a), nx = n * in_size(a), no = n * out_size(a);
    ck_assert_mem_eq(mn_net_params(a), mn_net_params(b), (size_t)np * sizeof(float));
    for (int64_t k = 0; k < np; k++)
        ck_assert(mn_net_params_f64(d)[k] == mn_net_params(a)[k]);
    struct mn_rng rng;
    mn_rng_seed(&rng, 21, 0);
    float *x = malloc((size_t)nx * sizeof *x), *r = malloc((size_t)no * sizeof *r);
    double *xd = malloc((size_t)nx * sizeof *xd), *rd = malloc((size_t)no * sizeof *rd);
    for (int64_t i = 0; i < nx; i++)
        xd[i] = x[i] = (float)mn_rng_normal(&rng);
    for (int64_t i = 0; i < no; i++)
        rd[i] = r[i] = 1;
    const float *ya = mn_net_forward(a, x, n), *yb = mn_net_forward(b, x, n);
    ck_assert_mem_eq(ya, yb, (size_t)no * sizeof *ya);
    const double *yd = mn_net_forward_f64(d, xd, n);
    for (int64_t i = 0; i < no; i++)
        ck_assert_double_eq_tol(ya[i], yd[i], 1e-4 * fmax(1, fabs(yd[i])));
    mn_net_backward(a, r, NULL, 0);
    mn_net_backward(b, r, NULL, 0);
    ck_assert_mem_eq(mn_net_grads(a), mn_net_grads(b), (size_t)np * sizeof(float));
    mn_net_init_params(b, MN_INIT_TORCH, 12);
    ck_assert(memcmp(mn_net_params(a), mn_net_params(b), (size_t)np * sizeof(float)) != 0);
    free(x);
    free(r);
    free(xd);
    free(rd);
    mn_net_free(a);
    mn_net_free(b);
    mn_net_free(d);
    mn_graph_free(g);
}
END_TEST

START_TEST(errors)
{
    struct mn_error err;
    struct mn_graph *g = unas();
    ck_assert_ptr_null(mn_net_create(g, 0, NULL, &err));
    ck_assert_int_eq(err.code, MN_EINVAL);
    struct mn_net_opts bad = {(enum mn_dtype)7, 0, 0, 0, 0, 0};
    ck_assert_ptr_null(mn_net_create(g, 2, &bad, &err));
    struct mn_graph *h = mn_graph_clone(g);
    h->layers[3].out.c = 99; /* inconsistent shape */
    ck_assert_ptr_null(mn_net_create(h, 2, NULL, &err));
    ck_assert_int_eq(err.code, MN_EINVAL);
    h->layers[3].out.c = g->layers[3].out.c;
    h->layers[5].in[0] = 9; /* forward reference */
    ck_assert_ptr_null(mn_net_create(h, 2, NULL, &err));
    mn_graph_free(h);
    struct mn_graph *only_input = mn_graph_new(1, 2, 2);
    ck_assert_ptr_null(mn_net_create(only_input, 1, NULL, &err));
    mn_graph_free(only_input);

    struct mn_net *net = make(g, 2, MN_F32, 0);
    float x[2 * 300] = {0}, r[8] = {0};
    ck_assert_int_eq(mn_net_backward(net, r, NULL, 0), MN_ESTATE);
    ck_assert_ptr_null(mn_net_forward(net, x, 3));
    ck_assert_ptr_null(mn_net_forward(net, x, 0));
    ck_assert_ptr_null(mn_net_forward_f64(net, (const double *)x, 1));
    ck_assert_ptr_null(mn_net_params_f64(net));
    ck_assert_ptr_nonnull(mn_net_forward(net, x, 2));
    ck_assert_int_eq(mn_net_backward(net, r, NULL, MN_BW_PER_SAMPLE), MN_EINVAL);
    ck_assert_int_eq(mn_net_backward_f64(net, (const double *)r, NULL, 0), MN_EINVAL);
    ck_assert_ptr_null(mn_net_layer_output(net, 99));
    mn_net_free(net);
    mn_net_free(NULL);
    mn_graph_free(g);
}
END_TEST

/* Gradient buffers with disjoint live ranges share memory: ten more layers in a chain
 * add only their activations. The input gradient is exact even when the input feeds
 * several layers. */
START_TEST(gradient_memory_is_reused)
{
    int64_t bytes[2];
    for (int k = 0; k < 2; k++) {
        struct mn_graph *g = mn_graph_new(4, 8, 8);
        int x = mn_graph_conv2d(g, 0, 8, 3, 1, 1, 0, 0, MN_ACT_NONE);
        for (int i = 0; i < 10 + 10 * k; i++)
            x = mn_graph_unary(g, MN_OP_RELU, x);
        struct mn_net *net = make(g, 16, MN_F32, 0);
        bytes[k] = mn_net_memory_bytes(net);
        mn_net_free(net);
        mn_graph_free(g);
    }
    int64_t act = 16 * 8 * 8 * 8 * (int64_t)sizeof(float);
    ck_assert_int_le(bytes[1] - bytes[0], 10 * act + 64);
    ck_assert_int_ge(bytes[1] - bytes[0], 10 * act - 64);
}
END_TEST

/* Two identical ReLUs of one layer (as NB201 gives each conv op of an edge) behave
 * exactly like one ReLU feeding both convs, with no memory of their own, and both stay
 * ReLU sites with the same pattern. Also a finite-difference check through an NB201
 * supernet cell, where several ops of an edge share their ReLU. */
START_TEST(duplicate_layers_computed_once)
{
    struct mn_graph *g[2];
    for (int k = 0; k < 2; k++) {
        g[k] = mn_graph_new(2, 6, 6);
        int c0 = mn_graph_conv2d(g[k], 0, 3, 3, 1, 1, 0, 1, MN_ACT_NONE);
        int r1 = mn_graph_unary(g[k], MN_OP_RELU, c0);
        int r2 = k ? r1 : mn_graph_unary(g[k], MN_OP_RELU, c0);
        int ins[2] = {mn_graph_conv2d(g[k], r1, 3, 3, 1, 1, 0, 1, MN_ACT_NONE),
                      mn_graph_conv2d(g[k], r2, 3, 1, 1, 0, 0, 1, MN_ACT_NONE)};
        int s = mn_graph_addn(g[k], ins, 2, MN_ACT_NONE);
        ck_assert_int_ge(mn_graph_dense(g[k], mn_graph_unary(g[k], MN_OP_GAVGPOOL, s), 2,
                                        1, MN_ACT_NONE), 0);
    }
    int n = 3;
    struct mn_net *a = make(g[0], n, MN_F64, 0), *b = make(g[1], n, MN_F64, 0);
    int64_t np = mn_net_n_params(a);
    ck_assert_int_eq(np, mn_net_n_params(b));
    ck_assert_int_eq(mn_net_memory_bytes(a), mn_net_memory_bytes(b));
    memcpy(mn_net_params_f64(b), mn_net_params_f64(a), (size_t)np * sizeof(double));
    struct mn_rng rng;
    mn_rng_seed(&rng, 5, 6);
    double *x = rnd(n * in_size(a), &rng), *r = rnd(n * out_size(a), &rng);
    const double *ya = mn_net_forward_f64(a, x, n), *yb = mn_net_forward_f64(b, x, n);
    for (int64_t i = 0; i < n * out_size(a); i++)
        ck_assert_double_eq(ya[i], yb[i]);
    mn_net_zero_grad(a);
    mn_net_zero_grad(b);
    ck_assert_int_eq(mn_net_backward_f64(a, r, NULL, 0), 0);
    ck_assert_int_eq(mn_net_backward_f64(b, r, NULL, 0), 0);
    for (int64_t i = 0; i < np; i++)
        ck_assert_double_eq_tol(mn_net_grads_f64(a)[i], mn_net_grads_f64(b)[i], 1e-12);
    const struct mn_relu_site *sa, *sb;
    ck_assert_int_eq(mn_net_relu_sites(a, &sa), 2);
    ck_assert_int_eq(mn_net_relu_sites(b, &sb), 1);
    ck_assert_int_eq(mn_net_relu_bits(a), 2 * mn_net_relu_bits(b));
    ck_assert_ptr_eq(mn_net_layer_output_f64(a, sa[0].layer),
                     mn_net_layer_output_f64(a, sa[1].layer));
    free(x);
    free(r);
    mn_net_free(a);
    mn_net_free(b);
    mn_graph_free(g[0]);
    mn_graph_free(g[1]);
    struct mn_graph *s = nb201(2, 1, 8, 3, "|nor_conv_1x1,nor_conv_3x3,avg_pool_3x3~0|+"
                               "|nor_conv_3x3~0|nor_conv_1x1,skip_connect~1|+"
                               "|nor_conv_1x1~0|none~1|nor_conv_3x3,nor_conv_1x1~2|");
    ck_assert_double_le(fd_net(s, 3, 400), 1e-5);
    mn_graph_free(s);
}
END_TEST

/* Keeping the im2col columns changes no result, only memory; repeated backward passes
 * after one forward (exact NTK) agree with fresh ones. */
START_TEST(kept_columns_change_nothing)
{
    struct mn_graph *g = nb201(3, 1, 8, 4, arch_a);
    int n = 4;
    struct mn_net *net[2];
    for (int k = 0; k < 2; k++) {
        struct mn_net_opts o = {MN_F32, 1, k, 0, 0, 0};
        struct mn_error err;
        net[k] = mn_net_create(g, n, &o, &err);
        ck_assert_msg(net[k] != NULL, "%s", err.message);
        mn_net_init_params(net[k], MN_INIT_KAIMING_FAN_OUT, 3);
    }
    ck_assert_int_gt(mn_net_memory_bytes(net[1]), mn_net_memory_bytes(net[0]));
    struct mn_rng rng;
    mn_rng_seed(&rng, 8, 9);
    int64_t nx = n * in_size(net[0]), no = n * out_size(net[0]), np = mn_net_n_params(net[0]);
    float *x = malloc((size_t)nx * sizeof *x), *r = malloc((size_t)no * sizeof *r);
    for (int64_t i = 0; i < nx; i++)
        x[i] = (float)mn_rng_normal(&rng);
    for (int64_t i = 0; i < no; i++)
        r[i] = (float)mn_rng_normal(&rng);
    for (int k = 0; k < 2; k++) {
        ck_assert_ptr_nonnull(mn_net_forward(net[k], x, n));
        mn_net_zero_grad(net[k]);
        for (int pass = 0; pass < 3; pass++) /* accumulates three identical gradients */
            ck_assert_int_eq(mn_net_backward(net[k], r, NULL, pass == 1 ? MN_BW_PER_SAMPLE : 0),
                             0);
    }
    for (int64_t i = 0; i < np * n; i++)
        ck_assert_float_eq(mn_net_grads(net[0])[i], mn_net_grads(net[1])[i]);
    free(x);
    free(r);
    mn_net_free(net[0]);
    mn_net_free(net[1]);
    mn_graph_free(g);
}
END_TEST

/* Sharing the outputs no backward reads (share_acts, with and without kept columns)
 * changes no output, gradient, input gradient, ReLU pattern or BN statistic, and
 * saves memory; mn_net_layer_output gives NULL exactly for the shared layers, never
 * for a ReLU site, and the kept ones still hold the forward's values after backward. */
START_TEST(shared_outputs_change_nothing)
{
    struct mn_graph *gs[4] = {
        nb201(3, 1, 8, 4, arch_a), nb201(3, 1, 8, 4, arch_b), unas(),
        nb201(2, 1, 8, 3, "|nor_conv_1x1,nor_conv_3x3,avg_pool_3x3~0|+"
                          "|nor_conv_3x3~0|nor_conv_1x1,skip_connect~1|+"
                          "|nor_conv_1x1~0|none~1|nor_conv_3x3,nor_conv_1x1,avg_pool_3x3~2|")};
    int n = 3;
    for (int gi = 0; gi < 4; gi++) {
        struct mn_graph *g = gs[gi];
        struct mn_net *net[3];
        for (int k = 0; k < 3; k++) {
            struct mn_net_opts o = {MN_F32, 1, k == 2, k > 0, 0, 0};
            struct mn_error err;
            net[k] = mn_net_create(g, n, &o, &err);
            ck_assert_msg(net[k] != NULL, "%s", err.message);
            mn_net_init_params(net[k], MN_INIT_TORCH, 5);
            /* BN affine parameters off their defaults, so every path matters */
            const struct mn_param_view *v;
            int nv = mn_net_param_views(net[k], &v);
            for (int i = 0; i < nv; i++)
                for (int64_t e = 0; v[i].kind >= MN_PARAM_BN_GAMMA && e < v[i].count; e++)
                    mn_net_params(net[k])[v[i].offset + e] = 0.5f + 0.1f * (float)(e % 7) -
                                                             (v[i].kind == MN_PARAM_BN_BETA);
        }
        ck_assert_int_lt(mn_net_memory_bytes(net[1]), mn_net_memory_bytes(net[0]));
        struct mn_rng rng;
        mn_rng_seed(&rng, 4, gi);
        int64_t nx = n * in_size(net[0]), no = n * out_size(net[0]);
        int64_t np = mn_net_n_params(net[0]), wps = (mn_net_relu_bits(net[0]) + 63) / 64;
        float *x = malloc((size_t)nx * sizeof *x), *r = malloc((size_t)no * sizeof *r);
        float *dx[3];
        uint64_t *pat[3];
        for (int64_t i = 0; i < nx; i++)
            x[i] = (float)mn_rng_normal(&rng);
        for (int64_t i = 0; i < no; i++)
            r[i] = (float)mn_rng_normal(&rng);
        const float *y[3];
        for (int k = 0; k < 3; k++) {
            dx[k] = malloc((size_t)nx * sizeof *dx[k]);
            pat[k] = malloc((size_t)(n * wps + 1) * sizeof *pat[k]);
            y[k] = mn_net_forward(net[k], x, n);
            ck_assert_ptr_nonnull(y[k]);
            ck_assert_int_eq(mn_net_relu_pattern(net[k], pat[k], wps), n);
            mn_net_zero_grad(net[k]);
            ck_assert_int_eq(mn_net_backward(net[k], r, dx[k], 0), 0);
            ck_assert_int_eq(mn_net_backward(net[k], r, NULL, MN_BW_PER_SAMPLE), 0);
        }
        for (int k = 1; k < 3; k++) {
            for (int64_t i = 0; i < no; i++)
                ck_assert_float_eq(y[0][i], y[k][i]);
            for (int64_t i = 0; i < np * n; i++)
                ck_assert_float_eq(mn_net_grads(net[0])[i], mn_net_grads(net[k])[i]);
            for (int64_t i = 0; i < nx; i++)
                ck_assert_float_eq(dx[0][i], dx[k][i]);
            for (int64_t i = 0; i < n * wps; i++)
                ck_assert_uint_eq(pat[0][i], pat[k][i]);
            const struct mn_bn_site *bs;
            for (int b = 0; b < mn_net_bn_sites(net[0], &bs); b++) {
                double m0[64], v0[64], m1[64], v1[64];
                ck_assert_int_eq(mn_net_bn_stats(net[0], b, m0, v0), 0);
                ck_assert_int_eq(mn_net_bn_stats(net[k], b, m1, v1), 0);
                for (int c = 0; c < bs[b].channels; c++) {
                    ck_assert_double_eq(m0[c], m1[c]);
                    ck_assert_double_eq(v0[c], v1[c]);
                }
            }
            int shared = 0;
            for (int i = 0; i < g->n; i++) {
                const float *a = mn_net_layer_output(net[0], i);
                const float *b = mn_net_layer_output(net[k], i);
                if (!b) {
                    shared += a != NULL;
                    ck_assert_int_eq(g->layers[i].act, MN_ACT_NONE);
                    continue;
                }
                ck_assert_ptr_nonnull(a);
                for (int64_t e = 0; e < n * mn_shape_size(g->layers[i].out); e++)
                    ck_assert_float_eq(a[e], b[e]);
            }
            ck_assert_int_gt(shared, 0);
            const struct mn_relu_site *rs;
            for (int s = 0; s < mn_net_relu_sites(net[k], &rs); s++)
                ck_assert_ptr_nonnull(mn_net_layer_output(net[k], rs[s].layer));
        }
        for (int k = 0; k < 3; k++) {
            free(dx[k]);
            free(pat[k]);
            mn_net_free(net[k]);
        }
        free(x);
        free(r);
        mn_graph_free(g);
    }
}
END_TEST

/* mn_net_backward_passes gives, pass for pass, bit for bit what separate
 * mn_net_backward calls give (every layer kind, direct and im2col convolutions, kept
 * columns and shared outputs, BN in every mode), into the rows it is told; it refuses
 * more passes than the network was built for, rows out of range, and dx/flags. */
START_TEST(grouped_passes_match_separate_ones)
{
    struct mn_graph *gs[4] = {nb201(3, 1, 8, 4, arch_a), nb201(16, 1, 8, 3, arch_a), unas(),
                              nb201(3, 1, 8, 4, arch_b)};
    enum { N = 3, P = 3 };
    for (int gi = 0; gi < 4; gi++)
        for (int v = 0; v < 4 * MN_BN_COUNT; v++) {
            int keep = v & 1, share = (v >> 1) & 1;
            enum mn_bn_mode mode = (enum mn_bn_mode)(v / 4);
            struct mn_net *net[2];
            for (int k = 0; k < 2; k++) {
                struct mn_net_opts o = {MN_F32, 1, keep, share, k ? P : 1, 0};
                struct mn_error err;
                net[k] = mn_net_create(gs[gi], N, &o, &err);
                ck_assert_msg(net[k] != NULL, "%s", err.message);
                mn_net_init_params(net[k], MN_INIT_TORCH, 7);
                mn_net_set_bn_mode(net[k], mode);
            }
            struct mn_rng rng;
            mn_rng_seed(&rng, 11, (uint64_t)(gi * 100 + v));
            int64_t nx = N * in_size(net[0]), no = N * out_size(net[0]);
            int64_t np = mn_net_n_params(net[0]);
            float *x = malloc((size_t)nx * sizeof *x), *r = malloc((size_t)(P * no) * sizeof *r);
            float *want = malloc((size_t)(P * np) * sizeof *want);
            for (int64_t i = 0; i < nx; i++)
                x[i] = (float)mn_rng_normal(&rng);
            for (int64_t i = 0; i < P * no; i++)
                r[i] = (float)mn_rng_normal(&rng);
            for (int k = 0; k < 2; k++)
                ck_assert_ptr_nonnull(mn_net_forward(net[k], x, N));
            for (int p = 0; p < P; p++) {
                mn_net_zero_grad(net[0]);
                ck_assert_int_eq(mn_net_backward(net[0], r + p * no, NULL, 0), 0);
                memcpy(want + p * np, mn_net_grads(net[0]), (size_t)np * sizeof *want);
            }
            mn_net_zero_grad(net[1]);
            ck_assert_int_eq(mn_net_backward_passes(net[1], r, P, 0), 0);
            ck_assert_int_eq(memcmp(want, mn_net_grads(net[1]), (size_t)(P * np) * sizeof *want),
                             0);
            /* fewer passes, at a later row; row 0 untouched */
            mn_net_zero_grad(net[1]);
            ck_assert_int_eq(mn_net_backward_passes(net[1], r + no, 2, 1), 0);
            for (int64_t i = 0; i < np; i++)
                ck_assert_float_eq(mn_net_grads(net[1])[i], 0.0f);
            ck_assert_int_eq(memcmp(want + np, mn_net_grads(net[1]) + np,
                                    (size_t)(2 * np) * sizeof *want),
                             0);
            ck_assert_int_eq(mn_net_backward_passes(net[1], r, P + 1, 0), MN_EINVAL);
            ck_assert_int_eq(mn_net_backward_passes(net[1], r, 2, 2), MN_EINVAL);
            ck_assert_int_eq(mn_net_backward_passes(net[1], r, 0, 0), MN_EINVAL);
            ck_assert_int_eq(mn_net_backward_passes(net[0], r, 2, 0), MN_EINVAL);
            ck_assert_int_eq(mn_net_backward_passes_f64(net[1], (const double *)r, 1, 0),
                             MN_EINVAL);
            free(x);
            free(r);
            free(want);
            mn_net_free(net[0]);
            mn_net_free(net[1]);
        }
    for (int gi = 0; gi < 4; gi++)
        mn_graph_free(gs[gi]);
}
END_TEST

/* One network's results for threads_change_nothing: forward output, BN statistics,
 * then for each backward (batch-summed with dx, per-sample rows with dx, P passes)
 * the gradients and dx. */
struct run_out {
    float *y, *g[3], *dx[2];
    double *stats;
    int64_t ny, ng, nx, ns; /* elements of y, of each g, of each dx, of stats */
    int taken;              /* blocks the network took from the thread's pool */
};

static int pooled_blocks(void)
{
    int n;
    size_t bytes;
    mn_netmem_pooled(&n, &bytes);
    return n;
}

static void run_all(const struct mn_graph *g, int n, int passes, int keep, enum mn_bn_mode mode,
                    int threads, const float *x, const float *r, struct run_out *o)
{
    struct mn_net_opts opts = {MN_F32, 1, keep, 0, passes, threads};
    struct mn_error err;
    int pooled = pooled_blocks();
    struct mn_net *net = mn_net_create(g, n, &opts, &err);
    ck_assert_msg(net != NULL, "%s", err.message);
    o->taken = pooled - pooled_blocks();
    mn_net_init_params(net, MN_INIT_TORCH, 3);
    mn_net_set_bn_mode(net, mode);
    int64_t nx = n * in_size(net), no = n * out_size(net), gs = n * mn_net_n_params(net);
    const float *y = mn_net_forward(net, x, n);
    ck_assert_ptr_nonnull(y);
    o->y = malloc((size_t)no * sizeof *o->y);
    memcpy(o->y, y, (size_t)no * sizeof *o->y);
    const struct mn_bn_site *bs;
    int nb = mn_net_bn_sites(net, &bs);
    o->ns = 0;
    for (int k = 0; k < nb; k++)
        o->ns += 2 * bs[k].channels;
    o->stats = calloc((size_t)(o->ns ? o->ns : 1), sizeof *o->stats);
    for (int k = 0, at = 0; mode != MN_BN_OFF && k < nb; at += 2 * bs[k].channels, k++)
        ck_assert_int_eq(mn_net_bn_stats(net, k, o->stats + at, o->stats + at + bs[k].channels),
                         0);
    o->ny = no;
    o->ng = gs;
    o->nx = nx;
    for (int b = 0; b < 3; b++) {
        o->g[b] = malloc((size_t)gs * sizeof *o->g[b]);
        mn_net_zero_grad(net);
        if (b < 2) {
            o->dx[b] = malloc((size_t)nx * sizeof *o->dx[b]);
            ck_assert_int_eq(mn_net_backward(net, r, o->dx[b], b ? MN_BW_PER_SAMPLE : 0), 0);
        } else {
            ck_assert_int_eq(mn_net_backward_passes(net, r, passes, 0), 0);
        }
        memcpy(o->g[b], mn_net_grads(net), (size_t)gs * sizeof *o->g[b]);
    }
    mn_net_free(net);
}

static void run_free(struct run_out *o)
{
    free(o->y);
    free(o->stats);
    for (int b = 0; b < 3; b++)
        free(o->g[b]);
    free(o->dx[0]);
    free(o->dx[1]);
}

/* The two runs' results are the same bits. */
static void same_runs(const struct run_out *a, const struct run_out *b)
{
    ck_assert_int_eq(memcmp(a->y, b->y, (size_t)a->ny * sizeof(float)), 0);
    ck_assert_int_eq(memcmp(a->stats, b->stats, (size_t)a->ns * sizeof(double)), 0);
    for (int k = 0; k < 3; k++)
        ck_assert_msg(memcmp(a->g[k], b->g[k], (size_t)a->ng * sizeof(float)) == 0,
                      "backward %d differs", k);
    for (int k = 0; k < 2; k++)
        ck_assert_int_eq(memcmp(a->dx[k], b->dx[k], (size_t)a->nx * sizeof(float)), 0);
}

/* A network on 2 or 3 threads gives bit for bit what it gives on one: forward output
 * and BN statistics, gradients and dx of batch-summed, per-sample and grouped backward
 * passes, in every BN mode, with and without kept columns, with a batch that does not
 * divide evenly and one smaller than the thread count (every layer kind, dense
 * included). */
START_TEST(threads_change_nothing)
{
    struct mn_graph *gs[3] = {nb201(3, 1, 8, 4, arch_a), nb201(16, 1, 8, 3, arch_b), unas()};
    enum { N = 5, P = 3 };
    for (int gi = 0; gi < 3; gi++)
        for (int v = 0; v < 2 * MN_BN_COUNT; v++) {
            int keep = v & 1;
            enum mn_bn_mode mode = (enum mn_bn_mode)(v / 2);
            struct mn_rng rng;
            mn_rng_seed(&rng, 5, (uint64_t)(gi * 100 + v));
            int64_t nx = N * mn_shape_size(gs[gi]->layers[0].out);
            int64_t no = N * mn_shape_size(gs[gi]->layers[gs[gi]->output].out);
            float *x = malloc((size_t)nx * sizeof *x), *r = malloc((size_t)(P * no) * sizeof *r);
            for (int64_t i = 0; i < nx; i++)
                x[i] = (float)mn_rng_normal(&rng);
            for (int64_t i = 0; i < P * no; i++)
                r[i] = (float)mn_rng_normal(&rng);
            struct run_out one, many;
            run_all(gs[gi], N, P, keep, mode, 1, x, r, &one);
            for (int t = 2; t <= 3; t++) {
                run_all(gs[gi], N, P, keep, mode, t, x, r, &many);
                same_runs(&one, &many);
                run_free(&many);
            }
            run_free(&one);
            /* fewer samples than threads: one thread has none, and still takes its
             * part in every BN's statistics */
            run_all(gs[gi], 2, 2, keep, mode, 1, x, r, &one);
            run_all(gs[gi], 2, 2, keep, mode, 3, x, r, &many);
            same_runs(&one, &many);
            run_free(&many);
            run_free(&one);
            free(x);
            free(r);
        }
    for (int gi = 0; gi < 3; gi++)
        mn_graph_free(gs[gi]);
}
END_TEST

/* A network built on the memory of an earlier, different one (netmem.h: the thread's
 * pool of large blocks, which still hold that network's values) gives bit for bit what
 * it gives on fresh memory, in every BN mode. */
START_TEST(pooled_memory_changes_nothing)
{
    struct mn_graph *ga = nb201(8, 1, 32, 10, arch_a), *gb = nb201(8, 1, 32, 10, arch_b);
    enum { N = 6, P = 2 };
    int64_t nx = N * mn_shape_size(ga->layers[0].out);
    int64_t no = N * mn_shape_size(ga->layers[ga->output].out);
    float *x = malloc((size_t)nx * sizeof *x), *r = malloc((size_t)(P * no) * sizeof *r);
    struct mn_rng rng;
    mn_rng_seed(&rng, 6, 1);
    for (int64_t i = 0; i < nx; i++)
        x[i] = (float)mn_rng_normal(&rng);
    for (int64_t i = 0; i < P * no; i++)
        r[i] = (float)mn_rng_normal(&rng);
    for (int mode = 0; mode < MN_BN_COUNT; mode++) {
        struct run_out fresh, other, again;
        mn_netmem_trim();
        run_all(ga, N, P, 1, (enum mn_bn_mode)mode, 1, x, r, &fresh);
        ck_assert_int_eq(fresh.taken, 0);
        ck_assert_int_gt(pooled_blocks(), 0); /* its large buffers were kept */
        run_all(gb, N, P, 1, (enum mn_bn_mode)mode, 1, x, r, &other);
        ck_assert_int_gt(other.taken, 0);
        run_all(ga, N, P, 1, (enum mn_bn_mode)mode, 1, x, r, &again);
        ck_assert_int_gt(again.taken, 0);
        same_runs(&fresh, &again);
        run_free(&fresh);
        run_free(&other);
        run_free(&again);
    }
    mn_netmem_trim();
    free(x);
    free(r);
    mn_graph_free(ga);
    mn_graph_free(gb);
}
END_TEST

Suite *net_suite(void)
{
    Suite *s = suite_create("net");
    TCase *tc = tcase_create("engine");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, nb201_cell_gradients);
    tcase_add_test(tc, unas_chain_gradients);
    tcase_add_test(tc, per_sample_gradients);
    tcase_add_test(tc, bn_modes);
    tcase_add_test(tc, bn_statistics_and_relu_pattern);
    tcase_add_test(tc, initialisation);
    tcase_add_test(tc, determinism);
    tcase_add_test(tc, errors);
    tcase_add_test(tc, gradient_memory_is_reused);
    tcase_add_test(tc, duplicate_layers_computed_once);
    tcase_add_test(tc, kept_columns_change_nothing);
    tcase_add_test(tc, shared_outputs_change_nothing);
    tcase_add_test(tc, grouped_passes_match_separate_ones);
    tcase_add_test(tc, threads_change_nothing);
    tcase_add_test(tc, pooled_memory_changes_nothing);
    suite_add_tcase(s, tc);
    return s;
}
