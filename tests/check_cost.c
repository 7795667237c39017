/* check_cost.c — the MCU cost model: μNAS's test vector, deployed parameter bytes with
 * folded batch norm, latency terms, scratch and runtime SRAM, budgets, the best
 * operator order, and the JSON form. */
#include <check.h>
#include <math.h>
#include <stdlib.h>
#include "cost.h"
#include "mcu.h"

static struct mn_mcu *f446(void)
{
    struct mn_error err;
    struct mn_mcu *m = mn_mcu_builtin("stm32f446re", &err);
    ck_assert_msg(m != NULL, "%s", err.message);
    return m;
}

/* 32×32×3 → Conv2D(5, 3×3, valid, bias) → flatten → Dense(10). */
static struct mn_graph *unas_vector(void)
{
    struct mn_graph *g = mn_graph_new(3, 32, 32);
    int c = mn_graph_conv2d(g, 0, 5, 3, 1, 0, 1, 0, MN_ACT_RELU);
    int f = mn_graph_unary(g, MN_OP_FLATTEN, c);
    ck_assert_int_ge(mn_graph_dense(g, f, 10, 1, MN_ACT_NONE), 0);
    return g;
}

START_TEST(unas_test_vector)
{
    struct mn_graph *g = unas_vector();
    struct mn_mcu *m = f446();
    struct mn_cost c;
    struct mn_error err;
    ck_assert_int_eq(mn_cost_estimate(g, m, &c, &err), 0);
    ck_assert_int_eq(c.macs, 166500);
    ck_assert_int_eq(c.params, 45150);
    ck_assert_int_eq(c.peak_activation_no_input_bytes, 4510);
    ck_assert_int_eq(c.peak_activation_bytes, 7572);
    ck_assert_int_eq(c.order_exact, 1);
    /* int8 weights; int32 bias + 12 B quantisation per channel for weights and bias. */
    int64_t conv = 135 + 5 * 12 + 5 * (4 + 12), dense = 45000 + 10 * 12 + 10 * (4 + 12);
    ck_assert_int_eq(c.param_bytes, conv + dense);
    int tensors = 1 + 3 + 1 + 3; /* input; conv w,b,out; flatten out; dense w,b,out */
    ck_assert_int_eq(c.flash_bytes, conv + dense + tensors * m->flash.tensor_bytes +
                                        m->flash.model_bytes + m->flash.runtime_bytes);
    /* SRAM: the conv step (input + output + im2col of 2 int16 columns of 27) is the peak. */
    int64_t runtime = m->sram.runtime_bytes + 3 * m->sram.layer_bytes + 15 * m->sram.channel_bytes;
    ck_assert_int_eq(c.peak_sram_bytes, 3072 + 4500 + 4 * 27 + runtime);
    ck_assert_int_eq(c.peak_sram_no_input_bytes, 4500 + 108 + runtime);
    ck_assert_int_eq(c.peak_layer, 1);
    ck_assert_int_eq(c.fits_sram, 1);
    ck_assert_int_eq(c.fits_flash, 1);
    /* Latency: fixed + per MAC + per output element, per layer, over the clock. */
    const struct mn_mcu_latency *lc = &m->latency[MN_OP_CONV2D], *ld = &m->latency[MN_OP_DENSE];
    double cyc = lc->fixed_cycles + lc->cycles_per_mac * 121500 + lc->cycles_per_element * 4500 +
                 ld->fixed_cycles + ld->cycles_per_mac * 45000 + ld->cycles_per_element * 10;
    ck_assert_double_eq_tol(c.latency_cycles, cyc, 1e-6 * cyc);
    ck_assert_double_eq_tol(c.latency_ms, 1e3 * cyc / 180e6, 1e-9);
    ck_assert_int_eq(c.n_layers, 4);
    ck_assert_int_eq(c.layers[1].activation_bytes, 3072 + 4500);
    ck_assert_int_eq(c.layers[1].scratch_bytes, 108);
    mn_cost_release(&c);
    mn_cost_release(&c); /* idempotent */
    mn_mcu_free(m);
    mn_graph_free(g);
}
END_TEST

