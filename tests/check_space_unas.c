/* check_space_unas.c — the μNAS space: sampling reaches every range's bounds (μNAS
 * itself never does), every morph gives a valid and different architecture, the
 * lowering of branches and stride-2 chains, canonical keys, and field-named errors. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "space.h"

static struct mn_space *unas(const char *settings)
{
    struct mn_error err;
    cJSON *s = settings ? cJSON_Parse(settings) : NULL;
    struct mn_space *sp = mn_space_create("unas", s, &err);
    cJSON_Delete(s);
    ck_assert_msg(sp != NULL, "create: %s", err.message);
    return sp;
}

static int get_int(const cJSON *o, const char *k)
{
    const cJSON *j = cJSON_GetObjectItem(o, k);
    return j ? j->valueint : -1;
}

static int get_bool(const cJSON *o, const char *k)
{
    return cJSON_IsTrue(cJSON_GetObjectItem(o, k));
}

/* Lowers a, checks its JSON re-parses to the same key, returns the key. */
static char *check_valid(const struct mn_space *sp, const struct mn_arch *a)
{
    struct mn_error err;
    struct mn_graph *g = NULL;
    ck_assert_msg(mn_space_lower(sp, a, &g, &err) == 0, "lower: %s", err.message);
    ck_assert_int_eq(g->layers[g->output].op, MN_OP_DENSE);
    ck_assert_int_eq(g->layers[g->output].out.c, 10);
    mn_graph_free(g);
    char *key = mn_space_arch_key(sp, a);
    struct mn_arch *b = NULL;
    ck_assert_msg(mn_space_arch_from_text(sp, key, &b, &err) == 0, "%s: %s: %s", key,
                  err.field, err.message);
    char *k2 = mn_space_arch_key(sp, b);
    ck_assert_str_eq(key, k2);
    free(k2);
    mn_arch_free(b);
    return key;
}

enum { S_BLOCKS, S_LAYERS, S_FILTERS, S_KERNEL, S_DENSE, S_UNITS, S_POOL, N_STATS };

START_TEST(sampling_reaches_every_bound)
{
    static const int lo[N_STATS] = {1, 1, 1, 3, 1, 10, 2};
    static const int hi[N_STATS] = {10, 3, 128, 7, 3, 256, 6};
    int min[N_STATS], max[N_STATS];
    int types[3] = {0}, flags[5][2] = {{0}}, pools[3] = {0};
    for (int s = 0; s < N_STATS; s++) {
        min[s] = 1 << 30;
        max[s] = -1;
    }
    struct mn_space *sp = unas(NULL);
    struct mn_rng rng;
    mn_rng_seed(&rng, 2024, 3);
#define SEE(s, v) do { int v_ = (v); if (v_ < min[s]) min[s] = v_; \
                       if (v_ > max[s]) max[s] = v_; } while (0)
    for (int t = 0; t < 2000; t++) {
        struct mn_arch *a = NULL;
        ck_assert_int_eq(mn_space_sample(sp, &rng, &a), 0);
        free(check_valid(sp, a));
        cJSON *j = mn_space_arch_to_json(sp, a);
        const cJSON *blocks = cJSON_GetObjectItem(j, "conv_blocks"), *b, *l, *d;
        SEE(S_BLOCKS, cJSON_GetArraySize(blocks));
        cJSON_ArrayForEach(b, blocks) {
            const cJSON *layers = cJSON_GetObjectItem(b, "layers");
            int branch = get_bool(b, "is_branch"), n = cJSON_GetArraySize(layers), k = 0;
            flags[0][branch]++;
            SEE(S_LAYERS, n);
            cJSON_ArrayForEach(l, layers) {
                const char *type = cJSON_GetObjectItem(l, "type")->valuestring;
                types[type[0] == 'C' ? 0 : type[0] == '1' ? 1 : 2]++;
                if (get_int(l, "filters") >= 0 && !(branch && k == n - 1))
                    SEE(S_FILTERS, get_int(l, "filters"));
                if (get_int(l, "ker_size") >= 0)
                    SEE(S_KERNEL, get_int(l, "ker_size"));
                if (cJSON_GetObjectItem(l, "2x_stride"))
                    flags[1][get_bool(l, "2x_stride")]++;
                flags[2][get_bool(l, "has_prepool")]++;
                flags[3][get_bool(l, "has_bn")]++;
                flags[4][get_bool(l, "has_relu")]++;
                k++;
            }
        }
        const cJSON *pool = cJSON_GetObjectItem(j, "pooling");
        pools[cJSON_IsNull(pool) ? 2 : strcmp(cJSON_GetObjectItem(pool, "type")->valuestring,
                                              "avg") == 0]++;
        if (!cJSON_IsNull(pool))
            SEE(S_POOL, get_int(pool, "pool_size"));
        const cJSON *dense = cJSON_GetObjectItem(j, "dense_blocks");
        SEE(S_DENSE, cJSON_GetArraySize(dense));
        cJSON_ArrayForEach(d, dense)
            SEE(S_UNITS, get_int(d, "units"));
        cJSON_Delete(j);
        mn_arch_free(a);
    }
