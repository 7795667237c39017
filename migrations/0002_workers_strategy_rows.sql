-- 0002_workers_strategy_rows.sql — the workers seen (GET /v1/workers) and free-form
-- per-job rows a strategy keeps (populations, aging queues, pruning rounds).
CREATE TABLE workers (
    id              TEXT    PRIMARY KEY,
    version         TEXT    NOT NULL,
    scoring_version INTEGER NOT NULL,
    first_seen      REAL    NOT NULL,
    last_seen       REAL    NOT NULL,
    leases          INTEGER NOT NULL DEFAULT 0,
    results         INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE strategy_rows (
    job_id  INTEGER NOT NULL REFERENCES jobs (id),
    kind    TEXT    NOT NULL,
    seq     INTEGER NOT NULL,
    value   TEXT    NOT NULL,
    PRIMARY KEY (job_id, kind, seq)
) WITHOUT ROWID;
