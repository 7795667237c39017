/* check_it_worker.c — integration: real monasd and monas-worker processes on loopback.
 * A job finishes with two workers and every candidate scored once; a SIGKILLed worker's
 * lease expires and another worker scores its candidates; a SIGKILLed and restarted
 * monasd is found again by its workers and the job's front equals an uninterrupted
 * run's; a worker of another scoring version is refused and says so; SIGTERM finishes
 * or (twice) releases the batch in hand; a worker needs a token with the worker scope
 * when the coordinator has tokens; the next batch is leased before the last one's
 * results are posted, and a stop finishes or releases both. Jobs are small, scored by
 * the counting proxies and the cost model, with --score-delay-ms to hold batches open. */
#include <check.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "itutil.h"

static struct tu_srv srv;

static void setup(void)
{
    tu_srv_init(&srv);
    ck_assert_int_eq(tu_srv_start(&srv, NULL, NULL), 0);
}

static void teardown(void)
{
    tu_srv_stop(&srv);
    tu_srv_cleanup(&srv);
}

/* A random-strategy nb201 job of n candidates that only ends by exhausting them. */
static const char *job_spec(char *buf, size_t len, int n, int batch, int lease_s, int seed)
{
    snprintf(buf, len,
             "{\"name\":\"it\",\"space\":{\"name\":\"nb201\"},"
             "\"proxies\":{\"params\":{},\"flops\":{}},"
             "\"objectives\":[\"flops\",\"latency_ms\",\"peak_sram_bytes\"],"
             "\"budget\":{\"max_candidates\":%d},\"batch_size\":%d,\"seed\":%d,"
             "\"lease_seconds\":%d,\"convergence\":{\"epsilon\":0}}",
             n, batch, seed, lease_s);
    return buf;
}

static void expect_finished(cJSON *j, int n)
{
    ck_assert_msg(j != NULL, "job view unreadable");
    ck_assert_str_eq(tu_str(j, "status"), "exhausted");
    ck_assert_int_eq((int)tu_num(j, "progress.scored"), n);
    ck_assert_int_eq((int)tu_num(j, "progress.dead"), 0);
    ck_assert_int_eq((int)tu_num(j, "progress.leased"), 0);
    ck_assert_int_eq((int)tu_num(j, "progress.queued"), 0);
}

/* Every candidate of job id: scored, by worker `by` when not NULL; returns how many
 * needed more than one attempt. */
static int check_candidates(long id, int n, const char *by)
{
    char path[96];
    snprintf(path, sizeof path, "/v1/jobs/%ld/candidates?limit=1000", id);
    cJSON *j = tu_json(&srv, "GET", path, NULL, NULL, NULL);
    const cJSON *c, *list = cJSON_GetObjectItem(j, "candidates");
    int count = 0, retried = 0;
    cJSON_ArrayForEach(c, list)
    {
        ck_assert_str_eq(tu_str(c, "status"), "scored");
        if (by)
            ck_assert_str_eq(tu_str(c, "worker_id"), by);
        retried += tu_num(c, "attempts") > 1;
        count++;
    }
    ck_assert_int_eq(count, n);
    cJSON_Delete(j);
    return retried;
}

/* Asserts job `path`'s progress: this many candidates scored and leased. */
static void expect_progress(const char *path, int scored, int leased)
{
    cJSON *j = tu_json(&srv, "GET", path, NULL, NULL, NULL);
    ck_assert_int_eq((int)tu_num(j, "progress.scored"), scored);
    ck_assert_int_eq((int)tu_num(j, "progress.leased"), leased);
    cJSON_Delete(j);
}

/* Two SIGTERMs 100 ms apart: the worker releases what it holds. */
static void signal_twice(pid_t w)
{
    struct timespec pause = {0, 100 * 1000000L};
    it_signal(w, SIGTERM);
    nanosleep(&pause, NULL);
    it_signal(w, SIGTERM);
}

