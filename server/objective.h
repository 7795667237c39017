/* objective.h — the objectives a job optimises: their names, where a result carries
 * them (a proxy score or a cost-model figure), their direction, and how they are
 * normalised for the hypervolume.
 *
 * Normalisation (documented in schema/job.schema.json and the README): each value v
 * becomes u = v (minimised) or u = −v (maximised), then m = (u − u_ideal) /
 * (u_ref − u_ideal), and the hypervolume is taken against the reference point m = 1 in
 * every objective. For latency_ms, peak_sram_bytes and flash_bytes with a budget:
 * ideal 0, ref = the budget, so m is the fraction of the budget used. An objective can
 * state "ideal" and "ref" (in its own units); otherwise they are fixed once, from the
 * first result batch with a feasible candidate: ideal = the best value seen, ref = the
 * worst plus 10% of the spread. For the hypervolume m is clamped into [0, 1], the
 * reference box: a later candidate better than ideal counts as ideal (m = 0) and one
 * beyond ref contributes nothing (m = 1), so a scale fixed from an early batch can't
 * blow the hypervolume up; it is at most 1. */
#ifndef MN_OBJECTIVE_H
#define MN_OBJECTIVE_H
#include <cjson/cJSON.h>
#include "error.h"

#define MN_MAX_OBJECTIVES 8

struct mn_budgets {
    double sram_bytes, flash_bytes, latency_ms; /* hard limits; 0 = none */
};

struct mn_objective {
    char name[32];
    int is_cost;     /* 1: from the result's cost object; 0: from its scores */
    int maximise;
    int scaled;      /* 1 once u_ideal/u_ref are fixed */
    double u_ideal, u_ref;
};

/* Parses one entry of a job's objectives list: a name or {"name","direction","ideal",
 * "ref"}. proxies is the job's proxies object (a proxy objective must be enabled there);
 * budgets fix the scale of budgeted cost objectives. err->field is relative to item. */
int mn_objective_parse(const cJSON *item, const cJSON *proxies, const struct mn_budgets *b,
                       struct mn_objective *o, struct mn_error *err);
/* The normalised JSON form of o (caller owns). */
cJSON *mn_objective_to_json(const struct mn_objective *o);
/* The raw value of o in a result (scores and cost objects); 0 or MN_ENOTFOUND when it
 * is missing or not a finite number. */
int mn_objective_value(const struct mn_objective *o, const cJSON *scores, const cJSON *cost,
                       double *v);
/* u for value v (negated when maximised). */
double mn_objective_u(const struct mn_objective *o, double v);
/* m = normalised u (see the top of this file); o must be scaled. */
double mn_objective_m(const struct mn_objective *o, double u);
/* m clamped into [0, 1]: the coordinate the hypervolume uses (see the top of this file);
 * o must be scaled. */
double mn_objective_m_box(const struct mn_objective *o, double u);
/* 1 when the cost object meets every budget (a missing figure fails a budget). */
int mn_budgets_met(const struct mn_budgets *b, const cJSON *cost);

#endif
