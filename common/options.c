/* options.c — defaults, environment and --flags into a settings struct (options.h). */
#include "options.h"
#include <errno.h>
#include <stdlib.h>
#include <string.h>

static int set_bool(int *dst, const char *v)
{
    static const char *const yes[] = {"1", "true", "yes", "on"};
    static const char *const no[] = {"0", "false", "no", "off", ""};
    for (size_t i = 0; i < sizeof yes / sizeof yes[0]; i++)
        if (strcmp(v, yes[i]) == 0)
            return *dst = 1, MN_OK;
    for (size_t i = 0; i < sizeof no / sizeof no[0]; i++)
        if (strcmp(v, no[i]) == 0)
            return *dst = 0, MN_OK;
    return MN_EINVAL;
}

/* Stores v (from src: "default", a variable's name or the argument) in o's slot. */
static int set(void *settings, const struct mn_opt *o, const char *v, const char *src,
               struct mn_error *err)
{
    char *dst = (char *)settings + o->off;
    switch (o->kind) {
    case MN_OPT_STR:
        if (strlen(v) >= o->size)
            return mn_error_set(err, MN_EINVAL, o->flag, "%s: value too long (at most %zu "
                                "bytes)", src, o->size - 1);
        strcpy(dst, v);
        return MN_OK;
    case MN_OPT_BOOL:
        if (set_bool((int *)(void *)dst, v))
            return mn_error_set(err, MN_EINVAL, o->flag, "%s: expected true or false", src);
        return MN_OK;
    case MN_OPT_LONG: {
        char *end;
        errno = 0;
        long n = strtol(v, &end, 10);
        if (errno || end == v || *end || n < o->min || n > o->max)
            return mn_error_set(err, MN_EINVAL, o->flag, "%s: expected an integer in "
                                "[%ld, %ld]", src, o->min, o->max);
        *(long *)(void *)dst = n;
        return MN_OK;
    }
    }
    return MN_EINVAL;
}

static const struct mn_opt *find(const struct mn_opt *opts, int n, const char *name, size_t len)
{
    for (int i = 0; i < n; i++)
        if (strlen(opts[i].flag) == len && strncmp(opts[i].flag, name, len) == 0)
            return &opts[i];
    return NULL;
}

int mn_opts_load(const struct mn_opt *opts, int n, void *settings, size_t size, int argc,
                 char **argv, struct mn_error *err)
{
    memset(settings, 0, size);
    int rc;
    for (int i = 0; i < n; i++) {
        const char *v = opts[i].env ? getenv(opts[i].env) : NULL;
        if ((rc = set(settings, &opts[i], opts[i].dflt, "default", err)) ||
            (v && (rc = set(settings, &opts[i], v, opts[i].env, err))))
            return rc;
    }
    for (int a = 1; a < argc; a++) {
        const char *arg = argv[a];
        if (strncmp(arg, "--", 2) != 0)
            return mn_error_set(err, MN_EINVAL, NULL, "unexpected argument '%s' (see --help)",
                                arg);
        const char *name = arg + 2, *eq = strchr(name, '=');
        const struct mn_opt *o = find(opts, n, name, eq ? (size_t)(eq - name) : strlen(name));
        if (!o)
            return mn_error_set(err, MN_EINVAL, NULL, "unknown option '%s' (see --help)", arg);
        const char *v = eq ? eq + 1 : NULL;
        if (!v && o->kind == MN_OPT_BOOL)
            v = "1";
        else if (!v && a + 1 < argc)
            v = argv[++a];
        else if (!v)
            return mn_error_set(err, MN_EINVAL, o->flag, "option --%s needs a value", o->flag);
        if ((rc = set(settings, o, v, arg, err)))
            return rc;
    }
    return MN_OK;
}
