/* graph.c — construction, checking and shape inference of the layer graph, and the
 * counts (parameters, MACs) that follow from shapes alone (see graph.h). */
#include "graph.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_DIM 65536
#define MAX_ELEMS (1LL << 28)

static const char *const op_names[MN_OP_COUNT] = {
    "input", "conv2d", "dwconv2d", "dense", "avgpool", "maxpool", "gavgpool",
    "gmaxpool", "add", "zero", "relu", "batchnorm", "flatten", "softmax",
};
static const char *const act_names[MN_ACT_COUNT] = {"none", "relu", "relu6"};

const char *mn_op_name(enum mn_op op)
{
    return (op >= 0 && op < MN_OP_COUNT) ? op_names[op] : "?";
}

const char *mn_act_name(enum mn_act act)
{
    return (act >= 0 && act < MN_ACT_COUNT) ? act_names[act] : "?";
}

static int find_name(const char *const *names, int n, const char *name)
{
    for (int i = 0; name && i < n; i++)
        if (strcmp(names[i], name) == 0)
            return i;
    return -1;
}

int mn_op_from_name(const char *name)
{
    return find_name(op_names, MN_OP_COUNT, name);
}

int mn_act_from_name(const char *name)
{
    return find_name(act_names, MN_ACT_COUNT, name);
}

int64_t mn_shape_size(struct mn_shape s)
{
    return (int64_t)s.c * s.h * s.w;
}

struct mn_graph *mn_graph_new(int c, int h, int w)
{
    if (c < 1 || h < 1 || w < 1 || c > MAX_DIM || h > MAX_DIM || w > MAX_DIM)
        return NULL;
    struct mn_graph *g = calloc(1, sizeof *g);
    if (!g)
        return NULL;
    g->cap = 32;
    g->layers = calloc((size_t)g->cap, sizeof *g->layers);
    if (!g->layers) {
        free(g);
        return NULL;
    }
    struct mn_layer *in = &g->layers[0];
    in->op = MN_OP_INPUT;
    in->out = (struct mn_shape){c, h, w};
    snprintf(in->name, sizeof in->name, "input");
    g->n = 1;
    return g;
}

void mn_graph_free(struct mn_graph *g)
{
    if (!g)
        return;
    free(g->layers);
    free(g);
}

struct mn_graph *mn_graph_clone(const struct mn_graph *g)
{
    struct mn_graph *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    *c = *g;
    c->layers = malloc((size_t)g->cap * sizeof *g->layers);
    if (!c->layers) {
        free(c);
        return NULL;
    }
    memcpy(c->layers, g->layers, (size_t)g->n * sizeof *g->layers);
    return c;
}

struct mn_layer mn_layer_make(enum mn_op op, int in)
{
    struct mn_layer l;
    memset(&l, 0, sizeof l);
    l.op = op;
    l.n_in = 1;
    l.in[0] = in;
    l.kh = l.kw = l.sh = l.sw = 1;
    return l;
}

/* Output extent of a sliding window, or 0 when the window does not fit. */
static int window_out(int size, int k, int stride, int pad0, int pad1)
{
    int span = size + pad0 + pad1 - k;
    return span < 0 ? 0 : span / stride + 1;
}

static int fail(struct mn_graph *g, int code, const char *fmt, const char *a, int b)
{
    mn_error_set(&g->error, code, NULL, fmt, a, b);
    return code;
}

