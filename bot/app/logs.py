"""Logging set up once in the entry point: secrets redacted, noisy HTTP logs quieted."""

from __future__ import annotations

import logging
import re
import traceback
from collections.abc import Iterable

# Telegram bot tokens look like 123456789:AA...; they also appear inside request URLs.
_TOKEN_SHAPE = re.compile(r"\b\d{5,12}:[A-Za-z0-9_-]{30,}\b")


class RedactingFilter(logging.Filter):
    """Replaces known secrets, and anything shaped like a bot token, in every record."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        super().__init__()
        self.secrets = [s for s in secrets if s]

    def redact(self, text: str) -> str:
        for secret in self.secrets:
            text = text.replace(secret, "[redacted]")
        return _TOKEN_SHAPE.sub("[redacted]", text)

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        redacted = self.redact(message)
        if redacted != message or record.args:
            record.msg, record.args = redacted, None
        if record.exc_info and record.exc_info[1] is not None:
            record.exc_text = self.redact(failure_summary(record.exc_info[1]))
            record.exc_info = None
        return True


def failure_summary(exc: BaseException) -> str:
    """Where an error happened, without its message: driver errors can carry personal data."""
    frames = traceback.extract_tb(exc.__traceback__)
    lines = [f'  File "{f.filename}", line {f.lineno}, in {f.name}' for f in frames[-8:]]
    return "Traceback (most recent call last):\n" + "\n".join(lines) + f"\n{type(exc).__name__}"


def configure(level: str, secrets: Iterable[str] = (), *, verbose: bool = False) -> RedactingFilter:
    """Configure the root logger once; returns the filter so tests can inspect it.

    Alembic reports every migration step at INFO: only when ``verbose`` is asked for."""
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    redactor = RedactingFilter(secrets)
    handler.addFilter(redactor)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # httpx logs every URL at INFO, and the bot token is in the URL; drivers log parameters at
    # DEBUG; python-telegram-bot logs payloads (and a wrong webhook secret) at DEBUG.
    for noisy in ("httpx", "httpcore", "aiosqlite", "asyncio", "tornado.access", "peewee"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    for chatty in ("telegram", "nio"):
        logging.getLogger(chatty).setLevel(max(logging.INFO, root.level))
    # The alarms are re-aimed after updates: APScheduler's line per job only when debugging.
    debugging = root.level <= logging.DEBUG
    logging.getLogger("apscheduler").setLevel(logging.DEBUG if debugging else logging.WARNING)
    logging.getLogger("alembic").setLevel(logging.INFO if verbose else logging.WARNING)
    return redactor
