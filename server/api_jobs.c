/* api_jobs.c — job endpoints: submit, list, status (with long poll), cancel, front
 * (JSON or CSV) and candidates. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "api.h"
#include "buf.h"
#include "cost.h"
#include "job.h"
#include "json.h"
#include "metrics.h"
#include "server.h"
#include "store.h"
#include "txn.h"

#define HISTORY_MAX 1000

static void add_time(cJSON *o, const char *key, double t)
{
    char buf[40];
    if (t > 0)
        cJSON_AddStringToObject(o, key, mn_time_text(t, buf, sizeof buf));
    else
        cJSON_AddNullToObject(o, key);
}

#define RATE_WINDOW 60.0

/* Live activity of job j: leases out now, distinct workers holding them, and
 * candidates scored per second over the last RATE_WINDOW seconds (or since creation),
 * as recorded since monasd loaded the job. */
static void add_activity(struct mn_server *srv, struct mn_job *j, cJSON *o)
{
    static const char leases_sql[] = "SELECT count(*), count(DISTINCT worker_id) FROM leases "
                                     "WHERE job_id=? AND status='active'";
    double now = mn_now(), window = now - j->created_at;
    int64_t leases = 0, workers = 0;
    if (window > RATE_WINDOW)
        window = RATE_WINDOW;
    sqlite3_stmt *st = mn_store_prep(srv->store, leases_sql);
    if (st) {
        sqlite3_bind_int64(st, 1, j->id);
        if (sqlite3_step(st) == SQLITE_ROW) {
            leases = sqlite3_column_int64(st, 0);
            workers = sqlite3_column_int64(st, 1);
        }
        sqlite3_reset(st);
    }
    cJSON_AddNumberToObject(o, "active_leases", (double)leases);
    cJSON_AddNumberToObject(o, "active_workers", (double)workers);
    mn_json_add_num(o, "scored_per_second", mn_job_scored_rate(j, now, window));
}

/* The full status view of job j (under the lock). */
static cJSON *job_view(struct mn_server *srv, struct mn_job *j)
{
    static const char hist_sql[] = "SELECT generation, scored, hypervolume, at FROM (SELECT * "
                                   "FROM history WHERE job_id=? ORDER BY generation DESC "
                                   "LIMIT ?) ORDER BY generation";
    static const char state_sql[] = "SELECT strategy_state FROM jobs WHERE id=?";
    cJSON *o = cJSON_CreateObject();
    if (!o)
        return NULL;
    cJSON_AddNumberToObject(o, "id", (double)j->id);
    cJSON_AddStringToObject(o, "name", j->spec->name);
    cJSON_AddStringToObject(o, "status", j->status);
    cJSON_AddStringToObject(o, "reason", j->reason);
    cJSON_AddStringToObject(o, "scoring_version", j->scoring_version);
    add_time(o, "created_at", j->created_at);
    add_time(o, "finished_at", j->finished_at);
    cJSON *p = cJSON_AddObjectToObject(o, "progress");
    struct mn_job_counts c;
    mn_job_counts(j, &c);
    const struct {
        const char *status;
        int64_t n;
    } counts[] = {{"queued", c.queued}, {"leased", c.leased}, {"scored", c.scored},
                  {"dead", c.dead}, {"rejected", c.rejected}, {"proposed", j->n_proposed}};
    for (size_t i = 0; i < sizeof counts / sizeof counts[0]; i++)
        cJSON_AddNumberToObject(p, counts[i].status, (double)counts[i].n);
    cJSON *b = cJSON_AddObjectToObject(o, "budget_used");
    double end = j->finished_at > 0 ? j->finished_at : mn_now();
    cJSON_AddNumberToObject(b, "candidates", (double)(j->n_proposed - j->n_rejected));
    cJSON_AddNumberToObject(b, "max_candidates", (double)j->spec->max_candidates);
    mn_json_add_num(b, "seconds", end - j->created_at);
    cJSON_AddNumberToObject(b, "max_seconds", j->spec->max_seconds);
    add_activity(srv, j, o);
    cJSON_AddNumberToObject(o, "generation", (double)j->generation);
    cJSON_AddNumberToObject(o, "stale_generations", (double)j->stale);
    mn_json_add_num(o, "hypervolume", j->hv);
    cJSON_AddNumberToObject(o, "front_size", j->front->n);
    cJSON *h = cJSON_AddArrayToObject(o, "history");
    sqlite3_stmt *st = mn_store_prep(srv->store, hist_sql);
    if (st) {
        sqlite3_bind_int64(st, 1, j->id);
        sqlite3_bind_int(st, 2, HISTORY_MAX);
        while (sqlite3_step(st) == SQLITE_ROW) {
            cJSON *e = cJSON_CreateObject();
            cJSON_AddNumberToObject(e, "generation", (double)sqlite3_column_int64(st, 0));
            cJSON_AddNumberToObject(e, "scored", (double)sqlite3_column_int64(st, 1));
            mn_json_add_num(e, "hypervolume", sqlite3_column_double(st, 2));
            add_time(e, "at", sqlite3_column_double(st, 3));
            cJSON_AddItemToArray(h, e);
        }
        sqlite3_reset(st);
    }
    cJSON_AddItemToObject(o, "spec", cJSON_Duplicate(j->spec->json, 1));
    /* What the strategy keeps (e.g. monas's rounds and rankings), as last saved. */
    st = mn_store_prep(srv->store, state_sql);
    cJSON *state = NULL;
    if (st) {
        sqlite3_bind_int64(st, 1, j->id);
        if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0))
            state = cJSON_Parse((const char *)sqlite3_column_text(st, 0));
        sqlite3_reset(st);
    }
    cJSON_AddItemToObject(o, "strategy_state", state ? state : cJSON_CreateNull());
    return o;
}

