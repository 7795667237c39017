/* metrics.c — counters, request histogram and Prometheus text rendering (see
 * metrics.h). */
#include "metrics.h"
#include <stdatomic.h>
#include <stdlib.h>
#include "buf.h"
#include "job.h"
#include "server.h"
#include "store.h"

static const double bounds[] = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                0.1,    0.25,  0.5,    1,     2.5,  5,    10};
#define N_BOUNDS (int)(sizeof bounds / sizeof bounds[0])
#define N_CLASSES 5 /* status 1xx..5xx */

static const struct {
    const char *name, *help;
} counters[MN_M_COUNT] = {
    [MN_M_LEASES_GRANTED] = {"monas_leases_granted_total", "Leases granted to workers."},
    [MN_M_LEASES_EXPIRED] = {"monas_leases_expired_total", "Leases expired by the reaper."},
    [MN_M_LEASES_RELEASED] = {"monas_leases_released_total", "Leases released by workers."},
    [MN_M_CANDIDATES_LEASED] = {"monas_candidates_leased_total", "Candidates handed out."},
    [MN_M_RESULTS] = {"monas_results_ingested_total", "Candidate results stored."},
    [MN_M_RESULTS_FAILED] = {"monas_results_failed_total", "Failed scorings reported."},
    [MN_M_RESULTS_DUPLICATE] = {"monas_results_duplicate_total",
                                "Results for already scored candidates (ignored)."},
    [MN_M_JOBS_CREATED] = {"monas_jobs_created_total", "Jobs submitted."},
    [MN_M_WRITES] = {"monas_db_writes_total", "Write requests (one savepoint each)."},
    [MN_M_COMMITS] = {"monas_db_commits_total",
                      "Database commits; several writes share one under load."},
};

struct route_stats {
    atomic_llong by_class[N_CLASSES];
    atomic_llong buckets[N_BOUNDS + 1];
    atomic_llong sum_us;
};

struct mn_metrics {
    atomic_llong c[MN_M_COUNT];
    struct route_stats routes[MN_METRICS_ROUTES + 1]; /* last: unmatched */
};

struct mn_metrics *mn_metrics_new(void)
{
    return calloc(1, sizeof(struct mn_metrics));
}

void mn_metrics_free(struct mn_metrics *m)
{
    free(m);
}

void mn_metrics_add(struct mn_metrics *m, enum mn_counter c, int64_t n)
{
    atomic_fetch_add_explicit(&m->c[c], n, memory_order_relaxed);
}

int64_t mn_metrics_get(const struct mn_metrics *m, enum mn_counter c)
{
    return atomic_load_explicit(&((struct mn_metrics *)m)->c[c], memory_order_relaxed);
}

void mn_metrics_request(struct mn_metrics *m, int route, int status, double seconds)
{
    struct route_stats *r = &m->routes[route >= 0 && route < MN_METRICS_ROUTES ? route
                                                                              : MN_METRICS_ROUTES];
    int cls = status / 100 - 1;
    atomic_fetch_add_explicit(&r->by_class[cls < 0 ? 0 : cls >= N_CLASSES ? N_CLASSES - 1 : cls],
                              1, memory_order_relaxed);
    int b = 0;
    while (b < N_BOUNDS && seconds > bounds[b])
        b++;
    atomic_fetch_add_explicit(&r->buckets[b], 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&r->sum_us, (long long)(seconds * 1e6), memory_order_relaxed);
}

/* Gauges from the database: rows of "label value" for one GROUP BY query. */
static int gauge(struct mn_server *srv, struct mn_buf *out, const char *sql, const char *name,
                 const char *label, const char *help)
{
    sqlite3_stmt *st = mn_store_prep(srv->store, sql);
    if (!st)
        return -1;
    mn_buf_printf(out, "# HELP %s %s\n# TYPE %s gauge\n", name, help, name);
    while (sqlite3_step(st) == SQLITE_ROW) {
        if (label)
            mn_buf_printf(out, "%s{%s=\"%s\"} %lld\n", name, label, sqlite3_column_text(st, 0),
                          (long long)sqlite3_column_int64(st, 1));
        else
            mn_buf_printf(out, "%s %lld\n", name, (long long)sqlite3_column_int64(st, 0));
    }
    sqlite3_reset(st);
    return 0;
}

/* Candidates by status over all jobs, from the jobs' counters and the active leases
 * (nothing here scans the candidates table). */
static int candidate_gauge(struct mn_server *srv, struct mn_buf *out)
{
    static const char sql[] =
        "WITH leased(n) AS (SELECT count(*) FROM leases l JOIN json_each(l.items) i JOIN "
        "candidates c ON c.id=i.value WHERE l.status='active' AND c.status='queued') "
        "SELECT coalesce(sum(n_proposed - n_rejected - n_done), 0) - (SELECT n FROM leased), "
        "(SELECT n FROM leased), coalesce(sum(n_scored), 0), coalesce(sum(n_done - n_scored), "
        "0), coalesce(sum(n_rejected), 0) FROM jobs";
    static const char *const states[] = {"queued", "leased", "scored", "dead", "rejected"};
    sqlite3_stmt *st = mn_store_prep(srv->store, sql);
    if (!st)
        return -1;
    mn_buf_str(out, "# HELP monas_candidates Candidates by status (all jobs).\n"
                    "# TYPE monas_candidates gauge\n");
    int row = sqlite3_step(st) == SQLITE_ROW;
    for (int i = 0; row && i < 5; i++)
        mn_buf_printf(out, "monas_candidates{status=\"%s\"} %lld\n", states[i],
                      (long long)sqlite3_column_int64(st, i));
    sqlite3_reset(st);
    return row ? 0 : -1;
}

