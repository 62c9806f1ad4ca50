"""The first scorer: hand-set log2 weights for face, name, sex and age.

Weights are Bayes factors read from what is known before any fitting (see the
constants' comments); the calibrated, learned model replaces them. The face weights
are deliberately modest: dlib distances between different East Asian people often fall
under the stock 0.6 threshold, so a close face is evidence, not a verdict.

It is a baseline of the evaluation, not part of the service: :class:`FirstScorer` gives
it the re-match's scorer protocol (:class:`usecases.rematch_job.PairScorer`), so the
evaluation re-matches its store with it beside the evidence model.
"""

from __future__ import annotations

from datetime import date

from evaluation.first_attributes import AgeLevel, SexLevel, compare_age, compare_sex
from evaluation.first_faces import min_face_distance
from evaluation.simple_names import SimpleNameLevel, compare_simple
from matching.evidence import Score, SignalEvidence
from matching.views import FoundView, MissingView

MODEL_VERSION = "first-scorer-1"

# Odds of a random report/found pair being the same person are small; 1 in 1000 is the
# order of a station's in-care population against the open reports of a region.
PRIOR_WEIGHT = -10.0

# (upper distance bound, level, weight): the first bound the distance is under wins.
FACE_LEVELS = (
    (0.40, "very_close", 6.0),
    (0.50, "close", 3.0),
    (0.60, "near", 1.0),
    (0.70, "far", -1.5),
    (float("inf"), "very_far", -3.0),
)

NAME_WEIGHTS = {
    SimpleNameLevel.NULL: 0.0,
    SimpleNameLevel.EXACT: 9.0,
    SimpleNameLevel.SAME_PINYIN: 7.0,
    SimpleNameLevel.SIMILAR: 4.0,
    SimpleNameLevel.GIVEN_NAME: 3.0,
    SimpleNameLevel.SURNAME_ONLY: 0.5,
    SimpleNameLevel.DIFFERENT: -2.5,
}

SEX_WEIGHTS = {SexLevel.NULL: 0.0, SexLevel.SAME: 1.0, SexLevel.DIFFERENT: -6.0}

AGE_WEIGHTS = {
    AgeLevel.NULL: 0.0,
    AgeLevel.WITHIN: 2.0,
    AgeLevel.NEAR: 1.0,
    AgeLevel.OFF: -1.5,
    AgeLevel.FAR: -5.0,
}


def face_evidence(distance: float | None) -> SignalEvidence:
    """The face signal for the closest pair of faces."""
    if distance is None:
        return SignalEvidence("face", "null", 0.0, "no face photo on one side")
    for bound, level, weight in FACE_LEVELS:
        if distance < bound:
            detail = f"closest faces are {distance:.2f} apart ({level.replace('_', ' ')})"
            return SignalEvidence("face", level, weight, detail, round(distance, 4))
    raise AssertionError("the last face level is unbounded")


def score_pair(missing: MissingView, found: FoundView, *, today: date | None = None) -> Score:
    """Score one report against one found person, keeping every signal."""
    name = compare_simple(missing.names, found.names)
    sex = compare_sex(missing.sex, found.sex)
    age = compare_age(
        missing.birth_year, found.age_min, found.age_max, found.found_date, today=today
    )
    if age.level is AgeLevel.NULL:
        age_detail = "no birth year or no age estimate"
    else:
        estimate = "-".join(
            str(v) for v in dict.fromkeys((found.age_min, found.age_max)) if v is not None
        )
        age_detail = f"about {age.implied_age} when found; estimated {estimate}" + (
            f" ({age.gap_years} years outside)" if age.gap_years else ""
        )
    signals = (
        face_evidence(min_face_distance(missing.embeddings, found.embeddings)),
        SignalEvidence(
            "name", name.level.name.lower(), NAME_WEIGHTS[name.level], name.reason,
            round(name.similarity, 4),
        ),
        SignalEvidence(
            "sex", sex.value, SEX_WEIGHTS[sex],
            {"null": "sex unknown on one side", "same": "same sex",
             "different": "different sex"}[sex.value],
        ),
        SignalEvidence("age", age.level.value, AGE_WEIGHTS[age.level], age_detail,
                       None if age.gap_years is None else float(age.gap_years)),
    )  # fmt: skip
    return Score(MODEL_VERSION, PRIOR_WEIGHT, signals)


class FirstScorer:
    """The first scorer as the re-match's scorer (:class:`usecases.rematch_job.PairScorer`)."""

    version = MODEL_VERSION
    prior_weight = PRIOR_WEIGHT

    def __init__(self, *, today: date | None = None) -> None:
        self.today = today

    def total_weight(self, missing: MissingView, found: FoundView) -> float:
        """The first scorer's total."""
        return score_pair(missing, found, today=self.today).total_weight

    def score(self, missing: MissingView, found: FoundView) -> Score:
        """The first scorer's breakdown."""
        return score_pair(missing, found, today=self.today)

    def clear_cache(self) -> None:
        """Nothing is cached."""
