"""Face distance weighed by a curve per stratum: nearer is always stronger, bounded by
what the fitting data showed, kept in the model file, fitted on labelled photos with
ages, and ranking children found as adults as the plain distance does."""

from __future__ import annotations

import json
import math
import os
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from evaluation.face_ages import child_adult_cases, rank_cases, summary
from matching.evidence_model import (
    EvidenceModel,
    FaceCurve,
    LabelledEmbeddings,
    ModelFileError,
    fit_face_bins,
    fit_face_curves,
    with_face_calibration,
)
from matching.evidence_model.face_curve import LabelledDistances, fit_face_curve, fit_poor_scale
from matching.evidence_model.face_curve_fit import calibration_side
from matching.views import FaceView, FoundView, MissingView
from tests.evidence_model.conftest import along

SHARED_FACES = Path(
    os.environ.get("XUNQIN_FACES_DIR", Path(__file__).resolve().parents[3] / "shared" / "faces")
)
REPO_CACHE = Path(__file__).resolve().parents[2] / ".cache" / "face_calibration_embeddings.npz"


def _labelled(same: np.ndarray, different: np.ndarray) -> LabelledDistances:
    return LabelledDistances(
        same, np.ones(len(same)), np.arange(len(same)) // 3,
        different, np.ones(len(different)), np.arange(len(different)) // 3,
    )  # fmt: skip


@pytest.fixture(scope="module")
def curve() -> FaceCurve:
    rng = np.random.default_rng(3)
    return fit_face_curve(
        _labelled(rng.normal(0.40, 0.07, 600), rng.normal(0.62, 0.06, 3000)),
        source="synthetic", bootstrap=30,
    )  # fmt: skip


def test_nearer_is_always_stronger_and_never_past_the_bounds(curve: FaceCurve) -> None:
    grid = np.linspace(0.0, 1.5, 3001)
    weights = curve.weights(grid)
    assert np.all(np.diff(weights) < 0)  # strictly: no two distances tie
    assert weights.max() < curve.most and weights.min() > curve.least
    assert curve.weight(0.3) > 3 and curve.weight(0.75) < -2
    # one distance, the same number either way (the two scorers use one or the other)
    assert [curve.weight(float(d)) for d in grid[::50]] == pytest.approx(
        weights[::50].tolist(), abs=1e-12
    )


def test_the_interval_brackets_the_curve(curve: FaceCurve) -> None:
    assert len(curve.interval) == 6
    for distance, low, high in curve.interval:
        assert low <= curve.weight(distance) + 1e-6 and curve.weight(distance) <= high + 1e-6
        assert high - low < 2.0  # 600 and 3,000 pairs pin it down


def test_a_curve_is_refused_where_the_data_cannot_fit_one() -> None:
    rng = np.random.default_rng(4)
    with pytest.raises(ValueError, match="needs 20 pairs"):
        fit_face_curve(_labelled(rng.normal(0.4, 0.1, 5), rng.normal(0.6, 0.1, 500)), source="")
    with pytest.raises(ValueError, match="do not separate"):
        fit_face_curve(_labelled(rng.normal(0.7, 0.05, 200), rng.normal(0.5, 0.05, 500)),
                       source="")  # fmt: skip
    with pytest.raises(ValueError, match="fall with distance"):
        FaceCurve(0.0, 1.0, 0.5, 5.0, -5.0, 1, 1, "")


def _face(vector: np.ndarray, age: int) -> FaceView:
    return FaceView(face_id=age + 1000, embedding=vector.astype(np.float32), taken_year=2000 + age,
                    age_at_photo=age)  # fmt: skip


def test_the_shipped_model_weighs_every_face_stratum_by_a_curve(
    default_model: EvidenceModel,
    make_missing: Callable[..., MissingView],
    make_found: Callable[..., FoundView],
) -> None:
    """Two rivals in the same old bin (0.60 to 0.66) no longer tie: the nearer weighs more,
    for a childhood photo against an adult one as for two adults."""
    face = default_model.params.comparison("face")
    assert all(s.curve is not None for s in face.strata)
    for child_age in (6, 30):
        report = make_missing(faces=(_face(along(0, 0.0), child_age),))
        near = make_found(faces=(_face(along(1, 0.61), 40),))
        far = make_found(faces=(_face(along(1, 0.65), 40),))
        terms = [default_model.score(report, f).signal("face") for f in (near, far)]
        assert terms[0].level == terms[1].level  # same bin...
        assert terms[0].weight > terms[1].weight  # ...not the same weight
        assert terms[0].m is None  # the bin's m/u are not what weighs it
    child = default_model.score(
        make_missing(faces=(_face(along(0, 0.0), 6),)),
        make_found(faces=(_face(along(1, 0.75), 40),)),
    ).signal("face")
    adult = default_model.score(
        make_missing(faces=(_face(along(0, 0.0), 30),)),
        make_found(faces=(_face(along(1, 0.75), 40),)),
    ).signal("face")
    assert child.stratum == "child_to_adult" and adult.stratum == "adult_long"
    assert adult.weight < child.weight < 0  # a child grown up drifts further: less against


