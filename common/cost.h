/* cost.h — the MCU cost model: MACs, parameters, flash, peak SRAM and latency of a
 * layer graph (graph.h) deployed int8 on an MCU profile (mcu.h), per layer and in
 * total. The graph is the only input; every search space lowers to it.
 *
 * Deployment model (TFLM + CMSIS-NN style):
 * - int8 weights, int32 biases, per-channel quantisation (a scale and a zero point
 *   per output channel for weights and for biases); batch norm is folded into the
 *   conv2d/dwconv2d/dense it follows (creating a bias when there was none); fused
 *   activations cost nothing; a standalone batchnorm is a per-channel multiply and
 *   add (two int8 constant tensors); flatten reshapes in place.
 * - Activations are int8 (one byte per element). Peak SRAM is the smallest peak over
 *   operator orders (memorder.h) of live activations plus the running kernel's
 *   scratch buffer, plus the runtime's bookkeeping. The input tensor counts (TFLM
 *   keeps it in the arena); the figures without it are reported too (μNAS's "peak
 *   memory not counting the input").
 * - Latency terms per layer kind: MACs for conv2d/dwconv2d/dense; window reads
 *   (output elements × kernel area) for avgpool/maxpool; input elements for global
 *   pools; elements = output elements; an n-input add is n−1 kernel calls. */
#ifndef MN_COST_H
#define MN_COST_H
#include <cjson/cJSON.h>
#include <stdint.h>
#include "error.h"
#include "graph.h"
#include "mcu.h"

/* What one layer contributes, independent of the MCU. */
struct mn_cost_terms {
    double calls, macs, elements; /* latency terms (see above) */
    int64_t param_bytes;          /* weights, biases and quantisation parameters */
    int tensors;                  /* tensors it adds to the model file (output, constants) */
    int channels;                 /* per-channel requantisation records it needs */
};

struct mn_cost_layer {
    int index;               /* layer index in the graph */
    enum mn_op op;
    char name[32];
    struct mn_shape out;
    int64_t macs, params;    /* graph.h counts (params as PyTorch counts them) */
    int64_t flash_bytes;     /* parameter bytes + tensor metadata */
    int64_t activation_bytes;/* live activations while it runs (best SRAM order) */
    int64_t scratch_bytes;
    double latency_cycles, latency_ms;
};

struct mn_cost {
    char mcu[64];
    int64_t macs, params;
    int64_t param_bytes;             /* Σ parameter bytes, deployed */
    int64_t flash_bytes;             /* param_bytes + metadata + runtime code */
    int64_t peak_activation_bytes;   /* best order, activations only, input counted */
    int64_t peak_activation_no_input_bytes;
    int64_t peak_sram_bytes;         /* activations + scratch + runtime, input counted */
    int64_t peak_sram_no_input_bytes;
    int peak_layer;                  /* layer running at the SRAM peak */
    int peak_step;                   /* its position in the execution order */
    int order_exact;                 /* 1: every order search was exhaustive */
    double latency_cycles, latency_ms;
    int fits_sram, fits_flash;
    int64_t sram_budget, flash_budget; /* the profile's */
    int n_layers;
    struct mn_cost_layer *layers;    /* n_layers rows in execution order; owned */
};

/* The MCU-independent terms of layer i of g. */
void mn_cost_layer_terms(const struct mn_graph *g, int i, struct mn_cost_terms *t);
/* Scratch bytes the runtime needs while layer i runs on m. */
int64_t mn_cost_layer_scratch(const struct mn_graph *g, int i, const struct mn_mcu *m);

/* Estimates g on m into *out (release with mn_cost_release). Returns 0, or a
 * negative code with err set (MN_ENOMEM; MN_EINVAL for an empty graph). */
int mn_cost_estimate(const struct mn_graph *g, const struct mn_mcu *m, struct mn_cost *out,
                     struct mn_error *err);
/* Frees c->layers; NULL allowed. */
void mn_cost_release(struct mn_cost *c);
/* The estimate as JSON (caller owns), with the per-layer table when with_layers;
 * NULL when out of memory. */
cJSON *mn_cost_to_json(const struct mn_cost *c, int with_layers);

#endif
