/* proxy.h — zero-cost proxies: which ones a job computes and with what settings (the
 * "proxies" object of a job spec), and computing them for one architecture at
 * initialisation on the CNN engine (net.h). The proxies, each defined in its own
 * proxy_*.c file and registered in the one table of proxy.c:
 *
 *   ntk            condition number λmax/λmin of J·Jᵀ, J the per-sample gradients of
 *                  the summed logits w.r.t. conv/dense weights and BN gammas (TE-NAS);
 *                  lower is better
 *   linear_regions distinct ReLU sign patterns over the inputs (TE-NAS)
 *   synflow        Σ|θ ⊙ ∂R/∂θ| over conv/dense weights, |θ|, all-ones input, BN off,
 *                  float64 (Tanaka et al.; zero-cost-nas)
 *   snip           Σ|θ ⊙ ∂L/∂θ| over conv/dense weights, L cross-entropy (Lee et al.)
 *   grad_norm      Σ over conv/dense weight tensors of ‖∂L/∂W‖₂
 *   jacob_cov      −Σ[log(v+k)+1/(v+k)], v the eigenvalues of the correlation matrix of
 *                  the per-sample input gradients of the summed outputs, k = 1e-5
 *   naswot         log|K|, K_ij = Σ over ReLUs of units where samples i and j agree
 *                  (Mellor et al.)
 *   zen            log E_n Σ|f(x)−f(x+γx′)| + Σ_BN log √(mean batch variance), f the
 *                  pre-head feature map, Gaussian weights (Lin et al., Zen-NAS)
 *   params, flops  parameter count and multiply-accumulates of one sample (graph.h)
 * Every proxy but ntk is higher-is-better. All run in BN training mode.
 *
 * Job spec form: an object mapping proxy names to settings objects (or true for the
 * defaults), or an array of names. Settings (each proxy accepts the ones that apply;
 * mn_proxies_describe lists them with defaults):
 *   batch_size  samples per batch          batches  batches per repeat (linear_regions)
 *   repeats     fresh initialisations, the value is their mean
 *   init        "torch" | "kaiming_fan_in" | "kaiming_fan_out" | "gaussian" (N(0,1))
 *   dataset     absent: seeded Gaussian inputs; {"name": "cifar10" | "mnist" |
 *               "fashion_mnist", "path": FILE, "labels": FILE (IDX only)} reads real
 *               images (CIFAR-10 binary batch, or IDX ubyte images), normalised with the
 *               dataset's usual mean/std, randomly cropped and channel-subsampled to
 *               the network input as TE-NAS does
 *   network     "auto" | object: space settings merged over the job's for this proxy
 *               (TE-NAS: ntk on the C=3, N=1 NB201 net; linear_regions on the C=1 cell
 *               net with 1×3×3 inputs). "auto" applies the paper's override when the
 *               space is nb201 and none otherwise; {} means the job's own network
 *   mode        ntk: "exact" (per-sample backward through training-mode BN, TE-NAS)
 *               or "fast" (BN statistics held constant, one backward pass)
 *   mixup_gamma zen: the perturbation scale γ
 *
 * Determinism: a proxy's weights are drawn from a stream derived from (seed, the
 * canonical architecture key, the proxy's name, the repeat); its inputs from (seed,
 * the proxy's name, the repeat, the batch) — every candidate of a job sees the same
 * inputs, as with one fixed batch of real data. Values are bit-identical across runs
 * and threads (see net.h for the BLAS caveat across CPU types).
 *
 * Degenerate values: a proxy whose value is not finite (NaN/inf, e.g. a singular NTK
 * or a zero-variance Jacobian) reports its sentinel, the worst value of its
 * direction: +1e30 for ntk, −1e30 for the others, with `degenerate` set. */
#ifndef MN_PROXY_H
#define MN_PROXY_H
#include <cjson/cJSON.h>
#include <stdint.h>
#include "error.h"
#include "graph.h"
#include "space.h"

