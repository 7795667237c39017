-- 0004_lease_items.sql — granting a lease rewrites no candidate row, for ingest
-- throughput: the lease row lists its candidates (items, a JSON array of candidate ids)
-- and a candidate out on a lease keeps status 'queued' here; "leased" is derived (queued
-- and in the items of an active lease; monasd keeps it in memory, see server/queue.h).
-- attempts now counts the attempts that ended (failed, expired, or the one that
-- scored), so a candidate out on a lease has not counted that lease yet. The lease_id
-- column goes, and the state index with it becomes (job_id, id) without the status:
-- scoring a candidate then rewrites its row only, not an index entry (queries by status
-- within a job scan that job's rows; monasd keeps its counts by status in the jobs row
-- and in memory, see GET /v1/jobs/{id}).
ALTER TABLE leases ADD COLUMN items TEXT NOT NULL DEFAULT '[]';
UPDATE leases SET items = (SELECT json_group_array(c.id) FROM candidates c
                           WHERE c.job_id = leases.job_id AND c.status = 'leased'
                             AND c.lease_id = leases.id)
 WHERE status = 'active';
UPDATE candidates SET status = 'queued', attempts = max(attempts - 1, 0)
 WHERE status = 'leased';
DROP INDEX candidates_state;
ALTER TABLE candidates DROP COLUMN lease_id;
CREATE INDEX candidates_job ON candidates (job_id, id);
