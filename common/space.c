/* space.c — the table of search space types and the dispatch behind space.h: every
 * public function checks its arguments, then calls the space type's operation
 * (space_impl.h). The spaces themselves live in space_nb201.c, space_unas.c and
 * space_graph.c. */
#include "space.h"
#include <stdlib.h>
#include <string.h>
#include "space_impl.h"

static const struct mn_space_type *const space_types[] = {
    &mn_space_nb201,
    &mn_space_unas,
    &mn_space_graph,
};
#define N_TYPES ((int)(sizeof space_types / sizeof space_types[0]))

struct mn_space {
    const struct mn_space_type *type;
    void *cfg;
};

struct mn_arch {
    const struct mn_space_type *type;
    void *impl;
};

struct mn_space *mn_space_create(const char *name, const cJSON *settings,
                                 struct mn_error *err)
{
    const struct mn_space_type *t = NULL;
    for (int i = 0; name && i < N_TYPES && !t; i++)
        if (strcmp(space_types[i]->name, name) == 0)
            t = space_types[i];
    if (!t) {
        mn_error_set(err, MN_EINVAL, NULL, "unknown search space '%s' (known: nb201, unas, "
                     "graph)", name ? name : "(null)");
        return NULL;
    }
    if (settings && !cJSON_IsNull(settings) && !cJSON_IsObject(settings)) {
        mn_error_set(err, MN_EINVAL, NULL, "space settings must be a JSON object");
        return NULL;
    }
    struct mn_space *sp = calloc(1, sizeof *sp);
    if (!sp) {
        mn_error_set(err, MN_ENOMEM, NULL, "out of memory");
        return NULL;
    }
    sp->type = t;
    if (t->create(cJSON_IsObject(settings) ? settings : NULL, &sp->cfg, err) != MN_OK) {
        free(sp);
        return NULL;
    }
    return sp;
}

void mn_space_free(struct mn_space *sp)
{
    if (!sp)
        return;
    sp->type->cfg_free(sp->cfg);
    free(sp);
}

const char *mn_space_name(const struct mn_space *sp)
{
    return sp->type->name;
}

cJSON *mn_space_settings_json(const struct mn_space *sp)
{
    return sp->type->settings_json(sp->cfg);
}

int64_t mn_space_size(const struct mn_space *sp)
{
    return sp->type->size(sp->cfg);
}

/* Wraps a space type's architecture into a new mn_arch (freeing impl on failure). */
static int wrap(const struct mn_space *sp, int rc, void *impl, struct mn_arch **out)
{
    if (rc != MN_OK)
        return rc;
    struct mn_arch *a = malloc(sizeof *a);
    if (!a) {
        sp->type->arch_free(impl);
        return MN_ENOMEM;
    }
    a->type = sp->type;
    a->impl = impl;
    *out = a;
    return MN_OK;
}

static int same_type(const struct mn_space *sp, const struct mn_arch *a)
{
    return a && a->type == sp->type;
}

int mn_space_arch_from_json(const struct mn_space *sp, const cJSON *j, struct mn_arch **out,
                            struct mn_error *err)
{
    void *impl = NULL;
    if (!j)
        return mn_error_set(err, MN_EINVAL, NULL, "missing architecture");
    int rc = sp->type->from_json(sp->cfg, j, &impl, err);
    rc = wrap(sp, rc, impl, out);
    if (rc == MN_ENOMEM)
        mn_error_set(err, rc, NULL, "out of memory");
    return rc;
}

int mn_space_arch_from_text(const struct mn_space *sp, const char *text,
                            struct mn_arch **out, struct mn_error *err)
{
    if (!text)
        return mn_error_set(err, MN_EINVAL, NULL, "missing architecture");
    const char *p = text + strspn(text, " \t\r\n");
    if (sp->type->from_text && *p != '"' && *p != '{' && *p != '[') {
        void *impl = NULL;
        int rc = sp->type->from_text(sp->cfg, p, &impl, err);
        return wrap(sp, rc, impl, out);
    }
    cJSON *j = cJSON_Parse(p);
    if (!j)
        return mn_error_set(err, MN_EPARSE, NULL, "architecture is not valid JSON");
    int rc = mn_space_arch_from_json(sp, j, out, err);
    cJSON_Delete(j);
    return rc;
}