def test_curves_survive_the_model_file_and_a_refit_of_the_bins(
    default_model: EvidenceModel,
) -> None:
    text = default_model.to_text()
    again = EvidenceModel.from_text(text, source="test")
    for a, b in zip(default_model.params.comparison("face").strata,
                    again.params.comparison("face").strata, strict=True):  # fmt: skip
        assert a.curve is not None and b.curve is not None
        assert a.curve.weight(0.55) == pytest.approx(b.curve.weight(0.55), abs=1e-12)
    rng = np.random.default_rng(5)
    centres = rng.normal(0, 0.03, (30, 128))
    vectors = np.repeat(centres, 3, axis=0) + rng.normal(0, 0.025, (90, 128))
    ids = np.array([f"asian_faces/p{i}" for i in range(30) for _ in range(3)])
    bins = fit_face_bins(LabelledEmbeddings(vectors.astype(np.float32), ids))
    rebinned = with_face_calibration(default_model.params, bins)
    assert all(s.curve is not None for s in rebinned.comparison("face").strata)


def test_a_broken_curve_in_a_model_file_is_named(default_model: EvidenceModel) -> None:
    data = json.loads(default_model.to_text())
    face = next(c for c in data["comparisons"] if c["name"] == "face")
    face["strata"][3]["curve"]["slope"] = 2.0
    face["strata"][0]["curve"] = "steep"
    with pytest.raises(ModelFileError) as caught:
        EvidenceModel.from_text(json.dumps(data), source="broken.json")
    text = "\n".join(caught.value.problems)
    assert "strata[child_to_adult].curve" in text and "fall with distance" in text
    assert "strata[adult_recent].curve: expected an object" in text


def test_a_model_file_with_curves_on_some_face_strata_only_is_refused(
    default_model: EvidenceModel,
) -> None:
    data = json.loads(default_model.to_text())
    face = next(c for c in data["comparisons"] if c["name"] == "face")
    del face["strata"][2]["curve"]
    with pytest.raises(ModelFileError, match="either every stratum has a curve or none"):
        EvidenceModel.from_text(json.dumps(data), source="mixed.json")


def _aged(n_people: int, seed: int) -> LabelledEmbeddings:
    """People whose face drifts with age: photos at 3, 6, 25 and 40, the child's far off."""
    rng = np.random.default_rng(seed)
    per_dim = 1 / math.sqrt(2 * 128)
    vectors, ids, ages, poor = [], [], [], []

    def photo(centre: np.ndarray, person: str, age: float, bad: bool) -> None:
        # A poor photo: blurred into noise that hides who it is.
        noise = 0.6 if bad else 0.3
        vectors.append(centre + rng.normal(0, noise * per_dim, 128))
        ids.append(person)
        ages.append(age)
        poor.append(bad)

    for p in range(n_people):
        centre = rng.normal(0, 0.5 * per_dim, 128)
        drift = rng.normal(0, 0.35 * per_dim, 128)
        for age in (3, 6, 25, 40):
            photo(centre + (drift if age < 16 else 0.0), f"fgnet_aging/p{p}", float(age),
                  bad=age == 6 and p % 3 == 0)  # fmt: skip
    for p in range(n_people):  # East Asian adults, one period, ages unknown
        centre = rng.normal(0, 0.45 * per_dim, 128)
        for k in range(4):
            photo(centre, f"casia_facev5_asian/q{p}", math.nan, bad=k == 3)
    return LabelledEmbeddings(np.asarray(vectors, np.float32), np.array(ids), np.array(ages),
                              np.array(poor))  # fmt: skip


def test_curves_are_fitted_on_the_calibration_side_and_children_weigh_less() -> None:
    embeddings = _aged(60, seed=6)
    curves = fit_face_curves(embeddings, bootstrap=10)
    ages = {"adult_recent", "adult_long", "child_recent", "child_to_adult", "ages_unknown"}
    assert set(curves) == ages | {f"{label}_poor" for label in ages}
    # A poor photo says less, both ways, with the distances in the same order: its own
    # curve where its stratum has poor pairs enough, else the good one scaled down.
    for label in ages:
        good, poor = curves[label], curves[f"{label}_poor"]
        if poor.scale < 1.0:
            assert poor.weight(0.3) == pytest.approx(poor.scale * good.weight(0.3))
            assert abs(poor.weight(0.8)) < abs(good.weight(0.8))
    poor_adults, adults = curves["adult_recent_poor"], curves["adult_recent"]
    assert poor_adults.scale == 1.0  # fitted on its own poor pairs
    assert poor_adults.details["same_mean"] > adults.details["same_mean"] + 0.05
    calibrating = {i for i in set(embeddings.identities.tolist()) if calibration_side(i)}
    assert curves["child_to_adult"].n_same == sum(i.startswith("fgnet") for i in calibrating)
    assert 0 < len(calibrating) < 120
    # a child grown up drifts: the stratum holds the pairs that show it
    child, adult = curves["child_to_adult"].details, curves["adult_recent"].details
    assert child["same_mean"] > adult["same_mean"] + 0.05
    assert "x0." in curves["child_to_adult"].source  # the East Asian scaling is said


