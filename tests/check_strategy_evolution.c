/* check_strategy_evolution.c — the evolution strategy against a real monasd, driven by
 * a test worker posting synthetic deterministic proxies and the real cost model's
 * figures: hard-limit rejection before scoring (counted, never leased), aging population
 * and parents, a restart mid-search continuing the same search, convergence of the
 * hypervolume, the unas space under μNAS's 64 KB bounds, and settings validation. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "json.h"
#include "rng.h"
#include "scoreutil.h"
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

/* Proxies from a hash of the key (no structure to find) plus a pull towards 3×3 convs;
 * real cost figures. */
static void score(void *ud, const cJSON *job, const char *key, const cJSON *arch, cJSON *res)
{
    (void)ud;
    double h = (double)(mn_hash_str(key) % 1000) / 1000.0;
    cJSON *s = cJSON_AddObjectToObject(res, "scores");
    cJSON_AddNumberToObject(s, "ntk", 10 + 5 * h - tu_count(key, "conv_3x3"));
    cJSON_AddNumberToObject(s, "linear_regions", 100 + 50 * (1 - h));
    tu_cost_real(job, arch, res);
}

/* Coarse proxies: a handful of distinct values, so the front stops growing. */
static void score_coarse(void *ud, const cJSON *job, const char *key, const cJSON *arch,
                         cJSON *res)
{
    (void)ud;
    cJSON *s = cJSON_AddObjectToObject(res, "scores");
    cJSON_AddNumberToObject(s, "ntk", 10 - tu_count(key, "conv_3x3"));
    cJSON_AddNumberToObject(s, "linear_regions", 1);
    tu_cost_real(job, arch, res);
}

static const char nb201_job[] =
    "{\"space\":{\"name\":\"nb201\",\"settings\":{\"C\":8,\"N\":1}},"
    "\"proxies\":{\"ntk\":{},\"linear_regions\":{}},"
    "\"budgets\":{\"latency_ms\":80,\"sram_bytes\":38500},"
    "\"strategy\":{\"name\":\"evolution\",\"settings\":{\"population\":20,\"sample\":5}},"
    "\"budget\":{\"max_candidates\":120},\"batch_size\":10,\"seed\":7}";

static int create(const char *spec)
{
    int st;
    cJSON *j = tu_json(&srv, "POST", "/v1/jobs", NULL, spec, &st);
    ck_assert_msg(st == 201, "create: HTTP %d: %s", st, tu_str(j, "error.message"));
    int id = (int)tu_num(j, "id");
    cJSON_Delete(j);
    return id;
}

/* Every candidate of job id in id order (status filter may be NULL); caller frees. */
static cJSON *candidates(int id, const char *status)
{
    cJSON *all = cJSON_CreateArray();
    int after = 0;
    for (;;) {
        char path[160];
        int st;
        snprintf(path, sizeof path, "/v1/jobs/%d/candidates?limit=1000&after=%d%s%s", id, after,
                 status ? "&status=" : "", status ? status : "");
        cJSON *j = tu_json(&srv, "GET", path, NULL, NULL, &st);
        ck_assert_int_eq(st, 200);
        cJSON *c;
        cJSON_ArrayForEach(c, cJSON_GetObjectItem(j, "candidates"))
            cJSON_AddItemToArray(all, cJSON_Duplicate(c, 1));
        int next = (int)tu_num(j, "next_after");
        cJSON_Delete(j);
        if (next < 0)
            return all;
        after = next;
    }
}

