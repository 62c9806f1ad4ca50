"""Found against found: is the person in care here the one another station (or this one,
years ago) had?

The same person passes through several stations, each writing down what it hears (王兴江
at one, 王山江 at the next) and estimating an age. Pairs of found persons are weighed by
the evidence model itself, so every comparison, weight and explanation is the report x
found model's: the earlier stay of the pair plays the report and the later one the found
person.

How the earlier stay becomes a report (:func:`as_earlier_stay`):

- its found date is the "missing" date and its found place the place "last seen", so
  the time comparison weighs the time between the stays and the place comparison the
  distance between the places found;
- its accent and stated hometown are the report's dialect and hometown (both sides'
  speech then sets the dialect rules the names are heard with);
- its names are its own only (``FoundView.names`` leaves out a name the station gave,
  so two stations' made-up names never agree), its faces, marks, conditions and height
  as they are; a child's height is grown to the later stay as a report's would be;
- its age is an estimate, not a birth year. The report x found age comparison would take
  a birth year derived from it as exact and call "off" what two honest estimates allow,
  so the pair is weighed by :class:`~matching.evidence_model.comparisons.age_estimates.
  EstimatedAgeComparison` instead: the birth years each estimate allows, as ranges,
  overlapping or how far apart, with the tolerance of two estimates. Its levels and
  strata are the age comparison's, so the same m and u weigh them. The middle of the
  earlier estimate's birth years is kept as the view's ``birth_year`` for what needs one
  year (the ages in its photos, a child's growth, the time comparison's stratum).

The pair is put in order (found date, then id; undated last) before it is weighed, so
``score(a, b)`` and ``score(b, a)`` are the same score. Sentences that speak of "the
report" and "the station" are reworded for two stays (:data:`REWORDING`), and what would
confirm a likely link is said for two stays (:func:`confirmation_steps`).

What is not adapted: the m and u are those learned on reports against found persons,
and the prior is theirs. Until reviewers' decisions on found pairs are enough to refit
them, the probability is that model's reading of the evidence, and what ranks the links
is the total weight.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Final

from matching.evidence import SignalEvidence
from matching.evidence_model import EvidenceModel, EvidenceScore
from matching.evidence_model.comparisons.age_estimates import (
    EstimatedAgeComparison,
    EstimatedAgeView,
    birth_years,
    estimate_range,
)
from matching.evidence_model.explanation import HIGH_PROBABILITY, STRONG_TERM
from matching.evidence_model.facts import FactsCache, FoundFacts, MissingFacts
from matching.evidence_model.spec import Comparison, LevelSpec, Outcome, StratumSpec
from matching.views import FoundView

_THE_EARLIER: Final = (("the report", "the earlier record"), ("the station", "the later one"))
REWORDING: Final[dict[str, tuple[tuple[str, str], ...]]] = {
    "sex": _THE_EARLIER,
    "hometown": _THE_EARLIER,
    "marks": _THE_EARLIER,
    "health": _THE_EARLIER,
    "time": (
        ("found ", "found again "),
        ("after going missing", "after the earlier stay"),
    ),
    "place": (("last seen in ", "first found in "), (", found in ", ", then in ")),
    "height": (
        (", measured ", ", later "),
        ("; measured ", "; later "),
        ("reported ", "first measured "),
        ("when lost as", "when first found as"),
    ),
}
"""Per comparison, the phrases of its sentences said otherwise for two stays, in order."""


def confirmation_steps(signals: Sequence[SignalEvidence], probability: float) -> tuple[str, ...]:
    """What would settle a likely link between two stays, cheapest first (Chinese first);
    empty below the probability from which candidates list theirs."""
    if probability < HIGH_PROBABILITY:
        return ()
    by_name = {s.signal: s for s in signals}
    steps: list[str] = []
    face = by_name.get("face")
    if face is None or face.level == "null":
        steps.append("请两站工作人员互相比对照片 (ask both stations for a photo and compare them)")
    else:
        steps.append(
            "请较早一站的工作人员看较晚一站的照片，确认是否记得此人 (show the later photo to "
            "the staff of the earlier station: do they remember the person?)"
        )
    marks = by_name.get("marks")
    if marks is not None and marks.weight >= STRONG_TERM:
        steps.append(f"当面核对特征 (check the mark in person: {marks.detail})")
    steps.append(
        "比对两次入站时送检的 DNA 样本（公安数据库）(compare the DNA samples both stations "
        "sent to the police database)"
    )
    steps.append(
        "通过公安比对两次登记的指纹或人像 (compare the fingerprints or ID photos taken at "
        "both stays, through the police)"
    )
    return tuple(steps)


def stay_order(view: FoundView) -> tuple[bool, int, int]:
    """The key that puts two stays in order: found date (undated last), then id."""
    day = view.found_date
    return day is None, day.toordinal() if day is not None else 0, view.id


def ordered(a: FoundView, b: FoundView) -> tuple[FoundView, FoundView]:
    """The pair as (earlier stay, later stay)."""
    if a.id == b.id:
        raise ValueError(f"a found person is not paired with itself (id {a.id})")
    return (a, b) if stay_order(a) <= stay_order(b) else (b, a)


def as_earlier_stay(view: FoundView) -> EstimatedAgeView:
    """The earlier stay of a pair as the report side of the evidence model."""
    ages = estimate_range(view.age_min, view.age_max)
    birth_year = None
    if ages is not None and view.found_date is not None:
        earliest, latest = birth_years(ages, view.found_date)
        birth_year = (earliest + latest) // 2
    return EstimatedAgeView(
        id=view.id,
        ref=view.ref,
        names=view.names,
        sex=view.sex,
        hometown=view.hometown,
        height_cm=view.height_cm,
        features=view.features,
        health=view.health,
        faces=view.faces,
        birth_year=birth_year,
        missing_date=view.found_date,
        missing_place=view.found_place,
        dialect=view.accent,
        age_min=ages[0] if ages is not None else None,
        age_max=ages[1] if ages is not None else None,
    )


class _Reworded:
    """A comparison whose sentences are said for two stays; levels and weights unchanged."""

    def __init__(self, inner: Comparison, phrases: tuple[tuple[str, str], ...]) -> None:
        self._inner = inner
        self._phrases = phrases

    @property
    def name(self) -> str:
        return self._inner.name

    @property
    def description(self) -> str:
        return self._inner.description

    @property
    def levels(self) -> tuple[LevelSpec, ...]:
        return self._inner.levels

    @property
    def strata(self) -> tuple[StratumSpec, ...]:
        return self._inner.strata

    def compare(self, missing: MissingFacts, found: FoundFacts) -> Outcome:
        outcome = self._inner.compare(missing, found)
        phrases = self._phrases

        def said() -> str:
            text = outcome.text()
            for old, new in phrases:
                text = text.replace(old, new)
            return text

        return outcome._replace(sentence=said)


def found_pair_comparisons(comparisons: Sequence[Comparison]) -> tuple[Comparison, ...]:
    """A model's comparisons as found pairs are weighed: the age by the two estimates,
    the sentences of the others reworded for two stays."""
    adapted: list[Comparison] = []
    for comparison in comparisons:
        if comparison.name == EstimatedAgeComparison.name:
            adapted.append(EstimatedAgeComparison())
        elif comparison.name in REWORDING:
            adapted.append(_Reworded(comparison, REWORDING[comparison.name]))
        else:
            adapted.append(comparison)
    return tuple(adapted)


class FoundPairScorer:
    """The evidence model, weighing two found persons (see the module's docstring).

    It keeps its own cache of record facts (a found person's facts as the earlier stay
    differ from its facts as the later one), and one earlier-stay view per found person
    so that cache holds.
    """

    def __init__(self, model: EvidenceModel | None = None) -> None:
        base = model or EvidenceModel.default()
        self._model = EvidenceModel(
            base.params, comparisons=found_pair_comparisons(base.comparisons), facts=FactsCache()
        )
        self._earlier: dict[int, tuple[FoundView, EstimatedAgeView]] = {}

    @property
    def model(self) -> EvidenceModel:
        """The adapted model (the same parameters, the comparisons of found pairs)."""
        return self._model

    @property
    def version(self) -> str:
        """The model version every link records."""
        return self._model.version

    @property
    def prior_weight(self) -> float:
        """log2 prior odds of a random pair being the same person (the model's)."""
        return self._model.prior_weight

    def _as_earlier(self, view: FoundView) -> EstimatedAgeView:
        entry = self._earlier.get(view.id)
        if entry is not None and entry[0] is view:
            return entry[1]
        earlier = as_earlier_stay(view)
        self._earlier[view.id] = (view, earlier)
        return earlier

    def views(self, a: FoundView, b: FoundView) -> tuple[EstimatedAgeView, FoundView]:
        """The pair as the model weighs it: the earlier stay as a report, the later one."""
        first, second = ordered(a, b)
        return self._as_earlier(first), second

    def score(self, a: FoundView, b: FoundView) -> EvidenceScore:
        """The explained score of two found persons, the same whichever comes first, with
        what would confirm a link rather than a report's match."""
        score = self._model.score(*self.views(a, b))
        return replace(score, confirm_by=confirmation_steps(score.signals, score.probability))

    def total_weight(self, a: FoundView, b: FoundView) -> float:
        """Prior plus evidence in log2 odds, without the explanation (for ranking)."""
        return self._model.total_weight(*self.views(a, b))

    def clear_cache(self) -> None:
        """Forget the records seen (after a run)."""
        self._earlier.clear()
        self._model.clear_cache()
