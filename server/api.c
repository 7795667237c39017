/* api.c — the route table of REST API v1 and helpers shared by the handlers (see
 * api.h). Scopes: admin changes jobs, worker takes and returns leases, read sees
 * everything else; /healthz and /v1/openapi.json are public. */
#include "api.h"
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "auth.h"
#include "json.h"
#include "static.h"

#define ROUTES(X)                                                                          \
    X("POST", "/v1/jobs", MN_SCOPE_ADMIN, mn_api_jobs_create)                              \
    X("GET", "/v1/jobs", MN_SCOPE_READ, mn_api_jobs_list)                                  \
    X("GET", "/v1/jobs/{id}", MN_SCOPE_READ, mn_api_job_get)                               \
    X("POST", "/v1/jobs/{id}/cancel", MN_SCOPE_ADMIN, mn_api_job_cancel)                   \
    X("GET", "/v1/jobs/{id}/front", MN_SCOPE_READ, mn_api_job_front)                       \
    X("GET", "/v1/jobs/{id}/candidates", MN_SCOPE_READ, mn_api_job_candidates)             \
    X("GET", "/v1/jobs/{id}/candidates/{cid}", MN_SCOPE_READ, mn_api_job_candidate)        \
    X("POST", "/v1/leases", MN_SCOPE_WORKER, mn_api_lease_claim)                           \
    X("POST", "/v1/leases/{id}/heartbeat", MN_SCOPE_WORKER, mn_api_lease_heartbeat)        \
    X("POST", "/v1/leases/{id}/results", MN_SCOPE_WORKER, mn_api_lease_results)            \
    X("POST", "/v1/leases/{id}/release", MN_SCOPE_WORKER, mn_api_lease_release)            \
    X("GET", "/v1/workers", MN_SCOPE_READ, mn_api_workers)                                 \
    X("GET", "/v1/mcus", MN_SCOPE_READ, mn_api_mcus)                                       \
    X("GET", "/v1/spaces", MN_SCOPE_READ, mn_api_spaces)                                   \
    X("GET", "/v1/strategies", MN_SCOPE_READ, mn_api_strategies)                           \
    X("GET", "/v1/proxies", MN_SCOPE_READ, mn_api_proxies)                                 \
    X("GET", "/healthz", MN_SCOPE_NONE, mn_api_healthz)                                    \
    X("GET", "/metrics", MN_SCOPE_READ, mn_api_metrics)                                    \
    X("GET", "/v1/openapi.json", MN_SCOPE_NONE, mn_api_openapi)                            \
    X("GET", "/", MN_SCOPE_NONE, mn_static_index)                                          \
    X("GET", "/assets/{file}", MN_SCOPE_NONE, mn_static_asset)                             \
    X("GET", "/assets/vendor/{file}", MN_SCOPE_NONE, mn_static_vendor)

#define ROUTE(m, p, s, f) {m, p, s, f},
const struct mn_route mn_api_routes[] = {ROUTES(ROUTE)};
#undef ROUTE
#define NAME(m, p, s, f) p,
const char *const mn_api_route_names[] = {ROUTES(NAME)};
#undef NAME
const int mn_api_n_routes = (int)(sizeof mn_api_routes / sizeof mn_api_routes[0]);

static int parse_id(const char *s, int64_t *out)
{
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno || end == s || *end || v <= 0 || s[0] == '+')
        return 0;
    *out = v;
    return 1;
}

int mn_api_param_id(struct mn_http_req *rq, struct mn_http_resp *rs, int i, int64_t *out)
{
    if (rq->params[i] && parse_id(rq->params[i], out))
        return 1;
    mn_http_error(rs, MN_ENOTFOUND, NULL, "no such id '%s'", rq->params[i] ? rq->params[i] : "");
    return 0;
}

cJSON *mn_api_body(struct mn_http_req *rq, struct mn_http_resp *rs, int empty_ok)
{
    if (rq->body_len == 0 && empty_ok)
        return cJSON_CreateObject();
    const char *end = NULL;
    cJSON *j = cJSON_ParseWithLengthOpts(rq->body, rq->body_len, &end, 0);
    if (!j) {
        mn_http_error(rs, MN_EPARSE, NULL, "request body is not valid JSON (near byte %ld)",
                      end ? (long)(end - rq->body) : 0L);
        return NULL;
    }
    if (!cJSON_IsObject(j)) {
        cJSON_Delete(j);
        mn_http_error(rs, MN_EINVAL, NULL, "request body must be a JSON object");
        return NULL;
    }
    return j;
}

int mn_api_query_int(struct mn_http_req *rq, struct mn_http_resp *rs, const char *key,
                     int64_t min, int64_t max, int64_t *out)
{
    const char *v = mn_http_query(rq, key);
    if (!v)
        return 0;
    char *end;
    errno = 0;
    long long n = strtoll(v, &end, 10);
    if (errno || end == v || *end || n < min || n > max) {
        mn_http_error(rs, MN_EINVAL, key, "query parameter '%s' must be an integer in [%lld, %lld]",
                      key, (long long)min, (long long)max);
        return 1;
    }
    *out = n;
    return 0;
}

void mn_api_json(struct mn_http_resp *rs, int status, cJSON *j)
{
    char *text = j ? mn_json_print(j) : NULL;
    cJSON_Delete(j);
    mn_http_reply(rs, status, text);
}
