/* ingest.c — coordinator ingest benchmark: starts monasd on loopback with a fresh
 * SQLite file, submits nb201 random-search jobs, and runs simulated workers as separate
 * processes, each leasing batches (default 64) and posting trivial scores over HTTP
 * keep-alive, for a fixed time. Reports candidate results stored per second through the
 * full HTTP + SQLite path, and p50/p99 latency of the lease call.
 *   usage: ingest MONASD [--workers N] [--seconds S] [--batch B] [--jobs J]
 *   output: one JSON line with the figures (bench/ingest.sh puts them in BENCHMARKS.md);
 *   monasd's log goes to a temporary directory, or to the file named by BENCH_LOG */
#define _GNU_SOURCE
#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "scoring.h"

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

struct sink {
    char *data;
    size_t len, cap;
};

static size_t on_data(char *p, size_t size, size_t n, void *ud)
{
    struct sink *s = ud;
    size_t add = size * n;
    if (s->len + add + 1 > s->cap) {
        s->cap = (s->len + add + 1) * 2;
        s->data = realloc(s->data, s->cap);
    }
    memcpy(s->data + s->len, p, add);
    s->len += add;
    s->data[s->len] = 0;
    return add;
}

static long request(CURL *c, int port, const char *path, const char *body, struct sink *out)
{
    char url[256];
    long status = 0;
    snprintf(url, sizeof url, "http://127.0.0.1:%d%s", port, path);
    out->len = 0;
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
    curl_easy_setopt(c, CURLOPT_WRITEDATA, out);
    if (curl_easy_perform(c) == CURLE_OK)
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    return status;
}

static CURL *client(void)
{
    static struct curl_slist *h;
    CURL *c = curl_easy_init();
    if (!h) {
        h = curl_slist_append(NULL, "Content-Type: application/json");
        h = curl_slist_append(h, "Expect:");
    }
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_TCP_NODELAY, 1L);
    return c;
}

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* One simulated worker: lease, post trivial scores, until the deadline or no work.
 * Writes its count, elapsed time, number of lease latencies and the latencies. */
static void worker(int id, int port, int batch, double start, double deadline, int fd)
{
    CURL *c = client();
    struct sink resp = {0};
    char lease_body[160], path[64];
    size_t cap = 1024 + (size_t)batch * 256;
    char *body = malloc(cap);
    size_t lat_cap = 1 << 16;
    double *lat = malloc(lat_cap * sizeof *lat);
    long long done = 0;
    size_t n_lat = 0;
    snprintf(lease_body, sizeof lease_body,
             "{\"worker_id\":\"bench-%d\",\"version\":\"bench\",\"scoring_version\":\"" MN_SCORING_VERSION "\","
             "\"capacity\":%d}", id, batch);
    while (now() < start)
        usleep(1000);
    double t_end = start;
    while ((t_end = now()) < deadline) {
        double t0 = now();
        long st = request(c, port, "/v1/leases", lease_body, &resp);
        double dt = now() - t0;
        if (n_lat < lat_cap)
            lat[n_lat++] = dt;
        if (st == 204)
            break;
        if (st != 200) {
            fprintf(stderr, "worker %d: lease status %ld\n", id, st);
            break;
        }
        cJSON *l = cJSON_Parse(resp.data);
        long long lease = (long long)cJSON_GetObjectItem(l, "lease_id")->valuedouble;
        size_t len = (size_t)snprintf(body, cap, "{\"worker_id\":\"bench-%d\",\"scoring_version\":\"" MN_SCORING_VERSION "\","
                                                 "\"results\":[", id);
        const cJSON *cand;
        int n = 0;
        cJSON_ArrayForEach(cand, cJSON_GetObjectItem(l, "candidates"))
        {
            long long cid = (long long)cJSON_GetObjectItem(cand, "id")->valuedouble;
            len += (size_t)snprintf(body + len, cap - len,
                                    "%s{\"candidate_id\":%lld,\"ok\":true,\"scores\":{\"ntk\":%lld,"
                                    "\"linear_regions\":%lld},\"cost\":{\"latency_ms\":%lld,"
                                    "\"peak_sram_bytes\":%lld,\"flash_bytes\":%lld,\"macs\":1,"
                                    "\"params\":1},\"seconds\":0}",
                                    n++ ? "," : "", cid, cid % 1009, cid % 101, 1 + cid % 97,
                                    1000 + cid % 89, 2000 + cid % 83);
        }
        snprintf(body + len, cap - len, "]}");
        cJSON_Delete(l);
        snprintf(path, sizeof path, "/v1/leases/%lld/results", lease);
        st = request(c, port, path, body, &resp);
        if (st != 200) {
            fprintf(stderr, "worker %d: results status %ld: %s\n", id, st, resp.data);
            break;
        }
        done += n;
    }
    double elapsed = t_end - start;
    if (write(fd, &done, sizeof done) < 0 || write(fd, &elapsed, sizeof elapsed) < 0 ||
        write(fd, &n_lat, sizeof n_lat) < 0 || write(fd, lat, n_lat * sizeof *lat) < 0)
        perror("write");
    curl_easy_cleanup(c);
    free(body);
    free(lat);
    free(resp.data);
}

static size_t read_all(int fd, void *buf, size_t len)
{
    size_t got = 0;
    while (got < len) {
        ssize_t r = read(fd, (char *)buf + got, len - got);
        if (r <= 0)
            break;
        got += (size_t)r;
    }
    return got;
}

