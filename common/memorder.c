/* memorder.c — best operator order for peak activation memory: a level-by-level
 * dynamic programme over executed-layer sets with an optional beam (see memorder.h). */
#include "memorder.h"
#include <stdlib.h>
#include <string.h>

typedef uint64_t word;

/* The graph's buffers and who reads them, shared by the search and the replay. */
struct ctx {
    const struct mn_graph *g;
    int n, W;          /* layers; 64-bit words per layer set */
    int *owner;        /* n: the layer whose buffer layer i's output lives in */
    int64_t *bytes;    /* n: buffer bytes (0 for flatten aliases) */
    const int64_t *scratch;
    word *readers;     /* n × W: layers reading buffer b (via any alias) */
    char *keep;        /* n: buffer holds the network output */
    int *lim;          /* n: the last layer all of whose inputs are ≤ h, for each h */
};

static int has(const word *s, int i)
{
    return (int)((s[i >> 6] >> (i & 63)) & 1u);
}

static void set_bit(word *s, int i)
{
    s[i >> 6] |= (word)1 << (i & 63);
}

static void ctx_free(struct ctx *c)
{
    free(c->owner);
    free(c->bytes);
    free(c->readers);
    free(c->keep);
    free(c->lim);
}

static int ctx_init(struct ctx *c, const struct mn_graph *g, const int64_t *tensor_bytes,
                    const int64_t *scratch_bytes, struct mn_error *err)
{
    memset(c, 0, sizeof *c);
    c->g = g;
    c->n = g->n;
    c->W = (g->n + 63) / 64;
    c->scratch = scratch_bytes;
    c->owner = malloc((size_t)c->n * sizeof *c->owner);
    c->bytes = calloc((size_t)c->n, sizeof *c->bytes);
    c->readers = calloc((size_t)c->n * (size_t)c->W, sizeof *c->readers);
    c->keep = calloc((size_t)c->n, 1);
    c->lim = calloc((size_t)c->n, sizeof *c->lim);
    if (!c->owner || !c->bytes || !c->readers || !c->keep || !c->lim) {
        ctx_free(c);
        return mn_error_set(err, MN_ENOMEM, NULL, "out of memory for the memory planner");
    }
    for (int i = 0; i < c->n; i++) {
        const struct mn_layer *l = &g->layers[i];
        int alias = l->op == MN_OP_FLATTEN;
        c->owner[i] = alias ? c->owner[l->in[0]] : i;
        if (i == g->output)
            c->keep[c->owner[i]] = 1;
        if (!alias)
            c->bytes[i] = tensor_bytes[i] > 0 ? tensor_bytes[i] : 0;
        for (int j = 0; j < l->n_in; j++)
            set_bit(&c->readers[(size_t)c->owner[l->in[j]] * (size_t)c->W], i);
    }
    /* lim bounds the layers that can be ready once layers up to h have run. */
    for (int v = 1; v < c->n; v++) {
        int hi = 0;
        for (int j = 0; j < g->layers[v].n_in; j++)
            hi = g->layers[v].in[j] > hi ? g->layers[v].in[j] : hi;
        c->lim[hi] = v > c->lim[hi] ? v : c->lim[hi];
    }
    for (int h = 1; h < c->n; h++)
        c->lim[h] = c->lim[h] > c->lim[h - 1] ? c->lim[h] : c->lim[h - 1];
    return MN_OK;
}

static int ready(const struct ctx *c, const word *s, int v)
{
    if (has(s, v))
        return 0;
    const struct mn_layer *l = &c->g->layers[v];
    for (int j = 0; j < l->n_in; j++)
        if (!has(s, l->in[j]))
            return 0;
    return 1;
}

/* Runs v after set s (s gains v): returns the memory while v runs and sets *live to
 * the live bytes afterwards. */
