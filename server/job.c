/* job.c — loaded jobs, their lifecycle, front and strategy calls (see job.h). */
#include "job.h"
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "buf.h"
#include "catalog.h"
#include "json.h"
#include "log.h"

#define RUNNING_CACHE 256

struct mn_jobs {
    struct mn_store *store;
    struct mn_job *head;
    /* Ids of the running jobs as last read (every lease claim asks), valid until a job
     * is created or ends, or the cached jobs are dropped after a rollback; complete
     * only when fewer than RUNNING_CACHE. */
    int64_t running[RUNNING_CACHE];
    int n_running, running_valid;
};

struct mn_jobs *mn_jobs_new(struct mn_store *store)
{
    struct mn_jobs *js = calloc(1, sizeof *js);
    if (js)
        js->store = store;
    return js;
}

static void job_free(struct mn_job *j)
{
    if (!j)
        return;
    if (j->strat_started && j->spec->strategy->stop)
        j->spec->strategy->stop(j->strat);
    mn_jobspec_free(j->spec);
    mn_keyset_free(j->keys);
    mn_queue_free(j->queue);
    mn_front_free(j->front);
    free(j->lease_json);
    free(j->scale_text);
    free(j);
}

void mn_jobs_free(struct mn_jobs *js)
{
    if (!js)
        return;
    mn_jobs_evict_all(js);
    free(js);
}

void mn_jobs_evict(struct mn_jobs *js, int64_t id)
{
    for (struct mn_job **p = &js->head; *p; p = &(*p)->next)
        if ((*p)->id == id) {
            struct mn_job *j = *p;
            *p = j->next;
            job_free(j);
            return;
        }
}

void mn_jobs_evict_all(struct mn_jobs *js)
{
    js->running_valid = 0;
    for (struct mn_job *j = js->head, *next; j; j = next) {
        next = j->next;
        job_free(j);
    }
    js->head = NULL;
}

static int col_str(sqlite3_stmt *st, int i, char *buf, size_t len)
{
    const unsigned char *t = sqlite3_column_text(st, i);
    snprintf(buf, len, "%s", t ? (const char *)t : "");
    return MN_OK;
}

/* Applies the stored normalisation ([[u_ideal,u_ref] or null per objective]). */
static void apply_scale(struct mn_job *j, const char *text)
{
    cJSON *a = text ? cJSON_Parse(text) : NULL;
    int all = 1;
    for (int k = 0; k < j->spec->n_obj; k++) {
        struct mn_objective *o = &j->spec->obj[k];
        cJSON *p = cJSON_GetArrayItem(a, k);
        if (!o->scaled && cJSON_GetArraySize(p) == 2) {
            o->u_ideal = cJSON_GetArrayItem(p, 0)->valuedouble;
            o->u_ref = cJSON_GetArrayItem(p, 1)->valuedouble;
            o->scaled = 1;
        }
        all &= o->scaled;
    }
    j->scaled = all;
    cJSON_Delete(a);
}

static char *render_lease_json(struct mn_job *j)
{
    const cJSON *sj = j->spec->json;
    cJSON *o = cJSON_CreateObject();
    if (!o)
        return NULL;
    cJSON_AddNumberToObject(o, "id", (double)j->id);
    cJSON_AddStringToObject(o, "scoring_version", j->scoring_version);
    static const char *const copy[] = {"space", "proxies", "mcu", "budgets", "objectives",
                                       "seed"};
    for (size_t i = 0; i < sizeof copy / sizeof copy[0]; i++)
        cJSON_AddItemToObject(o, copy[i],
                              cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(sj, copy[i]), 1));
    char *s = mn_json_print(o);
    cJSON_Delete(o);
    return s;
}

static int load_front(struct mn_job *j)
{
    static const char sql[] = "SELECT id, obj FROM candidates WHERE job_id=? AND on_front=1 "
                              "ORDER BY id";
    sqlite3_stmt *st = mn_store_prep(j->store, sql);
    if (!st)
        return MN_EDB;
    sqlite3_bind_int64(st, 1, j->id);
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (sqlite3_column_bytes(st, 1) != (int)(j->spec->n_obj * sizeof(double)))
            continue;
        double u[MN_MAX_OBJECTIVES];
        memcpy(u, sqlite3_column_blob(st, 1), j->spec->n_obj * sizeof(double));
        if (mn_front_insert(j->front, sqlite3_column_int64(st, 0), u) < 0) {
            sqlite3_reset(st);
            return MN_ENOMEM;
        }
    }
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? MN_OK : MN_EDB;
}

