/* error.c — error code table and the field-carrying error record (see error.h). */
#include "error.h"
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static const struct {
    const char *name;
    const char *text;
} codes[] = {
    {"ok", "success"},
    {"invalid", "invalid input"},
    {"no_memory", "out of memory"},
    {"not_found", "not found"},
    {"parse", "malformed input"},
    {"io", "input/output error"},
    {"state", "not allowed in the current state"},
    {"conflict", "conflicts with stored state"},
    {"database", "database error"},
    {"numeric", "numerical failure"},
    {"unsupported", "not supported"},
    {"too_big", "exceeds a size limit"},
    {"timeout", "timed out"},
    {"unauthorized", "missing or invalid credentials"},
    {"forbidden", "insufficient scope"},
};

static int index_of(int code)
{
    return (code <= 0 && code >= MN_ECODE_MIN) ? -code : -1;
}

const char *mn_strerror(int code)
{
    int i = index_of(code);
    return i < 0 ? "unknown error" : codes[i].text;
}

const char *mn_error_name(int code)
{
    int i = index_of(code);
    return i < 0 ? "internal" : codes[i].name;
}

int mn_error_set(struct mn_error *e, int code, const char *field, const char *fmt, ...)
{
    if (!e)
        return code;
    e->code = code;
    snprintf(e->field, sizeof e->field, "%s", field ? field : "");
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e->message, sizeof e->message, fmt, ap);
    va_end(ap);
    return code;
}

void mn_error_clear(struct mn_error *e)
{
    if (!e)
        return;
    e->code = MN_OK;
    e->field[0] = 0;
    e->message[0] = 0;
}

void mn_error_prefix_field(struct mn_error *e, const char *prefix)
{
    if (!e || !prefix || !*prefix)
        return;
    char tmp[sizeof e->field];
    const char *dot = (!e->field[0] || e->field[0] == '[') ? "" : ".";
    if (snprintf(tmp, sizeof tmp, "%s%s%s", prefix, dot, e->field) >= (int)sizeof tmp)
        tmp[sizeof tmp - 1] = 0; /* a truncated path still points the right way */
    memcpy(e->field, tmp, sizeof tmp);
}
