"""Languages: gettext catalogs per locale, the current language per update, Babel formatting.

The current language lives in a ContextVar set once per incoming update (and explicitly per
recipient when a message fans out), so concurrent updates never see each other's language.
"""

from __future__ import annotations

import gettext as _gettext
import io
import re
import unicodedata
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import cached_property
from pathlib import Path
from zoneinfo import ZoneInfo

from babel import Locale, UnknownLocaleError
from babel.dates import format_interval, format_skeleton, get_day_names, get_timezone_location
from babel.lists import format_list
from babel.support import Translations

# Tier 1: shipped complete in every release, in the order the picker shows them.
TIER1 = ("de", "en", "uk", "ar", "ru", "fa")
# Text of events falls back to these after the user's own languages.
CONTENT_FALLBACK = ("en", "de")

FSI = "\u2068"  # first strong isolate
PDI = "\u2069"  # pop directional isolate
# The bidi controls a sender's text may not carry, since an unclosed one spills into the text
# around it: the embeddings and overrides LRE, RLE, PDF, LRO, RLO and the isolates LRI, RLI,
# FSI, PDI. The marks LRM, RLM and ALM stay: each acts as one strong letter and opens nothing.
BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
_NO_BIDI_CONTROLS = dict.fromkeys(map(ord, BIDI_CONTROLS))


def N_(message: str) -> str:
    """Mark a string for extraction; it is translated later, where it is shown."""
    return message


def normalize_code(code: str | None) -> str | None:
    """``uk-UA`` / ``uk_UA`` / ``UK`` → ``uk``; None for anything Babel does not know."""
    if not code:
        return None
    try:
        locale = Locale.parse(code.replace("-", "_").strip(), sep="_")
    except (UnknownLocaleError, ValueError, TypeError):
        return None
    return locale.language


def native_name(code: str) -> str:
    """A language's name in its own script, capitalised as a menu item: "Українська"."""
    name = Locale.parse(code).get_display_name(code) or code
    return name[:1].upper() + name[1:]


@dataclass(frozen=True)
class Lang:
    """A language to speak: a primary locale, an optional second one, and their catalogs."""

    code: str
    second: str | None
    translations: _gettext.NullTranslations = field(compare=False, repr=False)

    @cached_property
    def locale(self) -> Locale:
        return Locale.parse(self.code)

    @property
    def rtl(self) -> bool:
        return self.locale.character_order == "right-to-left"

    def content_order(self) -> list[str]:
        """Where to look for an event's text: mine, my second language, English, German."""
        order: list[str] = []
        for code in (self.code, self.second, *CONTENT_FALLBACK):
            if code and code not in order:
                order.append(code)
        return order


class I18n:
    """Loads each catalog once and builds the fallback chain for a (primary, second) pair."""

    def __init__(self, locales_dir: Path, default: str = "de") -> None:
        self.locales_dir = locales_dir
        self._mo: dict[str, bytes] = {}
        self._langs: dict[tuple[str, str | None], Lang] = {}
        self.available: tuple[str, ...] = tuple(
            code for code in TIER1 if (locales_dir / code / "LC_MESSAGES" / "messages.po").is_file()
        ) + tuple(
            sorted(
                p.name
                for p in locales_dir.iterdir()
                if p.is_dir() and p.name not in TIER1 and (p / "LC_MESSAGES").is_dir()
            )
            if locales_dir.is_dir()
            else ()
        )
        if not self.available:
            raise RuntimeError(f"no gettext catalogs found in {locales_dir}")
        self.default = default if default in self.available else self.available[0]

    def _catalog(self, code: str) -> Translations:
        """A new Translations object for ``code``; the compiled file is read from disk once."""
        if code not in self._mo:
            mo = self.locales_dir / code / "LC_MESSAGES" / "messages.mo"
            if not mo.is_file():
                raise RuntimeError(
                    f"{mo} is missing: compile the catalogs with "
                    "'pybabel compile -d locales -D messages' (./dev does it)"
                )
            self._mo[code] = mo.read_bytes()
        return Translations(io.BytesIO(self._mo[code]), domain="messages")

    def pick(self, code: str | None) -> str:
        """The shipped language closest to ``code``, else the default one."""
        normalized = normalize_code(code)
        return normalized if normalized in self.available else self.default

    def lang(self, code: str | None, second: str | None = None) -> Lang:
        """The language object for a user: unknown codes fall back, never raise."""
        primary = self.pick(code)
        second_code = normalize_code(second)
        if second_code not in self.available or second_code == primary:
            second_code = None
        key = (primary, second_code)
        if key not in self._langs:
            # Each chain gets its own catalog objects: add_fallback mutates the catalog it is
            # called on, so sharing one between chains would leak one user's second language
            # into another user's chain.
            chain = self._catalog(primary)
            if second_code:
                chain.add_fallback(self._catalog(second_code))
            self._langs[key] = Lang(primary, second_code, chain)
        return self._langs[key]