/* The keys of every candidate of the job, for deduplication. */
static int load_keys(struct mn_job *j)
{
    static const char sql[] = "SELECT key FROM candidates WHERE job_id=?";
    sqlite3_stmt *st = mn_store_prep(j->store, sql);
    if (!st)
        return MN_EDB;
    if (!(j->keys = mn_keyset_new()))
        return MN_ENOMEM;
    sqlite3_bind_int64(st, 1, j->id);
    int rc = MN_OK, step;
    while (!rc && (step = sqlite3_step(st)) == SQLITE_ROW)
        if (mn_keyset_add(j->keys, (const char *)sqlite3_column_text(st, 0)) < 0)
            rc = MN_ENOMEM;
    sqlite3_reset(st);
    return rc ? rc : step == SQLITE_DONE ? MN_OK : MN_EDB;
}

/* Appends candidate id's object in a lease payload: {"id":…,"key":…,"arch":…}. */
static void render_item(struct mn_buf *b, int64_t id, const char *key, const char *arch,
                        size_t arch_len)
{
    mn_buf_str(b, "{\"id\":");
    mn_buf_int(b, id);
    mn_buf_str(b, ",\"key\":");
    mn_buf_json_str(b, key);
    mn_buf_str(b, ",\"arch\":");
    mn_buf_add(b, arch, arch_len);
    mn_buf_add(b, "}", 1);
}

/* The open candidates of a running job: queued ones in id order, and those in the
 * items of an active lease as leased to it (a candidate listed by two active leases,
 * which monasd never writes, goes to the first). */
static int load_queue(struct mn_job *j)
{
    static const char sql[] =
        "SELECT c.id, c.key, " MN_JOB_ARCH_SQL("c.") ", c.attempts, l.lease FROM candidates c "
        "LEFT JOIN "
        "(SELECT l.id AS lease, i.value AS cid FROM leases l JOIN json_each(l.items) i "
        "WHERE l.job_id=?1 AND l.status='active') l ON l.cid=c.id "
        "WHERE c.job_id=?1 AND c.status='queued' ORDER BY c.id, l.lease";
    sqlite3_stmt *st = mn_store_prep(j->store, sql);
    if (!st)
        return MN_EDB;
    if (!(j->queue = mn_queue_new()))
        return MN_ENOMEM;
    sqlite3_bind_int64(st, 1, j->id);
    struct mn_buf b = {0};
    int rc = MN_OK, step;
    while (!rc && (step = sqlite3_step(st)) == SQLITE_ROW) {
        int64_t id = sqlite3_column_int64(st, 0);
        if (mn_queue_get(j->queue, id))
            continue;
        b.len = 0;
        render_item(&b, id, (const char *)sqlite3_column_text(st, 1),
                    (const char *)sqlite3_column_text(st, 2), (size_t)sqlite3_column_bytes(st, 2));
        rc = b.oom ? MN_ENOMEM
                   : mn_queue_add(j->queue, id, sqlite3_column_int(st, 3),
                                  (const char *)sqlite3_column_text(st, 1), b.data, b.len,
                                  sqlite3_column_int64(st, 4));
    }
    sqlite3_reset(st);
    mn_buf_free(&b);
    return rc ? rc : step == SQLITE_DONE ? MN_OK : MN_EDB;
}

/* Starts the job's strategy; its error goes to *out when out is not NULL. */
static int start_strategy(struct mn_job *j, const char *saved_text, struct mn_error *out)
{
    struct mn_error err = {0};
    int lk = load_keys(j);
    if (!lk)
        lk = load_queue(j);
    if (lk)
        return lk;
    cJSON *saved = saved_text ? cJSON_Parse(saved_text) : NULL;
    int rc = j->spec->strategy->start(j, saved, &j->strat, &err);
    cJSON_Delete(saved);
    if (rc) {
        mn_log_error("msg=\"strategy start failed\" job=%lld error=\"%s\"", (long long)j->id,
                     err.message);
        if (out)
            *out = err;
        return rc;
    }
    j->strat_started = 1;
    return MN_OK;
}

