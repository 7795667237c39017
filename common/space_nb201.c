/* space_nb201.c — the NAS-Bench-201 cell space (Dong & Yang, ICLR 2020): 6 edges of a
 * 4-node cell, each one of none, skip_connect, nor_conv_1x1, nor_conv_3x3,
 * avg_pool_3x3 (15,625 architectures), written "|op~0|+|op~0|op~1|+|op~0|op~1|op~2|".
 *
 * For TE-NAS/MONAS pruning an edge may also hold a set of ops, "|a,b,c~0|": the edge
 * outputs the sum of its ops (a supernet edge, without the softmax weights; 'none' in a
 * set adds nothing and is dropped from the canonical form). Sampling, mutation and
 * enumeration give single-op architectures only.
 *
 * Settings: C (16), N (5), input {c,h,w} (3×32×32), classes (10), macro ("network").
 * macro "network" is NB201's net: stem conv3×3+BN; 3 stages of N cells (C, 2C, 4C)
 * with a ResNet basic block between stages; BN+ReLU, global average pool, linear.
 * macro "cell" is TE-NAS's linear-region network (C=1, N=1, depth=1, no stem, on
 * 1×3×3 inputs in TE-NAS): one cell on the input, then BN+ReLU, global average pool,
 * linear; it needs input.c == C. */
#include <stdlib.h>
#include <string.h>
#include "json.h"
#include "graph_json.h"
#include "space_impl.h"

#define N_EDGES 6
#define N_NODES 4
#define MAX_TEXT 1024

enum { OP_NONE, OP_SKIP, OP_CONV1, OP_CONV3, OP_POOL, N_OPS };
enum kind { K_NOTHING, K_ALIAS, K_RELU_CONV, K_AVGPOOL };

static const struct {
    const char *name;
    enum kind kind;
    int k;
} ops[N_OPS] = {
    [OP_NONE] = {"none", K_NOTHING, 0},
    [OP_SKIP] = {"skip_connect", K_ALIAS, 0},
    [OP_CONV1] = {"nor_conv_1x1", K_RELU_CONV, 1},
    [OP_CONV3] = {"nor_conv_3x3", K_RELU_CONV, 3},
    [OP_POOL] = {"avg_pool_3x3", K_AVGPOOL, 3},
};

/* Edge e runs from node edge_from[e] into node edge_to[e], in string order. */
static const int edge_from[N_EDGES] = {0, 0, 1, 0, 1, 2};
static const int edge_to[N_EDGES] = {1, 2, 2, 3, 3, 3};

enum { MACRO_NETWORK, MACRO_CELL, N_MACROS };
static const char *const macro_names[N_MACROS] = {"network", "cell"};

struct nb_cfg {
    int C, N, classes, macro;
    struct mn_shape in;
};

struct nb_arch {
    unsigned char mask[N_EDGES]; /* bit o set: op o on the edge */
};

/* ---- settings ---- */

static int nb_create(const cJSON *s, void **out, struct mn_error *err)
{
    static const char *const keys[] = {"C", "N", "input", "classes", "macro", NULL};
    struct nb_cfg c = {.C = 16, .N = 5, .classes = 10, .macro = MACRO_NETWORK,
                       .in = {3, 32, 32}};
    int rc = s ? mn_json_check_keys(s, keys, err) : MN_OK;
    if (!rc)
        rc = mn_json_get_i32(s, "C", 1, 4096, &c.C, err);
    if (!rc)
        rc = mn_json_get_i32(s, "N", 1, 64, &c.N, err);
    if (!rc)
        rc = mn_graph_json_get_shape(s, "input", &c.in, err);
    if (!rc)
        rc = mn_json_get_i32(s, "classes", 1, 100000, &c.classes, err);
    if (!rc)
        rc = mn_json_get_enum(s, "macro", macro_names, N_MACROS, &c.macro, err);
    if (!rc && c.macro == MACRO_NETWORK && (c.in.h % 4 || c.in.w % 4))
        rc = mn_error_set(err, MN_EINVAL, c.in.h % 4 ? "input.h" : "input.w",
                          "input height and width must be multiples of 4 (two stride-2 "
                          "stages), got %d×%d", c.in.h, c.in.w);
    if (!rc && c.macro == MACRO_CELL && c.in.c != c.C)
        rc = mn_error_set(err, MN_EINVAL, "input.c", "macro 'cell' has no stem: input.c "
                          "must equal C (%d), got %d", c.C, c.in.c);
    if (rc)
        return rc;
    struct nb_cfg *p = malloc(sizeof *p);
    if (!p)
        return mn_error_set(err, MN_ENOMEM, NULL, "out of memory");
    *p = c;
    *out = p;
    return MN_OK;
}

