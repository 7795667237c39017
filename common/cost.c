/* cost.c — the MCU cost model (see cost.h): per-layer terms from shapes, flash and
 * SRAM accounting, peak memory through memorder, latency from the profile. */
#include "cost.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "json.h"
#include "memorder.h"

#define QUANT_BYTES 12 /* a float32 scale and an int64 zero point per channel */

enum work { W_NONE, W_MACS, W_WINDOW, W_INPUT };
enum scratch { S_NONE, S_IM2COL, S_DW, S_POOL };

/* How each op kind is costed. */
static const struct {
    enum work work;
    unsigned char weighted;  /* int8 weights, optional int32 bias, per-channel quant */
    enum scratch scratch;
    unsigned char constants; /* constant tensors besides weights and bias */
} kinds[MN_OP_COUNT] = {
    [MN_OP_INPUT] = {W_NONE, 0, S_NONE, 0},
    [MN_OP_CONV2D] = {W_MACS, 1, S_IM2COL, 0},
    [MN_OP_DWCONV2D] = {W_MACS, 1, S_DW, 0},
    [MN_OP_DENSE] = {W_MACS, 1, S_NONE, 0},
    [MN_OP_AVGPOOL] = {W_WINDOW, 0, S_POOL, 0},
    [MN_OP_MAXPOOL] = {W_WINDOW, 0, S_NONE, 0},
    [MN_OP_GAVGPOOL] = {W_INPUT, 0, S_NONE, 0},
    [MN_OP_GMAXPOOL] = {W_INPUT, 0, S_NONE, 0},
    [MN_OP_ADD] = {W_NONE, 0, S_NONE, 0},
    [MN_OP_ZERO] = {W_NONE, 0, S_NONE, 0},
    [MN_OP_RELU] = {W_NONE, 0, S_NONE, 0},
    [MN_OP_BATCHNORM] = {W_NONE, 0, S_NONE, 2},
    [MN_OP_FLATTEN] = {W_NONE, 0, S_NONE, 0},
    [MN_OP_SOFTMAX] = {W_NONE, 0, S_NONE, 0},
};

void mn_cost_layer_terms(const struct mn_graph *g, int i, struct mn_cost_terms *t)
{
    const struct mn_layer *l = &g->layers[i];
    int64_t out = mn_shape_size(l->out);
    memset(t, 0, sizeof *t);
    t->tensors = 1;
    if (l->op == MN_OP_INPUT)
        return;
    int64_t in = mn_shape_size(g->layers[l->in[0]].out);
    t->calls = l->op == MN_OP_ADD ? l->n_in - 1 : 1;
    t->elements = (double)out * t->calls;
    switch (kinds[l->op].work) {
    case W_MACS:
        t->macs = (double)mn_layer_macs(g, i);
        break;
    case W_WINDOW:
        t->macs = (double)out * l->kh * l->kw;
        break;
    case W_INPUT:
        t->macs = (double)in;
        break;
    case W_NONE:
        break;
    }
    if (kinds[l->op].weighted) {
        int64_t cout = l->out.c;
        int has_bias = l->bias || l->bn;
        int64_t w = mn_layer_params(g, i) - (l->bias ? cout : 0) - (l->bn ? 2 * cout : 0);
        t->param_bytes = w + QUANT_BYTES * cout + (has_bias ? (4 + QUANT_BYTES) * cout : 0);
        t->tensors += 1 + has_bias;
        t->channels = (int)cout;
    }
    if (kinds[l->op].constants) {
        t->param_bytes = kinds[l->op].constants * (l->out.c + QUANT_BYTES);
        t->tensors += kinds[l->op].constants;
    }
}

int64_t mn_cost_layer_scratch(const struct mn_graph *g, int i, const struct mn_mcu *m)
{
    const struct mn_layer *l = &g->layers[i];
    if (l->op == MN_OP_INPUT)
        return 0;
    int64_t cin = g->layers[l->in[0]].out.c, area = (int64_t)l->kh * l->kw;
    int pointwise = area == 1 && l->sh == 1 && l->sw == 1 &&
                    !(l->pad_t | l->pad_b | l->pad_l | l->pad_r);
    switch (kinds[l->op].scratch) {
    case S_IM2COL:
        return pointwise ? 0 : m->scratch.conv2d_bytes_per_col * cin * area;
    case S_DW:
        return m->scratch.dwconv2d_bytes_per_col * cin * area;
    case S_POOL:
        return m->scratch.avgpool_bytes_per_channel * cin;
    case S_NONE:
        break;
    }
    return 0;
}

void mn_cost_release(struct mn_cost *c)
{
    if (!c)
        return;
    free(c->layers);
    c->layers = NULL;
}

