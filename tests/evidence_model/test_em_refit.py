"""Refitting on records without labels, and reading a store's decisions, through re-match."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from matching.evidence_model import EvidenceModel, refit_model
from matching.evidence_model.store import read_store
from matching.rematch import rematch
from records import CandidateStatus, Database, Sex
from records.inputs import FoundFields, MissingFields
from records.repository import list_candidates, record_decision, upsert_found, upsert_missing


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
    assert report.random_pairs == 3000 and report.em_pairs == len(candidates)
    assert 0 < report.prior < 0.5
    steps = [h["step"] for h in refitted.params.history]
    assert steps[-2:] == ["u_from_random_pairs", "em"]


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
        assert "confirm_by" in by_pair[("M1", "F1")].evidence
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
    database.dispose()
