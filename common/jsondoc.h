/* jsondoc.h — a read-only cJSON tree parsed into one arena. For request bodies on the
 * hot path (a results post is ~1000 values): cJSON_Parse makes two allocations per
 * value (node and key) and cJSON_Delete frees them one by one, which cost more than the
 * rest of the request's validation; here the nodes and strings are carved from a few
 * large blocks and freed together.
 *
 * The tree is made of ordinary cJSON nodes (same types, next/prev/child links, key in
 * `string`, number in valuedouble and the saturated valueint, as cJSON_Parse builds
 * them), so the cJSON read API and common/json.h work on it unchanged. It must never
 * be modified, given to cJSON_Delete, or have items detached; cJSON_Duplicate is fine.
 *
 * The grammar accepted is cJSON_ParseWithLengthOpts's (with require_null_terminated
 * off): an optional UTF-8 BOM, one value, anything after it ignored; numbers are the
 * longest run of [0-9+-.eE] read by strtod; strings may hold raw
 * control bytes; \u escapes are decoded to UTF-8 with surrogate pairs; nesting deeper
 * than 1000 is refused. */
#ifndef MN_JSONDOC_H
#define MN_JSONDOC_H
#include <cjson/cJSON.h>
#include <stddef.h>
#include "error.h"

struct mn_jsondoc;

/* Parses text[0..len) into *doc (free with mn_jsondoc_free). Returns 0, MN_EPARSE with
 * *err_at the byte offset where parsing failed, or MN_ENOMEM. */
int mn_jsondoc_parse(const char *text, size_t len, struct mn_jsondoc **doc, size_t *err_at);
/* The root value; owned by doc, valid until mn_jsondoc_free. */
const cJSON *mn_jsondoc_root(const struct mn_jsondoc *doc);
/* A document holding an empty object (what an absent optional body means), or NULL. */
struct mn_jsondoc *mn_jsondoc_empty_object(void);
void mn_jsondoc_free(struct mn_jsondoc *doc);

#endif
