/* lease_loop.c — lease → score on the thread pool → heartbeat → post (see lease_loop.h).
 * Everything here runs on the loop thread except work_cb, which only reads its batch's
 * job context and candidate and writes its own task's result.
 *
 * Prefetch: the loop hands tasks to the pool no more than `threads` at a time, oldest
 * batch first. When every task of the batches in hand has been handed to the pool (the
 * threads will soon run out of work) and fewer than MAX_HELD batches are in hand, it
 * leases the next batch at once, so its tasks queue behind the running ones and the
 * threads never wait for a results post or a lease round trip. At most one lease request
 * is in flight. Each batch posts its own results (with retries) as soon as it completes,
 * independently of the other; one heartbeat timer covers every lease being scored. A
 * prefetch that finds no work (or fails) is not repeated until a batch has been posted.
 *
 * A batch's memory is freed when the loop has let go of it and no task refers to it; the
 * job context is shared by the batches of one job and freed with the last of them. */
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

enum { MAX_HELD = 2 }; /* batches in hand: the one being finished and the next */

enum batch_state {
    B_SCORING,   /* tasks to hand to the pool or on it */
    B_POSTING,   /* results in flight, or waiting to retry them */
    B_RETRY,     /* results failed; the post timer retries them */
    B_RELEASING, /* stopping: partial results in flight, then the release */
};

/* The scoring context of one job, shared by its batches (reference counted). */
struct job_ctx {
    int refs;
    char *text; /* the job's JSON as leased: the key for reuse */
    struct mn_score_job *job; /* NULL: every candidate fails with error */
    char error[600];
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
    struct mn_lease_loop *lp;        /* NULL once the loop let go of it */
    enum batch_state state;
    long long lease_id, job_id;
    cJSON *lease;                    /* the lease response; owns the candidates */
    struct job_ctx *ctx;
    struct task *tasks;
    int n, next, done, errors, outstanding; /* next: first task not handed to the pool;
                                             * outstanding: handed, not yet called back */
    int delay_ms;                    /* copied from the configuration for the tasks */
    uint64_t hb_ms;                  /* heartbeat period this lease needs */
    double started;
    char *post;                      /* the results body, kept for retries */
};

struct mn_lease_loop {
    uv_loop_t *loop;
    struct mn_worker_cfg cfg;
    struct mn_http_client *http;
    uv_timer_t lease_timer, post_timer, hb_timer, drain_timer;
    struct mn_backoff backoff;
    int done, stopping, drained, leasing, releasing, hb_inflight, status;
    int wait_for_post;              /* a prefetch found nothing: no more until a post */
    int running;                    /* tasks on the pool, all batches */
    struct batch *held[MAX_HELD];   /* oldest first */
    int nheld;
    char *lease_body;
    struct job_ctx *ctx;            /* the last job seen, reused while leases carry it */
    long long batches, scored;
};

static void lease_next(struct mn_lease_loop *lp);
static void post_results(struct batch *b);

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* ---- job contexts and batches ---- */

static void ctx_unref(struct job_ctx *c)
{
    if (!c || --c->refs > 0)
        return;
    mn_score_job_free(c->job);
    free(c->text);
    free(c);
}

static void batch_free(struct batch *b)
{
    for (int i = 0; i < b->n; i++)
        cJSON_Delete(b->tasks[i].result);
    free(b->tasks);
    free(b->post);
    cJSON_Delete(b->lease);
    ctx_unref(b->ctx);
    free(b);
}

/* Removes b from the loop's hands; freed now or when its last task returns. */
static void batch_drop(struct batch *b)
{
    struct mn_lease_loop *lp = b->lp;
    int k = 0;
    for (int i = 0; i < lp->nheld; i++)
        if (lp->held[i] != b)
            lp->held[k++] = lp->held[i];
    lp->nheld = k;
    lp->running -= b->outstanding; /* still on the pool, but no longer the loop's */
    if (lp->nheld == 0)
        uv_timer_stop(&lp->hb_timer);
    b->lp = NULL;
    if (b->outstanding == 0)
        batch_free(b);
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
    if (lp->done)
        return;
    lp->done = 1;
    lp->status = status;
    mn_log_info("msg=\"worker stopped\" status=%d batches=%lld candidates=%lld", status,
                lp->batches, lp->scored);
    while (lp->nheld)
        batch_drop(lp->held[0]);
    mn_http_client_free(lp->http); /* pending requests are dropped without callbacks */
    lp->http = NULL;
    uv_timer_t *timers[] = {&lp->lease_timer, &lp->post_timer, &lp->hb_timer,
                            &lp->drain_timer}; /* the drain timer last: reports the end */
    for (int i = 0; i < 4; i++)
        uv_close((uv_handle_t *)timers[i], on_closed);
}

