"""Maintain the gettext catalogs: extract, update, fill English, compile.

python tools/catalogs.py update    # re-extract messages.pot, merge it into every .po, give each
                                   # .po its language's plural rule from Babel (CLDR)
python tools/catalogs.py compile   # build the .mo files the bot loads
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from babel.messages.plurals import get_plural
from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parent.parent
LOCALES = ROOT / "locales"
POT = LOCALES / "messages.pot"
TIER1 = ("de", "en", "uk", "ar", "ru", "fa")


def pybabel(*args: str) -> None:
    subprocess.run(  # noqa: S603 - our own interpreter and fixed arguments
        [sys.executable, "-m", "babel.messages.frontend", *args], check=True, cwd=ROOT
    )


def extract() -> None:
    pybabel(
        "extract",
        "-F",
        "babel.cfg",
        "-o",
        str(POT),
        "--no-location",
        "--sort-output",
        "--add-comments=Translators:",
        "--project=Treffpunkt",
        ".",
    )


def catalog_path(code: str) -> Path:
    return LOCALES / code / "LC_MESSAGES" / "messages.po"


def update() -> None:
    extract()
    for code in TIER1:
        if not catalog_path(code).is_file():
            pybabel("init", "-i", str(POT), "-d", str(LOCALES), "-D", "messages", "-l", code)
    use_babel_plural_forms()
    pybabel(
        "update",
        "-i",
        str(POT),
        "-d",
        str(LOCALES),
        "-D",
        "messages",
        "--no-fuzzy-matching",
        "--ignore-obsolete",
    )
    fill_english()


def use_babel_plural_forms() -> None:
    """Give every catalog the Plural-Forms header that Babel's CLDR data has for its language."""
    # pybabel update keeps the header a catalog already has, so a catalog would keep an old
    # rule for good when CLDR changes one (Persian went from one form to two). Set it first;
    # the update that follows adds the empty forms for translators to fill in.
    for code in TIER1:
        path = catalog_path(code)
        with path.open("rb") as fp:
            catalog = read_po(fp, locale=code)
        rule = get_plural(code).plural_forms
        if catalog.plural_forms == rule:
            continue
        catalog.mime_headers = [("Plural-Forms", rule)]
        with path.open("wb") as fp:
            write_po(fp, catalog, omit_header=False, width=76)


def fill_english() -> None:
    """The message ids are English: the English catalog repeats them (plural forms too)."""

    path = catalog_path("en")
    with path.open("rb") as fp:
        catalog = read_po(fp, locale="en")
    for message in catalog:
        if not message.id:
            continue
        if isinstance(message.id, tuple | list):
            message.string = (message.id[0], message.id[1])
        else:
            message.string = message.id
        message.flags.discard("fuzzy")
    with path.open("wb") as fp:
        write_po(fp, catalog, omit_header=False, sort_output=True, no_location=True, width=100)


def compile_all() -> None:
    pybabel("compile", "-d", str(LOCALES), "-D", "messages", "--statistics")


if __name__ == "__main__":
    action = sys.argv[1] if len(sys.argv) > 1 else "update"
    {
        "update": update,
        "compile": compile_all,
        "extract": extract,
        "fill-en": fill_english,
        "plural-forms": use_babel_plural_forms,
    }[action]()
