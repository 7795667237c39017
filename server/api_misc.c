/* api_misc.c — the other endpoints: workers, MCU profiles, spaces, strategies, health,
 * Prometheus metrics and the OpenAPI document. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "api.h"
#include "buf.h"
#include "catalog.h"
#include "files.h"
#include "json.h"
#include "metrics.h"
#include "server.h"
#include "store.h"
#include "strategy.h"

void mn_api_workers(struct mn_http_req *rq, struct mn_http_resp *rs)
{
    static const char sql[] =
        "SELECT id, version, scoring_version, first_seen, last_seen, leases, results, "
        "(SELECT count(*) FROM leases l WHERE l.worker_id=w.id AND l.status='active') "
        "FROM workers w ORDER BY last_seen DESC LIMIT 1000";
    struct mn_server *srv = rq->srv;
    struct mn_buf b = {0};
    char t[40];
    int n = 0;
    mn_buf_str(&b, "{\"workers\":[");
    pthread_mutex_lock(&srv->lock);
    sqlite3_stmt *st = mn_store_prep(srv->store, sql);
    while (st && sqlite3_step(st) == SQLITE_ROW) {
        mn_buf_str(&b, n++ ? ",{\"id\":" : "{\"id\":");
        mn_buf_json_str(&b, (const char *)sqlite3_column_text(st, 0));
        mn_buf_str(&b, ",\"version\":");
        mn_buf_json_str(&b, (const char *)sqlite3_column_text(st, 1));
        mn_buf_str(&b, ",\"scoring_version\":");
        mn_buf_json_str(&b, (const char *)sqlite3_column_text(st, 2));
        mn_buf_printf(&b, ",\"first_seen\":\"%s\"",
                      mn_time_text(sqlite3_column_double(st, 3), t, sizeof t));
        mn_buf_printf(&b, ",\"last_seen\":\"%s\",\"leases\":%lld,\"results\":%lld,"
                      "\"active_leases\":%lld}", mn_time_text(sqlite3_column_double(st, 4), t, sizeof t),
                      (long long)sqlite3_column_int64(st, 5), (long long)sqlite3_column_int64(st, 6),
                      (long long)sqlite3_column_int64(st, 7));
    }
    if (st)
        sqlite3_reset(st);
    pthread_mutex_unlock(&srv->lock);
    mn_buf_str(&b, "]}");
    if (!st) {
        mn_buf_free(&b);
        mn_http_error(rs, MN_EDB, NULL, "database error");
        return;
    }
    mn_http_reply(rs, 200, mn_buf_take(&b));
}

static void wrap(struct mn_http_resp *rs, const char *key, cJSON *list)
{
    cJSON *o = cJSON_CreateObject();
    if (!o || !list || !cJSON_AddItemToObject(o, key, list)) {
        cJSON_Delete(o);
        cJSON_Delete(list);
        mn_http_error(rs, MN_ENOMEM, NULL, "out of memory");
        return;
    }
    mn_api_json(rs, 200, o);
}

void mn_api_mcus(struct mn_http_req *rq, struct mn_http_resp *rs)
{
    (void)rq;
    wrap(rs, "mcus", mn_catalog_mcus());
}

void mn_api_spaces(struct mn_http_req *rq, struct mn_http_resp *rs)
{
    (void)rq;
    wrap(rs, "spaces", mn_catalog_spaces());
}

void mn_api_strategies(struct mn_http_req *rq, struct mn_http_resp *rs)
{
    (void)rq;
    wrap(rs, "strategies", mn_strategies_describe());
}

void mn_api_proxies(struct mn_http_req *rq, struct mn_http_resp *rs)
{
    (void)rq;
    wrap(rs, "proxies", mn_catalog_proxies_describe());
}

void mn_api_healthz(struct mn_http_req *rq, struct mn_http_resp *rs)
{
    struct mn_server *srv = rq->srv;
    pthread_mutex_lock(&srv->lock);
    int version = mn_store_version(srv->store), stopping = srv->stopping;
    pthread_mutex_unlock(&srv->lock);
    char *body = malloc(128);
    if (body)
        snprintf(body, 128, "{\"status\":\"%s\",\"schema_version\":%d,\"scoring_version\":\"%s\"}",
                 stopping ? "stopping" : version > 0 ? "ok" : "db_error", version,
                 mn_catalog_scoring_version());
    mn_http_reply(rs, stopping || version <= 0 ? 503 : 200, body);
}

void mn_api_metrics(struct mn_http_req *rq, struct mn_http_resp *rs)
{
    struct mn_buf b = {0};
    if (mn_metrics_render(rq->srv, mn_api_route_names, mn_api_n_routes, &b)) {
        mn_buf_free(&b);
        mn_http_error(rs, MN_EDB, NULL, "metrics unavailable");
        return;
    }
    mn_http_reply(rs, 200, mn_buf_take(&b));
    rs->content_type = "text/plain; version=0.0.4";
}

void mn_api_openapi(struct mn_http_req *rq, struct mn_http_resp *rs)
{
    (void)rq;
    const struct mn_file *f = mn_files_find(mn_server_files, "schema/openapi.json");
    if (!f) {
        mn_http_error(rs, MN_ENOTFOUND, NULL, "openapi document not built in");
        return;
    }
    mn_http_reply(rs, 200, strndup((const char *)f->data, f->len));
}
