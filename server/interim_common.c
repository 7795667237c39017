/* interim_common.c — TEMPORARY stand-ins for common/ modules being written in
 * parallel (the nb201 space of space.h and the MCU profiles of mcu.h), just enough for
 * the server to run end to end. Deleted when those modules land on main. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "interim_mcu.h"
#include "space.h"

static const char *const ops[5] = {"none", "skip_connect", "nor_conv_1x1", "nor_conv_3x3",
                                   "avg_pool_3x3"};

struct mn_space {
    int dummy;
};
struct mn_arch {
    int e[6];
};

struct mn_space *mn_space_create(const char *name, const cJSON *settings, struct mn_error *err)
{
    if (strcmp(name, "nb201") != 0) {
        mn_error_set(err, MN_EINVAL, "name", "unknown space '%s'", name);
        return NULL;
    }
    if (settings && !cJSON_IsObject(settings)) {
        mn_error_set(err, MN_EINVAL, "", "settings must be an object");
        return NULL;
    }
    if (settings && settings->child) {
        mn_error_set(err, MN_EINVAL, settings->child->string, "unknown setting '%s'",
                     settings->child->string);
        return NULL;
    }
    return calloc(1, sizeof(struct mn_space));
}
void mn_space_free(struct mn_space *sp) { free(sp); }
const char *mn_space_name(const struct mn_space *sp) { (void)sp; return "nb201"; }
cJSON *mn_space_settings_json(const struct mn_space *sp) { (void)sp; return cJSON_CreateObject(); }
int64_t mn_space_size(const struct mn_space *sp) { (void)sp; return 15625; }

static int parse(const char *s, struct mn_arch **out, struct mn_error *err)
{
    struct mn_arch a;
    const char *p = s;
    for (int node = 1, e = 0; node <= 3; node++) {
        if (*p++ != '|')
            goto bad;
        for (int j = 0; j < node; j++, e++) {
            int found = -1;
            for (int o = 0; o < 5; o++) {
                size_t n = strlen(ops[o]);
                if (strncmp(p, ops[o], n) == 0 && p[n] == '~') {
                    found = o;
                    p += n + 1;
                    break;
                }
            }
            if (found < 0 || *p != '0' + j)
                goto bad;
            p++;
            if (*p++ != '|')
                goto bad;
            a.e[e] = found;
        }
        if (node < 3 && *p++ != '+')
            goto bad;
    }
    if (*p)
        goto bad;
    *out = malloc(sizeof **out);
    if (!*out)
        return MN_ENOMEM;
    **out = a;
    return MN_OK;
bad:
    return mn_error_set(err, MN_EPARSE, "", "not an nb201 architecture string");
}

int mn_space_arch_from_json(const struct mn_space *sp, const cJSON *j, struct mn_arch **out,
                            struct mn_error *err)
{
    (void)sp;
    if (!cJSON_IsString(j))
        return mn_error_set(err, MN_EINVAL, "", "an nb201 architecture is a string");
    return parse(j->valuestring, out, err);
}
int mn_space_arch_from_text(const struct mn_space *sp, const char *text, struct mn_arch **out,
                            struct mn_error *err)
{
    (void)sp;
    return parse(text, out, err);
}
char *mn_space_arch_key(const struct mn_space *sp, const struct mn_arch *a)
{
    (void)sp;
    char *s = malloc(128);
    if (!s)
        return NULL;
    snprintf(s, 128, "|%s~0|+|%s~0|%s~1|+|%s~0|%s~1|%s~2|", ops[a->e[0]], ops[a->e[1]],
             ops[a->e[2]], ops[a->e[3]], ops[a->e[4]], ops[a->e[5]]);
    return s;
}
cJSON *mn_space_arch_to_json(const struct mn_space *sp, const struct mn_arch *a)
{
    char *k = mn_space_arch_key(sp, a);
    cJSON *j = k ? cJSON_CreateString(k) : NULL;
    free(k);
    return j;
}
void mn_arch_free(struct mn_arch *a) { free(a); }
int mn_space_enumerate(const struct mn_space *sp, int64_t index, struct mn_arch **out)
{
    (void)sp;
    if (index < 0 || index >= 15625)
        return MN_EUNSUPPORTED;
    struct mn_arch *a = malloc(sizeof *a);
    if (!a)
        return MN_ENOMEM;
    for (int e = 0; e < 6; e++, index /= 5)
        a->e[e] = (int)(index % 5);
    *out = a;
    return MN_OK;
}
int mn_space_sample(const struct mn_space *sp, struct mn_rng *rng, struct mn_arch **out)
{
    return mn_space_enumerate(sp, (int64_t)mn_rng_below(rng, 15625), out);
}
int mn_space_mutate(const struct mn_space *sp, const struct mn_arch *parent, struct mn_rng *rng,
                    struct mn_arch **out)
{
    (void)sp;
    struct mn_arch *a = malloc(sizeof *a);
    if (!a)
        return MN_ENOMEM;
    *a = *parent;
    int e = (int)mn_rng_below(rng, 6);
    a->e[e] = (a->e[e] + 1 + (int)mn_rng_below(rng, 4)) % 5;
    *out = a;
    return MN_OK;
}
int mn_space_lower(const struct mn_space *sp, const struct mn_arch *a, struct mn_graph **out,
                   struct mn_error *err)
{
    (void)sp, (void)a, (void)out;
    return mn_error_set(err, MN_EUNSUPPORTED, "", "not in the interim space");
}
cJSON *mn_spaces_describe(void)
{
    return cJSON_Parse("[{\"name\":\"nb201\",\"summary\":\"NAS-Bench-201 cell space\","
                       "\"settings\":{},\"size\":15625}]");
}

struct mn_mcu {
    char id[32];
};
struct mn_mcu *mn_mcu_builtin(const char *id, struct mn_error *err)
{
    if (strcmp(id, "stm32f746") != 0) {
        mn_error_set(err, MN_ENOTFOUND, "", "unknown MCU '%s'", id);
        return NULL;
    }
    struct mn_mcu *m = calloc(1, sizeof *m);
    if (m)
        strcpy(m->id, id);
    return m;
}
struct mn_mcu *mn_mcu_from_json(const cJSON *j, struct mn_error *err)
{
    const cJSON *id = cJSON_GetObjectItemCaseSensitive(j, "id");
    if (!cJSON_IsString(id) || strlen(id->valuestring) >= 32) {
        mn_error_set(err, MN_EINVAL, "id", "an MCU profile needs an id");
        return NULL;
    }
    struct mn_mcu *m = calloc(1, sizeof *m);
    if (m)
        strcpy(m->id, id->valuestring);
    return m;
}
cJSON *mn_mcu_to_json(const struct mn_mcu *m)
{
    cJSON *j = cJSON_CreateObject();
    cJSON_AddStringToObject(j, "id", m->id);
    cJSON_AddNumberToObject(j, "sram_bytes", 320 * 1024);
    cJSON_AddNumberToObject(j, "flash_bytes", 1024 * 1024);
    return j;
}
cJSON *mn_mcu_list_json(void)
{
    struct mn_mcu m = {"stm32f746"};
    cJSON *a = cJSON_CreateArray();
    cJSON_AddItemToArray(a, mn_mcu_to_json(&m));
    return a;
}
const char *mn_mcu_id(const struct mn_mcu *m) { return m->id; }
void mn_mcu_free(struct mn_mcu *m) { free(m); }
