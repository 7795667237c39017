/* strategy_monas.c — TE-NAS / MONAS hardware-aware pruning of the NB201 supernet.
 *
 * Start: every edge holds every op but 'none' (TE-NAS drops it first). Each round is
 * one batch: the current supernet itself plus, for every edge with more than one op
 * left, the supernet with one of those ops removed. When the whole round has finished,
 * every removal is ranked per metric by the relative change it causes against the
 * round's supernet, and the ranks are combined with weights; on every edge the removal
 * with the smallest combined rank is applied. Rounds repeat until one op per edge is
 * left; that architecture is proposed last (so it is scored and costed like any other)
 * and is the job's result. The rounds, with every value, change and rank, are the
 * strategy state served in GET /v1/jobs/{id} ("strategy_state").
 *
 * Ranking, as TE-NAS's prune_func_rank: for a metric where lower is better (ntk,
 * latency_ms, peak_sram_bytes, flash_bytes) the change of removal r is
 * (v_super − v_r)/|v_super|, for one where higher is better (linear_regions) it is
 * (v_r − v_super)/|v_super|; a larger change means the op is more worth dropping. The
 * change is rounded to `precision` decimals, removals are sorted by it (descending,
 * stable) and given dense ranks from 0 (equal changes share a rank). A removal that
 * failed or lacks the metric ranks after all others. Combined rank = Σ weight × rank;
 * ties on an edge go to the better rank of the first metric, then to op order. Without
 * a scored supernet the raw values are ranked instead (the same order, no rounding).
 *
 * Weights (MONAS): latency_weight w, sram_weight s and flash_weight f; the proxies
 * (default ntk and linear_regions) share 1 − w − s − f equally. w = s = f = 0 is TE-NAS.
 *
 * Repeats: each proxy's `repeats` setting (job spec, proxies) averages the proxy over
 * fresh initialisations inside the worker; TE-NAS averages the change over repeats with
 * the supernet and the pruned net sharing weights, which a worker cannot do since a
 * candidate's weights derive from its own key. The supernet sums the ops of an edge
 * (space_nb201.c); TE-NAS scales them by softmax(α) = 1/k.
 *
 * Only for the nb201 space; the job's proxies must include the ranked ones. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "catalog.h"
#include "job.h"
#include "json.h"
#include "log.h"

#define N_EDGES 6
#define N_OPS 5
#define MAX_METRICS 8
#define MAX_PROXIES 5
#define MAX_ROUNDS N_OPS
#define MAX_CANDS (1 + N_EDGES * N_OPS)

/* The NB201 string form (space.h): op names in the space's order; edge e reads node
 * edge_from[e]; edges 0 | 1 2 | 3 4 5 feed nodes 1, 2, 3. */
static const char *const op_names[N_OPS] = {"none", "skip_connect", "nor_conv_1x1",
                                            "nor_conv_3x3", "avg_pool_3x3"};
static const int edge_from[N_EDGES] = {0, 0, 1, 0, 1, 2};
#define OP_NONE 0

enum cstate { C_UNPROPOSED, C_PENDING, C_SCORED, C_FAILED, C_NSTATES };
static const char *const cstate_names[C_NSTATES] = {"unproposed", "pending", "scored",
                                                    "failed"};

/* Cost figures that can be ranked, after the proxies. */
static const char *const cost_metrics[] = {"latency_ms", "peak_sram_bytes", "flash_bytes"};
static const char *const weight_keys[] = {"latency_weight", "sram_weight", "flash_weight"};
#define N_COST_METRICS 3

struct metric {
    char name[32];
    int is_cost, maximise;
    double weight;
};

struct cand {
    char *key;
    int edge, op;        /* the removed op; -1 for a round's supernet and the final */
    enum cstate state;
    unsigned have;       /* bit k: v[k] present */
    double v[MAX_METRICS];
    double change[MAX_METRICS];
    int rank[MAX_METRICS];
    double score;
};

