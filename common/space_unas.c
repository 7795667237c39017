/* space_unas.c — μNAS's layer-chain CNN space (Liberis et al., arXiv 2010.14246),
 * with its architecture dictionary as the JSON form (schema/unas-arch.schema.json):
 *
 *   {"conv_blocks": [{"is_branch": false, "layers": [{"type": "Conv2D", "ker_size": 3,
 *       "filters": 16, "2x_stride": true, "has_prepool": false, "has_bn": true,
 *       "has_relu": true}, ...]}, ...],
 *    "pooling": {"type": "avg", "pool_size": 2} or null,
 *    "dense_blocks": [{"units": 64}, ...]}
 *
 * Network (as μNAS builds it): conv blocks in series; a branch block runs beside the
 * last non-branch block from that block's input and the outputs are summed (larger
 * maps max-pooled down to the smallest first; the branch's last layer outputs the
 * main path's channels, a trailing DWConv2D gets a 1×1 Conv2D for it). Each layer:
 * optional 2×2 max pre-pool, the convolution ('valid' padding, bias, kernel clamped to
 * the map), optional BN, optional ReLU. Then the optional pooling (window clamped to
 * the map), flatten, dense blocks with ReLU, and a final dense layer of `classes`.
 * Clamping kernels and pools to the map, as μNAS does, means no stride-2 chain can
 * collapse a map below 1×1.
 *
 * Differences from μNAS, on purpose: random values reach the upper bound of every
 * range (μNAS samples integers with an exclusive upper bound: filters never 128,
 * kernel never 7, never 3 dense blocks, pool size never 6); a layer may be inserted
 * at the end of a block too; the sum of branches max-pools straight to the smallest
 * map (stride ⌊h/hs⌋, kernel h−stride·(hs−1)) instead of pooling by round(h/hs) and
 * zero-padding; the last layer always has `classes` units (μNAS uses 1 for 2). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "graph_json.h"
#include "json.h"
#include "space_impl.h"

#define CAP_BLOCKS MN_GRAPH_MAX_IN /* a sum has at most that many inputs */
#define CAP_LAYERS 8
#define CAP_DENSE 8
#define KER_MIN 3
#define KER_MAX 7
#define POOL_MIN 2
#define POOL_MAX 6

enum { L_CONV, L_CONV1X1, L_DW, N_LTYPES };
static const char *const ltype_names[N_LTYPES] = {"Conv2D", "1x1Conv2D", "DWConv2D"};
enum { P_NONE = -1, P_AVG, P_MAX, N_PTYPES };
static const char *const ptype_names[N_PTYPES] = {"avg", "max"};
static const enum mn_op ptype_ops[N_PTYPES] = {MN_OP_AVGPOOL, MN_OP_MAXPOOL};

struct u_layer {
    int type, ker, filters; /* ker 0 for 1×1; filters 0 for DWConv2D */
    int stride2, prepool, bn, relu;
};

struct u_block {
    int is_branch, n;
    struct u_layer l[CAP_LAYERS];
};

struct u_arch {
    int nb, nd, pool, pool_size; /* pool: P_NONE, P_AVG, P_MAX */
    struct u_block b[CAP_BLOCKS];
    int units[CAP_DENSE];
};

struct u_cfg {
    struct mn_shape in;
    int classes, max_blocks, max_layers, max_dense, max_filters, min_units, max_units;
};

/* ---- settings ---- */

static int u_create(const cJSON *s, void **out, struct mn_error *err)
{
    static const char *const keys[] = {"input", "classes", "max_conv_blocks",
                                       "max_layers_per_block", "max_dense_blocks",
                                       "max_filters", "min_dense_units", "max_dense_units",
                                       NULL};
    struct u_cfg c = {.in = {1, 28, 28}, .classes = 10, .max_blocks = 10, .max_layers = 3,
                      .max_dense = 3, .max_filters = 128, .min_units = 10, .max_units = 256};
    int rc = s ? mn_json_check_keys(s, keys, err) : MN_OK;
    if (!rc)
        rc = mn_graph_json_get_shape(s, "input", &c.in, err);
    if (!rc)
        rc = mn_json_get_i32(s, "classes", 1, 100000, &c.classes, err);
    if (!rc)
        rc = mn_json_get_i32(s, "max_conv_blocks", 1, CAP_BLOCKS, &c.max_blocks, err);
    if (!rc)
        rc = mn_json_get_i32(s, "max_layers_per_block", 1, CAP_LAYERS, &c.max_layers, err);
    if (!rc)
        rc = mn_json_get_i32(s, "max_dense_blocks", 1, CAP_DENSE, &c.max_dense, err);
    if (!rc)
        rc = mn_json_get_i32(s, "max_filters", 1, 4096, &c.max_filters, err);
    if (!rc)
        rc = mn_json_get_i32(s, "min_dense_units", 1, 65536, &c.min_units, err);
    if (!rc)
        rc = mn_json_get_i32(s, "max_dense_units", c.min_units, 65536, &c.max_units, err);
    if (rc)
        return rc;
    struct u_cfg *p = malloc(sizeof *p);
    if (!p)
        return mn_error_set(err, MN_ENOMEM, NULL, "out of memory");
    *p = c;
    *out = p;
    return MN_OK;
}

