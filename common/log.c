/* log.c — structured one-line-per-event logging to stderr (see log.h). */
#include "log.h"
#include "error.h"
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static enum mn_log_level min_level = MN_LOG_INFO;
static const char *const names[] = {"debug", "info", "warn", "error"};

void mn_log_set_level(enum mn_log_level level)
{
    min_level = level;
}

int mn_log_parse_level(const char *name, enum mn_log_level *out)
{
    for (int i = 0; i < 4; i++)
        if (strcmp(name, names[i]) == 0) {
            *out = (enum mn_log_level)i;
            return MN_OK;
        }
    return MN_EINVAL;
}

void mn_log(enum mn_log_level level, const char *fmt, ...)
{
    if (level < min_level)
        return;
    char line[2048];
    struct timespec ts;
    struct tm tm;
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    int n = (int)strftime(line, sizeof line, "%Y-%m-%dT%H:%M:%S", &tm);
    n += snprintf(line + n, sizeof line - n, ".%03ldZ level=%s ", ts.tv_nsec / 1000000,
                  names[level]);
    va_list ap;
    va_start(ap, fmt);
    int m = vsnprintf(line + n, sizeof line - n - 1, fmt, ap);
    va_end(ap);
    n = (m < 0) ? n : (n + m > (int)sizeof line - 2 ? (int)sizeof line - 2 : n + m);
    line[n++] = '\n';
    ssize_t w = write(STDERR_FILENO, line, (size_t)n);
    (void)w;
}
