/* jobspec.c — job spec validation and normalisation (see jobspec.h). */
#include "jobspec.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "catalog.h"
#include "json.h"

/* Field checks return with err->field relative to their object; `at` prefixes it. */
static int at(int rc, struct mn_error *err, const char *prefix)
{
    if (rc)
        mn_error_prefix_field(err, prefix);
    return rc;
}

static int object_or_absent(const cJSON *parent, const char *key, const cJSON **out,
                            struct mn_error *err)
{
    const cJSON *j = cJSON_GetObjectItemCaseSensitive(parent, key);
    *out = NULL;
    if (!j || cJSON_IsNull(j))
        return MN_OK;
    if (!cJSON_IsObject(j))
        return mn_error_set(err, MN_EINVAL, key, "'%s' must be an object", key);
    *out = j;
    return MN_OK;
}

static int known_space(const char *name)
{
    cJSON *all = mn_spaces_describe();
    const cJSON *sp;
    int found = 0;
    cJSON_ArrayForEach(sp, all)
    {
        const cJSON *n = cJSON_GetObjectItemCaseSensitive(sp, "name");
        found |= cJSON_IsString(n) && strcmp(n->valuestring, name) == 0;
    }
    cJSON_Delete(all);
    return found;
}

static int parse_space(struct mn_jobspec *s, const cJSON *in, cJSON *out, struct mn_error *err)
{
    static const char *const keys[] = {"name", "settings", NULL};
    const cJSON *sp = NULL, *settings = NULL;
    const char *name = NULL;
    int rc;
    if ((rc = mn_json_require(in, "space", err)) || (rc = object_or_absent(in, "space", &sp, err)))
        return rc;
    if (!sp)
        return mn_error_set(err, MN_EINVAL, "space", "'space' must be an object");
    if ((rc = mn_json_check_keys(sp, keys, err)) || (rc = mn_json_require(sp, "name", err)) ||
        (rc = mn_json_get_str(sp, "name", 32, &name, err)) ||
        (rc = object_or_absent(sp, "settings", &settings, err)))
        return at(rc, err, "space");
    if (!name)
        return mn_error_set(err, MN_EINVAL, "space.name", "'name' must be a string");
    if (!known_space(name))
        return mn_error_set(err, MN_EINVAL, "space.name", "unknown search space '%s'", name);
    s->space = mn_space_create(name, settings, err);
    if (!s->space) {
        mn_error_prefix_field(err, "settings");
        if (err && err->code != MN_ENOMEM)
            err->code = MN_EINVAL;
        return at(MN_EINVAL, err, "space");
    }
    cJSON *o = cJSON_AddObjectToObject(out, "space");
    cJSON *st = mn_space_settings_json(s->space);
    if (!o || !st || !cJSON_AddStringToObject(o, "name", mn_space_name(s->space))) {
        cJSON_Delete(st);
        return MN_ENOMEM;
    }
    cJSON_AddItemToObject(o, "settings", st);
    return MN_OK;
}

static int parse_mcu_budgets(struct mn_jobspec *s, const cJSON *in, cJSON *out,
                             struct mn_error *err)
{
    static const char *const keys[] = {"sram_bytes", "flash_bytes", "latency_ms", NULL};
    const cJSON *mcu = cJSON_GetObjectItemCaseSensitive(in, "mcu"), *b = NULL;
    cJSON *dflt = NULL, *profile = NULL;
    double sram = 0, flash = 0;
    int rc;
    if (!mcu || cJSON_IsNull(mcu))
        mcu = dflt = cJSON_CreateString("stm32f746");
    rc = mn_catalog_mcu(mcu, &profile, s->mcu_id, sizeof s->mcu_id, &sram, &flash, err);
    cJSON_Delete(dflt);
    if (rc)
        return at(rc, err, "mcu");
    cJSON_AddItemToObject(out, "mcu", profile);
    s->budgets.sram_bytes = sram;
    s->budgets.flash_bytes = flash;
    if ((rc = object_or_absent(in, "budgets", &b, err)))
        return rc;
    if (b && ((rc = mn_json_check_keys(b, keys, err)) ||
              (rc = mn_json_get_num(b, "sram_bytes", 1, 1e12, &s->budgets.sram_bytes, err)) ||
              (rc = mn_json_get_num(b, "flash_bytes", 1, 1e12, &s->budgets.flash_bytes, err)) ||
              (rc = mn_json_get_num(b, "latency_ms", 1e-6, 1e9, &s->budgets.latency_ms, err))))
        return at(rc, err, "budgets");
    cJSON *o = cJSON_AddObjectToObject(out, "budgets");
    if (!o)
        return MN_ENOMEM;
    if (s->budgets.sram_bytes > 0)
        cJSON_AddNumberToObject(o, "sram_bytes", s->budgets.sram_bytes);
    if (s->budgets.flash_bytes > 0)
        cJSON_AddNumberToObject(o, "flash_bytes", s->budgets.flash_bytes);
    if (s->budgets.latency_ms > 0)
        cJSON_AddNumberToObject(o, "latency_ms", s->budgets.latency_ms);
    return MN_OK;
}

