-- Named queries of API keys, sign-ins, sessions and the audit log (see security.py).

-- name: insert_api_key
-- Stores a new key's hash.
INSERT INTO api_keys (name, prefix, key_hash, user_id, scopes, groups, attributes, created_by,
                      expires_at)
VALUES (%(name)s, %(prefix)s, %(key_hash)s, %(user_id)s, %(scopes)s, %(groups)s, %(attributes)s,
        %(created_by)s, %(expires_at)s)
RETURNING id, name, prefix, user_id, scopes, groups, created_by, created_at, expires_at,
          revoked_at, last_used_at;

-- name: list_api_keys
-- Every key, newest first (never the hash).
SELECT id, name, prefix, user_id, scopes, groups, created_by, created_at, expires_at, revoked_at,
       last_used_at
FROM api_keys ORDER BY created_at DESC, id;

-- name: revoke_api_key
-- Revokes a key (once).
UPDATE api_keys SET revoked_at = coalesce(revoked_at, now()) WHERE id = %(key_id)s
RETURNING id;

-- name: use_api_key
-- The live key with this hash, marking it used (at most once a minute, to spare writes).
UPDATE api_keys SET last_used_at = now()
WHERE key_hash = %(key_hash)s AND revoked_at IS NULL AND expires_at > now()
  AND (last_used_at IS NULL OR last_used_at < now() - interval '1 minute')
RETURNING id;

-- name: find_api_key
-- A key by hash, live or not (the caller tells expired and revoked apart).
SELECT id, name, user_id, scopes, groups, attributes, expires_at, revoked_at
FROM api_keys WHERE key_hash = %(key_hash)s;

-- name: insert_login
-- Remembers a sign-in under way.
INSERT INTO auth_logins (state, code_verifier, nonce, next_path)
VALUES (%(state)s, %(code_verifier)s, %(nonce)s, %(next_path)s);

-- name: take_login
-- Takes (once) a sign-in under way that is less than ten minutes old.
DELETE FROM auth_logins WHERE state = %(state)s AND created_at > now() - interval '10 minutes'
RETURNING code_verifier, nonce, next_path;

-- name: insert_session
-- Starts a browser session.
INSERT INTO sessions (id_hash, user_id, principal, csrf_token, expires_at)
VALUES (%(id_hash)s, %(user_id)s, %(principal)s, %(csrf_token)s, %(expires_at)s);

-- name: find_session
-- A live session.
SELECT user_id, principal, csrf_token, expires_at FROM sessions
WHERE id_hash = %(id_hash)s AND expires_at > now();

-- name: delete_session
-- Ends a session (sign-out).
DELETE FROM sessions WHERE id_hash = %(id_hash)s;

-- name: insert_audit_event
-- Appends to the audit log.
INSERT INTO audit_events (user_id, action, resource, answer_id, details, request_id, trace_id,
                          client_ip)
VALUES (%(user_id)s, %(action)s, %(resource)s, %(answer_id)s, %(details)s, %(request_id)s,
        %(trace_id)s, %(client_ip)s);

-- name: list_audit_events
-- The audit log, newest first, filtered.
SELECT id, at, user_id, action, resource, answer_id, details, request_id, trace_id, client_ip
FROM audit_events
WHERE (%(user_id)s::text IS NULL OR user_id = %(user_id)s)
  AND (%(action)s::text IS NULL OR action = %(action)s)
  AND (%(since)s::timestamptz IS NULL OR at >= %(since)s)
  AND (%(until)s::timestamptz IS NULL OR at < %(until)s)
ORDER BY at DESC, id DESC
LIMIT %(limit)s;

-- name: allow_audit_purge
-- Lets this transaction delete audit rows (retention and erasure only).
SELECT set_config('kotaemon.audit_purge', 'on', true);

-- name: purge_old_audit_events
-- Deletes audit rows older than the retention.
DELETE FROM audit_events WHERE at < now() - make_interval(days => %(days)s);

-- name: purge_old_conversations
-- Deletes conversations (with their answers) idle for longer than the retention.
DELETE FROM conversations WHERE updated_at < now() - make_interval(days => %(days)s);

-- name: purge_old_answers
-- Deletes answers given outside conversations, older than the retention.
DELETE FROM answers
WHERE conversation_id IS NULL AND created_at < now() - make_interval(days => %(days)s);

-- name: purge_expired_auth
-- Deletes ended sessions and abandoned sign-ins.
WITH gone AS (DELETE FROM sessions WHERE expires_at < now())
DELETE FROM auth_logins WHERE created_at < now() - interval '1 day';

-- name: erase_user_conversations
-- Deletes one user's conversations and answers (their feedback goes with the answers).
WITH a AS (DELETE FROM answers WHERE user_id = %(user_id)s)
DELETE FROM conversations WHERE owner_id = %(user_id)s;

-- name: erase_user_feedback
-- Deletes one user's ratings of any answer.
DELETE FROM feedback WHERE user_id = %(user_id)s;

-- name: erase_user_sessions
-- Ends one user's browser sessions.
DELETE FROM sessions WHERE user_id = %(user_id)s;

-- name: erase_user_audit
-- Deletes one user's audit rows (only when erasure asks for it).
DELETE FROM audit_events WHERE user_id = %(user_id)s;

-- name: erase_user_api_keys
-- Revokes the API keys that act as one user.
UPDATE api_keys SET revoked_at = coalesce(revoked_at, now()) WHERE user_id = %(user_id)s;
