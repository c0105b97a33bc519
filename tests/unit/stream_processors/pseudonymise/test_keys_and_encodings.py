"""Tokens are stable, keyed, field-separated and versioned; encodings keep similarity."""

from __future__ import annotations

import pytest

from core.errors import ConfigurationError
from stream_processors.pseudonymise.bloom import Encoder, dice
from stream_processors.pseudonymise.keys import TOKEN_BYTES, Keyring, mac

A = b"a" * 32
B = b"b" * 32


def test_tokens_are_stable_and_sized() -> None:
    ring = Keyring({1: A}, 1)
    assert ring.token("family", "okafor") == Keyring({1: A}, 1).token("family", "okafor")
    assert len(ring.token("family", "okafor")) == TOKEN_BYTES


def test_mac_is_hmac_sha256() -> None:
    """RFC 4231 test cases 1 and 2, twice each (the keyed context is kept and copied: a second
    use must not carry the first's data)."""
    for _ in range(2):
        assert mac(b"\x0b" * 20, b"Hi There").hex() == (
            "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"
        )
        assert mac(b"Jefe", b"what do ya want for nothing?").hex() == (
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        )


def test_tokens_depend_on_the_key() -> None:
    assert Keyring({1: A}, 1).token("family", "okafor") != Keyring({1: B}, 1).token(
        "family", "okafor"
    )


def test_tokens_are_separated_by_field() -> None:
    ring = Keyring({1: A}, 1)
    assert ring.token("family", "smith") != ring.token("given", "smith")


def test_versions_chain_and_rekey_in_place() -> None:
    v1 = Keyring({1: A}, 1)
    v2 = Keyring({1: A, 2: B}, 2)
    old = v1.token("dob", "2024-03-14")
    new = v2.token("dob", "2024-03-14")
    assert old != new
    assert v2.lift("dob", old, 1, 2) == new  # the store can be re-keyed without raw data
    assert v2.token("dob", "2024-03-14", 1) == old
    assert Keyring({1: A, 2: B, 3: A}, 3).lift("dob", old, 1, 3) == Keyring(
        {1: A, 2: B, 3: A}, 3
    ).token("dob", "2024-03-14")


def test_identifiers_stay_under_the_first_version() -> None:
    """Record keys, item keys and event ids are the graph's keys: a rotation keeps them."""
    assert Keyring({1: A, 2: B}, 2).identifier("record", "s|1") == Keyring({1: A}, 1).token(
        "record", "s|1"
    )


def test_a_version_without_a_secret_is_refused() -> None:
    with pytest.raises(ConfigurationError, match="version 3"):
        Keyring({1: A, 2: B}, 2).token("dob", "2024-03-14", 3)


def test_encodings_chain_by_a_permutation_that_keeps_dice() -> None:
    ring = Keyring({1: A, 2: B}, 2)
    encoder = Encoder(ring)
    one, two = encoder.encode("name", "katherine"), encoder.encode("name", "catherine")
    one_v2, two_v2 = encoder.encode("name", "katherine", 2), encoder.encode("name", "catherine", 2)
    assert one_v2 != one and encoder.lift("name", one, 1, 2) == one_v2
    assert dice(one_v2, two_v2) == dice(one, two) and 0.5 < dice(one, two) < 1
    assert int.from_bytes(one_v2, "little").bit_count() == int.from_bytes(one, "little").bit_count()
    assert dice(one_v2, one) < 0.5  # the old encoding says little about the new one
    other = Encoder(Keyring({1: A, 2: A}, 2))  # another secret, another permutation
    assert other.encode("name", "katherine", 2) != one_v2


def test_bad_keyrings_are_refused() -> None:
    with pytest.raises(ConfigurationError):
        Keyring({}, 1)
    with pytest.raises(ConfigurationError):
        Keyring({1: b"short"}, 1)
    with pytest.raises(ConfigurationError):
        Keyring({1: A, 3: B}, 3)


def test_secret_never_in_repr() -> None:
    assert "aaaa" not in repr(Keyring({1: A}, 1))


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("katherine", "catherine"),
        ("mohammed", "mohamed"),
        ("okafor", "okafur"),
        ("wisniewski", "wisnieski"),
        ("oluwaseun", "oluwasuen"),
        ("johnson", "jonson"),
    ],
)
def test_similar_names_have_high_dice(a: str, b: str) -> None:
    encoder = Encoder(Keyring({1: A}, 1))
    # one transposition in a 9-letter name leaves 7 of 10 bigrams: Dice 0.7 before folding
    assert dice(encoder.encode("given", a), encoder.encode("given", b)) > 0.6


@pytest.mark.parametrize(
    ("a", "b"), [("katherine", "oluwaseun"), ("smith", "kowalczyk"), ("amara", "jakub")]
)
def test_different_names_have_low_dice(a: str, b: str) -> None:
    encoder = Encoder(Keyring({1: A}, 1))
    assert dice(encoder.encode("given", a), encoder.encode("given", b)) < 0.5


def test_encodings_are_keyed_and_identical_values_match() -> None:
    one, two = Encoder(Keyring({1: A}, 1)), Encoder(Keyring({1: B}, 1))
    assert dice(one.encode("family", "okafor"), one.encode("family", "okafor")) == 1.0
    assert one.encode("family", "okafor") != two.encode("family", "okafor")
    assert one.encode("family", "okafor") != one.encode("given", "okafor")
