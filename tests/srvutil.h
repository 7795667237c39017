/* srvutil.h — helpers for the integration suites that run a real monasd: start it on
 * an ephemeral loopback port with a database in a fresh temporary directory, stop or
 * kill it, and talk to it over HTTP with libcurl. */
#ifndef MN_SRVUTIL_H
#define MN_SRVUTIL_H
#include <cjson/cJSON.h>
#include <sys/types.h>
#include "scoring.h"

/* The "scoring_version" member of a worker request, for building JSON bodies. */
#define TU_SV "\"scoring_version\":\"" MN_SCORING_VERSION "\""

struct tu_srv {
    pid_t pid;
    int port;
    char dir[256];   /* temporary directory: database, port file, log */
    char db[320];
};

/* Makes a fresh temporary directory for s (database path s->db inside it). */
void tu_srv_init(struct tu_srv *s);
/* Starts build/monasd on 127.0.0.1:0 with s->db, reaper every 100 ms, plus extra
 * arguments (NULL-terminated list, may be NULL) and environment entries "K=V" (may be
 * NULL). Returns 0 once it is listening, or the daemon's exit status (> 0) if it exited
 * first, or -1 on a timeout. Its log is s->dir/monasd.log (appended). */
int tu_srv_start(struct tu_srv *s, const char *const *args, const char *const *env);
/* SIGTERM and wait: the exit status, or -1. */
int tu_srv_stop(struct tu_srv *s);
/* SIGKILL and reap. */
void tu_srv_kill(struct tu_srv *s);
/* Removes s->dir. */
void tu_srv_cleanup(struct tu_srv *s);

/* One HTTP request; returns the status (0 on a transport error). *body (may be NULL)
 * gets the response body (caller frees). token may be NULL; data NULL sends no body. */
int tu_http(const struct tu_srv *s, const char *method, const char *path, const char *token,
            const char *data, char **body);
/* The same with the body parsed as JSON (NULL when empty or not JSON). */
cJSON *tu_json(const struct tu_srv *s, const char *method, const char *path, const char *token,
               const char *data, int *status);
/* Adds one request header line ("If-None-Match: \"x\"") to the next tu_http call on
 * this thread only. */
void tu_http_next_header(const char *line);
/* A response header value of the last tu_http call on this thread ("Location"), or "". */
const char *tu_http_header(const char *name);

/* Convenience: the number at a dotted path ("progress.scored") of j, or -1. */
double tu_num(const cJSON *j, const char *path);
/* The string at a dotted path, or "". */
const char *tu_str(const cJSON *j, const char *path);

#endif
