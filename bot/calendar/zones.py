"""Names of UTC itself, shared by the iCal import and the .ics export.

These are exactly the tzdata names of Etc/UTC and its links. Etc/GMT and its links are left
out on purpose: they are a zone of their own (abbreviated "GMT"), kept as the file names it.
"""

from __future__ import annotations

UTC_NAMES = frozenset(
    {"UTC", "Etc/UTC", "Etc/UCT", "UCT", "Etc/Universal", "Universal", "Etc/Zulu", "Zulu"}
)
