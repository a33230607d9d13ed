"""Calendar files: valid RFC 5545 that parses back to exactly what was stored."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from icalendar import Calendar, Event

from bot.calendar.ics_export import calendar_ics, event_ics, ics_filename
from storage.records import EventRecord

NOW = datetime(2027, 1, 10, 9, 30, tzinfo=UTC)
BERLIN = ZoneInfo("Europe/Berlin")


def make_event(**changes: Any) -> EventRecord:
    event = EventRecord(
        id=42,
        organisation_name="Werkstatt der Kulturen e.V.",
        category="meeting",
        region="leipzig",
        starts_at=datetime(2027, 7, 1, 16, 0, tzinfo=UTC),
        ends_at=datetime(2027, 7, 1, 18, 30, tzinfo=UTC),
        timezone="Europe/Berlin",
        place="Eisenbahnstraße 1, Leipzig",
        online_url=None,
        capacity=20,
        registration_deadline=None,
        status="published",
    )
    return replace(event, **changes)


def parse(data: bytes) -> Calendar:
    return Calendar.from_ical(data)


def only_event(calendar: Calendar) -> Event:
    [event] = calendar.events
    return event


def lines(data: bytes) -> list[bytes]:
    assert data.endswith(b"\r\n")
    return data[: -len(b"\r\n")].split(b"\r\n")


def test_calendar_and_event_properties() -> None:
    event = make_event(online_url="https://meet.example.org/treff")
    data = event_ics(event, title="Offener Treff", description="Tee und Gespräche.", now=NOW)

    calendar = parse(data)
    assert str(calendar["VERSION"]) == "2.0"
    assert str(calendar["PRODID"]) == "-//Treffpunkt//Treffpunkt 0.1//EN"
    assert str(calendar["CALSCALE"]) == "GREGORIAN"
    assert str(calendar["METHOD"]) == "PUBLISH"

    vevent = only_event(calendar)
    assert str(vevent["UID"]) == "treffpunkt-event-42@treffpunkt"
    assert vevent.decoded("DTSTAMP") == NOW
    assert b"DTSTAMP:20270110T093000Z" in lines(data)
    assert str(vevent["SUMMARY"]) == "Offener Treff"
    assert str(vevent["DESCRIPTION"]) == "Tee und Gespräche.\n\nWerkstatt der Kulturen e.V."
    assert str(vevent["DESCRIPTION"]).splitlines()[-1] == event.organisation_name
    assert str(vevent["LOCATION"]) == "Eisenbahnstraße 1, Leipzig"
    assert str(vevent["URL"]) == "https://meet.example.org/treff"
    assert str(vevent["STATUS"]) == "CONFIRMED"
    assert "ORGANIZER" not in vevent
    assert b"mailto:" not in data


def test_summer_event_is_written_in_berlin_time() -> None:
    event = make_event(starts_at=datetime(2027, 7, 1, 16, 0, tzinfo=UTC), ends_at=None)
    data = event_ics(event, title="Sommerfest", description="", now=NOW)

    vevent = only_event(parse(data))
    assert vevent["DTSTART"].params["TZID"] == "Europe/Berlin"
    assert vevent["DTEND"].params["TZID"] == "Europe/Berlin"
    assert b"DTSTART;TZID=Europe/Berlin:20270701T180000" in lines(data)
    # Without an end the event lasts two hours.
    assert b"DTEND;TZID=Europe/Berlin:20270701T200000" in lines(data)
    start, end = vevent.decoded("DTSTART"), vevent.decoded("DTEND")
    assert start == event.starts_at
    assert start.astimezone(BERLIN).utcoffset() == timedelta(hours=2)
    assert end - start == timedelta(hours=2)


def test_winter_event_is_written_in_berlin_time() -> None:
    event = make_event(
        starts_at=datetime(2027, 1, 15, 17, 30, tzinfo=UTC),
        ends_at=datetime(2027, 1, 15, 19, 45, tzinfo=UTC),
    )
    data = event_ics(event, title="Winterabend", description="", now=NOW)

    vevent = only_event(parse(data))
    assert vevent["DTSTART"].params["TZID"] == "Europe/Berlin"
    assert b"DTSTART;TZID=Europe/Berlin:20270115T183000" in lines(data)
    assert b"DTEND;TZID=Europe/Berlin:20270115T204500" in lines(data)
    assert vevent.decoded("DTSTART") == event.starts_at
    assert vevent.decoded("DTEND") == event.ends_at


def test_vtimezone_follows_rfc_5545_onsets() -> None:
    data = event_ics(make_event(), title="T", description="", now=NOW)
    calendar = parse(data)

    [vtimezone] = calendar.timezones
    assert str(vtimezone["TZID"]) == "Europe/Berlin"
    assert vtimezone.daylight and vtimezone.standard
    [daylight] = vtimezone.daylight
    # The onset is the wall-clock time in TZOFFSETFROM: 02:00 CET is 01:00 UTC.
    assert datetime(2027, 3, 28, 2, 0) == daylight.DTSTART
    assert timedelta(hours=1) == daylight.TZOFFSETFROM
    assert timedelta(hours=2) == daylight.TZOFFSETTO
    assert str(daylight["TZNAME"]) == "CEST"
    autumn = [part for part in vtimezone.standard if timedelta(hours=2) == part.TZOFFSETFROM]
    assert [part.DTSTART for part in autumn] == [datetime(2027, 10, 31, 3, 0)]
    assert timedelta(hours=1) == autumn[0].TZOFFSETTO

    # The transitions the VTIMEZONE describes are exactly those of the IANA zone.
    times, _ = vtimezone.get_transitions()
    assert datetime(2027, 3, 28, 1, 0) in times
    assert datetime(2027, 10, 31, 1, 0) in times
    assert calendar.get_missing_tzids() == set()


@pytest.mark.parametrize(
    "starts_at",
    [
        datetime(2027, 1, 15, 17, 30, tzinfo=UTC),
        datetime(2027, 3, 28, 0, 30, tzinfo=UTC),  # the last hour of winter time
        datetime(2027, 3, 28, 1, 30, tzinfo=UTC),  # the first hour of summer time
        datetime(2027, 7, 1, 16, 0, tzinfo=UTC),
        datetime(2027, 10, 31, 0, 30, tzinfo=UTC),  # 02:30 CEST, before the clocks go back
    ],
)
def test_embedded_vtimezone_alone_gives_the_stored_instant(starts_at: datetime) -> None:
    """A calendar that does not know "Europe/Berlin" relies on the VTIMEZONE only."""
    data = event_ics(
        make_event(starts_at=starts_at, ends_at=None), title="T", description="", now=NOW
    )
    calendar = parse(data)
    [vtimezone] = calendar.timezones
    own_zone = vtimezone.to_tz(lookup_tzid=False)

    line = next(item for item in lines(data) if item.startswith(b"DTSTART;TZID=Europe/Berlin:"))
    local = datetime.strptime(line.split(b":")[1].decode(), "%Y%m%dT%H%M%S")
    assert local.replace(tzinfo=own_zone).astimezone(UTC) == starts_at
    assert local.replace(tzinfo=BERLIN).astimezone(UTC) == starts_at


def test_second_occurrence_of_the_repeated_hour_is_written_in_utc() -> None:
    """02:30 on 2027-10-31 happens twice in Berlin; RFC 5545 reads it as the first (CEST)."""
    event = make_event(
        starts_at=datetime(2027, 10, 31, 1, 30, tzinfo=UTC),  # 02:30 CET, the second time
        ends_at=datetime(2027, 10, 31, 3, 0, tzinfo=UTC),
    )
    data = event_ics(event, title="T", description="", now=NOW)

    assert b"DTSTART:20271031T013000Z" in lines(data)
    assert b"DTEND;TZID=Europe/Berlin:20271031T040000" in lines(data)
    vevent = only_event(parse(data))
    assert vevent.decoded("DTSTART") == event.starts_at
    assert vevent.decoded("DTEND") == event.ends_at


def test_crlf_line_endings_and_folding_at_75_octets() -> None:
    description = ("مرحبا بكم في اللقاء المفتوح 🎉👩‍👩‍👧 " * 12) + ("Ünïcödé, " * 20)
    data = event_ics(make_event(), title="Ä" * 100, description=description, now=NOW)

    assert b"\n" not in data.replace(b"\r\n", b"")
    assert b"\r" not in data.replace(b"\r\n", b"")
    for line in lines(data):
        assert len(line) <= 75, line
    assert any(line.startswith(b" ") for line in lines(data))  # long lines were folded
    data.decode("utf-8")  # folding never splits a character
    assert lines(data)[0] == b"BEGIN:VCALENDAR"
    assert lines(data)[-1] == b"END:VCALENDAR"


def test_special_characters_survive_a_round_trip() -> None:
    title = 'Café, Tee; "Gespräch" \\ لقاء 🎉'
    description = "Zeile eins, mit Komma; und Semikolon\nZeile zwei: مرحبا 👋🏽\n\n\\n bleibt \\n"
    place = "Haus am See; Raum 2, 1. OG\nHinterhof"
    event = make_event(place=place, organisation_name="Verein «Brücke»; Leipzig, e.V.")
    data = event_ics(event, title=title, description=description, now=NOW)

    vevent = only_event(parse(data))
    assert str(vevent["SUMMARY"]) == title
    assert str(vevent["DESCRIPTION"]) == f"{description}\n\nVerein «Brücke»; Leipzig, e.V."
    assert str(vevent["LOCATION"]) == place


def test_cancelled_event() -> None:
    data = event_ics(make_event(status="cancelled"), title="Abgesagt", description="", now=NOW)

    assert str(only_event(parse(data))["STATUS"]) == "CANCELLED"
    assert b"STATUS:CANCELLED" in lines(data)


def test_given_url_wins_and_the_online_link_is_kept() -> None:
    event = make_event(place=None, online_url="https://meet.example.org/x")
    data = event_ics(
        event, title="Online", description="Hallo", url="https://treffpunkt.example/e/42", now=NOW
    )

    vevent = only_event(parse(data))
    assert str(vevent["URL"]) == "https://treffpunkt.example/e/42"
    assert str(vevent["LOCATION"]) == "https://meet.example.org/x"


def test_without_place_or_link_there_is_no_location_or_url() -> None:
    vevent = only_event(
        parse(event_ics(make_event(place=None), title="T", description="D", now=NOW))
    )

    assert "LOCATION" not in vevent
    assert "URL" not in vevent
    assert str(vevent["DESCRIPTION"]) == "D\n\nWerkstatt der Kulturen e.V."


def test_output_is_stable() -> None:
    event = make_event()
    first = event_ics(event, title="T", description="D", now=NOW)
    second = event_ics(event, title="T", description="D", now=NOW)

    assert first == second
    assert str(only_event(parse(first))["UID"]) == "treffpunkt-event-42@treffpunkt"


@pytest.mark.parametrize("zone", ["Mars/Olympus_Mons", "", "UTC", "Etc/UTC"])
def test_utc_or_unknown_zone_is_written_in_utc(zone: str) -> None:
    data = event_ics(make_event(timezone=zone), title="T", description="", now=NOW)

    calendar = parse(data)
    assert calendar.timezones == []
    assert b"DTSTART:20270701T160000Z" in lines(data)
    assert only_event(calendar).decoded("DTSTART") == datetime(2027, 7, 1, 16, tzinfo=UTC)


def test_calendar_with_three_events() -> None:
    items = [
        (make_event(id=1, starts_at=datetime(2027, 2, 3, 17, tzinfo=UTC), ends_at=None), "A", "a"),
        (make_event(id=2, status="cancelled"), "B", "b"),
        (make_event(id=3, starts_at=datetime(2028, 8, 9, 8, tzinfo=UTC), ends_at=None), "C", "c"),
    ]
    data = calendar_ics(items, name="Treffpunkt Leipzig", now=NOW)

    calendar = parse(data)
    assert str(calendar["NAME"]) == "Treffpunkt Leipzig"
    assert str(calendar["X-WR-CALNAME"]) == "Treffpunkt Leipzig"
    assert str(calendar["METHOD"]) == "PUBLISH"
    events = calendar.events
    assert len(events) == 3
    assert [str(event["UID"]) for event in events] == [
        f"treffpunkt-event-{n}@treffpunkt" for n in (1, 2, 3)
    ]
    assert [str(event["STATUS"]) for event in events] == ["CONFIRMED", "CANCELLED", "CONFIRMED"]
    for (record, title, description), vevent in zip(items, events, strict=True):
        assert str(vevent["SUMMARY"]) == title
        assert vevent.decoded("DTSTART") == record.starts_at
        assert vevent["DTSTART"].params["TZID"] == "Europe/Berlin"
        assert str(vevent["DESCRIPTION"]).startswith(description)
    [vtimezone] = calendar.timezones
    times, _ = vtimezone.get_transitions()
    # Both years the events fall in are described.
    assert datetime(2027, 3, 28, 1, 0) in times
    assert datetime(2028, 3, 26, 1, 0) in times
    assert datetime(2028, 10, 29, 1, 0) in times
    assert data.index(b"BEGIN:VTIMEZONE") < data.index(b"BEGIN:VEVENT")
    for line in lines(data):
        assert len(line) <= 75


def test_calendar_without_events_is_still_valid() -> None:
    calendar = parse(calendar_ics([], name="Leer", now=NOW))

    assert calendar.events == []
    assert str(calendar["VERSION"]) == "2.0"


@pytest.mark.parametrize(
    ("title", "expected"),
    [
        ("Offener Treff der Werkstatt", "offener-treff-der-werkstatt.ics"),
        ("Müßiggang: Ärger über Öl & Übung!", "muessiggang-aerger-ueber-oel-uebung.ics"),
        ("Café à la carte – Łódź", "cafe-a-la-carte-lodz.ics"),
        ("لقاء مفتوح", "event.ics"),
        ("🎉🎉", "event.ics"),
        ("", "event.ics"),
        ("../../etc/passwd", "etc-passwd.ics"),
    ],
)
def test_ics_filename(title: str, expected: str) -> None:
    assert ics_filename(title) == expected


def test_ics_filename_is_at_most_60_characters() -> None:
    name = ics_filename("Sehr langer Titel für einen Nachmittag " * 5)
    assert len(name) <= 60
    assert name.endswith(".ics")
    assert not name.removesuffix(".ics").endswith("-")
    assert name.isascii()
    assert len(ics_filename("x" * 200)) == 60


def test_each_zone_gets_its_own_vtimezone() -> None:
    # 02:30 on 2027-04-04 in Sydney, the first time (summer time ends at 03:00).
    sydney = make_event(
        id=2, timezone="Australia/Sydney", starts_at=datetime(2027, 4, 3, 15, 30, tzinfo=UTC)
    )
    istanbul = make_event(id=3, timezone="Europe/Istanbul")
    items = [(make_event(id=1), "A", ""), (sydney, "B", ""), (istanbul, "C", "")]

    calendar = parse(calendar_ics(items, name="Mix", now=NOW))

    zones = {str(vtimezone["TZID"]): vtimezone for vtimezone in calendar.timezones}
    assert set(zones) == {"Europe/Berlin", "Australia/Sydney", "Europe/Istanbul"}
    assert zones["Europe/Istanbul"].daylight == []  # no summer time there
    # Sydney leaves summer time on 2027-04-04 at 03:00 AEDT (16:00 UTC the day before).
    times, _ = zones["Australia/Sydney"].get_transitions()
    assert datetime(2027, 4, 3, 16, 0) in times
    for vevent, (record, _, _) in zip(calendar.events, items, strict=True):
        assert vevent["DTSTART"].params["TZID"] == record.timezone
        own_zone = zones[record.timezone].to_tz(lookup_tzid=False)
        local = vevent.decoded("DTSTART").replace(tzinfo=None)
        assert local.replace(tzinfo=own_zone).astimezone(UTC) == record.starts_at


def test_all_day_events_are_written_as_dates() -> None:
    # 12–13 September 2027 in Berlin, all day: midnight to the midnight after the last day.
    event = make_event(
        starts_at=datetime(2027, 9, 12, tzinfo=BERLIN).astimezone(UTC),
        ends_at=datetime(2027, 9, 14, tzinfo=BERLIN).astimezone(UTC),
    )
    data = event_ics(event, title="Sommerfest", description="", now=NOW)
    assert b"DTSTART;VALUE=DATE:20270912" in lines(data)
    assert b"DTEND;VALUE=DATE:20270914" in lines(data)
    vevent = only_event(parse(data))
    assert vevent.decoded("DTSTART") == datetime(2027, 9, 12).date()
    # An event from midnight to midnight in another zone is not all day in Berlin: it has times.
    timed = make_event(
        starts_at=datetime(2027, 9, 12, tzinfo=UTC), ends_at=datetime(2027, 9, 13, tzinfo=UTC)
    )
    assert b"DTSTART;TZID=Europe/Berlin:20270912T020000" in lines(
        event_ics(timed, title="Nachtwanderung", description="", now=NOW)
    )
