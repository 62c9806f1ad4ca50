"""The FAISS face index: strict inputs, stable ids, exact answers, safe files."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from indexes import FaceIndex, IndexCorruptError, IndexModelMismatchError


def _vectors(n: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).normal(size=(n, 128)).astype(np.float32)


def test_search_matches_brute_force_and_keeps_ids() -> None:
    index = FaceIndex(model="m")
    data = _vectors(200)
    ids = np.arange(1000, 1200)
    index.add(ids, data)
    queries = _vectors(5, seed=1)
    results = index.search(queries, 7)
    for query, row in zip(queries, results, strict=True):
        distances = np.linalg.norm(data - query, axis=1)
        expected = ids[np.argsort(distances)[:7]]
        assert [n.id for n in row] == expected.tolist()
        assert row[0].distance == pytest.approx(distances.min(), rel=1e-4)


def test_remove_and_replace() -> None:
    index = FaceIndex(model="m")
    data = _vectors(10)
    index.add(range(10), data)
    assert index.remove([3, 4, 99]) == 2
    assert sorted(index.ids().tolist()) == [0, 1, 2, 5, 6, 7, 8, 9]
    index.add([5], data[0:1])  # replaces the vector of id 5
    assert len(index) == 8
    row = index.search(data[0], 2)[0]
    assert {n.id for n in row} == {0, 5}


def test_inputs_are_checked() -> None:
    index = FaceIndex(model="m")
    with pytest.raises(ValueError, match=r"\(n, 128\)"):
        index.add([1], np.zeros((1, 64)))
    with pytest.raises(ValueError, match="2 ids for 1 vectors"):
        index.add([1, 2], np.zeros((1, 128)))
    with pytest.raises(ValueError, match="unique"):
        index.add([1, 1], np.zeros((2, 128)))
    with pytest.raises(ValueError, match="NaN"):
        index.add([1], np.full((1, 128), np.nan))
    assert index.search(np.zeros(128), 3) == [[]]


def test_models_never_mix() -> None:
    index = FaceIndex(model="dlib")
    with pytest.raises(IndexModelMismatchError):
        index.add([1], np.zeros((1, 128)), model="other")
    with pytest.raises(IndexModelMismatchError):
        index.search(np.zeros(128), 1, model="other")


def test_save_and_load_round_trip(tmp_path: Path) -> None:
    index = FaceIndex(model="dlib")
    data = _vectors(20)
    index.add(range(20), data)
    path = tmp_path / "faces.faiss"
    index.save(path)
    loaded = FaceIndex.load(path, model="dlib")
    assert loaded.ids().tolist() == list(range(20))
    assert [n.id for n in loaded.search(data[4], 1)[0]] == [4]
    with pytest.raises(IndexModelMismatchError):
        FaceIndex.load(path, model="other")
    path.with_suffix(".faiss.json").write_text("{broken")
    with pytest.raises(IndexCorruptError):
        FaceIndex.load(path, model="dlib")
    assert not list(tmp_path.glob(".*"))  # no temporary files left behind


def test_update_changes_owners_and_attributes_but_not_vectors() -> None:
    index = FaceIndex(model="m", attributes=("sex", "station"))
    data = _vectors(6)
    index.add(range(6), data, owners=[10, 10, 11, 11, 12, 12],
              attributes={"sex": [1, 1, 2, 2, 1, 1], "station": [7, 7, 7, 7, 8, 8]})  # fmt: skip
    index.update([4, 5], owners=[13, 13], attributes={"sex": [2, 2]})
    ids, owners, attributes = index.entries()
    assert ids.tolist() == list(range(6))
    assert owners.tolist() == [10, 10, 11, 11, 13, 13]
    assert attributes["sex"].tolist() == [1, 1, 2, 2, 2, 2]
    assert attributes["station"].tolist() == [7, 7, 7, 7, 8, 8]  # left as it was
    women = index.search(data[4], 6, filters={"sex": {2}})[0]
    assert [n.id for n in women][0] == 4 and {n.id for n in women} == {2, 3, 4, 5}
    with pytest.raises(ValueError, match="not in the index"):
        index.update([99], owners=[1])
    with pytest.raises(ValueError, match="unknown attribute"):
        index.update([1], attributes={"region": [1]})


def test_remove_owners_drops_every_photo_of_a_person() -> None:
    index = FaceIndex(model="m")
    data = _vectors(6)
    index.add(range(6), data, owners=[10, 10, 11, 11, 12, 12])
    assert index.remove_owners([11, 99]) == 2
    assert index.ids().tolist() == [0, 1, 4, 5]
    assert index.remove_owners([]) == 0
    persons = index.search_persons(data[2], 3)[0]
    assert {p.person for p in persons} == {10, 12}