START_TEST(two_workers_score_every_candidate_once)
{
    int n = it_sanitized() ? 48 : 96;
    char spec[1024];
    long id = it_job_create(&srv, job_spec(spec, sizeof spec, n, 8, 10, 3));
    const char *args[] = {"--threads", "2", "--batch", "4", "--score-delay-ms", "20", NULL};
    pid_t w1 = it_worker_start(&srv, "w1.log", args), w2 = it_worker_start(&srv, "w2.log", args);
    cJSON *j = it_job_wait(&srv, id, 60);
    expect_finished(j, n);
    cJSON_Delete(j);
    ck_assert_int_eq(check_candidates(id, n, NULL), 0);
    it_signal(w1, SIGTERM);
    it_signal(w2, SIGTERM);
    ck_assert_int_eq(it_wait_exit(w1, 10000), 0);
    ck_assert_int_eq(it_wait_exit(w2, 10000), 0);
    long a1 = it_log_sum(&srv, "w1.log", "accepted"), a2 = it_log_sum(&srv, "w2.log", "accepted");
    ck_assert_msg(a1 > 0 && a2 > 0, "both workers should score: %ld and %ld", a1, a2);
    ck_assert_int_eq(a1 + a2, n); /* each candidate accepted once, from one worker */
    ck_assert_int_eq(it_log_sum(&srv, "w1.log", "duplicates") +
                         it_log_sum(&srv, "w2.log", "duplicates"), 0);
    ck_assert_int_eq(it_log_sum(&srv, "w1.log", "errors") + it_log_sum(&srv, "w2.log", "errors"),
                     0);
    ck_assert(it_log_has(&srv, "w1.log", "msg=\"worker stopped\" status=0"));
}
END_TEST

START_TEST(killed_worker_lease_expires_and_another_scores)
{
    int n = 24;
    char spec[1024];
    long id = it_job_create(&srv, job_spec(spec, sizeof spec, n, 8, 1, 4));
    const char *slow[] = {"--id", "wA", "--threads", "2", "--batch", "8", "--score-delay-ms",
                          "3000", NULL};
    pid_t a = it_worker_start(&srv, "wA.log", slow);
    ck_assert_int_ge((int)it_job_poll(&srv, id, "progress.leased", 8, 15000), 8);
    it_signal(a, SIGKILL);
    ck_assert_int_eq(it_wait_exit(a, 5000), 128 + SIGKILL);
    const char *fast[] = {"--id", "wB", "--threads", "2", "--batch", "8", NULL};
    pid_t b = it_worker_start(&srv, "wB.log", fast);
    cJSON *j = it_job_wait(&srv, id, 60);
    expect_finished(j, n);
    cJSON_Delete(j);
    /* wA's 8 were leased twice and, like all others, scored by wB alone. */
    ck_assert_int_eq(check_candidates(id, n, "wB"), 8);
    it_signal(b, SIGTERM);
    ck_assert_int_eq(it_wait_exit(b, 10000), 0);
    ck_assert_int_eq(it_log_sum(&srv, "wB.log", "accepted"), n);
    ck_assert_int_eq(it_log_sum(&srv, "wB.log", "duplicates"), 0);
}
END_TEST

