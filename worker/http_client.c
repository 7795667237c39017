/* http_client.c — libcurl multi interface driven by a libuv loop (see http_client.h).
 *
 * Why the multi interface on the loop rather than blocking curl_easy_perform on the
 * thread pool: the pool's threads are the scoring threads (--threads sizes it), so a
 * request stuck for its whole timeout on a vanished coordinator would take a scoring
 * slot, and a heartbeat would queue behind a batch of long scoring tasks and arrive
 * after the lease expired. On the loop, requests cost no thread, heartbeats go out on
 * time however busy the pool is, and all worker state is touched by one thread only.
 * curl tells us which sockets to watch (CURLMOPT_SOCKETFUNCTION → uv_poll) and when
 * to call it back (CURLMOPT_TIMERFUNCTION → uv_timer); the multi handle keeps the
 * connection cache, so consecutive requests reuse one kept-alive connection. */
#include "http_client.h"
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define MAX_RESPONSE_BYTES (64u << 20)

struct sock { /* a socket curl asked us to watch */
    uv_poll_t poll;
    curl_socket_t fd;
    struct mn_http_client *c;
    struct sock *next;
    int closing;
};

struct req {
    CURL *easy;
    struct curl_slist *headers;
    char *data;
    size_t len, cap;
    double retry_after;
    mn_http_cb cb;
    void *ud;
    struct req *prev, *next;
    char errbuf[CURL_ERROR_SIZE];
};

struct mn_http_client {
    uv_loop_t *loop;
    CURLM *multi;
    uv_timer_t timer;
    char *base, *auth, *ca_file;
    long connect_timeout_ms, timeout_ms;
    struct req *reqs;
    int pending;
    struct sock *socks;
    int open_handles; /* the timer and the polls; the client is freed when 0 and closing */
    int closing;
};

static void release_client(struct mn_http_client *c)
{
    free(c->base);
    free(c->auth);
    free(c->ca_file);
    free(c);
}

static void on_handle_closed(uv_handle_t *h)
{
    struct mn_http_client *c = h->data;
    if (h->type == UV_POLL) {
        struct sock **p = &c->socks, *k = (struct sock *)h;
        while (*p && *p != k)
            p = &(*p)->next;
        if (*p)
            *p = k->next;
        free(k);
    }
    if (--c->open_handles == 0 && c->closing)
        release_client(c);
}

static void sock_close(struct sock *k)
{
    if (k->closing)
        return;
    k->closing = 1;
    uv_close((uv_handle_t *)&k->poll, on_handle_closed);
}

static void free_req(struct req *r)
{
    curl_easy_cleanup(r->easy);
    curl_slist_free_all(r->headers);
    free(r->data);
    free(r);
}

/* Completes every finished transfer: unlinks it, calls its callback, frees it. */
static void check_done(struct mn_http_client *c)
{
    CURLMsg *m;
    int left;
    while ((m = curl_multi_info_read(c->multi, &left))) {
        if (m->msg != CURLMSG_DONE)
            continue;
        struct req *r = NULL;
        CURL *e = m->easy_handle;
        CURLcode result = m->data.result;
        curl_easy_getinfo(e, CURLINFO_PRIVATE, (char **)&r);
        struct mn_http_response resp = {.body = r->data ? r->data : "", .body_len = r->len,
                                        .error = "", .retry_after_s = r->retry_after};
        curl_easy_getinfo(e, CURLINFO_TOTAL_TIME, &resp.seconds);
        if (result == CURLE_OK) {
            curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &resp.status);
        } else {
            resp.error = r->errbuf[0] ? r->errbuf : curl_easy_strerror(result);
            resp.body = "";
            resp.body_len = 0;
        }
        curl_multi_remove_handle(c->multi, e);
        if (r->prev)
            r->prev->next = r->next;
        else
            c->reqs = r->next;
        if (r->next)
            r->next->prev = r->prev;
        c->pending--;
        r->cb(&resp, r->ud);
        free_req(r);
        if (c->closing) /* the callback freed the client: its multi handle is gone */
            return;
    }
}

