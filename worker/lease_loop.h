/* lease_loop.h — the worker's service loop on a libuv loop: lease a batch from the
 * coordinator, score each candidate as one thread-pool task, heartbeat the leases while
 * they run, post each batch's results as it completes (retrying: posting is idempotent).
 * The next batch is leased as soon as every task in hand has been given to the pool, so
 * up to two batches are held and the threads do not idle during the results post and
 * the lease round trip. Backs off exponentially with jitter on no work (204), 429, 5xx
 * and connection errors, and never gives up while the coordinator is away. Stops leasing
 * on request, finishing or releasing the batches in hand. The pool's size is the
 * caller's business (UV_THREADPOOL_SIZE, set before the loop first uses it); the loop
 * is told it so that it hands the pool no more tasks than it has threads. */
#ifndef MN_LEASE_LOOP_H
#define MN_LEASE_LOOP_H
#include <uv.h>
#include "error.h"

/* Exit statuses of `monas-worker run` (besides 0, stopped by a signal). */
enum {
    MN_WORKER_EXIT_FATAL = 1,   /* a local failure (out of memory, bad options) */
    MN_WORKER_EXIT_VERSION = 3, /* the coordinator refused our scoring_version (409) */
    MN_WORKER_EXIT_AUTH = 4,    /* the coordinator refused our token (401/403) */
};

struct mn_worker_cfg {
    const char *coordinator;     /* base URL */
    const char *token;           /* bearer token or NULL */
    const char *ca_file;         /* for https, or NULL */
    const char *worker_id;
    int batch;                   /* capacity asked for in each lease */
    int threads;                 /* the thread pool's size (>= 1) */
    long connect_timeout_ms, request_timeout_ms;
    double backoff_base_ms, backoff_max_ms;
    double drain_seconds;        /* after a stop request: how long the batches may take */
    const char *scoring_version; /* what we report (tests override the build's) */
    int score_delay_ms;          /* tests: extra time spent in each scoring task */
    unsigned long long seed;     /* jitter sequence */
    void (*on_finished)(void *ud, int status); /* the loop's handles are closed */
    void *ud;
};

struct mn_lease_loop;

/* A loop on `loop` (cfg's strings must outlive it). NULL with err on failure. */
struct mn_lease_loop *mn_lease_loop_new(uv_loop_t *loop, const struct mn_worker_cfg *cfg,
                                        struct mn_error *err);
/* Sends the first lease request. */
void mn_lease_loop_start(struct mn_lease_loop *lp);
/* Stop request (a signal). The first: lease no more, finish the batches in hand and post
 * them (within drain_seconds, else as for a second request). A second: post what is
 * scored, release the rest of every lease in hand, stop. on_finished runs when done. */
void mn_lease_loop_stop(struct mn_lease_loop *lp);
/* Frees lp once uv_run has returned (every handle closed, every task finished). */
void mn_lease_loop_free(struct mn_lease_loop *lp);

#endif