START_TEST(bn_folds_into_bias)
{
    struct mn_graph *a = mn_graph_new(8, 8, 8), *b = mn_graph_new(8, 8, 8);
    mn_graph_conv2d(a, 0, 16, 3, 1, 1, 0, 1, MN_ACT_RELU); /* conv + BN, no bias */
    mn_graph_conv2d(b, 0, 16, 3, 1, 1, 1, 0, MN_ACT_RELU); /* conv + bias */
    struct mn_mcu *m = f446();
    struct mn_cost ca, cb;
    ck_assert_int_eq(mn_cost_estimate(a, m, &ca, NULL), 0);
    ck_assert_int_eq(mn_cost_estimate(b, m, &cb, NULL), 0);
    ck_assert_int_eq(ca.param_bytes, cb.param_bytes);
    ck_assert_int_eq(ca.flash_bytes, cb.flash_bytes);
    ck_assert_int_eq(ca.params, cb.params + 16); /* PyTorch counts BN's 2 per channel */
    ck_assert_double_eq(ca.latency_cycles, cb.latency_cycles); /* fused: free */
    mn_cost_release(&ca);
    mn_cost_release(&cb);
    mn_mcu_free(m);
    mn_graph_free(a);
    mn_graph_free(b);
}
END_TEST

START_TEST(standalone_ops_and_nary_add)
{
    struct mn_graph *g = mn_graph_new(4, 8, 8);
    int r = mn_graph_unary(g, MN_OP_RELU, 0);
    int p = mn_graph_pool(g, MN_OP_AVGPOOL, 0, 3, 1, 1, 0);
    int bn = mn_graph_unary(g, MN_OP_BATCHNORM, 0);
    int ins[3] = {r, p, bn};
    int add = mn_graph_addn(g, ins, 3, MN_ACT_NONE);
    int one = mn_graph_conv2d(g, add, 4, 1, 1, 0, 0, 0, MN_ACT_NONE);
    struct mn_mcu *m = f446();
    struct mn_cost c;
    ck_assert_int_eq(mn_cost_estimate(g, m, &c, NULL), 0);
    const struct mn_cost_layer *rows[8] = {0};
    for (int k = 0; k < c.n_layers; k++)
        rows[c.layers[k].index] = &c.layers[k];
    const struct mn_mcu_latency *la = &m->latency[MN_OP_ADD], *lp = &m->latency[MN_OP_AVGPOOL];
    double want_add = 2 * la->fixed_cycles + 2 * 256 * la->cycles_per_element;
    ck_assert_double_eq_tol(rows[add]->latency_ms, 1e3 * want_add / 180e6, 1e-9);
    double want_pool = lp->fixed_cycles + lp->cycles_per_mac * 256 * 9 +
                       lp->cycles_per_element * 256;
    ck_assert_double_eq_tol(rows[p]->latency_ms, 1e3 * want_pool / 180e6, 1e-9);
    ck_assert_int_eq(rows[p]->scratch_bytes, 4 * 4);  /* an int32 per channel */
    ck_assert_int_eq(rows[one]->scratch_bytes, 0);    /* 1×1 fast path */
    ck_assert_int_eq(rows[bn]->flash_bytes, 2 * (4 + 12) + 3 * m->flash.tensor_bytes);
    ck_assert_int_eq(rows[r]->macs, 0);
    mn_cost_release(&c);
    mn_mcu_free(m);
    mn_graph_free(g);
}
END_TEST

START_TEST(budgets_decide_fits)
{
    struct mn_graph *g = unas_vector();
    struct mn_mcu *m = f446();
    m->sram_bytes = 8000;   /* activations fit, runtime bookkeeping does not */
    m->flash_bytes = 40000; /* the dense layer alone is 45 KB */
    struct mn_cost c;
    ck_assert_int_eq(mn_cost_estimate(g, m, &c, NULL), 0);
    ck_assert_int_eq(c.fits_sram, 0);
    ck_assert_int_eq(c.fits_flash, 0);
    ck_assert_int_eq(c.sram_budget, 8000);
    mn_cost_release(&c);
    mn_mcu_free(m);
    mn_graph_free(g);
}
END_TEST

