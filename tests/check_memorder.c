/* check_memorder.c — the operator-order search: μNAS's test vector, a branching graph
 * where the best order beats the naive one, optimality against brute force over all
 * topological orders of small random graphs, and the beam fallback. */
#include <check.h>
#include <stdlib.h>
#include "graph.h"
#include "memorder.h"
#include "rng.h"

static int64_t *elem_bytes(const struct mn_graph *g, int count_input)
{
    int64_t *b = calloc((size_t)g->n, sizeof *b);
    for (int i = 0; i < g->n; i++)
        b[i] = mn_shape_size(g->layers[i].out);
    if (!count_input)
        b[0] = 0;
    return b;
}

START_TEST(unas_vector_peak)
{
    struct mn_graph *g = mn_graph_new(3, 32, 32);
    int c = mn_graph_conv2d(g, 0, 5, 3, 1, 0, 1, 0, MN_ACT_NONE);
    int f = mn_graph_unary(g, MN_OP_FLATTEN, c);
    ck_assert_int_ge(mn_graph_dense(g, f, 10, 1, MN_ACT_NONE), 0);
    struct mn_error err;
    struct mn_memorder o;
    for (int with_in = 0; with_in < 2; with_in++) {
        int64_t *b = elem_bytes(g, with_in);
        ck_assert_int_eq(mn_memorder_search(g, b, NULL, MN_MEMORDER_BEAM, &o, &err), 0);
        ck_assert_int_eq(o.peak, with_in ? 7572 : 4510);
        ck_assert_int_eq(o.order[o.peak_step], with_in ? c : 3);
        ck_assert_int_eq(o.exact, 1);
        mn_memorder_release(&o);
        free(b);
    }
    mn_graph_free(g);
}
END_TEST

/* input → two branches, each a wide conv then a narrow 1×1 conv, summed. Index order
 * runs both wide convs before either narrow one. */
static struct mn_graph *two_branches(void)
{
    struct mn_graph *g = mn_graph_new(1, 10, 10);
    int a = mn_graph_conv2d(g, 0, 8, 3, 1, 1, 0, 0, MN_ACT_NONE);
    int b = mn_graph_conv2d(g, 0, 8, 3, 1, 1, 0, 0, MN_ACT_NONE);
    int a2 = mn_graph_conv2d(g, a, 1, 1, 1, 0, 0, 0, MN_ACT_NONE);
    int b2 = mn_graph_conv2d(g, b, 1, 1, 1, 0, 0, 0, MN_ACT_NONE);
    int ins[2] = {a2, b2};
    mn_graph_addn(g, ins, 2, MN_ACT_NONE);
    return g;
}

START_TEST(best_order_beats_naive)
{
    struct mn_graph *g = two_branches();
    int64_t *b = elem_bytes(g, 0);
    int naive[6] = {0, 1, 2, 3, 4, 5};
    struct mn_memorder best, idx;
    struct mn_error err;
    ck_assert_int_eq(mn_memorder_eval(g, b, NULL, naive, &idx, &err), 0);
    ck_assert_int_eq(mn_memorder_search(g, b, NULL, MN_MEMORDER_BEAM, &best, &err), 0);
    ck_assert_int_eq(idx.peak, 800 + 800 + 100);   /* a, b live while a2 runs */
    ck_assert_int_eq(best.peak, 100 + 800 + 100);  /* a2 kept while b → b2 runs */
    ck_assert_int_eq(best.exact, 1);
    /* The best order finishes one branch before starting the other. */
    ck_assert_int_eq(best.order[2], best.order[1] == 1 ? 3 : 4);
    mn_memorder_release(&idx);
    int bad[6] = {0, 3, 1, 2, 4, 5};
    ck_assert_int_eq(mn_memorder_eval(g, b, NULL, bad, &idx, &err), MN_EINVAL);
    ck_assert_ptr_null(idx.order); /* nothing half-built */
    mn_memorder_release(&best);
    free(b);
    mn_graph_free(g);
}
END_TEST

/* Smallest peak over every topological order, by exhaustive recursion. */
static void brute(const struct mn_graph *g, const int64_t *b, const int64_t *sc, int *ord,
                  int k, char *used, int64_t *best)
{
    if (k == g->n) {
        struct mn_memorder o;
        struct mn_error err;
        if (mn_memorder_eval(g, b, sc, ord, &o, &err) == 0) {
            if (o.peak < *best)
                *best = o.peak;
            mn_memorder_release(&o);
        }
        return;
    }
    for (int v = 0; v < g->n; v++) {
        if (used[v])
            continue;
        int ok = 1;
        for (int j = 0; j < g->layers[v].n_in; j++)
            ok &= used[g->layers[v].in[j]];
        if (!ok)
            continue;
        used[v] = 1;
        ord[k] = v;
        brute(g, b, sc, ord, k + 1, used, best);
        used[v] = 0;
    }
}

