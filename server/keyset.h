/* keyset.h — the set of canonical architecture keys a running job has proposed, kept in
 * memory for deduplication: each key is stored as a 128-bit fingerprint (two
 * independent 64-bit hashes), so the chance that two different keys collide among a
 * million is below 1e-26. Rebuilt from the candidates table when a job is loaded. */
#ifndef MN_KEYSET_H
#define MN_KEYSET_H
#include <stddef.h>

struct mn_keyset;

/* An empty set, or NULL. Free with mn_keyset_free (NULL allowed). */
struct mn_keyset *mn_keyset_new(void);
void mn_keyset_free(struct mn_keyset *s);
/* 1 when key was added, 0 when it was already there, MN_ENOMEM. */
int mn_keyset_add(struct mn_keyset *s, const char *key);
size_t mn_keyset_size(const struct mn_keyset *s);

#endif
