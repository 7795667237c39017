/* check_score.c — `monas-worker score` run as built, and the scoring entry point
 * (scoring.h): output lines with every proxy, the cost figures and flags; output
 * bit-identical across runs and across --threads 1 and 2, and for one architecture on
 * 3 threads (which its ntk proxy then uses) (apart from the seconds fields); JSON lines
 * on stdin; one-line errors naming the field. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include "scoring.h"
#include "testutil.h"

#define SETTINGS "'{\"C\":4,\"N\":1,\"input\":{\"c\":3,\"h\":8,\"w\":8}}'"
#define PROXIES "'{\"ntk\":{\"batch_size\":6,\"repeats\":2},\"linear_regions\":{\"batch_size\":50," \
                "\"batches\":2,\"repeats\":1},\"synflow\":true,\"snip\":{\"batch_size\":6}," \
                "\"grad_norm\":{\"batch_size\":6},\"jacob_cov\":{\"batch_size\":6}," \
                "\"naswot\":{\"batch_size\":6},\"zen\":{\"batch_size\":6},\"params\":true," \
                "\"flops\":true}'"
#define A1 "'|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|skip_connect~2|'"
#define A2 "'|nor_conv_1x1~0|+|none~0|avg_pool_3x3~1|+|nor_conv_3x3~0|skip_connect~1|nor_conv_1x1~2|'"
#define A3 "'|none~0|+|none~0|none~1|+|none~0|none~1|none~2|'"
#define A4 "'|avg_pool_3x3~0|+|nor_conv_1x1~0|nor_conv_3x3~1|+|none~0|nor_conv_3x3~1|avg_pool_3x3~2|'"

static int run(const char *args, const char *stdin_text, char *out, size_t len)
{
    char bin[256], cmd[4096];
    tu_bin("monas-worker", bin, sizeof bin);
    if (stdin_text)
        snprintf(cmd, sizeof cmd, "printf '%%s\\n' %s | %s %s 2>&1", stdin_text, bin, args);
    else
        snprintf(cmd, sizeof cmd, "%s %s 2>&1", bin, args);
    FILE *p = popen(cmd, "r");
    ck_assert_ptr_nonnull(p);
    size_t n = fread(out, 1, len - 1, p);
    out[n] = '\0';
    int st = pclose(p);
    ck_assert_msg(WIFEXITED(st), "%s: did not exit normally", args);
    return WEXITSTATUS(st);
}

/* Removes every "seconds"/"proxy_seconds" member from each JSON line of text. */
static void strip_times(char *text, char *out, size_t len)
{
    size_t n = 0;
    out[0] = '\0';
    for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
        cJSON *j = cJSON_Parse(line);
        ck_assert_msg(j != NULL, "not JSON: %s", line);
        cJSON_DeleteItemFromObject(j, "seconds");
        cJSON_DeleteItemFromObject(j, "proxy_seconds");
        char *s = cJSON_PrintUnformatted(j);
        n += (size_t)snprintf(out + n, len - n, "%s\n", s);
        free(s);
        cJSON_Delete(j);
    }
}

