"""A fake transport for conversation tests: people send messages and tap buttons by label,
and read what the bot answered — as text, buttons, files — in their own language."""

from __future__ import annotations

import gettext
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from bot import i18n
from bot.app.core import Core
from bot.core.chat import Button, ChatRef, Incoming, Reply, Sender
from bot.delivery.lanes import Lane
from bot.i18n.text import plain

PLATFORM = "fake"


class FakeClock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@dataclass
class Person:
    """Someone chatting with the bot. ``locale`` is the language the test expects to read."""

    room: Chatroom
    user_id: str
    locale: str = "en"
    private: bool = True
    chat_id: str | None = None
    language_hint: str | None = None
    platform: str = PLATFORM
    last: list[Reply] = field(default_factory=list)
    _counter: int = 0

    @property
    def chat(self) -> ChatRef:
        return ChatRef(self.platform, self.chat_id or self.user_id, self.private)

    @property
    def inbox(self) -> list[Reply]:
        """Notices the delivery worker sent to this person's private chat."""
        return self.room.sent.get(self.chat_id or self.user_id, [])

    def _tr(self) -> gettext.NullTranslations:
        return self.room.core.i18n.lang(self.locale).translations

    def t(self, message: str, **values: Any) -> str:
        """What ``message`` reads like in this person's language."""
        text = self._tr().gettext(message)
        return text.format(**values) if values else text

    def tn(self, singular: str, plural: str, n: int, **values: Any) -> str:
        return self._tr().ngettext(singular, plural, n).format(n=n, **values)

    async def _send(self, incoming: Incoming) -> list[Reply]:
        self.last = await self.room.core.dispatcher.handle(incoming)
        await self.room.core.delivery.run_once()
        return self.last

    async def says(self, text: str) -> list[Reply]:
        self._counter += 1
        return await self._send(
            Incoming(
                Sender(self.platform, self.user_id, self.language_hint),
                self.chat,
                text=text,
                message_id=str(self._counter),
            )
        )

    async def presses(self, data: str) -> list[Reply]:
        """Send raw button data, as a replayed or forged press would."""
        return await self._send(
            Incoming(
                Sender(self.platform, self.user_id, self.language_hint), self.chat, button=data
            )
        )

    def buttons(self) -> list[Button]:
        return [b for reply in self.last for b in reply.all_buttons()]

    def button(self, label: str, **values: Any) -> Button:
        """The button whose label contains ``label`` translated into this person's language."""
        wanted = self.t(label, **values) if label else label
        matches = [b for b in self.buttons() if wanted in b.label]
        assert matches, f"no button {wanted!r} in {[b.label for b in self.buttons()]}"
        return matches[0]

    async def taps(self, label: str, **values: Any) -> list[Reply]:
        return await self.presses(self.button(label, **values).data)

    @property
    def text(self) -> str:
        """Everything the bot answered last, as plain text."""
        return "\n\n".join(plain(r.text) for r in self.last)

    def sees_n(self, singular: str, plural: str, n: int, **values: Any) -> None:
        """The last answer contains the counted message for ``n``, in this person's language."""
        expected = self.tn(singular, plural, n, **values)
        assert expected in self.text, f"{expected!r} not in:\n{self.text}"
        english = (singular if n == 1 else plural).format(n=n, **values)
        if self.locale != "en" and expected != english:
            assert english not in self.text, f"English text shown to a {self.locale} reader"

    def sees(self, message: str, **values: Any) -> None:
        """The bot's last answer contains ``message`` in this person's language (and so is not
        in English, unless the person reads English)."""
        expected = self.t(message, **values)
        assert expected in self.text, f"{expected!r} not in:\n{self.text}"
        english = message.format(**values) if values else message
        if self.locale != "en" and expected != english:
            assert english not in self.text, f"English text shown to a {self.locale} reader"


class Chatroom:
    """The fake transport: hands updates to the core and records what it sends."""

    platform = PLATFORM
    lane = Lane(per_second=0, per_chat_seconds=0, per_group_seconds=0)

    def is_group(self, chat_id: str) -> bool:
        return chat_id.startswith("group")

    def __init__(self, core: Core) -> None:
        self.core = core
        self.sent: dict[str, list[Reply]] = {}
        core.delivery.add_sender(self)

    async def send(self, chat_id: str, reply: Reply) -> None:
        self.sent.setdefault(chat_id, []).append(reply)

    def person(self, user_id: str, locale: str = "en", **kwargs: Any) -> Person:
        return Person(self, user_id, locale, **kwargs)

    def speak(self, locale: str) -> Any:
        return i18n.use(self.core.i18n.lang(locale))


async def registered(room: Chatroom, user_id: str, locale: str) -> Person:
    """A person who picked ``locale`` and accepted the privacy notice."""
    person = room.person(user_id, locale)
    await person.says("/start")
    await person.presses(f"l:{locale}")
    await person.taps("✅ I agree")
    return person