#undef SEE
    for (int s = 0; s < N_STATS; s++) {
        ck_assert_msg(min[s] == lo[s], "stat %d: min %d, want %d", s, min[s], lo[s]);
        ck_assert_msg(max[s] == hi[s], "stat %d: max %d, want %d", s, max[s], hi[s]);
    }
    for (int i = 0; i < 3; i++)
        ck_assert_int_gt(types[i], 100);
    for (int f = 0; f < 5; f++)
        ck_assert_msg(flags[f][0] > 50 && flags[f][1] > 50, "flag %d never varies", f);
    for (int i = 0; i < 3; i++)
        ck_assert_int_gt(pools[i], 50);
    mn_space_free(sp);
}
END_TEST

START_TEST(every_mutation_is_valid_and_different)
{
    struct mn_space *sp = unas(NULL);
    struct mn_rng rng;
    mn_rng_seed(&rng, 99, 1);
    int changed_blocks = 0, changed_dense = 0, changed_pool = 0;
    for (int chain = 0; chain < 100; chain++) {
        struct mn_arch *a = NULL;
        ck_assert_int_eq(mn_space_sample(sp, &rng, &a), 0);
        char *ka = check_valid(sp, a);
        for (int step = 0; step < 40; step++) {
            struct mn_arch *c = NULL;
            ck_assert_int_eq(mn_space_mutate(sp, a, &rng, &c), 0);
            char *kc = check_valid(sp, c);
            ck_assert_str_ne(ka, kc);
            cJSON *ja = cJSON_Parse(ka), *jc = cJSON_Parse(kc);
            changed_blocks += cJSON_GetArraySize(cJSON_GetObjectItem(ja, "conv_blocks")) !=
                              cJSON_GetArraySize(cJSON_GetObjectItem(jc, "conv_blocks"));
            changed_dense += cJSON_GetArraySize(cJSON_GetObjectItem(ja, "dense_blocks")) !=
                             cJSON_GetArraySize(cJSON_GetObjectItem(jc, "dense_blocks"));
            changed_pool += cJSON_IsNull(cJSON_GetObjectItem(ja, "pooling")) !=
                            cJSON_IsNull(cJSON_GetObjectItem(jc, "pooling"));
            cJSON_Delete(ja);
            cJSON_Delete(jc);
            free(ka);
            mn_arch_free(a);
            a = c;
            ka = kc;
        }
        free(ka);
        mn_arch_free(a);
    }
    ck_assert_int_gt(changed_blocks, 20);
    ck_assert_int_gt(changed_dense, 20);
    ck_assert_int_gt(changed_pool, 20);
    mn_space_free(sp);
}
END_TEST

static struct mn_graph *lower_text(const struct mn_space *sp, const char *text)
{
    struct mn_error err;
    struct mn_arch *a = NULL;
    struct mn_graph *g = NULL;
    ck_assert_msg(mn_space_arch_from_text(sp, text, &a, &err) == 0, "%s: %s", err.field,
                  err.message);
    ck_assert_msg(mn_space_lower(sp, a, &g, &err) == 0, "%s", err.message);
    mn_arch_free(a);
    return g;
}

