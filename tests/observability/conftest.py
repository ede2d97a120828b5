"""The observability tests use the service over the sample knowledge base."""

from ..server.conftest import fake_llm, kb_database_url, kb_server  # noqa: F401
