/* http_client.h — the worker's HTTP client: asynchronous JSON requests to the
 * coordinator on a libuv loop, with libcurl's multi interface driven by the loop
 * (uv_poll on curl's sockets, a uv_timer for its timeouts). Connections are kept alive
 * and reused; https works when the coordinator URL says so (with an optional CA file);
 * every request carries the bearer token when one is set, and has a connect timeout and
 * a total timeout. Callbacks run on the loop thread. */
#ifndef MN_HTTP_CLIENT_H
#define MN_HTTP_CLIENT_H
#include <stddef.h>
#include <uv.h>
#include "error.h"

struct mn_http_client;

struct mn_http_opts {
    const char *base_url;    /* "http://host:port" or "https://…"; a trailing '/' is ignored */
    const char *token;       /* bearer token, or NULL/"" for none */
    const char *ca_file;     /* CA bundle for https, or NULL/"" for the system's */
    long connect_timeout_ms; /* > 0 */
    long timeout_ms;         /* whole request, > 0 */
};

struct mn_http_response {
    long status;          /* HTTP status; 0 when the request failed in transport */
    const char *body;     /* NUL-terminated ("" when empty); valid only during the callback */
    size_t body_len;
    const char *error;    /* transport error text when status == 0, else "" */
    double retry_after_s; /* a Retry-After header's seconds, or -1 */
    double seconds;       /* time the request took */
};

typedef void (*mn_http_cb)(const struct mn_http_response *r, void *ud);

/* A client for loop. Returns NULL with err set on a bad base URL or out of memory.
 * The options' strings are copied. curl_global_init must have run (once per process). */
struct mn_http_client *mn_http_client_new(uv_loop_t *loop, const struct mn_http_opts *o,
                                          struct mn_error *err);
/* Starts method on base_url + path with body (JSON text, copied; NULL for none). cb is
 * called exactly once on the loop thread when it completes, unless the client is freed
 * first (then never); cb may free the client. Returns 0, or MN_ENOMEM. */
int mn_http_request(struct mn_http_client *c, const char *method, const char *path,
                    const char *body, mn_http_cb cb, void *ud);
/* Requests started and not yet completed. */
int mn_http_pending(const struct mn_http_client *c);
/* Aborts pending requests (their callbacks are not called) and closes the client's
 * handles; the memory is released once the loop has run their close callbacks. NULL ok. */
void mn_http_client_free(struct mn_http_client *c);

#endif
