/* check_server_api.c — every monasd endpoint over real HTTP: success and error paths
 * (validation naming fields, 400/404/405/409/413/422), pagination, long poll, front in
 * JSON and CSV, and the OpenAPI document covering every route. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "../server/api.h"
#include "srvutil.h"

static struct tu_srv srv;

static void setup(void)
{
    tu_srv_init(&srv);
    ck_assert_int_eq(tu_srv_start(&srv, NULL, NULL), 0);
}

static void teardown(void)
{
    ck_assert_int_eq(tu_srv_stop(&srv), 0);
    tu_srv_cleanup(&srv);
}

static const char *small_job = "{\"name\":\"t\",\"space\":{\"name\":\"nb201\"},"
                               "\"budget\":{\"max_candidates\":20},\"batch_size\":8,"
                               "\"convergence\":{\"epsilon\":0}}";

static int64_t create(const char *spec)
{
    int st;
    cJSON *j = tu_json(&srv, "POST", "/v1/jobs", NULL, spec, &st);
    ck_assert_int_eq(st, 201);
    int64_t id = (int64_t)tu_num(j, "id");
    char want[64];
    snprintf(want, sizeof want, "/v1/jobs/%lld", (long long)id);
    ck_assert_str_eq(tu_http_header("Location"), want);
    cJSON_Delete(j);
    return id;
}

/* Posts an error-expecting request and checks status, error code and field. */
static void expect_error(const char *method, const char *path, const char *body, int status,
                         const char *code, const char *field)
{
    int st;
    cJSON *j = tu_json(&srv, method, path, NULL, body, &st);
    ck_assert_msg(st == status, "%s %s: status %d, want %d", method, path, st, status);
    ck_assert_msg(j != NULL, "%s %s: error body is not JSON", method, path);
    ck_assert_str_eq(tu_str(j, "error.code"), code);
    ck_assert_msg(strlen(tu_str(j, "error.message")) > 0, "empty error message");
    if (field)
        ck_assert_str_eq(tu_str(j, "error.field"), field);
    cJSON_Delete(j);
}

