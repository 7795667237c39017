/* space.h — search spaces behind one interface: a space (with its settings, e.g. NB201
 * macro C/N/input/classes) parses, validates, keys, samples, mutates, enumerates and
 * lowers architectures to the layer graph (graph.h). Implementations: space_nb201.c,
 * space_unas.c, space_graph.c; the table of them is in space.c.
 *
 * An architecture's JSON form is the one the API and leases carry: a string for nb201
 * (the canonical "|op~0|+|op~0|op~1|+|op~0|op~1|op~2|"), an object for unas and graph.
 * Canonical keys are strings: equal keys ⇔ the same network. */
#ifndef MN_SPACE_H
#define MN_SPACE_H
#include <cjson/cJSON.h>
#include <stdint.h>
#include "error.h"
#include "graph.h"
#include "rng.h"

struct mn_space; /* a space type with validated settings; opaque */
struct mn_arch;  /* an architecture of some space; opaque, knows its space type */

/* Creates space `name` ("nb201", "unas", "graph") with `settings` (a JSON object or
 * NULL for defaults). Returns NULL with err filled (field relative to the settings
 * object, e.g. "C") on an unknown name or bad setting. Free with mn_space_free. */
struct mn_space *mn_space_create(const char *name, const cJSON *settings,
                                 struct mn_error *err);
void mn_space_free(struct mn_space *sp);
const char *mn_space_name(const struct mn_space *sp);
/* The settings with every default filled in (a new object the caller owns). */
cJSON *mn_space_settings_json(const struct mn_space *sp);
/* Number of architectures when the space is enumerable, else -1. */
int64_t mn_space_size(const struct mn_space *sp);

/* Parses an architecture from its JSON form. On error returns a negative code with err
 * naming the part (e.g. "conv_blocks[1].filters") and *out untouched. */
int mn_space_arch_from_json(const struct mn_space *sp, const cJSON *j, struct mn_arch **out,
                            struct mn_error *err);
/* Parses command-line text: the nb201 string, or JSON text for any space. */
int mn_space_arch_from_text(const struct mn_space *sp, const char *text,
                            struct mn_arch **out, struct mn_error *err);
/* The JSON form (caller owns), or NULL when out of memory. */
cJSON *mn_space_arch_to_json(const struct mn_space *sp, const struct mn_arch *a);
/* The canonical key as a new string (caller frees), or NULL when out of memory. */
char *mn_space_arch_key(const struct mn_space *sp, const struct mn_arch *a);
void mn_arch_free(struct mn_arch *a);

/* Seeded uniform sample (every option of every range reachable, bounds included). */
int mn_space_sample(const struct mn_space *sp, struct mn_rng *rng, struct mn_arch **out);
/* A child differing by one of the space's mutations (nb201: one edge op; unas: a
 * μNAS morph). The child always differs from the parent and is valid. */
int mn_space_mutate(const struct mn_space *sp, const struct mn_arch *parent,
                    struct mn_rng *rng, struct mn_arch **out);
/* The index-th architecture, 0 ≤ index < mn_space_size (MN_EUNSUPPORTED otherwise). */
int mn_space_enumerate(const struct mn_space *sp, int64_t index, struct mn_arch **out);

/* Lowers an architecture to a new layer graph (caller frees), with the space's macro
 * settings applied. */
int mn_space_lower(const struct mn_space *sp, const struct mn_arch *a, struct mn_graph **out,
                   struct mn_error *err);

/* Describes every space (name, summary, settings with defaults, size) for
 * GET /v1/spaces; caller owns the array. */
cJSON *mn_spaces_describe(void);

#endif
