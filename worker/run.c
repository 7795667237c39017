/* run.c — `monas-worker run`: the worker service. Reads its options (flags, or MONAS_*
 * environment variables), sizes the libuv thread pool, and runs the lease loop
 * (lease_loop.h) until SIGTERM/SIGINT; the exit status says why it stopped. */
#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <uv.h>
#include "cli.h"
#include "commands.h"
#include "lease_loop.h"
#include "log.h"
#include "options.h"
#include "score.h"

#define MAX_THREADS 1024 /* libuv's largest pool */

struct run_opts {
    char coordinator[512], token_file[512], ca_file[512], id[128], log_level[16];
    char scoring_version[32];
    long threads, batch, request_timeout_ms, backoff_max_ms, drain_seconds, score_delay_ms;
};

static const struct mn_opt options[] = {
#define F(f) MN_OPT_SLOT(struct run_opts, f)
    {"coordinator", "MONAS_COORDINATOR", "http://127.0.0.1:8080", MN_OPT_STR, F(coordinator), 0, 0,
     "monasd's base URL (http:// or https://)", 0},
    {"token-file", "MONAS_TOKEN_FILE", "", MN_OPT_STR, F(token_file), 0, 0,
     "file holding a bearer token with the worker scope (or MONAS_TOKEN=token)", 0},
    {"ca-file", "MONAS_CA_FILE", "", MN_OPT_STR, F(ca_file), 0, 0,
     "CA certificates (PEM) for an https coordinator; default: the system's", 0},
    {"threads", "MONAS_WORKER_THREADS", "0", MN_OPT_LONG, F(threads), 0, MAX_THREADS,
     "candidates scored at once (sets UV_THREADPOOL_SIZE); 0: one per CPU", 0},
    {"batch", "MONAS_WORKER_BATCH", "0", MN_OPT_LONG, F(batch), 0, 4096,
     "candidates per lease (the job's batch_size caps it); 0: 2 x --threads", 0},
    {"id", "MONAS_WORKER_ID", "", MN_OPT_STR, F(id), 0, 0,
     "worker id reported to the coordinator; default host-pid-random", 0},
    {"log-level", "MONAS_LOG_LEVEL", "info", MN_OPT_STR, F(log_level), 0, 0,
     "debug, info, warn or error (logs go to stderr)", 0},
    {"request-timeout-ms", "MONAS_WORKER_REQUEST_TIMEOUT_MS", "30000", MN_OPT_LONG,
     F(request_timeout_ms), 100, 3600000, "longest an HTTP request may take", 0},
    {"backoff-max-ms", "MONAS_WORKER_BACKOFF_MAX_MS", "10000", MN_OPT_LONG, F(backoff_max_ms), 250,
     3600000, "longest wait between retries (no work, coordinator away)", 0},
    {"drain-seconds", "MONAS_WORKER_DRAIN_SECONDS", "20", MN_OPT_LONG, F(drain_seconds), 0, 86400,
     "after SIGTERM/SIGINT, seconds the batches in hand may take before they are released", 0},
    {"scoring-version", "MONAS_TEST_SCORING_VERSION", "", MN_OPT_STR, F(scoring_version), 0, 0,
     "report this scoring_version instead of the build's", 1},
    {"score-delay-ms", "MONAS_TEST_SCORE_DELAY_MS", "0", MN_OPT_LONG, F(score_delay_ms), 0, 600000,
     "sleep this long in each scoring task", 1},
#undef F
};
#define N_OPTIONS (int)(sizeof options / sizeof options[0])

void mn_cmd_run_help(FILE *out)
{
    fprintf(out, "usage: monas-worker run [--coordinator URL] [--token-file F] [--threads N]\n"
                 "                        [--batch B] [--id ID] [--log-level L] [options]\n\n"
                 "Leases batches of candidates from monasd, scores each on a thread pool,\n"
                 "heartbeats while scoring, posts the results; leases the next batch once\n"
                 "every candidate in hand has started (up to two batches held); backs off\n"
                 "(exponentially, with jitter) while there is no work or the coordinator is\n"
                 "away. Holds nothing on disk. SIGTERM/SIGINT: lease no more, finish the\n"
                 "batches in hand (a second signal, or --drain-seconds, releases them),\n"
                 "exit 0.\n"
                 "Every option can also be set by the environment variable shown.\n\n");
    for (int t = 0; t < 2; t++) {
        if (t)
            fprintf(out, "\nfor tests only:\n");
        for (int i = 0; i < N_OPTIONS; i++) {
            if (options[i].testing != t)
                continue;
            fprintf(out, "  --%s\n      %s\n      env %s, default '%s'\n", options[i].flag,
                    options[i].help, options[i].env, options[i].dflt);
        }
    }
    fprintf(out, "\nexit status: 0 stopped by a signal; 1 a local failure; 2 bad options; 3 the\n"
                 "coordinator refused this worker's scoring_version (409: a mixed fleet must not\n"
                 "mix scores); 4 the coordinator refused the token (401/403).\n");
}