START_TEST(branches_use_the_best_order)
{
    /* Two branches (wide 3×3 conv → narrow 1×1 conv) summed: index order keeps both
     * wide tensors at once; the best order finishes one branch first. */
    struct mn_graph *g = mn_graph_new(1, 10, 10);
    int a = mn_graph_conv2d(g, 0, 8, 3, 1, 1, 0, 0, MN_ACT_NONE);
    int b = mn_graph_conv2d(g, 0, 8, 3, 1, 1, 0, 0, MN_ACT_NONE);
    int a2 = mn_graph_conv2d(g, a, 1, 1, 1, 0, 0, 0, MN_ACT_NONE);
    int b2 = mn_graph_conv2d(g, b, 1, 1, 1, 0, 0, 0, MN_ACT_NONE);
    int ins[2] = {a2, b2};
    mn_graph_addn(g, ins, 2, MN_ACT_NONE);
    struct mn_mcu *m = f446();
    struct mn_cost c;
    ck_assert_int_eq(mn_cost_estimate(g, m, &c, NULL), 0);
    ck_assert_int_eq(c.peak_activation_no_input_bytes, 100 + 800 + 100);
    ck_assert_int_eq(c.peak_activation_bytes, 100 + 800 + 100); /* input freed after b */
    ck_assert_int_eq(c.layers[0].index, 0);
    ck_assert_int_eq(c.layers[2].index, c.layers[1].index == a ? a2 : b2);
    mn_cost_release(&c);
    mn_mcu_free(m);
    mn_graph_free(g);
}
END_TEST

START_TEST(json_form)
{
    struct mn_graph *g = unas_vector();
    struct mn_mcu *m = f446();
    struct mn_cost c;
    ck_assert_int_eq(mn_cost_estimate(g, m, &c, NULL), 0);
    cJSON *j = mn_cost_to_json(&c, 1), *k = mn_cost_to_json(&c, 0);
    ck_assert_ptr_nonnull(j);
    ck_assert_int_eq(cJSON_GetObjectItem(j, "macs")->valuedouble, 166500);
    ck_assert_str_eq(cJSON_GetObjectItem(j, "mcu")->valuestring, "stm32f446re");
    ck_assert(cJSON_IsTrue(cJSON_GetObjectItem(j, "fits_sram")));
    cJSON *rows = cJSON_GetObjectItem(j, "layers");
    ck_assert_int_eq(cJSON_GetArraySize(rows), 4);
    cJSON *r1 = cJSON_GetArrayItem(rows, 1);
    ck_assert_str_eq(cJSON_GetObjectItem(r1, "op")->valuestring, "conv2d");
    ck_assert_int_eq(cJSON_GetArrayItem(cJSON_GetObjectItem(r1, "out_shape"), 0)->valueint, 5);
    ck_assert_ptr_null(cJSON_GetObjectItem(k, "layers"));
    cJSON_Delete(j);
    cJSON_Delete(k);
    mn_cost_release(&c);
    mn_mcu_free(m);
    mn_graph_free(g);
}
END_TEST

START_TEST(faster_mcu_is_faster)
{
    struct mn_graph *g = unas_vector();
    const char *ids[] = {"rp2040", "nrf52832", "stm32l4r5", "stm32f446re", "stm32f746",
                         "stm32h743"};
    double ms[6];
    for (int i = 0; i < 6; i++) {
        struct mn_mcu *m = mn_mcu_builtin(ids[i], NULL);
        struct mn_cost c;
        ck_assert_int_eq(mn_cost_estimate(g, m, &c, NULL), 0);
        ms[i] = c.latency_ms;
        ck_assert(isfinite(ms[i]) && ms[i] > 0);
        mn_cost_release(&c);
        mn_mcu_free(m);
    }
    ck_assert(ms[1] > ms[3]);  /* 64 MHz M4 slower than 180 MHz M4 */
    ck_assert(ms[2] > ms[3]);  /* same cycles, lower clock */
    ck_assert(ms[3] > ms[4]);  /* M7 at 216 MHz */
    ck_assert(ms[4] > ms[5]);  /* M7 at 480 MHz */
    ck_assert(ms[0] > ms[3]);  /* M0+ */
    mn_graph_free(g);
}
END_TEST

Suite *cost_suite(void)
{
    Suite *s = suite_create("cost");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, unas_test_vector);
    tcase_add_test(tc, bn_folds_into_bias);
    tcase_add_test(tc, standalone_ops_and_nary_add);
    tcase_add_test(tc, budgets_decide_fits);
    tcase_add_test(tc, branches_use_the_best_order);
    tcase_add_test(tc, json_form);
    tcase_add_test(tc, faster_mcu_is_faster);
    suite_add_tcase(s, tc);
    return s;
}
