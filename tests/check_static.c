/* check_static.c — the dashboard's embedded files served by a real monasd on an
 * ephemeral loopback port: content types, ETag and If-None-Match → 304, no-cache,
 * public access with tokens configured, and 404 for unknown or unservable files. */
#include <check.h>
#include <curl/curl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include "testutil.h"

struct reply {
    long status;
    char type[128], etag[64], cache[64];
    size_t len;
};

static pid_t daemon_pid;
static int port;
static char dir[64];

static size_t on_header(char *p, size_t size, size_t n, void *ctx)
{
    struct reply *r = ctx;
    size_t len = size * n;
    static const struct {
        const char *name;
        size_t off, cap;
    } wanted[] = {
        {"content-type:", offsetof(struct reply, type), sizeof ((struct reply *)0)->type},
        {"etag:", offsetof(struct reply, etag), sizeof ((struct reply *)0)->etag},
        {"cache-control:", offsetof(struct reply, cache), sizeof ((struct reply *)0)->cache},
    };
    for (size_t i = 0; i < sizeof wanted / sizeof wanted[0]; i++) {
        size_t k = strlen(wanted[i].name);
        if (len > k && strncasecmp(p, wanted[i].name, k) == 0) {
            char *out = (char *)r + wanted[i].off;
            size_t v = len - k;
            const char *s = p + k;
            while (v && *s == ' ')
                s++, v--;
            while (v && (s[v - 1] == '\r' || s[v - 1] == '\n'))
                v--;
            snprintf(out, wanted[i].cap, "%.*s", (int)v, s);
        }
    }
    return len;
}

static size_t on_body(char *p, size_t size, size_t n, void *ctx)
{
    (void)p;
    ((struct reply *)ctx)->len += size * n;
    return size * n;
}

static struct reply get(const char *path, const char *if_none_match)
{
    struct reply r = {0};
    char url[256], hdr[128];
    snprintf(url, sizeof url, "http://127.0.0.1:%d%s", port, path);
    CURL *c = curl_easy_init();
    struct curl_slist *h = NULL;
    if (if_none_match) {
        snprintf(hdr, sizeof hdr, "If-None-Match: %s", if_none_match);
        h = curl_slist_append(h, hdr);
    }
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, &r);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &r);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 10L);
    ck_assert_int_eq(curl_easy_perform(c), CURLE_OK);
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r.status);
    curl_slist_free_all(h);
    curl_easy_cleanup(c);
    return r;
}

/* Starts monasd with an admin token configured (so the API needs one). */
static void start(void)
{
    char bin[512], pf[128], db[128];
    snprintf(dir, sizeof dir, "/tmp/monas-static-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(dir));
    snprintf(pf, sizeof pf, "%s/port", dir);
    snprintf(db, sizeof db, "%s/monas.db", dir);
    tu_bin("monasd", bin, sizeof bin);
    daemon_pid = fork();
    ck_assert_int_ge(daemon_pid, 0);
    if (daemon_pid == 0) {
        setenv("MONAS_TOKENS", "static-test-token admin", 1);
        setenv("MONAS_LOG_LEVEL", "error", 1);
        execl(bin, "monasd", "--listen", "127.0.0.1:0", "--db", db, "--port-file", pf,
              (char *)NULL);
        _exit(127);
    }
    for (int i = 0; i < 500 && !port; i++) {
        FILE *f = fopen(pf, "r");
        if (f) {
            if (fscanf(f, "%d", &port) != 1)
                port = 0;
            fclose(f);
        }
        if (!port)
            usleep(10000);
    }
    ck_assert_msg(port > 0, "monasd (%s) did not start", bin);
}

static void stop(void)
{
    char cmd[128];
    if (daemon_pid > 0) {
        kill(daemon_pid, SIGTERM);
        waitpid(daemon_pid, NULL, 0);
    }
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    ck_assert_int_eq(system(cmd), 0);
}

START_TEST(index_and_assets)
{
    start();
    struct reply r = get("/", NULL);
    ck_assert_int_eq(r.status, 200); /* public although the API needs a token */
    ck_assert_str_eq(r.type, "text/html; charset=utf-8");
    ck_assert_str_eq(r.cache, "no-cache");
    ck_assert_int_eq(strlen(r.etag), 18);
    ck_assert_int_gt(r.len, 100);
    ck_assert_int_eq(get("/v1/jobs", NULL).status, 401);

    struct reply js = get("/assets/app.js", NULL);
    ck_assert_int_eq(js.status, 200);
    ck_assert_str_eq(js.type, "text/javascript; charset=utf-8");
    ck_assert_str_ne(js.etag, r.etag);
    struct reply css = get("/assets/style.css", NULL);
    ck_assert_int_eq(css.status, 200);
    ck_assert_str_eq(css.type, "text/css; charset=utf-8");
    struct reply lib = get("/assets/vendor/uplot.min.js", NULL);
    ck_assert_int_eq(lib.status, 200);
    ck_assert_int_gt(lib.len, 20000);
    ck_assert_int_eq(get("/assets/vendor/uplot-LICENSE.txt", NULL).status, 200);
    stop();
}
END_TEST

START_TEST(revalidation)
{
    start();
    struct reply r = get("/assets/app.js", NULL);
    struct reply again = get("/assets/app.js", NULL);
    ck_assert_str_eq(r.etag, again.etag); /* stable */
    struct reply nm = get("/assets/app.js", r.etag);
    ck_assert_int_eq(nm.status, 304);
    ck_assert_int_eq(nm.len, 0);
    ck_assert_str_eq(nm.etag, r.etag);
    char list[160];
    snprintf(list, sizeof list, "\"0000000000000000\", %s", r.etag);
    ck_assert_int_eq(get("/assets/app.js", list).status, 304);
    ck_assert_int_eq(get("/assets/app.js", "\"0000000000000000\"").status, 200);
    ck_assert_int_eq(get("/", r.etag).status, 200); /* another file's tag */
    stop();
}
END_TEST

START_TEST(unknown_and_unservable)
{
    start();
    ck_assert_int_eq(get("/assets/nope.js", NULL).status, 404);
    ck_assert_int_eq(get("/assets/package.json", NULL).status, 404);  /* build file */
    ck_assert_int_eq(get("/assets/0001_init.sql", NULL).status, 404); /* not web/ */
    ck_assert_int_eq(get("/assets/..%2Fschema%2Fgraph.schema.json", NULL).status, 404);
    ck_assert_int_eq(get("/assets/vendor/app.js", NULL).status, 404);
    ck_assert_int_eq(get("/index.html", NULL).status, 404);
    stop();
}
END_TEST

Suite *static_suite(void)
{
    Suite *s = suite_create("static");
    TCase *tc = tcase_create("http");
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, index_and_assets);
    tcase_add_test(tc, revalidation);
    tcase_add_test(tc, unknown_and_unservable);
    suite_add_tcase(s, tc);
    return s;
}
