/* graph_json.h — the public JSON form of the layer graph (graph.h), documented in
 * schema/graph.schema.json: what `--space graph` accepts and what reports print.
 *
 *   {"input": {"c": 1, "h": 49, "w": 10},
 *    "layers": [{"op": "conv2d", "name": "conv1", "filters": 64, "kernel": [10, 4],
 *                "stride": 2, "padding": "same", "bn": true, "activation": "relu"},
 *               ...]}
 *
 * Layer i reads the previous layer unless it says "inputs": a list of layer names or
 * positions in "layers" (0-based), where "input" names the network input. The last
 * layer is the network output. */
#ifndef MN_GRAPH_JSON_H
#define MN_GRAPH_JSON_H
#include <cjson/cJSON.h>
#include "error.h"
#include "graph.h"

/* The JSON form of g (caller owns), or NULL when out of memory. Defaults are left
 * out, so the form is canonical: equal graphs print equal text. */
cJSON *mn_graph_to_json(const struct mn_graph *g);
/* Builds a graph from its JSON form. Returns NULL with err naming the offending field
 * ("layers[3].kernel", "input.h") on any error. Free with mn_graph_free. */
struct mn_graph *mn_graph_from_json(const cJSON *j, struct mn_error *err);

/* Reads the optional key `key` of obj as a shape {"c","h","w"} (each 1..65536) into
 * *s, which holds the default; errors name "key.c" etc. Shared with the spaces'
 * settings, so every "input" in monas has one form. */
int mn_graph_json_get_shape(const cJSON *obj, const char *key, struct mn_shape *s,
                            struct mn_error *err);
/* {"c","h","w"} of s (caller owns), or NULL. */
cJSON *mn_graph_json_shape(struct mn_shape s);

#endif
