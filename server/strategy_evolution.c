/* strategy_evolution.c — μNAS's multi-objective aging evolution (Liberis et al. 2021),
 * for any space with sample and mutate (nb201, unas).
 *
 * First `initial` random architectures are proposed; once all of them finished,
 * every further candidate is a child: `sample` members are drawn (with replacement)
 * from the population, the parent is the one with the best random scalarisation of the
 * job's objectives, and the child is one of the space's mutations of it. Scalarisation
 * (μNAS): each objective k is normalised, m_k = (u_k − ideal_k)/(ref_k − ideal_k) — for
 * a budgeted cost the fraction of its budget, else the job's calibrated scale (see
 * objective.h), or the population's min–max while the job has none — capped at 10,
 * divided by a fresh λ_k ~ U(0, 1] per parent choice, and the largest quotient is the
 * member's fitness (lower is better). Objectives listed in `combine` enter as one: the
 * sum of their ranks within the sample, scaled to [0, 1] (TE-NAS's rank combination).
 *
 * Every scored candidate joins the population; beyond `population` members the oldest
 * leaves (aging). Before a candidate is proposed its cost is estimated here with the
 * job's MCU (cost.h); one breaking a hard limit (budgets: SRAM, flash, latency) is
 * stored as rejected, counted, never leased, and another is drawn (up to `max_tries`
 * draws per wanted candidate and call).
 *
 * State: the generator and counters in the job row; the population, oldest first, in
 * strategy rows ("population", seq = arrival number, {"id", "u"}), all written in the
 * transaction of the results that changed them, so a restarted monasd continues the
 * same search. Generations are the server's default (batch_size finished candidates). */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cost.h"
#include "job.h"
#include "json.h"
#include "mcu.h"
#include "rng.h"

#define CAP 10.0 /* μNAS caps a normalised objective at 10 */
#define MAX_SAMPLE 256
#define ROWS "population"

struct member {
    int64_t id, seq;
    double u[MN_MAX_OBJECTIVES];
};

struct evo {
    int population, sample, initial, max_tries;
    unsigned combine;       /* bit k: objective k is rank-combined */
    struct mn_rng rng;
    int64_t proposed_initial, finished, seq;
    int n;                  /* members, oldest first */
    struct member *pop;     /* capacity `population` */
    struct mn_mcu *mcu;
};

static const char *const setting_keys[] = {"population", "sample", "initial", "max_tries",
                                           "combine", NULL};

static int parse_settings(const cJSON *st, struct evo *s, struct mn_error *err)
{
    s->population = 100;
    s->sample = 25;
    s->initial = -1;
    s->max_tries = 100;
    int rc = mn_json_check_keys(st, setting_keys, err);
    if (rc || (rc = mn_json_get_i32(st, "population", 2, 100000, &s->population, err)) ||
        (rc = mn_json_get_i32(st, "sample", 1, MAX_SAMPLE, &s->sample, err)) ||
        (rc = mn_json_get_i32(st, "initial", 1, 1000000, &s->initial, err)) ||
        (rc = mn_json_get_i32(st, "max_tries", 1, 100000, &s->max_tries, err)))
        return rc;
    if (s->sample > s->population)
        return mn_error_set(err, MN_EINVAL, "sample", "sample (%d) must not exceed population "
                            "(%d)", s->sample, s->population);
    if (s->initial < 0)
        s->initial = s->population;
    const cJSON *c = cJSON_GetObjectItemCaseSensitive(st, "combine");
    if (c && (!cJSON_IsArray(c) || cJSON_GetArraySize(c) < 2))
        return mn_error_set(err, MN_EINVAL, "combine", "combine lists at least two objective "
                            "names");
    return MN_OK;
}

static int check(const cJSON *settings, struct mn_error *err)
{
    struct evo s;
    return parse_settings(settings, &s, err);
}

