/* http.c — libmicrohttpd wrapper: routing, limits, auth, request ids, logs (see
 * http.h). */
#include "http.h"
#include <arpa/inet.h>
#include <microhttpd.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include "auth.h"
#include "buf.h"
#include "log.h"
#include "metrics.h"
#include "server.h"

struct mn_http {
    struct mn_server *srv;
    struct MHD_Daemon *d;
    int fd, port;
    const struct mn_route *routes;
    int n_routes;
    size_t max_body;
    atomic_int active;            /* requests begun and not completed */
    atomic_ullong next_id;
};

/* Per-request state kept by MHD between calls (*con_cls). */
struct reqstate {
    double t0;
    struct mn_buf body;
    int too_big;
    int route;                    /* index of the matched route, -1 none */
    int status;
    size_t bytes_out;
    char id[72];
};

static double mono(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static const struct {
    int code, status;
} statuses[] = {
    {MN_EINVAL, 422},       {MN_EPARSE, 400},   {MN_ENOTFOUND, 404}, {MN_ESTATE, 409},
    {MN_ECONFLICT, 409},    {MN_ETOOBIG, 413},  {MN_EAUTH, 401},     {MN_EFORBIDDEN, 403},
    {MN_EDB, 503},          {MN_ENOMEM, 503},   {MN_ETIMEOUT, 503},  {MN_EUNSUPPORTED, 422},
    {MN_EIO, 503},          {MN_ENUMERIC, 500},
};

int mn_http_status(int code)
{
    for (size_t i = 0; i < sizeof statuses / sizeof statuses[0]; i++)
        if (statuses[i].code == code)
            return statuses[i].status;
    return 500;
}

void mn_http_reply(struct mn_http_resp *rs, int status, char *text)
{
    free(rs->body);
    rs->body = text;
    rs->len = text ? strlen(text) : 0;
    rs->status = text ? status : 503;
    if (!text) {
        rs->body = strdup("{\"error\":{\"code\":\"no_memory\",\"message\":\"out of memory\","
                          "\"field\":\"\"}}");
        rs->len = rs->body ? strlen(rs->body) : 0;
    }
}

static void error_reply(struct mn_http_resp *rs, int code, const char *field, const char *msg)
{
    struct mn_buf b = {0};
    mn_buf_str(&b, "{\"error\":{\"code\":");
    mn_buf_json_str(&b, mn_error_name(code));
    mn_buf_str(&b, ",\"message\":");
    mn_buf_json_str(&b, msg);
    mn_buf_str(&b, ",\"field\":");
    mn_buf_json_str(&b, field ? field : "");
    mn_buf_str(&b, "}}");
    mn_http_reply(rs, mn_http_status(code), mn_buf_take(&b));
    rs->content_type = "application/json";
}

void mn_http_error(struct mn_http_resp *rs, int code, const char *field, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    error_reply(rs, code, field, msg);
}

void mn_http_error_from(struct mn_http_resp *rs, const struct mn_error *e)
{
    int code = e->code ? e->code : MN_EINVAL;
    error_reply(rs, code, e->field, e->message[0] ? e->message : mn_strerror(code));
}

const char *mn_http_query(struct mn_http_req *rq, const char *key)
{
    return MHD_lookup_connection_value(rq->conn, MHD_GET_ARGUMENT_KIND, key);
}

const char *mn_http_header(struct mn_http_req *rq, const char *name)
{
    return MHD_lookup_connection_value(rq->conn, MHD_HEADER_KIND, name);
}

/* Matches path against pattern; fills params. 1 on a match. */
static int match(const char *pattern, const char *path, const char **params, char *store,
                 size_t store_len)
{
    int np = 0;
    size_t used = 0;
    while (*pattern && *path) {
        if (*pattern != '/' || *path != '/')
            return 0;
        pattern++, path++;
        const char *pe = strchr(pattern, '/'), *se = strchr(path, '/');
        size_t pl = pe ? (size_t)(pe - pattern) : strlen(pattern);
        size_t sl = se ? (size_t)(se - path) : strlen(path);
        if (pl > 1 && pattern[0] == '{') {
            if (sl == 0 || np == MN_HTTP_MAX_PARAMS || used + sl + 1 > store_len)
                return 0;
            memcpy(store + used, path, sl);
            store[used + sl] = 0;
            params[np++] = store + used;
            used += sl + 1;
        } else if (pl != sl || strncmp(pattern, path, pl) != 0) {
            return 0;
        }
        pattern += pl, path += sl;
    }
    return !*pattern && !*path;
}

static enum MHD_Result respond(struct MHD_Connection *c, struct reqstate *st,
                            struct mn_http_resp *rs, const char *allow)
{
    struct MHD_Response *r = MHD_create_response_from_buffer(rs->len, rs->body ? rs->body : "",
                                                             rs->body ? MHD_RESPMEM_MUST_FREE
                                                                      : MHD_RESPMEM_PERSISTENT);
    if (!r) {
        free(rs->body);
        return MHD_NO;
    }
    if (rs->len || (rs->status != 204 && rs->status != 304))
        MHD_add_response_header(r, "Content-Type",
                                rs->content_type ? rs->content_type : "application/json");
    if (rs->cache_control)
        MHD_add_response_header(r, "Cache-Control", rs->cache_control);
    if (rs->etag[0])
        MHD_add_response_header(r, "ETag", rs->etag);
    MHD_add_response_header(r, "X-Request-Id", st->id);
    if (rs->location[0])
        MHD_add_response_header(r, "Location", rs->location);
    if (allow)
        MHD_add_response_header(r, "Allow", allow);
    if (rs->status == 401)
        MHD_add_response_header(r, "WWW-Authenticate", "Bearer realm=\"monas\"");
    st->status = rs->status;
    st->bytes_out = rs->len;
    enum MHD_Result ok = MHD_queue_response(c, (unsigned)rs->status, r);
    MHD_destroy_response(r);
    return ok;
}

static void set_id(struct mn_http *h, struct MHD_Connection *c, struct reqstate *st)
{
    const char *given = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "X-Request-Id");
    size_t n = 0;
    if (given) {
        for (; given[n] && n < 64; n++) {
            char ch = given[n];
            if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
                  (ch >= '0' && ch <= '9') || ch == '-' || ch == '_' || ch == '.'))
                break;
        }
        if (given[n])
            n = 0;
    }
    if (n)
        memcpy(st->id, given, n + 1);
    else
        snprintf(st->id, sizeof st->id, "r%llx", (unsigned long long)atomic_fetch_add(&h->next_id, 1));
}

