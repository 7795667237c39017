/* lease_loop.c — lease → score on the thread pool → heartbeat → post → lease (see
 * lease_loop.h). Everything here runs on the loop thread except work_cb, which only
 * reads the batch's job context and candidate and writes its own task's result. One
 * batch is in hand at a time; its memory is freed when no task refers to it. */
#include "lease_loop.h"
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "backoff.h"
#include "http_client.h"
#include "log.h"
#include "score.h"

enum state {
    S_WAITING,   /* backing off before the next lease request */
    S_LEASING,   /* lease request in flight */
    S_SCORING,   /* tasks on the pool */
    S_POSTING,   /* results in flight, or waiting to retry them */
    S_RELEASING, /* stopping: partial results, then the release, in flight */
    S_DONE,
};

struct batch;

struct task {
    uv_work_t req;
    struct batch *b;
    const cJSON *cand; /* in b->lease */
    cJSON *result;     /* set by work_cb */
    int done;
};

struct batch {
    struct mn_lease_loop *lp;
    long long lease_id, job_id;
    cJSON *lease;                    /* the lease response; owns the candidates */
    const struct mn_score_job *job;  /* NULL: every candidate fails with job_error */
    const char *job_error;
    struct task *tasks;
    int n, done, errors, outstanding; /* outstanding: tasks queued and not yet called back */
    int delay_ms;                    /* copied from the configuration for the tasks */
    double started;
    char *post;                      /* the results body, kept for retries */
};

struct mn_lease_loop {
    uv_loop_t *loop;
    struct mn_worker_cfg cfg;
    struct mn_http_client *http;
    uv_timer_t wait_timer, hb_timer, drain_timer;
    struct mn_backoff backoff;
    enum state state;
    int stopping, hb_inflight, status;
    struct batch *batch;
    char *lease_body;
    /* The context of the last job seen, reused while leases carry the same job text. */
    char *job_text;
    struct mn_score_job *job;
    char job_error[600];
    long long batches, scored;
};

static void lease_next(struct mn_lease_loop *lp);
static void post_results(struct mn_lease_loop *lp);
static void abort_batch(struct mn_lease_loop *lp);

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* ---- the batch ---- */

static void batch_free(struct batch *b)
{
    if (!b)
        return;
    for (int i = 0; i < b->n; i++)
        cJSON_Delete(b->tasks[i].result);
    free(b->tasks);
    free(b->post);
    cJSON_Delete(b->lease);
    free(b);
}

/* Drops the loop's reference to its batch; freed now or when its last task returns. */
static void batch_drop(struct mn_lease_loop *lp)
{
    struct batch *b = lp->batch;
    lp->batch = NULL;
    if (b && b->outstanding == 0)
        batch_free(b);
    else if (b)
        b->lp = NULL;
}

/* ---- ending ---- */

static void on_closed(uv_handle_t *h)
{
    struct mn_lease_loop *lp = h->data;
    if (h == (uv_handle_t *)&lp->drain_timer && lp->cfg.on_finished)
        lp->cfg.on_finished(lp->cfg.ud, lp->status);
}

/* Stops for good with exit status `status`: closes every handle of the loop (tasks
 * still on the pool finish on their own and free their batch). */
static void finish(struct mn_lease_loop *lp, int status)
{
    if (lp->state == S_DONE)
        return;
    lp->state = S_DONE;
    lp->status = status;
    mn_log_info("msg=\"worker stopped\" status=%d batches=%lld candidates=%lld", status,
                lp->batches, lp->scored);
    batch_drop(lp);
    mn_http_client_free(lp->http);
    lp->http = NULL;
    uv_close((uv_handle_t *)&lp->wait_timer, on_closed);
    uv_close((uv_handle_t *)&lp->hb_timer, on_closed);
    uv_close((uv_handle_t *)&lp->drain_timer, on_closed); /* closed last: reports the end */
}

/* ---- responses ---- */