START_TEST(job_spec_validation)
{
    static const struct {
        const char *body, *field;
        int status;
    } cases[] = {
        {"{", "", 400},
        {"[1]", "", 422},
        {"{}", "space", 422},
        {"{\"space\":{\"name\":\"nope\"}}", "space.name", 422},
        {"{\"space\":{\"name\":\"nb201\",\"settings\":{\"bogus\":1}}}", "space.settings.bogus", 422},
        {"{\"space\":{\"name\":\"nb201\"},\"colour\":1}", "colour", 422},
        {"{\"space\":{\"name\":\"nb201\"},\"mcu\":\"no-such-mcu\"}", "mcu", 422},
        {"{\"space\":{\"name\":\"nb201\"},\"budgets\":{\"sram_bytes\":-5}}", "budgets.sram_bytes", 422},
        {"{\"space\":{\"name\":\"nb201\"},\"budgets\":{\"ram\":5}}", "budgets.ram", 422},
        {"{\"space\":{\"name\":\"nb201\"},\"objectives\":[\"ntk\",\"accuracy\"]}", "objectives[1]", 422},
        {"{\"space\":{\"name\":\"nb201\"},\"objectives\":[\"synflow\"]}", "objectives[0]", 422},
        {"{\"space\":{\"name\":\"nb201\"},\"objectives\":[]}", "objectives", 422},
        {"{\"space\":{\"name\":\"nb201\"},\"objectives\":[{\"name\":\"ntk\",\"direction\":\"up\"}]}",
         "objectives[0].direction", 422},
        {"{\"space\":{\"name\":\"nb201\"},\"proxies\":{\"magic\":{}}}", "proxies.magic", 422},
        {"{\"space\":{\"name\":\"nb201\"},\"proxies\":{\"ntk\":3}}", "proxies.ntk", 422},
        {"{\"space\":{\"name\":\"nb201\"},\"proxies\":{\"ntk\":{\"batch_size\":0}}}",
         "proxies.ntk.batch_size", 422},
        {"{\"space\":{\"name\":\"nb201\"},\"strategy\":{\"name\":\"genius\"}}", "strategy.name", 422},
        {"{\"space\":{\"name\":\"nb201\"},\"strategy\":{\"name\":\"random\",\"settings\":{\"x\":1}}}",
         "strategy.settings.x", 422},
        {"{\"space\":{\"name\":\"nb201\"},\"budget\":{\"max_candidates\":0}}", "budget.max_candidates", 422},
        {"{\"space\":{\"name\":\"nb201\"},\"budget\":{\"max_seconds\":\"long\"}}", "budget.max_seconds", 422},
        {"{\"space\":{\"name\":\"nb201\"},\"convergence\":{\"patience\":0}}", "convergence.patience", 422},
        {"{\"space\":{\"name\":\"nb201\"},\"batch_size\":1.5}", "batch_size", 422},
        {"{\"space\":{\"name\":\"nb201\"},\"seed\":-1}", "seed", 422},
        {"{\"space\":{\"name\":\"nb201\"},\"max_attempts\":0}", "max_attempts", 422},
        {"{\"space\":{\"name\":\"nb201\"},\"lease_seconds\":0}", "lease_seconds", 422},
        {"{\"space\":{\"name\":\"nb201\"},\"name\":7}", "name", 422},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        expect_error("POST", "/v1/jobs", cases[i].body, cases[i].status,
                     cases[i].status == 400 ? "parse" : "invalid", cases[i].field);
}
END_TEST

START_TEST(job_defaults_and_get)
{
    int64_t id = create("{\"space\":{\"name\":\"nb201\"}}");
    char path[64];
    int st;
    snprintf(path, sizeof path, "/v1/jobs/%lld", (long long)id);
    cJSON *j = tu_json(&srv, "GET", path, NULL, NULL, &st);
    ck_assert_int_eq(st, 200);
    ck_assert_str_eq(tu_str(j, "status"), "running");
    ck_assert_str_eq(tu_str(j, "spec.strategy.name"), "random");
    ck_assert_str_eq(tu_str(j, "spec.objectives.0.name"), "ntk");
    ck_assert_str_eq(tu_str(j, "spec.objectives.1.name"), "latency_ms");
    ck_assert_int_eq((int)tu_num(j, "spec.batch_size"), 64);
    ck_assert_int_eq((int)tu_num(j, "spec.max_attempts"), 3);
    ck_assert_int_eq((int)tu_num(j, "budget_used.max_candidates"), 1000);
    ck_assert(tu_num(j, "spec.budgets.sram_bytes") > 0);
    ck_assert_str_eq(tu_str(j, "spec.mcu.id"), "stm32f746");
    ck_assert(cJSON_IsArray(cJSON_GetObjectItem(j, "history")));
    cJSON_Delete(j);
    expect_error("GET", "/v1/jobs/999", NULL, 404, "not_found", NULL);
    expect_error("GET", "/v1/jobs/abc", NULL, 404, "not_found", NULL);
    expect_error("GET", "/v1/jobs/1?wait=9999", NULL, 422, "invalid", "wait");
}
END_TEST

START_TEST(jobs_list_filter_paginate)
{
    for (int i = 0; i < 5; i++)
        create(small_job);
    ck_assert_int_eq(tu_http(&srv, "POST", "/v1/jobs/2/cancel", NULL, "", NULL), 200);
    int st;
    cJSON *j = tu_json(&srv, "GET", "/v1/jobs?limit=2", NULL, NULL, &st);
    ck_assert_int_eq(st, 200);
    ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItem(j, "jobs")), 2);
    ck_assert_int_eq((int)tu_num(j, "next_after"), 2);
    cJSON_Delete(j);
    j = tu_json(&srv, "GET", "/v1/jobs?limit=2&after=4", NULL, NULL, &st);
    ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItem(j, "jobs")), 1);
    ck_assert_int_eq((int)tu_num(j, "jobs.0.id"), 5);
    ck_assert(cJSON_IsNull(cJSON_GetObjectItem(j, "next_after")));
    cJSON_Delete(j);
    j = tu_json(&srv, "GET", "/v1/jobs?status=cancelled", NULL, NULL, &st);
    ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItem(j, "jobs")), 1);
    ck_assert_int_eq((int)tu_num(j, "jobs.0.id"), 2);
    cJSON_Delete(j);
    expect_error("GET", "/v1/jobs?status=sleeping", NULL, 422, "invalid", "status");
    expect_error("GET", "/v1/jobs?limit=0", NULL, 422, "invalid", "limit");
}
END_TEST

