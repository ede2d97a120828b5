-- The original bytes of every stored or queued document, by content: workers read uploads from
-- here (no shared disk), and re-indexing reads them again.
CREATE TABLE files (
    content_hash  text PRIMARY KEY,         -- sha256 hex of data
    data          bytea NOT NULL,
    size_bytes    bigint NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now()
);

-- One ingestion (an upload or a re-index) of one file into a collection. The queue (procrastinate)
-- delivers it at least once; this row says how far it got and why it failed.
CREATE TABLE ingest_jobs (
    id             uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    collection_id  uuid NOT NULL REFERENCES collections (id) ON DELETE CASCADE,
    kind           text NOT NULL CHECK (kind IN ('ingest', 'reindex')),
    source         text NOT NULL,           -- the document's name in the collection
    content_hash   text NOT NULL,           -- the file in files
    media_type     text NOT NULL,           -- sniffed from the content at upload
    size_bytes     bigint NOT NULL,
    metadata       jsonb NOT NULL DEFAULT '{}',
    submitted_by   text NOT NULL,
    state          text NOT NULL DEFAULT 'queued'
                   CHECK (state IN ('queued', 'running', 'succeeded', 'failed')),
    attempts       integer NOT NULL DEFAULT 0,
    max_attempts   integer NOT NULL CHECK (max_attempts >= 1),
    stage          text,                    -- while running: parsing, embedding, storing
    progress_done  integer NOT NULL DEFAULT 0,
    progress_total integer NOT NULL DEFAULT 0,
    result         text CHECK (result IN ('added', 'replaced', 'unchanged')),
    document_id    uuid,                    -- once stored (the document may be deleted later)
    chunk_count    integer,
    error_code     text,
    error_message  text,
    created_at     timestamptz NOT NULL DEFAULT now(),
    started_at     timestamptz,
    finished_at    timestamptz,
    updated_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX ingest_jobs_collection_idx ON ingest_jobs (collection_id, created_at DESC);
CREATE INDEX ingest_jobs_open_idx ON ingest_jobs (state) WHERE state IN ('queued', 'running');
CREATE INDEX ingest_jobs_file_idx ON ingest_jobs (content_hash);
CREATE INDEX documents_content_hash_idx ON documents (content_hash);

-- A multi-turn chat of one user; its turns are the answers that name it.
CREATE TABLE conversations (
    id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    owner_id     text NOT NULL,
    title        text NOT NULL,
    collections  text[],                    -- searched by every turn; NULL: all readable
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX conversations_owner_idx ON conversations (owner_id, updated_at DESC);

-- Every answer given: the question, the text, what it cited and which tools it called.
CREATE TABLE answers (
    id               uuid PRIMARY KEY,      -- the answer_id clients see
    user_id          text NOT NULL,
    conversation_id  uuid REFERENCES conversations (id) ON DELETE CASCADE,
    question         text NOT NULL,
    search_query     text NOT NULL,         -- the question rewritten with the history
    text             text NOT NULL,
    language         text NOT NULL,
    outcome          text NOT NULL CHECK (outcome IN ('answered', 'no_context', 'error')),
    model            text NOT NULL,
    citations        jsonb NOT NULL DEFAULT '[]',
    call_log         jsonb NOT NULL DEFAULT '[]',
    usage            jsonb NOT NULL DEFAULT '{}',
    created_at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX answers_conversation_idx ON answers (conversation_id, created_at)
    WHERE conversation_id IS NOT NULL;
CREATE INDEX answers_user_idx ON answers (user_id, created_at DESC);

-- A user's rating of an answer; rating again replaces it.
CREATE TABLE feedback (
    answer_id   uuid NOT NULL REFERENCES answers (id) ON DELETE CASCADE,
    user_id     text NOT NULL,
    rating      text NOT NULL CHECK (rating IN ('helpful', 'wrong')),
    comment     text NOT NULL DEFAULT '',
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (answer_id, user_id)
);
