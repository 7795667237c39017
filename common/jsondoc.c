/* jsondoc.c — arena-backed, read-only cJSON parser (see jsondoc.h). Each step mirrors
 * the cJSON 1.7 parser it replaces on the hot path, so a body parses to the same tree
 * (and fails on the same inputs) either way; tests/check_jsondoc.c compares the two. */
#include "jsondoc.h"
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define NESTING_LIMIT 1000 /* cJSON's CJSON_NESTING_LIMIT */

/* One arena block: `cap` bytes after the header, `used` of them handed out. */
struct block {
    struct block *next;
    size_t used, cap;
    max_align_t data[];
};

struct mn_jsondoc {
    struct block *blocks;
    cJSON *root;
};

struct parser {
    const unsigned char *p, *end; /* next byte to read; end of the text */
    struct mn_jsondoc *doc;
    size_t next_cap;              /* size of the next block */
    int oom;
};

/* n bytes (8-aligned) from the document's arena, or NULL when out of memory. */
static void *alloc(struct parser *ps, size_t n)
{
    n = (n + 7) & ~(size_t)7;
    struct block *b = ps->doc->blocks;
    if (!b || b->cap - b->used < n) {
        size_t cap = ps->next_cap > n ? ps->next_cap : n;
        if (!(b = malloc(sizeof *b + cap))) {
            ps->oom = 1;
            return NULL;
        }
        *b = (struct block){.next = ps->doc->blocks, .cap = cap};
        ps->doc->blocks = b;
        ps->next_cap = cap * 2;
    }
    void *r = (char *)b->data + b->used;
    b->used += n;
    return r;
}

static cJSON *new_node(struct parser *ps, int type)
{
    cJSON *n = alloc(ps, sizeof *n);
    if (n)
        *n = (cJSON){.type = type};
    return n;
}

static void skip_ws(struct parser *ps)
{
    while (ps->p < ps->end && *ps->p <= 32)
        ps->p++;
}

/* Four hex digits; 0 when one is not a hex digit (as cJSON). */
static unsigned hex4(const unsigned char *s)
{
    unsigned h = 0;
    for (int i = 0; i < 4; i++) {
        unsigned char c = s[i];
        if (c >= '0' && c <= '9')
            h = (h << 4) | (unsigned)(c - '0');
        else if (c >= 'A' && c <= 'F')
            h = (h << 4) | (unsigned)(c - 'A' + 10);
        else if (c >= 'a' && c <= 'f')
            h = (h << 4) | (unsigned)(c - 'a' + 10);
        else
            return 0;
    }
    return h;
}

/* Decodes the \u escape at s (before `end`, the closing quote) to UTF-8 at *out.
 * Returns the escape's length (6, or 12 for a surrogate pair) or 0 when invalid. */
static int utf16_escape(const unsigned char *s, const unsigned char *end, unsigned char **out)
{
    if (end - s < 6)
        return 0;
    unsigned long cp = hex4(s + 2);
    int len = 6;
    if (cp >= 0xDC00 && cp <= 0xDFFF)
        return 0;
    if (cp >= 0xD800 && cp <= 0xDBFF) {
        const unsigned char *lo = s + 6;
        if (end - lo < 6 || lo[0] != '\\' || lo[1] != 'u')
            return 0;
        unsigned long low = hex4(lo + 2);
        if (low < 0xDC00 || low > 0xDFFF)
            return 0;
        cp = 0x10000 + (((cp & 0x3FF) << 10) | (low & 0x3FF));
        len = 12;
    }
    int n = cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
    static const unsigned char lead[] = {0, 0, 0xC0, 0xE0, 0xF0};
    for (int i = n - 1; i > 0; i--) {
        (*out)[i] = (unsigned char)((cp | 0x80) & 0xBF);
        cp >>= 6;
    }
    (*out)[0] = (unsigned char)(n > 1 ? (cp | lead[n]) & 0xFF : cp & 0x7F);
    *out += n;
    return len;
}

