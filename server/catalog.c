/* catalog.c — monasd's view of the common/ library (see catalog.h). */
#include "catalog.h"
#include <stdio.h>
#include <string.h>
#include "mcu.h"
#include "proxy.h"
#include "scoring.h"
#include "space.h"

const char *mn_catalog_scoring_version(void)
{
    return MN_SCORING_VERSION;
}

int mn_catalog_get_version(const cJSON *obj, const char *key, char *out, struct mn_error *err)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (cJSON_IsString(v) && v->valuestring[0] && strlen(v->valuestring) < MN_VERSION_LEN) {
        snprintf(out, MN_VERSION_LEN, "%s", v->valuestring);
        return MN_OK;
    }
    if (cJSON_IsNumber(v) && v->valuedouble == (double)(long long)v->valuedouble &&
        v->valuedouble >= 0 && v->valuedouble < 1e15) {
        snprintf(out, MN_VERSION_LEN, "%lld", (long long)v->valuedouble);
        return MN_OK;
    }
    return mn_error_set(err, MN_EINVAL, key, v ? "'%s' must be a version string" :
                        "missing required field '%s'", key);
}

int mn_catalog_proxy_maximise(const char *name)
{
    cJSON *all = mn_proxies_describe();
    const cJSON *p;
    int found = -1;
    cJSON_ArrayForEach(p, all)
    {
        const cJSON *n = cJSON_GetObjectItemCaseSensitive(p, "name");
        const cJSON *better = cJSON_GetObjectItemCaseSensitive(p, "better");
        if (cJSON_IsString(n) && strcmp(n->valuestring, name) == 0)
            found = cJSON_IsString(better) && strcmp(better->valuestring, "higher") == 0;
    }
    cJSON_Delete(all);
    return found;
}

int mn_catalog_proxies(const cJSON *proxies, const char *space, const cJSON *space_settings,
                       cJSON **out, struct mn_error *err)
{
    struct mn_proxy_config *c = NULL;
    int rc = mn_proxies_parse(proxies, &c, err);
    if (rc == MN_OK)
        rc = mn_proxies_check_space(c, space, space_settings, err);
    if (rc == MN_OK && !(*out = mn_proxies_to_json(c)))
        rc = mn_error_set(err, MN_ENOMEM, NULL, "out of memory");
    mn_proxies_free(c);
    if (rc && err && rc != MN_ENOMEM)
        err->code = MN_EINVAL;
    return rc == MN_ENOMEM ? rc : rc ? MN_EINVAL : MN_OK;
}

cJSON *mn_catalog_proxies_describe(void)
{
    return mn_proxies_describe();
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