START_TEST(branches_are_summed_at_the_smaller_map)
{
    struct mn_space *sp = unas(NULL);
    /* Main: Conv2D 3×3/2, 16 filters: 28 → 13. Branch from the input: DWConv2D 3×3
     * (28 → 26), then a 1×1 Conv2D to 16 channels, max-pooled 26 → 13. */
    struct mn_graph *g = lower_text(sp,
        "{\"conv_blocks\":[{\"layers\":[{\"type\":\"Conv2D\",\"ker_size\":3,\"filters\":16,"
        "\"2x_stride\":true,\"has_relu\":true}]},"
        "{\"is_branch\":true,\"layers\":[{\"type\":\"DWConv2D\",\"ker_size\":3}]}],"
        "\"pooling\":null,\"dense_blocks\":[{\"units\":10}]}");
    int add = -1;
    for (int i = 1; i < g->n; i++)
        if (g->layers[i].op == MN_OP_ADD)
            add = i;
    ck_assert_int_ge(add, 0);
    ck_assert_int_eq(g->layers[add].n_in, 2);
    ck_assert_int_eq(g->layers[add].out.c, 16);
    ck_assert_int_eq(g->layers[add].out.h, 13);
    const struct mn_layer *pool = &g->layers[g->layers[add].in[1]];
    ck_assert_int_eq(pool->op, MN_OP_MAXPOOL);
    ck_assert(pool->kh == 2 && pool->sh == 2);
    /* conv 9·16+16, dw 9+1, 1×1 16+16, dense 2704·10+10, final 10·10+10 */
    ck_assert_int_eq(mn_graph_params(g), 160 + 10 + 32 + 27050 + 110);
    mn_graph_free(g);
    mn_space_free(sp);
}
END_TEST

START_TEST(stride_chains_never_collapse)
{
    struct mn_space *sp = unas(NULL);
    char text[8192];
    int n = snprintf(text, sizeof text, "{\"conv_blocks\":[");
    for (int b = 0; b < 10; b++) {
        n += snprintf(text + n, sizeof text - n, "%s{\"is_branch\":%s,\"layers\":[", b ? "," : "",
                      b % 3 == 2 ? "true" : "false");
        for (int l = 0; l < 3; l++)
            n += snprintf(text + n, sizeof text - n,
                          "%s{\"type\":\"%s\",\"ker_size\":7,\"filters\":128,\"2x_stride\":true,"
                          "\"has_prepool\":true}", l ? "," : "", l == 1 ? "DWConv2D" : "Conv2D");
        n += snprintf(text + n, sizeof text - n, "]}");
    }
    snprintf(text + n, sizeof text - n, "],\"pooling\":{\"type\":\"max\",\"pool_size\":6},"
             "\"dense_blocks\":[{\"units\":256},{\"units\":256},{\"units\":256}]}");
    struct mn_graph *g = lower_text(sp, text);
    for (int i = 0; i < g->n; i++)
        ck_assert(g->layers[i].out.h >= 1 && g->layers[i].out.w >= 1);
    mn_graph_free(g);
    mn_space_free(sp);
    /* A 1×1 input still works. */
    sp = unas("{\"input\":{\"c\":3,\"h\":1,\"w\":1}}");
    g = lower_text(sp, text);
    ck_assert_int_eq(g->layers[1].op, MN_OP_CONV2D); /* no pre-pool on a 1×1 map */
    ck_assert_int_eq(g->layers[1].kh, 1);
    mn_graph_free(g);
    mn_space_free(sp);
}
END_TEST