/* Checks kernel, stride and padding of a windowed op; max_pad_half: pads ≤ k/2. */
static int check_window(struct mn_graph *g, const struct mn_layer *l, int max_pad_half)
{
    const char *name = mn_op_name(l->op);
    if (l->kh < 1 || l->kw < 1 || l->kh > MAX_DIM || l->kw > MAX_DIM)
        return fail(g, MN_EINVAL, "%s: kernel size must be at least 1 (layer %d)", name,
                    g->n);
    if (l->sh < 1 || l->sw < 1 || l->sh > MAX_DIM || l->sw > MAX_DIM)
        return fail(g, MN_EINVAL, "%s: stride must be at least 1 (layer %d)", name, g->n);
    int lim_h = max_pad_half ? l->kh / 2 : l->kh - 1;
    int lim_w = max_pad_half ? l->kw / 2 : l->kw - 1;
    if (l->pad_t < 0 || l->pad_b < 0 || l->pad_l < 0 || l->pad_r < 0 || l->pad_t > lim_h ||
        l->pad_b > lim_h || l->pad_l > lim_w || l->pad_r > lim_w)
        return fail(g, MN_EINVAL, "%s: padding out of range for the kernel (layer %d)", name,
                    g->n);
    return MN_OK;
}

static int infer(struct mn_graph *g, struct mn_layer *l)
{
    const char *name = mn_op_name(l->op);
    struct mn_shape s = g->layers[l->in[0]].out;
    int fused = l->op == MN_OP_CONV2D || l->op == MN_OP_DWCONV2D || l->op == MN_OP_DENSE;
    int may_act = fused || l->op == MN_OP_BATCHNORM || l->op == MN_OP_ADD ||
                  l->op == MN_OP_RELU;
    if ((l->bias || l->bn) && !fused)
        return fail(g, MN_EINVAL, "%s: bias and bn apply to conv2d, dwconv2d and dense only"
                    " (layer %d)", name, g->n);
    if (l->act != MN_ACT_NONE && !may_act)
        return fail(g, MN_EINVAL, "%s: takes no activation (layer %d)", name, g->n);
    if (l->count_include_pad && l->op != MN_OP_AVGPOOL)
        return fail(g, MN_EINVAL, "%s: count_include_pad applies to avgpool only (layer %d)",
                    name, g->n);
    int rc;
    switch (l->op) {
    case MN_OP_CONV2D:
    case MN_OP_DWCONV2D:
    case MN_OP_AVGPOOL:
    case MN_OP_MAXPOOL:
        if ((rc = check_window(g, l, l->op == MN_OP_AVGPOOL || l->op == MN_OP_MAXPOOL)))
            return rc;
        if (l->op == MN_OP_CONV2D && (l->filters < 1 || l->filters > MAX_DIM))
            return fail(g, MN_EINVAL, "%s: filters must be between 1 and 65536 (layer %d)",
                        name, g->n);
        s.h = window_out(s.h, l->kh, l->sh, l->pad_t, l->pad_b);
        s.w = window_out(s.w, l->kw, l->sw, l->pad_l, l->pad_r);
        if (s.h < 1 || s.w < 1)
            return fail(g, MN_EINVAL, "%s: kernel larger than its padded input (layer %d)",
                        name, g->n);
        if (l->op == MN_OP_CONV2D)
            s.c = l->filters;
        break;
    case MN_OP_DENSE:
        if (s.h != 1 || s.w != 1)
            return fail(g, MN_EINVAL, "%s: input must be flat; add flatten or a global pool "
                        "first (layer %d)", name, g->n);
        if (l->filters < 1 || l->filters > MAX_DIM)
            return fail(g, MN_EINVAL, "%s: units must be between 1 and 65536 (layer %d)",
                        name, g->n);
        s.c = l->filters;
        break;
    case MN_OP_GAVGPOOL:
    case MN_OP_GMAXPOOL:
        s.h = s.w = 1;
        break;
    case MN_OP_FLATTEN:
        s = (struct mn_shape){(int)mn_shape_size(s), 1, 1};
        break;
    case MN_OP_SOFTMAX:
        if (s.h != 1 || s.w != 1)
            return fail(g, MN_EINVAL, "%s: input must be flat (layer %d)", name, g->n);
        break;
    case MN_OP_ADD:
        for (int i = 1; i < l->n_in; i++) {
            struct mn_shape t = g->layers[l->in[i]].out;
            if (t.c != s.c || t.h != s.h || t.w != s.w)
                return fail(g, MN_EINVAL, "%s: inputs have different shapes (layer %d)",
                            name, g->n);
        }
        break;
    case MN_OP_RELU:
        if (l->act == MN_ACT_NONE)
            l->act = MN_ACT_RELU;
        break;
    case MN_OP_ZERO:
    case MN_OP_BATCHNORM:
        break;
    default:
        return fail(g, MN_EINVAL, "%s: not a layer that can be added (layer %d)", name,
                    g->n);
    }
    if (mn_shape_size(s) > MAX_ELEMS || s.c > MAX_ELEMS)
        return fail(g, MN_ETOOBIG, "%s: output larger than 2^28 elements (layer %d)", name,
                    g->n);
    l->out = s;
    return MN_OK;
}