_NULL_LANG = Lang("en", None, _gettext.NullTranslations())
_current: ContextVar[Lang] = ContextVar("treffpunkt_lang", default=_NULL_LANG)


def current() -> Lang:
    return _current.get()


@contextmanager
def use(lang: Lang) -> Iterator[Lang]:
    """Speak ``lang`` inside the block: per update, or per recipient when fanning out."""
    token = _current.set(lang)
    try:
        yield lang
    finally:
        _current.reset(token)


def _(message: str) -> str:
    """Translate into the current language."""
    return _current.get().translations.gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    """Translate a message with a count, using the language's own plural rules."""
    return _current.get().translations.ngettext(singular, plural, n)


def isolate(value: str) -> str:
    """Keep a left-to-right value (time, place, link) intact inside right-to-left text."""
    if not value or not current().rtl:
        return value
    return f"{FSI}{value}{PDI}"


def strip_bidi_controls(value: str) -> str:
    """Remove embedding/override/isolate controls a sender typed (for example U+202E)."""
    return value.translate(_NO_BIDI_CONTROLS)


def language_name(code: str) -> str:
    """A language's name in the current language: "Englisch" when speaking German."""
    try:
        name = Locale.parse(code).get_display_name(current().locale) or code
    except (UnknownLocaleError, ValueError):
        return code
    return name


def format_when(start: datetime, end: datetime | None, tz: ZoneInfo) -> str:
    """Date and time of an event in the current language and ``tz``, 24-hour clock."""
    locale = current().locale
    start_local = start.astimezone(tz)
    day = format_skeleton("yMMMEd", start_local, tzinfo=tz, locale=locale)
    if end is None or end <= start:
        time = format_skeleton("Hm", start_local, tzinfo=tz, locale=locale)
        return _("{date}, {time}").format(date=isolate(day), time=isolate(time))
    end_local = end.astimezone(tz)
    if _midnight(start_local) and _midnight(end_local):
        # An all-day event ends at the midnight after its last day (iCal's DTEND for dates).
        last = end_local - timedelta(days=1)
        if last.date() == start_local.date():
            return _("{date}, all day").format(date=isolate(day))
        return isolate(format_interval(start_local, last, "yMMMEd", tzinfo=tz, locale=locale))
    if end_local.date() == start_local.date() or (
        end_local - start_local < timedelta(hours=24) and end_local.hour < 6
    ):
        times = format_interval(start_local, end_local, "Hm", tzinfo=tz, locale=locale)
        return _("{date}, {time}").format(date=isolate(day), time=isolate(times))
    days = format_interval(start_local, end_local, "yMMMEd", tzinfo=tz, locale=locale)
    return isolate(days)


def _midnight(moment: datetime) -> bool:
    return (moment.hour, moment.minute, moment.second) == (0, 0, 0)


def format_date(moment: datetime, tz: ZoneInfo) -> str:
    """A day in the current language, for short lists."""
    return isolate(
        format_skeleton("yMMMEd", moment.astimezone(tz), tzinfo=tz, locale=current().locale)
    )


def _pattern_glue(pattern: str) -> str:
    """What a Babel list pattern puts between two items: ", ", " و", "، و "."""
    return pattern.replace("{0}", "").replace("{1}", "")