static void u_cfg_free(void *cfg)
{
    free(cfg);
}

static cJSON *u_settings_json(const void *cfg)
{
    const struct u_cfg *c = cfg;
    cJSON *o = cJSON_CreateObject();
    cJSON *in = o ? mn_graph_json_shape(c->in) : NULL;
    if (in && !cJSON_AddItemToObject(o, "input", in)) {
        cJSON_Delete(in);
        in = NULL;
    }
    int ok = in && cJSON_AddNumberToObject(o, "classes", c->classes) &&
             cJSON_AddNumberToObject(o, "max_conv_blocks", c->max_blocks) &&
             cJSON_AddNumberToObject(o, "max_layers_per_block", c->max_layers) &&
             cJSON_AddNumberToObject(o, "max_dense_blocks", c->max_dense) &&
             cJSON_AddNumberToObject(o, "max_filters", c->max_filters) &&
             cJSON_AddNumberToObject(o, "min_dense_units", c->min_units) &&
             cJSON_AddNumberToObject(o, "max_dense_units", c->max_units);
    if (!ok) {
        cJSON_Delete(o);
        return NULL;
    }
    return o;
}

static int64_t u_size(const void *cfg)
{
    (void)cfg;
    return -1;
}

/* ---- canonical form ---- */

static int out_channels(const struct u_layer *l, int ch)
{
    return l->type == L_DW ? ch : l->filters;
}

/* Clears fields a layer type does not use and sets each branch block's last
 * (non-depthwise) layer to the main path's channels, which is what it computes. */
static void canonicalize(const struct u_cfg *c, struct u_arch *a)
{
    int ch = c->in.c;
    for (int i = 0; i < a->nb; i++) {
        struct u_block *b = &a->b[i];
        for (int j = 0; j < b->n; j++) {
            struct u_layer *l = &b->l[j];
            if (l->type == L_CONV1X1)
                l->ker = l->stride2 = 0;
            if (l->type == L_DW)
                l->filters = 0;
        }
        struct u_layer *last = &b->l[b->n - 1];
        if (b->is_branch && last->type != L_DW)
            last->filters = ch;
        if (!b->is_branch)
            for (int j = 0; j < b->n; j++)
                ch = out_channels(&b->l[j], ch);
    }
    if (a->pool == P_NONE)
        a->pool_size = 0;
}

static int branch_last(const struct u_arch *a, int i, int j)
{
    return a->b[i].is_branch && j == a->b[i].n - 1;
}

/* ---- JSON ---- */

static int add_bool(cJSON *o, const char *k, int v)
{
    return cJSON_AddBoolToObject(o, k, v) != NULL;
}

static cJSON *layer_json(const struct u_layer *l)
{
    cJSON *o = cJSON_CreateObject();
    int ok = o && cJSON_AddStringToObject(o, "type", ltype_names[l->type]);
    if (ok && l->type != L_CONV1X1)
        ok = cJSON_AddNumberToObject(o, "ker_size", l->ker) != NULL;
    if (ok && l->type != L_DW)
        ok = cJSON_AddNumberToObject(o, "filters", l->filters) != NULL;
    if (ok && l->type != L_CONV1X1)
        ok = add_bool(o, "2x_stride", l->stride2);
    ok = ok && add_bool(o, "has_prepool", l->prepool) && add_bool(o, "has_bn", l->bn) &&
         add_bool(o, "has_relu", l->relu);
    if (!ok) {
        cJSON_Delete(o);
        return NULL;
    }
    return o;
}

/* Appends item to array arr; deletes item and fails when it cannot. */
static int append(cJSON *arr, cJSON *item)
{
    if (item && cJSON_AddItemToArray(arr, item))
        return 1;
    cJSON_Delete(item);
    return 0;
}

