/* options.h — table-driven command-line options for the daemons: each option is a
 * --flag, an optional environment variable, a default and a typed slot in the
 * program's settings struct. One loader applies, in order, every default, then every
 * environment variable that is set, then the flags, so flags beat the environment and
 * the environment beats the defaults. */
#ifndef MN_OPTIONS_H
#define MN_OPTIONS_H
#include <stddef.h>
#include "error.h"

enum mn_opt_kind {
    MN_OPT_STR,  /* char[size] */
    MN_OPT_LONG, /* long in [min, max] */
    MN_OPT_BOOL, /* int 0/1: 1 true yes on / 0 false no off ""; a bare --flag means 1 */
};

struct mn_opt {
    const char *flag; /* without the leading "--" */
    const char *env;  /* or NULL */
    const char *dflt;
    enum mn_opt_kind kind;
    size_t off, size; /* the slot in the settings struct (MN_OPT_SLOT) */
    long min, max;    /* MN_OPT_LONG */
    const char *help;
    int testing;      /* nonzero: for tests only (help lists it apart) */
};

/* offsetof and size of member f of struct type T, for struct mn_opt's off and size. */
#define MN_OPT_SLOT(T, f) offsetof(T, f), sizeof(((T *)0)->f)

/* Zeroes settings [size] and fills it from opts[n]: defaults, environment, then argv[1..]
 * ("--flag value" or "--flag=value"). Returns 0, or MN_EINVAL with err's field the
 * option's flag (NULL for a stray argument) and a message naming the source of the bad
 * value (an unknown option, a missing value, too long a string, an integer out of
 * range or a boolean that is none of the words above). */
int mn_opts_load(const struct mn_opt *opts, int n, void *settings, size_t size, int argc,
                 char **argv, struct mn_error *err);

#endif
