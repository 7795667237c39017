/* mcu.h — MCU profiles: the target's core, clock, SRAM and flash, its inference
 * runtime, the runtime's memory overheads and scratch-buffer rules, and per-op-kind
 * latency coefficients, each group with a provenance text saying where its numbers
 * come from. Built-in profiles are JSON files in common/mcu/<id>.json embedded at
 * build time (files.h); a job may also carry a custom profile of the same form.
 *
 * Latency of a layer of kind k (see cost.h for what counts as MACs and elements):
 *   cycles = calls·fixed_cycles[k] + cycles_per_mac[k]·macs + cycles_per_element[k]·elements
 * Flash = runtime code + model framing + per tensor metadata + parameter bytes.
 * SRAM = peak activations (+ scratch) + runtime bookkeeping + per layer + per channel. */
#ifndef MN_MCU_H
#define MN_MCU_H
#include <cjson/cJSON.h>
#include <stdint.h>
#include "error.h"
#include "graph.h"

struct mn_mcu_latency {
    double fixed_cycles;       /* per kernel call */
    double cycles_per_mac;     /* per multiply-accumulate (pools: per window read or
                                  input element, see cost.h) */
    double cycles_per_element; /* per output element */
    char *provenance;          /* owned */
};

/* A profile. Read its fields freely; create and free it only through this API. */
struct mn_mcu {
    char id[64], name[128], core[32], runtime[64];
    int64_t clock_hz, sram_bytes, flash_bytes;
    struct {
        int64_t runtime_bytes; /* interpreter and kernel code */
        int64_t model_bytes;   /* model file framing, once per model */
        int64_t tensor_bytes;  /* metadata per tensor (shape, quantisation header) */
        char *provenance;
    } flash;
    struct {
        int64_t runtime_bytes; /* arena bookkeeping, once per model */
        int64_t layer_bytes;   /* per layer (node and tensor records) */
        int64_t channel_bytes; /* per output channel of conv2d/dwconv2d/dense
                                  (requantisation multiplier and shift) */
        char *provenance;
    } sram;
    struct {
        int64_t conv2d_bytes_per_col;   /* im2col: bytes per cin·kh·kw (not 1×1 s1 p0) */
        int64_t dwconv2d_bytes_per_col; /* bytes per c·kh·kw */
        int64_t avgpool_bytes_per_channel;
        char *provenance;
    } scratch;
    struct mn_mcu_latency latency[MN_OP_COUNT]; /* [MN_OP_INPUT] unused */
};

/* The built-in profile `id` (e.g. "stm32f746"), or NULL with err (MN_ENOTFOUND naming
 * the known ids) when there is none. Caller frees with mn_mcu_free. */
struct mn_mcu *mn_mcu_builtin(const char *id, struct mn_error *err);
/* A profile from its JSON form (every field required except provenance texts, all
 * validated; err->field names the offending one, e.g. "latency.conv2d.cycles_per_mac").
 * Returns NULL on error. */
struct mn_mcu *mn_mcu_from_json(const cJSON *j, struct mn_error *err);
/* The full profile as JSON (caller owns); mn_mcu_from_json of it gives the same
 * profile. NULL when out of memory. */
cJSON *mn_mcu_to_json(const struct mn_mcu *m);
/* A deep copy, or NULL. */
struct mn_mcu *mn_mcu_clone(const struct mn_mcu *m);
/* Replaces the provenance text of a group: "flash", "sram", "scratch" or an op name.
 * Returns 0, MN_EINVAL for an unknown group, MN_ENOMEM. */
int mn_mcu_set_provenance(struct mn_mcu *m, const char *group, const char *text);
/* Summaries of the built-in profiles (id, name, core, clock_hz, sram_bytes,
 * flash_bytes, runtime), sorted by id; caller owns. NULL when out of memory. */
cJSON *mn_mcu_list_json(void);
const char *mn_mcu_id(const struct mn_mcu *m);
void mn_mcu_free(struct mn_mcu *m);

#endif
