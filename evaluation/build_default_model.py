"""How the shipped ``matching/evidence_model/default_model.json`` is made, so it can be
made again.

``python -m evaluation.build_default_model [--faces ../shared/faces] [--out PATH]``

1. face bins calibrated on the development photos (``../shared/faces``: same-person pairs
   of asian_faces, lfw_krasserm, deepface and five_celebrity; different-person pairs of
   asian_faces), strata derived as :mod:`matching.evidence_model.priors` documents; the
   held-out comparison with the 0.6 rule goes into the notes; the bins name the levels,
   and each stratum is weighed by its face curve, fitted on the calibration half of the
   identities (:mod:`matching.evidence_model.face_curve_fit`: adult and East Asian sets,
   and FG-NET's photos named with ages for the childhood strata);
2. the documented priors (:mod:`matching.evidence_model.priors`) for everything else;
3. u of every other comparison counted on random pairs of a seeded synthetic population
   drawn from the census tables (``evaluation.population``, a seed the evaluation does
   not use); no labels are read;

EM is not part of the shipped model: on a synthetic population it would learn the
generator's assumptions. :func:`em_variant` fits one for comparison; a deployment
refits on its own store (:func:`matching.evidence_model.refit.refit_model`).

It reads the synthetic population, so it lives with the evaluation: the service only
reads the file it writes.
"""

from __future__ import annotations

import argparse
import heapq
import logging
from collections.abc import Sequence
from dataclasses import asdict, dataclass, replace
from datetime import date
from pathlib import Path
from types import MappingProxyType
from typing import Any, Final

from evaluation.population import generate_population
from evaluation.population_views import views_from_rows
from matching.evidence_model.em import estimate_u
from matching.evidence_model.face_calibration import (
    DIFFERENT_SETS,
    LABELLED_SETS,
    SAME_SETS,
    CalibrationCheck,
    FaceBinCalibration,
    compare_with_threshold_rule,
    fit_face_bins,
)
from matching.evidence_model.face_curve import FaceCurve
from matching.evidence_model.face_curve_fit import (
    CURVE_SETS,
    degraded_for_calibration,
    fit_face_curves,
)
from matching.evidence_model.model import DEFAULT_MODEL_FILE, EvidenceModel
from matching.evidence_model.params import ModelParams
from matching.evidence_model.priors import SHIPPED_VERSION, prior_params, with_face_curves
from matching.evidence_model.refit import RefitReport, random_pairs, refit_model
from matching.views import FoundView, MissingView
from usecases.face_folders import DEFAULT_CACHE, encode_face_folder
from usecases.model_files import save_model

logger = logging.getLogger(__name__)

REPO: Final = Path(__file__).resolve().parents[1]
DEFAULT_FACES: Final = REPO.parent / "shared" / "faces"
DEFAULT_OUT: Final = REPO / "matching" / "evidence_model" / DEFAULT_MODEL_FILE
BUILD_SEED: Final = 7
"""Seed of the synthetic population u is counted on (the evaluation uses others)."""
BUILD_SIZE: Final = (3000, 1500, 600)
RANDOM_PAIRS: Final = 300_000


@dataclass(frozen=True)
class BuildResult:
    """The built parameters, the face calibration and its held-out check."""

    params: ModelParams
    calibration: FaceBinCalibration | None
    check: CalibrationCheck | None


def population_views(
    seed: int = BUILD_SEED, size: tuple[int, int, int] = BUILD_SIZE
) -> tuple[list[MissingView], list[FoundView], Any]:
    """Views of a generated population (no photos) and the population itself."""
    pop = generate_population(seed=seed, n_missing=size[0], n_found=size[1], n_true_pairs=size[2])
    missing, found = views_from_rows(pop.missing, pop.found)
    return missing, found, pop


def _check_note(check: CalibrationCheck) -> str:
    rule, cal, strong = check.rule, check.calibrated, check.calibrated_strong
    return (
        f"Held out ({check.source}): the 0.6 rule finds {rule.recall:.1%} of same-person "
        f"pairs and calls {rule.false_match_rate:.1%} of different Chinese people the same "
        f"(a 'yes' is worth x{rule.bayes_factor_yes:.1f}); calibrated weight > 0 finds "
        f"{cal.recall:.1%} with {cal.false_match_rate:.1%} false (x{cal.bayes_factor_yes:.1f}); "
        f">= 3 bits finds {strong.recall:.1%} with {strong.false_match_rate:.2%} false "
        f"(x{strong.bayes_factor_yes:.0f}). Mean held-out weight: same "
        f"{check.mean_weight_same:+.2f} bits, different {check.mean_weight_different:+.2f}."
    )


