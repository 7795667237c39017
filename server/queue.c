/* queue.c — open candidates of a running job in memory (see queue.h): items in an
 * open-addressing hash table by id (linear probing, backward-shift deletion), the queue
 * as a ring of ids (items that left it are skipped when popped), leases as a short list
 * of records with their ids. The queue is two rings of ids: requeued candidates (leased
 * first, in the order they came back) and fresh ones (in id order); an id that left the
 * queue meanwhile is skipped when popped. */
#include "queue.h"
#include <stdlib.h>
#include <string.h>
#include "error.h"

struct lease_rec {
    int64_t id;
    int n, n_open;
    int64_t *ids; /* in lease order */
};

struct ring {
    int64_t *ids;
    size_t cap, head, len;
};

struct mn_queue {
    struct mn_queue_item **slots; /* hash table, cap_slots a power of two */
    size_t cap_slots, n_items;
    struct ring retry, fresh;     /* queued ids (some stale: see mn_queue_take) */
    struct lease_rec *leases;
    int n_leases, cap_leases;
    int64_t n_queued, n_leased;
};

static size_t slot_of(const struct mn_queue *q, int64_t id)
{
    uint64_t h = (uint64_t)id * 0x9e3779b97f4a7c15ull;
    return (size_t)(h >> 17) & (q->cap_slots - 1);
}

struct mn_queue *mn_queue_new(void)
{
    struct mn_queue *q = calloc(1, sizeof *q);
    if (!q)
        return NULL;
    q->cap_slots = 256;
    q->retry.cap = q->fresh.cap = 256;
    q->slots = calloc(q->cap_slots, sizeof *q->slots);
    q->retry.ids = malloc(q->retry.cap * sizeof(int64_t));
    q->fresh.ids = malloc(q->fresh.cap * sizeof(int64_t));
    if (!q->slots || !q->retry.ids || !q->fresh.ids) {
        mn_queue_free(q);
        return NULL;
    }
    return q;
}

void mn_queue_free(struct mn_queue *q)
{
    if (!q)
        return;
    for (size_t i = 0; q->slots && i < q->cap_slots; i++)
        free(q->slots[i]);
    for (int i = 0; i < q->n_leases; i++)
        free(q->leases[i].ids);
    free(q->slots);
    free(q->retry.ids);
    free(q->fresh.ids);
    free(q->leases);
    free(q);
}

struct mn_queue_item *mn_queue_get(const struct mn_queue *q, int64_t id)
{
    for (size_t i = slot_of(q, id);; i = (i + 1) & (q->cap_slots - 1)) {
        struct mn_queue_item *it = q->slots[i];
        if (!it || it->id == id)
            return it;
    }
}

static void place(struct mn_queue *q, struct mn_queue_item *it)
{
    size_t i = slot_of(q, it->id);
    while (q->slots[i])
        i = (i + 1) & (q->cap_slots - 1);
    q->slots[i] = it;
}

static int grow_slots(struct mn_queue *q)
{
    struct mn_queue_item **old = q->slots;
    size_t cap = q->cap_slots;
    if (!(q->slots = calloc(cap * 2, sizeof *q->slots))) {
        q->slots = old;
        return MN_ENOMEM;
    }
    q->cap_slots = cap * 2;
    for (size_t i = 0; i < cap; i++)
        if (old[i])
            place(q, old[i]);
    free(old);
    return MN_OK;
}

/* Removes it from the table (backward-shift deletion keeps probe runs unbroken). */
static void unslot(struct mn_queue *q, const struct mn_queue_item *it)
{
    size_t mask = q->cap_slots - 1, i = slot_of(q, it->id);
    while (q->slots[i] != it)
        i = (i + 1) & mask;
    for (size_t j = (i + 1) & mask; q->slots[j]; j = (j + 1) & mask) {
        size_t home = slot_of(q, q->slots[j]->id);
        /* slots[j] may move into the hole at i unless its home lies in (i, j]. */
        if (((j - home) & mask) >= ((j - i) & mask)) {
            q->slots[i] = q->slots[j];
            i = j;
        }
    }
    q->slots[i] = NULL;
    q->n_items--;
}

/* Room for one more id in r; 0 or MN_ENOMEM. */
static int ring_room(struct ring *r)
{
    if (r->len < r->cap)
        return MN_OK;
    int64_t *ids = malloc(r->cap * 2 * sizeof *ids);
    if (!ids)
        return MN_ENOMEM;
    for (size_t k = 0; k < r->len; k++)
        ids[k] = r->ids[(r->head + k) % r->cap];
    free(r->ids);
    r->ids = ids;
    r->cap *= 2;
    r->head = 0;
    return MN_OK;
}

/* Appends id (room made by ring_room). */
static void ring_push(struct ring *r, int64_t id)
{
    r->ids[(r->head + r->len++) % r->cap] = id;
}

static int64_t ring_pop(struct ring *r)
{
    int64_t id = r->ids[r->head];
    r->head = (r->head + 1) % r->cap;
    r->len--;
    return id;
}

static struct lease_rec *find_lease(const struct mn_queue *q, int64_t lease_id)
{
    for (int i = 0; i < q->n_leases; i++)
        if (q->leases[i].id == lease_id)
            return &q->leases[i];
    return NULL;
}

