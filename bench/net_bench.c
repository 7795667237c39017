/* net_bench.c — forward+backward speed of the CNN engine on a full-size NB201-like
 * network (C=16, N=5, 32×32 input, 10 classes; every cell edge nor_conv_3x3, the
 * largest NB201 network) built with graph.h builders, float32, training-mode BN.
 * Prints time per pass and achieved GFLOP/s (2 FLOPs per multiply-accumulate; backward
 * counts weight and input gradients of every conv/dense, no input gradient for the
 * first layer). Until the nb201 space is on main the cell is built here.
 *   build: cc -O2 -std=c11 -Icommon bench/net_bench.c build/libmonas.a \
 *              $(pkg-config --cflags --libs openblas) -lm -o build/net_bench
 *   usage: build/net_bench [batch [repeats]]   (defaults 64, 5) */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include "graph.h"
#include "net.h"
#include "rng.h"

static int rcb(struct mn_graph *g, int in, int c, int stride)
{
    int r = mn_graph_unary(g, MN_OP_RELU, in);
    return mn_graph_conv2d(g, r, c, 3, stride, 1, 0, 1, MN_ACT_NONE);
}

static int cell(struct mn_graph *g, int in, int c)
{
    int node[4] = {in};
    for (int j = 1; j < 4; j++) {
        int t[3];
        for (int i = 0; i < j; i++)
            t[i] = rcb(g, node[i], c, 1);
        node[j] = j == 1 ? t[0] : mn_graph_addn(g, t, j, MN_ACT_NONE);
    }
    return node[3];
}

static struct mn_graph *nb201(int c, int n)
{
    struct mn_graph *g = mn_graph_new(3, 32, 32);
    int x = mn_graph_conv2d(g, 0, c, 3, 1, 1, 0, 1, MN_ACT_NONE);
    for (int s = 0; s < 3; s++) {
        if (s) {
            int b = rcb(g, rcb(g, x, c << s, 2), c << s, 1);
            int p = mn_graph_pool(g, MN_OP_AVGPOOL, x, 2, 2, 0, 0);
            int ins[2] = {b, mn_graph_conv2d(g, p, c << s, 1, 1, 0, 0, 0, MN_ACT_NONE)};
            x = mn_graph_addn(g, ins, 2, MN_ACT_NONE);
        }
        for (int k = 0; k < n; k++)
            x = cell(g, x, c << s);
    }
    struct mn_layer bn = mn_layer_make(MN_OP_BATCHNORM, x);
    bn.act = MN_ACT_RELU;
    x = mn_graph_add(g, &bn);
    x = mn_graph_unary(g, MN_OP_GAVGPOOL, x);
    mn_graph_dense(g, x, 10, 1, MN_ACT_NONE);
    return g;
}

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

int main(int argc, char **argv)
{
    int batch = argc > 1 ? atoi(argv[1]) : 64, reps = argc > 2 ? atoi(argv[2]) : 5;
    if (batch < 1 || reps < 1) {
        fprintf(stderr, "usage: net_bench [batch [repeats]]\n");
        return 2;
    }
    struct mn_graph *g = nb201(16, 5);
    struct mn_error err;
    struct mn_net *net = mn_net_create(g, batch, NULL, &err);
    if (!net) {
        fprintf(stderr, "net_bench: %s\n", err.message);
        return 1;
    }
    mn_net_init_params(net, MN_INIT_TORCH, 1);
    int64_t nx = batch * mn_shape_size(g->layers[0].out), macs = mn_graph_macs(g), bw = 0;
    for (int i = 1; i < g->n; i++)
        bw += mn_layer_macs(g, i) * (g->layers[i].in[0] == 0 ? 1 : 2);
    float *x = malloc((size_t)nx * sizeof *x), *dout = malloc((size_t)batch * 10 * sizeof *dout);
    struct mn_rng r;
    mn_rng_seed(&r, 1, 0);
    for (int64_t i = 0; i < nx; i++)
        x[i] = (float)mn_rng_normal(&r);
    for (int i = 0; i < batch * 10; i++)
        dout[i] = 1;
    double best_f = 1e9, best_b = 1e9;
    for (int k = 0; k < reps; k++) {
        double t0 = now();
        mn_net_forward(net, x, batch);
        double t1 = now();
        mn_net_zero_grad(net);
        mn_net_backward(net, dout, NULL, 0);
        double t2 = now();
        best_f = t1 - t0 < best_f ? t1 - t0 : best_f;
        best_b = t2 - t1 < best_b ? t2 - t1 : best_b;
    }
    double ff = 2.0 * macs * batch, fb = 2.0 * bw * batch;
    printf("nb201-like C=16 N=5 32x32 batch %d: %d layers, %lld params, %.1f MMAC/sample, "
           "memory %.0f MB\n", batch, g->n, (long long)mn_net_n_params(net), macs / 1e6,
           mn_net_memory_bytes(net) / 1e6);
    printf("forward  %.3f s  %.1f GFLOP/s\n", best_f, ff / best_f / 1e9);
    printf("backward %.3f s  %.1f GFLOP/s\n", best_b, fb / best_b / 1e9);
    printf("total    %.3f s  %.1f GFLOP/s (best of %d)\n", best_f + best_b,
           (ff + fb) / (best_f + best_b) / 1e9, reps);
    free(x);
    free(dout);
    mn_net_free(net);
    mn_graph_free(g);
    return 0;
}
