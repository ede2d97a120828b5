"""Pipelines composed of components: RAG (retrieve → prompt → generate → cite)."""
