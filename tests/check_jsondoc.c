/* check_jsondoc.c — the arena parser builds the tree cJSON_Parse builds (types, order,
 * links, keys, strings, numbers to the bit) and refuses what cJSON refuses: a fixed
 * corpus of edge cases and randomly damaged results bodies, compared with cJSON. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "json.h"
#include "jsondoc.h"
#include "rng.h"

/* 1 when a and b are the same tree, linked as cJSON_Parse links it: prev is the item
 * before, and the first item's prev is the last. */
static int same_tree(const cJSON *a, const cJSON *b)
{
    if (a->type != b->type || a->valueint != b->valueint ||
        memcmp(&a->valuedouble, &b->valuedouble, sizeof a->valuedouble) != 0)
        return 0;
    if ((a->string == NULL) != (b->string == NULL) || (a->string && strcmp(a->string, b->string)))
        return 0;
    if ((a->valuestring == NULL) != (b->valuestring == NULL) ||
        (a->valuestring && strcmp(a->valuestring, b->valuestring)))
        return 0;
    const cJSON *x = a->child, *y = b->child, *lx = NULL, *ly = NULL;
    for (; x && y; lx = x, x = x->next, ly = y, y = y->next)
        if (!same_tree(x, y) || (lx && (x->prev != lx || y->prev != ly)))
            return 0;
    if (x || y)
        return 0;
    return !a->child || (a->child->prev == lx && b->child->prev == ly);
}

/* Compares text[0..len) parsed both ways; returns 1 when they agree. */
static int agree(const char *text, size_t len)
{
    const char *end = NULL;
    cJSON *ref = cJSON_ParseWithLengthOpts(text, len, &end, 0);
    struct mn_jsondoc *doc = NULL;
    size_t at = 0;
    int rc = mn_jsondoc_parse(text, len, &doc, &at);
    int ok = ref ? rc == MN_OK && same_tree(ref, mn_jsondoc_root(doc))
                 : rc == MN_EPARSE && doc == NULL && (len == 0 || at < len);
    cJSON_Delete(ref);
    mn_jsondoc_free(doc);
    return ok;
}

static int agree_str(const char *text)
{
    return agree(text, strlen(text));
}

START_TEST(corpus_matches_cjson)
{
    static const char *const docs[] = {
        "{}", "[]", "  {\"a\" : 1 }  ", "{\"a\":1} trailing ignored", "\xEF\xBB\xBF{\"bom\":1}",
        "\xEF\xBB\xBF{}", "null", "true", "false", "nul", "tru", "\"s\"", "0", "-0", "01", "1.",
        "1.5e3", "-1E-2", "1e400", "-1e400", "123456789012345", "1234567890123456789",
        "9007199254740993", "3000000000", "-3000000000", "2147483647", "-2147483648", "1-2",
        "[1-2]", "-", "--1", "+1", ".5", "[.5]", "1e", "[1e]", "[1,2,3]", "[1,2,]", "[,1]",
        "{\"a\":1,}", "{\"a\" 1}", "{a:1}", "{\"a\":}", "[", "{", "[[[]]]", "{\"a\":[{\"b\":{}}]}",
        "\"esc \\\" \\\\ \\/ \\b \\f \\n \\r \\t\"", "\"\\u00e9\\u20ac\\ud83d\\ude00\"",
        "\"\\u0041\\u00\"", "\"\\ud83d\"", "\"\\ude00\"", "\"\\ud83d\\u0041\"", "\"\\uZZZZ\"",
        "\"\\x\"", "\"unterminated", "\"ends in backslash\\", "\"raw\x01\x1f control\"",
        "{\"dup\":1,\"dup\":2}", "{\"\":\"empty key\"}",
        "0.0000000000000000000000000000000000000000000000000000000000001234",
        "{\"results\":[{\"candidate_id\":7,\"ok\":true,\"scores\":{\"ntk\":1.25,\"lr\":null},"
        "\"cost\":{\"latency_ms\":3.5,\"fits\":true},\"flags\":[\"x\"],\"seconds\":0}]}",
    };
    for (size_t i = 0; i < sizeof docs / sizeof docs[0]; i++)
        ck_assert_msg(agree_str(docs[i]), "differs from cJSON on: %s", docs[i]);
    ck_assert(agree("", 0));
    ck_assert(agree("{\"a\":1}\0garbage", 15)); /* an embedded NUL ends nothing early */
    ck_assert(agree("[1,\0 2]", 7));
}
END_TEST

START_TEST(nesting_limit_as_cjson)
{
    for (int depth = 998; depth <= 1002; depth++) {
        char *t = malloc((size_t)depth * 2 + 1);
        memset(t, '[', (size_t)depth);
        memset(t + depth, ']', (size_t)depth);
        t[depth * 2] = 0;
        ck_assert_msg(agree_str(t), "depth %d", depth);
        free(t);
    }
}
END_TEST