#define MN_PROXY_SENTINEL 1e30

struct mn_proxy_config; /* the proxies a job computes, with settings; opaque */

/* Validates a job's "proxies" value (object or array of names, see above) into a new
 * config. On error returns a negative code with err->field naming the setting
 * ("ntk.batch_size", "[2]") and *out untouched. Free with mn_proxies_free. */
int mn_proxies_parse(const cJSON *proxies, struct mn_proxy_config **out,
                     struct mn_error *err);
/* A config from text: JSON (object or array) or comma-separated names ("ntk,synflow")
 * for command lines; same errors. */
int mn_proxies_parse_text(const char *text, struct mn_proxy_config **out,
                          struct mn_error *err);
/* The config as a normalised object: every proxy with every setting, defaults filled
 * (caller owns); parsing it gives the same config. NULL when out of memory. */
cJSON *mn_proxies_to_json(const struct mn_proxy_config *c);
void mn_proxies_free(struct mn_proxy_config *c);
/* Threads one candidate's proxies may run on (default 1; below 1 means 1). How they
 * run, not what they compute: values are bit-identical for every count. The ntk proxy
 * splits its forward and backward passes across them (net.h, Threading); the others
 * run on the calling thread. Not part of the job spec (mn_proxies_to_json omits it). */
void mn_proxies_set_threads(struct mn_proxy_config *c, int threads);
/* A config with every proxy at its defaults, or NULL when out of memory. */
struct mn_proxy_config *mn_proxies_default(void);
/* Number of proxies in the config, and the name of the i-th (config order = table
 * order: ntk, linear_regions, synflow, snip, grad_norm, jacob_cov, naswot, zen, params,
 * flops). */
int mn_proxies_count(const struct mn_proxy_config *c);
const char *mn_proxies_name(const struct mn_proxy_config *c, int i);
/* Checks the config against a space: every proxy's network override must give valid
 * settings (errors name "ntk.network.C"). Returns 0 or a negative code. */
int mn_proxies_check_space(const struct mn_proxy_config *c, const char *space,
                           const cJSON *space_settings, struct mn_error *err);
/* Every proxy (name, summary, reference, better: "higher"/"lower", sentinel,
 * settings with defaults) for GET /v1/proxies; caller owns. */
cJSON *mn_proxies_describe(void);

/* Optional observer of what the proxies compute on, for producing test fixtures (the
 * PyTorch generator replays the same networks, parameters and inputs). `graph` is
 * called once per proxy and repeat with the network's graph; `tensor` with float
 * data tagged "params" (parameter buffer, net.h order), "input<b>", "input<b>_mix"
 * (zen's perturbation x′) and "targets<b>" (class indices as floats). */
struct mn_proxy_trace {
    void *ud;
    void (*graph)(void *ud, const char *proxy, int repeat, const struct mn_graph *g);
    void (*tensor)(void *ud, const char *proxy, int repeat, const char *tag,
                   const float *data, int64_t count);
};

struct mn_proxy_value {
    double value;   /* the mean over repeats; the sentinel when degenerate */
    int degenerate; /* some repeat gave a non-finite value */
    double seconds; /* wall time of this proxy */
};

/* Computes every proxy of c for architecture a of space sp (the job's space; network
 * overrides derive from its settings) with job seed `seed`, into out[count]. trace may
 * be NULL. Returns 0, or a negative code with err naming the proxy ("ntk.dataset:
 * cannot open ..."): a degenerate value is not an error. */
int mn_proxies_compute(const struct mn_proxy_config *c, const struct mn_space *sp,
                       const struct mn_arch *a, uint64_t seed,
                       const struct mn_proxy_trace *trace, struct mn_proxy_value *out,
                       struct mn_error *err);

/* Monotonic wall-clock seconds (for the timings above and in scoring.h). */
double mn_proxy_now(void);

#endif
