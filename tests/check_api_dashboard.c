/* check_api_dashboard.c — the API fields the dashboard relies on, on a real monasd:
 * job list summaries and newest-first paging, per-job activity (active leases and
 * workers, scoring rate), and candidates sorted by a cost figure or proxy with keyset
 * paging (after + after_value), and a candidate's per-layer cost table (layers=1). */
#include <check.h>
#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include "cost.h"
#include "space.h"
#include "srvutil.h"

static struct tu_srv srv;

static void setup(void)
{
    tu_srv_init(&srv);
    ck_assert_msg(tu_srv_start(&srv, NULL, NULL) == 0, "monasd did not start");
}

static void teardown(void)
{
    tu_srv_stop(&srv);
    tu_srv_cleanup(&srv);
}

/* method path body → parsed JSON (caller frees), asserting the status. */
static cJSON *call(const char *method, const char *path, const char *body, int want)
{
    int status = 0;
    cJSON *j = tu_json(&srv, method, path, NULL, body, &status);
    ck_assert_msg(status == want, "%s %s: %d, want %d", method, path, status, want);
    if (want != 204)
        ck_assert_msg(j != NULL, "%s %s: body is not JSON", method, path);
    return j;
}

static double num(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    ck_assert_msg(cJSON_IsNumber(v), "'%s' is not a number", key);
    return v->valuedouble;
}

static const char *str(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    ck_assert_msg(cJSON_IsString(v), "'%s' is not a string", key);
    return v->valuestring;
}

static void expect_field(const char *path, const char *field)
{
    cJSON *e = call("GET", path, NULL, 422);
    ck_assert_str_eq(str(cJSON_GetObjectItem(e, "error"), "field"), field);
    cJSON_Delete(e);
}

static void submit(const char *name, int max_candidates)
{
    char body[256];
    snprintf(body, sizeof body, "{\"name\":\"%s\",\"space\":{\"name\":\"nb201\"},"
             "\"budget\":{\"max_candidates\":%d},\"batch_size\":8}", name, max_candidates);
    cJSON_Delete(call("POST", "/v1/jobs", body, 201));
}

/* Claims a lease of up to n candidates for worker; returns it (caller frees). */
static cJSON *claim(const char *worker, int n)
{
    char body[160];
    snprintf(body, sizeof body, "{\"worker_id\":\"%s\"," TU_SV ",\"capacity\":%d}",
             worker, n);
    return call("POST", "/v1/leases", body, 200);
}

/* Posts results for every candidate of lease: latency 100 - 7*(id mod 13) ms (ties on
 * purpose), ntk = id. */
static void post_results(const cJSON *lease, const char *worker)
{
    char path[64], *text;
    cJSON *body = cJSON_CreateObject(), *res = cJSON_AddArrayToObject(body, "results");
    const cJSON *c;
    cJSON_AddStringToObject(body, "worker_id", worker);
    cJSON_AddStringToObject(body, "scoring_version", MN_SCORING_VERSION);
    cJSON_ArrayForEach(c, cJSON_GetObjectItem(lease, "candidates"))
    {
        double id = num(c, "id");
        cJSON *r = cJSON_CreateObject(), *s = cJSON_AddObjectToObject(r, "scores");
        cJSON *k = cJSON_AddObjectToObject(r, "cost");
        cJSON_AddNumberToObject(r, "candidate_id", id);
        cJSON_AddBoolToObject(r, "ok", 1);
        cJSON_AddNumberToObject(s, "ntk", id);
        cJSON_AddNumberToObject(s, "linear_regions", 10);
        cJSON_AddNumberToObject(k, "latency_ms", 100 - 7 * fmod(id, 13));
        cJSON_AddNumberToObject(k, "peak_sram_bytes", 1000);
        cJSON_AddNumberToObject(k, "flash_bytes", 1000);
        cJSON_AddNumberToObject(k, "macs", 1);
        cJSON_AddNumberToObject(k, "params", 1);
        cJSON_AddItemToArray(res, r);
    }
    text = cJSON_PrintUnformatted(body);
    snprintf(path, sizeof path, "/v1/leases/%.0f/results", num(lease, "lease_id"));
    cJSON_Delete(call("POST", path, text, 200));
    cJSON_free(text);
    cJSON_Delete(body);
}