static int parse_proxies_objectives(struct mn_jobspec *s, const cJSON *in, cJSON *out,
                                    struct mn_error *err)
{
    const cJSON *p = cJSON_GetObjectItemCaseSensitive(in, "proxies");
    const cJSON *objs = cJSON_GetObjectItemCaseSensitive(in, "objectives");
    cJSON *proxies = NULL, *dflt = NULL, *dflt_obj = NULL;
    int rc;
    if (!p || cJSON_IsNull(p))
        p = dflt = cJSON_Parse("{\"ntk\":{},\"linear_regions\":{}}");
    if (!p)
        return MN_ENOMEM;
    const cJSON *space = cJSON_GetObjectItemCaseSensitive(out, "space");
    rc = mn_catalog_proxies(p, mn_space_name(s->space),
                            cJSON_GetObjectItemCaseSensitive(space, "settings"), &proxies, err);
    cJSON_Delete(dflt);
    if (rc)
        return at(rc, err, "proxies");
    if (!cJSON_GetArraySize(proxies)) {
        cJSON_Delete(proxies);
        return mn_error_set(err, MN_EINVAL, "proxies", "name at least one proxy");
    }
    cJSON_AddItemToObject(out, "proxies", proxies);
    s->proxies = proxies;
    if (!objs || cJSON_IsNull(objs))
        objs = dflt_obj = cJSON_Parse("[\"ntk\",\"latency_ms\",\"peak_sram_bytes\"]");
    if (!cJSON_IsArray(objs) || cJSON_GetArraySize(objs) < 1 ||
        cJSON_GetArraySize(objs) > MN_MAX_OBJECTIVES) {
        cJSON_Delete(dflt_obj);
        return mn_error_set(err, MN_EINVAL, "objectives", "objectives must be a list of 1 to %d",
                            MN_MAX_OBJECTIVES);
    }
    cJSON *o = cJSON_AddArrayToObject(out, "objectives");
    const cJSON *it;
    s->n_obj = 0;
    cJSON_ArrayForEach(it, objs)
    {
        struct mn_objective *ob = &s->obj[s->n_obj];
        if ((rc = mn_objective_parse(it, proxies, &s->budgets, ob, err)))
            break;
        for (int k = 0; k < s->n_obj && !rc; k++)
            if (strcmp(s->obj[k].name, ob->name) == 0)
                rc = mn_error_set(err, MN_EINVAL, "", "objective '%s' given twice", ob->name);
        if (rc)
            break;
        cJSON_AddItemToArray(o, mn_objective_to_json(ob));
        s->n_obj++;
    }
    if (rc) {
        char where[32];
        snprintf(where, sizeof where, "objectives[%d]", s->n_obj);
        at(rc, err, where);
    }
    cJSON_Delete(dflt_obj);
    return rc;
}

static int parse_strategy(struct mn_jobspec *s, const cJSON *in, cJSON *out, struct mn_error *err)
{
    static const char *const keys[] = {"name", "settings", NULL};
    const cJSON *st = NULL, *settings = NULL;
    const char *name = "random";
    int rc;
    if ((rc = object_or_absent(in, "strategy", &st, err)))
        return rc;
    if (st && ((rc = mn_json_check_keys(st, keys, err)) ||
               (rc = mn_json_get_str(st, "name", 32, &name, err)) ||
               (rc = object_or_absent(st, "settings", &settings, err))))
        return at(rc, err, "strategy");
    s->strategy = mn_strategy_find(name);
    if (!s->strategy)
        return mn_error_set(err, MN_EINVAL, "strategy.name", "unknown strategy '%s'", name);
    cJSON *copy = settings ? cJSON_Duplicate(settings, 1) : cJSON_CreateObject();
    if (!copy)
        return MN_ENOMEM;
    if (s->strategy->check)
        rc = s->strategy->check(copy, err);
    else if (copy->child)
        rc = mn_error_set(err, MN_EINVAL, copy->child->string,
                          "strategy '%s' takes no settings", name);
    if (rc) {
        cJSON_Delete(copy);
        return at(at(rc, err, "settings"), err, "strategy");
    }
    cJSON *o = cJSON_AddObjectToObject(out, "strategy");
    if (!o) {
        cJSON_Delete(copy);
        return MN_ENOMEM;
    }
    cJSON_AddStringToObject(o, "name", s->strategy->name);
    cJSON_AddItemToObject(o, "settings", copy);
    s->strategy_settings = copy;
    return MN_OK;
}