START_TEST(canonical_form)
{
    struct mn_space *sp = unas(NULL);
    struct mn_error err;
    struct mn_arch *a = NULL;
    /* 1×1 layers have no kernel or stride, DWConv2D no filters; a branch's last layer
     * computes the main path's channels (24) whatever it says. */
    ck_assert_int_eq(mn_space_arch_from_text(sp,
        "{\"conv_blocks\":[{\"layers\":[{\"type\":\"1x1Conv2D\",\"filters\":24,"
        "\"ker_size\":5,\"2x_stride\":true,\"has_bn\":true}]},"
        "{\"is_branch\":true,\"layers\":[{\"type\":\"Conv2D\",\"ker_size\":5,\"filters\":3},"
        "{\"type\":\"Conv2D\",\"ker_size\":3,\"filters\":99}]}],"
        "\"dense_blocks\":[{\"units\":12,\"activation\":\"relu\"}]}", &a, &err), 0);
    char *key = mn_space_arch_key(sp, a);
    ck_assert_str_eq(key,
        "{\"conv_blocks\":[{\"is_branch\":false,\"layers\":[{\"type\":\"1x1Conv2D\","
        "\"filters\":24,\"has_prepool\":false,\"has_bn\":true,\"has_relu\":false}]},"
        "{\"is_branch\":true,\"layers\":[{\"type\":\"Conv2D\",\"ker_size\":5,\"filters\":3,"
        "\"2x_stride\":false,\"has_prepool\":false,\"has_bn\":false,\"has_relu\":false},"
        "{\"type\":\"Conv2D\",\"ker_size\":3,\"filters\":24,\"2x_stride\":false,"
        "\"has_prepool\":false,\"has_bn\":false,\"has_relu\":false}]}],\"pooling\":null,"
        "\"dense_blocks\":[{\"units\":12}]}");
    free(key);
    mn_arch_free(a);
    ck_assert_int_eq(mn_space_size(sp), -1);
    ck_assert_int_eq(mn_space_enumerate(sp, 0, &a), MN_EUNSUPPORTED);
    mn_space_free(sp);
}
END_TEST

START_TEST(errors_name_the_field)
{
    static const struct {
        const char *blocks, *rest, *field;
    } cases[] = {
        {"[{\"layers\":[{\"type\":\"Conv2D\",\"ker_size\":3,\"filters\":129}]}]", NULL,
         "conv_blocks[0].layers[0].filters"},
        {"[{\"layers\":[{\"type\":\"Conv2D\",\"ker_size\":3,\"filters\":1}]},"
         "{\"layers\":[{\"type\":\"DWConv2D\",\"ker_size\":4}]}]", NULL,
         "conv_blocks[1].layers[0].ker_size"},
        {"[{\"layers\":[{\"type\":\"DWConv2D\"}]}]", NULL, "conv_blocks[0].layers[0].ker_size"},
        {"[{\"layers\":[{\"type\":\"Conv3D\"}]}]", NULL, "conv_blocks[0].layers[0].type"},
        {"[{\"layers\":[{\"ker_size\":3}]}]", NULL, "conv_blocks[0].layers[0].type"},
        {"[{\"layers\":[{\"type\":\"1x1Conv2D\",\"filters\":2,\"colour\":1}]}]", NULL,
         "conv_blocks[0].layers[0].colour"},
        {"[{\"is_branch\":true,\"layers\":[{\"type\":\"1x1Conv2D\",\"filters\":2}]}]", NULL,
         "conv_blocks[0].is_branch"},
        {"[{\"layers\":[]}]", NULL, "conv_blocks[0].layers"},
        {"[]", NULL, "conv_blocks"},
        {"[{\"layers\":[{\"type\":\"1x1Conv2D\",\"filters\":2}]}]",
         "\"pooling\":{\"type\":\"avg\",\"pool_size\":3}", "pooling.pool_size"},
        {"[{\"layers\":[{\"type\":\"1x1Conv2D\",\"filters\":2}]}]",
         "\"pooling\":{\"type\":\"min\",\"pool_size\":2}", "pooling.type"},
        {"[{\"layers\":[{\"type\":\"1x1Conv2D\",\"filters\":2}]}]", "\"extra\":1", "extra"},
    };
    struct mn_space *sp = unas(NULL);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char text[2048];
        snprintf(text, sizeof text, "{\"conv_blocks\":%s,\"dense_blocks\":[{\"units\":10}]%s%s}",
                 cases[i].blocks, cases[i].rest ? "," : "", cases[i].rest ? cases[i].rest : "");
        struct mn_error err;
        struct mn_arch *a = NULL;
        ck_assert_msg(mn_space_arch_from_text(sp, text, &a, &err) == MN_EINVAL,
                      "accepted: %s", text);
        ck_assert_msg(strcmp(err.field, cases[i].field) == 0, "%s: field '%s', want '%s'",
                      text, err.field, cases[i].field);
        ck_assert_ptr_null(a);
    }
    struct mn_error err;
    struct mn_arch *a = NULL;
    ck_assert_int_eq(mn_space_arch_from_text(sp, "{\"conv_blocks\":[{\"layers\":[{\"type\":"
                     "\"1x1Conv2D\",\"filters\":2}]}],\"dense_blocks\":[{\"units\":10},"
                     "{\"units\":257}]}", &a, &err), MN_EINVAL);
    ck_assert_str_eq(err.field, "dense_blocks[1].units");
    ck_assert_int_eq(mn_space_arch_from_text(sp, "{\"conv_blocks\":[{\"layers\":[{\"type\":"
                     "\"1x1Conv2D\",\"filters\":2}]}]}", &a, &err), MN_EINVAL);
    ck_assert_str_eq(err.field, "dense_blocks");
    mn_space_free(sp);
    static const struct {
        const char *json, *field;
    } settings[] = {
        {"{\"max_conv_blocks\":17}", "max_conv_blocks"},
        {"{\"max_layers_per_block\":0}", "max_layers_per_block"},
        {"{\"min_dense_units\":50,\"max_dense_units\":20}", "max_dense_units"},
        {"{\"input\":{\"c\":1,\"h\":28}}", "input.w"},
        {"{\"classes\":-1}", "classes"},
        {"{\"filters\":3}", "filters"},
    };
    for (size_t i = 0; i < sizeof settings / sizeof settings[0]; i++) {
        cJSON *s = cJSON_Parse(settings[i].json);
        struct mn_space *bad = mn_space_create("unas", s, &err);
        cJSON_Delete(s);
        if (strcmp(settings[i].field, "input.w") == 0) {
            /* A partial input keeps the other defaults. */
            ck_assert_ptr_nonnull(bad);
            mn_space_free(bad);
            continue;
        }
        ck_assert_msg(bad == NULL, "accepted %s", settings[i].json);
        ck_assert_str_eq(err.field, settings[i].field);
    }
}
END_TEST