/* The coordinator's error message and field from an error body, "" when none. */
static void error_of(const struct mn_http_response *r, char *msg, size_t len, char *field,
                     size_t flen)
{
    cJSON *j = r->status ? cJSON_ParseWithLength(r->body, r->body_len) : NULL;
    const cJSON *e = cJSON_GetObjectItemCaseSensitive(j, "error");
    const cJSON *m = cJSON_GetObjectItemCaseSensitive(e, "message");
    const cJSON *f = cJSON_GetObjectItemCaseSensitive(e, "field");
    snprintf(msg, len, "%s", r->status == 0 ? r->error : cJSON_IsString(m) ? m->valuestring : "");
    if (field)
        snprintf(field, flen, "%s", cJSON_IsString(f) ? f->valuestring : "");
    cJSON_Delete(j);
}

/* Whether a response means "try again later": transport failure, 429, 5xx. */
static int retryable(long status)
{
    return status == 0 || status == 429 || status >= 500;
}

/* Handles the answers that end the worker whatever was asked: 401/403 (our token) and
 * 409 on scoring_version (a mixed fleet must not mix scores). Returns 1 if it ended. */
static int fatal_answer(struct mn_lease_loop *lp, const struct mn_http_response *r,
                        const char *what)
{
    char msg[400], field[64];
    if (r->status != 401 && r->status != 403 && r->status != 409)
        return 0;
    error_of(r, msg, sizeof msg, field, sizeof field);
    if (r->status == 409 && strcmp(field, "scoring_version") != 0)
        return 0;
    if (r->status == 409) {
        mn_log_error("msg=\"coordinator refused this worker's scoring version; exiting so a "
                     "mixed fleet cannot mix scores\" what=%s scoring_version=%s status=409 "
                     "error=\"%s\"", what, lp->cfg.scoring_version, msg);
        finish(lp, MN_WORKER_EXIT_VERSION);
    } else {
        mn_log_error("msg=\"coordinator refused this worker's token (check --token-file)\" "
                     "what=%s status=%ld error=\"%s\"", what, r->status, msg);
        finish(lp, MN_WORKER_EXIT_AUTH);
    }
    return 1;
}

/* Waits a backoff delay (or the server's Retry-After, if longer), then runs cb. */
static void wait_then(struct mn_lease_loop *lp, const struct mn_http_response *r, uv_timer_cb cb,
                      const char *what)
{
    double ms = mn_backoff_next(&lp->backoff);
    if (r && r->retry_after_s >= 0 && r->retry_after_s * 1000 > ms)
        ms = r->retry_after_s * 1000 < lp->cfg.backoff_max_ms ? r->retry_after_s * 1000
                                                              : lp->cfg.backoff_max_ms;
    int a = lp->backoff.attempt;
    if (r && r->status != 204) { /* trouble: say so on the first retries, then sparsely */
        char msg[400];
        error_of(r, msg, sizeof msg, NULL, 0);
        mn_log((a & (a - 1)) == 0 ? MN_LOG_WARN : MN_LOG_DEBUG,
               "msg=\"coordinator unavailable; retrying\" what=%s status=%ld error=\"%s\" "
               "retry_in_ms=%.0f", what, r->status, msg, ms);
    }
    uv_timer_start(&lp->wait_timer, cb, (uint64_t)ms, 0);
}

/* ---- leasing ---- */

static void on_wait_lease(uv_timer_t *t)
{
    lease_next(t->data);
}

static void release_done(const struct mn_http_response *r, void *ud)
{
    struct mn_lease_loop *lp = ud;
    const cJSON *n = NULL;
    cJSON *j = r->status == 200 ? cJSON_ParseWithLength(r->body, r->body_len) : NULL;
    n = cJSON_GetObjectItemCaseSensitive(j, "released");
    if (r->status == 200)
        mn_log_info("msg=\"lease released\" released=%d", cJSON_IsNumber(n) ? n->valueint : 0);
    else
        mn_log_warn("msg=\"release failed; the lease will expire instead\" status=%ld",
                    r->status);
    cJSON_Delete(j);
    if (lp->stopping) {
        finish(lp, 0);
        return;
    }
    lp->state = S_WAITING; /* a lease we could not use was given back */
    wait_then(lp, NULL, on_wait_lease, "lease");
}

