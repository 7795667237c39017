/* scoreutil.c — a test worker posting synthetic deterministic scores (see scoreutil.h). */
#include "scoreutil.h"
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cost.h"
#include "json.h"
#include "mcu.h"
#include "space.h"

int tu_count(const char *s, const char *word)
{
    int n = 0;
    size_t len = strlen(word);
    for (const char *p = s; (p = strstr(p, word)); p += len)
        n++;
    return n;
}

void tu_cost_real(const cJSON *job, const cJSON *arch, cJSON *res)
{
    const cJSON *sp = cJSON_GetObjectItem(job, "space");
    struct mn_error err = {0};
    struct mn_space *space = mn_space_create(cJSON_GetObjectItem(sp, "name")->valuestring,
                                             cJSON_GetObjectItem(sp, "settings"), &err);
    struct mn_mcu *mcu = mn_mcu_from_json(cJSON_GetObjectItem(job, "mcu"), &err);
    struct mn_arch *a = NULL;
    struct mn_graph *g = NULL;
    struct mn_cost c = {0};
    ck_assert_msg(space && mcu, "space or mcu: %s", err.message);
    ck_assert_int_eq(mn_space_arch_from_json(space, arch, &a, &err), 0);
    ck_assert_int_eq(mn_space_lower(space, a, &g, &err), 0);
    ck_assert_msg(mn_cost_estimate(g, mcu, &c, &err) == 0, "cost: %s", err.message);
    cJSON *o = cJSON_AddObjectToObject(res, "cost");
    cJSON_AddNumberToObject(o, "latency_ms", c.latency_ms);
    cJSON_AddNumberToObject(o, "peak_sram_bytes", (double)c.peak_sram_bytes);
    cJSON_AddNumberToObject(o, "flash_bytes", (double)c.flash_bytes);
    cJSON_AddNumberToObject(o, "macs", (double)c.macs);
    cJSON_AddNumberToObject(o, "params", (double)c.params);
    mn_cost_release(&c);
    mn_graph_free(g);
    mn_arch_free(a);
    mn_mcu_free(mcu);
    mn_space_free(space);
}

int tu_score_loop(const struct tu_srv *s, int capacity, int max_leases, tu_score_fn fn,
                  void *ud)
{
    char req[128];
    snprintf(req, sizeof req, "{\"worker_id\":\"synthetic\"," TU_SV ","
             "\"capacity\":%d}", capacity);
    int done = 0;
    while (done < max_leases) {
        int st;
        cJSON *l = tu_json(s, "POST", "/v1/leases", NULL, req, &st);
        if (st == 204) {
            cJSON_Delete(l);
            break;
        }
        ck_assert_msg(st == 200 && l, "lease: HTTP %d", st);
        const cJSON *job = cJSON_GetObjectItem(l, "job"), *c;
        cJSON *body = cJSON_CreateObject();
        cJSON_AddStringToObject(body, "worker_id", "synthetic");
        cJSON_AddStringToObject(body, "scoring_version", MN_SCORING_VERSION);
        cJSON *results = cJSON_AddArrayToObject(body, "results");
        cJSON_ArrayForEach(c, cJSON_GetObjectItem(l, "candidates"))
        {
            cJSON *r = cJSON_CreateObject();
            cJSON_AddNumberToObject(r, "candidate_id", tu_num(c, "id"));
            cJSON_AddBoolToObject(r, "ok", 1);
            fn(ud, job, tu_str(c, "key"), cJSON_GetObjectItem(c, "arch"), r);
            cJSON_AddItemToArray(results, r);
        }
        char path[96], *text = mn_json_print(body), *resp = NULL;
        snprintf(path, sizeof path, "/v1/leases/%lld/results", (long long)tu_num(l, "lease_id"));
        st = tu_http(s, "POST", path, NULL, text, &resp);
        ck_assert_msg(st == 200, "results: HTTP %d %s", st, resp ? resp : "");
        free(resp);
        free(text);
        cJSON_Delete(body);
        cJSON_Delete(l);
        done++;
    }
    return done;
}

cJSON *tu_job(const struct tu_srv *s, int id)
{
    char path[64];
    int st;
    snprintf(path, sizeof path, "/v1/jobs/%d", id);
    cJSON *j = tu_json(s, "GET", path, NULL, NULL, &st);
    ck_assert_int_eq(st, 200);
    return j;
}