START_TEST(hard_limits_reject_before_scoring)
{
    int id = create(nb201_job);
    tu_score_loop(&srv, 16, 1000, score, NULL);
    cJSON *j = tu_job(&srv, id);
    ck_assert_str_eq(tu_str(j, "status"), "exhausted");
    ck_assert_int_eq((int)tu_num(j, "progress.scored"), 120);
    int rejected = (int)tu_num(j, "progress.rejected");
    ck_assert_int_gt(rejected, 10);
    ck_assert_int_eq((int)tu_num(j, "budget_used.candidates"), 120); /* rejections are free */
    cJSON *rej = candidates(id, "rejected"), *c;
    ck_assert_int_eq(cJSON_GetArraySize(rej), rejected);
    cJSON_ArrayForEach(c, rej)
    {
        ck_assert_ptr_nonnull(strstr(tu_str(c, "error"), "breaks a hard limit"));
        ck_assert_int_eq((int)tu_num(c, "attempts"), 0); /* never leased */
        ck_assert(cJSON_IsNull(cJSON_GetObjectItem(c, "worker_id")));
    }
    /* Every scored candidate fits; after the 20 random ones, children name a parent
     * that was scored before them. */
    cJSON *sc = candidates(id, "scored");
    int children = 0;
    cJSON_ArrayForEach(c, sc)
    {
        ck_assert(tu_num(c, "cost.latency_ms") <= 80);
        ck_assert(tu_num(c, "cost.peak_sram_bytes") <= 38500);
        ck_assert(cJSON_IsTrue(cJSON_GetObjectItem(c, "fits")));
        if (strcmp(tu_str(c, "origin.kind"), "mutation") == 0) {
            children++;
            ck_assert(tu_num(c, "origin.parent") < tu_num(c, "id"));
        }
    }
    ck_assert_int_eq(children, 100);
    /* The population: the 20 newest scored candidates, oldest first. */
    const cJSON *pop = cJSON_GetObjectItem(cJSON_GetObjectItem(j, "strategy_state"), "population");
    ck_assert_int_eq(cJSON_GetArraySize(pop), 20);
    for (int i = 0; i < 20; i++)
        ck_assert_int_eq((int)cJSON_GetArrayItem(pop, i)->valuedouble,
                         (int)tu_num(cJSON_GetArrayItem(sc, 100 + i), "id"));
    cJSON_Delete(sc);
    cJSON_Delete(rej);
    cJSON_Delete(j);
}
END_TEST

/* Everything about job 1 of server sv as one comparable text: every candidate (key,
 * status, front, origin), the strategy state and the hypervolume. */
static char *outcome(struct tu_srv *sv)
{
    struct tu_srv keep = srv;
    srv = *sv;
    cJSON *all = candidates(1, NULL), *c, *o = cJSON_CreateArray();
    cJSON_ArrayForEach(c, all)
    {
        char line[2048];
        snprintf(line, sizeof line, "%d %s %s %s %d", (int)tu_num(c, "id"), tu_str(c, "key"),
                 tu_str(c, "status"), cJSON_IsTrue(cJSON_GetObjectItem(c, "on_front")) ? "front" : "",
                 (int)tu_num(c, "origin.parent"));
        cJSON_AddItemToArray(o, cJSON_CreateString(line));
    }
    cJSON *j = tu_job(&srv, 1);
    cJSON_AddItemToArray(o, cJSON_Duplicate(cJSON_GetObjectItem(j, "strategy_state"), 1));
    cJSON_AddItemToArray(o, cJSON_Duplicate(cJSON_GetObjectItem(j, "hypervolume"), 1));
    cJSON_AddItemToArray(o, cJSON_Duplicate(cJSON_GetObjectItem(j, "status"), 1));
    char *text = mn_json_print(o);
    cJSON_Delete(j);
    cJSON_Delete(o);
    cJSON_Delete(all);
    srv = keep;
    return text;
}

START_TEST(restart_continues_the_same_search)
{
    create(nb201_job);
    tu_score_loop(&srv, 16, 1000, score, NULL);
    /* The same job on a second server, killed (SIGKILL) twice: once while the initial
     * population is scored, once while children are. */
    struct tu_srv b;
    tu_srv_init(&b);
    ck_assert_int_eq(tu_srv_start(&b, NULL, NULL), 0);
    struct tu_srv keep = srv;
    srv = b;
    create(nb201_job);
    srv = keep;
    ck_assert_int_eq(tu_score_loop(&b, 16, 1, score, NULL), 1);
    tu_srv_kill(&b);
    ck_assert_int_eq(tu_srv_start(&b, NULL, NULL), 0);
    ck_assert_int_eq(tu_score_loop(&b, 16, 4, score, NULL), 4);
    tu_srv_kill(&b);
    ck_assert_int_eq(tu_srv_start(&b, NULL, NULL), 0);
    tu_score_loop(&b, 16, 1000, score, NULL);
    char *oa = outcome(&srv), *ob = outcome(&b);
    ck_assert_ptr_nonnull(strstr(oa, "\"exhausted\""));
    ck_assert_ptr_nonnull(strstr(oa, " scored front "));
    ck_assert_str_eq(oa, ob);
    free(oa);
    free(ob);
    ck_assert_int_eq(tu_srv_stop(&b), 0);
    tu_srv_cleanup(&b);
}
END_TEST

