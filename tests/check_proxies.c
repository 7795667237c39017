/* check_proxies.c — every zero-cost proxy against PyTorch: the fixtures in
 * tests/fixtures/proxies/ hold the request (space, settings, seed, proxy config, 3
 * NB201 and 3 μNAS architectures) and the values tests/fixtures/gen_proxy_fixtures.py
 * computed in PyTorch on the same networks, parameters and inputs. Relative error
 * ≤ 1e-3 for float32 proxies, ≤ 1e-9 for synflow (float64); counts exact. */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "proxy.h"
#include "space.h"

static const char *const files[] = {"nb201.json", "nb201_ntk_fast.json", "unas.json",
                                    "unas_ntk_fast.json"};

static cJSON *load(const char *name)
{
    char path[256];
    snprintf(path, sizeof path, "tests/fixtures/proxies/%s", name);
    FILE *f = fopen(path, "rb");
    ck_assert_msg(f != NULL, "cannot open %s (run from the repository root)", path);
    static char buf[1 << 16];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    cJSON *j = cJSON_Parse(buf);
    ck_assert_msg(j != NULL, "%s: malformed JSON", path);
    return j;
}

static double tolerance(const char *proxy)
{
    if (strcmp(proxy, "synflow") == 0)
        return 1e-9;
    if (strcmp(proxy, "params") == 0 || strcmp(proxy, "flops") == 0 ||
        strcmp(proxy, "linear_regions") == 0)
        return 0;
    return 1e-3;
}

START_TEST(proxies_match_pytorch)
{
    cJSON *doc = load(files[_i]);
    struct mn_error err = {0};
    struct mn_space *sp = mn_space_create(cJSON_GetObjectItem(doc, "space")->valuestring,
                                          cJSON_GetObjectItem(doc, "settings"), &err);
    ck_assert_msg(sp != NULL, "%s", err.message);
    struct mn_proxy_config *pc;
    ck_assert_int_eq(mn_proxies_parse(cJSON_GetObjectItem(doc, "proxies"), &pc, &err), 0);
    uint64_t seed = (uint64_t)cJSON_GetObjectItem(doc, "seed")->valuedouble;
    int n = mn_proxies_count(pc), compared = 0;
    const cJSON *c;
    cJSON_ArrayForEach(c, cJSON_GetObjectItem(doc, "cases"))
    {
        struct mn_arch *a;
        struct mn_proxy_value v[16];
        ck_assert_int_eq(mn_space_arch_from_json(sp, cJSON_GetObjectItem(c, "arch"), &a, &err),
                         0);
        ck_assert_msg(mn_proxies_compute(pc, sp, a, seed, NULL, v, &err) == 0, "%s: %s",
                      err.field, err.message);
        /* on two threads: the same bits (net.h, Threading) */
        struct mn_proxy_value v2[16];
        mn_proxies_set_threads(pc, 2);
        ck_assert_int_eq(mn_proxies_compute(pc, sp, a, seed, NULL, v2, &err), 0);
        mn_proxies_set_threads(pc, 1);
        for (int i = 0; i < n; i++)
            ck_assert_msg(memcmp(&v[i].value, &v2[i].value, sizeof v[i].value) == 0,
                          "%s: %s differs on two threads: %.17g, %.17g", files[_i],
                          mn_proxies_name(pc, i), v[i].value, v2[i].value);
        const cJSON *exp = cJSON_GetObjectItem(c, "expected");
        for (int i = 0; i < n; i++) {
            const char *name = mn_proxies_name(pc, i);
            const cJSON *e = cJSON_GetObjectItem(exp, name);
            ck_assert_ptr_nonnull(e);
            double want = e->valuedouble, rel = fabs(v[i].value - want) / fmax(fabs(want), 1e-30);
            ck_assert_msg(!v[i].degenerate, "%s: %s degenerate", files[_i], name);
            ck_assert_msg(rel <= tolerance(name), "%s case %d %s: monas %.12g, PyTorch %.12g "
                          "(relative error %.2e)", files[_i], compared / n, name, v[i].value,
                          want, rel);
            compared++;
        }
        mn_arch_free(a);
    }
    ck_assert_int_eq(compared, 3 * n); /* three architectures per file */
    mn_proxies_free(pc);
    mn_space_free(sp);
    cJSON_Delete(doc);
}
END_TEST

Suite *proxies_suite(void)
{
    Suite *s = suite_create("proxies");
    TCase *tc = tcase_create("pytorch");
    tcase_set_timeout(tc, 60);
    tcase_add_loop_test(tc, proxies_match_pytorch, 0, (int)(sizeof files / sizeof files[0]));
    suite_add_tcase(s, tc);
    return s;
}
