"""iCalendar import: real exports read precisely, broken and hostile files refused whole."""

from __future__ import annotations

import random
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.calendar.ical import IcalError, ImportedEvent, parse_calendar
from bot.calendar.ical.text import clean_line, clean_text

DATA = Path(__file__).parent / "data" / "ical"
NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
WP = "@www.mo-netzwerk-sachsen.example"
TREFF = "7d1f3c2e-5b4a-4e8f-9c0d-offener-treff-wmo"
VALID = (
    "wordpress-events-calendar.ics",
    "google-calendar.ics",
    "recurring-open-meeting.ics",
    "all-day.ics",
    "updated.ics",
    "cancelled.ics",
)


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def parse(name: str, *, horizon_days: int = 120, max_events: int = 2_000) -> list[ImportedEvent]:
    data = (DATA / name).read_bytes()
    return parse_calendar(data, now=NOW, horizon_days=horizon_days, max_events=max_events)


def calendar(body: str, head: str = "") -> bytes:
    text = f"BEGIN:VCALENDAR\nVERSION:2.0\nPRODID:-//Test//Test//EN\n{head}{body}END:VCALENDAR\n"
    return text.replace("\n", "\r\n").encode()


def vevent(lines: str, uid: str = "treff-1", summary: str = "Sprachcafé") -> str:
    return f"BEGIN:VEVENT\nUID:{uid}\nSUMMARY:{summary}\n{lines}END:VEVENT\n"


def by_uid(events: list[ImportedEvent]) -> dict[str, ImportedEvent]:
    return {event.uid: event for event in events}


# -- real exports ---------------------------------------------------------------------------


def test_wordpress_export_is_read_with_clean_text_and_places() -> None:
    events = parse("wordpress-events-calendar.ics")

    assert [e.uid for e in events] == [
        f"10000412-1765382400-1765391400{WP}",
        f"10000418-1769000400-1769011200{WP}",
        f"10000425-1772038800-1772042400{WP}",
    ]  # the film evening of March 2026 is over and left out
    meeting, workshop, radio = events
    assert meeting.title == (
        "Vernetzungs- und Austauschtreffen der Leipziger Migrant*innen-Organisationen (MO)"
    )
    assert meeting.starts_at == utc(2026, 12, 10, 16, 0)  # 17:00 in Leipzig, winter time
    assert meeting.ends_at == utc(2026, 12, 10, 18, 30)
    assert meeting.place == "Werk 2 – Kulturfabrik Leipzig, Kochstraße 132, 04277 Leipzig"
    assert meeting.url == (
        "https://www.mo-netzwerk-sachsen.example/veranstaltung/vernetzungstreffen-leipziger-mo/"
    )
    assert (meeting.all_day, meeting.timezone, meeting.cancelled, meeting.sequence) == (
        False,
        "Europe/Berlin",
        False,
        0,
    )
    assert meeting.description == (
        "Themen sind unter anderem: Planungen der MOs für 2027, Kommunikation der MOs "
        "untereinander, Stand House of Resources Leipzig & Wahl des Migrant*innen-Beirats.\n\n"
        "• Ankommen ab 16:30 Uhr\n"
        "• Sprachmittlung auf Anfrage (Arabisch, Farsi, Russisch)\n\n"
        "Anmeldung bitte über das Formular "
        "(https://www.mo-netzwerk-sachsen.example/anmeldung/) – die Teilnahme ist kostenfrei."
    )
    assert workshop.title == (
        "Workshop: Psychische Gesundheit von und für Migrant*innen (Deutsch – Arabisch)"
    )
    assert workshop.place == "Volkshochschule Dresden, Annenstraße 10, 01067 Dresden"
    assert workshop.starts_at == utc(2027, 1, 21, 9, 0)
    assert workshop.description.startswith("Das Projekt „Bewusst – Gesund – Aktiv:")
    assert workshop.description.endswith("Arabisch.\nBitte meldet euch bis zum 14. Januar an.")
    # A right-to-left override in the title is dropped, and so is a javascript: URL.
    assert radio.title == "Zwischenraum – Radiosendung live"
    assert radio.url is None
    assert radio.place == "Radio Blau, Leipzig"


