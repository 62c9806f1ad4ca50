"""The shape every comparison shares: ordered levels, optional strata, and an outcome.

A comparison looks at one kind of evidence of a pair and places it on an ordered list
of levels, null first (the evidence is missing: worth nothing, never a disagreement),
then from the strongest agreement to disagreement; the first level that holds wins. Some
evidence means different things in different circumstances: a face distance between a
childhood photo and an adult one is much weaker evidence than between two recent
photos. Such a comparison also names a *stratum* for the pair, and the model keeps a
separate set of m and u probabilities for each stratum.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, NamedTuple, Protocol

if TYPE_CHECKING:
    from matching.evidence_model.facts import FoundFacts, MissingFacts

NULL_LEVEL = 0
"""Index of the null level in every comparison."""


@dataclass(frozen=True, slots=True)
class LevelSpec:
    """One level of a comparison: a label, what it means, and whether its u follows the
    frequency of the agreeing value (term-frequency adjustment)."""

    label: str
    description: str
    tf_adjusted: bool = False


@dataclass(frozen=True, slots=True)
class StratumSpec:
    """A circumstance under which a comparison's levels carry their own m and u."""

    label: str
    description: str


ONE_STRATUM = (StratumSpec("all", "every pair"),)


class Outcome(NamedTuple):
    """Where one pair falls in one comparison, and the plain sentence saying why.

    ``sentence`` may be a function that writes it: scoring millions of pairs only needs
    the sentences of the few that are kept. ``term_frequency`` is how common the
    agreeing value is among people (for levels whose u is adjusted by it); ``value`` is
    the measured quantity, if any (a distance, a number of years or kilometres).
    """

    level: int
    sentence: str | Callable[[], str]
    stratum: int = 0
    value: float | None = None
    term_frequency: float | None = None

    def text(self) -> str:
        """The sentence, written now if it was deferred."""
        return self.sentence if isinstance(self.sentence, str) else self.sentence()


class Comparison(Protocol):
    """One kind of evidence: its levels, strata and how a pair is placed on them."""

    @property
    def name(self) -> str:
        """The signal's name, as explanations show it ("face", "name")."""
        ...

    @property
    def description(self) -> str:
        """What is compared, in a sentence."""
        ...

    @property
    def levels(self) -> tuple[LevelSpec, ...]:
        """The levels, null first."""
        ...

    @property
    def strata(self) -> tuple[StratumSpec, ...]:
        """The circumstances with their own m and u (one stratum if none)."""
        ...

    def compare(self, missing: MissingFacts, found: FoundFacts) -> Outcome:
        """The pair's level, stratum and sentence."""
        ...
