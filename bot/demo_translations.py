"""Texts of the demo events in more languages (filled in separately)."""

TRANSLATIONS: dict[str, dict[str, tuple[str, str]]] = {}
