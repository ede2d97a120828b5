"""Eval runs (batch testing): a question set run through the RAG pipeline for a principal, and
one row per finished question, so that a run killed halfway continues where it stopped.

Revision ID: 0007
Revises: 0006
"""

from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE eval_runs (
            id             uuid PRIMARY KEY DEFAULT gen_random_uuid(),
            owner_id       text NOT NULL,
            principal      jsonb NOT NULL,        -- whose permissions the run uses
            name           text NOT NULL,
            collections    text[] NOT NULL,
            options        jsonb NOT NULL,
            questions      jsonb NOT NULL,        -- the question set, as the worker reads it
            total          integer NOT NULL,
            state          text NOT NULL DEFAULT 'queued'
                           CHECK (state IN ('queued', 'running', 'succeeded', 'failed')),
            error_code     text,
            error_message  text,
            summary        jsonb,
            created_at     timestamptz NOT NULL DEFAULT now(),
            started_at     timestamptz,
            finished_at    timestamptz,
            updated_at     timestamptz NOT NULL DEFAULT now()
        );
        CREATE INDEX eval_runs_owner_idx ON eval_runs (owner_id, created_at DESC);
        CREATE TABLE eval_results (
            run_id       uuid NOT NULL REFERENCES eval_runs (id) ON DELETE CASCADE,
            position     integer NOT NULL,        -- the question's place in the set
            question_id  text NOT NULL,
            result       jsonb NOT NULL,
            created_at   timestamptz NOT NULL DEFAULT now(),
            PRIMARY KEY (run_id, position)
        );
        """
    )


def downgrade() -> None:
    op.execute("DROP TABLE IF EXISTS eval_results, eval_runs")
