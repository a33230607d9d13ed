"""feeds carry their language, topic and region; outbox rows keep their send key

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("organisations", schema=None) as batch_op:
        batch_op.add_column(sa.Column("feed_language", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("feed_category_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("feed_region_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_organisations_feed_category_id_categories"),
            "categories",
            ["feed_category_id"],
            ["id"],
            ondelete="SET NULL",
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_organisations_feed_region_id_regions"),
            "regions",
            ["feed_region_id"],
            ["id"],
            ondelete="SET NULL",
        )
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.add_column(sa.Column("send_key", sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_column("send_key")
    with op.batch_alter_table("organisations", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_organisations_feed_region_id_regions"), type_="foreignkey"
        )
        batch_op.drop_constraint(
            batch_op.f("fk_organisations_feed_category_id_categories"), type_="foreignkey"
        )
        batch_op.drop_column("feed_region_id")
        batch_op.drop_column("feed_category_id")
        batch_op.drop_column("feed_language")