static enum MHD_Result dispatch(struct mn_http *h, struct MHD_Connection *c, const char *url,
                                const char *method, struct reqstate *st)
{
    struct mn_http_resp rs = {0};
    char store[512];
    const char *params[MN_HTTP_MAX_PARAMS] = {0};
    char allow[96] = "";
    if (st->too_big) {
        mn_http_error(&rs, MN_ETOOBIG, NULL, "request body over the %zu byte limit", h->max_body);
        return respond(c, st, &rs, NULL);
    }
    for (int i = 0; i < h->n_routes; i++) {
        const struct mn_route *r = &h->routes[i];
        if (!match(r->pattern, url, params, store, sizeof store))
            continue;
        if (strcmp(r->method, method) != 0) {
            if (!strstr(allow, r->method))
                snprintf(allow + strlen(allow), sizeof allow - strlen(allow), "%s%s",
                         allow[0] ? ", " : "", r->method);
            continue;
        }
        st->route = i;
        int rc = mn_auth_check(h->srv->auth,
                               MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Authorization"),
                               r->scope);
        if (rc) {
            mn_http_error(&rs, rc, NULL, rc == MN_EAUTH ? "a valid bearer token is required"
                                                        : "the token lacks the scope this needs");
            return respond(c, st, &rs, NULL);
        }
        struct mn_http_req rq = {.srv = h->srv, .conn = c, .method = method, .path = url,
                                 .body = st->body.data ? st->body.data : "",
                                 .body_len = st->body.len};
        memcpy(rq.params, params, sizeof params);
        memcpy(rq.id, st->id, sizeof rq.id);
        rs.status = 200;
        r->fn(&rq, &rs);
        return respond(c, st, &rs, NULL);
    }
    if (allow[0]) {
        mn_http_error(&rs, MN_ESTATE, NULL, "method %s not allowed here (allowed: %s)", method,
                      allow);
        rs.status = 405;
        return respond(c, st, &rs, allow);
    }
    mn_http_error(&rs, MN_ENOTFOUND, NULL, "no route %s %s", method, url);
    return respond(c, st, &rs, NULL);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version, const char *upload,
                                  size_t *upload_size, void **con_cls)
{
    struct mn_http *h = cls;
    struct reqstate *st = *con_cls;
    (void)version;
    if (!st) {
        if (!(st = calloc(1, sizeof *st)))
            return MHD_NO;
        st->t0 = mono();
        st->route = -1;
        set_id(h, c, st);
        *con_cls = st;
        atomic_fetch_add(&h->active, 1);
        const char *cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Length");
        if (cl && strtoull(cl, NULL, 10) > h->max_body) {
            st->too_big = 1;
            return dispatch(h, c, url, method, st); /* answer before the body arrives */
        }
        if (cl)
            mn_buf_reserve(&st->body, (size_t)strtoull(cl, NULL, 10));
        return MHD_YES;
    }
    if (*upload_size) {
        if (!st->too_big && st->body.len + *upload_size <= h->max_body)
            mn_buf_add(&st->body, upload, *upload_size);
        else
            st->too_big = 1;
        *upload_size = 0;
        return MHD_YES;
    }
    if (st->status) /* already answered (early 413) */
        return MHD_YES;
    if (st->body.oom)
        st->too_big = 1;
    return dispatch(h, c, url, method, st);
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    struct mn_http *h = cls;
    struct reqstate *st = *con_cls;
    (void)c;
    if (!st)
        return;
    double dt = mono() - st->t0;
    const char *route = st->route >= 0 ? h->routes[st->route].pattern : "-";
    mn_metrics_request(h->srv->metrics, st->route, st->status ? st->status : 500, dt);
    mn_log_info("msg=request id=%s route=%s status=%d ms=%.3f in=%zu out=%zu%s", st->id, route,
                st->status, dt * 1e3, st->body.len, st->bytes_out,
                toe == MHD_REQUEST_TERMINATED_COMPLETED_OK ? "" : " aborted=1");
    mn_buf_free(&st->body);
    free(st);
    *con_cls = NULL;
    atomic_fetch_sub(&h->active, 1);
}

