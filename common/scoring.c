/* scoring.c — scores one candidate: proxies (proxy.h) plus MCU cost (cost.h) as one
 * JSON object (see scoring.h). */
#include "scoring.h"
#include <stdio.h>
#include <stdlib.h>
#include "cost.h"
#include "json.h"

/* Adds item to o under key, or frees it; returns nonzero on success. */
static int put(cJSON *o, const char *key, cJSON *item)
{
    if (item && cJSON_AddItemToObject(o, key, item))
        return 1;
    cJSON_Delete(item);
    return 0;
}

static cJSON *cost_json(const struct mn_cost *c)
{
    cJSON *o = cJSON_CreateObject();
    int ok = o && cJSON_AddStringToObject(o, "mcu", c->mcu) &&
             mn_json_add_num(o, "latency_ms", c->latency_ms) &&
             cJSON_AddNumberToObject(o, "peak_sram_bytes", (double)c->peak_sram_bytes) &&
             cJSON_AddNumberToObject(o, "flash_bytes", (double)c->flash_bytes) &&
             cJSON_AddNumberToObject(o, "macs", (double)c->macs) &&
             cJSON_AddNumberToObject(o, "params", (double)c->params) &&
             cJSON_AddBoolToObject(o, "fits", c->fits_sram && c->fits_flash);
    if (!ok) {
        cJSON_Delete(o);
        return NULL;
    }
    return o;
}

cJSON *mn_scoring_run(const struct mn_space *sp, const struct mn_arch *a,
                      const struct mn_proxy_config *proxies, const struct mn_mcu *mcu,
                      uint64_t seed, const struct mn_proxy_trace *trace, struct mn_error *err)
{
    double t0 = mn_proxy_now();
    int n = mn_proxies_count(proxies);
    struct mn_proxy_value *v = calloc((size_t)(n ? n : 1), sizeof *v);
    struct mn_graph *g = NULL;
    struct mn_cost cost = {0};
    char *key = mn_space_arch_key(sp, a);
    cJSON *o = cJSON_CreateObject(), *scores = NULL, *flags = NULL, *secs = NULL;
    int rc = v && key && o ? MN_OK : mn_error_set(err, MN_ENOMEM, NULL, "out of memory");
    if (!rc && mcu && !(rc = mn_space_lower(sp, a, &g, err)))
        rc = mn_cost_estimate(g, mcu, &cost, err);
    if (!rc && (rc = mn_proxies_compute(proxies, sp, a, seed, trace, v, err)))
        mn_error_prefix_field(err, "proxies");
    if (rc)
        goto fail;
    int ok = cJSON_AddStringToObject(o, "arch", key) &&
             cJSON_AddStringToObject(o, "scoring_version", MN_SCORING_VERSION) &&
             (scores = cJSON_AddObjectToObject(o, "scores")) &&
             (!mcu || put(o, "cost", cost_json(&cost))) &&
             (flags = cJSON_AddArrayToObject(o, "flags"));
    for (int i = 0; ok && i < n; i++) {
        const char *name = mn_proxies_name(proxies, i);
        ok = mn_json_add_num(scores, name, v[i].value) != NULL;
        if (ok && v[i].degenerate) {
            char f[64];
            snprintf(f, sizeof f, "%s:degenerate", name);
            ok = cJSON_AddItemToArray(flags, cJSON_CreateString(f));
        }
    }
    ok = ok && mn_json_add_num(o, "seconds", mn_proxy_now() - t0) &&
         (secs = cJSON_AddObjectToObject(o, "proxy_seconds"));
    for (int i = 0; ok && i < n; i++)
        ok = mn_json_add_num(secs, mn_proxies_name(proxies, i), v[i].seconds) != NULL;
    if (!ok) {
        rc = mn_error_set(err, MN_ENOMEM, NULL, "out of memory");
        goto fail;
    }
    goto done;
fail:
    cJSON_Delete(o);
    o = NULL;
done:
    mn_cost_release(&cost);
    mn_graph_free(g);
    free(key);
    free(v);
    return o;
}

cJSON *mn_scoring_score(const char *space, const cJSON *space_settings, const cJSON *arch,
                        const struct mn_proxy_config *proxies, const struct mn_mcu *mcu,
                        uint64_t seed, struct mn_error *err)
{
    struct mn_space *sp = mn_space_create(space, space_settings, err);
    struct mn_arch *a = NULL;
    cJSON *out = NULL;
    if (!sp) {
        mn_error_prefix_field(err, err && err->field[0] ? "space.settings" : "space");
        return NULL;
    }
    if (mn_space_arch_from_json(sp, arch, &a, err))
        mn_error_prefix_field(err, "arch");
    else
        out = mn_scoring_run(sp, a, proxies, mcu, seed, NULL, err);
    mn_arch_free(a);
    mn_space_free(sp);
    return out;
}
