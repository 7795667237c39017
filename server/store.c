/* store.c — SQLite database, migrations and statement cache (see store.h). */
#include "store.h"
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "files.h"
#include "log.h"
#include "server.h"

struct cached {
    const char *sql; /* the caller's static string: the cache key */
    sqlite3_stmt *st;
};

struct mn_store {
    sqlite3 *db;
    sqlite3 *ckpt; /* checkpoints only (mn_store_checkpoint) */
    struct cached *stmts;
    int n, cap;
};

double mn_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

const char *mn_time_text(double t, char *buf, size_t len)
{
    time_t s = (time_t)floor(t);
    struct tm tm;
    gmtime_r(&s, &tm);
    int ms = (int)((t - (double)s) * 1000.0);
    snprintf(buf, len, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1,
             tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ms < 0 ? 0 : ms > 999 ? 999 : ms);
    return buf;
}

/* Version number of an embedded migration path "migrations/0001_name.sql", or -1. */
static int migration_version(const char *path)
{
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    if (strncmp(path, "migrations/", 11) != 0 || strlen(base) < 6)
        return -1;
    const char *ext = strrchr(base, '.');
    if (!ext || strcmp(ext, ".sql") != 0)
        return -1;
    int v = atoi(base);
    return v > 0 ? v : -1;
}

int mn_store_known_version(void)
{
    int best = 0;
    for (const struct mn_file *f = mn_server_files; f->path; f++) {
        int v = migration_version(f->path);
        if (v > best)
            best = v;
    }
    return best;
}

static int exec(sqlite3 *db, const char *sql, struct mn_error *err)
{
    char *msg = NULL;
    if (sqlite3_exec(db, sql, NULL, NULL, &msg) == SQLITE_OK)
        return MN_OK;
    mn_error_set(err, MN_EDB, NULL, "%s", msg ? msg : sqlite3_errmsg(db));
    sqlite3_free(msg);
    return MN_EDB;
}

static int read_version(sqlite3 *db, int *out)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db, "SELECT coalesce(max(version),0) FROM schema_migrations", -1,
                           &st, NULL) != SQLITE_OK)
        return MN_EDB;
    int rc = sqlite3_step(st) == SQLITE_ROW ? MN_OK : MN_EDB;
    *out = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    return rc;
}

static int record(sqlite3 *db, int version, const char *path)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db, "INSERT INTO schema_migrations(version,name,applied_at) "
                           "VALUES(?,?,?)", -1, &st, NULL) != SQLITE_OK)
        return MN_EDB;
    sqlite3_bind_int(st, 1, version);
    sqlite3_bind_text(st, 2, path, -1, SQLITE_STATIC);
    sqlite3_bind_double(st, 3, mn_now());
    int rc = sqlite3_step(st) == SQLITE_DONE ? MN_OK : MN_EDB;
    sqlite3_finalize(st);
    return rc;
}

/* Applies every embedded migration newer than the database, each in its own
 * transaction (the table is sorted by path, hence by version). */
static int migrate(sqlite3 *db, struct mn_error *err)
{
    int rc = exec(db, "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER "
                      "PRIMARY KEY, name TEXT NOT NULL, applied_at REAL NOT NULL)", err);
    if (rc)
        return rc;
    int have = 0, known = mn_store_known_version();
    if (read_version(db, &have))
        return mn_error_set(err, MN_EDB, NULL, "reading schema_migrations: %s",
                            sqlite3_errmsg(db));
    if (have > known)
        return mn_error_set(err, MN_ECONFLICT, NULL,
                            "database schema version %d is newer than this monasd knows "
                            "(%d): use a newer monasd or another --db", have, known);
    for (const struct mn_file *f = mn_server_files; f->path; f++) {
        int v = migration_version(f->path);
        if (v <= have)
            continue;
        if ((rc = exec(db, "BEGIN IMMEDIATE", err)))
            return rc;
        if ((rc = exec(db, (const char *)f->data, err)) == MN_OK)
            rc = record(db, v, f->path);
        if (rc == MN_OK)
            rc = exec(db, "COMMIT", err);
        if (rc) {
            char why[sizeof err->message];
            snprintf(why, sizeof why, "%s",
                     err && err->message[0] ? err->message : sqlite3_errmsg(db));
            exec(db, "ROLLBACK", NULL);
            return mn_error_set(err, MN_EDB, NULL, "migration %s failed: %s", f->path, why);
        }
        mn_log_info("msg=migrated version=%d file=%s", v, f->path);
    }
    return MN_OK;
}

