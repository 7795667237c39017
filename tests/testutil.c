/* testutil.c — see testutil.h. */
#include "testutil.h"
#include <curl/curl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/wait.h>
#include <unistd.h>

const char *tu_shared_data(const char *rel, char *buf, unsigned len)
{
    const char *root = getenv("MONAS_SHARED_DATA");
    snprintf(buf, len, "%s/%s", root ? root : "../shared/data", rel);
    return access(buf, R_OK) == 0 ? buf : NULL;
}

const char *tu_bin(const char *name, char *buf, unsigned len)
{
    const char *dir = getenv("MONAS_BIN_DIR");
    snprintf(buf, len, "%s/%s", dir ? dir : "build", name);
    return buf;
}

void tu_skip(const char *what, const char *why)
{
    fprintf(stderr, "SKIP %s: %s\n", what, why);
}

int tu_daemon_start(struct tu_daemon *d, const char *tokens)
{
    char bin[512], pf[128], db[128];
    memset(d, 0, sizeof *d);
    snprintf(d->dir, sizeof d->dir, "/tmp/monas-test-XXXXXX");
    if (!mkdtemp(d->dir))
        return -1;
    snprintf(pf, sizeof pf, "%s/port", d->dir);
    snprintf(db, sizeof db, "%s/monas.db", d->dir);
    tu_bin("monasd", bin, sizeof bin);
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        if (tokens)
            setenv("MONAS_TOKENS", tokens, 1);
        else
            unsetenv("MONAS_TOKENS");
        setenv("MONAS_LOG_LEVEL", "error", 1);
        execl(bin, "monasd", "--listen", "127.0.0.1:0", "--db", db, "--port-file", pf,
              "--reap-interval-ms", "100", (char *)NULL);
        _exit(127);
    }
    d->pid = (int)pid;
    for (int i = 0; i < 500 && !d->port; i++) {
        FILE *f = fopen(pf, "r");
        if (f) {
            if (fscanf(f, "%d", &d->port) != 1)
                d->port = 0;
            fclose(f);
        }
        if (!d->port)
            usleep(10000);
    }
    return d->port > 0 ? 0 : -1;
}

void tu_daemon_stop(struct tu_daemon *d)
{
    char cmd[128];
    if (d->pid > 0) {
        kill(d->pid, SIGTERM);
        waitpid(d->pid, NULL, 0);
        d->pid = 0;
    }
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", d->dir);
    if (d->dir[0] && system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", d->dir);
}

/* Copies header `name` (lower case, with colon) from a header line into out. */
static void take_header(const char *line, size_t len, const char *name, char *out, size_t cap)
{
    size_t k = strlen(name);
    if (len <= k || strncasecmp(line, name, k) != 0)
        return;
    line += k, len -= k;
    while (len && *line == ' ')
        line++, len--;
    while (len && (line[len - 1] == '\r' || line[len - 1] == '\n'))
        len--;
    snprintf(out, cap, "%.*s", (int)len, line);
}

static size_t on_header(char *p, size_t size, size_t n, void *ctx)
{
    struct tu_http *r = ctx;
    take_header(p, size * n, "content-type:", r->type, sizeof r->type);
    take_header(p, size * n, "etag:", r->etag, sizeof r->etag);
    take_header(p, size * n, "cache-control:", r->cache, sizeof r->cache);
    return size * n;
}

static size_t on_body(char *p, size_t size, size_t n, void *ctx)
{
    struct tu_http *r = ctx;
    char *grown = realloc(r->body, r->len + size * n + 1);
    if (!grown)
        return 0;
    memcpy(grown + r->len, p, size * n);
    r->body = grown;
    r->len += size * n;
    r->body[r->len] = 0;
    return size * n;
}

long tu_http(const struct tu_daemon *d, const char *method, const char *path,
             const char *token, const char *body, const char *header, struct tu_http *out)
{
    char url[1024], auth[300];
    memset(out, 0, sizeof *out);
    snprintf(url, sizeof url, "http://127.0.0.1:%d%s", d->port, path);
    CURL *c = curl_easy_init();
    struct curl_slist *h = NULL;
    if (!c)
        return 0;
    if (token) {
        snprintf(auth, sizeof auth, "Authorization: Bearer %s", token);
        h = curl_slist_append(h, auth);
    }
    if (body)
        h = curl_slist_append(h, "Content-Type: application/json");
    if (header)
        h = curl_slist_append(h, header);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    if (body)
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, out);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, out);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 30L);
    if (curl_easy_perform(c) == CURLE_OK)
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &out->status);
    curl_slist_free_all(h);
    curl_easy_cleanup(c);
    if (!out->body)
        out->body = calloc(1, 1);
    return out->status;
}

void tu_http_free(struct tu_http *r)
{
    free(r->body);
    r->body = NULL;
}