/* A results body as a worker posts it, n entries. */
static char *results_body(int n)
{
    size_t cap = 256 + (size_t)n * 300, len = 0;
    char *b = malloc(cap);
    len += (size_t)snprintf(b + len, cap - len,
                            "{\"worker_id\":\"w-\\u00e91\",\"scoring_version\":\"3\",\"results\":[");
    for (int i = 0; i < n; i++)
        len += (size_t)snprintf(b + len, cap - len,
                                "%s{\"candidate_id\":%d,\"ok\":%s,\"scores\":{\"ntk\":%.17g,"
                                "\"synflow\":%d},\"cost\":{\"latency_ms\":%g,\"macs\":%d},"
                                "\"flags\":[\"degenerate\"],\"seconds\":1e-3,\"error\":\"e\\n\"}",
                                i ? "," : "", 1000 + i, i % 5 ? "true" : "false", 1.0 / (i + 3),
                                -i, 0.25 * i, i * 1000003);
    snprintf(b + len, cap - len, "]}");
    return b;
}

START_TEST(damaged_bodies_match_cjson)
{
    struct mn_rng r;
    mn_rng_seed(&r, 4, 0);
    char *body = results_body(20);
    size_t len = strlen(body);
    char *t = malloc(len + 1);
    static const char noise[] = "{}[],:\"\\-+.eE0123456789 \x01\xff" "u";
    ck_assert(agree(body, len));
    for (int k = 0; k < 3000; k++) {
        memcpy(t, body, len + 1);
        size_t n = len;
        int edits = mn_rng_range(&r, 1, 3);
        for (int e = 0; e < edits; e++) {
            size_t at = (size_t)mn_rng_range(&r, 0, (int)n - 1);
            int what = mn_rng_range(&r, 0, 2);
            if (what == 0) /* truncate */
                n = at;
            else if (what == 1) /* replace a byte */
                t[at] = noise[mn_rng_range(&r, 0, (int)sizeof noise - 2)];
            else /* delete a byte */
                memmove(t + at, t + at + 1, n-- - at);
            if (n == 0)
                break;
        }
        ck_assert_msg(agree(t, n), "differs from cJSON on damaged body %d: %.*s", k, (int)n, t);
    }
    free(t);
    free(body);
}
END_TEST

START_TEST(tree_reads_like_cjson)
{
    char *body = results_body(3);
    struct mn_jsondoc *doc = NULL;
    size_t at = 0;
    ck_assert_int_eq(mn_jsondoc_parse(body, strlen(body), &doc, &at), MN_OK);
    const cJSON *root = mn_jsondoc_root(doc), *res = cJSON_GetObjectItemCaseSensitive(root, "results");
    const char *w = NULL;
    struct mn_error err = {0};
    ck_assert_int_eq(mn_json_get_str(root, "worker_id", 64, &w, &err), MN_OK);
    ck_assert_str_eq(w, "w-\xc3\xa9" "1");
    ck_assert_int_eq(cJSON_GetArraySize(res), 3);
    const cJSON *second = cJSON_GetArrayItem(res, 1);
    int64_t cid = 0;
    ck_assert_int_eq(mn_json_get_int(second, "candidate_id", 1, 1 << 20, &cid, &err), MN_OK);
    ck_assert_int_eq(cid, 1001);
    cJSON *copy = cJSON_Duplicate(second, 1); /* owns its copies of every string */
    mn_jsondoc_free(doc);
    free(body);
    char *text = mn_json_print(copy);
    ck_assert_str_eq(text, "{\"candidate_id\":1001,\"ok\":true,\"scores\":{\"ntk\":0.25,"
                           "\"synflow\":-1},\"cost\":{\"latency_ms\":0.25,\"macs\":1000003},"
                           "\"flags\":[\"degenerate\"],\"seconds\":0.001,\"error\":\"e\\n\"}");
    free(text);
    cJSON_Delete(copy);
    struct mn_jsondoc *empty = mn_jsondoc_empty_object();
    ck_assert(cJSON_IsObject(mn_jsondoc_root(empty)));
    ck_assert_ptr_null(mn_jsondoc_root(empty)->child);
    mn_jsondoc_free(empty);
    mn_jsondoc_free(NULL);
}
END_TEST

Suite *jsondoc_suite(void)
{
    Suite *s = suite_create("jsondoc");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, corpus_matches_cjson);
    tcase_add_test(tc, nesting_limit_as_cjson);
    tcase_add_test(tc, damaged_bodies_match_cjson);
    tcase_add_test(tc, tree_reads_like_cjson);
    suite_add_tcase(s, tc);
    return s;
}
