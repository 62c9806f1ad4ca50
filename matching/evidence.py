"""Evidence as a reviewer reads it: per-signal log2 Bayes factors that add up.

A score is the prior plus one weight per signal, each a log2 Bayes factor of "same
person" against "different people". Every term is kept, with a plain sentence, so a
reviewer can see why a pair ranks where it does. A model fitted on reviewers' decisions
may carry a calibration of the total (see
:mod:`matching.evidence_model.recalibration`): the terms and their sum stay as they are,
and the probability is read from the calibrated total. A re-match then shares that
chance with the candidates competing for the same people (:mod:`matching.competition`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields, replace
from typing import Any, Protocol

from matching.competition import Competition


class TotalCalibration(Protocol):
    """What a score needs of a calibration of its total (log2 odds in, log2 odds out)."""

    @property
    def is_identity(self) -> bool:
        """True when it changes nothing."""
        ...

    def log_odds(self, total: float) -> float:
        """The calibrated log2 odds of a total weight."""
        ...

    def describe(self) -> str:
        """One line a reviewer can read."""
        ...

    def to_json(self) -> dict[str, Any]:
        """The stored form."""
        ...


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

    def to_json(self) -> dict[str, Any]:
        """Every field by name, the weight rounded to 4 places.

        Every field is a string, a number or None, so a shallow copy is the whole of it
        (``dataclasses.asdict``, which deep-copies, took a third of a re-match's time).
        """
        data = {name: getattr(self, name) for name in _field_names(type(self))}
        data["weight"] = round(self.weight, 4)
        return data


_FIELD_NAMES: dict[type[SignalEvidence], tuple[str, ...]] = {}


def _field_names(kind: type[SignalEvidence]) -> tuple[str, ...]:
    names = _FIELD_NAMES.get(kind)
    if names is None:
        names = _FIELD_NAMES[kind] = tuple(field.name for field in fields(kind))
    return names


@dataclass(frozen=True)
class Score:
    """The sum of the prior and every signal's weight, with the terms kept.

    ``calibration`` (None: none) maps the sum to calibrated log2 odds; ``competition``
    (None: none) shares them with the candidates competing for the same people, giving
    the log2 odds the probability is read from. The sum itself stays ``total_weight``.
    """

    model_version: str
    prior_weight: float
    signals: tuple[SignalEvidence, ...]
    calibration: TotalCalibration | None = None
    competition: Competition | None = None

    @property
    def evidence_weight(self) -> float:
        """The signals' weights alone, without the prior."""
        return sum(signal.weight for signal in self.signals)

    @property
    def total_weight(self) -> float:
        """Prior plus evidence, in log2 odds: higher is more likely the same person."""
        return self.prior_weight + self.evidence_weight

    @property
    def calibrated(self) -> bool:
        """True when a calibration other than the identity applies."""
        return self.calibration is not None and not self.calibration.is_identity

    @property
    def calibrated_weight(self) -> float:
        """The total after the calibration, in log2 odds (the total when there is none)."""
        if self.calibration is None:
            return self.total_weight
        return self.calibration.log_odds(self.total_weight)

    @property
    def final_weight(self) -> float:
        """The log2 odds the probability is read from: calibrated, then shared."""
        if self.competition is None:
            return self.calibrated_weight
        return self.competition.log_odds(self.calibrated_weight)

    @property
    def probability_alone(self) -> float:
        """The match probability of the calibrated total, before any sharing."""
        return _probability(self.calibrated_weight)

    @property
    def probability(self) -> float:
        """The match probability: of the calibrated total, shared with competitors."""
        return _probability(self.final_weight)

    def shared(self, competition: Competition) -> Score:
        """This score with its chance shared with competing candidates."""
        return replace(self, competition=competition)

    def competition_text(self) -> str | None:
        """Who else fits these people, and what sharing did, in one line (None: no
        sharing)."""
        if self.competition is None:
            return None
        return self.competition.describe(self.probability_alone, self.probability)

    def summary(self) -> str:
        """The evidence in one sentence, as a ratio of likelihoods.

        After a calibration, the ratio that together with the prior gives the probability
        shown, so the sentence and the probability agree.
        """
        return likelihood_sentence(self.calibrated_weight - self.prior_weight)

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready breakdown, stored with the candidate.

        ``total_weight`` is always the plain sum; a calibration other than the identity
        is added as ``calibration`` (slope, intercept, decisions, expected matches) with the
        ``calibrated_weight``; sharing as ``competition``, with ``probability_alone`` and
        the ``final_weight`` the probability comes from.
        """
        data: dict[str, Any] = {
            "model_version": self.model_version,
            "prior_weight": round(self.prior_weight, 4),
            "evidence_weight": round(self.evidence_weight, 4),
            "total_weight": round(self.total_weight, 4),
            "probability": self.probability,
            "summary": self.summary(),
            "signals": [signal.to_json() for signal in self.signals],
        }
        if self.calibration is not None and self.calibrated:
            data["calibration"] = self.calibration.to_json()
            data["calibrated_weight"] = round(self.calibrated_weight, 4)
        if self.competition is not None:
            data["competition"] = {
                **self.competition.to_json(),
                "probability_alone": self.probability_alone,
                "reason": self.competition_text(),
            }
            data["final_weight"] = round(self.final_weight, 4)
        return data


def _probability(log_odds: float) -> float:
    return float(1.0 / (1.0 + 2.0 ** (-log_odds)))


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
