"""What a handler gets: the incoming update, the person, their language and the services."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from bot.app.settings import Settings
from bot.core.chat import Incoming
from bot.core.errors import StaleButton
from bot.i18n import I18n, Lang
from bot.services import Services
from bot.services.organisers import Authority
from storage.db import UnitOfWork
from storage.records import UserRecord
from storage.repositories import ConversationRecord

if TYPE_CHECKING:
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
    args: str = ""
    data: list[str] = field(default_factory=list)
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

    def arity(self, *counts: int) -> None:
        """Button data must have exactly one of these numbers of parts, else it is forged."""
        if len(self.data) not in counts:
            raise StaleButton("wrong number of parts")

    def int_arg(self, index: int, *, low: int = 0, high: int = 2**31 - 1) -> int:
        """A number from the button data, or StaleButton for anything else."""
        try:
            raw = self.data[index]
        except IndexError:
            raise StaleButton("missing argument") from None
        if not raw.isascii() or not raw.isdigit() or len(raw) > 10:
            raise StaleButton("not a number")
        value = int(raw)
        if not low <= value <= high:
            raise StaleButton("out of range")
        return value

    def choice_arg(self, index: int, allowed: tuple[str, ...]) -> str:
        try:
            raw = self.data[index]
        except IndexError:
            raise StaleButton("missing argument") from None
        if raw not in allowed:
            raise StaleButton("unexpected value")
        return raw


@dataclass
class NoticeContext:
    """What a notice renderer gets: the recipient (in whose language it renders) and payload."""

    services: Services
    settings: Settings
    user: UserRecord
    payload: dict[str, Any]

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.user.timezone)
