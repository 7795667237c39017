/* mcu.c — MCU profiles: parsing and validating their JSON form, the built-in
 * profiles embedded from common/mcu/<id>.json, and serialisation (see mcu.h). */
#include "mcu.h"
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "files.h"
#include "json.h"

#define MAX_PROVENANCE 4000
#define MAX_BYTES (1LL << 40)

/* Integer fields of one group (or of the top level), by offset into struct mn_mcu. */
struct ifield {
    const char *key;
    size_t off;
    int64_t min, max;
};

static const struct ifield top_fields[] = {
    {"clock_hz", offsetof(struct mn_mcu, clock_hz), 1000, 100000000000LL},
    {"sram_bytes", offsetof(struct mn_mcu, sram_bytes), 1, MAX_BYTES},
    {"flash_bytes", offsetof(struct mn_mcu, flash_bytes), 1, MAX_BYTES},
    {NULL, 0, 0, 0},
};
static const struct ifield flash_fields[] = {
    {"runtime_bytes", offsetof(struct mn_mcu, flash.runtime_bytes), 0, MAX_BYTES},
    {"model_bytes", offsetof(struct mn_mcu, flash.model_bytes), 0, MAX_BYTES},
    {"tensor_bytes", offsetof(struct mn_mcu, flash.tensor_bytes), 0, 1 << 20},
    {NULL, 0, 0, 0},
};
static const struct ifield sram_fields[] = {
    {"runtime_bytes", offsetof(struct mn_mcu, sram.runtime_bytes), 0, MAX_BYTES},
    {"layer_bytes", offsetof(struct mn_mcu, sram.layer_bytes), 0, 1 << 20},
    {"channel_bytes", offsetof(struct mn_mcu, sram.channel_bytes), 0, 1024},
    {NULL, 0, 0, 0},
};
static const struct ifield scratch_fields[] = {
    {"conv2d_bytes_per_col", offsetof(struct mn_mcu, scratch.conv2d_bytes_per_col), 0, 64},
    {"dwconv2d_bytes_per_col", offsetof(struct mn_mcu, scratch.dwconv2d_bytes_per_col), 0,
     64},
    {"avgpool_bytes_per_channel", offsetof(struct mn_mcu, scratch.avgpool_bytes_per_channel),
     0, 64},
    {NULL, 0, 0, 0},
};

/* The memory groups: JSON key, fields, where the provenance pointer lives. */
static const struct group {
    const char *key;
    const struct ifield *fields;
    size_t prov_off;
} groups[] = {
    {"flash", flash_fields, offsetof(struct mn_mcu, flash.provenance)},
    {"sram", sram_fields, offsetof(struct mn_mcu, sram.provenance)},
    {"scratch", scratch_fields, offsetof(struct mn_mcu, scratch.provenance)},
};
#define N_GROUPS (sizeof groups / sizeof groups[0])

/* Latency coefficients, by offset into struct mn_mcu_latency. */
static const struct {
    const char *key;
    size_t off;
} lat_fields[] = {
    {"fixed_cycles", offsetof(struct mn_mcu_latency, fixed_cycles)},
    {"cycles_per_mac", offsetof(struct mn_mcu_latency, cycles_per_mac)},
    {"cycles_per_element", offsetof(struct mn_mcu_latency, cycles_per_element)},
};
#define N_LAT (sizeof lat_fields / sizeof lat_fields[0])
#define MAX_CYCLES 1e12

/* Text fields at the top level: key, offset, capacity. */
static const struct {
    const char *key;
    size_t off, cap;
} str_fields[] = {
    {"id", offsetof(struct mn_mcu, id), sizeof ((struct mn_mcu *)0)->id},
    {"name", offsetof(struct mn_mcu, name), sizeof ((struct mn_mcu *)0)->name},
    {"core", offsetof(struct mn_mcu, core), sizeof ((struct mn_mcu *)0)->core},
    {"runtime", offsetof(struct mn_mcu, runtime), sizeof ((struct mn_mcu *)0)->runtime},
};
#define N_STR (sizeof str_fields / sizeof str_fields[0])

static int64_t *ifield_at(struct mn_mcu *m, const struct ifield *f)
{
    return (int64_t *)((char *)m + f->off);
}

