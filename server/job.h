/* job.h — a loaded job: its spec, space, strategy state, front and counters, kept in
 * memory as a cache of its database rows (every change is written in the caller's
 * transaction; on a failed transaction the caller evicts the job and it is reloaded).
 * Lifecycle: created `running`; ends `converged` (hypervolume gain below epsilon for
 * `patience` generations), `exhausted` (candidate or time budget, or nothing left to
 * propose), `cancelled` or `failed` (strategy error).
 *
 * All functions are called with the server lock held; those that write must be inside
 * a transaction (mn_store_begin). The mn_job_* functions marked "strategy API" are what
 * strategies use. */
#ifndef MN_JOB_H
#define MN_JOB_H
#include <cjson/cJSON.h>
#include <stdint.h>
#include "error.h"
#include "jobspec.h"
#include "keyset.h"
#include "pareto.h"
#include "queue.h"
#include "space.h"
#include "store.h"
#include "strategy.h"

struct mn_jobs;

/* The SQL expression of a candidate's architecture as JSON text (t: the table's alias with
 * its dot, or ""). The arch column holds '' when that text is the row's key as a JSON
 * string (spaces whose architecture form is their key, e.g. nb201), which saves a second
 * copy of the key in every row; json_quote gives the same text as mn_buf_json_str for
 * keys without control characters, the only ones stored that way. */
#define MN_JOB_ARCH_SQL(t) "coalesce(nullif(" t "arch, ''), json_quote(" t "key))"

struct mn_job {
    int64_t id;
    struct mn_store *store;
    struct mn_jobs *jobs;       /* the registry that loaded it */
    char status[16];
    char reason[160];
    char scoring_version[32];   /* MN_VERSION_LEN */
    double created_at, finished_at;
    struct mn_jobspec *spec;
    int64_t n_proposed, n_rejected, n_scored, n_done;
    int64_t generation, stale;
    double hv, hv_gen;          /* current hypervolume; at the last generation */
    int scaled;                 /* every objective has its normalisation fixed */
    char *scale_text;           /* the normalisation as saved (jobs.scale), rendered when
                                   it changes (NULL: render at the next save) */
    struct mn_front *front;     /* feasible non-dominated candidates, u-space */
    struct mn_keyset *keys;     /* keys proposed, for deduplication (running jobs) */
    struct mn_queue *queue;     /* open candidates: queued and leased (running jobs) */
    int64_t rate_at[60], rate_n[60]; /* candidates scored in second rate_at[s % 60] */
    int arch_is_key;            /* 1: the space's JSON form of an arch is its key string
                                   (nb201), so proposing needs no second rendering;
                                   0: unknown yet; -1: it is not */
    void *strat;                /* strategy state (running jobs) */
    int strat_started, strat_done;
    char *lease_json;           /* the "job" object of lease payloads, rendered once */
    struct mn_job *next;
};

struct mn_jobs *mn_jobs_new(struct mn_store *store);
void mn_jobs_free(struct mn_jobs *js);

/* Validated spec (taken: owned by the job afterwards, also on failure) → a new running
 * job, its strategy started and state saved, inside the caller's transaction. */
int mn_jobs_create(struct mn_jobs *js, struct mn_jobspec *spec, int64_t *id,
                   struct mn_error *err);
/* The job (loaded from the database on first use), or NULL: MN_ENOTFOUND in *rc when
 * no such job, another code when loading failed. The registry owns it. */
struct mn_job *mn_jobs_get(struct mn_jobs *js, int64_t id, int *rc);
/* Forgets the cached job (after a rolled-back transaction). */
void mn_jobs_evict(struct mn_jobs *js, int64_t id);
/* Forgets every cached job. */
void mn_jobs_evict_all(struct mn_jobs *js);
/* Ids of running jobs in id order, at most max; returns the count. */
int mn_jobs_running(struct mn_jobs *js, int64_t *ids, int max);

/* Moves a running job to `status` (converged, exhausted, cancelled, failed). */
int mn_job_finish(struct mn_job *j, const char *status, const char *reason);
/* Ends the job if a budget is used up, it converged, or nothing is left to do; asks the
 * strategy for more when the queue is empty. Returns 1 if it ended, 0, or < 0. */
int mn_job_check_end(struct mn_job *j, double now);
/* Asks the strategy for up to `want` candidates (nothing when it is done). */
int mn_job_refill(struct mn_job *j, int want);
/* Records finished candidates: front, hypervolume, generations and convergence, then
 * the strategy's on_results, and saves job state. */
int mn_job_after_results(struct mn_job *j, const struct mn_scored *batch, int n, double now);
/* Fixes any unscaled objective from the batch's feasible candidates (see objective.h);
 * rows of u values (n×n_obj, NULL rows skipped). */
int mn_job_calibrate(struct mn_job *j, const double *const *u, int n);
/* Writes counters, hypervolume and strategy state to the job's row. */
int mn_job_save(struct mn_job *j);
/* Candidates of the job by status, kept incrementally: from the job's counters and, for
 * a running job, its open queue; for a job that is not running, "leased" counts the
 * unfinished candidates of its still-active leases (no scan of its candidates). */
struct mn_job_counts {
    int64_t queued, leased, scored, dead, rejected;
};
void mn_job_counts(struct mn_job *j, struct mn_job_counts *c);
/* Pending work of a running job, the autoscaling signal: candidates of its budget not
 * finished yet = open (queued + leased) + not yet proposed (max_candidates − proposed,
 * rejected ones not counting), the latter 0 once the strategy said it will propose no
 * more. 0 for a job that is not running. An upper bound: the job may converge first. */
int64_t mn_job_pending(const struct mn_job *j);
/* Records n candidates scored at time now (for mn_job_scored_rate). */
void mn_job_note_scored(struct mn_job *j, double now, int64_t n);
/* Candidates scored per second over the last `window` seconds (≤ 60) before now, as
 * recorded since the job was loaded. */
double mn_job_scored_rate(const struct mn_job *j, double now, double window);

/* ---- strategy API ---- */
/* Adds architecture a as a queued candidate. Returns 1 added, 0 when its canonical key
 * is already in the job, < 0 on error. origin (may be NULL) is stored as the
 * candidate's note (e.g. parents). */
int mn_job_propose(struct mn_job *j, const struct mn_arch *a, const cJSON *origin);
/* Adds a as `rejected` (never leased) with reason, e.g. over a hard budget. Same
 * returns. Rejected candidates are counted apart and use no candidate budget. */
int mn_job_reject(struct mn_job *j, const struct mn_arch *a, const char *reason,
                  const cJSON *origin);
/* Calls cb for every scored candidate in id order until it returns non-zero (which is
 * returned). */
int mn_job_each_scored(struct mn_job *j, int (*cb)(void *ctx, const struct mn_scored *s),
                       void *ctx);
/* Architecture of candidate cid (caller frees with mn_arch_free). */
int mn_job_arch(struct mn_job *j, int64_t cid, struct mn_arch **out);
/* Strategy rows: free-form JSON values by (kind, seq), e.g. a population. put replaces;
 * each visits a kind in seq order; del removes one (seq ≥ 0) or all of a kind (seq < 0). */
int mn_job_rows_put(struct mn_job *j, const char *kind, int64_t seq, const cJSON *value);
int mn_job_rows_each(struct mn_job *j, const char *kind,
                     int (*cb)(void *ctx, int64_t seq, const cJSON *value), void *ctx);
int mn_job_rows_del(struct mn_job *j, const char *kind, int64_t seq);

#endif
