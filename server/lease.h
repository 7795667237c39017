/* lease.h — the worker side of a job: claiming a batch of queued candidates (a lease
 * with an expiry), heartbeats that extend it, releasing it, posting its results, and
 * the reaper's expiry of leases whose worker went away. Each call takes the server lock
 * and runs in one transaction (BEGIN IMMEDIATE), so a claim is atomic and a results
 * post is one write. */
#ifndef MN_LEASE_H
#define MN_LEASE_H
#include <cjson/cJSON.h>
#include <stdint.h>
#include "error.h"

struct mn_server;

struct mn_lease_req {
    const char *worker_id;
    const char *version;
    char scoring_version[32]; /* MN_VERSION_LEN */
    int capacity;          /* most candidates wanted */
};

/* Claims up to capacity queued candidates of a running job (round robin over jobs,
 * asking strategies for more as queues run low). Returns 0 with *body the lease JSON
 * (caller frees; see schema/lease.schema.json), MN_ENOTFOUND when there is no work,
 * MN_ECONFLICT on a scoring_version other than the coordinator's. */
int mn_lease_claim(struct mn_server *srv, const struct mn_lease_req *r, char **body,
                   struct mn_error *err);
/* Extends an active lease by its job's lease_seconds; *expires_at is the new expiry.
 * MN_ENOTFOUND: no such lease; MN_ESTATE: it is no longer active. */
int mn_lease_heartbeat(struct mn_server *srv, int64_t lease_id, double *expires_at,
                       struct mn_error *err);
/* Returns the lease's unfinished candidates to the queue (the attempt is not counted).
 * *released is their number. */
int mn_lease_release(struct mn_server *srv, int64_t lease_id, int *released,
                     struct mn_error *err);

/* One entry of a results post; the cJSON parts point into the parsed request, and
 * their compact JSON text (serialised before the lock is taken) into `text`. */
struct mn_result {
    int64_t candidate_id;
    int ok;
    const cJSON *scores, *cost, *flags; /* ok */
    const char *text;                   /* ok: scores, cost, flags texts at these offsets */
    size_t scores_at, scores_len, cost_at, cost_len, flags_at, flags_len;
    double seconds;
    const char *error;                  /* !ok */
};

struct mn_results_ack {
    int accepted;   /* scores stored */
    int duplicates; /* already scored: acknowledged, ignored */
    int ignored;    /* job no longer running, or candidate rejected */
    int requeued;   /* failures that will be retried */
    int dead;       /* failures that used the last attempt */
    char job_status[16];
};

/* Stores results for lease_id (idempotent: see struct mn_results_ack); also for an
 * expired lease, as long as the candidate is unscored. MN_ENOTFOUND: no lease;
 * MN_ECONFLICT: scoring_version differs from the job's; MN_EINVAL (err->field
 * "results[i].candidate_id"): a candidate not of the lease's job. */
int mn_lease_results(struct mn_server *srv, int64_t lease_id, const char *worker_id,
                     const char *scoring_version, const struct mn_result *res, int n,
                     struct mn_results_ack *ack, struct mn_error *err);

/* Reaper: expires active leases past their expiry (their candidates are requeued, or
 * dead after max_attempts) and ends jobs whose time budget is used. Returns the number
 * of leases expired or a negative code. */
int mn_lease_reap(struct mn_server *srv, double now);

#endif