static int is_loopback(const struct sockaddr *sa)
{
    if (sa->sa_family == AF_INET)
        return (ntohl(((const struct sockaddr_in *)sa)->sin_addr.s_addr) >> 24) == 127;
    if (sa->sa_family == AF_INET6) {
        const struct in6_addr *a = &((const struct sockaddr_in6 *)sa)->sin6_addr;
        if (IN6_IS_ADDR_V4MAPPED(a))
            return a->s6_addr[12] == 127;
        return IN6_IS_ADDR_LOOPBACK(a);
    }
    return 0;
}

/* Resolves and binds listen; returns the socket or -1 with err filled. */
static int bind_listen(const char *listen_addr, int require_loopback, int *port,
                       struct mn_error *err)
{
    char host[256], *p;
    const char *port_text = strrchr(listen_addr, ':');
    snprintf(host, sizeof host, "%s", listen_addr[0] == '[' ? listen_addr + 1 : listen_addr);
    p = strrchr(host, listen_addr[0] == '[' ? ']' : ':');
    if (!port_text || !p || (listen_addr[0] == '[' && p[1] != ':'))
        return mn_error_set(err, MN_EINVAL, "listen", "bad address '%s': want host:port",
                            listen_addr), -1;
    *p = 0;
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
                             .ai_flags = AI_PASSIVE | AI_NUMERICSERV}, *res = NULL;
    int g = getaddrinfo(host[0] ? host : NULL, port_text + 1, &hints, &res);
    if (g)
        return mn_error_set(err, MN_EINVAL, "listen", "cannot resolve '%s': %s", listen_addr,
                            gai_strerror(g)), -1;
    int fd = -1;
    for (struct addrinfo *ai = res; ai && fd < 0; ai = ai->ai_next) {
        if (require_loopback && !is_loopback(ai->ai_addr)) {
            mn_error_set(err, MN_EFORBIDDEN, "listen",
                         "refusing to listen on non-loopback %s without tokens: configure "
                         "--tokens-file or MONAS_TOKENS, or pass --insecure", listen_addr);
            continue;
        }
        fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
        if (fd < 0)
            continue;
        int one = 1;
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        if (bind(fd, ai->ai_addr, ai->ai_addrlen) || listen(fd, 511)) {
            mn_error_set(err, MN_EIO, "listen", "cannot listen on %s: %m", listen_addr);
            close(fd);
            fd = -1;
        }
    }
    freeaddrinfo(res);
    if (fd >= 0) {
        struct sockaddr_storage ss;
        socklen_t len = sizeof ss;
        getsockname(fd, (struct sockaddr *)&ss, &len);
        *port = ntohs(ss.ss_family == AF_INET ? ((struct sockaddr_in *)&ss)->sin_port
                                              : ((struct sockaddr_in6 *)&ss)->sin6_port);
    }
    return fd;
}

