/* txn.h — write transactions with group commit. Every request that writes takes the
 * server lock through mn_txn_begin and runs inside a savepoint of the current database
 * transaction. When it ends and other writers are already waiting for the lock, the
 * transaction stays open for them and the request waits; the last of the group commits
 * once for all. A request returns only after the commit that holds its changes, so its
 * response never acknowledges anything that is not durable; a failing request rolls
 * back only its own savepoint. Under concurrent workers this turns one commit per
 * request (the dominant cost of ingest) into one per group. */
#ifndef MN_TXN_H
#define MN_TXN_H

struct mn_server;

/* Takes the server lock and starts the request's savepoint (opening a transaction if
 * none is open). On failure the lock is released and a negative code returned. */
int mn_txn_begin(struct mn_server *srv);
/* Ends the request's part: rc != 0 undoes its changes (and drops the cached jobs, whose
 * memory may be ahead of the database); rc == 0 keeps them. Returns once they are
 * committed (or the commit failed), with the lock still held: 0 or the error. */
int mn_txn_end(struct mn_server *srv, int rc);

#endif