/* The record of lease_id, created (with room for cap ids) when new; NULL: no memory. */
static struct lease_rec *lease_rec(struct mn_queue *q, int64_t lease_id, int cap)
{
    struct lease_rec *r = find_lease(q, lease_id);
    if (r)
        return r;
    if (q->n_leases == q->cap_leases) {
        int n = q->cap_leases ? q->cap_leases * 2 : 16;
        struct lease_rec *l = realloc(q->leases, (size_t)n * sizeof *l);
        if (!l)
            return NULL;
        q->leases = l;
        q->cap_leases = n;
    }
    r = &q->leases[q->n_leases];
    *r = (struct lease_rec){.id = lease_id, .ids = malloc((size_t)(cap ? cap : 1) * sizeof(int64_t))};
    if (!r->ids)
        return NULL;
    q->n_leases++;
    return r;
}

int mn_queue_add(struct mn_queue *q, int64_t id, int attempts, const char *key,
                 const char *json, size_t len, int64_t lease_id)
{
    if (2 * (q->n_items + 1) > q->cap_slots && grow_slots(q))
        return MN_ENOMEM;
    size_t key_len = strlen(key);
    struct mn_queue_item *it = malloc(sizeof *it + len + 1 + key_len + 1);
    if (!it)
        return MN_ENOMEM;
    *it = (struct mn_queue_item){.id = id, .lease_id = lease_id, .attempts = attempts, .len = len};
    memcpy(it->json, json, len);
    it->json[len] = 0;
    it->key = memcpy(it->json + len + 1, key, key_len + 1);
    if (lease_id) {
        struct lease_rec *r = lease_rec(q, lease_id, 64);
        if (r && r->n % 64 == 0 && r->n) {
            int64_t *ids = realloc(r->ids, (size_t)(r->n + 64) * sizeof *ids);
            r = ids ? r : NULL;
            if (ids)
                r->ids = ids;
        }
        if (!r) {
            free(it);
            return MN_ENOMEM;
        }
        r->ids[r->n++] = id;
        r->n_open++;
        q->n_leased++;
    } else {
        if (ring_room(&q->fresh)) {
            free(it);
            return MN_ENOMEM;
        }
        ring_push(&q->fresh, id);
        q->n_queued++;
    }
    place(q, it);
    q->n_items++;
    return MN_OK;
}

int mn_queue_take(struct mn_queue *q, int64_t lease_id, int want, struct mn_queue_item **out)
{
    int n = 0;
    struct lease_rec *r = want > 0 ? lease_rec(q, lease_id, want) : NULL;
    if (want > 0 && !r)
        return MN_ENOMEM;
    while (n < want && (q->retry.len || q->fresh.len)) {
        int64_t id = ring_pop(q->retry.len ? &q->retry : &q->fresh);
        struct mn_queue_item *it = mn_queue_get(q, id);
        if (!it || it->lease_id) /* finished or leased since it was queued: stale */
            continue;
        it->lease_id = lease_id;
        r->ids[r->n++] = id;
        out[n++] = it;
    }
    if (r)
        r->n_open = r->n;
    if (r && !n)
        mn_queue_lease_end(q, lease_id);
    q->n_queued -= n;
    q->n_leased += n;
    return n;
}

/* Detaches it from its lease; returns the lease id when that left it empty. */
static int64_t detach(struct mn_queue *q, struct mn_queue_item *it)
{
    int64_t lease_id = it->lease_id;
    if (!lease_id) {
        q->n_queued--;
        return 0;
    }
    q->n_leased--;
    it->lease_id = 0;
    struct lease_rec *r = find_lease(q, lease_id);
    if (!r || --r->n_open > 0)
        return 0;
    mn_queue_lease_end(q, lease_id);
    return lease_id;
}

int64_t mn_queue_requeue(struct mn_queue *q, struct mn_queue_item *it)
{
    if (!it->lease_id)
        return 0; /* already queued */
    if (ring_room(&q->retry))
        return MN_ENOMEM;
    int64_t emptied = detach(q, it);
    q->n_queued++;
    ring_push(&q->retry, it->id);
    return emptied;
}

int64_t mn_queue_finish(struct mn_queue *q, struct mn_queue_item *it)
{
    int64_t emptied = detach(q, it);
    unslot(q, it);
    free(it);
    return emptied;
}

int mn_queue_lease_items(const struct mn_queue *q, int64_t lease_id, struct mn_queue_item **out,
                         int max)
{
    const struct lease_rec *r = find_lease(q, lease_id);
    int n = 0;
    for (int i = 0; r && i < r->n; i++) {
        struct mn_queue_item *it = mn_queue_get(q, r->ids[i]);
        if (!it || it->lease_id != lease_id)
            continue;
        if (out && n < max)
            out[n] = it;
        n++;
    }
    return n;
}

void mn_queue_lease_end(struct mn_queue *q, int64_t lease_id)
{
    struct lease_rec *r = find_lease(q, lease_id);
    if (!r)
        return;
    free(r->ids);
    *r = q->leases[--q->n_leases];
}

int64_t mn_queue_queued(const struct mn_queue *q)
{
    return q->n_queued;
}

int64_t mn_queue_leased(const struct mn_queue *q)
{
    return q->n_leased;
}
