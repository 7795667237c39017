/* graph.h — the layer graph: the one description of a CNN that every search space
 * lowers an architecture to, and the single input of both the MCU cost model
 * (cost.h) and the CNN engine. Layers are stored in topological order: layer 0 is
 * the input, and every layer's inputs have smaller indices. Shapes are per sample
 * (channels, height, width; batch excluded) and are inferred as layers are added.
 *
 * Semantics of a layer, in order: the op itself, then (conv2d, dwconv2d, dense) an
 * optional bias, then (conv2d, dwconv2d, dense, when bn is set) batch normalisation
 * with affine parameters, then (conv2d, dwconv2d, dense, batchnorm, add) the
 * activation `act`. Pre-activation designs (NB201's ReLU-Conv-BN) use standalone
 * relu layers. Padding is explicit per side (PyTorch's symmetric padding and
 * TensorFlow's asymmetric 'same' are both expressible). */
#ifndef MN_GRAPH_H
#define MN_GRAPH_H
#include <stdint.h>
#include "error.h"

enum mn_op {
    MN_OP_INPUT,     /* the network input; always layer 0, exactly once */
    MN_OP_CONV2D,    /* `filters` output channels, kernel kh×kw, stride, pads */
    MN_OP_DWCONV2D,  /* depthwise (multiplier 1): channels unchanged */
    MN_OP_DENSE,     /* `filters` units; input must be flat (c×1×1) */
    MN_OP_AVGPOOL,   /* kernel, stride, pads; count_include_pad as in PyTorch */
    MN_OP_MAXPOOL,   /* kernel, stride, pads (padding never wins the max) */
    MN_OP_GAVGPOOL,  /* global average pool → c×1×1 */
    MN_OP_GMAXPOOL,  /* global max pool → c×1×1 */
    MN_OP_ADD,       /* element-wise sum of n_in ≥ 2 inputs of equal shape */
    MN_OP_ZERO,      /* zeros of its input's shape (NB201 'none' where nothing else
                        feeds a node) */
    MN_OP_RELU,      /* standalone ReLU (act may say relu6 instead) */
    MN_OP_BATCHNORM, /* standalone batch norm with affine parameters */
    MN_OP_FLATTEN,   /* c×h×w → (c·h·w)×1×1, no data movement */
    MN_OP_SOFTMAX,   /* over channels of a flat input */
    MN_OP_COUNT
};

enum mn_act { MN_ACT_NONE, MN_ACT_RELU, MN_ACT_RELU6, MN_ACT_COUNT };

#define MN_GRAPH_MAX_IN 16 /* add fan-in: an NB201 supernet node sums up to 12 op outputs */

struct mn_shape {
    int c, h, w;
};

struct mn_layer {
    enum mn_op op;
    int n_in;
    int in[MN_GRAPH_MAX_IN]; /* indices of earlier layers */
    int filters;             /* conv2d output channels; dense units */
    int kh, kw, sh, sw;      /* kernel and stride (convs and pools) */
    int pad_t, pad_b, pad_l, pad_r;
    unsigned char bias;      /* conv2d, dwconv2d, dense: has a bias */
    unsigned char bn;        /* conv2d, dwconv2d, dense: followed by batch norm */
    unsigned char count_include_pad; /* avgpool */
    enum mn_act act;
    struct mn_shape out;     /* inferred by mn_graph_add */
    char name[32];           /* optional, for reports */
};

struct mn_graph {
    struct mn_layer *layers; /* layers[0] is the input */
    int n, cap;
    int output;              /* index of the network output; the last layer added */
    struct mn_error error;   /* why the last failed mn_graph_* call failed */
};

/* A graph holding only its c×h×w input layer, or NULL when out of memory or a
 * dimension is not positive. Free with mn_graph_free (NULL allowed). */
struct mn_graph *mn_graph_new(int c, int h, int w);
void mn_graph_free(struct mn_graph *g);
/* A deep copy, or NULL. */
struct mn_graph *mn_graph_clone(const struct mn_graph *g);

/* A layer of kind `op` reading `in`, with kernel/stride 1, no padding, no bias, no bn,
 * no activation: set the fields you need, then mn_graph_add it. */
struct mn_layer mn_layer_make(enum mn_op op, int in);

/* Appends a copy of *l after checking it (inputs exist, shapes agree, sizes positive)
 * and inferring its output shape. Returns the new layer's index (≥ 0), or a negative
 * MN_E* code with the reason in g->error. The new layer becomes g->output. */
int mn_graph_add(struct mn_graph *g, const struct mn_layer *l);

/* Builders over mn_graph_add for the common cases; same return convention. `pad` is
 * symmetric on all sides. */
int mn_graph_conv2d(struct mn_graph *g, int in, int filters, int k, int stride, int pad,
                    int bias, int bn, enum mn_act act);
int mn_graph_dwconv2d(struct mn_graph *g, int in, int k, int stride, int pad, int bias,
                      int bn, enum mn_act act);
int mn_graph_dense(struct mn_graph *g, int in, int units, int bias, enum mn_act act);
int mn_graph_pool(struct mn_graph *g, enum mn_op op, int in, int k, int stride, int pad,
                  int count_include_pad);
/* relu, batchnorm, gavgpool, gmaxpool, zero, flatten, softmax. */
int mn_graph_unary(struct mn_graph *g, enum mn_op op, int in);
int mn_graph_addn(struct mn_graph *g, const int *in, int n, enum mn_act act);

/* Removes layers that do not contribute to g->output and renumbers the rest.
 * Returns the number removed. */
int mn_graph_prune(struct mn_graph *g);

/* Trainable parameters as PyTorch counts them: conv/dense weights and biases, and
 * two per channel for every batch norm (running statistics excluded). */
int64_t mn_layer_params(const struct mn_graph *g, int i);
int64_t mn_graph_params(const struct mn_graph *g);
/* Multiply-accumulates of one sample through layer i (convs and dense only; pools,
 * adds and activations are counted as elements by the cost model, not as MACs). */
int64_t mn_layer_macs(const struct mn_graph *g, int i);
int64_t mn_graph_macs(const struct mn_graph *g);
/* Elements of a shape: c·h·w. */
int64_t mn_shape_size(struct mn_shape s);

/* Names used in JSON and reports ("conv2d", "dwconv2d", "relu6", ...), and back;
 * the *_from_name functions return -1 for an unknown name. */
const char *mn_op_name(enum mn_op op);
int mn_op_from_name(const char *name);
const char *mn_act_name(enum mn_act act);
int mn_act_from_name(const char *name);

#endif
