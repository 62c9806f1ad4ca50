"""Found against found: two stays weighed by the evidence model, the age as two estimates,
the pair in order whichever comes first; and one person's stays pooled."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import replace
from datetime import date

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from matching.evidence_model import EvidenceModel, waterfall_html
from matching.evidence_model.comparisons.age import AgeComparison
from matching.evidence_model.comparisons.age_estimates import EstimatedAgeComparison
from matching.evidence_model.facts import found_facts, missing_facts
from matching.found_pairs import FoundPairScorer, as_earlier_stay, ordered
from matching.pooling import linked_groups, pooled_view
from matching.views import FaceView, FoundView, found_view
from records import FoundPerson, Sex

_ids = itertools.count(1000)


def _face(direction: int, *, wobble: float = 0.0, year: int | None = None) -> FaceView:
    vector = np.zeros(128, dtype=np.float32)
    vector[direction] = 1.0
    vector[127] = wobble
    return FaceView(face_id=next(_ids), embedding=vector, taken_year=year)


def _stay(**fields: object) -> FoundView:
    fields.setdefault("id", next(_ids))
    fields.setdefault("ref", f"F{fields['id']}")
    return FoundView(**fields)  # type: ignore[arg-type]


def _wang_at_two_stations() -> tuple[FoundView, FoundView]:
    """刘建华 in Chengdu in 2015, heard as 牛建华 in Chongqing in 2023: a Sichuan accent
    (n/l), ages estimated at each date, the same face photographed twice."""
    first = _stay(names=("刘建华",), sex=Sex.MALE, age_min=30, age_max=35,
                  found_date=date(2015, 3, 1), found_place="四川省成都市", accent="四川口音",
                  faces=(_face(0, year=2015),), features=("左手缺小指",))  # fmt: skip
    second = _stay(names=("牛建华",), sex=Sex.MALE, age_min=38, age_max=45,
                   found_date=date(2023, 6, 1), found_place="重庆市", accent="四川话",
                   hometown="四川", faces=(_face(0, wobble=0.35, year=2023),),
                   features=("左手小指缺失",))  # fmt: skip
    return first, second


@pytest.fixture(scope="module")
def scorer() -> FoundPairScorer:
    return FoundPairScorer(EvidenceModel.default())


def test_the_same_person_at_two_stations_ranks_above_everyone_else(
    scorer: FoundPairScorer,
) -> None:
    first, second = _wang_at_two_stations()
    others = [
        # Same age, place and accent, another face and name.
        replace(second, id=next(_ids), names=("赵国强",), faces=(_face(3),), features=()),
        # The same name, another face, an age that does not fit.
        replace(second, id=next(_ids), age_min=65, age_max=70, faces=(_face(5),), features=()),
        # A woman.
        replace(second, id=next(_ids), sex=Sex.FEMALE, names=("刘建芳",), faces=(_face(7),)),
    ]
    same = scorer.score(first, second)
    assert same.probability > 0.9, same.to_json()
    by_level = {s.signal: s.level for s in same.signals}
    assert by_level["name"] == "dialect_speaker"
    assert by_level["age"] == "within"
    assert by_level["face"] != "null" and same.signal("face").weight > 3
    assert any("DNA" in step and "两次" in step for step in same.confirm_by), same.confirm_by
    assert not any("family" in step or "report" in step for step in same.confirm_by)
    assert all(scorer.score(first, other).total_weight < same.total_weight - 5
               for other in others)  # fmt: skip


def test_a_pair_scores_the_same_in_either_order(scorer: FoundPairScorer) -> None:
    first, second = _wang_at_two_stations()
    assert scorer.score(first, second).to_json() == scorer.score(second, first).to_json()
    assert ordered(second, first) == (first, second)
    with pytest.raises(ValueError, match="itself"):
        scorer.score(first, first)


_dates = st.one_of(st.none(), st.dates(min_value=date(1990, 1, 1), max_value=date(2026, 1, 1)))
_ages = st.one_of(st.none(), st.integers(min_value=0, max_value=95))


@st.composite
def _stays(draw: st.DrawFn) -> FoundView:
    return _stay(
        names=draw(st.lists(st.sampled_from(["刘建华", "牛建华", "王芳", "胡奎", "付贵"]),
                            max_size=2, unique=True).map(tuple)),
        sex=draw(st.sampled_from(list(Sex))),
        age_min=draw(_ages),
        age_max=draw(_ages),
        found_date=draw(_dates),
        found_place=draw(st.sampled_from([None, "四川省成都市", "重庆市", "广东省东莞市"])),
        accent=draw(st.sampled_from([None, "四川口音", "东北口音", "南方口音"])),
        height_cm=draw(st.one_of(st.none(), st.floats(min_value=100, max_value=190))),
        faces=tuple(_face(d) for d in draw(st.lists(st.integers(0, 3), max_size=2))),
    )  # fmt: skip


@settings(max_examples=60, deadline=None)
@given(a=_stays(), b=_stays())
def test_symmetry_in_level_and_weight(a: FoundView, b: FoundView) -> None:
    scorer = FoundPairScorer()
    forward, backward = scorer.score(a, b), scorer.score(b, a)
    assert [(s.signal, s.level, s.weight) for s in forward.signals] == [
        (s.signal, s.level, s.weight) for s in backward.signals
    ]
    assert scorer.total_weight(a, b) == pytest.approx(forward.total_weight)
    assert scorer.total_weight(b, a) == pytest.approx(forward.total_weight)


def _assigned(ref: str, name: str, **fields: object) -> FoundView:
    person = FoundPerson(ref=ref, name=name, name_assigned=True, aliases=[], sex=Sex.MALE,
                         features=[], health=[], **fields)  # fmt: skip
    person.id = next(_ids)
    return found_view(person)


def test_names_the_stations_gave_never_agree(scorer: FoundPairScorer) -> None:
    # Two stations both called an unknown man 党新民 (the Party's new citizen).
    a = _assigned("A", "党新民", found_date=date(2020, 1, 1))
    b = _assigned("B", "党新民", found_date=date(2021, 1, 1))
    assert a.names == b.names == ()
    assert scorer.score(a, b).signal("name").level == "null"
    own = replace(b, names=("党新民",))
    assert scorer.score(a, own).signal("name").level == "null", "one side's own name alone"


@pytest.mark.parametrize(
    ("description", "first", "second", "level", "stratum"),
    [
        ("estimates whose birth years overlap", (30, 35, 2015), (38, 45, 2023), "within", "wide"),
        ("two narrow estimates that fit", (40, 42, 2010), (44, 46, 2013), "within", "narrow"),
        ("narrow estimates three years apart", (40, 42, 2010), (48, 50, 2013), "near", "narrow"),
        ("a young man and, two years on, an old one", (20, 25, 2000), (60, 65, 2002), "far",
         "wide"),
        # A birth year taken from the wide first estimate (1971) would be 7 years off the
        # second (26-30 in 2008): "off". As estimates they overlap (1960-1982, 1978-1982).
        ("a wide estimate holds a narrow one", (18, 40, 2000), (26, 30, 2008), "within",
         "wide"),
    ],
)  # fmt: skip
def test_the_age_is_weighed_as_two_estimates(
    description: str,
    first: tuple[int, int, int],
    second: tuple[int, int, int],
    level: str,
    stratum: str,
    scorer: FoundPairScorer,
) -> None:
    a = _stay(age_min=first[0], age_max=first[1], found_date=date(first[2], 6, 1))
    b = _stay(age_min=second[0], age_max=second[1], found_date=date(second[2], 6, 1))
    age = scorer.score(a, b).signal("age")
    assert (age.level, getattr(age, "stratum", None)) == (level, stratum), description
    assert "estimated" in age.detail and "born" in age.detail


def test_a_birth_year_from_an_estimate_would_have_been_judged_off() -> None:
    # The case above that the plain age comparison gets wrong: why there are two.
    a = _stay(age_min=18, age_max=40, found_date=date(2000, 6, 1))
    b = _stay(age_min=26, age_max=30, found_date=date(2008, 6, 1))
    earlier = missing_facts(as_earlier_stay(a))
    assert AgeComparison().compare(earlier, found_facts(b)).level == 3  # off
    assert EstimatedAgeComparison().compare(earlier, found_facts(b)).level == 1  # within


def test_no_estimate_is_no_evidence(scorer: FoundPairScorer) -> None:
    a = _stay(found_date=date(2000, 6, 1))
    b = _stay(age_min=30, age_max=40, found_date=date(2008, 6, 1))
    assert scorer.score(a, b).signal("age").level == "null"
    assert (
        scorer.score(replace(a, age_min=30), replace(b, found_date=None)).signal("age").level
        == "null"
    )


def test_the_explanation_speaks_of_two_stays_and_draws(scorer: FoundPairScorer) -> None:
    first, second = _wang_at_two_stations()
    first = replace(first, height_cm=170, health=("聋哑",))
    second = replace(second, height_cm=160, sex=Sex.FEMALE, health=("癫痫",))
    score = scorer.score(first, second)
    said = " ".join(s.detail for s in score.signals)
    for word in ("report", "missing", "last seen", "lost", "station"):
        assert word not in said, f"{word!r} in: {said}"
    assert "first found in 四川省成都市, then in 重庆市" in said
    assert "found again 8 years after the earlier stay" in said
    html = waterfall_html(score)
    assert "age" in html and "prior" in html.lower()


def test_a_plain_report_is_weighed_by_the_birth_year_still(
    make_missing: Callable[..., object], make_found: Callable[..., FoundView]
) -> None:
    report = make_missing(birth_year=1980, missing_date=date(2010, 1, 1))
    person = make_found(age_min=28, age_max=32, found_date=date(2010, 6, 1))
    m, f = missing_facts(report), found_facts(person)  # type: ignore[arg-type]
    plain, estimated = AgeComparison().compare(m, f), EstimatedAgeComparison().compare(m, f)
    assert estimated._replace(sentence="") == plain._replace(sentence="")
    assert estimated.text() == plain.text()


# --- pooling ---------------------------------------------------------------------------


def _three_stays() -> list[FoundView]:
    return [
        _stay(id=3, names=("牛建华",), sex=Sex.MALE, age_min=38, age_max=45,
              found_date=date(2023, 6, 1), found_place="重庆市", accent="四川话",
              faces=(_face(0, year=2023),), features=("左手缺小指",), height_cm=168),
        _stay(id=1, names=("刘建华", "阿华"), sex=Sex.MALE, age_min=30, age_max=35,
              found_date=date(2015, 3, 1), found_place="四川省成都市", accent="四川口音",
              faces=(_face(0, year=2015),), health=("癫痫",)),
        _stay(id=2, names=("刘建华",), sex=Sex.UNKNOWN, age_min=33, age_max=40,
              found_date=date(2018, 1, 1), accent="四川口音", hometown="南充",
              features=("右臂有疤",)),
    ]  # fmt: skip


def test_a_pooled_view_unites_what_every_stay_learned() -> None:
    stays = _three_stays()
    pooled = pooled_view(stays)
    assert (pooled.id, pooled.ref) == (1, "F1"), "the earliest stay stands for the group"
    assert pooled.names == ("刘建华", "阿华", "牛建华")
    assert pooled.sex is Sex.MALE
    assert {f.face_id for f in pooled.faces} == {f.face_id for s in stays for f in s.faces}
    assert (pooled.found_date, pooled.found_place) == (date(2015, 3, 1), "四川省成都市")
    # Born 1980-1985 (2015), 1978-1985 (2018), 1978-1985 (2023): 30-35 in 2015.
    assert (pooled.age_min, pooled.age_max) == (30, 35)
    assert pooled.accent == "四川口音；四川话"
    assert pooled.hometown == "南充"
    assert pooled.features == ("右臂有疤", "左手缺小指") and pooled.health == ("癫痫",)
    assert pooled.height_cm == 168, "measured as an adult, it stands for the earliest date"


def test_the_narrowest_consistent_age_or_the_earliest_estimate() -> None:
    early = _stay(age_min=30, age_max=40, found_date=date(2010, 1, 1))
    later = _stay(age_min=38, age_max=42, found_date=date(2015, 1, 1))
    pooled = pooled_view([later, early])
    # Born 1970-1980 and 1973-1977: 33-37 in 2010.
    assert (pooled.age_min, pooled.age_max) == (33, 37)
    far_off = replace(later, age_min=70, age_max=75)
    assert (pooled_view([early, far_off]).age_min, pooled_view([early, far_off]).age_max) == (
        30, 40,
    )  # fmt: skip


def test_a_pooled_view_does_not_depend_on_order_and_keeps_one_as_it_is() -> None:
    stays = _three_stays()
    views = [pooled_view(list(order)) for order in itertools.permutations(stays)]
    assert len({(v.names, v.age_min, v.age_max, v.accent, v.features) for v in views}) == 1
    assert pooled_view(stays[:1]) is stays[0]
    with pytest.raises(ValueError):
        pooled_view([])


def test_a_childs_later_height_is_not_taken_for_the_earliest() -> None:
    child = _stay(age_min=8, age_max=10, found_date=date(2010, 1, 1))
    grown = _stay(age_min=12, age_max=14, found_date=date(2014, 1, 1), height_cm=150)
    assert pooled_view([child, grown]).height_cm is None
    sexes = pooled_view([replace(child, sex=Sex.MALE), replace(grown, sex=Sex.FEMALE)]).sex
    assert sexes is Sex.UNKNOWN, "stays that disagree on sex say nothing of it"


def test_linked_groups_are_the_connected_components() -> None:
    assert linked_groups([(5, 9), (1, 2), (2, 3), (9, 7), (4, 4)]) == [(1, 2, 3), (5, 7, 9)]
    assert linked_groups([]) == []