static void nb_cfg_free(void *cfg)
{
    free(cfg);
}

static cJSON *nb_settings_json(const void *cfg)
{
    const struct nb_cfg *c = cfg;
    cJSON *o = cJSON_CreateObject();
    int ok = o && cJSON_AddNumberToObject(o, "C", c->C) && cJSON_AddNumberToObject(o, "N", c->N);
    cJSON *in = ok ? mn_graph_json_shape(c->in) : NULL;
    if (in && !cJSON_AddItemToObject(o, "input", in)) {
        cJSON_Delete(in);
        in = NULL;
    }
    ok = in && cJSON_AddNumberToObject(o, "classes", c->classes) &&
         cJSON_AddStringToObject(o, "macro", macro_names[c->macro]);
    if (!ok) {
        cJSON_Delete(o);
        return NULL;
    }
    return o;
}

static int64_t nb_size(const void *cfg)
{
    (void)cfg;
    return 15625; /* 5^6 */
}

/* ---- the string form ---- */

static int popcount(unsigned m)
{
    int n = 0;
    for (; m; m &= m - 1)
        n++;
    return n;
}

/* 'none' beside other ops contributes nothing: drop it so the key is canonical. */
static unsigned char canon_mask(unsigned m)
{
    return (unsigned char)(popcount(m) > 1 ? m & ~(1u << OP_NONE) : m);
}

/* Parses one edge token "op[,op...]~j" of edge e into *mask. */
static int parse_edge(char *tok, int e, unsigned char *mask, struct mn_error *err)
{
    char *tilde = strrchr(tok, '~');
    int from = edge_from[e], to = edge_to[e];
    if (!tilde)
        return mn_error_set(err, MN_EPARSE, NULL, "edge %d (node %d from node %d): expected "
                            "'op~%d', got '%s'", e, to, from, from, tok);
    *tilde = '\0';
    char *end;
    long j = strtol(tilde + 1, &end, 10);
    if (end == tilde + 1 || *end || j != from)
        return mn_error_set(err, MN_EPARSE, NULL, "edge %d of node %d must come from node %d, "
                            "got '~%s'", e, to, from, tilde + 1);
    unsigned m = 0;
    for (char *p = tok, *next; p; p = next) {
        next = strchr(p, ',');
        if (next)
            *next++ = '\0';
        int o = 0;
        while (o < N_OPS && strcmp(ops[o].name, p) != 0)
            o++;
        if (o == N_OPS)
            return mn_error_set(err, MN_EINVAL, NULL, "unknown op '%s' at edge %d (node %d "
                                "from node %d); known: none, skip_connect, nor_conv_1x1, "
                                "nor_conv_3x3, avg_pool_3x3", p, e, to, from);
        if (m & (1u << o))
            return mn_error_set(err, MN_EINVAL, NULL, "op '%s' repeated at edge %d", p, e);
        m |= 1u << o;
    }
    *mask = canon_mask(m);
    return MN_OK;
}

