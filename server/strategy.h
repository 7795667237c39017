/* strategy.h — the interface every search strategy implements, and the table of them
 * (strategy.c). A strategy proposes candidates for a job and learns from results; all
 * it keeps between calls is saved as JSON in the job's row (and, for bigger state, in
 * strategy rows, see job.h), in the same transaction as the candidates it proposed, so
 * a restarted monasd resumes the same search. Adding a strategy = one new file
 * strategy_<name>.c defining a `const struct mn_strategy mn_strategy_<name>` and one
 * line in the table in strategy.c; nothing else in the server changes.
 *
 * Calls happen under the server lock inside a database transaction: a strategy uses
 * only the mn_job_* functions of job.h to read and write job data. */
#ifndef MN_STRATEGY_H
#define MN_STRATEGY_H
#include <cjson/cJSON.h>
#include <stdint.h>
#include "error.h"
#include "rng.h"

struct mn_job;

/* One finished candidate handed to on_results. */
struct mn_scored {
    int64_t id;
    const char *key;      /* canonical architecture key */
    int ok;               /* 0: scoring failed (final: the candidate is dead) */
    int feasible;         /* meets every hard budget */
    const cJSON *scores;  /* {proxy: value} (NULL when !ok) */
    const cJSON *cost;    /* {latency_ms, peak_sram_bytes, flash_bytes, macs, params} */
    const double *u;      /* the job's objectives in minimised form (spec order), or NULL
                             when !ok or a value is missing */
};

struct mn_strategy {
    const char *name;
    const char *summary;
    /* Validates the strategy's settings object at submission (err->field relative to
     * it). NULL: the strategy takes no settings (an empty object only). */
    int (*check)(const cJSON *settings, struct mn_error *err);
    /* Builds the in-memory state for job; `saved` is the last save() output, NULL for a
     * new job. */
    int (*start)(struct mn_job *job, const cJSON *saved, void **state, struct mn_error *err);
    /* Adds up to `want` candidates (mn_job_propose, or mn_job_reject for ones that break
     * a hard limit). Returns the number proposed (≥ 0) or a negative MN_E* code; sets
     * *done = 1 once it will never propose again (the job then ends when the last open
     * candidate finishes). */
    int (*propose)(struct mn_job *job, void *state, int want, int *done);
    /* Optional: sees every candidate that finished in one results post. */
    int (*on_results)(struct mn_job *job, void *state, const struct mn_scored *batch, int n);
    /* Optional: the current generation number (hypervolume history and convergence are
     * per generation). NULL: one generation per batch_size finished candidates. */
    int64_t (*generation)(struct mn_job *job, void *state);
    /* Optional: why the strategy stopped proposing, once it has (a job that ends for
     * want of candidates reports it); NULL for the generic reason. */
    const char *(*end_reason)(const void *state);
    /* The state to persist (caller owns), or NULL when out of memory. */
    cJSON *(*save)(const void *state);
    void (*stop)(void *state);
};

/* Keeps a strategy's generator in its saved state: member "rng" of o, the four state
 * words as 16-digit hex strings (JSON numbers cannot hold 64 bits). save returns 0 or
 * MN_ENOMEM; load returns 0 or MN_EPARSE when saved has no well-formed "rng". */
int mn_strategy_save_rng(cJSON *o, const struct mn_rng *rng);
int mn_strategy_load_rng(const cJSON *saved, struct mn_rng *rng);

/* The strategy called name, or NULL. */
const struct mn_strategy *mn_strategy_find(const char *name);
/* Names and summaries of every strategy (caller owns). */
cJSON *mn_strategies_describe(void);

#endif
