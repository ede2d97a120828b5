"""API keys, browser sessions, sign-in attempts and the append-only audit log.

Revision ID: 0004
Revises: 0003
"""

from pathlib import Path

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute((Path(__file__).with_suffix(".sql")).read_text(encoding="utf-8"))


def downgrade() -> None:
    op.execute(
        "DROP TABLE IF EXISTS audit_events, sessions, auth_logins, api_keys CASCADE; "
        "DROP FUNCTION IF EXISTS audit_events_append_only()"
    )
