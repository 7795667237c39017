/* scoreutil.h — a test worker for the strategy suites: leases candidates from a real
 * monasd (srvutil.h), scores each with a caller-supplied deterministic function (synthetic
 * proxies; cost from the real cost model or synthetic) and posts the results, so a whole
 * search runs without the proxies. */
#ifndef MN_SCOREUTIL_H
#define MN_SCOREUTIL_H
#include <cjson/cJSON.h>
#include "srvutil.h"

/* Fills the result object `res` of one candidate (add "scores" and "cost", or set
 * "ok" false with an "error"). job is the lease's job object; key and arch the
 * candidate's. */
typedef void (*tu_score_fn)(void *ud, const cJSON *job, const char *key, const cJSON *arch,
                            cJSON *res);

/* Leases (capacity per lease) and posts until the server has nothing to lease or
 * max_leases leases were done. Returns the number of leases done; fails the test on
 * an HTTP error. */
int tu_score_loop(const struct tu_srv *s, int capacity, int max_leases, tu_score_fn fn,
                  void *ud);

/* Adds the real cost-model figures of arch (the job's space, settings and MCU) to res
 * as "cost"; fails the test when the estimate fails. */
void tu_cost_real(const cJSON *job, const cJSON *arch, cJSON *res);
/* Number of times `word` occurs in s. */
int tu_count(const char *s, const char *word);

/* GET /v1/jobs/{id} (fails the test unless 200); caller frees. */
cJSON *tu_job(const struct tu_srv *s, int id);

#endif
