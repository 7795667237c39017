/* check_graph_json.c — the public layer-graph JSON: parsing, TensorFlow 'same'
 * padding, canonical printing and round trips, the example models under
 * deploy/examples/, errors that name the field, and the "graph" space on top. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "graph_json.h"
#include "space.h"

static struct mn_graph *from_text(const char *text, struct mn_error *err)
{
    cJSON *j = cJSON_Parse(text);
    ck_assert_msg(j != NULL, "test JSON does not parse: %s", text);
    struct mn_graph *g = mn_graph_from_json(j, err);
    cJSON_Delete(j);
    return g;
}

static char *read_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    ck_assert_msg(f != NULL, "cannot open %s", path);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc((size_t)n + 1);
    ck_assert_int_eq(fread(buf, 1, (size_t)n, f), (size_t)n);
    buf[n] = '\0';
    fclose(f);
    return buf;
}

/* to_json(from_json(to_json(g))) prints the same text as to_json(g); returns it. */
static char *assert_round_trip(const struct mn_graph *g)
{
    struct mn_error err;
    cJSON *j = mn_graph_to_json(g);
    char *a = cJSON_PrintUnformatted(j);
    struct mn_graph *g2 = mn_graph_from_json(j, &err);
    ck_assert_msg(g2 != NULL, "reparse: %s: %s", err.field, err.message);
    ck_assert_int_eq(g2->n, g->n);
    ck_assert_int_eq(mn_graph_params(g2), mn_graph_params(g));
    ck_assert_int_eq(mn_graph_macs(g2), mn_graph_macs(g));
    for (int i = 0; i < g->n; i++) {
        const struct mn_layer *x = &g->layers[i], *y = &g2->layers[i];
        ck_assert(x->op == y->op && x->n_in == y->n_in && x->kh == y->kh && x->kw == y->kw &&
                  x->sh == y->sh && x->sw == y->sw && x->pad_t == y->pad_t &&
                  x->pad_b == y->pad_b && x->pad_l == y->pad_l && x->pad_r == y->pad_r &&
                  x->bias == y->bias && x->bn == y->bn && x->act == y->act &&
                  x->count_include_pad == y->count_include_pad &&
                  x->out.c == y->out.c && x->out.h == y->out.h && x->out.w == y->out.w);
        for (int k = 0; k < x->n_in; k++)
            ck_assert_int_eq(x->in[k], y->in[k]);
    }
    cJSON *j2 = mn_graph_to_json(g2);
    char *b = cJSON_PrintUnformatted(j2);
    ck_assert_str_eq(a, b);
    free(b);
    cJSON_Delete(j2);
    cJSON_Delete(j);
    mn_graph_free(g2);
    return a;
}

START_TEST(unas_test_vector_as_json)
{
    struct mn_error err;
    struct mn_graph *g = from_text(
        "{\"input\":{\"c\":3,\"h\":32,\"w\":32},\"layers\":["
        "{\"op\":\"conv2d\",\"filters\":5,\"kernel\":3,\"activation\":\"relu\"},"
        "{\"op\":\"flatten\"},{\"op\":\"dense\",\"units\":10}]}", &err);
    ck_assert_msg(g != NULL, "%s", err.message);
    ck_assert_int_eq(mn_graph_macs(g), 166500);
    ck_assert_int_eq(mn_graph_params(g), 45150);
    free(assert_round_trip(g));
    mn_graph_free(g);
}
END_TEST

