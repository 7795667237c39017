/* ntk_modes.c — evidence for the NTK proxy's default mode: exact (per-sample backward
 * through training-mode BN, as TE-NAS) against fast (BN statistics held constant, one
 * backward pass) on seeded-random NB201 architectures at TE-NAS's setting (the nb201
 * "auto" override: C=3, N=1, 3×32×32, batch 72; one initialisation per architecture,
 * the same for both modes). Prints Kendall τ-b and Spearman ρ between the two rankings,
 * per-architecture time of each mode, and — when the NB201 accuracy table is present —
 * each mode's Kendall τ against CIFAR-10 test accuracy (lower NTK condition number
 * ranked better). Architectures are scored in parallel on `threads` threads.
 *   build: cc -O2 -std=c11 -D_GNU_SOURCE -fopenmp -Icommon bench/ntk_modes.c build/libmonas.a \
 *              $(pkg-config --cflags --libs libcjson openblas lapacke) -lpthread -lm \
 *              -o build/ntk_modes
 *   usage: build/ntk_modes [archs [seed [threads [accuracy.csv]]]]
 *          (defaults 200, 1, 2, ../shared/data/nb201/nb201-accuracy.csv) */
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "proxy.h"
#include "rng.h"
#include "space.h"

struct row {
    char *key;
    double exact, fast, t_exact, t_fast, acc;
};

struct job {
    const struct mn_space *sp;
    struct mn_arch **archs;
    struct mn_proxy_config *exact, *fast;
    struct row *rows;
    int n, next;
    uint64_t seed;
    pthread_mutex_t mu;
};

static void *worker(void *arg)
{
    struct job *j = arg;
    for (;;) {
        pthread_mutex_lock(&j->mu);
        int k = j->next < j->n ? j->next++ : -1;
        pthread_mutex_unlock(&j->mu);
        if (k < 0)
            return NULL;
        struct mn_proxy_value v;
        struct mn_error err = {0};
        if (mn_proxies_compute(j->exact, j->sp, j->archs[k], j->seed, NULL, &v, &err))
            fprintf(stderr, "exact: %s\n", err.message);
        j->rows[k].exact = v.value;
        j->rows[k].t_exact = v.seconds;
        if (mn_proxies_compute(j->fast, j->sp, j->archs[k], j->seed, NULL, &v, &err))
            fprintf(stderr, "fast: %s\n", err.message);
        j->rows[k].fast = v.value;
        j->rows[k].t_fast = v.seconds;
    }
}

/* Kendall τ-b of x and y over n points. */
static double kendall(const double *x, const double *y, int n)
{
    double c = 0, d = 0, tx = 0, ty = 0;
    for (int i = 0; i < n; i++)
        for (int k = i + 1; k < n; k++) {
            double a = x[i] - x[k], b = y[i] - y[k];
            if (a == 0 && b == 0)
                continue;
            if (a == 0)
                tx++;
            else if (b == 0)
                ty++;
            else if ((a > 0) == (b > 0))
                c++;
            else
                d++;
        }
    return (c - d) / sqrt((c + d + tx) * (c + d + ty));
}

static const double *sort_vals;
static int cmp_idx(const void *a, const void *b)
{
    double x = sort_vals[*(const int *)a], y = sort_vals[*(const int *)b];
    return (x > y) - (x < y);
}

/* Ranks (average for ties) of v[n] into r. */
static void ranks(const double *v, int n, double *r)
{
    int *idx = malloc((size_t)n * sizeof *idx);
    for (int i = 0; i < n; i++)
        idx[i] = i;
    sort_vals = v;
    qsort(idx, (size_t)n, sizeof *idx, cmp_idx);
    for (int i = 0; i < n;) {
        int k = i;
        while (k + 1 < n && v[idx[k + 1]] == v[idx[i]])
            k++;
        for (int m = i; m <= k; m++)
            r[idx[m]] = (i + k) / 2.0;
        i = k + 1;
    }
    free(idx);
}

static double spearman(const double *x, const double *y, int n)
{
    double *rx = malloc((size_t)n * sizeof *rx), *ry = malloc((size_t)n * sizeof *ry);
    ranks(x, n, rx);
    ranks(y, n, ry);
    double mx = 0, my = 0, sxy = 0, sxx = 0, syy = 0;
    for (int i = 0; i < n; i++) {
        mx += rx[i] / n;
        my += ry[i] / n;
    }
    for (int i = 0; i < n; i++) {
        sxy += (rx[i] - mx) * (ry[i] - my);
        sxx += (rx[i] - mx) * (rx[i] - mx);
        syy += (ry[i] - my) * (ry[i] - my);
    }
    free(rx);
    free(ry);
    return sxy / sqrt(sxx * syy);
}