/* Stopping, and nothing left to finish, post or give back: finishes. Returns 1 if so. */
static int finish_if_idle(struct mn_lease_loop *lp)
{
    if (!lp->stopping || lp->nheld || lp->leasing || lp->releasing)
        return 0;
    finish(lp, 0);
    return 1;
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

/* Starts `t` after a backoff delay (or the server's Retry-After, if longer) unless it is
 * already running; then cb runs. */
static void wait_then(struct mn_lease_loop *lp, uv_timer_t *t, const struct mn_http_response *r,
                      uv_timer_cb cb, const char *what)
{
    if (uv_is_active((uv_handle_t *)t))
        return;
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
    uv_timer_start(t, cb, (uint64_t)ms, 0);
}

/* ---- leasing ---- */

/* Leases the next batch if it is time: not stopping, no lease in flight or backing
 * off, room in hand, every task in hand already given to the pool, and no prefetch
 * came back empty since the last post. */
static void maybe_lease(struct mn_lease_loop *lp)
{
    if (lp->done || lp->stopping || lp->leasing || lp->nheld >= MAX_HELD ||
        (lp->nheld && lp->wait_for_post) || uv_is_active((uv_handle_t *)&lp->lease_timer))
        return;
    for (int i = 0; i < lp->nheld; i++)
        if (lp->held[i]->state == B_SCORING && lp->held[i]->next < lp->held[i]->n)
            return;
    lease_next(lp);
}

static void on_wait_lease(uv_timer_t *t)
{
    maybe_lease(t->data);
}

/* A lease did not give us a batch (no work, trouble, or a lease we could not use): with
 * nothing in hand, back off and ask again; otherwise ask once a batch is posted. */
static void lease_later(struct mn_lease_loop *lp, const struct mn_http_response *r)
{
    lp->wait_for_post = lp->nheld > 0;
    if (!finish_if_idle(lp) && !lp->stopping && lp->nheld == 0)
        wait_then(lp, &lp->lease_timer, r, on_wait_lease, "lease");
}

static void release_done(const struct mn_http_response *r, void *ud)
{
    struct mn_lease_loop *lp = ud;
    cJSON *j = r->status == 200 ? cJSON_ParseWithLength(r->body, r->body_len) : NULL;
    const cJSON *n = cJSON_GetObjectItemCaseSensitive(j, "released");
    if (r->status == 200)
        mn_log_info("msg=\"lease released\" released=%d", cJSON_IsNumber(n) ? n->valueint : 0);
    else
        mn_log_warn("msg=\"release failed; the lease will expire instead\" status=%ld",
                    r->status);
    cJSON_Delete(j);
    lp->releasing--;
    lease_later(lp, NULL);
}

/* Gives lease_id back to the coordinator (its unposted candidates are requeued). */
static void release_lease(struct mn_lease_loop *lp, long long lease_id)
{
    char path[64];
    snprintf(path, sizeof path, "/v1/leases/%lld/release", lease_id);
    if (mn_http_request(lp->http, "POST", path, NULL, release_done, lp) == 0)
        lp->releasing++;
    else
        lease_later(lp, NULL);
}

static void work_cb(uv_work_t *w)
{
    struct task *t = w->data;
    struct batch *b = t->b;
    if (b->delay_ms > 0) {
        struct timespec ts = {b->delay_ms / 1000, (long)(b->delay_ms % 1000) * 1000000L};
        nanosleep(&ts, NULL);
    }
    t->result = b->ctx->job ? mn_score_candidate(b->ctx->job, t->cand)
                            : mn_score_failed(t->cand, b->ctx->error, 0);
}

static void after_work_cb(uv_work_t *w, int status);

/* Hands tasks to the pool while threads are free, oldest batch first; leases the next
 * batch when the last task in hand has been handed. */
static void feed(struct mn_lease_loop *lp)
{
    for (int i = 0; i < lp->nheld; i++) {
        struct batch *b = lp->held[i];
        while (b->state == B_SCORING && b->next < b->n && lp->running < lp->cfg.threads) {
            struct task *t = &b->tasks[b->next++];
            if (uv_queue_work(lp->loop, &t->req, work_cb, after_work_cb) == 0) {
                b->outstanding++;
                lp->running++;
            }
        }
        if (b->state == B_SCORING && b->outstanding == 0 && b->next == b->n)
            post_results(b); /* every task returned (or could not be queued) */
    }
    maybe_lease(lp);
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
    b->lp->running--;
    if (status == UV_ECANCELED)
        return;
    if (!t->result) /* out of memory in the task: the lease's expiry requeues it */
        t->result = mn_score_failed(t->cand, "worker out of memory", 0);
    if (t->result) {
        t->done = 1;
        b->done++;
        b->errors += cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(t->result, "ok"));
    }
    feed(b->lp);
}