/* The string at ps->p (which must be '"'), decoded into the arena. NULL on error. */
static char *parse_string(struct parser *ps)
{
    const unsigned char *q = ps->p + 1;
    size_t skipped = 0;
    if (ps->p >= ps->end || *ps->p != '"')
        return NULL;
    while (q < ps->end && *q != '"') {
        if (*q == '\\') {
            if (q + 1 >= ps->end)
                return NULL;
            skipped++;
            q++;
        }
        q++;
    }
    if (q >= ps->end)
        return NULL;
    unsigned char *s = alloc(ps, (size_t)(q - ps->p - 1) - skipped + 1), *o = s;
    if (!s)
        return NULL;
    for (const unsigned char *r = ps->p + 1; r < q;) {
        if (*r != '\\') {
            *o++ = *r++;
            continue;
        }
        static const char from[] = "bfnrt\"\\/", to[] = "\b\f\n\r\t\"\\/";
        const char *e = r[1] ? strchr(from, r[1]) : NULL;
        if (e) {
            *o++ = (unsigned char)to[e - from];
            r += 2;
        } else if (r[1] == 'u') {
            int n = utf16_escape(r, q, &o);
            if (!n) {
                ps->p = r;
                return NULL;
            }
            r += n;
        } else {
            ps->p = r;
            return NULL;
        }
    }
    *o = 0;
    ps->p = q + 1;
    return (char *)s;
}

/* The number at ps->p into n: the longest run of number bytes read by strtod (plain
 * integers of up to 15 digits directly: exact, so the same double). */
static int parse_number(struct parser *ps, cJSON *n)
{
    size_t len = 0, digits = 0;
    while (ps->p + len < ps->end) {
        unsigned char c = ps->p[len];
        if (!((c >= '0' && c <= '9') || c == '+' || c == '-' || c == 'e' || c == 'E' ||
              c == '.'))
            break;
        digits += c >= '0' && c <= '9';
        len++;
    }
    int neg = *ps->p == '-';
    double v;
    size_t used = len;
    if (digits && digits <= 15 && digits + (size_t)neg == len) {
        uint64_t u = 0;
        for (size_t i = (size_t)neg; i < len; i++)
            u = u * 10 + (uint64_t)(ps->p[i] - '0');
        v = neg ? -(double)u : (double)u;
    } else { /* strtod needs a terminated copy */
        char small[64], *buf = len < sizeof small ? small : alloc(ps, len + 1), *after;
        if (!buf)
            return 0;
        memcpy(buf, ps->p, len);
        buf[len] = 0;
        v = strtod(buf, &after);
        if (after == buf)
            return 0;
        used = (size_t)(after - buf);
    }
    n->type = cJSON_Number;
    n->valuedouble = v;
    n->valueint = v >= INT_MAX ? INT_MAX : v <= (double)INT_MIN ? INT_MIN : (int)v;
    ps->p += used;
    return 1;
}

static cJSON *parse_value(struct parser *ps, int depth);

/* The array or object at ps->p ('[' or '{') into n. */
static int parse_container(struct parser *ps, cJSON *n, int depth)
{
    int object = *ps->p == '{';
    unsigned char close = object ? '}' : ']';
    if (depth >= NESTING_LIMIT)
        return 0;
    n->type = object ? cJSON_Object : cJSON_Array;
    ps->p++;
    skip_ws(ps);
    if (ps->p < ps->end && *ps->p == close) {
        ps->p++;
        return 1;
    }
    cJSON *last = NULL;
    for (;;) {
        char *key = NULL;
        skip_ws(ps);
        if (object) {
            if (!(key = parse_string(ps)))
                return 0;
            skip_ws(ps);
            if (ps->p >= ps->end || *ps->p != ':')
                return 0;
            ps->p++;
            skip_ws(ps);
        }
        cJSON *item = parse_value(ps, depth + 1);
        if (!item)
            return 0;
        item->string = key;
        if (last) {
            last->next = item;
            item->prev = last;
        } else {
            n->child = item;
        }
        last = item;
        skip_ws(ps);
        if (ps->p < ps->end && *ps->p == ',') {
            ps->p++;
            continue;
        }
        break;
    }
    if (ps->p >= ps->end || *ps->p != close)
        return 0;
    ps->p++;
    n->child->prev = last; /* as cJSON: the first item's prev is the last */
    return 1;
}