static cJSON *u_to_json(const void *cfg, const void *arch)
{
    const struct u_arch *a = arch;
    (void)cfg;
    cJSON *o = cJSON_CreateObject();
    cJSON *blocks = o ? cJSON_AddArrayToObject(o, "conv_blocks") : NULL;
    int ok = blocks != NULL;
    for (int i = 0; ok && i < a->nb; i++) {
        cJSON *b = cJSON_CreateObject();
        ok = append(blocks, b) && add_bool(b, "is_branch", a->b[i].is_branch);
        cJSON *layers = ok ? cJSON_AddArrayToObject(b, "layers") : NULL;
        ok = layers != NULL;
        for (int j = 0; ok && j < a->b[i].n; j++)
            ok = append(layers, layer_json(&a->b[i].l[j]));
    }
    if (ok && a->pool == P_NONE)
        ok = cJSON_AddNullToObject(o, "pooling") != NULL;
    else if (ok) {
        cJSON *p = cJSON_AddObjectToObject(o, "pooling");
        ok = p && cJSON_AddStringToObject(p, "type", ptype_names[a->pool]) &&
             cJSON_AddNumberToObject(p, "pool_size", a->pool_size);
    }
    cJSON *dense = ok ? cJSON_AddArrayToObject(o, "dense_blocks") : NULL;
    ok = dense != NULL;
    for (int i = 0; ok && i < a->nd; i++) {
        cJSON *d = cJSON_CreateObject();
        ok = append(dense, d) && cJSON_AddNumberToObject(d, "units", a->units[i]);
    }
    if (!ok) {
        cJSON_Delete(o);
        return NULL;
    }
    return o;
}

static char *u_key(const void *cfg, const void *arch)
{
    cJSON *j = u_to_json(cfg, arch);
    char *s = j ? mn_json_print(j) : NULL;
    cJSON_Delete(j);
    return s;
}

/* An optional even/odd-stepped integer in [min, max] with the given parity step. */
static int get_stepped(const cJSON *o, const char *key, int min, int max, int *out,
                       struct mn_error *err)
{
    int v = *out;
    int rc = mn_json_get_i32(o, key, min, max, &v, err);
    if (!rc && (v - min) % 2)
        rc = mn_error_set(err, MN_EINVAL, key, "'%s' must be one of %d, %d, ..., %d; got %d",
                          key, min, min + 2, max, v);
    if (!rc)
        *out = v;
    return rc;
}

static int parse_layer(const struct u_cfg *c, const cJSON *o, int is_branch_last,
                       struct u_layer *l, struct mn_error *err)
{
    static const char *const keys[] = {"type", "ker_size", "filters", "2x_stride",
                                       "has_prepool", "has_bn", "has_relu", NULL};
    memset(l, 0, sizeof *l);
    int rc = mn_json_expect_object(o, "a conv layer", err);
    if (!rc)
        rc = mn_json_check_keys(o, keys, err);
    if (!rc)
        rc = mn_json_require(o, "type", err);
    if (!rc)
        rc = mn_json_get_enum(o, "type", ltype_names, N_LTYPES, &l->type, err);
    if (!rc && l->type != L_CONV1X1 && !(rc = mn_json_require(o, "ker_size", err)))
        rc = get_stepped(o, "ker_size", KER_MIN, KER_MAX, &l->ker, err);
    /* A branch block's last layer computes the main path's channels whatever it says. */
    if (!rc && l->type != L_DW && !is_branch_last && !(rc = mn_json_require(o, "filters", err)))
        rc = mn_json_get_i32(o, "filters", 1, c->max_filters, &l->filters, err);
    if (!rc && is_branch_last)
        rc = mn_json_get_i32(o, "filters", 1, 65536, &l->filters, err);
    if (!rc)
        rc = mn_json_get_bool(o, "2x_stride", &l->stride2, err);
    if (!rc)
        rc = mn_json_get_bool(o, "has_prepool", &l->prepool, err);
    if (!rc)
        rc = mn_json_get_bool(o, "has_bn", &l->bn, err);
    if (!rc)
        rc = mn_json_get_bool(o, "has_relu", &l->relu, err);
    return rc;
}

