/* check_space_nb201.c — the NAS-Bench-201 space: string form, every published
 * architecture string, enumeration, sampling and mutation, NB201 parameter counts,
 * supernet edges, TE-NAS's small networks, and errors that name the problem. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "space.h"
#include "testutil.h"

static struct mn_space *nb(const char *settings)
{
    struct mn_error err;
    cJSON *s = settings ? cJSON_Parse(settings) : NULL;
    struct mn_space *sp = mn_space_create("nb201", s, &err);
    cJSON_Delete(s);
    ck_assert_msg(sp != NULL, "create: %s", err.message);
    return sp;
}

static struct mn_arch *parse(const struct mn_space *sp, const char *text)
{
    struct mn_error err;
    struct mn_arch *a = NULL;
    int rc = mn_space_arch_from_text(sp, text, &a, &err);
    ck_assert_msg(rc == 0, "%s: %s", text, err.message);
    return a;
}

static int64_t params_of(const struct mn_space *sp, const char *text)
{
    struct mn_error err;
    struct mn_graph *g = NULL;
    struct mn_arch *a = parse(sp, text);
    ck_assert_int_eq(mn_space_lower(sp, a, &g, &err), 0);
    int64_t p = mn_graph_params(g);
    mn_graph_free(g);
    mn_arch_free(a);
    return p;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

START_TEST(enumerate_gives_15625_distinct_round_tripping_keys)
{
    struct mn_space *sp = nb(NULL);
    ck_assert_int_eq(mn_space_size(sp), 15625);
    char **keys = calloc(15625, sizeof *keys);
    for (int i = 0; i < 15625; i++) {
        struct mn_arch *a = NULL, *b = NULL;
        ck_assert_int_eq(mn_space_enumerate(sp, i, &a), 0);
        keys[i] = mn_space_arch_key(sp, a);
        b = parse(sp, keys[i]);
        char *k2 = mn_space_arch_key(sp, b);
        ck_assert_str_eq(k2, keys[i]);
        free(k2);
        mn_arch_free(a);
        mn_arch_free(b);
    }
    qsort(keys, 15625, sizeof *keys, cmp_str);
    for (int i = 1; i < 15625; i++)
        ck_assert_str_ne(keys[i - 1], keys[i]);
    for (int i = 0; i < 15625; i++)
        free(keys[i]);
    free(keys);
    /* Structure.gen_all's order: the last edge varies fastest. */
    static const struct {
        int64_t index;
        const char *key;
    } order[] = {
        {0, "|none~0|+|none~0|none~1|+|none~0|none~1|none~2|"},
        {1, "|none~0|+|none~0|none~1|+|none~0|none~1|skip_connect~2|"},
        {3125, "|skip_connect~0|+|none~0|none~1|+|none~0|none~1|none~2|"},
        {15624, "|avg_pool_3x3~0|+|avg_pool_3x3~0|avg_pool_3x3~1|+"
                "|avg_pool_3x3~0|avg_pool_3x3~1|avg_pool_3x3~2|"},
    };
    struct mn_arch *a = NULL;
    for (int i = 0; i < 4; i++) {
        ck_assert_int_eq(mn_space_enumerate(sp, order[i].index, &a), 0);
        char *k = mn_space_arch_key(sp, a);
        ck_assert_str_eq(k, order[i].key);
        free(k);
        mn_arch_free(a);
    }
    ck_assert_int_eq(mn_space_enumerate(sp, 15625, &a), MN_EUNSUPPORTED);
    ck_assert_int_eq(mn_space_enumerate(sp, -1, &a), MN_EUNSUPPORTED);
    mn_space_free(sp);
}
END_TEST

START_TEST(every_published_string_parses_and_round_trips)
{
    char path[512];
    if (!tu_shared_data("nb201/nb201-accuracy.csv", path, sizeof path)) {
        tu_skip("nb201 csv round trip", "nb201/nb201-accuracy.csv not found");
        return;
    }
    FILE *f = fopen(path, "r");
    ck_assert_ptr_nonnull(f);
    struct mn_space *sp = nb(NULL);
    char line[1024];
    int rows = 0;
    ck_assert_ptr_nonnull(fgets(line, sizeof line, f)); /* header */
    ck_assert_ptr_nonnull(strstr(line, "ArchitectureString"));
    while (fgets(line, sizeof line, f)) {
        char *s = line;
        for (int col = 0; col < 3 && s; col++)
            s = strchr(s, ',') ? strchr(s, ',') + 1 : NULL;
        ck_assert_ptr_nonnull(s);
        *strchr(s, ',') = '\0';
        struct mn_arch *a = parse(sp, s);
        char *key = mn_space_arch_key(sp, a);
        ck_assert_str_eq(key, s);
        free(key);
        mn_arch_free(a);
        rows++;
    }
    fclose(f);
    ck_assert_int_eq(rows, 15625);
    mn_space_free(sp);
}
END_TEST

