"""Fellegi–Sunter match weights: m and u per comparison level, a prior, term frequencies.

``weight(level) = log2(m / u)``; a pair's match weight is the prior's log-odds plus the sum of
its levels' weights. For exact name agreement the u probability is the agreeing token's own
frequency (term-frequency adjustment: "Smith" agreeing says less than "Wiśniewski"); token
frequencies survive keyed hashing, so the adjustment needs no raw names. Models are versioned
JSON files: ``earlylink train`` writes one; ``default_model.json`` ships with earlylink.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
from dataclasses import dataclass, field
from functools import cached_property
from importlib import resources
from pathlib import Path
from typing import Any

from earlylink.errors import ConfigurationError

TF_COMPARISONS = {"given": "gname", "family": "fname"}  # comparison -> token kind, on "exact"


@dataclass(frozen=True)
class Model:
    """A trained (or default) linkage model."""

    probabilities: dict[str, dict[str, tuple[float, float]]]  # comparison -> level -> (m, u)
    prior: float  # probability that a random pair of records is a match
    link_threshold: float  # match weight at or above which a pair is linked
    tf: dict[str, dict[str, float]] = field(default_factory=dict)  # kind -> token hex -> freq
    tf_min_u: float = 1e-5
    notes: str = ""

    @cached_property
    def version(self) -> str:
        """A content hash: two models with the same numbers have the same version."""
        return hashlib.sha256(json.dumps(self.to_json(), sort_keys=True).encode()).hexdigest()[:12]

    @property
    def prior_weight(self) -> float:
        return math.log2(self.prior / (1 - self.prior))

    def weight(self, comparison: str, level: str, token: bytes | None = None) -> float:
        if level == "null":
            return 0.0
        m, u = self.probabilities[comparison][level]
        if level == "exact" and token is not None and comparison in TF_COMPARISONS:
            freq = self.tf.get(TF_COMPARISONS[comparison], {}).get(token.hex())
            if freq is not None:
                u = max(freq, self.tf_min_u)
        return math.log2(m / u)

    def to_json(self) -> dict[str, Any]:
        return {
            "probabilities": {
                c: {lv: list(mu) for lv, mu in levels.items()}
                for c, levels in self.probabilities.items()
            },
            "prior": self.prior,
            "link_threshold": self.link_threshold,
            "tf": self.tf,
            "tf_min_u": self.tf_min_u,
            "notes": self.notes,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Model:
        try:
            return cls(
                {
                    c: {lv: (float(mu[0]), float(mu[1])) for lv, mu in levels.items()}
                    for c, levels in data["probabilities"].items()
                },
                float(data["prior"]),
                float(data["link_threshold"]),
                data.get("tf", {}),
                float(data.get("tf_min_u", 1e-5)),
                data.get("notes", ""),
            )
        except (KeyError, TypeError, ValueError, IndexError) as exc:
            raise ConfigurationError(f"not a valid model file: {exc}") from exc

    def save(self, path: Path) -> None:
        """Write the model, readable by its owner only: its term frequencies are a profile of
        the linked population's name tokens, as secret as the tokens themselves."""
        text = json.dumps({"version": self.version, **self.to_json()}, indent=1)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(text)
        os.chmod(path, 0o600)  # also when the file was there before


def _default_json() -> dict[str, Any]:
    text = resources.files("stream_processors.resolve").joinpath("default_model.json").read_text()
    data: dict[str, Any] = json.loads(text)
    return data


def load_model(path: Path | None = None) -> Model:
    """The model at ``path``, or the default shipped with earlylink. A comparison or level the
    file does not have (a model trained before it existed) takes the default's numbers."""
    default = _default_json()
    if path is None:
        return Model.from_json(default)
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise ConfigurationError(f"cannot read model {path}: {exc}") from exc
    if not isinstance(data, dict) or not isinstance(data.get("probabilities"), dict):
        raise ConfigurationError(f"not a valid model file: {path} has no probabilities")
    for name, levels in default["probabilities"].items():
        held = data["probabilities"].setdefault(name, {})
        for level, mu in levels.items():
            held.setdefault(level, mu)
    return Model.from_json(data)
