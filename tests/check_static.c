/* check_static.c — the dashboard's embedded files served by a real monasd on an
 * ephemeral loopback port: content types, ETag and If-None-Match → 304, no-cache,
 * public access with tokens configured, and 404 for unknown or unservable files. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "srvutil.h"

static struct tu_srv srv;

static void setup(void)
{
    static const char *const env[] = {"MONAS_TOKENS=static-test-token admin", NULL};
    tu_srv_init(&srv);
    ck_assert_msg(tu_srv_start(&srv, NULL, env) == 0, "monasd did not start");
}

static void teardown(void)
{
    tu_srv_stop(&srv);
    tu_srv_cleanup(&srv);
}

struct reply {
    long status;
    size_t len;
    char type[128], etag[64], cache[64];
};

/* GET path (with If-None-Match: inm when not NULL). */
static struct reply get(const char *path, const char *inm)
{
    struct reply r = {0};
    char h[160], *body = NULL;
    if (inm) {
        snprintf(h, sizeof h, "If-None-Match: %s", inm);
        tu_http_next_header(h);
    }
    r.status = tu_http(&srv, "GET", path, NULL, NULL, &body);
    r.len = body ? strlen(body) : 0;
    free(body);
    snprintf(r.type, sizeof r.type, "%s", tu_http_header("Content-Type"));
    snprintf(r.etag, sizeof r.etag, "%s", tu_http_header("ETag"));
    snprintf(r.cache, sizeof r.cache, "%s", tu_http_header("Cache-Control"));
    return r;
}

START_TEST(index_and_assets)
{
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
}
END_TEST

START_TEST(revalidation)
{
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
}
END_TEST

START_TEST(unknown_and_unservable)
{
    ck_assert_int_eq(get("/assets/nope.js", NULL).status, 404);
    ck_assert_int_eq(get("/assets/package.json", NULL).status, 404);  /* build file */
    ck_assert_int_eq(get("/assets/0001_init.sql", NULL).status, 404); /* not web/ */
    ck_assert_int_eq(get("/assets/..%2Fschema%2Fgraph.schema.json", NULL).status, 404);
    ck_assert_int_eq(get("/assets/vendor/app.js", NULL).status, 404);
    ck_assert_int_eq(get("/index.html", NULL).status, 404);
}
END_TEST

Suite *static_suite(void)
{
    Suite *s = suite_create("static");
    TCase *tc = tcase_create("http");
    tcase_set_timeout(tc, 30);
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, index_and_assets);
    tcase_add_test(tc, revalidation);
    tcase_add_test(tc, unknown_and_unservable);
    suite_add_tcase(s, tc);
    return s;
}
