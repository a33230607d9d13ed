"""One typed settings object, read once at start-up from the environment and ``bot.env``."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from dotenv import dotenv_values

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///treffpunkt.sqlite3"


class SettingsError(ValueError):
    """A setting has a value the bot cannot work with."""


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
    files_dir: Path = Path("treffpunkt-files")
    telegram_bot_token: str | None = field(default=None, repr=False)

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def secrets(self) -> list[str]:
        """Values that must never appear in a log line."""
        return [s for s in (self.telegram_bot_token,) if s]

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
            files_dir=Path(get("TREFFPUNKT_FILES_DIR", "treffpunkt-files")),
            telegram_bot_token=values.get("TELEGRAM_BOT_TOKEN", "").strip() or None,
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
        if self.log_level not in {"DEBUG", "INFO", "WARNING", "ERROR"}:
            raise SettingsError("TREFFPUNKT_LOG_LEVEL must be DEBUG, INFO, WARNING or ERROR")
