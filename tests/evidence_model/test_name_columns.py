"""Name outcomes of many pairs at once against NamesComparison pair by pair."""

from __future__ import annotations

import math
import pickle
import random
from collections.abc import Callable, Iterator, Sequence
from datetime import date

import numpy as np
import pytest
from numpy.typing import NDArray

from evaluation.population import generate_population
from evaluation.population_views import views_from_rows
from matching.evidence_model import name_columns
from matching.evidence_model.comparisons.name import NamesComparison
from matching.evidence_model.facts import FoundFacts, MissingFacts, found_facts, missing_facts
from matching.evidence_model.name_columns import NameColumns, name_outcomes
from matching.names import NameLevel
from matching.names.forms import name_forms
from matching.views import FoundView, MissingView

# Names that take every road: 小名 of each kind, a surname alone, lone characters, Latin
# names and pinyin, dialect partners, 单 read Shan, mixed scripts, placeholders, a name
# whose keys are cut short, and records with many aliases.
HARD_RECORDS: list[tuple[str, ...]] = [
    ("阿明",), ("明仔",), ("明明",), ("小明",), ("二娃",), ("老三",), ("三妹",), ("幺妹",),
    ("小宝",), ("狗蛋",), ("招娣",), ("老王",), ("王妹",), ("王某",), ("王氏",), ("黄某",),
    ("长孙某",), ("仲孙明",), ("欧阳修",), ("明",), ("王",), ("张",), ("伟",), ("章",),
    ("Wong",), ("Lee Ming",), ("Ming",), ("li ming",), ("LIUJIANHUA",), ("jianhua liu",),
    ("刘建华",), ("牛建华",), ("黄伟",), ("王伟",), ("胡奎",), ("付贵",), ("李明",), ("李敏",),
    ("单雄信",), ("Shan Xiongxin",), ("dan xiongxin",), ("张Wei",), ("李 Ming",),
    ("买买提·吐尔逊",), ("买买提",), ("无名氏",), ("",), (), ("不详", "无名氏"),
    ("单长乐行重朝",), ("单长乐行重潮",), ("宗政华",), ("覃振宇", "覃某"),
    ("王建国", "王建", "阿国", "老王", "小王", "Wang Jianguo", "建国"),
    ("刘", "华仔", "老二", "Liu"),
    ("曾国藩", "曾某", "国藩", "zeng guofan"),
]  # fmt: skip
REGION_TEXTS = [None, "四川", "上海", "广东"]


@pytest.fixture(autouse=True)
def empty_memos() -> Iterator[None]:
    """Each test fills the memos from its own pairs, as a fresh run would."""
    for memo in (name_columns._compared, name_columns._surnames_only, name_columns._silent):
        memo.cache_clear()
    yield


def _columns(
    missing: Sequence[MissingFacts], found: Sequence[FoundFacts]
) -> tuple[NameColumns, NameColumns]:
    return (
        NameColumns.of([m.view.names for m in missing], [m.speaker_regions for m in missing]),
        NameColumns.of([f.view.names for f in found], [f.speaker_regions for f in found]),
    )


def _assert_as_pair_by_pair(
    missing: Sequence[MissingFacts],
    found: Sequence[FoundFacts],
    i: NDArray[np.int64],
    j: NDArray[np.int64],
) -> None:
    levels, frequencies = name_outcomes(*_columns(missing, found), i, j)
    assert levels.dtype == np.int16 and frequencies.dtype == np.float64
    assert levels.shape == frequencies.shape == i.shape
    comparison = NamesComparison()
    for k, (a, b) in enumerate(zip(i.tolist(), j.tolist(), strict=True)):
        want = comparison.compare(missing[a], found[b])
        frequency = None if math.isnan(frequencies[k]) else float(frequencies[k])
        got = (int(levels[k]), frequency)
        assert got == (want.level, want.term_frequency), (
            missing[a].view.names,
            found[b].view.names,
            missing[a].speaker_regions | found[b].speaker_regions,
        )


def _all_pairs(n_missing: int, n_found: int) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    i, j = np.meshgrid(np.arange(n_missing), np.arange(n_found), indexing="ij")
    return i.ravel().astype(np.int64), j.ravel().astype(np.int64)


@pytest.fixture(scope="module")
def population() -> tuple[list[MissingFacts], list[FoundFacts], list[tuple[int, int]]]:
    """Facts of a generated population, and the rows of its true pairs."""
    pop = generate_population(
        seed=19, n_missing=900, n_found=400, n_true_pairs=150, today=date(2026, 11, 1)
    )
    missing_views, found_views = views_from_rows(pop.missing, pop.found)
    missing = [missing_facts(v) for v in missing_views]
    found = [found_facts(v) for v in found_views]
    row_m = {m.view.ref: n for n, m in enumerate(missing)}
    row_f = {f.view.ref: n for n, f in enumerate(found)}
    truth = [(row_m[p.missing_ref], row_f[p.found_ref]) for p in pop.truth]
    return missing, found, truth


def test_every_pair_of_a_population_is_as_pair_by_pair(
    population: tuple[list[MissingFacts], list[FoundFacts], list[tuple[int, int]]],
) -> None:
    missing, found, truth = population
    i, j = _all_pairs(300, 150)  # 45,000 pairs
    true_i, true_j = (np.array(rows, dtype=np.int64) for rows in zip(*truth, strict=True))
    _assert_as_pair_by_pair(
        missing, found, np.concatenate((i, true_i)), np.concatenate((j, true_j))
    )