START_TEST(job_list_summaries_newest_first)
{
    submit("first", 10);
    submit("second", 20);
    submit("third", 30);
    cJSON *l = call("GET", "/v1/jobs?order=desc&limit=2", NULL, 200);
    cJSON *jobs = cJSON_GetObjectItem(l, "jobs");
    ck_assert_int_eq(cJSON_GetArraySize(jobs), 2);
    cJSON *j0 = cJSON_GetArrayItem(jobs, 0);
    ck_assert_str_eq(str(j0, "name"), "third");
    ck_assert_str_eq(str(j0, "space"), "nb201");
    ck_assert_str_eq(str(j0, "mcu"), "stm32f746");
    ck_assert_str_eq(str(j0, "strategy"), "random");
    ck_assert_int_eq((int)num(j0, "max_candidates"), 30);
    ck_assert_str_eq(str(cJSON_GetArrayItem(jobs, 1), "name"), "second");
    ck_assert_int_eq((int)num(l, "next_after"), 2);
    cJSON_Delete(l);
    l = call("GET", "/v1/jobs?order=desc&limit=2&after=2", NULL, 200);
    jobs = cJSON_GetObjectItem(l, "jobs");
    ck_assert_int_eq(cJSON_GetArraySize(jobs), 1);
    ck_assert_str_eq(str(cJSON_GetArrayItem(jobs, 0), "name"), "first");
    ck_assert(cJSON_IsNull(cJSON_GetObjectItem(l, "next_after")));
    cJSON_Delete(l);
    l = call("GET", "/v1/jobs?order=asc", NULL, 200); /* the default order, oldest first */
    ck_assert_str_eq(str(cJSON_GetArrayItem(cJSON_GetObjectItem(l, "jobs"), 0), "name"), "first");
    cJSON_Delete(l);
    expect_field("/v1/jobs?order=newest", "order");
}
END_TEST

START_TEST(job_activity)
{
    submit("busy", 40);
    cJSON *j = call("GET", "/v1/jobs/1", NULL, 200);
    ck_assert_int_eq((int)num(j, "active_leases"), 0);
    ck_assert_int_eq((int)num(j, "active_workers"), 0);
    ck_assert(num(j, "scored_per_second") == 0);
    cJSON_Delete(j);
    cJSON *a1 = claim("w-a", 4), *a2 = claim("w-a", 4), *b = claim("w-b", 4);
    j = call("GET", "/v1/jobs/1", NULL, 200);
    ck_assert_int_eq((int)num(j, "active_leases"), 3);
    ck_assert_int_eq((int)num(j, "active_workers"), 2);
    cJSON_Delete(j);
    post_results(a1, "w-a");
    post_results(b, "w-b");
    j = call("GET", "/v1/jobs/1", NULL, 200);
    ck_assert_int_eq((int)num(j, "active_leases"), 1);
    ck_assert_int_eq((int)num(j, "active_workers"), 1);
    ck_assert(num(j, "scored_per_second") > 0); /* 8 scored within a window of ≤ 60 s */
    cJSON_Delete(j);
    cJSON_Delete(a1);
    cJSON_Delete(a2);
    cJSON_Delete(b);
}
END_TEST

/* Walks every page of a sorted listing; checks order and returns the row count. */
static int walk(const char *sort, int desc, int limit)
{
    char path[256];
    double prev_v = desc ? INFINITY : -INFINITY, prev_id = 0;
    int n = 0, pages = 0;
    char after[96] = "";
    for (;;) {
        snprintf(path, sizeof path, "/v1/jobs/1/candidates?sort=%s&order=%s&limit=%d%s", sort,
                 desc ? "desc" : "asc", limit, after);
        cJSON *l = call("GET", path, NULL, 200), *c;
        pages++;
        cJSON_ArrayForEach(c, cJSON_GetObjectItem(l, "candidates"))
        {
            const cJSON *src = cJSON_GetObjectItem(c, strcmp(sort, "ntk") ? "cost" : "scores");
            double v = num(src, sort), id = num(c, "id");
            ck_assert_str_eq(str(c, "status"), "scored"); /* unscored rows have no value */
            ck_assert_msg(desc ? v <= prev_v : v >= prev_v, "out of order at %.0f", id);
            if (v == prev_v)
                ck_assert(id > prev_id); /* ties by id */
            prev_v = v, prev_id = id;
            n++;
        }
        const cJSON *na = cJSON_GetObjectItem(l, "next_after");
        if (cJSON_IsNull(na)) {
            ck_assert(cJSON_IsNull(cJSON_GetObjectItem(l, "next_after_value")));
            cJSON_Delete(l);
            break;
        }
        snprintf(after, sizeof after, "&after=%.0f&after_value=%.17g", na->valuedouble,
                 num(l, "next_after_value"));
        cJSON_Delete(l);
        ck_assert_int_lt(pages, 100);
    }
    return n;
}

