/* check_strategy_monas.c — the monas pruning strategy against a real monasd, driven by
 * a test worker posting synthetic deterministic scores whose best ops are known: the
 * pruning schedule (rounds, candidates per round, one op per edge at the end), the
 * rankings recorded in strategy_state, the effect of the latency weight, failed
 * candidates, settings validation, and a restart mid-search giving the same result. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "json.h"
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

/* Synthetic proxies: 3×3 convs make ntk lower (better) and linear regions higher, then
 * 1×1 convs, then skips; pools make ntk worse. Latency: 3×3 > 1×1 > pool > skip. So
 * TE-NAS (w = 0) drops pool, then skip, then 1×1, ending all nor_conv_3x3; latency
 * alone (w = 1) drops 3×3, then 1×1, then pool, ending all skip_connect. */
struct synth {
    const char *fail_exact; /* this candidate fails (NULL: none) */
    int n_scored;
};

static void score(void *ud, const cJSON *job, const char *key, const cJSON *arch, cJSON *res)
{
    struct synth *sy = ud;
    (void)job, (void)arch;
    if (sy && sy->fail_exact && strcmp(key, sy->fail_exact) == 0) {
        cJSON_ReplaceItemInObject(res, "ok", cJSON_CreateFalse());
        cJSON_AddStringToObject(res, "error", "synthetic failure");
        return;
    }
    int n3 = tu_count(key, "nor_conv_3x3"), n1 = tu_count(key, "nor_conv_1x1");
    int np = tu_count(key, "avg_pool_3x3"), ns = tu_count(key, "skip_connect");
    cJSON *s = cJSON_AddObjectToObject(res, "scores");
    cJSON_AddNumberToObject(s, "ntk", 100 - 10 * n3 - 3 * n1 + np);
    cJSON_AddNumberToObject(s, "linear_regions", 1000 + 10 * n3 + 2 * n1 + ns);
    cJSON *c = cJSON_AddObjectToObject(res, "cost");
    cJSON_AddNumberToObject(c, "latency_ms", 0.1 + 3 * n3 + n1 + 0.5 * np);
    cJSON_AddNumberToObject(c, "peak_sram_bytes", 1000 + 100 * (n3 + n1 + np));
    cJSON_AddNumberToObject(c, "flash_bytes", 5000 + 900 * n3 + 100 * n1);
    cJSON_AddNumberToObject(c, "macs", 1000 * n3 + 100 * n1);
    cJSON_AddNumberToObject(c, "params", 90 * n3 + 10 * n1);
    if (sy)
        sy->n_scored++;
}

static int create(const char *settings, const char *extra)
{
    char spec[1024];
    snprintf(spec, sizeof spec,
             "{\"space\":{\"name\":\"nb201\",\"settings\":{\"C\":8,\"N\":1}},"
             "\"proxies\":{\"ntk\":{},\"linear_regions\":{}},"
             "\"strategy\":{\"name\":\"monas\",\"settings\":%s}%s}", settings, extra ? extra : "");
    int st;
    cJSON *j = tu_json(&srv, "POST", "/v1/jobs", NULL, spec, &st);
    ck_assert_msg(st == 201, "create: HTTP %d: %s", st, tu_str(j, "error.message"));
    int id = (int)tu_num(j, "id");
    cJSON_Delete(j);
    return id;
}

static const char *const all3 = "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|nor_conv_3x3~0|"
                                "nor_conv_3x3~1|nor_conv_3x3~2|";
static const char *const allskip = "|skip_connect~0|+|skip_connect~0|skip_connect~1|+|"
                                   "skip_connect~0|skip_connect~1|skip_connect~2|";

/* Every edge of round r dropped `op`. */
static void assert_pruned(const cJSON *state, int r, const char *op)
{
    const cJSON *ro = cJSON_GetArrayItem(cJSON_GetObjectItem(state, "rounds"), r), *p;
    ck_assert(cJSON_IsTrue(cJSON_GetObjectItem(ro, "closed")));
    int n = 0;
    cJSON_ArrayForEach(p, cJSON_GetObjectItem(ro, "pruned"))
    {
        ck_assert_msg(cJSON_IsString(p) && strcmp(p->valuestring, op) == 0,
                      "round %d: pruned %s, want %s", r, cJSON_IsString(p) ? p->valuestring : "null", op);
        n++;
    }
    ck_assert_int_eq(n, 6);
}

