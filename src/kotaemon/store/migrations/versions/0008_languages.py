"""Languages: each document's language (detected over its text at ingestion), copied onto its
chunks so that dense search can rank each language on its own, and the languages a collection
holds. A multilingual embedder scores a question far higher against passages in its own language
than against an answer in the other one; ranked apart, the best passage of each language can
be found.

Existing documents are classified here by the same rule as ingestion (Chinese characters
weighted four times against Latin letters; see ``kotaemon.core.language``).

Revision ID: 0008
Revises: 0007
"""

from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

_IDEOGRAPHS = "[^\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]"


def upgrade() -> None:
    op.execute(
        f"""
        ALTER TABLE documents ADD COLUMN language text;
        ALTER TABLE chunks ADD COLUMN language text;
        ALTER TABLE collections ADD COLUMN languages text[] NOT NULL DEFAULT '{{}}';
        CREATE INDEX documents_language_idx ON documents (collection_id, language);
        UPDATE documents d
        SET language = CASE WHEN s.cjk > 0 AND s.cjk >= s.latin THEN 'zh' ELSE 'en' END
        FROM (
            SELECT document_id,
                   4 * sum(length(regexp_replace(text, '{_IDEOGRAPHS}', '', 'g'))) AS cjk,
                   sum(length(regexp_replace(text, '[^A-Za-z]', '', 'g'))) AS latin
            FROM chunks GROUP BY document_id
        ) s
        WHERE s.document_id = d.id;
        UPDATE chunks c SET language = d.language FROM documents d WHERE d.id = c.document_id;
        UPDATE collections k
        SET languages = ARRAY(
            SELECT DISTINCT d.language FROM documents d
            WHERE d.collection_id = k.id AND d.language IS NOT NULL ORDER BY 1
        );
        """
    )


def downgrade() -> None:
    op.execute(
        """
        ALTER TABLE collections DROP COLUMN languages;
        ALTER TABLE chunks DROP COLUMN language;
        ALTER TABLE documents DROP COLUMN language;
        """
    )
