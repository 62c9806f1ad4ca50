"""The numbers of a Fellegi-Sunter model: the prior and each level's m and u.

For every comparison and every stratum of it, ``m[k]`` is the probability that a true
pair falls in level ``k`` and ``u[k]`` that a pair of different people does (the null
level has neither: it is worth nothing). A level's weight is ``log2(m / u)``, a log2
Bayes factor; the prior ``lambda`` is the probability that a pair taken at random is
the same person. A :class:`~.recalibration.Recalibration` fitted on reviewers' decisions
turns the summed log2 odds into calibrated ones (identity until reviewers have decided
pairs). Parameters are immutable: fitting returns new ones.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from types import MappingProxyType
from typing import Any, Final

from matching.evidence_model.face_curve import FaceCurve
from matching.evidence_model.recalibration import IDENTITY, Recalibration

VERSION_PATTERN: Final = re.compile(r"^fs-\d{4}\.\d{2}\.\d{2}-\d+$")
"""Model versions look like ``fs-2026.11.28-1``: the date fitted and a serial."""


@dataclass(frozen=True)
class StratumParams:
    """m and u of a comparison's non-null levels, in one circumstance.

    A stratum with a ``curve`` (the face's) weighs a pair by the curve at the pair's
    measured value; its levels' m and u then only name and count the pairs.
    """

    label: str
    m: tuple[float, ...]
    u: tuple[float, ...]
    note: str = ""
    curve: FaceCurve | None = None

    def weights(self) -> tuple[float, ...]:
        """log2 Bayes factor of each non-null level."""
        return tuple(math.log2(m / u) for m, u in zip(self.m, self.u, strict=True))


@dataclass(frozen=True)
class ComparisonParams:
    """The parameters of one comparison: its levels' labels and a stratum each.

    ``tf_reference`` maps a term-frequency-adjusted level's label to the frequency of a
    typical agreeing value: a value that common gets the level's plain weight, a rarer
    one more, a commoner one less.
    """

    name: str
    levels: tuple[str, ...]
    strata: tuple[StratumParams, ...]
    tf_reference: Mapping[str, float] = field(default_factory=lambda: MappingProxyType({}))
    note: str = ""

    def stratum(self, label: str) -> StratumParams:
        """The stratum with this label (KeyError if none)."""
        for stratum in self.strata:
            if stratum.label == label:
                return stratum
        raise KeyError(f"comparison {self.name!r} has no stratum {label!r}")

    def with_stratum(self, stratum: StratumParams) -> ComparisonParams:
        """A copy with one stratum replaced (matched by label)."""
        self.stratum(stratum.label)
        return replace(
            self,
            strata=tuple(stratum if s.label == stratum.label else s for s in self.strata),
        )


@dataclass(frozen=True)
class ModelParams:
    """Everything a fitted model file holds."""

    version: str
    prior: float
    comparisons: tuple[ComparisonParams, ...]
    tf_minimum: float = 1e-7
    tf_max_adjustment: float = 8.0
    description: str = ""
    notes: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    history: tuple[Mapping[str, Any], ...] = ()
    recalibration: Recalibration = IDENTITY

    @property
    def prior_weight(self) -> float:
        """The prior as log2 odds."""
        return math.log2(self.prior / (1.0 - self.prior))

    def comparison(self, name: str) -> ComparisonParams:
        """The comparison with this name (KeyError if none)."""
        for comparison in self.comparisons:
            if comparison.name == name:
                return comparison
        raise KeyError(f"the model has no comparison {name!r}")

    def with_comparison(self, comparison: ComparisonParams) -> ModelParams:
        """A copy with one comparison replaced (matched by name)."""
        self.comparison(comparison.name)
        return replace(
            self,
            comparisons=tuple(
                comparison if c.name == comparison.name else c for c in self.comparisons
            ),
        )

    def evolved(
        self, *, step: str, detail: Mapping[str, Any], version: str | None = None,
        today: date | None = None, **changes: Any,
    ) -> ModelParams:  # fmt: skip
        """A copy with ``changes``, a new version and a line of history saying why."""
        new_version = version or next_version(self.version, today=today)
        entry = {"step": step, "version": new_version, "from": self.version, **detail}
        return replace(self, version=new_version, history=(*self.history, entry), **changes)


def next_version(previous: str | None, *, today: date | None = None) -> str:
    """The version after ``previous``: today's date, serial 1 or the next one today."""
    stamp = (today or date.today()).strftime("%Y.%m.%d")
    if previous is not None and VERSION_PATTERN.match(previous):
        day, serial = previous[3:].rsplit("-", 1)
        if day == stamp:
            return f"fs-{stamp}-{int(serial) + 1}"
    return f"fs-{stamp}-1"


def normalised(values: Sequence[float]) -> tuple[float, ...]:
    """Values scaled to sum to one."""
    total = float(sum(values))
    return tuple(float(v) / total for v in values)
