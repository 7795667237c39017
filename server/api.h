/* api.h — the REST API v1: the route table (api.c, the one list of endpoints, which
 * schema/openapi.json documents) and the handlers in api_jobs.c, api_leases.c and
 * api_misc.c, plus helpers they share for ids, bodies and query parameters. */
#ifndef MN_API_H
#define MN_API_H
#include <cjson/cJSON.h>
#include <stdint.h>
#include "http.h"

extern const struct mn_route mn_api_routes[];
extern const int mn_api_n_routes;

/* Route patterns in table order, for metrics labels. */
extern const char *const mn_api_route_names[];

/* Path parameter i as a positive id; on failure sets a 404 and returns 0. */
int mn_api_param_id(struct mn_http_req *rq, struct mn_http_resp *rs, int i, int64_t *out);
/* The request body parsed as a JSON object (caller frees); NULL after setting 400 / 422.
 * An empty body is {} when empty_ok. */
cJSON *mn_api_body(struct mn_http_req *rq, struct mn_http_resp *rs, int empty_ok);
/* Integer query parameter within [min, max], *out untouched when absent; on a bad value
 * sets 422 naming it and returns non-zero. */
int mn_api_query_int(struct mn_http_req *rq, struct mn_http_resp *rs, const char *key,
                     int64_t min, int64_t max, int64_t *out);
/* Replies with j printed (j is freed). */
void mn_api_json(struct mn_http_resp *rs, int status, cJSON *j);

void mn_api_jobs_create(struct mn_http_req *rq, struct mn_http_resp *rs);
void mn_api_jobs_list(struct mn_http_req *rq, struct mn_http_resp *rs);
void mn_api_job_get(struct mn_http_req *rq, struct mn_http_resp *rs);
void mn_api_job_cancel(struct mn_http_req *rq, struct mn_http_resp *rs);
void mn_api_job_front(struct mn_http_req *rq, struct mn_http_resp *rs);
void mn_api_job_candidates(struct mn_http_req *rq, struct mn_http_resp *rs);
void mn_api_job_candidate(struct mn_http_req *rq, struct mn_http_resp *rs);
void mn_api_lease_claim(struct mn_http_req *rq, struct mn_http_resp *rs);
void mn_api_lease_heartbeat(struct mn_http_req *rq, struct mn_http_resp *rs);
void mn_api_lease_results(struct mn_http_req *rq, struct mn_http_resp *rs);
void mn_api_lease_release(struct mn_http_req *rq, struct mn_http_resp *rs);
void mn_api_workers(struct mn_http_req *rq, struct mn_http_resp *rs);
void mn_api_mcus(struct mn_http_req *rq, struct mn_http_resp *rs);
void mn_api_spaces(struct mn_http_req *rq, struct mn_http_resp *rs);
void mn_api_strategies(struct mn_http_req *rq, struct mn_http_resp *rs);
void mn_api_proxies(struct mn_http_req *rq, struct mn_http_resp *rs);
void mn_api_healthz(struct mn_http_req *rq, struct mn_http_resp *rs);
void mn_api_metrics(struct mn_http_req *rq, struct mn_http_resp *rs);
void mn_api_openapi(struct mn_http_req *rq, struct mn_http_resp *rs);

#endif