static int64_t step(const struct ctx *c, word *s, int v, int64_t *live)
{
    const struct mn_layer *l = &c->g->layers[v];
    int64_t during = *live + c->bytes[v] + (c->scratch ? c->scratch[v] : 0);
    set_bit(s, v);
    int64_t after = *live + c->bytes[v];
    int cand[MN_GRAPH_MAX_IN + 1], nc = 0;
    for (int j = 0; j <= l->n_in; j++) {
        int b = j < l->n_in ? c->owner[l->in[j]] : c->owner[v];
        int dup = 0;
        for (int k = 0; k < nc; k++)
            dup |= cand[k] == b;
        if (!dup)
            cand[nc++] = b;
    }
    for (int k = 0; k < nc; k++) {
        int b = cand[k];
        if (c->keep[b] || !has(s, b))
            continue;
        const word *r = &c->readers[(size_t)b * (size_t)c->W];
        int done = 1;
        for (int w = 0; w < c->W && done; w++)
            done = (r[w] & ~s[w]) == 0;
        if (done)
            after -= c->bytes[b];
    }
    *live = after;
    return during;
}

/* Replays `order` into *out (which takes a copy). */
static int replay(const struct ctx *c, const int *order, struct mn_memorder *out,
                  struct mn_error *err)
{
    memset(out, 0, sizeof *out);
    out->n = c->n;
    out->order = malloc((size_t)c->n * sizeof *out->order);
    out->step_bytes = malloc((size_t)c->n * sizeof *out->step_bytes);
    word *s = calloc((size_t)c->W, sizeof *s);
    int rc = MN_OK;
    if (!out->order || !out->step_bytes || !s) {
        rc = mn_error_set(err, MN_ENOMEM, NULL, "out of memory for the memory planner");
        goto fail;
    }
    int64_t live = 0;
    for (int k = 0; k < c->n; k++) {
        int v = order[k];
        if (v < 0 || v >= c->n || !ready(c, s, v)) {
            rc = mn_error_set(err, MN_EINVAL, "order", "step %d: layer %d is not runnable "
                              "there (not a topological order of the layers)", k, v);
            goto fail;
        }
        out->order[k] = v;
        out->step_bytes[k] = step(c, s, v, &live);
        if (out->step_bytes[k] > out->peak || k == 0) {
            out->peak = out->step_bytes[k];
            out->peak_step = k;
        }
    }
    free(s);
    return MN_OK;
fail:
    free(s);
    mn_memorder_release(out);
    return rc;
}

void mn_memorder_release(struct mn_memorder *o)
{
    if (!o)
        return;
    free(o->order);
    free(o->step_bytes);
    o->order = NULL;
    o->step_bytes = NULL;
}

int mn_memorder_eval(const struct mn_graph *g, const int64_t *tensor_bytes,
                     const int64_t *scratch_bytes, const int *order, struct mn_memorder *out,
                     struct mn_error *err)
{
    struct ctx c;
    int rc = ctx_init(&c, g, tensor_bytes, scratch_bytes, err);
    if (rc)
        return rc;
    rc = replay(&c, order, out, err);
    if (rc == MN_OK)
        out->exact = 1;
    ctx_free(&c);
    return rc;
}

/* One level of the programme: cnt distinct sets with their best peak. */
struct level {
    int cnt, cap, W;
    word *bits;       /* cnt × W */
    int64_t *peak, *live;
    int *parent, *op; /* index in the previous level; the layer that was added */
};

static void level_free(struct level *l)
{
    free(l->bits);
    free(l->peak);
    free(l->live);
    free(l->parent);
    free(l->op);
    memset(l, 0, sizeof *l);
}

static int level_grow(struct level *l)
{
    int cap = l->cap ? l->cap * 2 : 64;
    word *b = realloc(l->bits, (size_t)cap * (size_t)l->W * sizeof *b);
    if (b)
        l->bits = b;
    int64_t *p = realloc(l->peak, (size_t)cap * sizeof *p);
    if (p)
        l->peak = p;
    int64_t *v = realloc(l->live, (size_t)cap * sizeof *v);
    if (v)
        l->live = v;
    int *pa = realloc(l->parent, (size_t)cap * sizeof *pa);
    if (pa)
        l->parent = pa;
    int *o = realloc(l->op, (size_t)cap * sizeof *o);
    if (o)
        l->op = o;
    if (!b || !p || !v || !pa || !o)
        return MN_ENOMEM;
    l->cap = cap;
    return MN_OK;
}

