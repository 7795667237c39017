/* keyset.c — open-addressing set of 128-bit key fingerprints (see keyset.h). */
#include "keyset.h"
#include <stdint.h>
#include <stdlib.h>
#include "error.h"
#include "rng.h"

struct fp {
    uint64_t a, b; /* a == 0 && b == 0 marks an empty slot */
};

struct mn_keyset {
    struct fp *slots;
    size_t cap, n; /* cap is a power of two */
};

/* Second hash: 64-bit multiply-rotate over the bytes, finished with splitmix64's mixer;
 * independent of FNV-1a (mn_hash_str). */
static uint64_t hash2(const char *s)
{
    uint64_t h = 0x9e3779b97f4a7c15ULL;
    for (; *s; s++) {
        h ^= (unsigned char)*s;
        h *= 0xbf58476d1ce4e5b9ULL;
        h = (h << 31) | (h >> 33);
    }
    h ^= h >> 30;
    h *= 0xbf58476d1ce4e5b9ULL;
    h ^= h >> 27;
    h *= 0x94d049bb133111ebULL;
    return h ^ (h >> 31);
}

static struct fp fingerprint(const char *key)
{
    struct fp f = {mn_hash_str(key), hash2(key)};
    if (!f.a && !f.b)
        f.b = 1;
    return f;
}

static size_t find(const struct fp *slots, size_t cap, struct fp f)
{
    size_t i = (size_t)(f.a ^ (f.b >> 7)) & (cap - 1);
    while ((slots[i].a || slots[i].b) && (slots[i].a != f.a || slots[i].b != f.b))
        i = (i + 1) & (cap - 1);
    return i;
}

struct mn_keyset *mn_keyset_new(void)
{
    struct mn_keyset *s = calloc(1, sizeof *s);
    if (s && !(s->slots = calloc(s->cap = 1024, sizeof *s->slots))) {
        free(s);
        return NULL;
    }
    return s;
}

void mn_keyset_free(struct mn_keyset *s)
{
    if (!s)
        return;
    free(s->slots);
    free(s);
}

static int grow(struct mn_keyset *s)
{
    size_t cap = s->cap * 2;
    struct fp *slots = calloc(cap, sizeof *slots);
    if (!slots)
        return MN_ENOMEM;
    for (size_t i = 0; i < s->cap; i++)
        if (s->slots[i].a || s->slots[i].b)
            slots[find(slots, cap, s->slots[i])] = s->slots[i];
    free(s->slots);
    s->slots = slots;
    s->cap = cap;
    return MN_OK;
}

int mn_keyset_add(struct mn_keyset *s, const char *key)
{
    struct fp f = fingerprint(key);
    size_t i = find(s->slots, s->cap, f);
    if (s->slots[i].a || s->slots[i].b)
        return 0;
    if ((s->n + 1) * 2 > s->cap) { /* keep the load under one half */
        if (grow(s))
            return MN_ENOMEM;
        i = find(s->slots, s->cap, f);
    }
    s->slots[i] = f;
    s->n++;
    return 1;
}

size_t mn_keyset_size(const struct mn_keyset *s)
{
    return s->n;
}
