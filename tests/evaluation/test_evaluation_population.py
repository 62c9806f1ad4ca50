"""The generated population: stated proportions, determinism, consistency of true pairs,
and the import format."""

from __future__ import annotations

import json
from collections import Counter
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from evaluation.categories import category_mix, expected_scenario_mix
from evaluation.population import (
    GAP_BUCKETS,
    Population,
    TruePair,
    gap_bucket,
    generate_population,
    height_at,
    read_truth,
    write_population,
)

TODAY = date(2026, 11, 1)
MISSING_KEYS = {
    "ref", "name", "aliases", "sex", "birth_year", "birth_date", "missing_date",
    "missing_place", "hometown", "dialect", "height_cm", "features", "health", "photos",
}  # fmt: skip
FOUND_KEYS = {
    "ref", "name", "aliases", "sex", "age_min", "age_max", "found_date", "found_place",
    "accent", "hometown", "height_cm", "features", "health", "station", "name_assigned",
    "photos",
}  # fmt: skip

# Shares over 8,000 true pairs have a standard error under 0.005; the tolerance also
# absorbs the few draws that fall back to "exact" (a name with no traditional form).
SHARE_TOLERANCE = 0.025


@pytest.fixture(scope="module")
def big() -> Population:
    return generate_population(seed=20240, n_missing=20_000, n_found=20_000, n_true_pairs=8_000)


@pytest.fixture(scope="module")
def small() -> Population:
    return generate_population(seed=5, n_missing=600, n_found=500, n_true_pairs=200)