START_TEST(optimal_on_random_dags)
{
    struct mn_rng rng;
    mn_rng_seed(&rng, 7, 0);
    for (int trial = 0; trial < 40; trial++) {
        struct mn_graph *g = mn_graph_new(2, 6, 6);
        int n = 4 + (int)mn_rng_below(&rng, 5);
        for (int i = 1; i < n; i++) {
            int src = (int)mn_rng_below(&rng, (uint64_t)i);
            if (i > 2 && mn_rng_below(&rng, 3) == 0) {
                int other = (int)mn_rng_below(&rng, (uint64_t)i);
                int ins[2] = {src, other};
                if (g->layers[src].out.c == g->layers[other].out.c && src != other &&
                    mn_graph_addn(g, ins, 2, MN_ACT_NONE) >= 0)
                    continue;
            }
            int f = 1 + (int)mn_rng_below(&rng, 6);
            ck_assert_int_ge(mn_graph_conv2d(g, src, f, 1, 1, 0, 0, 0, MN_ACT_NONE), 0);
        }
        int64_t *b = elem_bytes(g, trial % 2);
        int64_t *sc = calloc((size_t)g->n, sizeof *sc);
        for (int i = 0; i < g->n; i++)
            sc[i] = (int64_t)mn_rng_below(&rng, 50);
        int *ord = malloc((size_t)g->n * sizeof *ord);
        char *used = calloc((size_t)g->n, 1);
        int64_t want = INT64_MAX;
        brute(g, b, sc, ord, 0, used, &want);
        struct mn_memorder o, o1;
        struct mn_error err;
        ck_assert_int_eq(mn_memorder_search(g, b, sc, MN_MEMORDER_BEAM, &o, &err), 0);
        ck_assert_int_eq(o.exact, 1);
        ck_assert_int_eq(o.peak, want);
        /* A beam of one is greedy: never better than the optimum, still a valid order. */
        ck_assert_int_eq(mn_memorder_search(g, b, sc, 1, &o1, &err), 0);
        ck_assert_int_ge(o1.peak, want);
        mn_memorder_release(&o);
        mn_memorder_release(&o1);
        free(b);
        free(sc);
        free(ord);
        free(used);
        mn_graph_free(g);
    }
}
END_TEST

START_TEST(beam_marks_heuristic)
{
    struct mn_graph *g = two_branches();
    int64_t *b = elem_bytes(g, 1);
    struct mn_memorder o;
    struct mn_error err;
    ck_assert_int_eq(mn_memorder_search(g, b, NULL, 1, &o, &err), 0);
    ck_assert_int_eq(o.exact, 0);
    mn_memorder_release(&o);
    ck_assert_int_eq(mn_memorder_search(g, b, NULL, 0, &o, &err), MN_EINVAL);
    free(b);
    mn_graph_free(g);
}
END_TEST

/* 16 parallel 4-layer branches: 5^16 executed-sets, far beyond the beam. The search
 * stays bounded, says it is a heuristic, and still finishes branches one at a time. */
START_TEST(wide_graph_is_bounded)
{
    struct mn_graph *g = mn_graph_new(4, 16, 16);
    int ends[16];
    for (int b = 0; b < 16; b++) {
        int x = 0;
        for (int k = 0; k < 4; k++)
            x = mn_graph_conv2d(g, x, k == 3 ? 4 : 32, 3, 1, 1, 0, 0, MN_ACT_RELU);
        ends[b] = x;
    }
    ck_assert_int_ge(mn_graph_addn(g, ends, 16, MN_ACT_NONE), 0);
    int64_t *bytes = elem_bytes(g, 1);
    int *naive = malloc((size_t)g->n * sizeof *naive);
    for (int i = 0; i < g->n; i++)
        naive[i] = i;
    struct mn_memorder o, idx;
    struct mn_error err;
    ck_assert_int_eq(mn_memorder_search(g, bytes, NULL, MN_MEMORDER_BEAM, &o, &err), 0);
    ck_assert_int_eq(o.exact, 0);
    ck_assert_int_eq(mn_memorder_eval(g, bytes, NULL, naive, &idx, &err), 0);
    /* Index order here already runs branch by branch; the search must not be worse and
     * must beat breadth-first (all first layers, then all second layers, ...). */
    ck_assert_int_le(o.peak, idx.peak);
    ck_assert_int_lt(o.peak, 1024 + 16 * 8192);
    mn_memorder_release(&o);
    mn_memorder_release(&idx);
    free(naive);
    free(bytes);
    mn_graph_free(g);
}
END_TEST

Suite *memorder_suite(void)
{
    Suite *s = suite_create("memorder");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, unas_vector_peak);
    tcase_add_test(tc, best_order_beats_naive);
    tcase_add_test(tc, optimal_on_random_dags);
    tcase_add_test(tc, beam_marks_heuristic);
    tcase_add_test(tc, wide_graph_is_bounded);
    suite_add_tcase(s, tc);
    return s;
}
