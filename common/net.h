/* net.h — the CNN engine: builds an executable network from a layer graph (graph.h,
 * its only input; layer semantics are documented there) and runs it forward and
 * backward at initialisation, for the zero-cost proxies.
 *
 * Tensors are NCHW, batch first, contiguous: a layer's output for batch n is
 * [n][c][h][w]. Element type is float32, or float64 for a network created with
 * MN_F64 (synflow needs double precision; the kernels are one source compiled for
 * both types, so the float64 network is exactly the float32 one computed wider).
 * Functions without a suffix take and return float; the *_f64 ones double; calling
 * one of the other element type returns NULL / MN_EINVAL.
 *
 * Parameters live in one buffer and gradients in another, both owned by the network.
 * Parameter order is stable and is part of the interface (a PyTorch script loads our
 * exported parameters to produce test fixtures): layers in index order; per layer
 *   conv2d   weight [out][in][kh][kw], then bias [out] if bias, then BN gamma [out],
 *            BN beta [out] if bn
 *   dwconv2d weight [c][1][kh][kw], then bias, gamma, beta as above
 *   dense    weight [out][in], then bias, gamma, beta as above
 *   batchnorm gamma [c], beta [c]
 * which is exactly PyTorch's state_dict order for Conv2d(groups=c for dwconv)/Linear
 * followed by BatchNorm2d/1d (running statistics excluded).
 *
 * Gradients have `rows` rows of n_params each: row 0 holds batch-summed gradients;
 * with MN_BW_PER_SAMPLE (network created with per_sample_grads) row i holds sample
 * i's own contribution.
 *
 * Threading: a network is not shared between threads; different networks may run in
 * different threads at once. Every BLAS call must run single-threaded for scores to
 * be deterministic and for parallelism to stay across candidates: the first
 * mn_net_create calls openblas_set_num_threads(1) and stops OpenBLAS's idle helper
 * threads (process-wide), so no caller setup is needed; callers must not call
 * openblas_set_num_threads afterwards (it starts the helpers again).
 * A network built with opts.threads > 1 runs each layer of a forward or backward on
 * that many OpenMP threads: the samples split among them, or in
 * mn_net_backward_passes the passes; a BN's forward statistics are sums of per-sample
 * sums added in sample order; steps that reduce over the batch in backward (BN
 * statistics in training mode, batch-summed parameter gradients) and dense layers run
 * on one. Every element is computed by one thread exactly as without threads, so
 * results do not depend on the thread count.
 * Results are bit-identical for the same graph, seed, options and input on the same
 * machine and OpenBLAS build (OpenBLAS picks kernels per CPU type, so other CPUs may
 * differ in the last bits). */
#ifndef MN_NET_H
#define MN_NET_H
#include <stdint.h>
#include "error.h"
#include "graph.h"

enum mn_dtype { MN_F32, MN_F64 };

/* Parameter initialisation schemes, all driven by mn_rng (see mn_net_init_params). */
enum mn_init {
    /* PyTorch's default for Conv2d/Linear: weights Kaiming-uniform with a=√5, i.e.
     * U(−1/√fan_in, 1/√fan_in); biases U(−1/√fan_in, 1/√fan_in). */
    MN_INIT_TORCH,
    /* kaiming_normal_(nonlinearity='relu'): weights N(0, 2/fan), biases 0 (TE-NAS). */
    MN_INIT_KAIMING_FAN_IN,
    MN_INIT_KAIMING_FAN_OUT,
    MN_INIT_COUNT
};
/* In every scheme BN gamma = 1 and beta = 0. fan_in = in_channels/groups·kh·kw and
 * fan_out = out_channels·kh·kw as PyTorch computes them (dwconv: fan_in = kh·kw). */

/* How batch norm runs (mn_net_set_bn_mode; default MN_BN_TRAIN). */
enum mn_bn_mode {
    MN_BN_TRAIN,  /* batch statistics (biased variance, eps 1e-5), gradients flow
                     through them: PyTorch's training mode */
    MN_BN_FROZEN, /* forward identical to TRAIN, but backward treats the batch mean and
                     variance as constants, which makes samples independent (per-sample
                     gradients in one backward pass: the fast NTK mode) */
    MN_BN_OFF,    /* BN is the identity; gamma/beta unused (synflow) */
    MN_BN_COUNT
};