/* Looks up the job of path parameter 0 under the lock; on failure sets the response,
 * unlocks and returns NULL. */
static struct mn_job *locked_job(struct mn_http_req *rq, struct mn_http_resp *rs)
{
    int64_t id;
    if (!mn_api_param_id(rq, rs, 0, &id))
        return NULL;
    pthread_mutex_lock(&rq->srv->lock);
    int rc;
    struct mn_job *j = mn_jobs_get(rq->srv->jobs, id, &rc);
    if (!j) {
        pthread_mutex_unlock(&rq->srv->lock);
        mn_http_error(rs, rc, NULL, rc == MN_ENOTFOUND ? "no job %lld" : "job %lld unreadable",
                      (long long)id);
    }
    return j;
}

void mn_api_jobs_create(struct mn_http_req *rq, struct mn_http_resp *rs)
{
    struct mn_error err = {0};
    struct mn_jobspec *spec = NULL;
    cJSON *in = mn_api_body(rq, rs, 0);
    if (!in)
        return;
    int rc = mn_jobspec_parse(in, &spec, &err);
    cJSON_Delete(in);
    if (rc) {
        mn_http_error_from(rs, &err);
        return;
    }
    struct mn_server *srv = rq->srv;
    int64_t id = 0;
    if ((rc = mn_txn_begin(srv))) {
        mn_jobspec_free(spec);
        mn_http_error(rs, rc, NULL, "database unavailable: %s", mn_strerror(rc));
        return;
    }
    rc = mn_txn_end(srv, mn_jobs_create(srv->jobs, spec, &id, &err));
    struct mn_job *j = rc ? NULL : mn_jobs_get(srv->jobs, id, &rc);
    cJSON *view = j ? job_view(srv, j) : NULL;
    pthread_mutex_unlock(&srv->lock);
    if (rc) {
        if (!err.code)
            mn_error_set(&err, rc, NULL, "could not store the job: %s", mn_strerror(rc));
        mn_http_error_from(rs, &err);
        cJSON_Delete(view);
        return;
    }
    mn_metrics_add(srv->metrics, MN_M_JOBS_CREATED, 1);
    snprintf(rs->location, sizeof rs->location, "/v1/jobs/%lld", (long long)id);
    mn_api_json(rs, 201, view);
}

