-- Named queries of conversations, answers and feedback (see answers.py).

-- name: insert_conversation
-- Starts a conversation for a user.
INSERT INTO conversations (owner_id, title, collections)
VALUES (%(owner_id)s, %(title)s, %(collections)s)
RETURNING id, owner_id, title, collections, created_at, updated_at;

-- name: select_conversation
-- One conversation of a user.
SELECT id, owner_id, title, collections, created_at, updated_at FROM conversations
WHERE id = %(conversation_id)s AND owner_id = %(owner_id)s;

-- name: list_conversations
-- A user's conversations, most recently active first.
SELECT id, owner_id, title, collections, created_at, updated_at FROM conversations
WHERE owner_id = %(owner_id)s
ORDER BY updated_at DESC, id
LIMIT %(limit)s OFFSET %(offset)s;

-- name: delete_conversation
-- Deletes a user's conversation with its answers.
DELETE FROM conversations WHERE id = %(conversation_id)s AND owner_id = %(owner_id)s
RETURNING id;

-- name: conversation_answers
-- The newest turns of a conversation, oldest first.
SELECT * FROM (
    SELECT id, question, text, citations, outcome, created_at FROM answers
    WHERE conversation_id = %(conversation_id)s
    ORDER BY created_at DESC, id
    LIMIT %(limit)s
) newest ORDER BY created_at, id;

-- name: insert_answer
-- Records an answer given; with an idempotency key, also what replays it (an answer already
-- recorded under the same key for the same user wins: nothing is inserted).
INSERT INTO answers (id, user_id, conversation_id, question, search_query, text, language,
                     outcome, model, citations, call_log, usage, idempotency_key, replay)
VALUES (%(id)s, %(user_id)s, %(conversation_id)s, %(question)s, %(search_query)s, %(text)s,
        %(language)s, %(outcome)s, %(model)s, %(citations)s, %(call_log)s, %(usage)s,
        %(idempotency_key)s, %(replay)s)
ON CONFLICT (user_id, idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING
RETURNING id;

-- name: select_answer_by_key
-- The answer a user was given under an idempotency key, with what replays it.
SELECT replay FROM answers
WHERE user_id = %(user_id)s AND idempotency_key = %(idempotency_key)s;

-- name: touch_conversation
-- Marks a conversation active now.
UPDATE conversations SET updated_at = now() WHERE id = %(conversation_id)s;

-- name: select_answer_owner
-- Who an answer was given to.
SELECT user_id FROM answers WHERE id = %(answer_id)s;

-- name: upsert_feedback
-- A user's rating of an answer; rating again replaces it.
INSERT INTO feedback (answer_id, user_id, rating, comment)
VALUES (%(answer_id)s, %(user_id)s, %(rating)s, %(comment)s)
ON CONFLICT (answer_id, user_id) DO UPDATE
SET rating = EXCLUDED.rating, comment = EXCLUDED.comment, updated_at = now()
RETURNING answer_id, user_id, rating, comment, created_at, updated_at;
