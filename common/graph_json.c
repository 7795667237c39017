/* graph_json.c — the public JSON form of the layer graph (graph_json.h,
 * schema/graph.schema.json): parsing with errors that name the field, TensorFlow
 * 'same' padding, and canonical printing (defaults left out). */
#include "graph_json.h"
#include <stdio.h>
#include <string.h>
#include "json.h"

#define MAX_LAYERS 10000
#define MAX_SIDE 65536

/* Which keys a layer of each op accepts (besides op, name, inputs). */
enum {
    F_FILTERS = 1 << 0, F_UNITS = 1 << 1, F_KERNEL = 1 << 2, F_STRIDE = 1 << 3,
    F_PAD = 1 << 4, F_BIAS = 1 << 5, F_BN = 1 << 6, F_ACT = 1 << 7, F_CIP = 1 << 8,
};
#define F_CONV (F_KERNEL | F_STRIDE | F_PAD | F_BIAS | F_BN | F_ACT)
#define F_POOL (F_KERNEL | F_STRIDE | F_PAD)

static const unsigned op_fields[MN_OP_COUNT] = {
    [MN_OP_CONV2D] = F_CONV | F_FILTERS,
    [MN_OP_DWCONV2D] = F_CONV,
    [MN_OP_DENSE] = F_UNITS | F_BIAS | F_BN | F_ACT,
    [MN_OP_AVGPOOL] = F_POOL | F_CIP,
    [MN_OP_MAXPOOL] = F_POOL,
    [MN_OP_ADD] = F_ACT,
    [MN_OP_RELU] = F_ACT,
    [MN_OP_BATCHNORM] = F_ACT,
};

static const char *const field_keys[] = {
    "filters", "units", "kernel", "stride", "padding", "bias", "bn", "activation",
    "count_include_pad",
};
#define N_FIELD_KEYS ((int)(sizeof field_keys / sizeof field_keys[0]))

static int is_windowed(enum mn_op op)
{
    return (op_fields[op] & F_KERNEL) != 0;
}

static int is_pool(enum mn_op op)
{
    return op == MN_OP_AVGPOOL || op == MN_OP_MAXPOOL;
}

static int has_bias_default(enum mn_op op)
{
    return (op_fields[op] & F_BIAS) != 0;
}

int mn_graph_json_get_shape(const cJSON *obj, const char *key, struct mn_shape *s,
                            struct mn_error *err)
{
    static const char *const keys[] = {"c", "h", "w", NULL};
    const cJSON *j = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (!j || cJSON_IsNull(j))
        return MN_OK;
    struct mn_shape t = *s;
    int rc = cJSON_IsObject(j) ? MN_OK
                               : mn_error_set(err, MN_EINVAL, NULL,
                                              "'%s' must be an object {\"c\",\"h\",\"w\"}", key);
    if (!rc)
        rc = mn_json_check_keys(j, keys, err);
    if (!rc)
        rc = mn_json_get_i32(j, "c", 1, MAX_SIDE, &t.c, err);
    if (!rc)
        rc = mn_json_get_i32(j, "h", 1, MAX_SIDE, &t.h, err);
    if (!rc)
        rc = mn_json_get_i32(j, "w", 1, MAX_SIDE, &t.w, err);
    if (rc) {
        mn_error_prefix_field(err, key);
        return rc;
    }
    *s = t;
    return MN_OK;
}

cJSON *mn_graph_json_shape(struct mn_shape s)
{
    cJSON *o = cJSON_CreateObject();
    if (o && (!cJSON_AddNumberToObject(o, "c", s.c) || !cJSON_AddNumberToObject(o, "h", s.h) ||
              !cJSON_AddNumberToObject(o, "w", s.w))) {
        cJSON_Delete(o);
        return NULL;
    }
    return o;
}

/* ---- parsing ---- */

/* An integer-valued JSON number within [min, max] into *out; errors name `key`. */
static int item_int(const cJSON *e, const char *key, int min, int max, int *out,
                    struct mn_error *err)
{
    double v = e ? e->valuedouble : 0;
    if (!cJSON_IsNumber(e) || v < min || v > max || v != (double)(int)v)
        return mn_error_set(err, MN_EINVAL, key, "'%s' must hold integers between %d and %d",
                            key, min, max);
    *out = (int)v;
    return MN_OK;
}