static int parse_text(const char *text, struct nb_arch *a, struct mn_error *err)
{
    char buf[MAX_TEXT];
    size_t len = strlen(text);
    while (len && strchr(" \t\r\n", text[len - 1]))
        len--;
    if (len >= sizeof buf)
        return mn_error_set(err, MN_EPARSE, NULL, "architecture string longer than %d "
                            "characters", MAX_TEXT - 1);
    memcpy(buf, text, len);
    buf[len] = '\0';
    int nodes = 1;
    for (char *p = buf; *p; p++)
        nodes += *p == '+';
    if (nodes != N_NODES - 1)
        return mn_error_set(err, MN_EPARSE, NULL, "expected %d nodes separated by '+' "
                            "('|op~0|+|op~0|op~1|+|op~0|op~1|op~2|'), got %d", N_NODES - 1,
                            nodes);
    int e = 0;
    char *grp = buf;
    for (int node = 1; node < N_NODES; node++) {
        char *plus = strchr(grp, '+');
        if (plus)
            *plus = '\0';
        size_t gl = strlen(grp);
        if (gl < 2 || grp[0] != '|' || grp[gl - 1] != '|')
            return mn_error_set(err, MN_EPARSE, NULL, "node %d must be written '|...|', got "
                                "'%s'", node, grp);
        grp[gl - 1] = '\0';
        int n = 1;
        for (char *p = grp + 1; *p; p++)
            n += *p == '|';
        if (n != node)
            return mn_error_set(err, MN_EPARSE, NULL, "node %d must have %d edge%s, got %d",
                                node, node, node > 1 ? "s" : "", n);
        for (char *tok = grp + 1, *next; tok; tok = next, e++) {
            next = strchr(tok, '|');
            if (next)
                *next++ = '\0';
            int rc = parse_edge(tok, e, &a->mask[e], err);
            if (rc)
                return rc;
        }
        grp = plus ? plus + 1 : NULL;
    }
    return MN_OK;
}

/* The canonical text of a, built with memcpy (it is on monasd's proposing path, where
 * snprintf per piece dominated the cost of a candidate). Caller frees. */
static char *to_text(const struct nb_arch *a)
{
    static const size_t len[N_OPS] = {4, 12, 12, 12, 12}; /* strlen(ops[o].name) */
    char buf[MAX_TEXT], *p = buf; /* at most 6 × (5 names + 4 commas + "|~n" + "|+") */
    for (int e = 0; e < N_EDGES; e++) {
        if (e && edge_to[e] != edge_to[e - 1]) {
            memcpy(p, "|+", 2);
            p += 2;
        }
        *p++ = '|';
        int first = 1;
        for (int o = 0; o < N_OPS; o++)
            if (a->mask[e] & (1u << o)) {
                if (!first)
                    *p++ = ',';
                memcpy(p, ops[o].name, len[o]);
                p += len[o];
                first = 0;
            }
        *p++ = '~';
        *p++ = (char)('0' + edge_from[e]);
    }
    *p++ = '|';
    char *s = malloc((size_t)(p - buf) + 1);
    if (s) {
        memcpy(s, buf, (size_t)(p - buf));
        s[p - buf] = 0;
    }
    return s;
}

static int new_arch(const struct nb_arch *src, void **out)
{
    struct nb_arch *a = malloc(sizeof *a);
    if (!a)
        return MN_ENOMEM;
    *a = *src;
    *out = a;
    return MN_OK;
}

static int nb_from_text(const void *cfg, const char *text, void **out, struct mn_error *err)
{
    struct nb_arch a;
    (void)cfg;
    int rc = parse_text(text, &a, err);
    if (!rc && (rc = new_arch(&a, out)))
        mn_error_set(err, rc, NULL, "out of memory");
    return rc;
}

static int nb_from_json(const void *cfg, const cJSON *j, void **out, struct mn_error *err)
{
    if (!cJSON_IsString(j))
        return mn_error_set(err, MN_EINVAL, NULL, "an nb201 architecture is a string "
                            "'|op~0|+|op~0|op~1|+|op~0|op~1|op~2|'");
    return nb_from_text(cfg, j->valuestring, out, err);
}