static void on_heartbeat_done(const struct mn_http_response *r, void *ud)
{
    struct mn_lease_loop *lp = ud;
    lp->hb_inflight--;
    if (r->status == 200 || fatal_answer(lp, r, "heartbeat"))
        return;
    char msg[400];
    error_of(r, msg, sizeof msg, NULL, 0);
    mn_log_warn("msg=\"heartbeat failed; scoring on (late results are still accepted)\" "
                "status=%ld error=\"%s\"", r->status, msg);
}

/* Heartbeats every lease being scored (none while the last round is in flight). */
static void on_heartbeat(uv_timer_t *t)
{
    struct mn_lease_loop *lp = t->data;
    char path[64];
    if (lp->hb_inflight)
        return;
    for (int i = 0; i < lp->nheld; i++)
        if (lp->held[i]->state == B_SCORING) {
            snprintf(path, sizeof path, "/v1/leases/%lld/heartbeat", lp->held[i]->lease_id);
            lp->hb_inflight +=
                mn_http_request(lp->http, "POST", path, NULL, on_heartbeat_done, lp) == 0;
        }
}

/* Runs the heartbeat timer at the shortest period any lease in hand needs. */
static void heartbeat_schedule(struct mn_lease_loop *lp)
{
    uint64_t ms = 0;
    for (int i = 0; i < lp->nheld; i++)
        if (lp->held[i]->state == B_SCORING && (!ms || lp->held[i]->hb_ms < ms))
            ms = lp->held[i]->hb_ms;
    if (!ms)
        uv_timer_stop(&lp->hb_timer);
    else if (!uv_is_active((uv_handle_t *)&lp->hb_timer) ||
             uv_timer_get_repeat(&lp->hb_timer) != ms)
        uv_timer_start(&lp->hb_timer, on_heartbeat, ms, ms);
}

/* The scoring context of `job` (a new reference), reusing the last one when the job is
 * the same. NULL when out of memory. */
static struct job_ctx *job_context(struct mn_lease_loop *lp, const cJSON *job)
{
    char *text = cJSON_PrintUnformatted(job);
    if (!text)
        return NULL;
    if (!lp->ctx || strcmp(text, lp->ctx->text) != 0) {
        struct mn_error err = {0};
        struct job_ctx *c = calloc(1, sizeof *c);
        if (!c) {
            free(text);
            return NULL;
        }
        c->refs = 1;
        c->text = text;
        text = NULL;
        c->job = mn_score_job_new(job, &err);
        snprintf(c->error, sizeof c->error, "cannot score this job: %s%s%s", err.field,
                 err.field[0] ? ": " : "", err.message);
        if (!c->job)
            mn_log_error("msg=\"%s\"", c->error);
        ctx_unref(lp->ctx);
        lp->ctx = c;
    }
    free(text);
    lp->ctx->refs++;
    return lp->ctx;
}

/* Takes `lease` in hand (owned by the new batch from here on) and queues its tasks.
 * Returns 0, or -1 when nothing could be started (the caller asks again later). */
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
    if (!b || !(b->tasks = calloc((size_t)n, sizeof *b->tasks)) ||
        !(b->ctx = job_context(lp, job))) {
        if (b)
            free(b->tasks);
        free(b);
        cJSON_Delete(lease);
        return -1;
    }
    b->lp = lp;
    b->state = B_SCORING;
    b->lease = lease;
    b->lease_id = (long long)id->valuedouble;
    b->job_id = cJSON_IsNumber(jid) ? (long long)jid->valuedouble : 0;
    b->n = n;
    b->delay_ms = lp->cfg.score_delay_ms;
    b->started = now_s();
    double every = (cJSON_IsNumber(secs) && secs->valuedouble > 0 ? secs->valuedouble : 30) / 3;
    b->hb_ms = every < 0.05 ? 50 : (uint64_t)(every * 1000);
    int i = 0;
    cJSON_ArrayForEach(c, cands)
    {
        struct task *t = &b->tasks[i++];
        t->b = b;
        t->cand = c;
        t->req.data = t;
    }
    lp->held[lp->nheld++] = b;
    heartbeat_schedule(lp);
    feed(lp);
    return 0;
}

