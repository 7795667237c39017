/* ntk_engine.c — the ntk proxy's compute region alone, like for like with TE-NAS's
 * PyTorch procedure (bench/tenas_ntk_torch.py times forward, per-sample backward,
 * J·Jᵀ and eigvalsh on a network already built, with weights and inputs loaded).
 * Setup goes through the driver's own path (mn_proxy_ctx_open: the job's space, the
 * proxy's network override; mn_proxy_ntk_setup: network built and initialised, inputs
 * drawn), then mn_proxy_ntk_compute — the function mn_proxy_ntk itself calls — runs
 * `runs` times on that one setup, as the PyTorch script repeats on one network. The
 * first run also first-touches the network's memory; the later ones find it warm.
 * Prints the setup seconds, every run's seconds, best and median, and the condition
 * number (the same for every run, and the same as `monas-worker score` with the same
 * seed gives). Then `search`: `runs` more runs of the whole proxy through the driver
 * (mn_proxies_compute: network built, initialised, inputs drawn, NTK, network freed),
 * one after another as a worker thread scores candidates, so that every network after
 * the first takes the previous one's memory from the thread's pool (netmem.h); best
 * and median seconds.
 *   build: cc -O2 -std=c11 -D_GNU_SOURCE -fopenmp -Icommon bench/ntk_engine.c \
 *              build/libmonas.a $(pkg-config --cflags --libs libcjson openblas lapacke) \
 *              -lm -o build/ntk_engine
 *   usage: build/ntk_engine PROXIES ARCH [runs [seed [threads]]]   (nb201 space
 *          defaults; PROXIES e.g. '{"ntk":{"mode":"exact","repeats":1}}'; runs 3,
 *          seed 0, threads 1: mn_proxies_set_threads) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "proxy_impl.h"

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
    int runs = argc > 3 ? atoi(argv[3]) : 3;
    uint64_t seed = argc > 4 ? strtoull(argv[4], NULL, 10) : 0;
    int threads = argc > 5 ? atoi(argv[5]) : 1;
    struct mn_error err = {0};
    struct mn_proxy_config *c = NULL;
    struct mn_space *sp = NULL;
    struct mn_arch *a = NULL;
    if (argc < 3 || runs < 1 || runs > 100 || threads < 1 || threads > 64) {
        fprintf(stderr, "usage: ntk_engine PROXIES ARCH [runs [seed [threads]]]\n");
        return 2;
    }
    if (mn_proxies_parse_text(argv[1], &c, &err) || mn_proxies_count(c) != 1 ||
        strcmp(mn_proxies_name(c, 0), "ntk") != 0 ||
        !(sp = mn_space_create("nb201", NULL, &err)) ||
        mn_space_arch_from_text(sp, argv[2], &a, &err)) {
        fprintf(stderr, "ntk_engine: bad proxies (ntk only) or architecture: %s\n",
                err.message);
        return 2;
    }
    mn_proxies_set_threads(c, threads);
    char *key = mn_space_arch_key(sp, a);
    cJSON *base = mn_space_settings_json(sp);
    struct mn_proxy_ctx ctx;
    struct mn_ntk_run run;
    double t0 = mn_proxy_now(), *t = calloc((size_t)runs, sizeof *t), cond = 0;
    int rc = mn_proxy_ctx_open(&ctx, c, 0, sp, a, base, mn_hash_str(key), seed, NULL, &err);
    if (rc || (rc = mn_proxy_ntk_setup(&ctx, &run))) {
        fprintf(stderr, "ntk_engine: setup: %s\n", err.message);
        return 1;
    }
    double setup = mn_proxy_now() - t0;
    for (int r = 0; r < runs && !rc; r++) {
        double v = 0, t1 = mn_proxy_now();
        rc = mn_proxy_ntk_compute(&ctx, &run, &v);
        t[r] = mn_proxy_now() - t1;
        if (r > 0 && v != cond) {
            fprintf(stderr, "ntk_engine: run %d gave %.9g, run 0 %.9g\n", r, v, cond);
            rc = 1;
        }
        cond = v;
    }
    if (rc) {
        fprintf(stderr, "ntk_engine: compute failed: %s\n", err.message);
        return 1;
    }
    printf("setup_seconds %.4f runs", setup);
    for (int r = 0; r < runs; r++)
        printf(" %.4f", t[r]);
    qsort(t, (size_t)runs, sizeof *t, cmp_double);
    printf(" compute_seconds %.4f median %.4f cond %.17g", t[0], t[(runs - 1) / 2], cond);
    mn_proxy_ntk_release(&run);
    mn_proxy_ctx_close(&ctx);
    for (int r = 0; r < runs && !rc; r++) {
        struct mn_proxy_value v;
        double t1 = mn_proxy_now();
        rc = mn_proxies_compute(c, sp, a, seed, NULL, &v, &err);
        t[r] = mn_proxy_now() - t1;
        if (!rc && v.value != cond) {
            fprintf(stderr, "ntk_engine: search run %d gave %.9g, compute %.9g\n", r, v.value,
                    cond);
            rc = 1;
        }
    }
    if (rc) {
        fprintf(stderr, "ntk_engine: search failed: %s\n", err.message);
        return 1;
    }
    qsort(t, (size_t)runs, sizeof *t, cmp_double);
    printf(" search_seconds %.4f median %.4f\n", t[0], t[(runs - 1) / 2]);
    free(t);
    cJSON_Delete(base);
    free(key);
    mn_arch_free(a);
    mn_space_free(sp);
    mn_proxies_free(c);
    return 0;
}