def test_google_export_reads_utc_and_tzid_times() -> None:
    events = parse("google-calendar.ics")

    assert [e.uid for e in events] == [
        "5q2k8f0v1m3h7c9r4t6b2n8d0s@google.com",
        "1hv3c0r7kq8m2p5s9t4u6w0x1y@google.com",
    ]  # the kick-off on 2 November has passed
    network, conference = events
    assert network.starts_at == utc(2026, 12, 8, 14, 0)
    assert network.ends_at == utc(2026, 12, 8, 17, 0)
    assert network.sequence == 2
    assert network.place == (
        "Netzwerk für Kinder- und Jugendarbeit, Lutherstraße 13, 01877 Bischofswerda, Deutschland"
    )
    assert network.description == (
        "Zusammenarbeit zwischen Migrant*innenselbstorganisationen und anderen Trägern im "
        "Bereich Flucht und Migration stärken.\n\n"
        "Teilnahme kostenfrei – auf Anfrage können Fahrtkosten übernommen werden. Anmeldung "
        "per E-Mail an stoye@agjf-sachsen.de\n"
        "Auf Anfrage kann Sprachmittlung bereitgestellt werden."
    )
    assert conference.title == "Konferenz der Migrant*innenorganisationen in Dresden"
    assert conference.starts_at == utc(2027, 1, 16, 11, 0)
    assert conference.ends_at == utc(2027, 1, 16, 17, 0)
    assert conference.timezone == "Europe/Berlin"  # from X-WR-TIMEZONE
    assert conference.description.endswith(
        "17:30 Uhr Abendbuffet\n\nAnmeldung: https://lets-meet.org/reg/7f1ec257e96a3b3999"
    )


def test_monthly_open_meeting_expands_with_exdate_override_and_cancellation() -> None:
    events = parse("recurring-open-meeting.ics")

    assert [(e.uid, e.starts_at, e.ends_at, e.cancelled) for e in events] == [
        (f"{TREFF}#20261202T140000Z", utc(2026, 12, 2, 14), utc(2026, 12, 2, 16), False),
        # 6 January is an EXDATE and simply absent.
        (f"{TREFF}#20270203T140000Z", utc(2027, 2, 3, 15), utc(2027, 2, 3, 17), False),
        (f"{TREFF}#20270303T140000Z", utc(2027, 3, 3, 14), utc(2027, 3, 3, 16), True),
    ]
    regular, moved, cancelled = events
    assert regular.title == "Offener Treff der Werkstatt der Migrant*innenorganisationen"
    assert regular.url == "https://www.mo-netzwerk-sachsen.example/offener-treff/"
    assert moved.title.endswith("– heute ab 16 Uhr")
    assert moved.place == "Werk 2 – Kulturfabrik Leipzig (Halle D), Kochstraße 132, 04277 Leipzig"
    assert moved.description == "Diesmal eine Stunde später, weil die Halle vorher belegt ist."
    assert cancelled.description.startswith("Fällt wegen")
    assert all(e.timezone == "Europe/Berlin" and not e.all_day for e in events)


def test_recurring_occurrences_follow_berlin_time_across_daylight_saving() -> None:
    events = parse("recurring-open-meeting.ics", horizon_days=200)

    starts = [e.starts_at for e in events]
    # 15:00 in Leipzig: 14:00 UTC in winter, 13:00 UTC after the change on 28 March 2027.
    assert starts[-3:] == [utc(2027, 4, 7, 13), utc(2027, 5, 5, 13), utc(2027, 6, 2, 13)]
    assert events[-1].uid == f"{TREFF}#20270602T130000Z"  # UNTIL ends the series in June


def test_occurrence_uids_are_stable_and_the_output_deterministic() -> None:
    first = parse("recurring-open-meeting.ics")
    again = parse("recurring-open-meeting.ics")
    assert first == again
    # A week later the first occurrence is over; the others keep their uid and fingerprint.
    later = parse_calendar(
        (DATA / "recurring-open-meeting.ics").read_bytes(), now=utc(2026, 12, 3, 9)
    )
    assert later == first[1:]