def _hard_facts(
    make_missing: Callable[..., MissingView], make_found: Callable[..., FoundView]
) -> tuple[list[MissingFacts], list[FoundFacts]]:
    """Every hard record under every region, on both sides."""
    missing, found = [], []
    for region in REGION_TEXTS:
        for names in HARD_RECORDS:
            missing.append(missing_facts(make_missing(names=names, dialect=region)))
            found.append(found_facts(make_found(names=names, accent=region)))
    return missing, found


def test_every_pair_of_hard_names_under_several_regions_is_as_pair_by_pair(
    make_missing: Callable[..., MissingView], make_found: Callable[..., FoundView]
) -> None:
    missing, found = _hard_facts(make_missing, make_found)
    assert {frozenset(), frozenset({"四川", "上海"})} <= {
        m.speaker_regions | f.speaker_regions for m in missing for f in found
    }
    # A name whose sound-class combinations are cut short (compared whatever its keys).
    assert not all(name_columns._fully_keyed(form) for form in name_forms("单长乐行重朝"))
    _assert_as_pair_by_pair(missing, found, *_all_pairs(len(missing), len(found)))


def test_outcomes_do_not_depend_on_how_the_block_is_ordered_or_repeated(
    population: tuple[list[MissingFacts], list[FoundFacts], list[tuple[int, int]]],
) -> None:
    missing, found, _ = population
    columns = _columns(missing[:200], found[:100])
    i, j = _all_pairs(200, 100)
    levels, frequencies = name_outcomes(*columns, i, j)
    rng = np.random.default_rng(3)
    order = rng.permutation(np.concatenate((np.arange(len(i)), rng.integers(0, len(i), 5000))))
    for memo in (name_columns._compared, name_columns._surnames_only, name_columns._silent):
        memo.cache_clear()
    shuffled_levels, shuffled_frequencies = name_outcomes(*columns, i[order], j[order])
    np.testing.assert_array_equal(shuffled_levels, levels[order])
    np.testing.assert_array_equal(shuffled_frequencies, frequencies[order])  # NaN == NaN
    # In seven blocks, and one pair at a time, once the memos are full.
    blocks = zip(np.array_split(i, 7), np.array_split(j, 7), strict=True)
    halves = [name_outcomes(*columns, part_i, part_j) for part_i, part_j in blocks]
    np.testing.assert_array_equal(np.concatenate([h[0] for h in halves]), levels)
    np.testing.assert_array_equal(np.concatenate([h[1] for h in halves]), frequencies)
    # Columns sent to another process (pickled) give the same outcomes.
    sent: tuple[NameColumns, NameColumns] = pickle.loads(pickle.dumps(columns))
    again = name_outcomes(*sent, i, j)
    np.testing.assert_array_equal(again[0], levels)
    np.testing.assert_array_equal(again[1], frequencies)
    for k in random.Random(5).sample(range(len(i)), 50):
        one_level, one_frequency = name_outcomes(*columns, i[k : k + 1], j[k : k + 1])
        assert one_level[0] == levels[k]
        np.testing.assert_array_equal(one_frequency, frequencies[k : k + 1])


def test_colliding_key_hashes_only_send_pairs_to_a_road_meant_for_more(
    monkeypatch: pytest.MonkeyPatch,
    make_missing: Callable[..., MissingView],
    make_found: Callable[..., FoundView],
    population: tuple[list[MissingFacts], list[FoundFacts], list[tuple[int, int]]],
) -> None:
    # Every surname key hashes alike: every pair of names sharing no blocking key takes
    # the surname memo, whose key must decide their outcome whether surnames agree or not.
    real = name_columns._key_code

    def colliding(key: str) -> int:
        return 0 if key.startswith(("w:", "f:", "fe")) else real(key)

    monkeypatch.setattr(name_columns, "_key_code", colliding)
    missing, found = _hard_facts(make_missing, make_found)
    _assert_as_pair_by_pair(missing, found, *_all_pairs(len(missing), len(found)))
    pop_missing, pop_found, _ = population
    _assert_as_pair_by_pair(pop_missing[:80], pop_found[:60], *_all_pairs(80, 60))


def test_a_pair_without_a_usable_name_is_null_without_any_comparison(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("compared")

    monkeypatch.setattr(name_columns, "compare_names", refuse)
    missing = NameColumns.of(
        [("无名氏",), (), ("",)], [frozenset(), frozenset({"四川"}), frozenset()]
    )
    found = NameColumns.of([("刘建华",), ("不详",)], [frozenset(), frozenset()])
    i, j = _all_pairs(3, 2)
    levels, frequencies = name_outcomes(missing, found, i, j)
    assert (levels == NameLevel.NULL).all() and np.isnan(frequencies).all()
    empty = np.empty(0, dtype=np.int64)
    levels, frequencies = name_outcomes(missing, found, empty, empty)
    assert levels.shape == frequencies.shape == (0,)


def test_bad_input_is_refused() -> None:
    with pytest.raises(ValueError, match="regions"):
        NameColumns.of([("刘建华",)], [])
    with pytest.raises(ValueError):
        NameColumns.of([("刘建华",)], [frozenset({"火星"})])
    with pytest.raises(TypeError):
        NameColumns.of(["刘建华"], [frozenset()])  # type: ignore[list-item]
    columns = NameColumns.of([("刘建华",), ("王伟",)], [frozenset(), frozenset()])
    assert len(columns) == 2
    one = np.array([0], dtype=np.int64)
    with pytest.raises(IndexError):
        name_outcomes(columns, columns, np.array([2], dtype=np.int64), one)
    with pytest.raises(IndexError):
        name_outcomes(columns, columns, one, np.array([-1], dtype=np.int64))
    with pytest.raises(ValueError, match="pairs"):
        name_outcomes(columns, columns, one, np.array([0, 1], dtype=np.int64))
    with pytest.raises(ValueError, match="integers"):
        name_outcomes(columns, columns, np.array([0.5]), one)
