"""The starting parameters: what is known before any fitting, with the reasons.

Every number here is a documented judgement, not a measurement (except the face bins,
which come from labelled photos: :mod:`~.face_calibration`). They are where EM and
reviewers' decisions start from, and the notes travel into the model file. u values are
first guesses; the shipped model replaces them with counts on random pairs
(:func:`~.em.estimate_u`), where almost every pair is two different people.

m, the chance that a true pair lands on each level given both sides have the evidence:

- **name**: stations write names as heard. Of true pairs where both sides have a name,
  about a third agree after folding (traditional forms, pinyin); homophones (李丽/李莉)
  and dialect spellings (牛/刘 from a Sichuan speaker) are common; 小名 and partial names
  (given name only, 阿X) are frequent for children and the confused elderly; a tenth or
  more disagree outright (names a station assigns, 付贵 recorded as 胡奎).
- **sex**: rarely wrong on either side (2-3%).
- **age**: estimates miss by years; a third of true pairs fall outside the range, mostly
  by little (NamUs: 18-22 estimated for a 16-year-old).
- **time**: the elderly with dementia are mostly found within days or weeks; children
  may be found decades later; a found date a few days before the missing date happens
  (late filing), a month or more before is rare (a wrong year).
- **height**: adults' heights agree within one standard deviation (4.5 cm) about two
  times in three; outliers come from bad records.
- **place**: people found within a month are mostly found in the same city; later,
  anywhere, with long journeys common for migrants; children lost young and found grown
  up were mostly taken to other provinces.
- **hometown**: an accent or stated hometown mostly agrees with the family's hometown,
  though accents are misjudged; a child lost young and found grown up speaks like the
  place they grew up, so for them it mostly disagrees.
- **marks / health**: stations miss marks and describe them in other words; conditions
  of people in care (dementia, mental illness, intellectual disability) are common, so
  agreeing on them is weak evidence; rare ones (聋哑, 癫痫) are strong.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import date
from types import MappingProxyType
from typing import Final

import numpy as np

from matching.evidence_model.comparisons import standard_comparisons
from matching.evidence_model.face_calibration import FACE_EDGES, FaceBinCalibration
from matching.evidence_model.face_curve import FaceCurve
from matching.evidence_model.params import ComparisonParams, ModelParams, StratumParams, normalised
from matching.evidence_model.spec import Comparison

PRIOR_LAMBDA: Final = 1e-4
TF_MAX_ADJUSTMENT: Final = 6.0
PRIOR_NOTE: Final = (
    "Probability that a report and a found person taken at random are the same person: "
    "1 in 10,000 (-13.3 bits), the order of a region's open reports (thousands) against "
    "the share of found persons with a report among them. EM on a store's candidates "
    "re-estimates it; EvidenceModel.with_prior sets it for a known pool."
)
TF_NOTE: Final = (
    "Name agreements, splink-style: the level's u is replaced by the frequency of the "
    "agreeing name (surname share times 2**-given-name bits, from the names package; the "
    "surname share alone for surname-only agreement, the given name alone for a 小名 or "
    "partial name), i.e. the weight gains log2(u / frequency) (tf_reference overrides u "
    "as the reference). A shared 王 says less than a shared 覃. Frequencies below "
    "'minimum' count as the minimum, and the adjustment is capped at +/- "
    "max_adjustment_bits because the frequency tables are approximate."
)

# m and u a comparison, stratum by stratum: {stratum: (m, u, note)}.
_Table = Mapping[str, tuple[Sequence[float], Sequence[float], str]]

NAME: Final[_Table] = {
    "all": (
        (0.33, 0.10, 0.08, 0.04, 0.06, 0.18, 0.06, 0.15),
        (5e-4, 1e-4, 1e-4, 2e-4, 8e-4, 0.025, 0.06, 0.9133),
        "m: a third exact, homophones and dialect spellings a quarter, 小名/partial 18%, "
        "outright different 15% (assigned names, mishearings beyond the rules)",
    )
}
SEX: Final[_Table] = {
    "all": ((0.975, 0.025), (0.52, 0.48), "m: sex is misrecorded in 2-3% of records")
}
AGE: Final[_Table] = {
    "narrow": (
        (0.55, 0.31, 0.10, 0.04),
        (0.07, 0.10, 0.20, 0.63),
        "estimated range of 8 years or less: over half inside, most of the rest just outside",
    ),
    "wide": (
        (0.70, 0.20, 0.07, 0.03),
        (0.20, 0.10, 0.18, 0.52),
        "a wide range is more often right, and says less",
    ),
}
TIME: Final[_Table] = {
    # days, before_slack, months, years, long, very_long, before
    "child": (
        (0.25, 0.01, 0.10, 0.12, 0.17, 0.34, 0.01),
        (0.01, 0.01, 0.08, 0.20, 0.20, 0.10, 0.40),
        "children: found within days, or decades later (trafficked or lost young, found "
        "grown up through the national website since 2016): about half after ten years",
    ),
    "adult": (
        (0.40, 0.02, 0.25, 0.19, 0.09, 0.03, 0.02),
        (0.01, 0.01, 0.08, 0.22, 0.18, 0.05, 0.45),
        "adults: the elderly within days or weeks; others within months or years",
    ),
    "unknown_age": (
        (0.38, 0.02, 0.22, 0.19, 0.11, 0.06, 0.02),
        (0.01, 0.01, 0.08, 0.22, 0.18, 0.05, 0.45),
        "age when lost unknown: between the two",
    ),
}
HEIGHT: Final[_Table] = {
    "adult": ((0.62, 0.27, 0.08, 0.03), (0.27, 0.25, 0.27, 0.21), "adults: measurement noise"),
    "grew": ((0.55, 0.30, 0.11, 0.04), (0.30, 0.27, 0.25, 0.18), "children: growth curve"),
    "age_unknown": ((0.55, 0.30, 0.11, 0.04), (0.35, 0.28, 0.22, 0.15), "growth unknown"),
}
PLACE: Final[_Table] = {
    # same_place, near, region, far, very_far
    "soon": (
        (0.60, 0.14, 0.12, 0.09, 0.05),
        (0.01, 0.03, 0.10, 0.36, 0.50),
        "found within a month: mostly in the same city",
    ),
    "later": (
        (0.30, 0.10, 0.18, 0.25, 0.17),
        (0.01, 0.03, 0.10, 0.36, 0.50),
        "found later: anywhere; migrants and trafficked children travel far",
    ),
    "grew_up_away": (
        (0.04, 0.04, 0.14, 0.40, 0.38),
        (0.01, 0.03, 0.10, 0.36, 0.50),
        "a child lost young, found grown up: trafficked children are mostly taken to other "
        "provinces, so distance says little",
    ),
}
HOMETOWN: Final[_Table] = {
    "all": (
        (0.15, 0.45, 0.20, 0.05, 0.15),
        (0.005, 0.05, 0.12, 0.15, 0.675),
        "m: mostly the same province; accents are misjudged",
    ),
    "grew_up_away": (
        (0.02, 0.12, 0.16, 0.10, 0.60),
        (0.005, 0.05, 0.12, 0.15, 0.675),
        "m: a child lost young speaks like where they grew up, so mostly elsewhere; a "
        "remembered place name or a move within the region still agrees sometimes",
    ),
}
MARKS: Final[_Table] = {
    "all": (
        (0.08, 0.50, 0.10, 0.32),
        (0.002, 0.03, 0.06, 0.908),
        "m: stations miss and reword marks; both noting marks that do not agree is common",
    )
}
HEALTH: Final[_Table] = {
    "all": (
        (0.08, 0.66, 0.14, 0.12),
        (0.005, 0.30, 0.20, 0.495),
        "m: families name diagnoses, stations observations; most people in care have one",
    )
}

SHIPPED_VERSION: Final = "fs-2026.12.07-1"
"""The version of ``default_model.json``: a new one whenever its numbers change."""

FACE_MIXTURE: Final[Mapping[str, float]] = MappingProxyType(
    {
        "adult_recent": 1.0,
        "adult_long": 0.7,
        "child_recent": 0.5,
        "child_to_adult": 0.2,
        "ages_unknown": 0.75,
    }
)
"""Share of the calibrated same-person distribution in each face stratum's m; the rest
is distributed as the stratum's u (the face "no longer looks like itself")."""
FACE_NOTES: Final[Mapping[str, str]] = MappingProxyType(
    {
        "adult_recent": "m and u as calibrated on labelled adult photos",
        "adult_long": "m: 70% calibrated, 30% as different people. Faces drift over a decade "
        "(cross-age benchmarks: even ArcFace drops from 99.8% on LFW to 95.5% on CALFW)",
        "child_recent": "m: 50/50. dlib 'does not work very well on children' (its authors); "
        "u: different adults' distances one bin closer, since children look more alike to "
        "it (assumed: no labelled children's photos)",
        "child_to_adult": "m: 20% calibrated, 80% as different people. Published closed-set "
        "accuracy for children missing over ten years is 40-61% with far stronger models; "
        "u as for children",
        "ages_unknown": "m: 75% calibrated (most people in care are adults)",
    }
)
FACE_COMPARISON_NOTE: Final = (
    "Bins of the closest faces' dlib distance: m and u per bin fitted on labelled photos "
    "(see the adult_recent stratum and history); other strata derived from it as their "
    "notes say. Not a threshold: the stock 0.6 rule calls a third of different Chinese "
    "people the same."
)
PLACEHOLDER_FACE: Final = FaceBinCalibration(
    edges=FACE_EDGES,
    same=(0.10, 0.25, 0.30, 0.20, 0.08, 0.03, 0.02, 0.02),
    different=(0.001, 0.004, 0.035, 0.11, 0.18, 0.23, 0.21, 0.23),
    n_same=40,
    n_different=780,
    source="placeholder read off ../shared/faces/README.md, before calibration",
)