START_TEST(converges_when_the_front_stops_growing)
{
    int id = create("{\"space\":{\"name\":\"nb201\",\"settings\":{\"C\":8,\"N\":1}},"
                    "\"proxies\":{\"ntk\":{},\"linear_regions\":{}},"
                    "\"objectives\":[\"ntk\",\"latency_ms\"],\"budgets\":{\"latency_ms\":80},"
                    "\"strategy\":{\"name\":\"evolution\",\"settings\":{\"population\":16,"
                    "\"sample\":4}},\"budget\":{\"max_candidates\":1000},\"batch_size\":8,"
                    "\"convergence\":{\"epsilon\":0.001,\"patience\":4},\"seed\":3}");
    tu_score_loop(&srv, 8, 1000, score_coarse, NULL);
    cJSON *j = tu_job(&srv, id);
    ck_assert_str_eq(tu_str(j, "status"), "converged");
    int scored = (int)tu_num(j, "progress.scored");
    ck_assert_int_lt(scored, 1000);
    /* History: one entry per generation of 8; the last 4 gains below epsilon, an
     * earlier one not; hypervolume never falls; the front is non-trivial. */
    const cJSON *h = cJSON_GetObjectItem(j, "history");
    int n = cJSON_GetArraySize(h);
    ck_assert_int_ge(n, 5);
    ck_assert_int_eq((int)tu_num(cJSON_GetArrayItem(h, n - 1), "generation"), scored / 8);
    double prev = 0;
    int grew = 0;
    for (int i = 0; i < n; i++) {
        double hv = tu_num(cJSON_GetArrayItem(h, i), "hypervolume");
        ck_assert(hv >= prev - 1e-12);
        if (i >= n - 4)
            ck_assert(hv - prev < 0.001);
        else if (i > 0 && hv - prev >= 0.001)
            grew = 1;
        prev = hv;
    }
    ck_assert(grew);
    ck_assert(tu_num(j, "hypervolume") > 0);
    ck_assert_int_ge((int)tu_num(j, "front_size"), 2);
    cJSON_Delete(j);
}
END_TEST

START_TEST(unas_under_unas_bounds)
{
    /* μNAS's Fashion-MNIST bounds: 64 KB SRAM and 64 KB flash, 28×28×1, 10 classes. */
    int id = create("{\"space\":{\"name\":\"unas\",\"settings\":{\"input\":{\"c\":1,\"h\":28,"
                    "\"w\":28},\"classes\":10}},\"proxies\":{\"ntk\":{},\"linear_regions\":{}},"
                    "\"budgets\":{\"sram_bytes\":65536,\"flash_bytes\":65536},"
                    "\"objectives\":[\"ntk\",\"peak_sram_bytes\",\"flash_bytes\",\"macs\"],"
                    "\"strategy\":{\"name\":\"evolution\",\"settings\":{\"population\":10,"
                    "\"sample\":4}},\"budget\":{\"max_candidates\":40},\"batch_size\":10}");
    tu_score_loop(&srv, 10, 1000, score, NULL);
    cJSON *j = tu_job(&srv, id);
    ck_assert_int_eq((int)tu_num(j, "progress.scored"), 40);
    ck_assert_int_gt((int)tu_num(j, "progress.rejected"), 0);
    cJSON *sc = candidates(id, "scored"), *c;
    cJSON_ArrayForEach(c, sc)
    {
        ck_assert(tu_num(c, "cost.peak_sram_bytes") <= 65536);
        ck_assert(tu_num(c, "cost.flash_bytes") <= 65536);
    }
    ck_assert_int_gt((int)tu_num(j, "front_size"), 0);
    cJSON_Delete(sc);
    cJSON_Delete(j);
}
END_TEST

