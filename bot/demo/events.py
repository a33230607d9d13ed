"""Demo data built from real notices of migrant organisations in Saxony (shared/seeds).

Dates are moved into the future relative to the day the data is loaded; loading twice adds
nothing (events are keyed by organisation and a stable uid).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from bot.demo.translations import TRANSLATIONS
from bot.services import reminders
from bot.services.interpreting import offers_interpretation
from storage.db import Database
from storage.records import TextRecord
from storage.repositories import CatalogRepository, EventRepository

ORGANISATIONS = {
    "dsm": (
        "Dachverband sächsischer Migrantenorganisationen e. V. (DSM)",
        "https://dsm-sachsen.de",
    ),
    "agjf": ("AGJF Sachsen e. V. – Projekt Connect", None),
    "beirat-leipzig": ("Migrantenbeirat Leipzig", None),
    "iaf-leipzig": ("Verband binationaler Familien und Partnerschaften, iaf e. V. Leipzig", None),
    "damost": ("Dachverband der Migrant*innenorganisationen in Ostdeutschland (DaMOst)", None),
    "damigra": ("DaMigra – Dachverband der Migrantinnenorganisationen", None),
    "zwischenraum": ("Zwischenraum – Radio migrantischer Lebenswelten", None),
    "alexandra": ("Deutsch-Russisches Hilfswerk zur Heiligen Alexandra e. V.", None),
}


@dataclass(frozen=True)
class DemoEvent:
    uid: str
    organisation: str
    category: str
    region: str
    day: int  # days from the loading day; negative values are not used
    start: time
    end: time | None
    title_de: str
    description_de: str
    place: str | None = None
    capacity: int | None = None
    deadline_days: int | None = None
    end_day: int | None = None


EVENTS: tuple[DemoEvent, ...] = (
    DemoEvent(
        "werkstatt-dresden-auftakt",
        "dsm",
        "networking",
        "dresden",
        6,
        time(18),
        time(20),
        "Auftakt: Werkstatt der Migrant*innenorganisationen Dresden",
        "Der DSM lädt alle Migrant*innenorganisationen aus Dresden und Umgebung, "
        "Stadtteilnetzwerke und Dresdner Akteur*innen zur Auftaktveranstaltung der Werkstatt "
        "der Migrant*innenorganisationen ein. Wir sprechen darüber, wie Ihr Euch ein gelungenes "
        "Austauschformat vorstellt, welche Themen Ihr im Blick habt und mit welchen Plänen Ihr "
        "ins neue Jahr startet – nach dem Vorbild der Leipziger Werkstatt.",
        place="Bürger*innenlabor Dresden",
        capacity=40,
    ),
    DemoEvent(
        "konferenz-mo-dresden",
        "dsm",
        "politics",
        "dresden",
        20,
        time(12),
        time(18),
        "Konferenz der Migrant*innenorganisationen in Dresden",
        "Migrant*innenorganisationen und Stadtverwaltung vernetzen sich: Grußwort der "
        "Integrations- und Ausländerbeauftragten, Inputs zur Zusammenarbeit und zum "
        "Integrations- und Ausländerbeirat, World Cafés zu den Themen der Werkstattgespräche, "
        "zum Abschluss ein Abendbuffet. Ankommen und Anmeldung ab 11:30 Uhr.",
        place="Volkshochschule Dresden, Annenstraße 10, 01067 Dresden",
        capacity=120,
        deadline_days=17,
    ),
    DemoEvent(
        "get-together-bischofswerda",
        "agjf",
        "networking",
        "bautzen",
        13,
        time(15),
        time(18),
        "get together – Netzwerktreffen: Zusammenarbeit von Migrant*innenselbstorganisationen "
        "und anderen Trägern stärken",
        "Wie wird die Zusammenarbeit zwischen Migrant*innenorganisationen und anderen "
        "Akteur*innen im Bereich Flucht und Migration erlebt? Welche Herausforderungen und "
        "Potenziale gibt es? Mit einem Input von Lucía Muriel (glokal e. V.). Teilnahme "
        "kostenfrei, Fahrtkosten können auf Anfrage übernommen werden. Auf Anfrage kann "
        "Sprachmittlung bereitgestellt werden.",
        place="Netzwerk für Kinder- und Jugendarbeit, Lutherstraße 13, 01877 Bischofswerda",
    ),
    DemoEvent(
        "psychische-gesundheit",
        "dsm",
        "health",
        "leipzig",
        9,
        time(17),
        time(19),
        "Workshopreihe: Psychische Gesundheit von und für Migrant*innen",
        "Das Projekt „Bewusst – Gesund – Aktiv: Gesundheitsförderung für und von "
        "Migrant*innen“ lädt zur Workshopreihe zur psychischen Gesundheit ein – auf Deutsch, "
        "Spanisch und Arabisch. Was hilft im Alltag, wo gibt es Unterstützung?",
        place="Leipzig (der genaue Ort kommt mit der Anmeldung)",
        capacity=15,
    ),
    DemoEvent(
        "migrantenbeirat-kandidieren",
        "beirat-leipzig",
        "politics",
        "leipzig",
        11,
        time(18),
        time(19, 30),
        "Migrantenbeirat Leipzig: Wie kann ich kandidieren?",
        "Wir informieren über die Geschichte, die Arbeitsweise und die Ziele des "
        "Migrantenbeirats Leipzig. Außerdem erklären wir ganz einfach, wie man für den "
        "Migrantenbeirat kandidieren kann und wie die Wahl funktioniert. Wir bieten das "
        "Treffen in mehreren Sprachen an.",
        place="Neues Rathaus Leipzig, Martin-Luther-Ring 4–6, 04109 Leipzig",
    ),
    DemoEvent(
        "beratung-anerkennung",
        "dsm",
        "counselling",
        "leipzig",
        4,
        time(16),
        time(18),
        "Beratungsstunde: Anerkennung ausländischer Abschlüsse",
        "Sie haben einen ausländischen Abschluss? Sie möchten in Sachsen arbeiten, oder Sie "
        "arbeiten schon, aber unterhalb Ihrer Qualifikation? Das IQ Netzwerk Sachsen "
        "beantwortet Ihre Fragen zur Anerkennung, zu Ihren Möglichkeiten in Sachsen und zur "
        "Finanzierung von Anerkennung und Qualifizierung. In Kooperation mit Kültür Kollektiv "
        "Leipzig e. V. Wenige Plätze für Einzelgespräche.",
        place="Kültür Kollektiv Leipzig, Leipzig",
        capacity=3,
    ),
    DemoEvent(
        "workshop-website",
        "dsm",
        "workshops",
        "online",
        15,
        time(17),
        time(19, 30),
        "Workshop: Eine Website für Ihren Verein",
        "Was brauche ich wirklich und wie beginne ich? Welche Anbieter gibt es? Wie "
        "unterscheiden sich WordPress, Baukästen, Typo3 und Contao? Wie registriere ich eine "
        "Domain und eine E-Mail-Adresse, und ab wann brauche ich eine Agentur? Ein Angebot im "
        "Projekt SAQsen! für Vereine und Initiativen.",
    ),
    DemoEvent(
        "lernwerkstatt-finanzierung",
        "dsm",
        "funding",
        "leipzig",
        25,
        time(10),
        time(14),
        "Lernwerkstatt: Wie finanzieren wir unseren Verein?",
        "Wie setzen wir unsere Arbeit und Projekte so um, dass sie auf stabilen Beinen stehen "
        "und die Engagierten nicht selbst draufzahlen? Wir sammeln gemeinsam, welche Arten der "
        "Finanzierung es für Vereine und Initiativen gibt, und arbeiten an konkreten "
        "Finanzierungsideen und Projektanträgen.",
        place="DP4 – Zentrum für Engagement, Deutscher Platz 4, 04103 Leipzig",
        capacity=25,
    ),
    DemoEvent(
        "film-cay",
        "iaf-leipzig",
        "antiracism",
        "online",
        8,
        time(10),
        time(22),
        "Dokumentarfilm: „Spendier mir einen Çay und ich erzähl dir alles“",
        "Im Rahmen der Internationalen Wochen gegen Rassismus zeigt die Cinémathèque Leipzig "
        "den Dokumentarfilm in Zusammenarbeit mit dem iaf e. V. Der Film kann zwei Wochen lang "
        "kostenlos gestreamt werden.",
        end_day=21,
    ),
    DemoEvent(
        "liebe-grenzenlos",
        "iaf-leipzig",
        "families",
        "online",
        10,
        time(19),
        time(20, 30),
        "Liebe … grenzenlos? Gesprächsrunde über mehrkulturelle Paarbeziehungen",
        "Moderiert von der Journalistin Sibel Schick erzählen drei Leipziger*innen von ihrem "
        "Alltag als Partner oder Partnerin in einer „mehrkulturellen Zweierbeziehung“.",
    ),
    DemoEvent(
        "jugend-vereinsgruendung",
        "damost",
        "youth",
        "online",
        18,
        time(10),
        time(16),
        "Workshop für junge Menschen: Selbstorganisation und Vereinsgründung",
        "Die wichtigsten Fragen rund um Selbstorganisation als junge, migrantisierte Menschen "
        "in Ostdeutschland und die rechtlichen Grundlagen der Vereinsgründung. Für Menschen "
        "zwischen 14 und 27 Jahren mit internationaler Geschichte aus Sachsen, Sachsen-Anhalt, "
        "Thüringen, Brandenburg und Mecklenburg-Vorpommern.",
        capacity=20,
    ),
    DemoEvent(
        "offener-treff-leipzig",
        "dsm",
        "networking",
        "leipzig",
        2,
        time(15),
        time(17),
        "Offener Treff der Werkstatt der Migrant*innenorganisationen Leipzig",
        "Die Werkstatt der Migrant*innenorganisationen aus Leipzig ist ein Ort zum Treffen, "
        "Austauschen, Kennenlernen und Unterstützen. Jeden ersten Mittwoch im Monat gibt es "
        "nachmittags einen Offenen Treff zum Austausch über aktuelle Themen.",
        place="Werk 2 – Kulturfabrik Leipzig, Kochstraße 132, 04277 Leipzig",
    ),
    DemoEvent(
        "runder-tisch-gender-pay-gap",
        "damigra",
        "antiracism",
        "saxony",
        16,
        time(17),
        time(19),
        "Runder Tisch: Migration und Gender Pay Gap",
        "Frauen* mit Flucht- und Migrationsgeschichte sind auf dem Arbeitsmarkt noch einmal "
        "deutlich schlechter gestellt als Frauen* ohne diese Geschichte. Wir sprechen über "
        "Ursachen, Erfahrungen und was sich ändern muss.",
        place="Online und in Dresden (Ort nach Anmeldung)",
    ),
    DemoEvent(
        "workshop-ehrenamtliche-beratung",
        "iaf-leipzig",
        "counselling",
        "leipzig",
        22,
        time(16),
        time(19),
        "Workshop für ehrenamtliche Berater*innen in Migrant*innenorganisationen",
        "Austausch über Erfahrungen in der ehrenamtlichen Beratung von Migrant*innen und "
        "Geflüchteten, Sammlung von Herausforderungen und eine Fragerunde mit einer Beraterin "
        "der Migrationsberatung für Erwachsene (MBE). Eine Kooperation mit Mosaik Leipzig e. V.",
        place="Mosaik Leipzig e. V., Leipzig",
        capacity=12,
    ),
    DemoEvent(
        "zwischenraum-radio",
        "zwischenraum",
        "culture",
        "online",
        5,
        time(20),
        time(21),
        "Zwischenraum – Radiosendung über migrantische Lebenswelten",
        "Zwischenraum macht migrantische Lebenswelten sichtbarer und beleuchtet Migration und "
        "Integration. Eine Stunde live mit Gästen und handverlesener Musik.",
    ),
    DemoEvent(
        "medienprojekt-kinder-der-erde",
        "alexandra",
        "youth",
        "leipzig",
        27,
        time(10),
        time(15),
        "Medienprojekt: „Wir sind Kinder der Erde“ – Filme machen lernen",
        "Alle, denen das Schicksal unseres Planeten nicht gleichgültig ist und die lernen "
        "wollen, wie man einen Film macht, sind eingeladen. Zwei Tage, jeweils ab 10 Uhr.",
        place="Deutsch-Russisches Hilfswerk zur Heiligen Alexandra e. V., Leipzig",
        end_day=28,
    ),
)


def _instant(day: date, at: time, tz: ZoneInfo) -> datetime:
    return datetime.combine(day, at, tzinfo=tz).astimezone(UTC)


async def load_demo(db: Database, today: date | None = None, tz_name: str = "Europe/Berlin") -> int:
    """Add the demo organisations and events; returns how many events were new."""
    tz = ZoneInfo(tz_name)
    today = today or datetime.now(tz).date()
    added = 0
    async with db.transaction() as s:
        catalog, events = CatalogRepository(s), EventRepository(s)
        org_ids = {
            slug: await catalog.organisation(slug, name, site)
            for slug, (name, site) in ORGANISATIONS.items()
        }
        for demo in EVENTS:
            if await events.by_uid(org_ids[demo.organisation], f"demo-{demo.uid}") is not None:
                continue
            category_id = await catalog.category_id(demo.category)
            region_id = await catalog.region_id(demo.region)
            assert category_id is not None and region_id is not None, demo.uid
            start_day = today + timedelta(days=demo.day)
            end_day = today + timedelta(days=demo.end_day) if demo.end_day else start_day
            texts = [TextRecord("de", demo.title_de, demo.description_de)]
            texts += [
                TextRecord(code, title, description)
                for code, (title, description) in TRANSLATIONS.get(demo.uid, {}).items()
            ]
            starts_at = _instant(start_day, demo.start, tz)
            event_id = await events.add(
                organisation_id=org_ids[demo.organisation],
                category_id=category_id,
                region_id=region_id,
                uid=f"demo-{demo.uid}",
                starts_at=starts_at,
                ends_at=_instant(end_day, demo.end, tz) if demo.end else None,
                place=demo.place,
                capacity=demo.capacity,
                registration_deadline=(
                    _instant(today + timedelta(days=demo.deadline_days), time(23, 59), tz)
                    if demo.deadline_days
                    else None
                ),
                texts=texts,
                timezone=tz_name,
                interpretation=offers_interpretation(f"{demo.title_de}\n{demo.description_de}"),
            )
            # Reminders still ahead of the start of ``today``, as for any new event.
            await reminders.plan(s, event_id, starts_at, tz_name, _instant(today, time(0), tz))
            added += 1
    return added