/* The literal word at ps->p into n as type (valueint set as cJSON sets it). */
static int parse_literal(struct parser *ps, cJSON *n, const char *word, int type)
{
    size_t len = strlen(word);
    if ((size_t)(ps->end - ps->p) < len || memcmp(ps->p, word, len) != 0)
        return 0;
    n->type = type;
    n->valueint = type == cJSON_True;
    ps->p += len;
    return 1;
}

/* The value at ps->p, or NULL (ps->p then points near the error). */
static cJSON *parse_value(struct parser *ps, int depth)
{
    cJSON *n = ps->p < ps->end ? new_node(ps, cJSON_Invalid) : NULL;
    if (!n)
        return NULL;
    unsigned char c = *ps->p;
    int ok = 0;
    if (c == 'n')
        ok = parse_literal(ps, n, "null", cJSON_NULL);
    else if (c == 'f')
        ok = parse_literal(ps, n, "false", cJSON_False);
    else if (c == 't')
        ok = parse_literal(ps, n, "true", cJSON_True);
    else if (c == '"') {
        n->type = cJSON_String;
        ok = (n->valuestring = parse_string(ps)) != NULL;
    } else if (c == '-' || (c >= '0' && c <= '9'))
        ok = parse_number(ps, n);
    else if (c == '[' || c == '{')
        ok = parse_container(ps, n, depth);
    return ok ? n : NULL;
}

int mn_jsondoc_parse(const char *text, size_t len, struct mn_jsondoc **doc, size_t *err_at)
{
    /* The first block fits a typical body: ~5 bytes of nodes and keys per input byte. */
    struct parser ps = {.p = (const unsigned char *)text,
                        .end = (const unsigned char *)text + len,
                        .doc = calloc(1, sizeof **doc),
                        .next_cap = 256 + len * 5};
    *doc = NULL;
    *err_at = 0;
    if (!ps.doc)
        return MN_ENOMEM;
    if (text && len) {
        if (len > 4 && memcmp(text, "\xEF\xBB\xBF", 3) == 0) /* as cJSON: a BOM, then more */
            ps.p += 3;
        skip_ws(&ps);
        ps.doc->root = parse_value(&ps, 0);
    }
    if (!ps.doc->root) {
        size_t at = (size_t)(ps.p - (const unsigned char *)text);
        *err_at = len && at >= len ? len - 1 : at;
        mn_jsondoc_free(ps.doc);
        return ps.oom ? MN_ENOMEM : MN_EPARSE;
    }
    *doc = ps.doc;
    return MN_OK;
}

const cJSON *mn_jsondoc_root(const struct mn_jsondoc *doc)
{
    return doc->root;
}

struct mn_jsondoc *mn_jsondoc_empty_object(void)
{
    struct mn_jsondoc *doc = calloc(1, sizeof *doc);
    struct parser ps = {.doc = doc, .next_cap = sizeof(cJSON)};
    if (doc && !(doc->root = new_node(&ps, cJSON_Object))) {
        mn_jsondoc_free(doc);
        return NULL;
    }
    return doc;
}

void mn_jsondoc_free(struct mn_jsondoc *doc)
{
    if (!doc)
        return;
    for (struct block *b = doc->blocks, *next; b; b = next) {
        next = b->next;
        free(b);
    }
    free(doc);
}