def _by_ref(rows: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {row["ref"]: row for row in rows}


def _pairs(pop: Population) -> list[tuple[TruePair, dict[str, Any], dict[str, Any]]]:
    missing, found = _by_ref(pop.missing), _by_ref(pop.found)
    return [(p, missing[p.missing_ref], found[p.found_ref]) for p in pop.truth]


def test_counts(small: Population) -> None:
    assert len(small.missing) == 600 and len(small.found) == 500 and len(small.truth) == 200
    assert len({r["ref"] for r in small.missing}) == 600
    assert len({r["ref"] for r in small.found}) == 500
    assert len({p.missing_ref for p in small.truth}) == 200
    assert len({p.found_ref for p in small.truth}) == 200


def test_scenario_shares_match_the_documented_mix(big: Population) -> None:
    realised = Counter(p.scenario for p in big.truth)
    for scenario, expected in expected_scenario_mix().items():
        share = realised[scenario] / len(big.truth)
        assert share == pytest.approx(expected, abs=SHARE_TOLERANCE), scenario
    assert big.mix["realised"]["scenario"] == {
        s: n / len(big.truth) for s, n in sorted(realised.items())
    }


def test_category_shares_match_the_documented_mix(big: Population) -> None:
    realised = big.mix["realised"]["category"]
    for category, expected in category_mix().items():
        assert realised[category] == pytest.approx(expected, abs=0.015), category
    pairs = Counter(p.category for p in big.truth)
    for category, expected in category_mix().items():
        assert pairs[category] / len(big.truth) == pytest.approx(expected, abs=SHARE_TOLERANCE)


def test_mix_documents_itself(big: Population) -> None:
    assert big.mix["documented"]["category"] == category_mix()
    assert big.mix["documented"]["scenario"] == expected_scenario_mix()
    assert set(big.mix["documented"]["scenario_by_category"]) == set(category_mix())
    assert big.mix["counts"]["people"] == 20_000 + 20_000 - 8_000
    json.dumps(big.mix)  # a report can print it as is


def test_surnames_follow_national_frequencies(big: Population) -> None:
    surnames = Counter(r["name"][0] for r in big.missing)
    for surname, share in (("王", 0.071), ("李", 0.070), ("张", 0.068), ("刘", 0.054)):
        assert surnames[surname] / len(big.missing) == pytest.approx(share, abs=0.01)
    compound = sum(1 for r in big.missing if r["name"].startswith(("欧阳", "司徒", "上官")))
    assert 0 < compound < 100


def test_true_pairs_are_consistent(big: Population) -> None:
    n_dated = near = roughly = found_later = 0
    for _pair, report, found in _pairs(big):
        assert report["sex"] == found["sex"]
        found_later += found["found_date"] >= report["missing_date"]
        if report["birth_year"] is None:
            continue
        n_dated += 1
        age = int(found["found_date"][:4]) - report["birth_year"]
        near += found["age_min"] - 5 <= age <= found["age_max"] + 5
        roughly += found["age_min"] - 15 <= age <= found["age_max"] + 15
    assert near / n_dated > 0.9
    assert roughly / n_dated > 0.995
    # Mostly found after going missing; a few reported dates come after the found date,
    # as in real cases (a misremembered last contact).
    assert 0.9 < found_later / len(big.truth) < 1.0


def test_categories_unfold_as_documented(big: Population) -> None:
    gaps: dict[str, Counter[str]] = {}
    same_province: Counter[str] = Counter()
    totals: Counter[str] = Counter()
    for pair, report, found in _pairs(big):
        gaps.setdefault(pair.category, Counter())[pair.gap] += 1
        totals[pair.category] += 1
        province = report["missing_place"][:3]
        same_province[pair.category] += found["found_place"].startswith(province)
    elderly = gaps["elderly_dementia"]
    assert (elderly["days"] + elderly["months"]) / totals["elderly_dementia"] > 0.9
    assert same_province["elderly_dementia"] / totals["elderly_dementia"] > 0.8
    grown = gaps["child_grown"]
    assert (grown["10-20y"] + grown["20y+"]) / totals["child_grown"] > 0.9
    # Migrant workers are lost away from home: the report's place is not the hometown.
    for pair, report, _ in _pairs(big):
        if pair.category == "migrant_worker" and report["hometown"]:
            assert not report["missing_place"].startswith(report["hometown"])


def test_grown_children_are_mostly_adults_when_found(big: Population) -> None:
    adults = grown = 0
    for pair, report, found in _pairs(big):
        if pair.category == "child_grown" and report["birth_year"] is not None:
            lost_age = int(report["missing_date"][:4]) - report["birth_year"]
            found_age = int(found["found_date"][:4]) - report["birth_year"]
            assert lost_age <= 14 and found_age >= lost_age + 3
            grown += 1
            adults += found_age >= 18
        if pair.category == "child" and report["birth_year"] is not None:
            # Still a minor (the station's estimate may say otherwise; the reported birth
            # year may be a year off).
            assert int(found["found_date"][:4]) - report["birth_year"] <= 19
    assert adults / grown > 0.8


def test_truth_labels(big: Population) -> None:
    labels = {str(label) for label, _ in GAP_BUCKETS}
    for pair in big.truth:
        assert pair.gap in labels
        assert pair.has_photos is False  # no faces folder
        assert set(pair.labels) == {"scenario", "category", "gap", "region", "province", "photos"}
    dialect = [p for p in big.truth if p.scenario == "dialect"]
    assert all(p.detail for p in dialect)


def test_exact_scenario_means_the_same_name(big: Population) -> None:
    for pair, report, found in _pairs(big):
        if pair.scenario == "exact":
            assert found["name"] == report["name"]
        elif pair.scenario in ("dialect", "homophone", "pinyin", "traditional", "assigned"):
            assert found["name"] != report["name"]
        elif pair.scenario == "given_only":
            assert report["name"].endswith(found["name"])


def test_import_format(small: Population) -> None:
    for row in small.missing:
        assert set(row) == MISSING_KEYS
        assert row["sex"] in ("M", "F")
        assert isinstance(row["aliases"], list) and isinstance(row["features"], list)
        assert row["photos"] == []
        date.fromisoformat(row["missing_date"])
        if row["birth_date"] is not None:
            assert date.fromisoformat(row["birth_date"]).year == row["birth_year"]
        assert row["birth_year"] is None or isinstance(row["birth_year"], int)
    for row in small.found:
        assert set(row) == FOUND_KEYS
        assert 0 <= row["age_min"] <= row["age_max"] <= 120
        assert date.fromisoformat(row["found_date"]) <= TODAY
        assert row["station"].endswith("救助管理站")
        assert row["name"] is None or isinstance(row["name"], str)
        assert row["photos"] == []
    scenario = {t.found_ref: t.scenario for t in small.truth}
    marked = {row["ref"] for row in small.found if row["name_assigned"]}
    assert marked >= {ref for ref, s in scenario.items() if s == "assigned"} != set()
    assert not marked & {ref for ref, s in scenario.items() if s != "assigned"}
    json.dumps(small.missing, ensure_ascii=False)
    json.dumps(small.found, ensure_ascii=False)


def test_rows_pass_the_service_import_parser(tmp_path: Path) -> None:
    importing = pytest.importorskip("records.importing")
    pop = generate_population(
        seed=11, n_missing=400, n_found=400, n_true_pairs=150, today=min(date.today(), TODAY)
    )
    write_population(pop, tmp_path)
    for kind in ("missing", "found"):
        results = list(importing.read_import_file(tmp_path / f"{kind}.jsonl", kind))
        errors = [r for r in results if isinstance(r, importing.RowError)]
        assert not errors, errors[:3]
        assert len(results) == 400


def test_deterministic_for_a_seed() -> None:
    first = generate_population(seed=42, n_missing=300, n_found=300, n_true_pairs=100)
    again = generate_population(seed=42, n_missing=300, n_found=300, n_true_pairs=100)
    other = generate_population(seed=43, n_missing=300, n_found=300, n_true_pairs=100)
    assert first == again
    assert first.missing != other.missing


def test_refs_do_not_give_pairs_away(big: Population) -> None:
    # Rows are shuffled: the k-th report is not the k-th found record's person.
    aligned = sum(1 for p in big.truth if p.missing_ref[1:] == p.found_ref[1:])
    assert aligned < 20


def test_found_records_look_alike_paired_or_not(big: Population) -> None:
    paired = {p.found_ref for p in big.truth}
    no_name_paired = sum(1 for r in big.found if r["ref"] in paired and r["name"] is None)
    no_name_other = sum(1 for r in big.found if r["ref"] not in paired and r["name"] is None)
    share_paired = no_name_paired / len(paired)
    share_other = no_name_other / (len(big.found) - len(paired))
    assert share_paired == pytest.approx(share_other, abs=0.02)


@pytest.mark.parametrize(
    ("n_missing", "n_found", "n_pairs"), [(10, 10, 11), (5, 20, 6), (-1, 5, 0), (5, 5, -1)]
)
def test_impossible_counts_are_refused(n_missing: int, n_found: int, n_pairs: int) -> None:
    with pytest.raises(ValueError):
        generate_population(seed=1, n_missing=n_missing, n_found=n_found, n_true_pairs=n_pairs)


def test_empty_population() -> None:
    pop = generate_population(seed=1, n_missing=0, n_found=0, n_true_pairs=0)
    assert pop.missing == [] and pop.found == [] and pop.truth == []
    assert pop.mix["realised"]["scenario"] == {}


def test_write_and_read_back(small: Population, tmp_path: Path) -> None:
    folder = tmp_path / "pop"
    write_population(small, folder)
    assert sorted(p.name for p in folder.iterdir()) == [
        "found.jsonl",
        "missing.jsonl",
        "mix.json",
        "truth.jsonl",
    ]
    lines = (folder / "missing.jsonl").read_text(encoding="utf-8").splitlines()
    assert [json.loads(line) for line in lines] == small.missing
    assert read_truth(folder / "truth.jsonl") == small.truth
    assert json.loads((folder / "mix.json").read_text(encoding="utf-8")) == small.mix


@pytest.mark.parametrize(
    ("days", "label"), [(0, "days"), (29, "days"), (30, "months"), (400, "1-5y"), (9000, "20y+")]
)
def test_gap_bucket(days: int, label: str) -> None:
    assert gap_bucket(days) == label


def test_height_at() -> None:
    assert height_at(170.0, "M", 30) == 170.0
    assert height_at(170.0, "M", 80) < 170.0  # older people shrink
    assert 100 < height_at(170.0, "M", 4.5) < 110
    assert height_at(180.0, "M", 10) > height_at(160.0, "M", 10)
