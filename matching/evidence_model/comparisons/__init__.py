"""The comparisons of the evidence model, one module each, and their standard order."""

from __future__ import annotations

from matching.evidence_model.comparisons.age import AgeComparison
from matching.evidence_model.comparisons.face import FaceComparison
from matching.evidence_model.comparisons.health import HealthComparison
from matching.evidence_model.comparisons.height import HeightComparison
from matching.evidence_model.comparisons.hometown import HometownComparison
from matching.evidence_model.comparisons.marks import MarksComparison
from matching.evidence_model.comparisons.name import NamesComparison
from matching.evidence_model.comparisons.place import PlaceComparison
from matching.evidence_model.comparisons.sex import SexComparison
from matching.evidence_model.comparisons.timing import TimeComparison
from matching.evidence_model.spec import Comparison


def standard_comparisons() -> tuple[Comparison, ...]:
    """Every comparison, in the order explanations list them."""
    return (
        FaceComparison(),
        NamesComparison(),
        SexComparison(),
        AgeComparison(),
        TimeComparison(),
        HeightComparison(),
        PlaceComparison(),
        HometownComparison(),
        MarksComparison(),
        HealthComparison(),
    )


__all__ = [
    "AgeComparison",
    "FaceComparison",
    "HealthComparison",
    "HeightComparison",
    "HometownComparison",
    "MarksComparison",
    "NamesComparison",
    "PlaceComparison",
    "SexComparison",
    "TimeComparison",
    "standard_comparisons",
]
