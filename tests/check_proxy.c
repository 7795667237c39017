/* check_proxy.c — the proxy layer (proxy.h) apart from PyTorch agreement
 * (check_proxies.c): job-spec parsing with field names, the normalised form and its
 * round trip, describe, network overrides checked against a space, sentinels and flags
 * for degenerate networks, determinism and what the seed and architecture change, a
 * network shared between proxies changing no value, zen's feature map kept, and
 * the CIFAR-10 / IDX readers on small files this test writes itself. */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "proxy.h"
#include "space.h"

#define SMALL "{\"C\":4,\"N\":1,\"input\":{\"c\":3,\"h\":8,\"w\":8}}"
#define ARCH "|nor_conv_3x3~0|+|nor_conv_1x1~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|skip_connect~2|"
#define NONE "|none~0|+|none~0|none~1|+|none~0|none~1|none~2|"

static struct mn_space *space(const char *name, const char *settings)
{
    struct mn_error err = {0};
    cJSON *s = settings ? cJSON_Parse(settings) : NULL;
    struct mn_space *sp = mn_space_create(name, s, &err);
    ck_assert_msg(sp != NULL, "%s", err.message);
    cJSON_Delete(s);
    return sp;
}

static struct mn_proxy_config *config(const char *text)
{
    struct mn_error err = {0};
    struct mn_proxy_config *c = NULL;
    ck_assert_msg(mn_proxies_parse_text(text, &c, &err) == 0, "%s: %s: %s", text, err.field,
                  err.message);
    return c;
}

/* Scores arch with config text; values into v (up to 16). */
static int compute(const char *sp_name, const char *settings, const char *arch,
                   const char *cfg, uint64_t seed, const struct mn_proxy_trace *trace,
                   struct mn_proxy_value *v, struct mn_error *err)
{
    struct mn_space *sp = space(sp_name, settings);
    struct mn_proxy_config *c = config(cfg);
    struct mn_arch *a;
    ck_assert_int_eq(mn_space_arch_from_text(sp, arch, &a, err), 0);
    int rc = mn_proxies_compute(c, sp, a, seed, trace, v, err);
    mn_arch_free(a);
    mn_proxies_free(c);
    mn_space_free(sp);
    return rc;
}

