/* net_bench.c — forward+backward speed of the CNN engine on a full-size NB201 network
 * (nb201 space defaults: C=16, N=5, 3×32×32 input, 10 classes), float32,
 * training-mode BN, default architecture: every edge nor_conv_3x3 (the largest).
 * Prints time per pass and achieved GFLOP/s (2 FLOPs per multiply-accumulate; backward
 * counts weight and input gradients of every conv/dense, no input gradient for the
 * first layer), against the machine's single-core sgemm peak measured first (square
 * 2048 matrices, OpenBLAS single-threaded, best of 3).
 *   build: cc -O2 -std=c11 -fopenmp -Icommon bench/net_bench.c build/libmonas.a \
 *              $(pkg-config --cflags --libs libcjson openblas) -lm -o build/net_bench
 *   usage: build/net_bench [batch [repeats [arch]]]   (defaults 64, 5) */
#define _POSIX_C_SOURCE 200809L
#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include "graph.h"
#include "net.h"
#include "rng.h"
#include "space.h"

#define LARGEST "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+" \
                "|nor_conv_3x3~0|nor_conv_3x3~1|nor_conv_3x3~2|"

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

/* Single-core sgemm GFLOP/s on n×n matrices, best of 3. */
static double sgemm_peak(int n)
{
    float *a = malloc((size_t)n * n * sizeof *a), *b = malloc((size_t)n * n * sizeof *b);
    float *c = malloc((size_t)n * n * sizeof *c);
    if (!a || !b || !c)
        return 0;
    for (int64_t i = 0; i < (int64_t)n * n; i++) {
        a[i] = (float)(i % 7) - 3;
        b[i] = (float)(i % 5) - 2;
        c[i] = 0;
    }
    double best = 1e9; /* BLAS is single-threaded: main built a network first (net.h) */
    for (int k = 0; k < 3; k++) {
        double t = now();
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1, a, n, b, n, 0, c, n);
        t = now() - t;
        best = t < best ? t : best;
    }
    free(a);
    free(b);
    free(c);
    return 2.0 * n * n * (double)n / best / 1e9;
}

int main(int argc, char **argv)
{
    int batch = argc > 1 ? atoi(argv[1]) : 64, reps = argc > 2 ? atoi(argv[2]) : 5;
    if (batch < 1 || reps < 1) {
        fprintf(stderr, "usage: net_bench [batch [repeats]]\n");
        return 2;
    }
    const char *text = argc > 3 ? argv[3] : LARGEST;
    struct mn_error err;
    struct mn_space *sp = mn_space_create("nb201", NULL, &err);
    struct mn_arch *a = NULL;
    struct mn_graph *g = NULL;
    struct mn_net *net = NULL;
    if (sp && mn_space_arch_from_text(sp, text, &a, &err) == 0 &&
        mn_space_lower(sp, a, &g, &err) == 0)
        net = mn_net_create(g, batch, NULL, &err);
    mn_arch_free(a);
    mn_space_free(sp);
    if (!net) {
        fprintf(stderr, "net_bench: %s\n", err.message);
        mn_graph_free(g);
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
    double ff = 2.0 * macs * batch, fb = 2.0 * bw * batch, peak = sgemm_peak(2048);
    printf("nb201 %s C=16 N=5 32x32 batch %d: %d layers, %lld params, %.1f MMAC/sample, "
           "memory %.0f MB\n", text, batch, g->n, (long long)mn_net_n_params(net), macs / 1e6,
           mn_net_memory_bytes(net) / 1e6);
    printf("single-core sgemm peak (2048^3, best of 3): %.1f GFLOP/s\n", peak);
    printf("forward  %.3f s  %.1f GFLOP/s  %.0f%% of peak\n", best_f, ff / best_f / 1e9,
           100 * ff / best_f / 1e9 / peak);
    printf("backward %.3f s  %.1f GFLOP/s  %.0f%% of peak\n", best_b, fb / best_b / 1e9,
           100 * fb / best_b / 1e9 / peak);
    printf("total    %.3f s  %.1f GFLOP/s  %.0f%% of peak (best of %d)\n", best_f + best_b,
           (ff + fb) / (best_f + best_b) / 1e9, 100 * (ff + fb) / (best_f + best_b) / 1e9 / peak,
           reps);
    free(x);
    free(dout);
    mn_net_free(net);
    mn_graph_free(g);
    return 0;
}
