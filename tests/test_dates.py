"""Dates as organisers type them, and the daylight-saving days of Europe/Berlin."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

import pytest

from bot.calendar.dates import DateProblem, Typed, end_after, exact, parse

BERLIN = ZoneInfo("Europe/Berlin")
TODAY = date(2026, 11, 23)


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("05.12.2026 18:00", Typed(date(2026, 12, 5), time(18), None)),
        ("5.12.26 18.30", Typed(date(2026, 12, 5), time(18, 30), None)),
        ("05.12.2026, 18 Uhr", Typed(date(2026, 12, 5), time(18), None)),
        ("2026-12-05 18:00", Typed(date(2026, 12, 5), time(18), None)),
        ("18.11. 12-18 Uhr", Typed(date(2027, 11, 18), time(12), time(18))),  # next 18 Nov
        ("05.12. 18:00–20:30", Typed(date(2026, 12, 5), time(18), time(20, 30))),
        ("05.12.2026 um 18 bis 20 Uhr", Typed(date(2026, 12, 5), time(18), time(20))),
        ("05.12.2027", Typed(date(2027, 12, 5), None, None)),
    ],
)
def test_typed_dates(typed: str, expected: Typed) -> None:
    assert parse(typed, TODAY) == expected


def test_years_within_the_bounds_are_read() -> None:
    assert parse("31.12.2031 23:30", TODAY).day == date(2031, 12, 31)
    assert parse("01.01.1926", TODAY).day == date(1926, 1, 1)  # a report may look back


@pytest.mark.parametrize(
    ("typed", "kind"),
    [
        ("morgen", "format"),
        ("31.02.2027 10:00", "impossible"),
        ("05.12.2026 25:00", "impossible"),
        ("", "format"),
        ("05.12.2026 18:00 \u202e", "format"),
        ("01.01.0001 00:30", "long_ago"),  # its UTC instant is before the year 1
        ("31.12.9999 23:30", "far"),  # two hours later is after the year 9999
        ("01.12.2032 18:00", "far"),  # more than five years ahead
        ("31.12.1925", "long_ago"),
    ],
)
def test_unreadable_dates(typed: str, kind: str) -> None:
    with pytest.raises(DateProblem) as problem:
        parse(typed, TODAY)
    assert problem.value.kind == kind


def test_spring_gap_is_reported_not_guessed() -> None:
    with pytest.raises(DateProblem) as problem:
        exact(date(2026, 3, 29), time(2, 30), BERLIN)
    assert problem.value.kind == "gap"


def test_autumn_twice_needs_a_choice() -> None:
    with pytest.raises(DateProblem) as problem:
        exact(date(2026, 10, 25), time(2, 30), BERLIN)
    assert problem.value.kind == "twice"
    summer = exact(date(2026, 10, 25), time(2, 30), BERLIN, fold=0)
    winter = exact(date(2026, 10, 25), time(2, 30), BERLIN, fold=1)
    assert summer == datetime(2026, 10, 25, 0, 30, tzinfo=UTC)
    assert winter == datetime(2026, 10, 25, 1, 30, tzinfo=UTC)


def test_night_events_end_the_next_day() -> None:
    start = exact(date(2026, 12, 5), time(22), BERLIN)
    assert end_after(start, date(2026, 12, 5), time(2), BERLIN) == datetime(
        2026, 12, 6, 1, 0, tzinfo=UTC
    )