START_TEST(settings_shape_the_space)
{
    struct mn_space *sp = unas("{\"input\":{\"c\":3,\"h\":32,\"w\":32},\"classes\":4,"
                               "\"max_conv_blocks\":2,\"max_filters\":8,"
                               "\"max_dense_blocks\":1}");
    cJSON *s = mn_space_settings_json(sp);
    char *text = cJSON_PrintUnformatted(s);
    ck_assert_str_eq(text, "{\"input\":{\"c\":3,\"h\":32,\"w\":32},\"classes\":4,"
                           "\"max_conv_blocks\":2,\"max_layers_per_block\":3,"
                           "\"max_dense_blocks\":1,\"max_filters\":8,\"min_dense_units\":10,"
                           "\"max_dense_units\":256}");
    free(text);
    cJSON_Delete(s);
    struct mn_rng rng;
    mn_rng_seed(&rng, 3, 3);
    for (int t = 0; t < 300; t++) {
        struct mn_arch *a = NULL, *c = NULL;
        struct mn_graph *g = NULL;
        struct mn_error err;
        ck_assert_int_eq(mn_space_sample(sp, &rng, &a), 0);
        ck_assert_int_eq(mn_space_mutate(sp, a, &rng, &c), 0);
        ck_assert_int_eq(mn_space_lower(sp, c, &g, &err), 0);
        ck_assert_int_eq(g->layers[0].out.c, 3);
        ck_assert_int_eq(g->layers[g->output].out.c, 4);
        for (int i = 1; i < g->n; i++)
            if (g->layers[i].op == MN_OP_CONV2D && g->layers[i].kh > 1)
                ck_assert_int_le(g->layers[i].out.c, 8);
        mn_graph_free(g);
        mn_arch_free(a);
        mn_arch_free(c);
    }
    mn_space_free(sp);
}
END_TEST

Suite *space_unas_suite(void)
{
    Suite *s = suite_create("space_unas");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, sampling_reaches_every_bound);
    tcase_add_test(tc, every_mutation_is_valid_and_different);
    tcase_add_test(tc, branches_are_summed_at_the_smaller_map);
    tcase_add_test(tc, stride_chains_never_collapse);
    tcase_add_test(tc, canonical_form);
    tcase_add_test(tc, errors_name_the_field);
    tcase_add_test(tc, settings_shape_the_space);
    suite_add_tcase(s, tc);
    return s;
}