static struct mn_job *load(struct mn_jobs *js, int64_t id, int *rc, struct mn_error *start_err)
{
    static const char sql[] =
        "SELECT status, reason, spec, scoring_version, created_at, finished_at, n_proposed, "
        "n_rejected, n_scored, n_done, generation, stale, hypervolume, scale, strategy_state, "
        "(SELECT hypervolume FROM history h WHERE h.job_id=jobs.id ORDER BY generation DESC "
        "LIMIT 1) FROM jobs WHERE id=?";
    sqlite3_stmt *st = mn_store_prep(js->store, sql);
    struct mn_job *j = NULL;
    char *scale = NULL, *state = NULL;
    if (!st) {
        *rc = MN_EDB;
        return NULL;
    }
    sqlite3_bind_int64(st, 1, id);
    int step = sqlite3_step(st);
    if (step != SQLITE_ROW) {
        *rc = step == SQLITE_DONE ? MN_ENOTFOUND : MN_EDB;
        goto fail;
    }
    *rc = MN_ENOMEM;
    if (!(j = calloc(1, sizeof *j)))
        goto fail;
    j->id = id;
    j->store = js->store;
    j->jobs = js;
    col_str(st, 0, j->status, sizeof j->status);
    col_str(st, 1, j->reason, sizeof j->reason);
    cJSON *spec = cJSON_Parse((const char *)sqlite3_column_text(st, 2));
    struct mn_error err = {0};
    *rc = spec ? mn_jobspec_parse(spec, &j->spec, &err) : MN_EPARSE;
    cJSON_Delete(spec);
    if (*rc) {
        mn_log_error("msg=\"stored job spec unreadable\" job=%lld error=\"%s\"", (long long)id,
                     err.message);
        goto fail;
    }
    col_str(st, 3, j->scoring_version, sizeof j->scoring_version);
    j->created_at = sqlite3_column_double(st, 4);
    j->finished_at = sqlite3_column_double(st, 5);
    j->n_proposed = sqlite3_column_int64(st, 6);
    j->n_rejected = sqlite3_column_int64(st, 7);
    j->n_scored = sqlite3_column_int64(st, 8);
    j->n_done = sqlite3_column_int64(st, 9);
    j->generation = sqlite3_column_int64(st, 10);
    j->stale = sqlite3_column_int64(st, 11);
    j->hv = sqlite3_column_double(st, 12);
    j->hv_gen = sqlite3_column_double(st, 15);
    if (sqlite3_column_text(st, 13))
        scale = strdup((const char *)sqlite3_column_text(st, 13));
    if (sqlite3_column_text(st, 14))
        state = strdup((const char *)sqlite3_column_text(st, 14));
    sqlite3_reset(st);
    st = NULL;
    apply_scale(j, scale);
    *rc = MN_ENOMEM;
    if (!(j->front = mn_front_new(j->spec->n_obj)) || !(j->lease_json = render_lease_json(j)))
        goto fail;
    if ((*rc = load_front(j)))
        goto fail;
    if (strcmp(j->status, "running") == 0 && (*rc = start_strategy(j, state, start_err)))
        goto fail;
    free(scale);
    free(state);
    j->next = js->head;
    js->head = j;
    *rc = MN_OK;
    return j;
fail:
    if (st)
        sqlite3_reset(st);
    free(scale);
    free(state);
    job_free(j);
    return NULL;
}

struct mn_job *mn_jobs_get(struct mn_jobs *js, int64_t id, int *rc)
{
    for (struct mn_job *j = js->head; j; j = j->next)
        if (j->id == id) {
            *rc = MN_OK;
            return j;
        }
    return load(js, id, rc, NULL);
}

int mn_jobs_create(struct mn_jobs *js, struct mn_jobspec *spec, int64_t *id,
                   struct mn_error *err)
{
    static const char sql[] = "INSERT INTO jobs (name, status, spec, scoring_version, "
                              "created_at, updated_at) VALUES (?, 'running', ?, ?, ?, ?)";
    sqlite3_stmt *st = mn_store_prep(js->store, sql);
    char *text = mn_json_print(spec->json);
    int rc = MN_EDB;
    if (!st || !text)
        goto out;
    double now = mn_now();
    sqlite3_bind_text(st, 1, spec->name, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, text, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, mn_catalog_scoring_version(), -1, SQLITE_STATIC);
    sqlite3_bind_double(st, 4, now);
    sqlite3_bind_double(st, 5, now);
    if ((rc = mn_store_step_done(js->store, st)))
        goto out;
    *id = sqlite3_last_insert_rowid(mn_store_db(js->store));
    js->running_valid = 0;
    struct mn_job *j = load(js, *id, &rc, err); /* a new id: never cached */
    if (j)
        rc = mn_job_save(j);
out:
    if (rc && (!err || !err->code))
        mn_error_set(err, rc, NULL, "could not create the job: %s", mn_strerror(rc));
    free(text);
    mn_jobspec_free(spec);
    return rc;
}

