-- 0003_candidates_no_key_index.sql — drops the UNIQUE (job_id, key) index of
-- candidates: monasd deduplicates keys of running jobs in memory (128-bit fingerprints,
-- rebuilt from this table when a job is loaded), and the random-order inserts into that
-- index were most of the write cost of proposing candidates. SQLite cannot drop a table
-- constraint, so the table is rebuilt with the same columns and indexes.
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
CREATE INDEX candidates_state ON candidates (job_id, status, id);
CREATE INDEX candidates_front ON candidates (job_id, id) WHERE on_front = 1;
CREATE INDEX candidates_lease ON candidates (lease_id) WHERE status = 'leased';