struct mn_store *mn_store_open(const char *path, struct mn_error *err)
{
    struct mn_store *s = calloc(1, sizeof *s);
    if (!s) {
        mn_error_set(err, MN_ENOMEM, NULL, "out of memory");
        return NULL;
    }
    if (sqlite3_open_v2(path, &s->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
                        SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
        mn_error_set(err, MN_EDB, NULL, "cannot open database %s: %s", path,
                     s->db ? sqlite3_errmsg(s->db) : "out of memory");
        goto fail;
    }
    sqlite3_busy_timeout(s->db, 5000);
    /* synchronous=NORMAL in WAL mode: a commit is appended to the WAL without fsync;
     * the WAL is synced before each checkpoint (every 100 ms, server/main.c). A crash
     * of monasd loses nothing (the WAL is in the OS's page cache); a power loss or
     * kernel crash may lose the commits since the last checkpoint (README: Durability)
     * but never corrupts the database, and what survives is a consistent prefix
     * of transactions: job state and its candidates always agree, so a restart resumes
     * from a consistent point and re-proposes the same candidates (deterministic
     * strategies). Workers whose acknowledged results were lost that way only lose the
     * work: the candidates are open again and get scored again.
     * cache_size 4 MiB: the pages a write touches are the newest candidates, the indexes'
     * tails and a few job and lease rows; a larger cache costs CPU on every commit that
     * split a page (SQLite moves split pages through a temporary page number past the
     * end, so ending the transaction scans the page cache's whole hash table).
     * wal_autocheckpoint 65536 pages (256 MiB of WAL) is only a safety net: the timer
     * checkpoints on the second connection, outside the server lock, every 100 ms, but
     * the WAL restarts from its beginning only when a checkpoint has caught up with the
     * last commit, so under steady writes it grows to several thousand pages between
     * restarts; a lower limit had the writer itself checkpoint, under the lock. */
    if (exec(s->db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; "
                    "PRAGMA foreign_keys=ON; PRAGMA temp_store=MEMORY; "
                    "PRAGMA cache_size=-4096; PRAGMA wal_autocheckpoint=65536", err))
        goto fail;
    if (migrate(s->db, err))
        goto fail;
    /* Foreign keys are enforced while migrating (above), then off: checking each
     * candidate, lease, history and strategy row against jobs cost about 1 us per
     * result ingested. Integrity holds without the check: every such row is written
     * with the id of a job monasd loaded from its jobs row (struct mn_job), inside the
     * same transaction, and monasd never deletes a job. */
    if (exec(s->db, "PRAGMA foreign_keys=OFF", err))
        goto fail;
    if (sqlite3_open_v2(path, &s->ckpt, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL) !=
        SQLITE_OK) {
        mn_error_set(err, MN_EDB, NULL, "cannot open database %s: %s", path,
                     s->ckpt ? sqlite3_errmsg(s->ckpt) : "out of memory");
        goto fail;
    }
    sqlite3_busy_timeout(s->ckpt, 0);
    if (exec(s->ckpt, "PRAGMA synchronous=NORMAL", err))
        goto fail;
    return s;
fail:
    mn_store_close(s);
    return NULL;
}

void mn_store_close(struct mn_store *s)
{
    if (!s)
        return;
    for (int i = 0; i < s->n; i++)
        sqlite3_finalize(s->stmts[i].st);
    free(s->stmts);
    sqlite3_close(s->ckpt);
    sqlite3_close(s->db);
    free(s);
}

int mn_store_checkpoint(struct mn_store *s)
{
    int rc = sqlite3_wal_checkpoint_v2(s->ckpt, NULL, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
    if (rc == SQLITE_OK || rc == SQLITE_BUSY)
        return MN_OK; /* busy: another checkpoint is running; the next tick catches up */
    mn_log_warn("msg=\"checkpoint failed\" error=\"%s\"", sqlite3_errmsg(s->ckpt));
    return MN_EDB;
}

int mn_store_version(struct mn_store *s)
{
    int v = 0;
    read_version(s->db, &v);
    return v;
}

sqlite3 *mn_store_db(struct mn_store *s)
{
    return s->db;
}

sqlite3_stmt *mn_store_prep(struct mn_store *s, const char *sql)
{
    for (int i = 0; i < s->n; i++)
        if (s->stmts[i].sql == sql) {
            sqlite3_reset(s->stmts[i].st);
            sqlite3_clear_bindings(s->stmts[i].st);
            return s->stmts[i].st;
        }
    if (s->n == s->cap) {
        int cap = s->cap ? s->cap * 2 : 64;
        struct cached *c = realloc(s->stmts, (size_t)cap * sizeof *c);
        if (!c)
            return NULL;
        s->stmts = c;
        s->cap = cap;
    }
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v3(s->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &st, NULL) != SQLITE_OK) {
        mn_log_error("msg=\"prepare failed\" error=\"%s\" sql=\"%.60s\"", sqlite3_errmsg(s->db),
                     sql);
        return NULL;
    }
    s->stmts[s->n++] = (struct cached){sql, st};
    return st;
}

static int simple(struct mn_store *s, const char *sql)
{
    sqlite3_stmt *st = mn_store_prep(s, sql);
    return st ? mn_store_step_done(s, st) : MN_EDB;
}

int mn_store_begin(struct mn_store *s)
{
    static const char sql[] = "BEGIN IMMEDIATE";
    return simple(s, sql);
}

int mn_store_commit(struct mn_store *s)
{
    static const char sql[] = "COMMIT";
    return simple(s, sql);
}

int mn_store_rollback(struct mn_store *s)
{
    if (sqlite3_get_autocommit(s->db))
        return MN_OK;
    static const char sql[] = "ROLLBACK";
    return simple(s, sql);
}

int mn_store_step_done(struct mn_store *s, sqlite3_stmt *st)
{
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    if (rc == SQLITE_DONE || rc == SQLITE_ROW)
        return MN_OK;
    mn_log_error("msg=\"statement failed\" error=\"%s\"", sqlite3_errmsg(s->db));
    return MN_EDB;
}
