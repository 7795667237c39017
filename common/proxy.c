/* proxy.c — the one table of zero-cost proxies (name, defaults, which settings apply,
 * compute function), the job-spec settings parser and its normalised form, the
 * per-candidate driver (network overrides, repeats, sentinels, timing) and the helpers
 * every proxy uses for networks and inputs (see proxy.h, proxy_impl.h). The proxies
 * themselves live in proxy_ntk.c, proxy_relu.c, proxy_grad.c and proxy_zen.c; input
 * files are read by proxy_data.c. */
#include "proxy.h"
#include <lapacke.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "json.h"
#include "netmem.h"
#include "proxy_impl.h"
#include "rng.h"

/* Settings a proxy may accept (bit per key). */
enum {
    S_BATCH = 1u << 0,
    S_BATCHES = 1u << 1,
    S_REPEATS = 1u << 2,
    S_INIT = 1u << 3,
    S_DATASET = 1u << 4,
    S_NETWORK = 1u << 5,
    S_MODE = 1u << 6,
    S_GAMMA = 1u << 7,
};
#define S_DATA_PROXY (S_BATCH | S_REPEATS | S_INIT | S_DATASET | S_NETWORK)

struct proxy_type {
    const char *name, *summary, *reference;
    int lower_better;
    unsigned settings;
    struct mn_proxy_settings defaults;
    const char *auto_nb201; /* network override for "auto" on nb201, or NULL */
    mn_proxy_fn compute;
};

#define DEF(b, nb, r, i) {.batch_size = (b), .batches = (nb), .repeats = (r), .init = (i), \
                          .mode = NTK_FAST, .mixup_gamma = 1e-2, .dataset = DS_NONE}

static const struct proxy_type types[] = {
    {"ntk", "condition number of the neural tangent kernel J·Jᵀ (lower is better)",
     "Chen et al., TE-NAS, ICLR 2021", 1, S_DATA_PROXY | S_MODE, DEF(72, 1, 3, PI_FAN_OUT),
     "{\"C\":3,\"N\":1}", mn_proxy_ntk},
    {"linear_regions", "distinct ReLU activation patterns over the inputs",
     "Chen et al., TE-NAS, ICLR 2021", 0, S_DATA_PROXY | S_BATCHES,
     DEF(1000, 3, 3, PI_FAN_IN),
     "{\"C\":1,\"N\":1,\"macro\":\"cell\",\"input\":{\"c\":1,\"h\":3,\"w\":3}}",
     mn_proxy_linear_regions},
    {"synflow", "sum of |theta * dR/dtheta|, all-ones input, BN off, float64",
     "Tanaka et al., NeurIPS 2020; Abdelfattah et al., ICLR 2021", 0, S_INIT | S_NETWORK,
     DEF(1, 1, 1, PI_TORCH), NULL, mn_proxy_synflow},
    {"snip", "sum of |theta * dL/dtheta| (cross-entropy)",
     "Lee et al., ICLR 2019; Abdelfattah et al., ICLR 2021", 0, S_DATA_PROXY,
     DEF(64, 1, 1, PI_TORCH), NULL, mn_proxy_snip},
    {"grad_norm", "sum over weight tensors of the L2 norm of dL/dW",
     "Abdelfattah et al., ICLR 2021", 0, S_DATA_PROXY, DEF(64, 1, 1, PI_TORCH), NULL,
     mn_proxy_grad_norm},
    {"jacob_cov", "-sum[log(v+k)+1/(v+k)] over eigenvalues of the input-Jacobian "
     "correlation matrix", "Mellor et al., 2020 (v1); Abdelfattah et al., ICLR 2021", 0,
     S_DATA_PROXY, DEF(64, 1, 1, PI_TORCH), NULL, mn_proxy_jacob_cov},
    {"naswot", "log-determinant of the ReLU code agreement kernel",
     "Mellor et al., ICML 2021", 0, S_DATA_PROXY, DEF(64, 1, 1, PI_TORCH), NULL,
     mn_proxy_naswot},
    {"zen", "log of the feature change under input perturbation plus BN scaling",
     "Lin et al., Zen-NAS, ICCV 2021", 0, S_BATCH | S_REPEATS | S_INIT | S_NETWORK | S_GAMMA,
     DEF(64, 1, 1, PI_GAUSSIAN), NULL, mn_proxy_zen},
    {"params", "trainable parameters", "PyTorch's count", 0, S_NETWORK,
     DEF(1, 1, 1, PI_TORCH), NULL, mn_proxy_params},
    {"flops", "multiply-accumulates of one sample", "graph.h count", 0, S_NETWORK,
     DEF(1, 1, 1, PI_TORCH), NULL, mn_proxy_flops},
};
#undef DEF
#define N_TYPES ((int)(sizeof types / sizeof types[0]))