int mn_graph_add(struct mn_graph *g, const struct mn_layer *src)
{
    struct mn_layer l = *src;
    mn_error_clear(&g->error);
    if (l.op <= MN_OP_INPUT || l.op >= MN_OP_COUNT)
        return fail(g, MN_EINVAL, "%s: unknown op (layer %d)", "layer", g->n);
    if (l.act < 0 || l.act >= MN_ACT_COUNT)
        return fail(g, MN_EINVAL, "%s: unknown activation (layer %d)", mn_op_name(l.op),
                    g->n);
    int min_in = l.op == MN_OP_ADD ? 2 : 1;
    int max_in = l.op == MN_OP_ADD ? MN_GRAPH_MAX_IN : 1;
    if (l.n_in < min_in || l.n_in > max_in)
        return fail(g, MN_EINVAL, "%s: wrong number of inputs (layer %d)", mn_op_name(l.op),
                    g->n);
    for (int i = 0; i < l.n_in; i++)
        if (l.in[i] < 0 || l.in[i] >= g->n)
            return fail(g, MN_EINVAL, "%s: input refers to a layer that does not precede it "
                        "(layer %d)", mn_op_name(l.op), g->n);
    int rc = infer(g, &l);
    if (rc)
        return rc;
    if (g->n == g->cap) {
        struct mn_layer *p = realloc(g->layers, (size_t)g->cap * 2 * sizeof *p);
        if (!p)
            return fail(g, MN_ENOMEM, "%s: out of memory (layer %d)", mn_op_name(l.op), g->n);
        g->layers = p;
        g->cap *= 2;
    }
    g->layers[g->n] = l;
    g->output = g->n;
    return g->n++;
}

/* A layer of op on in with a k×k window, stride and the same padding on every side. */
static struct mn_layer window_layer(enum mn_op op, int in, int k, int stride, int pad)
{
    struct mn_layer l = mn_layer_make(op, in);
    l.kh = l.kw = k;
    l.sh = l.sw = stride;
    l.pad_t = l.pad_b = l.pad_l = l.pad_r = pad;
    return l;
}

/* A convolution (op CONV2D or DWCONV2D) as window_layer, with its bias, BN and act. */
static struct mn_layer conv_layer(enum mn_op op, int in, int k, int stride, int pad, int bias,
                                  int bn, enum mn_act act)
{
    struct mn_layer l = window_layer(op, in, k, stride, pad);
    l.bias = (unsigned char)bias;
    l.bn = (unsigned char)bn;
    l.act = act;
    return l;
}

int mn_graph_conv2d(struct mn_graph *g, int in, int filters, int k, int stride, int pad,
                    int bias, int bn, enum mn_act act)
{
    struct mn_layer l = conv_layer(MN_OP_CONV2D, in, k, stride, pad, bias, bn, act);
    l.filters = filters;
    return mn_graph_add(g, &l);
}

int mn_graph_dwconv2d(struct mn_graph *g, int in, int k, int stride, int pad, int bias,
                      int bn, enum mn_act act)
{
    struct mn_layer l = conv_layer(MN_OP_DWCONV2D, in, k, stride, pad, bias, bn, act);
    return mn_graph_add(g, &l);
}