/* An int or a pair [h, w] (each within [min, max]) under `key`, into *a, *b. */
static int get_pair(const cJSON *l, const char *key, int min, int max, int *a, int *b,
                    struct mn_error *err)
{
    const cJSON *j = cJSON_GetObjectItemCaseSensitive(l, key);
    if (!j || cJSON_IsNull(j))
        return MN_OK;
    if (!cJSON_IsArray(j)) {
        int rc = item_int(j, key, min, max, a, err);
        *b = *a;
        return rc;
    }
    if (cJSON_GetArraySize(j) != 2)
        return mn_error_set(err, MN_EINVAL, key, "'%s' must be an integer or [h, w]", key);
    int rc = item_int(j->child, key, min, max, a, err);
    return rc ? rc : item_int(j->child->next, key, min, max, b, err);
}

/* TensorFlow 'same': output ceil(in/stride); the odd padding pixel goes last. */
static void same_pad(int in, int k, int s, int *before, int *after)
{
    int out = (in + s - 1) / s;
    int total = (out - 1) * s + k - in;
    if (total < 0)
        total = 0;
    *before = total / 2;
    *after = total - *before;
}

static int get_padding(const cJSON *l, struct mn_layer *ly, struct mn_shape in,
                       struct mn_error *err)
{
    const cJSON *j = cJSON_GetObjectItemCaseSensitive(l, "padding");
    if (!j || cJSON_IsNull(j))
        return MN_OK;
    if (cJSON_IsString(j)) {
        if (strcmp(j->valuestring, "valid") == 0)
            return MN_OK;
        if (strcmp(j->valuestring, "same") != 0)
            return mn_error_set(err, MN_EINVAL, "padding", "'padding' must be \"same\", "
                                "\"valid\", an integer or [top, bottom, left, right]; got '%s'",
                                j->valuestring);
        same_pad(in.h, ly->kh, ly->sh, &ly->pad_t, &ly->pad_b);
        same_pad(in.w, ly->kw, ly->sw, &ly->pad_l, &ly->pad_r);
        return MN_OK;
    }
    int *sides[4] = {&ly->pad_t, &ly->pad_b, &ly->pad_l, &ly->pad_r};
    if (cJSON_IsNumber(j)) {
        int rc = item_int(j, "padding", 0, MAX_SIDE, sides[0], err);
        for (int i = 1; !rc && i < 4; i++)
            *sides[i] = *sides[0];
        return rc;
    }
    if (!cJSON_IsArray(j) || cJSON_GetArraySize(j) != 4)
        return mn_error_set(err, MN_EINVAL, "padding", "'padding' must be \"same\", \"valid\", "
                            "an integer or [top, bottom, left, right]");
    const cJSON *e = j->child;
    for (int i = 0; i < 4; i++, e = e->next) {
        int rc = item_int(e, "padding", 0, MAX_SIDE, sides[i], err);
        if (rc)
            return rc;
    }
    return MN_OK;
}

/* Resolves one entry of "inputs" to a graph layer index below `self`. */
static int resolve_input(const struct mn_graph *g, const cJSON *e, int self, int *out,
                         struct mn_error *err)
{
    if (cJSON_IsString(e)) {
        for (int i = 0; i < self; i++)
            if (strcmp(g->layers[i].name, e->valuestring) == 0) {
                *out = i;
                return MN_OK;
            }
        return mn_error_set(err, MN_EINVAL, NULL, "no earlier layer is named '%s'",
                            e->valuestring);
    }
    double v = e->valuedouble;
    if (!cJSON_IsNumber(e))
        return mn_error_set(err, MN_EINVAL, NULL, "an input must be a layer name or a "
                            "position in 'layers'");
    if (v < 0 || v + 1 >= self || v != (int)v)
        return mn_error_set(err, MN_EINVAL, NULL, "input %g is not an earlier layer", v);
    *out = (int)v + 1;
    return MN_OK;
}