struct round {
    unsigned char mask[N_EDGES]; /* the round's supernet: bit o = op o on the edge */
    int n, next;                 /* candidates (c[0] = the supernet), proposed so far */
    int closed;
    int pruned[N_EDGES];         /* op dropped on each edge, -1 none */
    struct cand c[MAX_CANDS];
};

struct settings {
    int n_m, precision;
    struct metric m[MAX_METRICS];
};

struct monas {
    struct settings set;
    int n_rounds;
    struct round r[MAX_ROUNDS];
    int has_final;
    struct cand final;
};

/* ---- settings ---- */

static const char *const setting_keys[] = {"latency_weight", "sram_weight", "flash_weight",
                                           "proxies", "precision", NULL};

/* Parses settings into s->m / s->precision; err->field relative to the settings. */
static int parse_settings(const cJSON *st, struct settings *s, struct mn_error *err)
{
    double w[N_COST_METRICS] = {0.5, 0, 0};
    int rc = mn_json_check_keys(st, setting_keys, err);
    for (int i = 0; !rc && i < N_COST_METRICS; i++)
        rc = mn_json_get_num(st, weight_keys[i], 0, 1, &w[i], err);
    s->precision = 3;
    if (rc || (rc = mn_json_get_i32(st, "precision", 0, 12, &s->precision, err)))
        return rc;
    if (w[0] + w[1] + w[2] > 1 + 1e-12)
        return mn_error_set(err, MN_EINVAL, "latency_weight", "latency_weight + sram_weight + "
                            "flash_weight must be at most 1");
    const cJSON *px = cJSON_GetObjectItemCaseSensitive(st, "proxies"), *p;
    static const char *const dflt[] = {"ntk", "linear_regions"};
    int n_p = 0;
    s->n_m = 0;
    if (px && (!cJSON_IsArray(px) || cJSON_GetArraySize(px) < 1 ||
               cJSON_GetArraySize(px) > MAX_PROXIES))
        return mn_error_set(err, MN_EINVAL, "proxies", "proxies must list 1 to %d proxy "
                            "names", MAX_PROXIES);
    for (int i = 0; i < (px ? cJSON_GetArraySize(px) : 2); i++) {
        p = px ? cJSON_GetArrayItem(px, i) : NULL;
        const char *name = px ? (cJSON_IsString(p) ? p->valuestring : "") : dflt[i];
        int mx = mn_catalog_proxy_maximise(name);
        char field[32];
        snprintf(field, sizeof field, "proxies[%d]", i);
        if (mx < 0 || strlen(name) >= sizeof s->m[0].name)
            return mn_error_set(err, MN_EINVAL, field, "unknown proxy '%.40s'", name);
        for (int k = 0; k < s->n_m; k++)
            if (strcmp(s->m[k].name, name) == 0)
                return mn_error_set(err, MN_EINVAL, field, "proxy '%s' given twice", name);
        struct metric *m = &s->m[s->n_m++];
        snprintf(m->name, sizeof m->name, "%s", name);
        m->maximise = mx;
        n_p++;
    }
    double share = (1.0 - w[0] - w[1] - w[2]) / n_p;
    for (int k = 0; k < s->n_m; k++)
        s->m[k].weight = share > 0 ? share : 0;
    for (int i = 0; i < N_COST_METRICS; i++) {
        struct metric *m = &s->m[s->n_m++];
        snprintf(m->name, sizeof m->name, "%s", cost_metrics[i]);
        m->is_cost = 1;
        m->weight = w[i];
    }
    return MN_OK;
}

static int check(const cJSON *settings, struct mn_error *err)
{
    struct settings s;
    return parse_settings(settings, &s, err);
}

/* ---- architectures ---- */

static int popcount(unsigned m)
{
    int n = 0;
    for (; m; m &= m - 1)
        n++;
    return n;
}