int mn_graph_dense(struct mn_graph *g, int in, int units, int bias, enum mn_act act)
{
    struct mn_layer l = mn_layer_make(MN_OP_DENSE, in);
    l.filters = units;
    l.bias = (unsigned char)bias;
    l.act = act;
    return mn_graph_add(g, &l);
}

int mn_graph_pool(struct mn_graph *g, enum mn_op op, int in, int k, int stride, int pad,
                  int count_include_pad)
{
    struct mn_layer l = window_layer(op, in, k, stride, pad);
    l.count_include_pad = (unsigned char)count_include_pad;
    return mn_graph_add(g, &l);
}

int mn_graph_unary(struct mn_graph *g, enum mn_op op, int in)
{
    struct mn_layer l = mn_layer_make(op, in);
    return mn_graph_add(g, &l);
}

int mn_graph_addn(struct mn_graph *g, const int *in, int n, enum mn_act act)
{
    struct mn_layer l = mn_layer_make(MN_OP_ADD, 0);
    if (n < 0 || n > MN_GRAPH_MAX_IN)
        return fail(g, MN_EINVAL, "%s: wrong number of inputs (layer %d)", "add", g->n);
    l.n_in = n;
    memcpy(l.in, in, (size_t)n * sizeof *in);
    l.act = act;
    return mn_graph_add(g, &l);
}

int mn_graph_prune(struct mn_graph *g)
{
    char *live = calloc((size_t)g->n, 1);
    int *map = malloc((size_t)g->n * sizeof *map);
    if (!live || !map) {
        free(live);
        free(map);
        return 0;
    }
    live[0] = 1;
    live[g->output] = 1;
    for (int i = g->output; i > 0; i--)
        if (live[i])
            for (int j = 0; j < g->layers[i].n_in; j++)
                live[g->layers[i].in[j]] = 1;
    int m = 0;
    for (int i = 0; i < g->n; i++) {
        map[i] = live[i] ? m : -1;
        if (!live[i])
            continue;
        struct mn_layer *l = &g->layers[m];
        *l = g->layers[i];
        for (int j = 0; j < l->n_in; j++)
            l->in[j] = map[l->in[j]];
        m++;
    }
    int removed = g->n - m;
    g->output = map[g->output];
    g->n = m;
    free(live);
    free(map);
    return removed;
}

int64_t mn_layer_params(const struct mn_graph *g, int i)
{
    const struct mn_layer *l = &g->layers[i];
    int64_t cin = l->n_in ? g->layers[l->in[0]].out.c : 0;
    int64_t cout = l->out.c, p = 0;
    switch (l->op) {
    case MN_OP_CONV2D:
        p = cin * cout * l->kh * l->kw;
        break;
    case MN_OP_DWCONV2D:
        p = cout * l->kh * l->kw;
        break;
    case MN_OP_DENSE:
        p = cin * cout;
        break;
    case MN_OP_BATCHNORM:
        return 2 * cout;
    default:
        return 0;
    }
    return p + (l->bias ? cout : 0) + (l->bn ? 2 * cout : 0);
}

int64_t mn_layer_macs(const struct mn_graph *g, int i)
{
    const struct mn_layer *l = &g->layers[i];
    int64_t out_hw = (int64_t)l->out.h * l->out.w;
    switch (l->op) {
    case MN_OP_CONV2D:
        return out_hw * l->out.c * g->layers[l->in[0]].out.c * l->kh * l->kw;
    case MN_OP_DWCONV2D:
        return out_hw * l->out.c * l->kh * l->kw;
    case MN_OP_DENSE:
        return (int64_t)g->layers[l->in[0]].out.c * l->out.c;
    default:
        return 0;
    }
}

int64_t mn_graph_params(const struct mn_graph *g)
{
    int64_t s = 0;
    for (int i = 1; i < g->n; i++)
        s += mn_layer_params(g, i);
    return s;
}

int64_t mn_graph_macs(const struct mn_graph *g)
{
    int64_t s = 0;
    for (int i = 1; i < g->n; i++)
        s += mn_layer_macs(g, i);
    return s;
}
