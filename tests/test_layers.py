"""The layers hold: code outside storage/ never reaches for SQLAlchemy or the models."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FORBIDDEN = ("sqlalchemy", "storage.models")


def _imported(tree: ast.AST) -> set[str]:
    """Every module an ``import`` or ``from … import`` names, ``from x import y`` also as
    ``x.y`` (so that ``from storage import models`` counts), at any depth of the file."""
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def _offences(root: Path, forbidden: tuple[str, ...] = FORBIDDEN) -> list[str]:
    return [
        f"{path.relative_to(root)}: {name}"
        for path in sorted(root.rglob("*.py"))
        for name in sorted(_imported(ast.parse(path.read_text(encoding="utf-8"))))
        if any(name == f or name.startswith(f + ".") for f in forbidden)
    ]


def test_bot_and_handlers_use_repositories_not_sqlalchemy() -> None:
    offences = [o for package in ("bot", "handlers") for o in _offences(ROOT / package)]
    assert offences == [], "SQL belongs in storage/repositories/:\n" + "\n".join(offences)


def test_transports_reach_storage_only_through_the_core() -> None:
    """Adapters translate; what they remember (Matrix options, events seen) goes through a
    service, and marking an event as handled is part of the update's unit of work."""
    offences = _offences(ROOT / "bot" / "transports", ("storage",))
    assert offences == [], "transports use services, not storage:\n" + "\n".join(offences)


def test_the_check_sees_every_form_of_import(tmp_path: Path) -> None:
    module = tmp_path / "m.py"
    for source in (
        "import sqlalchemy",
        "import sqlalchemy.orm as orm",
        "from sqlalchemy import select",
        "from sqlalchemy.ext.asyncio import AsyncSession",
        "from storage.models import Event",
        "from storage import models",
        "def f():\n    from storage.models import Event\n",
    ):
        module.write_text(source, encoding="utf-8")
        assert _offences(tmp_path), source
    module.write_text("from storage.db import is_transient\n", encoding="utf-8")
    assert _offences(tmp_path) == []