/* The nb201 string of mask (ops in space order: the canonical form). */
static void mask_text(const unsigned char *mask, char *buf, size_t len)
{
    size_t n = 0;
    for (int e = 0; e < N_EDGES && n < len; e++) {
        if (e == 1 || e == 3)
            n += (size_t)snprintf(buf + n, len - n, "+");
        n += (size_t)snprintf(buf + n, len - n, "|");
        const char *sep = "";
        for (int o = 0; o < N_OPS && n < len; o++)
            if (mask[e] & (1u << o)) {
                n += (size_t)snprintf(buf + n, len - n, "%s%s", sep, op_names[o]);
                sep = ",";
            }
        if (n < len)
            n += (size_t)snprintf(buf + n, len - n, "~%d", edge_from[e]);
        if (e == 0 || e == 2 || e == 5)
            n += n < len ? (size_t)snprintf(buf + n, len - n, "|") : 0;
    }
}

static int all_single(const unsigned char *mask)
{
    for (int e = 0; e < N_EDGES; e++)
        if (popcount(mask[e]) > 1)
            return 0;
    return 1;
}

static void cand_init(struct cand *c, int edge, int op)
{
    memset(c, 0, sizeof *c);
    c->edge = edge;
    c->op = op;
}

/* Sets c->key to the canonical key of the supernet `mask` without op (edge, op). */
static int cand_key(const struct mn_space *sp, struct cand *c, const unsigned char *mask)
{
    unsigned char m[N_EDGES];
    char text[1024];
    memcpy(m, mask, sizeof m);
    if (c->edge >= 0)
        m[c->edge] &= (unsigned char)~(1u << c->op);
    mask_text(m, text, sizeof text);
    struct mn_arch *a = NULL;
    int rc = mn_space_arch_from_text(sp, text, &a, NULL);
    if (rc)
        return rc;
    free(c->key);
    c->key = mn_space_arch_key(sp, a);
    mn_arch_free(a);
    return c->key ? MN_OK : MN_ENOMEM;
}

/* ---- values ---- */

static void take_values(const struct settings *s, struct cand *c, const struct mn_scored *sc)
{
    c->have = 0;
    if (!sc->ok) {
        c->state = C_FAILED;
        return;
    }
    for (int k = 0; k < s->n_m; k++) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(s->m[k].is_cost ? sc->cost : sc->scores,
                                                          s->m[k].name);
        if (cJSON_IsNumber(v) && isfinite(v->valuedouble)) {
            c->v[k] = v->valuedouble;
            c->have |= 1u << k;
        }
    }
    c->state = C_SCORED;
}

struct lookup {
    const struct settings *s;
    struct cand *c;
};

static int lookup_cb(void *ctx, const struct mn_scored *sc)
{
    struct lookup *l = ctx;
    if (strcmp(sc->key, l->c->key) != 0)
        return 0;
    take_values(l->s, l->c, sc);
    return 1;
}

/* Proposes c; a key the job already holds takes that candidate's scores (or counts as
 * failed when it has none). Returns 1 when a candidate was added, 0, or < 0. */
static int propose_cand(struct mn_job *job, struct monas *s, struct cand *c)
{
    struct mn_arch *a = NULL;
    int rc = mn_space_arch_from_text(job->spec->space, c->key, &a, NULL);
    if (rc)
        return rc;
    rc = mn_job_propose(job, a, NULL);
    mn_arch_free(a);
    if (rc < 0)
        return rc;
    c->state = C_PENDING;
    if (rc == 0) {
        struct lookup l = {&s->set, c};
        int found = mn_job_each_scored(job, lookup_cb, &l);
        if (found < 0)
            return found;
        if (!found)
            c->state = C_FAILED;
    }
    return rc;
}

/* ---- ranking ---- */

static double round_to(double x, int decimals)
{
    double f = pow(10.0, decimals);
    return nearbyint(x * f) / f;
}