cJSON *mn_space_arch_to_json(const struct mn_space *sp, const struct mn_arch *a)
{
    return same_type(sp, a) ? sp->type->to_json(sp->cfg, a->impl) : NULL;
}

char *mn_space_arch_key(const struct mn_space *sp, const struct mn_arch *a)
{
    return same_type(sp, a) ? sp->type->key(sp->cfg, a->impl) : NULL;
}

void mn_arch_free(struct mn_arch *a)
{
    if (!a)
        return;
    a->type->arch_free(a->impl);
    free(a);
}

int mn_space_sample(const struct mn_space *sp, struct mn_rng *rng, struct mn_arch **out)
{
    void *impl = NULL;
    if (!sp->type->sample)
        return MN_EUNSUPPORTED;
    int rc = sp->type->sample(sp->cfg, rng, &impl);
    return wrap(sp, rc, impl, out);
}

int mn_space_mutate(const struct mn_space *sp, const struct mn_arch *parent,
                    struct mn_rng *rng, struct mn_arch **out)
{
    void *impl = NULL;
    if (!same_type(sp, parent))
        return MN_EINVAL;
    if (!sp->type->mutate)
        return MN_EUNSUPPORTED;
    int rc = sp->type->mutate(sp->cfg, parent->impl, rng, &impl);
    return wrap(sp, rc, impl, out);
}

int mn_space_enumerate(const struct mn_space *sp, int64_t index, struct mn_arch **out)
{
    void *impl = NULL;
    if (!sp->type->enumerate || index < 0 || index >= mn_space_size(sp))
        return MN_EUNSUPPORTED;
    int rc = sp->type->enumerate(sp->cfg, index, &impl);
    return wrap(sp, rc, impl, out);
}

int mn_space_lower(const struct mn_space *sp, const struct mn_arch *a, struct mn_graph **out,
                   struct mn_error *err)
{
    if (!same_type(sp, a))
        return mn_error_set(err, MN_EINVAL, NULL, "architecture belongs to another space");
    return sp->type->lower(sp->cfg, a->impl, out, err);
}

cJSON *mn_spaces_describe(void)
{
    cJSON *arr = cJSON_CreateArray();
    for (int i = 0; arr && i < N_TYPES; i++) {
        const struct mn_space_type *t = space_types[i];
        struct mn_error err;
        struct mn_space *sp = mn_space_create(t->name, NULL, &err);
        cJSON *o = cJSON_CreateObject();
        cJSON *settings = sp ? mn_space_settings_json(sp) : NULL;
        int64_t size = sp ? mn_space_size(sp) : -1;
        int ok = sp && o && settings && cJSON_AddItemToArray(arr, o);
        if (ok) {
            cJSON_AddStringToObject(o, "name", t->name);
            cJSON_AddStringToObject(o, "summary", t->summary);
            cJSON_AddStringToObject(o, "arch", t->arch_doc);
            cJSON_AddItemToObject(o, "settings", settings);
            if (size >= 0)
                cJSON_AddNumberToObject(o, "size", (double)size);
            else
                cJSON_AddNullToObject(o, "size");
            cJSON_AddBoolToObject(o, "sample", t->sample != NULL);
            cJSON_AddBoolToObject(o, "mutate", t->mutate != NULL);
        }
        mn_space_free(sp);
        if (!ok) {
            cJSON_Delete(o);
            cJSON_Delete(settings);
            cJSON_Delete(arr);
            return NULL;
        }
    }
    return arr;
}
