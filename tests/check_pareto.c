/* check_pareto.c — Pareto dominance, the incremental front and exact hypervolume,
 * checked against brute force on random point sets in 1-4 objectives. */
#include <check.h>
#include <math.h>
#include <stdlib.h>
#include "error.h"
#include "pareto.h"
#include "rng.h"

/* Brute-force hypervolume: the grid cells formed by all coordinates (and ref) are
 * either wholly dominated or not; sum the dominated ones. */
static double brute_hv(const double *pts, int n, int d, const double *ref)
{
    double *axes[4];
    int len[4];
    for (int k = 0; k < d; k++) {
        axes[k] = malloc(sizeof(double) * (size_t)(n + 1));
        len[k] = 0;
        for (int i = 0; i < n; i++)
            if (pts[i * d + k] < ref[k])
                axes[k][len[k]++] = pts[i * d + k];
        axes[k][len[k]++] = ref[k];
        for (int a = 0; a < len[k]; a++) /* insertion sort */
            for (int b = a; b > 0 && axes[k][b] < axes[k][b - 1]; b--) {
                double t = axes[k][b];
                axes[k][b] = axes[k][b - 1];
                axes[k][b - 1] = t;
            }
    }
    int idx[4] = {0};
    double vol = 0;
    for (;;) {
        double lo[4], cell = 1;
        for (int k = 0; k < d; k++) {
            lo[k] = axes[k][idx[k]];
            cell *= (idx[k] + 1 < len[k]) ? axes[k][idx[k] + 1] - lo[k] : 0;
        }
        if (cell > 0)
            for (int i = 0; i < n; i++) {
                int dom = 1;
                for (int k = 0; k < d && dom; k++)
                    dom = pts[i * d + k] <= lo[k];
                if (dom) {
                    vol += cell;
                    break;
                }
            }
        int k = 0;
        while (k < d && ++idx[k] >= len[k])
            idx[k++] = 0;
        if (k == d)
            break;
    }
    for (int k = 0; k < d; k++)
        free(axes[k]);
    return vol;
}

START_TEST(dominance)
{
    double a[] = {1, 2}, b[] = {2, 2}, c[] = {1, 2}, e[] = {0, 3};
    ck_assert(mn_pareto_dominates(a, b, 2));
    ck_assert(!mn_pareto_dominates(b, a, 2));
    ck_assert(!mn_pareto_dominates(a, c, 2)); /* equal: no */
    ck_assert(!mn_pareto_dominates(a, e, 2) && !mn_pareto_dominates(e, a, 2));
}
END_TEST

START_TEST(front_insert)
{
    struct mn_front *f = mn_front_new(2);
    double p1[] = {3, 3}, p2[] = {1, 4}, p3[] = {4, 1}, p4[] = {2, 2}, p5[] = {2, 2}, p6[] = {5, 5};
    ck_assert_int_eq(mn_front_insert(f, 1, p1), 1);
    ck_assert_int_eq(mn_front_insert(f, 2, p2), 1);
    ck_assert_int_eq(mn_front_insert(f, 3, p3), 1);
    ck_assert_int_eq(f->n, 3);
    ck_assert_int_eq(mn_front_insert(f, 4, p4), 1); /* dominates p1 */
    ck_assert_int_eq(f->n_removed, 1);
    ck_assert_int_eq(f->removed[0], 1);
    ck_assert_int_eq(mn_front_insert(f, 5, p5), 0); /* equal to a member */
    ck_assert_int_eq(mn_front_insert(f, 6, p6), 0); /* dominated */
    ck_assert_int_eq(f->n, 3);
    double bad[] = {NAN, 1};
    ck_assert_int_eq(mn_front_insert(f, 7, bad), MN_EINVAL);
    mn_front_free(f);
    ck_assert_ptr_null(mn_front_new(0));
    mn_front_free(NULL);
}
END_TEST

START_TEST(hypervolume_known)
{
    double pts[] = {1, 3, 2, 2, 3, 1}, ref[] = {4, 4};
    ck_assert_double_eq_tol(mn_hypervolume(pts, 3, 2, ref), 6.0, 1e-12);
    double one[] = {0.5, 0.5, 0.5}, r3[] = {1, 1, 1};
    ck_assert_double_eq_tol(mn_hypervolume(one, 1, 3, r3), 0.125, 1e-12);
    double outside[] = {2, 0.5}, r2[] = {1, 1};
    ck_assert_double_eq(mn_hypervolume(outside, 1, 2, r2), 0.0);
    ck_assert_double_eq(mn_hypervolume(NULL, 0, 2, r2), 0.0);
}
END_TEST

START_TEST(hypervolume_random_vs_brute)
{
    struct mn_rng rng;
    mn_rng_seed(&rng, 42, 0);
    for (int trial = 0; trial < 200; trial++) {
        int d = 1 + trial % 4, n = 1 + (int)mn_rng_below(&rng, 12);
        double pts[12 * 4], ref[4];
        for (int k = 0; k < d; k++)
            ref[k] = 1.0;
        for (int i = 0; i < n * d; i++) /* some coordinates beyond ref, some ties */
            pts[i] = (double)mn_rng_below(&rng, 12) / 10.0;
        double want = brute_hv(pts, n, d, ref);
        ck_assert_msg(fabs(mn_hypervolume(pts, n, d, ref) - want) < 1e-9,
                      "trial %d d=%d n=%d: %g vs %g", trial, d, n,
                      mn_hypervolume(pts, n, d, ref), want);
        /* The front keeps the hypervolume of all points. */
        struct mn_front *f = mn_front_new(d);
        for (int i = 0; i < n; i++)
            ck_assert_int_ge(mn_front_insert(f, i, pts + i * d), 0);
        ck_assert_double_eq_tol(mn_hypervolume(f->pts, f->n, d, ref), want, 1e-9);
        for (int i = 0; i < f->n; i++)
            for (int j = 0; j < f->n; j++)
                ck_assert(!mn_pareto_dominates(f->pts + i * d, f->pts + j * d, d));
        mn_front_free(f);
    }
}
END_TEST

Suite *pareto_suite(void)
{
    Suite *s = suite_create("pareto");
    TCase *tc = tcase_create("pareto");
    tcase_add_test(tc, dominance);
    tcase_add_test(tc, front_insert);
    tcase_add_test(tc, hypervolume_known);
    tcase_add_test(tc, hypervolume_random_vs_brute);
    suite_add_tcase(s, tc);
    return s;
}