START_TEST(parameter_counts_match_nb201)
{
    static const char *const ops[] = {"nor_conv_3x3", "nor_conv_1x1"};
    static const int64_t adds[] = {243040, 28000};
    struct mn_space *sp = nb(NULL);
    ck_assert_int_eq(params_of(sp, "|none~0|+|none~0|none~1|+|none~0|none~1|none~2|"), 73306);
    const char *skips = "|skip_connect~0|+|skip_connect~0|skip_connect~1|+"
                        "|skip_connect~0|skip_connect~1|skip_connect~2|";
    ck_assert_int_eq(params_of(sp, skips), 73306);
    /* Every edge is live in an all-skip cell: each conv edge adds its NB201 count. */
    for (int o = 0; o < 2; o++)
        for (int e = 0; e < 6; e++) {
            char text[256];
            int n = 0, k = 0;
            for (int node = 1; node <= 3; node++) {
                n += snprintf(text + n, sizeof text - n, "%s|", node > 1 ? "+" : "");
                for (int j = 0; j < node; j++, k++)
                    n += snprintf(text + n, sizeof text - n, "%s~%d|",
                                  k == e ? ops[o] : "skip_connect", j);
            }
            ck_assert_int_eq(params_of(sp, text), 73306 + adds[o]);
        }
    ck_assert_int_eq(params_of(sp, "|avg_pool_3x3~0|+|nor_conv_1x1~0|skip_connect~1|+"
                                   "|nor_conv_1x1~0|skip_connect~1|skip_connect~2|"),
                     129306);
    ck_assert_int_eq(params_of(sp, "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+"
                                   "|nor_conv_3x3~0|nor_conv_3x3~1|nor_conv_3x3~2|"),
                     73306 + 6 * 243040);
    /* A conv whose node feeds nothing is dead and pruned. */
    ck_assert_int_eq(params_of(sp, "|nor_conv_3x3~0|+|none~0|none~1|+|none~0|none~1|none~2|"),
                     73306);
    mn_space_free(sp);
}
END_TEST

START_TEST(lowered_cell_has_nb201_ops)
{
    struct mn_space *sp = nb(NULL);
    struct mn_error err;
    struct mn_graph *g = NULL;
    struct mn_arch *a = parse(sp, "|nor_conv_3x3~0|+|avg_pool_3x3~0|none~1|+"
                                  "|none~0|none~1|skip_connect~2|");
    ck_assert_int_eq(mn_space_lower(sp, a, &g, &err), 0);
    int relu_conv = 0, pools = 0, zeros = 0;
    for (int i = 1; i < g->n; i++) {
        const struct mn_layer *l = &g->layers[i];
        if (l->op == MN_OP_CONV2D && l->kh == 3 && l->sh == 1 &&
            g->layers[l->in[0]].op == MN_OP_RELU) {
            ck_assert(!l->bias && l->bn && l->pad_t == 1);
            relu_conv++;
        }
        if (l->op == MN_OP_AVGPOOL && l->kh == 3) {
            ck_assert(l->sh == 1 && l->pad_l == 1 && !l->count_include_pad);
            pools++;
        }
        zeros += l->op == MN_OP_ZERO;
    }
    /* node 3 = skip from node 2 = avgpool of the cell input; the conv is dead. */
    ck_assert_int_eq(pools, 15);
    ck_assert_int_eq(zeros, 0);
    ck_assert_int_eq(relu_conv, 2); /* only the two resblocks' second convs */
    ck_assert_int_eq(g->layers[g->output].op, MN_OP_DENSE);
    ck_assert_int_eq(g->layers[g->output].out.c, 10);
    ck_assert_int_eq(g->layers[1].op, MN_OP_CONV2D); /* stem */
    ck_assert_int_eq(g->layers[1].out.c, 16);
    mn_graph_free(g);
    mn_arch_free(a);
    mn_space_free(sp);
}
END_TEST

