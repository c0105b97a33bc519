"""Fellegi–Sunter match weights: m and u per comparison level, a prior, term frequencies.

``weight(level) = log2(m / u)``; a pair's match weight is the prior's log-odds plus the sum of
its levels' weights. For exact name agreement the u probability is the agreeing token's own
frequency (term-frequency adjustment: "Smith" agreeing says less than "Wiśniewski"); token
frequencies survive keyed hashing, so the adjustment needs no raw names. Models are versioned
JSON files: ``earlylink train`` writes one; ``default_model.json`` ships with earlylink.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cached_property
from importlib import resources
from pathlib import Path
from typing import Any, Protocol

from core.errors import ConfigurationError
from core.settings import Settings
from stream_processors.resolve import terms
from stream_processors.resolve.blocking import BlockingRule, rule_from
from stream_processors.resolve.comparisons import Comparison, comparison_from
from stream_processors.resolve.records import LinkRecord


class Terms(Protocol):
    """Where a model without a table of its own finds a token's frequency."""

    def weight(self, kind: str, token: bytes, m: float) -> float:
        """log2(m / the token's frequency)."""
        ...


# 1: probabilities only (comparisons, blocking and constraints were code); 2: the whole
# configuration; 3: a model without a term-frequency table weighs names by the store's counts
FORMAT = 3
TWIN_NAME_DICE = 0.5  # below this, two given names are different names, not a typo