START_TEST(candidates_sorted_with_keyset_paging)
{
    submit("sorted", 60);
    for (int i = 0; i < 5; i++) {
        cJSON *l = claim("w", 8);
        post_results(l, "w");
        cJSON_Delete(l);
    }
    cJSON_Delete(claim("w", 8)); /* leased, unscored: left out of value sorts */
    ck_assert_int_eq(walk("latency_ms", 0, 7), 40);
    ck_assert_int_eq(walk("latency_ms", 1, 7), 40);
    ck_assert_int_eq(walk("ntk", 1, 6), 40);

    /* id descending pages through everything, newest first */
    cJSON *l = call("GET", "/v1/jobs/1/candidates?sort=id&order=desc&limit=5", NULL, 200);
    cJSON *first = cJSON_GetArrayItem(cJSON_GetObjectItem(l, "candidates"), 0);
    double top = num(first, "id");
    char path[128];
    snprintf(path, sizeof path, "/v1/jobs/1/candidates?sort=id&order=desc&limit=5&after=%.0f",
             num(l, "next_after"));
    cJSON_Delete(l);
    l = call("GET", path, NULL, 200);
    ck_assert(num(cJSON_GetArrayItem(cJSON_GetObjectItem(l, "candidates"), 0), "id") == top - 5);
    cJSON_Delete(l);

    expect_field("/v1/jobs/1/candidates?sort=synflow", "sort"); /* not a proxy of this job */
    expect_field("/v1/jobs/1/candidates?sort=latency_ms&order=up", "order");
    expect_field("/v1/jobs/1/candidates?sort=latency_ms&after_value=abc", "after_value");
}
END_TEST

START_TEST(candidate_layers)
{
    submit("layers", 8);
    cJSON *l = claim("w", 8);
    post_results(l, "w");
    cJSON_Delete(l);
    cJSON *c = call("GET", "/v1/jobs/1/candidates/3", NULL, 200);
    ck_assert_ptr_null(cJSON_GetObjectItem(c, "layers")); /* only when asked */
    cJSON_Delete(c);
    c = call("GET", "/v1/jobs/1/candidates/3?layers=1", NULL, 200);
    const cJSON *layers = cJSON_GetObjectItem(c, "layers"), *r;

    /* The same table the cost model gives for that architecture on the job's MCU. */
    struct mn_error err = {0};
    struct mn_space *sp = mn_space_create("nb201", NULL, &err);
    struct mn_arch *a = NULL;
    struct mn_graph *g = NULL;
    struct mn_mcu *m = mn_mcu_builtin("stm32f746", &err);
    struct mn_cost cost = {0};
    ck_assert_int_eq(mn_space_arch_from_text(sp, str(c, "key"), &a, &err), 0);
    ck_assert_int_eq(mn_space_lower(sp, a, &g, &err), 0);
    ck_assert_int_eq(mn_cost_estimate(g, m, &cost, &err), 0);
    ck_assert_int_eq(cJSON_GetArraySize(layers), cost.n_layers);
    ck_assert_int_gt(cost.n_layers, 10);
    double macs = 0, latency = 0;
    cJSON_ArrayForEach(r, layers)
    {
        macs += num(r, "macs");
        latency += num(r, "latency_ms");
        num(r, "activation_bytes");
        num(r, "params");
        str(r, "op");
    }
    ck_assert(macs == (double)cost.macs);
    ck_assert(fabs(latency - cost.latency_ms) < 1e-6 * cost.latency_ms);
    mn_cost_release(&cost);
    mn_mcu_free(m);
    mn_graph_free(g);
    mn_arch_free(a);
    mn_space_free(sp);
    cJSON_Delete(c);
    expect_field("/v1/jobs/1/candidates/3?layers=2", "layers");
}
END_TEST

Suite *api_dashboard_suite(void)
{
    Suite *s = suite_create("api_dashboard");
    TCase *tc = tcase_create("http");
    tcase_set_timeout(tc, 30);
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, job_list_summaries_newest_first);
    tcase_add_test(tc, job_activity);
    tcase_add_test(tc, candidates_sorted_with_keyset_paging);
    tcase_add_test(tc, candidate_layers);
    suite_add_tcase(s, tc);
    return s;
}