/* Query parameter `order`: *desc = 1 for desc, 0 for asc or none; 1 after setting a
 * 422 for another value. */
static int query_order(struct mn_http_req *rq, struct mn_http_resp *rs, int *desc)
{
    const char *order = mn_http_query(rq, "order");
    *desc = order && strcmp(order, "desc") == 0;
    if (order && !*desc && strcmp(order, "asc") != 0) {
        mn_http_error(rs, MN_EINVAL, "order", "order must be asc or desc");
        return 1;
    }
    return 0;
}

/* Query parameter `status` (NULL when absent) if it is one of names[0..5); 1 after
 * setting a 422 that calls it an unknown `noun`. */
static int query_status(struct mn_http_req *rq, struct mn_http_resp *rs,
                        const char *const names[5], const char *noun, const char **status)
{
    *status = mn_http_query(rq, "status");
    for (int i = 0; *status && i < 5; i++)
        if (strcmp(*status, names[i]) == 0)
            return 0;
    if (*status)
        mn_http_error(rs, MN_EINVAL, "status", "unknown %s '%s'", noun, *status);
    return *status != NULL;
}

void mn_api_jobs_list(struct mn_http_req *rq, struct mn_http_resp *rs)
{
    /* order=desc lists newest first; `after` is then the last id seen (0: from the top). */
#define JOBS_SQL(cmp, dir)                                                                 \
    "SELECT id, name, status, reason, created_at, finished_at, n_scored, hypervolume, "    \
    "json_extract(spec, '$.space.name'), json_extract(spec, '$.mcu.id'), "                 \
    "json_extract(spec, '$.strategy.name'), json_extract(spec, '$.budget.max_candidates') " \
    "FROM jobs WHERE (?1 IS NULL OR status=?1) AND " cmp " ORDER BY id " dir " LIMIT ?3"
    static const char *const sql[2] = {JOBS_SQL("id > ?2", "ASC"),
                                       JOBS_SQL("(?2 = 0 OR id < ?2)", "DESC")};
#undef JOBS_SQL
    static const char *const statuses[] = {"running", "converged", "exhausted", "cancelled",
                                           "failed"};
    static const char *const summary[] = {"space", "mcu", "strategy"};
    int64_t limit = 50, after = 0;
    const char *status;
    int desc;
    if (mn_api_query_int(rq, rs, "limit", 1, 1000, &limit) ||
        mn_api_query_int(rq, rs, "after", 0, INT64_MAX, &after) || query_order(rq, rs, &desc) ||
        query_status(rq, rs, statuses, "status", &status))
        return;
    struct mn_server *srv = rq->srv;
    cJSON *o = cJSON_CreateObject(), *a = cJSON_AddArrayToObject(o, "jobs");
    int64_t last = 0;
    int n = 0;
    pthread_mutex_lock(&srv->lock);
    sqlite3_stmt *st = mn_store_prep(srv->store, sql[desc]);
    if (st) {
        if (status)
            sqlite3_bind_text(st, 1, status, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 2, after);
        sqlite3_bind_int64(st, 3, limit);
        while (sqlite3_step(st) == SQLITE_ROW) {
            cJSON *e = cJSON_CreateObject();
            last = sqlite3_column_int64(st, 0);
            cJSON_AddNumberToObject(e, "id", (double)last);
            cJSON_AddStringToObject(e, "name", (const char *)sqlite3_column_text(st, 1));
            cJSON_AddStringToObject(e, "status", (const char *)sqlite3_column_text(st, 2));
            cJSON_AddStringToObject(e, "reason", (const char *)sqlite3_column_text(st, 3));
            add_time(e, "created_at", sqlite3_column_double(st, 4));
            add_time(e, "finished_at", sqlite3_column_double(st, 5));
            cJSON_AddNumberToObject(e, "scored", (double)sqlite3_column_int64(st, 6));
            mn_json_add_num(e, "hypervolume", sqlite3_column_double(st, 7));
            for (int k = 0; k < 3; k++)
                cJSON_AddStringToObject(e, summary[k], sqlite3_column_type(st, 8 + k) ==
                                        SQLITE_NULL ? "" : (const char *)sqlite3_column_text(st, 8 + k));
            cJSON_AddNumberToObject(e, "max_candidates", (double)sqlite3_column_int64(st, 11));
            cJSON_AddItemToArray(a, e);
            n++;
        }
        sqlite3_reset(st);
    }
    pthread_mutex_unlock(&srv->lock);
    if (!st) {
        cJSON_Delete(o);
        mn_http_error(rs, MN_EDB, NULL, "database error");
        return;
    }
    if (n == limit)
        cJSON_AddNumberToObject(o, "next_after", (double)last);
    else
        cJSON_AddNullToObject(o, "next_after");
    mn_api_json(rs, 200, o);
}