def _holds(item: str, glue: str) -> bool:
    """Whether ``item`` holds a word or a punctuation mark of ``glue``, so a join would blur."""
    for word in re.findall(r"\w+", glue):
        # Arabic writes "و" onto the next item ("{0} و{1}"): any word starting with it counts.
        end = "" if glue.endswith(word) else r"(?!\w)"
        if re.search(rf"(?<!\w){re.escape(word)}{end}", item, re.IGNORECASE):
            return True
    marks = {ch for ch in glue if unicodedata.category(ch).startswith("P")}
    return any(ch in marks for ch in item)


def join_list(items: Sequence[str]) -> str:
    """Join items the way the current language does ("a, b and c"), never ambiguously."""
    if not items:
        return ""
    locale = current().locale
    values = [isolate(item) for item in items]
    patterns = locale.list_patterns["standard"]
    glues = {_pattern_glue(patterns[key]) for key in ("2", "start", "middle", "end")}
    # Translators: every word your language joins names with, separated by commas (Ukrainian:
    # "і, й, та"); a list whose items hold one of them is set apart more clearly.
    glues.update(f" {word.strip()} " for word in _("and").split(",") if word.strip())
    if not any(_holds(item, glue) for item in items for glue in glues):
        return format_list(values, locale=locale)
    # The items hold the list's own "and" or comma ("Counselling, recognition and work"), so
    # joining them with it would run them together: set them apart with the middle separator
    # when it is only punctuation and theirs is another, else with the language's stronger one.
    middle = _pattern_glue(patterns["middle"])
    if not re.search(r"\w", middle) and not any(_holds(item, middle) for item in items):
        return middle.join(values)
    # Translators: separates list items that themselves contain "and" or commas, e.g. the
    # topics "Culture and media; Counselling, recognition and work". Keep the space after it.
    return _("; ").join(values)


def language_list(codes: Sequence[str]) -> str:
    """Languages named in the current language, for running text: "Arabisch und Englisch"."""
    return join_list([language_name(code) for code in codes])


def timezone_name(key: str) -> str:
    """A time zone as people name it in the current language: its city ("Берлін")."""
    try:
        return get_timezone_location(key, locale=current().locale, return_city=True)
    except LookupError:
        return key


def format_hour(hour: int) -> str:
    """A full hour on the 24-hour clock, as the current language writes it ("18:00")."""
    moment = datetime(2000, 1, 3, hour)
    return isolate(format_skeleton("Hm", moment, locale=current().locale))


def weekday_name(weekday: int) -> str:
    """The name of a day of the week (0 = Monday) in the current language."""
    return str(get_day_names("wide", locale=current().locale)[weekday])


def format_time_left(left: timedelta) -> str:
    """How long until something starts, rounded the way people say it: days, else hours,
    else minutes."""
    minutes = max(int(left.total_seconds() // 60), 0)
    if minutes >= 20 * 60:
        # "In 1 day" for the day-before reminder also when a clock change made it 23 hours.
        days = max(1, round(minutes / (24 * 60)))
        return ngettext("in {n} day", "in {n} days", days).format(n=days)
    if minutes >= 90:
        hours = round(minutes / 60)
        return ngettext("in {n} hour", "in {n} hours", hours).format(n=hours)
    return ngettext("in {n} minute", "in {n} minutes", minutes).format(n=minutes)


def format_offset(minutes: int) -> str:
    """A reminder's offset ("1 day before") in the current language."""
    if minutes % (7 * 24 * 60) == 0:
        weeks = minutes // (7 * 24 * 60)
        return ngettext("{n} week before", "{n} weeks before", weeks).format(n=weeks)
    if minutes % (24 * 60) == 0:
        days = minutes // (24 * 60)
        return ngettext("{n} day before", "{n} days before", days).format(n=days)
    if minutes % 60 == 0:
        hours = minutes // 60
        return ngettext("{n} hour before", "{n} hours before", hours).format(n=hours)
    return ngettext("{n} minute before", "{n} minutes before", minutes).format(n=minutes)


def format_clock(moment: datetime, zone: str) -> str:
    """The time of day of ``moment`` in ``zone`` (24-hour clock), as the current language
    writes it."""
    local = moment.astimezone(ZoneInfo(zone))
    return isolate(format_skeleton("Hm", local, tzinfo=local.tzinfo, locale=current().locale))
