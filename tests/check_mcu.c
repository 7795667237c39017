/* check_mcu.c — MCU profiles: every shipped profile loads and states its sources, the
 * list, JSON round trip, validation errors naming the field, unknown ids. */
#include <check.h>
#include <stdio.h>
#include <string.h>
#include "mcu.h"

static const char *const shipped[] = {"stm32f446re", "nrf52832", "stm32f746",
                                       "stm32h743", "stm32l4r5", "rp2040"};
#define N_SHIPPED (int)(sizeof shipped / sizeof shipped[0])

START_TEST(shipped_profiles_load)
{
    for (int i = 0; i < N_SHIPPED; i++) {
        struct mn_error err;
        struct mn_mcu *m = mn_mcu_builtin(shipped[i], &err);
        ck_assert_msg(m != NULL, "%s: %s %s", shipped[i], err.field, err.message);
        ck_assert_str_eq(mn_mcu_id(m), shipped[i]);
        ck_assert_str_eq(m->runtime, "tflm-cmsis-nn");
        ck_assert_int_gt(m->clock_hz, 1000000);
        for (int k = 1; k < MN_OP_COUNT; k++)
            ck_assert_msg(m->latency[k].provenance &&
                              strcmp(m->latency[k].provenance, "not stated") != 0,
                          "%s: %s has no provenance", shipped[i], mn_op_name(k));
        ck_assert_ptr_nonnull(strstr(m->latency[MN_OP_DWCONV2D].provenance, "not measured"));
        mn_mcu_free(m);
    }
    struct mn_mcu *m = mn_mcu_builtin("stm32h743", NULL);
    ck_assert_int_eq(m->clock_hz, 480000000);
    ck_assert_ptr_nonnull(strstr(m->latency[MN_OP_CONV2D].provenance, "Scaled"));
    mn_mcu_free(m);
    m = mn_mcu_builtin("stm32f446re", NULL);
    ck_assert_ptr_nonnull(strstr(m->latency[MN_OP_CONV2D].provenance, "fitted"));
    mn_mcu_free(m);
    mn_mcu_free(NULL);
}
END_TEST

START_TEST(list_summaries)
{
    cJSON *l = mn_mcu_list_json();
    ck_assert_int_ge(cJSON_GetArraySize(l), N_SHIPPED);
    for (int i = 0; i < N_SHIPPED; i++) {
        int found = 0;
        cJSON *it;
        cJSON_ArrayForEach(it, l) if (strcmp(cJSON_GetObjectItem(it, "id")->valuestring,
                                             shipped[i]) == 0) {
            found = 1;
            ck_assert(cJSON_IsNumber(cJSON_GetObjectItem(it, "sram_bytes")));
            ck_assert(cJSON_IsString(cJSON_GetObjectItem(it, "core")));
            ck_assert_ptr_null(cJSON_GetObjectItem(it, "latency"));
        }
        ck_assert_msg(found, "%s not listed", shipped[i]);
    }
    /* Sorted by id. */
    ck_assert_str_eq(cJSON_GetObjectItem(cJSON_GetArrayItem(l, 0), "id")->valuestring,
                     "nrf52832");
    cJSON_Delete(l);
}
END_TEST

START_TEST(json_round_trip)
{
    struct mn_mcu *m = mn_mcu_builtin("rp2040", NULL);
    cJSON *a = mn_mcu_to_json(m);
    struct mn_error err;
    struct mn_mcu *m2 = mn_mcu_from_json(a, &err);
    ck_assert_msg(m2 != NULL, "%s", err.message);
    cJSON *b = mn_mcu_to_json(m2);
    ck_assert(cJSON_Compare(a, b, 1));
    ck_assert_int_eq(m2->scratch.dwconv2d_bytes_per_col, m->scratch.dwconv2d_bytes_per_col);
    struct mn_mcu *c = mn_mcu_clone(m);
    ck_assert_double_eq(c->latency[MN_OP_SOFTMAX].cycles_per_element,
                        m->latency[MN_OP_SOFTMAX].cycles_per_element);
    ck_assert_int_eq(mn_mcu_set_provenance(c, "conv2d", "measured here"), 0);
    ck_assert_str_eq(c->latency[MN_OP_CONV2D].provenance, "measured here");
    ck_assert_int_eq(mn_mcu_set_provenance(c, "nonsense", "x"), MN_EINVAL);
    cJSON_Delete(a);
    cJSON_Delete(b);
    mn_mcu_free(m);
    mn_mcu_free(m2);
    mn_mcu_free(c);
}
END_TEST