void mn_api_job_get(struct mn_http_req *rq, struct mn_http_resp *rs)
{
    int64_t wait = 0;
    if (mn_api_query_int(rq, rs, "wait", 0, 300, &wait))
        return;
    struct mn_job *j = locked_job(rq, rs);
    if (!j)
        return;
    struct mn_server *srv = rq->srv;
    int64_t id = j->id;
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += wait;
    /* Long poll: wait for the job to leave `running` (the job pointer can change when it
     * is evicted and reloaded, so look it up again after every wake-up). */
    while (j && wait > 0 && strcmp(j->status, "running") == 0 && !srv->stopping) {
        if (pthread_cond_timedwait(&srv->changed, &srv->lock, &until) == ETIMEDOUT)
            break;
        int rc;
        j = mn_jobs_get(srv->jobs, id, &rc);
    }
    cJSON *view = j ? job_view(srv, j) : NULL;
    pthread_mutex_unlock(&srv->lock);
    if (!j)
        mn_http_error(rs, MN_EDB, NULL, "job %lld unreadable", (long long)id);
    else
        mn_api_json(rs, 200, view);
}

void mn_api_job_cancel(struct mn_http_req *rq, struct mn_http_resp *rs)
{
    struct mn_job *j = locked_job(rq, rs);
    if (!j)
        return;
    struct mn_server *srv = rq->srv;
    int64_t id = j->id;
    if (strcmp(j->status, "running") != 0) {
        char status[16];
        snprintf(status, sizeof status, "%s", j->status);
        pthread_mutex_unlock(&srv->lock);
        mn_http_error(rs, MN_ESTATE, NULL, "job %lld already ended (%s)", (long long)id, status);
        return;
    }
    pthread_mutex_unlock(&srv->lock); /* re-taken as a writer */
    int rc = mn_txn_begin(srv);
    if (rc) {
        mn_http_error(rs, rc, NULL, "database unavailable: %s", mn_strerror(rc));
        return;
    }
    j = mn_jobs_get(srv->jobs, id, &rc);
    if (j && strcmp(j->status, "running") != 0)
        rc = MN_ESTATE; /* ended while the lock was free */
    else if (j)
        rc = mn_job_finish(j, "cancelled", "cancelled by request");
    rc = mn_txn_end(srv, rc);
    j = rc ? NULL : mn_jobs_get(srv->jobs, id, &rc);
    cJSON *view = j ? job_view(srv, j) : NULL;
    pthread_mutex_unlock(&srv->lock);
    if (rc)
        mn_http_error(rs, rc, NULL, "cancel failed: %s", mn_strerror(rc));
    else
        mn_api_json(rs, 200, view);
}

/* ---- candidates ---- */

/* A candidate's status: 'leased' is derived, a queued candidate listed by an active
 * lease of its job (?1 is the job id in every statement using it; the IN list is
 * built once per statement). */
#define CAND_STATE "(CASE WHEN status='queued' AND id IN (SELECT i.value FROM leases l JOIN " \
                   "json_each(l.items) i WHERE l.job_id=?1 AND l.status='active') THEN " \
                   "'leased' ELSE status END)"
