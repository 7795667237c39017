/* strategy.c — the table of search strategies (see strategy.h). */
#include "strategy.h"
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
