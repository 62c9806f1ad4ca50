"""Children found as adults, by face alone: does the model rank a childhood photo at
least as well as the plain distance it is built on?

``python -m evaluation.face_ages [--faces ../shared/faces] [--out bench/results]``

The people are the aged set's identities on the *evaluation* side of
:func:`~matching.evidence_model.face_curve_fit.calibration_side` (the curves never saw
them). Each has one report: a childhood photo (under 14), drawn with a seed; the found
person is the same identity's adult photos (18 and over), one record holding them all.
The reports searched are those of every aged identity with a childhood photo (the
calibration side's stand in as rivals: their childhood photos are not anyone's truth
here). For every found person the reports are ranked:

- by the closest faces' distance (nearer first);
- by the evidence model's face term (the model file given, default the shipped one),
  the photos' ages known (taken as born the same year, so the years between photos are
  the ages' difference) and unknown.

R@k is the share of found persons whose report is in the first k; "above" the mean
number of reports ranked above the true one, a tie counting against it.
"""

from __future__ import annotations

import argparse
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import numpy as np
from numpy.typing import NDArray

from evaluation.bench.results import write_results
from evaluation.markdown import table_lines
from matching.evidence_model.comparisons.face import FaceComparison, face_stratum
from matching.evidence_model.face_calibration import FACE_EDGES, LabelledEmbeddings, bin_index
from matching.evidence_model.face_curve_fit import AGED_SETS, calibration_side
from matching.evidence_model.model import EvidenceModel
from matching.evidence_model.spec import Outcome

logger = logging.getLogger(__name__)

REPO: Final = Path(__file__).resolve().parents[1]
CHILD_UNDER: Final = 14.0
ADULT_FROM: Final = 18.0
BORN: Final = 1990.0
"""Every person is taken as born this year: the years between photos are the ages' gap."""
KS: Final = (1, 5, 10)


@dataclass(frozen=True)
class Cases:
    """Reports (one childhood photo each) and found persons (adult photos) to rank."""

    report_vectors: NDArray[np.float32]
    report_ages: NDArray[np.float64]
    report_people: list[str]
    found: list[tuple[str, NDArray[np.float32], NDArray[np.float64], NDArray[np.bool_]]]
    report_poor: NDArray[np.bool_]


def child_adult_cases(embeddings: LabelledEmbeddings, seed: int = 20261207) -> Cases:
    """The reports and found persons of the aged sets (see the module docstring)."""
    rng = np.random.default_rng(seed)
    ages = embeddings.ages_or_unknown()
    poor = embeddings.poor_or_good()
    sets = embeddings.sets
    vectors: list[NDArray[np.float32]] = []
    report_ages: list[float] = []
    report_poor: list[bool] = []
    people: list[str] = []
    found: list[tuple[str, NDArray[np.float32], NDArray[np.float64], NDArray[np.bool_]]] = []
    for identity in sorted(set(embeddings.identities.tolist())):
        rows = np.flatnonzero(embeddings.identities == identity)
        if sets[rows[0]] not in AGED_SETS:
            continue
        young = rows[ages[rows] < CHILD_UNDER]
        grown = rows[ages[rows] >= ADULT_FROM]
        if not len(young):
            continue
        pick = int(rng.choice(young))
        vectors.append(embeddings.vectors[pick])
        report_ages.append(float(ages[pick]))
        report_poor.append(bool(poor[pick]))
        people.append(identity)
        if len(grown) and not calibration_side(identity):
            found.append((identity, embeddings.vectors[grown], ages[grown], poor[grown]))
    return Cases(np.asarray(vectors, np.float32).reshape(-1, embeddings.vectors.shape[1]),
                 np.asarray(report_ages), people, found, np.asarray(report_poor))  # fmt: skip


def _ranks(scores: NDArray[np.float64], truth: int) -> int:
    """1 + the reports scored at least as high as the truth, other than it."""
    return int((scores >= scores[truth]).sum())