#define CAND_COLS "id, key, " MN_JOB_ARCH_SQL("") ", " CAND_STATE ", attempts, error, scores, " \
                  "cost, flags, seconds, worker_id, feasible, on_front, created_at, scored_at, " \
                  "origin"

static void raw_or_null(struct mn_buf *b, const char *key, sqlite3_stmt *st, int col)
{
    mn_buf_printf(b, ",\"%s\":", key);
    if (sqlite3_column_type(st, col) == SQLITE_NULL)
        mn_buf_str(b, "null");
    else
        mn_buf_add(b, (const char *)sqlite3_column_text(st, col),
                   (size_t)sqlite3_column_bytes(st, col));
}

static void text_or_null(struct mn_buf *b, const char *key, sqlite3_stmt *st, int col)
{
    mn_buf_printf(b, ",\"%s\":", key);
    if (sqlite3_column_type(st, col) == SQLITE_NULL)
        mn_buf_str(b, "null");
    else
        mn_buf_json_str(b, (const char *)sqlite3_column_text(st, col));
}

static void time_or_null(struct mn_buf *b, const char *key, sqlite3_stmt *st, int col)
{
    char t[40];
    mn_buf_printf(b, ",\"%s\":", key);
    if (sqlite3_column_type(st, col) == SQLITE_NULL)
        mn_buf_str(b, "null");
    else
        mn_buf_printf(b, "\"%s\"", mn_time_text(sqlite3_column_double(st, col), t, sizeof t));
}

/* One candidate row (selected with CAND_COLS) as a JSON object. */
static void candidate_json(struct mn_buf *b, sqlite3_stmt *st)
{
    mn_buf_printf(b, "{\"id\":%lld,\"key\":", (long long)sqlite3_column_int64(st, 0));
    mn_buf_json_str(b, (const char *)sqlite3_column_text(st, 1));
    raw_or_null(b, "arch", st, 2);
    text_or_null(b, "status", st, 3);
    mn_buf_printf(b, ",\"attempts\":%d", sqlite3_column_int(st, 4));
    text_or_null(b, "error", st, 5);
    raw_or_null(b, "scores", st, 6);
    raw_or_null(b, "cost", st, 7);
    raw_or_null(b, "flags", st, 8);
    mn_buf_str(b, ",\"seconds\":");
    if (sqlite3_column_type(st, 9) == SQLITE_NULL)
        mn_buf_str(b, "null");
    else
        mn_buf_num(b, sqlite3_column_double(st, 9));
    text_or_null(b, "worker_id", st, 10);
    mn_buf_printf(b, ",\"fits\":%s", sqlite3_column_type(st, 11) == SQLITE_NULL ? "null"
                                     : sqlite3_column_int(st, 11) ? "true" : "false");
    mn_buf_printf(b, ",\"on_front\":%s", sqlite3_column_int(st, 12) ? "true" : "false");
    time_or_null(b, "created_at", st, 13);
    time_or_null(b, "scored_at", st, 14);
    raw_or_null(b, "origin", st, 15);
    mn_buf_str(b, "}");
}

static const char *const cost_cols[] = {"latency_ms", "peak_sram_bytes", "flash_bytes", "macs",
                                        "params"};

/* What `sort` names: 0 the id, 1 a cost figure, 2 a proxy score of job j; -1 unknown.
 * *path is its JSON path for json_extract. */
static int sort_kind(const struct mn_job *j, const char *sort, char *path, size_t len)
{
    snprintf(path, len, "$.\"%s\"", sort);
    if (strcmp(sort, "id") == 0)
        return 0;
    for (size_t i = 0; i < sizeof cost_cols / sizeof cost_cols[0]; i++)
        if (strcmp(sort, cost_cols[i]) == 0)
            return 1;
    return cJSON_GetObjectItemCaseSensitive(j->spec->proxies, sort) && !strchr(sort, '"') ? 2
                                                                                        : -1;
}