START_TEST(cancel_and_wait)
{
    create(small_job);
    /* A long poll on a running job returns after its timeout, still running. */
    int st;
    cJSON *j = tu_json(&srv, "GET", "/v1/jobs/1?wait=1", NULL, NULL, &st);
    ck_assert_int_eq(st, 200);
    ck_assert_str_eq(tu_str(j, "status"), "running");
    cJSON_Delete(j);
    j = tu_json(&srv, "POST", "/v1/jobs/1/cancel", NULL, NULL, &st);
    ck_assert_int_eq(st, 200);
    ck_assert_str_eq(tu_str(j, "status"), "cancelled");
    ck_assert_str_ne(tu_str(j, "finished_at"), "");
    cJSON_Delete(j);
    expect_error("POST", "/v1/jobs/1/cancel", NULL, 409, "state", NULL);
    expect_error("POST", "/v1/jobs/77/cancel", NULL, 404, "not_found", NULL);
    /* Ended: the long poll answers at once; a cancelled job leases nothing. */
    j = tu_json(&srv, "GET", "/v1/jobs/1?wait=30", NULL, NULL, &st);
    ck_assert_str_eq(tu_str(j, "status"), "cancelled");
    cJSON_Delete(j);
    ck_assert_int_eq(tu_http(&srv, "POST", "/v1/leases", NULL,
                             "{\"worker_id\":\"w\"," TU_SV "}", NULL), 204);
}
END_TEST

static const char *ok_result(char *buf, size_t len, long long cid, double ntk, double lat)
{
    snprintf(buf, len, "{\"candidate_id\":%lld,\"ok\":true,\"scores\":{\"ntk\":%g,"
             "\"linear_regions\":3},\"cost\":{\"latency_ms\":%g,\"peak_sram_bytes\":%g,"
             "\"flash_bytes\":1000,\"macs\":5,\"params\":7,\"fits\":true,\"mcu\":\"x\","
             "\"watts\":1},\"flags\":[],\"seconds\":0.01}",
             cid, ntk, lat, 1000 + ntk);
    return buf;
}

