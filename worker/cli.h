/* cli.h — helpers shared by the offline monas-worker subcommands (estimate, score):
 * reading files and stdin, loading the MCU profile and the search space from options,
 * collecting architectures from arguments, --file lines or stdin JSON lines, and
 * one-line error reports. */
#ifndef MN_WORKER_CLI_H
#define MN_WORKER_CLI_H
#include <cjson/cJSON.h>
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
/* Prints j (taken: freed, NULL allowed) as one JSON line; returns an exit status (failure:
 * j NULL or out of memory). */
int mn_cli_print_json(cJSON *j);
/* Prints the built-in profiles as one JSON line; returns an exit status. */
int mn_cli_print_mcu_list(void);
/* The --mcu / --mcu-file options of subcommand cmd: "--mcu list" (without a file)
 * prints the built-in profiles; otherwise the profile is loaded into *m (caller frees
 * with mn_mcu_free). Returns -1 when *m is loaded, else the exit status to end with (a
 * load failure is reported first). */
int mn_cli_mcu_option(const char *cmd, const char *id, const char *file, struct mn_mcu **m);
/* Reports getopt's unknown or incomplete option opt of subcommand cmd; returns the
 * usage exit status. */
int mn_cli_bad_option(const char *cmd, const char *opt);
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
/* mn_cli_items for subcommand cmd, reporting a failure. Returns 0, or the exit status
 * to end with (usage for conflicting arguments). */
int mn_cli_collect(const char *cmd, int argc, char **argv, const char *file,
                   struct mn_cli_items *out);

#endif
