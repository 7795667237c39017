/* error.h — the one table of error codes used across monas, and an error record that
 * carries a message and the name of the offending field (for JSON API errors and CLI
 * messages). Functions return 0 on success and a negative MN_E* code on failure. */
#ifndef MN_ERROR_H
#define MN_ERROR_H

enum {
    MN_OK = 0,
    MN_EINVAL = -1,       /* invalid input: bad value, unknown name, out of range */
    MN_ENOMEM = -2,       /* allocation failed */
    MN_ENOTFOUND = -3,    /* no such object */
    MN_EPARSE = -4,       /* malformed text (JSON, architecture string, CSV) */
    MN_EIO = -5,          /* file or network I/O */
    MN_ESTATE = -6,       /* operation not allowed in the object's current state */
    MN_ECONFLICT = -7,    /* conflicts with stored state (e.g. version mismatch) */
    MN_EDB = -8,          /* database error */
    MN_ENUMERIC = -9,     /* numerical failure (non-finite value, no convergence) */
    MN_EUNSUPPORTED = -10,/* valid but not supported by this build or space */
    MN_ETOOBIG = -11,     /* exceeds a size limit */
    MN_ETIMEOUT = -12,    /* deadline passed */
    MN_EAUTH = -13,       /* missing or wrong credentials */
    MN_EFORBIDDEN = -14,  /* credentials lack the needed scope */
    MN_ECODE_MIN = -14
};

/* A short English description of `code`; never NULL. */
const char *mn_strerror(int code);
/* A stable lower-case identifier of `code` for JSON ("invalid", "not_found", ...). */
const char *mn_error_name(int code);

struct mn_error {
    int code;            /* MN_E* or MN_OK */
    char field[128];     /* JSON path of the offending field ("space.settings.C"), or "" */
    char message[384];   /* human-readable, one line */
};

/* Fills `e` (which may be NULL) with code, field (may be NULL) and a printf-style
 * message, and returns `code`, so callers can write `return mn_error_set(...)`. */
int mn_error_set(struct mn_error *e, int code, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Clears `e` to MN_OK with empty field and message. */
void mn_error_clear(struct mn_error *e);

/* Prepends `prefix` + "." to e->field (or sets it when empty): nested validators
 * report paths relative to their object and callers add where that object sits. */
void mn_error_prefix_field(struct mn_error *e, const char *prefix);

#endif