static const char *const init_names[PI_COUNT] = {"torch", "kaiming_fan_in",
                                                 "kaiming_fan_out", "gaussian"};
static const char *const mode_names[NTK_COUNT] = {"exact", "fast"};
static const char *const dataset_names[DS_COUNT] = {"cifar10", "mnist", "fashion_mnist"};

struct mn_proxy_config {
    int n;
    int type[N_TYPES];                         /* indices into types, table order */
    struct mn_proxy_settings s[N_TYPES];
    int threads;                               /* mn_proxies_set_threads; 0 means 1 */
};

/* ---- settings ---- */

static void settings_release(struct mn_proxy_settings *s)
{
    free(s->data_path);
    free(s->labels_path);
    cJSON_Delete(s->network);
    s->data_path = s->labels_path = NULL;
    s->network = NULL;
}

static char *dup_str(const char *s)
{
    return s ? strdup(s) : NULL;
}

static int parse_dataset(const cJSON *j, struct mn_proxy_settings *s, struct mn_error *err)
{
    static const char *const keys[] = {"name", "path", "labels", NULL};
    const char *path = NULL, *labels = NULL;
    int ds = -1;
    int rc = mn_json_expect_object(j, "dataset", err);
    if (!rc)
        rc = mn_json_check_keys(j, keys, err);
    if (!rc)
        rc = mn_json_require(j, "name", err);
    if (!rc)
        rc = mn_json_get_enum(j, "name", dataset_names, DS_COUNT, &ds, err);
    if (!rc)
        rc = mn_json_require(j, "path", err);
    if (!rc)
        rc = mn_json_get_str(j, "path", 4096, &path, err);
    if (!rc)
        rc = mn_json_get_str(j, "labels", 4096, &labels, err);
    if (!rc && labels && ds == DS_CIFAR10)
        rc = mn_error_set(err, MN_EINVAL, "labels", "CIFAR-10 files carry their labels; "
                          "'labels' is for IDX datasets");
    if (rc) {
        mn_error_prefix_field(err, "dataset");
        return rc;
    }
    s->dataset = (enum mn_dataset)ds;
    s->data_path = dup_str(path);
    s->labels_path = dup_str(labels);
    if (!s->data_path || (labels && !s->labels_path))
        return mn_error_set(err, MN_ENOMEM, NULL, "out of memory");
    return MN_OK;
}

static int parse_network(const cJSON *j, struct mn_proxy_settings *s, struct mn_error *err)
{
    if (cJSON_IsString(j) && strcmp(j->valuestring, "auto") == 0)
        return MN_OK;
    if (!cJSON_IsObject(j))
        return mn_error_set(err, MN_EINVAL, "network", "'network' must be \"auto\" or an "
                            "object of space settings");
    if (!(s->network = cJSON_Duplicate(j, 1)))
        return mn_error_set(err, MN_ENOMEM, NULL, "out of memory");
    return MN_OK;
}

