"""found_links: pairs of found persons who may be one person; found_link_decisions

A pair is stored once, the smaller id first, with its score, evidence and model version,
and the status of its latest decision; decisions (the same person, different people,
or back to pending) are kept for good, each naming the one it overrides. Both go with a
found person who is erased (ON DELETE CASCADE).

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-12 10:00:00
"""

from alembic import op
import sqlalchemy as sa


revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

_STATUS = ("pending", "confirmed", "rejected")


def upgrade() -> None:
    op.create_table(
        "found_links",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("found_a_id", sa.Integer(), nullable=False),
        sa.Column("found_b_id", sa.Integer(), nullable=False),
        sa.Column("score", sa.Double(), nullable=False),
        sa.Column("probability", sa.Double(), nullable=True),
        sa.Column("evidence", sa.JSON(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(*_STATUS, name="linkstatus", native_enum=False, length=16),
            nullable=False,
        ),
        sa.Column("model_version", sa.String(length=64), nullable=False),
        sa.Column("latest_decision_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint(
            "found_a_id < found_b_id", name=op.f("ck_found_links_ordered_pair")
        ),
        sa.ForeignKeyConstraint(
            ["found_a_id"],
            ["found_persons.id"],
            name=op.f("fk_found_links_found_a_id_found_persons"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["found_b_id"],
            ["found_persons.id"],
            name=op.f("fk_found_links_found_b_id_found_persons"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_found_links")),
        sa.UniqueConstraint("found_a_id", "found_b_id", name="uq_found_links_pair"),
    )
    with op.batch_alter_table("found_links", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_found_links_found_a_id"), ["found_a_id"])
        batch_op.create_index(batch_op.f("ix_found_links_found_b_id"), ["found_b_id"])
        batch_op.create_index("ix_found_links_score", ["score"])
        batch_op.create_index(batch_op.f("ix_found_links_status"), ["status"])

    op.create_table(
        "found_link_decisions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("link_id", sa.Integer(), nullable=False),
        sa.Column("reviewer", sa.String(length=100), nullable=False),
        sa.Column(
            "status",
            sa.Enum(*_STATUS, name="linkstatus", native_enum=False, length=16),
            nullable=False,
        ),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("decided_at", sa.DateTime(), nullable=False),
        sa.Column("overrides_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["link_id"],
            ["found_links.id"],
            name=op.f("fk_found_link_decisions_link_id_found_links"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_found_link_decisions")),
    )
    with op.batch_alter_table("found_link_decisions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_found_link_decisions_link_id"), ["link_id"])


def downgrade() -> None:
    op.drop_table("found_link_decisions")
    op.drop_table("found_links")
