/* log.h — structured logging: one line per event on stderr,
 * "2026-11-21T13:24:26.123Z level=info msg=... key=value ...". */
#ifndef MN_LOG_H
#define MN_LOG_H

enum mn_log_level { MN_LOG_DEBUG, MN_LOG_INFO, MN_LOG_WARN, MN_LOG_ERROR };

/* Messages below `level` are dropped. The level is process-wide; set it once at start. */
void mn_log_set_level(enum mn_log_level level);
/* Parses "debug", "info", "warn" or "error"; returns 0 or MN_EINVAL. */
int mn_log_parse_level(const char *name, enum mn_log_level *out);
/* Writes one line: timestamp, level, then the formatted text (logfmt key=value pairs
 * by convention, starting with msg=...). Thread-safe: one write(2) per line. */
void mn_log(enum mn_log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define mn_log_debug(...) mn_log(MN_LOG_DEBUG, __VA_ARGS__)
#define mn_log_info(...) mn_log(MN_LOG_INFO, __VA_ARGS__)
#define mn_log_warn(...) mn_log(MN_LOG_WARN, __VA_ARGS__)
#define mn_log_error(...) mn_log(MN_LOG_ERROR, __VA_ARGS__)

#endif