def build_default(
    *,
    faces_dir: Path | None = DEFAULT_FACES,
    cache: Path | None = DEFAULT_CACHE,
    version: str = SHIPPED_VERSION,
    seed: int = BUILD_SEED,
    size: tuple[int, int, int] = BUILD_SIZE,
    n_random_pairs: int = RANDOM_PAIRS,
    today: date | None = None,
) -> BuildResult:
    """Build the default model's parameters (see the module docstring)."""
    calibration = check = None
    curves: dict[str, FaceCurve] | None = None
    if faces_dir is not None and faces_dir.is_dir():
        from indexes import DlibFaceModel

        embeddings = encode_face_folder(
            faces_dir,
            DlibFaceModel(),
            cache=cache,
            sets=sorted({*LABELLED_SETS, *CURVE_SETS}),
            degrade=degraded_for_calibration,
        )
        # The bins and the check are of good photos; the poor ones feed the poor strata.
        good = embeddings.subset(~embeddings.poor_or_good())
        calibration = fit_face_bins(good)
        check = compare_with_threshold_rule(good)
        curves = fit_face_curves(embeddings)
    else:
        logger.warning("no face photos: the face bins stay at the documented placeholder")
    params = prior_params(face=calibration, version=version)
    if curves is not None:
        params = with_face_curves(params, curves, version=version, today=today)
    missing, found, _ = population_views(seed, size)
    model = EvidenceModel(params)
    pairs = random_pairs(len(missing), len(found), n_random_pairs, seed=seed)
    vectors = model.comparison_vectors((missing[i], found[j]) for i, j in pairs)
    others = [c.name for c in params.comparisons if c.name != "face"]
    params = estimate_u(params, vectors, only=others, smoothing=1.0, version=version, today=today)
    notes = dict(params.notes)
    notes["u"] = (
        f"u of every comparison but face: counted on {len(pairs):,} random pairs of a seeded "
        f"synthetic population (evaluation.population seed {seed}, {size[0]} reports x "
        f"{size[1]} found) drawn from the 2020 census and surname tables; no labels used. "
        "A deployment re-counts u on its own records (refit_model)."
    )
    if calibration is not None:
        notes["face"] = f"Face bins fitted on {calibration.source}."
    if curves is not None:
        notes["face_curves"] = (
            "Each face stratum weighed by a logistic curve of distance fitted on the "
            "calibration half of the identities (a digest of the identity's name chooses "
            "the half; the other half is kept for evaluation): "
            + "; ".join(
                f"{label}: {c.n_same} identities, {c.n_different} pairs of identities"
                for label, c in curves.items()
            )  # fmt: skip
        )
    if check is not None:
        notes["face_check"] = _check_note(check)
    history = list(params.history)
    if calibration is not None:
        history.append(
            MappingProxyType(
                {
                    "step": "face_calibration",
                    "version": version,
                    "source": calibration.source,
                    "photos_per_set": calibration.details.get("photos_per_set", {}),
                    "same_sets": list(SAME_SETS),
                    "different_sets": list(DIFFERENT_SETS),
                }
            )
        )
    params = replace(params, notes=MappingProxyType(notes), history=tuple(history))
    return BuildResult(params, calibration, check)


def em_variant(
    params: ModelParams,
    missing: Sequence[MissingView],
    found: Sequence[FoundView],
    *,
    keep: int = 20,
    n_random_pairs: int = 100_000,
    seed: int = BUILD_SEED,
) -> tuple[EvidenceModel, RefitReport]:
    """A model refitted without labels on a population, for comparison with the priors.

    Candidates are each record's best ``keep`` pairs under ``params`` in both directions,
    as re-matching keeps them; then :func:`matching.evidence_model.refit.refit_model` (u
    from random pairs, m by EM over the candidates agreeing on a rare name, the prior
    held).
    """
    model = EvidenceModel(params)
    chosen: set[tuple[int, int]] = set()
    by_found: dict[int, list[tuple[float, int]]] = {}
    for i, m in enumerate(missing):
        row = [(model.total_weight(m, f), j) for j, f in enumerate(found)]
        for _, j in heapq.nlargest(keep, row):
            chosen.add((i, j))
        for weight, j in row:
            heap = by_found.setdefault(j, [])
            if len(heap) < keep:
                heapq.heappush(heap, (weight, i))
            elif weight > heap[0][0]:
                heapq.heapreplace(heap, (weight, i))
    chosen |= {(i, j) for j, heap in by_found.items() for _, i in heap}
    return refit_model(
        model, missing, found, candidate_pairs=sorted(chosen), n_random_pairs=n_random_pairs,
        seed=seed,
    )  # fmt: skip


def main(argv: Sequence[str] | None = None) -> None:
    """Build and write the default model file."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--faces", type=Path, default=DEFAULT_FACES)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--version", default=SHIPPED_VERSION)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO)
    result = build_default(faces_dir=args.faces, version=args.version)
    save_model(EvidenceModel(result.params), args.out)
    if result.check is not None:
        logger.info("face check: %s", asdict(result.check.rule))
    logger.info("wrote %s (%s)", args.out, result.params.version)


if __name__ == "__main__":
    main()
