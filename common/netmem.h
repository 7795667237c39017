/* netmem.h — the buffers of a network (net.c) and the per-thread pool that keeps the
 * large ones between networks, and with them a few items of data that candidates
 * share (a proxy's Gaussian inputs, proxy.c).
 *
 * A worker scores candidates one after another on each thread, and every candidate
 * builds its own network. Fresh large buffers come from the kernel as untouched pages,
 * and touching them (page faults, the kernel zeroing every page) cost a fast NTK of the
 * NB201 supernet (57 MB of buffers) a few milliseconds per candidate, and every few
 * candidates a stall of 40–130 ms. So a freed network's large blocks stay with the
 * thread that freed it, and the next network built there takes them back.
 *
 * Blocks of HUGE_BLOCK bytes or more are large: allocated aligned to 2 MiB and, when
 * asked (`huge`), advised for transparent huge pages; smaller ones are plain calloc
 * and never pooled. A request takes the smallest pooled block of the same advice that
 * holds it and is at most twice its size (plus one huge page). When a network's large
 * blocks come back, the pool keeps them and, of the blocks it held before, the most
 * recent ones up to as many bytes again; the rest are freed. So a thread holds at most
 * about two networks' memory: the one it runs and the pool. A thread's pool is freed
 * when the thread exits, or by mn_netmem_trim. Under AddressSanitizer, pooled blocks
 * are poisoned, so a freed network's memory still may not be touched. */
#ifndef MN_NETMEM_H
#define MN_NETMEM_H
#include <stddef.h>

#define MN_HUGE_BLOCK ((size_t)2 << 20) /* the large-block threshold and alignment */

struct mn_block {
    void *p;
    size_t cap; /* bytes usable; 0 for no block */
    int huge;   /* advised for huge pages (large blocks only) */
};

/* *b ← a block of at least `bytes` (at least 1), from the calling thread's pool or new;
 * zero-filled when `zero`, otherwise its contents are undefined (a pooled block holds
 * an earlier network's data). Returns 0, or -1 when out of memory (*b empty). */
int mn_netmem_get(struct mn_block *b, size_t bytes, int huge, int zero);

/* Gives back the n blocks of one network (empty ones are skipped): large ones to the
 * calling thread's pool, small ones freed. */
void mn_netmem_put(struct mn_block *b, int n);

/* Frees the calling thread's pool. */
void mn_netmem_trim(void);

/* Blocks and bytes the calling thread's pool holds. */
void mn_netmem_pooled(int *blocks, size_t *bytes);

/* Kept items: mn_netmem_keep makes room for `bytes` bytes of data under a key (key_len
 * bytes, compared byte for byte) on the calling thread and returns it for the caller to
 * fill, or NULL (out of memory, or a key over 64 bytes or data over MN_KEEP_MAX bytes:
 * not kept); mn_netmem_find returns the data kept under the same key with the same
 * size, or NULL. A thread keeps its last four items; a pointer is valid until the
 * thread keeps another item or trims its pool. */
#define MN_KEEP_MAX ((size_t)16 << 20)
void *mn_netmem_keep(const void *key, size_t key_len, size_t bytes);
const void *mn_netmem_find(const void *key, size_t key_len, size_t bytes);

#endif