START_TEST(tenas_schedule)
{
    int id = create("{\"latency_weight\":0}", NULL);
    struct synth sy = {0};
    tu_score_loop(&srv, 64, 100, score, &sy);
    cJSON *j = tu_job(&srv, id);
    ck_assert_str_eq(tu_str(j, "status"), "exhausted");
    ck_assert_str_eq(tu_str(j, "reason"), "strategy has nothing left to propose");
    /* 3 rounds of supernet + 24, 18, 12 removals, then the final architecture. */
    ck_assert_int_eq(sy.n_scored, 25 + 19 + 13 + 1);
    ck_assert_int_eq((int)tu_num(j, "progress.scored"), 58);
    ck_assert_int_eq((int)tu_num(j, "generation"), 4);
    ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItem(j, "history")), 4);
    const cJSON *state = cJSON_GetObjectItem(j, "strategy_state");
    const cJSON *rounds = cJSON_GetObjectItem(state, "rounds");
    ck_assert_int_eq(cJSON_GetArraySize(rounds), 3);
    static const int n_rem[3] = {24, 18, 12};
    for (int r = 0; r < 3; r++) {
        const cJSON *ro = cJSON_GetArrayItem(rounds, r), *c;
        ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItem(ro, "removals")), n_rem[r]);
        ck_assert_str_eq(tu_str(ro, "supernet.status"), "scored");
        cJSON_ArrayForEach(c, cJSON_GetObjectItem(ro, "removals"))
        {
            ck_assert_str_eq(tu_str(c, "status"), "scored");
            ck_assert(tu_num(c, "rank.ntk") >= 0 && tu_num(c, "rank.linear_regions") >= 0);
            ck_assert(cJSON_IsNumber(cJSON_GetObjectItem(cJSON_GetObjectItem(c, "change"), "ntk")));
        }
    }
    /* Round 1 starts from the supernet without 'none'. */
    ck_assert_str_eq(tu_str(cJSON_GetArrayItem(rounds, 0), "supernet.key"),
                     "|skip_connect,nor_conv_1x1,nor_conv_3x3,avg_pool_3x3~0|+|skip_connect,"
                     "nor_conv_1x1,nor_conv_3x3,avg_pool_3x3~0|skip_connect,nor_conv_1x1,"
                     "nor_conv_3x3,avg_pool_3x3~1|+|skip_connect,nor_conv_1x1,nor_conv_3x3,"
                     "avg_pool_3x3~0|skip_connect,nor_conv_1x1,nor_conv_3x3,avg_pool_3x3~1|"
                     "skip_connect,nor_conv_1x1,nor_conv_3x3,avg_pool_3x3~2|");
    /* The relative change and its dense rank (TE-NAS): dropping a pool from round 1's
     * supernet (ntk 100−60−18+6 = 28) lowers ntk by 1: change 1/28 rounded to 3
     * decimals, the largest, so rank 0; dropping a 3×3 conv ranks last. */
    const cJSON *rem0 = cJSON_GetObjectItem(cJSON_GetArrayItem(rounds, 0), "removals");
    for (int i = 0; i < 4; i++) {
        const cJSON *c = cJSON_GetArrayItem(rem0, i);
        ck_assert_int_eq((int)tu_num(c, "edge"), 0);
        if (strcmp(tu_str(c, "op"), "avg_pool_3x3") == 0) {
            ck_assert_double_eq_tol(tu_num(c, "change.ntk"), 0.036, 1e-12);
            ck_assert_int_eq((int)tu_num(c, "rank.ntk"), 0);
            ck_assert_int_eq((int)tu_num(c, "rank.linear_regions"), 0);
        }
        if (strcmp(tu_str(c, "op"), "nor_conv_3x3") == 0)
            ck_assert_int_eq((int)tu_num(c, "rank.ntk"), 3);
    }
    assert_pruned(state, 0, "avg_pool_3x3");
    assert_pruned(state, 1, "skip_connect");
    assert_pruned(state, 2, "nor_conv_1x1");
    ck_assert_str_eq(tu_str(state, "final.key"), all3);
    ck_assert_str_eq(tu_str(state, "final.status"), "scored");
    ck_assert_double_eq_tol(tu_num(state, "weights.ntk"), 0.5, 1e-12);
    ck_assert_double_eq_tol(tu_num(state, "weights.latency_ms"), 0, 1e-12);
    cJSON_Delete(j);
}
END_TEST

