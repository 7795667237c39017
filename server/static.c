/* static.c — the dashboard's embedded files over HTTP (see static.h). Only files with
 * an extension in the type table are served, so build files that sit beside the assets
 * (package.json and its lock) are never exposed. */
#include "static.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "server.h"

static const struct {
    const char *ext, *type;
} types[] = {
    {".html", "text/html; charset=utf-8"},
    {".js", "text/javascript; charset=utf-8"},
    {".css", "text/css; charset=utf-8"},
    {".svg", "image/svg+xml"},
    {".txt", "text/plain; charset=utf-8"},
};

static const char *type_of(const char *name)
{
    const char *dot = strrchr(name, '.');
    for (size_t i = 0; dot && i < sizeof types / sizeof types[0]; i++)
        if (strcmp(dot, types[i].ext) == 0)
            return types[i].type;
    return NULL;
}

/* A strong validator: FNV-1a 64 of the contents, quoted. */
static void etag_of(const struct mn_file *f, char *out, size_t len)
{
    uint64_t h = 0xcbf29ce484222325ull;
    for (size_t i = 0; i < f->len; i++)
        h = (h ^ f->data[i]) * 0x100000001b3ull;
    snprintf(out, len, "\"%016llx\"", (unsigned long long)h);
}

/* 1 when an If-None-Match value (a list of tags, or *) names etag. */
static int matches(const char *inm, const char *etag)
{
    return inm && (strcmp(inm, "*") == 0 || strstr(inm, etag) != NULL);
}

static void serve(struct mn_http_req *rq, struct mn_http_resp *rs, const char *dir,
                  const char *name)
{
    char path[160];
    const char *type = type_of(name);
    const struct mn_file *f = NULL;
    if (type && name[0] != '.' && (size_t)snprintf(path, sizeof path, "%s%s", dir, name) <
                                      sizeof path)
        f = mn_files_find(mn_server_files, path);
    if (!f) {
        mn_http_error(rs, MN_ENOTFOUND, NULL, "no asset '%s'", name);
        return;
    }
    rs->cache_control = "no-cache";
    etag_of(f, rs->etag, sizeof rs->etag);
    if (matches(mn_http_header(rq, "If-None-Match"), rs->etag)) {
        rs->status = 304;
        return;
    }
    char *body = malloc(f->len + 1);
    if (!body) {
        mn_http_error(rs, MN_ENOMEM, NULL, "out of memory");
        return;
    }
    memcpy(body, f->data, f->len + 1);
    rs->body = body;
    rs->len = f->len;
    rs->status = 200;
    rs->content_type = type;
}

void mn_static_index(struct mn_http_req *rq, struct mn_http_resp *rs)
{
    serve(rq, rs, "web/", "index.html");
}

void mn_static_asset(struct mn_http_req *rq, struct mn_http_resp *rs)
{
    serve(rq, rs, "web/", rq->params[0]);
}

void mn_static_vendor(struct mn_http_req *rq, struct mn_http_resp *rs)
{
    serve(rq, rs, "web/vendor/", rq->params[0]);
}
