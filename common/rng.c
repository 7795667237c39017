/* rng.c — xoshiro256** with splitmix64 seeding (see rng.h). */
#include "rng.h"
#include <math.h>
#include <stdlib.h>

static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static uint64_t rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

void mn_rng_seed(struct mn_rng *r, uint64_t seed, uint64_t stream)
{
    uint64_t x = seed ^ (stream * 0xd1342543de82ef95ULL);
    for (int i = 0; i < 4; i++)
        r->s[i] = splitmix64(&x);
}

uint64_t mn_rng_u64(struct mn_rng *r)
{
    uint64_t *s = r->s;
    uint64_t result = rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

double mn_rng_uniform(struct mn_rng *r)
{
    return (double)(mn_rng_u64(r) >> 11) * 0x1.0p-53;
}

uint64_t mn_rng_below(struct mn_rng *r, uint64_t n)
{
    uint64_t limit = UINT64_MAX - UINT64_MAX % n;
    uint64_t x;
    do
        x = mn_rng_u64(r);
    while (x >= limit);
    return x % n;
}

int mn_rng_range(struct mn_rng *r, int lo, int hi)
{
    return lo + (int)mn_rng_below(r, (uint64_t)((int64_t)hi - lo + 1));
}

/* Box-Muller of u1 in (0, 1] (so log is finite) and u2. */
static double box_muller(double u1, double u2)
{
    return sqrt(-2.0 * log(u1)) * cos(2.0 * M_PI * u2);
}

double mn_rng_normal(struct mn_rng *r)
{
    double u1 = 1.0 - mn_rng_uniform(r);
    return box_muller(u1, mn_rng_uniform(r));
}

/* Both normals of one Box-Muller pair into x[0] and, when `two`, x[1]. */
static void box_muller_pair(double u1, double u2, float *x, int two)
{
    double rho = sqrt(-2.0 * log(u1)), theta = 2.0 * M_PI * u2;
    x[0] = (float)(rho * cos(theta));
    if (two)
        x[1] = (float)(rho * sin(theta));
}

void mn_rng_normals(struct mn_rng *r, float *x, int64_t count, int threads)
{
    enum { BLOCK = 4096 }; /* pairs per round: uniforms drawn, then transformed */
    double one[2], *u = malloc(2 * BLOCK * sizeof *u), *v = u ? u : one; /* one: no memory */
    int64_t pairs = (count + 1) / 2, block = u ? BLOCK : 1;
    for (int64_t at = 0; at < pairs; at += block) {
        int m = (int)(pairs - at < block ? pairs - at : block);
        for (int k = 0; k < m; k++) {
            v[2 * k] = 1.0 - mn_rng_uniform(r);
            v[2 * k + 1] = mn_rng_uniform(r);
        }
#pragma omp parallel for num_threads(threads) if (threads > 1 && m > 1) schedule(static)
        for (int k = 0; k < m; k++) {
            int64_t i = 2 * (at + k); /* this pair's first normal */
            box_muller_pair(v[2 * k], v[2 * k + 1], x + i, i + 1 < count);
        }
    }
    free(u);
}

uint64_t mn_hash_str(const char *s)
{
    uint64_t h = 0xcbf29ce484222325ULL;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 0x100000001b3ULL;
    return h;
}
