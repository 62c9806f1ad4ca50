"""Both kinds of face index against brute force: deletes, filters, persons, files, switching.

Every test runs on the exact index and on a forced HNSW index, so the approximate kind is
held to the exact one's answers (the HNSW searches here look at enough candidates to be
exact on a few thousand vectors; recall at scale is in ``test_face_index_recall.py``).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from indexes import FaceIndex, IndexCorruptError, IndexModelMismatchError, face_index_files
from indexes.face_index import Filters, HnswParams, IndexKind, PersonNeighbour

KINDS = [IndexKind.EXACT, IndexKind.HNSW]
SEARCHING = HnswParams(m=16, ef_construction=64, ef_search=256, exact_under=100)


def _vectors(n: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).normal(size=(n, 128)).astype(np.float32)


def _index(kind: IndexKind, **kwargs: object) -> FaceIndex:
    return FaceIndex(model="m", kind=kind, hnsw=SEARCHING, **kwargs)  # type: ignore[arg-type]


def _brute(
    data: np.ndarray, ids: np.ndarray, query: np.ndarray, k: int, keep: np.ndarray | None = None
) -> list[int]:
    keep = np.ones(len(ids), dtype=bool) if keep is None else keep
    distances = np.linalg.norm(data[keep] - query, axis=1)
    return [int(i) for i in ids[keep][np.argsort(distances, kind="stable")[:k]]]


def _kind(index: FaceIndex) -> IndexKind:
    return index.kind  # read through a function, so mypy does not narrow it across changes


def _recall(found: list[int], expected: list[int]) -> float:
    return len(set(found) & set(expected)) / len(expected)


@pytest.mark.parametrize("kind", KINDS)
def test_search_agrees_with_brute_force(kind: IndexKind) -> None:
    index = _index(kind)
    data, ids = _vectors(1500), np.arange(10_000, 11_500)
    index.add(ids, data)
    assert index.kind is kind
    for query in _vectors(10, seed=1):
        row = index.search(query, 10)[0]
        expected = _brute(data, ids, query, 10)
        if kind is IndexKind.EXACT:
            assert [n.id for n in row] == expected
        else:
            assert _recall([n.id for n in row], expected) >= 0.9
        distances = [n.distance for n in row]
        assert distances == sorted(distances)
        assert distances[0] == pytest.approx(np.linalg.norm(data[ids == row[0].id] - query))


@pytest.mark.parametrize("kind", KINDS)
def test_removed_and_replaced_faces_never_come_back(kind: IndexKind) -> None:
    index = _index(kind, max_dead_share=0.5)
    data, ids = _vectors(400), np.arange(400)
    index.add(ids, data)
    gone = np.arange(0, 400, 3)
    assert index.remove(gone) == len(gone)
    assert index.remove(gone) == 0  # already gone
    if kind is IndexKind.HNSW:
        assert index.dead == len(gone)  # tombstones: HNSW cannot remove
    keep = ~np.isin(ids, gone)
    assert index.ids().tolist() == ids[keep].tolist()
    assert len(index) == keep.sum()
    for query in data[gone[:20]]:  # the removed faces' own vectors
        row = index.search(query, 5)[0]
        assert not {n.id for n in row} & set(gone.tolist())
        assert [n.id for n in row] == _brute(data, ids, query, 5, keep)
    # replacing moves an id to a new vector and leaves no trace of the old one
    index.add([1], data[2:3] + 0.001)
    assert index.search(data[1], 1)[0][0].id != 1
    assert index.search(data[2], 2)[0][0].id in {1, 2}
    assert len(index) == keep.sum()


def test_hnsw_tombstones_are_compacted_past_the_limit() -> None:
    index = _index(IndexKind.HNSW, max_dead_share=0.25)
    data = _vectors(200)
    index.add(range(200), data)
    index.remove(range(40))
    assert index.dead == 40 and _kind(index) is IndexKind.HNSW
    index.remove(range(40, 60))  # 60 dead of 200 passes a quarter: rebuilt
    assert index.dead == 0
    assert index.ids().tolist() == list(range(60, 200))
    index.remove([100])
    index.compact()
    assert index.dead == 0 and len(index) == 139
    assert index.search(data[150], 1)[0][0].id == 150


@pytest.mark.parametrize("kind", KINDS)
def test_filters_apply_inside_the_search(kind: IndexKind) -> None:
    index = _index(kind, attributes=("sex", "region", "station"))
    rng = np.random.default_rng(3)
    n = 2000
    data, ids = _vectors(n, seed=4), np.arange(5000, 5000 + n)
    sex = rng.integers(1, 3, n)
    region = rng.choice([110000, 310000, 440000, 510000], n)
    station = rng.integers(0, 100, n)
    index.add(ids, data, attributes={"sex": sex, "region": region, "station": station})
    two_regions = (sex == 2) & np.isin(region, [110000, 510000])
    cases: list[tuple[str, Filters, np.ndarray]] = [
        ("one sex", {"sex": [1]}, sex == 1),
        ("sex and two regions", {"sex": [2], "region": {110000, 510000}}, two_regions),
        ("one station: narrow, searched exactly", {"station": [7]}, station == 7),
        ("nothing passes", {"region": []}, np.zeros(n, dtype=bool)),
    ]
    for description, filters, keep in cases:
        for query in _vectors(5, seed=5):
            row = index.search(query, 10, filters=filters)[0]
            expected = _brute(data, ids, query, 10, keep)
            assert len(row) == len(expected), description  # k found, not over-fetched
            assert all(keep[ids == n.id][0] for n in row), description
            if kind is IndexKind.EXACT or keep.sum() < SEARCHING.exact_under:
                assert [n.id for n in row] == expected, description
            else:
                assert _recall([n.id for n in row], expected) >= 0.9, description


@pytest.mark.parametrize("kind", KINDS)
def test_filters_combine_with_deletes(kind: IndexKind) -> None:
    index = _index(kind, attributes=("sex",), max_dead_share=0.9)
    data = _vectors(300)
    index.add(range(300), data, attributes={"sex": np.arange(300) % 2})
    index.remove(range(0, 300, 4))  # every fourth, all of sex 0
    row = index.search(data[0], 300, filters={"sex": [0]})[0]
    assert sorted(n.id for n in row) == [i for i in range(0, 300, 2) if i % 4]


def test_unknown_attributes_are_refused() -> None:
    index = FaceIndex(model="m", attributes=("sex",))
    with pytest.raises(ValueError, match="unknown attribute 'age'"):
        index.add([1], _vectors(1), attributes={"age": [3]})
    with pytest.raises(ValueError, match="1 values of 'sex' for 2 vectors"):
        index.add([1, 2], _vectors(2), attributes={"sex": [1]})
    with pytest.raises(ValueError, match="integers"):
        index.add([1], _vectors(1), attributes={"sex": [1.5]})
    index.add([1, 2], _vectors(2), attributes={"sex": [1, 2]})
    with pytest.raises(ValueError, match="unknown attribute 'region'"):
        index.search(_vectors(1), 1, filters={"region": [1]})
    with pytest.raises(ValueError, match="collection"):
        index.search(_vectors(1), 1, filters={"sex": 1})  # type: ignore[dict-item]
    # a face added without an attribute has the UNKNOWN value, which filters can ask for
    index.add([3], _vectors(1, seed=9))
    assert [n.id for n in index.search(_vectors(1, seed=9), 3, filters={"sex": [-1]})[0]] == [3]


def _person_brute(
    data: np.ndarray, ids: np.ndarray, owners: np.ndarray, query: np.ndarray, k: int
) -> list[tuple[int, int]]:
    distances = np.linalg.norm(data - query, axis=1)
    best: dict[int, tuple[float, int]] = {}
    for owner, face, distance in zip(owners, ids, distances, strict=True):
        if owner not in best or distance < best[owner][0]:
            best[int(owner)] = (float(distance), int(face))
    ranked = sorted(best.items(), key=lambda item: item[1][0])[:k]
    return [(owner, face) for owner, (_, face) in ranked]


@pytest.mark.parametrize("kind", KINDS)
def test_persons_are_ranked_by_their_nearest_face(kind: IndexKind) -> None:
    rng = np.random.default_rng(6)
    centres = _vectors(300, seed=7)
    owners = np.concatenate([np.repeat([0, 1], 60), rng.integers(2, 300, 600)])
    data = (centres[owners] + 0.05 * _vectors(len(owners), seed=8)).astype(np.float32)
    ids = np.arange(100, 100 + len(owners))
    index = _index(kind)
    index.add(ids, data, owners=owners)
    # persons 0 and 1 own 60 photos each around the query: the first fetch of 4 * k faces
    # holds only them, so the search has to fetch again
    query = centres[0]
    rows = index.search_persons(np.stack([query, centres[5]]), 5)
    assert [(p.person, p.face) for p in rows[0]] == _person_brute(data, ids, owners, query, 5)
    assert [(p.person, p.face) for p in rows[1]] == _person_brute(data, ids, owners, centres[5], 5)
    nearest = rows[0][0]
    assert nearest == PersonNeighbour(0, nearest.face, nearest.distance)
    assert nearest.distance == pytest.approx(np.linalg.norm(data[ids == nearest.face] - query))
    assert index.owners([100, 219, 100]).tolist() == [0, 1, 0]
    # fewer persons than asked for: every one of them, once
    small = _index(kind)
    small.add([1, 2, 3], _vectors(3), owners=[7, 7, 8])
    assert [p.person for p in small.search_persons(_vectors(1, seed=1), 5)[0]] in ([7, 8], [8, 7])


@pytest.mark.parametrize("kind", KINDS)
def test_save_and_load_round_trip(kind: IndexKind, tmp_path: Path) -> None:
    index = _index(kind, attributes=("sex", "station"), calibration="cal-2024", max_dead_share=0.9)
    data = _vectors(300)
    index.add(range(300), data, owners=np.arange(300) // 3, attributes={"sex": np.arange(300) % 2})
    index.remove([5, 6, 7])
    path = tmp_path / "faces.faiss"
    index.save(path)
    loaded = FaceIndex.load(path, model="m")
    assert loaded.kind is kind and loaded.forced_kind is kind
    assert loaded.sidecar() == index.sidecar()
    assert loaded.sidecar()["calibration"] == "cal-2024"
    assert loaded.hnsw == SEARCHING and loaded.attributes == ("sex", "station")
    assert loaded.ids().tolist() == index.ids().tolist()
    queries = _vectors(5, seed=2)
    assert loaded.search(queries, 7, filters={"sex": [1]}) == index.search(
        queries, 7, filters={"sex": [1]}
    )
    assert loaded.search_persons(queries, 4) == index.search_persons(queries, 4)
    loaded.add([1000], data[6:7])  # still a working index
    assert loaded.search(data[6], 1)[0][0].id == 1000
    assert not list(tmp_path.glob(".*"))


def test_loading_refuses_another_model_and_damaged_files(tmp_path: Path) -> None:
    index = _index(IndexKind.HNSW)
    index.add(range(50), _vectors(50))
    path = tmp_path / "faces.faiss"
    index.save(path)
    sidecar = face_index_files.sidecar_path(path)
    good_sidecar, good_index = sidecar.read_bytes(), path.read_bytes()
    with pytest.raises(IndexModelMismatchError):
        FaceIndex.load(path, model="other")

    def edit_sidecar(old: bytes, new: bytes) -> Callable[[], object]:
        return lambda: sidecar.write_bytes(good_sidecar.replace(old, new))

    damages: list[tuple[str, Callable[[], object]]] = [
        ("truncated index file", lambda: path.write_bytes(good_index[: len(good_index) // 2])),
        ("index file of zeros", lambda: path.write_bytes(bytes(len(good_index)))),
        ("a flipped byte", lambda: path.write_bytes(_flip(good_index, len(good_index) * 3 // 4))),
        ("no index file", path.unlink),
        ("sidecar of another save", edit_sidecar(b'"generation": "', b'"generation": "0')),
        ("sidecar count edited", edit_sidecar(b'"count": 50', b'"count": 49')),
        ("an older sidecar version", edit_sidecar(b'"version": 3', b'"version": 2')),
        ("sidecar not JSON", lambda: sidecar.write_text("{broken")),
        ("sidecar a list", lambda: sidecar.write_text("[]")),
    ]
    for description, damage in damages:
        damage()
        with pytest.raises(IndexCorruptError):
            FaceIndex.load(path, model="m")
            pytest.fail(description)
        sidecar.write_bytes(good_sidecar)
        path.write_bytes(good_index)
    assert len(FaceIndex.load(path, model="m")) == 50


def _flip(data: bytes, at: int) -> bytes:
    buffer = bytearray(data)
    buffer[at] ^= 0xFF
    return bytes(buffer)


def test_a_crash_while_saving_leaves_the_old_index_or_a_detected_mismatch(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "faces.faiss"
    index = _index(IndexKind.EXACT)
    index.add(range(10), _vectors(10))
    index.save(path)
    index.add(range(10, 20), _vectors(10, seed=1))
    real_write = face_index_files.atomic_write
    calls: list[Path] = []

    def crash_on(n: int):  # type: ignore[no-untyped-def]
        def write(target: Path, writer):  # type: ignore[no-untyped-def]
            calls.append(target)
            if len(calls) == n:
                raise OSError("power cut")
            real_write(target, writer)

        return write

    monkeypatch.setattr(face_index_files, "atomic_write", crash_on(1))  # in the container
    with pytest.raises(OSError, match="power cut"):
        index.save(path)
    assert len(FaceIndex.load(path, model="m")) == 10  # the old pair, whole
    calls.clear()
    monkeypatch.setattr(face_index_files, "atomic_write", crash_on(2))  # between the two
    with pytest.raises(OSError, match="power cut"):
        index.save(path)
    with pytest.raises(IndexCorruptError, match="does not describe"):
        FaceIndex.load(path, model="m")  # the caller rebuilds from the store
    monkeypatch.setattr(face_index_files, "atomic_write", real_write)
    index.save(path)
    assert len(FaceIndex.load(path, model="m")) == 20
    assert not list(tmp_path.glob(".*"))


def test_kind_follows_the_count_unless_forced() -> None:
    index = FaceIndex(model="m", approximate_from=100, hnsw=SEARCHING)
    data = _vectors(150)
    index.add(range(60), data[:60])
    assert _kind(index) is IndexKind.EXACT
    index.add(range(60, 150), data[60:])
    assert _kind(index) is IndexKind.HNSW and index.ids().tolist() == list(range(150))
    assert index.search(data[3], 1)[0][0].id == 3
    index.remove(range(80))  # 70 left: between the thresholds, stays HNSW
    assert _kind(index) is IndexKind.HNSW
    index.remove(range(80, 110))  # 40 left: under exact_below (half of 100)
    assert _kind(index) is IndexKind.EXACT and index.dead == 0
    assert index.ids().tolist() == list(range(110, 150))
    assert index.search(data[120], 1)[0][0].id == 120
    forced = FaceIndex(model="m", kind=IndexKind.EXACT, approximate_from=10)
    forced.add(range(50), data[:50])
    assert _kind(forced) is IndexKind.EXACT


def test_constructor_options_are_checked() -> None:
    with pytest.raises(ValueError, match="'ivf'"):
        FaceIndex(model="m", kind="ivf")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="exact_below"):
        FaceIndex(model="m", approximate_from=10, exact_below=20)
    with pytest.raises(ValueError, match="unique"):
        FaceIndex(model="m", attributes=("sex", "sex"))
    with pytest.raises(ValueError, match="sequence of names"):
        FaceIndex(model="m", attributes="sex")
    with pytest.raises(ValueError, match="ef_search"):
        HnswParams(ef_search=0)
    index = FaceIndex(model="m")
    with pytest.raises(ValueError, match="integers"):
        index.add([1.5], _vectors(1))
    with pytest.raises(ValueError, match="1 owners for 2"):
        index.add([1, 2], _vectors(2), owners=[1])
    with pytest.raises(ValueError, match="k must be positive"):
        index.search_persons(_vectors(1), 0)


@settings(max_examples=25, deadline=None)
@given(
    steps=st.lists(
        st.tuples(st.booleans(), st.lists(st.integers(0, 40), min_size=1, max_size=12)),
        min_size=1,
        max_size=12,
    ),
    forced=st.sampled_from([IndexKind.EXACT, IndexKind.HNSW, None]),
)
def test_any_history_of_adds_and_removes_matches_a_dict(
    steps: list[tuple[bool, list[int]]], forced: IndexKind | None
) -> None:
    index = FaceIndex(
        model="m", kind=forced, approximate_from=20, hnsw=SEARCHING, max_dead_share=0.3
    )
    model: dict[int, np.ndarray] = {}
    rng = np.random.default_rng(0)
    for adding, raw_ids in steps:
        ids = sorted(set(raw_ids))
        if adding:
            vectors = rng.normal(size=(len(ids), 128)).astype(np.float32)
            index.add(ids, vectors)
            model.update(zip(ids, vectors, strict=True))
        else:
            assert index.remove(ids) == len(set(ids) & model.keys())
            for i in ids:
                model.pop(i, None)
        assert sorted(index.ids().tolist()) == sorted(model)
        assert len(index) == len(model)
    if model:
        stored = np.stack(list(model.values()))
        keys = np.array(list(model))
        for query in stored[:5]:
            row = index.search(query, 3)[0]
            assert row[0].id == _brute(stored, keys, query, 1)[0]
            assert {n.id for n in row} <= model.keys()


def test_a_failed_rebuild_leaves_the_index_as_it_was(monkeypatch: pytest.MonkeyPatch) -> None:
    index = _index(IndexKind.HNSW, max_dead_share=0.9)
    index.add(range(200), _vectors(200))
    index.remove([0, 1, 2])
    query = _vectors(1, seed=5)
    before = index.search(query, 5)

    class OutOfMemory:
        is_trained = False

        def train(self, vectors: np.ndarray) -> None:
            raise MemoryError

    monkeypatch.setattr(index, "_new_faiss_index", lambda kind: OutOfMemory())
    with pytest.raises(MemoryError):
        index.compact()
    assert index.search(query, 5) == before
    assert index.dead == 3
