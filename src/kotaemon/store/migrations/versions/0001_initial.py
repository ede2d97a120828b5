"""Collections with owners and access lists, documents, chunks with vectors and BM25 terms.

Revision ID: 0001
Revises:
"""

from pathlib import Path

from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute((Path(__file__).with_suffix(".sql")).read_text(encoding="utf-8"))


def downgrade() -> None:
    op.execute(
        "DROP TABLE IF EXISTS embedding_cache, term_stats, chunks, documents, "
        "collection_access, collections, embedding_spaces CASCADE"
    )