def test_all_day_events_start_and_end_at_midnight_in_berlin() -> None:
    one_day, two_days = parse("all-day.ics")

    assert one_day.title == "Tag der offenen Tür im Haus der Kulturen"
    assert (one_day.starts_at, one_day.ends_at) == (utc(2026, 12, 11, 23), utc(2026, 12, 12, 23))
    assert two_days.title == "Internationale Wochen gegen Rassismus: Aktionstage"
    assert (two_days.starts_at, two_days.ends_at) == (utc(2027, 3, 18, 23), utc(2027, 3, 20, 23))
    assert one_day.all_day and two_days.all_day
    assert one_day.timezone == two_days.timezone == "Europe/Berlin"
    assert two_days.description.endswith("Das Motto: „Solidarität. Grenzenlos.“")


def test_an_update_keeps_the_uid_and_changes_the_fingerprint() -> None:
    original = parse("wordpress-events-calendar.ics")[0]
    (updated,) = parse("updated.ics")
    (cancelled,) = parse("cancelled.ics")

    assert original.uid == updated.uid == cancelled.uid
    assert updated.sequence == 1 and cancelled.sequence == 2
    assert updated.starts_at == utc(2026, 12, 10, 17) and updated.ends_at == utc(
        2026, 12, 10, 19, 30
    )
    assert updated.title.endswith("– neue Uhrzeit")
    assert len({original.fingerprint, updated.fingerprint, cancelled.fingerprint}) == 3
    assert not updated.cancelled and cancelled.cancelled


def test_the_fingerprint_ignores_the_sequence_only() -> None:
    body = "DTSTART:20261201T100000Z\nDTEND:20261201T120000Z\n"
    (plain,) = parse_calendar(calendar(vevent(body)), now=NOW)
    (bumped,) = parse_calendar(calendar(vevent(body + "SEQUENCE:4\n")), now=NOW)
    (retitled,) = parse_calendar(calendar(vevent(body, summary="Sprachcafé!")), now=NOW)
    assert bumped.sequence == 4 and bumped.fingerprint == plain.fingerprint
    assert retitled.fingerprint != plain.fingerprint
    assert len(plain.fingerprint) == 64 and int(plain.fingerprint, 16) >= 0


def test_window_keeps_running_events_and_drops_past_and_far_ones() -> None:
    data = calendar(
        vevent("DTSTART:20261123T080000Z\nDTEND:20261123T100000Z\n", uid="running")
        + vevent("DTSTART:20261123T070000Z\nDTEND:20261123T090000Z\n", uid="just-over")
        + vevent("DTSTART:20270322T090000Z\n", uid="last-day")
        + vevent("DTSTART:20270323T090000Z\n", uid="beyond")
    )
    events = parse_calendar(data, now=NOW)
    assert [e.uid for e in events] == ["running", "last-day"]
    assert events[1].ends_at is None  # no DTEND, no DURATION


# -- time zones -----------------------------------------------------------------------------


def test_outlook_windows_zone_names_mean_berlin() -> None:
    body = vevent(
        'DTSTART;TZID="W. Europe Standard Time":20270407T150000\n'
        'DTEND;TZID="W. Europe Standard Time":20270407T170000\n'
    )
    (event,) = parse_calendar(calendar(body), now=NOW, horizon_days=200)
    assert (event.starts_at, event.timezone) == (utc(2027, 4, 7, 13), "Europe/Berlin")


def test_floating_times_use_x_wr_timezone_or_the_default() -> None:
    body = vevent("DTSTART:20261201T100000\nDURATION:PT90M\n")
    (new_york,) = parse_calendar(calendar(body, "X-WR-TIMEZONE:America/New_York\n"), now=NOW)
    (berlin,) = parse_calendar(calendar(body), now=NOW)
    (kyiv,) = parse_calendar(calendar(body), now=NOW, default_tz="Europe/Kyiv")
    assert (new_york.starts_at, new_york.ends_at) == (
        utc(2026, 12, 1, 15),
        utc(2026, 12, 1, 16, 30),
    )
    assert new_york.timezone == "America/New_York"
    assert (berlin.starts_at, berlin.timezone) == (utc(2026, 12, 1, 9), "Europe/Berlin")
    assert (kyiv.starts_at, kyiv.timezone) == (utc(2026, 12, 1, 8), "Europe/Kyiv")