int mn_jobs_running(struct mn_jobs *js, int64_t *ids, int max)
{
    static const char sql[] = "SELECT id FROM jobs WHERE status='running' ORDER BY id LIMIT ?";
    if (!js->running_valid || js->n_running == RUNNING_CACHE) {
        sqlite3_stmt *st = mn_store_prep(js->store, sql);
        int n = 0;
        if (!st)
            return 0;
        sqlite3_bind_int(st, 1, max > RUNNING_CACHE ? max : RUNNING_CACHE);
        while (sqlite3_step(st) == SQLITE_ROW) {
            int64_t id = sqlite3_column_int64(st, 0);
            if (n < max)
                ids[n] = id;
            if (n < RUNNING_CACHE)
                js->running[n] = id;
            n++;
        }
        sqlite3_reset(st);
        js->n_running = n < RUNNING_CACHE ? n : RUNNING_CACHE;
        js->running_valid = 1;
        return n < max ? n : max;
    }
    int n = js->n_running < max ? js->n_running : max;
    memcpy(ids, js->running, (size_t)n * sizeof *ids);
    return n;
}

void mn_job_counts(struct mn_job *j, struct mn_job_counts *c)
{
    static const char leased_sql[] =
        "SELECT count(*) FROM leases l JOIN json_each(l.items) i JOIN candidates c ON "
        "c.id=i.value WHERE l.job_id=? AND l.status='active' AND c.status='queued'";
    int64_t open = j->n_proposed - j->n_rejected - j->n_done;
    c->scored = j->n_scored;
    c->dead = j->n_done - j->n_scored;
    c->rejected = j->n_rejected;
    c->leased = 0;
    if (j->queue) {
        c->leased = mn_queue_leased(j->queue);
    } else {
        sqlite3_stmt *st = mn_store_prep(j->store, leased_sql);
        if (st) {
            sqlite3_bind_int64(st, 1, j->id);
            if (sqlite3_step(st) == SQLITE_ROW)
                c->leased = sqlite3_column_int64(st, 0);
            sqlite3_reset(st);
        }
    }
    c->queued = j->queue ? mn_queue_queued(j->queue) : open - c->leased;
}

int64_t mn_job_pending(const struct mn_job *j)
{
    if (!j->queue)
        return 0;
    int64_t budget = j->n_proposed - j->n_rejected, left = j->spec->max_candidates - budget;
    return mn_queue_queued(j->queue) + mn_queue_leased(j->queue) +
           (j->strat_done || left < 0 ? 0 : left);
}

void mn_job_note_scored(struct mn_job *j, double now, int64_t n)
{
    int64_t sec = (int64_t)now;
    int k = (int)(sec % 60);
    if (j->rate_at[k] != sec) {
        j->rate_at[k] = sec;
        j->rate_n[k] = 0;
    }
    j->rate_n[k] += n;
}

double mn_job_scored_rate(const struct mn_job *j, double now, double window)
{
    int64_t sec = (int64_t)now, sum = 0;
    for (int k = 0; k < 60; k++)
        if (j->rate_at[k] > sec - window && j->rate_at[k] <= sec)
            sum += j->rate_n[k];
    return window > 0 ? (double)sum / window : 0.0;
}

static cJSON *scale_json(const struct mn_job *j)
{
    cJSON *a = cJSON_CreateArray();
    for (int k = 0; a && k < j->spec->n_obj; k++) {
        const struct mn_objective *o = &j->spec->obj[k];
        if (!o->scaled) {
            cJSON_AddItemToArray(a, cJSON_CreateNull());
            continue;
        }
        double p[2] = {o->u_ideal, o->u_ref};
        cJSON_AddItemToArray(a, cJSON_CreateDoubleArray(p, 2));
    }
    return a;
}

