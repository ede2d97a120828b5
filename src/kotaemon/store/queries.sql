-- Named queries of the PostgreSQL store. Each starts with "-- name: <name>" and a description.
-- Parameters are psycopg named placeholders; {space} and {dim} (dense search) are integer
-- literals composed with psycopg.sql, because a partial HNSW index is used only when the query
-- repeats its predicate and expression literally.

-- name: server_versions
-- The PostgreSQL server version number and the installed pgvector version.
SELECT current_setting('server_version_num')::int AS server_version,
       (SELECT extversion FROM pg_extension WHERE extname = 'vector') AS pgvector_version;

-- name: find_space
-- The id and dimension of an embedding model's space.
SELECT id, dim FROM embedding_spaces WHERE model = %(model)s;

-- name: insert_space
-- Registers an embedding model's space (a concurrent insert of the same model wins harmlessly).
INSERT INTO embedding_spaces (model, dim) VALUES (%(model)s, %(dim)s)
ON CONFLICT (model) DO NOTHING;

-- name: index_exists
-- Whether an index of that name exists.
SELECT 1 FROM pg_indexes WHERE indexname = %(name)s;

-- name: create_space_index
-- The HNSW index of one space's vectors (cosine distance on unit vectors). CONCURRENTLY: writers
-- of other spaces are not blocked while it builds.
CREATE INDEX CONCURRENTLY IF NOT EXISTS {index} ON chunks
USING hnsw ((embedding::vector({dim})) vector_cosine_ops) WHERE space_id = {space};

-- name: insert_collection
-- Creates a collection owned by a user; the name is unique.
INSERT INTO collections (name, description, owner_id, space_id, metadata)
VALUES (%(name)s, %(description)s, %(owner_id)s, %(space_id)s, %(metadata)s)
RETURNING id;

-- name: grant_access
-- Lets a user or a group read or write a collection.
INSERT INTO collection_access (collection_id, grantee_kind, grantee, permission)
VALUES (%(collection_id)s, %(grantee_kind)s, %(grantee)s, %(permission)s)
ON CONFLICT (collection_id, grantee_kind, grantee) DO UPDATE SET permission = EXCLUDED.permission;

-- name: visible_collections
-- The collections a principal may read (or write, with %(write)s), optionally only those named.
SELECT c.id, c.name, c.description, c.owner_id, s.id AS space_id, s.model, s.dim,
       c.chunk_count, c.document_count, c.version, c.languages, c.created_at
FROM collections c
JOIN embedding_spaces s ON s.id = c.space_id
WHERE (%(names)s::text[] IS NULL OR c.name = ANY(%(names)s::text[]))
  AND (%(is_admin)s
       OR c.owner_id = %(user_id)s
       OR EXISTS (
            SELECT 1 FROM collection_access a
            WHERE a.collection_id = c.id
              AND (NOT %(write)s OR a.permission = 'write')
              AND ((a.grantee_kind = 'user' AND a.grantee = %(user_id)s)
                   OR (a.grantee_kind = 'group' AND a.grantee = ANY(%(groups)s::text[])))))
ORDER BY c.name;

-- name: update_collection
-- Changes a collection's description.
UPDATE collections SET description = %(description)s, updated_at = now()
WHERE id = %(collection_id)s;

-- name: delete_collection
-- Deletes a collection with its documents, chunks and statistics.
DELETE FROM collections WHERE id = %(collection_id)s;

-- name: lock_collection
-- Serialises writers of one collection, so its counts and document frequencies stay exact and
-- no deadlock occurs.
SELECT chunk_count, term_count FROM collections WHERE id = %(collection_id)s FOR UPDATE;

-- name: find_document
-- A document by its source within a collection.
SELECT id, source, content_hash FROM documents
WHERE collection_id = %(collection_id)s AND source = %(source)s;

-- name: release_document_terms
-- Removes a document's chunks from the collection's BM25 statistics (before deleting them).
WITH old AS (
    SELECT unnest(terms) AS term, count(*) AS n FROM chunks
    WHERE document_id = %(document_id)s GROUP BY 1
)
UPDATE term_stats t SET df = t.df - old.n
FROM old
WHERE t.collection_id = %(collection_id)s AND t.term = old.term;

-- name: delete_chunks
-- Deletes a document's chunks; returns how many chunks and terms went.
WITH gone AS (DELETE FROM chunks WHERE document_id = %(document_id)s RETURNING term_count)
SELECT count(*) AS chunks, coalesce(sum(term_count), 0) AS terms FROM gone;

-- name: delete_document
-- Deletes a document (its chunks go with it).
DELETE FROM documents WHERE id = %(document_id)s;

-- name: upsert_document
-- Inserts or replaces a document's row; returns its id.
INSERT INTO documents (collection_id, source, title, media_type, content_hash, size_bytes,
                       chunk_count, metadata, language)
VALUES (%(collection_id)s, %(source)s, %(title)s, %(media_type)s, %(content_hash)s,
        %(size_bytes)s, %(chunk_count)s, %(metadata)s, %(language)s)
ON CONFLICT (collection_id, source) DO UPDATE
SET title = EXCLUDED.title, media_type = EXCLUDED.media_type,
    content_hash = EXCLUDED.content_hash, size_bytes = EXCLUDED.size_bytes,
    chunk_count = EXCLUDED.chunk_count, metadata = EXCLUDED.metadata,
    language = EXCLUDED.language, updated_at = now()
RETURNING id;