/* Parses the settings object (or true) of proxy type t into *s (defaults first). */
static int parse_settings(int t, const cJSON *j, struct mn_proxy_settings *s,
                          struct mn_error *err)
{
    static const struct {
        const char *key;
        unsigned bit;
    } keys[] = {{"batch_size", S_BATCH}, {"batches", S_BATCHES}, {"repeats", S_REPEATS},
                {"init", S_INIT}, {"dataset", S_DATASET}, {"network", S_NETWORK},
                {"mode", S_MODE}, {"mixup_gamma", S_GAMMA}};
    const struct proxy_type *pt = &types[t];
    *s = pt->defaults;
    if (cJSON_IsTrue(j))
        return MN_OK;
    if (!cJSON_IsObject(j))
        return mn_error_set(err, MN_EINVAL, NULL, "settings of '%s' must be an object or "
                            "true", pt->name);
    const char *allowed[sizeof keys / sizeof keys[0] + 1];
    int na = 0;
    for (size_t k = 0; k < sizeof keys / sizeof keys[0]; k++)
        if (pt->settings & keys[k].bit)
            allowed[na++] = keys[k].key;
    allowed[na] = NULL;
    int init = (int)s->init, mode = (int)s->mode;
    int rc = mn_json_check_keys(j, allowed, err);
    if (!rc)
        rc = mn_json_get_i32(j, "batch_size", 1, 4096, &s->batch_size, err);
    if (!rc)
        rc = mn_json_get_i32(j, "batches", 1, 64, &s->batches, err);
    if (!rc)
        rc = mn_json_get_i32(j, "repeats", 1, 64, &s->repeats, err);
    if (!rc)
        rc = mn_json_get_enum(j, "init", init_names, PI_COUNT, &init, err);
    if (!rc)
        rc = mn_json_get_enum(j, "mode", mode_names, NTK_COUNT, &mode, err);
    if (!rc)
        rc = mn_json_get_num(j, "mixup_gamma", 1e-8, 1.0, &s->mixup_gamma, err);
    const cJSON *ds = cJSON_GetObjectItemCaseSensitive(j, "dataset");
    if (!rc && ds && !cJSON_IsNull(ds))
        rc = parse_dataset(ds, s, err);
    const cJSON *net = cJSON_GetObjectItemCaseSensitive(j, "network");
    if (!rc && net)
        rc = parse_network(net, s, err);
    s->init = (enum mn_proxy_init)init;
    s->mode = (enum mn_ntk_mode)mode;
    if (rc)
        settings_release(s);
    return rc;
}

static int type_index(const char *name)
{
    for (int t = 0; name && t < N_TYPES; t++)
        if (strcmp(types[t].name, name) == 0)
            return t;
    return -1;
}

static int unknown(const char *name, const char *field, struct mn_error *err)
{
    char known[256];
    size_t n = 0;
    known[0] = '\0';
    for (int t = 0; t < N_TYPES; t++)
        n += (size_t)snprintf(known + n, sizeof known - n, "%s%s", t ? ", " : "",
                              types[t].name);
    return mn_error_set(err, MN_EINVAL, field, "unknown proxy '%s' (known: %s)", name, known);
}

void mn_proxies_free(struct mn_proxy_config *c)
{
    if (!c)
        return;
    for (int t = 0; t < N_TYPES; t++)
        settings_release(&c->s[t]);
    free(c);
}

/* Adds proxy t with settings j (true = defaults) to c; `field` names it in errors. */
static int add_proxy(struct mn_proxy_config *c, int t, const cJSON *j, const char *field,
                     struct mn_error *err)
{
    for (int i = 0; i < c->n; i++)
        if (c->type[i] == t)
            return mn_error_set(err, MN_EINVAL, field, "proxy '%s' listed twice",
                                types[t].name);
    struct mn_proxy_settings s;
    int rc = parse_settings(t, j, &s, err);
    if (rc) {
        mn_error_prefix_field(err, field);
        return rc;
    }
    c->s[t] = s;
    c->type[c->n++] = t;
    return MN_OK;
}

static int cmp_int(const void *a, const void *b)
{
    return *(const int *)a - *(const int *)b;
}