START_TEST(supernet_edges_sum_their_ops)
{
    struct mn_space *sp = nb(NULL);
    const char *full = "|none,skip_connect,nor_conv_1x1,nor_conv_3x3,avg_pool_3x3~0|+"
                       "|avg_pool_3x3,nor_conv_3x3,nor_conv_1x1,skip_connect~0|"
                       "skip_connect,nor_conv_1x1,nor_conv_3x3,avg_pool_3x3~1|+"
                       "|skip_connect,nor_conv_1x1,nor_conv_3x3,avg_pool_3x3~0|"
                       "skip_connect,nor_conv_1x1,nor_conv_3x3,avg_pool_3x3~1|"
                       "skip_connect,nor_conv_1x1,nor_conv_3x3,avg_pool_3x3~2|";
    struct mn_arch *a = parse(sp, full);
    char *key = mn_space_arch_key(sp, a);
    ck_assert_str_eq(key, "|skip_connect,nor_conv_1x1,nor_conv_3x3,avg_pool_3x3~0|+"
                          "|skip_connect,nor_conv_1x1,nor_conv_3x3,avg_pool_3x3~0|"
                          "skip_connect,nor_conv_1x1,nor_conv_3x3,avg_pool_3x3~1|+"
                          "|skip_connect,nor_conv_1x1,nor_conv_3x3,avg_pool_3x3~0|"
                          "skip_connect,nor_conv_1x1,nor_conv_3x3,avg_pool_3x3~1|"
                          "skip_connect,nor_conv_1x1,nor_conv_3x3,avg_pool_3x3~2|");
    ck_assert_int_eq(params_of(sp, key), 73306 + 6 * (243040 + 28000));
    struct mn_error err;
    struct mn_graph *g = NULL;
    ck_assert_int_eq(mn_space_lower(sp, a, &g, &err), 0);
    int max_fan_in = 0;
    for (int i = 1; i < g->n; i++)
        if (g->layers[i].op == MN_OP_ADD && g->layers[i].n_in > max_fan_in)
            max_fan_in = g->layers[i].n_in;
    ck_assert_int_eq(max_fan_in, 12); /* node 3: 3 edges × 4 ops */
    mn_graph_free(g);
    free(key);
    /* Mutating a supernet arch gives a single-op edge. */
    struct mn_rng rng;
    mn_rng_seed(&rng, 1, 0);
    struct mn_arch *child = NULL;
    ck_assert_int_eq(mn_space_mutate(sp, a, &rng, &child), 0);
    char *ck = mn_space_arch_key(sp, child);
    ck_assert_int_eq(strlen(ck) < strlen(full) - 40, 1);
    free(ck);
    mn_arch_free(child);
    mn_arch_free(a);
    mn_space_free(sp);
}
END_TEST

START_TEST(sample_and_mutate)
{
    struct mn_space *sp = nb(NULL);
    struct mn_rng rng;
    mn_rng_seed(&rng, 42, 7);
    int seen_ops[5] = {0};
    static const char *const names[] = {"none~", "skip_connect~", "nor_conv_1x1~",
                                        "nor_conv_3x3~", "avg_pool_3x3~"};
    for (int t = 0; t < 1000; t++) {
        struct mn_arch *a = NULL, *c = NULL;
        ck_assert_int_eq(mn_space_sample(sp, &rng, &a), 0);
        ck_assert_int_eq(mn_space_mutate(sp, a, &rng, &c), 0);
        char *ka = mn_space_arch_key(sp, a), *kc = mn_space_arch_key(sp, c);
        ck_assert_ptr_null(strchr(ka, ','));
        for (int o = 0; o < 5; o++)
            seen_ops[o] += strstr(ka, names[o]) != NULL;
        /* Exactly one edge differs: compare the 6 '|'-separated edge tokens. */
        int diff = 0;
        char *sa, *sc, *pa = strtok_r(ka, "|+", &sa), *pc = strtok_r(kc, "|+", &sc);
        for (; pa && pc; pa = strtok_r(NULL, "|+", &sa), pc = strtok_r(NULL, "|+", &sc))
            diff += strcmp(pa, pc) != 0;
        ck_assert_int_eq(diff, 1);
        free(ka);
        free(kc);
        mn_arch_free(a);
        mn_arch_free(c);
    }
    for (int o = 0; o < 5; o++)
        ck_assert_int_gt(seen_ops[o], 100);
    mn_space_free(sp);
}
END_TEST