_TABLES: Final[Mapping[str, tuple[_Table, str]]] = MappingProxyType(
    {
        "name": (NAME, "levels are the names package's NameLevel; u of agreeing levels "
                 "follows the agreeing name's frequency"),
        "sex": (SEX, ""),
        "age": (AGE, "tolerance 2 years, +0.08 a year of age over 50, +0.1 a year missing"),
        "time": (TIME, "found up to 30 days before the missing date is read as late filing"),
        "height": (HEIGHT, "difference in standard deviations after growth and shrinking"),
        "place": (PLACE, "great-circle km between gazetteer places (cpca adcodes)"),
        "hometown": (HOMETOWN, ""),
        "marks": (MARKS, "marks read as phrases (kind, part, side)"),
        "health": (HEALTH, "conditions read as concepts within families"),
    }
)  # fmt: skip


def _shift_closer(values: Sequence[float]) -> tuple[float, ...]:
    """A distribution over distance bins moved one bin closer (the first bin absorbs)."""
    shifted = [values[0] + values[1], *values[2:], 0.0]
    shifted[-1] = values[-1] * 0.5
    shifted[-2] += values[-1] * 0.5
    return normalised(shifted)


def face_strata(calibration: FaceBinCalibration) -> tuple[StratumParams, ...]:
    """The face comparison's strata derived from a calibration, as FACE_NOTES say."""
    same = np.asarray(calibration.same)
    different = np.asarray(calibration.different)
    child_u = _shift_closer(calibration.different)
    strata = []
    for label, share in FACE_MIXTURE.items():
        # The part of m that "no longer looks like itself" is distributed as u is.
        u = child_u if label.startswith("child") else normalised(different.tolist())
        m = normalised((share * same + (1 - share) * np.asarray(u)).tolist())
        strata.append(StratumParams(label, m, u, FACE_NOTES[label]))
    # A poor photo's twin names its levels as the good one does; its curve says less.
    poor = [StratumParams(f"{s.label}_poor", s.m, s.u, f"bins as {s.label}'s")
            for s in strata]  # fmt: skip
    return (*strata, *poor)


