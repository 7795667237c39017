/* check_netmem.c — network buffers and the per-thread pool of large blocks (netmem.h):
 * which blocks are pooled and taken back, zero-filling, the advice and size windows,
 * the bound on what a pool keeps, trimming, and pools being per thread; kept items. */
#include <check.h>
#include <pthread.h>
#include <string.h>
#include "netmem.h"

#define MB ((size_t)1 << 20)

static int pooled_blocks(void)
{
    int n;
    size_t bytes;
    mn_netmem_pooled(&n, &bytes);
    return n;
}

static size_t pooled_bytes(void)
{
    int n;
    size_t bytes;
    mn_netmem_pooled(&n, &bytes);
    return bytes;
}

/* Small blocks are never pooled; a large one is, rounded to huge pages when advised,
 * and the next request it fits takes it back, zero-filled when asked. */
START_TEST(large_blocks_come_back)
{
    mn_netmem_trim();
    struct mn_block b[2];
    ck_assert_int_eq(mn_netmem_get(&b[0], 1000, 1, 1), 0);
    ck_assert_uint_eq(b[0].cap, 1000);
    ck_assert_int_eq(mn_netmem_get(&b[1], 3 * MB, 1, 0), 0);
    ck_assert_uint_eq(b[1].cap, 4 * MB);
    ck_assert_int_eq(b[1].huge, 1);
    memset(b[1].p, 0x5a, b[1].cap);
    void *big = b[1].p;
    mn_netmem_put(b, 2);
    ck_assert_ptr_null(b[0].p);
    ck_assert_ptr_null(b[1].p);
    ck_assert_int_eq(pooled_blocks(), 1);
    ck_assert_uint_eq(pooled_bytes(), 4 * MB);

    struct mn_block c;
    ck_assert_int_eq(mn_netmem_get(&c, 3 * MB + 5, 1, 1), 0);
    ck_assert_ptr_eq(c.p, big);
    ck_assert_int_eq(pooled_blocks(), 0);
    const unsigned char *p = c.p;
    for (size_t i = 0; i < 3 * MB + 5; i += 4093)
        ck_assert_uint_eq(p[i], 0);
    mn_netmem_put(&c, 1);
    ck_assert_int_eq(mn_netmem_get(&c, 3 * MB, 1, 0), 0); /* not asked: left as it was */
    ck_assert_ptr_eq(c.p, big);
    mn_netmem_put(&c, 1);
    mn_netmem_trim();
    ck_assert_int_eq(pooled_blocks(), 0);
}
END_TEST

/* A pooled block serves only requests with the same huge-page advice, that it holds,
 * and of at least half its size (less one huge page). */
START_TEST(advice_and_size_must_match)
{
    mn_netmem_trim();
    struct mn_block a, b;
    ck_assert_int_eq(mn_netmem_get(&a, 8 * MB, 1, 0), 0);
    void *p = a.p;
    mn_netmem_put(&a, 1);
    ck_assert_int_eq(mn_netmem_get(&b, 8 * MB, 0, 0), 0); /* other advice */
    ck_assert_ptr_ne(b.p, p);
    ck_assert_int_eq(b.huge, 0);
    ck_assert_uint_eq(b.cap, 8 * MB);
    struct mn_block c;
    ck_assert_int_eq(mn_netmem_get(&c, 9 * MB, 1, 0), 0); /* too large for it */
    ck_assert_ptr_ne(c.p, p);
    struct mn_block d;
    ck_assert_int_eq(mn_netmem_get(&d, 2 * MB, 1, 0), 0); /* too small for it */
    ck_assert_ptr_ne(d.p, p);
    struct mn_block e;
    ck_assert_int_eq(mn_netmem_get(&e, 3 * MB, 1, 0), 0); /* 4 MiB: fits */
    ck_assert_ptr_eq(e.p, p);
    struct mn_block all[4] = {b, c, d, e};
    mn_netmem_put(all, 4);
    mn_netmem_trim();
}
END_TEST

/* Giving back a network's blocks keeps them and, of the earlier ones, the most recent
 * up to as many bytes again; a network with no large blocks changes nothing. */
