/* proxy_impl.h — internal: what a proxy implementation (proxy_*.c) sees. proxy.c owns
 * the table of proxies, the settings parsing and the per-candidate context; each
 * compute function computes one repeat of one proxy on the graph it is given, using
 * the helpers below for networks, inputs and targets so that seeding, initialisation
 * and tracing are the same everywhere. Not for callers outside proxy*.c. */
#ifndef MN_PROXY_IMPL_H
#define MN_PROXY_IMPL_H
#include "net.h"
#include "netmem.h"
#include "proxy.h"
#include "rng.h"

enum mn_proxy_init { PI_TORCH, PI_FAN_IN, PI_FAN_OUT, PI_GAUSSIAN, PI_COUNT };
enum mn_ntk_mode { NTK_EXACT, NTK_FAST, NTK_COUNT };
enum mn_dataset { DS_NONE = -1, DS_CIFAR10, DS_MNIST, DS_FASHION, DS_COUNT };

struct mn_proxy_settings {
    int batch_size, batches, repeats;
    enum mn_proxy_init init;
    enum mn_ntk_mode mode;
    double mixup_gamma;
    enum mn_dataset dataset;
    char *data_path, *labels_path; /* owned; NULL when absent */
    cJSON *network;                /* owned override object; NULL = "auto" */
};

/* One proxy evaluation (one repeat) on one candidate. */
struct mn_proxy_ctx {
    const char *name;
    const struct mn_proxy_settings *s;
    const struct mn_graph *g; /* the network (overrides applied): `graph` below */
    uint64_t seed;            /* job seed */
    uint64_t key_hash;        /* mn_hash_str of the canonical architecture key */
    int repeat;
    int threads;                        /* mn_proxies_set_threads, at least 1 */
    const struct mn_proxy_trace *trace; /* may be NULL */
    struct mn_error *err;
    /* The network of the previous repeat, reused when the next asks for the same
     * batch and options; owned by the driver (proxy.c), which frees it. */
    struct mn_net *net;
    int net_batch;
    struct mn_net_opts net_opts;
    /* Owned by the context (mn_proxy_ctx_open/close). */
    struct mn_space *own;   /* the proxy's own space (network override), or NULL */
    struct mn_graph *graph; /* the lowered network graph */
};

/* Opens the context of the i-th proxy of c (config order) for architecture a of the
 * job's space sp (settings base, mn_space_settings_json), the canonical key's hash and
 * the job seed: applies the proxy's network override and lowers a; no network yet.
 * The driver (mn_proxies_compute) opens one per proxy; benchmarks use it to time a
 * proxy's stages on exactly the driver's setup. Returns 0, or negative with err set
 * and nothing to close. Close with mn_proxy_ctx_close, which frees graph, own space
 * and ctx->net. */
int mn_proxy_ctx_open(struct mn_proxy_ctx *ctx, const struct mn_proxy_config *c, int i,
                      const struct mn_space *sp, const struct mn_arch *a, const cJSON *base,
                      uint64_t key_hash, uint64_t seed, const struct mn_proxy_trace *trace,
                      struct mn_error *err);
void mn_proxy_ctx_close(struct mn_proxy_ctx *ctx);

/* A network for batches of up to max_batch, initialised with the proxy's scheme from
 * the candidate's stream for this repeat (traced as "params"); owned by ctx (do not
 * free it). opts NULL means float32, one gradient row and share_acts: outputs that no
 * backward reads share memory, so mn_net_layer_output is NULL for them (ReLU sites,
 * the output and the inputs of conv/dense/BN layers are always there). NULL with
 * ctx->err set. */
struct mn_net *mn_proxy_net(struct mn_proxy_ctx *ctx, int max_batch,
                            const struct mn_net_opts *opts);
/* Fills x [n][C][H][W] of the graph input's shape with batch b of this repeat: seeded
 * Gaussian, or dataset images; labels [n] (may be NULL) gets class indices (dataset
 * labels when it has them, else seeded uniform over `classes`). `mix` selects a second
 * independent Gaussian draw (zen's x′, traced "input<b>_mix"). Returns 0 or negative
 * with ctx->err set. */
int mn_proxy_inputs(struct mn_proxy_ctx *ctx, int b, int mix, float *x, int n,
                    int *labels, int classes);
/* Reads n dataset images (proxy_data.c) into x, drawing image indices, crops and
 * channels from r; fills labels [n] when the dataset has labels and labels is not NULL.
 * Returns 1 with labels filled, 0 without, or negative with ctx->err set. */
int mn_proxy_dataset_batch(struct mn_proxy_ctx *ctx, struct mn_rng *r, float *x, int n,
                           int *labels);

/* Elements of one sample of the graph's input and output. */
int64_t mn_proxy_in_size(const struct mn_graph *g);
int64_t mn_proxy_out_size(const struct mn_graph *g);

/* Symmetric eigenvalues (ascending) of the n×n matrix a (row-major, destroyed), into
 * w[n]. Returns 0, or MN_ENUMERIC when LAPACK fails. */
int mn_proxy_eigvalsh(double *a, int n, double *w);

/* The ntk proxy in stages: setup (network built and initialised for the context's
 * repeat, inputs drawn, buffers allocated; the network stays owned by ctx) and compute
 * (forward, Jacobian, Gram matrix, eigenvalues: the region TE-NAS's procedure times),
 * which may run repeatedly on one setup. mn_proxy_ntk = setup + compute + release. */
struct mn_ntk_run {
    struct mn_net *net;
    int n;
    int64_t classes;
    enum mn_ntk_mode mode;
    int passes;           /* exact: backward passes per call (PASSES per thread) */
    struct mn_block mem;  /* the arrays below, in one block (netmem.h) */
    double *G, *w;        /* [n][n], [n] */
    double *cols, *part;  /* the Gram matrix's scratch (proxy_ntk.c) */
    float *x, *dout;      /* [n][input], [passes][n][classes] */
};
int mn_proxy_ntk_setup(struct mn_proxy_ctx *ctx, struct mn_ntk_run *run);
int mn_proxy_ntk_compute(struct mn_proxy_ctx *ctx, struct mn_ntk_run *run, double *value);
void mn_proxy_ntk_release(struct mn_ntk_run *run);

/* One compute function per proxy: one repeat into *value (non-finite = degenerate). */
typedef int (*mn_proxy_fn)(struct mn_proxy_ctx *ctx, double *value);
int mn_proxy_ntk(struct mn_proxy_ctx *ctx, double *value);
int mn_proxy_linear_regions(struct mn_proxy_ctx *ctx, double *value);
int mn_proxy_naswot(struct mn_proxy_ctx *ctx, double *value);
int mn_proxy_synflow(struct mn_proxy_ctx *ctx, double *value);
int mn_proxy_snip(struct mn_proxy_ctx *ctx, double *value);
int mn_proxy_grad_norm(struct mn_proxy_ctx *ctx, double *value);
int mn_proxy_jacob_cov(struct mn_proxy_ctx *ctx, double *value);
int mn_proxy_zen(struct mn_proxy_ctx *ctx, double *value);
int mn_proxy_params(struct mn_proxy_ctx *ctx, double *value);
int mn_proxy_flops(struct mn_proxy_ctx *ctx, double *value);

#endif