static void on_poll(uv_poll_t *p, int status, int events)
{
    struct sock *k = (struct sock *)p; /* the poll handle is its first member */
    struct mn_http_client *c = k->c;
    int flags = status < 0 ? CURL_CSELECT_ERR
                           : ((events & UV_READABLE) ? CURL_CSELECT_IN : 0) |
                                 ((events & UV_WRITABLE) ? CURL_CSELECT_OUT : 0);
    int running;
    curl_multi_socket_action(c->multi, k->fd, flags, &running);
    check_done(c);
}

static void on_timer(uv_timer_t *t)
{
    struct mn_http_client *c = t->data;
    int running;
    curl_multi_socket_action(c->multi, CURL_SOCKET_TIMEOUT, 0, &running);
    check_done(c);
}

static int on_socket(CURL *e, curl_socket_t s, int what, void *userp, void *socketp)
{
    (void)e;
    struct mn_http_client *c = userp;
    struct sock *k = socketp;
    if (what == CURL_POLL_REMOVE) {
        if (k) {
            curl_multi_assign(c->multi, s, NULL);
            sock_close(k);
        }
        return 0;
    }
    if (!k) {
        if (!(k = calloc(1, sizeof *k)))
            return -1;
        if (uv_poll_init_socket(c->loop, &k->poll, s)) {
            free(k);
            return -1;
        }
        k->poll.data = c;
        k->fd = s;
        k->c = c;
        k->next = c->socks;
        c->socks = k;
        c->open_handles++;
        curl_multi_assign(c->multi, s, k);
    }
    int ev = ((what & CURL_POLL_IN) ? UV_READABLE : 0) | ((what & CURL_POLL_OUT) ? UV_WRITABLE : 0);
    return uv_poll_start(&k->poll, ev, on_poll) ? -1 : 0;
}

static int on_timer_set(CURLM *m, long timeout_ms, void *userp)
{
    (void)m;
    struct mn_http_client *c = userp;
    if (timeout_ms < 0)
        uv_timer_stop(&c->timer);
    else
        uv_timer_start(&c->timer, on_timer, (uint64_t)timeout_ms, 0);
    return 0;
}

static size_t on_data(char *p, size_t size, size_t n, void *ud)
{
    struct req *r = ud;
    size_t add = size * n;
    if (r->len + add + 1 > r->cap) {
        size_t cap = r->cap ? r->cap : 4096;
        while (cap < r->len + add + 1)
            cap *= 2;
        char *d = cap <= MAX_RESPONSE_BYTES ? realloc(r->data, cap) : NULL;
        if (!d)
            return 0; /* curl fails the transfer (CURLE_WRITE_ERROR) */
        r->data = d;
        r->cap = cap;
    }
    memcpy(r->data + r->len, p, add);
    r->len += add;
    r->data[r->len] = '\0';
    return add;
}

static size_t on_header(char *p, size_t size, size_t n, void *ud)
{
    struct req *r = ud;
    static const char name[] = "retry-after:";
    size_t len = size * n;
    if (len > sizeof name && strncasecmp(p, name, sizeof name - 1) == 0) {
        char v[32];
        size_t k = len - (sizeof name - 1) < sizeof v - 1 ? len - (sizeof name - 1) : sizeof v - 1;
        memcpy(v, p + sizeof name - 1, k);
        v[k] = '\0';
        char *end;
        double s = strtod(v, &end);
        if (end != v && s >= 0)
            r->retry_after = s;
    }
    return len;
}

static char *dup_or_null(const char *s)
{
    return s && s[0] ? strdup(s) : NULL;
}

