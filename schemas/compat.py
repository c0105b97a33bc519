"""Compatibility rules between versions of one contract, checked by Avro schema resolution.

BACKWARD (the rule for earlylink's contracts): a consumer on the newer version reads data written
with any older version. FORWARD is checked too: a consumer still on an older version reads data
written with a newer one, so producers can upgrade first.
"""

from __future__ import annotations

import io

from fastavro import schemaless_reader, schemaless_writer
from fastavro.utils import generate_many

from schemas.catalogue import Catalogue, SchemaVersion

SAMPLES = 25


def reads(writer: SchemaVersion, reader: SchemaVersion, samples: int = SAMPLES) -> bool:
    """True when random data written with ``writer`` is read with ``reader`` without error."""
    for record in generate_many(writer.parsed, samples):
        buffer = io.BytesIO()
        schemaless_writer(buffer, writer.parsed, record)
        buffer.seek(0)
        try:
            schemaless_reader(buffer, writer.parsed, reader.parsed)
        except Exception:  # noqa: BLE001 - fastavro signals resolution failures with several types
            return False
    return True


def violations(contracts: Catalogue) -> list[str]:
    """Every pair of versions that breaks backward or forward compatibility."""
    broken = []
    for event_type in contracts.event_types:
        versions = contracts.versions(event_type)
        for i, older in enumerate(versions):
            for newer in versions[i + 1 :]:
                if not reads(older, newer):
                    broken.append(f"{event_type} v{newer.version} cannot read v{older.version}")
                if not reads(newer, older):
                    broken.append(f"{event_type} v{older.version} cannot read v{newer.version}")
    return broken
