/* check_calib.c — calibration: NNLS recovers known coefficients and respects x ≥ 0,
 * the CSV reader lowers rows to graphs and rejects what it cannot use, cross-validated
 * errors are reported, Spearman ρ, and on the shared measurements (skipped when
 * absent) finite errors and shipped profiles that match a fresh fit. */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "calib.h"
#include "mcu.h"
#include "testutil.h"

#define HEADER "board,run,op,in_h,in_w,in_c,out_h,out_w,out_c,k_h,k_w,s_h,s_w,padding," \
               "activation,use_bias,flops_estimate,op_cycles,invoke_cycles,flash_bytes," \
               "tensor_arena_used\n"

START_TEST(nnls_recovers_and_stays_nonnegative)
{
    /* y = 3 + 2·a + 0.5·b exactly: recovered. */
    double A[12 * 3], y[12], x[3];
    for (int i = 0; i < 12; i++) {
        A[3 * i] = 1;
        A[3 * i + 1] = i;
        A[3 * i + 2] = (i * 7) % 5;
        y[i] = 3 + 2 * A[3 * i + 1] + 0.5 * A[3 * i + 2];
    }
    ck_assert_int_eq(mn_calib_nnls(A, y, NULL, 12, 3, x), 0);
    ck_assert_double_eq_tol(x[0], 3, 1e-9);
    ck_assert_double_eq_tol(x[1], 2, 1e-9);
    ck_assert_double_eq_tol(x[2], 0.5, 1e-9);
    /* y = 10 − 1·b: unconstrained LS would go negative; NNLS clamps to 0 and refits. */
    for (int i = 0; i < 12; i++)
        y[i] = 10 + A[3 * i + 1] - A[3 * i + 2];
    ck_assert_int_eq(mn_calib_nnls(A, y, NULL, 12, 3, x), 0);
    ck_assert(x[0] >= 0 && x[1] >= 0 && x[2] == 0);
    ck_assert_int_eq(mn_calib_nnls(A, y, NULL, 12, 9, x), MN_EINVAL);
}
END_TEST

START_TEST(spearman_values)
{
    double a[5] = {1, 2, 3, 4, 5}, b[5] = {10, 20, 30, 40, 50}, c[5] = {5, 4, 3, 2, 1};
    double d[5] = {1, 1, 1, 1, 1};
    ck_assert_double_eq_tol(mn_calib_spearman(a, b, 5), 1, 1e-12);
    ck_assert_double_eq_tol(mn_calib_spearman(a, c, 5), -1, 1e-12);
    ck_assert(isnan(mn_calib_spearman(a, d, 5)));
    double e[4] = {1, 2, 3, 4}, f[4] = {1, 3, 2, 4}; /* ρ = 1 − 6·2/(4·15) = 0.8 */
    ck_assert_double_eq_tol(mn_calib_spearman(e, f, 4), 0.8, 1e-12);
}
END_TEST

/* A synthetic CSV of conv2d layers whose invoke cycles follow known coefficients. */
static char *synthetic_csv(double fixed, double per_mac, double per_elem)
{
    size_t cap = 1 << 16, len = 0;
    char *s = malloc(cap);
    len += (size_t)snprintf(s, cap, HEADER);
    for (int c = 1; c <= 8; c++)
        for (int f = 2; f <= 16; f += 7)
            for (int k = 1; k <= 5; k += 2) {
                int h = 16, w = 10; /* stride 1, same padding: output h × w × f */
                double macs = (double)h * w * f * k * c, out = (double)h * w * f;
                double cyc = fixed + per_mac * macs + per_elem * out;
                len += (size_t)snprintf(s + len, cap - len,
                                        "SYN,r,conv2d,%d,%d,%d,%d,%d,%d,%d,1,1,1,same,relu,True,"
                                        "0,%.3f,%.3f,2000,9000\n",
                                        h, w, c, h, w, f, k, cyc - 400, cyc);
            }
    len += (size_t)snprintf(s + len, cap - len,
                            "SYN,r,conv2d,16,10,3,99,10,4,3,1,1,1,same,relu,True,0,1,1,1,1\n"
                            "SYN,r,lstm,16,10,3,16,10,4,3,1,1,1,same,relu,True,0,1,1,1,1\n");
    return s;
}

START_TEST(fit_recovers_synthetic_coefficients)
{
    char *csv = synthetic_csv(5000, 2.5, 40);
    struct mn_calib_data d;
    struct mn_error err;
    ck_assert_int_eq(mn_calib_parse_csv(csv, &d, &err), 0);
    ck_assert_int_eq(d.n, 8 * 3 * 3);
    ck_assert_int_eq(d.skipped, 2); /* wrong output shape; unknown op */
    const char *boards[4];
    ck_assert_int_eq(mn_calib_boards(&d, boards, 4), 1);
    ck_assert_str_eq(boards[0], "SYN");
    struct mn_calib_fit f;
    ck_assert_int_eq(mn_calib_fit_latency(&d, "SYN", MN_OP_CONV2D, 5, &f, &err), 0);
    ck_assert_double_eq_tol(f.coef[0], 5000, 1e-3);
    ck_assert_double_eq_tol(f.coef[1], 2.5, 1e-8);
    ck_assert_double_eq_tol(f.coef[2], 40, 1e-6);
    ck_assert_int_eq(f.folds, 5);
    ck_assert(f.mape_cv < 1e-6);
    ck_assert(f.spearman_cv > 0.999);
    ck_assert_int_eq(mn_calib_fit_latency(&d, "SYN", MN_OP_ADD, 5, &f, &err), MN_ENOTFOUND);
    ck_assert_int_eq(mn_calib_fit_latency(&d, "NONE", MN_OP_CONV2D, 5, &f, &err),
                     MN_ENOTFOUND);
    /* Leave-one-out when folds is 0. */
    ck_assert_int_eq(mn_calib_fit_latency(&d, "SYN", MN_OP_CONV2D, 0, &f, &err), 0);
    ck_assert_int_eq(f.folds, d.n);
    mn_calib_data_release(&d);
    free(csv);
}
END_TEST