static void on_lease(const struct mn_http_response *r, void *ud)
{
    struct mn_lease_loop *lp = ud;
    lp->leasing = 0;
    if (r->status == 200) {
        cJSON *lease = cJSON_ParseWithLength(r->body, r->body_len);
        mn_backoff_reset(&lp->backoff);
        if (lp->stopping) { /* asked to stop while the request was out: give it back */
            const cJSON *id = cJSON_GetObjectItemCaseSensitive(lease, "lease_id");
            if (cJSON_IsNumber(id))
                release_lease(lp, (long long)id->valuedouble);
            else
                finish_if_idle(lp);
            cJSON_Delete(lease);
            return;
        }
        if (lease && start_batch(lp, lease) == 0)
            return;
        if (!lease)
            mn_log_error("msg=\"lease response is not JSON\"");
        lease_later(lp, NULL);
        return;
    }
    if (fatal_answer(lp, r, "lease"))
        return;
    if (r->status != 204 && !retryable(r->status) && !lp->stopping) {
        char msg[400], field[64];
        error_of(r, msg, sizeof msg, field, sizeof field);
        mn_log_error("msg=\"lease refused\" status=%ld field=%s error=\"%s\"", r->status, field,
                     msg);
    }
    lease_later(lp, r);
}

static void lease_next(struct mn_lease_loop *lp)
{
    if (mn_http_request(lp->http, "POST", "/v1/leases", lp->lease_body, on_lease, lp) == 0)
        lp->leasing = 1;
    else
        lease_later(lp, NULL);
}

/* Stopped and out of time: b's results are not posted, its lease will expire. */
static void give_up(struct batch *b)
{
    struct mn_lease_loop *lp = b->lp;
    mn_log_warn("msg=\"results not posted before stopping; the lease will expire\" "
                "lease=%lld", b->lease_id);
    batch_drop(b);
    finish_if_idle(lp);
}

/* ---- results ---- */