/* Checks that j is an array of min..max entries, naming it. */
static int get_list(const cJSON *o, const char *key, int min, int max, const cJSON **out,
                    struct mn_error *err)
{
    const cJSON *j = cJSON_GetObjectItemCaseSensitive(o, key);
    int n = cJSON_GetArraySize(j);
    if (!cJSON_IsArray(j) || n < min || n > max)
        return mn_error_set(err, MN_EINVAL, key, "'%s' must be a list of %d to %d entries",
                            key, min, max);
    *out = j;
    return MN_OK;
}

static int prefix_index(struct mn_error *err, const char *key, int i, int rc)
{
    char f[64];
    snprintf(f, sizeof f, "%s[%d]", key, i);
    mn_error_prefix_field(err, f);
    return rc;
}

static int parse_block(const struct u_cfg *c, const cJSON *o, int idx, struct u_block *b,
                       struct mn_error *err)
{
    static const char *const keys[] = {"is_branch", "layers", NULL};
    const cJSON *layers = NULL, *l;
    b->is_branch = 0;
    int rc = mn_json_expect_object(o, "a conv block", err);
    if (!rc)
        rc = mn_json_check_keys(o, keys, err);
    if (!rc)
        rc = mn_json_get_bool(o, "is_branch", &b->is_branch, err);
    if (!rc && idx == 0 && b->is_branch)
        rc = mn_error_set(err, MN_EINVAL, "is_branch", "the first block can't be a branch");
    if (!rc)
        rc = get_list(o, "layers", 1, c->max_layers, &layers, err);
    if (rc)
        return rc;
    b->n = cJSON_GetArraySize(layers);
    int j = 0;
    cJSON_ArrayForEach(l, layers) {
        rc = parse_layer(c, l, b->is_branch && j == b->n - 1, &b->l[j], err);
        if (rc)
            return prefix_index(err, "layers", j, rc);
        j++;
    }
    return MN_OK;
}

static int parse_pooling(const cJSON *o, struct u_arch *a, struct mn_error *err)
{
    static const char *const keys[] = {"type", "pool_size", NULL};
    const cJSON *p = cJSON_GetObjectItemCaseSensitive(o, "pooling");
    a->pool = P_NONE;
    a->pool_size = 0;
    if (!p || cJSON_IsNull(p))
        return MN_OK;
    int rc = cJSON_IsObject(p) ? mn_json_check_keys(p, keys, err)
                               : mn_error_set(err, MN_EINVAL, NULL, "'pooling' must be null "
                                              "or {\"type\", \"pool_size\"}");
    if (!rc)
        rc = mn_json_require(p, "type", err);
    if (!rc)
        rc = mn_json_require(p, "pool_size", err);
    if (!rc)
        rc = mn_json_get_enum(p, "type", ptype_names, N_PTYPES, &a->pool, err);
    if (!rc)
        rc = get_stepped(p, "pool_size", POOL_MIN, POOL_MAX, &a->pool_size, err);
    if (rc)
        mn_error_prefix_field(err, "pooling");
    return rc;
}

static int parse_dense(const struct u_cfg *c, const cJSON *o, struct u_arch *a,
                       struct mn_error *err)
{
    static const char *const keys[] = {"units", "activation", NULL};
    static const char *const acts[] = {"relu"};
    const cJSON *list = NULL, *d;
    int rc = get_list(o, "dense_blocks", 1, c->max_dense, &list, err);
    if (rc)
        return rc;
    a->nd = 0;
    cJSON_ArrayForEach(d, list) {
        int act = 0;
        rc = mn_json_expect_object(d, "a dense block", err);
        if (!rc)
            rc = mn_json_check_keys(d, keys, err);
        if (!rc)
            rc = mn_json_require(d, "units", err);
        if (!rc)
            rc = mn_json_get_i32(d, "units", c->min_units, c->max_units, &a->units[a->nd], err);
        if (!rc)
            rc = mn_json_get_enum(d, "activation", acts, 1, &act, err);
        if (rc)
            return prefix_index(err, "dense_blocks", a->nd, rc);
        a->nd++;
    }
    return MN_OK;
}

static int new_arch(const struct u_cfg *c, const struct u_arch *src, void **out)
{
    struct u_arch *a = malloc(sizeof *a);
    if (!a)
        return MN_ENOMEM;
    *a = *src;
    canonicalize(c, a);
    *out = a;
    return MN_OK;
}

