/* auth.h — bearer tokens with scopes. Tokens come from a file (one `token
 * scope[,scope]` per line, # comments) and/or the MONAS_TOKENS text (same entries,
 * separated by newlines or ';'). Scopes: admin (create and cancel jobs; implies read),
 * worker (leases), read (GET). With no tokens configured every request is allowed, and
 * monasd refuses non-loopback addresses unless --insecure. */
#ifndef MN_AUTH_H
#define MN_AUTH_H
#include "error.h"

enum { MN_SCOPE_NONE = 0, MN_SCOPE_READ = 1, MN_SCOPE_WORKER = 2, MN_SCOPE_ADMIN = 4 };

struct mn_auth;

/* Loads tokens from file (may be NULL) and text (may be NULL). NULL with err naming the
 * line on a malformed entry or unreadable file. */
struct mn_auth *mn_auth_load(const char *file, const char *text, struct mn_error *err);
void mn_auth_free(struct mn_auth *a);
/* Number of tokens configured. */
int mn_auth_count(const struct mn_auth *a);
/* Checks an Authorization header value (may be NULL) for scope `need` (a MN_SCOPE_*;
 * NONE = public). 0, MN_EAUTH (missing or unknown token) or MN_EFORBIDDEN. */
int mn_auth_check(const struct mn_auth *a, const char *authorization, int need);

#endif