/* Resolves `combine` names against the job's objectives. */
static int parse_combine(const struct mn_jobspec *spec, struct evo *s, struct mn_error *err)
{
    const cJSON *c = cJSON_GetObjectItemCaseSensitive(spec->strategy_settings, "combine"), *it;
    int i = 0;
    cJSON_ArrayForEach(it, c)
    {
        int k = 0;
        while (k < spec->n_obj && !(cJSON_IsString(it) && strcmp(spec->obj[k].name, it->valuestring) == 0))
            k++;
        char field[48];
        snprintf(field, sizeof field, "strategy.settings.combine[%d]", i++);
        if (k == spec->n_obj)
            return mn_error_set(err, MN_EINVAL, field, "combine names the job's objectives");
        if (s->combine & (1u << k))
            return mn_error_set(err, MN_EINVAL, field, "objective '%s' given twice",
                                spec->obj[k].name);
        s->combine |= 1u << k;
    }
    return MN_OK;
}

/* ---- hard limits ---- */

/* 1 when a meets every budget of the job, 0 with *why filled, or < 0. */
static int fits(struct mn_job *job, struct evo *s, const struct mn_arch *a, char *why, size_t len)
{
    struct mn_graph *g = NULL;
    struct mn_cost c = {0};
    int rc = mn_space_lower(job->spec->space, a, &g, NULL);
    if (!rc)
        rc = mn_cost_estimate(g, s->mcu, &c, NULL);
    mn_graph_free(g);
    if (rc)
        return rc;
    cJSON *cj = mn_cost_to_json(&c, 0);
    rc = cj ? mn_budgets_met(&job->spec->budgets, cj) : MN_ENOMEM;
    if (rc == 0)
        snprintf(why, len, "breaks a hard limit: latency_ms %.6g, peak_sram_bytes %" PRId64
                 ", flash_bytes %" PRId64, c.latency_ms, c.peak_sram_bytes, c.flash_bytes);
    cJSON_Delete(cj);
    mn_cost_release(&c);
    return rc;
}

/* ---- parent selection ---- */

/* Normalised objective k of member i, capped. */
static double norm(const struct mn_job *job, const struct evo *s, int i, int k)
{
    const struct mn_objective *o = &job->spec->obj[k];
    double m;
    if (o->scaled) {
        m = mn_objective_m(o, s->pop[i].u[k]);
    } else {
        double lo = INFINITY, hi = -INFINITY;
        for (int j = 0; j < s->n; j++) {
            lo = fmin(lo, s->pop[j].u[k]);
            hi = fmax(hi, s->pop[j].u[k]);
        }
        m = hi > lo ? (s->pop[i].u[k] - lo) / (hi - lo) : 0.0;
    }
    return fmin(m, CAP);
}

/* The population index of the tournament winner. */
static int select_parent(const struct mn_job *job, struct evo *s)
{
    int d = job->spec->n_obj, idx[MAX_SAMPLE], n = s->sample;
    double lambda[MN_MAX_OBJECTIVES + 1];
    for (int k = 0; k <= d; k++)
        lambda[k] = 1.0 - mn_rng_uniform(&s->rng); /* (0, 1] */
    for (int i = 0; i < n; i++)
        idx[i] = (int)mn_rng_below(&s->rng, (uint64_t)s->n);
    int best = 0;
    double best_f = INFINITY;
    for (int i = 0; i < n; i++) {
        double f = -INFINITY, comb = 0;
        for (int k = 0; k < d; k++) {
            if (!(s->combine & (1u << k))) {
                f = fmax(f, norm(job, s, idx[i], k) / lambda[k]);
                continue;
            }
            for (int j = 0; j < n; j++) /* rank within the sample: members better than i */
                comb += s->pop[idx[j]].u[k] < s->pop[idx[i]].u[k];
        }
        if (s->combine) {
            int nc = 0;
            for (int k = 0; k < d; k++)
                nc += (s->combine >> k) & 1;
            f = fmax(f, (n > 1 ? comb / (nc * (n - 1.0)) : 0.0) / lambda[d]);
        }
        if (f < best_f) {
            best_f = f;
            best = idx[i];
        }
    }
    return best;
}