START_TEST(parse_errors_name_the_field)
{
    static const struct {
        const char *text, *field, *needle;
    } cases[] = {
        {"{\"ntk\":{\"batch_size\":0}}", "ntk.batch_size", "between"},
        {"{\"ntk\":{\"mode\":\"slow\"}}", "ntk.mode", "slow"},
        {"{\"ntk\":{\"batches\":2}}", "ntk.batches", "batches"},
        {"{\"synflow\":{\"batch_size\":4}}", "synflow.batch_size", "batch_size"},
        {"{\"zen\":{\"mixup_gamma\":-1}}", "zen.mixup_gamma", "between"},
        {"{\"snip\":{\"init\":\"xavier\"}}", "snip.init", "xavier"},
        {"{\"snip\":{\"dataset\":{\"name\":\"imagenet\",\"path\":\"x\"}}}", "snip.dataset.name",
         "imagenet"},
        {"{\"snip\":{\"dataset\":{\"name\":\"mnist\"}}}", "snip.dataset.path", "missing"},
        {"{\"snip\":{\"network\":3}}", "snip.network", "auto"},
        {"{\"frob\":true}", "frob", "unknown proxy"},
        {"{\"ntk\":7}", "ntk", "object"},
        {"[\"ntk\",\"ntk\"]", "[1]", "twice"},
        {"[\"ntk\",5]", "[1]", "strings"},
        {"{}", "", "no proxy"},
        {"ntk,bogus", "[1]", "bogus"},
        {"{\"ntk\":", "", "malformed"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct mn_error err = {0};
        struct mn_proxy_config *c = NULL;
        ck_assert_msg(mn_proxies_parse_text(cases[i].text, &c, &err) < 0, "%s accepted",
                      cases[i].text);
        ck_assert_ptr_null(c);
        ck_assert_msg(strcmp(err.field, cases[i].field) == 0, "%s: field '%s', want '%s'",
                      cases[i].text, err.field, cases[i].field);
        ck_assert_msg(strstr(err.message, cases[i].needle), "%s: '%s' lacks '%s'",
                      cases[i].text, err.message, cases[i].needle);
    }
}
END_TEST

START_TEST(normalised_form_round_trips)
{
    struct mn_proxy_config *c = config("{\"naswot\":{\"batch_size\":32},\"ntk\":true,"
                                       "\"zen\":{\"network\":{\"C\":8}},\"snip\":{\"dataset\":"
                                       "{\"name\":\"mnist\",\"path\":\"/x\",\"labels\":\"/y\"}}}");
    ck_assert_int_eq(mn_proxies_count(c), 4);
    ck_assert_str_eq(mn_proxies_name(c, 0), "ntk"); /* table order, not input order */
    ck_assert_str_eq(mn_proxies_name(c, 3), "zen");
    ck_assert_ptr_null(mn_proxies_name(c, 4));
    cJSON *j = mn_proxies_to_json(c);
    const cJSON *ntk = cJSON_GetObjectItem(j, "ntk");
    ck_assert_int_eq(cJSON_GetObjectItem(ntk, "batch_size")->valueint, 72); /* TE-NAS */
    ck_assert_int_eq(cJSON_GetObjectItem(ntk, "repeats")->valueint, 3);
    ck_assert_str_eq(cJSON_GetObjectItem(ntk, "init")->valuestring, "kaiming_fan_out");
    ck_assert_str_eq(cJSON_GetObjectItem(ntk, "network")->valuestring, "auto");
    ck_assert_int_eq(cJSON_GetObjectItem(cJSON_GetObjectItem(j, "naswot"), "batch_size")->valueint,
                     32);
    ck_assert_int_eq(cJSON_GetObjectItem(cJSON_GetObjectItem(cJSON_GetObjectItem(j, "zen"),
                                                             "network"), "C")->valueint, 8);
    struct mn_proxy_config *c2;
    struct mn_error err = {0};
    ck_assert_int_eq(mn_proxies_parse(j, &c2, &err), 0);
    cJSON *j2 = mn_proxies_to_json(c2);
    ck_assert(cJSON_Compare(j, j2, 1));
    cJSON_Delete(j2);
    cJSON_Delete(j);
    mn_proxies_free(c2);
    mn_proxies_free(c);
    mn_proxies_free(NULL);

    struct mn_proxy_config *all = mn_proxies_default();
    ck_assert_int_eq(mn_proxies_count(all), 10);
    mn_proxies_free(all);
    cJSON *d = mn_proxies_describe();
    ck_assert_int_eq(cJSON_GetArraySize(d), 10);
    const cJSON *first = cJSON_GetArrayItem(d, 0);
    ck_assert_str_eq(cJSON_GetObjectItem(first, "better")->valuestring, "lower");
    ck_assert(cJSON_GetObjectItem(first, "sentinel")->valuedouble == MN_PROXY_SENTINEL);
    ck_assert_int_eq(cJSON_GetObjectItem(cJSON_GetObjectItem(cJSON_GetObjectItem(first,
                     "auto_network"), "nb201"), "C")->valueint, 3);
    cJSON_Delete(d);
}
END_TEST

START_TEST(network_overrides_checked_against_space)
{
    struct mn_error err = {0};
    struct mn_proxy_config *c = config("{\"ntk\":{\"network\":{\"C\":0}}}");
    cJSON *s = cJSON_Parse(SMALL);
    ck_assert_int_lt(mn_proxies_check_space(c, "nb201", s, &err), 0);
    ck_assert_str_eq(err.field, "ntk.network.C");
    mn_proxies_free(c);
    /* "auto" is nothing outside nb201; the TE-NAS cell override is valid on nb201. */
    c = config("linear_regions,ntk");
    ck_assert_int_eq(mn_proxies_check_space(c, "nb201", s, &err), 0);
    ck_assert_int_eq(mn_proxies_check_space(c, "unas", NULL, &err), 0);
    mn_proxies_free(c);
    cJSON_Delete(s);
}
END_TEST

START_TEST(degenerate_gives_sentinel_and_flag)
{
    struct mn_proxy_value v[16];
    struct mn_error err = {0};
    /* All edges 'none': the cells output zeros, so J = 0 and every code is equal. */
    ck_assert_int_eq(compute("nb201", SMALL, NONE, "{\"ntk\":{\"batch_size\":4,\"repeats\":1},"
                             "\"naswot\":{\"batch_size\":4},\"jacob_cov\":{\"batch_size\":4},"
                             "\"synflow\":true}", 1, NULL, v, &err), 0);
    ck_assert(v[0].degenerate && v[0].value == MN_PROXY_SENTINEL);       /* ntk */
    ck_assert(v[1].value == 0 && !v[1].degenerate);                      /* synflow */
    ck_assert(v[2].degenerate && v[2].value == -MN_PROXY_SENTINEL);      /* jacob_cov */
    ck_assert(v[3].degenerate && v[3].value == -MN_PROXY_SENTINEL);      /* naswot */
    for (int i = 0; i < 4; i++)
        ck_assert(isfinite(v[i].value) && v[i].seconds >= 0);
}
END_TEST

START_TEST(deterministic_and_seeded)
{
    const char *cfg = "{\"ntk\":{\"batch_size\":6,\"repeats\":1},\"snip\":{\"batch_size\":4},"
                      "\"zen\":{\"batch_size\":4},\"linear_regions\":{\"batch_size\":32,"
                      "\"batches\":1,\"repeats\":1}}";
    struct mn_proxy_value a[16], b[16], c[16], d[16];
    struct mn_error err = {0};
    ck_assert_int_eq(compute("nb201", SMALL, ARCH, cfg, 5, NULL, a, &err), 0);
    ck_assert_int_eq(compute("nb201", SMALL, ARCH, cfg, 5, NULL, b, &err), 0);
    ck_assert_int_eq(compute("nb201", SMALL, ARCH, cfg, 6, NULL, c, &err), 0);
    ck_assert_int_eq(compute("nb201", SMALL, "|nor_conv_3x3~0|+|nor_conv_1x1~0|avg_pool_3x3~1|"
                             "+|skip_connect~0|nor_conv_3x3~1|nor_conv_1x1~2|", cfg, 5, NULL, d,
                             &err), 0);
    for (int i = 0; i < 4; i++) {
        ck_assert_msg(memcmp(&a[i].value, &b[i].value, sizeof(double)) == 0, "proxy %d", i);
        ck_assert(!a[i].degenerate);
    }
    ck_assert(a[0].value != c[0].value && a[2].value != c[2].value); /* ntk, snip: seed */
    ck_assert(a[0].value != d[0].value);                              /* architecture */
    ck_assert(a[1].value >= 1 && a[1].value <= 32);                   /* regions ≤ inputs */
}
END_TEST

/* Proxies on the job's own network share one network object (re-initialised per
 * proxy): every value equals the one the proxy gives alone, bit for bit. */
START_TEST(shared_network_changes_no_value)
{
    static const char *const names[] = {"snip", "grad_norm", "jacob_cov", "naswot", "zen"};
    const char *all = "{\"snip\":{\"batch_size\":6},\"grad_norm\":{\"batch_size\":6},"
                      "\"jacob_cov\":{\"batch_size\":6},\"naswot\":{\"batch_size\":6},"
                      "\"zen\":{\"batch_size\":6}}";
    struct mn_proxy_value v[16], one[16];
    struct mn_error err = {0};
    ck_assert_int_eq(compute("nb201", SMALL, ARCH, all, 9, NULL, v, &err), 0);
    for (int i = 0; i < 5; i++) {
        char cfg[64];
        snprintf(cfg, sizeof cfg, "{\"%s\":{\"batch_size\":6}}", names[i]);
        ck_assert_int_eq(compute("nb201", SMALL, ARCH, cfg, 9, NULL, one, &err), 0);
        ck_assert_msg(memcmp(&v[i].value, &one[0].value, sizeof(double)) == 0, "%s: %.17g "
                      "together, %.17g alone", names[i], v[i].value, one[0].value);
    }
}
END_TEST

/* zen reads its pre-head feature map after the forward; where no backward reads it (a
 * conv without activation before a global pool), the shared network's memory plan
 * would reuse it, so zen takes a network that keeps every output: the value is finite
 * and the same alone and after proxies that share the network. */
START_TEST(zen_feature_map_kept)
{
    const char *g = "{\"input\":{\"c\":3,\"h\":6,\"w\":6},\"layers\":["
                    "{\"op\":\"conv2d\",\"filters\":4,\"kernel\":3,\"padding\":\"same\","
                    "\"bn\":true,\"activation\":\"relu\"},"
                    "{\"op\":\"conv2d\",\"filters\":4,\"kernel\":3,\"padding\":\"same\","
                    "\"bn\":true},{\"op\":\"gavgpool\"},{\"op\":\"dense\",\"units\":3}]}";
    struct mn_proxy_value v[16], one[16];
    struct mn_error err = {0};
    ck_assert_int_eq(compute("graph", NULL, g, "{\"naswot\":{\"batch_size\":5},"
                             "\"zen\":{\"batch_size\":5}}", 2, NULL, v, &err), 0);
    ck_assert_int_eq(compute("graph", NULL, g, "{\"zen\":{\"batch_size\":5}}", 2, NULL, one,
                             &err), 0);
    ck_assert(isfinite(one[0].value) && !one[0].degenerate);
    ck_assert_msg(memcmp(&v[1].value, &one[0].value, sizeof(double)) == 0, "%.17g vs %.17g",
                  v[1].value, one[0].value);
}
END_TEST

START_TEST(ntk_modes_differ_but_agree_on_a_bn_free_net)
{
    /* A μNAS net without BN: samples are independent, so exact = fast exactly. */
    const char *arch = "{\"conv_blocks\":[{\"layers\":[{\"type\":\"Conv2D\",\"ker_size\":3,"
                       "\"filters\":4,\"2x_stride\":false,\"has_prepool\":false,\"has_bn\":false,"
                       "\"has_relu\":true}]}],\"pooling\":{\"type\":\"avg\",\"pool_size\":2},"
                       "\"dense_blocks\":[{\"units\":12}]}";
    const char *us = "{\"input\":{\"c\":1,\"h\":10,\"w\":10},\"classes\":4}";
    struct mn_proxy_value e[1], f[1];
    struct mn_error err = {0};
    ck_assert_int_eq(compute("unas", us, arch, "{\"ntk\":{\"batch_size\":5,\"repeats\":1,"
                             "\"mode\":\"exact\"}}", 3, NULL, e, &err), 0);
    ck_assert_int_eq(compute("unas", us, arch, "{\"ntk\":{\"batch_size\":5,\"repeats\":1,"
                             "\"mode\":\"fast\"}}", 3, NULL, f, &err), 0);
    ck_assert_msg(fabs(e[0].value - f[0].value) <= 1e-4 * f[0].value, "%g vs %g", e[0].value,
                  f[0].value);
    /* With BN the modes differ. */
    ck_assert_int_eq(compute("nb201", SMALL, ARCH, "{\"ntk\":{\"batch_size\":5,\"repeats\":1,"
                             "\"mode\":\"exact\"}}", 3, NULL, e, &err), 0);
    ck_assert_int_eq(compute("nb201", SMALL, ARCH, "{\"ntk\":{\"batch_size\":5,\"repeats\":1,"
                             "\"mode\":\"fast\"}}", 3, NULL, f, &err), 0);
    ck_assert(fabs(e[0].value - f[0].value) > 1e-3 * f[0].value);
}
END_TEST

/* ---- dataset readers ---- */

struct capture {
    float input[4096];
    float targets[64];
    int n_input, n_targets;
};

static void cap_tensor(void *ud, const char *proxy, int repeat, const char *tag,
                       const float *data, int64_t count)
{
    struct capture *c = ud;
    (void)proxy;
    (void)repeat;
    if (strcmp(tag, "input0") == 0 && count <= 4096) {
        memcpy(c->input, data, (size_t)count * sizeof *data);
        c->n_input = (int)count;
    } else if (strcmp(tag, "targets0") == 0 && count <= 64) {
        memcpy(c->targets, data, (size_t)count * sizeof *data);
        c->n_targets = (int)count;
    }
}

static void write_file(const char *path, const unsigned char *d, size_t n)
{
    FILE *f = fopen(path, "wb");
    ck_assert_ptr_nonnull(f);
    ck_assert_uint_eq(fwrite(d, 1, n, f), n);
    fclose(f);
}

START_TEST(cifar10_reader)
{
    /* Three records: label 7+i, channel c of image i filled with 40·i + 10·c + 5. */
    static unsigned char rec[3 * 3073];
    for (int i = 0; i < 3; i++) {
        rec[i * 3073] = (unsigned char)(7 + i);
        for (int c = 0; c < 3; c++)
            memset(rec + i * 3073 + 1 + c * 1024, 40 * i + 10 * c + 5, 1024);
    }
    char path[] = "/tmp/monas-cifar-XXXXXX", cfg[512];
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    close(fd);
    write_file(path, rec, sizeof rec);
    static const double mean[3] = {125.3 / 255, 123.0 / 255, 113.9 / 255},
                        std[3] = {63.0 / 255, 62.1 / 255, 66.7 / 255};
    snprintf(cfg, sizeof cfg, "{\"snip\":{\"batch_size\":6,\"dataset\":{\"name\":\"cifar10\","
             "\"path\":\"%s\"}}}", path);
    struct capture cap = {0};
    struct mn_proxy_trace tr = {&cap, NULL, cap_tensor};
    struct mn_proxy_value v[1];
    struct mn_error err = {0};
    ck_assert_msg(compute("nb201", SMALL, ARCH, cfg, 1, &tr, v, &err) == 0, "%s", err.message);
    ck_assert_int_eq(cap.n_input, 6 * 3 * 8 * 8); /* 8×8 crops of 32×32 images */
    ck_assert_int_eq(cap.n_targets, 6);
    for (int s = 0; s < 6; s++) {
        int img = (int)cap.targets[s] - 7; /* the label says which image was drawn */
        ck_assert(img >= 0 && img < 3);
        for (int c = 0; c < 3; c++) {
            double want = ((40 * img + 10 * c + 5) / 255.0 - mean[c]) / std[c];
            for (int k = 0; k < 64; k++)
                ck_assert_double_eq_tol(cap.input[(s * 3 + c) * 64 + k], want, 1e-5);
        }
    }
    /* The network's input must fit in the images; the file must be whole records. */
    ck_assert_int_lt(compute("nb201", "{\"C\":4,\"N\":1,\"input\":{\"c\":3,\"h\":36,\"w\":36}}",
                             ARCH, cfg, 1, NULL, v, &err), 0);
    ck_assert_str_eq(err.field, "snip.dataset");
    write_file(path, rec, 3000);
    ck_assert_int_lt(compute("nb201", SMALL, ARCH, cfg, 1, NULL, v, &err), 0);
    ck_assert_str_eq(err.field, "snip.dataset.path");
    unlink(path);
    ck_assert_int_lt(compute("nb201", SMALL, ARCH, cfg, 1, NULL, v, &err), 0);
    ck_assert(strstr(err.message, "cannot open"));
}
END_TEST

START_TEST(idx_reader_with_labels_and_channel_subset)
{
    /* Two 10×10 images filled with 60 and 200; labels 3 and 9. */
    unsigned char img[16 + 200] = {0, 0, 8, 3, 0, 0, 0, 2, 0, 0, 0, 10, 0, 0, 0, 10};
    unsigned char lab[8 + 2] = {0, 0, 8, 1, 0, 0, 0, 2, 3, 9};
    memset(img + 16, 60, 100);
    memset(img + 116, 200, 100);
    char ip[] = "/tmp/monas-idx-XXXXXX", lp[] = "/tmp/monas-lab-XXXXXX", cfg[512];
    int fd = mkstemp(ip);
    close(fd);
    fd = mkstemp(lp);
    close(fd);
    write_file(ip, img, sizeof img);
    write_file(lp, lab, sizeof lab);
    snprintf(cfg, sizeof cfg, "{\"grad_norm\":{\"batch_size\":8,\"dataset\":{\"name\":"
             "\"fashion_mnist\",\"path\":\"%s\",\"labels\":\"%s\"}}}", ip, lp);
    const char *us = "{\"input\":{\"c\":1,\"h\":6,\"w\":6},\"classes\":10}";
    const char *arch = "{\"conv_blocks\":[{\"layers\":[{\"type\":\"Conv2D\",\"ker_size\":3,"
                       "\"filters\":4,\"2x_stride\":false,\"has_prepool\":false,\"has_bn\":true,"
                       "\"has_relu\":true}]}],\"pooling\":null,\"dense_blocks\":[{\"units\":12}]}";
    struct capture cap = {0};
    struct mn_proxy_trace tr = {&cap, NULL, cap_tensor};
    struct mn_proxy_value v[1];
    struct mn_error err = {0};
    ck_assert_msg(compute("unas", us, arch, cfg, 2, &tr, v, &err) == 0, "%s", err.message);
    ck_assert_int_eq(cap.n_input, 8 * 36);
    int seen[2] = {0, 0};
    for (int s = 0; s < 8; s++) {
        int k = cap.targets[s] == 3 ? 0 : 1;
        ck_assert(cap.targets[s] == 3 || cap.targets[s] == 9);
        seen[k] = 1;
        double want = ((k ? 200 : 60) / 255.0 - 0.2860) / 0.3530;
        for (int p = 0; p < 36; p++)
            ck_assert_double_eq_tol(cap.input[s * 36 + p], want, 1e-5);
    }
    ck_assert(seen[0] && seen[1]);
    /* A label file for another number of images is refused. */
    lab[7] = 3;
    write_file(lp, lab, sizeof lab);
    ck_assert_int_lt(compute("unas", us, arch, cfg, 2, NULL, v, &err), 0);
    ck_assert_str_eq(err.field, "grad_norm.dataset.labels");
    unlink(ip);
    unlink(lp);
}
END_TEST

Suite *proxy_suite(void)
{
    Suite *s = suite_create("proxy");
    TCase *tc = tcase_create("proxy");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, parse_errors_name_the_field);
    tcase_add_test(tc, normalised_form_round_trips);
    tcase_add_test(tc, network_overrides_checked_against_space);
    tcase_add_test(tc, degenerate_gives_sentinel_and_flag);
    tcase_add_test(tc, deterministic_and_seeded);
    tcase_add_test(tc, shared_network_changes_no_value);
    tcase_add_test(tc, zen_feature_map_kept);
    tcase_add_test(tc, ntk_modes_differ_but_agree_on_a_bn_free_net);
    tcase_add_test(tc, cifar10_reader);
    tcase_add_test(tc, idx_reader_with_labels_and_channel_subset);
    suite_add_tcase(s, tc);
    return s;
}