static int u_from_json(const void *cfg, const cJSON *j, void **out, struct mn_error *err)
{
    static const char *const keys[] = {"conv_blocks", "pooling", "dense_blocks", NULL};
    const struct u_cfg *c = cfg;
    struct u_arch a;
    const cJSON *blocks = NULL, *b;
    memset(&a, 0, sizeof a);
    int rc = mn_json_expect_object(j, "a unas architecture", err);
    if (!rc)
        rc = mn_json_check_keys(j, keys, err);
    if (!rc)
        rc = get_list(j, "conv_blocks", 1, c->max_blocks, &blocks, err);
    if (rc)
        return rc;
    cJSON_ArrayForEach(b, blocks) {
        if ((rc = parse_block(c, b, a.nb, &a.b[a.nb], err)))
            return prefix_index(err, "conv_blocks", a.nb, rc);
        a.nb++;
    }
    if ((rc = parse_pooling(j, &a, err)) || (rc = parse_dense(c, j, &a, err)))
        return rc;
    if ((rc = new_arch(c, &a, out)))
        mn_error_set(err, rc, NULL, "out of memory");
    return rc;
}

/* ---- random sampling (μNAS's distribution, upper bounds included) ---- */

static int coin(struct mn_rng *rng, double p)
{
    return mn_rng_uniform(rng) < p;
}

static int stepped(struct mn_rng *rng, int min, int max)
{
    return min + 2 * mn_rng_range(rng, 0, (max - min) / 2);
}

static void random_layer_type(const struct u_cfg *c, struct mn_rng *rng, int type,
                              struct u_layer *l)
{
    memset(l, 0, sizeof *l);
    l->type = type;
    if (type != L_CONV1X1) {
        l->ker = stepped(rng, KER_MIN, KER_MAX);
        l->stride2 = coin(rng, 0.5);
    }
    if (type != L_DW)
        l->filters = mn_rng_range(rng, 1, c->max_filters);
    l->bn = coin(rng, 0.5);
    l->relu = coin(rng, 0.9);     /* μNAS: relu_prob 0.9 */
    l->prepool = coin(rng, 0.25); /* μNAS: pre_pool_prob 0.25 */
}

static void random_layer(const struct u_cfg *c, struct mn_rng *rng, struct u_layer *l)
{
    random_layer_type(c, rng, (int)mn_rng_below(rng, N_LTYPES), l);
}

static void random_block(const struct u_cfg *c, struct mn_rng *rng, int idx, int n,
                         struct u_block *b)
{
    b->is_branch = idx > 0 && coin(rng, 0.5);
    b->n = n;
    for (int j = 0; j < n; j++)
        random_layer(c, rng, &b->l[j]);
}

static void random_pooling(struct mn_rng *rng, struct u_arch *a)
{
    a->pool = (int)mn_rng_below(rng, N_PTYPES);
    a->pool_size = stepped(rng, POOL_MIN, POOL_MAX);
}

static int u_sample(const void *cfg, struct mn_rng *rng, void **out)
{
    const struct u_cfg *c = cfg;
    struct u_arch a;
    memset(&a, 0, sizeof a);
    a.nb = mn_rng_range(rng, 1, c->max_blocks);
    for (int i = 0; i < a.nb; i++)
        random_block(c, rng, i, mn_rng_range(rng, 1, c->max_layers), &a.b[i]);
    a.pool = P_NONE;
    if (coin(rng, 0.9)) /* μNAS: pooling_prob 0.9 */
        random_pooling(rng, &a);
    a.nd = mn_rng_range(rng, 1, c->max_dense);
    for (int i = 0; i < a.nd; i++)
        a.units[i] = mn_rng_range(rng, c->min_units, c->max_units);
    return new_arch(c, &a, out);
}

/* ---- mutation: μNAS's morphs ---- */

enum morph_kind {
    M_REMOVE_RANDOM_BLOCK, M_ADD_BLOCK, M_FLIP_BRANCH, M_REMOVE_BLOCK, M_REMOVE_LAYER,
    M_INSERT_LAYER, M_TOGGLE_BN, M_TOGGLE_RELU, M_TOGGLE_PREPOOL, M_CHANGE_TYPE,
    M_FILTERS, M_KERNEL, M_TOGGLE_STRIDE, M_TOGGLE_POOLING, M_POOL_TYPE, M_POOL_SIZE,
    M_REMOVE_DENSE, M_ADD_DENSE, M_UNITS,
};

struct morph {
    unsigned char kind;
    signed char i, j;
    signed char d; /* a change of filters/kernel/pool/units, or the new layer type */
};

#define MAX_MORPHS (8 + CAP_BLOCKS * (4 + CAP_LAYERS * 14) + CAP_DENSE * 6)
static const signed char steps[] = {-5, -3, -1, 1, 3, 5};
#define N_STEPS ((int)sizeof steps)

