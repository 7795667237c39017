/* check_backoff.c — the worker's retry delays: they grow, stay within [base/2, cap],
 * never reach zero, restart after a success, and differ between workers. */
#include <check.h>
#include "../worker/backoff.h"

START_TEST(grows_to_cap_with_jitter)
{
    struct mn_backoff b;
    mn_backoff_init(&b, 200, 5000, 1);
    double prev_max = 0;
    for (int k = 0; k < 40; k++) {
        double nominal = 200.0 * (1 << (k < 5 ? k : 5));
        if (nominal > 5000)
            nominal = 5000;
        double d = mn_backoff_next(&b);
        ck_assert_msg(d >= nominal / 2 && d <= nominal, "attempt %d: %g outside [%g, %g]", k, d,
                      nominal / 2, nominal);
        ck_assert(d >= 100); /* never spins */
        prev_max = d > prev_max ? d : prev_max;
    }
    ck_assert(prev_max > 2500); /* the cap is reached */
    mn_backoff_reset(&b);
    ck_assert(mn_backoff_next(&b) <= 200);
}
END_TEST

START_TEST(jitter_differs_between_workers)
{
    struct mn_backoff a, b;
    mn_backoff_init(&a, 200, 5000, 1);
    mn_backoff_init(&b, 200, 5000, 2);
    int differ = 0;
    for (int k = 0; k < 10; k++)
        differ += mn_backoff_next(&a) != mn_backoff_next(&b);
    ck_assert_int_ge(differ, 9);
}
END_TEST

Suite *backoff_suite(void)
{
    Suite *s = suite_create("backoff");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, grows_to_cap_with_jitter);
    tcase_add_test(tc, jitter_differs_between_workers);
    suite_add_tcase(s, tc);
    return s;
}
