/* check_server_auth.c — bearer tokens and scopes on a real monasd (401 vs 403, admin
 * implying read, public health and OpenAPI), tokens from a file and from MONAS_TOKENS,
 * refusal of a non-loopback address without tokens, and bad configuration. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "srvutil.h"

static struct tu_srv srv;

static const char *job = "{\"space\":{\"name\":\"nb201\"}}";
static const char *lease = "{\"worker_id\":\"w\"," TU_SV "}";

static void check_scopes(void)
{
    static const struct {
        const char *method, *path, *token, *body;
        int status;
    } cases[] = {
        {"GET", "/v1/jobs", NULL, NULL, 401},
        {"GET", "/v1/jobs", "not-a-known-token", NULL, 401},
        {"GET", "/v1/jobs", "read-token-1", NULL, 200},
        {"GET", "/v1/jobs", "admin-token-1", NULL, 200},   /* admin implies read */
        {"GET", "/v1/jobs", "worker-token-1", NULL, 403},
        {"POST", "/v1/jobs", "read-token-1", NULL, 403},
        {"POST", "/v1/jobs", "worker-token-1", NULL, 403},
        {"POST", "/v1/jobs", NULL, NULL, 401},
        {"POST", "/v1/leases", "admin-token-1", NULL, 403},
        {"POST", "/v1/leases", "read-token-1", NULL, 403},
        {"GET", "/metrics", NULL, NULL, 401},
        {"GET", "/metrics", "read-token-1", NULL, 200},
        {"GET", "/healthz", NULL, NULL, 200},
        {"GET", "/v1/openapi.json", NULL, NULL, 200},
        {"POST", "/v1/jobs/1/cancel", "read-token-1", NULL, 403},
        {"GET", "/v1/workers", "both-token-1", NULL, 200},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int st = tu_http(&srv, cases[i].method, cases[i].path, cases[i].token, cases[i].body, NULL);
        ck_assert_msg(st == cases[i].status, "%s %s with %s: %d, want %d", cases[i].method,
                      cases[i].path, cases[i].token ? cases[i].token : "no token", st,
                      cases[i].status);
        if (st == 401)
            ck_assert_str_eq(tu_http_header("WWW-Authenticate"), "Bearer realm=\"monas\"");
    }
    ck_assert_int_eq(tu_http(&srv, "POST", "/v1/jobs", "admin-token-1", job, NULL), 201);
    ck_assert_int_eq(tu_http(&srv, "POST", "/v1/leases", "worker-token-1", lease, NULL), 200);
    ck_assert_int_eq(tu_http(&srv, "POST", "/v1/leases", "both-token-1", lease, NULL), 200);
    cJSON *e = tu_json(&srv, "POST", "/v1/jobs", "read-token-1", job, NULL);
    ck_assert_str_eq(tu_str(e, "error.code"), "forbidden");
    cJSON_Delete(e);
}

START_TEST(scopes_from_env)
{
    tu_srv_init(&srv);
    const char *env[] = {"MONAS_TOKENS=admin-token-1 admin;worker-token-1 worker;"
                         "read-token-1 read; both-token-1 worker,read",
                         NULL};
    ck_assert_int_eq(tu_srv_start(&srv, NULL, env), 0);
    check_scopes();
    ck_assert_int_eq(tu_srv_stop(&srv), 0);
    tu_srv_cleanup(&srv);
}
END_TEST

START_TEST(scopes_from_file)
{
    tu_srv_init(&srv);
    char file[400];
    snprintf(file, sizeof file, "%s/tokens", srv.dir);
    FILE *f = fopen(file, "w");
    fprintf(f, "# monas tokens\nadmin-token-1 admin\n\nworker-token-1 worker  # ci\n"
               "read-token-1 read\nboth-token-1 worker,read\n");
    fclose(f);
    const char *args[] = {"--tokens-file", file, NULL};
    ck_assert_int_eq(tu_srv_start(&srv, args, NULL), 0);
    check_scopes();
    ck_assert_int_eq(tu_srv_stop(&srv), 0);
    tu_srv_cleanup(&srv);
}
END_TEST

static int start_fails_with(const char *const *args, const char *const *env, const char *text)
{
    tu_srv_init(&srv);
    int rc = tu_srv_start(&srv, args, env);
    char log[400], buf[8192] = "";
    snprintf(log, sizeof log, "%s/monasd.log", srv.dir);
    FILE *f = fopen(log, "r");
    if (f) {
        buf[fread(buf, 1, sizeof buf - 1, f)] = 0;
        fclose(f);
    }
    int found = strstr(buf, text) != NULL;
    if (rc == 0)
        tu_srv_stop(&srv);
    tu_srv_cleanup(&srv);
    ck_assert_msg(rc > 0 && found, "rc %d, log: %s", rc, buf);
    return rc;
}

START_TEST(loopback_only_without_tokens)
{
    const char *open_any[] = {"--listen", "0.0.0.0:0", NULL};
    start_fails_with(open_any, NULL, "refusing to listen on non-loopback");
    /* --insecure allows it. */
    tu_srv_init(&srv);
    const char *insecure[] = {"--listen", "0.0.0.0:0", "--insecure", NULL};
    ck_assert_int_eq(tu_srv_start(&srv, insecure, NULL), 0);
    ck_assert_int_eq(tu_http(&srv, "GET", "/healthz", NULL, NULL, NULL), 200);
    ck_assert_int_eq(tu_srv_stop(&srv), 0);
    tu_srv_cleanup(&srv);
    /* So do tokens. */
    tu_srv_init(&srv);
    const char *env[] = {"MONAS_TOKENS=admin-token-1 admin", NULL};
    ck_assert_int_eq(tu_srv_start(&srv, open_any, env), 0);
    ck_assert_int_eq(tu_srv_stop(&srv), 0);
    tu_srv_cleanup(&srv);
}
END_TEST

START_TEST(bad_configuration)
{
    const char *bad_scope[] = {"MONAS_TOKENS=some-token-1 superuser", NULL};
    start_fails_with(NULL, bad_scope, "unknown scope 'superuser'");
    const char *short_tok[] = {"MONAS_TOKENS=abc admin", NULL};
    start_fails_with(NULL, short_tok, "token of 8");
    const char *missing[] = {"--tokens-file", "/nonexistent/tokens", NULL};
    start_fails_with(missing, NULL, "cannot read tokens file");
    const char *flag[] = {"--no-such-flag", NULL};
    start_fails_with(flag, NULL, "unknown option");
    const char *num[] = {"--max-body-bytes", "ten", NULL};
    start_fails_with(num, NULL, "max-body-bytes");
    const char *env_num[] = {"MONAS_REAP_INTERVAL_MS=0", NULL};
    start_fails_with(NULL, env_num, "MONAS_REAP_INTERVAL_MS");
}
END_TEST

Suite *server_auth_suite(void)
{
    Suite *s = suite_create("server_auth");
    TCase *tc = tcase_create("auth");
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, scopes_from_env);
    tcase_add_test(tc, scopes_from_file);
    tcase_add_test(tc, loopback_only_without_tokens);
    tcase_add_test(tc, bad_configuration);
    suite_add_tcase(s, tc);
    return s;
}
