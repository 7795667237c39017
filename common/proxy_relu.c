/* proxy_relu.c — the proxies read from ReLU sign patterns of a forward pass in BN
 * training mode (net.h mn_net_relu_pattern):
 *   linear_regions  TE-NAS: the number of distinct patterns over batches × batch_size
 *                   inputs, counted by hashing the packed patterns (not TE-NAS's N²
 *                   matrix); like TE-NAS's hooks (ReLUs on 4-D tensors) it leaves out
 *                   the ReLUs of dense layers
 *   naswot          Mellor et al.: log|K|, K_ij = Σ over every ReLU of the units where
 *                   samples i and j agree = bits − Hamming(c_i, c_j), log-determinant
 *                   by LU in double. */
#include <lapacke.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "proxy_impl.h"

/* Runs batch b forward and packs its patterns into words [n][wps]. */
static int patterns(struct mn_proxy_ctx *ctx, struct mn_net *net, int b, float *x, int n,
                    uint64_t *words, int64_t wps)
{
    int rc = mn_proxy_inputs(ctx, b, 0, x, n, NULL, 0);
    if (rc)
        return rc;
    if (!mn_net_forward(net, x, n) || mn_net_relu_pattern(net, words, wps) != n)
        return mn_error_set(ctx->err, MN_ESTATE, NULL, "engine refused the forward pass");
    return MN_OK;
}

/* The pattern bits to keep: every site except dense layers' (mask [wps]). */
static void conv_sites_mask(struct mn_net *net, uint64_t *mask, int64_t wps)
{
    const struct mn_relu_site *sites;
    int ns = mn_net_relu_sites(net, &sites);
    const struct mn_graph *g = mn_net_graph(net);
    memset(mask, 0, (size_t)wps * sizeof *mask);
    for (int64_t k = 0, b = 0; k < ns; b += sites[k].size, k++)
        if (g->layers[sites[k].layer].op != MN_OP_DENSE)
            for (int64_t e = b; e < b + sites[k].size; e++)
                mask[e >> 6] |= 1ULL << (e & 63);
}

static uint64_t hash_words(const uint64_t *w, int64_t n)
{
    uint64_t h = 0x9e3779b97f4a7c15ULL;
    for (int64_t i = 0; i < n; i++) {
        h ^= w[i];
        h *= 0xff51afd7ed558ccdULL;
        h ^= h >> 32;
    }
    return h;
}

/* Distinct rows among words [rows][wps], by open addressing. Returns -1 on ENOMEM. */
static int64_t count_distinct(const uint64_t *words, int64_t rows, int64_t wps)
{
    int64_t cap = 16;
    while (cap < 2 * rows)
        cap *= 2;
    int64_t *slot = malloc((size_t)cap * sizeof *slot), distinct = 0;
    if (!slot)
        return -1;
    for (int64_t i = 0; i < cap; i++)
        slot[i] = -1;
    for (int64_t r = 0; r < rows; r++) {
        const uint64_t *w = words + r * wps;
        int64_t h = (int64_t)(hash_words(w, wps) & (uint64_t)(cap - 1));
        while (slot[h] >= 0 && memcmp(words + slot[h] * wps, w, (size_t)wps * sizeof *w))
            h = (h + 1) & (cap - 1);
        if (slot[h] < 0) {
            slot[h] = r;
            distinct++;
        }
    }
    free(slot);
    return distinct;
}

int mn_proxy_linear_regions(struct mn_proxy_ctx *ctx, double *value)
{
    int n = ctx->s->batch_size, nb = ctx->s->batches, rc = MN_OK;
    struct mn_net *net = mn_proxy_net(ctx, n, NULL);
    if (!net)
        return ctx->err->code;
    int64_t wps = (mn_net_relu_bits(net) + 63) / 64 + 1; /* never 0 words */
    uint64_t *words = malloc((size_t)(nb * n * wps) * sizeof *words);
    uint64_t *mask = malloc((size_t)wps * sizeof *mask);
    float *x = malloc((size_t)(n * mn_proxy_in_size(ctx->g)) * sizeof *x);
    if (!words || !mask || !x) {
        rc = mn_error_set(ctx->err, MN_ENOMEM, NULL, "out of memory");
        goto done;
    }
    conv_sites_mask(net, mask, wps);
    for (int b = 0; b < nb && !rc; b++)
        rc = patterns(ctx, net, b, x, n, words + (int64_t)b * n * wps, wps);
    if (rc)
        goto done;
    for (int64_t i = 0; i < (int64_t)nb * n * wps; i++)
        words[i] &= mask[i % wps];
    int64_t d = count_distinct(words, (int64_t)nb * n, wps);
    if (d < 0)
        rc = mn_error_set(ctx->err, MN_ENOMEM, NULL, "out of memory");
    *value = (double)d;
done:
    free(x);
    free(mask);
    free(words);
    return rc;
}

int mn_proxy_naswot(struct mn_proxy_ctx *ctx, double *value)
{
    int n = ctx->s->batch_size, rc = MN_OK;
    struct mn_net *net = mn_proxy_net(ctx, n, NULL);
    if (!net)
        return ctx->err->code;
    int64_t bits = mn_net_relu_bits(net), wps = (bits + 63) / 64 + 1;
    uint64_t *words = malloc((size_t)(n * wps) * sizeof *words);
    float *x = malloc((size_t)(n * mn_proxy_in_size(ctx->g)) * sizeof *x);
    double *K = malloc((size_t)n * (size_t)n * sizeof *K);
    lapack_int *ipiv = malloc((size_t)n * sizeof *ipiv);
    if (!words || !x || !K || !ipiv) {
        rc = mn_error_set(ctx->err, MN_ENOMEM, NULL, "out of memory");
        goto done;
    }
    if ((rc = patterns(ctx, net, 0, x, n, words, wps)))
        goto done;
    for (int i = 0; i < n; i++)
        for (int j = 0; j < n; j++) {
            int64_t ham = 0;
            for (int64_t k = 0; k < wps; k++)
                ham += __builtin_popcountll(words[i * wps + k] ^ words[j * wps + k]);
            K[(int64_t)i * n + j] = (double)(bits - ham);
        }
    lapack_int info = LAPACKE_dgetrf(LAPACK_ROW_MAJOR, n, n, K, n, ipiv);
    double logdet = 0;
    for (int i = 0; i < n && info == 0; i++)
        logdet += log(fabs(K[(int64_t)i * n + i]));
    *value = info == 0 ? logdet : -INFINITY;
done:
    free(ipiv);
    free(K);
    free(x);
    free(words);
    return rc;
}
