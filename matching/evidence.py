"""Evidence as a reviewer reads it: per-signal log2 Bayes factors that add up.

A score is the prior plus one weight per signal, each a log2 Bayes factor of "same
person" against "different people". Every term is kept, with a plain sentence, so a
reviewer can see why a pair ranks where it does.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any


@dataclass(frozen=True)
class SignalEvidence:
    """One signal's contribution: its level, its weight and why."""

    signal: str
    level: str
    weight: float
    detail: str
    value: float | None = None

    @property
    def bayes_factor(self) -> float:
        """How many times more likely this evidence is for the same person."""
        return float(2.0**self.weight)


@dataclass(frozen=True)
class Score:
    """The sum of the prior and every signal's weight, with the terms kept."""

    model_version: str
    prior_weight: float
    signals: tuple[SignalEvidence, ...]

    @property
    def evidence_weight(self) -> float:
        """The signals' weights alone, without the prior."""
        return sum(signal.weight for signal in self.signals)

    @property
    def total_weight(self) -> float:
        """Prior plus evidence, in log2 odds: higher is more likely the same person."""
        return self.prior_weight + self.evidence_weight

    @property
    def probability(self) -> float:
        """The match probability that the total weight stands for."""
        return float(1.0 / (1.0 + 2.0 ** (-self.total_weight)))

    def summary(self) -> str:
        """The evidence in one sentence, as a ratio of likelihoods."""
        return likelihood_sentence(self.evidence_weight)

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready breakdown, stored with the candidate."""
        return {
            "model_version": self.model_version,
            "prior_weight": round(self.prior_weight, 4),
            "evidence_weight": round(self.evidence_weight, 4),
            "total_weight": round(self.total_weight, 4),
            "probability": self.probability,
            "summary": self.summary(),
            "signals": [
                {**asdict(signal), "weight": round(signal.weight, 4)} for signal in self.signals
            ],
        }


def likelihood_sentence(weight: float) -> str:
    """'about 40 times more likely the same person than not' for a log2 weight."""
    factor = 2.0**weight
    if 0.8 <= factor <= 1.25:
        return "the evidence neither favours nor rules out the same person"
    if factor > 1:
        return f"about {_round_ratio(factor)} times more likely the same person than not"
    return f"about {_round_ratio(1 / factor)} times more likely different people"


def _round_ratio(value: float) -> str:
    if value >= 1e6:
        return f"{value:.1e}"
    if value < 10:
        return f"{value:.1f}".rstrip("0").rstrip(".")
    digits = int(math.floor(math.log10(value))) - 1
    return f"{round(value, -digits):,.0f}"
