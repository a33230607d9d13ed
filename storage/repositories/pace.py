"""The bulk lane's pace shared through the database: slots booked by every process in turn."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

# One statement: the slots start when the platform's lane is next free (or now), and the lane
# is free again after them. The database's clock is the one clock every process shares; the
# caller learns it too, so its own clock may differ from the server's.
_BOOK = text(
    """
    INSERT INTO send_pace (platform, next_at)
    VALUES (:platform, extract(epoch FROM clock_timestamp()) + :span)
    ON CONFLICT (platform) DO UPDATE
        SET next_at = greatest(send_pace.next_at, extract(epoch FROM clock_timestamp()))
            + :span
    RETURNING next_at - :span AS start, extract(epoch FROM clock_timestamp()) AS now
    """
)
_HOLD = text(
    """
    INSERT INTO send_pace (platform, next_at)
    VALUES (:platform, extract(epoch FROM clock_timestamp()) + :seconds)
    ON CONFLICT (platform) DO UPDATE
        SET next_at = greatest(send_pace.next_at,
                               extract(epoch FROM clock_timestamp()) + :seconds)
    """
)


class PaceRepository:
    """PostgreSQL only (SQLite runs one process, whose lane keeps the pace in memory)."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def book(self, platform: str, span: float) -> float:
        """Book ``span`` seconds of the platform's lane; returns in how many seconds from now
        (on the database's clock) they begin — 0 when the lane is free."""
        row = (await self.session.execute(_BOOK, {"platform": platform, "span": span})).one()
        return max(0.0, float(row.start) - float(row.now))

    async def hold(self, platform: str, seconds: float) -> None:
        """The platform said "too many requests": no process books a slot for ``seconds``."""
        await self.session.execute(_HOLD, {"platform": platform, "seconds": seconds})
