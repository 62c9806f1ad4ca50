"""candidates.explanation_basis: what a candidate's explanation needs besides its records

A re-match no longer stores every candidate's explanation: it is built when someone
reads the candidate, from the two records, the model, and this column (the calibration
and the sharing between rivals the candidate's stored score came from). Candidates
written before keep their stored ``evidence``; new ones store an empty one. After a
downgrade, a full re-match (``xunqin rematch --full``) gives every candidate a stored
explanation again.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07 18:30:00
"""

from alembic import op
import sqlalchemy as sa


revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A plain ADD COLUMN: SQLite rebuilds no table for it, so the decisions that
    # reference candidates are never touched.
    op.add_column("candidates", sa.Column("explanation_basis", sa.JSON(), nullable=True))


def downgrade() -> None:
    # Not a batch rebuild either: SQLite would drop and copy the table, and the foreign
    # keys that are on would take every decision on a candidate with it.
    op.execute("ALTER TABLE candidates DROP COLUMN explanation_basis")