static char **prov_at(struct mn_mcu *m, size_t off)
{
    return (char **)((char *)m + off);
}

static double *lat_at(struct mn_mcu_latency *l, size_t i)
{
    return (double *)((char *)l + lat_fields[i].off);
}

void mn_mcu_free(struct mn_mcu *m)
{
    if (!m)
        return;
    for (size_t g = 0; g < N_GROUPS; g++)
        free(*prov_at(m, groups[g].prov_off));
    for (int k = 0; k < MN_OP_COUNT; k++)
        free(m->latency[k].provenance);
    free(m);
}

const char *mn_mcu_id(const struct mn_mcu *m)
{
    return m->id;
}

static int valid_id(const char *s)
{
    if (!*s)
        return 0;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '_' || *s == '-'))
            return 0;
    return 1;
}

/* Reads the optional provenance text of obj into *dst (a copy). */
static int get_provenance(const cJSON *obj, char **dst, struct mn_error *err)
{
    const char *p = "not stated";
    int rc = mn_json_get_str(obj, "provenance", MAX_PROVENANCE, &p, err);
    if (rc)
        return rc;
    *dst = strdup(p);
    return *dst ? MN_OK : mn_error_set(err, MN_ENOMEM, NULL, "out of memory");
}

static int parse_ints(const cJSON *obj, const struct ifield *f, struct mn_mcu *m,
                      struct mn_error *err)
{
    for (; f->key; f++) {
        int rc = mn_json_require(obj, f->key, err);
        if (!rc)
            rc = mn_json_get_int(obj, f->key, f->min, f->max, ifield_at(m, f), err);
        if (rc)
            return rc;
    }
    return MN_OK;
}

static int parse_group(const cJSON *j, const struct group *g, struct mn_mcu *m,
                       struct mn_error *err)
{
    const cJSON *obj = cJSON_GetObjectItemCaseSensitive(j, g->key);
    const char *allowed[8];
    int n = 0;
    for (const struct ifield *f = g->fields; f->key; f++)
        allowed[n++] = f->key;
    allowed[n++] = "provenance";
    allowed[n] = NULL;
    int rc = mn_json_require(j, g->key, err);
    if (rc)
        return rc;
    if (!(rc = mn_json_expect_object(obj, g->key, err)) &&
        !(rc = mn_json_check_keys(obj, allowed, err)) &&
        !(rc = parse_ints(obj, g->fields, m, err)))
        rc = get_provenance(obj, prov_at(m, g->prov_off), err);
    if (rc)
        mn_error_prefix_field(err, g->key);
    return rc;
}

static int parse_latency(const cJSON *j, struct mn_mcu *m, struct mn_error *err)
{
    static const char *const allowed[] = {"fixed_cycles", "cycles_per_mac",
                                          "cycles_per_element", "provenance", NULL};
    const char *names[MN_OP_COUNT + 1];
    const cJSON *lat = cJSON_GetObjectItemCaseSensitive(j, "latency");
    int rc = mn_json_require(j, "latency", err);
    if (rc)
        return rc;
    if ((rc = mn_json_expect_object(lat, "latency", err)))
        goto prefix;
    for (int k = 1; k < MN_OP_COUNT; k++)
        names[k - 1] = mn_op_name((enum mn_op)k);
    names[MN_OP_COUNT - 1] = NULL;
    if ((rc = mn_json_check_keys(lat, names, err)))
        goto prefix;
    for (int k = 1; k < MN_OP_COUNT; k++) {
        const char *op = mn_op_name((enum mn_op)k);
        const cJSON *o = cJSON_GetObjectItemCaseSensitive(lat, op);
        struct mn_mcu_latency *l = &m->latency[k];
        if ((rc = mn_json_require(lat, op, err)))
            goto prefix;
        if (!(rc = mn_json_expect_object(o, op, err)) &&
            !(rc = mn_json_check_keys(o, allowed, err))) {
            for (size_t i = 0; i < N_LAT && !rc; i++) {
                rc = mn_json_require(o, lat_fields[i].key, err);
                if (!rc)
                    rc = mn_json_get_num(o, lat_fields[i].key, 0, MAX_CYCLES, lat_at(l, i),
                                         err);
            }
            if (!rc)
                rc = get_provenance(o, &l->provenance, err);
        }
        if (rc) {
            mn_error_prefix_field(err, op);
            goto prefix;
        }
    }
    return MN_OK;
prefix:
    mn_error_prefix_field(err, "latency");
    return rc;
}