/* The token from --token-file (first line, trimmed) or MONAS_TOKEN; "" for none. */
static int load_token(const char *file, char *buf, size_t len)
{
    const char *env = getenv("MONAS_TOKEN");
    struct mn_error err = {0};
    char *text = file[0] ? mn_cli_read_file(file, len - 1, &err) : NULL;
    if (file[0] && !text) {
        mn_cli_report("run", "--token-file", &err);
        return -1;
    }
    snprintf(buf, len, "%.*s", (int)strcspn(text ? text : env ? env : "", "\r\n"),
             text ? text : env ? env : "");
    free(text);
    size_t n = strlen(buf);
    while (n && (buf[n - 1] == ' ' || buf[n - 1] == '\t'))
        buf[--n] = '\0';
    if (file[0] && !n) {
        fprintf(stderr, "monas-worker run: --token-file: %s is empty\n", file);
        return -1;
    }
    return 0;
}

struct runner {
    uv_signal_t sigterm, sigint;
    struct mn_lease_loop *lp;
    int status;
};

static void on_signal(uv_signal_t *s, int signum)
{
    struct runner *r = s->data;
    mn_log_info("msg=\"signal\" signal=%d", signum);
    mn_lease_loop_stop(r->lp);
}

static void on_finished(void *ud, int status)
{
    struct runner *r = ud;
    r->status = status;
    uv_close((uv_handle_t *)&r->sigterm, NULL);
    uv_close((uv_handle_t *)&r->sigint, NULL);
}

int mn_cmd_run(int argc, char **argv)
{
    struct run_opts o;
    struct mn_error err = {0};
    enum mn_log_level level;
    char token[4096], id[256], host[128] = "worker";
    unsigned char rnd[8] = {0};
    if (mn_opts_load(options, N_OPTIONS, &o, sizeof o, argc, argv, &err)) {
        fprintf(stderr, "monas-worker run: %s\n", err.message);
        return MN_EXIT_USAGE;
    }
    if (mn_log_parse_level(o.log_level, &level)) {
        fprintf(stderr, "monas-worker run: --log-level: expected debug, info, warn or error\n");
        return MN_EXIT_USAGE;
    }
    mn_log_set_level(level);
    if (load_token(o.token_file, token, sizeof token))
        return MN_EXIT_USAGE;
    long threads = o.threads ? o.threads : (long)uv_available_parallelism();
    if (threads > MAX_THREADS)
        threads = MAX_THREADS;
    /* The pool is created on the first uv_queue_work and reads this then. */
    char pool[24];
    snprintf(pool, sizeof pool, "%ld", threads);
    setenv("UV_THREADPOOL_SIZE", pool, 1);
    uv_random(NULL, NULL, rnd, sizeof rnd, 0, NULL);
    gethostname(host, sizeof host - 1);
    host[sizeof host - 1] = '\0';
    if (o.id[0])
        snprintf(id, sizeof id, "%s", o.id);
    else
        snprintf(id, sizeof id, "%s-%ld-%02x%02x%02x", host, (long)getpid(), rnd[0], rnd[1],
                 rnd[2]);
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        fprintf(stderr, "monas-worker run: libcurl failed to initialise\n");
        return MN_EXIT_FAIL;
    }
    unsigned long long seed = 0;
    memcpy(&seed, rnd, sizeof seed);
    struct mn_worker_cfg cfg = {
        .coordinator = o.coordinator,
        .token = token,
        .ca_file = o.ca_file,
        .worker_id = id,
        .threads = (int)threads,
        .batch = (int)(o.batch ? o.batch : (2 * threads < 4096 ? 2 * threads : 4096)),
        .connect_timeout_ms = o.request_timeout_ms < 10000 ? o.request_timeout_ms : 10000,
        .request_timeout_ms = o.request_timeout_ms,
        .backoff_base_ms = 200,
        .backoff_max_ms = (double)o.backoff_max_ms,
        .drain_seconds = (double)o.drain_seconds,
        .scoring_version = o.scoring_version[0] ? o.scoring_version : mn_score_version(),
        .score_delay_ms = (int)o.score_delay_ms,
        .seed = seed,
        .on_finished = on_finished,
    };
    struct runner r = {.status = MN_WORKER_EXIT_FATAL};
    cfg.ud = &r;
    uv_loop_t loop;
    int status = MN_EXIT_FAIL;
    if (uv_loop_init(&loop)) {
        fprintf(stderr, "monas-worker run: cannot create the event loop\n");
        goto out;
    }
    if (!(r.lp = mn_lease_loop_new(&loop, &cfg, &err))) {
        fprintf(stderr, "monas-worker run: %s%s%s%s\n", err.field[0] ? "--" : "", err.field,
                err.field[0] ? ": " : "", err.message);
        uv_loop_close(&loop);
        status = err.code == MN_EINVAL ? MN_EXIT_USAGE : MN_EXIT_FAIL;
        goto out;
    }
    uv_signal_init(&loop, &r.sigterm);
    uv_signal_init(&loop, &r.sigint);
    r.sigterm.data = r.sigint.data = &r;
    uv_signal_start(&r.sigterm, on_signal, SIGTERM);
    uv_signal_start(&r.sigint, on_signal, SIGINT);
    mn_log_info("msg=\"scoring threads\" threads=%ld", threads);
    mn_lease_loop_start(r.lp);
    uv_run(&loop, UV_RUN_DEFAULT);
    mn_lease_loop_free(r.lp);
    if (uv_loop_close(&loop))
        mn_log_warn("msg=\"event loop closed with handles open\"");
    status = r.status;
out:
    curl_global_cleanup();
    return status;
}
