"""What a handler gets: the incoming update, the person, their language and the services."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from bot.app.settings import Settings
from bot.core.chat import Incoming
from bot.i18n import I18n, Lang
from bot.services import Services
from bot.services.organisers import Authority
from storage.db import UnitOfWork
from storage.records import UserRecord
from storage.repositories import ConversationRecord

if TYPE_CHECKING:
    from bot.core.conversations import Conversations
    from bot.core.registry import Registry


@dataclass
class Context:
    incoming: Incoming
    services: Services
    settings: Settings
    i18n: I18n
    registry: Registry
    lang: Lang
    user: UserRecord | None
    unit: UnitOfWork
    conversations: Conversations
    args: str = ""
    conversation: ConversationRecord | None = None
    authority: Authority | None = None

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.user.timezone) if self.user else self.settings.tz

    @property
    def me(self) -> UserRecord:
        """The registered person; handlers routed with ``needs_user`` can rely on it."""
        if self.user is None:
            raise RuntimeError("handler needs a registered user")
        return self.user


@dataclass
class NoticeBatch:
    """The rows of one notice (kind and reference) claimed together: their recipients, and a
    memo the renderer may fill on the first row with what is the same for all of them (the
    event, everyone's answers: a few queries for the batch instead of a few per person). It
    lives as long as the rendering of the claim; a renderer decides how old a read it uses."""

    users: tuple[int, ...] = ()
    memo: dict[str, Any] = field(default_factory=dict)


@dataclass
class NoticeContext:
    """What a notice renderer gets: the recipient (in whose language it renders) and payload."""

    services: Services
    settings: Settings
    user: UserRecord
    payload: dict[str, Any]
    batch: NoticeBatch = field(default_factory=NoticeBatch)

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.user.timezone)
