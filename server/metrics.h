/* metrics.h — counters and the request-latency histogram behind GET /metrics
 * (Prometheus text format). Counters are lock-free atomics updated from any thread;
 * gauges (jobs and candidates by state, queue depth) are read from the database when
 * rendered. */
#ifndef MN_METRICS_H
#define MN_METRICS_H
#include <stdint.h>

struct mn_server;
struct mn_buf;

enum mn_counter {
    MN_M_LEASES_GRANTED,
    MN_M_LEASES_EXPIRED,
    MN_M_LEASES_RELEASED,
    MN_M_CANDIDATES_LEASED,
    MN_M_RESULTS,          /* results accepted (scores stored) */
    MN_M_RESULTS_FAILED,   /* ok:false results */
    MN_M_RESULTS_DUPLICATE,
    MN_M_JOBS_CREATED,
    MN_M_WRITES,           /* write requests (transaction savepoints) */
    MN_M_COMMITS,          /* database commits (group commit: ≤ writes) */
    MN_M_COUNT
};

#define MN_METRICS_ROUTES 32

struct mn_metrics;

struct mn_metrics *mn_metrics_new(void);
void mn_metrics_free(struct mn_metrics *m);
void mn_metrics_add(struct mn_metrics *m, enum mn_counter c, int64_t n);
int64_t mn_metrics_get(const struct mn_metrics *m, enum mn_counter c);
/* Records one request: route index (< MN_METRICS_ROUTES, or -1 for unmatched), status
 * and duration. */
void mn_metrics_request(struct mn_metrics *m, int route, int status, double seconds);
/* Appends the whole exposition to out; route names come from the caller's table.
 * Takes the server lock for the database gauges. */
int mn_metrics_render(struct mn_server *srv, const char *const *route_names, int n_routes,
                      struct mn_buf *out);

#endif