static uint64_t hash_bits(const word *s, int W)
{
    uint64_t h = 0x9e3779b97f4a7c15u;
    for (int w = 0; w < W; w++) {
        h ^= s[w] + 0x9e3779b97f4a7c15u + (h << 6) + (h >> 2);
        h *= 0xbf58476d1ce4e5b9u;
    }
    return h ^ (h >> 31);
}

/* Open-addressing index of the sets in a level. */
struct table {
    int *slot;
    size_t mask;
};

static int table_reset(struct table *t, size_t want)
{
    size_t cap = 64;
    while (cap < 2 * want)
        cap *= 2;
    if (cap > t->mask + 1 || !t->slot) {
        free(t->slot);
        t->slot = malloc(cap * sizeof *t->slot);
        if (!t->slot)
            return MN_ENOMEM;
        t->mask = cap - 1;
    }
    memset(t->slot, 0xff, (t->mask + 1) * sizeof *t->slot);
    return MN_OK;
}

/* The slot where set s is, or the empty slot where it would go. */
static size_t table_find(const struct table *t, const struct level *l, const word *s)
{
    size_t i = (size_t)hash_bits(s, l->W) & t->mask;
    while (t->slot[i] >= 0 &&
           memcmp(&l->bits[(size_t)t->slot[i] * (size_t)l->W], s,
                  (size_t)l->W * sizeof *s) != 0)
        i = (i + 1) & t->mask;
    return i;
}

static int rebuild(struct table *t, const struct level *l)
{
    if (table_reset(t, (size_t)l->cap))
        return MN_ENOMEM;
    for (int k = 0; k < l->cnt; k++)
        t->slot[table_find(t, l, &l->bits[(size_t)k * (size_t)l->W])] = k;
    return MN_OK;
}

/* Sorting the candidates of a level for the beam: smaller peak, then fewer live bytes. */
struct rank {
    int64_t peak, live;
    int idx;
};

static int rank_cmp(const void *a, const void *b)
{
    const struct rank *x = a, *y = b;
    if (x->peak != y->peak)
        return x->peak < y->peak ? -1 : 1;
    if (x->live != y->live)
        return x->live < y->live ? -1 : 1;
    return x->idx - y->idx;
}

/* Keeps the `beam` best sets of l (in place). */
static int cut(struct level *l, int beam)
{
    struct rank *r = malloc((size_t)l->cnt * sizeof *r);
    struct level k = {.W = l->W};
    if (!r)
        return MN_ENOMEM;
    for (int i = 0; i < l->cnt; i++)
        r[i] = (struct rank){l->peak[i], l->live[i], i};
    qsort(r, (size_t)l->cnt, sizeof *r, rank_cmp);
    while (k.cap < beam)
        if (level_grow(&k)) {
            free(r);
            level_free(&k);
            return MN_ENOMEM;
        }
    for (int i = 0; i < beam; i++) {
        int s = r[i].idx;
        memcpy(&k.bits[(size_t)i * (size_t)k.W], &l->bits[(size_t)s * (size_t)l->W],
               (size_t)l->W * sizeof *l->bits);
        k.peak[i] = l->peak[s];
        k.live[i] = l->live[s];
        k.parent[i] = l->parent[s];
        k.op[i] = l->op[s];
    }
    k.cnt = beam;
    free(r);
    level_free(l);
    *l = k;
    return MN_OK;
}