/* Query parameter `key` as a finite number; 1 after setting a 422 when it is not one. */
static int query_num(struct mn_http_req *rq, struct mn_http_resp *rs, const char *key,
                     double *out, int *given)
{
    const char *v = mn_http_query(rq, key);
    char *end;
    *given = v != NULL;
    if (!v)
        return 0;
    *out = strtod(v, &end);
    if (end == v || *end || !isfinite(*out)) {
        mn_http_error(rs, MN_EINVAL, key, "query parameter '%s' must be a number", key);
        return 1;
    }
    return 0;
}

/* Candidates of a job, filtered, in id order or sorted by `sort` (id, a cost figure or
 * one of the job's proxies; `order` asc or desc). Sorted pages leave out candidates
 * without that value and continue from the previous page's last (value, id), given as
 * after_value and after. */
void mn_api_job_candidates(struct mn_http_req *rq, struct mn_http_resp *rs)
{
#define CAND_FILTER "job_id=?1 AND (?2 IS NULL OR " CAND_STATE "=?2) AND (?3 IS NULL OR on_front=?3) " \
                    "AND (?4 IS NULL OR feasible=?4)"
    static const char sql[] = "SELECT " CAND_COLS " FROM candidates WHERE " CAND_FILTER
                              " AND id > ?5 ORDER BY id LIMIT ?6";
    /* v is the sort value times ?9 (-1 for desc), so one ascending order serves both. */
    static const char sorted_sql[] =
        "SELECT " CAND_COLS ", v FROM (SELECT *, (CASE ?7 WHEN 0 THEN id WHEN 1 THEN "
        "json_extract(cost, ?8) ELSE json_extract(scores, ?8) END) * ?9 AS v FROM candidates "
        "WHERE " CAND_FILTER ") WHERE v IS NOT NULL AND (?10 IS NULL OR v > ?10 OR "
        "(v = ?10 AND id > ?5)) ORDER BY v, id LIMIT ?6";
#undef CAND_FILTER
    static const char *const statuses[] = {"queued", "leased", "scored", "dead", "rejected"};
    int64_t limit = 100, after = 0, on_front = -1, fits = -1;
    double after_value = 0;
    int has_value = 0, kind = 0;
    char path[80];
    const char *status, *sort = mn_http_query(rq, "sort");
    int desc;
    if (mn_api_query_int(rq, rs, "limit", 1, 1000, &limit) ||
        mn_api_query_int(rq, rs, "after", 0, INT64_MAX, &after) ||
        mn_api_query_int(rq, rs, "on_front", 0, 1, &on_front) ||
        mn_api_query_int(rq, rs, "fits", 0, 1, &fits) ||
        query_num(rq, rs, "after_value", &after_value, &has_value) ||
        query_status(rq, rs, statuses, "candidate status", &status) || query_order(rq, rs, &desc))
        return;
    struct mn_job *j = locked_job(rq, rs);
    if (!j)
        return;
    int sorted = sort || desc || has_value;
    if (sorted && (kind = sort_kind(j, sort ? sort : "id", path, sizeof path)) < 0) {
        pthread_mutex_unlock(&rq->srv->lock);
        mn_http_error(rs, MN_EINVAL, "sort", "cannot sort by '%s': use id, a cost figure or "
                      "one of the job's proxies", sort);
        return;
    }
    struct mn_server *srv = rq->srv;
    struct mn_buf b = {0};
    int64_t last = 0, n = 0;
    double last_value = 0;
    mn_buf_printf(&b, "{\"job_id\":%lld,\"candidates\":[", (long long)j->id);
    sqlite3_stmt *st = mn_store_prep(srv->store, sorted ? sorted_sql : sql);
    if (st) {
        sqlite3_bind_int64(st, 1, j->id);
        if (status)
            sqlite3_bind_text(st, 2, status, -1, SQLITE_STATIC);
        if (on_front >= 0)
            sqlite3_bind_int64(st, 3, on_front);
        if (fits >= 0)
            sqlite3_bind_int64(st, 4, fits);
        sqlite3_bind_int64(st, 5, after);
        sqlite3_bind_int64(st, 6, limit);
        if (sorted) {
            sqlite3_bind_int(st, 7, kind);
            sqlite3_bind_text(st, 8, path, -1, SQLITE_STATIC);
            sqlite3_bind_int(st, 9, desc ? -1 : 1);
            if (has_value || (kind == 0 && after))
                sqlite3_bind_double(st, 10, (has_value ? after_value : (double)after) *
                                                (desc ? -1 : 1));
        }
        while (sqlite3_step(st) == SQLITE_ROW) {
            if (n++)
                mn_buf_str(&b, ",");
            candidate_json(&b, st);
            last = sqlite3_column_int64(st, 0);
            if (sorted)
                last_value = sqlite3_column_double(st, 16) * (desc ? -1 : 1);
        }
        sqlite3_reset(st);
    }
    pthread_mutex_unlock(&srv->lock);
    if (!st) {
        mn_buf_free(&b);
        mn_http_error(rs, MN_EDB, NULL, "database error");
        return;
    }
    if (n == limit)
        mn_buf_printf(&b, "],\"next_after\":%lld", (long long)last);
    else
        mn_buf_str(&b, "],\"next_after\":null");
    if (sorted && n == limit) {
        mn_buf_str(&b, ",\"next_after_value\":");
        mn_buf_num(&b, last_value);
    } else if (sorted) {
        mn_buf_str(&b, ",\"next_after_value\":null");
    }
    mn_buf_str(&b, "}");
    mn_http_reply(rs, 200, mn_buf_take(&b));
}