struct mn_mcu *mn_mcu_from_json(const cJSON *j, struct mn_error *err)
{
    static const char *const allowed[] = {"id", "name", "core", "runtime", "clock_hz",
                                          "sram_bytes", "flash_bytes", "flash", "sram",
                                          "scratch", "latency", NULL};
    if (mn_json_expect_object(j, "MCU profile", err) || mn_json_check_keys(j, allowed, err))
        return NULL;
    struct mn_mcu *m = calloc(1, sizeof *m);
    if (!m) {
        mn_error_set(err, MN_ENOMEM, NULL, "out of memory");
        return NULL;
    }
    for (size_t i = 0; i < N_STR; i++) {
        const char *s = NULL;
        if (mn_json_require(j, str_fields[i].key, err) ||
            mn_json_get_str(j, str_fields[i].key, str_fields[i].cap - 1, &s, err))
            goto fail;
        if (!*s) {
            mn_error_set(err, MN_EINVAL, str_fields[i].key, "'%s' must not be empty",
                         str_fields[i].key);
            goto fail;
        }
        snprintf((char *)m + str_fields[i].off, str_fields[i].cap, "%s", s);
    }
    if (!valid_id(m->id)) {
        mn_error_set(err, MN_EINVAL, "id", "'id' may hold only a-z, 0-9, '_' and '-'");
        goto fail;
    }
    if (parse_ints(j, top_fields, m, err))
        goto fail;
    for (size_t g = 0; g < N_GROUPS; g++)
        if (parse_group(j, &groups[g], m, err))
            goto fail;
    if (parse_latency(j, m, err))
        goto fail;
    return m;
fail:
    mn_mcu_free(m);
    return NULL;
}

cJSON *mn_mcu_to_json(const struct mn_mcu *m)
{
    struct mn_mcu *mm = (struct mn_mcu *)m; /* the offset helpers take non-const */
    cJSON *j = cJSON_CreateObject();
    int ok = j != NULL;
    for (size_t i = 0; ok && i < N_STR; i++)
        ok = cJSON_AddStringToObject(j, str_fields[i].key,
                                     (const char *)m + str_fields[i].off) != NULL;
    for (const struct ifield *f = top_fields; ok && f->key; f++)
        ok = cJSON_AddNumberToObject(j, f->key, (double)*ifield_at(mm, f)) != NULL;
    for (size_t g = 0; ok && g < N_GROUPS; g++) {
        cJSON *o = cJSON_AddObjectToObject(j, groups[g].key);
        ok = o != NULL;
        for (const struct ifield *f = groups[g].fields; ok && f->key; f++)
            ok = cJSON_AddNumberToObject(o, f->key, (double)*ifield_at(mm, f)) != NULL;
        ok = ok && cJSON_AddStringToObject(o, "provenance",
                                           *prov_at(mm, groups[g].prov_off)) != NULL;
    }
    cJSON *lat = ok ? cJSON_AddObjectToObject(j, "latency") : NULL;
    ok = lat != NULL;
    for (int k = 1; ok && k < MN_OP_COUNT; k++) {
        cJSON *o = cJSON_AddObjectToObject(lat, mn_op_name((enum mn_op)k));
        ok = o != NULL;
        for (size_t i = 0; ok && i < N_LAT; i++)
            ok = mn_json_add_num(o, lat_fields[i].key, *lat_at(&mm->latency[k], i)) != NULL;
        ok = ok && cJSON_AddStringToObject(o, "provenance", m->latency[k].provenance);
    }
    if (!ok) {
        cJSON_Delete(j);
        return NULL;
    }
    return j;
}

struct mn_mcu *mn_mcu_clone(const struct mn_mcu *m)
{
    cJSON *j = mn_mcu_to_json(m);
    struct mn_mcu *c = j ? mn_mcu_from_json(j, NULL) : NULL;
    cJSON_Delete(j);
    return c;
}

