"""The name index against brute force, and its bookkeeping."""

from __future__ import annotations

import json
import os
import pickle
import random
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

import pytest

from matching.names import (
    NameIndex,
    NameLevel,
    blocking_keys,
    compare_names,
    probe_keys,
    surname_keys,
)
from matching.names.dialects import rules_for_regions
from matching.names.keys import sound_stage_keys, surname_agreement_keys
from matching.names.normalise import is_han
from matching.names.readings import is_known_surname
from matching.names.regions import resolve_regions

FOUND = NameLevel.NICKNAME_OR_PARTIAL
REGION_CHOICES = [(), ("四川",), ("上海",), ("东北",), ("广东",), ("湖南", "江西"), ("南方",)]


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
        # A short list holds the best levels there are, though tiers and stages are cut
        # short once enough are in hand: whatever order a caller's prior asks for.
        scores = random.Random(n)
        prior = {record_id: scores.random() for record_id in range(len(generated_records))}

        def shuffled(ids: Sequence[int], prior: dict[int, float] = prior) -> list[float]:
            return [prior[i] for i in ids]

        for limit in (1, 3, 10):
            for ordered in (None, shuffled):
                hits = index.query(query, regions=regions, limit=limit, prior=ordered)
                levels = [hit.comparison.level for hit in hits]
                assert levels == sorted(want.values())[:limit], (query, limit)
        # Whoever matches in the speaker's dialect files a key of the first stage.
        staged = sound_stage_keys(query, rules_for_regions(resolve_regions(regions)))
        for record_id, level in want.items():
            if level is NameLevel.DIALECT_SPEAKER and staged is not None:
                assert blocking_keys(generated_records[record_id]) & staged[0], record_id


def test_candidate_tiers_hold_the_candidates_and_never_put_a_whole_name_match_in_a_partial_tier(
    index: NameIndex[int], generated_records: list[list[str]]
) -> None:
    rng = random.Random(12)
    seen = set()
    for n, query in enumerate(rng.sample(generated_records, 40)):
        regions = REGION_CHOICES[n % len(REGION_CHOICES)]
        slots, tiers = index.candidate_tiers(query)
        ids = index.slot_ids()
        assert [ids[s] for s in slots.tolist()] == index.candidates(query)
        for slot, tier in zip(slots.tolist(), tiers.tolist(), strict=True):
            record = generated_records[slot]
            level = compare_names(query, record, speaker_regions=regions).level
            seen.add(tier)
            if level is NameLevel.EXACT:
                assert tier == 0, (query, record)
            if NameLevel.NULL < level <= NameLevel.NEAR_SOUND:
                assert tier <= 2, (query, record, level)
    assert seen == {0, 1, 2, 3, 4}
    # A record removed is found no more.
    small: NameIndex[str] = NameIndex()
    for record_id, name in (("a", "刘建华"), ("b", "刘建华"), ("c", "建华")):
        small.add(record_id, [name])
    small.remove("b")
    slots, tiers = small.candidate_tiers(["刘建华"])
    assert [small.slot_ids()[s] for s in slots.tolist()] == ["a", "c"]
    assert tiers.tolist()[0] == 0


def _surname_queries(records: list[list[str]], rng: random.Random) -> list[str]:
    """Lone surnames from the records' first characters, surnames alone (王某) and a lone
    Latin word (Liu)."""
    firsts = sorted({names[0][0] for names in records if names and is_han(names[0][:1])})
    firsts = [char for char in firsts if is_known_surname(char)]
    return [*rng.sample(firsts, 9), "王某", "陈某", "欧阳某", "Liu"]


def test_a_query_that_can_only_be_a_surname_finds_every_namesake(
    index: NameIndex[int], generated_records: list[list[str]]
) -> None:
    deepest = NameLevel.SURNAME_ONLY
    for query in _surname_queries(generated_records, random.Random(5)):
        assert surname_keys([query]), query
        want = {}
        for record_id, names in enumerate(generated_records):
            level = compare_names([query], names).level
            if NameLevel.NULL < level <= deepest:
                want[record_id] = level
        hits = index.query([query], limit=len(generated_records), max_level=deepest)
        assert {hit.record_id: hit.comparison.level for hit in hits} == want, query
        short = index.query([query], limit=5, max_level=deepest)
        assert [hit.comparison.level for hit in short] == sorted(want.values())[:5], query
        plain = index.query([query], limit=len(generated_records))
        assert {hit.record_id for hit in plain} == {
            record_id for record_id, level in want.items() if level <= FOUND
        }, query


