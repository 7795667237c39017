/* sample_archs.c — prints `n` distinct seeded-random architectures of a search space,
 * one text form per line, drawn with the space's own sampler (mn_space_sample) from
 * mn_rng stream 0x7175616c ("qual") of `seed`. Duplicates (equal canonical keys) are
 * skipped, so the first k lines of a run with n > k are exactly a run with n = k: a
 * pilot's sample is the prefix of the full one.
 *   build: cc -O2 -std=c11 -fopenmp -Icommon bench/sample_archs.c build/libmonas.a \
 *              $(pkg-config --cflags --libs libcjson openblas lapacke) -lpthread -lm \
 *              -o build/bench-sample-archs
 *   usage: build/bench-sample-archs n [seed [space]]   (defaults seed 1, space nb201) */
#define _POSIX_C_SOURCE 200809L /* strdup */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "space.h"

/* Open-addressing set of keys; returns 1 when `key` was new (and keeps it), 0 when seen,
 * -1 when out of memory. `slots` has `cap` entries, a power of two above 2·n. */
static int set_add(char **slots, size_t cap, char *key)
{
    size_t h = (size_t)mn_hash_str(key) & (cap - 1);
    while (slots[h]) {
        if (strcmp(slots[h], key) == 0)
            return 0;
        h = (h + 1) & (cap - 1);
    }
    slots[h] = key;
    return 1;
}

int main(int argc, char **argv)
{
    long n = argc > 1 ? strtol(argv[1], NULL, 10) : 0;
    uint64_t seed = argc > 2 ? strtoull(argv[2], NULL, 10) : 1;
    const char *name = argc > 3 ? argv[3] : "nb201";
    struct mn_error err = {0};
    struct mn_space *sp = mn_space_create(name, NULL, &err);
    int64_t size = sp ? mn_space_size(sp) : 0;
    size_t cap = 16;
    char **slots = NULL;
    int rc = 2;
    if (!sp || n < 1 || n > 10000000 || (size >= 0 && n > size)) {
        fprintf(stderr, "usage: bench-sample-archs n [seed [space]] (n ≤ space size)%s%s\n",
                sp ? "" : ": ", sp ? "" : err.message);
        goto out;
    }
    while (cap < 2 * (size_t)n)
        cap *= 2;
    slots = calloc(cap, sizeof *slots);
    if (!slots)
        goto out;
    struct mn_rng r;
    mn_rng_seed(&r, seed, 0x7175616c);
    for (long k = 0; k < n;) {
        struct mn_arch *a = NULL;
        if (mn_space_sample(sp, &r, &a))
            goto out;
        char *key = mn_space_arch_key(sp, a);
        cJSON *j = mn_space_arch_to_json(sp, a);
        char *text = j ? (cJSON_IsString(j) ? strdup(j->valuestring)
                                            : cJSON_PrintUnformatted(j)) : NULL;
        int added = key && text ? set_add(slots, cap, key) : -1;
        if (added == 1)
            printf("%s\n", text);
        else
            free(key);
        free(text);
        cJSON_Delete(j);
        mn_arch_free(a);
        if (added < 0)
            goto out;
        k += added;
    }
    rc = fflush(stdout) ? 1 : 0;
out:
    for (size_t i = 0; slots && i < cap; i++)
        free(slots[i]);
    free(slots);
    mn_space_free(sp);
    return rc;
}
