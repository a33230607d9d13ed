"""One-time link codes, and joining a second messenger account to a person."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from storage.models import (
    DigestItem,
    Identity,
    LinkCode,
    Offer,
    OutboxMessage,
    RegionChoice,
    Rsvp,
    Subscription,
    User,
)
from storage.repositories.interpreting import InterpreterRepository


class LinkRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def replace_code(self, user_id: int, code_hash: str, expires_at: datetime) -> None:
        """A person has at most one open code: a new one replaces the old."""
        await self.session.execute(delete(LinkCode).where(LinkCode.user_id == user_id))
        self.session.add(LinkCode(user_id=user_id, code_hash=code_hash, expires_at=expires_at))
        await self.session.flush()

    async def take_code(self, code_hash: str, now: datetime) -> int | None:
        """The person behind a valid code; the code is used up either way."""
        row = await self.session.scalar(select(LinkCode).where(LinkCode.code_hash == code_hash))
        if row is None:
            return None
        await self.session.delete(row)
        return row.user_id if row.expires_at >= now else None

    async def owner_of(self, platform: str, platform_user_id: str) -> int | None:
        return await self.session.scalar(
            select(Identity.user_id).where(
                Identity.platform == platform, Identity.platform_user_id == platform_user_id
            )
        )

    async def add_identity(
        self, user_id: int, platform: str, platform_user_id: str, chat_id: str | None
    ) -> None:
        self.session.add(
            Identity(
                user_id=user_id,
                platform=platform,
                platform_user_id=platform_user_id,
                chat_id=chat_id,
                active=True,
            )
        )
        await self.session.flush()

    async def merge(self, keep: int, gone: int) -> list[int]:
        """Move everything of person ``gone`` to person ``keep``; on a clash ``keep`` wins.

        Returns the events where a seat (or a seat offered) of ``gone`` was given up in the
        clash.
        """
        kept_events = set(
            await self.session.scalars(select(Rsvp.event_id).where(Rsvp.user_id == keep))
        )
        freed = list(
            await self.session.scalars(
                select(Rsvp.event_id).where(
                    Rsvp.user_id == gone, Rsvp.event_id.in_(kept_events), Rsvp.status == "going"
                )
            )
        )
        # An open seat offer goes with its answer; where ``keep`` already answered, the offer
        # is declined and the seat goes on (the caller offers it to the next person).
        clashing = (Offer.user_id == gone, Offer.status == "open", Offer.event_id.in_(kept_events))
        freed += list(await self.session.scalars(select(Offer.event_id).where(*clashing)))
        await self.session.execute(update(Offer).where(*clashing).values(status="declined"))
        await self.session.execute(update(Offer).where(Offer.user_id == gone).values(user_id=keep))
        await self.session.execute(
            delete(Rsvp).where(Rsvp.user_id == gone, Rsvp.event_id.in_(kept_events))
        )
        await self.session.execute(update(Rsvp).where(Rsvp.user_id == gone).values(user_id=keep))
        for model, column in (
            (Subscription, Subscription.category_id),
            (RegionChoice, RegionChoice.region_id),
        ):
            kept = set(await self.session.scalars(select(column).where(model.user_id == keep)))
            await self.session.execute(delete(model).where(model.user_id == gone, column.in_(kept)))
            await self.session.execute(
                update(model).where(model.user_id == gone).values(user_id=keep)
            )
        kept_digest = select(DigestItem.event_id).where(DigestItem.user_id == keep)
        await self.session.execute(
            delete(DigestItem).where(
                DigestItem.user_id == gone, DigestItem.event_id.in_(kept_digest)
            )
        )
        await self.session.execute(
            update(DigestItem).where(DigestItem.user_id == gone).values(user_id=keep)
        )
        # Messages still waiting (held through quiet hours, say) go to the person kept, unless
        # the same message waits for them already; what was sent is history and goes.
        theirs = aliased(OutboxMessage)
        same_for_keep = (
            select(theirs.id)
            .where(
                theirs.user_id == keep,
                theirs.kind == OutboxMessage.kind,
                theirs.ref == OutboxMessage.ref,
            )
            .exists()
        )
        await self.session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.user_id == gone, OutboxMessage.status == "pending", ~same_for_keep)
            .values(user_id=keep)
            .execution_options(synchronize_session=False)
        )
        await self.session.execute(delete(OutboxMessage).where(OutboxMessage.user_id == gone))
        await InterpreterRepository(self.session).move_person(keep, gone)
        await self.session.execute(delete(LinkCode).where(LinkCode.user_id == gone))
        await self.session.execute(
            update(Identity).where(Identity.user_id == gone).values(user_id=keep)
        )
        await self.session.execute(delete(User).where(User.id == gone))
        return freed
