"""Bloom encodings: similar names stay similar, and their bits keep no structure an attacker
without the key can enumerate."""

from __future__ import annotations

from stream_processors.pseudonymise.bloom import Encoder, dice
from stream_processors.pseudonymise.keys import Keyring

ENCODER = Encoder(Keyring({1: b"b" * 32}, 1))


def test_similar_names_stay_close_and_different_ones_apart() -> None:
    same = dice(ENCODER.encode("name", "catherine"), ENCODER.encode("name", "catherine"))
    typo = dice(ENCODER.encode("name", "catherine"), ENCODER.encode("name", "katherine"))
    other = dice(ENCODER.encode("name", "catherine"), ENCODER.encode("name", "oluwaseun"))
    assert same == 1.0 and typo > 0.7 > 0.4 > other


def test_no_bigram_leaves_an_arithmetic_progression_an_attacker_can_enumerate() -> None:
    """Double hashing's patterns (start + i * step mod 512) are few enough to try them all
    without the key; independent keyed positions leave none of them in an encoding."""
    import numpy as np

    from bench.privacy_attacks import candidate_patterns

    encoder = ENCODER
    names = ["ashdown", "okafor", "nguyen", "smith", "oconnor", "li", "featherstonehaugh"]
    bits = np.array(
        [
            np.unpackbits(
                np.frombuffer(encoder.encode("name", n), dtype=np.uint8), bitorder="little"
            )
            for n in names
        ],
        dtype=bool,
    )
    patterns = candidate_patterns()
    found = sum(
        int(bits[:, patterns[i : i + 8192]].all(axis=2).sum())
        for i in range(0, len(patterns), 8192)
    )
    assert found == 0