struct mn_http *mn_http_start(struct mn_server *srv, const char *listen_addr,
                              const struct mn_route *routes, int n_routes, size_t max_body,
                              unsigned max_connections, int require_loopback,
                              struct mn_error *err)
{
    struct mn_http *h = calloc(1, sizeof *h);
    if (!h) {
        mn_error_set(err, MN_ENOMEM, NULL, "out of memory");
        return NULL;
    }
    h->srv = srv;
    h->routes = routes;
    h->n_routes = n_routes;
    h->max_body = max_body;
    h->fd = bind_listen(listen_addr, require_loopback, &h->port, err);
    if (h->fd < 0) {
        free(h);
        return NULL;
    }
    h->d = MHD_start_daemon(MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD |
                                MHD_USE_POLL | MHD_USE_ITC,
                            0, NULL, NULL, on_request, h, MHD_OPTION_LISTEN_SOCKET, h->fd,
                            MHD_OPTION_NOTIFY_COMPLETED, on_completed, h,
                            MHD_OPTION_CONNECTION_LIMIT, max_connections,
                            MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)120,
                            MHD_OPTION_LISTENING_ADDRESS_REUSE, 1, MHD_OPTION_END);
    if (!h->d) {
        mn_error_set(err, MN_EIO, "listen", "HTTP server failed to start on %s", listen_addr);
        close(h->fd);
        free(h);
        return NULL;
    }
    return h;
}

int mn_http_port(const struct mn_http *h)
{
    return h->port;
}

void mn_http_stop(struct mn_http *h, double drain_seconds)
{
    if (!h)
        return;
    MHD_socket fd = MHD_quiesce_daemon(h->d);
    if (fd != MHD_INVALID_SOCKET)
        close(fd);
    double until = mono() + drain_seconds;
    while (atomic_load(&h->active) > 0 && mono() < until)
        usleep(10000);
    MHD_stop_daemon(h->d);
    free(h);
}
