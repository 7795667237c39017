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

static int set_lease(struct mn_server *srv, int64_t id, const char *status)
{
    static const char sql[] = "UPDATE leases SET status=?2 WHERE id=?1 AND status='active'";
    sqlite3_stmt *st = mn_store_prep(srv->store, sql);
    if (!st)
        return MN_EDB;
    sqlite3_bind_int64(st, 1, id);
    sqlite3_bind_text(st, 2, status, -1, SQLITE_STATIC);
    return mn_store_step_done(srv->store, st);
}

/* Finished candidates for mn_job_after_results: each entry's key is a copy owned here
 * (the queue item it came from may be freed meanwhile), u rows of MN_MAX_OBJECTIVES. */
struct finished {
    struct mn_scored *s;
    char **keys;
    double *u;
    int n;
};

/* Room for cap entries; 0 or MN_ENOMEM (f is then empty). */
static int finished_init(struct finished *f, int cap)
{
    size_t c = (size_t)(cap > 0 ? cap : 1);
    *f = (struct finished){.s = calloc(c, sizeof *f->s), .keys = calloc(c, sizeof *f->keys),
                           .u = calloc(c * MN_MAX_OBJECTIVES, sizeof *f->u)};
    if (f->s && f->keys && f->u)
        return MN_OK;
    free(f->s);
    free(f->keys);
    free(f->u);
    *f = (struct finished){0};
    return MN_ENOMEM;
}

static void finished_free(struct finished *f)
{
    for (int i = 0; i < f->n; i++)
        free(f->keys[i]);
    free(f->s);
    free(f->keys);
    free(f->u);
}

/* The u row the next entry may use. */
static double *finished_u(struct finished *f)
{
    return f->u + (size_t)f->n * MN_MAX_OBJECTIVES;
}

/* Appends s (room made by finished_init) with a copy of key. 0 or MN_ENOMEM. */
static int finished_add(struct finished *f, struct mn_scored s, const char *key)
{
    if (!(f->keys[f->n] = strdup(key)))
        return MN_ENOMEM;
    s.key = f->keys[f->n];
    f->s[f->n++] = s;
    return MN_OK;
}

/* Removes the last entry (added before knowing whether the candidate finishes). */
static void finished_drop(struct finished *f)
{
    free(f->keys[--f->n]);
}

/* The id the next lease gets: one more than any lease so far (ids are chosen here so
 * that the lease row is written once, with its items). */
static int next_lease_id(struct mn_server *srv, int64_t *id)
{
    static const char sql[] = "SELECT coalesce(max(id), 0) FROM leases";
    if (!srv->lease_last) {
        sqlite3_stmt *st = mn_store_prep(srv->store, sql);
        if (!st || sqlite3_step(st) != SQLITE_ROW) {
            if (st)
                sqlite3_reset(st);
            return MN_EDB;
        }
        srv->lease_last = sqlite3_column_int64(st, 0);
        sqlite3_reset(st);
    }
    *id = ++srv->lease_last;
    return MN_OK;
}

/* Tries job j: refill its queue if short, then lease what is queued: one lease row
 * listing the candidates (their rows are not touched), the payload appended to b.
 * Returns the number leased (0: nothing here) or < 0. */
