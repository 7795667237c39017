/* lease.c — claims, heartbeats, releases, results and expiry (see lease.h). */
#include "lease.h"
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "buf.h"
#include "catalog.h"
#include "job.h"
#include "json.h"
#include "log.h"
#include "metrics.h"
#include "server.h"
#include "store.h"
#include "txn.h"

#define MAX_RUNNING 256

/* Ends the request's write transaction (txn.h) and releases the lock. */
static int txn_finish(struct mn_server *srv, int rc)
{
    rc = mn_txn_end(srv, rc);
    pthread_mutex_unlock(&srv->lock);
    return rc;
}

static int upsert_worker(struct mn_server *srv, const char *id, const char *version,
                         const char *scoring_version, int leases, int results, double now)
{
    static const char sql[] =
        "INSERT INTO workers (id, version, scoring_version, first_seen, last_seen, leases, "
        "results) VALUES (?1, coalesce(?2, ''), ?3, ?4, ?4, ?5, ?6) ON CONFLICT (id) DO UPDATE SET "
        "version=coalesce(?2, version), scoring_version=?3, last_seen=?4, "
        "leases=leases+?5, results=results+?6";
    sqlite3_stmt *st = mn_store_prep(srv->store, sql);
    if (!st)
        return MN_EDB;
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    if (version)
        sqlite3_bind_text(st, 2, version, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, scoring_version, -1, SQLITE_STATIC);
    sqlite3_bind_double(st, 4, now);
    sqlite3_bind_int(st, 5, leases);
    sqlite3_bind_int(st, 6, results);
    return mn_store_step_done(srv->store, st);
}

/* Leases up to want queued candidates of job j into lease_id, appending them to b as
 * JSON objects. Returns the number leased or < 0. */
static int take_candidates(struct mn_server *srv, struct mn_job *j, int64_t lease_id, int want,
                           struct mn_buf *b)
{
    static const char sql[] =
        "UPDATE candidates SET status='leased', lease_id=?1, attempts=attempts+1 WHERE id IN "
        "(SELECT id FROM candidates WHERE job_id=?2 AND status='queued' AND lease_id IS NULL "
        "ORDER BY id LIMIT ?3) "
        "RETURNING id, key, arch";
    sqlite3_stmt *st = mn_store_prep(srv->store, sql);
    if (!st)
        return MN_EDB;
    sqlite3_bind_int64(st, 1, lease_id);
    sqlite3_bind_int64(st, 2, j->id);
    sqlite3_bind_int(st, 3, want);
    int n = 0, step;
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        mn_buf_str(b, n ? ",{\"id\":" : "{\"id\":");
        mn_buf_int(b, sqlite3_column_int64(st, 0));
        mn_buf_str(b, ",\"key\":");
        mn_buf_json_str(b, (const char *)sqlite3_column_text(st, 1));
        mn_buf_str(b, ",\"arch\":");
        mn_buf_add(b, (const char *)sqlite3_column_text(st, 2), (size_t)sqlite3_column_bytes(st, 2));
        mn_buf_add(b, "}", 1);
        n++;
    }
    sqlite3_reset(st);
    return step == SQLITE_DONE ? n : MN_EDB;
}

static int insert_lease(struct mn_server *srv, int64_t job_id, const char *worker, double now,
                        double expires, int64_t *id)
{
    static const char sql[] = "INSERT INTO leases (job_id, worker_id, status, n, created_at, "
                              "expires_at) VALUES (?, ?, 'active', 0, ?, ?)";
    sqlite3_stmt *st = mn_store_prep(srv->store, sql);
    if (!st)
        return MN_EDB;
    sqlite3_bind_int64(st, 1, job_id);
    sqlite3_bind_text(st, 2, worker, -1, SQLITE_STATIC);
    sqlite3_bind_double(st, 3, now);
    sqlite3_bind_double(st, 4, expires);
    int rc = mn_store_step_done(srv->store, st);
    *id = sqlite3_last_insert_rowid(mn_store_db(srv->store));
    return rc;
}

static int set_lease(struct mn_server *srv, int64_t id, const char *status, int n)
{
    static const char sql[] = "UPDATE leases SET status=coalesce(?2, status), "
                              "n=coalesce(?3, n) WHERE id=?1";
    sqlite3_stmt *st = mn_store_prep(srv->store, sql);
    if (!st)
        return MN_EDB;
    sqlite3_bind_int64(st, 1, id);
    if (status)
        sqlite3_bind_text(st, 2, status, -1, SQLITE_STATIC);
    if (n >= 0)
        sqlite3_bind_int(st, 3, n);
    return mn_store_step_done(srv->store, st);
}

