"""Face bins fitted on labelled embeddings, refitted with decisions, checked on held-out people."""

from __future__ import annotations

import math
import os
from pathlib import Path

import numpy as np
import pytest

from matching.evidence_model import (
    EvidenceModel,
    LabelledEmbeddings,
    compare_with_threshold_rule,
    fit_face_bins,
    refit_face_calibration,
    with_face_calibration,
)
from matching.evidence_model.face_calibration import FACE_EDGES
from usecases.face_folders import DEGRADED_SUFFIX, ReadFace, encode_face_folder

SHARED_FACES = Path(
    os.environ.get("XUNQIN_FACES_DIR", Path(__file__).resolve().parents[3] / "shared" / "faces")
)
REPO_CACHE = Path(__file__).resolve().parents[2] / ".cache" / "face_calibration_embeddings.npz"


def _clusters(
    n_people: int, photos: int, *, spread: float, noise: float, seed: int, set_name: str
) -> LabelledEmbeddings:
    """People as points, photos around them: distances like dlib's when scaled so."""
    rng = np.random.default_rng(seed)
    per_dim = 1 / math.sqrt(2 * 128)
    centres = rng.normal(0, spread * per_dim, (n_people, 128))
    vectors = np.repeat(centres, photos, axis=0) + rng.normal(
        0, noise * per_dim, (n_people * photos, 128)
    )
    ids = np.array([f"{set_name}/p{i}" for i in range(n_people) for _ in range(photos)])
    return LabelledEmbeddings(vectors.astype(np.float32), ids)


@pytest.fixture(scope="module")
def crowded() -> LabelledEmbeddings:
    """Different people about 0.62 apart, as on asian_faces; photos of one person 0.4."""
    return _clusters(40, 5, spread=0.48, noise=0.4, seed=1, set_name="asian_faces")


def test_bins_favour_same_people_when_close(crowded: LabelledEmbeddings) -> None:
    calibration = fit_face_bins(crowded)
    assert len(calibration.same) == len(FACE_EDGES) + 1
    assert sum(calibration.same) == pytest.approx(1.0)
    assert sum(calibration.different) == pytest.approx(1.0)
    weights = calibration.weights
    assert min(weights[:3]) > 3
    assert min(weights) < -2
    assert calibration.n_same == 40 and calibration.n_different == 40 * 39 / 2
    assert "asian_faces" in calibration.source


def test_empty_bins_are_not_certain() -> None:
    far_apart = _clusters(10, 3, spread=3.0, noise=0.2, seed=2, set_name="asian_faces")
    calibration = fit_face_bins(far_apart)
    assert all(0 < p < 1 for p in calibration.same + calibration.different)
    assert max(calibration.weights) < 12


def test_sets_feed_their_side(crowded: LabelledEmbeddings) -> None:
    western = _clusters(10, 4, spread=1.2, noise=0.4, seed=3, set_name="lfw_krasserm")
    both = LabelledEmbeddings(
        np.concatenate([crowded.vectors, western.vectors]),
        np.concatenate([crowded.identities, western.identities]),
    )
    calibration = fit_face_bins(both)
    assert calibration.n_same == 50  # both sets' people
    assert calibration.n_different == 780  # asian_faces only
    with pytest.raises(ValueError, match="pairs of identities"):
        fit_face_bins(western)


def test_refit_with_reviewers_pairs(crowded: LabelledEmbeddings) -> None:
    calibration = fit_face_bins(crowded)
    refitted = refit_face_calibration(calibration, [0.3] * 200, [0.38] * 200, strength=50)
    assert refitted.same[0] > calibration.same[0]
    assert refitted.different[1] > calibration.different[1]
    assert "200 confirmed and 200 rejected" in refitted.source


def test_calibrated_beats_the_stock_rule_on_crowded_faces(crowded: LabelledEmbeddings) -> None:
    check = compare_with_threshold_rule(crowded, folds=4)
    assert check.rule.false_match_rate > 0.2
    assert check.calibrated.false_match_rate < check.rule.false_match_rate
    assert check.calibrated.bayes_factor_yes > check.rule.bayes_factor_yes
    assert check.mean_weight_same > 0 > check.mean_weight_different
    assert len(check.bins) == len(FACE_EDGES) + 1
    assert check.rule.precision_at[0.5] < check.calibrated.precision_at[0.5]


def test_calibration_into_the_model(crowded: LabelledEmbeddings) -> None:
    model = EvidenceModel.default()
    params = with_face_calibration(model.params, fit_face_bins(crowded))
    face = params.comparison("face")
    adult = face.stratum("adult_recent").weights()
    child = face.stratum("child_to_adult").weights()
    assert adult[0] > child[0] > 0  # a childhood photo says less
    assert params.history[-1]["step"] == "face_calibration"


class _Model:
    name = "fake-model"


def test_encode_folder_uses_the_layout_and_caches_by_mtime(tmp_path: Path) -> None:
    folder = tmp_path / "faces"
    for set_name, people in (("asian_faces", 3), ("_multi", 1)):
        for person in range(people):
            for photo in range(2):
                path = folder / set_name / f"p{person}" / f"{photo}.jpg"
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_bytes(b"not a real photo")
    (folder / "asian_faces" / "_junk").mkdir()
    calls: list[Path] = []

    def detect(path: Path) -> list[ReadFace]:
        calls.append(path)
        if path.name == "1.jpg" and path.parent.name == "p2":
            return []  # no face: left out
        seed = int(path.parent.name[1:]) * 10 + int(path.stem)
        vector = np.random.default_rng(seed).normal(size=128).astype(np.float32)
        return [ReadFace(vector, poor=seed % 2 == 1)]

    cache = tmp_path / "cache.npz"
    first = encode_face_folder(folder, _Model(), cache=cache, detector=detect)  # type: ignore[arg-type]
    assert len(calls) == 6 and len(first.identities) == 5
    assert set(first.identities) == {"asian_faces/p0", "asian_faces/p1", "asian_faces/p2"}
    again = encode_face_folder(folder, _Model(), cache=cache, detector=detect)  # type: ignore[arg-type]
    assert len(calls) == 6, "unchanged photos come from the cache"
    assert np.array_equal(first.vectors, again.vectors)
    touched = folder / "asian_faces" / "p0" / "0.jpg"
    os.utime(touched, (1, 1))
    encode_face_folder(folder, _Model(), cache=cache, detector=detect)  # type: ignore[arg-type]
    assert calls[-1] == touched and len(calls) == 7


@pytest.mark.faces
def test_shipped_figures_on_asian_faces() -> None:
    """The development photos, from the embedding cache build_default_model leaves behind."""
    if not SHARED_FACES.is_dir():
        pytest.skip(f"no development photos at {SHARED_FACES}")
    if not REPO_CACHE.is_file():
        pytest.skip("no cached embeddings: run python -m evaluation.build_default_model")
    with np.load(REPO_CACHE, allow_pickle=False) as data:
        # The photos themselves: not the degraded copies the poor face strata are fitted on.
        copies = np.char.find(data["paths"].astype(str), DEGRADED_SUFFIX.split("-")[0]) >= 0
        keep = (data["face_counts"] == 1) & ~copies
        ids = np.array(["/".join(str(p).split("/")[:2]) for p in data["paths"]])
        embeddings = LabelledEmbeddings(data["vectors"][keep], ids[keep])
    check = compare_with_threshold_rule(embeddings)
    assert check.rule.false_match_rate > 0.25  # the README's "a third under 0.6"
    assert check.calibrated.false_match_rate < 0.08
    assert check.calibrated.recall > 0.75