def prior_params(
    *,
    face: FaceBinCalibration | None = None,
    version: str = SHIPPED_VERSION,
    comparisons: Sequence[Comparison] | None = None,
) -> ModelParams:
    """The documented starting parameters (face from ``face`` or a placeholder)."""
    specs = tuple(comparisons) if comparisons else standard_comparisons()
    calibration = face or PLACEHOLDER_FACE
    built = []
    for spec in specs:
        labels = tuple(level.label for level in spec.levels)
        if spec.name == "face":
            built.append(
                ComparisonParams(
                    spec.name, labels, face_strata(calibration), note=FACE_COMPARISON_NOTE
                )  # fmt: skip
            )
            continue
        table, note = _TABLES[spec.name]
        strata = tuple(
            StratumParams(
                s.label,
                normalised(table[s.label][0]),
                normalised(table[s.label][1]),
                table[s.label][2],
            )  # fmt: skip
            for s in spec.strata
        )
        built.append(ComparisonParams(spec.name, labels, strata, note=note))
    return ModelParams(
        version=version,
        prior=PRIOR_LAMBDA,
        tf_max_adjustment=TF_MAX_ADJUSTMENT,
        comparisons=tuple(built),
        description="xunqin's Fellegi-Sunter evidence model",
        notes=MappingProxyType({"prior": PRIOR_NOTE, "term_frequency": TF_NOTE}),
        history=(
            MappingProxyType({"step": "priors", "version": version, "source": calibration.source}),
        ),
    )


