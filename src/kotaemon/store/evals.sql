-- Named queries of eval runs and their per-question results (see evals.py).

-- name: insert_eval_run
-- Records a new eval run, queued, with the question set it asks.
INSERT INTO eval_runs (owner_id, principal, name, collections, options, questions, total)
VALUES (%(owner_id)s, %(principal)s, %(name)s, %(collections)s, %(options)s, %(questions)s,
        %(total)s)
RETURNING id;

-- name: select_eval_run
-- One run with how many of its questions have a stored result.
SELECT r.*, (SELECT count(*) FROM eval_results x WHERE x.run_id = r.id) AS done
FROM eval_runs r WHERE r.id = %(run_id)s;

-- name: list_eval_runs
-- A user's runs, newest first (without their question sets).
SELECT r.id, r.owner_id, r.principal, r.name, r.collections, r.options, '[]'::jsonb AS questions,
       r.total, r.state, r.error_code, r.error_message, NULL::jsonb AS summary, r.created_at,
       r.started_at, r.finished_at, r.updated_at,
       (SELECT count(*) FROM eval_results x WHERE x.run_id = r.id) AS done
FROM eval_runs r WHERE r.owner_id = %(owner_id)s
ORDER BY r.created_at DESC, r.id
LIMIT %(limit)s;

-- name: start_eval_run
-- Marks a run running (again, when resumed); nothing if it has ended.
UPDATE eval_runs
SET state = 'running', started_at = coalesce(started_at, now()), updated_at = now()
WHERE id = %(run_id)s AND state IN ('queued', 'running')
RETURNING id;

-- name: reopen_eval_run
-- Lets an ended run continue (a resume asked for by its owner).
UPDATE eval_runs
SET state = 'queued', error_code = NULL, error_message = NULL, finished_at = NULL,
    updated_at = now()
WHERE id = %(run_id)s;

-- name: insert_eval_result
-- Stores one question's result; a result stored already wins (a redelivery adds nothing).
INSERT INTO eval_results (run_id, position, question_id, result)
VALUES (%(run_id)s, %(position)s, %(question_id)s, %(result)s)
ON CONFLICT (run_id, position) DO NOTHING
RETURNING position;

-- name: eval_results
-- A run's results in question order.
SELECT position, question_id, result, created_at FROM eval_results
WHERE run_id = %(run_id)s ORDER BY position;

-- name: eval_result_positions
-- Which questions of a run have a result (the rest are left to do).
SELECT position FROM eval_results WHERE run_id = %(run_id)s;

-- name: finish_eval_run
-- Ends a run: succeeded with its summary, or failed with the reason.
UPDATE eval_runs
SET state = %(state)s, summary = %(summary)s, error_code = %(error_code)s,
    error_message = %(error_message)s, finished_at = now(), updated_at = now()
WHERE id = %(run_id)s;
