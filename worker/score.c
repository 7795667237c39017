/* score.c — lease job → scoring context, candidate → result object (see score.h).
 *
 * Cost figures come from the MCU cost model (cost.h) on the job's profile. Proxies:
 * this adapter scores the counting proxies (params, flops) from the same lowered graph;
 * a proxy this build does not compute fails the candidate with a message naming it (the
 * coordinator records the error; the worker never crashes on it). */
#include "score.h"
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "cost.h"
#include "json.h"
#include "mcu.h"
#include "space.h"

#define SCORING_VERSION 1

struct mn_score_job {
    struct mn_space *space;
    struct mn_mcu *mcu;
    cJSON *proxies; /* {name: settings}, a copy */
};

/* params as PyTorch counts them; flops as multiply-accumulates (the NAS-Bench-201
 * convention). */
static double count_params(const struct mn_cost *c)
{
    return (double)c->params;
}

static double count_flops(const struct mn_cost *c)
{
    return (double)c->macs;
}

/* The proxies this build computes. */
static const struct {
    const char *name;
    double (*value)(const struct mn_cost *c);
} proxies[] = {
    {"params", count_params},
    {"flops", count_flops},
};

static int proxy_index(const char *name)
{
    for (size_t i = 0; i < sizeof proxies / sizeof proxies[0]; i++)
        if (strcmp(proxies[i].name, name) == 0)
            return (int)i;
    return -1;
}

int mn_score_version(void)
{
    return SCORING_VERSION;
}

void mn_score_job_free(struct mn_score_job *sj)
{
    if (!sj)
        return;
    mn_space_free(sj->space);
    mn_mcu_free(sj->mcu);
    cJSON_Delete(sj->proxies);
    free(sj);
}

struct mn_score_job *mn_score_job_new(const cJSON *job, struct mn_error *err)
{
    const cJSON *space = cJSON_GetObjectItemCaseSensitive(job, "space");
    const cJSON *mcu = cJSON_GetObjectItemCaseSensitive(job, "mcu");
    const cJSON *proxies = cJSON_GetObjectItemCaseSensitive(job, "proxies"), *p;
    const char *name = NULL;
    struct mn_score_job *sj = calloc(1, sizeof *sj);
    if (!sj) {
        mn_error_set(err, MN_ENOMEM, NULL, "out of memory");
        return NULL;
    }
    if (mn_json_expect_object(space, "space", err) || mn_json_require(space, "name", err) ||
        mn_json_get_str(space, "name", 64, &name, err)) {
        mn_error_prefix_field(err, "space");
        goto fail;
    }
    if (!(sj->space = mn_space_create(name, cJSON_GetObjectItemCaseSensitive(space, "settings"),
                                      err))) {
        mn_error_prefix_field(err, err && err->field[0] ? "space.settings" : "space.name");
        goto fail;
    }
    if (!(sj->mcu = mn_mcu_from_json(mcu, err))) {
        mn_error_prefix_field(err, "mcu");
        goto fail;
    }
    if (!cJSON_IsObject(proxies)) {
        mn_error_set(err, MN_EINVAL, "proxies", "'proxies' must be an object");
        goto fail;
    }
    cJSON_ArrayForEach(p, proxies) if (proxy_index(p->string) < 0)
    {
        mn_error_set(err, MN_EUNSUPPORTED, "proxies",
                     "proxy '%s' is not available in this worker build", p->string);
        goto fail;
    }
    if (!(sj->proxies = cJSON_Duplicate(proxies, 1))) {
        mn_error_set(err, MN_ENOMEM, NULL, "out of memory");
        goto fail;
    }
    return sj;
fail:
    mn_score_job_free(sj);
    return NULL;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

static double candidate_id(const cJSON *cand)
{
    const cJSON *id = cJSON_GetObjectItemCaseSensitive(cand, "id");
    return cJSON_IsNumber(id) ? id->valuedouble : 0;
}

cJSON *mn_score_failed(const cJSON *cand, const char *error, double seconds)
{
    cJSON *r = cJSON_CreateObject();
    if (!r || !cJSON_AddNumberToObject(r, "candidate_id", candidate_id(cand)) ||
        !cJSON_AddFalseToObject(r, "ok") || !cJSON_AddStringToObject(r, "error", error) ||
        !mn_json_add_num(r, "seconds", seconds)) {
        cJSON_Delete(r);
        return NULL;
    }
    return r;
}

cJSON *mn_score_candidate(const struct mn_score_job *sj, const cJSON *cand)
{
    double t0 = now_s();
    struct mn_error err = {0};
    struct mn_arch *a = NULL;
    struct mn_graph *g = NULL;
    struct mn_cost c = {0};
    cJSON *r = NULL, *scores = NULL, *cost = NULL;
    const cJSON *p;
    int rc = mn_space_arch_from_json(sj->space, cJSON_GetObjectItemCaseSensitive(cand, "arch"),
                                     &a, &err);
    if (rc)
        mn_error_prefix_field(&err, "arch");
    if (rc || (rc = mn_space_lower(sj->space, a, &g, &err)) ||
        (rc = mn_cost_estimate(g, sj->mcu, &c, &err))) {
        char msg[sizeof err.message + sizeof err.field + 4];
        snprintf(msg, sizeof msg, "%s%s%s", err.field, err.field[0] ? ": " : "", err.message);
        r = mn_score_failed(cand, msg, now_s() - t0);
        goto done;
    }
    r = cJSON_CreateObject();
    int ok = r && cJSON_AddNumberToObject(r, "candidate_id", candidate_id(cand)) &&
             cJSON_AddTrueToObject(r, "ok") && (scores = cJSON_AddObjectToObject(r, "scores")) &&
             (cost = cJSON_AddObjectToObject(r, "cost"));
    cJSON_ArrayForEach(p, sj->proxies) if (ok)
        ok = mn_json_add_num(scores, p->string, proxies[proxy_index(p->string)].value(&c)) !=
             NULL;
    ok = ok && mn_json_add_num(cost, "latency_ms", c.latency_ms) &&
         cJSON_AddNumberToObject(cost, "peak_sram_bytes", (double)c.peak_sram_bytes) &&
         cJSON_AddNumberToObject(cost, "flash_bytes", (double)c.flash_bytes) &&
         cJSON_AddNumberToObject(cost, "macs", (double)c.macs) &&
         cJSON_AddNumberToObject(cost, "params", (double)c.params) &&
         mn_json_add_num(r, "seconds", now_s() - t0);
    if (!ok) {
        cJSON_Delete(r);
        r = NULL;
    }
done:
    mn_cost_release(&c);
    mn_graph_free(g);
    mn_arch_free(a);
    return r;
}