/* ---- propose / results ---- */

static int propose(struct mn_job *job, void *state, int want, int *done)
{
    struct evo *s = state;
    const struct mn_space *sp = job->spec->space;
    int added = 0, rc = MN_OK;
    for (long tries = 0; added < want && tries < (long)s->max_tries * want && !rc; tries++) {
        struct mn_arch *a = NULL;
        cJSON *origin = cJSON_CreateObject();
        if (!origin)
            return MN_ENOMEM;
        if (s->proposed_initial < s->initial) {
            cJSON_AddStringToObject(origin, "kind", "random");
            rc = mn_space_sample(sp, &s->rng, &a);
        } else if (s->finished < s->proposed_initial || s->n == 0) {
            cJSON_Delete(origin);
            *done = s->finished == s->proposed_initial; /* and no member: nothing to mutate */
            break; /* evolution starts once the initial population is in */
        } else {
            struct mn_arch *parent = NULL;
            int p = select_parent(job, s);
            cJSON_AddStringToObject(origin, "kind", "mutation");
            cJSON_AddNumberToObject(origin, "parent", (double)s->pop[p].id);
            if (!(rc = mn_job_arch(job, s->pop[p].id, &parent)))
                rc = mn_space_mutate(sp, parent, &s->rng, &a);
            mn_arch_free(parent);
        }
        char why[160];
        int ok = rc ? rc : fits(job, s, a, why, sizeof why);
        if (ok < 0) {
            rc = ok;
        } else if (ok == 0) {
            rc = mn_job_reject(job, a, why, origin);
        } else if ((rc = mn_job_propose(job, a, origin)) == 1) {
            added++;
            s->proposed_initial += s->proposed_initial < s->initial;
        }
        rc = rc < 0 ? rc : MN_OK;
        mn_arch_free(a);
        cJSON_Delete(origin);
    }
    return rc ? rc : added;
}

static int put_member(struct mn_job *job, const struct member *m, int d)
{
    cJSON *v = cJSON_CreateObject();
    cJSON *u = cJSON_CreateDoubleArray(m->u, d);
    if (!v || !u || !cJSON_AddItemToObject(v, "u", u)) {
        cJSON_Delete(v);
        cJSON_Delete(u);
        return MN_ENOMEM;
    }
    cJSON_AddNumberToObject(v, "id", (double)m->id);
    int rc = mn_job_rows_put(job, ROWS, m->seq, v);
    cJSON_Delete(v);
    return rc;
}

static int on_results(struct mn_job *job, void *state, const struct mn_scored *batch, int n)
{
    struct evo *s = state;
    int d = job->spec->n_obj, rc = MN_OK;
    for (int i = 0; i < n && !rc; i++) {
        s->finished++;
        if (!batch[i].ok || !batch[i].u)
            continue;
        if (s->n == s->population) { /* aging: the oldest leaves */
            if ((rc = mn_job_rows_del(job, ROWS, s->pop[0].seq)))
                break;
            memmove(s->pop, s->pop + 1, (size_t)(s->n - 1) * sizeof *s->pop);
            s->n--;
        }
        struct member *m = &s->pop[s->n++];
        m->id = batch[i].id;
        m->seq = s->seq++;
        memcpy(m->u, batch[i].u, (size_t)d * sizeof *m->u);
        rc = put_member(job, m, d);
    }
    return rc;
}

/* ---- state ---- */

static cJSON *save(const void *state)
{
    const struct evo *s = state;
    cJSON *o = cJSON_CreateObject();
    cJSON *p = NULL;
    if (mn_strategy_save_rng(o, &s->rng) || !(p = cJSON_AddArrayToObject(o, "population"))) {
        cJSON_Delete(o);
        return NULL;
    }
    cJSON_AddNumberToObject(o, "proposed_initial", (double)s->proposed_initial);
    cJSON_AddNumberToObject(o, "finished", (double)s->finished);
    cJSON_AddNumberToObject(o, "seq", (double)s->seq);
    for (int i = 0; i < s->n; i++)
        cJSON_AddItemToArray(p, cJSON_CreateNumber((double)s->pop[i].id));
    if (cJSON_GetArraySize(p) != s->n) { /* out of memory */
        cJSON_Delete(o);
        return NULL;
    }
    return o;
}