/* Applies `edit` (a JSON object merged into the stm32f746 profile at `path`) and
 * expects mn_mcu_from_json to fail naming `field`. */
static void expect_error(const char *group, const char *key, cJSON *value, const char *field)
{
    struct mn_mcu *m = mn_mcu_builtin("stm32f746", NULL);
    cJSON *j = mn_mcu_to_json(m);
    cJSON *obj = j;
    if (group) {
        obj = cJSON_GetObjectItem(j, group);
        const char *dot = strchr(group, '.');
        if (dot) {
            char g1[32];
            snprintf(g1, sizeof g1, "%.*s", (int)(dot - group), group);
            obj = cJSON_GetObjectItem(cJSON_GetObjectItem(j, g1), dot + 1);
        }
    }
    if (value)
        cJSON_ReplaceItemInObject(obj, key, value);
    else
        cJSON_DeleteItemFromObject(obj, key);
    struct mn_error err;
    mn_error_clear(&err);
    struct mn_mcu *bad = mn_mcu_from_json(j, &err);
    ck_assert_ptr_null(bad);
    ck_assert_int_eq(err.code, MN_EINVAL);
    ck_assert_msg(strcmp(err.field, field) == 0, "field '%s', want '%s' (%s)", err.field, field,
                  err.message);
    cJSON_Delete(j);
    mn_mcu_free(m);
}

START_TEST(validation_names_the_field)
{
    expect_error("latency.conv2d", "cycles_per_mac", cJSON_CreateNumber(-1),
                 "latency.conv2d.cycles_per_mac");
    expect_error("latency.softmax", "fixed_cycles", NULL, "latency.softmax.fixed_cycles");
    expect_error("latency", "dwconv2d", NULL, "latency.dwconv2d");
    expect_error(NULL, "clock_hz", cJSON_CreateString("fast"), "clock_hz");
    expect_error(NULL, "sram_bytes", cJSON_CreateNumber(0), "sram_bytes");
    expect_error(NULL, "id", cJSON_CreateString("../etc"), "id");
    expect_error(NULL, "name", NULL, "name");
    expect_error("flash", "tensor_bytes", cJSON_CreateNumber(1.5), "flash.tensor_bytes");
    expect_error("sram", "channel_bytes", NULL, "sram.channel_bytes");
    expect_error(NULL, "scratch", cJSON_CreateNumber(3), "scratch");
    /* A misspelt key is an error, not ignored. */
    struct mn_mcu *m = mn_mcu_builtin("stm32f746", NULL);
    cJSON *j = mn_mcu_to_json(m);
    cJSON_AddNumberToObject(cJSON_GetObjectItem(j, "latency"), "conv3d", 1);
    struct mn_error err;
    ck_assert_ptr_null(mn_mcu_from_json(j, &err));
    ck_assert_str_eq(err.field, "latency.conv3d");
    cJSON_Delete(j);
    j = cJSON_CreateArray();
    ck_assert_ptr_null(mn_mcu_from_json(j, &err));
    cJSON_Delete(j);
    mn_mcu_free(m);
}
END_TEST

START_TEST(unknown_builtin)
{
    struct mn_error err;
    ck_assert_ptr_null(mn_mcu_builtin("esp32", &err));
    ck_assert_int_eq(err.code, MN_ENOTFOUND);
    ck_assert_ptr_nonnull(strstr(err.message, "esp32"));
    ck_assert_ptr_nonnull(strstr(err.message, "stm32f746"));
    ck_assert_ptr_null(mn_mcu_builtin("../mcu/stm32f746", &err));
    ck_assert_ptr_null(mn_mcu_builtin("", &err));
    ck_assert_ptr_null(mn_mcu_builtin(NULL, &err));
}
END_TEST

Suite *mcu_suite(void)
{
    Suite *s = suite_create("mcu");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, shipped_profiles_load);
    tcase_add_test(tc, list_summaries);
    tcase_add_test(tc, json_round_trip);
    tcase_add_test(tc, validation_names_the_field);
    tcase_add_test(tc, unknown_builtin);
    suite_add_tcase(s, tc);
    return s;
}
