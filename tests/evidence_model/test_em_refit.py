"""Refitting on records without labels, and reading a store's decisions, through re-match."""

from __future__ import annotations

import math
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from evaluation.population import generate_population
from evaluation.population_views import views_from_rows
from matching.evidence_model import ComparisonVectors, EvidenceModel, refit_model
from matching.evidence_model.refit import MIN_EM_PAIRS, rare_name_pairs
from matching.names import NameLevel
from matching.views import FoundView, MissingView
from records import CandidateStatus, Database, FoundStatus, MissingStatus, Sex, Side
from records.inputs import FoundFields, MissingFields
from records.storage.candidate_pairs import list_candidates
from records.storage.person_records import (
    set_status,
    upsert_found,
    upsert_missing,
)
from records.storage.reviewer_decisions import record_decision
from usecases.explaining import Explanations
from usecases.labelled_store import read_store
from usecases.rematch_job import rematch


def test_refit_without_labels_then_with_decisions(small_population: Any) -> None:
    pop, missing, found = small_population
    model = EvidenceModel.default()
    m_index = {v.ref: i for i, v in enumerate(missing)}
    f_index = {v.ref: j for j, v in enumerate(found)}
    candidates = [(m_index[p.missing_ref], f_index[p.found_ref]) for p in pop.truth]
    candidates += [(i, (i * 7) % len(found)) for i in range(0, len(missing), 3)]
    refitted, report = refit_model(
        model, missing, found, candidate_pairs=candidates, n_random_pairs=3000, seed=1
    )
    assert report.version == refitted.version != model.version
    assert report.random_pairs == 3000
    # Forty true pairs hold fewer rare agreeing names than EM needs: m is kept.
    assert report.em_pairs == 0 and report.em_iterations == 0
    assert report.prior == model.params.prior
    steps = [h["step"] for h in refitted.params.history]
    assert steps[-1] == "u_from_random_pairs"


Views = tuple[list[MissingView], list[FoundView], set[tuple[int, int]]]


@pytest.fixture(scope="module")
def many_true_pairs() -> Views:
    """A population where many found persons have a report: reports, found persons, and
    the true pairs as (report index, found index)."""
    pop = generate_population(seed=11, n_missing=900, n_found=450, n_true_pairs=300,
                              today=date(2026, 11, 1))  # fmt: skip
    missing, found = views_from_rows(pop.missing, pop.found)
    m_index = {v.ref: i for i, v in enumerate(missing)}
    f_index = {v.ref: j for j, v in enumerate(found)}
    return missing, found, {(m_index[p.missing_ref], f_index[p.found_ref]) for p in pop.truth}


def test_em_learns_m_from_pairs_agreeing_on_a_rare_name(many_true_pairs: Views) -> None:
    missing, found, truth = many_true_pairs
    candidates = sorted(truth | {(i, (i * 7) % len(found)) for i in range(len(missing))})
    model = EvidenceModel.default()
    refitted, report = refit_model(
        model, missing, found, candidate_pairs=candidates, n_random_pairs=3000, seed=1
    )
    vectors = model.comparison_vectors((missing[i], found[j]) for i, j in candidates)
    rare = rare_name_pairs(vectors, len(missing))
    chosen = {candidates[k] for k in np.flatnonzero(rare)}
    assert report.em_pairs == len(chosen) >= MIN_EM_PAIRS
    assert len(chosen & truth) >= 0.9 * len(chosen)  # nearly all the same person
    em = refitted.params.history[-1]
    assert em["step"] == "em" and em["fixed"] == ["face"]
    assert em["lambda"] > 0.5 and em["model_prior_kept"] == model.params.prior
    assert refitted.params.prior == model.params.prior
    for name in ("name", "face"):  # the name chose the pairs, the face is calibrated
        before, after = model.params.comparison(name), refitted.params.comparison(name)
        assert [s.m for s in after.strata] == [s.m for s in before.strata]
    # EM learns m where the true pairs among the chosen ones are: closer to their shares
    # than the documented m is, for each level of the comparisons most pairs have.
    true_rows = np.array([candidates[k] in truth for k in np.flatnonzero(rare)])
    for name in ("sex", "time"):
        column = vectors.names.index(name)
        levels = vectors.levels[rare, column][true_rows]
        stratum = np.bincount(vectors.strata[rare, column][true_rows]).argmax()
        known = levels[(levels > 0) & (vectors.strata[rare, column][true_rows] == stratum)]
        share = np.bincount(known - 1, minlength=len(refitted.params.comparison(name).levels) - 1)
        share = share / share.sum()
        documented = np.array(model.params.comparison(name).strata[stratum].m)
        learned = np.array(refitted.params.comparison(name).strata[stratum].m)
        assert np.abs(learned - share).sum() < np.abs(documented - share).sum(), name