struct mn_net_opts {
    enum mn_dtype dtype;  /* MN_F32 (default) or MN_F64 */
    int per_sample_grads; /* nonzero: the gradient buffer has max_batch rows, so
                             backward can keep per-sample gradients (MN_BW_PER_SAMPLE) */
    int keep_cols;        /* nonzero: forward keeps every conv2d's im2col columns of
                             every sample, so no backward recomputes them; costs
                             Σ k·k·c_in·h_out·w_out · max_batch elements over the convs.
                             Worth it when one forward serves many backward passes. */
    int share_acts;       /* nonzero: outputs that no backward pass reads share memory
                             (net.c's memory plan), so mn_net_layer_output returns NULL
                             for them; still available: the input, the output, every
                             ReLU site, every input of a conv2d/dwconv2d/dense/BN/max
                             pool layer. Saves memory and first touches. */
    int max_passes;       /* the most passes mn_net_backward_passes runs at once (0 or
                             1: one); the gradient memory of the layers grows with it */
    int threads;          /* threads one forward/backward runs on (0 or 1: the calling
                             thread only); see Threading above */
};

/* Kinds of parameter tensors, for mn_net_param_views. */
enum mn_param_kind { MN_PARAM_WEIGHT, MN_PARAM_BIAS, MN_PARAM_BN_GAMMA, MN_PARAM_BN_BETA };

/* One parameter tensor: `count` elements at `offset` in the parameter buffer (and in
 * every gradient row), belonging to graph layer `layer`. */
struct mn_param_view {
    int layer;
    enum mn_param_kind kind;
    int64_t offset, count;
    int shape[4]; /* PyTorch's shape, unused trailing dims 0 ([out][in][kh][kw], [out]) */
};

/* A place where a ReLU/ReLU6 is applied: a standalone relu layer or the fused `act`
 * of a conv2d/dwconv2d/dense/batchnorm/add layer. Its sign pattern is the layer
 * output's (output > 0 ⇔ pre-activation > 0, for both relu and relu6). A relu layer
 * identical to an earlier one (same input and act) is computed once, but both stay
 * sites, as separate ReLU modules are in PyTorch. */
struct mn_relu_site {
    int layer;
    int64_t size; /* elements per sample */
};

/* A batch norm: standalone or fused after a conv2d/dwconv2d/dense. */
struct mn_bn_site {
    int layer;
    int channels;
};

struct mn_net;

/* Builds a network for batches of up to max_batch samples from graph g (which is
 * copied; the caller keeps g). Allocates every buffer once: parameters, gradients,
 * activations and the workspace; forward and backward allocate nothing. Parameters
 * start at zero: call mn_net_init_params. opts may be NULL (float32, one gradient row).
 * Returns NULL with err filled on a bad graph or batch size (MN_EINVAL), too large a
 * network (MN_ETOOBIG) or no memory (MN_ENOMEM). Free with mn_net_free. */
struct mn_net *mn_net_create(const struct mn_graph *g, int max_batch,
                             const struct mn_net_opts *opts, struct mn_error *err);
void mn_net_free(struct mn_net *net);

/* Fills all parameters with `scheme` from `seed`: layer i draws from
 * mn_rng_seed(seed, MN_NET_INIT_STREAM + i), weights first in storage order, then
 * biases. Values are drawn in double and rounded to float, also in a float64 network,
 * so both element types hold the same network. Returns 0 or MN_EINVAL. */
#define MN_NET_INIT_STREAM 0x696e6974000000ULL
int mn_net_init_params(struct mn_net *net, enum mn_init scheme, uint64_t seed);

/* Sets the BN mode for the following forward and backward passes. A backward pass
 * must use MN_BN_OFF exactly when its forward did (else MN_ESTATE); switching between
 * TRAIN and FROZEN after a forward is allowed. Returns 0 or MN_EINVAL. */
int mn_net_set_bn_mode(struct mn_net *net, enum mn_bn_mode mode);
enum mn_bn_mode mn_net_bn_mode(const struct mn_net *net);

/* Runs batch x [n][C][H][W] (the graph input's shape) forward, 1 ≤ n ≤ max_batch.
 * Returns the output [n][c][h][w] (mn_net_out_shape), owned by the network and valid
 * until the next forward or free, or NULL when n is out of range or the element type
 * is the other one. Activations are kept for backward and for the accessors below. */
const float *mn_net_forward(struct mn_net *net, const float *x, int n);
const double *mn_net_forward_f64(struct mn_net *net, const double *x, int n);

/* Backward flags. */
enum {
    MN_BW_NO_PARAMS = 1u << 0,  /* skip parameter gradients (e.g. only dx wanted) */
    MN_BW_PER_SAMPLE = 1u << 1, /* sample i's parameter gradients go to gradient row i
                                   (needs per_sample_grads); these are true per-sample
                                   gradients when samples are independent, i.e. in
                                   MN_BN_FROZEN or MN_BN_OFF mode or without BN */
};

