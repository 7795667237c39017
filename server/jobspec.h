/* jobspec.h — the job specification: validation of every field of a submitted job
 * (POST /v1/jobs), defaults, and the normalised form stored with the job and served
 * back. The same parser reads a stored spec when a job is loaded, so what was accepted
 * once is what runs after a restart. Fields and defaults: schema/job.schema.json. */
#ifndef MN_JOBSPEC_H
#define MN_JOBSPEC_H
#include <cjson/cJSON.h>
#include <stdint.h>
#include "error.h"
#include "objective.h"
#include "space.h"
#include "strategy.h"

struct mn_jobspec {
    char name[128];
    struct mn_space *space;          /* owned */
    char mcu_id[64];
    struct mn_budgets budgets;
    int n_obj;
    struct mn_objective obj[MN_MAX_OBJECTIVES];
    const cJSON *proxies;            /* views into json */
    const struct mn_strategy *strategy;
    const cJSON *strategy_settings;
    int64_t max_candidates;
    double max_seconds;
    double epsilon;
    int patience;
    int batch_size;
    int64_t seed;
    int max_attempts;
    int lease_seconds;
    cJSON *json;                     /* the normalised spec, every default filled; owned */
};

/* Validates `in` and returns the parsed spec in *out (caller frees with
 * mn_jobspec_free). On a bad field returns MN_EINVAL with err->field its path
 * ("budgets.sram_bytes", "space.settings.C", "objectives[1]"). */
int mn_jobspec_parse(const cJSON *in, struct mn_jobspec **out, struct mn_error *err);
void mn_jobspec_free(struct mn_jobspec *s);

#endif