/* Tries job j: refill its queue if short, lease what is queued. Returns the number
 * leased (0: nothing here) or < 0. */
static int claim_from(struct mn_server *srv, struct mn_job *j,
                      const struct mn_lease_req *r, double now, struct mn_buf *b,
                      int64_t *lease_id)
{
    int want = r->capacity < j->spec->batch_size ? r->capacity : j->spec->batch_size;
    int64_t queued = mn_job_count(j, "queued");
    if (queued < want) {
        int rc = mn_job_refill(j, (int)(want - queued));
        if (rc < 0)
            return rc;
    }
    double expires = now + j->spec->lease_seconds;
    int rc = insert_lease(srv, j->id, r->worker_id, now, expires, lease_id);
    if (rc)
        return rc;
    char when[40];
    mn_buf_printf(b, "{\"lease_id\":%lld,\"expires_at\":\"%s\",\"lease_seconds\":%d,"
                  "\"job\":%s,\"candidates\":[",
                  (long long)*lease_id, mn_time_text(expires, when, sizeof when),
                  j->spec->lease_seconds, j->lease_json);
    int n = take_candidates(srv, j, *lease_id, want, b);
    if (n <= 0)
        return n;
    mn_buf_str(b, "]}");
    return set_lease(srv, *lease_id, NULL, n) ?: n;
}

int mn_lease_claim(struct mn_server *srv, const struct mn_lease_req *r, char **body,
                   struct mn_error *err)
{
    if (strcmp(r->scoring_version, mn_catalog_scoring_version()) != 0)
        return mn_error_set(err, MN_ECONFLICT, "scoring_version",
                            "worker scoring_version '%s' differs from the coordinator's '%s'",
                            r->scoring_version, mn_catalog_scoring_version());
    struct mn_buf b = {0};
    mn_buf_reserve(&b, 32768); /* before taking the lock */
    int rc = mn_txn_begin(srv);
    if (rc) {
        mn_buf_free(&b);
        return mn_error_set(err, rc, NULL, "database busy");
    }
    int64_t ids[MAX_RUNNING];
    int n_ids = mn_jobs_running(srv->jobs, ids, MAX_RUNNING), start = 0, got = 0;
    double now = mn_now();
    while (start < n_ids && ids[start] <= srv->rr_last)
        start++;
    int64_t lease_id = 0;
    for (int k = 0; k < n_ids && !got && !rc; k++) {
        int64_t id = ids[(start + k) % n_ids];
        struct mn_job *j = mn_jobs_get(srv->jobs, id, &rc);
        if (!j)
            break;
        if (strcmp(j->scoring_version, r->scoring_version) != 0)
            continue;
        b.len = 0;
        int n = claim_from(srv, j, r, now, &b, &lease_id);
        if (n < 0) {
            rc = n;
            break;
        }
        if (n == 0) {
            /* Nothing queued even after a refill: drop the empty lease, maybe end the job. */
            static const char del[] = "DELETE FROM leases WHERE id=?";
            sqlite3_stmt *st = mn_store_prep(srv->store, del);
            if (!st)
                rc = MN_EDB;
            else {
                sqlite3_bind_int64(st, 1, lease_id);
                rc = mn_store_step_done(srv->store, st);
            }
            if (!rc && (rc = mn_job_check_end(j, now)) > 0)
                rc = MN_OK;
            continue;
        }
        got = n;
        srv->rr_last = id;
    }
    if (!rc && got)
        rc = upsert_worker(srv, r->worker_id, r->version, r->scoring_version, 1, 0, now);
    rc = txn_finish(srv, rc < 0 ? rc : MN_OK);
    if (rc) {
        mn_buf_free(&b);
        return mn_error_set(err, rc, NULL, "lease failed: %s", mn_strerror(rc));
    }
    if (!got) {
        mn_buf_free(&b);
        return MN_ENOTFOUND;
    }
    *body = mn_buf_take(&b);
    if (!*body)
        return mn_error_set(err, MN_ENOMEM, NULL, "out of memory");
    mn_metrics_add(srv->metrics, MN_M_LEASES_GRANTED, 1);
    mn_metrics_add(srv->metrics, MN_M_CANDIDATES_LEASED, got);
    return MN_OK;
}

