"""The job queue's tables (procrastinate's schema, pinned with the procrastinate version).

Revision ID: 0002
Revises: 0001

Upgrading procrastinate means a new migration that applies its files from
``procrastinate/sql/migrations`` between the two versions; this one stays as it is.
"""

from alembic import op
from procrastinate.schema import SchemaManager

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # The driver's own execute: the schema text has % signs and colons that SQLAlchemy's
    # text() would take for parameters.
    op.get_bind().exec_driver_sql(SchemaManager.get_schema().replace("%", "%%"))


def downgrade() -> None:
    op.execute(
        "DROP TABLE IF EXISTS procrastinate_events, procrastinate_periodic_defers, "
        "procrastinate_jobs, procrastinate_workers CASCADE"
    )