/* The cost model's per-layer table (cost.h) of architecture `arch` (its JSON text) in
 * job j's space on j's MCU profile, printed (caller frees); NULL when it cannot be
 * built. Deterministic, so it matches the totals the worker reported. */
static char *layers_text(const struct mn_job *j, const char *arch)
{
    struct mn_error err = {0};
    struct mn_arch *a = NULL;
    struct mn_graph *g = NULL;
    struct mn_mcu *m = NULL;
    struct mn_cost c = {0};
    cJSON *aj = cJSON_Parse(arch), *cj = NULL;
    char *text = NULL;
    if (!aj || mn_space_arch_from_json(j->spec->space, aj, &a, &err) ||
        mn_space_lower(j->spec->space, a, &g, &err) ||
        !(m = mn_mcu_from_json(cJSON_GetObjectItemCaseSensitive(j->spec->json, "mcu"), &err)) ||
        mn_cost_estimate(g, m, &c, &err) || !(cj = mn_cost_to_json(&c, 1)))
        goto done;
    text = mn_json_print(cJSON_GetObjectItemCaseSensitive(cj, "layers"));
done:
    cJSON_Delete(cj);
    mn_cost_release(&c);
    mn_mcu_free(m);
    mn_graph_free(g);
    mn_arch_free(a);
    cJSON_Delete(aj);
    return text;
}

/* One candidate; with layers=1 also its per-layer cost table ("layers", null when the
 * architecture cannot be lowered). */
void mn_api_job_candidate(struct mn_http_req *rq, struct mn_http_resp *rs)
{
    static const char sql[] = "SELECT " CAND_COLS " FROM candidates WHERE job_id=?1 AND id=?2";
    int64_t cid, layers = 0;
    if (!mn_api_param_id(rq, rs, 1, &cid) ||
        mn_api_query_int(rq, rs, "layers", 0, 1, &layers))
        return;
    struct mn_job *j = locked_job(rq, rs);
    if (!j)
        return;
    struct mn_buf b = {0};
    int found = 0;
    sqlite3_stmt *st = mn_store_prep(rq->srv->store, sql);
    if (st) {
        sqlite3_bind_int64(st, 1, j->id);
        sqlite3_bind_int64(st, 2, cid);
        if ((found = sqlite3_step(st) == SQLITE_ROW))
            candidate_json(&b, st);
        if (found && layers && b.len) {
            char *t = layers_text(j, (const char *)sqlite3_column_text(st, 2));
            b.len--; /* reopen the object */
            mn_buf_printf(&b, ",\"layers\":%s}", t ? t : "null");
            free(t);
        }
        sqlite3_reset(st);
    }
    int64_t job_id = j->id;
    pthread_mutex_unlock(&rq->srv->lock);
    if (!found) {
        mn_buf_free(&b);
        mn_http_error(rs, st ? MN_ENOTFOUND : MN_EDB, NULL, "no candidate %lld in job %lld",
                      (long long)cid, (long long)job_id);
        return;
    }
    mn_http_reply(rs, 200, mn_buf_take(&b));
}

