"""Migrations are numbered, unique and shipped in the package."""

from __future__ import annotations

from sink.migrate import available


def test_migrations_are_numbered_from_one_without_gaps() -> None:
    numbers = [m.number for m in available()]
    assert numbers == list(range(1, len(numbers) + 1))


def test_migrations_are_repeatable_sql() -> None:
    for migration in available():
        for line in migration.sql.splitlines():
            if line.strip().upper().startswith("CREATE TABLE "):
                assert "IF NOT EXISTS" in line.upper(), f"{migration.name}: {line}"