static int get_inputs(const cJSON *l, const struct mn_graph *g, struct mn_layer *ly,
                      struct mn_error *err)
{
    const cJSON *j = cJSON_GetObjectItemCaseSensitive(l, "inputs");
    int self = g->n;
    if (!j || cJSON_IsNull(j)) {
        if (ly->op == MN_OP_ADD)
            return mn_error_set(err, MN_EINVAL, "inputs", "'add' needs 'inputs' (2 or more)");
        ly->n_in = 1;
        ly->in[0] = self - 1;
        return MN_OK;
    }
    int n = cJSON_GetArraySize(j);
    int min = ly->op == MN_OP_ADD ? 2 : 1, max = ly->op == MN_OP_ADD ? MN_GRAPH_MAX_IN : 1;
    if (!cJSON_IsArray(j) || n < min || n > max)
        return mn_error_set(err, MN_EINVAL, "inputs", "'inputs' must be a list of %d to %d "
                            "layer names or positions", min, max);
    const cJSON *e;
    int i = 0;
    cJSON_ArrayForEach(e, j) {
        int rc = resolve_input(g, e, self, &ly->in[i], err);
        if (rc) {
            char f[32];
            snprintf(f, sizeof f, "inputs[%d]", i);
            mn_error_prefix_field(err, f);
            return rc;
        }
        i++;
    }
    ly->n_in = n;
    return MN_OK;
}

static int get_name(const cJSON *l, const struct mn_graph *g, struct mn_layer *ly,
                    struct mn_error *err)
{
    const char *name = NULL;
    int rc = mn_json_get_str(l, "name", sizeof ly->name - 1, &name, err);
    if (rc || !name)
        return rc;
    if (!*name)
        return mn_error_set(err, MN_EINVAL, "name", "'name' must not be empty");
    for (int i = 0; i < g->n; i++)
        if (strcmp(g->layers[i].name, name) == 0)
            return mn_error_set(err, MN_EINVAL, "name", "layer name '%s' is already used",
                                name);
    snprintf(ly->name, sizeof ly->name, "%s", name);
    return MN_OK;
}

/* Parses layers[idx] into *ly (not yet added to g). */
static int parse_layer(const cJSON *l, const struct mn_graph *g, struct mn_layer *ly,
                       struct mn_error *err)
{
    const char *keys[4 + N_FIELD_KEYS] = {"op", "name", "inputs"};
    int op = -1, rc;
    if (!cJSON_IsObject(l))
        return mn_error_set(err, MN_EINVAL, NULL, "a layer must be a JSON object");
    if ((rc = mn_json_require(l, "op", err)))
        return rc;
    const char *opname = NULL;
    if ((rc = mn_json_get_str(l, "op", 32, &opname, err)))
        return rc;
    op = mn_op_from_name(opname);
    if (op <= MN_OP_INPUT)
        return mn_error_set(err, MN_EINVAL, "op", "unknown op '%s' (known: conv2d, dwconv2d, "
                            "dense, avgpool, maxpool, gavgpool, gmaxpool, add, relu, "
                            "batchnorm, flatten, softmax, zero)", opname);
    unsigned f = op_fields[op];
    int nk = 3;
    for (int i = 0; i < N_FIELD_KEYS; i++)
        if (f & (1u << i))
            keys[nk++] = field_keys[i];
    keys[nk] = NULL;
    if ((rc = mn_json_check_keys(l, keys, err))) {
        char bad[sizeof err->field];
        snprintf(bad, sizeof bad, "%s", err->field);
        return mn_error_set(err, rc, bad, "'%s' does not apply to %s", bad, opname);
    }
    *ly = mn_layer_make((enum mn_op)op, 0);
    if ((rc = get_name(l, g, ly, err)) || (rc = get_inputs(l, g, ly, err)))
        return rc;
    int bias = has_bias_default(ly->op), bn = 0, cip = 0, act = MN_ACT_NONE;
    if (f & F_FILTERS)
        rc = mn_json_require(l, "filters", err) ? MN_EINVAL
             : mn_json_get_i32(l, "filters", 1, MAX_SIDE, &ly->filters, err);
    if (!rc && (f & F_UNITS))
        rc = mn_json_require(l, "units", err) ? MN_EINVAL
             : mn_json_get_i32(l, "units", 1, MAX_SIDE, &ly->filters, err);
    if (!rc && (f & F_KERNEL))
        rc = mn_json_require(l, "kernel", err) ? MN_EINVAL
             : get_pair(l, "kernel", 1, MAX_SIDE, &ly->kh, &ly->kw, err);
    if (!rc && (f & F_STRIDE)) {
        if (is_pool(ly->op)) {
            ly->sh = ly->kh;
            ly->sw = ly->kw;
        }
        rc = get_pair(l, "stride", 1, MAX_SIDE, &ly->sh, &ly->sw, err);
    }
    if (!rc && (f & F_PAD))
        rc = get_padding(l, ly, g->layers[ly->in[0]].out, err);
    if (!rc)
        rc = mn_json_get_bool(l, "bias", &bias, err);
    if (!rc)
        rc = mn_json_get_bool(l, "bn", &bn, err);
    if (!rc)
        rc = mn_json_get_bool(l, "count_include_pad", &cip, err);
    if (!rc)
        rc = mn_json_get_enum(l, "activation", (const char *const[]){"none", "relu", "relu6"},
                              MN_ACT_COUNT, &act, err);
    ly->bias = (unsigned char)bias;
    ly->bn = (unsigned char)bn;
    ly->count_include_pad = (unsigned char)cip;
    ly->act = (enum mn_act)act;
    return rc;
}