/* Dense ranks of removals 1..n-1 of round r for metric k (see the top of the file). */
static void rank_metric(const struct settings *s, struct round *r, int k)
{
    const struct cand *o = &r->c[0];
    int relative = o->state == C_SCORED && (o->have & (1u << k)) && o->v[k] != 0;
    int idx[MAX_CANDS], n = 0;
    for (int i = 1; i < r->n; i++) {
        struct cand *c = &r->c[i];
        c->rank[k] = -1;
        if (c->state != C_SCORED || !(c->have & (1u << k)))
            continue;
        double d = s->m[k].maximise ? c->v[k] - (relative ? o->v[k] : 0)
                                    : (relative ? o->v[k] : 0) - c->v[k];
        c->change[k] = relative ? round_to(d / fabs(o->v[k]), s->precision) : d;
        /* insertion sort: descending change, stable */
        int j = n++;
        while (j > 0 && r->c[idx[j - 1]].change[k] < c->change[k]) {
            idx[j] = idx[j - 1];
            j--;
        }
        idx[j] = i;
    }
    int rank = 0;
    for (int j = 0; j < n; j++) {
        if (j > 0 && r->c[idx[j]].change[k] != r->c[idx[j - 1]].change[k])
            rank++;
        r->c[idx[j]].rank[k] = rank;
    }
    for (int i = 1; i < r->n; i++)
        if (r->c[i].rank[k] < 0)
            r->c[i].rank[k] = n ? rank + 1 : 0;
}

/* Ranks round r and drops the chosen op on every edge of *mask. */
static void close_round(struct monas *s, struct round *r, unsigned char *mask)
{
    for (int k = 0; k < s->set.n_m; k++)
        rank_metric(&s->set, r, k);
    for (int i = 1; i < r->n; i++) {
        r->c[i].score = 0;
        for (int k = 0; k < s->set.n_m; k++)
            r->c[i].score += s->set.m[k].weight * r->c[i].rank[k];
    }
    for (int e = 0; e < N_EDGES; e++) {
        int best = -1;
        for (int i = 1; i < r->n; i++) {
            const struct cand *c = &r->c[i];
            if (c->edge != e)
                continue;
            if (best < 0 || c->score < r->c[best].score ||
                (c->score == r->c[best].score && c->rank[0] < r->c[best].rank[0]))
                best = i;
        }
        r->pruned[e] = best < 0 ? -1 : r->c[best].op;
        if (best >= 0)
            mask[e] &= (unsigned char)~(1u << r->c[best].op);
    }
    r->closed = 1;
}

static int round_finished(const struct round *r)
{
    for (int i = 0; i < r->n; i++)
        if (r->c[i].state == C_UNPROPOSED || r->c[i].state == C_PENDING)
            return 0;
    return 1;
}

static struct round *open_round(struct monas *s)
{
    return s->n_rounds && !s->r[s->n_rounds - 1].closed ? &s->r[s->n_rounds - 1] : NULL;
}

/* The supernet after the last closed round. */
static void current_mask(const struct monas *s, unsigned char *mask)
{
    for (int e = 0; e < N_EDGES; e++)
        mask[e] = (unsigned char)(((1u << N_OPS) - 1) & ~(1u << OP_NONE));
    for (int i = 0; i < s->n_rounds; i++)
        if (s->r[i].closed)
            for (int e = 0; e < N_EDGES; e++)
                if (s->r[i].pruned[e] >= 0)
                    mask[e] &= (unsigned char)~(1u << s->r[i].pruned[e]);
}

/* Closes the open round when all of it finished; then opens the next one, or sets up
 * the final architecture. */
static int advance(struct mn_job *job, struct monas *s)
{
    unsigned char mask[N_EDGES];
    struct round *r = open_round(s);
    if (r && !round_finished(r))
        return MN_OK;
    current_mask(s, mask);
    if (r)
        close_round(s, r, mask);
    if (s->has_final)
        return MN_OK;
    if (all_single(mask)) {
        cand_init(&s->final, -1, 0);
        s->has_final = 1;
        return cand_key(job->spec->space, &s->final, mask);
    }
    if (s->n_rounds == MAX_ROUNDS)
        return MN_ESTATE;
    r = &s->r[s->n_rounds++];
    memset(r, 0, sizeof *r);
    memcpy(r->mask, mask, sizeof mask);
    cand_init(&r->c[r->n++], -1, 0);
    for (int e = 0; e < N_EDGES; e++)
        for (int o = 0; o < N_OPS && popcount(mask[e]) > 1; o++)
            if (mask[e] & (1u << o))
                cand_init(&r->c[r->n++], e, o);
    for (int i = 0; i < r->n; i++) {
        int rc = cand_key(job->spec->space, &r->c[i], mask);
        if (rc)
            return rc;
    }
    return MN_OK;
}

