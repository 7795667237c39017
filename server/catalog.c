/* catalog.c — monasd's view of the common/ library (see catalog.h). */
#include "catalog.h"
#include <stdio.h>
#include <string.h>
#include "mcu.h"
#include "space.h"

#define SCORING_VERSION 1

static const struct {
    const char *name;
    int maximise;
} proxies[] = {
    {"ntk", 0},       {"linear_regions", 1}, {"synflow", 1}, {"snip", 1},  {"grad_norm", 1},
    {"jacob_cov", 1}, {"naswot", 1},         {"zen", 1},     {"params", 1}, {"flops", 1},
};

int mn_catalog_scoring_version(void)
{
    return SCORING_VERSION;
}

int mn_catalog_proxy_maximise(const char *name)
{
    for (size_t i = 0; i < sizeof proxies / sizeof proxies[0]; i++)
        if (strcmp(proxies[i].name, name) == 0)
            return proxies[i].maximise;
    return -1;
}

int mn_catalog_check_proxies(const cJSON *obj, struct mn_error *err)
{
    const cJSON *p;
    cJSON_ArrayForEach(p, obj)
    {
        if (mn_catalog_proxy_maximise(p->string) < 0)
            return mn_error_set(err, MN_EINVAL, p->string, "unknown proxy '%s'", p->string);
        if (!cJSON_IsObject(p))
            return mn_error_set(err, MN_EINVAL, p->string,
                                "settings of proxy '%s' must be an object", p->string);
    }
    return MN_OK;
}

int mn_catalog_mcu(const cJSON *spec, cJSON **profile, char *id, size_t id_len,
                   double *sram_bytes, double *flash_bytes, struct mn_error *err)
{
    struct mn_mcu *m = NULL;
    if (cJSON_IsString(spec))
        m = mn_mcu_builtin(spec->valuestring, err);
    else if (cJSON_IsObject(spec))
        m = mn_mcu_from_json(spec, err);
    else
        return mn_error_set(err, MN_EINVAL, "", "mcu must be a profile id or a profile object");
    if (!m) {
        if (err && err->code != MN_EINVAL && err->code != MN_EPARSE)
            err->code = MN_EINVAL;
        if (err && cJSON_IsString(spec)) /* the id itself is the offending field */
            err->field[0] = 0;
        return MN_EINVAL;
    }
    *profile = mn_mcu_to_json(m);
    snprintf(id, id_len, "%s", mn_mcu_id(m));
    *sram_bytes = (double)m->sram_bytes;
    *flash_bytes = (double)m->flash_bytes;
    mn_mcu_free(m);
    if (!*profile)
        return mn_error_set(err, MN_ENOMEM, "", "out of memory");
    return MN_OK;
}

cJSON *mn_catalog_mcus(void)
{
    return mn_mcu_list_json();
}

cJSON *mn_catalog_spaces(void)
{
    return mn_spaces_describe();
}