START_TEST(identical_across_runs_and_threads)
{
    static char a[65536], b[65536], c[65536], sa[65536], sb[65536], sc[65536];
    const char *args = "score --space nb201 --space-settings " SETTINGS " --proxies " PROXIES
                       " --seed 11 --threads %d " A1 " " A2 " " A3 " " A4;
    char cmd[4096];
    snprintf(cmd, sizeof cmd, args, 1);
    ck_assert_int_eq(run(cmd, NULL, a, sizeof a), 0);
    ck_assert_int_eq(run(cmd, NULL, b, sizeof b), 0);
    snprintf(cmd, sizeof cmd, args, 2);
    ck_assert_int_eq(run(cmd, NULL, c, sizeof c), 0);
    /* Every line has every proxy, the cost figures and flags; input order kept. */
    char *l1 = a, *l3 = strchr(strchr(a, '\n') + 1, '\n') + 1;
    cJSON *j = cJSON_Parse(l1);
    ck_assert_ptr_nonnull(j);
    ck_assert_str_eq(cJSON_GetObjectItem(j, "scoring_version")->valuestring, MN_SCORING_VERSION);
    ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItem(j, "scores")), 10);
    const cJSON *cost = cJSON_GetObjectItem(j, "cost");
    static const char *const keys[] = {"latency_ms", "peak_sram_bytes", "flash_bytes", "macs",
                                       "params", "fits"};
    for (size_t k = 0; k < sizeof keys / sizeof keys[0]; k++)
        ck_assert_msg(cJSON_GetObjectItem(cost, keys[k]), "cost lacks %s", keys[k]);
    ck_assert(cJSON_GetObjectItem(j, "seconds")->valuedouble > 0);
    ck_assert(strstr(cJSON_GetObjectItem(j, "arch")->valuestring, "nor_conv_3x3~0|+|nor_conv_3x3~0"));
    cJSON_Delete(j);
    ck_assert(strstr(l3, "\"flags\":[\"ntk:degenerate\"")); /* the all-'none' cell */
    strip_times(a, sa, sizeof sa);
    strip_times(b, sb, sizeof sb);
    strip_times(c, sc, sizeof sc);
    ck_assert_str_eq(sa, sb);
    ck_assert_str_eq(sa, sc);
    /* One architecture on 3 threads: its line as before. */
    snprintf(cmd, sizeof cmd, "score --space nb201 --space-settings " SETTINGS " --proxies "
             PROXIES " --seed 11 --threads 3 " A1);
    ck_assert_int_eq(run(cmd, NULL, c, sizeof c), 0);
    strip_times(c, sc, sizeof sc);
    ck_assert_int_eq(strncmp(sa, sc, strlen(sc)), 0);
    ck_assert_int_eq(sa[strlen(sc) - 1], '\n');
    /* Another seed changes the proxies, not the cost. */
    cJSON *r[2];
    for (int k = 0; k < 2; k++) {
        snprintf(cmd, sizeof cmd, "score --space-settings " SETTINGS " --proxies "
                 "'{\"ntk\":{\"batch_size\":6,\"repeats\":1}}' --seed %d %s", 11 + k, A1);
        ck_assert_int_eq(run(cmd, NULL, a, sizeof a), 0);
        r[k] = cJSON_Parse(a);
        ck_assert_ptr_nonnull(r[k]);
    }
    ck_assert(cJSON_GetObjectItem(cJSON_GetObjectItem(r[0], "scores"), "ntk")->valuedouble !=
              cJSON_GetObjectItem(cJSON_GetObjectItem(r[1], "scores"), "ntk")->valuedouble);
    ck_assert(cJSON_Compare(cJSON_GetObjectItem(r[0], "cost"), cJSON_GetObjectItem(r[1], "cost"), 1));
    cJSON_Delete(r[0]);
    cJSON_Delete(r[1]);
}
END_TEST

