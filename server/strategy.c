/* strategy.c — the table of search strategies (see strategy.h). */
#include "strategy.h"
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

extern const struct mn_strategy mn_strategy_random;
extern const struct mn_strategy mn_strategy_monas;
extern const struct mn_strategy mn_strategy_evolution;

static const struct mn_strategy *const strategies[] = {
    &mn_strategy_random,
    &mn_strategy_monas,
    &mn_strategy_evolution,
};

const struct mn_strategy *mn_strategy_find(const char *name)
{
    for (size_t i = 0; i < sizeof strategies / sizeof strategies[0]; i++)
        if (strcmp(strategies[i]->name, name) == 0)
            return strategies[i];
    return NULL;
}

cJSON *mn_strategies_describe(void)
{
    cJSON *a = cJSON_CreateArray();
    for (size_t i = 0; a && i < sizeof strategies / sizeof strategies[0]; i++) {
        cJSON *o = cJSON_CreateObject();
        if (!o)
            break;
        cJSON_AddStringToObject(o, "name", strategies[i]->name);
        cJSON_AddStringToObject(o, "summary", strategies[i]->summary);
        cJSON_AddItemToArray(a, o);
    }
    return a;
}

int mn_strategy_save_rng(cJSON *o, const struct mn_rng *rng)
{
    cJSON *r = cJSON_AddArrayToObject(o, "rng");
    if (!r)
        return MN_ENOMEM;
    for (int i = 0; i < 4; i++) {
        char hex[24];
        snprintf(hex, sizeof hex, "%016" PRIx64, rng->s[i]);
        if (!cJSON_AddItemToArray(r, cJSON_CreateString(hex)))
            return MN_ENOMEM;
    }
    return MN_OK;
}

int mn_strategy_load_rng(const cJSON *saved, struct mn_rng *rng)
{
    const cJSON *r = cJSON_GetObjectItemCaseSensitive(saved, "rng");
    if (cJSON_GetArraySize(r) != 4)
        return MN_EPARSE;
    for (int i = 0; i < 4; i++) {
        const cJSON *w = cJSON_GetArrayItem(r, i);
        if (!cJSON_IsString(w))
            return MN_EPARSE;
        rng->s[i] = strtoull(w->valuestring, NULL, 16);
    }
    return MN_OK;
}
