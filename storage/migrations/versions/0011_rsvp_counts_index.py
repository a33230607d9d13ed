"""answers counted per event and status from an index

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-05

Every card and every answer counts an event's answers per status; with thousands of answers
to one event that read every row (3 ms a press on SQLite). With (event_id, status) indexed
the count reads the index only.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_rsvps_event_id_status", "rsvps", ["event_id", "status"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_rsvps_event_id_status", table_name="rsvps")