static int claim_from(struct mn_server *srv, struct mn_job *j,
                      const struct mn_lease_req *r, double now, struct mn_buf *b,
                      int64_t *lease_id)
{
    static const char sql[] = "INSERT INTO leases (id, job_id, worker_id, status, n, "
                              "created_at, expires_at, items) VALUES (?, ?, ?, 'active', ?, ?, "
                              "?, ?)";
    int want = r->capacity < j->spec->batch_size ? r->capacity : j->spec->batch_size;
    int64_t queued = mn_queue_queued(j->queue);
    if (queued < want) {
        int rc = mn_job_refill(j, (int)(want - queued));
        if (rc < 0)
            return rc;
    }
    if (mn_queue_queued(j->queue) == 0)
        return 0;
    struct mn_queue_item **items = malloc((size_t)want * sizeof *items);
    struct mn_buf ids = {0};
    int rc = items ? next_lease_id(srv, lease_id) : MN_ENOMEM, n = 0;
    if (!rc && (n = mn_queue_take(j->queue, *lease_id, want, items)) < 0)
        rc = n;
    if (rc || n == 0)
        goto out;
    double expires = now + j->spec->lease_seconds;
    char when[40];
    mn_buf_str(b, "{\"lease_id\":");
    mn_buf_int(b, *lease_id);
    mn_buf_str(b, ",\"expires_at\":\"");
    mn_buf_str(b, mn_time_text(expires, when, sizeof when));
    mn_buf_str(b, "\",\"lease_seconds\":");
    mn_buf_int(b, j->spec->lease_seconds);
    mn_buf_str(b, ",\"job\":");
    mn_buf_str(b, j->lease_json);
    mn_buf_str(b, ",\"candidates\":[");
    mn_buf_reserve(&ids, (size_t)n * 12 + 2);
    mn_buf_add(&ids, "[", 1);
    for (int i = 0; i < n; i++) {
        if (i) {
            mn_buf_add(b, ",", 1);
            mn_buf_add(&ids, ",", 1);
        }
        mn_buf_add(b, items[i]->json, items[i]->len);
        mn_buf_int(&ids, items[i]->id);
    }
    mn_buf_add(&ids, "]", 1);
    mn_buf_str(b, "]}");
    sqlite3_stmt *st = mn_store_prep(srv->store, sql);
    if (!st || ids.oom) {
        rc = !st ? MN_EDB : MN_ENOMEM;
        goto out;
    }
    sqlite3_bind_int64(st, 1, *lease_id);
    sqlite3_bind_int64(st, 2, j->id);
    sqlite3_bind_text(st, 3, r->worker_id, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 4, n);
    sqlite3_bind_double(st, 5, now);
    sqlite3_bind_double(st, 6, expires);
    sqlite3_bind_text(st, 7, ids.data, (int)ids.len, SQLITE_STATIC);
    rc = mn_store_step_done(srv->store, st);
out:
    free(items);
    mn_buf_free(&ids);
    return rc ? rc : n;
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
        if (n == 0) { /* nothing queued even after a refill: maybe end the job */
            if ((rc = mn_job_check_end(j, now)) > 0)
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

/* Row id of the query sql, "SELECT job_id, status[, key] FROM … WHERE id=?": its job,
 * status and, when key is not NULL, a copy of its third column (caller frees). Returns
 * 0, MN_ENOTFOUND, MN_EDB or MN_ENOMEM. */
static int job_and_status(struct mn_server *srv, const char *sql, int64_t id, int64_t *job_id,
                          char *status, size_t len, char **key)
{
    sqlite3_stmt *st = mn_store_prep(srv->store, sql);
    if (!st)
        return MN_EDB;
    sqlite3_bind_int64(st, 1, id);
    int rc = MN_ENOTFOUND;
    if (sqlite3_step(st) == SQLITE_ROW) {
        *job_id = sqlite3_column_int64(st, 0);
        snprintf(status, len, "%s", (const char *)sqlite3_column_text(st, 1));
        rc = MN_OK;
        if (key && !(*key = strdup((const char *)sqlite3_column_text(st, 2))))
            rc = MN_ENOMEM;
    }
    sqlite3_reset(st);
    return rc;
}

/* Begins the request's transaction (taking the lock) and looks lease lease_id up: its
 * job and status. On failure the transaction is over and err says why. */
static int begin_on_lease(struct mn_server *srv, int64_t lease_id, int64_t *job_id,
                          char *status, size_t len, struct mn_error *err)
{
    static const char sql[] = "SELECT job_id, status FROM leases WHERE id=?";
    int rc = mn_txn_begin(srv);
    if (rc)
        return mn_error_set(err, rc, NULL, "database busy");
    if ((rc = job_and_status(srv, sql, lease_id, job_id, status, len, NULL))) {
        txn_finish(srv, MN_OK);
        return mn_error_set(err, rc, NULL, rc == MN_ENOTFOUND ? "no lease %lld" : "database error",
                            (long long)lease_id);
    }
    return MN_OK;
}

int mn_lease_heartbeat(struct mn_server *srv, int64_t lease_id, double *expires_at,
                       struct mn_error *err)
{
    static const char sql[] = "UPDATE leases SET expires_at=? WHERE id=?";
    int64_t job_id = 0;
    char status[16];
    int rc = begin_on_lease(srv, lease_id, &job_id, status, sizeof status, err);
    if (rc)
        return rc;
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

/* Writes an open candidate's status, attempts and (when not NULL) error. */
static int set_candidate(struct mn_server *srv, int64_t id, const char *status, int attempts,
                         const char *error)
{
    static const char sql[] = "UPDATE candidates SET status=?1, attempts=?2, "
                              "error=coalesce(?3, error) WHERE id=?4";
    sqlite3_stmt *st = mn_store_prep(srv->store, sql);
    if (!st)
        return MN_EDB;
    sqlite3_bind_text(st, 1, status, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 2, attempts);
    sqlite3_bind_text(st, 3, error, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 4, id);
    return mn_store_step_done(srv->store, st);
}

/* An attempt of open candidate it ended without a result (error): it goes back to the
 * queue, or is dead when that was its last attempt. Returns 1 when it died, 0 when it
 * was requeued, or < 0. A lease left with no open candidate is marked done. */
static int attempt_failed(struct mn_server *srv, struct mn_job *j, struct mn_queue_item *it,
                          const char *error)
{
    int attempts = it->attempts + 1, last = attempts >= j->spec->max_attempts;
    int rc = set_candidate(srv, it->id, last ? "dead" : "queued", attempts, error);
    if (rc)
        return rc;
    it->attempts = attempts;
    int64_t emptied = last ? mn_queue_finish(j->queue, it) : mn_queue_requeue(j->queue, it);
    if (emptied < 0)
        return (int)emptied;
    if (emptied > 0 && (rc = set_lease(srv, emptied, "done")))
        return rc;
    if (last)
        j->n_done++;
    return last;
}

/* Ends active lease lease_id of job j with status "released" (its open candidates go
 * back to the queue; the attempt does not count; dead is NULL) or "expired" (the
 * attempt counts: see attempt_failed; every candidate that died goes into dead, which
 * this initialises: the caller frees it with finished_free). Returns the number of
 * open candidates it had, or < 0. */
static int end_lease(struct mn_server *srv, struct mn_job *j, int64_t lease_id,
                     const char *status, struct finished *dead)
{
    int expired = strcmp(status, "expired") == 0, n = 0, rc = MN_OK;
    struct mn_queue_item **items = NULL;
    if (j->queue)
        n = mn_queue_lease_items(j->queue, lease_id, NULL, 0);
    if (expired && finished_init(dead, n))
        return MN_ENOMEM;
    if (n > 0) {
        if (!(items = malloc((size_t)n * sizeof *items)))
            return MN_ENOMEM;
        mn_queue_lease_items(j->queue, lease_id, items, n);
    }
    for (int i = 0; i < n && !rc; i++) {
        if (!expired) {
            int64_t e = mn_queue_requeue(j->queue, items[i]);
            rc = e < 0 ? (int)e : MN_OK;
            continue;
        }
        /* Listed first: a dying item is freed. */
        if ((rc = finished_add(dead, (struct mn_scored){.id = items[i]->id, .ok = 0},
                               items[i]->key)))
            break;
        int died = attempt_failed(srv, j, items[i], "lease expired on the last attempt");
        if (died <= 0)
            finished_drop(dead);
        rc = died < 0 ? died : MN_OK;
    }
    free(items);
    if (j->queue)
        mn_queue_lease_end(j->queue, lease_id);
    return rc ? rc : set_lease(srv, lease_id, status) ?: n;
}

int mn_lease_release(struct mn_server *srv, int64_t lease_id, int *released,
                     struct mn_error *err)
{
    int64_t job_id = 0;
    char status[16];
    int rc = begin_on_lease(srv, lease_id, &job_id, status, sizeof status, err);
    if (rc)
        return rc;
    *released = 0;
    if (strcmp(status, "active") == 0) {
        struct mn_job *j = mn_jobs_get(srv->jobs, job_id, &rc);
        int n = j ? end_lease(srv, j, lease_id, "released", NULL) : rc;
        rc = n < 0 ? n : MN_OK;
        *released = n < 0 ? 0 : n;
        if (!rc)
            mn_metrics_add(srv->metrics, MN_M_LEASES_RELEASED, 1);
    }
    rc = txn_finish(srv, rc);
    return rc ? mn_error_set(err, rc, NULL, "release failed: %s", mn_strerror(rc)) : MN_OK;
}

/* Stores the scores of r when the candidate is in job_id and 'queued' (open), or also
 * 'dead' when allow_dead. *stored = 1 if it was. */
static int store_scored(struct mn_server *srv, int64_t job_id, const struct mn_result *r,
                        const char *worker, const double *u, int n_obj, int feasible,
                        double now, int allow_dead, int *stored)
{
    static const char sql[] =
        "UPDATE candidates SET status='scored', error=NULL, scores=?1, cost=?2, flags=?3, "
        "seconds=?4, worker_id=?5, obj=?6, feasible=?7, scored_at=?8, attempts=attempts+1 "
        "WHERE id=?9 AND job_id=?10 AND status IN ('queued', ?11)";
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

/* One result. The common case (an open candidate of this running job, scored fine) is
 * one UPDATE, found in the job's queue; anything else is classified against the
 * candidate's row. Appends the candidate to f when it finished (scored, or dead).
 * Returns 0 or < 0 (MN_EINVAL: not a candidate of this job). */
static int ingest_one(struct mn_server *srv, struct mn_job *j, const struct mn_result *r,
                      const char *worker, double now, struct finished *f,
                      struct mn_results_ack *ack)
{
    static const char state_sql[] = "SELECT job_id, status, key FROM candidates WHERE id=?";
    int running = strcmp(j->status, "running") == 0, have = 1, feasible = 0, stored = 0, rc;
    struct mn_queue_item *it = running ? mn_queue_get(j->queue, r->candidate_id) : NULL;
    double *u = finished_u(f);
    if (it && !r->ok) { /* listed first: a dying item is freed */
        if ((rc = finished_add(f, (struct mn_scored){.id = r->candidate_id, .ok = 0}, it->key)))
            return rc;
        int died = attempt_failed(srv, j, it, r->error);
        if (died <= 0) {
            finished_drop(f);
            ack->requeued += !died;
            return died;
        }
        ack->dead++;
        return MN_OK;
    }
    if (running && r->ok) {
        for (int k = 0; k < j->spec->n_obj && have; k++) {
            double v;
            have = mn_objective_value(&j->spec->obj[k], r->scores, r->cost, &v) == MN_OK;
            u[k] = have ? mn_objective_u(&j->spec->obj[k], v) : 0.0;
        }
        feasible = mn_budgets_met(&j->spec->budgets, r->cost);
    }
    struct mn_scored s = {.id = r->candidate_id, .ok = 1, .feasible = feasible,
                          .scores = r->scores, .cost = r->cost, .u = have ? u : NULL};
    if (it) {
        if ((rc = store_scored(srv, j->id, r, worker, s.u, j->spec->n_obj, feasible, now, 0,
                               &stored)))
            return rc;
        if (!stored)
            return MN_EDB; /* the queue said open, the row disagrees */
        if ((rc = finished_add(f, s, it->key)))
            return rc;
        int64_t emptied = mn_queue_finish(j->queue, it);
        if (emptied > 0 && (rc = set_lease(srv, emptied, "done")))
            return rc;
        j->n_done++;
    } else {
        int64_t job_id = 0;
        char status[16], *key = NULL;
        rc = job_and_status(srv, state_sql, r->candidate_id, &job_id, status, sizeof status,
                            &key);
        if (rc == MN_ENOTFOUND || (!rc && job_id != j->id))
            rc = MN_EINVAL;
        else if (!rc && strcmp(status, "scored") == 0)
            ack->duplicates++;
        /* Not open in a running job: the job ended, or the candidate was rejected or
         * is dead. A late success for a dead candidate is kept (scores are
         * deterministic); it was counted done when it died. */
        else if (!rc && (!running || !r->ok || strcmp(status, "dead") != 0))
            ack->ignored++;
        else if (!rc && !(rc = store_scored(srv, j->id, r, worker, s.u, j->spec->n_obj, feasible,
                                            now, 1, &stored)))
            rc = !stored ? MN_EDB : finished_add(f, s, key);
        free(key);
        if (rc || !stored)
            return rc;
    }
    ack->accepted++;
    j->n_scored++;
    return MN_OK;
}

int mn_lease_results(struct mn_server *srv, int64_t lease_id, const char *worker_id,
                     const char *scoring_version, const struct mn_result *res, int n,
                     struct mn_results_ack *ack, struct mn_error *err)
{
    int64_t job_id = 0;
    char lstatus[16];
    memset(ack, 0, sizeof *ack);
    struct finished done;
    if (finished_init(&done, n))
        return mn_error_set(err, MN_ENOMEM, NULL, "out of memory");
    int rc = begin_on_lease(srv, lease_id, &job_id, lstatus, sizeof lstatus, err);
    if (rc) {
        finished_free(&done);
        return rc;
    }
    struct mn_job *j = NULL;
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
    for (int i = 0; i < n; i++) {
        int got = ingest_one(srv, j, &res[i], worker_id, now, &done, ack);
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
    }
    mn_job_note_scored(j, now, ack->accepted);
    if ((done.n && strcmp(j->status, "running") == 0 &&
         (rc = mn_job_after_results(j, done.s, done.n, now))) ||
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
    finished_free(&done);
    if (!rc) {
        mn_metrics_add(srv->metrics, MN_M_RESULTS, ack->accepted);
        mn_metrics_add(srv->metrics, MN_M_RESULTS_FAILED, ack->requeued + ack->dead);
        mn_metrics_add(srv->metrics, MN_M_RESULTS_DUPLICATE, ack->duplicates);
    }
    return rc;
}

/* Expires one lease of job j (see end_lease) and tells the strategy of all its dead. */
static int expire_one(struct mn_server *srv, struct mn_job *j, int64_t lease_id, double now)
{
    struct finished dead = {0};
    int rc = end_lease(srv, j, lease_id, "expired", &dead);
    if (rc >= 0 && strcmp(j->status, "running") == 0)
        rc = mn_job_after_results(j, dead.s, dead.n, now);
    finished_free(&dead);
    return rc < 0 ? rc : MN_OK;
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
