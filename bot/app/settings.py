"""One typed settings object, read once at start-up from the environment and ``bot.env``.

Each setting is declared once below: its variable, default, type, limits and what it is for.
"""

from __future__ import annotations

import os
import re
import socket
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Literal, Self
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AfterValidator, BeforeValidator, Field, ValidationError, model_validator
from pydantic_core import ErrorDetails
from pydantic_settings import (
    BaseSettings,
    NoDecode,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

PROJECT_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///treffpunkt.sqlite3"

_WEBHOOK_SECRET = re.compile(r"[A-Za-z0-9_-]{16,256}")
_ADMIN = re.compile(r"(telegram|matrix|console):\S+")
_MATRIX_USER = re.compile(r"@[^:\s]+:[^\s]+")


class SettingsError(ValueError):
    """A setting has a value the bot cannot work with."""


def _lower(value: object) -> object:
    return value.strip().lower() if isinstance(value, str) else value


def _upper(value: object) -> object:
    return value.strip().upper() if isinstance(value, str) else value


def _split(text: str) -> tuple[str, ...]:
    return tuple(w for w in re.split(r"[,\s]+", text) if w)


def _words(value: object) -> object:
    """A comma or space separated list, as written in ``bot.env``."""
    return _split(value) if isinstance(value, str) else value


def _admins(value: object) -> object:
    if not isinstance(value, str):
        return value  # given in code: a test's fake messenger is a platform too
    admins = _split(value)
    for admin in admins:
        if not _ADMIN.fullmatch(admin):
            raise ValueError(
                f"{admin!r} is not platform:user_id "
                "(telegram:123456, matrix:@anna:example.org, console:console)"
            )
    return admins


def _time_zone(name: str) -> str:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"unknown time zone {name!r}") from exc
    return name


def _quiet_hours(value: object) -> object:
    """ "22-8" (from 22:00 to 08:00), or "off"; given in code as a pair or None."""
    if not isinstance(value, str):
        return value
    text = value.strip().lower()
    if text in {"", "off", "none", "no"}:
        return None
    match = re.fullmatch(r"(\d{1,2})\s*-\s*(\d{1,2})", text)
    if match is None:
        raise ValueError('must be like "22-8" (from 22:00 to 08:00) or "off"')
    return int(match[1]), int(match[2])


def _hours_pair(value: tuple[int, int] | None) -> tuple[int, int] | None:
    if value is not None and (not all(0 <= h <= 23 for h in value) or value[0] == value[1]):
        raise ValueError("hours go from 0 to 23, and the quiet hours cannot start as they end")
    return value


def _matrix_user(user_id: str | None) -> str | None:
    if user_id is not None and not _MATRIX_USER.fullmatch(user_id):
        raise ValueError("must look like @bot:example.org")
    return user_id


def _base_url(url: str | None) -> str | None:
    return (url.rstrip("/") or None) if url else None


def _bare_path(path: str) -> str:
    return path.strip("/")


Words = Annotated[tuple[str, ...], NoDecode, BeforeValidator(_words)]
BaseUrl = Annotated[str | None, AfterValidator(_base_url)]


