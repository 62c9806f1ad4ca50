"""The public scorer: one explained score a pair, and true pairs above random ones."""

from __future__ import annotations

import pickle
from datetime import date
from typing import Any

import numpy as np
import pytest

from matching.evidence import Score
from matching.evidence_model import EvidenceModel, EvidenceScore
from matching.evidence_model.facts import FactsCache
from records import Sex


def _pair(make_missing: Any, make_found: Any) -> tuple[Any, Any]:
    missing = make_missing(
        names=("覃建华", "阿华"), sex=Sex.MALE, birth_year=1960, missing_date=date(2024, 3, 1),
        missing_place="四川省南充市", hometown="四川省南充市", dialect="西南官话",
        height_cm=168.0, features=("左手缺指",), health=("阿尔茨海默病",),
    )  # fmt: skip
    found = make_found(
        names=("覃建华",), sex=Sex.MALE, age_min=60, age_max=66, found_date=date(2024, 3, 9),
        found_place="四川南充火车站", accent="四川口音", height_cm=167.0,
        features=("左手缺一指",), health=("老年痴呆",),
    )  # fmt: skip
    return missing, found


def test_score_explains_every_comparison(
    default_model: EvidenceModel, make_missing: Any, make_found: Any
) -> None:
    missing, found = _pair(make_missing, make_found)
    score = default_model.score(missing, found)
    assert isinstance(score, Score) and isinstance(score, EvidenceScore)
    assert [s.signal for s in score.signals] == [c.name for c in default_model.comparisons]
    assert score.model_version == default_model.version
    assert score.total_weight == pytest.approx(default_model.total_weight(missing, found))
    assert score.probability > 0.99
    assert "times more likely the same person than not" in score.summary()
    assert any("DNA" in step for step in score.confirm_by)
    face = score.signal("face")
    assert face.level == "null" and face.weight == 0
    name = score.signal("name")
    assert name.level == "exact" and name.weight > 0
    data = score.to_json()
    assert {"model_version", "prior_weight", "total_weight", "probability", "summary",
            "signals", "confirm_by"} <= set(data)  # fmt: skip
    assert data["signals"][1]["stratum"] == "all"


def test_a_rare_surname_says_more_than_a_common_one(
    default_model: EvidenceModel, make_missing: Any, make_found: Any
) -> None:
    def weight(name: str) -> float:
        return (
            default_model.score(make_missing(names=(name,)), make_found(names=(name,)))
            .signal("name")
            .weight
        )

    assert weight("覃振宇") > weight("王伟") + 3


def test_unlikely_pairs_do_not_ask_for_dna(
    default_model: EvidenceModel, make_missing: Any, make_found: Any
) -> None:
    missing = make_missing(names=("王伟",), sex=Sex.MALE, birth_year=1990)
    found = make_found(names=("李秀英",), sex=Sex.FEMALE, age_min=70, age_max=80,
                       found_date=date(2024, 1, 1))  # fmt: skip
    score = default_model.score(missing, found)
    assert score.probability < 0.01
    assert score.confirm_by == ()
    assert "different people" in score.summary()


def test_record_facts_are_cached_by_id_and_refreshed_for_a_new_view(
    make_missing: Any, make_found: Any
) -> None:
    model = EvidenceModel.default().with_params(EvidenceModel.default().params)
    model.clear_cache()
    missing = make_missing(id=7, missing_place="四川省南充市")
    found = make_found(id=9, found_place="四川省南充市")
    first = model.score(missing, found).signal("place").level
    assert len(model.facts) == 2
    moved = make_missing(id=7, missing_place="黑龙江省哈尔滨市")
    assert model.score(moved, found).signal("place").level != first
    assert len(model.facts) == 2


def test_pickled_facts_arrive_empty_and_fill_again(make_missing: Any, make_found: Any) -> None:
    model = EvidenceModel(EvidenceModel.default().params)
    missing, found = _pair(make_missing, make_found)
    weight = model.total_weight(missing, found)
    assert len(model.facts) == 2
    facts = pickle.loads(pickle.dumps(model.facts))
    assert isinstance(facts, FactsCache) and len(facts) == 0 and len(model.facts) == 2
    copy = EvidenceModel(model.params, comparisons=model.comparisons, facts=facts)
    assert copy.total_weight(missing, found) == weight
    assert len(facts) == 2
    # A model made from another shares its cache, an empty one too.
    assert copy.with_prior(0.5).facts is facts
    fresh = EvidenceModel(model.params)
    assert len(fresh.facts) == 0 and fresh.with_prior(0.5).facts is fresh.facts


def test_true_pairs_score_above_random_pairs(
    default_model: EvidenceModel, small_population: Any
) -> None:
    pop, missing, found = small_population
    m_index = {v.ref: v for v in missing}
    f_index = {v.ref: v for v in found}
    true_keys = {(p.missing_ref, p.found_ref) for p in pop.truth}
    true = np.array(
        [default_model.total_weight(m_index[m], f_index[f]) for m, f in sorted(true_keys)]
    )
    rng = np.random.default_rng(3)
    randoms: list[float] = []
    while len(randoms) < 400:
        m, f = missing[rng.integers(len(missing))], found[rng.integers(len(found))]
        if (m.ref, f.ref) not in true_keys:
            randoms.append(default_model.total_weight(m, f))
    random = np.array(randoms)
    assert np.median(true) > np.percentile(random, 99)
    # Nearly every true pair beats nearly every random pair.
    assert (true[:, None] > random[None, :]).mean() > 0.95


def test_with_prior(default_model: EvidenceModel, make_missing: Any, make_found: Any) -> None:
    missing, found = _pair(make_missing, make_found)
    higher = default_model.with_prior(0.01)
    assert higher.version == default_model.version
    assert (
        higher.score(missing, found).total_weight > default_model.score(missing, found).total_weight
    )
    with pytest.raises(ValueError, match="between 0 and 1"):
        default_model.with_prior(0.0)


def test_a_stored_term_holds_every_field_as_asdict_would(
    make_missing: Any, make_found: Any
) -> None:
    from dataclasses import asdict

    missing, found = _pair(make_missing, make_found)
    score = EvidenceModel.default().score(missing, found)
    stored = score.to_json()["signals"]
    expected = [{**asdict(s), "weight": round(s.weight, 4)} for s in score.signals]
    assert stored == expected
    assert {"stratum", "level_weight", "tf_adjustment", "m", "u"} <= set(stored[0])