def test_ages_missing_from_a_stratum_name_it() -> None:
    embeddings = _aged(60, seed=7)
    adults = embeddings.subset(~np.char.startswith(embeddings.identities, "fgnet"))
    with pytest.raises(ValueError, match="face stratum adult_long"):
        fit_face_curves(adults, bootstrap=0)


@pytest.mark.faces
def test_children_found_as_adults_rank_by_face_as_the_distance_does(
    default_model: EvidenceModel,
) -> None:
    """FG-NET identities held out of the curves' fit: the model's face term ranks a
    childhood photo against adult photos at least as well as the plain distance (with
    the shipped bins it ranked R@10 0.667 against the distance's 0.879)."""
    if not SHARED_FACES.is_dir():
        pytest.skip(f"no development photos at {SHARED_FACES}")
    if not REPO_CACHE.is_file():
        pytest.skip("no cached embeddings: run python -m evaluation.build_default_model")
    with np.load(REPO_CACHE, allow_pickle=False) as data:
        paths = data["paths"].astype(str)
        keep = (data["face_counts"] == 1) & np.char.startswith(paths, "fgnet_aging/")
        keep &= np.char.find(paths, "#degraded") < 0
        paths = data["paths"][keep]
        ids = np.array(["/".join(str(p).split("/")[:2]) for p in paths])
        ages = np.array([float(str(p).split("/")[2][3:5]) for p in paths])
        embeddings = LabelledEmbeddings(data["vectors"][keep], ids, ages)
    figures = summary(rank_cases(child_adult_cases(embeddings), default_model))
    distance = figures["distance"]
    for method in ("model, ages known", "model, ages unknown"):
        assert figures[method]["R@10"] >= distance["R@10"]
        assert figures[method]["R@1"] >= distance["R@1"]


def test_a_curve_refuses_to_round_trip_nonsense() -> None:
    good = FaceCurve(-1.0, -20.0, 0.6, 6.0, -3.0, 10, 45, "test").as_json()
    assert FaceCurve.from_json(good).weight(0.5) == pytest.approx(
        FaceCurve(-1.0, -20.0, 0.6, 6.0, -3.0, 10, 45, "test").weight(0.5)
    )
    with pytest.raises(ValueError):
        FaceCurve.from_json({**good, "most": -1.0})
    with pytest.raises(KeyError):
        FaceCurve.from_json({k: v for k, v in good.items() if k != "slope"})
    assert replace(FaceCurve.from_json(good), source="x").source == "x"


def test_the_scale_of_poor_photos_is_what_their_pairs_show() -> None:
    """Pairs whose true log2 likelihood ratio is 0.4 times the curve's weight."""
    rng = np.random.default_rng(8)
    weights = rng.uniform(-6, 8, 40_000)
    same = rng.random(len(weights)) < 1.0 / (1.0 + 2.0 ** (-0.4 * weights))
    # Each class weighs a half in the fit: the drawn prior (about a half here) drops out.
    assert fit_poor_scale(weights, same, np.ones(len(weights))) == pytest.approx(0.4, abs=0.05)


def test_a_poor_photo_pair_is_weighed_by_the_poor_twin(
    default_model: EvidenceModel,
    make_missing: Callable[..., MissingView],
    make_found: Callable[..., FoundView],
) -> None:
    good = FaceView(face_id=1, embedding=along(0, 0.0), taken_year=2020, age_at_photo=30)
    blurred = replace(good, face_id=2, poor=True)
    near = FaceView(face_id=3, embedding=along(1, 0.35), taken_year=2022, age_at_photo=32)
    terms = [default_model.score(make_missing(faces=(face,)), make_found(faces=(near,)))
             .signal("face") for face in (good, blurred)]  # fmt: skip
    assert terms[0].stratum == "adult_recent" and terms[1].stratum == "adult_recent_poor"
    assert 0 < terms[1].weight < terms[0].weight


def test_a_face_term_says_how_sure_its_calibration_is(
    default_model: EvidenceModel,
    make_missing: Callable[..., MissingView],
    make_found: Callable[..., FoundView],
) -> None:
    """The explanation gives the range the weight took when the curve was refitted on
    identities drawn again; the range holds the weight."""
    report = make_missing(faces=(_face(along(0, 0.0), 30),))
    found = make_found(faces=(_face(along(1, 0.45), 34),))
    term = default_model.score(report, found).signal("face")
    low, high = (
        default_model.params.comparison("face").stratum("adult_recent").curve.interval_at(0.45)
    )  # type: ignore[union-attr]
    assert f"{low:+.1f} to {high:+.1f} bits in 90% of refits" in term.detail
    assert low - 0.05 <= term.weight <= high + 0.05
    assert FaceCurve(-1.0, -20.0, 0.6, 6.0, -3.0, 1, 1, "").interval_at(0.5) is None
