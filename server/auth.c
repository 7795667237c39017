/* auth.c — bearer tokens and scopes (see auth.h). */
#include "auth.h"
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TOKEN_MAX 256

struct token {
    char text[TOKEN_MAX];
    int scopes;
};

struct mn_auth {
    struct token *t;
    int n, cap;
};

static const struct {
    const char *name;
    int bits;
} scopes[] = {
    {"admin", MN_SCOPE_ADMIN | MN_SCOPE_READ},
    {"worker", MN_SCOPE_WORKER},
    {"read", MN_SCOPE_READ},
};

/* Parses "token scope[,scope]" (already trimmed, non-empty). */
static int add_entry(struct mn_auth *a, char *line, const char *where, struct mn_error *err)
{
    char *tok = strtok(line, " \t"), *sc = strtok(NULL, " \t"), *extra = strtok(NULL, " \t");
    if (!tok || !sc || extra || strlen(tok) >= TOKEN_MAX || strlen(tok) < 8)
        return mn_error_set(err, MN_EINVAL, NULL,
                            "%s: expected 'token scope[,scope]' with a token of 8 to %d "
                            "characters", where, TOKEN_MAX - 1);
    int bits = 0;
    for (char *s = strtok(sc, ","); s; s = strtok(NULL, ",")) {
        int found = 0;
        for (size_t i = 0; i < sizeof scopes / sizeof scopes[0]; i++)
            if (strcmp(scopes[i].name, s) == 0) {
                bits |= scopes[i].bits;
                found = 1;
            }
        if (!found)
            return mn_error_set(err, MN_EINVAL, NULL,
                                "%s: unknown scope '%s' (admin, worker, read)", where, s);
    }
    if (a->n == a->cap) {
        int cap = a->cap ? a->cap * 2 : 8;
        struct token *t = realloc(a->t, (size_t)cap * sizeof *t);
        if (!t)
            return mn_error_set(err, MN_ENOMEM, NULL, "out of memory");
        a->t = t;
        a->cap = cap;
    }
    snprintf(a->t[a->n].text, TOKEN_MAX, "%s", tok);
    a->t[a->n++].scopes = bits;
    return MN_OK;
}

static char *trim(char *s)
{
    while (isspace((unsigned char)*s))
        s++;
    char *e = s + strlen(s);
    while (e > s && isspace((unsigned char)e[-1]))
        *--e = 0;
    return s;
}

static int add_line(struct mn_auth *a, char *line, const char *src, int no,
                    struct mn_error *err)
{
    char *hash = strchr(line, '#');
    if (hash)
        *hash = 0;
    line = trim(line);
    if (!*line)
        return MN_OK;
    char where[300];
    snprintf(where, sizeof where, "%s line %d", src, no);
    return add_entry(a, line, where, err);
}

struct mn_auth *mn_auth_load(const char *file, const char *text, struct mn_error *err)
{
    struct mn_auth *a = calloc(1, sizeof *a);
    char line[1024];
    int no = 0;
    if (!a) {
        mn_error_set(err, MN_ENOMEM, NULL, "out of memory");
        return NULL;
    }
    if (file) {
        FILE *f = fopen(file, "r");
        if (!f) {
            mn_error_set(err, MN_EIO, NULL, "cannot read tokens file %s", file);
            goto fail;
        }
        while (fgets(line, sizeof line, f))
            if (add_line(a, line, file, ++no, err)) {
                fclose(f);
                goto fail;
            }
        fclose(f);
    }
    if (text) {
        char *copy = strdup(text), *save = NULL;
        if (!copy)
            goto fail;
        no = 0;
        for (char *e = strtok_r(copy, ";\n", &save); e; e = strtok_r(NULL, ";\n", &save)) {
            snprintf(line, sizeof line, "%s", e);
            if (add_line(a, line, "MONAS_TOKENS entry", ++no, err)) {
                free(copy);
                goto fail;
            }
        }
        free(copy);
    }
    return a;
fail:
    mn_auth_free(a);
    return NULL;
}

void mn_auth_free(struct mn_auth *a)
{
    if (!a)
        return;
    if (a->t)
        memset(a->t, 0, (size_t)a->cap * sizeof *a->t);
    free(a->t);
    free(a);
}

int mn_auth_count(const struct mn_auth *a)
{
    return a ? a->n : 0;
}

/* Constant-time comparison of a presented token with a stored one. */
static int same(const char *given, size_t glen, const char *stored)
{
    size_t slen = strlen(stored);
    unsigned char diff = (unsigned char)(glen != slen);
    for (size_t i = 0; i < glen && i < TOKEN_MAX; i++)
        diff |= (unsigned char)(given[i] ^ (i < slen ? stored[i] : 0));
    return diff == 0;
}

int mn_auth_check(const struct mn_auth *a, const char *authorization, int need)
{
    if (need == MN_SCOPE_NONE || !a || a->n == 0)
        return MN_OK;
    if (!authorization || strncasecmp(authorization, "Bearer ", 7) != 0)
        return MN_EAUTH;
    const char *tok = authorization + 7;
    while (*tok == ' ')
        tok++;
    size_t len = strlen(tok);
    int bits = -1;
    for (int i = 0; i < a->n; i++)
        if (same(tok, len, a->t[i].text))
            bits = a->t[i].scopes;
    if (bits < 0)
        return MN_EAUTH;
    return (bits & need) ? MN_OK : MN_EFORBIDDEN;
}
