/* api_leases.c — worker endpoints: claim a lease, heartbeat, post results, release.
 * Bodies are validated here (every field, errors naming it); lease.c does the work. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "api.h"
#include "buf.h"
#include "catalog.h"
#include "json.h"
#include "lease.h"
#include "store.h"

#define MAX_RESULTS 4096

void mn_api_lease_claim(struct mn_http_req *rq, struct mn_http_resp *rs)
{
    static const char *const keys[] = {"worker_id", "version", "scoring_version", "capacity",
                                       NULL};
    struct mn_error err = {0};
    struct mn_lease_req r = {.capacity = 64, .version = ""};
    cJSON *in = mn_api_body(rq, rs, 0);
    if (!in)
        return;
    if (mn_json_check_keys(in, keys, &err) || mn_json_require(in, "worker_id", &err) ||
        mn_json_get_str(in, "worker_id", 128, &r.worker_id, &err) ||
        mn_json_get_str(in, "version", 64, &r.version, &err) ||
        mn_catalog_get_version(in, "scoring_version", r.scoring_version, &err) ||
        mn_json_get_i32(in, "capacity", 1, 4096, &r.capacity, &err) ||
        (!r.worker_id[0] && mn_error_set(&err, MN_EINVAL, "worker_id", "worker_id is empty"))) {
        cJSON_Delete(in);
        mn_http_error_from(rs, &err);
        return;
    }
    char *body = NULL;
    int rc = mn_lease_claim(rq->srv, &r, &body, &err);
    cJSON_Delete(in);
    if (rc == MN_ENOTFOUND) {
        rs->status = 204;
        return;
    }
    if (rc) {
        mn_http_error_from(rs, &err);
        return;
    }
    mn_http_reply(rs, 200, body);
}

/* The lease id in the path of a request whose body is optional (a JSON object, unused).
 * Returns 1, or 0 with the error response set. */
static int lease_request(struct mn_http_req *rq, struct mn_http_resp *rs, int64_t *id)
{
    if (!mn_api_param_id(rq, rs, 0, id))
        return 0;
    cJSON *in = mn_api_body(rq, rs, 1);
    if (!in)
        return 0;
    cJSON_Delete(in);
    return 1;
}

void mn_api_lease_heartbeat(struct mn_http_req *rq, struct mn_http_resp *rs)
{
    int64_t id;
    struct mn_error err = {0};
    double expires = 0;
    if (!lease_request(rq, rs, &id))
        return;
    if (mn_lease_heartbeat(rq->srv, id, &expires, &err)) {
        mn_http_error_from(rs, &err);
        return;
    }
    char t[40], *body = malloc(96);
    if (body)
        snprintf(body, 96, "{\"lease_id\":%lld,\"expires_at\":\"%s\"}", (long long)id,
                 mn_time_text(expires, t, sizeof t));
    mn_http_reply(rs, 200, body);
}

void mn_api_lease_release(struct mn_http_req *rq, struct mn_http_resp *rs)
{
    int64_t id;
    struct mn_error err = {0};
    int released = 0;
    if (!lease_request(rq, rs, &id))
        return;
    if (mn_lease_release(rq->srv, id, &released, &err)) {
        mn_http_error_from(rs, &err);
        return;
    }
    char *body = malloc(64);
    if (body)
        snprintf(body, 64, "{\"lease_id\":%lld,\"released\":%d}", (long long)id, released);
    mn_http_reply(rs, 200, body);
}

/* Every value of obj a finite number (or null, for a proxy that degenerated). */
static int numbers(const cJSON *obj, int allow_null, struct mn_error *err)
{
    const cJSON *v;
    cJSON_ArrayForEach(v, obj)
    {
        if ((allow_null && cJSON_IsNull(v)) || (cJSON_IsNumber(v) && isfinite(v->valuedouble)))
            continue;
        return mn_error_set(err, MN_EINVAL, v->string, "'%s' must be a number", v->string);
    }
    return MN_OK;
}