int mn_mcu_set_provenance(struct mn_mcu *m, const char *group, const char *text)
{
    char **dst = NULL;
    for (size_t g = 0; g < N_GROUPS; g++)
        if (strcmp(group, groups[g].key) == 0)
            dst = prov_at(m, groups[g].prov_off);
    int op = mn_op_from_name(group);
    if (!dst && op > MN_OP_INPUT)
        dst = &m->latency[op].provenance;
    if (!dst)
        return MN_EINVAL;
    char *t = strdup(text);
    if (!t)
        return MN_ENOMEM;
    free(*dst);
    *dst = t;
    return MN_OK;
}

/* Parses one embedded profile file. */
static struct mn_mcu *load_file(const struct mn_file *f, struct mn_error *err)
{
    cJSON *j = cJSON_ParseWithLength((const char *)f->data, f->len);
    if (!j) {
        mn_error_set(err, MN_EPARSE, NULL, "%s: malformed JSON", f->path);
        return NULL;
    }
    struct mn_mcu *m = mn_mcu_from_json(j, err);
    cJSON_Delete(j);
    if (!m)
        mn_error_prefix_field(err, f->path);
    return m;
}

/* Appends the built-in ids, comma separated, to buf. */
static void known_ids(char *buf, size_t len)
{
    size_t used = 0;
    buf[0] = '\0';
    for (const struct mn_file *f = mn_mcu_files; f->path && used < len; f++) {
        const char *base = strrchr(f->path, '/');
        base = base ? base + 1 : f->path;
        int n = snprintf(buf + used, len - used, "%s%.*s", used ? ", " : "",
                         (int)(strlen(base) - 5), base);
        used += n > 0 ? (size_t)n : 0;
    }
}

struct mn_mcu *mn_mcu_builtin(const char *id, struct mn_error *err)
{
    char path[96], ids[256];
    const struct mn_file *f = NULL;
    if (id && valid_id(id) && strlen(id) < 64) {
        snprintf(path, sizeof path, "%s.json", id);
        f = mn_files_find(mn_mcu_files, path);
    }
    if (!f) {
        known_ids(ids, sizeof ids);
        mn_error_set(err, MN_ENOTFOUND, "mcu", "unknown MCU '%.64s' (known: %s)",
                     id ? id : "", ids);
        return NULL;
    }
    return load_file(f, err);
}

static int by_id(const void *a, const void *b)
{
    const cJSON *x = *(const cJSON *const *)a, *y = *(const cJSON *const *)b;
    return strcmp(cJSON_GetObjectItem(x, "id")->valuestring,
                  cJSON_GetObjectItem(y, "id")->valuestring);
}

cJSON *mn_mcu_list_json(void)
{
    cJSON *items[64];
    int n = 0, ok = 1;
    for (const struct mn_file *f = mn_mcu_files; ok && f->path && n < 64; f++) {
        struct mn_mcu *m = load_file(f, NULL);
        if (!m)
            continue; /* every shipped profile is checked by the tests */
        cJSON *o = cJSON_CreateObject();
        ok = o && cJSON_AddStringToObject(o, "id", m->id) &&
             cJSON_AddStringToObject(o, "name", m->name) &&
             cJSON_AddStringToObject(o, "core", m->core) &&
             cJSON_AddNumberToObject(o, "clock_hz", (double)m->clock_hz) &&
             cJSON_AddNumberToObject(o, "sram_bytes", (double)m->sram_bytes) &&
             cJSON_AddNumberToObject(o, "flash_bytes", (double)m->flash_bytes) &&
             cJSON_AddStringToObject(o, "runtime", m->runtime);
        mn_mcu_free(m);
        if (o)
            items[n++] = o;
    }
    if (ok)
        qsort(items, (size_t)n, sizeof *items, by_id);
    cJSON *arr = ok ? cJSON_CreateArray() : NULL;
    for (int i = 0; i < n; i++) {
        if (arr)
            cJSON_AddItemToArray(arr, items[i]);
        else
            cJSON_Delete(items[i]);
    }
    return arr;
}
