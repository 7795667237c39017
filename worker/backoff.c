/* backoff.c — exponential backoff with equal jitter (see backoff.h). */
#include "backoff.h"
#include <math.h>

void mn_backoff_init(struct mn_backoff *b, double base_ms, double cap_ms, uint64_t seed)
{
    b->base_ms = base_ms > 0 ? base_ms : 1;
    b->cap_ms = cap_ms > b->base_ms ? cap_ms : b->base_ms;
    b->attempt = 0;
    mn_rng_seed(&b->rng, seed, 0);
}

double mn_backoff_next(struct mn_backoff *b)
{
    /* 2^60 overflows nothing in double, and the cap applies long before. */
    double d = b->base_ms * ldexp(1.0, b->attempt < 60 ? b->attempt : 60);
    if (d > b->cap_ms)
        d = b->cap_ms;
    else
        b->attempt++;
    return d / 2 + mn_rng_uniform(&b->rng) * d / 2;
}

void mn_backoff_reset(struct mn_backoff *b)
{
    b->attempt = 0;
}
