/* cmd_score.c — `monas-worker score`: scores architectures offline with the job-side
 * scoring entry point (scoring.h): every requested zero-cost proxy plus the MCU cost
 * figures, one JSON line per architecture in input order. Candidates are scored in
 * parallel on --threads pthreads (one candidate per thread at a time, BLAS
 * single-threaded inside); with fewer candidates than threads, the threads left over
 * go into each candidate's proxies (mn_proxies_set_threads). Output is bit-identical
 * for any thread count apart from the "seconds" fields. The hidden option --dump DIR
 * writes each candidate's networks, parameters and inputs for the PyTorch fixture
 * generator (tests/fixtures/gen_proxy_fixtures.py). */
#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "cli.h"
#include "commands.h"
#include "graph_json.h"
#include "json.h"
#include "scoring.h"

#define MAX_THREADS 256

void mn_cmd_score_help(FILE *out)
{
    fprintf(out,
            "usage: monas-worker score [--space NAME] [--space-settings JSON]\n"
            "                          [--proxies LIST|JSON] [--mcu ID | --mcu-file FILE]\n"
            "                          [--seed N] [--threads N] [--file FILE | ARCH...]\n"
            "\n"
            "Prints one JSON line per architecture, in input order: the zero-cost proxies\n"
            "(\"scores\"), the MCU cost figures (\"cost\": latency_ms, peak_sram_bytes,\n"
            "flash_bytes, macs, params, fits), \"flags\" (e.g. ntk:degenerate), and the time\n"
            "taken. Scores are a pure function of architecture, settings and seed\n"
            "(scoring version " MN_SCORING_VERSION ").\n"
            "\n"
            "  --space NAME          search space: nb201 (default), unas, graph\n"
            "  --space-settings JSON space settings, e.g. '{\"C\":16,\"N\":5}' (--settings too)\n"
            "  --proxies LIST|JSON   proxy names joined by commas, or the job-spec JSON\n"
            "                        object of per-proxy settings; default: every proxy;\n"
            "                        --proxies list prints the proxies and their settings\n"
            "  --mcu ID              built-in MCU profile (default stm32f746); --mcu list\n"
            "  --mcu-file FILE       a custom MCU profile (JSON)\n"
            "  --seed N              job seed (default 0)\n"
            "  --threads N           threads (default 1): candidates scored in parallel;\n"
            "                        with fewer candidates, the ntk proxy of each uses the\n"
            "                        rest (same scores for every N)\n"
            "  --file FILE           architectures, one per line (text form)\n"
            "  ARCH                  an architecture: the nb201 string or JSON text\n"
            "Without ARCH or --file, reads JSON lines from stdin (one architecture each).\n"
            "Errors print one line naming the problem and exit non-zero.\n");
}

struct opts {
    const char *space, *settings, *proxies, *mcu, *mcu_file, *file, *dump;
    unsigned long long seed;
    int threads;
};

/* One candidate's outcome. */
struct slot {
    char *line;           /* the JSON line, or NULL on error */
    struct mn_error err;
    int done;
};

struct job {
    const struct opts *o;
    const struct mn_space *sp;
    struct mn_proxy_config *pc;
    const struct mn_mcu *mcu;
    const struct mn_cli_items *items;
    struct slot *slots;
    int next;
    pthread_mutex_t mu;
    pthread_cond_t cv;
};

/* ---- --dump: files for the fixture generator ---- */

struct dump {
    char dir[512];
    int failed;
};

static void dump_write(struct dump *d, const char *name, const void *data, size_t size)
{
    char path[700];
    snprintf(path, sizeof path, "%s/%s", d->dir, name);
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(data, 1, size, f) != size)
        d->failed = 1;
    if (f && fclose(f))
        d->failed = 1;
}

static void dump_graph(void *ud, const char *proxy, int repeat, const struct mn_graph *g)
{
    char name[128];
    cJSON *j = mn_graph_to_json(g);
    char *s = j ? mn_json_print(j) : NULL;
    snprintf(name, sizeof name, "%s_r%d_graph.json", proxy, repeat);
    if (s)
        dump_write(ud, name, s, strlen(s));
    else
        ((struct dump *)ud)->failed = 1;
    free(s);
    cJSON_Delete(j);
}