-- name: insert_chunk
-- Inserts one chunk with its vector and BM25 terms.
INSERT INTO chunks (document_id, collection_id, ordinal, text, page, heading, token_count,
                    metadata, space_id, embedding, terms, term_count, bm25, language)
VALUES (%(document_id)s, %(collection_id)s, %(ordinal)s, %(text)s, %(page)s, %(heading)s,
        %(token_count)s, %(metadata)s, %(space_id)s, %(embedding)s, %(terms)s, %(term_count)s,
        %(bm25)s, %(language)s);

-- name: refresh_languages
-- The languages a collection's documents are in, after a document in %(language)s was written
-- (NULL: one was deleted): the languages it had and the new one, each kept while a document
-- holds it (one index probe each, not a scan of the collection's documents).
UPDATE collections k
SET languages = ARRAY(
    SELECT l FROM unnest(k.languages || ARRAY[%(language)s::text]) AS l
    WHERE EXISTS (SELECT 1 FROM documents d WHERE d.collection_id = k.id AND d.language = l)
    GROUP BY l ORDER BY l
)
WHERE k.id = %(collection_id)s;

-- name: add_terms
-- Adds chunk counts per term to the collection's BM25 statistics.
INSERT INTO term_stats (collection_id, term, df)
SELECT %(collection_id)s, t.term, t.n
FROM unnest(%(terms)s::int[], %(counts)s::int[]) AS t(term, n)
ORDER BY t.term
ON CONFLICT (collection_id, term) DO UPDATE SET df = term_stats.df + EXCLUDED.df;

-- name: add_counts
-- Adds documents, chunks and terms to the collection's counts (negative numbers remove), and
-- bumps its version: every write to a collection goes through here, so caches keyed by the
-- version cannot serve what was there before.
UPDATE collections
SET document_count = document_count + %(documents)s, chunk_count = chunk_count + %(chunks)s,
    term_count = term_count + %(terms)s, version = version + 1, updated_at = now()
WHERE id = %(collection_id)s;

-- name: list_documents
-- The documents of the given collections.
SELECT d.id, c.name AS collection, d.source, d.title, d.media_type, d.size_bytes, d.chunk_count,
       d.content_hash, d.language, d.created_at, d.updated_at
FROM documents d JOIN collections c ON c.id = d.collection_id
WHERE d.collection_id = ANY(%(collections)s)
ORDER BY c.name, d.source;

-- name: cached_embeddings
-- Embeddings already computed for these texts (by content hash) in a space.
SELECT content_hash, embedding FROM embedding_cache
WHERE space_id = %(space_id)s AND content_hash = ANY(%(hashes)s);

-- name: cache_embedding
-- Remembers an embedding by content hash.
INSERT INTO embedding_cache (space_id, content_hash, embedding)
VALUES (%(space_id)s, %(content_hash)s, %(embedding)s)
ON CONFLICT DO NOTHING;

-- name: dense_search
-- Nearest chunks by cosine distance in one space, within the given collections and metadata,
-- and in one language when %(language)s is given (chunks of unknown language are in every one).
-- The inner query can use the space's partial HNSW index (iterative scan keeps filtered
-- results complete); the outer one restores exact order, which relaxed iterative scans allow
-- to drift.
WITH hits AS MATERIALIZED (
    SELECT c.id, c.embedding::vector({dim}) <=> %(query)s AS distance
    FROM chunks c
    WHERE c.space_id = {space}
      AND c.collection_id = ANY(%(collections)s)
      AND c.metadata @> %(filter)s
      AND (%(language)s::text IS NULL OR c.language = %(language)s OR c.language IS NULL)
    ORDER BY c.embedding::vector({dim}) <=> %(query)s
    LIMIT %(limit)s
)
SELECT c.id, c.document_id, k.name AS collection, d.title, d.source, c.text, c.page, c.heading,
       c.metadata, c.language, 1 - h.distance AS score
FROM hits h
JOIN chunks c ON c.id = h.id
JOIN documents d ON d.id = c.document_id
JOIN collections k ON k.id = c.collection_id
ORDER BY h.distance;

-- name: keyword_search
-- BM25: the query's IDF vector (from the collections' statistics) times each chunk's
-- saturated term frequencies; only chunks sharing a term with the query are scored.
WITH stats AS (
    SELECT term, sum(df)::float8 AS df FROM term_stats
    WHERE collection_id = ANY(%(collections)s) AND term = ANY(%(terms)s) AND df > 0
    GROUP BY term
), total AS (
    SELECT greatest(sum(chunk_count), 1)::float8 AS n FROM collections
    WHERE id = ANY(%(collections)s)
), query AS (
    SELECT ('{{' || string_agg((s.term + 1)::text || ':'
                               || ln(1 + (t.n - s.df + 0.5) / (s.df + 0.5))::text,
                               ',' ORDER BY s.term)
            || '}}/{term_space}')::sparsevec AS vector
    FROM stats s, total t
    HAVING count(*) > 0
)
SELECT c.id, c.document_id, k.name AS collection, d.title, d.source, c.text, c.page, c.heading,
       c.metadata, c.language, -(c.bm25 <#> q.vector) AS score
FROM query q
JOIN chunks c ON c.collection_id = ANY(%(collections)s)
             AND c.terms && %(terms)s
             AND c.metadata @> %(filter)s
JOIN documents d ON d.id = c.document_id
JOIN collections k ON k.id = c.collection_id
ORDER BY c.bm25 <#> q.vector
LIMIT %(limit)s;