/* Looks up lease id: its job and status. */
static int find_lease(struct mn_server *srv, int64_t id, int64_t *job_id, char *status,
                      size_t len)
{
    static const char sql[] = "SELECT job_id, status FROM leases WHERE id=?";
    sqlite3_stmt *st = mn_store_prep(srv->store, sql);
    if (!st)
        return MN_EDB;
    sqlite3_bind_int64(st, 1, id);
    int rc = MN_ENOTFOUND;
    if (sqlite3_step(st) == SQLITE_ROW) {
        *job_id = sqlite3_column_int64(st, 0);
        snprintf(status, len, "%s", (const char *)sqlite3_column_text(st, 1));
        rc = MN_OK;
    }
    sqlite3_reset(st);
    return rc;
}

int mn_lease_heartbeat(struct mn_server *srv, int64_t lease_id, double *expires_at,
                       struct mn_error *err)
{
    static const char sql[] = "UPDATE leases SET expires_at=? WHERE id=?";
    int64_t job_id = 0;
    char status[16];
    int rc = mn_txn_begin(srv);
    if (rc)
        return mn_error_set(err, rc, NULL, "database busy");
    if ((rc = find_lease(srv, lease_id, &job_id, status, sizeof status))) {
        txn_finish(srv, MN_OK);
        return mn_error_set(err, rc, NULL, rc == MN_ENOTFOUND ? "no lease %lld" : "database error",
                            (long long)lease_id);
    }
    if (strcmp(status, "active") != 0) {
        txn_finish(srv, MN_OK);
        return mn_error_set(err, MN_ESTATE, NULL, "lease %lld is %s", (long long)lease_id, status);
    }
    struct mn_job *j = mn_jobs_get(srv->jobs, job_id, &rc);
    sqlite3_stmt *st = j ? mn_store_prep(srv->store, sql) : NULL;
    if (j && !st)
        rc = MN_EDB;
    if (st) {
        *expires_at = mn_now() + j->spec->lease_seconds;
        sqlite3_bind_double(st, 1, *expires_at);
        sqlite3_bind_int64(st, 2, lease_id);
        rc = mn_store_step_done(srv->store, st);
    }
    rc = txn_finish(srv, rc);
    return rc ? mn_error_set(err, rc, NULL, "heartbeat failed: %s", mn_strerror(rc)) : MN_OK;
}

int mn_lease_release(struct mn_server *srv, int64_t lease_id, int *released,
                     struct mn_error *err)
{
    static const char sql[] = "UPDATE candidates SET status='queued', lease_id=NULL, "
                              "attempts=max(attempts-1, 0) WHERE job_id=? AND status='leased' "
                              "AND lease_id=?";
    int64_t job_id = 0;
    char status[16];
    int rc = mn_txn_begin(srv);
    if (rc)
        return mn_error_set(err, rc, NULL, "database busy");
    if ((rc = find_lease(srv, lease_id, &job_id, status, sizeof status))) {
        txn_finish(srv, MN_OK);
        return mn_error_set(err, rc, NULL, rc == MN_ENOTFOUND ? "no lease %lld" : "database error",
                            (long long)lease_id);
    }
    *released = 0;
    if (strcmp(status, "active") == 0) {
        sqlite3_stmt *st = mn_store_prep(srv->store, sql);
        rc = MN_EDB;
        if (st) {
            sqlite3_bind_int64(st, 1, job_id);
            sqlite3_bind_int64(st, 2, lease_id);
            rc = mn_store_step_done(srv->store, st);
            *released = sqlite3_changes(mn_store_db(srv->store));
        }
        if (!rc)
            rc = set_lease(srv, lease_id, "released", -1);
        if (!rc)
            mn_metrics_add(srv->metrics, MN_M_LEASES_RELEASED, 1);
    }
    rc = txn_finish(srv, rc);
    return rc ? mn_error_set(err, rc, NULL, "release failed: %s", mn_strerror(rc)) : MN_OK;
}

/* Status and job of candidate id, or MN_ENOTFOUND. */
static int candidate_state(struct mn_server *srv, int64_t id, int64_t *job_id, int *attempts,
                           char *status, size_t len)
{
    static const char sql[] = "SELECT job_id, attempts, status FROM candidates WHERE id=?";
    sqlite3_stmt *st = mn_store_prep(srv->store, sql);
    if (!st)
        return MN_EDB;
    sqlite3_bind_int64(st, 1, id);
    int rc = MN_ENOTFOUND;
    if (sqlite3_step(st) == SQLITE_ROW) {
        *job_id = sqlite3_column_int64(st, 0);
        *attempts = sqlite3_column_int(st, 1);
        snprintf(status, len, "%s", (const char *)sqlite3_column_text(st, 2));
        rc = MN_OK;
    }
    sqlite3_reset(st);
    return rc;
}

