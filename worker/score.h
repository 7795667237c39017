/* score.h — the worker's single entry point into scoring: a per-job context built from
 * the job object a lease carries (space, proxies, MCU profile, budgets, seed), and a
 * per-candidate call returning the result object a results post carries. Everything a
 * candidate needs comes from the lease; nothing is read from disk. This is the one place
 * that adapts the worker to the common/ scoring code, so the lease loop never changes
 * when proxies or the cost model do. */
#ifndef MN_WORKER_SCORE_H
#define MN_WORKER_SCORE_H
#include <cjson/cJSON.h>
#include "error.h"

#define MN_WORKER_VERSION "0.1.0"

struct mn_score_job;

/* The scoring version this build produces (results from different versions never mix). */
const char *mn_score_version(void);
/* A context for `job` (the lease's "job" object; not kept). Returns NULL with err set
 * (field names the part of the job, e.g. "space.name") when this build cannot score the
 * job; the caller then reports every candidate failed with that message. */
struct mn_score_job *mn_score_job_new(const cJSON *job, struct mn_error *err);
void mn_score_job_free(struct mn_score_job *sj);
/* Scores `cand` (a lease entry {"id", "key", "arch"}) and returns a new result object
 * (caller owns): {"candidate_id", "ok": true, "scores", "cost", "seconds"} or
 * {"candidate_id", "ok": false, "error", "seconds"}; NULL only when out of memory.
 * Thread-safe: many candidates of one job may be scored at once. */
cJSON *mn_score_candidate(const struct mn_score_job *sj, const cJSON *cand);
/* The failure result for cand (error text copied), or NULL when out of memory. */
cJSON *mn_score_failed(const cJSON *cand, const char *error, double seconds);

#endif
