/* runner.c — the one test runner: every tests/check_<module>.c contributes a Check
 * suite <module>_suite(), listed at build time in build/gen/suites.h. Suites run
 * forked (CK_FORK) with per-case timeouts. `monas-tests NAME...` runs only the named
 * suites; MONAS_BIN_DIR tells integration suites where monasd and monas-worker are. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SUITE(m) Suite *m##_suite(void);
#include "suites.h"
#undef SUITE

static const struct {
    const char *name;
    Suite *(*make)(void);
} suites[] = {
#define SUITE(m) {#m, m##_suite},
#include "suites.h"
#undef SUITE
};

static int wanted(const char *name, int argc, char **argv)
{
    if (argc < 2)
        return 1;
    for (int i = 1; i < argc; i++)
        if (strcmp(argv[i], name) == 0)
            return 1;
    return 0;
}

int main(int argc, char **argv)
{
    SRunner *sr = NULL;
    int n = (int)(sizeof suites / sizeof suites[0]);
    for (int i = 0; i < n; i++) {
        if (!wanted(suites[i].name, argc, argv))
            continue;
        if (!sr)
            sr = srunner_create(suites[i].make());
        else
            srunner_add_suite(sr, suites[i].make());
    }
    if (!sr) {
        fprintf(stderr, "monas-tests: no suite matches\n");
        return 2;
    }
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
