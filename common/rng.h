/* rng.h — seeded, platform-independent random numbers (xoshiro256** seeded through
 * splitmix64). The same seed gives the same sequence on every machine, which is what
 * makes scores a pure function of (architecture, seed, scoring version). */
#ifndef MN_RNG_H
#define MN_RNG_H
#include <stdint.h>

struct mn_rng {
    uint64_t s[4];
};

/* Seeds `r` from `seed` and a stream id, so independent streams (per candidate, per
 * purpose) can be derived from one job seed without overlapping. */
void mn_rng_seed(struct mn_rng *r, uint64_t seed, uint64_t stream);
uint64_t mn_rng_u64(struct mn_rng *r);
/* Uniform double in [0, 1) with 53 random bits. */
double mn_rng_uniform(struct mn_rng *r);
/* Uniform integer in [0, n) without modulo bias; n > 0. */
uint64_t mn_rng_below(struct mn_rng *r, uint64_t n);
/* Uniform integer in [lo, hi], both inclusive. */
int mn_rng_range(struct mn_rng *r, int lo, int hi);
/* Standard normal (Box-Muller on two uniforms; no cached second value). */
double mn_rng_normal(struct mn_rng *r);
/* count standard normals into x by Marsaglia's polar method: pair k draws points
 * u = 2·mn_rng_uniform − 1, then v likewise, until s = u² + v² is in (0, 1), and gives
 * x[2k] = u·f and x[2k+1] = v·f with f = √(−2 ln s / s) (in double, then rounded); an
 * odd count drops the last v·f. No trigonometry, one logarithm per pair (a third of
 * Box-Muller's time); the transforms run on `threads` OpenMP threads, with the same
 * values on any number. */
void mn_rng_normals(struct mn_rng *r, float *x, int64_t count, int threads);
/* 64-bit FNV-1a of a string: turns architecture keys into stream ids. */
uint64_t mn_hash_str(const char *s);

#endif