static void release_lease(struct mn_lease_loop *lp, long long lease_id)
{
    char path[64];
    lp->state = S_RELEASING;
    snprintf(path, sizeof path, "/v1/leases/%lld/release", lease_id);
    if (mn_http_request(lp->http, "POST", path, NULL, release_done, lp) == 0)
        return;
    if (lp->stopping)
        finish(lp, 0);
    else {
        lp->state = S_WAITING;
        wait_then(lp, NULL, on_wait_lease, "lease");
    }
}

static void work_cb(uv_work_t *w)
{
    struct task *t = w->data;
    struct batch *b = t->b;
    if (b->delay_ms > 0) {
        struct timespec ts = {b->delay_ms / 1000, (long)(b->delay_ms % 1000) * 1000000L};
        nanosleep(&ts, NULL);
    }
    t->result = b->job ? mn_score_candidate(b->job, t->cand)
                       : mn_score_failed(t->cand, b->job_error, 0);
}

static void after_work_cb(uv_work_t *w, int status)
{
    struct task *t = w->data;
    struct batch *b = t->b;
    b->outstanding--;
    if (!b->lp) { /* the loop let go of this batch (stopping) */
        if (b->outstanding == 0)
            batch_free(b);
        return;
    }
    if (status == UV_ECANCELED)
        return;
    if (!t->result) /* out of memory in the task: the lease's expiry requeues it */
        t->result = mn_score_failed(t->cand, "worker out of memory", 0);
    if (t->result) {
        t->done = 1;
        b->done++;
        b->errors += cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(t->result, "ok"));
    }
    if (b->outstanding == 0 && b->lp->state == S_SCORING) {
        uv_timer_stop(&b->lp->hb_timer);
        post_results(b->lp);
    }
}

static void on_heartbeat_done(const struct mn_http_response *r, void *ud)
{
    struct mn_lease_loop *lp = ud;
    lp->hb_inflight = 0;
    if (r->status == 200 || fatal_answer(lp, r, "heartbeat"))
        return;
    char msg[400];
    error_of(r, msg, sizeof msg, NULL, 0);
    mn_log_warn("msg=\"heartbeat failed; scoring on (late results are still accepted)\" "
                "status=%ld error=\"%s\"", r->status, msg);
}

static void on_heartbeat(uv_timer_t *t)
{
    struct mn_lease_loop *lp = t->data;
    char path[64];
    if (lp->hb_inflight || !lp->batch)
        return;
    snprintf(path, sizeof path, "/v1/leases/%lld/heartbeat", lp->batch->lease_id);
    lp->hb_inflight = mn_http_request(lp->http, "POST", path, NULL, on_heartbeat_done, lp) == 0;
}

/* The scoring context of `job`, reusing the last one when the job is the same. */
static void job_context(struct mn_lease_loop *lp, const cJSON *job, struct batch *b)
{
    char *text = cJSON_PrintUnformatted(job);
    if (!text || !lp->job_text || strcmp(text, lp->job_text) != 0) {
        struct mn_error err = {0};
        mn_score_job_free(lp->job);
        free(lp->job_text);
        lp->job_text = text;
        text = NULL;
        lp->job = mn_score_job_new(job, &err);
        snprintf(lp->job_error, sizeof lp->job_error, "cannot score this job: %s%s%s",
                 err.field, err.field[0] ? ": " : "", err.message);
        if (!lp->job)
            mn_log_error("msg=\"%s\"", lp->job_error);
    }
    free(text);
    b->job = lp->job;
    b->job_error = lp->job_error;
}

/* Starts scoring `lease` (owned by the new batch from here on). Returns 0, or -1 when
 * nothing could be started (the caller backs off). */
