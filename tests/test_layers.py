"""The dependency rules of architecture.md, checked on the source."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SOURCE = Path(__file__).resolve().parents[1] / "src" / "pesabox"


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


@pytest.mark.parametrize(
    ("package", "forbidden"),
    [
        ("domain", ("sqlalchemy", "litestar", "aiohttp", "uvicorn")),
        ("storage", ("litestar", "pesabox.api", "pesabox.core")),
        ("security", ("litestar", "pesabox.api")),
        # A page calls the same services as the API; it never reaches into storage itself.
        ("web", ("sqlalchemy", "pesabox.storage", "pesabox.api")),
    ],
)
def test_layers_do_not_import_upwards(package: str, forbidden: tuple[str, ...]) -> None:
    offenders = [
        f"{path.relative_to(SOURCE)} imports {name}"
        for path in sorted((SOURCE / package).rglob("*.py"))
        for name in imported_modules(path)
        if name.startswith(forbidden)
    ]
    assert offenders == []


def test_wire_schemas_live_only_in_api() -> None:
    # Daraja's PascalCase bodies are msgspec Structs in api/schemas and nowhere else.
    offenders = [
        str(path.relative_to(SOURCE))
        for path in sorted(SOURCE.rglob("*.py"))
        if "msgspec" in imported_modules(path) and "api" not in path.relative_to(SOURCE).parts
    ]
    assert offenders == []