static void dump_tensor(void *ud, const char *proxy, int repeat, const char *tag,
                        const float *data, int64_t count)
{
    char name[128];
    snprintf(name, sizeof name, "%s_r%d_%s.f32", proxy, repeat, tag);
    dump_write(ud, name, data, (size_t)count * sizeof *data);
}

/* ---- scoring ---- */

static char *score_one(const struct job *jb, int k, struct mn_error *err)
{
    const struct mn_cli_item *it = &jb->items->v[k];
    struct mn_arch *a = NULL;
    struct dump d = {0};
    struct mn_proxy_trace trace = {&d, dump_graph, dump_tensor};
    cJSON *res = NULL;
    char *line = NULL;
    int rc;
    if (it->json) {
        cJSON *j = cJSON_Parse(it->text);
        rc = j ? mn_space_arch_from_json(jb->sp, j, &a, err)
               : mn_error_set(err, MN_EPARSE, NULL, "malformed JSON line");
        cJSON_Delete(j);
    } else {
        rc = mn_space_arch_from_text(jb->sp, it->text, &a, err);
    }
    if (rc)
        goto done;
    if (jb->o->dump) {
        snprintf(d.dir, sizeof d.dir, "%s/%d", jb->o->dump, k);
        if (mkdir(d.dir, 0777) && errno != EEXIST) {
            mn_error_set(err, MN_EIO, "--dump", "cannot create %s", d.dir);
            goto done;
        }
    }
    res = mn_scoring_run(jb->sp, a, jb->pc, jb->mcu, (uint64_t)jb->o->seed,
                         jb->o->dump ? &trace : NULL, err);
    if (res && d.failed)
        mn_error_set(err, MN_EIO, "--dump", "cannot write files under %s", d.dir);
    else if (res && !(line = mn_json_print(res)))
        mn_error_set(err, MN_ENOMEM, NULL, "out of memory");
done:
    cJSON_Delete(res);
    mn_arch_free(a);
    return line;
}

static void *worker(void *arg)
{
    struct job *jb = arg;
    for (;;) {
        pthread_mutex_lock(&jb->mu);
        int k = jb->next < jb->items->n ? jb->next++ : -1;
        pthread_mutex_unlock(&jb->mu);
        if (k < 0)
            return NULL;
        struct mn_error err = {0};
        char *line = score_one(jb, k, &err);
        pthread_mutex_lock(&jb->mu);
        jb->slots[k].line = line;
        jb->slots[k].err = err;
        jb->slots[k].done = 1;
        pthread_cond_broadcast(&jb->cv);
        pthread_mutex_unlock(&jb->mu);
    }
}

/* Scores every item on o->threads threads (those one candidate at a time leaves idle
 * go into each candidate's proxies) and prints results in input order as they
 * complete. Returns the number of failures, or -1 when threads cannot start. */
static int score_all(struct job *jb)
{
    int n = jb->items->n, nt = jb->o->threads < n ? jb->o->threads : n, failures = 0;
    pthread_t tid[MAX_THREADS];
    int started = 0;
    mn_proxies_set_threads(jb->pc, nt ? jb->o->threads / nt : 1);
    if (!(jb->slots = calloc((size_t)(n ? n : 1), sizeof *jb->slots)))
        return -1;
    pthread_mutex_init(&jb->mu, NULL);
    pthread_cond_init(&jb->cv, NULL);
    while (started < nt && pthread_create(&tid[started], NULL, worker, jb) == 0)
        started++;
    if (started == 0 && n > 0)
        failures = -1;
    for (int k = 0; k < n && failures >= 0; k++) {
        pthread_mutex_lock(&jb->mu);
        while (!jb->slots[k].done)
            pthread_cond_wait(&jb->cv, &jb->mu);
        pthread_mutex_unlock(&jb->mu);
        if (jb->slots[k].line) {
            printf("%s\n", jb->slots[k].line);
            fflush(stdout);
        } else {
            mn_cli_report("score", jb->items->v[k].where, &jb->slots[k].err);
            failures++;
        }
    }
    for (int t = 0; t < started; t++)
        pthread_join(tid[t], NULL);
    for (int k = 0; k < n; k++)
        free(jb->slots[k].line);
    free(jb->slots);
    pthread_cond_destroy(&jb->cv);
    pthread_mutex_destroy(&jb->mu);
    return failures;
}