static int start_batch(struct mn_lease_loop *lp, cJSON *lease)
{
    const cJSON *id = cJSON_GetObjectItemCaseSensitive(lease, "lease_id");
    const cJSON *secs = cJSON_GetObjectItemCaseSensitive(lease, "lease_seconds");
    const cJSON *job = cJSON_GetObjectItemCaseSensitive(lease, "job");
    const cJSON *cands = cJSON_GetObjectItemCaseSensitive(lease, "candidates"), *c;
    const cJSON *jid = cJSON_GetObjectItemCaseSensitive(job, "id");
    if (!cJSON_IsNumber(id) || !cJSON_IsObject(job) || !cJSON_IsArray(cands) ||
        cJSON_GetArraySize(cands) == 0) {
        mn_log_error("msg=\"malformed lease from the coordinator\"");
        if (cJSON_IsNumber(id))
            release_lease(lp, (long long)id->valuedouble);
        cJSON_Delete(lease);
        return cJSON_IsNumber(id) ? 0 : -1;
    }
    struct batch *b = calloc(1, sizeof *b);
    int n = cJSON_GetArraySize(cands);
    if (!b || !(b->tasks = calloc((size_t)n, sizeof *b->tasks))) {
        free(b);
        cJSON_Delete(lease);
        return -1;
    }
    b->lp = lp;
    b->lease = lease;
    b->lease_id = (long long)id->valuedouble;
    b->job_id = cJSON_IsNumber(jid) ? (long long)jid->valuedouble : 0;
    b->n = n;
    b->delay_ms = lp->cfg.score_delay_ms;
    b->started = now_s();
    job_context(lp, job, b);
    lp->batch = b;
    lp->state = S_SCORING;
    int i = 0;
    cJSON_ArrayForEach(c, cands)
    {
        struct task *t = &b->tasks[i++];
        t->b = b;
        t->cand = c;
        t->req.data = t;
        if (uv_queue_work(lp->loop, &t->req, work_cb, after_work_cb) == 0)
            b->outstanding++;
    }
    double every = (cJSON_IsNumber(secs) && secs->valuedouble > 0 ? secs->valuedouble : 30) / 3;
    uint64_t ms = every < 0.05 ? 50 : (uint64_t)(every * 1000);
    uv_timer_start(&lp->hb_timer, on_heartbeat, ms, ms);
    if (b->outstanding == 0) { /* nothing could be queued */
        uv_timer_stop(&lp->hb_timer);
        post_results(lp);
    }
    return 0;
}

static void on_lease(const struct mn_http_response *r, void *ud)
{
    struct mn_lease_loop *lp = ud;
    if (lp->state != S_LEASING)
        return;
    if (r->status == 200) {
        cJSON *lease = cJSON_ParseWithLength(r->body, r->body_len);
        mn_backoff_reset(&lp->backoff);
        if (lp->stopping) { /* asked to stop while the request was out: give it back */
            const cJSON *id = cJSON_GetObjectItemCaseSensitive(lease, "lease_id");
            if (cJSON_IsNumber(id))
                release_lease(lp, (long long)id->valuedouble);
            else
                finish(lp, 0);
            cJSON_Delete(lease);
            return;
        }
        if (lease && start_batch(lp, lease) == 0)
            return;
        if (!lease)
            mn_log_error("msg=\"lease response is not JSON\"");
        if (lp->state == S_LEASING) {
            lp->state = S_WAITING;
            wait_then(lp, NULL, on_wait_lease, "lease");
        }
        return;
    }
    if (fatal_answer(lp, r, "lease"))
        return;
    if (lp->stopping) {
        finish(lp, 0);
        return;
    }
    if (r->status != 204 && !retryable(r->status)) {
        char msg[400], field[64];
        error_of(r, msg, sizeof msg, field, sizeof field);
        mn_log_error("msg=\"lease refused\" status=%ld field=%s error=\"%s\"", r->status, field,
                     msg);
    }
    lp->state = S_WAITING;
    wait_then(lp, r, on_wait_lease, "lease");
}

static void lease_next(struct mn_lease_loop *lp)
{
    if (lp->stopping) {
        finish(lp, 0);
        return;
    }
    lp->state = S_LEASING;
    if (mn_http_request(lp->http, "POST", "/v1/leases", lp->lease_body, on_lease, lp)) {
        lp->state = S_WAITING;
        wait_then(lp, NULL, on_wait_lease, "lease");
    }
}

/* ---- results ---- */

