"""The gettext catalogs: complete, not fuzzy, placeholders intact, nothing missing or stale."""

from __future__ import annotations

import re
from pathlib import Path

import polib
import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.plurals import get_plural

from bot.app.core import Core
from bot.app.settings import PROJECT_ROOT
from bot.i18n import TIER1, I18n
from tests.fakes import Chatroom, registered
from tests.test_journey import event_by_uid

LOCALES = PROJECT_ROOT / "locales"
# Every catalog on disk, not only the languages offered: none may keep an outdated rule.
CATALOGS = sorted(path.parent.parent.name for path in LOCALES.glob("*/LC_MESSAGES/messages.po"))
PLACEHOLDER = re.compile(r"\{[A-Za-z_][A-Za-z0-9_]*\}")


def catalog(code: str) -> polib.POFile:
    return polib.pofile(str(LOCALES / code / "LC_MESSAGES" / "messages.po"))


def placeholders(text: str) -> set[str]:
    return set(PLACEHOLDER.findall(text))


def problems(po: polib.POFile, code: str) -> list[str]:
    """Everything wrong with one catalog: untranslated, fuzzy, placeholders, plural forms."""
    found = [f"untranslated: {e.msgid}" for e in po.untranslated_entries()]
    found += [f"fuzzy: {e.msgid}" for e in po.fuzzy_entries()]
    babel = get_plural(code)
    nplurals = babel.num_plurals
    header = po.metadata.get("Plural-Forms", "")
    if header != babel.plural_forms:
        found.append(
            f"Plural-Forms is {header!r}, Babel's rule for {code} is {babel.plural_forms!r}: "
            "run tools/catalogs.py update and translate the new forms"
        )
    for entry in po:
        if entry.obsolete:
            continue
        if entry.msgid_plural:
            translated = [form for form in entry.msgstr_plural.values() if form]
            if len(entry.msgstr_plural) != nplurals or len(translated) != nplurals:
                found.append(
                    f"{len(translated)} of {nplurals} plural forms translated: {entry.msgid}"
                )
            allowed = placeholders(entry.msgid_plural) | placeholders(entry.msgid)
            for form in entry.msgstr_plural.values():
                have = placeholders(form)
                # A plural form may spell the number as a word (Arabic one and two), no more.
                if form and (not have <= allowed or allowed - have - {"{n}"}):
                    found.append(f"placeholders differ: {entry.msgid} → {form}")
        elif entry.msgstr and placeholders(entry.msgstr) != placeholders(entry.msgid):
            found.append(f"placeholders differ: {entry.msgid} → {entry.msgstr}")
    return found


def messages_in_code() -> set[str]:
    """Extract as the catalogs are extracted (babel.cfg: bot/ and handlers/), from the code now."""
    found: set[str] = set()
    for folder in ("bot", "handlers"):
        for _file, _line, message, _comments, _context in extract_from_dir(
            PROJECT_ROOT / folder, method_map=[("**.py", "python")]
        ):
            found.add(message[0] if isinstance(message, tuple) else message)
    return found


def test_every_offered_language_has_a_catalog() -> None:
    assert set(TIER1) <= set(CATALOGS)


@pytest.mark.parametrize("code", CATALOGS)
def test_catalog_is_complete_and_correct(code: str) -> None:
    assert problems(catalog(code), code) == []


@pytest.mark.parametrize("code", TIER1)
def test_catalog_has_exactly_the_messages_the_code_uses(code: str) -> None:
    in_code = messages_in_code()
    in_catalog = {e.msgid for e in catalog(code) if not e.obsolete}
    assert not in_code - in_catalog, f"missing in {code}: {sorted(in_code - in_catalog)}"
    assert not in_catalog - in_code, f"stale in {code}: {sorted(in_catalog - in_code)}"


def test_the_check_catches_broken_entries(tmp_path: Path) -> None:
    po = catalog("de")
    entries = [e for e in po if "{language}" in e.msgid and not e.msgid_plural]
    entries[0].msgstr = entries[0].msgstr.replace("{language}", "{sprache}")
    entries[1].flags.append("fuzzy")
    entries[2].msgstr = ""
    plurals = [e for e in po if e.msgid_plural]
    del plurals[0].msgstr_plural[1]
    plurals[1].msgstr_plural[1] = ""
    po.metadata["Plural-Forms"] = "nplurals=2; plural=(n > 1);"
    path = tmp_path / "messages.po"
    po.save(str(path))
    found = problems(polib.pofile(str(path)), "de")
    assert any(p.startswith("placeholders differ") and "{sprache}" in p for p in found)
    assert any(p.startswith("fuzzy") for p in found)
    assert any(p.startswith("untranslated") for p in found)
    assert any(p.startswith("Plural-Forms is") for p in found)
    assert sum("1 of 2 plural forms translated" in p for p in found) == 2


def test_arabic_uses_all_six_plural_forms() -> None:
    lang = I18n(LOCALES).lang("ar")
    forms = {
        n: lang.translations.ngettext(
            "🎟 {n} seat left of {total}", "🎟 {n} seats left of {total}", n
        )
        for n in (0, 1, 2, 3, 11, 100)
    }
    assert len(set(forms.values())) == 6, forms


def test_ukrainian_and_russian_use_three_forms() -> None:
    i18n = I18n(LOCALES)
    for code in ("uk", "ru"):
        t = i18n.lang(code).translations
        one, few, many = (
            t.ngettext("You answered {n} upcoming event:", "You answered {n} upcoming events:", n)
            for n in (21, 3, 5)
        )
        assert len({one, few, many}) == 3, (code, one, few, many)


async def test_persian_counts_one_person_in_the_singular_and_two_in_the_plural(
    room: Chatroom, core: Core
) -> None:
    event = await event_by_uid(core, "beratung-anerkennung")
    first, second = [await registered(room, name, "fa") for name in ("fa1", "fa2")]
    await first.presses(f"r:{event.id}:g:-")
    assert "✅ 1 نفر می‌آید" in first.text
    assert "می‌آیند" not in first.text
    await second.presses(f"r:{event.id}:g:-")
    assert "✅ 2 نفر می‌آیند" in second.text
