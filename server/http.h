/* http.h — monasd's HTTP layer on libmicrohttpd (one thread per connection, so long
 * polls can block): request bodies with a size limit (413), a route table (404 for an
 * unknown path, 405 with Allow for a known path and wrong method), bearer-token scopes
 * (401/403), a request id (X-Request-Id, honoured if the client sent one), one log line
 * per request and its metrics, and a draining stop. */
#ifndef MN_HTTP_H
#define MN_HTTP_H
#include <stddef.h>
#include <stdint.h>
#include "error.h"

struct mn_server;
struct MHD_Connection;

#define MN_HTTP_MAX_PARAMS 4

struct mn_http_req {
    struct mn_server *srv;
    struct MHD_Connection *conn;
    const char *method;
    const char *path;
    const char *body;             /* NUL-terminated; "" when none */
    size_t body_len;
    const char *params[MN_HTTP_MAX_PARAMS]; /* the {…} segments of the route, in order */
    char id[72];                  /* request id */
};

struct mn_http_resp {
    int status;
    char *body;                   /* malloc'd, owned by the layer once set; may be NULL */
    size_t len;
    const char *content_type;     /* default application/json */
    char location[160];           /* Location header when non-empty */
    const char *cache_control;    /* Cache-Control header when set (static text) */
    char etag[40];                /* ETag header when non-empty */
};

typedef void (*mn_http_handler)(struct mn_http_req *rq, struct mn_http_resp *rs);

struct mn_route {
    const char *method;
    const char *pattern;          /* "/v1/jobs/{id}/candidates/{cid}" */
    int scope;                    /* MN_SCOPE_* needed (auth.h) */
    mn_http_handler fn;
};

/* A query parameter (decoded) or NULL. */
const char *mn_http_query(struct mn_http_req *rq, const char *key);
/* A request header or NULL. */
const char *mn_http_header(struct mn_http_req *rq, const char *name);
/* Sets a JSON error response {"error":{"code","message","field"}}, status from code. */
void mn_http_error(struct mn_http_resp *rs, int code, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* The same from a filled struct mn_error. */
void mn_http_error_from(struct mn_http_resp *rs, const struct mn_error *e);
/* Takes text (malloc'd) as the body with status; NULL text → 503 out of memory. */
void mn_http_reply(struct mn_http_resp *rs, int status, char *text);
/* HTTP status that matches an MN_E* code. */
int mn_http_status(int code);

struct mn_http;

/* Binds listen ("host:port", "[v6]:port"; port 0 = any free) and serves routes on their
 * own threads. require_loopback: refuse an address that is not loopback. NULL with err
 * filled on a bad or busy address. */
struct mn_http *mn_http_start(struct mn_server *srv, const char *listen,
                              const struct mn_route *routes, int n_routes, size_t max_body,
                              unsigned max_connections, int require_loopback,
                              struct mn_error *err);
/* The bound port. */
int mn_http_port(const struct mn_http *h);
/* Stops accepting, waits up to drain_seconds for requests in flight, then stops.
 * NULL allowed. */
void mn_http_stop(struct mn_http *h, double drain_seconds);

#endif
