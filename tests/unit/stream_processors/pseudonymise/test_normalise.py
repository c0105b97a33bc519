"""Normalisation of real-world names, postcodes and placeholders."""

from __future__ import annotations

import pytest

from stream_processors.pseudonymise.normalise import normalise_name, normalise_postcode

FAMILY = [
    ("O'Brien", "obrien"),
    ("O’Brien", "obrien"),
    ("o brien", "brien"),
    ("da Silva", "silva"),
    ("DA SILVA", "silva"),
    ("dos Santos", "santos"),
    ("de Sousa", "sousa"),
    ("van der Berg", "berg"),
    ("Ó Súilleabháin", "suilleabhain"),
    ("Ní Bhriain", "bhriain"),
    ("Mac Giolla", "giolla"),
    ("ap Rhys", "rhys"),
    ("Al-Hashimi", "hashimi"),
    ("Wiśniewski", "wisniewski"),
    ("Dąbrowski", "dabrowski"),
    ("Zieliński", "zielinski"),
    ("Łukasiewicz", "lukasiewicz"),
    ("Müller", "muller"),
    ("Gonçalves", "goncalves"),
    ("Okafor-Adeyemi", "okaforadeyemi"),
    ("  Smith  ", "smith"),
    ("Horváth", "horvath"),
    ("Øyen", "oyen"),
    ("Strauß", "strauss"),
]

GIVEN = [
    ("Siobhán", "siobhan"),
    ("Mary-Jane", "mary"),
    ("Mrs Ngozi", "ngozi"),
    ("Dr. Amara", "amara"),
    ("Oluwaseun Temitope", "oluwaseun"),
    ("JOÃO", "joao"),
    ("Małgorzata", "malgorzata"),
    ("Zoë", "zoe"),
]

PLACEHOLDERS = [
    "Baby",
    "baby",
    "BABY",
    "Baby Boy",
    "Infant of",
    "Infant of Smith",
    "Unknown",
    "not known",
    "Twin 1",
    "TWIN 2",
    "B/O",
    "",
    "   ",
    "Mr",
    "NK",
    "?",
]


@pytest.mark.parametrize(("raw", "core"), FAMILY)
def test_family_names(raw: str, core: str) -> None:
    name = normalise_name(raw, is_family=True)
    assert name is not None and name.core == core


@pytest.mark.parametrize(("raw", "first"), GIVEN)
def test_given_names_first_part(raw: str, first: str) -> None:
    name = normalise_name(raw)
    assert name is not None and name.first == first


def test_several_given_names_are_kept() -> None:
    name = normalise_name("Oluwaseun  Temitope")
    assert name is not None and name.parts == ("oluwaseun", "temitope")
    assert name.full == "oluwaseuntemitope"


@pytest.mark.parametrize("raw", PLACEHOLDERS)
def test_placeholders_are_not_names(raw: str) -> None:
    assert normalise_name(raw) is None


def test_particles_alone_are_still_a_name() -> None:
    name = normalise_name("De", is_family=True)
    assert name is not None and name.core == "de"


@pytest.mark.parametrize(
    ("raw", "full", "sector", "district"),
    [
        ("SE11 5QY", "SE11 5QY", "SE11 5", "SE11"),
        ("se115qy", "SE11 5QY", "SE11 5", "SE11"),
        ("  sw9   7aa ", "SW9 7AA", "SW9 7", "SW9"),
        ("EC1A 1BB", "EC1A 1BB", "EC1A 1", "EC1A"),
        ("W1A0AX", "W1A 0AX", "W1A 0", "W1A"),
        ("M1 1AE", "M1 1AE", "M1 1", "M1"),
    ],
)
def test_postcodes_canonical(raw: str, full: str, sector: str, district: str) -> None:
    postcode = normalise_postcode(raw)
    assert postcode is not None
    assert (postcode.full, postcode.sector, postcode.outward) == (full, sector, district)


@pytest.mark.parametrize("raw", ["", "SE11", "5QY", "SE11 5Q", "12345", "SE11 5QYY", "ZZ"])
def test_malformed_postcodes(raw: str) -> None:
    assert normalise_postcode(raw) is None
