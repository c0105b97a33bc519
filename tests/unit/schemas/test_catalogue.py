"""The contract catalogue: every schema parses, is documented, and evolves compatibly."""

from __future__ import annotations

import io
import itertools
from typing import Any

import pytest
from fastavro import schemaless_reader, schemaless_writer

from core.errors import ContractError
from schemas.catalogue import Catalogue, catalogue, load_from_files
from schemas.compat import reads, violations
from schemas.models import MODELS

EXPECTED = {"PersonRecord", "ServiceContact", "OutcomeMeasure", "ConsentChange", "RecordRetraction"}


def _fields(schema: Any) -> list[dict[str, Any]]:
    """Every field of every record inside a schema definition."""
    found: list[dict[str, Any]] = []
    if isinstance(schema, dict):
        if schema.get("type") == "record":
            for field in schema["fields"]:
                found.append(field)
                found.extend(_fields(field["type"]))
        else:
            found.extend(_fields(schema.get("items")))
    elif isinstance(schema, list):
        for branch in schema:
            found.extend(_fields(branch))
    return found


def test_catalogue_has_every_event_type() -> None:
    assert set(catalogue().event_types) == EXPECTED | {
        "PseudoRecord",
        "PseudoActivity",
        "IdentityChange",
    }
    assert set(MODELS) == EXPECTED


@pytest.mark.parametrize("event_type", [*sorted(EXPECTED), "PseudoRecord", "PseudoActivity"])
def test_every_field_is_documented_and_has_an_envelope(event_type: str) -> None:
    for version in catalogue().versions(event_type):
        fields = _fields(version.definition)
        assert fields[0]["name"] == "envelope"
        undocumented = [f["name"] for f in fields if not f.get("doc")]
        assert undocumented == [], f"{event_type} v{version.version}"


def test_fingerprints_are_unique() -> None:
    prints = [v.fingerprint for t in catalogue().event_types for v in catalogue().versions(t)]
    assert len(prints) == len(set(prints))


def test_the_digest_changes_with_the_versions_a_catalogue_reads() -> None:
    shipped = catalogue()
    versions = [v for t in shipped.event_types for v in shipped.versions(t)]
    assert Catalogue(list(reversed(versions))).digest == shipped.digest  # order does not count
    assert Catalogue(versions[:-1]).digest != shipped.digest
    assert len(shipped.digest) == 16 and int(shipped.digest, 16) >= 0


def test_latest_is_the_highest_version_whatever_the_order_given() -> None:
    shipped = catalogue()
    versions = [v for t in shipped.event_types for v in shipped.versions(t)]
    for given in (versions, list(reversed(versions))):
        built = Catalogue(given)
        for event_type in shipped.event_types:
            newest = max(v.version for v in versions if v.event_type == event_type)
            assert built.latest(event_type).version == newest
    assert shipped.latest("PseudoRecord").version >= 4
    with pytest.raises(ContractError, match="unknown event type 'Nope'"):
        shipped.latest("Nope")


def _sample(event_type: str, make_person: Any) -> dict[str, Any]:
    assert event_type == "PersonRecord"
    return dict(make_person(former_family_names=["Adeyemi"]).to_avro())


def test_person_record_versions_read_each_other(make_person: Any) -> None:
    """Backward and forward: a v1 reader reads v2 data and a v2 reader reads v1 data."""
    versions = catalogue().versions("PersonRecord")
    assert len(versions) >= 2
    record = _sample("PersonRecord", make_person)
    for writer, reader in itertools.permutations(versions, 2):
        buffer = io.BytesIO()
        schemaless_writer(buffer, writer.parsed, record)
        buffer.seek(0)
        read = schemaless_reader(buffer, writer.parsed, reader.parsed)
        assert isinstance(read, dict)
        assert read["record_id"] == record["record_id"]
        if reader.version >= 2:
            expected = record["former_family_names"] if writer.version >= 2 else []
            assert read["former_family_names"] == expected
        else:
            assert "former_family_names" not in read


def test_all_versions_are_backward_and_forward_compatible() -> None:
    assert violations(catalogue()) == []


def test_incompatible_change_is_detected() -> None:
    """The check can fail: a new required field without a default breaks backward reading."""
    envelope = (
        '{"type":"record","name":"Envelope","namespace":"org.earlylink.events",'
        '"fields":[{"name":"event_id","type":"string"}]}'
    )
    v1 = (
        '{"type":"record","name":"X","namespace":"org.earlylink.events","fields":['
        '{"name":"envelope","type":"org.earlylink.events.Envelope"}]}'
    )
    v2 = (
        '{"type":"record","name":"X","namespace":"org.earlylink.events","fields":['
        '{"name":"envelope","type":"org.earlylink.events.Envelope"},'
        '{"name":"required","type":"string"}]}'
    )
    cat: Catalogue = load_from_files({"Envelope.avsc": envelope, "X.v1.avsc": v1, "X.v2.avsc": v2})
    old, new = cat.versions("X")
    assert reads(new, old)  # an old reader ignores the new field
    assert not reads(old, new)  # a new reader cannot fill the required field
    assert violations(cat) == ["X v2 cannot read v1"]