START_TEST(same_padding_is_tensorflows)
{
    struct mn_error err;
    struct mn_graph *g = from_text(
        "{\"input\":{\"c\":1,\"h\":6,\"w\":5},\"layers\":["
        "{\"op\":\"conv2d\",\"name\":\"a\",\"filters\":2,\"kernel\":3,\"stride\":2,"
        "\"padding\":\"same\"},"
        "{\"op\":\"maxpool\",\"inputs\":[\"input\"],\"kernel\":2,\"padding\":\"same\"},"
        "{\"op\":\"avgpool\",\"inputs\":[\"a\"],\"kernel\":[1,2],\"stride\":1,"
        "\"padding\":[0,0,1,0],\"count_include_pad\":true}]}", &err);
    ck_assert_msg(g != NULL, "%s: %s", err.field, err.message);
    const struct mn_layer *c = &g->layers[1];
    /* h 6, k 3, s 2: out 3, total pad 1 → (0, 1); w 5: out 3, total 2 → (1, 1). */
    ck_assert_int_eq(c->out.h, 3);
    ck_assert_int_eq(c->out.w, 3);
    ck_assert(c->pad_t == 0 && c->pad_b == 1 && c->pad_l == 1 && c->pad_r == 1);
    ck_assert_int_eq(c->bias, 1); /* the default, as in Keras and PyTorch */
    const struct mn_layer *p = &g->layers[2];
    ck_assert_int_eq(p->in[0], 0);
    ck_assert(p->sh == 2 && p->out.h == 3 && p->out.w == 3 && p->pad_r == 1 && p->pad_b == 0);
    ck_assert_int_eq(g->layers[3].in[0], 1);
    ck_assert_int_eq(g->layers[3].out.w, 3);
    char *text = assert_round_trip(g);
    ck_assert_ptr_nonnull(strstr(text, "\"padding\":[0,1,1,1]"));
    ck_assert_ptr_nonnull(strstr(text, "\"inputs\":[\"input\"]"));
    ck_assert_ptr_nonnull(strstr(text, "\"padding\":[0,0,1,0]"));
    ck_assert_ptr_nonnull(strstr(text, "\"count_include_pad\":true"));
    free(text);
    mn_graph_free(g);
}
END_TEST

START_TEST(ds_cnn_example)
{
    char *text = read_file("deploy/examples/ds-cnn-kws.json");
    struct mn_error err;
    struct mn_graph *g = from_text(text, &err);
    ck_assert_msg(g != NULL, "%s: %s", err.field, err.message);
    ck_assert_int_eq(g->n, 14);
    ck_assert_int_eq(g->layers[1].out.c, 64);
    ck_assert_int_eq(g->layers[1].out.h, 25);
    ck_assert_int_eq(g->layers[1].out.w, 5);
    /* conv 125·64·40 + 4 × (dw 125·64·9 + pw 125·64·64) + dense 64·12 */
    ck_assert_int_eq(mn_graph_macs(g), 2656768);
    ck_assert_int_eq(mn_graph_params(g), 23180);
    ck_assert_int_eq(g->layers[g->output].op, MN_OP_SOFTMAX);
    ck_assert_int_eq(g->layers[g->output].out.c, 12);
    free(assert_round_trip(g));
    mn_graph_free(g);
    free(text);
}
END_TEST

START_TEST(mobilenet_v1_example)
{
    char *text = read_file("deploy/examples/mobilenet-v1-0.25-vww.json");
    struct mn_error err;
    struct mn_graph *g = from_text(text, &err);
    ck_assert_msg(g != NULL, "%s: %s", err.field, err.message);
    int dw = 0;
    for (int i = 1; i < g->n; i++)
        dw += g->layers[i].op == MN_OP_DWCONV2D && g->layers[i].act == MN_ACT_RELU6;
    ck_assert_int_eq(dw, 13);
    ck_assert_int_eq(g->layers[g->n - 4].out.h, 3); /* 96 / 32 before the global pool */
    ck_assert_int_eq(g->layers[g->n - 4].out.c, 256);
    ck_assert_int_eq(mn_graph_macs(g), 7489664);
    ck_assert_int_eq(mn_graph_params(g), 213586);
    free(assert_round_trip(g));
    mn_graph_free(g);
    free(text);
}
END_TEST