@dataclass(frozen=True)
class Model:
    """A linkage configuration with its numbers: comparisons and their levels, m and u per
    level, the prior, the threshold, term frequencies, blocking rules and constraints."""

    probabilities: dict[str, dict[str, tuple[float, float]]]  # comparison -> level -> (m, u)
    prior: float  # probability that a random pair of records is a match
    link_threshold: float  # match weight at or above which a pair is linked
    tf: dict[str, dict[str, float]] = field(default_factory=dict)  # kind -> token hex -> freq
    tf_min_u: float = 1e-5
    notes: str = ""
    comparisons: tuple[Comparison, ...] = field(default_factory=lambda: _shipped().comparisons)
    blocking: tuple[BlockingRule, ...] = field(default_factory=lambda: _shipped().blocking)
    constraints: dict[str, float] = field(default_factory=lambda: dict(_shipped().constraints))
    tf_total: dict[str, int] = field(default_factory=dict)  # kind -> records counted for tf

    @cached_property
    def version(self) -> str:
        """A content hash: two models with the same numbers have the same version. A model
        weighing names by the store's counts also hashes how counts are bucketed (``terms``):
        its weights follow that too."""
        content = json.dumps(self.to_json(), sort_keys=True)
        if self.counts_terms:
            content += f"|term-buckets-{terms.BUCKET_BITS}"
        return hashlib.sha256(content.encode()).hexdigest()[:12]

    @property
    def prior_weight(self) -> float:
        return math.log2(self.prior / (1 - self.prior))

    @cached_property
    def blocking_version(self) -> str:
        """A hash of the blocking rules (and of how keys are made from them) and of the token
        kinds counted for term frequencies: the stored index must have been built with the
        same, or be rebuilt."""
        rules = json.dumps([r.spec for r in self.blocking], sort_keys=True)
        counted = ",".join(self.term_kinds)
        return hashlib.sha256(f"keys-v1|{rules}|terms-v1|{counted}".encode()).hexdigest()[:12]

    @cached_property
    def term_kinds(self) -> tuple[str, ...]:
        """The token kinds whose holders the resolver counts (``terms``): none for a model
        with a table of its own (the store's counts would go unused)."""
        return terms.kinds_of(self.comparisons) if self.counts_terms else ()

    @property
    def twin_name_dice(self) -> float:
        """Given names less similar than this are two names (twins), not one with a typo."""
        return self.constraints.get("twin_name_dice", TWIN_NAME_DICE)

    @cached_property
    def _by_name(self) -> dict[str, Comparison]:
        return {c.name: c for c in self.comparisons}

    def presence(self, record: LinkRecord) -> int:
        """A bit per comparison (in order) that ``record`` has the data for (``Comparison.
        holds``): worked out once per record of a batch, and-ed per pair (``present_in``);
        kept with the record, for this model."""
        mask: int | None = record.memo.get(self._presence_key)
        if mask is None:
            mask = 0
            for bit, comparison in enumerate(self.comparisons):
                if comparison.holds(record):
                    mask |= 1 << bit
            record.memo[self._presence_key] = mask
        return mask

    @cached_property
    def _presence_key(self) -> object:
        """This model's key in a record's memo (an object of its own: never another's)."""
        return object()

    def present_in(self, mask: int, a: LinkRecord, b: LinkRecord) -> tuple[Comparison, ...]:
        """The comparisons with data on both sides of a pair whose ``presence`` and-ed to
        ``mask``: the same, in order, as asking each ``Comparison.present``."""
        found = self._present_sets.get(mask)
        if found is None:  # at most one entry per subset of the comparisons
            among = tuple(c for bit, c in enumerate(self.comparisons) if mask >> bit & 1)
            pairwise = any(c.pairwise for c in among)
            found = self._present_sets[mask] = (among, pairwise)
        among, pairwise = found
        if not pairwise:
            return among
        return tuple(c for c in among if not c.pairwise or c.present(a, b))

    @cached_property
    def _present_sets(self) -> dict[int, tuple[tuple[Comparison, ...], bool]]:
        """Mask -> its comparisons, and whether one of them is a pair's property."""
        return {}

    def frequency(self, kind: str, token: bytes) -> float | None:
        """A token's share of the records counted, floored: a token seen once or never (not
        kept, for privacy) counts as seen once; None when no frequencies were counted."""
        total = self.tf_total.get(kind, 0)
        held = self.tf.get(kind, {}).get(token.hex())
        if held is None and not total:
            return None
        return max(held if held is not None else 1 / total, self.tf_min_u)

    @cached_property
    def level_weights(self) -> dict[tuple[str, str], tuple[float, str | None]]:
        """(comparison, level) -> (log2(m / u), the kind it adjusts by): asked per scored pair."""
        out: dict[tuple[str, str], tuple[float, str | None]] = {}
        for comparison, levels in self.probabilities.items():
            held = self._by_name.get(comparison)
            for level, (m, u) in levels.items():
                out[(comparison, level)] = (math.log2(m / u), held.tf_kind(level) if held else None)
        return out

    @property
    def live_records(self) -> int:
        """The records the model expects (its prior is one in this many): what the store's
        own term counts are shares of (``terms``)."""
        return max(2, round(1 / self.prior))

    def outgrown(self, held: int) -> str | None:
        """What to tell the operator when the store's ``held`` active records are over twice
        the records the model expects: its prior is then too high and (for a model without a
        table of its own) every name looks commoner than it is, so true pairs fall under the
        threshold. None within that."""
        expected = self.live_records
        if held <= 2 * expected:
            return None
        return (
            f"the store holds {held:,} active records, over twice the {expected:,} model"
            f" {self.version} expects (its prior is 1 in {expected:,}): set"
            " EARLYLINK_PROCESSOR_EXPECTED_RECORDS to the records the store will hold, or"
            " train a model, then run `earlylink relink`"
        )

    @property
    def counts_terms(self) -> bool:
        """Whether term frequencies come from the store (no table of its own)."""
        return not self.tf and not self.tf_total

    def counted_terms(self, records: Iterable[LinkRecord]) -> terms.TermCounts | None:
        """The store's counts once ``records`` are all in it, as the resolver would weigh
        names by them (a batch run: benchmarks, diagnostics); None for a model with a table."""
        if not self.counts_terms:
            return None
        return terms.counted(records, self.term_kinds, self.live_records, self.tf_min_u)

    def tf_kind(self, comparison: str, level: str) -> str | None:
        """The token kind a level adjusts by (None: it does not)."""
        held = self.level_weights.get((comparison, level))
        return held[1] if held else None

    def weight(
        self, comparison: str, level: str, token: bytes | None = None, live: Terms | None = None
    ) -> float:
        """A level's weight; with term frequencies, the agreeing ``token``'s: from the model's
        table, or else from ``live`` (the store's counts: ``terms.TermCounts``)."""
        if level == "null":
            return 0.0
        plain, kind = self.level_weights[(comparison, level)]
        if kind is None or token is None:
            return plain
        if self.counts_terms:
            return plain if live is None else live.weight(kind, token, self._m[comparison, level])
        freq = self.frequency(kind, token)
        return plain if freq is None else self.tf_weight(comparison, level, freq)

    @cached_property
    def most(self) -> dict[str, float]:
        """Comparison -> the most weight any of its levels can add (a level adjusting by term
        frequency: at the floor frequency, ``tf_min_u``, the rarest a token can count as):
        how far a pair's weight can still rise before that comparison is looked at. (The
        agreeing token's own weight is a closer bound, but costs more to look up per pair
        than it saves.)"""
        out: dict[str, float] = {}
        for (comparison, level), (plain, kind) in self.level_weights.items():
            if kind is not None:
                plain = max(plain, self.tf_weight(comparison, level, self.tf_min_u))
            out[comparison] = max(out.get(comparison, 0.0), plain)
        return out

    def tf_weight(self, comparison: str, level: str, frequency: float) -> float:
        """The weight of a level that adjusts by term frequency, for a token that frequent."""
        return math.log2(self._m[comparison, level] / frequency)

    @cached_property
    def _m(self) -> dict[tuple[str, str], float]:
        return {
            (c, lv): mu[0] for c, levels in self.probabilities.items() for lv, mu in levels.items()
        }

    def to_json(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "notes": self.notes,
            "prior": self.prior,
            "link_threshold": self.link_threshold,
            "constraints": dict(sorted(self.constraints.items())),
            "blocking": [r.spec for r in self.blocking],
            "comparisons": [self._comparison_json(c) for c in self.comparisons],
            "tf_min_u": self.tf_min_u,
            "tf_total": self.tf_total,
            "tf": self.tf,
        }

    def _comparison_json(self, comparison: Comparison) -> dict[str, Any]:
        numbers = self.probabilities.get(comparison.name, {})
        levels = [
            {**lv.spec, "m": numbers[lv.name][0], "u": numbers[lv.name][1]}
            if lv.name in numbers
            else dict(lv.spec)
            for lv in comparison.levels
        ]
        last = comparison.otherwise
        levels.append({"name": last, **dict(zip(("m", "u"), numbers.get(last, ()), strict=False))})
        return {**comparison.spec, "levels": levels}

    @classmethod
    def from_json(cls, data: dict[str, Any], base: Model | None = None) -> Model:
        """A model from its file; a format-1 file (probabilities only) takes the comparisons,
        blocking rules and constraints of ``base`` (the shipped configuration)."""
        try:
            if "comparisons" in data:
                comparisons = tuple(comparison_from(c) for c in data["comparisons"])
                probabilities = {
                    c["name"]: {lv["name"]: (float(lv["m"]), float(lv["u"])) for lv in c["levels"]}
                    for c in data["comparisons"]
                }
                blocking = tuple(rule_from(r) for r in data["blocking"])
                constraints = {k: float(v) for k, v in data.get("constraints", {}).items()}
            else:
                shipped = base or _shipped()
                comparisons, blocking = shipped.comparisons, shipped.blocking
                constraints = dict(shipped.constraints)
                probabilities = {
                    c: {lv: (float(mu[0]), float(mu[1])) for lv, mu in levels.items()}
                    for c, levels in data["probabilities"].items()
                }
            return cls(
                probabilities,
                float(data["prior"]),
                float(data["link_threshold"]),
                data.get("tf", {}),
                float(data.get("tf_min_u", 1e-5)),
                data.get("notes", ""),
                comparisons,
                blocking,
                constraints,
                {k: int(v) for k, v in data.get("tf_total", {}).items()},
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


_SHIPPED: list[Model] = []


def _shipped() -> Model:
    """The shipped configuration, parsed once."""
    if not _SHIPPED:
        _SHIPPED.append(Model.from_json(_default_json(), base=None))
    return _SHIPPED[0]


def configured_model(settings: Settings) -> Model:
    """The model ``settings`` name: their model file, or the shipped model with its prior
    set from the expected number of records (``EARLYLINK_PROCESSOR_EXPECTED_RECORDS``: a
    random pair of N records is one person about once in N, when each record has about one
    other of its person). Either way a fixed model: a change is a new model version, which
    the resolver records and ``earlylink relink`` applies."""
    processor = settings.processor
    model = load_model(processor.model_path)
    if processor.model_path is None and processor.expected_records is not None:
        model = dataclasses.replace(model, prior=1 / processor.expected_records)
    return model


def load_model(path: Path | None = None) -> Model:
    """The model at ``path``, or the default shipped with earlylink. A file of format 1
    (probabilities only) takes the shipped comparisons, and a comparison or level it does not
    have (trained before it existed) takes the shipped numbers."""
    if path is None:
        return _shipped()
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise ConfigurationError(f"cannot read model {path}: {exc}") from exc
    if not isinstance(data, dict) or not (
        isinstance(data.get("probabilities"), dict) or isinstance(data.get("comparisons"), list)
    ):
        raise ConfigurationError(f"not a valid model file: {path} has no comparisons")
    if "comparisons" not in data:
        for name, levels in _shipped().probabilities.items():
            held = data["probabilities"].setdefault(name, {})
            for level, mu in levels.items():
                held.setdefault(level, list(mu))
    return Model.from_json(data)
