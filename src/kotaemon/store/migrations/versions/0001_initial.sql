CREATE EXTENSION IF NOT EXISTS vector;

-- One row per embedding model: vectors of different spaces are never compared.
-- Each space gets its own partial HNSW index on chunks (created by the store when registered).
CREATE TABLE embedding_spaces (
    id          smallint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    model       text NOT NULL UNIQUE,
    dim         integer NOT NULL CHECK (dim BETWEEN 1 AND 16000),
    created_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE collections (
    id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    name         text NOT NULL CHECK (name ~ '^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$'),
    description  text NOT NULL DEFAULT '',
    owner_id     text NOT NULL,
    space_id     smallint NOT NULL REFERENCES embedding_spaces (id),
    metadata     jsonb NOT NULL DEFAULT '{}',
    -- Counts and BM25 statistics, kept in step with the chunks in each write transaction.
    document_count bigint NOT NULL DEFAULT 0 CHECK (document_count >= 0),
    chunk_count  bigint NOT NULL DEFAULT 0 CHECK (chunk_count >= 0),
    term_count   bigint NOT NULL DEFAULT 0 CHECK (term_count >= 0),
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now(),
    UNIQUE (name)
);

-- Who besides the owner may read or write a collection: users and groups.
CREATE TABLE collection_access (
    collection_id  uuid NOT NULL REFERENCES collections (id) ON DELETE CASCADE,
    grantee_kind   text NOT NULL CHECK (grantee_kind IN ('user', 'group')),
    grantee        text NOT NULL,
    permission     text NOT NULL CHECK (permission IN ('read', 'write')),
    PRIMARY KEY (collection_id, grantee_kind, grantee)
);
CREATE INDEX collection_access_grantee_idx ON collection_access (grantee_kind, grantee);

CREATE TABLE documents (
    id             uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    collection_id  uuid NOT NULL REFERENCES collections (id) ON DELETE CASCADE,
    source         text NOT NULL,           -- path or upload name: the document's identity
    title          text NOT NULL,
    media_type     text NOT NULL,
    content_hash   text NOT NULL,           -- sha256 of the file's bytes
    size_bytes     bigint NOT NULL,
    chunk_count    integer NOT NULL DEFAULT 0,
    metadata       jsonb NOT NULL DEFAULT '{}',
    created_at     timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz NOT NULL DEFAULT now(),
    UNIQUE (collection_id, source)
);

CREATE TABLE chunks (
    id             uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    document_id    uuid NOT NULL REFERENCES documents (id) ON DELETE CASCADE,
    collection_id  uuid NOT NULL REFERENCES collections (id) ON DELETE CASCADE,
    ordinal        integer NOT NULL,
    text           text NOT NULL,
    page           integer,
    heading        text,
    token_count    integer NOT NULL,
    metadata       jsonb NOT NULL DEFAULT '{}',
    space_id       smallint NOT NULL REFERENCES embedding_spaces (id),
    embedding      vector NOT NULL,
    terms          integer[] NOT NULL,      -- distinct hashed keyword terms (GIN pre-filter)
    term_count     integer NOT NULL,        -- document length for BM25
    bm25           sparsevec NOT NULL,      -- BM25-saturated term frequencies (query side: IDF)
    UNIQUE (document_id, ordinal)
);
CREATE INDEX chunks_collection_idx ON chunks (collection_id);
CREATE INDEX chunks_terms_idx ON chunks USING gin (terms);
CREATE INDEX chunks_metadata_idx ON chunks USING gin (metadata jsonb_path_ops);

-- Document frequency of each hashed term per collection (BM25's IDF).
CREATE TABLE term_stats (
    collection_id  uuid NOT NULL REFERENCES collections (id) ON DELETE CASCADE,
    term           integer NOT NULL,
    df             integer NOT NULL CHECK (df >= 0),
    PRIMARY KEY (collection_id, term)
);

-- Embeddings by model and content hash: the same text is never embedded twice.
CREATE TABLE embedding_cache (
    space_id      smallint NOT NULL REFERENCES embedding_spaces (id) ON DELETE CASCADE,
    content_hash  bytea NOT NULL,
    embedding     vector NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (space_id, content_hash)
);