/* Copies g->error into err without graph.c's " (layer N)" suffix: the field already
 * says which entry of "layers" it is. */
static int graph_error(const struct mn_graph *g, int rc, struct mn_error *err)
{
    char msg[sizeof g->error.message];
    snprintf(msg, sizeof msg, "%s", g->error.message);
    char *cut = strstr(msg, " (layer ");
    if (cut)
        *cut = '\0';
    return mn_error_set(err, rc, NULL, "%s", msg);
}

struct mn_graph *mn_graph_from_json(const cJSON *j, struct mn_error *err)
{
    static const char *const keys[] = {"input", "layers", NULL};
    struct mn_shape in = {0, 0, 0};
    struct mn_graph *g = NULL;
    int rc = mn_json_expect_object(j, "a layer graph", err);
    if (!rc)
        rc = mn_json_check_keys(j, keys, err);
    if (!rc)
        rc = mn_json_require(j, "input", err);
    if (!rc)
        rc = mn_json_require(j, "layers", err);
    if (!rc)
        rc = mn_graph_json_get_shape(j, "input", &in, err);
    if (!rc && (in.c == 0 || in.h == 0 || in.w == 0))
        rc = mn_error_set(err, MN_EINVAL, "input", "'input' needs c, h and w");
    const cJSON *layers = cJSON_GetObjectItemCaseSensitive(j, "layers");
    int n = cJSON_GetArraySize(layers);
    if (!rc && (!cJSON_IsArray(layers) || n < 1 || n > MAX_LAYERS))
        rc = mn_error_set(err, MN_EINVAL, "layers", "'layers' must be a list of 1 to %d "
                          "layers", MAX_LAYERS);
    if (rc)
        return NULL;
    if (!(g = mn_graph_new(in.c, in.h, in.w))) {
        mn_error_set(err, MN_ENOMEM, NULL, "out of memory");
        return NULL;
    }
    const cJSON *l;
    int i = 0;
    cJSON_ArrayForEach(l, layers) {
        struct mn_layer ly;
        rc = parse_layer(l, g, &ly, err);
        if (!rc) {
            int idx = mn_graph_add(g, &ly);
            rc = idx < 0 ? graph_error(g, idx, err) : MN_OK;
        }
        if (rc) {
            char f[32];
            snprintf(f, sizeof f, "layers[%d]", i);
            mn_error_prefix_field(err, f);
            mn_graph_free(g);
            return NULL;
        }
        i++;
    }
    return g;
}