int mn_proxies_parse(const cJSON *proxies, struct mn_proxy_config **out,
                     struct mn_error *err)
{
    struct mn_proxy_config *c = calloc(1, sizeof *c);
    int rc = MN_OK;
    if (!c)
        return mn_error_set(err, MN_ENOMEM, NULL, "out of memory");
    if (cJSON_IsArray(proxies)) {
        const cJSON yes = {.type = cJSON_True};
        int i = 0;
        for (const cJSON *e = proxies->child; e && !rc; e = e->next, i++) {
            char field[16];
            snprintf(field, sizeof field, "[%d]", i);
            int t = cJSON_IsString(e) ? type_index(e->valuestring) : -1;
            if (!cJSON_IsString(e))
                rc = mn_error_set(err, MN_EINVAL, field, "proxy names must be strings");
            else if (t < 0)
                rc = unknown(e->valuestring, field, err);
            else
                rc = add_proxy(c, t, &yes, field, err);
        }
    } else if (cJSON_IsObject(proxies)) {
        for (const cJSON *e = proxies->child; e && !rc; e = e->next) {
            int t = type_index(e->string);
            rc = t < 0 ? unknown(e->string, e->string, err) : add_proxy(c, t, e, e->string, err);
        }
    } else {
        rc = mn_error_set(err, MN_EINVAL, NULL, "proxies must be an object of proxy "
                          "settings or an array of proxy names");
    }
    if (!rc && c->n == 0)
        rc = mn_error_set(err, MN_EINVAL, NULL, "no proxy given");
    if (rc) {
        mn_proxies_free(c);
        return rc;
    }
    qsort(c->type, (size_t)c->n, sizeof c->type[0], cmp_int);
    *out = c;
    return MN_OK;
}

int mn_proxies_parse_text(const char *text, struct mn_proxy_config **out,
                          struct mn_error *err)
{
    const char *p = text ? text + strspn(text, " \t\r\n") : "";
    cJSON *j = NULL;
    if (*p == '{' || *p == '[') {
        if (!(j = cJSON_Parse(p)))
            return mn_error_set(err, MN_EPARSE, NULL, "proxies: malformed JSON");
    } else {
        char *copy = strdup(p);
        j = cJSON_CreateArray();
        int ok = copy && j;
        for (char *tok = ok ? strtok(copy, ", \t\r\n") : NULL; tok && ok;
             tok = strtok(NULL, ", \t\r\n"))
            ok = cJSON_AddItemToArray(j, cJSON_CreateString(tok));
        free(copy);
        if (!ok) {
            cJSON_Delete(j);
            return mn_error_set(err, MN_ENOMEM, NULL, "out of memory");
        }
    }
    int rc = mn_proxies_parse(j, out, err);
    cJSON_Delete(j);
    return rc;
}

struct mn_proxy_config *mn_proxies_default(void)
{
    struct mn_proxy_config *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    for (int t = 0; t < N_TYPES; t++) {
        c->type[c->n++] = t;
        c->s[t] = types[t].defaults;
    }
    return c;
}

int mn_proxies_count(const struct mn_proxy_config *c)
{
    return c ? c->n : 0;
}

const char *mn_proxies_name(const struct mn_proxy_config *c, int i)
{
    return c && i >= 0 && i < c->n ? types[c->type[i]].name : NULL;
}

static cJSON *settings_json(int t, const struct mn_proxy_settings *s)
{
    unsigned m = types[t].settings;
    cJSON *o = cJSON_CreateObject();
    int ok = o != NULL;
    if (ok && (m & S_BATCH))
        ok = cJSON_AddNumberToObject(o, "batch_size", s->batch_size) != NULL;
    if (ok && (m & S_BATCHES))
        ok = cJSON_AddNumberToObject(o, "batches", s->batches) != NULL;
    if (ok && (m & S_REPEATS))
        ok = cJSON_AddNumberToObject(o, "repeats", s->repeats) != NULL;
    if (ok && (m & S_INIT))
        ok = cJSON_AddStringToObject(o, "init", init_names[s->init]) != NULL;
    if (ok && (m & S_MODE))
        ok = cJSON_AddStringToObject(o, "mode", mode_names[s->mode]) != NULL;
    if (ok && (m & S_GAMMA))
        ok = mn_json_add_num(o, "mixup_gamma", s->mixup_gamma) != NULL;
    if (ok && (m & S_DATASET)) {
        cJSON *d = s->dataset == DS_NONE ? cJSON_CreateNull() : cJSON_CreateObject();
        if (d && s->dataset != DS_NONE &&
            (!cJSON_AddStringToObject(d, "name", dataset_names[s->dataset]) ||
             !cJSON_AddStringToObject(d, "path", s->data_path) ||
             (s->labels_path && !cJSON_AddStringToObject(d, "labels", s->labels_path)))) {
            cJSON_Delete(d);
            d = NULL;
        }
        ok = d && cJSON_AddItemToObject(o, "dataset", d);
        if (!ok)
            cJSON_Delete(d);
    }
    if (ok && (m & S_NETWORK)) {
        cJSON *n = s->network ? cJSON_Duplicate(s->network, 1) : cJSON_CreateString("auto");
        ok = n && cJSON_AddItemToObject(o, "network", n);
        if (!ok)
            cJSON_Delete(n);
    }
    if (!ok) {
        cJSON_Delete(o);
        return NULL;
    }
    return o;
}

