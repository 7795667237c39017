/* cli.h — helpers shared by the offline monas-worker subcommands (estimate, score):
 * reading files and stdin, loading the MCU profile and the search space from options,
 * collecting architectures from arguments, --file lines or stdin JSON lines, and
 * one-line error reports. */
#ifndef MN_WORKER_CLI_H
#define MN_WORKER_CLI_H
#include <stddef.h>
#include "error.h"
#include "mcu.h"
#include "space.h"

#define MN_CLI_MAX_FILE (1 << 20)

/* Prints "monas-worker CMD: [where: ][field: ]message" on stderr. */
void mn_cli_report(const char *cmd, const char *where, const struct mn_error *e);
/* The whole file (at most max bytes) as a NUL-terminated string the caller frees, or
 * NULL with err set (MN_EIO, MN_ETOOBIG, MN_ENOMEM). path "-" reads stdin. */
char *mn_cli_read_file(const char *path, size_t max, struct mn_error *err);
/* The built-in profile `id`, or the JSON profile in file `file` when not NULL. */
struct mn_mcu *mn_cli_load_mcu(const char *id, const char *file, struct mn_error *err);
/* Prints the built-in profiles as one JSON line; returns an exit status. */
int mn_cli_print_mcu_list(void);
/* Space `name` with settings from JSON text (may be NULL) given with option `opt`;
 * errors name "space", `opt` (malformed JSON) or "settings.<field>". */
struct mn_space *mn_cli_space(const char *name, const char *settings_text, const char *opt,
                              struct mn_error *err);

/* One architecture to process: its text (nb201 string or JSON), whether it is a JSON
 * line (stdin) rather than text form, and where it came from for messages. */
struct mn_cli_item {
    const char *text; /* points into the owning mn_cli_items */
    int json;
    char where[48];
};
struct mn_cli_items {
    struct mn_cli_item *v;
    int n;
    char *buf; /* file or stdin contents */
};
/* Collects architectures from argv[0..argc-1], else the lines of `file`, else JSON
 * lines on stdin (blank lines skipped). Returns 0 or a negative code with err set
 * (err->field "--file" for file problems). Release with mn_cli_items_free. */
int mn_cli_items(int argc, char **argv, const char *file, struct mn_cli_items *out,
                 struct mn_error *err);
void mn_cli_items_free(struct mn_cli_items *it);

#endif
