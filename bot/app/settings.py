"""One typed settings object, read once at start-up from the environment and ``bot.env``."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from dotenv import dotenv_values

PROJECT_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///treffpunkt.sqlite3"


_WEBHOOK_SECRET = re.compile(r"[A-Za-z0-9_-]{16,256}")


class SettingsError(ValueError):
    """A setting has a value the bot cannot work with."""


def _words(value: str) -> tuple[str, ...]:
    return tuple(w for w in re.split(r"[,\s]+", value) if w)


def _rate(value: str) -> float:
    try:
        rate = float(value)
    except ValueError:
        rate = -1.0
    if not 0 < rate <= 1000:
        raise SettingsError(f"TELEGRAM_BULK_RATE: messages per second, 0 < rate <= 1000: {value!r}")
    return rate


def _hours(value: str) -> float:
    try:
        hours = float(value)
    except ValueError:
        hours = -1.0
    if not 0.1 <= hours <= 24 * 7:
        raise SettingsError(f"TREFFPUNKT_FEED_HOURS: between 0.1 and 168: {value!r}")
    return hours


def _minutes(value: str) -> int:
    if not value.isdigit() or not 5 <= int(value) <= 7 * 24 * 60:
        raise SettingsError(f"TREFFPUNKT_CONVERSATION_MINUTES: between 5 and 10080: {value!r}")
    return int(value)


def _port(value: str) -> int:
    if not value.isdigit() or not 0 < int(value) < 65536:
        raise SettingsError(f"TELEGRAM_WEBHOOK_PORT: not a port number: {value!r}")
    return int(value)


@dataclass(frozen=True)
class Settings:
    """Everything the bot can be configured with; see ``bot.env.example``."""

    database_url: str = DEFAULT_DATABASE_URL
    default_language: str = "de"
    timezone: str = "Europe/Berlin"
    locales_dir: Path = PROJECT_ROOT / "locales"
    log_level: str = "INFO"
    demo_data: str = "auto"
    console_user: str = "console"
    admins: tuple[str, ...] = ()
    feed_hours: float = 6.0
    conversation_minutes: int = 60
    mt_backend: str | None = None
    mt_url: str | None = None
    mt_api_key: str | None = field(default=None, repr=False)
    files_dir: Path = Path("treffpunkt-files")
    telegram_bot_token: str | None = field(default=None, repr=False)
    telegram_base_url: str | None = None
    telegram_bulk_rate: float = 25.0
    telegram_webhook_url: str | None = None
    telegram_webhook_listen: str = "127.0.0.1"
    telegram_webhook_port: int = 8443
    telegram_webhook_path: str = "telegram"
    telegram_webhook_secret: str | None = field(default=None, repr=False)
    matrix_homeserver: str | None = None
    matrix_user_id: str | None = None
    matrix_access_token: str | None = field(default=None, repr=False)
    matrix_device_id: str | None = None
    matrix_password: str | None = field(default=None, repr=False)
    matrix_store_dir: Path = Path("matrix-store")
    matrix_allowed_servers: tuple[str, ...] = ()
    matrix_allowed_users: tuple[str, ...] = ()

    @property
    def matrix_enabled(self) -> bool:
        return bool(self.matrix_homeserver and self.matrix_user_id)

    @property
    def matrix_server_name(self) -> str:
        return (self.matrix_user_id or ":").split(":", 1)[1]

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def secrets(self) -> list[str]:
        """Values that must never appear in a log line."""
        candidates = (
            self.telegram_bot_token,
            self.telegram_webhook_secret,
            self.matrix_access_token,
            self.matrix_password,
            self.mt_api_key,
        )
        return [s for s in candidates if s]

    @classmethod
    def load(
        cls, env: Mapping[str, str] | None = None, env_file: str | Path | None = None
    ) -> Settings:
        """Read settings: the process environment wins over the values in ``bot.env``."""
        environ = dict(os.environ if env is None else env)
        path = Path(env_file or environ.get("TREFFPUNKT_ENV_FILE", "bot.env"))
        values: dict[str, str] = {}
        if path.is_file():
            values.update({k: v for k, v in dotenv_values(path).items() if v is not None})
        values.update(environ)

        def get(name: str, default: str) -> str:
            value = values.get(name, "").strip()
            return value or default

        settings = cls(
            database_url=get("TREFFPUNKT_DATABASE_URL", DEFAULT_DATABASE_URL),
            default_language=get("TREFFPUNKT_DEFAULT_LANGUAGE", "de"),
            timezone=get("TREFFPUNKT_TIMEZONE", "Europe/Berlin"),
            locales_dir=Path(get("TREFFPUNKT_LOCALES_DIR", str(PROJECT_ROOT / "locales"))),
            log_level=get("TREFFPUNKT_LOG_LEVEL", "INFO").upper(),
            demo_data=get("TREFFPUNKT_DEMO_DATA", "auto").lower(),
            console_user=get("TREFFPUNKT_CONSOLE_USER", "console"),
            admins=_words(get("TREFFPUNKT_ADMINS", "")),
            feed_hours=_hours(get("TREFFPUNKT_FEED_HOURS", "6")),
            conversation_minutes=_minutes(get("TREFFPUNKT_CONVERSATION_MINUTES", "60")),
            mt_backend=get("TREFFPUNKT_MT_BACKEND", "").lower() or None,
            mt_url=get("TREFFPUNKT_MT_URL", "") or None,
            mt_api_key=values.get("TREFFPUNKT_MT_API_KEY", "").strip() or None,
            files_dir=Path(get("TREFFPUNKT_FILES_DIR", "treffpunkt-files")),
            telegram_bot_token=values.get("TELEGRAM_BOT_TOKEN", "").strip() or None,
            telegram_base_url=get("TELEGRAM_BASE_URL", "").rstrip("/") or None,
            telegram_bulk_rate=_rate(get("TELEGRAM_BULK_RATE", "25")),
            telegram_webhook_url=get("TELEGRAM_WEBHOOK_URL", "") or None,
            telegram_webhook_listen=get("TELEGRAM_WEBHOOK_LISTEN", "127.0.0.1"),
            telegram_webhook_port=_port(get("TELEGRAM_WEBHOOK_PORT", "8443")),
            telegram_webhook_path=get("TELEGRAM_WEBHOOK_PATH", "telegram").strip("/"),
            telegram_webhook_secret=get("TELEGRAM_WEBHOOK_SECRET", "") or None,
            matrix_homeserver=get("MATRIX_HOMESERVER", "").rstrip("/") or None,
            matrix_user_id=get("MATRIX_USER_ID", "") or None,
            matrix_access_token=get("MATRIX_ACCESS_TOKEN", "") or None,
            matrix_device_id=get("MATRIX_DEVICE_ID", "") or None,
            matrix_password=values.get("MATRIX_PASSWORD", "") or None,
            matrix_store_dir=Path(get("MATRIX_STORE_DIR", "matrix-store")),
            matrix_allowed_servers=_words(get("MATRIX_ALLOWED_SERVERS", "")),
            matrix_allowed_users=_words(get("MATRIX_ALLOWED_USERS", "")),
        )
        settings.validate()
        return settings

    def validate(self) -> None:
        try:
            ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise SettingsError(
                f"TREFFPUNKT_TIMEZONE: unknown time zone {self.timezone!r}"
            ) from exc
        if self.demo_data not in {"auto", "yes", "no"}:
            raise SettingsError("TREFFPUNKT_DEMO_DATA must be auto, yes or no")
        if self.telegram_webhook_url:
            if not self.telegram_bot_token:
                raise SettingsError("TELEGRAM_WEBHOOK_URL needs TELEGRAM_BOT_TOKEN")
            secret = self.telegram_webhook_secret or ""
            if not _WEBHOOK_SECRET.fullmatch(secret):
                raise SettingsError(
                    "TELEGRAM_WEBHOOK_SECRET is required in webhook mode: 16 to 256 characters "
                    "of A-Z, a-z, 0-9, _ and -"
                )
        if self.matrix_homeserver or self.matrix_user_id:
            if not (self.matrix_homeserver and self.matrix_user_id):
                raise SettingsError("Matrix needs both MATRIX_HOMESERVER and MATRIX_USER_ID")
            if not re.fullmatch(r"@[^:\s]+:[^\s]+", self.matrix_user_id):
                raise SettingsError("MATRIX_USER_ID must look like @bot:example.org")
            if not (self.matrix_access_token or self.matrix_password):
                raise SettingsError("Matrix needs MATRIX_ACCESS_TOKEN or MATRIX_PASSWORD")
        if self.mt_backend not in (None, "libretranslate", "deepl"):
            raise SettingsError("TREFFPUNKT_MT_BACKEND must be libretranslate or deepl")
        for admin in self.admins:
            if not re.fullmatch(r"(telegram|matrix|console):\S+", admin):
                raise SettingsError(
                    f"TREFFPUNKT_ADMINS: {admin!r} is not platform:user_id "
                    "(telegram:123456, matrix:@anna:example.org, console:console)"
                )
        if self.log_level not in {"DEBUG", "INFO", "WARNING", "ERROR"}:
            raise SettingsError("TREFFPUNKT_LOG_LEVEL must be DEBUG, INFO, WARNING or ERROR")