struct load_ctx {
    struct evo *s;
    int d;
};

static int load_member(void *ctx, int64_t seq, const cJSON *v)
{
    struct load_ctx *l = ctx;
    struct evo *s = l->s;
    const cJSON *id = cJSON_GetObjectItemCaseSensitive(v, "id");
    const cJSON *u = cJSON_GetObjectItemCaseSensitive(v, "u");
    if (s->n == s->population || !cJSON_IsNumber(id) || cJSON_GetArraySize(u) != l->d)
        return MN_EPARSE;
    struct member *m = &s->pop[s->n++];
    m->id = (int64_t)id->valuedouble;
    m->seq = seq;
    for (int k = 0; k < l->d; k++) {
        const cJSON *x = cJSON_GetArrayItem(u, k);
        if (!cJSON_IsNumber(x))
            return MN_EPARSE;
        m->u[k] = x->valuedouble;
    }
    return 0;
}

static int load_state(struct mn_job *job, struct evo *s, const cJSON *saved)
{
    if (mn_strategy_load_rng(saved, &s->rng))
        return MN_EPARSE;
    static const char *const keys[] = {"proposed_initial", "finished", "seq"};
    int64_t *dst[] = {&s->proposed_initial, &s->finished, &s->seq};
    for (int i = 0; i < 3; i++) {
        const cJSON *x = cJSON_GetObjectItemCaseSensitive(saved, keys[i]);
        if (!cJSON_IsNumber(x))
            return MN_EPARSE;
        *dst[i] = (int64_t)x->valuedouble;
    }
    struct load_ctx l = {s, job->spec->n_obj};
    return mn_job_rows_each(job, ROWS, load_member, &l);
}

static void stop(void *state)
{
    struct evo *s = state;
    if (!s)
        return;
    mn_mcu_free(s->mcu);
    free(s->pop);
    free(s);
}

static int start(struct mn_job *job, const cJSON *saved, void **state, struct mn_error *err)
{
    struct evo *s = calloc(1, sizeof *s);
    if (!s)
        return mn_error_set(err, MN_ENOMEM, NULL, "out of memory");
    int rc = parse_settings(job->spec->strategy_settings, s, err);
    if (!rc)
        rc = parse_combine(job->spec, s, err);
    if (!rc && !(s->pop = calloc((size_t)s->population, sizeof *s->pop)))
        rc = mn_error_set(err, MN_ENOMEM, NULL, "out of memory");
    if (!rc && !(s->mcu = mn_mcu_from_json(cJSON_GetObjectItemCaseSensitive(job->spec->json, "mcu"),
                                           err)))
        rc = MN_EINVAL;
    mn_rng_seed(&s->rng, (uint64_t)job->spec->seed, mn_hash_str("strategy.evolution"));
    if (!rc && saved && (rc = load_state(job, s, saved)))
        mn_error_set(err, rc, "strategy_state", "saved evolution state is malformed");
    if (rc) {
        stop(s);
        return rc;
    }
    *state = s;
    return MN_OK;
}

static const char *end_reason(const void *state)
{
    const struct evo *s = state;
    return s->n == 0 && s->finished == s->proposed_initial
               ? "no candidate of the initial population was scored successfully (each "
                 "failed, expired or lacked an objective): nothing to mutate"
               : NULL;
}

const struct mn_strategy mn_strategy_evolution = {
    .name = "evolution",
    .summary = "muNAS aging evolution: tournament parents by random scalarisation of the "
               "objectives against the budgets, mutations of the space, children over a hard "
               "limit rejected before scoring",
    .check = check,
    .start = start,
    .propose = propose,
    .on_results = on_results,
    .end_reason = end_reason,
    .save = save,
    .stop = stop,
};
