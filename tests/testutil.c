/* testutil.c — see testutil.h. */
#include "testutil.h"
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

const char *tu_shared_data(const char *rel, char *buf, unsigned len)
{
    const char *root = getenv("MONAS_SHARED_DATA");
    snprintf(buf, len, "%s/%s", root ? root : "../shared/data", rel);
    return access(buf, R_OK) == 0 ? buf : NULL;
}

const char *tu_bin(const char *name, char *buf, unsigned len)
{
    const char *dir = getenv("MONAS_BIN_DIR");
    snprintf(buf, len, "%s/%s", dir ? dir : "build", name);
    return buf;
}

void tu_skip(const char *what, const char *why)
{
    fprintf(stderr, "SKIP %s: %s\n", what, why);
}
