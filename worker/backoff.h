/* backoff.h — exponential backoff with jitter for the worker's retries (no work, 5xx,
 * 429, connection errors). Delays grow base·2^k up to a cap; each delay is drawn
 * uniformly from [d/2, d] ("equal jitter") so a fleet that lost its coordinator at the
 * same moment does not come back in lockstep, and it never drops below base/2, so a
 * retry loop never spins. Pure state, no clock: the caller sleeps (a uv timer). */
#ifndef MN_BACKOFF_H
#define MN_BACKOFF_H
#include <stdint.h>
#include "rng.h"

struct mn_backoff {
    double base_ms, cap_ms; /* first delay (before jitter) and the largest */
    int attempt;            /* consecutive failures so far */
    struct mn_rng rng;
};

/* Initialises b; base_ms > 0, cap_ms >= base_ms; seed picks the jitter sequence. */
void mn_backoff_init(struct mn_backoff *b, double base_ms, double cap_ms, uint64_t seed);
/* The next delay in milliseconds (in [base/2, cap]); counts one more failure. */
double mn_backoff_next(struct mn_backoff *b);
/* After a success: the next failure starts again from base. */
void mn_backoff_reset(struct mn_backoff *b);

#endif
