-- Keys for service accounts: shown once, stored as a SHA-256 hash (they are 256-bit random, so
-- a fast hash is enough), scoped, with an expiry.
CREATE TABLE api_keys (
    id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    name          text NOT NULL,
    prefix        text NOT NULL,            -- the first characters, to recognise a key in lists
    key_hash      bytea NOT NULL UNIQUE,
    user_id       text NOT NULL,            -- the principal the key acts as
    scopes        text[] NOT NULL,
    groups        text[] NOT NULL DEFAULT '{}',
    attributes    jsonb NOT NULL DEFAULT '{}',
    created_by    text NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    expires_at    timestamptz NOT NULL,
    revoked_at    timestamptz,
    last_used_at  timestamptz
);

-- Browser sign-ins under way (authorization code flow with PKCE): any replica may get the
-- callback.
CREATE TABLE auth_logins (
    state          text PRIMARY KEY,
    code_verifier  text NOT NULL,
    nonce          text NOT NULL,
    next_path      text NOT NULL,
    created_at     timestamptz NOT NULL DEFAULT now()
);

-- Browser sessions; the cookie holds the id, the table its SHA-256 hash.
CREATE TABLE sessions (
    id_hash     bytea PRIMARY KEY,
    user_id     text NOT NULL,
    principal   jsonb NOT NULL,              -- who the session acts for (from the ID token)
    csrf_token  text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    expires_at  timestamptz NOT NULL
);
CREATE INDEX sessions_user_idx ON sessions (user_id);

-- Who did what, when: answers (with their sources and tools) and administrative actions.
-- Rows are never changed; they are deleted only by retention (or a user's erasure), which
-- first sets kotaemon.audit_purge for its transaction.
CREATE TABLE audit_events (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at          timestamptz NOT NULL DEFAULT now(),
    user_id     text NOT NULL,
    action      text NOT NULL,               -- answer, api_key.create, collection.delete, …
    resource    text,
    answer_id   uuid,
    details     jsonb NOT NULL DEFAULT '{}',
    request_id  text,
    trace_id    text,
    client_ip   text
);
CREATE INDEX audit_events_at_idx ON audit_events (at);
CREATE INDEX audit_events_user_idx ON audit_events (user_id, at);

CREATE FUNCTION audit_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' AND current_setting('kotaemon.audit_purge', true) = 'on' THEN
        RETURN OLD;
    END IF;
    RAISE EXCEPTION 'audit_events is append-only';
END $$;
CREATE TRIGGER audit_events_append_only BEFORE UPDATE OR DELETE ON audit_events
    FOR EACH ROW EXECUTE FUNCTION audit_events_append_only();
