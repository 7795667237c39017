/* itutil.c — worker processes and job helpers for integration suites (see itutil.h). */
#include "itutil.h"
#include <check.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "testutil.h"

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

const char *it_log_path(const struct tu_srv *s, const char *log, char *buf, size_t len)
{
    snprintf(buf, len, "%s/%s", s->dir, log);
    return buf;
}

pid_t it_worker_start(const struct tu_srv *s, const char *log, const char *const *args)
{
    char bin[512], url[64], path[400];
    tu_bin("monas-worker", bin, sizeof bin);
    snprintf(url, sizeof url, "http://127.0.0.1:%d", s->port);
    it_log_path(s, log, path, sizeof path);
    const char *argv[40] = {bin, "run", "--coordinator", url, "--backoff-max-ms", "500"};
    int n = 6;
    for (int i = 0; args && args[i] && n < 39; i++)
        argv[n++] = args[i];
    argv[n] = NULL;
    pid_t pid = fork();
    if (pid == 0) {
        int fd = open(path, O_WRONLY | O_CREAT | O_APPEND, 0644);
        if (fd >= 0) {
            dup2(fd, 1);
            dup2(fd, 2);
            close(fd);
        }
        execv(bin, (char *const *)argv);
        _exit(127);
    }
    return pid;
}

int it_wait_exit(pid_t pid, int timeout_ms)
{
    int status;
    for (int waited = 0; waited <= timeout_ms; waited += 10) {
        pid_t r = waitpid(pid, &status, WNOHANG);
        if (r == pid)
            return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
        if (r < 0)
            return -1;
        sleep_ms(10);
    }
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    return -1;
}

void it_signal(pid_t pid, int sig)
{
    if (pid > 0)
        kill(pid, sig);
}

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc((size_t)n + 1);
    if (buf) {
        size_t got = fread(buf, 1, (size_t)n, f);
        buf[got] = '\0';
    }
    fclose(f);
    return buf;
}

long it_log_sum(const struct tu_srv *s, const char *log, const char *key)
{
    char path[400], pat[64];
    char *text = slurp(it_log_path(s, log, path, sizeof path)), *save = NULL;
    long sum = 0;
    snprintf(pat, sizeof pat, " %s=", key);
    for (char *l = text ? strtok_r(text, "\n", &save) : NULL; l; l = strtok_r(NULL, "\n", &save)) {
        const char *k = strstr(l, pat);
        if (strstr(l, "msg=\"batch done\"") && k)
            sum += atol(k + strlen(pat));
    }
    free(text);
    return sum;
}

int it_log_has(const struct tu_srv *s, const char *log, const char *needle)
{
    char path[400];
    char *text = slurp(it_log_path(s, log, path, sizeof path));
    int has = text && strstr(text, needle) != NULL;
    free(text);
    return has;
}

long it_job_create(const struct tu_srv *s, const char *spec)
{
    int st;
    cJSON *j = tu_json(s, "POST", "/v1/jobs", NULL, spec, &st);
    ck_assert_msg(st == 201, "job not created: status %d", st);
    long id = (long)tu_num(j, "id");
    cJSON_Delete(j);
    return id;
}

cJSON *it_job_wait(const struct tu_srv *s, long id, int timeout_s)
{
    char path[64];
    cJSON *j = NULL;
    time_t end = time(NULL) + timeout_s;
    do {
        cJSON_Delete(j);
        snprintf(path, sizeof path, "/v1/jobs/%ld?wait=5", id);
        j = tu_json(s, "GET", path, NULL, NULL, NULL);
        if (j && strcmp(tu_str(j, "status"), "running") != 0)
            break;
        if (!j)
            sleep_ms(100); /* daemon restarting */
    } while (time(NULL) < end);
    return j;
}

double it_job_poll(const struct tu_srv *s, long id, const char *path, double min,
                   int timeout_ms)
{
    char url[64];
    double v = -1;
    snprintf(url, sizeof url, "/v1/jobs/%ld", id);
    for (int waited = 0; waited <= timeout_ms; waited += 20) {
        cJSON *j = tu_json(s, "GET", url, NULL, NULL, NULL);
        v = j ? tu_num(j, path) : -1;
        cJSON_Delete(j);
        if (v >= min)
            break;
        sleep_ms(20);
    }
    return v;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

char *it_front_canonical(const struct tu_srv *s, long id)
{
    char path[64], *body = NULL, *save = NULL, *lines[4096];
    int n = 0;
    snprintf(path, sizeof path, "/v1/jobs/%ld/front?format=csv", id);
    if (tu_http(s, "GET", path, NULL, NULL, &body) != 200 || !body) {
        free(body);
        return NULL;
    }
    for (char *l = strtok_r(body, "\n", &save); l && n < 4096; l = strtok_r(NULL, "\n", &save)) {
        char *comma = strchr(l, ',');
        lines[n++] = comma ? comma + 1 : l; /* drop the id column */
    }
    qsort(lines, (size_t)n, sizeof *lines, cmp_str);
    size_t len = 1;
    for (int i = 0; i < n; i++)
        len += strlen(lines[i]) + 1;
    char *out = malloc(len), *p = out;
    for (int i = 0; out && i < n; i++)
        p += sprintf(p, "%s\n", lines[i]);
    if (out)
        *p = '\0';
    free(body);
    return out;
}

int it_sanitized(void)
{
    const char *v = getenv("MONAS_SANITIZED");
    return v && v[0] && strcmp(v, "0") != 0;
}