/* The cost figures stored and used (each a finite number when present). */
static const char *const cost_figures[] = {"latency_ms", "peak_sram_bytes", "flash_bytes",
                                           "macs", "params"};
#define N_COST_FIGURES (sizeof cost_figures / sizeof cost_figures[0])

/* A result's cost object: the figures are finite numbers; `fits` (what common/scoring.c
 * reports: the network fits the MCU's SRAM and flash) a boolean and `mcu` a string, both
 * accepted and not stored (monasd judges fit against the job's budgets itself); any
 * other member is ignored, so a newer scorer's extra figures do not break ingest. */
static int check_cost(const cJSON *cost, struct mn_error *err)
{
    const cJSON *v;
    cJSON_ArrayForEach(v, cost)
    {
        size_t i = 0;
        while (i < N_COST_FIGURES && strcmp(v->string, cost_figures[i]) != 0)
            i++;
        if (i < N_COST_FIGURES && !(cJSON_IsNumber(v) && isfinite(v->valuedouble)))
            return mn_error_set(err, MN_EINVAL, v->string, "'%s' must be a number", v->string);
        if (strcmp(v->string, "fits") == 0 && !cJSON_IsBool(v))
            return mn_error_set(err, MN_EINVAL, "fits", "'fits' must be true or false");
        if (strcmp(v->string, "mcu") == 0 && !cJSON_IsString(v))
            return mn_error_set(err, MN_EINVAL, "mcu", "'mcu' must be a string");
    }
    return MN_OK;
}

/* The stored text of a checked cost object: its figures only, in table order. */
static void cost_text(struct mn_buf *b, const cJSON *cost)
{
    int n = 0;
    mn_buf_add(b, "{", 1);
    for (size_t i = 0; i < N_COST_FIGURES; i++) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(cost, cost_figures[i]);
        if (!v)
            continue;
        mn_buf_str(b, n++ ? ",\"" : "\"");
        mn_buf_str(b, cost_figures[i]);
        mn_buf_str(b, "\":");
        mn_buf_num(b, v->valuedouble);
    }
    mn_buf_add(b, "}", 1);
}

static int parse_result(const cJSON *it, struct mn_result *r, struct mn_error *err)
{
    static const char *const ok_keys[] = {"candidate_id", "ok", "scores", "cost", "flags",
                                          "seconds", NULL};
    static const char *const fail_keys[] = {"candidate_id", "ok", "error", "seconds", NULL};
    int64_t cid = 0;
    int rc = mn_json_expect_object(it, "a result", err);
    if (rc || (rc = mn_json_require(it, "candidate_id", err)) ||
        (rc = mn_json_get_int(it, "candidate_id", 1, INT64_MAX / 2, &cid, err)) ||
        (rc = mn_json_require(it, "ok", err)) || (rc = mn_json_get_bool(it, "ok", &r->ok, err)))
        return rc;
    r->candidate_id = cid;
    r->seconds = 0;
    if ((rc = mn_json_check_keys(it, r->ok ? ok_keys : fail_keys, err)) ||
        (rc = mn_json_get_num(it, "seconds", 0, 1e9, &r->seconds, err)))
        return rc;
    if (!r->ok) {
        r->error = "";
        if ((rc = mn_json_require(it, "error", err)) ||
            (rc = mn_json_get_str(it, "error", 2000, &r->error, err)))
            return rc;
        return MN_OK;
    }
    r->scores = cJSON_GetObjectItemCaseSensitive(it, "scores");
    r->cost = cJSON_GetObjectItemCaseSensitive(it, "cost");
    r->flags = cJSON_GetObjectItemCaseSensitive(it, "flags");
    if (!cJSON_IsObject(r->scores))
        return mn_error_set(err, MN_EINVAL, "scores", "'scores' must be an object");
    if (!cJSON_IsObject(r->cost))
        return mn_error_set(err, MN_EINVAL, "cost", "'cost' must be an object");
    if ((rc = numbers(r->scores, 1, err))) {
        mn_error_prefix_field(err, "scores");
        return rc;
    }
    if ((rc = check_cost(r->cost, err))) {
        mn_error_prefix_field(err, "cost");
        return rc;
    }
    if (r->flags && !cJSON_IsNull(r->flags)) {
        const cJSON *f;
        if (!cJSON_IsArray(r->flags))
            return mn_error_set(err, MN_EINVAL, "flags", "'flags' must be a list of strings");
        cJSON_ArrayForEach(f, r->flags) if (!cJSON_IsString(f)) return mn_error_set(
            err, MN_EINVAL, "flags", "'flags' must be a list of strings");
    } else {
        r->flags = NULL;
    }
    return MN_OK;
}