static int parse_limits(struct mn_jobspec *s, const cJSON *in, cJSON *out, struct mn_error *err)
{
    static const char *const bkeys[] = {"max_candidates", "max_seconds", NULL};
    static const char *const ckeys[] = {"epsilon", "patience", NULL};
    const cJSON *b = NULL, *c = NULL;
    int rc;
    s->max_candidates = 1000;
    s->max_seconds = 3600;
    s->epsilon = 1e-3;
    s->patience = 10;
    s->batch_size = 64;
    s->seed = 1;
    s->max_attempts = 3;
    s->lease_seconds = 60;
    if ((rc = object_or_absent(in, "budget", &b, err)))
        return rc;
    if (b && ((rc = mn_json_check_keys(b, bkeys, err)) ||
              (rc = mn_json_get_int(b, "max_candidates", 1, 100000000, &s->max_candidates, err)) ||
              (rc = mn_json_get_num(b, "max_seconds", 1, 30 * 86400.0, &s->max_seconds, err))))
        return at(rc, err, "budget");
    if ((rc = object_or_absent(in, "convergence", &c, err)))
        return rc;
    if (c && ((rc = mn_json_check_keys(c, ckeys, err)) ||
              (rc = mn_json_get_num(c, "epsilon", 0, 1, &s->epsilon, err)) ||
              (rc = mn_json_get_i32(c, "patience", 1, 1000000, &s->patience, err))))
        return at(rc, err, "convergence");
    if ((rc = mn_json_get_i32(in, "batch_size", 1, 4096, &s->batch_size, err)) ||
        (rc = mn_json_get_int(in, "seed", 0, (int64_t)1 << 53, &s->seed, err)) ||
        (rc = mn_json_get_i32(in, "max_attempts", 1, 100, &s->max_attempts, err)) ||
        (rc = mn_json_get_i32(in, "lease_seconds", 1, 86400, &s->lease_seconds, err)))
        return rc;
    cJSON *bo = cJSON_AddObjectToObject(out, "budget");
    cJSON *co = cJSON_AddObjectToObject(out, "convergence");
    if (!bo || !co)
        return MN_ENOMEM;
    cJSON_AddNumberToObject(bo, "max_candidates", (double)s->max_candidates);
    cJSON_AddNumberToObject(bo, "max_seconds", s->max_seconds);
    cJSON_AddNumberToObject(co, "epsilon", s->epsilon);
    cJSON_AddNumberToObject(co, "patience", s->patience);
    cJSON_AddNumberToObject(out, "batch_size", s->batch_size);
    cJSON_AddNumberToObject(out, "seed", (double)s->seed);
    cJSON_AddNumberToObject(out, "max_attempts", s->max_attempts);
    cJSON_AddNumberToObject(out, "lease_seconds", s->lease_seconds);
    return MN_OK;
}

int mn_jobspec_parse(const cJSON *in, struct mn_jobspec **out, struct mn_error *err)
{
    static const char *const keys[] = {"name", "space", "mcu", "budgets", "objectives",
                                       "proxies", "strategy", "budget", "convergence",
                                       "batch_size", "seed", "max_attempts", "lease_seconds",
                                       NULL};
    const char *name = NULL;
    int rc = mn_json_expect_object(in, "job spec", err);
    if (rc)
        return rc;
    struct mn_jobspec *s = calloc(1, sizeof *s);
    if (!s || !(s->json = cJSON_CreateObject())) {
        free(s);
        return mn_error_set(err, MN_ENOMEM, NULL, "out of memory");
    }
    if ((rc = mn_json_check_keys(in, keys, err)) ||
        (rc = mn_json_get_str(in, "name", sizeof s->name - 1, &name, err)) ||
        (rc = parse_space(s, in, s->json, err)) ||
        (rc = parse_mcu_budgets(s, in, s->json, err)) ||
        (rc = parse_proxies_objectives(s, in, s->json, err)) ||
        (rc = parse_strategy(s, in, s->json, err)) || (rc = parse_limits(s, in, s->json, err)))
        goto fail;
    snprintf(s->name, sizeof s->name, "%s", name ? name : mn_space_name(s->space));
    if (!cJSON_AddStringToObject(s->json, "name", s->name)) {
        rc = MN_ENOMEM;
        goto fail;
    }
    *out = s;
    return MN_OK;
fail:
    if (rc == MN_ENOMEM && err && !err->message[0])
        mn_error_set(err, MN_ENOMEM, NULL, "out of memory");
    mn_jobspec_free(s);
    return rc;
}

void mn_jobspec_free(struct mn_jobspec *s)
{
    if (!s)
        return;
    mn_space_free(s->space);
    cJSON_Delete(s->json);
    free(s);
}
