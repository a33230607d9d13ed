"""One row per case and backend: the project's figure, the comparison measured in the same run,
their ratio, the target and whether it is met. Every case of ``python -m bench`` returns these."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Figure:
    case: str  # "1 fan-out, limits off"
    backend: str  # "SQLite" | "PostgreSQL"
    measure: str  # what the numbers are: "messages/s", "ms CPU/message", "p99 ms", …
    project: float
    comparison: float | None  # the same measure for the comparison (None: no comparison)
    compared_with: str  # "naive PTB loop", "AIORateLimiter", "idle", "plain HTTP", ""
    target: str  # "≥ 1000", "≤ 0.5", "≥ 3×", …
    met: bool
    note: str = ""

    @property
    def ratio(self) -> str:
        if self.comparison in (None, 0):
            return ""
        return f"{self.project / self.comparison:.2f}×"


def _number(value: float | None) -> str:
    if value is None:
        return "–"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    if abs(value) >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}"


def render(figures: list[Figure]) -> str:
    """A Markdown table (it reads in a terminal and pastes into bench/README.md)."""
    head = (
        "| case | backend | measure | project | comparison | ratio | target | met |\n"
        "|------|---------|---------|--------:|-----------:|------:|--------|-----|"
    )
    rows = [
        f"| {f.case} | {f.backend} | {f.measure} | {_number(f.project)} | "
        f"{_number(f.comparison)}{f' ({f.compared_with})' if f.compared_with else ''} | "
        f"{f.ratio} | {f.target} | {'yes' if f.met else 'NO'}{f' — {f.note}' if f.note else ''} |"
        for f in figures
    ]
    return "\n".join([head, *rows])
