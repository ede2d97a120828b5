"""PostgreSQL + pgvector: the one store of collections, documents, chunks and vectors."""