static int in_range(int v, int lo, int hi)
{
    return v >= lo && v <= hi;
}

/* Lists every morph μNAS's produce_all_morphs would offer for a; returns the count. */
static int list_morphs(const struct u_cfg *c, const struct u_arch *a, struct morph *m)
{
    int n = 0;
#define ADD(k, ii, jj, dd) (m[n++] = (struct morph){(k), (signed char)(ii), \
                                                    (signed char)(jj), (signed char)(dd)})
    if (a->nb > 1)
        ADD(M_REMOVE_RANDOM_BLOCK, 0, 0, 0);
    if (a->nb < c->max_blocks)
        ADD(M_ADD_BLOCK, 0, 0, 0);
    for (int i = 0; i < a->nb; i++) {
        const struct u_block *b = &a->b[i];
        if (i > 0)
            ADD(M_FLIP_BRANCH, i, 0, 0);
        if (b->n == 1 && a->nb > 1)
            ADD(M_REMOVE_BLOCK, i, 0, 0);
        if (b->n > 1)
            ADD(M_REMOVE_LAYER, i, 0, 0);
        if (b->n < c->max_layers)
            ADD(M_INSERT_LAYER, i, 0, 0);
        for (int j = 0; j < b->n; j++) {
            const struct u_layer *l = &b->l[j];
            ADD(M_TOGGLE_BN, i, j, 0);
            ADD(M_TOGGLE_RELU, i, j, 0);
            ADD(M_TOGGLE_PREPOOL, i, j, 0);
            for (int t = 0; t < N_LTYPES; t++)
                if (t != l->type)
                    ADD(M_CHANGE_TYPE, i, j, t);
            if (l->type != L_DW && !branch_last(a, i, j))
                for (int s = 0; s < N_STEPS; s++)
                    if (in_range(l->filters + steps[s], 1, c->max_filters))
                        ADD(M_FILTERS, i, j, steps[s]);
            if (l->type != L_CONV1X1) {
                for (int d = -2; d <= 2; d += 4)
                    if (in_range(l->ker + d, KER_MIN, KER_MAX))
                        ADD(M_KERNEL, i, j, d);
                ADD(M_TOGGLE_STRIDE, i, j, 0);
            }
        }
    }
    ADD(M_TOGGLE_POOLING, 0, 0, 0);
    if (a->pool != P_NONE) {
        ADD(M_POOL_TYPE, 0, 0, 0);
        for (int d = -2; d <= 2; d += 4)
            if (in_range(a->pool_size + d, POOL_MIN, POOL_MAX))
                ADD(M_POOL_SIZE, 0, 0, d);
    }
    if (a->nd > 1)
        ADD(M_REMOVE_DENSE, 0, 0, 0);
    if (a->nd < c->max_dense)
        ADD(M_ADD_DENSE, 0, 0, 0);
    for (int i = 0; i < a->nd; i++)
        for (int s = 0; s < N_STEPS; s++)
            if (in_range(a->units[i] + steps[s], c->min_units, c->max_units))
                ADD(M_UNITS, i, 0, steps[s]);
#undef ADD
    return n;
}

/* μNAS's remove_conv_block: a branch right after a removed main block becomes main. */
static void remove_block(struct u_arch *a, int i)
{
    if (!a->b[i].is_branch && i + 1 < a->nb)
        a->b[i + 1].is_branch = 0;
    memmove(&a->b[i], &a->b[i + 1], (size_t)(a->nb - i - 1) * sizeof a->b[0]);
    a->nb--;
    a->b[0].is_branch = 0;
}

