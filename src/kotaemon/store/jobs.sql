-- Named queries of ingestion jobs and stored files (see jobs.py).

-- name: insert_file
-- Stores a file's bytes once per content (a second upload of the same bytes changes nothing).
INSERT INTO files (content_hash, data, size_bytes)
VALUES (%(content_hash)s, %(data)s, %(size_bytes)s)
ON CONFLICT (content_hash) DO NOTHING;

-- name: file_data
-- The bytes of a stored file.
SELECT data FROM files WHERE content_hash = %(content_hash)s;

-- name: delete_unused_file
-- Deletes a file no document and no unfinished job uses any more.
DELETE FROM files f
WHERE f.content_hash = %(content_hash)s
  AND NOT EXISTS (SELECT 1 FROM documents d WHERE d.content_hash = f.content_hash)
  AND NOT EXISTS (SELECT 1 FROM ingest_jobs j
                  WHERE j.content_hash = f.content_hash AND j.state IN ('queued', 'running'));

-- name: insert_job
-- Queues the ingestion of a stored file into a collection.
INSERT INTO ingest_jobs (collection_id, kind, source, content_hash, media_type, size_bytes,
                         metadata, submitted_by, max_attempts)
VALUES (%(collection_id)s, %(kind)s, %(source)s, %(content_hash)s, %(media_type)s,
        %(size_bytes)s, %(metadata)s, %(submitted_by)s, %(max_attempts)s)
RETURNING id;

-- name: insert_reindex_jobs
-- Queues a re-index of stored documents (all of a collection's, or the one given).
INSERT INTO ingest_jobs (collection_id, kind, source, content_hash, media_type, size_bytes,
                         metadata, submitted_by, max_attempts)
SELECT d.collection_id, 'reindex', d.source, d.content_hash, d.media_type, d.size_bytes,
       d.metadata, %(submitted_by)s, %(max_attempts)s
FROM documents d
WHERE d.collection_id = %(collection_id)s
  AND (%(document_id)s::uuid IS NULL OR d.id = %(document_id)s::uuid)
  AND EXISTS (SELECT 1 FROM files f WHERE f.content_hash = d.content_hash)
ORDER BY d.source
RETURNING id;

-- name: select_job
-- One job, with its collection's name.
SELECT j.*, c.name AS collection FROM ingest_jobs j JOIN collections c ON c.id = j.collection_id
WHERE j.id = %(job_id)s;

-- name: list_jobs
-- A collection's jobs, newest first, optionally only those in one state.
SELECT j.*, c.name AS collection FROM ingest_jobs j JOIN collections c ON c.id = j.collection_id
WHERE j.collection_id = %(collection_id)s AND (%(state)s::text IS NULL OR j.state = %(state)s)
ORDER BY j.created_at DESC, j.id
LIMIT %(limit)s;

-- name: start_job
-- Marks a job running and counts the attempt; returns nothing if the job has already ended
-- (a redelivery of a finished job does no work).
UPDATE ingest_jobs
SET state = 'running', attempts = attempts + 1, stage = 'starting', progress_done = 0,
    progress_total = 0, started_at = now(), updated_at = now()
WHERE id = %(job_id)s AND state IN ('queued', 'running')
RETURNING id;

-- name: job_progress
-- Records how far a running job got.
UPDATE ingest_jobs
SET stage = %(stage)s, progress_done = %(done)s, progress_total = %(total)s, updated_at = now()
WHERE id = %(job_id)s AND state = 'running';

-- name: finish_job
-- Ends a job: succeeded with its result, or failed with the reason.
UPDATE ingest_jobs
SET state = %(state)s, stage = NULL, result = %(result)s, document_id = %(document_id)s,
    chunk_count = %(chunk_count)s, error_code = %(error_code)s, error_message = %(error_message)s,
    finished_at = now(), updated_at = now()
WHERE id = %(job_id)s;

-- name: requeue_job
-- Puts a job that failed for a passing reason back in line, keeping the reason for display.
UPDATE ingest_jobs
SET state = 'queued', stage = NULL, error_code = %(error_code)s,
    error_message = %(error_message)s, updated_at = now()
WHERE id = %(job_id)s AND state = 'running';

-- name: count_jobs_by_state
-- How many jobs are in each state (queue depth for metrics and autoscaling).
SELECT state, count(*) AS n FROM ingest_jobs GROUP BY state;

-- name: list_documents_with_status
-- A collection's documents with their newest job, and sources whose first ingestion has not
-- (or not yet) produced a document.
WITH docs AS (
    SELECT * FROM documents WHERE collection_id = %(collection_id)s
), latest AS (
    SELECT DISTINCT ON (source) id, source, state, error_code, error_message, media_type,
           size_bytes, created_at
    FROM ingest_jobs WHERE collection_id = %(collection_id)s
    ORDER BY source, created_at DESC, id
)
SELECT d.id, coalesce(d.source, j.source) AS source, d.title,
       coalesce(d.media_type, j.media_type) AS media_type,
       coalesce(d.size_bytes, j.size_bytes) AS size_bytes, coalesce(d.chunk_count, 0) AS chunk_count,
       d.content_hash, d.language, coalesce(d.created_at, j.created_at) AS created_at,
       d.updated_at, j.id AS job_id, j.state AS job_state, j.error_code, j.error_message
FROM docs d FULL JOIN latest j ON j.source = d.source
WHERE d.id IS NOT NULL OR j.state <> 'succeeded'    -- a deleted document leaves the list
ORDER BY 2
LIMIT %(limit)s OFFSET %(offset)s;

-- name: find_document_by_id
-- A document of a collection by id.
SELECT id, source, content_hash FROM documents
WHERE id = %(document_id)s AND collection_id = %(collection_id)s;

-- name: orphaned_jobs
-- Unfinished jobs the queue no longer holds (a delivery that failed before it could record
-- anything, a queue entry lost when the database was down): they need delivering again.
SELECT j.id FROM ingest_jobs j
WHERE j.state IN ('queued', 'running')
  AND j.updated_at < now() - make_interval(secs => %(seconds)s)
  AND NOT EXISTS (
      SELECT 1 FROM procrastinate_jobs p
      WHERE p.args->>'job_id' = j.id::text AND p.status IN ('todo', 'doing'))
ORDER BY j.updated_at
LIMIT 100;