/* ---- front ---- */

static void csv_field(struct mn_buf *b, const char *s)
{
    mn_buf_str(b, "\"");
    for (; *s; s++) {
        if (*s == '"')
            mn_buf_add(b, "\"", 1);
        mn_buf_add(b, s, 1);
    }
    mn_buf_str(b, "\"");
}

static void csv_value(struct mn_buf *b, const cJSON *obj, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    mn_buf_str(b, ",");
    if (cJSON_IsNumber(v))
        mn_buf_num(b, v->valuedouble);
}

void mn_api_job_front(struct mn_http_req *rq, struct mn_http_resp *rs)
{
    static const char sql[] = "SELECT " CAND_COLS " FROM candidates WHERE job_id=?1 AND "
                              "on_front=1 ORDER BY id";
    const char *format = mn_http_query(rq, "format");
    int csv = format && strcmp(format, "csv") == 0;
    if (format && !csv && strcmp(format, "json") != 0) {
        mn_http_error(rs, MN_EINVAL, "format", "format must be json or csv");
        return;
    }
    struct mn_job *j = locked_job(rq, rs);
    if (!j)
        return;
    struct mn_buf b = {0};
    const cJSON *proxies = j->spec->proxies, *p;
    if (csv) {
        mn_buf_str(&b, "id,key,fits");
        cJSON_ArrayForEach(p, proxies) mn_buf_printf(&b, ",%s", p->string);
        for (size_t i = 0; i < 5; i++)
            mn_buf_printf(&b, ",%s", cost_cols[i]);
        mn_buf_str(&b, "\n");
    } else {
        mn_buf_printf(&b, "{\"job_id\":%lld,\"status\":\"%s\",\"hypervolume\":", (long long)j->id,
                      j->status);
        mn_buf_num(&b, j->hv);
        char *objs = mn_json_print(cJSON_GetObjectItemCaseSensitive(j->spec->json, "objectives"));
        mn_buf_printf(&b, ",\"objectives\":%s,\"candidates\":[", objs ? objs : "[]");
        free(objs);
    }
    int n = 0;
    sqlite3_stmt *st = mn_store_prep(rq->srv->store, sql);
    if (st) {
        sqlite3_bind_int64(st, 1, j->id);
        while (sqlite3_step(st) == SQLITE_ROW) {
            if (!csv) {
                if (n++)
                    mn_buf_str(&b, ",");
                candidate_json(&b, st);
                continue;
            }
            cJSON *scores = cJSON_Parse((const char *)sqlite3_column_text(st, 6));
            cJSON *cost = cJSON_Parse((const char *)sqlite3_column_text(st, 7));
            mn_buf_printf(&b, "%lld,", (long long)sqlite3_column_int64(st, 0));
            csv_field(&b, (const char *)sqlite3_column_text(st, 1));
            mn_buf_str(&b, sqlite3_column_int(st, 11) ? ",true" : ",false");
            cJSON_ArrayForEach(p, proxies) csv_value(&b, scores, p->string);
            for (size_t i = 0; i < 5; i++)
                csv_value(&b, cost, cost_cols[i]);
            mn_buf_str(&b, "\n");
            cJSON_Delete(scores);
            cJSON_Delete(cost);
        }
        sqlite3_reset(st);
    }
    pthread_mutex_unlock(&rq->srv->lock);
    if (!st) {
        mn_buf_free(&b);
        mn_http_error(rs, MN_EDB, NULL, "database error");
        return;
    }
    if (!csv)
        mn_buf_str(&b, "]}");
    mn_http_reply(rs, 200, mn_buf_take(&b));
    if (csv)
        rs->content_type = "text/csv";
}
