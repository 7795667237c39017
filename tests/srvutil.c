/* srvutil.c — run a real monasd and talk to it (see srvutil.h). */
#include "srvutil.h"
#include <curl/curl.h>
#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "testutil.h"

void tu_srv_init(struct tu_srv *s)
{
    memset(s, 0, sizeof *s);
    snprintf(s->dir, sizeof s->dir, "/tmp/monas-test-XXXXXX");
    if (!mkdtemp(s->dir))
        s->dir[0] = 0;
    snprintf(s->db, sizeof s->db, "%s/monas.db", s->dir);
}

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

int tu_srv_start(struct tu_srv *s, const char *const *args, const char *const *env)
{
    char bin[512], port_file[400], log[400];
    tu_bin("monasd", bin, sizeof bin);
    snprintf(port_file, sizeof port_file, "%s/port", s->dir);
    snprintf(log, sizeof log, "%s/monasd.log", s->dir);
    unlink(port_file);
    const char *argv[32] = {bin, "--listen", "127.0.0.1:0", "--db", s->db, "--port-file",
                            port_file, "--reap-interval-ms", "100"};
    int n = 9;
    for (int i = 0; args && args[i] && n < 31; i++)
        argv[n++] = args[i];
    argv[n] = NULL;
    pid_t pid = fork();
    if (pid == 0) {
        int fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0644);
        if (fd >= 0) {
            dup2(fd, 2);
            dup2(fd, 1);
            close(fd);
        }
        unsetenv("MONAS_TOKENS");
        for (int i = 0; env && env[i]; i++)
            putenv((char *)env[i]);
        execv(bin, (char *const *)argv);
        _exit(127);
    }
    s->pid = pid;
    for (int i = 0; i < 1500; i++) { /* up to 15 s (sanitised builds start slowly) */
        int status;
        if (waitpid(pid, &status, WNOHANG) == pid) {
            s->pid = 0;
            return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
        }
        FILE *f = fopen(port_file, "r");
        if (f) {
            int ok = fscanf(f, "%d", &s->port) == 1;
            fclose(f);
            if (ok)
                return 0;
        }
        sleep_ms(10);
    }
    return -1;
}

int tu_srv_stop(struct tu_srv *s)
{
    if (s->pid <= 0)
        return -1;
    kill(s->pid, SIGTERM);
    int status = 0;
    pid_t r = waitpid(s->pid, &status, 0);
    s->pid = 0;
    return (r > 0 && WIFEXITED(status)) ? WEXITSTATUS(status) : -1;
}

void tu_srv_kill(struct tu_srv *s)
{
    if (s->pid <= 0)
        return;
    kill(s->pid, SIGKILL);
    waitpid(s->pid, NULL, 0);
    s->pid = 0;
}

static int rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb, (void)flag, (void)ftw;
    return remove(path);
}

void tu_srv_cleanup(struct tu_srv *s)
{
    if (s->pid > 0)
        tu_srv_kill(s);
    if (s->dir[0] && !getenv("MONAS_KEEP_TEST_DIRS"))
        nftw(s->dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

struct sink {
    char *data;
    size_t len;
};

static size_t on_data(char *p, size_t size, size_t n, void *ud)
{
    struct sink *s = ud;
    char *d = realloc(s->data, s->len + size * n + 1);
    if (!d)
        return 0;
    memcpy(d + s->len, p, size * n);
    s->len += size * n;
    d[s->len] = 0;
    s->data = d;
    return size * n;
}

static _Thread_local char last_headers[4096];
static _Thread_local char next_header[512];

void tu_http_next_header(const char *line)
{
    snprintf(next_header, sizeof next_header, "%s", line);
}

static size_t on_header(char *p, size_t size, size_t n, void *ud)
{
    (void)ud;
    size_t have = strlen(last_headers), add = size * n;
    if (have + add < sizeof last_headers) {
        memcpy(last_headers + have, p, add);
        last_headers[have + add] = 0;
    }
    return size * n;
}

const char *tu_http_header(const char *name)
{
    static _Thread_local char value[512];
    size_t len = strlen(name);
    value[0] = 0;
    for (const char *l = last_headers; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
        if (strncasecmp(l, name, len) == 0 && l[len] == ':') {
            const char *v = l + len + 1;
            while (*v == ' ')
                v++;
            size_t k = strcspn(v, "\r\n");
            snprintf(value, sizeof value, "%.*s", (int)k, v);
            break;
        }
    }
    return value;
}

int tu_http(const struct tu_srv *s, const char *method, const char *path, const char *token,
            const char *data, char **body)
{
    CURL *c = curl_easy_init();
    struct curl_slist *h = NULL;
    struct sink sink = {0};
    char url[1024], auth[512];
    long status = 0;
    if (!c)
        return 0;
    last_headers[0] = 0;
    snprintf(url, sizeof url, "http://127.0.0.1:%d%s", s->port, path);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &sink);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 60L);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    h = curl_slist_append(h, "Content-Type: application/json");
    h = curl_slist_append(h, "Expect:");
    if (token) {
        snprintf(auth, sizeof auth, "Authorization: Bearer %s", token);
        h = curl_slist_append(h, auth);
    }
    if (next_header[0]) {
        h = curl_slist_append(h, next_header);
        next_header[0] = 0;
    }
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    if (data) {
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, data);
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)strlen(data));
    }
    if (curl_easy_perform(c) == CURLE_OK)
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    curl_slist_free_all(h);
    curl_easy_cleanup(c);
    if (body)
        *body = sink.data;
    else
        free(sink.data);
    return (int)status;
}

cJSON *tu_json(const struct tu_srv *s, const char *method, const char *path, const char *token,
               const char *data, int *status)
{
    char *body = NULL;
    int st = tu_http(s, method, path, token, data, &body);
    if (status)
        *status = st;
    cJSON *j = body ? cJSON_Parse(body) : NULL;
    free(body);
    return j;
}

static const cJSON *at_path(const cJSON *j, const char *path)
{
    char buf[256], *save = NULL;
    snprintf(buf, sizeof buf, "%s", path);
    for (char *k = strtok_r(buf, ".", &save); k && j; k = strtok_r(NULL, ".", &save))
        j = (k[0] >= '0' && k[0] <= '9') ? cJSON_GetArrayItem(j, atoi(k))
                                         : cJSON_GetObjectItemCaseSensitive(j, k);
    return j;
}

double tu_num(const cJSON *j, const char *path)
{
    const cJSON *v = at_path(j, path);
    return cJSON_IsNumber(v) ? v->valuedouble : -1;
}

const char *tu_str(const cJSON *j, const char *path)
{
    const cJSON *v = at_path(j, path);
    return cJSON_IsString(v) ? v->valuestring : "";
}