START_TEST(latency_weight_one)
{
    int id = create("{\"latency_weight\":1}", NULL);
    tu_score_loop(&srv, 64, 100, score, NULL);
    cJSON *j = tu_job(&srv, id);
    const cJSON *state = cJSON_GetObjectItem(j, "strategy_state");
    assert_pruned(state, 0, "nor_conv_3x3");
    assert_pruned(state, 1, "nor_conv_1x1");
    assert_pruned(state, 2, "avg_pool_3x3");
    ck_assert_str_eq(tu_str(state, "final.key"), allskip);
    ck_assert_double_eq_tol(tu_num(state, "weights.ntk"), 0, 1e-12);
    cJSON_Delete(j);
}
END_TEST

/* Round 1's supernet with edge 0 without its pool (the 5th candidate proposed). */
static const char *const pool0_key =
    "|skip_connect,nor_conv_1x1,nor_conv_3x3~0|+|skip_connect,nor_conv_1x1,nor_conv_3x3,"
    "avg_pool_3x3~0|skip_connect,nor_conv_1x1,nor_conv_3x3,avg_pool_3x3~1|+|skip_connect,"
    "nor_conv_1x1,nor_conv_3x3,avg_pool_3x3~0|skip_connect,nor_conv_1x1,nor_conv_3x3,"
    "avg_pool_3x3~1|skip_connect,nor_conv_1x1,nor_conv_3x3,avg_pool_3x3~2|";

/* Job id ran to the end with pool0_key dead: it ranks after every other removal and
 * edge 0 drops its next best op instead (the skip). */
static void assert_pool0_failed(int id)
{
    cJSON *j = tu_job(&srv, id);
    const cJSON *ro = cJSON_GetArrayItem(cJSON_GetObjectItem(cJSON_GetObjectItem(j, "strategy_state"),
                                                             "rounds"), 0);
    const cJSON *pool0 = cJSON_GetArrayItem(cJSON_GetObjectItem(ro, "removals"), 3);
    ck_assert_str_eq(tu_str(pool0, "op"), "avg_pool_3x3");
    ck_assert_str_eq(tu_str(pool0, "status"), "failed");
    ck_assert_int_eq((int)tu_num(j, "progress.dead"), 1);
    int max_rank = 0;
    const cJSON *c;
    cJSON_ArrayForEach(c, cJSON_GetObjectItem(ro, "removals")) if (c != pool0 && tu_num(c, "rank.ntk") > max_rank)
        max_rank = (int)tu_num(c, "rank.ntk");
    ck_assert_int_eq((int)tu_num(pool0, "rank.ntk"), max_rank + 1);
    ck_assert_str_eq(tu_str(cJSON_GetArrayItem(cJSON_GetObjectItem(ro, "pruned"), 0), ""),
                     "skip_connect");
    ck_assert_str_eq(tu_str(cJSON_GetArrayItem(cJSON_GetObjectItem(ro, "pruned"), 1), ""),
                     "avg_pool_3x3");
    ck_assert_str_eq(tu_str(j, "strategy_state.final.status"), "scored");
    cJSON_Delete(j);
}

START_TEST(failed_removal_ranks_last)
{
    int id = create("{\"latency_weight\":0}", ",\"max_attempts\":1");
    struct synth sy = {.fail_exact = pool0_key};
    tu_score_loop(&srv, 64, 100, score, &sy);
    assert_pool0_failed(id);
}
END_TEST

START_TEST(expired_removal_ranks_last)
{
    /* The same when pool0_key's lease expires on its last attempt: the reaper hands the
     * dead candidate, with its key, to the strategy. */
    int id = create("{\"latency_weight\":0}", ",\"max_attempts\":1,\"lease_seconds\":1");
    ck_assert_int_eq(tu_score_loop(&srv, 4, 1, score, NULL), 1);
    int st;
    cJSON *l = tu_json(&srv, "POST", "/v1/leases", NULL,
                       "{\"worker_id\":\"gone\"," TU_SV ",\"capacity\":1}", &st);
    ck_assert_int_eq(st, 200);
    ck_assert_str_eq(tu_str(l, "candidates.0.key"), pool0_key);
    cJSON_Delete(l);
    usleep(1500000);
    tu_score_loop(&srv, 64, 100, score, NULL);
    assert_pool0_failed(id);
}
END_TEST

