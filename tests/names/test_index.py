"""The name index against brute force, and its bookkeeping."""

from __future__ import annotations

import random

import pytest

from matching.names import NameIndex, NameLevel, blocking_keys, compare_names, probe_keys

FOUND = NameLevel.NICKNAME_OR_PARTIAL
REGION_CHOICES = [(), ("四川",), ("上海",), ("东北",), ("广东",)]


def _brute_force(
    query: list[str], records: list[list[str]], regions: tuple[str, ...]
) -> dict[int, NameLevel]:
    out = {}
    for record_id, names in enumerate(records):
        level = compare_names(query, names, speaker_regions=regions).level
        if NameLevel.NULL < level <= FOUND:
            out[record_id] = level
    return out


@pytest.fixture(scope="module")
def index(generated_records: list[list[str]]) -> NameIndex[int]:
    built: NameIndex[int] = NameIndex()
    for record_id, names in enumerate(generated_records):
        built.add(record_id, names)
    return built


def test_index_finds_what_brute_force_finds(
    index: NameIndex[int], generated_records: list[list[str]]
) -> None:
    rng = random.Random(11)
    for n, query in enumerate(rng.sample(generated_records, 30)):
        regions = REGION_CHOICES[n % len(REGION_CHOICES)]
        want = _brute_force(query, generated_records, regions)
        hits = index.query(query, regions=regions, limit=len(generated_records))
        assert {hit.record_id: hit.comparison.level for hit in hits} == want, query


def test_a_query_touches_a_small_slice(
    index: NameIndex[int], generated_records: list[list[str]]
) -> None:
    size = len(generated_records)
    touched = [len(index.candidates(names)) for names in generated_records[:200]]
    assert sum(touched) / len(touched) < 0.1 * size
    for names in generated_records[:50]:
        found = {hit.record_id for hit in index.query(names, limit=size)}
        assert found <= set(index.candidates(names))


def test_results_are_ranked_and_limited(
    index: NameIndex[int], generated_records: list[list[str]]
) -> None:
    hits = index.query(["刘建华", "阿明"], limit=5)
    assert 1 <= len(hits) <= 5
    levels = [hit.comparison.level for hit in hits]
    assert levels == sorted(levels)
    assert all(level <= FOUND for level in levels)


def test_add_remove_replace() -> None:
    index: NameIndex[str] = NameIndex()
    index.add("a", ["刘建华"])
    index.add("b", ["王小军", "阿明"])
    assert len(index) == 2 and "a" in index
    assert [h.record_id for h in index.query(["牛建华"], regions=["四川"])] == ["a"]
    assert [h.record_id for h in index.query(["张晓明"])] == ["b"]

    index.add("a", ["陈红"])  # replaced
    assert index.query(["牛建华"]) == []
    assert [h.record_id for h in index.query(["程红"])] == ["a"]

    index.remove("b")
    assert "b" not in index and len(index) == 1
    assert index.query(["张晓明"]) == []
    with pytest.raises(KeyError):
        index.remove("b")


def test_removal_compacts_and_keeps_results() -> None:
    index: NameIndex[int] = NameIndex()
    for record_id in range(3000):
        index.add(record_id, ["刘建华" if record_id % 2 else "王小军"])
    for record_id in range(0, 3000, 2):
        index.remove(record_id)
    for record_id in range(1, 2000, 2):
        index.remove(record_id)
    assert len(index) == 500
    hits = index.query(["刘建华"], limit=1000)
    assert sorted(h.record_id for h in hits) == list(range(2001, 3000, 2))
    assert index.postings < 3000 * 20


def test_bad_arguments_are_refused() -> None:
    index: NameIndex[int] = NameIndex()
    with pytest.raises(ValueError, match="limit"):
        index.query(["刘建华"], limit=0)
    with pytest.raises(ValueError, match="unknown region"):
        index.query(["刘建华"], regions=["火星"])
    with pytest.raises(TypeError, match="single string"):
        index.add(1, "刘建华")
    with pytest.raises(TypeError, match="single string"):
        index.query("刘建华")


def test_keys_do_not_depend_on_regions() -> None:
    names = ["刘建华", "阿明"]
    assert blocking_keys(names) == blocking_keys(names, regions=["四川"])
    assert probe_keys(names) == probe_keys(names, regions=["上海"])
    assert blocking_keys([]) == set()
    assert blocking_keys(["无名氏", None]) == set()
