/* check_estimate.c — the monas-worker estimate and calibrate commands run as built:
 * help, error paths (one line naming the problem, non-zero exit, no crash), the MCU
 * list, custom profiles, and calibrate's table on the shared measurements. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include "testutil.h"

/* Runs `monas-worker ARGS` through the shell with stderr merged into stdout; returns
 * the exit status and copies up to len-1 bytes of output into out. */
static int run(const char *args, char *out, size_t len)
{
    char bin[256], cmd[1024];
    tu_bin("monas-worker", bin, sizeof bin);
    snprintf(cmd, sizeof cmd, "%s %s 2>&1", bin, args);
    FILE *p = popen(cmd, "r");
    ck_assert_ptr_nonnull(p);
    size_t n = fread(out, 1, len - 1, p);
    out[n] = '\0';
    int st = pclose(p);
    ck_assert_msg(WIFEXITED(st), "%s: did not exit normally", args);
    return WEXITSTATUS(st);
}

static int lines(const char *s)
{
    int n = 0;
    for (; *s; s++)
        n += *s == '\n';
    return n;
}

START_TEST(help_for_each_command)
{
    char out[8192];
    ck_assert_int_eq(run("--help", out, sizeof out), 0);
    ck_assert_ptr_nonnull(strstr(out, "estimate"));
    ck_assert_ptr_nonnull(strstr(out, "calibrate"));
    ck_assert_int_eq(run("estimate --help", out, sizeof out), 0);
    ck_assert_ptr_nonnull(strstr(out, "--mcu-file"));
    ck_assert_int_eq(run("calibrate --help", out, sizeof out), 0);
    ck_assert_ptr_nonnull(strstr(out, "--folds"));
    ck_assert_int_ne(run("frobnicate", out, sizeof out), 0);
    ck_assert_ptr_nonnull(strstr(out, "frobnicate"));
    ck_assert_int_ne(run("", out, sizeof out), 0);
}
END_TEST

START_TEST(estimate_errors_are_one_line)
{
    char out[8192];
    static const struct {
        const char *args, *needle;
    } cases[] = {
        {"estimate --mcu esp32 '|nor_conv_3x3~0|+|none~0|none~1|+|none~0|none~1|none~2|'",
         "unknown MCU 'esp32'"},
        {"estimate --space nosuch x", "nosuch"},
        {"estimate --bogus", "--bogus"},
        {"estimate --mcu-file /nonexistent.json x", "cannot open"},
        {"estimate --mcu", "--mcu"},
        {"estimate --space nb201 --settings '{bad' x", "--settings"},
        {"estimate --space nb201 '|nor_conv_9x9~0|+|none~0|none~1|+|none~0|none~1|none~2|'",
         ""},
        {"estimate --space nb201 'garbage'", ""},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int rc = run(cases[i].args, out, sizeof out);
        ck_assert_msg(rc != 0, "%s: exit 0", cases[i].args);
        ck_assert_msg(lines(out) == 1, "%s: %d lines: %s", cases[i].args, lines(out), out);
        ck_assert_msg(strstr(out, cases[i].needle), "%s: '%s' lacks '%s'", cases[i].args, out,
                      cases[i].needle);
        ck_assert_msg(strncmp(out, "monas-worker", 12) == 0, "%s: %s", cases[i].args, out);
    }
}
END_TEST

START_TEST(mcu_list_show_and_custom_file)
{
    char out[65536], args[512];
    ck_assert_int_eq(run("estimate --mcu list", out, sizeof out), 0);
    ck_assert_ptr_nonnull(strstr(out, "\"stm32h743\""));
    ck_assert_ptr_nonnull(strstr(out, "\"rp2040\""));
    /* A custom profile with one field broken: the error names that field. */
    char path[] = "/tmp/monas-mcu-XXXXXX";
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    FILE *f = fdopen(fd, "w");
    ck_assert_int_eq(run("estimate --mcu stm32f746 --mcu-show", out, sizeof out), 0);
    char *at = strstr(out, "\"cycles_per_mac\":");
    ck_assert_ptr_nonnull(at);
    fwrite(out, 1, (size_t)(at - out), f);
    fprintf(f, "\"cycles_per_mac\": -3%s", strchr(at, ','));
    fclose(f);
    snprintf(args, sizeof args, "estimate --mcu-file %s x", path);
    ck_assert_int_ne(run(args, out, sizeof out), 0);
    ck_assert_int_eq(lines(out), 1);
    ck_assert_msg(strstr(out, "latency.conv2d.cycles_per_mac"), "%s", out);
    remove(path);
}
END_TEST