/* The results body for the tasks done so far (all of them, normally). */
static char *results_body(struct mn_lease_loop *lp, struct batch *b)
{
    cJSON *o = cJSON_CreateObject(), *arr;
    char *text = NULL;
    if (o && cJSON_AddStringToObject(o, "worker_id", lp->cfg.worker_id) &&
        cJSON_AddStringToObject(o, "scoring_version", lp->cfg.scoring_version) &&
        (arr = cJSON_AddArrayToObject(o, "results"))) {
        int ok = 1;
        for (int i = 0; i < b->n && ok; i++)
            if (b->tasks[i].done)
                ok = cJSON_AddItemReferenceToArray(arr, b->tasks[i].result);
        text = ok ? cJSON_PrintUnformatted(o) : NULL;
    }
    cJSON_Delete(o); /* references: the results stay with their tasks */
    return text;
}

static void on_wait_post(uv_timer_t *t)
{
    post_results(t->data);
}

static void on_posted(const struct mn_http_response *r, void *ud)
{
    struct mn_lease_loop *lp = ud;
    struct batch *b = lp->batch;
    if (lp->state != S_POSTING || !b)
        return;
    if (fatal_answer(lp, r, "results"))
        return;
    if (retryable(r->status)) {
        wait_then(lp, r, on_wait_post, "results");
        return;
    }
    mn_backoff_reset(&lp->backoff);
    cJSON *ack = r->status == 200 ? cJSON_ParseWithLength(r->body, r->body_len) : NULL;
    const cJSON *acc = cJSON_GetObjectItemCaseSensitive(ack, "accepted");
    const cJSON *dup = cJSON_GetObjectItemCaseSensitive(ack, "duplicates");
    const cJSON *js = cJSON_GetObjectItemCaseSensitive(ack, "job_status");
    if (r->status == 200) {
        mn_log_info("msg=\"batch done\" lease=%lld job=%lld candidates=%d errors=%d "
                    "seconds=%.3f accepted=%d duplicates=%d job_status=%s",
                    b->lease_id, b->job_id, b->n, b->errors, now_s() - b->started,
                    cJSON_IsNumber(acc) ? acc->valueint : 0,
                    cJSON_IsNumber(dup) ? dup->valueint : 0,
                    cJSON_IsString(js) ? js->valuestring : "");
        lp->batches++;
        lp->scored += b->done;
    } else { /* 4xx: retrying the same body cannot help; the lease will expire */
        char msg[400], field[64];
        error_of(r, msg, sizeof msg, field, sizeof field);
        mn_log_error("msg=\"results refused; dropping the batch\" lease=%lld status=%ld "
                     "field=%s error=\"%s\"", b->lease_id, r->status, field, msg);
    }
    cJSON_Delete(ack);
    batch_drop(lp);
    uv_timer_stop(&lp->drain_timer);
    lease_next(lp);
}

static void post_results(struct mn_lease_loop *lp)
{
    struct batch *b = lp->batch;
    char path[64];
    lp->state = S_POSTING;
    if (!b->post && !(b->post = results_body(lp, b))) {
        mn_log_error("msg=\"out of memory building results\"");
        finish(lp, MN_WORKER_EXIT_FATAL);
        return;
    }
    snprintf(path, sizeof path, "/v1/leases/%lld/results", b->lease_id);
    if (mn_http_request(lp->http, "POST", path, b->post, on_posted, lp))
        wait_then(lp, NULL, on_wait_post, "results");
}

/* ---- stopping ---- */

static void on_partial_posted(const struct mn_http_response *r, void *ud)
{
    struct mn_lease_loop *lp = ud;
    if (r->status != 200)
        mn_log_warn("msg=\"posting partial results failed\" status=%ld", r->status);
    release_lease(lp, lp->batch->lease_id);
}

/* Stops the batch now: cancels tasks not started, posts what is scored, releases the
 * rest of the lease, finishes. */
static void abort_batch(struct mn_lease_loop *lp)
{
    struct batch *b = lp->batch;
    char path[64];
    uv_timer_stop(&lp->hb_timer);
    uv_timer_stop(&lp->wait_timer);
    for (int i = 0; i < b->n; i++)
        if (!b->tasks[i].done)
            uv_cancel((uv_req_t *)&b->tasks[i].req);
    lp->state = S_RELEASING;
    mn_log_info("msg=\"releasing the batch\" lease=%lld scored=%d of=%d", b->lease_id, b->done,
                b->n);
    if (b->done == 0 || !(b->post = results_body(lp, b))) {
        release_lease(lp, b->lease_id);
        return;
    }
    snprintf(path, sizeof path, "/v1/leases/%lld/results", b->lease_id);
    if (mn_http_request(lp->http, "POST", path, b->post, on_partial_posted, lp))
        release_lease(lp, b->lease_id);
}

