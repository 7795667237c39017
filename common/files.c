/* files.c — lookup in the embedded file tables (see files.h). */
#include "files.h"
#include <string.h>

const struct mn_file *mn_files_find(const struct mn_file *table, const char *path)
{
    size_t n = strlen(path);
    for (const struct mn_file *f = table; f && f->path; f++) {
        size_t m = strlen(f->path);
        if (strcmp(f->path, path) == 0)
            return f;
        if (m > n && f->path[m - n - 1] == '/' && strcmp(f->path + m - n, path) == 0)
            return f;
    }
    return NULL;
}