class Settings(BaseSettings):
    """Everything the bot can be configured with; ``bot.env.example`` documents each one."""

    # Keyword construction (tests) reads nothing; ``load`` adds the environment and bot.env.
    model_config = SettingsConfigDict(
        frozen=True,
        populate_by_name=True,
        case_sensitive=True,
        env_ignore_empty=True,
        str_strip_whitespace=True,
        extra="ignore",
    )

    database_url: str = Field(
        default=DEFAULT_DATABASE_URL,
        validation_alias="TREFFPUNKT_DATABASE_URL",
        description="SQLAlchemy URL of the database (SQLite or PostgreSQL)",
    )
    default_language: str = Field(
        default="de",
        validation_alias="TREFFPUNKT_DEFAULT_LANGUAGE",
        description="language spoken before a person has chosen one",
    )
    timezone: Annotated[str, AfterValidator(_time_zone)] = Field(
        default="Europe/Berlin",
        validation_alias="TREFFPUNKT_TIMEZONE",
        description="time zone in which dates are shown and typed",
    )
    locales_dir: Path = Field(
        default=PROJECT_ROOT / "locales",
        validation_alias="TREFFPUNKT_LOCALES_DIR",
        description="folder of the gettext catalogs",
    )
    log_level: Annotated[Literal["DEBUG", "INFO", "WARNING", "ERROR"], BeforeValidator(_upper)] = (
        Field(
            default="INFO",
            validation_alias="TREFFPUNKT_LOG_LEVEL",
            description="how much the bot logs",
        )
    )
    demo_data: Annotated[Literal["auto", "yes", "no"], BeforeValidator(_lower)] = Field(
        default="auto",
        validation_alias="TREFFPUNKT_DEMO_DATA",
        description="whether demo events are loaded into an empty database",
    )
    operator_name: str = Field(
        default="Example umbrella organisation e. V.",
        min_length=1,
        max_length=200,
        validation_alias="TREFFPUNKT_OPERATOR_NAME",
        description="who runs the bot and is responsible for the data (privacy notice)",
    )
    operator_contact: str = Field(
        default="privacy@example.org",
        min_length=1,
        max_length=300,
        validation_alias="TREFFPUNKT_OPERATOR_CONTACT",
        description="how people reach the operator about their data (e-mail, address)",
    )
    console_user: str = Field(
        default="console",
        validation_alias="TREFFPUNKT_CONSOLE_USER",
        description="account id of the console chat's user",
    )
    admins: Annotated[tuple[str, ...], NoDecode, BeforeValidator(_admins)] = Field(
        default=(),
        validation_alias="TREFFPUNKT_ADMINS",
        description="umbrella admins as platform:user_id",
    )
    feed_hours: float = Field(
        default=6.0,
        ge=0.1,
        le=24 * 7,
        validation_alias="TREFFPUNKT_FEED_HOURS",
        description="hours between two readings of the iCal feeds",
    )
    quiet_hours: Annotated[
        tuple[int, int] | None,
        NoDecode,
        BeforeValidator(_quiet_hours),
        AfterValidator(_hours_pair),
    ] = Field(
        default=(22, 8),
        validation_alias="TREFFPUNKT_QUIET_HOURS",
        description=(
            'quiet hours new people start with, in their time zone: "22-8" is 22:00 to 08:00, '
            '"off" none; each person can change theirs with /settings'
        ),
    )
    offer_hours: float = Field(
        default=12.0,
        ge=0.25,
        le=24 * 7,
        validation_alias="TREFFPUNKT_OFFER_HOURS",
        description=(
            "hours a free seat stays offered to the next person waiting (less close to the "
            "event: at most half the time left, and never past the registration deadline)"
        ),
    )
    instance: str = Field(
        default_factory=socket.gethostname,
        min_length=1,
        max_length=64,
        validation_alias="TREFFPUNKT_INSTANCE",
        description=(
            "this process's name among several sharing one database (default: the host name; "
            "give each process on one host its own): the outbox rows it is sending carry it, "
            "so that a restart under the same name settles its own rows at once"
        ),
    )
    interpreter_lead_hours: float = Field(
        default=24.0,
        ge=0,
        le=24 * 30,
        validation_alias="TREFFPUNKT_INTERPRETER_LEAD_HOURS",
        description=(
            "hours before the start at which a request for an interpreter that nobody has "
            "taken becomes unfilled (the requester and the organisers are told)"
        ),
    )
    interpreter_keep_days: int = Field(
        default=30,
        ge=1,
        le=3650,
        validation_alias="TREFFPUNKT_INTERPRETER_KEEP_DAYS",
        description=(
            "days after the appointment at which a request for an interpreter is anonymised "
            "(only its language and outcome stay, for the counts)"
        ),
    )
    interpreter_open_limit: int = Field(
        default=3,
        ge=1,
        le=50,
        validation_alias="TREFFPUNKT_INTERPRETER_OPEN_LIMIT",
        description="requests for an interpreter one person may have open at a time",
    )
    conversation_minutes: int = Field(
        default=60,
        ge=5,
        le=7 * 24 * 60,
        validation_alias="TREFFPUNKT_CONVERSATION_MINUTES",
        description="minutes without an answer after which a guided conversation ends",
    )
    mt_backend: Annotated[Literal["libretranslate", "deepl"] | None, BeforeValidator(_lower)] = (
        Field(
            default=None,
            validation_alias="TREFFPUNKT_MT_BACKEND",
            description="machine translation service",
        )
    )
    mt_url: str | None = Field(
        default=None,
        validation_alias="TREFFPUNKT_MT_URL",
        description="address of the machine translation service",
    )
    mt_api_key: str | None = Field(
        default=None,
        repr=False,
        validation_alias="TREFFPUNKT_MT_API_KEY",
        description="key for the machine translation service",
    )
    files_dir: Path = Field(
        default=Path("treffpunkt-files"),
        validation_alias="TREFFPUNKT_FILES_DIR",
        description="where the console chat saves files the bot sends",
    )
    telegram_bot_token: str | None = Field(
        default=None,
        repr=False,
        validation_alias="TELEGRAM_BOT_TOKEN",
        description="bot token from @BotFather; switches Telegram on",
    )
    telegram_base_url: BaseUrl = Field(
        default=None,
        validation_alias="TELEGRAM_BASE_URL",
        description="a self-hosted Bot API server",
    )
    telegram_bulk_rate: float = Field(
        default=25.0,
        gt=0,
        le=1000,
        validation_alias="TELEGRAM_BULK_RATE",
        description="messages per second for broadcasts and notices",
    )
    telegram_webhook_url: str | None = Field(
        default=None,
        validation_alias="TELEGRAM_WEBHOOK_URL",
        description="public HTTPS URL for webhook mode",
    )
    status_port: int | None = Field(
        default=None,
        gt=0,
        lt=65536,
        validation_alias="TREFFPUNKT_STATUS_PORT",
        description="port of the HTTP status endpoint (GET /status, GET /health); off when unset",
    )
    status_listen: str = Field(
        default="127.0.0.1",
        validation_alias="TREFFPUNKT_STATUS_LISTEN",
        description="address the status endpoint listens on",
    )
    telegram_webhook_listen: str = Field(
        default="127.0.0.1",
        validation_alias="TELEGRAM_WEBHOOK_LISTEN",
        description="address the webhook server listens on",
    )
    telegram_webhook_port: int = Field(
        default=8443,
        gt=0,
        lt=65536,
        validation_alias="TELEGRAM_WEBHOOK_PORT",
        description="port the webhook server listens on",
    )
    telegram_webhook_path: Annotated[str, AfterValidator(_bare_path)] = Field(
        default="telegram",
        validation_alias="TELEGRAM_WEBHOOK_PATH",
        description="path the webhook server listens on",
    )
    telegram_webhook_secret: str | None = Field(
        default=None,
        repr=False,
        validation_alias="TELEGRAM_WEBHOOK_SECRET",
        description="secret Telegram sends with every webhook request",
    )
    matrix_homeserver: BaseUrl = Field(
        default=None,
        validation_alias="MATRIX_HOMESERVER",
        description="the bot's homeserver; with MATRIX_USER_ID switches Matrix on",
    )
    matrix_user_id: Annotated[str | None, AfterValidator(_matrix_user)] = Field(
        default=None,
        validation_alias="MATRIX_USER_ID",
        description="the bot's Matrix user id",
    )
    matrix_access_token: str | None = Field(
        default=None,
        repr=False,
        validation_alias="MATRIX_ACCESS_TOKEN",
        description="access token of the bot's account",
    )
    matrix_device_id: str | None = Field(
        default=None,
        validation_alias="MATRIX_DEVICE_ID",
        description="device of the access token",
    )
    matrix_password: str | None = Field(
        default=None,
        repr=False,
        validation_alias="MATRIX_PASSWORD",
        description="password of the bot's account",
    )
    matrix_bulk_rate: float = Field(
        default=10.0,
        ge=0,
        le=1000,
        validation_alias="MATRIX_BULK_RATE",
        description=(
            "messages per second for broadcasts and notices; 0: unpaced, for a bot the "
            "homeserver exempts from its rate limits"
        ),
    )
    matrix_store_dir: Path = Field(
        default=Path("matrix-store"),
        validation_alias="MATRIX_STORE_DIR",
        description="where encryption keys, the device and the sync token are kept",
    )
    matrix_allowed_servers: Words = Field(
        default=(),
        validation_alias="MATRIX_ALLOWED_SERVERS",
        description="servers whose people may invite the bot",
    )
    matrix_allowed_users: Words = Field(
        default=(),
        validation_alias="MATRIX_ALLOWED_USERS",
        description="single users who may invite the bot",
    )

    @model_validator(mode="after")
    def _messengers_complete(self) -> Self:
        if self.telegram_webhook_url:
            if not self.telegram_bot_token:
                raise ValueError("TELEGRAM_WEBHOOK_URL needs TELEGRAM_BOT_TOKEN")
            if not _WEBHOOK_SECRET.fullmatch(self.telegram_webhook_secret or ""):
                raise ValueError(
                    "TELEGRAM_WEBHOOK_SECRET is required in webhook mode: 16 to 256 characters "
                    "of A-Z, a-z, 0-9, _ and -"
                )
        if self.matrix_homeserver or self.matrix_user_id:
            if not (self.matrix_homeserver and self.matrix_user_id):
                raise ValueError("Matrix needs both MATRIX_HOMESERVER and MATRIX_USER_ID")
            if not (self.matrix_access_token or self.matrix_password):
                raise ValueError("Matrix needs MATRIX_ACCESS_TOKEN or MATRIX_PASSWORD")
        return self

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        """Values given to the constructor win over ``bot.env``; nothing else is read."""
        return init_settings, dotenv_settings

    @classmethod
    def variables(cls) -> dict[str, str]:
        """Each setting's environment variable and what it is for."""
        return {
            str(info.validation_alias): info.description or "" for info in cls.model_fields.values()
        }

    @classmethod
    def load(
        cls, env: Mapping[str, str] | None = None, env_file: str | Path | None = None
    ) -> Settings:
        """Read settings: the process environment wins over the values in ``bot.env``."""
        environ = os.environ if env is None else env
        path = Path(env_file or environ.get("TREFFPUNKT_ENV_FILE") or "bot.env")
        # The environment comes in as constructor values, so that a test can pass its own;
        # an empty value means the default, as it does in bot.env.
        given: dict[str, Any] = {
            name: value for name in cls.variables() if (value := environ.get(name, "").strip())
        }
        try:
            return cls(**{"_env_file": path, **given})
        except ValidationError as exc:
            raise SettingsError("\n".join(_explain(e) for e in exc.errors())) from None

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


def _explain(error: ErrorDetails) -> str:
    """One line naming the variable and what is wrong with its value."""
    cause = error.get("ctx", {}).get("error")
    problem = str(cause) if error["type"] == "value_error" and cause else error["msg"]
    if not error["loc"]:
        return problem  # a rule between settings: the message names them
    name = str(error["loc"][0])  # load passes every value under its variable's name
    shown = "" if cause else f": {error['input']!r}"
    return f"{name} ({Settings.variables()[name]}): {problem}{shown}"