START_TEST(lease_validation)
{
    static const struct {
        const char *body, *field;
        int status;
        const char *code;
    } cases[] = {
        {"nope", "", 400, "parse"},
        {"{" TU_SV "}", "worker_id", 422, "invalid"},
        {"{\"worker_id\":\"w\"}", "scoring_version", 422, "invalid"},
        {"{\"worker_id\":\"w\"," TU_SV ",\"capacity\":0}", "capacity", 422, "invalid"},
        {"{\"worker_id\":\"w\"," TU_SV ",\"cpus\":2}", "cpus", 422, "invalid"},
        {"{\"worker_id\":\"\"," TU_SV "}", "worker_id", 422, "invalid"},
        {"{\"worker_id\":\"w\",\"scoring_version\":999}", "scoring_version", 409, "conflict"},
        {"{\"worker_id\":\"w\",\"scoring_version\":\"999\"}", "scoring_version", 409, "conflict"},
        {"{\"worker_id\":\"w\",\"scoring_version\":[1]}", "scoring_version", 422, "invalid"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        expect_error("POST", "/v1/leases", cases[i].body, cases[i].status, cases[i].code,
                     cases[i].field);
    /* No job: no work (the version may be a string, as MN_SCORING_VERSION is). */
    ck_assert_int_eq(tu_http(&srv, "POST", "/v1/leases", NULL,
                             "{\"worker_id\":\"w\",\"scoring_version\":" MN_SCORING_VERSION "}", NULL), 204);
    expect_error("POST", "/v1/leases/5/heartbeat", NULL, 404, "not_found", NULL);
    expect_error("POST", "/v1/leases/5/release", NULL, 404, "not_found", NULL);
    expect_error("POST", "/v1/leases/5/results",
                 "{\"worker_id\":\"w\"," TU_SV ",\"results\":[]}", 404, "not_found",
                 NULL);
}
END_TEST

START_TEST(lease_results_flow)
{
    create(small_job);
    int st;
    cJSON *l = tu_json(&srv, "POST", "/v1/leases", NULL,
                       "{\"worker_id\":\"w1\",\"version\":\"t\"," TU_SV ","
                       "\"capacity\":4}", &st);
    ck_assert_int_eq(st, 200);
    cJSON *cands = cJSON_GetObjectItem(l, "candidates");
    ck_assert_int_eq(cJSON_GetArraySize(cands), 4);
    ck_assert_int_eq((int)tu_num(l, "job.id"), 1);
    ck_assert_str_eq(tu_str(l, "job.scoring_version"), MN_SCORING_VERSION);
    ck_assert_int_eq((int)tu_num(l, "job.proxies.ntk.batch_size"), 72); /* defaults filled */
    ck_assert_int_eq((int)tu_num(l, "job.seed"), 1);
    ck_assert_str_eq(tu_str(l, "job.space.name"), "nb201");
    ck_assert_str_eq(tu_str(l, "job.mcu.id"), "stm32f746");
    ck_assert(cJSON_IsObject(cJSON_GetObjectItem(cJSON_GetObjectItem(l, "job"), "proxies")));
    ck_assert_str_ne(tu_str(l, "expires_at"), "");
    ck_assert_str_eq(tu_str(l, "candidates.0.key"), tu_str(l, "candidates.0.arch"));
    int64_t lease = (int64_t)tu_num(l, "lease_id");
    long long c0 = (long long)tu_num(l, "candidates.0.id");
    cJSON_Delete(l);

    char path[96], body[4096], r1[512], r2[512];
    snprintf(path, sizeof path, "/v1/leases/%lld/heartbeat", (long long)lease);
    cJSON *h = tu_json(&srv, "POST", path, NULL, NULL, &st);
    ck_assert_int_eq(st, 200);
    ck_assert_str_ne(tu_str(h, "expires_at"), "");
    cJSON_Delete(h);

    /* Bad result bodies name the field. */
    snprintf(path, sizeof path, "/v1/leases/%lld/results", (long long)lease);
    expect_error("POST", path, "{\"worker_id\":\"w1\"," TU_SV ",\"results\":"
                 "[{\"candidate_id\":1,\"ok\":true,\"scores\":{\"ntk\":\"x\"},\"cost\":{}}]}",
                 422, "invalid", "results[0].scores.ntk");
    expect_error("POST", path, "{\"worker_id\":\"w1\"," TU_SV ",\"results\":"
                 "[{\"candidate_id\":1,\"ok\":true,\"scores\":{},\"cost\":{\"fits\":1}}]}",
                 422, "invalid", "results[0].cost.fits");
    expect_error("POST", path, "{\"worker_id\":\"w1\"," TU_SV ",\"results\":"
                 "[{\"candidate_id\":1,\"ok\":true,\"scores\":{},\"cost\":{\"macs\":null}}]}",
                 422, "invalid", "results[0].cost.macs");
    expect_error("POST", path, "{\"worker_id\":\"w1\"," TU_SV ",\"results\":"
                 "[{\"candidate_id\":1,\"ok\":false}]}", 422, "invalid", "results[0].error");
    expect_error("POST", path, "{\"worker_id\":\"w1\"," TU_SV ",\"results\":"
                 "[{\"candidate_id\":99999,\"ok\":false,\"error\":\"x\"}]}", 422, "invalid",
                 "results[0].candidate_id");
    expect_error("POST", path, "{\"worker_id\":\"w1\",\"scoring_version\":999,\"results\":[]}",
                 409, "conflict", "scoring_version");

    snprintf(body, sizeof body, "{\"worker_id\":\"w1\"," TU_SV ",\"results\":[%s,%s]}",
             ok_result(r1, sizeof r1, c0, 10, 5), ok_result(r2, sizeof r2, c0 + 1, 20, 3));
    cJSON *a = tu_json(&srv, "POST", path, NULL, body, &st);
    ck_assert_int_eq(st, 200);
    ck_assert_int_eq((int)tu_num(a, "accepted"), 2);
    ck_assert_int_eq((int)tu_num(a, "duplicates"), 0);
    cJSON_Delete(a);
    a = tu_json(&srv, "POST", path, NULL, body, &st); /* the same post again */
    ck_assert_int_eq(st, 200);
    ck_assert_int_eq((int)tu_num(a, "accepted"), 0);
    ck_assert_int_eq((int)tu_num(a, "duplicates"), 2);
    cJSON_Delete(a);

    /* Release returns the two unscored ones to the queue. */
    snprintf(path, sizeof path, "/v1/leases/%lld/release", (long long)lease);
    a = tu_json(&srv, "POST", path, NULL, NULL, &st);
    ck_assert_int_eq(st, 200);
    ck_assert_int_eq((int)tu_num(a, "released"), 2);
    cJSON_Delete(a);
    snprintf(path, sizeof path, "/v1/leases/%lld/heartbeat", (long long)lease);
    expect_error("POST", path, NULL, 409, "state", NULL);

    /* Front: both non-dominated (ntk 10/lat 5 vs ntk 20/lat 3). */
    cJSON *f = tu_json(&srv, "GET", "/v1/jobs/1/front", NULL, NULL, &st);
    ck_assert_int_eq(st, 200);
    ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItem(f, "candidates")), 2);
    ck_assert(tu_num(f, "hypervolume") > 0);
    ck_assert(cJSON_IsTrue(cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(f, "candidates"), 0), "fits")));
    cJSON_Delete(f);
    char *csv = NULL;
    ck_assert_int_eq(tu_http(&srv, "GET", "/v1/jobs/1/front?format=csv", NULL, NULL, &csv), 200);
    ck_assert_msg(strncmp(csv, "id,key,fits,ntk,linear_regions,latency_ms,peak_sram_bytes,"
                               "flash_bytes,macs,params\n", 70) == 0, "csv header: %s", csv);
    int lines = 0;
    for (char *p = csv; *p; p++)
        lines += *p == '\n';
    ck_assert_int_eq(lines, 3);
    free(csv);
    expect_error("GET", "/v1/jobs/1/front?format=xml", NULL, 422, "invalid", "format");

    /* Candidates: filters, pagination, single. */
    cJSON *c = tu_json(&srv, "GET", "/v1/jobs/1/candidates?status=scored", NULL, NULL, &st);
    ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItem(c, "candidates")), 2);
    ck_assert_int_eq((int)tu_num(c, "candidates.0.scores.ntk"), 10);
    ck_assert_int_eq((int)tu_num(c, "candidates.0.cost.latency_ms"), 5);
    /* The scorer's fits and mcu, and unknown members, are accepted and not stored. */
    const cJSON *cost0 = cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(c,
                                             "candidates"), 0), "cost");
    ck_assert_int_eq(cJSON_GetArraySize(cost0), 5);
    ck_assert_ptr_null(cJSON_GetObjectItem(cost0, "watts"));
    ck_assert_str_eq(tu_str(c, "candidates.0.worker_id"), "w1");
    cJSON_Delete(c);
    c = tu_json(&srv, "GET", "/v1/jobs/1/candidates?limit=1", NULL, NULL, &st);
    ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItem(c, "candidates")), 1);
    int next = (int)tu_num(c, "next_after");
    cJSON_Delete(c);
    snprintf(path, sizeof path, "/v1/jobs/1/candidates?limit=1&after=%d", next);
    c = tu_json(&srv, "GET", path, NULL, NULL, &st);
    ck_assert_int_gt((int)tu_num(c, "candidates.0.id"), next);
    cJSON_Delete(c);
    c = tu_json(&srv, "GET", "/v1/jobs/1/candidates?on_front=1", NULL, NULL, &st);
    ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItem(c, "candidates")), 2);
    cJSON_Delete(c);
    snprintf(path, sizeof path, "/v1/jobs/1/candidates/%lld", c0);
    c = tu_json(&srv, "GET", path, NULL, NULL, &st);
    ck_assert_int_eq(st, 200);
    ck_assert_str_eq(tu_str(c, "status"), "scored");
    cJSON_Delete(c);
    expect_error("GET", "/v1/jobs/1/candidates/424242", NULL, 404, "not_found", NULL);
    expect_error("GET", "/v1/jobs/1/candidates?status=odd", NULL, 422, "invalid", "status");

    cJSON *w = tu_json(&srv, "GET", "/v1/workers", NULL, NULL, &st);
    ck_assert_int_eq(st, 200);
    ck_assert_str_eq(tu_str(w, "workers.0.id"), "w1");
    ck_assert_str_eq(tu_str(w, "workers.0.version"), "t");
    ck_assert_int_eq((int)tu_num(w, "workers.0.results"), 2);
    cJSON_Delete(w);
}
END_TEST