START_TEST(stdin_json_lines_and_errors)
{
    static char out[16384];
    /* JSON lines on stdin: strings for nb201; a bad line fails alone. */
    ck_assert_int_eq(run("score --space-settings " SETTINGS " --proxies params,flops",
                         "'\"|nor_conv_3x3~0|+|none~0|none~1|+|none~0|none~1|none~2|\"' "
                         "'\"|bad~0|\"'", out, sizeof out), 1);
    ck_assert(strstr(out, "\"params\":"));
    ck_assert(strstr(out, "stdin line 2"));
    static const struct {
        const char *args, *needle;
    } cases[] = {
        {"score --proxies '{\"ntk\":{\"batch_size\":0}}' " A1, "ntk.batch_size"},
        {"score --proxies ntk,frob " A1, "frob"},
        {"score --proxies '{\"ntk\":{\"network\":{\"C\":0}}}' " A1, "ntk.network.C"},
        {"score --space-settings '{bad' " A1, "--space-settings"},
        {"score --space nosuch x", "nosuch"},
        {"score --mcu esp32 " A1, "esp32"},
        {"score --threads 0 " A1, "--threads"},
        {"score --seed -1 " A1, "--seed"},
        {"score --bogus", "--bogus"},
        {"score 'garbage'", "argument 1"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int rc = run(cases[i].args, NULL, out, sizeof out);
        ck_assert_msg(rc != 0, "%s: exit 0", cases[i].args);
        ck_assert_msg(strchr(out, '\n') == out + strlen(out) - 1, "%s: not one line: %s",
                      cases[i].args, out);
        ck_assert_msg(strstr(out, cases[i].needle), "%s: '%s' lacks '%s'", cases[i].args, out,
                      cases[i].needle);
    }
    ck_assert_int_eq(run("score --help", NULL, out, sizeof out), 0);
    ck_assert(strstr(out, "--threads") && strstr(out, "--proxies"));
    ck_assert_int_eq(run("--help", NULL, out, sizeof out), 0);
    ck_assert(strstr(out, "score"));
    ck_assert_int_eq(run("score --proxies list", NULL, out, sizeof out), 0);
    ck_assert(strstr(out, "\"linear_regions\""));
}
END_TEST

START_TEST(scoring_entry_point)
{
    struct mn_error err = {0};
    struct mn_proxy_config *pc;
    ck_assert_int_eq(mn_proxies_parse_text("params,synflow", &pc, &err), 0);
    struct mn_mcu *m = mn_mcu_builtin("stm32f746", &err);
    ck_assert_ptr_nonnull(m);
    cJSON *settings = cJSON_Parse("{\"C\":4,\"N\":1,\"input\":{\"c\":3,\"h\":8,\"w\":8}}");
    cJSON *arch = cJSON_CreateString("|nor_conv_3x3~0|+|none~0|none~1|+|none~0|skip_connect~1|none~2|");
    cJSON *r = mn_scoring_score("nb201", settings, arch, pc, m, 1, &err);
    ck_assert_msg(r != NULL, "%s", err.message);
    ck_assert(cJSON_GetObjectItem(cJSON_GetObjectItem(r, "scores"), "synflow")->valuedouble > 0);
    ck_assert(cJSON_IsTrue(cJSON_GetObjectItem(cJSON_GetObjectItem(r, "cost"), "fits")));
    cJSON_Delete(r);
    /* Without an MCU profile there is no cost member. */
    r = mn_scoring_score("nb201", settings, arch, pc, NULL, 1, &err);
    ck_assert_ptr_null(cJSON_GetObjectItem(r, "cost"));
    cJSON_Delete(r);
    /* Errors name where they are. */
    cJSON *bad = cJSON_CreateNumber(3);
    ck_assert_ptr_null(mn_scoring_score("nb201", settings, bad, pc, m, 1, &err));
    ck_assert_str_eq(err.field, "arch");
    cJSON *bs = cJSON_Parse("{\"C\":-1}");
    ck_assert_ptr_null(mn_scoring_score("nb201", bs, arch, pc, m, 1, &err));
    ck_assert_str_eq(err.field, "space.settings.C");
    ck_assert_ptr_null(mn_scoring_score("nosuch", NULL, arch, pc, m, 1, &err));
    ck_assert_str_eq(err.field, "space");
    cJSON_Delete(bs);
    cJSON_Delete(bad);
    cJSON_Delete(arch);
    cJSON_Delete(settings);
    mn_mcu_free(m);
    mn_proxies_free(pc);
}
END_TEST

Suite *score_suite(void)
{
    Suite *s = suite_create("score");
    TCase *tc = tcase_create("score");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, identical_across_runs_and_threads);
    tcase_add_test(tc, stdin_json_lines_and_errors);
    tcase_add_test(tc, scoring_entry_point);
    suite_add_tcase(s, tc);
    return s;
}