/* Best-order peak of g with the given per-layer tensor bytes (input counted or not)
 * and scratch (or NULL); the order is kept in *o when o is not NULL. */
static int best_peak(const struct mn_graph *g, const int64_t *bytes, const int64_t *scratch,
                     int64_t input_bytes, int64_t *peak, int *exact, struct mn_memorder *o,
                     struct mn_error *err)
{
    int64_t *b = malloc((size_t)g->n * sizeof *b);
    struct mn_memorder tmp;
    if (!b)
        return mn_error_set(err, MN_ENOMEM, NULL, "out of memory");
    memcpy(b, bytes, (size_t)g->n * sizeof *b);
    b[0] = input_bytes;
    int rc = mn_memorder_search(g, b, scratch, MN_MEMORDER_BEAM, o ? o : &tmp, err);
    free(b);
    if (rc)
        return rc;
    *peak = (o ? o : &tmp)->peak;
    *exact &= (o ? o : &tmp)->exact;
    if (!o)
        mn_memorder_release(&tmp);
    return MN_OK;
}

int mn_cost_estimate(const struct mn_graph *g, const struct mn_mcu *m, struct mn_cost *out,
                     struct mn_error *err)
{
    memset(out, 0, sizeof *out);
    if (!g || g->n < 1)
        return mn_error_set(err, MN_EINVAL, NULL, "empty layer graph");
    int n = g->n, rc;
    int64_t *bytes = malloc((size_t)n * sizeof *bytes);
    int64_t *scratch = malloc((size_t)n * sizeof *scratch);
    struct mn_cost_layer *rows = calloc((size_t)n, sizeof *rows);
    struct mn_memorder sram = {0};
    int64_t channels = 0, unused;
    if (!bytes || !scratch || !rows) {
        rc = mn_error_set(err, MN_ENOMEM, NULL, "out of memory");
        goto fail;
    }
    snprintf(out->mcu, sizeof out->mcu, "%s", m->id);
    for (int i = 0; i < n; i++) {
        const struct mn_layer *l = &g->layers[i];
        const struct mn_mcu_latency *lat = &m->latency[l->op];
        struct mn_cost_terms t;
        struct mn_cost_layer *r = &rows[i];
        mn_cost_layer_terms(g, i, &t);
        bytes[i] = mn_shape_size(l->out);
        scratch[i] = mn_cost_layer_scratch(g, i, m);
        r->index = i;
        r->op = l->op;
        snprintf(r->name, sizeof r->name, "%s", l->name);
        r->out = l->out;
        r->macs = mn_layer_macs(g, i);
        r->params = mn_layer_params(g, i);
        r->flash_bytes = t.param_bytes + t.tensors * m->flash.tensor_bytes;
        r->scratch_bytes = scratch[i];
        r->latency_cycles = l->op == MN_OP_INPUT ? 0
                            : t.calls * lat->fixed_cycles + t.macs * lat->cycles_per_mac +
                                  t.elements * lat->cycles_per_element;
        r->latency_ms = 1e3 * r->latency_cycles / (double)m->clock_hz;
        out->macs += r->macs;
        out->params += r->params;
        out->param_bytes += t.param_bytes;
        out->flash_bytes += r->flash_bytes;
        out->latency_cycles += r->latency_cycles;
        channels += t.channels;
    }
    out->order_exact = 1;
    if ((rc = best_peak(g, bytes, NULL, bytes[0], &out->peak_activation_bytes,
                        &out->order_exact, NULL, err)) ||
        (rc = best_peak(g, bytes, NULL, 0, &out->peak_activation_no_input_bytes,
                        &out->order_exact, NULL, err)) ||
        (rc = best_peak(g, bytes, scratch, 0, &unused, &out->order_exact, NULL, err)))
        goto fail;
    int64_t runtime = m->sram.runtime_bytes + m->sram.layer_bytes * (n - 1) +
                      m->sram.channel_bytes * channels;
    out->peak_sram_no_input_bytes = unused + runtime;
    if ((rc = best_peak(g, bytes, scratch, bytes[0], &out->peak_sram_bytes, &out->order_exact,
                        &sram, err)))
        goto fail;
    out->peak_sram_bytes += runtime;
    out->peak_step = sram.peak_step;
    out->peak_layer = sram.order[sram.peak_step];
    out->flash_bytes += m->flash.runtime_bytes + m->flash.model_bytes;
    out->latency_ms = 1e3 * out->latency_cycles / (double)m->clock_hz;
    out->sram_budget = m->sram_bytes;
    out->flash_budget = m->flash_bytes;
    out->fits_sram = out->peak_sram_bytes <= m->sram_bytes;
    out->fits_flash = out->flash_bytes <= m->flash_bytes;
    /* Rows in execution order, with the memory of their step. */
    out->layers = malloc((size_t)n * sizeof *out->layers);
    if (!out->layers) {
        rc = mn_error_set(err, MN_ENOMEM, NULL, "out of memory");
        goto fail;
    }
    for (int k = 0; k < n; k++) {
        int i = sram.order[k];
        out->layers[k] = rows[i];
        out->layers[k].activation_bytes = sram.step_bytes[k] - scratch[i];
    }
    out->n_layers = n;
    rc = MN_OK;
fail:
    mn_memorder_release(&sram);
    free(bytes);
    free(scratch);
    free(rows);
    if (rc)
        mn_cost_release(out);
    return rc;
}