START_TEST(bad_strings_name_the_problem)
{
    static const struct {
        const char *text;
        int code;
        const char *says;
    } cases[] = {
        {"|nor_conv_3x3~0|+|foo~0|none~1|+|none~0|none~1|none~2|", MN_EINVAL,
         "unknown op 'foo' at edge 1"},
        {"|none~0|+|none~0|none~1|+|none~0|none~1|foo~2|", MN_EINVAL, "at edge 5"},
        {"|none~0|+|none~0|none~1|", MN_EPARSE, "expected 3 nodes"},
        {"|none~0|+|none~0|none~1|+|none~0|none~1|none~2|+|none~0|", MN_EPARSE,
         "got 4"},
        {"|none~0|+|none~0|+|none~0|none~1|none~2|", MN_EPARSE,
         "node 2 must have 2 edges, got 1"},
        {"|none~0|+|none~0|none~2|+|none~0|none~1|none~2|", MN_EPARSE,
         "must come from node 1"},
        {"|none|+|none~0|none~1|+|none~0|none~1|none~2|", MN_EPARSE, "expected 'op~0'"},
        {"none~0+|none~0|none~1|+|none~0|none~1|none~2|", MN_EPARSE, "'|...|'"},
        {"|none,none~0|+|none~0|none~1|+|none~0|none~1|none~2|", MN_EINVAL, "repeated"},
        {"|~0|+|none~0|none~1|+|none~0|none~1|none~2|", MN_EINVAL, "unknown op ''"},
        {"", MN_EPARSE, "expected 3 nodes"},
        {"{\"x\":1}", MN_EINVAL, "is a string"},
        {"[1", MN_EPARSE, "not valid JSON"},
    };
    struct mn_space *sp = nb(NULL);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct mn_error err;
        struct mn_arch *a = NULL;
        int rc = mn_space_arch_from_text(sp, cases[i].text, &a, &err);
        ck_assert_msg(rc == cases[i].code, "%s: rc %d", cases[i].text, rc);
        ck_assert_msg(strstr(err.message, cases[i].says), "%s: '%s' lacks '%s'",
                      cases[i].text, err.message, cases[i].says);
        ck_assert_ptr_null(a);
    }
    /* The JSON form is the same string. */
    struct mn_error err;
    struct mn_arch *a = NULL;
    cJSON *j = cJSON_CreateString("|none~0|+|none~0|none~1|+|none~0|none~1|none~2|");
    ck_assert_int_eq(mn_space_arch_from_json(sp, j, &a, &err), 0);
    cJSON *back = mn_space_arch_to_json(sp, a);
    ck_assert_str_eq(back->valuestring, j->valuestring);
    cJSON_Delete(back);
    cJSON_Delete(j);
    mn_arch_free(a);
    mn_space_free(sp);
}
END_TEST