/* Queue depth and pending candidates of the running jobs (mn_job_pending), each job's
 * and their sum, from the jobs in memory. */
static int pending_gauges(struct mn_server *srv, struct mn_buf *out)
{
    enum { MAX_JOBS = 4096 };
    int64_t *ids = malloc(MAX_JOBS * sizeof *ids), queued = 0, pending = 0;
    if (!ids)
        return -1;
    int n = mn_jobs_running(srv->jobs, ids, MAX_JOBS), rc = 0;
    mn_buf_str(out, "# HELP monas_job_pending_candidates Pending candidates of a running job: "
                    "its candidate budget not yet scored or dead = queued + leased + not yet "
                    "proposed (0 once its strategy proposes no more).\n"
                    "# TYPE monas_job_pending_candidates gauge\n");
    for (int i = 0; i < n && !rc; i++) {
        struct mn_job *j = mn_jobs_get(srv->jobs, ids[i], &rc);
        if (!j)
            break;
        int64_t p = mn_job_pending(j);
        mn_buf_printf(out, "monas_job_pending_candidates{job=\"%lld\"} %lld\n",
                      (long long)j->id, (long long)p);
        pending += p;
        queued += j->queue ? mn_queue_queued(j->queue) : 0;
    }
    free(ids);
    mn_buf_printf(out, "# HELP monas_pending_candidates Pending candidates of all running "
                       "jobs (sum of monas_job_pending_candidates): the work left for workers "
                       "(scale workers on this).\n# TYPE monas_pending_candidates gauge\n"
                       "monas_pending_candidates %lld\n"
                       "# HELP monas_queue_depth Queued candidates of running jobs, ready "
                       "to lease now (strategies propose about a batch ahead).\n"
                       "# TYPE monas_queue_depth gauge\nmonas_queue_depth %lld\n",
                  (long long)pending, (long long)queued);
    return rc ? -1 : 0;
}

int mn_metrics_render(struct mn_server *srv, const char *const *route_names, int n_routes,
                      struct mn_buf *out)
{
    static const char jobs_sql[] = "SELECT status, count(*) FROM jobs GROUP BY status";
    static const char lease_sql[] = "SELECT count(*) FROM leases WHERE status='active'";
    static const char workers_sql[] = "SELECT count(*) FROM workers WHERE last_seen > "
                                      "strftime('%s','now') - 300";
    struct mn_metrics *m = srv->metrics;
    pthread_mutex_lock(&srv->lock);
    int rc = gauge(srv, out, jobs_sql, "monas_jobs", "status", "Jobs by status.") ||
             candidate_gauge(srv, out) || pending_gauges(srv, out) ||
             gauge(srv, out, lease_sql, "monas_leases_active", NULL, "Active leases.") ||
             gauge(srv, out, workers_sql, "monas_workers_recent", NULL,
                   "Workers seen in the last 5 minutes.");
    pthread_mutex_unlock(&srv->lock);
    for (int c = 0; c < MN_M_COUNT; c++)
        mn_buf_printf(out, "# HELP %s %s\n# TYPE %s counter\n%s %lld\n", counters[c].name,
                      counters[c].help, counters[c].name, counters[c].name,
                      (long long)mn_metrics_get(m, c));
    mn_buf_str(out, "# HELP monas_http_requests_total HTTP requests by route and status "
                    "class.\n# TYPE monas_http_requests_total counter\n");
    for (int r = 0; r <= n_routes && r <= MN_METRICS_ROUTES; r++) {
        const char *name = r < n_routes ? route_names[r] : "unmatched";
        for (int k = 0; k < N_CLASSES; k++) {
            long long v = atomic_load(&m->routes[r < n_routes ? r : MN_METRICS_ROUTES].by_class[k]);
            if (v)
                mn_buf_printf(out, "monas_http_requests_total{route=\"%s\",code=\"%dxx\"} %lld\n",
                              name, k + 1, v);
        }
    }
    mn_buf_str(out, "# HELP monas_http_request_duration_seconds Request latency.\n"
                    "# TYPE monas_http_request_duration_seconds histogram\n");
    for (int r = 0; r <= n_routes && r <= MN_METRICS_ROUTES; r++) {
        const struct route_stats *s = &m->routes[r < n_routes ? r : MN_METRICS_ROUTES];
        const char *name = r < n_routes ? route_names[r] : "unmatched";
        long long cum = 0;
        for (int b = 0; b <= N_BOUNDS; b++) {
            cum += atomic_load(&((struct route_stats *)s)->buckets[b]);
            if (b < N_BOUNDS)
                mn_buf_printf(out, "monas_http_request_duration_seconds_bucket{route=\"%s\","
                              "le=\"%g\"} %lld\n", name, bounds[b], cum);
        }
        mn_buf_printf(out, "monas_http_request_duration_seconds_bucket{route=\"%s\",le=\"+Inf\"} "
                      "%lld\nmonas_http_request_duration_seconds_sum{route=\"%s\"} %.6f\n"
                      "monas_http_request_duration_seconds_count{route=\"%s\"} %lld\n",
                      name, cum, name, (double)atomic_load(&((struct route_stats *)s)->sum_us) / 1e6,
                      name, cum);
    }
    return rc ? MN_EDB : (out->oom ? MN_ENOMEM : MN_OK);
}
