/* check_graph.c — layer graph construction, shape inference, errors, counts, pruning. */
#include <check.h>
#include <string.h>
#include "graph.h"

START_TEST(unas_test_vector_counts)
{
    /* 32×32×3 → Conv2D(5, 3×3, valid) → flatten → Dense(10) (μNAS's resource model). */
    struct mn_graph *g = mn_graph_new(3, 32, 32);
    int c = mn_graph_conv2d(g, 0, 5, 3, 1, 0, 1, 0, MN_ACT_RELU);
    ck_assert_int_eq(c, 1);
    ck_assert_int_eq(g->layers[c].out.h, 30);
    int f = mn_graph_unary(g, MN_OP_FLATTEN, c);
    ck_assert_int_eq(g->layers[f].out.c, 4500);
    ck_assert_int_ge(mn_graph_dense(g, f, 10, 1, MN_ACT_NONE), 0);
    ck_assert_int_eq(mn_graph_macs(g), 166500);
    ck_assert_int_eq(mn_graph_params(g), 45150);
    mn_graph_free(g);
}
END_TEST

START_TEST(shape_errors_are_reported)
{
    struct mn_graph *g = mn_graph_new(3, 8, 8);
    ck_assert_int_eq(mn_graph_dense(g, 0, 10, 1, MN_ACT_NONE), MN_EINVAL);
    ck_assert_ptr_nonnull(strstr(g->error.message, "flat"));
    ck_assert_int_eq(mn_graph_conv2d(g, 0, 4, 9, 1, 0, 0, 0, MN_ACT_NONE), MN_EINVAL);
    ck_assert_int_eq(mn_graph_conv2d(g, 5, 4, 3, 1, 1, 0, 0, MN_ACT_NONE), MN_EINVAL);
    ck_assert_int_eq(mn_graph_pool(g, MN_OP_AVGPOOL, 0, 3, 1, 2, 0), MN_EINVAL);
    int a = mn_graph_conv2d(g, 0, 4, 3, 1, 1, 0, 1, MN_ACT_NONE);
    int b = mn_graph_conv2d(g, 0, 4, 3, 2, 1, 0, 1, MN_ACT_NONE);
    int ins[2] = {a, b};
    ck_assert_int_eq(mn_graph_addn(g, ins, 2, MN_ACT_NONE), MN_EINVAL);
    ck_assert_int_eq(g->n, 3); /* failed adds leave the graph unchanged */
    mn_graph_free(g);
}
END_TEST

START_TEST(pytorch_and_tf_padding)
{
    struct mn_graph *g = mn_graph_new(3, 32, 32);
    int a = mn_graph_conv2d(g, 0, 8, 3, 2, 1, 0, 0, MN_ACT_NONE); /* PyTorch pad 1 */
    ck_assert_int_eq(g->layers[a].out.h, 16);
    struct mn_layer l = mn_layer_make(MN_OP_CONV2D, 0); /* TF 'same', stride 2: (0, 1) */
    l.filters = 8;
    l.kh = l.kw = 3;
    l.sh = l.sw = 2;
    l.pad_b = l.pad_r = 1;
    int b = mn_graph_add(g, &l);
    ck_assert_int_eq(g->layers[b].out.h, 16);
    int p = mn_graph_pool(g, MN_OP_AVGPOOL, b, 2, 2, 0, 0);
    ck_assert_int_eq(g->layers[p].out.w, 8);
    mn_graph_free(g);
}
END_TEST

START_TEST(prune_drops_dead_layers)
{
    struct mn_graph *g = mn_graph_new(1, 4, 4);
    int dead = mn_graph_conv2d(g, 0, 2, 1, 1, 0, 0, 0, MN_ACT_NONE);
    int live = mn_graph_unary(g, MN_OP_RELU, 0);
    int gp = mn_graph_unary(g, MN_OP_GAVGPOOL, live);
    (void)dead;
    (void)gp;
    ck_assert_int_eq(mn_graph_prune(g), 1);
    ck_assert_int_eq(g->n, 3);
    ck_assert_int_eq(g->output, 2);
    ck_assert_int_eq(g->layers[2].in[0], 1);
    ck_assert_int_eq(g->layers[1].op, MN_OP_RELU);
    mn_graph_free(g);
}
END_TEST

START_TEST(names_round_trip)
{
    for (int op = 0; op < MN_OP_COUNT; op++)
        ck_assert_int_eq(mn_op_from_name(mn_op_name(op)), op);
    ck_assert_int_eq(mn_act_from_name("relu6"), MN_ACT_RELU6);
    ck_assert_int_eq(mn_op_from_name("conv3d"), -1);
}
END_TEST

Suite *graph_suite(void)
{
    Suite *s = suite_create("graph");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, unas_test_vector_counts);
    tcase_add_test(tc, shape_errors_are_reported);
    tcase_add_test(tc, pytorch_and_tf_padding);
    tcase_add_test(tc, prune_drops_dead_layers);
    tcase_add_test(tc, names_round_trip);
    suite_add_tcase(s, tc);
    return s;
}