START_TEST(pool_keeps_about_one_network)
{
    mn_netmem_trim();
    struct mn_block a[3], b, s;
    for (int i = 0; i < 3; i++)
        ck_assert_int_eq(mn_netmem_get(&a[i], 8 * MB, 1, 0), 0);
    mn_netmem_put(a, 3);
    ck_assert_uint_eq(pooled_bytes(), 24 * MB);
    ck_assert_int_eq(mn_netmem_get(&s, 1000, 1, 0), 0);
    mn_netmem_put(&s, 1);
    ck_assert_uint_eq(pooled_bytes(), 24 * MB);
    ck_assert_int_eq(mn_netmem_get(&b, 2 * MB, 1, 0), 0); /* fresh: 8 MiB is too large */
    mn_netmem_put(&b, 1);
    ck_assert_int_eq(pooled_blocks(), 1);
    ck_assert_uint_eq(pooled_bytes(), 2 * MB);
    mn_netmem_trim();
}
END_TEST

static void *other_thread(void *arg)
{
    struct mn_block b;
    int *seen = arg;
    seen[0] = pooled_blocks();
    if (mn_netmem_get(&b, 4 * MB, 1, 0) == 0)
        mn_netmem_put(&b, 1);
    seen[1] = pooled_blocks();
    return NULL; /* the thread's pool is freed as it exits */
}

/* Each thread has its own pool. */
START_TEST(pools_are_per_thread)
{
    mn_netmem_trim();
    struct mn_block b;
    ck_assert_int_eq(mn_netmem_get(&b, 4 * MB, 1, 0), 0);
    mn_netmem_put(&b, 1);
    int seen[2] = {-1, -1};
    pthread_t t;
    ck_assert_int_eq(pthread_create(&t, NULL, other_thread, seen), 0);
    pthread_join(t, NULL);
    ck_assert_int_eq(seen[0], 0);
    ck_assert_int_eq(seen[1], 1);
    ck_assert_int_eq(pooled_blocks(), 1);
    mn_netmem_trim();
}
END_TEST

/* Kept items are found by key and size, the four last ones only, and not over the
 * limits; trimming drops them. */
START_TEST(kept_items)
{
    mn_netmem_trim();
    uint64_t key[2] = {7, 1};
    ck_assert_ptr_null(mn_netmem_find(key, sizeof key, 100));
    for (int i = 0; i < 5; i++) {
        key[1] = (uint64_t)i;
        unsigned char *d = mn_netmem_keep(key, sizeof key, 100);
        ck_assert_ptr_nonnull(d);
        memset(d, i + 1, 100);
    }
    key[1] = 0; /* the oldest of five went */
    ck_assert_ptr_null(mn_netmem_find(key, sizeof key, 100));
    for (int i = 1; i < 5; i++) {
        key[1] = (uint64_t)i;
        const unsigned char *d = mn_netmem_find(key, sizeof key, 100);
        ck_assert_ptr_nonnull(d);
        ck_assert_uint_eq(d[0], i + 1);
        ck_assert_uint_eq(d[99], i + 1);
        ck_assert_ptr_null(mn_netmem_find(key, sizeof key, 99)); /* other size */
        ck_assert_ptr_null(mn_netmem_find(key, sizeof key - 1, 100)); /* other key */
    }
    ck_assert_ptr_null(mn_netmem_keep(key, sizeof key, MN_KEEP_MAX + 1));
    unsigned char long_key[65] = {0};
    ck_assert_ptr_null(mn_netmem_keep(long_key, sizeof long_key, 8));
    mn_netmem_trim();
    ck_assert_ptr_null(mn_netmem_find(key, sizeof key, 100));
}
END_TEST

Suite *netmem_suite(void)
{
    Suite *s = suite_create("netmem");
    TCase *tc = tcase_create("pool");
    tcase_add_test(tc, large_blocks_come_back);
    tcase_add_test(tc, advice_and_size_must_match);
    tcase_add_test(tc, pool_keeps_about_one_network);
    tcase_add_test(tc, pools_are_per_thread);
    tcase_add_test(tc, kept_items);
    suite_add_tcase(s, tc);
    return s;
}