static int propose(struct mn_job *job, void *state, int want, int *done)
{
    struct monas *s = state;
    int added = 0, rc = MN_OK;
    while (added < want && !rc) {
        struct round *r = open_round(s);
        if (!r && s->has_final) {
            if (s->final.state == C_UNPROPOSED && (rc = propose_cand(job, s, &s->final)) >= 0) {
                added += rc;
                rc = MN_OK;
            }
            break;
        }
        if (!r) {
            rc = advance(job, s);
            continue;
        }
        if (r->next == r->n) {
            if (!round_finished(r))
                break;
            rc = advance(job, s); /* every candidate was a known key */
            continue;
        }
        if ((rc = propose_cand(job, s, &r->c[r->next])) >= 0) {
            r->next++;
            added += rc;
            rc = MN_OK;
        }
    }
    if (s->has_final && s->final.state != C_UNPROPOSED && s->final.state != C_PENDING)
        *done = 1;
    return rc ? rc : added;
}

static int on_results(struct mn_job *job, void *state, const struct mn_scored *batch, int n)
{
    struct monas *s = state;
    struct round *r = open_round(s);
    for (int i = 0; i < n; i++) {
        const char *key = batch[i].key;
        struct cand *c = NULL;
        for (int k = 0; r && k < r->n && !c; k++)
            if (r->c[k].state == C_PENDING && strcmp(r->c[k].key, key) == 0)
                c = &r->c[k];
        if (!c && s->has_final && s->final.state == C_PENDING && strcmp(s->final.key, key) == 0)
            c = &s->final;
        if (c)
            take_values(&s->set, c, &batch[i]);
    }
    return r && round_finished(r) ? advance(job, s) : MN_OK;
}

static int64_t generation(struct mn_job *job, void *state)
{
    const struct monas *s = state;
    (void)job;
    int64_t g = 0;
    for (int i = 0; i < s->n_rounds; i++)
        g += s->r[i].closed;
    return g + (s->has_final && s->final.state >= C_SCORED);
}

/* ---- state as JSON (saved with the job; served as strategy_state) ---- */

static cJSON *values_json(const struct settings *s, const double *v, unsigned have)
{
    cJSON *o = cJSON_CreateObject();
    for (int k = 0; o && k < s->n_m; k++)
        if (have & (1u << k))
            cJSON_AddNumberToObject(o, s->m[k].name, v[k]);
    return o;
}

static cJSON *cand_json(const struct settings *s, const struct cand *c, int closed)
{
    cJSON *o = cJSON_CreateObject();
    if (!o)
        return NULL;
    if (c->edge >= 0) {
        cJSON_AddNumberToObject(o, "edge", c->edge);
        cJSON_AddStringToObject(o, "op", op_names[c->op]);
    }
    cJSON_AddStringToObject(o, "key", c->key);
    cJSON_AddStringToObject(o, "status", cstate_names[c->state]);
    cJSON_AddItemToObject(o, "values", values_json(s, c->v, c->have));
    if (closed && c->edge >= 0) {
        cJSON *ch = cJSON_AddObjectToObject(o, "change");
        cJSON *rk = cJSON_AddObjectToObject(o, "rank");
        for (int k = 0; ch && rk && k < s->n_m; k++) {
            if (c->state == C_SCORED && (c->have & (1u << k)))
                cJSON_AddNumberToObject(ch, s->m[k].name, c->change[k]);
            cJSON_AddNumberToObject(rk, s->m[k].name, c->rank[k]);
        }
        cJSON_AddNumberToObject(o, "score", c->score);
    }
    return o;
}