int mn_job_save(struct mn_job *j)
{
    static const char sql[] =
        "UPDATE jobs SET updated_at=?1, n_proposed=?2, n_rejected=?3, n_scored=?4, n_done=?5, "
        "generation=?6, stale=?7, hypervolume=?8, scale=?9, "
        "strategy_state=coalesce(?10, strategy_state) WHERE id=?11";
    sqlite3_stmt *st = mn_store_prep(j->store, sql);
    if (!st)
        return MN_EDB;
    if (!j->scale_text) {
        cJSON *scale = scale_json(j);
        j->scale_text = scale ? mn_json_print(scale) : NULL;
        cJSON_Delete(scale);
    }
    cJSON *state = j->strat_started ? j->spec->strategy->save(j->strat) : NULL;
    char *state_s = state ? mn_json_print(state) : NULL;
    sqlite3_bind_double(st, 1, mn_now());
    sqlite3_bind_int64(st, 2, j->n_proposed);
    sqlite3_bind_int64(st, 3, j->n_rejected);
    sqlite3_bind_int64(st, 4, j->n_scored);
    sqlite3_bind_int64(st, 5, j->n_done);
    sqlite3_bind_int64(st, 6, j->generation);
    sqlite3_bind_int64(st, 7, j->stale);
    sqlite3_bind_double(st, 8, j->hv);
    sqlite3_bind_text(st, 9, j->scale_text, -1, SQLITE_STATIC);
    if (state_s) /* a stopped strategy keeps its last saved state */
        sqlite3_bind_text(st, 10, state_s, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 11, j->id);
    int rc = (!j->scale_text || (j->strat_started && !state_s))
                 ? MN_ENOMEM
                 : mn_store_step_done(j->store, st);
    free(state_s);
    cJSON_Delete(state);
    return rc;
}

/* Writes the job's status, reason and end time, which only mn_job_finish changes (kept
 * out of mn_job_save, which runs on every results post: rewriting the status also
 * rewrites its entry in the jobs_status index). */
static int save_status(struct mn_job *j)
{
    static const char sql[] =
        "UPDATE jobs SET status=?, reason=?, finished_at=?, updated_at=? WHERE id=?";
    sqlite3_stmt *st = mn_store_prep(j->store, sql);
    if (!st)
        return MN_EDB;
    sqlite3_bind_text(st, 1, j->status, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, j->reason, -1, SQLITE_STATIC);
    sqlite3_bind_double(st, 3, j->finished_at);
    sqlite3_bind_double(st, 4, j->finished_at);
    sqlite3_bind_int64(st, 5, j->id);
    return mn_store_step_done(j->store, st);
}

int mn_job_finish(struct mn_job *j, const char *status, const char *reason)
{
    if (strcmp(j->status, "running") != 0)
        return MN_ESTATE;
    int rc = mn_job_save(j); /* the strategy's final state, while it still runs */
    if (rc)
        return rc;
    snprintf(j->status, sizeof j->status, "%s", status);
    snprintf(j->reason, sizeof j->reason, "%s", reason);
    j->finished_at = mn_now();
    j->jobs->running_valid = 0;
    if (j->strat_started && j->spec->strategy->stop)
        j->spec->strategy->stop(j->strat);
    j->strat_started = 0;
    j->strat = NULL;
    mn_keyset_free(j->keys);
    j->keys = NULL;
    mn_queue_free(j->queue);
    j->queue = NULL;
    mn_log_info("msg=\"job ended\" job=%lld status=%s reason=\"%s\" scored=%lld",
                (long long)j->id, status, reason, (long long)j->n_scored);
    return save_status(j);
}

int mn_job_refill(struct mn_job *j, int want)
{
    if (!j->strat_started || j->strat_done)
        return 0;
    int64_t left = j->spec->max_candidates - (j->n_proposed - j->n_rejected);
    if (left <= 0) {
        j->strat_done = 1;
        return 0;
    }
    if (want > left)
        want = (int)left;
    int done = 0;
    int n = j->spec->strategy->propose(j, j->strat, want, &done);
    if (done)
        j->strat_done = 1;
    if (n < 0)
        return n;
    int rc = mn_job_save(j);
    return rc ? rc : n;
}

int mn_job_check_end(struct mn_job *j, double now)
{
    if (strcmp(j->status, "running") != 0)
        return 0;
    char why[160];
    if (now - j->created_at > j->spec->max_seconds) {
        snprintf(why, sizeof why, "time budget of %g s used", j->spec->max_seconds);
        return mn_job_finish(j, "exhausted", why) ?: 1;
    }
    if (j->stale >= j->spec->patience) {
        snprintf(why, sizeof why, "hypervolume gain below %g for %d generations",
                 j->spec->epsilon, j->spec->patience);
        return mn_job_finish(j, "converged", why) ?: 1;
    }
    if (j->queue && (mn_queue_leased(j->queue) > 0 || mn_queue_queued(j->queue) > 0))
        return 0;
    int rc = mn_job_refill(j, j->spec->batch_size);
    if (rc < 0) {
        snprintf(why, sizeof why, "strategy failed: %s", mn_strerror(rc));
        return mn_job_finish(j, "failed", why) ?: 1;
    }
    if (rc > 0 || (j->queue && mn_queue_queued(j->queue) > 0))
        return 0;
    const struct mn_strategy *sg = j->spec->strategy;
    const char *own = j->strat_started && sg->end_reason ? sg->end_reason(j->strat) : NULL;
    if (j->n_proposed - j->n_rejected >= j->spec->max_candidates)
        snprintf(why, sizeof why, "candidate budget of %lld used",
                 (long long)j->spec->max_candidates);
    else
        snprintf(why, sizeof why, "%s", own ? own : "strategy has nothing left to propose");
    return mn_job_finish(j, "exhausted", why) ?: 1;
}

