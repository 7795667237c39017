/* pareto.c — incremental Pareto front and exact hypervolume (see pareto.h). */
#include "pareto.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "error.h"

int mn_pareto_dominates(const double *a, const double *b, int d)
{
    int better = 0;
    for (int k = 0; k < d; k++) {
        if (a[k] > b[k])
            return 0;
        if (a[k] < b[k])
            better = 1;
    }
    return better;
}

static int no_worse(const double *a, const double *b, int d)
{
    for (int k = 0; k < d; k++)
        if (a[k] > b[k])
            return 0;
    return 1;
}

struct mn_front *mn_front_new(int d)
{
    if (d < 1 || d > 64)
        return NULL;
    struct mn_front *f = calloc(1, sizeof *f);
    if (!f)
        return NULL;
    f->d = d;
    return f;
}

void mn_front_free(struct mn_front *f)
{
    if (!f)
        return;
    free(f->pts);
    free(f->ids);
    free(f->removed);
    free(f);
}

static int grow(struct mn_front *f)
{
    int cap = f->cap ? f->cap * 2 : 16;
    double *pts = realloc(f->pts, (size_t)cap * (size_t)f->d * sizeof *pts);
    if (!pts)
        return MN_ENOMEM;
    f->pts = pts;
    int64_t *ids = realloc(f->ids, (size_t)cap * sizeof *ids);
    if (!ids)
        return MN_ENOMEM;
    f->ids = ids;
    int64_t *rem = realloc(f->removed, (size_t)cap * sizeof *rem);
    if (!rem)
        return MN_ENOMEM;
    f->removed = rem;
    f->cap = cap;
    return MN_OK;
}

int mn_front_insert(struct mn_front *f, int64_t id, const double *p)
{
    int d = f->d;
    f->n_removed = 0;
    for (int k = 0; k < d; k++)
        if (!isfinite(p[k]))
            return MN_EINVAL;
    for (int i = 0; i < f->n; i++)
        if (no_worse(f->pts + (size_t)i * d, p, d))
            return 0;
    if (f->n + 1 > f->cap && grow(f) != MN_OK)
        return MN_ENOMEM;
    int w = 0;
    for (int i = 0; i < f->n; i++) {
        const double *q = f->pts + (size_t)i * d;
        if (no_worse(p, q, d)) {
            f->removed[f->n_removed++] = f->ids[i];
            continue;
        }
        if (w != i) {
            memmove(f->pts + (size_t)w * d, q, (size_t)d * sizeof *q);
            f->ids[w] = f->ids[i];
        }
        w++;
    }
    memcpy(f->pts + (size_t)w * d, p, (size_t)d * sizeof *p);
    f->ids[w] = id;
    f->n = w + 1;
    return 1;
}

/* A point and the coordinate it is currently sorted by (qsort has no context). */
struct row {
    const double *p;
    int axis;
};

static int cmp_row(const void *a, const void *b)
{
    const struct row *x = a, *y = b;
    double u = x->p[x->axis], v = y->p[y->axis];
    return (u > v) - (u < v);
}

/* Volume of rows[0..n) in dimensions 0..d-1 (rows already clipped below ref). */
static double hv_rec(struct row *rows, int n, int d, const double *ref, struct row *scratch)
{
    if (n == 0)
        return 0.0;
    if (d == 1) {
        double best = ref[0];
        for (int i = 0; i < n; i++)
            if (rows[i].p[0] < best)
                best = rows[i].p[0];
        return ref[0] - best;
    }
    for (int i = 0; i < n; i++)
        rows[i].axis = d - 1;
    qsort(rows, (size_t)n, sizeof *rows, cmp_row);
    if (d == 2) { /* sweep: ascending in y, keep the best x so far */
        double vol = 0.0, best_x = ref[0];
        for (int i = 0; i < n; i++) {
            double y_next = (i + 1 < n) ? rows[i + 1].p[1] : ref[1];
            if (rows[i].p[0] < best_x)
                best_x = rows[i].p[0];
            vol += (ref[0] - best_x) * (y_next - rows[i].p[1]);
        }
        return vol;
    }
    double vol = 0.0;
    for (int i = 0; i < n; i++) {
        double z_next = (i + 1 < n) ? rows[i + 1].p[d - 1] : ref[d - 1];
        double depth = z_next - rows[i].p[d - 1];
        if (depth <= 0.0)
            continue;
        /* The slab between z_i and z_next is dominated by the first i+1 points. */
        memcpy(scratch, rows, (size_t)(i + 1) * sizeof *rows);
        vol += depth * hv_rec(scratch, i + 1, d - 1, ref, scratch + (i + 1));
    }
    return vol;
}

double mn_hypervolume(const double *pts, int n, int d, const double *ref)
{
    if (n <= 0 || d < 1)
        return 0.0;
    /* Scratch for every recursion level: at most n rows per level, d levels. */
    struct row *rows = malloc((size_t)n * (size_t)(d + 1) * sizeof *rows);
    if (!rows)
        return MN_ENOMEM;
    int m = 0;
    for (int i = 0; i < n; i++) {
        const double *p = pts + (size_t)i * d;
        int inside = 1;
        for (int k = 0; k < d && inside; k++)
            inside = p[k] < ref[k];
        if (inside)
            rows[m++] = (struct row){p, 0};
    }
    double v = hv_rec(rows, m, d, ref, rows + n);
    free(rows);
    return v;
}
