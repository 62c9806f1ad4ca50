"""The approximate index against exact search on vectors drawn like real faces.

The vectors come from ``evaluation.bench.face_vectors``: people with 1-5 photos, with
the between- and within-person covariance of real dlib embeddings (the built-in
statistics, so no photo is needed). Recall thresholds are for these small sizes; the
benchmark measures 100k and 1M.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest

from evaluation.bench.face_index_scale import main as bench_main
from evaluation.bench.face_index_scale import recall_at_k
from evaluation.bench.face_index_scale import row_ids as ids
from evaluation.bench.face_vectors import (
    BUILTIN_STATISTICS,
    DistanceCheck,
    FaceEmbeddings,
    FaceStatistics,
    draw_faces,
    draw_queries,
)
from indexes.face_index import FaceIndex, HnswParams, IndexKind

REPO = Path(__file__).resolve().parents[1]
SHARED_FACES = Path(os.environ.get("XUNQIN_FACES_DIR", REPO.parent / "shared" / "faces"))
EMBEDDINGS_CACHE = REPO / ".cache" / "face_embeddings.npz"


@pytest.fixture(scope="module")
def stats() -> FaceStatistics:
    return FaceStatistics.read(BUILTIN_STATISTICS)


def test_drawn_faces_keep_the_distances_of_real_ones(stats: FaceStatistics) -> None:
    faces = draw_faces(stats, 30_000, seed=1)
    counts = np.bincount(faces.person)
    assert counts.min() >= 1 and counts.max() <= 5 and len(faces.vectors) == 30_000
    check = DistanceCheck.from_faces(faces.vectors, faces.person, pairs=20_000, seed=2)
    # the photos measured 0.39 for one person and 0.83 between people
    assert check.same_person == pytest.approx(0.39, abs=0.03)
    assert check.different_people == pytest.approx(0.83, abs=0.03)
    norms = np.linalg.norm(faces.vectors, axis=1)
    assert norms.mean() == pytest.approx(1.43, abs=0.03)
    values = np.linalg.eigvalsh(np.cov(faces.vectors.T.astype(np.float64)))[::-1]
    effective = int(np.searchsorted(np.cumsum(values) / values.sum(), 0.8)) + 1
    assert 20 <= effective <= 35  # 80% of the variance in about 26 of 128 directions
    assert np.array_equal(
        draw_faces(stats, 1000, seed=1).vectors, draw_faces(stats, 1000, seed=1).vectors
    )


def test_fitting_recovers_the_statistics_it_was_drawn_from(stats: FaceStatistics) -> None:
    faces = draw_faces(stats, 20_000, seed=3, photos_per_person=(0, 0, 0, 0.5, 0.5))
    fitted = FaceStatistics.fit(FaceEmbeddings(faces.vectors, faces.person.astype(str)))
    assert fitted.within.trace == pytest.approx(stats.within.trace, rel=0.05)
    assert fitted.between.trace == pytest.approx(stats.between.trace, rel=0.05)
    assert np.abs(fitted.mean - stats.mean).max() < 0.01


@pytest.mark.faces
@pytest.mark.skipif(
    not SHARED_FACES.is_dir() or not EMBEDDINGS_CACHE.exists(),
    reason="needs ../shared/faces and its cached embeddings (run the benchmark once)",
)
def test_built_in_statistics_are_the_photos_statistics(stats: FaceStatistics) -> None:
    from evaluation.bench.face_vectors import embed_face_photos

    fitted = FaceStatistics.fit(embed_face_photos(SHARED_FACES, cache=EMBEDDINGS_CACHE))
    assert fitted.source == stats.source
    assert fitted.between.trace == pytest.approx(stats.between.trace, rel=1e-6)
    assert fitted.within.trace == pytest.approx(stats.within.trace, rel=1e-6)


@pytest.mark.slow
def test_hnsw_recall_against_exact_search(stats: FaceStatistics) -> None:
    faces = draw_faces(stats, 20_000, seed=4)
    queries = draw_queries(stats, faces, 200, seed=5)
    sex = (faces.person % 2 + 1).astype(np.int64)
    built = {}
    graph = HnswParams(exact_under=1000)  # so that the filter goes through the graph
    for kind in (IndexKind.EXACT, IndexKind.HNSW):
        index = FaceIndex(model="m", kind=kind, attributes=("sex",), hnsw=graph)
        index.add(np.arange(len(faces.vectors)), faces.vectors, owners=faces.person,
                  attributes={"sex": sex})  # fmt: skip
        built[kind] = index
    exact, approx = built[IndexKind.EXACT], built[IndexKind.HNSW]

    truth = ids(exact.search(queries, 10))
    assert recall_at_k(ids(approx.search(queries, 10)), truth, 10) >= 0.97
    assert recall_at_k(ids(approx.search(queries, 10, ef_search=16)), truth, 10) < recall_at_k(
        ids(approx.search(queries, 10, ef_search=256)), truth, 10
    )
    filtered = {"sex": [2]}
    assert (
        recall_at_k(
            ids(approx.search(queries, 10, filters=filtered)),
            ids(exact.search(queries, 10, filters=filtered)),
            10,
        )
        >= 0.95
    )
    assert (
        recall_at_k(
            ids(approx.search_persons(queries, 10)),
            ids(exact.search_persons(queries, 10)),
            10,
        )
        >= 0.97
    )
    gone = np.arange(0, len(faces.vectors), 10)
    exact.remove(gone)
    approx.remove(gone)
    assert approx.dead == len(gone)
    assert (
        recall_at_k(
            ids(approx.search(queries, 10)),
            ids(exact.search(queries, 10)),
            10,
        )
        >= 0.97
    )


def test_recall_at_k_counts_shares_of_the_true_neighbours() -> None:
    cases = [
        ("all found", [[1, 2, 3]], [[3, 2, 1]], 3, 1.0),
        ("one of two", [[1, 9]], [[1, 2]], 2, 0.5),
        ("only the first k count", [[9, 1]], [[1, 2]], 1, 0.0),
        ("queries with no truth are left out", [[1], []], [[1], []], 1, 1.0),
        ("mean over queries", [[1], [9]], [[1], [2]], 1, 0.5),
    ]
    for description, found, truth, k, expected in cases:
        assert recall_at_k(found, truth, k) == expected, description


@pytest.mark.slow
def test_the_benchmark_writes_its_report(tmp_path: Path) -> None:
    argv = ["--sizes", "3000", "--queries", "60", "--side-queries", "30",
            "--exact-latency-queries", "20", "--ef-sweep", "32", "64",
            "--faces-dir", str(tmp_path / "no-photos"), "--out", str(tmp_path / "out")]  # fmt: skip
    assert bench_main(argv) == 0
    report = json.loads((tmp_path / "out" / "face_index.json").read_text())
    (size,) = report["sizes"]
    assert size["vectors"] == 3000
    names = [m["name"] for m in size["hnsw"]["searches"]]
    assert "plain, ef_search=32" in names and "after removing 10% (tombstones)" in names
    assert all(0.0 <= m["recall_at_10"] <= 1.0 for m in size["hnsw"]["searches"])
    assert size["hnsw"]["files"]["file_mb"] > 0
    assert "| hnsw |" in (tmp_path / "out" / "face_index.md").read_text()