cJSON *mn_proxies_to_json(const struct mn_proxy_config *c)
{
    cJSON *o = cJSON_CreateObject();
    for (int i = 0; o && i < c->n; i++) {
        int t = c->type[i];
        cJSON *s = settings_json(t, &c->s[t]);
        if (!s || !cJSON_AddItemToObject(o, types[t].name, s)) {
            cJSON_Delete(s);
            cJSON_Delete(o);
            return NULL;
        }
    }
    return o;
}

cJSON *mn_proxies_describe(void)
{
    cJSON *arr = cJSON_CreateArray();
    for (int t = 0; arr && t < N_TYPES; t++) {
        const struct proxy_type *pt = &types[t];
        cJSON *o = cJSON_CreateObject(), *s = settings_json(t, &pt->defaults);
        cJSON *au = pt->auto_nb201 ? cJSON_Parse(pt->auto_nb201) : NULL;
        int ok = o && s && cJSON_AddStringToObject(o, "name", pt->name) &&
                 cJSON_AddStringToObject(o, "summary", pt->summary) &&
                 cJSON_AddStringToObject(o, "reference", pt->reference) &&
                 cJSON_AddStringToObject(o, "better", pt->lower_better ? "lower" : "higher") &&
                 cJSON_AddNumberToObject(o, "sentinel", pt->lower_better ? MN_PROXY_SENTINEL
                                                                         : -MN_PROXY_SENTINEL);
        if (ok) {
            ok = cJSON_AddItemToObject(o, "settings", s);
            s = ok ? NULL : s;
        }
        if (ok && au) {
            cJSON *a = cJSON_CreateObject();
            ok = a && cJSON_AddItemToObject(a, "nb201", au);
            au = ok ? NULL : au;
            ok = ok && cJSON_AddItemToObject(o, "auto_network", a);
            if (!ok)
                cJSON_Delete(a);
        }
        cJSON_Delete(au);
        cJSON_Delete(s);
        if (!ok || !cJSON_AddItemToArray(arr, o)) {
            cJSON_Delete(o);
            cJSON_Delete(arr);
            return NULL;
        }
    }
    return arr;
}

/* ---- network overrides ---- */

/* The override proxy t applies in space `space`: a new object, or NULL in *out for
 * none. Returns 0 or MN_ENOMEM. */
static int override_for(int t, const struct mn_proxy_settings *s, const char *space,
                        cJSON **out)
{
    *out = NULL;
    if (s->network) {
        if (!cJSON_GetArraySize(s->network))
            return MN_OK; /* {}: the job's own network */
        *out = cJSON_Duplicate(s->network, 1);
    } else if (types[t].auto_nb201 && strcmp(space, "nb201") == 0) {
        *out = cJSON_Parse(types[t].auto_nb201);
    } else {
        return MN_OK;
    }
    return *out ? MN_OK : MN_ENOMEM;
}

/* The space for proxy t: *own = NULL when it is sp itself, else a new space from sp's
 * settings (base) with the override's keys replaced. */