/* Stores the scores of r when the candidate is in job_id and in one of the statuses
 * allowed (queued and leased; also dead when allow_dead). *stored = 1 if it was. */
static int store_scored(struct mn_server *srv, int64_t job_id, const struct mn_result *r,
                        const char *worker, const double *u, int n_obj, int feasible,
                        double now, int allow_dead, int *stored)
{
    static const char sql[] =
        "UPDATE candidates SET status='scored', lease_id=NULL, error=NULL, "
        "scores=?1, cost=?2, flags=?3, "
        "seconds=?4, worker_id=?5, obj=?6, feasible=?7, scored_at=?8 "
        "WHERE id=?9 AND job_id=?10 AND status IN ('queued', 'leased', ?11)";
    sqlite3_stmt *st = mn_store_prep(srv->store, sql);
    if (!st)
        return MN_EDB;
    sqlite3_bind_text(st, 1, r->text + r->scores_at, (int)r->scores_len, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, r->text + r->cost_at, (int)r->cost_len, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, r->text + r->flags_at, (int)r->flags_len, SQLITE_STATIC);
    sqlite3_bind_double(st, 4, r->seconds);
    sqlite3_bind_text(st, 5, worker, -1, SQLITE_STATIC);
    if (u)
        sqlite3_bind_blob(st, 6, u, n_obj * (int)sizeof *u, SQLITE_STATIC);
    sqlite3_bind_int(st, 7, feasible);
    sqlite3_bind_double(st, 8, now);
    sqlite3_bind_int64(st, 9, r->candidate_id);
    sqlite3_bind_int64(st, 10, job_id);
    sqlite3_bind_text(st, 11, allow_dead ? "dead" : "queued", -1, SQLITE_STATIC);
    int rc = mn_store_step_done(srv->store, st);
    *stored = !rc && sqlite3_changes(mn_store_db(srv->store)) == 1;
    return rc;
}

static int store_failed(struct mn_server *srv, int64_t id, const char *error, int dead)
{
    static const char sql[] = "UPDATE candidates SET status=?, lease_id=NULL, error=? WHERE id=?";
    sqlite3_stmt *st = mn_store_prep(srv->store, sql);
    if (!st)
        return MN_EDB;
    sqlite3_bind_text(st, 1, dead ? "dead" : "queued", -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, error, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, id);
    return mn_store_step_done(srv->store, st);
}

/* Marks the lease done once none of its candidates is still leased to it. */
static int maybe_done(struct mn_server *srv, int64_t job_id, int64_t lease_id)
{
    static const char sql[] = "UPDATE leases SET status='done' WHERE id=?1 AND status='active' "
                              "AND NOT EXISTS (SELECT 1 FROM candidates WHERE job_id=?2 AND "
                              "status='leased' AND lease_id=?1)";
    sqlite3_stmt *st = mn_store_prep(srv->store, sql);
    if (!st)
        return MN_EDB;
    sqlite3_bind_int64(st, 1, lease_id);
    sqlite3_bind_int64(st, 2, job_id);
    return mn_store_step_done(srv->store, st);
}

/* One result. The common case (an unscored candidate of this job, scored fine) is one
 * UPDATE; anything else is classified against the candidate's state. Fills *s when the
 * candidate finished (scored, or dead). Returns 1 if *s was filled, 0, or < 0
 * (MN_EINVAL: not a candidate of this job). */