def with_face_calibration(
    params: ModelParams,
    calibration: FaceBinCalibration,
    *,
    version: str | None = None,
    today: date | None = None,
) -> ModelParams:
    """The parameters with the face comparison's strata derived from a new calibration."""
    if tuple(calibration.edges) != FACE_EDGES:
        raise ValueError(
            f"the calibration's bins end at {calibration.edges}; the face comparison's at "
            f"{FACE_EDGES}"
        )
    face = params.comparison("face")
    # The bins name the levels; a stratum's curve, where it has one, still weighs it.
    strata = tuple(
        replace(new, curve=face.stratum(new.label).curve) for new in face_strata(calibration)
    )
    updated = params.with_comparison(replace(face, strata=strata))
    return updated.evolved(
        step="face_calibration",
        detail={"source": calibration.source, "same_pairs": calibration.n_same,
                "different_pairs": calibration.n_different},
        version=version,
        today=today,
    )  # fmt: skip


def with_face_curves(
    params: ModelParams,
    curves: Mapping[str, FaceCurve],
    *,
    version: str | None = None,
    today: date | None = None,
) -> ModelParams:
    """The parameters with each face stratum weighed by its curve (every stratum must
    have one: a model never mixes curves and bins across the face's strata)."""
    face = params.comparison("face")
    labels = [s.label for s in face.strata]
    missing = [label for label in labels if label not in curves]
    if missing:
        raise ValueError(f"no face curve for {', '.join(missing)}")
    strata = tuple(
        replace(s, curve=curves[s.label], note=f"curve: {curves[s.label].source}")
        for s in face.strata
    )
    note = (
        "The closest faces' dlib distance weighed by a curve per stratum: a logistic "
        "calibration fitted on labelled photos, falling smoothly with distance and bounded "
        "by the strongest weight its data showed (m and u of the bins only name the level). "
        "Not a threshold: the stock 0.6 rule calls a third of different Chinese people the "
        "same."
    )
    updated = params.with_comparison(replace(face, strata=strata, note=note))
    return updated.evolved(
        step="face_curves",
        detail={label: {"same_identities": c.n_same, "different_pairs": c.n_different,
                        "source": c.source} for label, c in curves.items()},
        version=version,
        today=today,
    )  # fmt: skip