static cJSON *nb_to_json(const void *cfg, const void *arch)
{
    (void)cfg;
    char *s = to_text(arch);
    cJSON *j = s ? cJSON_CreateString(s) : NULL;
    free(s);
    return j;
}

static char *nb_key(const void *cfg, const void *arch)
{
    (void)cfg;
    return to_text(arch);
}

/* ---- sample, mutate, enumerate ---- */

static int nb_sample(const void *cfg, struct mn_rng *rng, void **out)
{
    struct nb_arch a;
    (void)cfg;
    for (int e = 0; e < N_EDGES; e++)
        a.mask[e] = (unsigned char)(1u << mn_rng_below(rng, N_OPS));
    return new_arch(&a, out);
}

/* One edge gets one op it does not hold alone now. */
static int nb_mutate(const void *cfg, const void *parent, struct mn_rng *rng, void **out)
{
    struct nb_arch a = *(const struct nb_arch *)parent;
    (void)cfg;
    int e = (int)mn_rng_below(rng, N_EDGES);
    int cur = -1;
    for (int o = 0; o < N_OPS; o++)
        if (a.mask[e] == 1u << o)
            cur = o;
    int o = cur < 0 ? (int)mn_rng_below(rng, N_OPS) : (int)mn_rng_below(rng, N_OPS - 1);
    if (cur >= 0 && o >= cur)
        o++;
    a.mask[e] = (unsigned char)(1u << o);
    return new_arch(&a, out);
}

/* index = Σ op(e)·5^(5−e): edge 0 is the most significant digit, ops in table order —
 * the order NB201's Structure.gen_all generates. (The benchmark file and the published
 * CSV list architectures in another order.) */
static int nb_enumerate(const void *cfg, int64_t index, void **out)
{
    struct nb_arch a;
    (void)cfg;
    for (int e = N_EDGES - 1; e >= 0; e--, index /= N_OPS)
        a.mask[e] = (unsigned char)(1u << (index % N_OPS));
    return new_arch(&a, out);
}

/* ---- lowering ---- */

/* Op o on an edge reading layer x at `ch` channels: the output layer, or negative. */
static int edge_op(struct mn_graph *g, int o, int x, int ch)
{
    switch (ops[o].kind) {
    case K_ALIAS:
        return x;
    case K_RELU_CONV: {
        int r = mn_graph_unary(g, MN_OP_RELU, x);
        return r < 0 ? r : mn_graph_conv2d(g, r, ch, ops[o].k, 1, ops[o].k / 2, 0, 1,
                                           MN_ACT_NONE);
    }
    case K_AVGPOOL:
        return mn_graph_pool(g, MN_OP_AVGPOOL, x, ops[o].k, 1, ops[o].k / 2, 0);
    default:
        return -1; /* K_NOTHING never reaches here */
    }
}

/* One cell on layer `in`; node i is the sum of its live edges' op outputs, or zero. */
static int cell(struct mn_graph *g, const struct nb_arch *a, int in, int ch)
{
    int node[N_NODES] = {in};
    for (int i = 1; i < N_NODES; i++) {
        int outs[MN_GRAPH_MAX_IN], n = 0;
        for (int e = 0; e < N_EDGES; e++) {
            if (edge_to[e] != i)
                continue;
            for (int o = 0; o < N_OPS; o++) {
                if (!(a->mask[e] & (1u << o)) || ops[o].kind == K_NOTHING)
                    continue;
                int r = edge_op(g, o, node[edge_from[e]], ch);
                if (r < 0)
                    return r;
                outs[n++] = r;
            }
        }
        node[i] = n == 0 ? mn_graph_unary(g, MN_OP_ZERO, in)
                  : n == 1 ? outs[0] : mn_graph_addn(g, outs, n, MN_ACT_NONE);
        if (node[i] < 0)
            return node[i];
    }
    return node[N_NODES - 1];
}