START_TEST(errors_name_the_field)
{
    static const struct {
        const char *layers, *field, *says;
    } cases[] = {
        {"[{\"op\":\"conv2d\",\"filters\":4,\"kernel\":3},{\"op\":\"relu\"},{\"op\":\"relu\"},"
         "{\"op\":\"conv2d\",\"filters\":4,\"kernel\":0}]", "layers[3].kernel", "between"},
        {"[{\"op\":\"conv2d\",\"filters\":4,\"kernel\":[3,3,3]}]", "layers[0].kernel", "[h, w]"},
        {"[{\"op\":\"conv2d\",\"kernel\":3}]", "layers[0].filters", "missing"},
        {"[{\"op\":\"conv3d\"}]", "layers[0].op", "unknown op 'conv3d'"},
        {"[{\"kernel\":3}]", "layers[0].op", "missing"},
        {"[{\"op\":\"relu\"},{\"op\":\"add\",\"inputs\":[\"input\",\"nope\"]}]",
         "layers[1].inputs[1]", "no earlier layer is named 'nope'"},
        {"[{\"op\":\"relu\"},{\"op\":\"add\",\"inputs\":[0,1]}]", "layers[1].inputs[1]",
         "not an earlier layer"},
        {"[{\"op\":\"add\"}]", "layers[0].inputs", "needs 'inputs'"},
        {"[{\"op\":\"relu\",\"inputs\":[\"input\",\"input\"]}]", "layers[0].inputs", "1 to 1"},
        {"[{\"op\":\"dense\",\"units\":3}]", "layers[0]", "input must be flat"},
        {"[{\"op\":\"conv2d\",\"filters\":4,\"kernel\":3,\"units\":2}]", "layers[0].units",
         "does not apply to conv2d"},
        {"[{\"op\":\"maxpool\",\"kernel\":2,\"padding\":\"full\"}]", "layers[0].padding",
         "\"same\""},
        {"[{\"op\":\"maxpool\",\"kernel\":2,\"padding\":[0,0,-1,0]}]", "layers[0].padding",
         "between 0"},
        {"[{\"op\":\"relu\",\"name\":\"x\"},{\"op\":\"relu\",\"name\":\"x\"}]",
         "layers[1].name", "already used"},
        {"[{\"op\":\"relu\",\"name\":\"input\"}]", "layers[0].name", "already used"},
        {"[{\"op\":\"relu\",\"activation\":\"gelu\"}]", "layers[0].activation", "one of"},
        {"[{\"op\":\"conv2d\",\"filters\":4,\"kernel\":3,\"bn\":1}]", "layers[0].bn",
         "true or false"},
        {"[]", "layers", "1 to"},
        {"[{\"op\":\"conv2d\",\"filters\":4,\"kernel\":1e300}]", "layers[0].kernel",
         "between"},
        {"[{\"op\":\"relu\",\"inputs\":[1e300]}]", "layers[0].inputs[0]",
         "not an earlier layer"},
        {"[{\"op\":\"relu\",\"inputs\":[true]}]", "layers[0].inputs[0]", "layer name"},
        {"[{\"op\":\"maxpool\",\"kernel\":9}]", "layers[0]", "kernel larger"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char text[1024];
        snprintf(text, sizeof text, "{\"input\":{\"c\":2,\"h\":8,\"w\":8},\"layers\":%s}",
                 cases[i].layers);
        struct mn_error err;
        mn_error_clear(&err);
        struct mn_graph *g = from_text(text, &err);
        ck_assert_msg(g == NULL, "accepted: %s", cases[i].layers);
        ck_assert_msg(strcmp(err.field, cases[i].field) == 0, "%s: field '%s', want '%s'",
                      cases[i].layers, err.field, cases[i].field);
        ck_assert_msg(strstr(err.message, cases[i].says) != NULL, "%s: '%s' lacks '%s'",
                      cases[i].layers, err.message, cases[i].says);
        ck_assert_ptr_null(strstr(err.message, "(layer "));
    }
    struct mn_error err;
    ck_assert_ptr_null(from_text("{\"input\":{\"c\":2,\"w\":8},\"layers\":[]}", &err));
    ck_assert_str_eq(err.field, "input");
    ck_assert_ptr_null(from_text("{\"input\":{\"c\":2,\"h\":0,\"w\":8},\"layers\":[]}", &err));
    ck_assert_str_eq(err.field, "input.h");
    ck_assert_ptr_null(from_text("{\"layers\":[]}", &err));
    ck_assert_str_eq(err.field, "input");
    ck_assert_ptr_null(from_text("{\"input\":{\"c\":1,\"h\":1,\"w\":1},\"layers\":[],"
                                 "\"outputs\":1}", &err));
    ck_assert_str_eq(err.field, "outputs");
    ck_assert_ptr_null(from_text("[1]", &err));
}
END_TEST

START_TEST(space_graphs_round_trip)
{
    struct mn_error err;
    static const struct {
        const char *space, *settings;
    } spaces[] = {{"nb201", NULL},
                  {"nb201", "{\"macro\":\"cell\",\"C\":1,\"N\":1,\"input\":{\"c\":1,\"h\":3,"
                            "\"w\":3}}"},
                  {"unas", NULL}};
    for (size_t s = 0; s < sizeof spaces / sizeof spaces[0]; s++) {
        cJSON *settings = spaces[s].settings ? cJSON_Parse(spaces[s].settings) : NULL;
        struct mn_space *sp = mn_space_create(spaces[s].space, settings, &err);
        cJSON_Delete(settings);
        ck_assert_ptr_nonnull(sp);
        struct mn_rng rng;
        mn_rng_seed(&rng, 5, s);
        for (int t = 0; t < 50; t++) {
            struct mn_arch *a = NULL;
            struct mn_graph *g = NULL;
            ck_assert_int_eq(mn_space_sample(sp, &rng, &a), 0);
            ck_assert_int_eq(mn_space_lower(sp, a, &g, &err), 0);
            free(assert_round_trip(g));
            mn_graph_free(g);
            mn_arch_free(a);
        }
        mn_space_free(sp);
    }
}
END_TEST

START_TEST(graph_space)
{
    struct mn_error err;
    struct mn_space *sp = mn_space_create("graph", NULL, &err);
    ck_assert_ptr_nonnull(sp);
    ck_assert_int_eq(mn_space_size(sp), -1);
    const char *named = "{\"input\":{\"c\":1,\"h\":4,\"w\":4},\"layers\":["
                        "{\"op\":\"conv2d\",\"name\":\"c1\",\"filters\":2,\"kernel\":3,"
                        "\"padding\":\"same\"},"
                        "{\"op\":\"add\",\"inputs\":[\"c1\",0]},{\"op\":\"gmaxpool\"}]}";
    const char *plain = "{\"input\":{\"c\":1,\"h\":4,\"w\":4},\"layers\":["
                        "{\"op\":\"conv2d\",\"filters\":2,\"kernel\":[3,3],\"stride\":1,"
                        "\"padding\":1,\"bias\":true},"
                        "{\"op\":\"add\",\"inputs\":[0,0]},{\"op\":\"gmaxpool\"}]}";
    struct mn_arch *a = NULL, *b = NULL, *c = NULL;
    ck_assert_int_eq(mn_space_arch_from_text(sp, named, &a, &err), 0);
    ck_assert_int_eq(mn_space_arch_from_text(sp, plain, &b, &err), 0);
    char *ka = mn_space_arch_key(sp, a), *kb = mn_space_arch_key(sp, b);
    ck_assert_str_eq(ka, kb);
    ck_assert_str_eq(ka, "{\"input\":{\"c\":1,\"h\":4,\"w\":4},\"layers\":[{\"op\":\"conv2d\","
                         "\"filters\":2,\"kernel\":3,\"padding\":1},{\"op\":\"add\",\"inputs\":"
                         "[0,0]},{\"op\":\"gmaxpool\"}]}");
    cJSON *j = mn_space_arch_to_json(sp, a);
    char *ja = cJSON_PrintUnformatted(j);
    ck_assert_ptr_nonnull(strstr(ja, "\"inputs\":[\"c1\",\"c1\"]"));
    struct mn_graph *g = NULL;
    ck_assert_int_eq(mn_space_lower(sp, a, &g, &err), 0);
    ck_assert_int_eq(g->layers[g->output].out.c, 2);
    struct mn_rng rng;
    mn_rng_seed(&rng, 1, 1);
    ck_assert_int_eq(mn_space_sample(sp, &rng, &c), MN_EUNSUPPORTED);
    ck_assert_int_eq(mn_space_mutate(sp, a, &rng, &c), MN_EUNSUPPORTED);
    ck_assert_int_eq(mn_space_enumerate(sp, 0, &c), MN_EUNSUPPORTED);
    ck_assert_int_eq(mn_space_arch_from_text(sp, "{\"input\":{\"c\":1,\"h\":4,\"w\":4},"
                                             "\"layers\":[{\"op\":\"dense\",\"units\":2}]}",
                                             &c, &err), MN_EINVAL);
    ck_assert_str_eq(err.field, "layers[0]");
    ck_assert_int_eq(mn_space_arch_from_text(sp, "not json", &c, &err), MN_EPARSE);
    free(ja);
    cJSON_Delete(j);
    free(ka);
    free(kb);
    mn_graph_free(g);
    mn_arch_free(a);
    mn_arch_free(b);
    mn_space_free(sp);
    cJSON *s = cJSON_Parse("{\"C\":3}");
    ck_assert_ptr_null(mn_space_create("graph", s, &err));
    ck_assert_str_eq(err.field, "C");
    cJSON_Delete(s);
}
END_TEST

Suite *graph_json_suite(void)
{
    Suite *s = suite_create("graph_json");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, unas_test_vector_as_json);
    tcase_add_test(tc, same_padding_is_tensorflows);
    tcase_add_test(tc, ds_cnn_example);
    tcase_add_test(tc, mobilenet_v1_example);
    tcase_add_test(tc, errors_name_the_field);
    tcase_add_test(tc, space_graphs_round_trip);
    tcase_add_test(tc, graph_space);
    suite_add_tcase(s, tc);
    return s;
}