int mn_job_calibrate(struct mn_job *j, const double *const *u, int n)
{
    int all = 1;
    for (int k = 0; k < j->spec->n_obj; k++) {
        struct mn_objective *o = &j->spec->obj[k];
        if (o->scaled)
            continue;
        double lo = INFINITY, hi = -INFINITY;
        for (int i = 0; i < n; i++)
            if (u[i]) {
                lo = fmin(lo, u[i][k]);
                hi = fmax(hi, u[i][k]);
            }
        if (!isfinite(lo)) {
            all = 0;
            continue;
        }
        double span = hi - lo;
        if (!(span > 0))
            span = fmax(fabs(lo), 1e-12);
        o->u_ideal = lo;
        o->u_ref = hi + 0.1 * span;
        o->scaled = 1;
        free(j->scale_text);
        j->scale_text = NULL;
    }
    j->scaled = all;
    return MN_OK;
}

static int set_on_front(struct mn_job *j, int64_t id, int on)
{
    static const char sql[] = "UPDATE candidates SET on_front=? WHERE id=?";
    sqlite3_stmt *st = mn_store_prep(j->store, sql);
    if (!st)
        return MN_EDB;
    sqlite3_bind_int(st, 1, on);
    sqlite3_bind_int64(st, 2, id);
    return mn_store_step_done(j->store, st);
}

/* The hypervolume of the front in the clamped reference box (objective.h), called only
 * when a results batch changed the front. */
static int recompute_hv(struct mn_job *j)
{
    int d = j->spec->n_obj, n = j->front->n;
    double ones[MN_MAX_OBJECTIVES];
    double *m = malloc((size_t)(n ? n : 1) * (size_t)d * sizeof *m);
    if (!m)
        return MN_ENOMEM;
    for (int k = 0; k < d; k++)
        ones[k] = 1.0;
    for (int i = 0; i < n; i++)
        for (int k = 0; k < d; k++)
            m[(size_t)i * d + k] =
                mn_objective_m_box(&j->spec->obj[k], j->front->pts[(size_t)i * d + k]);
    double hv = mn_hypervolume(m, n, d, ones);
    free(m);
    if (hv < 0)
        return (int)hv;
    j->hv = hv;
    return MN_OK;
}

static int record_generation(struct mn_job *j, double now)
{
    static const char sql[] = "INSERT OR REPLACE INTO history (job_id, generation, scored, "
                              "hypervolume, at) VALUES (?, ?, ?, ?, ?)";
    sqlite3_stmt *st = mn_store_prep(j->store, sql);
    if (!st)
        return MN_EDB;
    sqlite3_bind_int64(st, 1, j->id);
    sqlite3_bind_int64(st, 2, j->generation);
    sqlite3_bind_int64(st, 3, j->n_scored);
    sqlite3_bind_double(st, 4, j->hv);
    sqlite3_bind_double(st, 5, now);
    return mn_store_step_done(j->store, st);
}