/* NB201's ResNetBasicblock, stride 2: ReLU-Conv3×3/2-BN, ReLU-Conv3×3-BN, plus the
 * shortcut AvgPool2d(2, 2) then Conv1×1 (no bias, no BN). */
static int resblock(struct mn_graph *g, int x, int ch)
{
    int r = mn_graph_unary(g, MN_OP_RELU, x);
    int a = r < 0 ? r : mn_graph_conv2d(g, r, ch, 3, 2, 1, 0, 1, MN_ACT_NONE);
    int r2 = a < 0 ? a : mn_graph_unary(g, MN_OP_RELU, a);
    int b = r2 < 0 ? r2 : mn_graph_conv2d(g, r2, ch, 3, 1, 1, 0, 1, MN_ACT_NONE);
    int p = b < 0 ? b : mn_graph_pool(g, MN_OP_AVGPOOL, x, 2, 2, 0, 0);
    int s = p < 0 ? p : mn_graph_conv2d(g, p, ch, 1, 1, 0, 0, 0, MN_ACT_NONE);
    int ins[2] = {b, s};
    return s < 0 ? s : mn_graph_addn(g, ins, 2, MN_ACT_NONE);
}

static int nb_lower(const void *cfg, const void *arch, struct mn_graph **out,
                    struct mn_error *err)
{
    const struct nb_cfg *c = cfg;
    const struct nb_arch *a = arch;
    struct mn_graph *g = mn_graph_new(c->in.c, c->in.h, c->in.w);
    if (!g)
        return mn_error_set(err, MN_ENOMEM, NULL, "out of memory");
    int x = 0;
    if (c->macro == MACRO_CELL) {
        x = cell(g, a, 0, c->C);
    } else {
        x = mn_graph_conv2d(g, 0, c->C, 3, 1, 1, 0, 1, MN_ACT_NONE);
        for (int s = 0; s < 3 && x >= 0; s++) {
            if (s > 0)
                x = resblock(g, x, c->C << s);
            for (int n = 0; n < c->N && x >= 0; n++)
                x = cell(g, a, x, c->C << s);
        }
    }
    if (x >= 0) {
        struct mn_layer bn = mn_layer_make(MN_OP_BATCHNORM, x);
        bn.act = MN_ACT_RELU;
        x = mn_graph_add(g, &bn);
    }
    if (x >= 0)
        x = mn_graph_unary(g, MN_OP_GAVGPOOL, x);
    if (x >= 0)
        x = mn_graph_dense(g, x, c->classes, 1, MN_ACT_NONE);
    if (x < 0) {
        int rc = mn_error_set(err, x, NULL, "nb201: %s", g->error.message);
        mn_graph_free(g);
        return rc;
    }
    mn_graph_prune(g);
    *out = g;
    return MN_OK;
}

static void nb_arch_free(void *arch)
{
    free(arch);
}

const struct mn_space_type mn_space_nb201 = {
    .name = "nb201",
    .summary = "NAS-Bench-201 cell space: 6 edges x 5 ops = 15,625 architectures",
    .arch_doc = "a string '|op~0|+|op~0|op~1|+|op~0|op~1|op~2|', op one of none, "
                "skip_connect, nor_conv_1x1, nor_conv_3x3, avg_pool_3x3; a supernet edge "
                "lists several ops joined by ',' (their sum)",
    .create = nb_create,
    .cfg_free = nb_cfg_free,
    .settings_json = nb_settings_json,
    .size = nb_size,
    .from_json = nb_from_json,
    .from_text = nb_from_text,
    .to_json = nb_to_json,
    .key = nb_key,
    .arch_free = nb_arch_free,
    .sample = nb_sample,
    .mutate = nb_mutate,
    .enumerate = nb_enumerate,
    .lower = nb_lower,
};