static void apply_morph(const struct u_cfg *c, struct u_arch *a, struct morph m,
                        struct mn_rng *rng)
{
    struct u_block *b = &a->b[m.i];
    struct u_layer *l = &b->l[m.j];
    int k;
    switch ((enum morph_kind)m.kind) {
    case M_REMOVE_RANDOM_BLOCK:
        remove_block(a, (int)mn_rng_below(rng, (uint64_t)a->nb));
        break;
    case M_ADD_BLOCK:
        random_block(c, rng, a->nb, 1, &a->b[a->nb]);
        a->nb++;
        break;
    case M_FLIP_BRANCH:
        b->is_branch = !b->is_branch;
        break;
    case M_REMOVE_BLOCK:
        remove_block(a, m.i);
        break;
    case M_REMOVE_LAYER:
        k = (int)mn_rng_below(rng, (uint64_t)b->n);
        memmove(&b->l[k], &b->l[k + 1], (size_t)(b->n - k - 1) * sizeof b->l[0]);
        b->n--;
        break;
    case M_INSERT_LAYER:
        k = mn_rng_range(rng, 0, b->n);
        memmove(&b->l[k + 1], &b->l[k], (size_t)(b->n - k) * sizeof b->l[0]);
        random_layer(c, rng, &b->l[k]);
        b->n++;
        break;
    case M_TOGGLE_BN:
        l->bn = !l->bn;
        break;
    case M_TOGGLE_RELU:
        l->relu = !l->relu;
        break;
    case M_TOGGLE_PREPOOL:
        l->prepool = !l->prepool;
        break;
    case M_CHANGE_TYPE:
        random_layer_type(c, rng, m.d, l);
        break;
    case M_FILTERS:
        l->filters += m.d;
        break;
    case M_KERNEL:
        l->ker += m.d;
        break;
    case M_TOGGLE_STRIDE:
        l->stride2 = !l->stride2;
        break;
    case M_TOGGLE_POOLING:
        if (a->pool == P_NONE)
            random_pooling(rng, a);
        else
            a->pool = P_NONE;
        break;
    case M_POOL_TYPE:
        a->pool = a->pool == P_AVG ? P_MAX : P_AVG;
        break;
    case M_POOL_SIZE:
        a->pool_size += m.d;
        break;
    case M_REMOVE_DENSE:
        k = (int)mn_rng_below(rng, (uint64_t)a->nd);
        memmove(&a->units[k], &a->units[k + 1], (size_t)(a->nd - k - 1) * sizeof a->units[0]);
        a->nd--;
        break;
    case M_ADD_DENSE:
        a->units[a->nd++] = mn_rng_range(rng, c->min_units, c->max_units);
        break;
    case M_UNITS:
        a->units[m.i] += m.d;
        break;
    }
}

static int u_mutate(const void *cfg, const void *parent, struct mn_rng *rng, void **out)
{
    const struct u_cfg *c = cfg;
    struct morph m[MAX_MORPHS];
    int n = list_morphs(c, parent, m);
    char *pkey = u_key(cfg, parent);
    int rc = pkey ? MN_ESTATE : MN_ENOMEM;
    /* Every morph changes the canonical form; the loop only guards that promise. */
    for (int tries = 0; tries < 16 && rc == MN_ESTATE; tries++) {
        struct u_arch a = *(const struct u_arch *)parent;
        apply_morph(c, &a, m[mn_rng_below(rng, (uint64_t)n)], rng);
        canonicalize(c, &a);
        char *key = u_key(cfg, &a);
        if (!key)
            rc = MN_ENOMEM;
        else if (strcmp(key, pkey) != 0)
            rc = new_arch(c, &a, out);
        free(key);
    }
    free(pkey);
    return rc;
}

/* ---- lowering ---- */

static int add_pool(struct mn_graph *g, enum mn_op op, int x, int kh, int kw, int sh, int sw)
{
    struct mn_layer l = mn_layer_make(op, x);
    l.kh = kh;
    l.kw = kw;
    l.sh = sh;
    l.sw = sw;
    return mn_graph_add(g, &l);
}

static int min3(int a, int b, int c)
{
    return a < b ? (a < c ? a : c) : (b < c ? b : c);
}

static int conv_layer(struct mn_graph *g, int x, const struct u_layer *l, int filters)
{
    struct mn_shape s = g->layers[x].out;
    if (l->prepool && (s.h > 1 || s.w > 1)) {
        int ph = s.h < 2 ? s.h : 2, pw = s.w < 2 ? s.w : 2;
        if ((x = add_pool(g, MN_OP_MAXPOOL, x, ph, pw, ph, pw)) < 0)
            return x;
        s = g->layers[x].out;
    }
    int k = l->type == L_CONV1X1 ? 1 : min3(l->ker, s.h, s.w);
    int stride = l->type != L_CONV1X1 && l->stride2 ? 2 : 1;
    enum mn_act act = l->relu ? MN_ACT_RELU : MN_ACT_NONE;
    if (l->type == L_DW)
        return mn_graph_dwconv2d(g, x, k, stride, 0, 1, l->bn, act);
    return mn_graph_conv2d(g, x, filters, k, stride, 0, 1, l->bn, act);
}

