/* json.h — validated access to cJSON objects. Every getter names the offending key in
 * the error it returns, so request validation reads as a list of field rules.
 * Convention: an absent key leaves *out untouched (callers preset the default) and
 * returns 0; use mn_json_require for mandatory keys. */
#ifndef MN_JSON_H
#define MN_JSON_H
#include <cjson/cJSON.h>
#include <stdint.h>
#include "error.h"

/* MN_EINVAL "missing required field" unless obj has `key`. */
int mn_json_require(const cJSON *obj, const char *key, struct mn_error *err);
/* An integer-valued number within [min, max]. */
int mn_json_get_int(const cJSON *obj, const char *key, int64_t min, int64_t max,
                    int64_t *out, struct mn_error *err);
/* Same for an `int` destination. */
int mn_json_get_i32(const cJSON *obj, const char *key, int min, int max, int *out,
                    struct mn_error *err);
/* A finite number within [min, max]. */
int mn_json_get_num(const cJSON *obj, const char *key, double min, double max,
                    double *out, struct mn_error *err);
/* true/false. */
int mn_json_get_bool(const cJSON *obj, const char *key, int *out, struct mn_error *err);
/* A string of at most max_len bytes; *out points into obj (not copied). */
int mn_json_get_str(const cJSON *obj, const char *key, size_t max_len, const char **out,
                    struct mn_error *err);
/* A string that must be one of names[0..n-1]; *out is its index. */
int mn_json_get_enum(const cJSON *obj, const char *key, const char *const *names, int n,
                     int *out, struct mn_error *err);
/* MN_EINVAL naming the first key of obj not in the NULL-terminated `allowed` list, so
 * a misspelt option is an error rather than silently ignored. obj must be an object. */
int mn_json_check_keys(const cJSON *obj, const char *const *allowed, struct mn_error *err);
/* MN_EINVAL unless j is a JSON object; `what` names it in the message. */
int mn_json_expect_object(const cJSON *j, const char *what, struct mn_error *err);
/* Compact text of j; the caller frees it with free(). NULL on allocation failure. */
char *mn_json_print(const cJSON *j);
/* Adds v rounded to 9 significant digits (stable, readable output); a non-finite v
 * is added as null, never as a made-up number. */
cJSON *mn_json_add_num(cJSON *obj, const char *key, double v);

#endif