static cJSON *shape_json(struct mn_shape s)
{
    cJSON *a = cJSON_CreateArray();
    int v[3] = {s.c, s.h, s.w};
    for (int i = 0; a && i < 3; i++)
        if (!cJSON_AddItemToArray(a, cJSON_CreateNumber(v[i]))) {
            cJSON_Delete(a);
            return NULL;
        }
    return a;
}

static cJSON *layer_json(const struct mn_cost_layer *r)
{
    cJSON *o = cJSON_CreateObject();
    cJSON *shape = shape_json(r->out);
    int ok = o && shape && cJSON_AddNumberToObject(o, "index", r->index) &&
             cJSON_AddStringToObject(o, "op", mn_op_name(r->op)) &&
             (!r->name[0] || cJSON_AddStringToObject(o, "name", r->name));
    if (ok && cJSON_AddItemToObject(o, "out_shape", shape))
        shape = NULL;
    else
        ok = 0;
    ok = ok && cJSON_AddNumberToObject(o, "macs", (double)r->macs) &&
         cJSON_AddNumberToObject(o, "params", (double)r->params) &&
         cJSON_AddNumberToObject(o, "flash_bytes", (double)r->flash_bytes) &&
         cJSON_AddNumberToObject(o, "activation_bytes", (double)r->activation_bytes) &&
         cJSON_AddNumberToObject(o, "scratch_bytes", (double)r->scratch_bytes) &&
         mn_json_add_num(o, "latency_ms", r->latency_ms);
    cJSON_Delete(shape);
    if (!ok) {
        cJSON_Delete(o);
        return NULL;
    }
    return o;
}

cJSON *mn_cost_to_json(const struct mn_cost *c, int with_layers)
{
    cJSON *o = cJSON_CreateObject();
    int ok = o && cJSON_AddStringToObject(o, "mcu", c->mcu) &&
             cJSON_AddNumberToObject(o, "macs", (double)c->macs) &&
             cJSON_AddNumberToObject(o, "params", (double)c->params) &&
             cJSON_AddNumberToObject(o, "param_bytes", (double)c->param_bytes) &&
             cJSON_AddNumberToObject(o, "flash_bytes", (double)c->flash_bytes) &&
             cJSON_AddNumberToObject(o, "peak_sram_bytes", (double)c->peak_sram_bytes) &&
             cJSON_AddNumberToObject(o, "peak_sram_no_input_bytes",
                                     (double)c->peak_sram_no_input_bytes) &&
             cJSON_AddNumberToObject(o, "peak_activation_bytes",
                                     (double)c->peak_activation_bytes) &&
             cJSON_AddNumberToObject(o, "peak_activation_no_input_bytes",
                                     (double)c->peak_activation_no_input_bytes) &&
             cJSON_AddNumberToObject(o, "peak_layer", c->peak_layer) &&
             cJSON_AddNumberToObject(o, "peak_step", c->peak_step) &&
             cJSON_AddBoolToObject(o, "order_exact", c->order_exact) &&
             mn_json_add_num(o, "latency_ms", c->latency_ms) &&
             mn_json_add_num(o, "latency_cycles", c->latency_cycles) &&
             cJSON_AddBoolToObject(o, "fits_sram", c->fits_sram) &&
             cJSON_AddBoolToObject(o, "fits_flash", c->fits_flash) &&
             cJSON_AddNumberToObject(o, "sram_budget_bytes", (double)c->sram_budget) &&
             cJSON_AddNumberToObject(o, "flash_budget_bytes", (double)c->flash_budget);
    cJSON *arr = ok && with_layers ? cJSON_AddArrayToObject(o, "layers") : NULL;
    ok = ok && (!with_layers || arr);
    for (int k = 0; ok && with_layers && k < c->n_layers; k++) {
        cJSON *r = layer_json(&c->layers[k]);
        ok = r && cJSON_AddItemToArray(arr, r);
        if (!ok)
            cJSON_Delete(r);
    }
    if (!ok) {
        cJSON_Delete(o);
        return NULL;
    }
    return o;
}