static int ingest_one(struct mn_server *srv, struct mn_job *j, const struct mn_result *r,
                      const char *worker, double now, double *u, struct mn_scored *s,
                      struct mn_results_ack *ack)
{
    int running = strcmp(j->status, "running") == 0, have = 1, feasible = 0, stored = 0, rc;
    if (running && r->ok) {
        for (int k = 0; k < j->spec->n_obj && have; k++) {
            double v;
            have = mn_objective_value(&j->spec->obj[k], r->scores, r->cost, &v) == MN_OK;
            u[k] = have ? mn_objective_u(&j->spec->obj[k], v) : 0.0;
        }
        feasible = mn_budgets_met(&j->spec->budgets, r->cost);
        if ((rc = store_scored(srv, j->id, r, worker, have ? u : NULL, j->spec->n_obj, feasible,
                               now, 0, &stored)))
            return rc;
        if (stored)
            j->n_done++;
    }
    if (!stored) {
        int64_t job_id = 0;
        int attempts = 0;
        char status[16];
        rc = candidate_state(srv, r->candidate_id, &job_id, &attempts, status, sizeof status);
        if (rc == MN_ENOTFOUND || (!rc && job_id != j->id))
            return MN_EINVAL;
        if (rc)
            return rc;
        if (strcmp(status, "scored") == 0) {
            ack->duplicates++;
            return 0;
        }
        int dead = strcmp(status, "dead") == 0;
        if (!running || strcmp(status, "rejected") == 0 || (dead && !r->ok)) {
            ack->ignored++;
            return 0;
        }
        if (!r->ok) {
            int last = attempts >= j->spec->max_attempts;
            if ((rc = store_failed(srv, r->candidate_id, r->error, last)))
                return rc;
            if (!last) {
                ack->requeued++;
                return 0;
            }
            ack->dead++;
            j->n_done++;
            *s = (struct mn_scored){.id = r->candidate_id, .ok = 0};
            return 1;
        }
        /* A late result for a dead candidate: scores are deterministic, keep them. */
        if ((rc = store_scored(srv, j->id, r, worker, have ? u : NULL, j->spec->n_obj, feasible,
                               now, 1, &stored)))
            return rc;
        if (!stored)
            return MN_EDB;
    }
    ack->accepted++;
    j->n_scored++;
    *s = (struct mn_scored){.id = r->candidate_id, .ok = 1, .feasible = feasible,
                            .scores = r->scores, .cost = r->cost, .u = have ? u : NULL};
    return 1;
}

int mn_lease_results(struct mn_server *srv, int64_t lease_id, const char *worker_id,
                     const char *scoring_version, const struct mn_result *res, int n,
                     struct mn_results_ack *ack, struct mn_error *err)
{
    int64_t job_id = 0;
    char lstatus[16];
    memset(ack, 0, sizeof *ack);
    struct mn_scored *done = calloc((size_t)(n ? n : 1), sizeof *done);
    double *u = calloc((size_t)(n ? n : 1) * MN_MAX_OBJECTIVES, sizeof *u);
    if (!done || !u) {
        free(done);
        free(u);
        return mn_error_set(err, MN_ENOMEM, NULL, "out of memory");
    }
    int rc = mn_txn_begin(srv);
    if (rc) {
        free(done);
        free(u);
        return mn_error_set(err, rc, NULL, "database busy");
    }
    struct mn_job *j = NULL;
    if ((rc = find_lease(srv, lease_id, &job_id, lstatus, sizeof lstatus))) {
        mn_error_set(err, rc, NULL, "no lease %lld", (long long)lease_id);
        goto out;
    }
    if (!(j = mn_jobs_get(srv->jobs, job_id, &rc))) {
        mn_error_set(err, rc, NULL, "job %lld unreadable", (long long)job_id);
        goto out;
    }
    if (strcmp(scoring_version, j->scoring_version) != 0) {
        rc = mn_error_set(err, MN_ECONFLICT, "scoring_version",
                          "results scored with scoring_version '%s'; job %lld needs '%s'",
                          scoring_version, (long long)job_id, j->scoring_version);
        goto out;
    }
    double now = mn_now();
    int n_done = 0;
    for (int i = 0; i < n; i++) {
        int got = ingest_one(srv, j, &res[i], worker_id, now, u + (size_t)n_done * MN_MAX_OBJECTIVES,
                             &done[n_done], ack);
        if (got == MN_EINVAL) {
            char field[64];
            snprintf(field, sizeof field, "results[%d].candidate_id", i);
            rc = mn_error_set(err, MN_EINVAL, field, "candidate %lld is not in job %lld",
                              (long long)res[i].candidate_id, (long long)job_id);
            goto out;
        }
        if (got < 0) {
            rc = mn_error_set(err, got, NULL, "storing results failed: %s", mn_strerror(got));
            goto out;
        }
        n_done += got;
    }
    if ((rc = maybe_done(srv, job_id, lease_id)) ||
        (n_done && strcmp(j->status, "running") == 0 &&
         (rc = mn_job_after_results(j, done, n_done, now))) ||
        (rc = upsert_worker(srv, worker_id, NULL, scoring_version, 0, ack->accepted, now))) {
        mn_error_set(err, rc, NULL, "storing results failed: %s", mn_strerror(rc));
        goto out;
    }
    if ((rc = mn_job_check_end(j, now)) > 0)
        rc = MN_OK;
    if (rc)
        mn_error_set(err, rc, NULL, "job update failed: %s", mn_strerror(rc));
    snprintf(ack->job_status, sizeof ack->job_status, "%s", j->status);
out:
    rc = txn_finish(srv, rc);
    free(done);
    free(u);
    if (!rc) {
        mn_metrics_add(srv->metrics, MN_M_RESULTS, ack->accepted);
        mn_metrics_add(srv->metrics, MN_M_RESULTS_FAILED, ack->requeued + ack->dead);
        mn_metrics_add(srv->metrics, MN_M_RESULTS_DUPLICATE, ack->duplicates);
    }
    return rc;
}