struct mn_http_client *mn_http_client_new(uv_loop_t *loop, const struct mn_http_opts *o,
                                          struct mn_error *err)
{
    const char *u = o->base_url ? o->base_url : "";
    if (strncmp(u, "http://", 7) != 0 && strncmp(u, "https://", 8) != 0) {
        mn_error_set(err, MN_EINVAL, "coordinator", "'%s' is not an http:// or https:// URL", u);
        return NULL;
    }
    struct mn_http_client *c = calloc(1, sizeof *c);
    if (!c)
        goto nomem;
    c->loop = loop;
    c->connect_timeout_ms = o->connect_timeout_ms;
    c->timeout_ms = o->timeout_ms;
    if (!(c->base = strdup(u)))
        goto nomem;
    size_t n = strlen(c->base);
    while (n > 0 && c->base[n - 1] == '/')
        c->base[--n] = '\0';
    if (o->token && o->token[0]) {
        size_t len = strlen(o->token) + 32;
        if (!(c->auth = malloc(len)))
            goto nomem;
        snprintf(c->auth, len, "Authorization: Bearer %s", o->token);
    }
    if (o->ca_file && o->ca_file[0] && !(c->ca_file = dup_or_null(o->ca_file)))
        goto nomem;
    if (!(c->multi = curl_multi_init()))
        goto nomem;
    curl_multi_setopt(c->multi, CURLMOPT_SOCKETFUNCTION, on_socket);
    curl_multi_setopt(c->multi, CURLMOPT_SOCKETDATA, c);
    curl_multi_setopt(c->multi, CURLMOPT_TIMERFUNCTION, on_timer_set);
    curl_multi_setopt(c->multi, CURLMOPT_TIMERDATA, c);
    uv_timer_init(loop, &c->timer);
    c->timer.data = c;
    c->open_handles = 1;
    return c;
nomem:
    if (c) {
        curl_multi_cleanup(c->multi);
        release_client(c);
    }
    mn_error_set(err, MN_ENOMEM, NULL, "out of memory");
    return NULL;
}

int mn_http_request(struct mn_http_client *c, const char *method, const char *path,
                    const char *body, mn_http_cb cb, void *ud)
{
    struct req *r = calloc(1, sizeof *r);
    size_t ulen = strlen(c->base) + strlen(path) + 1;
    char *url = malloc(ulen);
    if (!r || !url || !(r->easy = curl_easy_init()))
        goto nomem;
    snprintf(url, ulen, "%s%s", c->base, path);
    r->cb = cb;
    r->ud = ud;
    r->retry_after = -1;
    static const char *const fixed[] = {"Content-Type: application/json",
                                        "Accept: application/json", "Expect:"};
    for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++) {
        struct curl_slist *h = curl_slist_append(r->headers, fixed[i]);
        if (!h)
            goto nomem;
        r->headers = h;
    }
    if (c->auth) {
        struct curl_slist *h = curl_slist_append(r->headers, c->auth);
        if (!h)
            goto nomem;
        r->headers = h;
    }
    CURL *e = r->easy;
    curl_easy_setopt(e, CURLOPT_URL, url);
    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, r->headers);
    curl_easy_setopt(e, CURLOPT_USERAGENT, "monas-worker");
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L);
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, c->connect_timeout_ms);
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, c->timeout_ms);
    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, r->errbuf);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, r);
    curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(e, CURLOPT_HEADERDATA, r);
    curl_easy_setopt(e, CURLOPT_PRIVATE, (char *)r);
    if (c->ca_file)
        curl_easy_setopt(e, CURLOPT_CAINFO, c->ca_file);
    if (body) {
        curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
        curl_easy_setopt(e, CURLOPT_COPYPOSTFIELDS, body);
    } else if (strcmp(method, "POST") == 0) {
        curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE, 0L);
        curl_easy_setopt(e, CURLOPT_COPYPOSTFIELDS, "");
    }
    free(url);
    url = NULL;
    r->next = c->reqs;
    if (c->reqs)
        c->reqs->prev = r;
    c->reqs = r;
    c->pending++;
    if (curl_multi_add_handle(c->multi, e) != CURLM_OK) {
        c->reqs = r->next;
        if (c->reqs)
            c->reqs->prev = NULL;
        c->pending--;
        goto nomem;
    }
    return MN_OK;
nomem:
    free(url);
    if (r)
        free_req(r);
    return MN_ENOMEM;
}

int mn_http_pending(const struct mn_http_client *c)
{
    return c->pending;
}

void mn_http_client_free(struct mn_http_client *c)
{
    if (!c)
        return;
    c->closing = 1;
    while (c->reqs) {
        struct req *r = c->reqs;
        c->reqs = r->next;
        curl_multi_remove_handle(c->multi, r->easy);
        free_req(r);
    }
    c->pending = 0;
    curl_multi_cleanup(c->multi); /* may report CURL_POLL_REMOVE for cached connections */
    c->multi = NULL;
    for (struct sock *k = c->socks; k; k = k->next)
        sock_close(k);
    uv_timer_stop(&c->timer);
    uv_close((uv_handle_t *)&c->timer, on_handle_closed);
}
