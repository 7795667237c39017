/* netmem.c — network buffers and the per-thread pool of large blocks (see netmem.h). */
#include "netmem.h"
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/asan_interface.h>
#define POISON(p, n) ASAN_POISON_MEMORY_REGION(p, n)
#define UNPOISON(p, n) ASAN_UNPOISON_MEMORY_REGION(p, n)
#else
#define POISON(p, n) ((void)(p), (void)(n))
#define UNPOISON(p, n) ((void)(p), (void)(n))
#endif

#define MAX_POOLED 32 /* blocks a pool holds, oldest first */
#define MAX_KEPT 4    /* kept items a pool holds */
#define MAX_KEY 64    /* bytes of a kept item's key */

/* An item mn_netmem_keep copied: key then data in one allocation. */
struct kept {
    unsigned char *mem;
    size_t key_len, bytes;
};

struct pool {
    struct mn_block b[MAX_POOLED];
    int n;
    size_t bytes;
    struct kept k[MAX_KEPT];
    int next_kept; /* the slot the next item replaces */
};

static pthread_key_t key;
static pthread_once_t key_once = PTHREAD_ONCE_INIT;

static void release(struct mn_block *b)
{
    UNPOISON(b->p, b->cap);
    free(b->p);
    *b = (struct mn_block){0};
}

static void pool_destroy(void *arg)
{
    struct pool *pl = arg;
    for (int i = 0; i < pl->n; i++)
        release(&pl->b[i]);
    for (int i = 0; i < MAX_KEPT; i++)
        free(pl->k[i].mem);
    free(pl);
}

static void make_key(void)
{
    pthread_key_create(&key, pool_destroy);
}

/* The calling thread's pool, created when `create`; NULL without one. */
static struct pool *pool_of_thread(int create)
{
    pthread_once(&key_once, make_key);
    struct pool *pl = pthread_getspecific(key);
    if (!pl && create && (pl = calloc(1, sizeof *pl)) && pthread_setspecific(key, pl)) {
        free(pl);
        pl = NULL;
    }
    return pl;
}

/* Removes block i, keeping the others in order. */
static struct mn_block take(struct pool *pl, int i)
{
    struct mn_block b = pl->b[i];
    memmove(&pl->b[i], &pl->b[i + 1], (size_t)(pl->n - i - 1) * sizeof *pl->b);
    pl->n--;
    pl->bytes -= b.cap;
    return b;
}

static int from_pool(struct mn_block *out, size_t bytes, int huge)
{
    struct pool *pl = pool_of_thread(0);
    int best = -1;
    for (int i = 0; pl && i < pl->n; i++) {
        const struct mn_block *b = &pl->b[i];
        if (b->huge == huge && b->cap >= bytes && b->cap <= 2 * bytes + MN_HUGE_BLOCK &&
            (best < 0 || b->cap < pl->b[best].cap))
            best = i;
    }
    if (best < 0)
        return 0;
    *out = take(pl, best);
    UNPOISON(out->p, out->cap);
    return 1;
}

int mn_netmem_get(struct mn_block *b, size_t bytes, int huge, int zero)
{
    *b = (struct mn_block){0};
    bytes = bytes ? bytes : 1;
    if (bytes < MN_HUGE_BLOCK) {
        if (!(b->p = calloc(1, bytes)))
            return -1;
        b->cap = bytes;
        return 0;
    }
    size_t whole = (bytes + MN_HUGE_BLOCK - 1) & ~(MN_HUGE_BLOCK - 1); /* in huge pages */
    if (huge)
        bytes = whole;
    if (!from_pool(b, bytes, huge)) {
        if (!(b->p = aligned_alloc(MN_HUGE_BLOCK, whole)))
            return -1;
        b->cap = bytes;
        b->huge = huge;
#ifdef MADV_HUGEPAGE
        if (huge)
            madvise(b->p, bytes, MADV_HUGEPAGE); /* advice only: 4 KiB pages if refused */
#endif
    }
    if (zero)
        memset(b->p, 0, bytes);
    return 0;
}

void mn_netmem_put(struct mn_block *b, int n)
{
    struct pool *pl = pool_of_thread(1);
    size_t back = 0;
    for (int i = 0; i < n; i++) {
        if (!b[i].p)
            continue;
        if (b[i].cap < MN_HUGE_BLOCK || !pl) {
            release(&b[i]);
            continue;
        }
        if (pl->n == MAX_POOLED) {
            struct mn_block old = take(pl, 0);
            release(&old);
        }
        POISON(b[i].p, b[i].cap);
        pl->b[pl->n++] = b[i];
        pl->bytes += b[i].cap;
        back += b[i].cap;
        b[i] = (struct mn_block){0};
    }
    while (pl && back && pl->bytes > 2 * back) { /* the oldest go first */
        struct mn_block old = take(pl, 0);
        release(&old);
    }
}

void mn_netmem_trim(void)
{
    struct pool *pl = pool_of_thread(0);
    if (pl) {
        pool_destroy(pl);
        pthread_setspecific(key, NULL);
    }
}

void mn_netmem_pooled(int *blocks, size_t *bytes)
{
    struct pool *pl = pool_of_thread(0);
    *blocks = pl ? pl->n : 0;
    *bytes = pl ? pl->bytes : 0;
}

/* Offset of a kept item's data: after its key, 16-byte aligned. */
static size_t data_at(size_t key_len)
{
    return (key_len + 15) & ~(size_t)15;
}

const void *mn_netmem_find(const void *key, size_t key_len, size_t bytes)
{
    struct pool *pl = pool_of_thread(0);
    for (int i = 0; pl && i < MAX_KEPT; i++) {
        const struct kept *k = &pl->k[i];
        if (k->mem && k->key_len == key_len && k->bytes == bytes &&
            memcmp(k->mem, key, key_len) == 0)
            return k->mem + data_at(key_len);
    }
    return NULL;
}

void *mn_netmem_keep(const void *key, size_t key_len, size_t bytes)
{
    struct pool *pl = pool_of_thread(1);
    unsigned char *mem;
    if (!pl || key_len > MAX_KEY || bytes > MN_KEEP_MAX ||
        !(mem = malloc(data_at(key_len) + bytes)))
        return NULL;
    memcpy(mem, key, key_len);
    struct kept *k = &pl->k[pl->next_kept];
    free(k->mem);
    *k = (struct kept){mem, key_len, bytes};
    pl->next_kept = (pl->next_kept + 1) % MAX_KEPT;
    return mem + data_at(key_len);
}