def rank_cases(cases: Cases, model: EvidenceModel) -> dict[str, list[int]]:
    """The true report's rank for every found person, by each method."""
    face_index = next(k for k, c in enumerate(model.comparisons) if isinstance(c, FaceComparison))
    table_ = model.tables[face_index]
    ranks: dict[str, list[int]] = {"distance": [], "model, ages known": [],
                                   "model, ages unknown": []}  # fmt: skip
    comparison = model.comparisons[face_index]
    assert isinstance(comparison, FaceComparison)
    for identity, faces, ages, poor in cases.found:
        truth = cases.report_people.index(identity)
        diff = cases.report_vectors[:, None, :] - faces[None, :, :]
        distances = np.sqrt(np.einsum("ijk,ijk->ij", diff, diff))
        nearest = distances.argmin(axis=1)
        closest = distances[np.arange(len(distances)), nearest]
        ranks["distance"].append(_ranks(-closest.astype(np.float64), truth))
        for label, known in (("model, ages known", True), ("model, ages unknown", False)):
            scores = np.empty(len(closest))
            for r, (d, f) in enumerate(zip(closest.tolist(), nearest.tolist(), strict=True)):
                either = bool(cases.report_poor[r] or poor[f])
                if known:
                    a, b = float(cases.report_ages[r]), float(ages[f])
                    stratum = face_stratum(a, BORN + a, b, BORN + b, either)
                else:
                    stratum = face_stratum(None, None, None, None, either)
                level = bin_index(d, FACE_EDGES) + 1
                scores[r] = table_.weight(Outcome(level, "", stratum, d))
            ranks[label].append(_ranks(scores, truth))
    return ranks


def summary(ranks: dict[str, list[int]]) -> dict[str, dict[str, float]]:
    """R@k and the mean number ranked above the truth, by method."""
    out = {}
    for method, values in ranks.items():
        r = np.asarray(values)
        out[method] = {**{f"R@{k}": float((r <= k).mean()) for k in KS},
                       "above": float((r - 1).mean())}  # fmt: skip
    return out


def run(embeddings: LabelledEmbeddings, model: EvidenceModel) -> dict[str, Any]:
    """The figures of one run."""
    cases = child_adult_cases(embeddings)
    return {
        "model": model.version,
        "curves": any(model.tables[k].curves for k in range(len(model.tables))),
        "reports": len(cases.report_people),
        "found_persons": len(cases.found),
        "found_photos": int(sum(len(f[1]) for f in cases.found)),
        "methods": summary(rank_cases(cases, model)),
    }


def markdown(result: dict[str, Any]) -> str:
    """The results page."""
    rows = [[method, *(f"{v[f'R@{k}']:.3f}" for k in KS), f"{v['above']:.1f}"]
            for method, v in result["methods"].items()]  # fmt: skip
    return (
        "# Children found as adults, by face alone\n\n"
        f"Model {result['model']} (face curves: {'yes' if result['curves'] else 'no'}). "
        f"{result['found_persons']} found persons ({result['found_photos']} adult photos, "
        f"FG-NET identities held out of the curves' fit), each ranking "
        f"{result['reports']} reports (one childhood photo under {CHILD_UNDER:g} each). "
        "`python -m evaluation.face_ages`.\n\n"
        + "\n".join(table_lines(["method", *(f"R@{k}" for k in KS), "ranked above"], rows))
        + "\n"
    )


def main(argv: list[str] | None = None) -> None:
    """Encode (cached), rank, write ``face_child_adult.{md,json}``."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--faces", type=Path, default=REPO.parent / "shared" / "faces")
    parser.add_argument("--model", type=Path, default=None, help="a model file (default shipped)")
    parser.add_argument("--out", type=Path, default=REPO / "bench" / "results")
    parser.add_argument("--name", default="face_child_adult")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    from indexes import DlibFaceModel
    from usecases.face_folders import encode_face_folder

    embeddings = encode_face_folder(args.faces, DlibFaceModel(), sets=list(AGED_SETS))
    model = (EvidenceModel.default() if args.model is None else
             EvidenceModel.from_text(args.model.read_text(encoding="utf-8"),
                                     source=str(args.model)))  # fmt: skip
    result = run(embeddings, model)
    logger.info("written %s", write_results(args.out, args.name, result, markdown(result)))


if __name__ == "__main__":
    main()