/* The drain time is up (or a second stop request came). */
static void drain_over(struct mn_lease_loop *lp)
{
    if (lp->state == S_SCORING)
        abort_batch(lp);
    else if (lp->state == S_POSTING) { /* the coordinator is away: the lease will expire */
        mn_log_warn("msg=\"results not posted before stopping; the lease will expire\"");
        finish(lp, 0);
    } else if (lp->state != S_DONE && lp->state != S_LEASING && lp->state != S_RELEASING)
        finish(lp, 0);
}

static void on_drain(uv_timer_t *t)
{
    drain_over(t->data);
}

void mn_lease_loop_stop(struct mn_lease_loop *lp)
{
    if (lp->state == S_DONE)
        return;
    if (lp->stopping) {
        drain_over(lp);
        return;
    }
    lp->stopping = 1;
    mn_log_info("msg=\"stop requested: leasing no more\" state=%s",
                lp->batch ? "finishing the batch" : "idle");
    if (lp->state == S_WAITING) {
        finish(lp, 0);
        return;
    }
    uv_timer_start(&lp->drain_timer, on_drain, (uint64_t)(lp->cfg.drain_seconds * 1000), 0);
}

/* ---- life cycle ---- */

struct mn_lease_loop *mn_lease_loop_new(uv_loop_t *loop, const struct mn_worker_cfg *cfg,
                                        struct mn_error *err)
{
    struct mn_lease_loop *lp = calloc(1, sizeof *lp);
    if (!lp) {
        mn_error_set(err, MN_ENOMEM, NULL, "out of memory");
        return NULL;
    }
    lp->loop = loop;
    lp->cfg = *cfg;
    struct mn_http_opts ho = {.base_url = cfg->coordinator, .token = cfg->token,
                              .ca_file = cfg->ca_file,
                              .connect_timeout_ms = cfg->connect_timeout_ms,
                              .timeout_ms = cfg->request_timeout_ms};
    cJSON *body = cJSON_CreateObject();
    if (!body || !cJSON_AddStringToObject(body, "worker_id", cfg->worker_id) ||
        !cJSON_AddStringToObject(body, "version", MN_WORKER_VERSION) ||
        !cJSON_AddStringToObject(body, "scoring_version", cfg->scoring_version) ||
        !cJSON_AddNumberToObject(body, "capacity", cfg->batch) ||
        !(lp->lease_body = cJSON_PrintUnformatted(body))) {
        mn_error_set(err, MN_ENOMEM, NULL, "out of memory");
        goto fail;
    }
    if (!(lp->http = mn_http_client_new(loop, &ho, err)))
        goto fail;
    cJSON_Delete(body);
    mn_backoff_init(&lp->backoff, cfg->backoff_base_ms, cfg->backoff_max_ms, cfg->seed);
    uv_timer_t *timers[] = {&lp->wait_timer, &lp->hb_timer, &lp->drain_timer};
    for (int i = 0; i < 3; i++) {
        uv_timer_init(loop, timers[i]);
        timers[i]->data = lp;
    }
    return lp;
fail:
    cJSON_Delete(body);
    free(lp->lease_body);
    free(lp);
    return NULL;
}

void mn_lease_loop_start(struct mn_lease_loop *lp)
{
    mn_log_info("msg=\"worker started\" id=%s coordinator=%s version=%s scoring_version=%s "
                "batch=%d", lp->cfg.worker_id, lp->cfg.coordinator, MN_WORKER_VERSION,
                lp->cfg.scoring_version, lp->cfg.batch);
    lease_next(lp);
}

void mn_lease_loop_free(struct mn_lease_loop *lp)
{
    if (!lp)
        return;
    batch_drop(lp);
    mn_score_job_free(lp->job);
    free(lp->job_text);
    free(lp->lease_body);
    free(lp);
}