/* Expires one lease of job j: requeues its candidates, or marks them dead after
 * max_attempts. */
static int expire_one(struct mn_server *srv, struct mn_job *j, int64_t lease_id, double now)
{
    static const char sql[] =
        "UPDATE candidates SET lease_id=NULL, status=CASE WHEN attempts>=?2 THEN 'dead' ELSE "
        "'queued' END, error=CASE WHEN attempts>=?2 THEN 'lease expired on the last attempt' "
        "ELSE error END WHERE job_id=?3 AND status='leased' AND lease_id=?1 RETURNING id, status";
    sqlite3_stmt *st = mn_store_prep(srv->store, sql);
    if (!st)
        return MN_EDB;
    sqlite3_bind_int64(st, 1, lease_id);
    sqlite3_bind_int(st, 2, j->spec->max_attempts);
    sqlite3_bind_int64(st, 3, j->id);
    struct mn_scored dead[64];
    int n_dead = 0, step, rc = MN_OK;
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        if (strcmp((const char *)sqlite3_column_text(st, 1), "dead") != 0)
            continue;
        j->n_done++;
        if (n_dead < 64) /* the strategy sees the first 64; counts are exact */
            dead[n_dead++] = (struct mn_scored){.id = sqlite3_column_int64(st, 0), .ok = 0};
    }
    sqlite3_reset(st);
    if (step != SQLITE_DONE)
        return MN_EDB;
    if ((rc = set_lease(srv, lease_id, "expired", -1)))
        return rc;
    if (strcmp(j->status, "running") == 0)
        rc = mn_job_after_results(j, dead, n_dead, now);
    return rc;
}

int mn_lease_reap(struct mn_server *srv, double now)
{
    static const char sql[] = "SELECT id, job_id FROM leases WHERE status='active' AND "
                              "expires_at < ? ORDER BY expires_at LIMIT 256";
    int rc = mn_txn_begin(srv), expired = 0;
    if (rc)
        return rc;
    sqlite3_stmt *st = mn_store_prep(srv->store, sql);
    int64_t ids[256][2];
    int n = 0;
    if (!st)
        rc = MN_EDB;
    else {
        sqlite3_bind_double(st, 1, now);
        while (n < 256 && sqlite3_step(st) == SQLITE_ROW) {
            ids[n][0] = sqlite3_column_int64(st, 0);
            ids[n][1] = sqlite3_column_int64(st, 1);
            n++;
        }
        sqlite3_reset(st);
    }
    for (int i = 0; i < n && !rc; i++) {
        struct mn_job *j = mn_jobs_get(srv->jobs, ids[i][1], &rc);
        if (!j)
            break;
        if (!(rc = expire_one(srv, j, ids[i][0], now)))
            expired++;
    }
    int64_t running[MAX_RUNNING];
    int n_run = rc ? 0 : mn_jobs_running(srv->jobs, running, MAX_RUNNING);
    for (int i = 0; i < n_run && !rc; i++) {
        struct mn_job *j = mn_jobs_get(srv->jobs, running[i], &rc);
        if (!j)
            break;
        if ((rc = mn_job_check_end(j, now)) > 0)
            rc = MN_OK;
    }
    rc = txn_finish(srv, rc);
    if (rc)
        return rc;
    if (expired) {
        mn_metrics_add(srv->metrics, MN_M_LEASES_EXPIRED, expired);
        mn_log_info("msg=\"leases expired\" count=%d", expired);
    }
    return expired;
}
