"""blocking_bounds: the weakest guess each found person's bounded blocking kept

The re-match scores in full only each found person's best-guessed reports. A report that
arrives after the person was blocked is scored against them when its guess reaches the
weakest one kept then; this table holds that guess. Forgetting it is harmless: the next
full re-match (``xunqin rematch --full``) chooses every person's reports again.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-08 02:00:00
"""

from alembic import op
import sqlalchemy as sa


revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "blocking_bounds",
        sa.Column("found_id", sa.Integer(), primary_key=True),
        sa.Column("weight", sa.Double(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("blocking_bounds")
