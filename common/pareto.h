/* pareto.h — Pareto fronts and hypervolume for multi-objective search. Every
 * objective is minimised (callers negate maximised ones and normalise). A front is
 * kept incrementally: inserting a point drops the members it dominates, so the work
 * per new point is proportional to the front, not to every candidate ever scored.
 * Pure computation: no I/O, no allocation outside the front object. */
#ifndef MN_PARETO_H
#define MN_PARETO_H
#include <stdint.h>

/* 1 when a is no worse than b in every one of the d objectives and better in one. */
int mn_pareto_dominates(const double *a, const double *b, int d);

struct mn_front {
    int d;           /* objectives per point */
    int n, cap;      /* members, capacity */
    double *pts;     /* n×d, row i is member i */
    int64_t *ids;    /* caller's id of member i */
    int64_t *removed;/* ids dropped by the last mn_front_insert (n_removed of them) */
    int n_removed;
};

/* An empty front of d ≥ 1 objectives, or NULL (bad d, out of memory). */
struct mn_front *mn_front_new(int d);
void mn_front_free(struct mn_front *f);
/* Offers point p (d values, all finite) with id. Returns 1 when p joined the front
 * (members it dominates are removed and listed in f->removed), 0 when an existing
 * member is no worse in every objective (p not added), MN_ENOMEM or MN_EINVAL. */
int mn_front_insert(struct mn_front *f, int64_t id, const double *p);

/* Exact hypervolume dominated by n points (n×d, row-major) and bounded by the
 * reference point ref (d values): the measure of {x : some point ≤ x < ref}. Points
 * not strictly better than ref in every objective contribute nothing. Returns the
 * volume (≥ 0), or a negative MN_E* code (MN_ENOMEM). Exact slicing over the last
 * objective with a sweep in two dimensions: O(n^(d-1) log n), meant for fronts of up
 * to a few hundred points in 2-4 objectives. */
double mn_hypervolume(const double *pts, int n, int d, const double *ref);

#endif
