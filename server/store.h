/* store.h — monasd's SQLite database: opening it in WAL mode, applying the embedded
 * migrations (migrations/NNNN_*.sql, recorded in schema_migrations), a cache of
 * prepared statements and transactions. Only monasd opens the file, and only through
 * one mn_store used under the server lock, so there is a single writer path. */
#ifndef MN_STORE_H
#define MN_STORE_H
#include <sqlite3.h>
#include <stddef.h>
#include "error.h"

struct mn_store;

/* Opens (creating if needed) the database at path and migrates it to the newest
 * schema this build knows. Returns NULL with err filled when the file cannot be
 * opened, a migration fails (nothing of it is kept), or the database was written by
 * a newer monasd (MN_ECONFLICT, naming both versions). Free with mn_store_close. */
struct mn_store *mn_store_open(const char *path, struct mn_error *err);
void mn_store_close(struct mn_store *s);

/* Copies committed WAL frames into the database file (a PASSIVE checkpoint: it never
 * waits for or blocks the writer) on the store's second connection, so that the copying
 * runs outside the server lock. The writer still checkpoints when the WAL passes 8192
 * pages, which then finds little left to copy, syncs, and lets the WAL start over (a
 * WAL is only rewound by a writer that finds it fully copied). Call from one thread
 * (the loop's timer). 0 or MN_EDB. */
int mn_store_checkpoint(struct mn_store *s);

/* Newest migration version embedded in this build. */
int mn_store_known_version(void);
/* Version recorded in the open database. */
int mn_store_version(struct mn_store *s);

/* The prepared statement for sql — a string with static storage, cached by address —
 * reset and with bindings cleared, ready to bind. NULL on a preparation error (logged).
 * The store owns the statement. */
sqlite3_stmt *mn_store_prep(struct mn_store *s, const char *sql);
sqlite3 *mn_store_db(struct mn_store *s);

/* BEGIN IMMEDIATE / COMMIT / ROLLBACK; 0 or MN_EDB (message logged). */
int mn_store_begin(struct mn_store *s);
int mn_store_commit(struct mn_store *s);
int mn_store_rollback(struct mn_store *s);
/* Runs a statement with no result rows (sqlite3_step until done); 0 or MN_EDB. */
int mn_store_step_done(struct mn_store *s, sqlite3_stmt *st);

/* Unix time in seconds with sub-second precision. */
double mn_now(void);
/* RFC 3339 UTC text of Unix time t ("2026-01-02T03:04:05.678Z"; len ≥ 32). */
const char *mn_time_text(double t, char *buf, size_t len);

#endif