CUSTOM_ZONE = """BEGIN:VTIMEZONE
TZID:{tzid}
BEGIN:STANDARD
DTSTART:16011028T030000
RRULE:FREQ=YEARLY;BYDAY=-1SU;BYMONTH=10
TZOFFSETFROM:{summer}
TZOFFSETTO:{winter}
END:STANDARD
BEGIN:DAYLIGHT
DTSTART:16010325T020000
RRULE:FREQ=YEARLY;BYDAY=-1SU;BYMONTH=3
TZOFFSETFROM:{winter}
TZOFFSETTO:{summer}
END:DAYLIGHT
END:VTIMEZONE
"""


def test_a_custom_vtimezone_is_matched_to_an_iana_zone() -> None:
    tzid = "(UTC+01:00) Amsterdam, Berlin, Bern, Rom, Stockholm, Wien"
    zone = CUSTOM_ZONE.format(tzid=tzid, winter="+0100", summer="+0200")
    body = vevent(f'DTSTART;TZID="{tzid}":20261202T150000\nRRULE:FREQ=MONTHLY;COUNT=2\n')
    events = parse_calendar(calendar(body, zone), now=NOW)
    assert [(e.starts_at, e.timezone) for e in events] == [
        (utc(2026, 12, 2, 14), "Europe/Berlin"),
        (utc(2027, 1, 2, 14), "Europe/Berlin"),
    ]


def test_each_file_is_read_with_its_own_vtimezone() -> None:
    # icalendar caches the first VTIMEZONE it sees for a custom TZID for the whole process.
    body = vevent("DTSTART;TZID=Vereinszeit:20261201T100000\n")
    for offset, hour in (("+0500", 5), ("-0300", 13), ("+0500", 5)):
        zone = CUSTOM_ZONE.format(tzid="Vereinszeit", winter=offset, summer=offset)
        (event,) = parse_calendar(calendar(body, zone), now=NOW)
        assert event.starts_at == utc(2026, 12, 1, hour)


# -- broken and hostile files ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "keywords"),
    [
        ("broken-no-dtstart.ics", ["line 4", "DTSTART is missing", "'Offener Treff'"]),
        ("broken-not-ical.ics", ["HTML", "not an iCalendar file"]),
        ("broken-end-before-start.ics", ["line 30", "DTEND", "before DTSTART", "Sprachcafé"]),
        ("hostile-rrule-bomb.ics", ["line 10", "RRULE", "beyond 2000 occurrences"]),
        ("broken-unknown-tzid.ics", ["line 7", "unknown time zone 'Europe/Leipzig'"]),
        ("broken-latin1.ics", ["line 9", "not UTF-8", "0xFC"]),
    ],
)
def test_broken_and_hostile_files_are_refused_with_a_reason(name: str, keywords: list[str]) -> None:
    started = time.monotonic()
    with pytest.raises(IcalError) as error:
        parse(name)
    for keyword in keywords:
        assert keyword in str(error.value)
    assert time.monotonic() - started < 5


