"""Linkage quality against ground truth: pairwise precision/recall/F1 and cluster measures.

Pure: takes the true person of each record and the predicted person of each record.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass


def _pairs(sizes: Counter[object]) -> int:
    return sum(n * (n - 1) // 2 for n in sizes.values())


@dataclass(frozen=True)
class Quality:
    records: int
    true_persons: int
    predicted_persons: int
    precision: float
    recall: float
    f1: float
    exact_clusters: float  # share of true persons recovered exactly (same records, no others)

    def rows(self) -> list[tuple[str, str]]:
        return [
            ("records evaluated", f"{self.records:,}"),
            ("true persons", f"{self.true_persons:,}"),
            ("predicted persons", f"{self.predicted_persons:,}"),
            ("pairwise precision", f"{self.precision:.4f}"),
            ("pairwise recall", f"{self.recall:.4f}"),
            ("pairwise F1", f"{self.f1:.4f}"),
            ("true persons recovered exactly", f"{self.exact_clusters:.2%}"),
        ]


def pairwise(truth: dict[str, str], predicted: dict[str, str]) -> Quality:
    """``truth`` and ``predicted`` map record -> person; only records in both are counted."""
    keys = sorted(set(truth) & set(predicted))
    both = Counter((truth[k], predicted[k]) for k in keys)
    true_sizes = Counter(truth[k] for k in keys)
    pred_sizes = Counter(predicted[k] for k in keys)
    tp = _pairs(both)  # type: ignore[arg-type]
    pred_pairs, true_pairs = _pairs(pred_sizes), _pairs(true_sizes)  # type: ignore[arg-type]
    precision = tp / pred_pairs if pred_pairs else 1.0
    recall = tp / true_pairs if true_pairs else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    exact = sum(1 for (t, p), n in both.items() if true_sizes[t] == n and pred_sizes[p] == n)
    return Quality(
        len(keys),
        len(true_sizes),
        len(pred_sizes),
        precision,
        recall,
        f1,
        exact / len(true_sizes) if true_sizes else 1.0,
    )


def pairs_together(pairs: list[tuple[str, str]], predicted: dict[str, str]) -> tuple[int, int]:
    """(how many pairs are in one predicted person, how many pairs could be checked)."""
    checked = [(a, b) for a, b in pairs if a in predicted and b in predicted]
    return sum(1 for a, b in checked if predicted[a] == predicted[b]), len(checked)