/* CIFAR-10 accuracy of `key` from the NB201 table (column 1, architecture column 4). */
static double accuracy(const char *csv, const char *key)
{
    FILE *f = csv ? fopen(csv, "r") : NULL;
    char line[1024];
    double acc = NAN;
    while (f && fgets(line, sizeof line, f)) {
        char *c1 = strchr(line, ','), *c2 = c1 ? strchr(c1 + 1, ',') : NULL;
        char *c3 = c2 ? strchr(c2 + 1, ',') : NULL, *c4 = c3 ? strchr(c3 + 1, ',') : NULL;
        if (c4 && strncmp(c3 + 1, key, (size_t)(c4 - c3 - 1)) == 0 &&
            strlen(key) == (size_t)(c4 - c3 - 1)) {
            acc = atof(line);
            break;
        }
    }
    if (f)
        fclose(f);
    return acc;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static void stats(const char *name, const double *t, int n)
{
    double *s = malloc((size_t)n * sizeof *s), sum = 0;
    memcpy(s, t, (size_t)n * sizeof *s);
    qsort(s, (size_t)n, sizeof *s, cmp_double);
    for (int i = 0; i < n; i++)
        sum += s[i];
    printf("  %-5s seconds per architecture: mean %.3f, median %.3f, min %.3f, max %.3f\n",
           name, sum / n, s[n / 2], s[0], s[n - 1]);
    free(s);
}

int main(int argc, char **argv)
{
    int n = argc > 1 ? atoi(argv[1]) : 200, threads = argc > 3 ? atoi(argv[3]) : 2;
    uint64_t seed = argc > 2 ? strtoull(argv[2], NULL, 10) : 1;
    const char *csv = argc > 4 ? argv[4] : "../shared/data/nb201/nb201-accuracy.csv";
    struct mn_error err = {0};
    struct job j = {.n = n, .seed = seed};
    j.sp = mn_space_create("nb201", NULL, &err);
    if (!j.sp || n < 3 || threads < 1 || threads > 64 ||
        mn_proxies_parse_text("{\"ntk\":{\"mode\":\"exact\",\"repeats\":1}}", &j.exact, &err) ||
        mn_proxies_parse_text("{\"ntk\":{\"mode\":\"fast\",\"repeats\":1}}", &j.fast, &err)) {
        fprintf(stderr, "ntk_modes: bad arguments or setup: %s\n", err.message);
        return 2;
    }
    j.archs = calloc((size_t)n, sizeof *j.archs);
    j.rows = calloc((size_t)n, sizeof *j.rows);
    struct mn_rng r;
    mn_rng_seed(&r, seed, 0x6e746b);
    for (int k = 0; k < n;) { /* distinct architectures */
        struct mn_arch *a;
        mn_space_sample(j.sp, &r, &a);
        char *key = mn_space_arch_key(j.sp, a);
        int dup = 0;
        for (int m = 0; m < k && !dup; m++)
            dup = strcmp(j.rows[m].key, key) == 0;
        if (dup) {
            free(key);
            mn_arch_free(a);
            continue;
        }
        j.archs[k] = a;
        j.rows[k].key = key;
        j.rows[k].acc = accuracy(csv, key);
        k++;
    }
    pthread_t tid[64];
    pthread_mutex_init(&j.mu, NULL);
    for (int t = 0; t < threads; t++)
        pthread_create(&tid[t], NULL, worker, &j);
    for (int t = 0; t < threads; t++)
        pthread_join(tid[t], NULL);

    double *e = malloc((size_t)n * sizeof *e), *f = malloc((size_t)n * sizeof *f);
    double *te = malloc((size_t)n * sizeof *te), *tf = malloc((size_t)n * sizeof *tf);
    double *ne = malloc((size_t)n * sizeof *ne), *nf = malloc((size_t)n * sizeof *nf);
    double *acc = malloc((size_t)n * sizeof *acc);
    int na = 0, degenerate = 0;
    printf("# arch\tntk_exact\tntk_fast\tseconds_exact\tseconds_fast\tcifar10_acc\n");
    for (int k = 0; k < n; k++) {
        struct row *w = &j.rows[k];
        printf("%s\t%.9g\t%.9g\t%.4f\t%.4f\t%.2f\n", w->key, w->exact, w->fast, w->t_exact,
               w->t_fast, w->acc);
        e[k] = w->exact;
        f[k] = w->fast;
        te[k] = w->t_exact;
        tf[k] = w->t_fast;
        degenerate += w->exact >= MN_PROXY_SENTINEL || w->fast >= MN_PROXY_SENTINEL;
        if (!isnan(w->acc)) {
            ne[na] = -w->exact;
            nf[na] = -w->fast;
            acc[na++] = w->acc;
        }
    }
    printf("\nNTK exact vs fast over %d seeded-random NB201 architectures (seed %llu; C=3, "
           "N=1, batch 72, kaiming fan_out, one initialisation each; %d with a degenerate "
           "value in either mode, ranked last):\n", n, (unsigned long long)seed, degenerate);
    printf("  Kendall tau-b %.3f, Spearman rho %.3f\n", kendall(e, f, n), spearman(e, f, n));
    stats("exact", te, n);
    stats("fast", tf, n);
    if (na > 2)
        printf("  against CIFAR-10 accuracy (%d archs): Kendall tau exact %.3f, fast %.3f; "
               "Spearman rho exact %.3f, fast %.3f\n", na, kendall(ne, acc, na),
               kendall(nf, acc, na), spearman(ne, acc, na), spearman(nf, acc, na));
    else
        printf("  (no NB201 accuracy table at %s: accuracy correlation skipped)\n", csv);
    for (int k = 0; k < n; k++) {
        free(j.rows[k].key);
        mn_arch_free(j.archs[k]);
    }
    free(e);
    free(f);
    free(te);
    free(tf);
    free(ne);
    free(nf);
    free(acc);
    free(j.rows);
    free(j.archs);
    mn_proxies_free(j.exact);
    mn_proxies_free(j.fast);
    mn_space_free((struct mn_space *)j.sp);
    return 0;
}
