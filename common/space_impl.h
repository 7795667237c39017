/* space_impl.h — internal: the operations a search space type implements behind
 * space.h. Each space_<name>.c defines one `const struct mn_space_type`; space.c keeps
 * the table of them and does the dispatch, type checks and common wrapping. Not for
 * callers outside the space_*.c files. */
#ifndef MN_SPACE_IMPL_H
#define MN_SPACE_IMPL_H
#include "space.h"

struct mn_space_type {
    const char *name;
    const char *summary;  /* one line for GET /v1/spaces */
    const char *arch_doc; /* what the architecture's JSON form looks like */
    /* Validates settings (NULL = defaults) into a new config; field relative to them. */
    int (*create)(const cJSON *settings, void **cfg, struct mn_error *err);
    void (*cfg_free)(void *cfg);
    cJSON *(*settings_json)(const void *cfg);
    int64_t (*size)(const void *cfg); /* -1 when not enumerable */
    int (*from_json)(const void *cfg, const cJSON *j, void **arch, struct mn_error *err);
    /* Optional parser of non-JSON text (nb201's string); NULL: the text is JSON. */
    int (*from_text)(const void *cfg, const char *text, void **arch, struct mn_error *err);
    cJSON *(*to_json)(const void *cfg, const void *arch);
    char *(*key)(const void *cfg, const void *arch);
    void (*arch_free)(void *arch);
    /* sample, mutate, enumerate may be NULL: MN_EUNSUPPORTED. */
    int (*sample)(const void *cfg, struct mn_rng *rng, void **arch);
    int (*mutate)(const void *cfg, const void *parent, struct mn_rng *rng, void **arch);
    int (*enumerate)(const void *cfg, int64_t index, void **arch);
    int (*lower)(const void *cfg, const void *arch, struct mn_graph **out,
                 struct mn_error *err);
};

extern const struct mn_space_type mn_space_nb201;
extern const struct mn_space_type mn_space_unas;
extern const struct mn_space_type mn_space_graph;

#endif
