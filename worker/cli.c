/* cli.c — shared helpers of the offline subcommands (see cli.h). */
#include "cli.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "commands.h"
#include "json.h"

void mn_cli_report(const char *cmd, const char *where, const struct mn_error *e)
{
    fprintf(stderr, "monas-worker %s: %s%s%s%s%s\n", cmd, where ? where : "",
            where ? ": " : "", e->field, e->field[0] ? ": " : "", e->message);
}

char *mn_cli_read_file(const char *path, size_t max, struct mn_error *err)
{
    int is_stdin = strcmp(path, "-") == 0;
    FILE *f = is_stdin ? stdin : fopen(path, "rb");
    if (!f) {
        mn_error_set(err, MN_EIO, NULL, "cannot open %s", path);
        return NULL;
    }
    size_t cap = 65536, len = 0, got;
    char *buf = malloc(cap);
    while (buf && (got = fread(buf + len, 1, cap - len - 1, f)) > 0) {
        len += got;
        if (len > max)
            break;
        if (cap - len < 4096) {
            char *t = realloc(buf, cap * 2);
            if (!t) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = t;
            cap *= 2;
        }
    }
    if (!is_stdin)
        fclose(f);
    if (!buf || len > max) {
        free(buf);
        mn_error_set(err, buf ? MN_ETOOBIG : MN_ENOMEM, NULL, buf ? "%s: larger than %zu "
                     "bytes" : "out of memory", is_stdin ? "stdin" : path, max);
        return NULL;
    }
    buf[len] = '\0';
    return buf;
}

struct mn_mcu *mn_cli_load_mcu(const char *id, const char *file, struct mn_error *err)
{
    if (!file)
        return mn_mcu_builtin(id, err);
    char *text = mn_cli_read_file(file, MN_CLI_MAX_FILE, err);
    if (!text)
        return NULL;
    cJSON *j = cJSON_Parse(text);
    free(text);
    if (!j) {
        mn_error_set(err, MN_EPARSE, NULL, "%s: malformed JSON", file);
        return NULL;
    }
    struct mn_mcu *m = mn_mcu_from_json(j, err);
    cJSON_Delete(j);
    return m;
}

int mn_cli_print_json(cJSON *j)
{
    char *s = j ? mn_json_print(j) : NULL;
    int ok = s != NULL;
    if (ok)
        printf("%s\n", s);
    free(s);
    cJSON_Delete(j);
    return ok ? MN_EXIT_OK : MN_EXIT_FAIL;
}

int mn_cli_print_mcu_list(void)
{
    return mn_cli_print_json(mn_mcu_list_json());
}

int mn_cli_mcu_option(const char *cmd, const char *id, const char *file, struct mn_mcu **m)
{
    struct mn_error err = {0};
    if (strcmp(id, "list") == 0 && !file)
        return mn_cli_print_mcu_list();
    if ((*m = mn_cli_load_mcu(id, file, &err)))
        return -1;
    mn_cli_report(cmd, file, &err);
    return MN_EXIT_FAIL;
}

int mn_cli_bad_option(const char *cmd, const char *opt)
{
    fprintf(stderr, "monas-worker %s: unknown or incomplete option '%s' (try --help)\n", cmd, opt);
    return MN_EXIT_USAGE;
}

struct mn_space *mn_cli_space(const char *name, const char *settings_text, const char *opt,
                              struct mn_error *err)
{
    cJSON *settings = NULL;
    if (settings_text && !(settings = cJSON_Parse(settings_text))) {
        mn_error_set(err, MN_EPARSE, opt, "malformed JSON");
        return NULL;
    }
    struct mn_space *sp = mn_space_create(name, settings, err);
    if (!sp)
        mn_error_prefix_field(err, err->field[0] ? "settings" : "space");
    cJSON_Delete(settings);
    return sp;
}

static int push(struct mn_cli_items *it, const char *text, int json, const char *src,
                const char *unit, int k)
{
    if ((it->n & (it->n - 1)) == 0) { /* grow at powers of two */
        struct mn_cli_item *v = realloc(it->v, (size_t)(it->n ? 2 * it->n : 1) * sizeof *v);
        if (!v)
            return MN_ENOMEM;
        it->v = v;
    }
    struct mn_cli_item *x = &it->v[it->n++];
    x->text = text;
    x->json = json;
    snprintf(x->where, sizeof x->where, "%s%s %d", src, unit, k);
    return MN_OK;
}

int mn_cli_items(int argc, char **argv, const char *file, struct mn_cli_items *out,
                 struct mn_error *err)
{
    struct mn_cli_items it = {0};
    int rc = MN_OK;
    if (argc > 0 && file)
        return mn_error_set(err, MN_EINVAL, NULL, "give architectures as arguments or with "
                            "--file, not both");
    for (int i = 0; i < argc && !rc; i++)
        rc = push(&it, argv[i], 0, "argument", "", i + 1);
    if (argc == 0) {
        if (!(it.buf = mn_cli_read_file(file ? file : "-", (size_t)MN_CLI_MAX_FILE * 64, err))) {
            mn_error_prefix_field(err, file ? "--file" : "stdin");
            return err->code;
        }
        int lineno = 0;
        for (char *line = it.buf, *next; line && !rc; line = next) {
            next = strchr(line, '\n');
            if (next)
                *next++ = '\0';
            lineno++;
            size_t len = strlen(line);
            if (len && line[len - 1] == '\r')
                line[len - 1] = '\0';
            if (line[strspn(line, " \t")])
                rc = push(&it, line, !file, file ? file : "stdin", " line", lineno);
        }
    }
    if (rc) {
        mn_cli_items_free(&it);
        return mn_error_set(err, rc, NULL, "out of memory");
    }
    *out = it;
    return MN_OK;
}

void mn_cli_items_free(struct mn_cli_items *it)
{
    free(it->v);
    free(it->buf);
    it->v = NULL;
    it->buf = NULL;
    it->n = 0;
}

int mn_cli_collect(const char *cmd, int argc, char **argv, const char *file,
                   struct mn_cli_items *out)
{
    struct mn_error err = {0};
    if (!mn_cli_items(argc, argv, file, out, &err))
        return MN_EXIT_OK;
    mn_cli_report(cmd, NULL, &err);
    return err.code == MN_EINVAL ? MN_EXIT_USAGE : MN_EXIT_FAIL;
}
