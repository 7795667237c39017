/* txn.c — write transactions with group commit (see txn.h). */
#include "txn.h"
#include <stdatomic.h>
#include "error.h"
#include "job.h"
#include "log.h"
#include "metrics.h"
#include "server.h"
#include "store.h"

#define MAX_GROUP 32 /* requests per commit at most, so a steady stream still commits */

static int exec(struct mn_server *srv, const char *sql)
{
    sqlite3_stmt *st = mn_store_prep(srv->store, sql);
    return st ? mn_store_step_done(srv->store, st) : MN_EDB;
}

int mn_txn_begin(struct mn_server *srv)
{
    static const char savepoint[] = "SAVEPOINT request";
    atomic_fetch_add(&srv->txn_waiting, 1);
    pthread_mutex_lock(&srv->lock);
    atomic_fetch_sub(&srv->txn_waiting, 1);
    int rc = MN_OK;
    if (!srv->txn_open) {
        if ((rc = mn_store_begin(srv->store))) {
            pthread_mutex_unlock(&srv->lock);
            return rc;
        }
        srv->txn_open = 1;
        srv->txn_members = 0;
        srv->txn_gen++;
    }
    srv->txn_members++;
    mn_metrics_add(srv->metrics, MN_M_WRITES, 1);
    if ((rc = exec(srv, savepoint))) {
        mn_txn_end(srv, rc);
        pthread_mutex_unlock(&srv->lock);
    }
    return rc;
}

int mn_txn_end(struct mn_server *srv, int rc)
{
    static const char rollback[] = "ROLLBACK TO request", release[] = "RELEASE request";
    if (rc) {
        exec(srv, rollback);
        mn_jobs_evict_all(srv->jobs);
    }
    exec(srv, release);
    uint64_t gen = srv->txn_gen;
    pthread_cond_broadcast(&srv->changed);
    if (atomic_load(&srv->txn_waiting) > 0 && srv->txn_members < MAX_GROUP) {
        /* Others are queued for the lock: let them add to this transaction. */
        while (srv->committed_gen < gen)
            pthread_cond_wait(&srv->committed, &srv->lock);
        return rc ? rc : srv->commit_rc;
    }
    int crc = mn_store_commit(srv->store);
    mn_metrics_add(srv->metrics, MN_M_COMMITS, 1);
    if (crc) {
        mn_log_error("msg=\"commit failed\" members=%d", srv->txn_members);
        mn_store_rollback(srv->store);
        mn_jobs_evict_all(srv->jobs);
    }
    srv->txn_open = 0;
    srv->commit_rc = crc;
    srv->committed_gen = gen;
    pthread_cond_broadcast(&srv->committed);
    return rc ? rc : crc;
}