void mn_api_lease_results(struct mn_http_req *rq, struct mn_http_resp *rs)
{
    static const char *const keys[] = {"worker_id", "scoring_version", "results", NULL};
    int64_t id;
    struct mn_error err = {0};
    const char *worker = NULL;
    char version[MN_VERSION_LEN];
    if (!mn_api_param_id(rq, rs, 0, &id))
        return;
    cJSON *in = mn_api_body(rq, rs, 0);
    if (!in)
        return;
    const cJSON *results = cJSON_GetObjectItemCaseSensitive(in, "results");
    struct mn_result *res = NULL;
    struct mn_buf text = {0};
    int n = 0;
    if (mn_json_check_keys(in, keys, &err) || mn_json_require(in, "worker_id", &err) ||
        mn_json_get_str(in, "worker_id", 128, &worker, &err) ||
        mn_catalog_get_version(in, "scoring_version", version, &err) ||
        mn_json_require(in, "results", &err))
        goto fail;
    if (!cJSON_IsArray(results) || cJSON_GetArraySize(results) > MAX_RESULTS) {
        mn_error_set(&err, MN_EINVAL, "results", "'results' must be a list of at most %d",
                     MAX_RESULTS);
        goto fail;
    }
    n = cJSON_GetArraySize(results);
    res = calloc((size_t)(n ? n : 1), sizeof *res);
    if (!res) {
        mn_error_set(&err, MN_ENOMEM, NULL, "out of memory");
        goto fail;
    }
    const cJSON *it;
    int i = 0;
    cJSON_ArrayForEach(it, results)
    {
        if (parse_result(it, &res[i], &err)) {
            char where[32];
            snprintf(where, sizeof where, "results[%d]", i);
            mn_error_prefix_field(&err, where);
            goto fail;
        }
        if (res[i].ok) { /* the texts stored, serialised here rather than under the lock */
            res[i].scores_at = text.len;
            mn_buf_json(&text, res[i].scores);
            res[i].cost_at = text.len;
            res[i].scores_len = res[i].cost_at - res[i].scores_at;
            cost_text(&text, res[i].cost);
            res[i].flags_at = text.len;
            res[i].cost_len = res[i].flags_at - res[i].cost_at;
            if (res[i].flags)
                mn_buf_json(&text, res[i].flags);
            else
                mn_buf_add(&text, "[]", 2);
            res[i].flags_len = text.len - res[i].flags_at;
        }
        i++;
    }
    if (text.oom) {
        mn_error_set(&err, MN_ENOMEM, NULL, "out of memory");
        goto fail;
    }
    for (i = 0; i < n; i++)
        res[i].text = text.data;
    struct mn_results_ack ack;
    if (mn_lease_results(rq->srv, id, worker, version, res, n, &ack, &err))
        goto fail;
    char *body = malloc(200);
    if (body)
        snprintf(body, 200, "{\"lease_id\":%lld,\"accepted\":%d,\"duplicates\":%d,\"ignored\":%d,"
                 "\"requeued\":%d,\"dead\":%d,\"job_status\":\"%s\"}", (long long)id, ack.accepted,
                 ack.duplicates, ack.ignored, ack.requeued, ack.dead, ack.job_status);
    mn_http_reply(rs, 200, body);
    free(res);
    mn_buf_free(&text);
    cJSON_Delete(in);
    return;
fail:
    mn_http_error_from(rs, &err);
    free(res);
    mn_buf_free(&text);
    cJSON_Delete(in);
}
