/* space_graph.c — the "graph" space: an architecture is a user's own layer graph in
 * the public JSON form (graph_json.h, schema/graph.schema.json), so any model — a
 * keyword-spotting DS-CNN, a MobileNet written as a layer list — can be estimated.
 * There is nothing to search: sampling, mutation and enumeration are unsupported.
 * The canonical key is the canonical JSON without layer names. No settings. */
#include <stdlib.h>
#include "graph_json.h"
#include "json.h"
#include "space_impl.h"

static int gs_create(const cJSON *s, void **cfg, struct mn_error *err)
{
    static const char *const keys[] = {NULL};
    *cfg = NULL;
    return s ? mn_json_check_keys(s, keys, err) : MN_OK;
}

static void gs_cfg_free(void *cfg)
{
    (void)cfg;
}

static cJSON *gs_settings_json(const void *cfg)
{
    (void)cfg;
    return cJSON_CreateObject();
}

static int64_t gs_size(const void *cfg)
{
    (void)cfg;
    return -1;
}

static int gs_from_json(const void *cfg, const cJSON *j, void **out, struct mn_error *err)
{
    (void)cfg;
    struct mn_graph *g = mn_graph_from_json(j, err);
    if (!g)
        return err && err->code ? err->code : MN_EINVAL;
    *out = g;
    return MN_OK;
}

static cJSON *gs_to_json(const void *cfg, const void *arch)
{
    (void)cfg;
    return mn_graph_to_json(arch);
}

static char *gs_key(const void *cfg, const void *arch)
{
    (void)cfg;
    struct mn_graph *g = mn_graph_clone(arch);
    if (!g)
        return NULL;
    for (int i = 0; i < g->n; i++)
        g->layers[i].name[0] = '\0';
    cJSON *j = mn_graph_to_json(g);
    char *s = j ? mn_json_print(j) : NULL;
    cJSON_Delete(j);
    mn_graph_free(g);
    return s;
}

static void gs_arch_free(void *arch)
{
    mn_graph_free(arch);
}

static int gs_lower(const void *cfg, const void *arch, struct mn_graph **out,
                    struct mn_error *err)
{
    (void)cfg;
    struct mn_graph *g = mn_graph_clone(arch);
    if (!g)
        return mn_error_set(err, MN_ENOMEM, NULL, "out of memory");
    *out = g;
    return MN_OK;
}

const struct mn_space_type mn_space_graph = {
    .name = "graph",
    .summary = "a fixed layer graph of your own (schema/graph.schema.json); estimate only",
    .arch_doc = "an object {\"input\": {\"c\",\"h\",\"w\"}, \"layers\": [{\"op\": ...}, ...]} "
                "as in schema/graph.schema.json",
    .create = gs_create,
    .cfg_free = gs_cfg_free,
    .settings_json = gs_settings_json,
    .size = gs_size,
    .from_json = gs_from_json,
    .to_json = gs_to_json,
    .key = gs_key,
    .arch_free = gs_arch_free,
    .lower = gs_lower,
};
