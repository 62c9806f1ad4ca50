"""candidates: the latest decision, named by the next; decisions: the one overridden

A decision names the latest decision its reviewer saw, and is stored only if that is
still the candidate's latest (a conditional update of ``latest_decision_id``). Existing
candidates take their highest decision id as the latest, and their status from it:
decisions that raced before this revision may have left a status that was not the
latest decision's.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-05 10:00:00
"""

from alembic import op
import sqlalchemy as sa


revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("candidates", schema=None) as batch_op:
        batch_op.add_column(sa.Column("latest_decision_id", sa.Integer(), nullable=True))
    with op.batch_alter_table("decisions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("overrides_id", sa.Integer(), nullable=True))
    op.execute(
        "UPDATE candidates SET latest_decision_id = "
        "(SELECT max(d.id) FROM decisions d WHERE d.candidate_id = candidates.id)"
    )
    op.execute(
        "UPDATE candidates SET status = "
        "(SELECT d.status FROM decisions d WHERE d.id = candidates.latest_decision_id) "
        "WHERE latest_decision_id IS NOT NULL"
    )


def downgrade() -> None:
    # Not in batch mode: on SQLite that copies the table and drops the old one, and
    # dropping candidates with foreign keys on deletes every decision (ON DELETE CASCADE).
    # SQLite drops a plain column itself since 3.35.
    op.drop_column("decisions", "overrides_id")
    op.drop_column("candidates", "latest_decision_id")
