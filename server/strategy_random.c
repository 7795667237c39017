/* strategy_random.c — the baseline: uniform random architectures from the job's
 * space, seeded by the job seed, deduplicated by canonical key (mn_job_propose refuses
 * repeats), bound by the candidate budget (the server caps `want`). When
 * random draws stop finding new architectures of an enumerable space, it sweeps the
 * enumeration for the ones not yet proposed, so a budget as large as the space is
 * reached. State: the generator and the sweep position, saved with the job. */
#include <stdlib.h>
#include "job.h"
#include "rng.h"

struct random_state {
    struct mn_rng rng;
    int64_t sweep; /* next enumeration index tried by the sweep */
};

static int start(struct mn_job *job, const cJSON *saved, void **state, struct mn_error *err)
{
    struct random_state *s = calloc(1, sizeof *s);
    if (!s)
        return mn_error_set(err, MN_ENOMEM, NULL, "out of memory");
    mn_rng_seed(&s->rng, (uint64_t)job->spec->seed, mn_hash_str("strategy.random"));
    if (saved) {
        if (mn_strategy_load_rng(saved, &s->rng)) {
            free(s);
            return mn_error_set(err, MN_EPARSE, "rng", "saved random state is malformed");
        }
        const cJSON *sw = cJSON_GetObjectItemCaseSensitive(saved, "sweep");
        s->sweep = cJSON_IsNumber(sw) ? (int64_t)sw->valuedouble : 0;
    }
    *state = s;
    return MN_OK;
}

static int add(struct mn_job *job, struct mn_arch *a, int *added)
{
    if (!a)
        return MN_ENOMEM;
    int rc = mn_job_propose(job, a, NULL);
    mn_arch_free(a);
    if (rc > 0)
        (*added)++;
    return rc < 0 ? rc : MN_OK;
}

static int propose(struct mn_job *job, void *state, int want, int *done)
{
    struct random_state *s = state;
    const struct mn_space *sp = job->spec->space;
    int64_t size = mn_space_size(sp);
    int added = 0, rc = MN_OK;
    /* Random draws until the quota is met or repeats dominate (a nearly used-up space). */
    for (int tries = 0; added < want && tries < 8 * want + 32 && !rc; tries++) {
        struct mn_arch *a = NULL;
        if ((rc = mn_space_sample(sp, &s->rng, &a)))
            break;
        rc = add(job, a, &added);
    }
    while (!rc && added < want && size > 0 && s->sweep < size) {
        struct mn_arch *a = NULL;
        if ((rc = mn_space_enumerate(sp, s->sweep++, &a)))
            break;
        rc = add(job, a, &added);
    }
    if (size > 0 && (s->sweep >= size || job->n_proposed >= size))
        *done = 1;
    return rc ? rc : added;
}

static cJSON *save(const void *state)
{
    const struct random_state *s = state;
    cJSON *o = cJSON_CreateObject();
    if (mn_strategy_save_rng(o, &s->rng)) {
        cJSON_Delete(o);
        return NULL;
    }
    cJSON_AddNumberToObject(o, "sweep", (double)s->sweep);
    return o;
}

static void stop(void *state)
{
    free(state);
}

const struct mn_strategy mn_strategy_random = {
    .name = "random",
    .summary = "uniform random architectures of the space, deduplicated, seeded",
    .start = start,
    .propose = propose,
    .save = save,
    .stop = stop,
};