START_TEST(settings_validation)
{
    static const struct {
        const char *settings, *field;
    } cases[] = {
        {"{\"population\":1}", "strategy.settings.population"},
        {"{\"population\":10,\"sample\":11}", "strategy.settings.sample"},
        {"{\"combine\":[\"ntk\"]}", "strategy.settings.combine"},
        {"{\"combine\":[\"ntk\",\"zen\"]}", "strategy.settings.combine[1]"},
        {"{\"mutation\":\"x\"}", "strategy.settings.mutation"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char body[512];
        snprintf(body, sizeof body, "{\"space\":{\"name\":\"nb201\"},\"strategy\":{\"name\":"
                 "\"evolution\",\"settings\":%s}}", cases[i].settings);
        int st;
        cJSON *j = tu_json(&srv, "POST", "/v1/jobs", NULL, body, &st);
        ck_assert_msg(st == 422, "case %zu: HTTP %d", i, st);
        ck_assert_str_eq(tu_str(j, "error.field"), cases[i].field);
        cJSON_Delete(j);
    }
    /* combine over two of the job's objectives is accepted. */
    create("{\"space\":{\"name\":\"nb201\"},\"objectives\":[\"ntk\",\"linear_regions\","
           "\"latency_ms\"],\"strategy\":{\"name\":\"evolution\",\"settings\":{\"combine\":"
           "[\"ntk\",\"linear_regions\"]}}}");
}
END_TEST

START_TEST(expired_initial_population_all_finish)
{
    /* 100 initial candidates in one lease that expires on their last attempt: the
     * strategy hears of every one (it waits for all of them before it mutates, so one
     * it never heard of would stall it). */
    int id = create("{\"space\":{\"name\":\"nb201\",\"settings\":{\"C\":8,\"N\":1}},"
                    "\"strategy\":{\"name\":\"evolution\",\"settings\":{\"initial\":100}},"
                    "\"batch_size\":100,\"max_attempts\":1,\"lease_seconds\":1,\"seed\":3}");
    int st;
    cJSON *l = tu_json(&srv, "POST", "/v1/leases", NULL,
                       "{\"worker_id\":\"gone\"," TU_SV ",\"capacity\":100}", &st);
    ck_assert_int_eq(st, 200);
    ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItem(l, "candidates")), 100);
    cJSON_Delete(l);
    usleep(1600000);
    cJSON *j = tu_job(&srv, id);
    ck_assert_int_eq((int)tu_num(j, "progress.dead"), 100);
    ck_assert_int_eq((int)tu_num(j, "strategy_state.finished"), 100);
    cJSON_Delete(j);
    /* with no member to mutate, the job ends and says why */
    char path[64];
    snprintf(path, sizeof path, "/v1/jobs/%d?wait=10", id);
    j = tu_json(&srv, "GET", path, NULL, NULL, &st);
    ck_assert_str_eq(tu_str(j, "status"), "exhausted");
    ck_assert_msg(strstr(tu_str(j, "reason"), "initial population") != NULL, "reason: %s",
                  tu_str(j, "reason"));
    cJSON_Delete(j);
}
END_TEST

Suite *strategy_evolution_suite(void)
{
    Suite *s = suite_create("strategy_evolution");
    TCase *tc = tcase_create("evolution");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 240);
    tcase_add_test(tc, hard_limits_reject_before_scoring);
    tcase_add_test(tc, restart_continues_the_same_search);
    tcase_add_test(tc, converges_when_the_front_stops_growing);
    tcase_add_test(tc, unas_under_unas_bounds);
    tcase_add_test(tc, expired_initial_population_all_finish);
    tcase_add_test(tc, settings_validation);
    suite_add_tcase(s, tc);
    return s;
}
