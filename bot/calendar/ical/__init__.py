"""Read an iCalendar file (a WordPress, Google, Outlook or Nextcloud export) into events.

A pure parser: bytes in, :class:`ImportedEvent` values out, nothing stored. A file is
taken whole or not at all: anything broken or hostile raises :class:`IcalError` with a
message in plain English that names the problem and, where it can, the line.

- ``source``: the file read safely (size, encoding, structure, line numbers) and the error;
- ``timezones``: TZIDs to IANA zones, by name or by a VTIMEZONE's offsets;
- ``checks``: one VEVENT refused or accepted, its times given their real zones;
- ``series``: recurrence rules bounded, expanded, each occurrence named;
- ``events``: an expanded VEVENT as an :class:`ImportedEvent`;
- ``text``: plain, safe text and links from what the file says;
- ``reader``: :func:`parse_calendar`, which ties them together.
"""

from bot.calendar.ical.events import ImportedEvent
from bot.calendar.ical.reader import parse_calendar
from bot.calendar.ical.source import IcalError

__all__ = ["IcalError", "ImportedEvent", "parse_calendar"]