/* Sums the pending outputs, max-pooling larger maps straight to the smallest. */
static int tie_up(struct mn_graph *g, int *xs, int n)
{
    if (n == 1)
        return xs[0];
    int hs = g->layers[xs[0]].out.h, ws = g->layers[xs[0]].out.w;
    for (int i = 1; i < n; i++) {
        struct mn_shape s = g->layers[xs[i]].out;
        hs = s.h < hs ? s.h : hs;
        ws = s.w < ws ? s.w : ws;
    }
    for (int i = 0; i < n; i++) {
        struct mn_shape s = g->layers[xs[i]].out;
        if (s.h == hs && s.w == ws)
            continue;
        int sh = s.h / hs, sw = s.w / ws;
        xs[i] = add_pool(g, MN_OP_MAXPOOL, xs[i], s.h - sh * (hs - 1), s.w - sw * (ws - 1),
                         sh, sw);
        if (xs[i] < 0)
            return xs[i];
    }
    return mn_graph_addn(g, xs, n, MN_ACT_NONE);
}

static int build(const struct u_cfg *c, const struct u_arch *a, struct mn_graph *g)
{
    int xs[CAP_BLOCKS] = {0}, n = 1, li = 0, x = 0;
    for (int i = 0; i < a->nb && x >= 0; i++) {
        const struct u_block *b = &a->b[i];
        int main_ch = g->layers[xs[0]].out.c;
        if (!b->is_branch) {
            x = li = tie_up(g, xs, n);
            for (int j = 0; j < b->n && x >= 0; j++)
                x = conv_layer(g, x, &b->l[j], b->l[j].filters);
            xs[0] = x;
            n = 1;
            continue;
        }
        x = li;
        for (int j = 0; j < b->n && x >= 0; j++)
            x = conv_layer(g, x, &b->l[j], j == b->n - 1 ? main_ch : b->l[j].filters);
        if (x >= 0 && b->l[b->n - 1].type == L_DW)
            x = mn_graph_conv2d(g, x, main_ch, 1, 1, 0, 1, 0, MN_ACT_NONE);
        xs[n++] = x;
    }
    if (x >= 0)
        x = tie_up(g, xs, n);
    if (x >= 0 && a->pool != P_NONE) {
        struct mn_shape s = g->layers[x].out;
        int ph = s.h < a->pool_size ? s.h : a->pool_size;
        int pw = s.w < a->pool_size ? s.w : a->pool_size;
        x = add_pool(g, ptype_ops[a->pool], x, ph, pw, ph, pw);
    }
    if (x >= 0)
        x = mn_graph_unary(g, MN_OP_FLATTEN, x);
    for (int i = 0; i < a->nd && x >= 0; i++)
        x = mn_graph_dense(g, x, a->units[i], 1, MN_ACT_RELU);
    if (x >= 0)
        x = mn_graph_dense(g, x, c->classes, 1, MN_ACT_NONE);
    return x < 0 ? x : MN_OK;
}

static int u_lower(const void *cfg, const void *arch, struct mn_graph **out,
                   struct mn_error *err)
{
    const struct u_cfg *c = cfg;
    struct mn_graph *g = mn_graph_new(c->in.c, c->in.h, c->in.w);
    if (!g)
        return mn_error_set(err, MN_ENOMEM, NULL, "out of memory");
    int rc = build(c, arch, g);
    if (rc) {
        mn_error_set(err, rc, NULL, "unas: %s", g->error.message);
        mn_graph_free(g);
        return rc;
    }
    *out = g;
    return MN_OK;
}

static void u_arch_free(void *arch)
{
    free(arch);
}

const struct mn_space_type mn_space_unas = {
    .name = "unas",
    .summary = "muNAS layer-chain CNN space: conv blocks (Conv2D, 1x1Conv2D, DWConv2D), "
               "branches merged by add, optional pooling, 1-3 dense layers",
    .arch_doc = "an object {\"conv_blocks\": [{\"is_branch\", \"layers\": [{\"type\", "
                "\"ker_size\", \"filters\", \"2x_stride\", \"has_prepool\", \"has_bn\", "
                "\"has_relu\"}]}], \"pooling\": {\"type\", \"pool_size\"} or null, "
                "\"dense_blocks\": [{\"units\"}]} as in schema/unas-arch.schema.json",
    .create = u_create,
    .cfg_free = u_cfg_free,
    .settings_json = u_settings_json,
    .size = u_size,
    .from_json = u_from_json,
    .to_json = u_to_json,
    .key = u_key,
    .arch_free = u_arch_free,
    .sample = u_sample,
    .mutate = u_mutate,
    .lower = u_lower,
};
