"""scored_pairs, scored_records, rematch_runs, rematch_blocks: the re-match's own state

The plausible pairs a re-match scored and the digest of each record it scored, so that
the next run scores only the pairs of new or changed records; its runs and their done
blocks, so that a run stopped part-way is taken up where it stopped.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-07 15:00:00
"""

from alembic import op
import sqlalchemy as sa


revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "scored_pairs",
        sa.Column("missing_id", sa.Integer(), nullable=False),
        sa.Column("found_id", sa.Integer(), nullable=False),
        sa.Column("weight", sa.Double(), nullable=False),
        sa.ForeignKeyConstraint(
            ["missing_id"], ["missing_reports.id"], ondelete="CASCADE",
            name=op.f("fk_scored_pairs_missing_id_missing_reports"),
        ),
        sa.ForeignKeyConstraint(
            ["found_id"], ["found_persons.id"], ondelete="CASCADE",
            name=op.f("fk_scored_pairs_found_id_found_persons"),
        ),
        sa.PrimaryKeyConstraint("missing_id", "found_id", name=op.f("pk_scored_pairs")),
    )
    op.create_index(op.f("ix_scored_pairs_found_id"), "scored_pairs", ["found_id"])
    op.create_table(
        "scored_records",
        sa.Column("side", sa.String(length=8), nullable=False),
        sa.Column("record_id", sa.Integer(), nullable=False),
        sa.Column("digest", sa.String(length=32), nullable=False),
        sa.PrimaryKeyConstraint("side", "record_id", name=op.f("pk_scored_records")),
    )
    op.create_table(
        "rematch_runs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("basis", sa.String(length=200), nullable=False),
        sa.Column("actor", sa.String(length=100), nullable=False),
        sa.Column("host", sa.String(length=200), nullable=False),
        sa.Column("pid", sa.Integer(), nullable=False),
        sa.Column("blocks_total", sa.Integer(), nullable=False),
        sa.Column("blocks_done", sa.Integer(), nullable=False),
        sa.Column("pairs_scored", sa.Integer(), nullable=False),
        sa.Column("started_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("finished_at", sa.DateTime(), nullable=True),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rematch_runs")),
    )
    op.create_index(op.f("ix_rematch_runs_state"), "rematch_runs", ["state"])
    op.create_table(
        "rematch_blocks",
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("block", sa.Integer(), nullable=False),
        sa.Column("pairs_scored", sa.Integer(), nullable=False),
        sa.Column("pairs_kept", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["run_id"], ["rematch_runs.id"], ondelete="CASCADE",
            name=op.f("fk_rematch_blocks_run_id_rematch_runs"),
        ),
        sa.PrimaryKeyConstraint("run_id", "block", name=op.f("pk_rematch_blocks")),
    )


def downgrade() -> None:
    op.drop_table("rematch_blocks")
    op.drop_index(op.f("ix_rematch_runs_state"), table_name="rematch_runs")
    op.drop_table("rematch_runs")
    op.drop_table("scored_records")
    op.drop_index(op.f("ix_scored_pairs_found_id"), table_name="scored_pairs")
    op.drop_table("scored_pairs")
