/* json.c — validated cJSON getters that name the offending field (see json.h). */
#include "json.h"
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int mn_json_require(const cJSON *obj, const char *key, struct mn_error *err)
{
    if (cJSON_GetObjectItemCaseSensitive(obj, key))
        return MN_OK;
    return mn_error_set(err, MN_EINVAL, key, "missing required field '%s'", key);
}

static const cJSON *item(const cJSON *obj, const char *key)
{
    const cJSON *j = cJSON_GetObjectItemCaseSensitive(obj, key);
    return (j && !cJSON_IsNull(j)) ? j : NULL;
}

int mn_json_get_num(const cJSON *obj, const char *key, double min, double max,
                    double *out, struct mn_error *err)
{
    const cJSON *j = item(obj, key);
    if (!j)
        return MN_OK;
    if (!cJSON_IsNumber(j) || !isfinite(j->valuedouble))
        return mn_error_set(err, MN_EINVAL, key, "'%s' must be a number", key);
    if (j->valuedouble < min || j->valuedouble > max)
        return mn_error_set(err, MN_EINVAL, key, "'%s' must be between %g and %g, got %g",
                            key, min, max, j->valuedouble);
    *out = j->valuedouble;
    return MN_OK;
}

int mn_json_get_int(const cJSON *obj, const char *key, int64_t min, int64_t max,
                    int64_t *out, struct mn_error *err)
{
    const cJSON *j = item(obj, key);
    if (!j)
        return MN_OK;
    double v = j->valuedouble;
    if (!cJSON_IsNumber(j) || !isfinite(v) || v != floor(v) || fabs(v) > 9.0e15)
        return mn_error_set(err, MN_EINVAL, key, "'%s' must be an integer", key);
    if (v < (double)min || v > (double)max)
        return mn_error_set(err, MN_EINVAL, key,
                            "'%s' must be between %lld and %lld, got %.0f", key,
                            (long long)min, (long long)max, v);
    *out = (int64_t)v;
    return MN_OK;
}

int mn_json_get_i32(const cJSON *obj, const char *key, int min, int max, int *out,
                    struct mn_error *err)
{
    int64_t v = *out;
    int rc = mn_json_get_int(obj, key, min, max, &v, err);
    if (rc == MN_OK)
        *out = (int)v;
    return rc;
}

int mn_json_get_bool(const cJSON *obj, const char *key, int *out, struct mn_error *err)
{
    const cJSON *j = item(obj, key);
    if (!j)
        return MN_OK;
    if (!cJSON_IsBool(j))
        return mn_error_set(err, MN_EINVAL, key, "'%s' must be true or false", key);
    *out = cJSON_IsTrue(j);
    return MN_OK;
}

int mn_json_get_str(const cJSON *obj, const char *key, size_t max_len, const char **out,
                    struct mn_error *err)
{
    const cJSON *j = item(obj, key);
    if (!j)
        return MN_OK;
    if (!cJSON_IsString(j))
        return mn_error_set(err, MN_EINVAL, key, "'%s' must be a string", key);
    if (strlen(j->valuestring) > max_len)
        return mn_error_set(err, MN_EINVAL, key, "'%s' is longer than %zu characters", key,
                            max_len);
    *out = j->valuestring;
    return MN_OK;
}

int mn_json_get_enum(const cJSON *obj, const char *key, const char *const *names, int n,
                     int *out, struct mn_error *err)
{
    const char *s = NULL;
    int rc = mn_json_get_str(obj, key, 256, &s, err);
    if (rc || !s)
        return rc;
    for (int i = 0; i < n; i++)
        if (strcmp(s, names[i]) == 0) {
            *out = i;
            return MN_OK;
        }
    char list[256] = "";
    size_t used = 0;
    for (int i = 0; i < n && used < sizeof list; i++) {
        int w = snprintf(list + used, sizeof list - used, "%s%s", i ? ", " : "", names[i]);
        if (w > 0)
            used += (size_t)w;
    }
    return mn_error_set(err, MN_EINVAL, key, "'%s' must be one of: %s; got '%s'", key, list, s);
}

int mn_json_check_keys(const cJSON *obj, const char *const *allowed, struct mn_error *err)
{
    const cJSON *j;
    cJSON_ArrayForEach(j, obj) {
        int ok = 0;
        for (const char *const *a = allowed; *a && !ok; a++)
            ok = j->string && strcmp(j->string, *a) == 0;
        if (!ok)
            return mn_error_set(err, MN_EINVAL, j->string ? j->string : "",
                                "unknown field '%s'", j->string ? j->string : "");
    }
    return MN_OK;
}

int mn_json_expect_object(const cJSON *j, const char *what, struct mn_error *err)
{
    if (cJSON_IsObject(j))
        return MN_OK;
    return mn_error_set(err, MN_EINVAL, NULL, "%s must be a JSON object", what);
}

char *mn_json_print(const cJSON *j)
{
    return cJSON_PrintUnformatted(j);
}

cJSON *mn_json_add_num(cJSON *obj, const char *key, double v)
{
    if (!isfinite(v))
        return cJSON_AddNullToObject(obj, key);
    char buf[32];
    snprintf(buf, sizeof buf, "%.9g", v);
    return cJSON_AddNumberToObject(obj, key, strtod(buf, NULL));
}