START_TEST(calibrate_runs)
{
    char out[65536], path[512], args[1024];
    ck_assert_int_eq(run("calibrate", out, sizeof out), 2);
    ck_assert_ptr_nonnull(strstr(out, "--csv"));
    ck_assert_int_ne(run("calibrate --csv /nonexistent.csv", out, sizeof out), 0);
    ck_assert_int_eq(lines(out), 1);
    ck_assert_int_eq(run("calibrate --csv x --folds -2", out, sizeof out), 2);
    if (!tu_shared_data("mcu/layer-latency-tflm-cmsis.csv", path, sizeof path)) {
        tu_skip("estimate calibrate_runs", "../shared/data/mcu absent");
        return;
    }
    snprintf(args, sizeof args, "calibrate --csv %s --board NUCLEOF446RE --json", path);
    ck_assert_int_eq(run(args, out, sizeof out), 0);
    ck_assert_ptr_nonnull(strstr(out, "\"op\":\"conv2d\""));
    ck_assert_ptr_nonnull(strstr(out, "\"fit\":\"memory\""));
    snprintf(args, sizeof args, "calibrate --csv %s --board NOPE", path);
    ck_assert_int_ne(run(args, out, sizeof out), 0);
    ck_assert_ptr_nonnull(strstr(out, "NOPE"));
    snprintf(args, sizeof args, "calibrate --csv %s --board NiclaSense --mcu nrf52832", path);
    ck_assert_int_eq(run(args, out, sizeof out), 0);
    ck_assert_ptr_nonnull(strstr(out, "\"id\":\"nrf52832\""));
}
END_TEST

START_TEST(estimate_nb201_end_to_end)
{
    char out[65536];
    const char *arch = "'|avg_pool_3x3~0|+|nor_conv_1x1~0|skip_connect~1|+|nor_conv_1x1~0|"
                       "skip_connect~1|skip_connect~2|'";
    char args[512];
    snprintf(args, sizeof args, "estimate --space nb201 --mcu nrf52832 --layers %s", arch);
    int rc = run(args, out, sizeof out);
    if (strstr(out, "not built yet")) {
        tu_skip("estimate nb201_end_to_end", "search spaces not merged yet");
        return;
    }
    ck_assert_msg(rc == 0, "%s", out);
    ck_assert_int_eq(lines(out), 1);
    ck_assert_ptr_nonnull(strstr(out, "\"params\":129306,"));
    ck_assert_ptr_nonnull(strstr(out, "\"fits_sram\":false")); /* 64 KB nRF52832 */
    ck_assert_ptr_nonnull(strstr(out, "\"layers\":[{\"index\":0,\"op\":\"input\""));
    /* Two architectures as arguments: two lines. */
    snprintf(args, sizeof args, "estimate %s %s", arch, arch);
    ck_assert_int_eq(run(args, out, sizeof out), 0);
    ck_assert_int_eq(lines(out), 2);
}
END_TEST

Suite *estimate_suite(void)
{
    Suite *s = suite_create("estimate");
    TCase *tc = tcase_create("cli");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, help_for_each_command);
    tcase_add_test(tc, estimate_errors_are_one_line);
    tcase_add_test(tc, mcu_list_show_and_custom_file);
    tcase_add_test(tc, calibrate_runs);
    tcase_add_test(tc, estimate_nb201_end_to_end);
    suite_add_tcase(s, tc);
    return s;
}
