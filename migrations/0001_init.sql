-- 0001_init.sql — jobs, their candidates, leases and hypervolume history.
-- Times are Unix seconds (REAL). Candidate status: queued, leased, scored, dead,
-- rejected. Lease status: active, done, expired, released.
CREATE TABLE jobs (
    id              INTEGER PRIMARY KEY,
    name            TEXT    NOT NULL,
    status          TEXT    NOT NULL,
    reason          TEXT    NOT NULL DEFAULT '',
    spec            TEXT    NOT NULL,
    scoring_version INTEGER NOT NULL,
    created_at      REAL    NOT NULL,
    updated_at      REAL    NOT NULL,
    finished_at     REAL,
    n_proposed      INTEGER NOT NULL DEFAULT 0,
    n_rejected      INTEGER NOT NULL DEFAULT 0,
    n_scored        INTEGER NOT NULL DEFAULT 0,
    n_done          INTEGER NOT NULL DEFAULT 0,
    generation      INTEGER NOT NULL DEFAULT 0,
    stale           INTEGER NOT NULL DEFAULT 0,
    hypervolume     REAL    NOT NULL DEFAULT 0,
    scale           TEXT,
    strategy_state  TEXT
);
CREATE INDEX jobs_status ON jobs (status, id);

CREATE TABLE candidates (
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
    scored_at   REAL,
    UNIQUE (job_id, key)
);
CREATE INDEX candidates_state ON candidates (job_id, status, id);
CREATE INDEX candidates_front ON candidates (job_id, id) WHERE on_front = 1;
CREATE INDEX candidates_lease ON candidates (lease_id) WHERE status = 'leased';

CREATE TABLE leases (
    id          INTEGER PRIMARY KEY,
    job_id      INTEGER NOT NULL REFERENCES jobs (id),
    worker_id   TEXT    NOT NULL,
    status      TEXT    NOT NULL,
    n           INTEGER NOT NULL,
    created_at  REAL    NOT NULL,
    expires_at  REAL    NOT NULL
);
CREATE INDEX leases_active ON leases (expires_at) WHERE status = 'active';

CREATE TABLE history (
    job_id      INTEGER NOT NULL REFERENCES jobs (id),
    generation  INTEGER NOT NULL,
    scored      INTEGER NOT NULL,
    hypervolume REAL    NOT NULL,
    at          REAL    NOT NULL,
    PRIMARY KEY (job_id, generation)
) WITHOUT ROWID;