static cJSON *save(const void *state)
{
    const struct monas *s = state;
    cJSON *o = cJSON_CreateObject(), *w = cJSON_AddObjectToObject(o, "weights");
    cJSON *rounds = cJSON_AddArrayToObject(o, "rounds");
    if (!w || !rounds) {
        cJSON_Delete(o);
        return NULL;
    }
    for (int k = 0; k < s->set.n_m; k++)
        cJSON_AddNumberToObject(w, s->set.m[k].name, s->set.m[k].weight);
    for (int i = 0; i < s->n_rounds; i++) {
        const struct round *r = &s->r[i];
        cJSON *ro = cJSON_CreateObject(), *rem = cJSON_CreateArray();
        cJSON_AddItemToArray(rounds, ro);
        cJSON_AddItemToObject(ro, "supernet", cand_json(&s->set, &r->c[0], 0));
        cJSON_AddItemToObject(ro, "removals", rem);
        for (int k = 1; k < r->n; k++)
            cJSON_AddItemToArray(rem, cand_json(&s->set, &r->c[k], r->closed));
        cJSON_AddNumberToObject(ro, "proposed", r->next);
        cJSON_AddBoolToObject(ro, "closed", r->closed);
        if (r->closed) {
            cJSON *p = cJSON_AddArrayToObject(ro, "pruned");
            for (int e = 0; p && e < N_EDGES; e++)
                cJSON_AddItemToArray(p, r->pruned[e] < 0 ? cJSON_CreateNull()
                                                         : cJSON_CreateString(op_names[r->pruned[e]]));
        }
    }
    if (s->has_final)
        cJSON_AddItemToObject(o, "final", cand_json(&s->set, &s->final, 0));
    else
        cJSON_AddNullToObject(o, "final");
    /* Any failed allocation above leaves a hole: refuse to save a partial state. */
    char *text = mn_json_print(o);
    if (!text) {
        cJSON_Delete(o);
        return NULL;
    }
    free(text);
    return o;
}

static int find_name(const char *const *names, int n, const char *s)
{
    for (int i = 0; s && i < n; i++)
        if (strcmp(names[i], s) == 0)
            return i;
    return -1;
}

static const char *str_of(const cJSON *o, const char *key)
{
    const cJSON *j = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsString(j) ? j->valuestring : NULL;
}

static double num_of(const cJSON *o, const char *key, double dflt)
{
    const cJSON *j = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsNumber(j) ? j->valuedouble : dflt;
}

/* Restores one candidate; keys are recomputed from the mask, the rest read back. */
static int load_cand(const struct mn_space *sp, const struct settings *s, const cJSON *j,
                     struct cand *c, const unsigned char *mask)
{
    int edge = (int)num_of(j, "edge", -1), op = find_name(op_names, N_OPS, str_of(j, "op"));
    int st = find_name(cstate_names, C_NSTATES, str_of(j, "status"));
    if (!cJSON_IsObject(j) || st < 0 || edge < -1 || edge >= N_EDGES || (edge >= 0 && op < 0))
        return MN_EPARSE;
    cand_init(c, edge, op < 0 ? 0 : op);
    c->state = (enum cstate)st;
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(j, "values");
    const cJSON *ch = cJSON_GetObjectItemCaseSensitive(j, "change");
    const cJSON *rk = cJSON_GetObjectItemCaseSensitive(j, "rank");
    for (int k = 0; k < s->n_m; k++) {
        const cJSON *x = cJSON_GetObjectItemCaseSensitive(v, s->m[k].name);
        if (cJSON_IsNumber(x)) {
            c->v[k] = x->valuedouble;
            c->have |= 1u << k;
        }
        c->change[k] = num_of(ch, s->m[k].name, 0);
        c->rank[k] = (int)num_of(rk, s->m[k].name, 0);
    }
    c->score = num_of(j, "score", 0);
    int rc = cand_key(sp, c, mask);
    if (!rc && (!str_of(j, "key") || strcmp(str_of(j, "key"), c->key) != 0))
        rc = MN_EPARSE;
    return rc;
}