@pytest.mark.parametrize(
    ("body", "keyword"),
    [
        (vevent("DTSTART:20261201T100000Z\n", uid=""), "UID is missing"),
        (vevent("DTSTART:2026-12-01\n"), "DTSTART cannot be read"),
        (vevent("DTSTART:20261201T100000Z\nDTSTART:20261202T100000Z\n"), "more than once"),
        (vevent("DTSTART;VALUE=DATE:20261201\nDTEND:20261201T100000Z\n"), "both be dates"),
        (vevent("DTSTART:20261201T100000Z\nDURATION:-PT1H\n"), "before DTSTART"),
        (vevent("DTSTART:20261201T100000Z\nRRULE:BYDAY=MO\n"), "has no FREQ"),
        (vevent("DTSTART:20261201T100000Z\nRRULE:FREQ=FORTNIGHTLY\n"), "RRULE cannot be read"),
        # Never matches: dateutil alone would search until the year 9999.
        (vevent("DTSTART:20261201T100000Z\nRRULE:FREQ=DAILY;BYMONTH=2;BYMONTHDAY=30\n"), "never"),
        (vevent("DTSTART:00010101T100000Z\nRRULE:FREQ=DAILY\n"), "more than 100000 times"),
        (vevent("DTSTART;TZID=Mars/Olympus:20261201T100000\n"), "'Mars/Olympus'"),
    ],
)
def test_broken_events_name_the_problem(body: str, keyword: str) -> None:
    started = time.monotonic()
    with pytest.raises(IcalError, match=keyword):
        parse_calendar(calendar(body), now=NOW)
    assert time.monotonic() - started < 5


def test_two_calendars_in_one_file_are_refused() -> None:
    single = calendar(vevent("DTSTART:20261201T100000Z\n"))
    with pytest.raises(IcalError, match="line 10: the file holds more than one calendar"):
        parse_calendar(single + single, now=NOW)


def test_a_cut_off_download_is_refused() -> None:
    data = (DATA / "google-calendar.ics").read_bytes()
    with pytest.raises(IcalError, match="cut off"):
        parse_calendar(data[: len(data) // 2], now=NOW)


def test_an_unknown_x_wr_timezone_is_refused() -> None:
    with pytest.raises(IcalError, match="X-WR-TIMEZONE 'Mars/Base'"):
        parse_calendar(calendar("", "X-WR-TIMEZONE:Mars/Base\n"), now=NOW)


def test_files_over_the_size_limit_are_refused() -> None:
    data = (DATA / "wordpress-events-calendar.ics").read_bytes()
    with pytest.raises(IcalError, match="larger than the limit"):
        parse_calendar(data, now=NOW, max_bytes=len(data) - 1)
    assert parse_calendar(data, now=NOW, max_bytes=len(data))


def test_too_many_events_are_refused() -> None:
    with pytest.raises(IcalError, match="more than 2 events"):
        parse("wordpress-events-calendar.ics", max_events=2)
    with pytest.raises(IcalError, match="beyond 5 occurrences"):
        parse("recurring-open-meeting.ics", max_events=5, horizon_days=365)
    assert len(parse("wordpress-events-calendar.ics", max_events=3)) == 3


def test_garbage_and_mangled_files_only_ever_raise_ical_error() -> None:
    rng = random.Random(20261123)  # noqa: S311 - reproducible test input, not a secret
    cases = [bytes(rng.randrange(256) for _ in range(rng.randrange(1, 200))) for _ in range(100)]
    cases += [b"BEGIN:VCALENDAR\r\n" + case for case in cases[:50]]
    for name in VALID:
        data = (DATA / name).read_bytes()
        cases += [data[:cut] for cut in range(0, len(data), 41)]
        for _ in range(40):
            mangled = bytearray(data)
            for _ in range(rng.randrange(1, 5)):
                mangled[rng.randrange(len(mangled))] = rng.choice(b':;,=\r\n \\"ZT019-/<&')
            cases.append(bytes(mangled))
        lines = data.split(b"\r\n")
        for _ in range(40):
            shuffled = lines[:]
            first, second = rng.randrange(len(lines)), rng.randrange(len(lines))
            shuffled[first], shuffled[second] = shuffled[second], shuffled[first]
            cases.append(b"\r\n".join(shuffled))
    for case in cases:
        try:
            events = parse_calendar(case, now=NOW)
        except IcalError:
            continue
        assert all(e.starts_at.tzinfo is UTC for e in events)


def test_imported_text_is_cleaned_as_typed_text_is() -> None:
    assert clean_text("Som\ud800mer\x85fest\u202e\r\nZeile\t2\x1b", 200) == "Sommerfest\nZeile 2"
    assert clean_line("Caf\u0065\u0301 \u2066Leipzig\u2069", 200) == "Café Leipzig"