/* The results body for the tasks of b done so far (all of them, normally). */
static char *results_body(struct batch *b)
{
    const struct mn_worker_cfg *cfg = &b->lp->cfg;
    cJSON *o = cJSON_CreateObject(), *arr;
    char *text = NULL;
    if (o && cJSON_AddStringToObject(o, "worker_id", cfg->worker_id) &&
        cJSON_AddStringToObject(o, "scoring_version", cfg->scoring_version) &&
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

/* Posts b's results again: every batch whose post failed waits on the one timer. */
static void on_wait_post(uv_timer_t *t)
{
    struct mn_lease_loop *lp = t->data;
    struct batch *retry[MAX_HELD];
    int n = 0;
    for (int i = 0; i < lp->nheld; i++)
        if (lp->held[i]->state == B_RETRY)
            retry[n++] = lp->held[i];
    for (int i = 0; i < n && !lp->done; i++)
        post_results(retry[i]);
}

static void on_posted(const struct mn_http_response *r, void *ud)
{
    struct batch *b = ud;
    struct mn_lease_loop *lp = b->lp;
    if (fatal_answer(lp, r, "results"))
        return;
    if (retryable(r->status) && lp->drained) {
        give_up(b);
        return;
    }
    if (retryable(r->status)) {
        b->state = B_RETRY;
        wait_then(lp, &lp->post_timer, r, on_wait_post, "results");
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
    batch_drop(b);
    lp->wait_for_post = 0;
    if (!finish_if_idle(lp))
        maybe_lease(lp);
}

static void post_results(struct batch *b)
{
    struct mn_lease_loop *lp = b->lp;
    char path[64];
    b->state = B_POSTING;
    heartbeat_schedule(lp);
    if (!b->post && !(b->post = results_body(b))) {
        mn_log_error("msg=\"out of memory building results\"");
        finish(lp, MN_WORKER_EXIT_FATAL);
        return;
    }
    snprintf(path, sizeof path, "/v1/leases/%lld/results", b->lease_id);
    if (mn_http_request(lp->http, "POST", path, b->post, on_posted, b)) {
        b->state = B_RETRY;
        wait_then(lp, &lp->post_timer, NULL, on_wait_post, "results");
    }
}

/* ---- stopping ---- */

/* Lets go of b and gives its lease back (what is unposted is requeued). */
static void release_batch(struct batch *b)
{
    struct mn_lease_loop *lp = b->lp;
    long long lease_id = b->lease_id;
    batch_drop(b);
    release_lease(lp, lease_id);
}

static void on_partial_posted(const struct mn_http_response *r, void *ud)
{
    if (r->status != 200)
        mn_log_warn("msg=\"posting partial results failed\" status=%ld", r->status);
    release_batch(ud);
}

/* Stops b now: cancels tasks not started, posts what is scored, releases the rest of
 * its lease. */
static void abort_batch(struct batch *b)
{
    struct mn_lease_loop *lp = b->lp;
    char path[64];
    for (int i = 0; i < b->next; i++)
        if (!b->tasks[i].done)
            uv_cancel((uv_req_t *)&b->tasks[i].req);
    b->state = B_RELEASING;
    heartbeat_schedule(lp);
    mn_log_info("msg=\"releasing the batch\" lease=%lld scored=%d of=%d", b->lease_id, b->done,
                b->n);
    if (b->done == 0 || !(b->post = results_body(b))) {
        release_batch(b);
        return;
    }
    snprintf(path, sizeof path, "/v1/leases/%lld/results", b->lease_id);
    if (mn_http_request(lp->http, "POST", path, b->post, on_partial_posted, b))
        release_batch(b);
}

/* The drain time is up (or a second stop request came): batches being scored are
 * released with partial results; results still waiting for the coordinator are given
 * up (their leases expire), at once when nothing is being released, else when their post
 * in flight fails; a lease in flight is given back when it arrives. */
static void drain_over(struct mn_lease_loop *lp)
{
    struct batch *held[MAX_HELD];
    int n = lp->nheld, releasing = 0;
    memcpy(held, lp->held, sizeof held);
    lp->drained = 1;
    uv_timer_stop(&lp->post_timer);
    for (int i = 0; i < n; i++)
        releasing |= held[i]->state == B_SCORING || held[i]->state == B_RELEASING;
    for (int i = 0; i < n && !lp->done; i++) {
        if (held[i]->state == B_SCORING)
            abort_batch(held[i]);
        else if (held[i]->state == B_RETRY || (!releasing && held[i]->state == B_POSTING))
            give_up(held[i]);
    }
    if (!lp->done && !releasing && n) /* posts in flight to an unresponsive coordinator */
        finish(lp, 0);
    else if (!lp->done)
        finish_if_idle(lp);
}

static void on_drain(uv_timer_t *t)
{
    drain_over(t->data);
}

void mn_lease_loop_stop(struct mn_lease_loop *lp)
{
    if (lp->done)
        return;
    if (lp->stopping) {
        drain_over(lp);
        return;
    }
    lp->stopping = 1;
    uv_timer_stop(&lp->lease_timer);
    mn_log_info("msg=\"stop requested: leasing no more\" batches_in_hand=%d", lp->nheld);
    if (!finish_if_idle(lp))
        uv_timer_start(&lp->drain_timer, on_drain, (uint64_t)(lp->cfg.drain_seconds * 1000), 0);
}

/* ---- life cycle ---- */

struct mn_lease_loop *mn_lease_loop_new(uv_loop_t *loop, const struct mn_worker_cfg *cfg,
                                        struct mn_error *err)
{
    if (cfg->threads < 1) {
        mn_error_set(err, MN_EINVAL, "threads", "must be at least 1");
        return NULL;
    }
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
    uv_timer_t *timers[] = {&lp->lease_timer, &lp->post_timer, &lp->hb_timer, &lp->drain_timer};
    for (int i = 0; i < 4; i++) {
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
                "batch=%d threads=%d", lp->cfg.worker_id, lp->cfg.coordinator, MN_WORKER_VERSION,
                lp->cfg.scoring_version, lp->cfg.batch, lp->cfg.threads);
    lease_next(lp);
}

void mn_lease_loop_free(struct mn_lease_loop *lp)
{
    if (!lp)
        return;
    while (lp->nheld)
        batch_drop(lp->held[0]);
    ctx_unref(lp->ctx);
    free(lp->lease_body);
    free(lp);
}