/* ---- printing ---- */

static cJSON *pair_json(int a, int b)
{
    if (a == b)
        return cJSON_CreateNumber(a);
    int v[2] = {a, b};
    return cJSON_CreateIntArray(v, 2);
}

static cJSON *input_ref(const struct mn_graph *g, int idx)
{
    if (idx == 0)
        return cJSON_CreateString("input");
    if (g->layers[idx].name[0])
        return cJSON_CreateString(g->layers[idx].name);
    return cJSON_CreateNumber(idx - 1);
}

/* Adds item under key, reporting failure (item NULL or not added). */
static int put(cJSON *o, const char *key, cJSON *item)
{
    if (!item)
        return -1;
    if (!cJSON_AddItemToObject(o, key, item)) {
        cJSON_Delete(item);
        return -1;
    }
    return 0;
}

static cJSON *layer_json(const struct mn_graph *g, int i)
{
    const struct mn_layer *l = &g->layers[i];
    unsigned f = op_fields[l->op];
    cJSON *o = cJSON_CreateObject();
    int bad = !o || put(o, "op", cJSON_CreateString(mn_op_name(l->op)));
    if (!bad && l->name[0])
        bad = put(o, "name", cJSON_CreateString(l->name));
    if (!bad && !(l->n_in == 1 && l->in[0] == i - 1)) {
        cJSON *a = cJSON_CreateArray();
        bad = put(o, "inputs", a);
        for (int k = 0; !bad && k < l->n_in; k++) {
            cJSON *r = input_ref(g, l->in[k]);
            bad = !r || !cJSON_AddItemToArray(a, r);
            if (bad)
                cJSON_Delete(r);
        }
    }
    if (!bad && (f & F_FILTERS))
        bad = put(o, "filters", cJSON_CreateNumber(l->filters));
    if (!bad && (f & F_UNITS))
        bad = put(o, "units", cJSON_CreateNumber(l->filters));
    if (!bad && is_windowed(l->op)) {
        int dh = is_pool(l->op) ? l->kh : 1, dw = is_pool(l->op) ? l->kw : 1;
        bad = put(o, "kernel", pair_json(l->kh, l->kw));
        if (!bad && (l->sh != dh || l->sw != dw))
            bad = put(o, "stride", pair_json(l->sh, l->sw));
        int p = l->pad_t;
        if (!bad && (p || l->pad_b || l->pad_l || l->pad_r)) {
            int v[4] = {l->pad_t, l->pad_b, l->pad_l, l->pad_r};
            int same = p == v[1] && p == v[2] && p == v[3];
            bad = put(o, "padding", same ? cJSON_CreateNumber(p) : cJSON_CreateIntArray(v, 4));
        }
    }
    if (!bad && (f & F_BIAS) && !l->bias)
        bad = put(o, "bias", cJSON_CreateFalse());
    if (!bad && l->bn)
        bad = put(o, "bn", cJSON_CreateTrue());
    if (!bad && l->count_include_pad)
        bad = put(o, "count_include_pad", cJSON_CreateTrue());
    int default_act = l->op == MN_OP_RELU ? MN_ACT_RELU : MN_ACT_NONE;
    if (!bad && (f & F_ACT) && (int)l->act != default_act)
        bad = put(o, "activation", cJSON_CreateString(mn_act_name(l->act)));
    if (bad) {
        cJSON_Delete(o);
        return NULL;
    }
    return o;
}

cJSON *mn_graph_to_json(const struct mn_graph *g)
{
    cJSON *o = cJSON_CreateObject();
    int bad = !o || put(o, "input", mn_graph_json_shape(g->layers[0].out));
    cJSON *layers = bad ? NULL : cJSON_CreateArray();
    bad = bad || put(o, "layers", layers);
    for (int i = 1; !bad && i < g->n; i++) {
        cJSON *l = layer_json(g, i);
        bad = !l || !cJSON_AddItemToArray(layers, l);
        if (bad)
            cJSON_Delete(l);
    }
    if (bad) {
        cJSON_Delete(o);
        return NULL;
    }
    return o;
}
