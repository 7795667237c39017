/* buf.c — growable byte buffer (see buf.h). */
#include "buf.h"
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int reserve(struct mn_buf *b, size_t extra)
{
    if (b->oom)
        return 0;
    if (b->len + extra + 1 <= b->cap)
        return 1;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < b->len + extra + 1)
        cap *= 2;
    char *d = realloc(b->data, cap);
    if (!d) {
        b->oom = 1;
        return 0;
    }
    b->data = d;
    b->cap = cap;
    return 1;
}

void mn_buf_reserve(struct mn_buf *b, size_t n)
{
    reserve(b, n);
}

void mn_buf_int(struct mn_buf *b, long long v)
{
    char t[24], *p = t + sizeof t;
    unsigned long long u = v < 0 ? 0ULL - (unsigned long long)v : (unsigned long long)v;
    do
        *--p = (char)('0' + u % 10);
    while (u /= 10);
    if (v < 0)
        *--p = '-';
    mn_buf_add(b, p, (size_t)(t + sizeof t - p));
}

void mn_buf_add(struct mn_buf *b, const char *s, size_t n)
{
    if (!reserve(b, n))
        return;
    memcpy(b->data + b->len, s, n);
    b->len += n;
    b->data[b->len] = 0;
}

void mn_buf_str(struct mn_buf *b, const char *s)
{
    mn_buf_add(b, s, strlen(s));
}

void mn_buf_printf(struct mn_buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0 || !reserve(b, (size_t)n))
        return;
    va_start(ap, fmt);
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

void mn_buf_json_str(struct mn_buf *b, const char *s)
{
    mn_buf_add(b, "\"", 1);
    const char *run = s;
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c >= 0x20 && c != '"' && c != '\\')
            continue;
        mn_buf_add(b, run, (size_t)(s - run));
        run = s + 1;
        if (c == '"' || c == '\\') {
            char esc[2] = {'\\', (char)c};
            mn_buf_add(b, esc, 2);
        } else {
            mn_buf_printf(b, "\\u%04x", c);
        }
    }
    mn_buf_add(b, run, (size_t)(s - run));
    mn_buf_add(b, "\"", 1);
}

void mn_buf_num(struct mn_buf *b, double v)
{
    if (!isfinite(v)) {
        mn_buf_add(b, "null", 4);
    } else if (v == floor(v) && fabs(v) < 1e15) { /* integers: no printf */
        mn_buf_int(b, (long long)v);
    } else { /* shortest of 15 or 17 significant digits that reads back exactly */
        char t[32];
        snprintf(t, sizeof t, "%.15g", v);
        if (strtod(t, NULL) != v)
            snprintf(t, sizeof t, "%.17g", v);
        mn_buf_str(b, t);
    }
}

void mn_buf_json(struct mn_buf *b, const cJSON *j)
{
    const cJSON *c;
    int first = 1;
    if (cJSON_IsNumber(j)) {
        mn_buf_num(b, j->valuedouble);
    } else if (cJSON_IsString(j)) {
        mn_buf_json_str(b, j->valuestring);
    } else if (cJSON_IsTrue(j)) {
        mn_buf_add(b, "true", 4);
    } else if (cJSON_IsFalse(j)) {
        mn_buf_add(b, "false", 5);
    } else if (cJSON_IsArray(j)) {
        mn_buf_add(b, "[", 1);
        cJSON_ArrayForEach(c, j)
        {
            if (!first)
                mn_buf_add(b, ",", 1);
            first = 0;
            mn_buf_json(b, c);
        }
        mn_buf_add(b, "]", 1);
    } else if (cJSON_IsObject(j)) {
        mn_buf_add(b, "{", 1);
        cJSON_ArrayForEach(c, j)
        {
            if (!first)
                mn_buf_add(b, ",", 1);
            first = 0;
            mn_buf_json_str(b, c->string);
            mn_buf_add(b, ":", 1);
            mn_buf_json(b, c);
        }
        mn_buf_add(b, "}", 1);
    } else {
        mn_buf_add(b, "null", 4);
    }
}

char *mn_buf_take(struct mn_buf *b)
{
    char *d = b->oom ? NULL : b->data;
    if (b->oom)
        free(b->data);
    else if (!d)
        d = calloc(1, 1);
    memset(b, 0, sizeof *b);
    return d;
}

void mn_buf_free(struct mn_buf *b)
{
    free(b->data);
    memset(b, 0, sizeof *b);
}
