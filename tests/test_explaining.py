"""A candidate's explanation is built when it is read, from its records, the model and
the basis the re-match stored; it gives the stored score, and follows the records."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlalchemy import select, update

from matching.evidence_model import EvidenceModel
from records import Candidate, Sex
from records.inputs import FoundFields, MissingFields
from records.storage.candidate_pairs import get_candidate, list_candidates
from records.storage.person_records import upsert_found, upsert_missing
from usecases.explaining import Explanations
from usecases.rematch_job import rematch
from usecases.services import Services


def _matched(make_services: Callable[..., Services]) -> Services:
    services = make_services()
    with services.database.session() as session:
        upsert_missing(session, MissingFields(ref="M1", name="刘建华", sex=Sex.MALE,
                                              birth_year=1958, dialect="四川话"))  # fmt: skip
        upsert_missing(session, MissingFields(ref="M2", name="刘建国", sex=Sex.MALE,
                                              birth_year=1960))  # fmt: skip
        upsert_found(session, FoundFields(ref="F1", name="牛建华", sex=Sex.MALE, age_min=60,
                                          age_max=70, accent="四川口音"))  # fmt: skip
    rematch(services.database, face_indexes=None, face_model=None)
    return services


def test_a_rematch_stores_no_explanation_and_reading_gives_the_stored_score(
    make_services: Callable[..., Services],
) -> None:
    services = _matched(make_services)
    model = EvidenceModel.default()
    with services.database.session() as session:
        rows = [r.candidate for r in list_candidates(session, limit=None)]
        assert len(rows) == 2
        explanations = Explanations(session, model)
        for row in rows:
            assert row.evidence == {} and row.explanation_basis is not None
            explained = explanations.of(row)
            assert explained.final_weight == pytest.approx(row.score, abs=1e-5)
            assert explained.probability == pytest.approx(row.probability, rel=1e-5)
            assert explained.competition is not None  # two reports for one person
            assert {s.signal for s in explained.signals} >= {"name", "sex", "age"}
    assert len(model.facts) == 0, "a read keeps no record's facts"


def test_the_explanation_reads_the_records_as_they_are_now(
    make_services: Callable[..., Services],
) -> None:
    services = _matched(make_services)
    model = EvidenceModel.default()
    with services.database.session() as session:
        (row,) = [r.candidate for r in list_candidates(session, limit=None)
                  if r.candidate.missing.ref == "M1"]  # fmt: skip
        before = Explanations(session, model).of(row).signal("sex").level
        row.missing.sex = Sex.FEMALE
        session.flush()
        after = Explanations(session, model).of(row).signal("sex").level
    assert (before, after) == ("same", "different")


def test_an_explanation_stored_by_an_earlier_version_is_read_as_stored(
    make_services: Callable[..., Services],
) -> None:
    services = _matched(make_services)
    model = EvidenceModel.default()
    with services.database.session() as session:
        row = list_candidates(session, limit=None)[0].candidate
        stored = Explanations(session, model).of(row).to_json()
        stored["signals"][0]["detail"] = "stored by an earlier version"
        session.execute(update(Candidate).where(Candidate.id == row.id).values(evidence=stored))
    with services.database.session() as session:
        again = get_candidate(session, row.id)
        read = Explanations(session, model).of(again)
    assert read.signals[0].detail == "stored by an earlier version"


def test_a_candidate_without_a_basis_is_written_again_by_the_next_run(
    make_services: Callable[..., Services],
) -> None:
    services = _matched(make_services)
    with services.database.session() as session:
        session.execute(update(Candidate).values(explanation_basis=None))
        assert (
            session.scalars(
                select(Candidate.id).where(Candidate.explanation_basis.is_not(None))
            ).all()
            == []
        )
    again = rematch(services.database, face_indexes=None, face_model=None)
    assert again.updated == 2 and again.unchanged == 0
    with services.database.session() as session:
        assert all(r.candidate.explanation_basis for r in list_candidates(session, limit=None))
