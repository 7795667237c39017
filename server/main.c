/* main.c — monasd: reads options (flags and MONAS_* variables), opens and migrates the
 * database, serves the API, and runs the libuv loop that owns the reaper timer, the
 * checkpoint timer (WAL into the database file, outside the server lock) and
 * SIGTERM/SIGINT (drain in-flight requests, close the database, exit 0). */
#include <errno.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <uv.h>
#include "api.h"
#include "auth.h"
#include "config.h"
#include "http.h"
#include "job.h"
#include "lease.h"
#include "log.h"
#include "metrics.h"
#include "server.h"
#include "store.h"

#define MONASD_VERSION "0.1.0"
#define CHECKPOINT_MS 100

struct daemon {
    struct mn_server srv;
    struct mn_config cfg;
    struct mn_http *http;
    uv_loop_t loop;
    uv_timer_t reaper, checkpoint;
    uv_signal_t sigterm, sigint;
};

static void on_reap(uv_timer_t *t)
{
    struct daemon *d = t->data;
    int rc = mn_lease_reap(&d->srv, mn_now());
    if (rc < 0)
        mn_log_error("msg=\"reaper failed\" error=\"%s\"", mn_strerror(rc));
}

static void on_checkpoint(uv_timer_t *t)
{
    struct daemon *d = t->data;
    mn_store_checkpoint(d->srv.store);
}

static void on_signal(uv_signal_t *s, int signum)
{
    struct daemon *d = s->data;
    mn_log_info("msg=\"stopping\" signal=%d", signum);
    pthread_mutex_lock(&d->srv.lock);
    d->srv.stopping = 1;
    pthread_cond_broadcast(&d->srv.changed);
    pthread_mutex_unlock(&d->srv.lock);
    uv_timer_stop(&d->reaper);
    uv_timer_stop(&d->checkpoint);
    uv_signal_stop(&d->sigterm);
    uv_signal_stop(&d->sigint);
    uv_stop(&d->loop);
}

/* Creates the database's directory if missing (one level, like ./var). */
static int ensure_dir(const char *path, struct mn_error *err)
{
    char copy[1024];
    snprintf(copy, sizeof copy, "%s", path);
    const char *dir = dirname(copy);
    if (mkdir(dir, 0755) == 0 || errno == EEXIST)
        return MN_OK;
    return mn_error_set(err, MN_EIO, "db", "cannot create directory %s: %s", dir, strerror(errno));
}

static int write_port(const char *file, int port, struct mn_error *err)
{
    char tmp[1100];
    snprintf(tmp, sizeof tmp, "%s.tmp", file);
    FILE *f = fopen(tmp, "w");
    if (!f || fprintf(f, "%d\n", port) < 0 || fclose(f) || rename(tmp, file))
        return mn_error_set(err, MN_EIO, "port-file", "cannot write %s", file);
    return MN_OK;
}

static void close_cb(uv_handle_t *h)
{
    (void)h;
}

/* Closes the loop's handles and the loop. */
static void close_loop(struct daemon *d)
{
    uv_close((uv_handle_t *)&d->reaper, close_cb);
    uv_close((uv_handle_t *)&d->checkpoint, close_cb);
    uv_close((uv_handle_t *)&d->sigterm, close_cb);
    uv_close((uv_handle_t *)&d->sigint, close_cb);
    uv_run(&d->loop, UV_RUN_DEFAULT);
    uv_loop_close(&d->loop);
}

int main(int argc, char **argv)
{
    static struct daemon d; /* large; lives for the whole process */
    struct mn_error err = {0};
    enum mn_log_level level;
    int status = 1;
    if (mn_config_load(&d.cfg, argc, argv, &err)) {
        fprintf(stderr, "monasd: %s\n", err.message);
        return 2;
    }
    if (d.cfg.help) {
        mn_config_usage(stdout);
        return 0;
    }
    if (d.cfg.version) {
        printf("monasd %s (schema %d)\n", MONASD_VERSION, mn_store_known_version());
        return 0;
    }
    if (mn_log_parse_level(d.cfg.log_level, &level)) {
        fprintf(stderr, "monasd: --log-level: expected debug, info, warn or error\n");
        return 2;
    }
    mn_log_set_level(level);
    struct mn_server *srv = &d.srv;
    pthread_mutex_init(&srv->lock, NULL);
    pthread_cond_init(&srv->changed, NULL);
    pthread_cond_init(&srv->committed, NULL);
    srv->cfg = &d.cfg;
    srv->auth = mn_auth_load(d.cfg.tokens_file[0] ? d.cfg.tokens_file : NULL,
                             getenv("MONAS_TOKENS"), &err);
    if (!srv->auth)
        goto out;
    if (!(srv->metrics = mn_metrics_new())) {
        mn_error_set(&err, MN_ENOMEM, NULL, "out of memory");
        goto out;
    }
    if (ensure_dir(d.cfg.db, &err) || !(srv->store = mn_store_open(d.cfg.db, &err)))
        goto out;
    if (!(srv->jobs = mn_jobs_new(srv->store))) {
        mn_error_set(&err, MN_ENOMEM, NULL, "out of memory");
        goto out;
    }
    int open_access = mn_auth_count(srv->auth) == 0;
    d.http = mn_http_start(srv, d.cfg.listen, mn_api_routes, mn_api_n_routes,
                           (size_t)d.cfg.max_body_bytes, (unsigned)d.cfg.max_connections,
                           open_access && !d.cfg.insecure, &err);
    if (!d.http)
        goto out;
    mn_log_info("msg=listening address=%s port=%d db=%s schema=%d tokens=%d version=%s",
                d.cfg.listen, mn_http_port(d.http), d.cfg.db, mn_store_version(srv->store),
                mn_auth_count(srv->auth), MONASD_VERSION);
    if (open_access)
        mn_log_warn("msg=\"no tokens configured: every request is allowed\"");

    uv_loop_init(&d.loop);
    uv_timer_init(&d.loop, &d.reaper);
    uv_timer_init(&d.loop, &d.checkpoint);
    uv_signal_init(&d.loop, &d.sigterm);
    uv_signal_init(&d.loop, &d.sigint);
    d.reaper.data = d.checkpoint.data = d.sigterm.data = d.sigint.data = &d;
    uv_timer_start(&d.reaper, on_reap, 0, (uint64_t)d.cfg.reap_interval_ms);
    uv_timer_start(&d.checkpoint, on_checkpoint, CHECKPOINT_MS, CHECKPOINT_MS);
    uv_signal_start(&d.sigterm, on_signal, SIGTERM);
    uv_signal_start(&d.sigint, on_signal, SIGINT);
    /* The port file says "ready": written once signals are handled. */
    if (d.cfg.port_file[0] && write_port(d.cfg.port_file, mn_http_port(d.http), &err)) {
        close_loop(&d);
        goto out;
    }
    uv_run(&d.loop, UV_RUN_DEFAULT);

    mn_http_stop(d.http, (double)d.cfg.drain_seconds);
    d.http = NULL;
    close_loop(&d);
    mn_log_info("msg=stopped");
    status = 0;
out:
    if (status)
        fprintf(stderr, "monasd: %s\n", err.message[0] ? err.message : "failed to start");
    mn_http_stop(d.http, 0);
    mn_jobs_free(srv->jobs);
    mn_store_close(srv->store);
    mn_metrics_free(srv->metrics);
    mn_auth_free(srv->auth);
    pthread_cond_destroy(&srv->changed);
    pthread_cond_destroy(&srv->committed);
    pthread_mutex_destroy(&srv->lock);
    return status;
}
