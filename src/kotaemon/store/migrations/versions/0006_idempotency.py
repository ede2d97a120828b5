"""Idempotency keys of answers: a client that did not hear back (a replica died, a connection
broke) asks again with the same key and gets the recorded answer, not a second one.

Revision ID: 0006
Revises: 0005
"""

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        "ALTER TABLE answers ADD COLUMN idempotency_key text, ADD COLUMN replay jsonb; "
        "CREATE UNIQUE INDEX answers_idempotency_idx ON answers (user_id, idempotency_key) "
        "WHERE idempotency_key IS NOT NULL"
    )


def downgrade() -> None:
    op.execute(
        "DROP INDEX answers_idempotency_idx; "
        "ALTER TABLE answers DROP COLUMN idempotency_key, DROP COLUMN replay"
    )
