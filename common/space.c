/* space.c — PLACEHOLDER until the search spaces (branch `spaces`) land on main: every
 * space is reported as not built yet, so `monas-worker estimate` compiles and fails
 * cleanly. On merging main, take the other side's space.c whole. */
#include "space.h"

struct mn_space *mn_space_create(const char *name, const cJSON *settings, struct mn_error *err)
{
    (void)settings;
    mn_error_set(err, MN_EUNSUPPORTED, NULL, "search space '%s' is not built yet",
                 name ? name : "");
    return NULL;
}

void mn_space_free(struct mn_space *sp)
{
    (void)sp;
}

void mn_arch_free(struct mn_arch *a)
{
    (void)a;
}

int mn_space_arch_from_text(const struct mn_space *sp, const char *text, struct mn_arch **out,
                            struct mn_error *err)
{
    (void)sp, (void)text, (void)out;
    return mn_error_set(err, MN_EUNSUPPORTED, NULL, "search spaces are not built yet");
}

int mn_space_arch_from_json(const struct mn_space *sp, const cJSON *j, struct mn_arch **out,
                            struct mn_error *err)
{
    (void)sp, (void)j, (void)out;
    return mn_error_set(err, MN_EUNSUPPORTED, NULL, "search spaces are not built yet");
}

int mn_space_lower(const struct mn_space *sp, const struct mn_arch *a, struct mn_graph **out,
                   struct mn_error *err)
{
    (void)sp, (void)a, (void)out;
    return mn_error_set(err, MN_EUNSUPPORTED, NULL, "search spaces are not built yet");
}

char *mn_space_arch_key(const struct mn_space *sp, const struct mn_arch *a)
{
    (void)sp, (void)a;
    return NULL;
}