int mn_job_after_results(struct mn_job *j, const struct mn_scored *batch, int n, double now)
{
    int rc = MN_OK, changed = 0;
    if (!j->scaled) {
        const double *rows[256];
        for (int i = 0; i < n; i += 256) {
            int m = n - i < 256 ? n - i : 256;
            for (int r = 0; r < m; r++)
                rows[r] = batch[i + r].ok && batch[i + r].feasible ? batch[i + r].u : NULL;
            mn_job_calibrate(j, rows, m);
        }
    }
    for (int i = 0; i < n; i++) {
        const struct mn_scored *s = &batch[i];
        if (!s->ok || !s->feasible || !s->u)
            continue;
        int in = mn_front_insert(j->front, s->id, s->u);
        if (in < 0)
            return in;
        if (in == 0)
            continue;
        changed = 1;
        for (int r = 0; r < j->front->n_removed && !rc; r++)
            rc = set_on_front(j, j->front->removed[r], 0);
        if (rc || (rc = set_on_front(j, s->id, 1)))
            return rc;
    }
    if (changed && j->scaled && (rc = recompute_hv(j)))
        return rc;
    if (j->strat_started && j->spec->strategy->on_results &&
        (rc = j->spec->strategy->on_results(j, j->strat, batch, n)) < 0)
        return rc;
    int64_t gen = j->strat_started && j->spec->strategy->generation
                      ? j->spec->strategy->generation(j, j->strat)
                      : j->n_done / j->spec->batch_size;
    if (gen > j->generation) {
        double gain = j->hv - j->hv_gen;
        j->stale = (j->scaled && gain < j->spec->epsilon) ? j->stale + 1 : 0;
        j->generation = gen;
        j->hv_gen = j->hv;
        if ((rc = record_generation(j, now)))
            return rc;
    }
    return mn_job_save(j);
}

/* ---- strategy API ---- */

/* 1 when s has a byte below 0x20 (escaped differently by json_quote). */
static int has_control(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s < 0x20)
            return 1;
    return 0;
}

static int insert_candidate(struct mn_job *j, const struct mn_arch *a, const char *status,
                            const char *error, const cJSON *origin)
{
    static const char sql[] = "INSERT INTO candidates (job_id, key, arch, status, error, "
                              "origin, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)";
    if (!j->keys || !j->queue)
        return MN_ESTATE; /* the job is not running */
    char *key = mn_space_arch_key(j->spec->space, a), *orig = NULL;
    struct mn_buf arch = {0}, item = {0};
    cJSON *aj = NULL;
    int rc = MN_ENOMEM;
    if (!key)
        goto out;
    /* Added before the row: a failure rolls the transaction back and the job is
     * evicted, its key set rebuilt from the table. */
    if ((rc = mn_keyset_add(j->keys, key)) <= 0)
        goto out;
    rc = MN_ENOMEM;
    sqlite3_stmt *st = mn_store_prep(j->store, sql);
    if (j->arch_is_key > 0) {
        mn_buf_json_str(&arch, key);
    } else if ((aj = mn_space_arch_to_json(j->spec->space, a))) {
        mn_buf_json(&arch, aj);
        j->arch_is_key = cJSON_IsString(aj) && strcmp(aj->valuestring, key) == 0 ? 1 : -1;
    }
    orig = origin ? mn_json_print(origin) : NULL;
    if (!st)
        rc = MN_EDB;
    if (!st || !arch.data || arch.oom || (origin && !orig))
        goto out;
    sqlite3_bind_int64(st, 1, j->id);
    sqlite3_bind_text(st, 2, key, -1, SQLITE_STATIC);
    if (j->arch_is_key > 0 && !has_control(key)) /* stored as '': see MN_JOB_ARCH_SQL */
        sqlite3_bind_text(st, 3, "", 0, SQLITE_STATIC);
    else
        sqlite3_bind_text(st, 3, arch.data, (int)arch.len, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, status, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 5, error, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 6, orig, -1, SQLITE_STATIC);
    sqlite3_bind_double(st, 7, mn_now());
    if ((rc = mn_store_step_done(j->store, st)))
        goto out;
    if (strcmp(status, "queued") == 0) {
        int64_t id = sqlite3_last_insert_rowid(mn_store_db(j->store));
        mn_buf_reserve(&item, arch.len + strlen(key) + 48);
        render_item(&item, id, key, arch.data, arch.len);
        if ((rc = item.oom ? MN_ENOMEM
                           : mn_queue_add(j->queue, id, 0, key, item.data, item.len, 0)))
            goto out;
    }
    j->n_proposed++;
    rc = 1;
out:
    free(key);
    free(orig);
    mn_buf_free(&arch);
    mn_buf_free(&item);
    cJSON_Delete(aj);
    return rc;
}

int mn_job_propose(struct mn_job *j, const struct mn_arch *a, const cJSON *origin)
{
    return insert_candidate(j, a, "queued", NULL, origin);
}

int mn_job_reject(struct mn_job *j, const struct mn_arch *a, const char *reason,
                  const cJSON *origin)
{
    int rc = insert_candidate(j, a, "rejected", reason, origin);
    if (rc == 1)
        j->n_rejected++;
    return rc;
}