static int proxy_space(int t, const struct mn_proxy_settings *s, const char *space,
                       const cJSON *base, struct mn_space **own, struct mn_error *err)
{
    cJSON *ov = NULL;
    *own = NULL;
    if (override_for(t, s, space, &ov))
        return mn_error_set(err, MN_ENOMEM, NULL, "out of memory");
    if (!ov)
        return MN_OK;
    cJSON *merged = base && cJSON_IsObject(base) ? cJSON_Duplicate(base, 1) : cJSON_CreateObject();
    int ok = merged != NULL;
    while (ok && ov->child) {
        cJSON *it = cJSON_DetachItemViaPointer(ov, ov->child);
        cJSON_DeleteItemFromObjectCaseSensitive(merged, it->string);
        ok = cJSON_AddItemToObject(merged, it->string, it);
        if (!ok)
            cJSON_Delete(it);
    }
    cJSON_Delete(ov);
    if (!ok) {
        cJSON_Delete(merged);
        return mn_error_set(err, MN_ENOMEM, NULL, "out of memory");
    }
    *own = mn_space_create(space, merged, err);
    cJSON_Delete(merged);
    if (!*own) {
        mn_error_prefix_field(err, "network");
        mn_error_prefix_field(err, types[t].name);
        return err ? err->code : MN_EINVAL;
    }
    return MN_OK;
}

int mn_proxies_check_space(const struct mn_proxy_config *c, const char *space,
                           const cJSON *space_settings, struct mn_error *err)
{
    for (int i = 0; i < c->n; i++) {
        struct mn_space *own = NULL;
        int t = c->type[i];
        int rc = proxy_space(t, &c->s[t], space, space_settings, &own, err);
        mn_space_free(own);
        if (rc)
            return rc;
    }
    return MN_OK;
}

/* ---- helpers for the proxies ---- */

/* A seed derived from (seed, a, b) through the rng's stream mixing. */
static uint64_t derive(uint64_t seed, uint64_t a, uint64_t b)
{
    struct mn_rng r;
    mn_rng_seed(&r, seed, a ^ (b * 0x9e3779b97f4a7c15ULL));
    return mn_rng_u64(&r);
}

int64_t mn_proxy_in_size(const struct mn_graph *g)
{
    return mn_shape_size(g->layers[0].out);
}

int64_t mn_proxy_out_size(const struct mn_graph *g)
{
    return mn_shape_size(g->layers[g->output].out);
}

static void trace_tensor(struct mn_proxy_ctx *ctx, const char *tag, const float *d, int64_t n)
{
    if (ctx->trace && ctx->trace->tensor)
        ctx->trace->tensor(ctx->trace->ud, ctx->name, ctx->repeat, tag, d, n);
}

/* Weights N(0, 1), biases 0, BN gamma 1 and beta 0 (Zen-NAS's Gaussian init). */
static void init_gaussian(struct mn_net *net, uint64_t seed)
{
    const struct mn_param_view *v;
    int nv = mn_net_param_views(net, &v);
    struct mn_rng r;
    mn_rng_seed(&r, seed, MN_NET_INIT_STREAM);
    float *pf = mn_net_params(net);
    double *pd = mn_net_params_f64(net);
    for (int i = 0; i < nv; i++)
        for (int64_t k = 0; k < v[i].count; k++) {
            float x = v[i].kind == MN_PARAM_WEIGHT ? (float)mn_rng_normal(&r)
                      : v[i].kind == MN_PARAM_BN_GAMMA ? 1.0f : 0.0f;
            if (pf)
                pf[v[i].offset + k] = x;
            else
                pd[v[i].offset + k] = x;
        }
}