START_TEST(restart_mid_search)
{
    /* Uninterrupted reference. */
    int a = create("{\"latency_weight\":0.3,\"sram_weight\":0.1}", NULL);
    tu_score_loop(&srv, 64, 100, score, NULL);
    cJSON *ja = tu_job(&srv, a);
    ck_assert_str_eq(tu_str(ja, "status"), "exhausted");
    /* The same job, killed twice mid-round (leases of 10 split the rounds). */
    int b = create("{\"latency_weight\":0.3,\"sram_weight\":0.1}", NULL);
    ck_assert_int_eq(tu_score_loop(&srv, 10, 4, score, NULL), 4);
    tu_srv_kill(&srv);
    ck_assert_int_eq(tu_srv_start(&srv, NULL, NULL), 0);
    ck_assert_int_eq(tu_score_loop(&srv, 10, 3, score, NULL), 3);
    tu_srv_kill(&srv);
    ck_assert_int_eq(tu_srv_start(&srv, NULL, NULL), 0);
    tu_score_loop(&srv, 10, 100, score, NULL);
    cJSON *jb = tu_job(&srv, b);
    ck_assert_str_eq(tu_str(jb, "status"), "exhausted");
    char *sa = mn_json_print(cJSON_GetObjectItem(ja, "strategy_state"));
    char *sb = mn_json_print(cJSON_GetObjectItem(jb, "strategy_state"));
    ck_assert_str_eq(sa, sb);
    ck_assert_int_eq((int)tu_num(jb, "progress.scored"), 58);
    free(sa);
    free(sb);
    cJSON_Delete(ja);
    cJSON_Delete(jb);
}
END_TEST

START_TEST(settings_validation)
{
    static const struct {
        const char *body, *field;
    } cases[] = {
        {"{\"space\":{\"name\":\"unas\"},\"strategy\":{\"name\":\"monas\"}}", "space.name"},
        {"{\"space\":{\"name\":\"nb201\"},\"strategy\":{\"name\":\"monas\",\"settings\":"
         "{\"latency_weight\":2}}}", "strategy.settings.latency_weight"},
        {"{\"space\":{\"name\":\"nb201\"},\"strategy\":{\"name\":\"monas\",\"settings\":"
         "{\"latency_weight\":0.7,\"flash_weight\":0.5}}}", "strategy.settings.latency_weight"},
        {"{\"space\":{\"name\":\"nb201\"},\"strategy\":{\"name\":\"monas\",\"settings\":"
         "{\"proxies\":[\"ntk\",\"magic\"]}}}", "strategy.settings.proxies[1]"},
        {"{\"space\":{\"name\":\"nb201\"},\"strategy\":{\"name\":\"monas\",\"settings\":"
         "{\"proxies\":[\"synflow\"]}}}", "strategy.settings.proxies"},
        {"{\"space\":{\"name\":\"nb201\"},\"strategy\":{\"name\":\"monas\",\"settings\":"
         "{\"rounds\":3}}}", "strategy.settings.rounds"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int st;
        cJSON *j = tu_json(&srv, "POST", "/v1/jobs", NULL, cases[i].body, &st);
        ck_assert_msg(st == 422, "case %zu: HTTP %d", i, st);
        ck_assert_str_eq(tu_str(j, "error.field"), cases[i].field);
        cJSON_Delete(j);
    }
    int st;
    cJSON *j = tu_json(&srv, "GET", "/v1/strategies", NULL, NULL, &st);
    ck_assert_str_eq(tu_str(j, "strategies.1.name"), "monas");
    cJSON_Delete(j);
}
END_TEST

Suite *strategy_monas_suite(void)
{
    Suite *s = suite_create("strategy_monas");
    TCase *tc = tcase_create("monas");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, tenas_schedule);
    tcase_add_test(tc, latency_weight_one);
    tcase_add_test(tc, failed_removal_ranks_last);
    tcase_add_test(tc, expired_removal_ranks_last);
    tcase_add_test(tc, restart_mid_search);
    tcase_add_test(tc, settings_validation);
    suite_add_tcase(s, tc);
    return s;
}