START_TEST(routing_limits_misc)
{
    expect_error("GET", "/v1/nothing", NULL, 404, "not_found", NULL);
    int st = tu_http(&srv, "DELETE", "/v1/jobs", NULL, NULL, NULL);
    ck_assert_int_eq(st, 405);
    ck_assert_str_eq(tu_http_header("Allow"), "POST, GET");
    ck_assert_int_eq(tu_http(&srv, "GET", "/v1/leases", NULL, NULL, NULL), 405);
    ck_assert_str_ne(tu_http_header("X-Request-Id"), "");
    /* Over the 4 MiB default body limit. */
    size_t big = 5u << 20;
    char *body = malloc(big + 1);
    memset(body, ' ', big);
    body[big] = 0;
    body[0] = '{';
    body[big - 1] = '}';
    ck_assert_int_eq(tu_http(&srv, "POST", "/v1/jobs", NULL, body, NULL), 413);
    free(body);
    cJSON *j = tu_json(&srv, "GET", "/healthz", NULL, NULL, &st);
    ck_assert_int_eq(st, 200);
    ck_assert_str_eq(tu_str(j, "status"), "ok");
    cJSON_Delete(j);
    j = tu_json(&srv, "GET", "/v1/mcus", NULL, NULL, &st);
    ck_assert_int_eq(st, 200);
    ck_assert_int_gt(cJSON_GetArraySize(cJSON_GetObjectItem(j, "mcus")), 0);
    cJSON_Delete(j);
    j = tu_json(&srv, "GET", "/v1/spaces", NULL, NULL, &st);
    ck_assert_str_eq(tu_str(j, "spaces.0.name"), "nb201");
    cJSON_Delete(j);
    j = tu_json(&srv, "GET", "/v1/proxies", NULL, NULL, &st);
    ck_assert_str_eq(tu_str(j, "proxies.0.name"), "ntk");
    ck_assert_str_eq(tu_str(j, "proxies.0.better"), "lower");
    cJSON_Delete(j);
    j = tu_json(&srv, "GET", "/v1/strategies", NULL, NULL, &st);
    ck_assert_str_eq(tu_str(j, "strategies.0.name"), "random");
    cJSON_Delete(j);
    char *m = NULL;
    ck_assert_int_eq(tu_http(&srv, "GET", "/metrics", NULL, NULL, &m), 200);
    ck_assert_ptr_nonnull(strstr(m, "monas_results_ingested_total 0"));
    ck_assert_ptr_nonnull(strstr(m, "monas_http_request_duration_seconds_bucket{route=\"/healthz\""));
    ck_assert_ptr_nonnull(strstr(m, "monas_queue_depth"));
    free(m);
}
END_TEST