struct mn_net *mn_proxy_net(struct mn_proxy_ctx *ctx, int max_batch,
                            const struct mn_net_opts *opts)
{
    static const enum mn_init schemes[PI_COUNT] = {
        [PI_TORCH] = MN_INIT_TORCH, [PI_FAN_IN] = MN_INIT_KAIMING_FAN_IN,
        [PI_FAN_OUT] = MN_INIT_KAIMING_FAN_OUT, [PI_GAUSSIAN] = MN_INIT_TORCH};
    struct mn_net_opts o = opts ? *opts : (struct mn_net_opts){MN_F32, 0, 0, 1, 0, 0};
    if (!ctx->net || ctx->net_batch != max_batch || ctx->net_opts.dtype != o.dtype ||
        ctx->net_opts.per_sample_grads != o.per_sample_grads ||
        ctx->net_opts.keep_cols != o.keep_cols || ctx->net_opts.share_acts != o.share_acts ||
        ctx->net_opts.max_passes != o.max_passes || ctx->net_opts.threads != o.threads) {
        mn_net_free(ctx->net);
        ctx->net = mn_net_create(ctx->g, max_batch, &o, ctx->err);
        ctx->net_batch = max_batch;
        ctx->net_opts = o;
    }
    struct mn_net *net = ctx->net;
    if (!net)
        return NULL;
    mn_net_set_bn_mode(net, MN_BN_TRAIN);
    uint64_t seed = derive(ctx->seed, ctx->key_hash ^ mn_hash_str(ctx->name),
                           (uint64_t)ctx->repeat + 1);
    if (ctx->s->init == PI_GAUSSIAN)
        init_gaussian(net, seed);
    else
        mn_net_init_params(net, schemes[ctx->s->init], seed);
    if (ctx->trace && ctx->trace->tensor) {
        int64_t n = mn_net_n_params(net);
        float *tmp = mn_net_dtype(net) == MN_F64 ? malloc((size_t)(n ? n : 1) * sizeof *tmp) : NULL;
        if (tmp) {
            const double *pd = mn_net_params_f64(net);
            for (int64_t i = 0; i < n; i++)
                tmp[i] = (float)pd[i];
        }
        const float *p = mn_net_dtype(net) == MN_F64 ? tmp : mn_net_params(net);
        if (p)
            trace_tensor(ctx, "params", p, n);
        free(tmp);
    }
    return net;
}

int mn_proxy_inputs(struct mn_proxy_ctx *ctx, int b, int mix, float *x, int n, int *labels,
                    int classes)
{
    struct mn_rng r;
    int64_t size = mn_proxy_in_size(ctx->g);
    uint64_t stream = mn_hash_str(ctx->name) ^
                      ((((uint64_t)ctx->repeat << 20 | (uint64_t)b) << 1 | (uint64_t)mix) *
                       0x9e3779b97f4a7c15ULL) ^ 0x696e707574ULL;
    mn_rng_seed(&r, ctx->seed, stream);
    int have_labels = 0;
    if (ctx->s->dataset != DS_NONE && !mix) {
        int rc = mn_proxy_dataset_batch(ctx, &r, x, n, labels);
        if (rc < 0)
            return rc;
        have_labels = rc > 0;
    } else {
        /* Gaussian inputs depend on the job seed, the stream and the count, not on the
         * architecture: a thread draws them once and keeps them, with the generator's
         * state after them (labels are drawn next), for its next candidates */
        const struct {
            uint64_t seed, stream;
            int64_t count;
        } key = {ctx->seed, stream, n * size};
        size_t bytes = (size_t)key.count * sizeof *x;
        const unsigned char *kept = mn_netmem_find(&key, sizeof key, bytes + sizeof r);
        if (kept) {
            memcpy(x, kept, bytes);
            memcpy(&r, kept + bytes, sizeof r);
        } else {
            mn_rng_normals(&r, x, key.count, ctx->threads);
            unsigned char *keep = mn_netmem_keep(&key, sizeof key, bytes + sizeof r);
            if (keep) {
                memcpy(keep, x, bytes);
                memcpy(keep + bytes, &r, sizeof r);
            }
        }
    }
    char tag[32];
    snprintf(tag, sizeof tag, "input%d%s", b, mix ? "_mix" : "");
    trace_tensor(ctx, tag, x, n * size);
    if (labels) {
        float *lf = malloc((size_t)n * sizeof *lf);
        for (int i = 0; i < n; i++) {
            if (!have_labels || labels[i] >= classes)
                labels[i] = (int)mn_rng_below(&r, (uint64_t)classes);
            if (lf)
                lf[i] = (float)labels[i];
        }
        snprintf(tag, sizeof tag, "targets%d", b);
        if (lf)
            trace_tensor(ctx, tag, lf, n);
        free(lf);
    }
    return MN_OK;
}

int mn_proxy_eigvalsh(double *a, int n, double *w)
{
    lapack_int info = LAPACKE_dsyevd(LAPACK_ROW_MAJOR, 'N', 'U', n, a, n, w);
    return info == 0 ? MN_OK : MN_ENUMERIC;
}

int mn_proxy_params(struct mn_proxy_ctx *ctx, double *value)
{
    *value = (double)mn_graph_params(ctx->g);
    return MN_OK;
}