int main(int argc, char **argv)
{
    int workers = 4, batch = 64, jobs = 40;
    double seconds = 10;
    if (argc < 2) {
        fprintf(stderr, "usage: ingest MONASD [--workers N] [--seconds S] [--batch B] [--jobs J]\n");
        return 2;
    }
    for (int i = 2; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "--workers"))
            workers = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--seconds"))
            seconds = atof(argv[i + 1]);
        else if (!strcmp(argv[i], "--batch"))
            batch = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--jobs"))
            jobs = atoi(argv[i + 1]);
    }
    char dir[] = "/tmp/monas-bench-XXXXXX", db[128], port_file[128], log[128];
    if (!mkdtemp(dir))
        return 1;
    snprintf(db, sizeof db, "%s/monas.db", dir);
    snprintf(port_file, sizeof port_file, "%s/port", dir);
    snprintf(log, sizeof log, "%s/monasd.log", dir);
    pid_t daemon = fork();
    if (daemon == 0) {
        freopen(getenv("BENCH_LOG") ? getenv("BENCH_LOG") : log, "w", stderr);
        execl(argv[1], argv[1], "--listen", "127.0.0.1:0", "--db", db, "--port-file", port_file,
              (char *)NULL);
        _exit(127);
    }
    int port = 0;
    for (int i = 0; i < 500 && !port; i++) {
        FILE *f = fopen(port_file, "r");
        if (f) {
            if (fscanf(f, "%d", &port) != 1)
                port = 0;
            fclose(f);
        }
        usleep(10000);
    }
    if (!port) {
        fprintf(stderr, "monasd did not start (see %s)\n", log);
        return 1;
    }
    curl_global_init(CURL_GLOBAL_DEFAULT);
    CURL *c = client();
    struct sink resp = {0};
    char spec[512];
    snprintf(spec, sizeof spec, "{\"space\":{\"name\":\"nb201\"},\"budget\":{\"max_candidates\":"
             "15625},\"batch_size\":%d,\"convergence\":{\"epsilon\":0}}", batch);
    for (int j = 0; j < jobs; j++)
        if (request(c, port, "/v1/jobs", spec, &resp) != 201) {
            fprintf(stderr, "job submission failed: %s\n", resp.data);
            return 1;
        }
    curl_easy_cleanup(c);

    double start = now() + 0.2, deadline = start + seconds;
    int fds[256];
    pid_t pids[256];
    for (int w = 0; w < workers && w < 256; w++) {
        int p[2];
        if (pipe(p))
            return 1;
        pids[w] = fork();
        if (pids[w] == 0) {
            close(p[0]);
            worker(w, port, batch, start, deadline, p[1]);
            _exit(0);
        }
        close(p[1]);
        fds[w] = p[0];
    }
    long long total = 0;
    double elapsed = 0;
    size_t n_lat_all = 0, cap = 1 << 20;
    double *lat = malloc(cap * sizeof *lat);
    for (int w = 0; w < workers; w++) {
        long long done = 0;
        double el = 0;
        size_t n = 0;
        read_all(fds[w], &done, sizeof done);
        read_all(fds[w], &el, sizeof el);
        read_all(fds[w], &n, sizeof n);
        if (n_lat_all + n > cap)
            n = cap - n_lat_all;
        read_all(fds[w], lat + n_lat_all, n * sizeof *lat);
        n_lat_all += n;
        total += done;
        if (el > elapsed)
            elapsed = el;
        close(fds[w]);
        waitpid(pids[w], NULL, 0);
    }
    qsort(lat, n_lat_all, sizeof *lat, cmp);
    double p50 = n_lat_all ? lat[n_lat_all / 2] : 0, p99 = n_lat_all ? lat[(size_t)(n_lat_all * 0.99)] : 0;

    /* Cross-check with the server's own count of stored results. */
    c = client();
    char url[128];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/metrics", port);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &resp);
    resp.len = 0;
    curl_easy_perform(c);
    curl_easy_cleanup(c);
    long long stored = -1, writes = -1, commits = -1;
    const char *wm = resp.data ? strstr(resp.data, "\nmonas_db_writes_total ") : NULL;
    const char *cm = resp.data ? strstr(resp.data, "\nmonas_db_commits_total ") : NULL;
    if (wm)
        writes = atoll(wm + strlen("\nmonas_db_writes_total "));
    if (cm)
        commits = atoll(cm + strlen("\nmonas_db_commits_total "));
    const char *m = resp.data ? strstr(resp.data, "\nmonas_results_ingested_total ") : NULL;
    if (m)
        stored = atoll(m + strlen("\nmonas_results_ingested_total "));
    struct rusage ru_workers, ru_daemon;
    getrusage(RUSAGE_CHILDREN, &ru_workers); /* the workers, all reaped by now */
    kill(daemon, SIGTERM);
    int status = 0;
    wait4(daemon, &status, 0, &ru_daemon);
#define CPU(r) ((double)(r).ru_utime.tv_sec + (r).ru_utime.tv_usec * 1e-6 + \
                (double)(r).ru_stime.tv_sec + (r).ru_stime.tv_usec * 1e-6)
    printf("{\"workers\":%d,\"batch\":%d,\"seconds\":%.2f,\"results\":%lld,\"stored\":%lld,"
           "\"results_per_s\":%.0f,\"lease_p50_ms\":%.3f,\"lease_p99_ms\":%.3f,"
           "\"leases\":%zu,\"db_writes\":%lld,\"db_commits\":%lld,\"monasd_cpu_s\":%.2f,\"workers_cpu_s\":%.2f,\"monasd_exit\":%d}\n",
           workers, batch, elapsed, total, stored, total / elapsed, p50 * 1e3, p99 * 1e3,
           n_lat_all, writes, commits, CPU(ru_daemon), CPU(ru_workers), WIFEXITED(status) ? WEXITSTATUS(status) : -1);
    char cmd[200];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd))
        return 1;
    free(lat);
    free(resp.data);
    return 0;
}
