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

/* Marsaglia's polar method: the accepted point (u, v) of the unit disc with s = u² + v²
 * gives x[0] = u·f and, when `two`, x[1] = v·f, f = √(−2 ln s / s). */
static void polar_pair(double u, double v, double s, float *x, int two)
{
    double f = sqrt(-2.0 * log(s) / s);
    x[0] = (float)(u * f);
    if (two)
        x[1] = (float)(v * f);
}

void mn_rng_normals(struct mn_rng *r, float *x, int64_t count, int threads)
{
    enum { BLOCK = 4096 }; /* pairs per round: points drawn, then transformed */
    double one[3], *p = malloc(3 * BLOCK * sizeof *p), *q = p ? p : one; /* one: no memory */
    int64_t pairs = (count + 1) / 2, block = p ? BLOCK : 1;
    for (int64_t at = 0; at < pairs; at += block) {
        int m = (int)(pairs - at < block ? pairs - at : block);
        for (int k = 0; k < m; k++) {
            double u, v, s;
            do {
                u = 2.0 * mn_rng_uniform(r) - 1.0;
                v = 2.0 * mn_rng_uniform(r) - 1.0;
                s = u * u + v * v;
            } while (s >= 1.0 || s == 0.0);
            q[3 * k] = u;
            q[3 * k + 1] = v;
            q[3 * k + 2] = s;
        }
#pragma omp parallel for num_threads(threads) if (threads > 1 && m > 1) schedule(static)
        for (int k = 0; k < m; k++) {
            int64_t i = 2 * (at + k); /* this pair's first normal */
            polar_pair(q[3 * k], q[3 * k + 1], q[3 * k + 2], x + i, i + 1 < count);
        }
    }
    free(p);
}

uint64_t mn_hash_str(const char *s)
{
    uint64_t h = 0xcbf29ce484222325ULL;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 0x100000001b3ULL;
    return h;
}