START_TEST(settings_are_validated_with_field_names)
{
    static const struct {
        const char *json, *field;
    } cases[] = {
        {"{\"C\":0}", "C"},
        {"{\"N\":\"5\"}", "N"},
        {"{\"classes\":0}", "classes"},
        {"{\"input\":{\"c\":3,\"h\":30,\"w\":32}}", "input.h"},
        {"{\"input\":{\"c\":0,\"h\":32,\"w\":32}}", "input.c"},
        {"{\"input\":{\"c\":3,\"h\":32,\"w\":32,\"d\":1}}", "input.d"},
        {"{\"macro\":\"darts\"}", "macro"},
        {"{\"macro\":\"cell\",\"C\":2}", "input.c"},
        {"{\"colour\":1}", "colour"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct mn_error err;
        cJSON *s = cJSON_Parse(cases[i].json);
        struct mn_space *sp = mn_space_create("nb201", s, &err);
        cJSON_Delete(s);
        ck_assert_msg(sp == NULL, "%s accepted", cases[i].json);
        ck_assert_int_eq(err.code, MN_EINVAL);
        ck_assert_str_eq(err.field, cases[i].field);
    }
    struct mn_space *sp = nb(NULL);
    cJSON *settings = mn_space_settings_json(sp);
    char *s = cJSON_PrintUnformatted(settings);
    cJSON_Delete(settings);
    ck_assert_str_eq(s, "{\"C\":16,\"N\":5,\"input\":{\"c\":3,\"h\":32,\"w\":32},"
                        "\"classes\":10,\"macro\":\"network\"}");
    free(s);
    mn_space_free(sp);
}
END_TEST

START_TEST(tenas_small_networks)
{
    /* NTK network: C=3, N=1 — just settings. */
    struct mn_space *sp = nb("{\"C\":3,\"N\":1}");
    struct mn_error err;
    struct mn_graph *g = NULL;
    struct mn_arch *a = parse(sp, "|nor_conv_3x3~0|+|skip_connect~0|nor_conv_1x1~1|+"
                                  "|avg_pool_3x3~0|none~1|nor_conv_3x3~2|");
    ck_assert_int_eq(mn_space_lower(sp, a, &g, &err), 0);
    ck_assert_int_eq(g->layers[g->output].op, MN_OP_DENSE);
    ck_assert_int_eq(g->layers[g->layers[g->output].in[0]].out.c, 12);
    mn_graph_free(g);
    mn_arch_free(a);
    mn_space_free(sp);
    /* Linear-region network: one cell at C=1 on 1×3×3 inputs, no stem, BN+ReLU, GAP,
     * linear. */
    sp = nb("{\"C\":1,\"N\":1,\"macro\":\"cell\",\"input\":{\"c\":1,\"h\":3,\"w\":3}}");
    a = parse(sp, "|nor_conv_3x3~0|+|skip_connect~0|nor_conv_1x1~1|+"
                  "|avg_pool_3x3~0|none~1|nor_conv_3x3~2|");
    g = NULL;
    ck_assert_int_eq(mn_space_lower(sp, a, &g, &err), 0);
    ck_assert_int_eq(g->layers[1].op, MN_OP_RELU); /* no stem: the cell's first op */
    /* convs 9+2, 1+2, 9+2; BN 2; linear 1·10+10 */
    ck_assert_int_eq(mn_graph_params(g), 11 + 3 + 11 + 2 + 20);
    for (int i = 1; i < g->n; i++) {
        ck_assert_int_eq(g->layers[i].out.h * g->layers[i].out.w == 9 ||
                         g->layers[i].out.h == 1, 1);
    }
    mn_graph_free(g);
    mn_arch_free(a);
    mn_space_free(sp);
}
END_TEST

START_TEST(spaces_are_described)
{
    cJSON *d = mn_spaces_describe();
    ck_assert_int_eq(cJSON_GetArraySize(d), 3);
    cJSON *first = cJSON_GetArrayItem(d, 0);
    ck_assert_str_eq(cJSON_GetObjectItem(first, "name")->valuestring, "nb201");
    ck_assert_int_eq(cJSON_GetObjectItem(first, "size")->valueint, 15625);
    ck_assert_int_eq(cJSON_GetObjectItem(cJSON_GetObjectItem(first, "settings"), "C")
                         ->valueint, 16);
    ck_assert(cJSON_IsNull(cJSON_GetObjectItem(cJSON_GetArrayItem(d, 1), "size")));
    cJSON_Delete(d);
    struct mn_error err;
    ck_assert_ptr_null(mn_space_create("darts", NULL, &err));
    ck_assert_ptr_nonnull(strstr(err.message, "unknown search space 'darts'"));
}
END_TEST

Suite *space_nb201_suite(void)
{
    Suite *s = suite_create("space_nb201");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, enumerate_gives_15625_distinct_round_tripping_keys);
    tcase_add_test(tc, every_published_string_parses_and_round_trips);
    tcase_add_test(tc, parameter_counts_match_nb201);
    tcase_add_test(tc, lowered_cell_has_nb201_ops);
    tcase_add_test(tc, supernet_edges_sum_their_ops);
    tcase_add_test(tc, sample_and_mutate);
    tcase_add_test(tc, bad_strings_name_the_problem);
    tcase_add_test(tc, settings_are_validated_with_field_names);
    tcase_add_test(tc, tenas_small_networks);
    tcase_add_test(tc, spaces_are_described);
    suite_add_tcase(s, tc);
    return s;
}
