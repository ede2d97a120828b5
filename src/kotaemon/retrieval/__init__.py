"""Dense, keyword (BM25) and hybrid retrieval."""
