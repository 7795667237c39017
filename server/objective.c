/* objective.c — objective names, directions, extraction and scaling (see objective.h). */
#include "objective.h"
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include "catalog.h"
#include "json.h"

/* Cost-model figures a result carries; which budget (if any) scales each. */
static const struct {
    const char *name;
    size_t budget; /* offsetof in struct mn_budgets, or (size_t)-1 */
} costs[] = {
    {"latency_ms", offsetof(struct mn_budgets, latency_ms)},
    {"peak_sram_bytes", offsetof(struct mn_budgets, sram_bytes)},
    {"flash_bytes", offsetof(struct mn_budgets, flash_bytes)},
    {"macs", (size_t)-1},
    {"params", (size_t)-1},
};
#define N_COSTS (int)(sizeof costs / sizeof costs[0])

static int cost_index(const char *name)
{
    for (int i = 0; i < N_COSTS; i++)
        if (strcmp(costs[i].name, name) == 0)
            return i;
    return -1;
}

int mn_objective_parse(const cJSON *item, const cJSON *proxies, const struct mn_budgets *b,
                       struct mn_objective *o, struct mn_error *err)
{
    static const char *const keys[] = {"name", "direction", "ideal", "ref", NULL};
    static const char *const dirs[] = {"min", "max"};
    const char *name = NULL;
    int dir = -1, rc;
    double ideal = NAN, ref = NAN;
    memset(o, 0, sizeof *o);
    if (cJSON_IsString(item)) {
        name = item->valuestring;
    } else if (cJSON_IsObject(item)) {
        if ((rc = mn_json_check_keys(item, keys, err)) || (rc = mn_json_require(item, "name", err)) ||
            (rc = mn_json_get_str(item, "name", sizeof o->name - 1, &name, err)) ||
            (rc = mn_json_get_enum(item, "direction", dirs, 2, &dir, err)) ||
            (rc = mn_json_get_num(item, "ideal", -1e300, 1e300, &ideal, err)) ||
            (rc = mn_json_get_num(item, "ref", -1e300, 1e300, &ref, err)))
            return rc;
    } else {
        return mn_error_set(err, MN_EINVAL, "", "an objective is a name or an object");
    }
    if (strlen(name) >= sizeof o->name)
        return mn_error_set(err, MN_EINVAL, "", "unknown objective '%.40s'", name);
    snprintf(o->name, sizeof o->name, "%s", name);
    int c = cost_index(name);
    if (c >= 0) {
        o->is_cost = 1;
        o->maximise = 0;
        double budget = costs[c].budget == (size_t)-1
                            ? 0.0 : *(const double *)((const char *)b + costs[c].budget);
        if (budget > 0) {
            o->scaled = 1;
            o->u_ideal = 0.0;
            o->u_ref = budget;
        }
    } else {
        int mx = mn_catalog_proxy_maximise(name);
        if (mx < 0)
            return mn_error_set(err, MN_EINVAL, "", "unknown objective '%s'", name);
        if (!cJSON_GetObjectItemCaseSensitive(proxies, name))
            return mn_error_set(err, MN_EINVAL, "",
                                "objective '%s' needs proxy '%s' in proxies", name, name);
        o->maximise = mx;
    }
    if (dir >= 0)
        o->maximise = dir;
    if (!isnan(ideal) || !isnan(ref)) {
        if (isnan(ideal) || isnan(ref))
            return mn_error_set(err, MN_EINVAL, isnan(ideal) ? "ideal" : "ref",
                                "give both ideal and ref, or neither");
        o->u_ideal = mn_objective_u(o, ideal);
        o->u_ref = mn_objective_u(o, ref);
        if (!(o->u_ref > o->u_ideal))
            return mn_error_set(err, MN_EINVAL, "ref", "ref must be worse than ideal");
        o->scaled = 1;
    }
    return MN_OK;
}

cJSON *mn_objective_to_json(const struct mn_objective *o)
{
    cJSON *j = cJSON_CreateObject();
    if (!j)
        return NULL;
    cJSON_AddStringToObject(j, "name", o->name);
    cJSON_AddStringToObject(j, "direction", o->maximise ? "max" : "min");
    if (o->scaled) {
        mn_json_add_num(j, "ideal", o->maximise ? -o->u_ideal : o->u_ideal);
        mn_json_add_num(j, "ref", o->maximise ? -o->u_ref : o->u_ref);
    }
    return j;
}

int mn_objective_value(const struct mn_objective *o, const cJSON *scores, const cJSON *cost,
                       double *v)
{
    const cJSON *j = cJSON_GetObjectItemCaseSensitive(o->is_cost ? cost : scores, o->name);
    if (!cJSON_IsNumber(j) || !isfinite(j->valuedouble))
        return MN_ENOTFOUND;
    *v = j->valuedouble;
    return MN_OK;
}

double mn_objective_u(const struct mn_objective *o, double v)
{
    return o->maximise ? -v : v;
}

double mn_objective_m(const struct mn_objective *o, double u)
{
    return (u - o->u_ideal) / (o->u_ref - o->u_ideal);
}

double mn_objective_m_box(const struct mn_objective *o, double u)
{
    return fmin(fmax(mn_objective_m(o, u), 0.0), 1.0);
}

int mn_budgets_met(const struct mn_budgets *b, const cJSON *cost)
{
    for (int i = 0; i < N_COSTS; i++) {
        if (costs[i].budget == (size_t)-1)
            continue;
        double limit = *(const double *)((const char *)b + costs[i].budget);
        if (limit <= 0)
            continue;
        const cJSON *j = cJSON_GetObjectItemCaseSensitive(cost, costs[i].name);
        if (!cJSON_IsNumber(j) || !(j->valuedouble <= limit))
            return 0;
    }
    return 1;
}