static int load_state(const struct mn_space *sp, struct monas *s, const cJSON *saved)
{
    const cJSON *rounds = cJSON_GetObjectItemCaseSensitive(saved, "rounds"), *ro;
    if (!cJSON_IsArray(rounds) || cJSON_GetArraySize(rounds) > MAX_ROUNDS)
        return MN_EPARSE;
    int rc = MN_OK;
    cJSON_ArrayForEach(ro, rounds)
    {
        struct round *r = &s->r[s->n_rounds++];
        const cJSON *rem = cJSON_GetObjectItemCaseSensitive(ro, "removals"), *c;
        const cJSON *pruned = cJSON_GetObjectItemCaseSensitive(ro, "pruned");
        memset(r, 0, sizeof *r);
        current_mask(s, r->mask);
        r->closed = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(ro, "closed"));
        r->next = (int)num_of(ro, "proposed", 0);
        if (!cJSON_IsArray(rem) || cJSON_GetArraySize(rem) >= MAX_CANDS)
            return MN_EPARSE;
        if ((rc = load_cand(sp, &s->set, cJSON_GetObjectItemCaseSensitive(ro, "supernet"),
                            &r->c[r->n++], r->mask)))
            return rc;
        cJSON_ArrayForEach(c, rem)
        {
            if ((rc = load_cand(sp, &s->set, c, &r->c[r->n++], r->mask)))
                return rc;
        }
        if (r->next < 0 || r->next > r->n)
            return MN_EPARSE;
        for (int e = 0; e < N_EDGES; e++) {
            const cJSON *p = cJSON_GetArrayItem(pruned, e);
            r->pruned[e] = cJSON_IsString(p) ? find_name(op_names, N_OPS, p->valuestring) : -1;
        }
        if (r->closed && cJSON_GetArraySize(pruned) != N_EDGES)
            return MN_EPARSE;
    }
    const cJSON *fin = cJSON_GetObjectItemCaseSensitive(saved, "final");
    if (cJSON_IsObject(fin)) {
        unsigned char mask[N_EDGES];
        current_mask(s, mask);
        s->has_final = 1;
        rc = load_cand(sp, &s->set, fin, &s->final, mask);
    }
    return rc;
}

static void stop(void *state)
{
    struct monas *s = state;
    if (!s)
        return;
    for (int i = 0; i < s->n_rounds; i++)
        for (int k = 0; k < s->r[i].n; k++)
            free(s->r[i].c[k].key);
    if (s->has_final)
        free(s->final.key);
    free(s);
}

static int start(struct mn_job *job, const cJSON *saved, void **state, struct mn_error *err)
{
    if (strcmp(mn_space_name(job->spec->space), "nb201") != 0)
        return mn_error_set(err, MN_EINVAL, "space.name", "strategy 'monas' prunes the nb201 "
                            "supernet; the job's space is '%s'", mn_space_name(job->spec->space));
    struct monas *s = calloc(1, sizeof *s);
    if (!s)
        return mn_error_set(err, MN_ENOMEM, NULL, "out of memory");
    int rc = parse_settings(job->spec->strategy_settings, &s->set, err);
    for (int k = 0; !rc && k < s->set.n_m; k++) {
        const struct metric *m = &s->set.m[k];
        if (!m->is_cost && !cJSON_GetObjectItemCaseSensitive(job->spec->proxies, m->name))
            rc = mn_error_set(err, MN_EINVAL, "strategy.settings.proxies", "strategy 'monas' "
                              "ranks by '%s': add it to the job's proxies", m->name);
    }
    if (!rc && saved && (rc = load_state(job->spec->space, s, saved)))
        mn_error_set(err, rc, "strategy_state", "saved monas state is malformed");
    if (rc) {
        stop(s);
        return rc;
    }
    *state = s;
    return MN_OK;
}

const struct mn_strategy mn_strategy_monas = {
    .name = "monas",
    .summary = "TE-NAS/MONAS pruning of the nb201 supernet: per round, rank every single-op "
               "removal by NTK, linear regions and MCU latency (and optionally SRAM, flash), "
               "drop the worst op per edge",
    .check = check,
    .start = start,
    .propose = propose,
    .on_results = on_results,
    .generation = generation,
    .save = save,
    .stop = stop,
};