int mn_proxy_flops(struct mn_proxy_ctx *ctx, double *value)
{
    *value = (double)mn_graph_macs(ctx->g);
    return MN_OK;
}

/* ---- the driver ---- */

double mn_proxy_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

void mn_proxies_set_threads(struct mn_proxy_config *c, int threads)
{
    c->threads = threads > 1 ? threads : 1;
}

int mn_proxy_ctx_open(struct mn_proxy_ctx *ctx, const struct mn_proxy_config *c, int i,
                      const struct mn_space *sp, const struct mn_arch *a, const cJSON *base,
                      uint64_t key_hash, uint64_t seed, const struct mn_proxy_trace *trace,
                      struct mn_error *err)
{
    int t = c->type[i], rc;
    *ctx = (struct mn_proxy_ctx){.name = types[t].name, .s = &c->s[t], .seed = seed,
                                 .key_hash = key_hash, .trace = trace, .err = err,
                                 .threads = c->threads > 1 ? c->threads : 1};
    rc = proxy_space(t, &c->s[t], mn_space_name(sp), base, &ctx->own, err);
    if (!rc && (rc = mn_space_lower(ctx->own ? ctx->own : sp, a, &ctx->graph, err)))
        mn_error_prefix_field(err, types[t].name);
    ctx->g = ctx->graph;
    if (rc)
        mn_proxy_ctx_close(ctx);
    return rc;
}

void mn_proxy_ctx_close(struct mn_proxy_ctx *ctx)
{
    mn_net_free(ctx->net);
    mn_graph_free(ctx->graph);
    mn_space_free(ctx->own);
    ctx->net = NULL;
    ctx->graph = NULL;
    ctx->g = NULL;
    ctx->own = NULL;
}

int mn_proxies_compute(const struct mn_proxy_config *c, const struct mn_space *sp,
                       const struct mn_arch *a, uint64_t seed,
                       const struct mn_proxy_trace *trace, struct mn_proxy_value *out,
                       struct mn_error *err)
{
    char *key = mn_space_arch_key(sp, a);
    cJSON *base = mn_space_settings_json(sp);
    int rc = key && base ? MN_OK : mn_error_set(err, MN_ENOMEM, NULL, "out of memory");
    uint64_t key_hash = key ? mn_hash_str(key) : 0;
    /* The network of the last proxy that ran on the job's own graph: the next such
     * proxy reuses it when batch and options agree (mn_proxy_net re-initialises it),
     * which saves building and first touching a large network per proxy. Proxies
     * differ in seeds, inputs and losses, so passes themselves are not shared. */
    struct mn_proxy_ctx own_net = {0};
    for (int i = 0; !rc && i < c->n; i++) {
        int t = c->type[i];
        double t0 = mn_proxy_now(), sum = 0;
        int degenerate = 0;
        struct mn_proxy_ctx ctx;
        rc = mn_proxy_ctx_open(&ctx, c, i, sp, a, base, key_hash, seed, trace, err);
        if (!rc && !ctx.own) {
            ctx.net = own_net.net;
            ctx.net_batch = own_net.net_batch;
            ctx.net_opts = own_net.net_opts;
            own_net.net = NULL;
        }
        for (int r = 0; !rc && r < c->s[t].repeats; r++) {
            double v = NAN;
            ctx.repeat = r;
            if (trace && trace->graph)
                trace->graph(trace->ud, ctx.name, r, ctx.g);
            rc = types[t].compute(&ctx, &v);
            if (rc)
                mn_error_prefix_field(err, types[t].name);
            degenerate |= !isfinite(v);
            sum += v;
        }
        if (!ctx.own) {
            own_net.net = ctx.net;
            own_net.net_batch = ctx.net_batch;
            own_net.net_opts = ctx.net_opts;
            ctx.net = NULL;
        }
        mn_proxy_ctx_close(&ctx);
        out[i].degenerate = degenerate;
        out[i].value = degenerate ? (types[t].lower_better ? MN_PROXY_SENTINEL
                                                           : -MN_PROXY_SENTINEL)
                                  : sum / c->s[t].repeats;
        out[i].seconds = mn_proxy_now() - t0;
    }
    mn_net_free(own_net.net);
    cJSON_Delete(base);
    free(key);
    return rc;
}