def test_a_refit_of_a_refit_learns_the_same_m(many_true_pairs: Views) -> None:
    missing, found, truth = many_true_pairs
    candidates = sorted(truth)
    once, _ = refit_model(EvidenceModel.default(), missing, found, candidate_pairs=candidates,
                          n_random_pairs=3000, seed=1)  # fmt: skip
    twice, report = refit_model(once, missing, found, candidate_pairs=candidates,
                                n_random_pairs=3000, seed=1)  # fmt: skip
    assert report.em_pairs >= MIN_EM_PAIRS
    for name in ("sex", "age", "time", "place", "hometown"):
        for a, b in zip(once.params.comparison(name).strata,
                        twice.params.comparison(name).strata, strict=True):  # fmt: skip
            assert a.m == pytest.approx(b.m, abs=1e-4), name


@pytest.mark.parametrize(
    ("level", "share", "rare"),
    [
        (NameLevel.EXACT, 1e-6, True),
        (NameLevel.SAME_SOUND, 1e-6, True),
        (NameLevel.EXACT, 1e-3, False),  # a common name: 4 namesakes among 4,000 reports
        (NameLevel.DIALECT_SPEAKER, 1e-6, False),
        (NameLevel.NICKNAME_OR_PARTIAL, 1e-6, False),
        (NameLevel.NULL, math.nan, False),
    ],
)  # fmt: skip
def test_which_pairs_agree_on_a_rare_name(level: NameLevel, share: float, rare: bool) -> None:
    names = ("name", "sex")
    vectors = ComparisonVectors(
        names,
        np.array([[int(level), 1]], dtype=np.int16),
        np.zeros((1, 2), dtype=np.int16),
        np.array([[share, math.nan]]),
        np.zeros((1, 2), dtype=np.int64),
    )
    assert rare_name_pairs(vectors, 4000).tolist() == [rare]


def test_rematch_with_the_model_and_reading_decisions(tmp_path: Path) -> None:
    database = Database(f"sqlite:///{tmp_path / 'xunqin.db'}")
    database.upgrade()
    reports = [
        MissingFields(
            ref="M1", name="覃建华", sex=Sex.MALE, birth_year=1960, hometown="四川省南充市"
        ),
        MissingFields(ref="M2", name="王芳", sex=Sex.FEMALE, birth_year=1990),
    ]
    found = [
        FoundFields(
            ref="F1", name="覃建华", sex=Sex.MALE, age_min=60, age_max=66, accent="四川口音"
        ),
        FoundFields(ref="F2", name="王芳", sex=Sex.FEMALE, age_min=30, age_max=36),
    ]
    with database.session() as session:
        for report in reports:
            upsert_missing(session, report)
        for person in found:
            upsert_found(session, person)
    model = EvidenceModel.default()
    rematch(database, face_indexes=None, face_model=None, scorer=model)  # fmt: skip
    with database.session() as session:
        rows = list_candidates(session)
        assert {r.candidate.model_version for r in rows} == {model.version}
        by_pair = {(r.candidate.missing.ref, r.candidate.found.ref): r.candidate for r in rows}
        assert Explanations(session, model).of(by_pair[("M1", "F1")]).confirm_by
        record_decision(session, by_pair[("M1", "F1")].id, reviewer="t",
                        status=CandidateStatus.CONFIRMED, reason=None)  # fmt: skip
        record_decision(session, by_pair[("M2", "F2")].id, reviewer="t",
                        status=CandidateStatus.REJECTED, reason=None)  # fmt: skip
    store = read_store(database)
    assert len(store.missing) == 2 and len(store.found) == 2
    assert sorted((p.missing.ref, p.found.ref, p.same) for p in store.decided) == [
        ("M1", "F1", True), ("M2", "F2", False),
    ]  # fmt: skip
    assert len(store.candidates) == len(rows)
    # The confirmed family is reunited and the person identified: both cases close, and
    # the refit still learns from the pair (it would learn from rejections alone).
    with database.session() as session:
        set_status(session, Side.MISSING, "M1", MissingStatus.REUNITED)
        set_status(session, Side.FOUND, "F1", FoundStatus.IDENTIFIED)
    closed = read_store(database)
    assert len(closed.missing) == 1 and len(closed.found) == 1, "closed cases are not fitted"
    assert sorted((p.missing.ref, p.found.ref, p.same) for p in closed.decided) == [
        ("M1", "F1", True), ("M2", "F2", False),
    ]  # fmt: skip
    database.dispose()