int mn_cmd_score(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"space", required_argument, NULL, 's'},
        {"space-settings", required_argument, NULL, 'S'},
        {"settings", required_argument, NULL, 'S'},
        {"proxies", required_argument, NULL, 'p'},
        {"mcu", required_argument, NULL, 'm'},
        {"mcu-file", required_argument, NULL, 'M'},
        {"seed", required_argument, NULL, 'e'},
        {"threads", required_argument, NULL, 't'},
        {"file", required_argument, NULL, 'f'},
        {"dump", required_argument, NULL, 'd'},
        {NULL, 0, NULL, 0},
    };
    struct opts o = {.space = "nb201", .mcu = "stm32f746", .threads = 1};
    struct mn_error err = {0};
    struct mn_space *sp = NULL;
    struct mn_mcu *m = NULL;
    struct mn_proxy_config *pc = NULL;
    struct mn_cli_items items = {0};
    int c, status = MN_EXIT_FAIL;
    char *end;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        switch (c) {
        case 's': o.space = optarg; break;
        case 'S': o.settings = optarg; break;
        case 'p': o.proxies = optarg; break;
        case 'm': o.mcu = optarg; break;
        case 'M': o.mcu_file = optarg; break;
        case 'f': o.file = optarg; break;
        case 'd': o.dump = optarg; break;
        case 'e':
            errno = 0;
            o.seed = strtoull(optarg, &end, 0);
            if (errno || end == optarg || *end || optarg[0] == '-') {
                fprintf(stderr, "monas-worker score: --seed: expected an unsigned 64-bit "
                        "integer, got '%s'\n", optarg);
                return MN_EXIT_USAGE;
            }
            break;
        case 't':
            o.threads = (int)strtol(optarg, &end, 10);
            if (end == optarg || *end || o.threads < 1 || o.threads > MAX_THREADS) {
                fprintf(stderr, "monas-worker score: --threads: expected 1..%d, got '%s'\n",
                        MAX_THREADS, optarg);
                return MN_EXIT_USAGE;
            }
            break;
        default: return mn_cli_bad_option("score", argv[optind - 1]);
        }
    }
    if (o.proxies && strcmp(o.proxies, "list") == 0)
        return mn_cli_print_json(mn_proxies_describe());
    if ((status = mn_cli_mcu_option("score", o.mcu, o.mcu_file, &m)) >= 0)
        return status;
    status = MN_EXIT_FAIL;
    if (!(sp = mn_cli_space(o.space, o.settings, "--space-settings", &err))) {
        mn_cli_report("score", NULL, &err);
        goto done;
    }
    if (o.proxies ? mn_proxies_parse_text(o.proxies, &pc, &err) != MN_OK
                  : !(pc = mn_proxies_default())) {
        mn_error_prefix_field(&err, "--proxies");
        mn_cli_report("score", NULL, &err);
        goto done;
    }
    cJSON *base = mn_space_settings_json(sp);
    int rc = base ? mn_proxies_check_space(pc, o.space, base, &err) : MN_ENOMEM;
    cJSON_Delete(base);
    if (rc) {
        mn_error_prefix_field(&err, "--proxies");
        mn_cli_report("score", NULL, &err);
        goto done;
    }
    if ((status = mn_cli_collect("score", argc - optind, argv + optind, o.file, &items)))
        goto done;
    if (o.dump && mkdir(o.dump, 0777) && errno != EEXIST) {
        fprintf(stderr, "monas-worker score: --dump: cannot create %s\n", o.dump);
        status = MN_EXIT_FAIL;
        goto done;
    }
    struct job jb = {.o = &o, .sp = sp, .pc = pc, .mcu = m, .items = &items};
    int failures = score_all(&jb);
    if (failures < 0)
        fprintf(stderr, "monas-worker score: cannot start threads\n");
    status = failures ? MN_EXIT_FAIL : MN_EXIT_OK;
done:
    mn_cli_items_free(&items);
    mn_proxies_free(pc);
    mn_space_free(sp);
    mn_mcu_free(m);
    return status;
}