START_TEST(openapi_covers_routes)
{
    int st;
    cJSON *doc = tu_json(&srv, "GET", "/v1/openapi.json", NULL, NULL, &st);
    ck_assert_int_eq(st, 200);
    ck_assert_ptr_nonnull(doc);
    ck_assert_str_eq(tu_str(doc, "openapi"), "3.0.3");
    const cJSON *paths = cJSON_GetObjectItem(doc, "paths");
    for (int i = 0; i < mn_api_n_routes; i++) {
        const cJSON *p = cJSON_GetObjectItemCaseSensitive(paths, mn_api_routes[i].pattern);
        char method[8];
        size_t k = 0;
        for (; mn_api_routes[i].method[k] && k < 7; k++)
            method[k] = (char)(mn_api_routes[i].method[k] | 0x20);
        method[k] = 0;
        ck_assert_msg(p && cJSON_GetObjectItemCaseSensitive(p, method),
                      "openapi.json lacks %s %s", mn_api_routes[i].method, mn_api_routes[i].pattern);
    }
    /* And nothing documented that is not served. */
    const cJSON *p;
    int documented = 0;
    cJSON_ArrayForEach(p, paths) documented += cJSON_GetArraySize(p) -
                                               (cJSON_GetObjectItem(p, "parameters") ? 1 : 0);
    ck_assert_int_eq(documented, mn_api_n_routes);
    cJSON_Delete(doc);
}
END_TEST

Suite *server_api_suite(void)
{
    Suite *s = suite_create("server_api");
    TCase *tc = tcase_create("api");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, job_spec_validation);
    tcase_add_test(tc, job_defaults_and_get);
    tcase_add_test(tc, jobs_list_filter_paginate);
    tcase_add_test(tc, cancel_and_wait);
    tcase_add_test(tc, lease_validation);
    tcase_add_test(tc, lease_results_flow);
    tcase_add_test(tc, routing_limits_misc);
    tcase_add_test(tc, openapi_covers_routes);
    suite_add_tcase(s, tc);
    return s;
}