START_TEST(restarted_coordinator_same_front)
{
    int n = it_sanitized() ? 40 : 64;
    char spec[1024], listen[64], *want, *got;
    job_spec(spec, sizeof spec, n, 8, 2, 5);

    /* Reference: the same job, uninterrupted, on a daemon of its own. */
    struct tu_srv ref;
    tu_srv_init(&ref);
    ck_assert_int_eq(tu_srv_start(&ref, NULL, NULL), 0);
    long rid = it_job_create(&ref, spec);
    const char *one[] = {"--threads", "2", NULL};
    pid_t w0 = it_worker_start(&ref, "w0.log", one);
    cJSON *j = it_job_wait(&ref, rid, 60);
    expect_finished(j, n);
    cJSON_Delete(j);
    want = it_front_canonical(&ref, rid);
    it_signal(w0, SIGTERM);
    ck_assert_int_eq(it_wait_exit(w0, 10000), 0);
    tu_srv_stop(&ref);
    tu_srv_cleanup(&ref);
    ck_assert_ptr_nonnull(want);
    int lines = 0;
    for (const char *p = want; *p; p++)
        lines += *p == '\n';
    ck_assert_int_ge(lines, 1 + 3); /* header and a front of several trade-offs */

    long id = it_job_create(&srv, spec);
    const char *args[] = {"--threads", "1", "--batch", "4", "--score-delay-ms", "40", NULL};
    pid_t w1 = it_worker_start(&srv, "w1.log", args), w2 = it_worker_start(&srv, "w2.log", args);
    ck_assert_int_ge((int)it_job_poll(&srv, id, "progress.scored", 16, 30000), 16);
    tu_srv_kill(&srv);
    struct timespec pause = {0, 300 * 1000000L};
    nanosleep(&pause, NULL);
    snprintf(listen, sizeof listen, "127.0.0.1:%d", srv.port);
    const char *same_port[] = {"--listen", listen, NULL};
    ck_assert_int_eq(tu_srv_start(&srv, same_port, NULL), 0);
    j = it_job_wait(&srv, id, 60);
    expect_finished(j, n);
    cJSON_Delete(j);
    got = it_front_canonical(&srv, id);
    ck_assert_ptr_nonnull(got);
    ck_assert_str_eq(got, want);
    it_signal(w1, SIGTERM);
    it_signal(w2, SIGTERM);
    ck_assert_int_eq(it_wait_exit(w1, 10000), 0);
    ck_assert_int_eq(it_wait_exit(w2, 10000), 0);
    /* They noticed the coordinator was gone and came back by themselves. */
    ck_assert(it_log_has(&srv, "w1.log", "coordinator unavailable") ||
              it_log_has(&srv, "w2.log", "coordinator unavailable"));
    free(want);
    free(got);
}
END_TEST

START_TEST(other_scoring_version_refused)
{
    const char *args[] = {"--scoring-version", "999", NULL};
    pid_t w = it_worker_start(&srv, "wv.log", args);
    ck_assert_int_eq(it_wait_exit(w, 10000), 3);
    ck_assert(it_log_has(&srv, "wv.log", "refused this worker's scoring version"));
    ck_assert(it_log_has(&srv, "wv.log", "scoring_version=999 status=409"));
}
END_TEST

START_TEST(sigterm_finishes_batch_twice_releases)
{
    char spec[1024], path[64];
    long id = it_job_create(&srv, job_spec(spec, sizeof spec, 16, 8, 30, 6));
    snprintf(path, sizeof path, "/v1/jobs/%ld", id);
    /* One signal: the batch (4 × 400 ms on one thread) is finished and posted. */
    const char *a1[] = {"--threads", "1", "--batch", "4", "--score-delay-ms", "400", NULL};
    pid_t w = it_worker_start(&srv, "t1.log", a1);
    ck_assert_int_ge((int)it_job_poll(&srv, id, "progress.leased", 4, 15000), 4);
    it_signal(w, SIGTERM);
    ck_assert_int_eq(it_wait_exit(w, 15000), 0);
    ck_assert_int_eq(it_log_sum(&srv, "t1.log", "accepted"), 4);
    expect_progress(path, 4, 0);
    /* Two signals: the lease is given back at once (the running task still ends). */
    const char *a2[] = {"--threads", "1", "--batch", "4", "--score-delay-ms", "1500", NULL};
    w = it_worker_start(&srv, "t2.log", a2);
    ck_assert_int_ge((int)it_job_poll(&srv, id, "progress.leased", 4, 15000), 4);
    signal_twice(w);
    ck_assert_int_eq(it_wait_exit(w, 15000), 0);
    ck_assert(it_log_has(&srv, "t2.log", "msg=\"lease released\" released=4"));
    expect_progress(path, 4, 0);
}
END_TEST