def test_the_surname_tiers_stay_shut_unless_asked(
    index: NameIndex[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    # The re-match asks for NICKNAME_OR_PARTIAL: a lone 张 must not look up its namesakes.
    def refuse(names: object) -> set[str]:
        raise AssertionError("surname keys looked up")

    monkeypatch.setattr("matching.names.index.surname_keys", refuse)
    index.query(["张"], limit=10)
    with pytest.raises(AssertionError, match="surname keys"):
        index.query(["张"], limit=10, max_level=NameLevel.SURNAME_ONLY)


@pytest.mark.parametrize(
    "names", [["老王"], ["小明"], ["张建明", "张"], ["张建明"], ["Liu Ming"], ["伟"]]
)
def test_only_a_query_that_can_only_be_a_surname_has_surname_keys(names: list[str]) -> None:
    # A 小名, a full name or a character no surname is (伟) wants its given name matched,
    # not every namesake of a surname.
    assert surname_keys(names) == set()


def test_names_whose_surnames_agree_share_a_surname_agreement_key(
    generated_records: list[list[str]],
) -> None:
    # Every speaker region at once, as the keys must hold for any; 长孙 / 仲孙 agree
    # with one syllable off by a letter, which the w: and f: keys alone miss.
    names = sorted({name for names in generated_records[:400] for name in names})
    names += ["长孙某", "仲孙明", "zhangsun wei", "王氏", "老王", "张", "Zhang", "阿黄"]
    keys = {name: surname_agreement_keys([name]) for name in names}
    everywhere = [region for choice in REGION_CHOICES for region in choice]
    agreeing = 0
    for left in names:
        for right in names:
            level = compare_names([left], [right], speaker_regions=everywhere).level
            if level is NameLevel.SURNAME_ONLY:
                agreeing += 1
                assert keys[left] & keys[right], (left, right)
    assert agreeing > 1000
    assert surname_agreement_keys(["长孙某"]) & surname_agreement_keys(["仲孙明"])
    # Latin names agree only by their letters' sound, never on a surname alone.
    assert not surname_agreement_keys(["Wong"]) and not surname_agreement_keys(["Lee Ming"])


def test_namesakes_by_the_surname_as_written_come_before_sound_alikes() -> None:
    index: NameIndex[str] = NameIndex()
    for i, given in enumerate("伟芳娜敏静丽强磊军洋"):
        index.add(f"sound{i}", ["章" + given])  # zhang as well, another character
    index.add("written", ["张鑫"])
    # Even when the caller's prior prefers the sound-alikes, the written surname is
    # compared first; they only fill what it leaves.
    prefer_sound = lambda ids: [float(i != "written") for i in ids]  # noqa: E731
    hits = index.query(["张"], limit=1, max_level=NameLevel.SURNAME_ONLY, prior=prefer_sound)
    assert [hit.record_id for hit in hits] == ["written"]
    assert hits[0].comparison.level is NameLevel.SURNAME_ONLY
    hits = index.query(["张"], limit=3, max_level=NameLevel.SURNAME_ONLY, prior=prefer_sound)
    assert [hit.record_id for hit in hits][0] == "written"
    assert len(index.query(["张"], limit=20, max_level=NameLevel.SURNAME_ONLY)) == 11


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


def test_an_index_sent_to_another_process_finds_what_it_finds_here(tmp_path: Path) -> None:
    # The re-match sends its reports' index to Ray's workers, whose string hashes are
    # seeded otherwise: what the index files must mean the same there.
    index: NameIndex[int] = NameIndex()
    records = [["刘建华"], ["王小军", "阿明"], ["覃振宇"], ["欧阳明轩"], ["陈红"]]
    for record_id, names in enumerate(records):
        index.add(record_id, names)
    queries = [["牛建华"], ["张晓明"], ["秦振宇"], ["明轩"], ["程红"]]
    here = [[h.record_id for h in index.query(q, regions=["四川"])] for q in queries]
    assert all(here)
    (tmp_path / "index.pickle").write_bytes(pickle.dumps(index))
    script = (
        "import json, pickle, sys; index = pickle.loads(open(sys.argv[1], 'rb').read()); "
        "print(json.dumps([[h.record_id for h in index.query(q, regions=['四川'])] "
        "for q in json.loads(sys.argv[2])]))"
    )
    for seed in ("1", "2"):
        there = subprocess.run(
            [sys.executable, "-c", script, str(tmp_path / "index.pickle"), json.dumps(queries)],
            env={**os.environ, "PYTHONHASHSEED": seed}, capture_output=True, text=True,
            check=True, timeout=120,
        )  # fmt: skip
        assert json.loads(there.stdout) == here, seed


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


def test_a_small_limit_keeps_the_best_levels(
    index: NameIndex[int], generated_records: list[list[str]]
) -> None:
    # Tiers are opened and cut short in level order, so the hits kept under a small limit
    # are the best levels brute force finds.
    rng = random.Random(12)
    for n, query in enumerate(rng.sample(generated_records, 30)):
        regions = REGION_CHOICES[n % len(REGION_CHOICES)]
        want = sorted(_brute_force(query, generated_records, regions).values())[:10]
        hits = index.query(query, regions=regions, limit=10)
        assert [hit.comparison.level for hit in hits] == want, query


def test_the_prior_decides_which_equal_partial_matches_are_compared() -> None:
    index: NameIndex[str] = NameIndex()
    surnames = "赵钱孙李周吴郑王冯陈褚卫蒋沈韩杨朱秦尤许何吕施张孔曹严华金魏陶姜"
    for i, surname in enumerate(surnames):
        index.add(f"r{i}", [surname + "梅"])
    index.add("wanted", ["姬梅"])
    plain = index.query(["梅"], limit=3)
    assert "wanted" not in {hit.record_id for hit in plain}  # the newest record comes last
    hits = index.query(["梅"], limit=3, prior=lambda ids: [float(i == "wanted") for i in ids])
    assert "wanted" in {hit.record_id for hit in hits}
    assert {hit.comparison.level for hit in hits} == {NameLevel.NICKNAME_OR_PARTIAL}
    with pytest.raises(ValueError, match="scores"):
        index.query(["梅"], limit=3, prior=lambda ids: [1.0])


def test_a_large_sound_tier_is_compared_within_a_budget(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import matching.names.index as index_module

    index: NameIndex[int] = NameIndex()
    # One syllable: the sound tier cannot be staged, so it is compared whole, to the budget.
    names = list("肖萧晓孝笑效消销宵霄" * 5)  # xiao: near 焦 (jiao), none the same sound
    for i, name in enumerate(names):
        index.add(i, [name])
    compared = []

    def counting(*args: object, **kwargs: object) -> object:
        compared.append(1)
        return compare_names(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(index_module, "_COMPARE_BUDGET", 8)
    monkeypatch.setattr(index_module, "compare_names", counting)
    hits = index.query(["焦"], limit=1)
    assert len(compared) == 8, "the sound tier to its budget, the earlier tiers empty"
    assert hits and hits[0].comparison.level <= NameLevel.NEAR_SOUND


@pytest.mark.parametrize(
    ("records", "query", "expected"),
    [
        # One syllable: no stage picks out 京 among near sounds; compared whole.
        ([*("亲请清心新情信" * 3), "京"], "金", "京"),
        # Latin letters have no syllables to stage by; the same sound must not be cut
        # short by near sounds a prior puts first.
        ([*(["李明", "黎明", "李鸣", "理明"] * 12), "Leigh Ming"], "Lee Ming", "Leigh Ming"),
    ],
)
def test_a_sound_tier_it_cannot_stage_is_compared_whole(
    records: list[str], query: str, expected: str
) -> None:
    index: NameIndex[int] = NameIndex()
    for i, name in enumerate(records):
        index.add(i, [name])
    decoys_first = [1.0] * (len(records) - 1) + [0.0]
    hits = index.query([query], limit=1, prior=lambda ids: [decoys_first[i] for i in ids])
    assert [records[hit.record_id] for hit in hits] == [expected]


def test_the_sound_tier_compares_the_speakers_dialect_first_and_cuts_near_sounds_short(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import matching.names.index as index_module

    index: NameIndex[str] = NameIndex()
    # Oldest first: near sounds, then other regions' dialect matches, then the Sichuan one.
    names = ["牛建哈", "牛先华", "牛千华"] * 20 + ["牛建娃", "刘建娃", "牛建瓦"] * 5 + ["刘建华"]
    for i, name in enumerate(names):
        index.add(f"{name}{i}", [name])
    compared: list[int] = []

    def counting(*args: object, **kwargs: object) -> object:
        compared.append(1)
        return compare_names(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(index_module, "compare_names", counting)
    hits = index.query(["牛建华"], regions=["四川"], limit=2)
    assert [hit.comparison.level for hit in hits] == [
        NameLevel.DIALECT_SPEAKER, NameLevel.DIALECT_OTHER
    ]  # fmt: skip
    assert hits[0].record_id == "刘建华75"
    assert len(compared) == 2, "the speaker's match, one other dialect match, no near sound"
    compared.clear()
    hits = index.query(["牛建华"], regions=["四川"], limit=30)
    assert [hit.comparison.level for hit in hits].count(NameLevel.NEAR_SOUND) == 14
    assert len(compared) == 1 + 15 + 14, "near sounds only until the limit is reached"


@pytest.mark.parametrize(
    ("records", "query", "expected"),
    [
        # A Latin name has no syllables to key by sound: it must not share an empty key
        # with every other Latin name and stop the search at a partial match.
        (["John", "Jon Smith"], "John Smith", "Jon Smith"),
        # 三仔 / 三崽 compare as birth-order 小名 (partial), 伞崽 / 三崽 as the same sound:
        # the same-sound tier stops only on hits at its own level.
        (["三仔", "伞崽"], "三崽", "伞崽"),
    ],
)
def test_a_tier_stops_early_only_on_hits_of_its_level(
    records: list[str], query: str, expected: str
) -> None:
    index: NameIndex[str] = NameIndex()
    for name in records:
        index.add(name, [name])
    assert [hit.record_id for hit in index.query([query], limit=1)] == [expected]