int mn_memorder_search(const struct mn_graph *g, const int64_t *tensor_bytes,
                       const int64_t *scratch_bytes, int beam, struct mn_memorder *out,
                       struct mn_error *err)
{
    struct ctx c;
    if (beam < 1)
        return mn_error_set(err, MN_EINVAL, "beam", "beam must be at least 1");
    int rc = ctx_init(&c, g, tensor_bytes, scratch_bytes, err);
    if (rc)
        return rc;
    int n = c.n, exact = 1;
    int64_t states = 1;
    int **par = calloc((size_t)n + 1, sizeof *par), **ops = calloc((size_t)n + 1, sizeof *ops);
    int *order = malloc((size_t)n * sizeof *order);
    word *s = malloc((size_t)c.W * sizeof *s);
    struct level cur = {.W = c.W}, next = {.W = c.W};
    struct table t = {0};
    rc = MN_ENOMEM;
    if (!par || !ops || !order || !s || level_grow(&cur))
        goto done;
    memset(cur.bits, 0, (size_t)c.W * sizeof *cur.bits);
    cur.peak[0] = cur.live[0] = 0;
    cur.parent[0] = cur.op[0] = -1;
    cur.cnt = 1;
    for (int k = 1; k <= n; k++) {
        next.cnt = 0;
        if ((next.cap == 0 && level_grow(&next)) || rebuild(&t, &next))
            goto done;
        for (int i = 0; i < cur.cnt; i++) {
            const word *si = &cur.bits[(size_t)i * (size_t)c.W];
            /* Candidates lie between the first layer not run and lim[last layer run]. */
            int lo = 0, hi = -1;
            while (lo < n && has(si, lo))
                lo++;
            for (int w = c.W - 1; w >= 0 && hi < 0; w--)
                if (si[w])
                    hi = w * 64 + 63 - __builtin_clzll(si[w]);
            int top = hi < 0 ? 0 : c.lim[hi];
            for (int v = lo; v <= top && v < n; v++) {
                if (!ready(&c, si, v))
                    continue;
                memcpy(s, si, (size_t)c.W * sizeof *s);
                int64_t live = cur.live[i];
                int64_t during = step(&c, s, v, &live);
                int64_t pk = during > cur.peak[i] ? during : cur.peak[i];
                size_t at = table_find(&t, &next, s);
                int j = t.slot[at];
                if (j >= 0) {
                    if (pk < next.peak[j]) {
                        next.peak[j] = pk;
                        next.parent[j] = i;
                        next.op[j] = v;
                    }
                    continue;
                }
                if (next.cnt == next.cap) {
                    if (level_grow(&next) || rebuild(&t, &next))
                        goto done;
                    at = table_find(&t, &next, s);
                }
                j = next.cnt++;
                memcpy(&next.bits[(size_t)j * (size_t)c.W], s, (size_t)c.W * sizeof *s);
                next.peak[j] = pk;
                next.live[j] = live;
                next.parent[j] = i;
                next.op[j] = v;
                t.slot[at] = j;
            }
        }
        states += next.cnt;
        if (next.cnt > beam) {
            exact = 0;
            if (cut(&next, beam))
                goto done;
        }
        par[k] = malloc((size_t)next.cnt * sizeof **par);
        ops[k] = malloc((size_t)next.cnt * sizeof **ops);
        if (!par[k] || !ops[k])
            goto done;
        memcpy(par[k], next.parent, (size_t)next.cnt * sizeof **par);
        memcpy(ops[k], next.op, (size_t)next.cnt * sizeof **ops);
        struct level tmp = cur;
        cur = next;
        next = tmp;
    }
    /* Level n holds the one full set; walk its predecessors back. */
    for (int k = n, i = 0; k >= 1; k--) {
        order[k - 1] = ops[k][i];
        i = par[k][i];
    }
    rc = replay(&c, order, out, err);
    if (rc == MN_OK) {
        out->exact = exact;
        out->states = states;
    }
done:
    if (rc == MN_ENOMEM)
        mn_error_set(err, MN_ENOMEM, NULL, "out of memory for the memory planner");
    for (int k = 0; par && ops && k <= n; k++) {
        free(par[k]);
        free(ops[k]);
    }
    free(par);
    free(ops);
    free(order);
    free(s);
    free(t.slot);
    level_free(&cur);
    level_free(&next);
    ctx_free(&c);
    return rc;
}