START_TEST(bearer_token_required)
{
    static const char *const env[] = {
        "MONAS_TOKENS=admin-token-1 admin;worker-token-1 worker;read-token-1 read", NULL};
    char spec[1024], path[400], jobpath[64];
    tu_srv_stop(&srv);
    ck_assert_int_eq(tu_srv_start(&srv, NULL, env), 0);
    int st;
    cJSON *j = tu_json(&srv, "POST", "/v1/jobs", "admin-token-1",
                       job_spec(spec, sizeof spec, 8, 8, 10, 7), &st);
    ck_assert_int_eq(st, 201);
    snprintf(jobpath, sizeof jobpath, "/v1/jobs/%d?wait=30", (int)tu_num(j, "id"));
    cJSON_Delete(j);
    /* A read-only token is refused: the worker says so and exits 4. */
    FILE *f = fopen(it_log_path(&srv, "bad.token", path, sizeof path), "w");
    fputs("read-token-1\n", f);
    fclose(f);
    const char *bad[] = {"--token-file", path, NULL};
    ck_assert_int_eq(it_wait_exit(it_worker_start(&srv, "bad.log", bad), 10000), 4);
    ck_assert(it_log_has(&srv, "bad.log", "refused this worker's token"));
    f = fopen(it_log_path(&srv, "good.token", path, sizeof path), "w");
    fputs("worker-token-1\n", f);
    fclose(f);
    const char *good[] = {"--token-file", path, NULL};
    pid_t w = it_worker_start(&srv, "good.log", good);
    j = tu_json(&srv, "GET", jobpath, "read-token-1", NULL, &st);
    ck_assert_int_eq(st, 200);
    ck_assert_str_eq(tu_str(j, "status"), "exhausted");
    cJSON_Delete(j);
    it_signal(w, SIGTERM);
    ck_assert_int_eq(it_wait_exit(w, 10000), 0);
    ck_assert_int_eq(it_log_sum(&srv, "good.log", "accepted"), 8);
}
END_TEST

START_TEST(heartbeats_keep_a_long_batch_leased)
{
    char spec[1024];
    /* 8 candidates on 2 threads at 700 ms each: ~2.8 s on a 1 s lease. */
    long id = it_job_create(&srv, job_spec(spec, sizeof spec, 8, 8, 1, 8));
    const char *args[] = {"--threads", "2", "--batch", "8", "--score-delay-ms", "700", NULL};
    pid_t w = it_worker_start(&srv, "hb.log", args);
    cJSON *j = it_job_wait(&srv, id, 60);
    expect_finished(j, 8);
    cJSON_Delete(j);
    ck_assert_int_eq(check_candidates(id, 8, NULL), 0); /* never requeued */
    it_signal(w, SIGTERM);
    ck_assert_int_eq(it_wait_exit(w, 10000), 0);
    ck_assert_int_eq(it_log_sum(&srv, "hb.log", "accepted"), 8);
    ck_assert(!it_log_has(&srv, "hb.log", "heartbeat failed"));
}
END_TEST

