/* memorder.h — the operator execution order that minimises peak activation memory
 * (μNAS / Liberis & Lane, "operator reordering"): a dynamic programme over the
 * executed-layer sets of the layer graph (graph.h).
 *
 * Memory model. Every layer writes one buffer of tensor_bytes[i] bytes, except
 * flatten, which reuses its input's buffer in place. A buffer lives from the step
 * that writes it until every layer reading it (through any flatten alias) has run;
 * the network output's buffer lives to the end. While layer v runs, memory is every
 * live buffer (v's inputs included) plus v's new buffer plus scratch_bytes[v].
 * The peak of an order is the maximum of that over its steps.
 *
 * Search. The memory after a set S of layers has run depends only on S, so the best
 * peak to reach S is a function of S: the programme goes level by level (|S| = 0, 1,
 * ..., n), keeping for each distinct S the smallest peak and one predecessor. When
 * one level holds more than `beam` distinct sets, only the `beam` with the smallest
 * (peak so far, live bytes) are kept; the result is then a heuristic (a beam search
 * with the exact programme's objective) and `exact` is 0. For chains and graphs of
 * modest width (every NB201 and μNAS candidate seen so far) no level exceeds the beam
 * and the order is optimal. */
#ifndef MN_MEMORDER_H
#define MN_MEMORDER_H
#include <stdint.h>
#include "error.h"
#include "graph.h"

#define MN_MEMORDER_BEAM 512 /* default sets kept per level */

struct mn_memorder {
    int n;              /* layers in the graph */
    int *order;         /* n layer indices, the execution order; order[0] == 0 */
    int64_t *step_bytes;/* n: memory while order[k] runs (live + its buffer + scratch) */
    int64_t peak;       /* max of step_bytes */
    int peak_step;      /* first k with step_bytes[k] == peak */
    int exact;          /* 1: the order is optimal; 0: the beam cut some level */
    int64_t states;     /* distinct executed-sets the search visited */
};

/* Searches the best order of g's layers. tensor_bytes and scratch_bytes have g->n
 * entries (tensor_bytes of flatten layers is ignored: they alias their input);
 * beam ≥ 1. Fills *out (release with mn_memorder_release); returns 0, or MN_ENOMEM /
 * MN_EINVAL with err set. */
int mn_memorder_search(const struct mn_graph *g, const int64_t *tensor_bytes,
                       const int64_t *scratch_bytes, int beam, struct mn_memorder *out,
                       struct mn_error *err);

/* Evaluates a given order (a topological permutation of 0..n-1) under the same
 * memory model; fills *out with a copy of it. MN_EINVAL when order is not one. */
int mn_memorder_eval(const struct mn_graph *g, const int64_t *tensor_bytes,
                     const int64_t *scratch_bytes, const int *order, struct mn_memorder *out,
                     struct mn_error *err);

/* Frees the arrays of *o (not o itself); NULL allowed. */
void mn_memorder_release(struct mn_memorder *o);

#endif
