/* buf.h — a growable byte buffer for building response bodies (JSON, CSV, metrics)
 * without a tree, where throughput matters (leases, candidate lists). Appends after a
 * failed allocation are ignored and leave b->oom set; the caller checks once. */
#ifndef MN_BUF_H
#define MN_BUF_H
#include <cjson/cJSON.h>
#include <stddef.h>

struct mn_buf {
    char *data; /* NUL-terminated when non-NULL */
    size_t len, cap;
    int oom;
};

/* Makes room for n more bytes at once (one allocation instead of doublings). */
void mn_buf_reserve(struct mn_buf *b, size_t n);
void mn_buf_add(struct mn_buf *b, const char *s, size_t n);
/* A decimal integer, without printf. */
void mn_buf_int(struct mn_buf *b, long long v);
void mn_buf_str(struct mn_buf *b, const char *s);
void mn_buf_printf(struct mn_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* s as a quoted JSON string with escapes. */
void mn_buf_json_str(struct mn_buf *b, const char *s);
/* A finite double (integers exactly, others in the shortest of 15 or 17 significant
 * digits that reads back the same), or null. */
void mn_buf_num(struct mn_buf *b, double v);
/* j as compact JSON (what cJSON_PrintUnformatted gives, without its per-number
 * printf/scanf round trip). */
void mn_buf_json(struct mn_buf *b, const cJSON *j);
/* Takes the text (caller frees), leaving b empty; NULL after an allocation failure. */
char *mn_buf_take(struct mn_buf *b);
void mn_buf_free(struct mn_buf *b);

#endif