/* Backpropagates dout [n][out] (n of the last forward) through the last forward pass.
 * ACCUMULATES parameter gradients into the gradient buffer (call mn_net_zero_grad
 * first for fresh ones) and, when dx is not NULL, OVERWRITES dx [n][C][H][W] with the
 * gradient with respect to the input. May be called repeatedly after one forward
 * (activations are not modified), e.g. once per sample for exact per-sample
 * gradients through training-mode BN. Returns 0, MN_ESTATE (no forward yet, or BN
 * OFF mismatch), or MN_EINVAL (element type, MN_BW_PER_SAMPLE without capacity). */
int mn_net_backward(struct mn_net *net, const float *dout, float *dx, unsigned flags);
int mn_net_backward_f64(struct mn_net *net, const double *dout, double *dx, unsigned flags);

/* Runs `passes` backward passes through the last forward at once, 1 ≤ passes ≤ the
 * network's max_passes: douts [passes][n][out] holds one output gradient per pass, and
 * pass p ACCUMULATES its parameter gradients (batch-summed) into gradient row row + p
 * (row + passes ≤ grad_rows). Each pass gives exactly what mn_net_backward(net, dout
 * of that pass, NULL, 0) gives in row 0, bit for bit; the activations the passes share
 * are read once per group while in cache (the exact NTK's per-sample passes through
 * training-mode BN). Returns 0, MN_ESTATE as mn_net_backward, or MN_EINVAL. */
int mn_net_backward_passes(struct mn_net *net, const float *douts, int passes, int row);
int mn_net_backward_passes_f64(struct mn_net *net, const double *douts, int passes, int row);

/* Sets every gradient row to zero. */
void mn_net_zero_grad(struct mn_net *net);

/* Sizes and buffers. The parameter buffer [n_params] and the gradient buffer
 * [grad_rows][n_params] are owned by the network; parameters may be written. */
enum mn_dtype mn_net_dtype(const struct mn_net *net);
int mn_net_max_batch(const struct mn_net *net);
int64_t mn_net_n_params(const struct mn_net *net);
int mn_net_grad_rows(const struct mn_net *net);
float *mn_net_params(struct mn_net *net);
double *mn_net_params_f64(struct mn_net *net);
float *mn_net_grads(struct mn_net *net);
double *mn_net_grads_f64(struct mn_net *net);
/* Every parameter tensor in buffer order; the array is owned by the network. */
int mn_net_param_views(const struct mn_net *net, const struct mn_param_view **views);

/* The graph the network was built from (the network's own copy). */
const struct mn_graph *mn_net_graph(const struct mn_net *net);
struct mn_shape mn_net_out_shape(const struct mn_net *net);
/* Output of graph layer `layer` [n][c][h][w] from the last forward (after its BN and
 * activation), owned by the network; NULL when out of range, the other type, not
 * executed (not feeding the output), or shared (share_acts, see mn_net_opts). */
const float *mn_net_layer_output(const struct mn_net *net, int layer);
const double *mn_net_layer_output_f64(const struct mn_net *net, int layer);

/* ReLU sites in layer order, and their sign patterns from the last forward. */
int mn_net_relu_sites(const struct mn_net *net, const struct mn_relu_site **sites);
/* Bits per sample of the concatenated sign pattern of every ReLU site (Σ sizes). */
int64_t mn_net_relu_bits(const struct mn_net *net);
/* Packs the sign pattern of every sample of the last forward into words
 * [n][words_per_sample]: bit b (word b/64, bit b%64) = site-major, element-minor
 * pattern position b is 1 when that ReLU's output > 0; unused bits are 0.
 * words_per_sample must be ≥ ceil(relu_bits/64). Returns n, or MN_ESTATE / MN_EINVAL. */
int mn_net_relu_pattern(const struct mn_net *net, uint64_t *words, int64_t words_per_sample);

/* Batch norms in layer order, and their statistics from the last forward in TRAIN or
 * FROZEN mode: copies the per-channel batch mean / biased batch variance (PyTorch's
 * running_var uses the unbiased one: multiply by m/(m−1), m = n·h·w) into mean and
 * var [channels] (either may be NULL). Returns 0, MN_EINVAL (bad site) or MN_ESTATE
 * (no forward with BN on yet). */
int mn_net_bn_sites(const struct mn_net *net, const struct mn_bn_site **sites);
int mn_net_bn_stats(const struct mn_net *net, int site, double *mean, double *var);

/* Bytes allocated by the network (parameters, gradients, activations, workspace). */
int64_t mn_net_memory_bytes(const struct mn_net *net);

#endif
