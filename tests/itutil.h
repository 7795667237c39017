/* itutil.h — helpers for the integration suites that run monas-worker processes
 * against a real monasd (srvutil.h): start a worker with its log in the daemon's test
 * directory, wait for or signal it, read figures from its log, and wait on jobs. */
#ifndef MN_ITUTIL_H
#define MN_ITUTIL_H
#include <cjson/cJSON.h>
#include <sys/types.h>
#include "srvutil.h"

/* Starts `monas-worker run` against s (--coordinator on s->port, --backoff-max-ms 500),
 * with extra arguments (NULL-terminated, may be NULL); stdout and stderr go to
 * s->dir/<log>. Returns the pid (> 0) or -1. */
pid_t it_worker_start(const struct tu_srv *s, const char *log, const char *const *args);
/* Waits up to timeout_ms for pid to exit: its exit status, 128+signal if killed by
 * one, or -1 on a timeout (pid is then SIGKILLed and reaped). */
int it_wait_exit(pid_t pid, int timeout_ms);
/* Sends sig to pid (no-op when pid <= 0). */
void it_signal(pid_t pid, int sig);
/* The path of s->dir/<log> in buf. */
const char *it_log_path(const struct tu_srv *s, const char *log, char *buf, size_t len);
/* Sum of the integer values of `key=` on the log's "batch done" lines. */
long it_log_sum(const struct tu_srv *s, const char *log, const char *key);
/* 1 if the log contains needle. */
int it_log_has(const struct tu_srv *s, const char *log, const char *needle);
/* POSTs a job spec; returns its id (asserts 201). */
long it_job_create(const struct tu_srv *s, const char *spec);
/* GET /v1/jobs/<id> with ?wait= until it leaves running or timeout_s passes; the job
 * view (caller frees). */
cJSON *it_job_wait(const struct tu_srv *s, long id, int timeout_s);
/* Polls the job until the number at `path` (e.g. "progress.leased") reaches at least
 * `min`, up to timeout_ms; returns the last value read. */
double it_job_poll(const struct tu_srv *s, long id, const char *path, double min,
                   int timeout_ms);
/* The job's front as sorted CSV lines without the id column (caller frees). */
char *it_front_canonical(const struct tu_srv *s, long id);
/* 1 in a sanitised build (MONAS_SANITIZED set): tests use smaller jobs. */
int it_sanitized(void);

#endif
