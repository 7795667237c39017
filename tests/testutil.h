/* testutil.h — helpers shared by the Check suites: locating the shared reference data
 * and the built binaries, running a real monasd and talking HTTP to it. */
#ifndef MN_TESTUTIL_H
#define MN_TESTUTIL_H
#include <stddef.h>

/* Path of a file under ../shared/data (beside the checkout) written into buf, or NULL
 * when that folder is absent (tests then skip with a message). */
const char *tu_shared_data(const char *rel, char *buf, unsigned len);
/* Path of a built binary ("monasd", "monas-worker") from MONAS_BIN_DIR (default build). */
const char *tu_bin(const char *name, char *buf, unsigned len);
/* Prints "SKIP <what>: <why>" once; used when optional data is missing. */
void tu_skip(const char *what, const char *why);

/* A real monasd on an ephemeral loopback port with a fresh database in a temporary
 * directory. */
struct tu_daemon {
    int pid, port;
    char dir[64];
};
/* Starts build's monasd (tokens: MONAS_TOKENS text, or NULL for none); returns 0 once it
 * listens, -1 if it did not start within 5 s. */
int tu_daemon_start(struct tu_daemon *d, const char *tokens);
/* SIGTERM, wait, and remove its directory. */
void tu_daemon_stop(struct tu_daemon *d);

/* One HTTP exchange with a daemon. */
struct tu_http {
    long status;                /* 0 when the request failed */
    char *body;                 /* NUL-terminated, caller frees with tu_http_free */
    size_t len;
    char type[128], etag[64], cache[64]; /* response headers, "" when absent */
};
/* method path (with query) to d; token (may be NULL) as bearer; body (may be NULL) as
 * JSON; header (may be NULL) one extra "Name: value". Returns out->status. */
long tu_http(const struct tu_daemon *d, const char *method, const char *path,
             const char *token, const char *body, const char *header, struct tu_http *out);
void tu_http_free(struct tu_http *r);

#endif
