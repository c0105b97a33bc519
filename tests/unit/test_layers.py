"""The packages import each other only downward, in the order docs/architecture.md draws:

core -> schemas -> sink -> stream_processors -> producers -> earlylink

(each may import those to its left, never one to its right; ``core`` imports none of them).
Imports inside functions count too: a lazy import is still a dependency. Run by ``make lint``.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LAYERS = ("core", "schemas", "sink", "stream_processors", "producers", "earlylink")


def imports_of(path: Path) -> list[tuple[int, str]]:
    """(line, module) of every absolute import in the file, at any depth."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append((node.lineno, node.module))
    return found


def against_the_order(package: str) -> list[str]:
    rank = LAYERS.index(package)
    wrong = []
    for path in sorted((ROOT / package).rglob("*.py")):
        for line, module in imports_of(path):
            top = module.split(".")[0]
            if top in LAYERS and LAYERS.index(top) > rank:
                wrong.append(f"{path.relative_to(ROOT)}:{line} imports {module}")
    return wrong


@pytest.mark.parametrize("package", LAYERS)
def test_imports_go_only_downward(package: str) -> None:
    assert against_the_order(package) == []


def test_the_check_sees_an_upward_import(tmp_path: Path) -> None:
    module = tmp_path / "m.py"
    module.write_text("def f():\n    from earlylink.cli import app\n    import sink.graph\n")
    assert imports_of(module) == [(2, "earlylink.cli"), (3, "sink.graph")]


def test_every_package_is_in_a_layer() -> None:
    packages = {p.parent.name for p in ROOT.glob("*/__init__.py")} - {"tests", "bench"}
    assert packages <= set(LAYERS), packages - set(LAYERS)


# psycopg lives in sink/ (the one place SQL is written); core may use its conninfo, a parser
# and writer of connection strings that opens no connection and runs no SQL
PSYCOPG_ALLOWED = {"core/settings.py": {"psycopg.conninfo"}}


def psycopg_outside_sink() -> list[str]:
    wrong = []
    for folder in (*LAYERS, "bench"):
        if folder == "sink":
            continue
        for path in sorted((ROOT / folder).rglob("*.py")):
            name = str(path.relative_to(ROOT))
            allowed = PSYCOPG_ALLOWED.get(name, set())
            for line, module in imports_of(path):
                if module.split(".")[0] == "psycopg" and module not in allowed:
                    wrong.append(f"{name}:{line} imports {module}")
    return wrong


def test_psycopg_only_in_sink() -> None:
    assert psycopg_outside_sink() == []
