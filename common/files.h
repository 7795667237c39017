/* files.h — data files embedded in the binaries at build time by tools/embed.c:
 * MCU profiles (mn_mcu_files), and for monasd its schemas, migrations and dashboard
 * assets (mn_server_files). Each table ends with an entry whose path is NULL. */
#ifndef MN_FILES_H
#define MN_FILES_H
#include <stddef.h>

struct mn_file {
    const char *path;          /* path in the source tree, e.g. "common/mcu/stm32f746.json" */
    const unsigned char *data; /* contents, followed by a NUL byte */
    size_t len;                /* length without that NUL */
};

extern const struct mn_file mn_mcu_files[];

/* The entry whose path is `path`, or whose path ends in "/" + `path`; NULL if none. */
const struct mn_file *mn_files_find(const struct mn_file *table, const char *path);

#endif