START_TEST(failing_candidates_reported_not_fatal)
{
    /* A dataset file that does not exist: every candidate fails to score, is reported
     * with its error, retried up to max_attempts and then dead; the worker carries on. */
    const char *spec = "{\"name\":\"bad\",\"space\":{\"name\":\"nb201\"},"
                       "\"proxies\":{\"naswot\":{\"dataset\":{\"name\":\"cifar10\","
                       "\"path\":\"/nonexistent/data_batch_1.bin\"}}},"
                       "\"objectives\":[\"naswot\",\"latency_ms\"],"
                       "\"budget\":{\"max_candidates\":4},\"batch_size\":4,"
                       "\"max_attempts\":2,\"convergence\":{\"epsilon\":0}}";
    long id = it_job_create(&srv, spec);
    const char *args[] = {"--threads", "2", "--batch", "4", NULL};
    pid_t w = it_worker_start(&srv, "bad.log", args);
    cJSON *j = it_job_wait(&srv, id, 60);
    ck_assert_ptr_nonnull(j);
    ck_assert_str_ne(tu_str(j, "status"), "running");
    ck_assert_int_eq((int)tu_num(j, "progress.dead"), 4);
    ck_assert_int_eq((int)tu_num(j, "progress.scored"), 0);
    cJSON_Delete(j);
    char path[96];
    snprintf(path, sizeof path, "/v1/jobs/%ld/candidates?limit=1", id);
    j = tu_json(&srv, "GET", path, NULL, NULL, NULL);
    ck_assert_msg(strstr(tu_str(j, "candidates.0.error"), "nonexistent") != NULL,
                  "error should name the file: '%s'", tu_str(j, "candidates.0.error"));
    cJSON_Delete(j);
    it_signal(w, SIGTERM);
    ck_assert_int_eq(it_wait_exit(w, 10000), 0);
    ck_assert_int_eq(it_log_sum(&srv, "bad.log", "errors"), 8); /* 4 candidates × 2 attempts */
}
END_TEST

START_TEST(next_batch_leased_before_results_posted)
{
    char spec[1024], path[64];
    long id = it_job_create(&srv, job_spec(spec, sizeof spec, 8, 8, 30, 9));
    snprintf(path, sizeof path, "/v1/jobs/%ld", id);
    /* One thread, batches of 2 at 1 s a candidate: the second candidate of the first
     * batch starts at ~1 s, which leases the second batch; the first batch's results are
     * posted at ~2 s. In between, two leases are held and nothing is scored. */
    const char *args[] = {"--threads", "1", "--batch", "2", "--score-delay-ms", "1000", NULL};
    pid_t w = it_worker_start(&srv, "p1.log", args);
    ck_assert_int_ge((int)it_job_poll(&srv, id, "progress.leased", 4, 15000), 4);
    expect_progress(path, 0, 4);
    /* One signal: both batches in hand are finished and posted, nothing more leased. */
    it_signal(w, SIGTERM);
    ck_assert_int_eq(it_wait_exit(w, 15000), 0);
    ck_assert_int_eq(it_log_sum(&srv, "p1.log", "accepted"), 4);
    expect_progress(path, 4, 0);
    /* Two signals with two batches in hand: the first posts its scored candidate and
     * releases the other, the second (not started) is released whole. */
    w = it_worker_start(&srv, "p2.log", args);
    ck_assert_int_ge((int)it_job_poll(&srv, id, "progress.leased", 4, 15000), 4);
    signal_twice(w);
    ck_assert_int_eq(it_wait_exit(w, 15000), 0);
    ck_assert(it_log_has(&srv, "p2.log", "msg=\"lease released\" released=1"));
    ck_assert(it_log_has(&srv, "p2.log", "msg=\"lease released\" released=2"));
    expect_progress(path, 5, 0);
}
END_TEST

Suite *it_worker_suite(void)
{
    Suite *s = suite_create("it_worker");
    TCase *tc = tcase_create("processes");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, two_workers_score_every_candidate_once);
    tcase_add_test(tc, killed_worker_lease_expires_and_another_scores);
    tcase_add_test(tc, restarted_coordinator_same_front);
    tcase_add_test(tc, other_scoring_version_refused);
    tcase_add_test(tc, sigterm_finishes_batch_twice_releases);
    tcase_add_test(tc, bearer_token_required);
    tcase_add_test(tc, heartbeats_keep_a_long_batch_leased);
    tcase_add_test(tc, failing_candidates_reported_not_fatal);
    tcase_add_test(tc, next_batch_leased_before_results_posted);
    suite_add_tcase(s, tc);
    return s;
}