int mn_job_each_scored(struct mn_job *j, int (*cb)(void *ctx, const struct mn_scored *s),
                       void *ctx)
{
    static const char sql[] = "SELECT id, key, scores, cost, obj, feasible FROM candidates "
                              "WHERE job_id=? AND status='scored' ORDER BY id";
    sqlite3_stmt *st = mn_store_prep(j->store, sql);
    if (!st)
        return MN_EDB;
    sqlite3_bind_int64(st, 1, j->id);
    int rc = 0, step;
    while (!rc && (step = sqlite3_step(st)) == SQLITE_ROW) {
        cJSON *scores = cJSON_Parse((const char *)sqlite3_column_text(st, 2));
        cJSON *cost = cJSON_Parse((const char *)sqlite3_column_text(st, 3));
        double u[MN_MAX_OBJECTIVES];
        int has_u = sqlite3_column_bytes(st, 4) == (int)(j->spec->n_obj * sizeof(double));
        if (has_u)
            memcpy(u, sqlite3_column_blob(st, 4), j->spec->n_obj * sizeof(double));
        struct mn_scored s = {sqlite3_column_int64(st, 0), (const char *)sqlite3_column_text(st, 1),
                              1, sqlite3_column_int(st, 5), scores, cost, has_u ? u : NULL};
        rc = cb(ctx, &s);
        cJSON_Delete(scores);
        cJSON_Delete(cost);
    }
    sqlite3_reset(st);
    return rc;
}

int mn_job_arch(struct mn_job *j, int64_t cid, struct mn_arch **out)
{
    static const char sql[] =
        "SELECT " MN_JOB_ARCH_SQL("") " FROM candidates WHERE id=? AND job_id=?";
    sqlite3_stmt *st = mn_store_prep(j->store, sql);
    if (!st)
        return MN_EDB;
    sqlite3_bind_int64(st, 1, cid);
    sqlite3_bind_int64(st, 2, j->id);
    int rc = MN_ENOTFOUND;
    if (sqlite3_step(st) == SQLITE_ROW) {
        cJSON *aj = cJSON_Parse((const char *)sqlite3_column_text(st, 0));
        rc = aj ? mn_space_arch_from_json(j->spec->space, aj, out, NULL) : MN_EPARSE;
        cJSON_Delete(aj);
    }
    sqlite3_reset(st);
    return rc;
}

int mn_job_rows_put(struct mn_job *j, const char *kind, int64_t seq, const cJSON *value)
{
    static const char sql[] = "INSERT OR REPLACE INTO strategy_rows (job_id, kind, seq, value) "
                              "VALUES (?, ?, ?, ?)";
    sqlite3_stmt *st = mn_store_prep(j->store, sql);
    char *text = mn_json_print(value);
    int rc = !st ? MN_EDB : !text ? MN_ENOMEM : MN_OK;
    if (!rc) {
        sqlite3_bind_int64(st, 1, j->id);
        sqlite3_bind_text(st, 2, kind, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 3, seq);
        sqlite3_bind_text(st, 4, text, -1, SQLITE_STATIC);
        rc = mn_store_step_done(j->store, st);
    }
    free(text);
    return rc;
}

int mn_job_rows_each(struct mn_job *j, const char *kind,
                     int (*cb)(void *ctx, int64_t seq, const cJSON *value), void *ctx)
{
    static const char sql[] = "SELECT seq, value FROM strategy_rows WHERE job_id=? AND kind=? "
                              "ORDER BY seq";
    sqlite3_stmt *st = mn_store_prep(j->store, sql);
    if (!st)
        return MN_EDB;
    sqlite3_bind_int64(st, 1, j->id);
    sqlite3_bind_text(st, 2, kind, -1, SQLITE_STATIC);
    int rc = 0;
    while (!rc && sqlite3_step(st) == SQLITE_ROW) {
        cJSON *v = cJSON_Parse((const char *)sqlite3_column_text(st, 1));
        rc = v ? cb(ctx, sqlite3_column_int64(st, 0), v) : MN_EPARSE;
        cJSON_Delete(v);
    }
    sqlite3_reset(st);
    return rc;
}

int mn_job_rows_del(struct mn_job *j, const char *kind, int64_t seq)
{
    static const char sql[] = "DELETE FROM strategy_rows WHERE job_id=? AND kind=? AND "
                              "(?3 < 0 OR seq=?3)";
    sqlite3_stmt *st = mn_store_prep(j->store, sql);
    if (!st)
        return MN_EDB;
    sqlite3_bind_int64(st, 1, j->id);
    sqlite3_bind_text(st, 2, kind, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, seq);
    return mn_store_step_done(j->store, st);
}
