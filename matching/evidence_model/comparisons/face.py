"""Face: the closest pair of the two records' searchable faces, binned by distance.

The distance alone is not a verdict (see :mod:`matching.evidence_model.face_calibration`):
its bins carry m and u fitted on labelled photos. And what a distance means depends on
the photos' ages: the same person photographed at six and at thirty drifts far in
dlib's space, and dlib "does not work very well on children" at all. So the pair is put
in a stratum by the ages in the two photos and the years between them, and each
stratum has its own m (much flatter for a childhood photo against an adult one).
"""

from __future__ import annotations

import numpy as np

from matching.evidence_model.face_calibration import FACE_BIN_LABELS, FACE_EDGES, bin_index
from matching.evidence_model.facts import FaceFacts, FoundFacts, MissingFacts
from matching.evidence_model.spec import LevelSpec, Outcome, StratumSpec

CHILD_PHOTO_UNDER = 16.0
"""A photo of a person younger than this is a childhood photo."""
RECENT_ADULT_YEARS = 10.0
RECENT_CHILD_YEARS = 5.0

ADULT_RECENT, ADULT_LONG, CHILD_RECENT, CHILD_TO_ADULT, AGES_UNKNOWN = range(5)
POOR: int = 5
"""Added to a pair's stratum when either photo is poor: each age stratum has a poor twin
with a curve of its own (a small, blurred or turned face moves the same person's distance
out, so a close face says less, and a middling one is no longer against)."""

_LOWS = (0.0, *FACE_EDGES)


def _level_specs() -> tuple[LevelSpec, ...]:
    specs = [LevelSpec("null", "no searchable face on one side")]
    for k, label in enumerate(FACE_BIN_LABELS):
        high = f"under {FACE_EDGES[k]:.2f}" if k < len(FACE_EDGES) else "or more"
        specs.append(LevelSpec(label, f"closest faces {_LOWS[k]:.2f} {high}".replace(
            "0.00 under", "under")))  # fmt: skip
    return tuple(specs)


def face_stratum(
    age_a: float | None,
    year_a: float | None,
    age_b: float | None,
    year_b: float | None,
    poor: bool = False,
) -> int:
    """The stratum of a pair of photos by the ages shown and the years between them, and
    whether either is poor."""
    return _age_stratum(age_a, year_a, age_b, year_b) + (POOR if poor else 0)


def _age_stratum(
    age_a: float | None, year_a: float | None, age_b: float | None, year_b: float | None
) -> int:
    gap = abs(year_a - year_b) if year_a is not None and year_b is not None else None
    ages = [a for a in (age_a, age_b) if a is not None]
    if not ages:
        return AGES_UNKNOWN
    if min(ages) < CHILD_PHOTO_UNDER:
        return CHILD_RECENT if gap is not None and gap < RECENT_CHILD_YEARS else CHILD_TO_ADULT
    if gap is None:
        return AGES_UNKNOWN
    return ADULT_RECENT if gap < RECENT_ADULT_YEARS else ADULT_LONG


def closest_faces(a: FaceFacts, b: FaceFacts) -> tuple[float, int, int] | None:
    """(distance, index in a, index in b) of the closest pair of faces; None if a side has none."""
    if a.count == 0 or b.count == 0:
        return None
    diff = a.embeddings[:, None, :].astype(np.float32) - b.embeddings[None, :, :]
    distances = np.sqrt(np.einsum("ijk,ijk->ij", diff, diff))
    i, j = np.unravel_index(int(np.argmin(distances)), distances.shape)
    return float(distances[i, j]), int(i), int(j)


_AGE_WORDS = (
    "adult photos taken within 10 years of each other",
    "adult photos taken 10 or more years apart",
    "a childhood photo, taken within 5 years of the other",
    "a childhood photo against one taken years later",
    "photos of unknown age",
)
_AGE_LABELS = ("adult_recent", "adult_long", "child_recent", "child_to_adult", "ages_unknown")
_STRATUM_WORDS = (*_AGE_WORDS, *(f"{words}; a poor photo" for words in _AGE_WORDS))


class FaceComparison:
    """The closest faces' distance, in strata of photo age and age gap."""

    name = "face"
    description = "the smallest distance between the two records' searchable faces (dlib 128-d)"
    levels: tuple[LevelSpec, ...] = _level_specs()
    strata: tuple[StratumSpec, ...] = (
        *(StratumSpec(label, words) for label, words in zip(_AGE_LABELS, _AGE_WORDS,
                                                              strict=True)),
        *(StratumSpec(f"{label}_poor", f"{words}; either photo poor (small, blurred or "
                      "turned)") for label, words in zip(_AGE_LABELS, _AGE_WORDS, strict=True)),
    )  # fmt: skip

    def compare(self, missing: MissingFacts, found: FoundFacts) -> Outcome:
        """The bin of the closest pair of faces, in the stratum of those two photos."""
        closest = closest_faces(missing.faces, found.faces)
        if closest is None:
            return Outcome(0, "no searchable face on one side", AGES_UNKNOWN)
        distance, i, j = closest
        a, b = missing.faces, found.faces
        stratum = face_stratum(a.ages[i], a.years[i], b.ages[j], b.years[j],
                               a.is_poor(i) or b.is_poor(j))  # fmt: skip
        level = bin_index(distance, FACE_EDGES) + 1
        return Outcome(
            level,
            lambda: f"closest faces are {distance:.2f} apart ({_STRATUM_WORDS[stratum]})",
            stratum,
            distance,
        )
