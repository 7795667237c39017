-- 0003_candidates_no_key_index.sql — fewer index writes per candidate, for ingest
-- throughput: drops the UNIQUE (job_id, key) index (monasd deduplicates the keys of a
-- running job in memory with 128-bit fingerprints, rebuilt from this table when the job
-- is loaded; random-order inserts into that index were most of the write cost of
-- proposing candidates), and folds the lease index into the state index
-- (job_id, status, lease_id, id): queued candidates have no lease_id, so the queue is
-- still in id order, and a lease's candidates are found by (job_id, 'leased', lease_id).
-- SQLite cannot drop a table constraint, so the table is rebuilt.
CREATE TABLE candidates_new (
    id          INTEGER PRIMARY KEY,
    job_id      INTEGER NOT NULL REFERENCES jobs (id),
    key         TEXT    NOT NULL,
    arch        TEXT    NOT NULL,
    status      TEXT    NOT NULL,
    attempts    INTEGER NOT NULL DEFAULT 0,
    lease_id    INTEGER,
    origin      TEXT,
    error       TEXT,
    scores      TEXT,
    cost        TEXT,
    flags       TEXT,
    seconds     REAL,
    worker_id   TEXT,
    obj         BLOB,
    feasible    INTEGER,
    on_front    INTEGER NOT NULL DEFAULT 0,
    created_at  REAL    NOT NULL,
    scored_at   REAL
);
INSERT INTO candidates_new SELECT id, job_id, key, arch, status, attempts, lease_id, origin,
    error, scores, cost, flags, seconds, worker_id, obj, feasible, on_front, created_at,
    scored_at FROM candidates;
DROP TABLE candidates;
ALTER TABLE candidates_new RENAME TO candidates;
CREATE INDEX candidates_state ON candidates (job_id, status, lease_id, id);
CREATE INDEX candidates_front ON candidates (job_id, id) WHERE on_front = 1;