START_TEST(csv_errors)
{
    struct mn_calib_data d;
    struct mn_error err;
    ck_assert_int_eq(mn_calib_parse_csv("board,op\nX,conv2d\n", &d, &err), MN_EPARSE);
    ck_assert_ptr_nonnull(strstr(err.message, "in_h"));
    ck_assert_int_eq(mn_calib_parse_csv("", &d, &err), MN_EPARSE);
    ck_assert_int_eq(mn_calib_read_csv("/nonexistent/x.csv", &d, &err), MN_EIO);
    /* Missing cycles: skipped, not fatal. */
    ck_assert_int_eq(mn_calib_parse_csv(HEADER "B,r,add,4,4,2,4,4,2,,,,,,,,0,,,1,1\n", &d, &err),
                     0);
    ck_assert_int_eq(d.n, 0);
    ck_assert_int_eq(d.skipped, 1);
    mn_calib_data_release(&d);
    mn_calib_data_release(NULL);
}
END_TEST

START_TEST(shared_measurements)
{
    char path[512];
    if (!tu_shared_data("mcu/layer-latency-tflm-cmsis.csv", path, sizeof path)) {
        tu_skip("calib shared_measurements", "../shared/data/mcu absent");
        return;
    }
    struct mn_calib_data d;
    struct mn_error err;
    ck_assert_int_eq(mn_calib_read_csv(path, &d, &err), 0);
    ck_assert_int_gt(d.n, 6000);
    const char *boards[8];
    int nb = mn_calib_boards(&d, boards, 8);
    ck_assert_int_ge(nb, 2);
    for (int b = 0; b < nb; b++) {
        struct mn_calib_fit f;
        ck_assert_int_eq(mn_calib_fit_latency(&d, boards[b], MN_OP_CONV2D, 10, &f, &err), 0);
        ck_assert_msg(isfinite(f.mape_cv) && f.mape_cv < 50, "%s: MAPE %g", boards[b],
                      f.mape_cv);
        ck_assert_msg(f.spearman_cv > 0.9, "%s: rho %g", boards[b], f.spearman_cv);
    }
    /* The shipped fitted profiles hold this fit's coefficients. */
    const char *pairs[2][2] = {{"stm32f446re", "NUCLEOF446RE"}, {"nrf52832", "NiclaSense"}};
    enum mn_op ops[] = {MN_OP_CONV2D, MN_OP_ADD, MN_OP_GAVGPOOL, MN_OP_SOFTMAX};
    for (int p = 0; p < 2; p++) {
        struct mn_mcu *m = mn_mcu_builtin(pairs[p][0], NULL);
        for (int o = 0; o < 4; o++) {
            struct mn_calib_fit f;
            ck_assert_int_eq(mn_calib_fit_latency(&d, pairs[p][1], ops[o], 10, &f, &err), 0);
            const struct mn_mcu_latency *l = &m->latency[ops[o]];
            double got[3] = {l->fixed_cycles, l->cycles_per_mac, l->cycles_per_element};
            for (int c = 0; c < 3; c++)
                ck_assert_msg(fabs(got[c] - f.coef[c]) <= 1e-6 * fabs(f.coef[c]) + 1e-9,
                              "%s %s coef %d: shipped %g, fit %g", pairs[p][0],
                              mn_op_name(ops[o]), c, got[c], f.coef[c]);
        }
        struct mn_calib_memory mem;
        ck_assert_int_eq(mn_calib_fit_memory(&d, pairs[p][1], m, &mem, &err), 0);
        ck_assert_int_eq(m->flash.model_bytes, llround(mem.model_bytes));
        ck_assert_int_eq(m->sram.runtime_bytes, llround(mem.runtime_sram_bytes));
        ck_assert(mem.flash_mape < 5 && mem.arena_mape < 5);
        mn_mcu_free(m);
    }
    mn_calib_data_release(&d);
}
END_TEST

Suite *calib_suite(void)
{
    Suite *s = suite_create("calib");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, nnls_recovers_and_stays_nonnegative);
    tcase_add_test(tc, spearman_values);
    tcase_add_test(tc, fit_recovers_synthetic_coefficients);
    tcase_add_test(tc, csv_errors);
    tcase_add_test(tc, shared_measurements);
    suite_add_tcase(s, tc);
    return s;
}
