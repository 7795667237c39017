/* score.c — lease job → scoring context, candidate → result object (see score.h), over
 * common/scoring.h: the job's space, proxy config and MCU profile are parsed once per
 * job; each candidate is one mn_scoring_run whose answer is reshaped into the results
 * format (schema of POST /v1/leases/{id}/results): scores, the cost figures the
 * coordinator keeps, flags, seconds. */
#include "score.h"
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "json.h"
#include "mcu.h"
#include "proxy.h"
#include "scoring.h"
#include "space.h"

struct mn_score_job {
    struct mn_space *space;
    struct mn_mcu *mcu;
    struct mn_proxy_config *proxies;
    uint64_t seed;
};

/* The cost members a result carries (scoring.h also reports "fits", which the
 * coordinator derives from the job's budgets itself). */
static const char *const cost_keys[] = {"latency_ms", "peak_sram_bytes", "flash_bytes", "macs",
                                        "params"};

const char *mn_score_version(void)
{
    return MN_SCORING_VERSION;
}

void mn_score_job_free(struct mn_score_job *sj)
{
    if (!sj)
        return;
    mn_space_free(sj->space);
    mn_mcu_free(sj->mcu);
    mn_proxies_free(sj->proxies);
    free(sj);
}

struct mn_score_job *mn_score_job_new(const cJSON *job, struct mn_error *err)
{
    const cJSON *space = cJSON_GetObjectItemCaseSensitive(job, "space");
    const cJSON *settings = cJSON_GetObjectItemCaseSensitive(space, "settings");
    const char *name = NULL;
    int64_t seed = 0;
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
    if (!(sj->space = mn_space_create(name, settings, err))) {
        mn_error_prefix_field(err, err && err->field[0] ? "space.settings" : "space.name");
        goto fail;
    }
    if (!(sj->mcu = mn_mcu_from_json(cJSON_GetObjectItemCaseSensitive(job, "mcu"), err))) {
        mn_error_prefix_field(err, "mcu");
        goto fail;
    }
    if (mn_proxies_parse(cJSON_GetObjectItemCaseSensitive(job, "proxies"), &sj->proxies, err) ||
        mn_proxies_check_space(sj->proxies, name, settings, err)) {
        mn_error_prefix_field(err, "proxies");
        goto fail;
    }
    if (mn_json_get_int(job, "seed", 0, INT64_MAX, &seed, err))
        goto fail;
    sj->seed = (uint64_t)seed;
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

/* Moves member `key` of from into to (1), or fails (0) when absent. */
static int move(cJSON *from, cJSON *to, const char *key)
{
    cJSON *it = cJSON_DetachItemFromObjectCaseSensitive(from, key);
    return it && cJSON_AddItemToObject(to, key, it);
}

cJSON *mn_score_candidate(const struct mn_score_job *sj, const cJSON *cand)
{
    double t0 = now_s();
    struct mn_error err = {0};
    struct mn_arch *a = NULL;
    cJSON *s = NULL, *r = NULL, *cost = NULL;
    int rc = mn_space_arch_from_json(sj->space, cJSON_GetObjectItemCaseSensitive(cand, "arch"),
                                     &a, &err);
    if (rc)
        mn_error_prefix_field(&err, "arch");
    else if (!(s = mn_scoring_run(sj->space, a, sj->proxies, sj->mcu, sj->seed, NULL, &err)))
        rc = err.code ? err.code : MN_ENOMEM;
    if (rc) {
        char msg[sizeof err.message + sizeof err.field + 4];
        snprintf(msg, sizeof msg, "%s%s%s", err.field, err.field[0] ? ": " : "", err.message);
        r = mn_score_failed(cand, msg, now_s() - t0);
        goto done;
    }
    const cJSON *flags = cJSON_GetObjectItemCaseSensitive(s, "flags");
    const cJSON *from = cJSON_GetObjectItemCaseSensitive(s, "cost");
    r = cJSON_CreateObject();
    int ok = r && cJSON_AddNumberToObject(r, "candidate_id", candidate_id(cand)) &&
             cJSON_AddTrueToObject(r, "ok") && move(s, r, "scores") &&
             (cost = cJSON_AddObjectToObject(r, "cost"));
    for (size_t i = 0; ok && i < sizeof cost_keys / sizeof cost_keys[0]; i++) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(from, cost_keys[i]);
        ok = cJSON_IsNumber(v) && cJSON_AddNumberToObject(cost, cost_keys[i], v->valuedouble);
    }
    ok = ok && (cJSON_GetArraySize(flags) == 0 || move(s, r, "flags")) && move(s, r, "seconds");
    if (!ok) {
        cJSON_Delete(r);
        r = mn_score_failed(cand, "scoring output incomplete (out of memory?)", now_s() - t0);
    }
done:
    cJSON_Delete(s);
    mn_arch_free(a);
    return r;
}
