"""The re-match job and the face indexes' bond with the store."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

import usecases.rematch_settle as settle_module
from matching.evidence_model import EvidenceModel
from records import (
    Candidate,
    CandidateStatus,
    Database,
    FoundPerson,
    MissingReport,
    MissingStatus,
    Sex,
    Side,
)
from records.inputs import FoundFields, MissingFields
from records.models import ScoredPair
from records.storage import candidate_pairs
from records.storage.candidate_pairs import (
    get_candidate,
    list_candidates,
)
from records.storage.person_records import (
    set_status,
    upsert_found,
    upsert_missing,
)
from records.storage.reviewer_decisions import record_decision
from usecases.explaining import Explanations
from usecases.face_registry import FaceIndexes
from usecases.rematch_job import RematchSettings, rematch
from usecases.services import Services


def _load(services: Services, sample_photos: Path) -> None:
    ingest = services.ingestor
    with services.database.session() as session:
        upsert_missing(session, MissingFields(ref="M1", name="刘建华"))
        upsert_missing(session, MissingFields(ref="M2", name="王芳"))
        upsert_missing(session, MissingFields(ref="M3", name="赵磊"))
        upsert_missing(session, MissingFields(ref="M4", name="王芳"))
        upsert_found(session, FoundFields(ref="F1", name=None))
        upsert_found(session, FoundFields(ref="F2", name="王芳"))
        upsert_found(session, FoundFields(ref="F3", name="王芳"))
    for side, ref, photo in (
        (Side.MISSING, "M1", "obama.jpg"),
        (Side.MISSING, "M3", "biden.jpg"),
        (Side.FOUND, "F1", "obama2.jpg"),
    ):
        ingest.add_photo(side, ref, (sample_photos / photo).read_bytes(), actor="test")


def _loaded(
    make_services: Callable[..., Services], sample_photos: Path
) -> tuple[Services, dict[str, Any]]:
    """Services on the loaded store, and the face arguments every re-match here takes."""
    services = make_services()
    _load(services, sample_photos)
    return services, {"face_indexes": services.face_indexes, "face_model": services.face_model.name}


def test_blocked_pairs_come_from_face_neighbours_and_names(
    make_services: Callable[..., Services], sample_photos: Path
) -> None:
    services = make_services()
    _load(services, sample_photos)
    # all_pairs_limit=0 forces blocking: the nameless F1 is reached only through its face.
    report = rematch(
        services.database,
        face_indexes=services.face_indexes,
        face_model=services.face_model.name,
        settings=RematchSettings(all_pairs_limit=0, face_neighbours=1),
    )
    assert report.pairs_scored == 5  # F1-M1 by face (one neighbour); 王芳 x 王芳 by name
    assert report.weak_name_reach == 2000  # F1 has no age or found date: nobody to serve
    with services.database.session() as session:
        pairs = {(r.candidate.missing.ref, r.candidate.found.ref) for r in list_candidates(session)}
    assert pairs == {("M1", "F1"), ("M2", "F2"), ("M2", "F3"), ("M4", "F2"), ("M4", "F3")}


def test_decided_candidates_stay_and_stale_pending_ones_go(
    make_services: Callable[..., Services], sample_photos: Path
) -> None:
    services, run = _loaded(make_services, sample_photos)
    first = rematch(services.database, **run)  # type: ignore[arg-type]
    assert first.created == first.kept > 0
    with services.database.session() as session:
        ranked = list_candidates(session, limit=None)
        # The weakest candidate: a narrower re-match would drop it were it still pending.
        rejected = ranked[-1].candidate
        record_decision(session, rejected.id, reviewer="r", status=CandidateStatus.REJECTED,
                        reason=None)  # fmt: skip
    again = rematch(services.database, **run)  # type: ignore[arg-type]
    # The weakest pair took less than half a step of its rivals' chance: rejecting it
    # changes no stored value (test_competition holds the steps).
    assert again.created == 0 and again.kept == first.kept
    steady = rematch(services.database, **run)  # type: ignore[arg-type]
    assert steady.unchanged == first.kept and steady.created == steady.updated == 0
    narrow = rematch(services.database, settings=RematchSettings(keep_per_record=1), **run)  # type: ignore[arg-type]
    assert narrow.removed > 0
    with services.database.session() as session:
        statuses = {
            r.candidate.id: r.candidate.status for r in list_candidates(session, limit=None)
        }
    assert statuses[rejected.id] is CandidateStatus.REJECTED, "a reviewer's exclusion persists"
    assert len(statuses) < first.kept


def _dropped_by_a_narrow_rematch(services: Services, run: dict[str, Any]) -> int:
    """A pending candidate that a re-match keeping one per record would remove."""
    narrow = RematchSettings(keep_per_record=1)
    rematch(services.database, settings=narrow, **run)
    with services.database.session() as session:
        few = {r.candidate.id for r in list_candidates(session, limit=None)}
    rematch(services.database, **run)
    with services.database.session() as session:
        many = {r.candidate.id for r in list_candidates(session, limit=None)}
    assert many > few, "a wider re-match keeps more"
    return min(many - few)


def test_a_candidate_with_decisions_is_never_removed(
    make_services: Callable[..., Services], sample_photos: Path
) -> None:
    services, run = _loaded(make_services, sample_photos)
    first = rematch(services.database, **run)  # type: ignore[arg-type]
    weakest = _dropped_by_a_narrow_rematch(services, run)
    with services.database.session() as session:
        # Rejected, then set back to pending: the candidate is pending again, but it has
        # a history that a narrower re-match must not delete with it.
        rejected = record_decision(session, weakest, reviewer="r",
                                   status=CandidateStatus.REJECTED, reason=None)  # fmt: skip
        record_decision(session, weakest, reviewer="r", status=CandidateStatus.PENDING,
                        reason="to look again", seen_decision_id=rejected.id,
                        override=True)  # fmt: skip
    narrow = rematch(services.database, settings=RematchSettings(keep_per_record=1), **run)  # type: ignore[arg-type]
    with services.database.session() as session:
        left = {r.candidate.id for r in list_candidates(session, limit=None)}
        assert len(session.get(Candidate, weakest).decisions) == 2  # type: ignore[union-attr]
    assert weakest in left
    assert narrow.removed == first.kept - len(left) > 0, "removed counts only rows deleted"


def test_a_decision_made_while_the_job_scores_is_kept(
    make_services: Callable[..., Services], sample_photos: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    services, run = _loaded(make_services, sample_photos)
    weakest = _dropped_by_a_narrow_rematch(services, run)

    def loaded_then_decided(session: Session) -> dict[tuple[int, int], Any]:
        # The job read the candidate as pending; a reviewer confirms it before the
        # job's delete runs (written past the job's loaded objects, as another
        # process's write would be).
        rows = candidate_pairs.stored_scores(session)
        session.execute(
            update(Candidate).where(Candidate.id == weakest)
            .values(status=CandidateStatus.CONFIRMED)
            .execution_options(synchronize_session=False)
        )  # fmt: skip
        return rows

    monkeypatch.setattr(settle_module, "stored_scores", loaded_then_decided)
    rematch(services.database, settings=RematchSettings(keep_per_record=1), **run)  # type: ignore[arg-type]
    with services.database.session() as session:
        kept = session.get(Candidate, weakest)
        assert kept is not None and kept.status is CandidateStatus.CONFIRMED


def _rematched_without_m1(services: Services, run: dict[str, Any]) -> None:
    """Re-match, and check the rest was stored and the erased M1 was not."""
    report = rematch(services.database, **run)
    assert report.created > 0
    with services.database.session() as session:
        refs = {r.candidate.missing.ref for r in list_candidates(session, limit=None)}
    assert refs and "M1" not in refs


def test_a_record_erased_while_the_job_scores_does_not_undo_the_rest(
    make_services: Callable[..., Services], sample_photos: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    services, run = _loaded(make_services, sample_photos)

    def loaded_then_erased(session: Session) -> dict[tuple[int, int], Any]:
        # Another process erases M1 after the job loaded it, before the job stores.
        rows = candidate_pairs.stored_scores(session)
        session.execute(
            delete(MissingReport).where(MissingReport.ref == "M1")
            .execution_options(synchronize_session=False)
        )  # fmt: skip
        return rows

    monkeypatch.setattr(settle_module, "stored_scores", loaded_then_erased)
    _rematched_without_m1(services, run)


def test_a_record_erased_while_the_job_stores_is_stored_around(
    make_services: Callable[..., Services], sample_photos: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    services, run = _loaded(make_services, sample_photos)
    write = settle_module.write_candidates
    race = {"armed": True}

    def erased_then_write(session: Session, *args: Any) -> Any:
        # Another process erases M1 (and commits) after the job read which records exist.
        if race.pop("armed", False):
            with services.database.session() as other:
                other.execute(delete(MissingReport).where(MissingReport.ref == "M1"))
        return write(session, *args)

    monkeypatch.setattr(settle_module, "write_candidates", erased_then_write)
    _rematched_without_m1(services, run)


def test_index_files_are_rebuilt_from_the_store(
    make_services: Callable[..., Services], sample_photos: Path
) -> None:
    services = make_services()
    _load(services, sample_photos)
    indexes = services.face_indexes
    before = {side: sorted(indexes[side].ids().tolist()) for side in Side}
    assert len(before[Side.MISSING]) == 2 and len(before[Side.FOUND]) == 1
    indexes.path(Side.MISSING).unlink()
    indexes.path(Side.FOUND).write_bytes(b"garbage")
    reopened = FaceIndexes(indexes.folder, model=indexes.model)
    changes = reopened.open(services.database)
    assert changes == {Side.MISSING: 2, Side.FOUND: 1}
    assert {side: sorted(reopened[side].ids().tolist()) for side in Side} == before
    assert reopened.open(services.database) == {Side.MISSING: 0, Side.FOUND: 0}


def test_people_without_a_name_are_reached_by_sex_birth_year_and_province() -> None:
    from datetime import date

    from matching.views import FoundView, MissingView
    from records import Sex
    from usecases.blocking import attribute_pairs

    missing = [
        MissingView(id=1, ref="M1", sex=Sex.FEMALE, birth_year=1948, missing_place="四川省南充市"),
        MissingView(id=2, ref="M2", sex=Sex.MALE, birth_year=1948, missing_place="四川省南充市"),
        MissingView(id=3, ref="M3", sex=Sex.FEMALE, birth_year=1990, hometown="四川成都"),
        MissingView(id=4, ref="M4", sex=Sex.FEMALE, birth_year=1950, hometown="广东省东莞市"),
    ]
    found = [
        FoundView(
            id=1,
            ref="F1",
            sex=Sex.FEMALE,
            age_min=70,
            age_max=80,
            found_date=date(2024, 5, 1),
            found_place="四川省成都市",
        ),  # fmt: skip
        FoundView(
            id=2,
            ref="F2",
            sex=Sex.FEMALE,
            age_min=70,
            age_max=80,
            found_date=date(2024, 5, 1),
            accent="广东话",
        ),  # fmt: skip
        FoundView(
            id=3,
            ref="F3",
            sex=Sex.UNKNOWN,
            age_min=70,
            age_max=80,
            found_date=date(2024, 5, 1),
            found_place="四川省成都市",
        ),  # fmt: skip
    ]
    assert attribute_pairs(missing, found) == {(0, 0), (3, 1)}


def test_a_bounded_blocking_reaches_the_best_fitting_reports_and_leaves_out_what_facts_forbid() -> (
    None
):
    from datetime import date

    from matching.views import FoundView, MissingView
    from records import Sex
    from usecases.blocking import NO_NAME_TIER, ReportBlocking

    place, found_on = "四川省成都市", date(2024, 5, 1)
    reports = [
        # (birth year, missing date): ages 74 (within 70-80), 64 (off), 68 (near).
        (1950, date(2024, 4, 1)), (1950, date(2024, 4, 25)), (1950, date(2010, 1, 1)),
        (1960, date(2024, 4, 30)), (1956, date(2024, 4, 28)), (1950, None),
    ]  # fmt: skip
    missing = [MissingView(id=k, ref=f"M{k}", sex=Sex.FEMALE, birth_year=year,
                           missing_date=lost, missing_place=place)
               for k, (year, lost) in enumerate(reports)]  # fmt: skip
    missing += [
        # Names: the same name but a man (kept: a whole name is never ruled out), a
        # partial name and a man (ruled out), a partial name lost after (ruled out).
        MissingView(id=6, ref="M6", names=("李秀英",), sex=Sex.MALE, birth_year=1950),
        MissingView(id=7, ref="M7", names=("秀英",), sex=Sex.MALE, birth_year=1950),
        MissingView(id=8, ref="M8", names=("秀英",), sex=Sex.FEMALE, birth_year=1950,
                    missing_date=date(2024, 9, 1)),
        MissingView(id=9, ref="M9", names=("秀英",), sex=Sex.FEMALE, birth_year=1950),
        # Lost six weeks after the person was found: last in the reach, then ruled out.
        MissingView(id=10, ref="M10", sex=Sex.FEMALE, birth_year=1950,
                    missing_date=date(2024, 6, 15), missing_place=place),
    ]  # fmt: skip
    person = FoundView(id=1, ref="F1", names=("李秀英",), sex=Sex.FEMALE, age_min=70,
                       age_max=80, found_date=found_on, found_place=place)  # fmt: skip
    blocking = ReportBlocking(missing)
    # Within or near the estimate first, the shortest time missing first among them.
    assert blocking.attribute_reports(person, reach=3).tolist() == [0, 1, 4]
    assert blocking.attribute_reports(person, reach=5).tolist() == [0, 1, 2, 4, 5]
    assert blocking.attribute_reports(person, reach=6).tolist() == [0, 1, 2, 4, 5, 10]
    assert blocking.attribute_reports(person).tolist() == [0, 1, 2, 3, 4, 5, 10]
    row = np.array([0], dtype=np.int64)
    everything, _ = blocking.tiered_keys([person], row)
    assert everything.tolist() == list(range(11))
    bounded, tiers = blocking.tiered_keys([person], row, bounded=True)
    by_report = dict(zip(bounded.tolist(), tiers.tolist(), strict=True))
    assert sorted(by_report) == [0, 1, 2, 3, 4, 5, 6, 9]
    assert by_report[6] == 0 and by_report[9] > 2 and by_report[0] == NO_NAME_TIER
    # Several people at once, their rows in any order: each keeps their own tiers.
    other = FoundView(id=2, ref="F2", names=("秀英",), sex=Sex.FEMALE, age_min=70,
                      age_max=80, found_date=found_on, found_place=place)  # fmt: skip
    rows = np.array([7, 3], dtype=np.int64)
    keys, tiers = blocking.tiered_keys([person, other], rows, bounded=True)
    assert (np.diff(keys) > 0).all()
    for one, row in zip((person, other), rows.tolist(), strict=True):
        alone, alone_tiers = blocking.tiered_keys([one], np.array([row]), bounded=True)
        mine = keys // len(missing) == row
        assert keys[mine].tolist() == alone.tolist()
        assert tiers[mine].tolist() == alone_tiers.tolist()


def test_people_with_no_name_and_no_face_reach_reports_anywhere() -> None:
    from datetime import date

    from matching.views import FoundView, MissingView
    from records import Sex
    from usecases.blocking import WEAK_NAME_REACH, weak_name_pairs, weak_name_reach

    lost = date(2020, 1, 1)
    missing = [
        MissingView(id=1, ref="M1", sex=Sex.FEMALE, birth_year=1948, missing_date=lost,
                    missing_place="黑龙江省哈尔滨市"),
        MissingView(id=2, ref="M2", sex=Sex.MALE, birth_year=1948, missing_date=lost),
        MissingView(id=3, ref="M3", sex=Sex.FEMALE, birth_year=1990, missing_date=lost),
        MissingView(id=4, ref="M4", sex=Sex.FEMALE, birth_year=1950,
                    missing_date=date(2025, 1, 1)),  # lost after F1 was found
        MissingView(id=5, ref="M5", sex=Sex.UNKNOWN, birth_year=1954),
        MissingView(id=6, ref="M6", sex=Sex.FEMALE, birth_year=1946, missing_date=lost),
        MissingView(id=7, ref="M7", sex=Sex.FEMALE, missing_date=lost),  # no birth year
        MissingView(id=8, ref="M8", sex=Sex.FEMALE, birth_year=1950,
                    missing_date=date(2024, 5, 20)),  # reported 19 days after F1 was found
    ]  # fmt: skip
    in_care = {"sex": Sex.FEMALE, "age_min": 70, "age_max": 80, "found_date": date(2024, 5, 1),
               "found_place": "广东省东莞市"}  # fmt: skip
    found = [
        FoundView(id=1, ref="F1", **in_care),  # type: ignore[arg-type]
        FoundView(id=2, ref="F2", names=("无名氏",), **in_care),  # type: ignore[arg-type]
        FoundView(id=3, ref="F3", names=("刘芳",), **in_care),  # type: ignore[arg-type]
    ]
    pairs = weak_name_pairs(missing, found)
    reached = {0, 4, 5, 6, 7}
    assert pairs == {(i, j) for i in reached for j in (0, 1)}  # F3 has a name
    closest = weak_name_pairs(missing, found, per_person=2)
    assert {i for i, j in closest if j == 0} == {0, 7}  # born 1948 and 1950, for ~1949
    # A report with no birth year comes after every report whose year fits.
    assert {i for i, j in weak_name_pairs(missing, found, per_person=4) if j == 0} == {0, 4, 5, 7}
    # A budget shares the pairs among the people served (F1 and F2; F3 has a name).
    assert weak_name_reach(found, budget=1_000_000) == WEAK_NAME_REACH
    assert weak_name_reach(found, budget=5) == 2
    assert weak_name_reach(found, budget=1) == 1  # at least one each
    assert weak_name_reach(found[2:], budget=1) == WEAK_NAME_REACH  # nobody to serve
    budgeted = weak_name_pairs(missing, found, per_person=weak_name_reach(found, budget=4))
    assert budgeted == {(i, j) for i in (0, 7) for j in (0, 1)}
    with pytest.raises(ValueError, match="budget"):
        weak_name_reach(found, budget=0)


def test_a_name_that_cannot_find_its_report_does_not_block_it() -> None:
    from datetime import date

    import numpy as np

    from matching.views import FaceView, FoundView, MissingView
    from records import Sex
    from usecases.blocking import names_can_block, weak_name_pairs

    def person(*names: str, **extra: object) -> FoundView:
        return FoundView(id=1, ref="F", names=names, sex=Sex.FEMALE, age_min=70, age_max=80,
                         found_date=date(2024, 5, 1), **extra)  # type: ignore[arg-type]  # fmt: skip

    for full in [("刘建华",), ("老三", "刘建华"), ("Liu Jianhua",), ("Lee Ming",)]:
        assert names_can_block(person(*full)), full
    for weak in [(), ("无名氏",), ("老三",), ("小宝",), ("二娃",), ("李",), ("王某",),
                 ("Liu",), ("Wong",)]:  # fmt: skip
        assert not names_can_block(person(*weak)), weak

    lost = date(2020, 1, 1)
    missing = [
        MissingView(id=1, ref="M1", names=("周秀兰",), sex=Sex.FEMALE, birth_year=1930,
                    missing_date=lost),  # 19 years from the estimate: no longer too far
        MissingView(id=2, ref="M2", names=("吴玉珍",), sex=Sex.FEMALE, birth_year=1990,
                    missing_date=lost),
    ]  # fmt: skip
    face = FaceView(face_id=1, embedding=np.zeros(128, dtype=np.float32))
    found = [
        person("老三", faces=(face,)),  # a face reaches only reports with a photo
        person("刘建华"),
    ]
    assert weak_name_pairs(missing, found) == {(0, 0)}


@pytest.mark.parametrize(("low", "high"), [(70, 80), (40, 50), (45, 45), (60, 60), (6, 10)])
def test_the_birth_years_blocked_are_those_the_age_comparison_would_not_call_far(
    low: int, high: int
) -> None:
    from datetime import date

    from matching.evidence_model.comparisons.age import AgeComparison
    from matching.evidence_model.facts import found_facts, missing_facts
    from matching.views import FoundView, MissingView
    from records import Sex
    from usecases.blocking import weak_name_pairs

    found_on = date(2024, 5, 1)
    person = FoundView(id=1, ref="F", sex=Sex.MALE, age_min=low, age_max=high,
                       found_date=found_on)  # fmt: skip
    # Lost 30 years or more before being found: the comparison's widest tolerance.
    reports = [MissingView(id=n, ref=f"M{n}", sex=Sex.MALE, birth_year=year,
                           missing_date=date(1990, 1, 1))
               for n, year in enumerate(range(1880, 2025))]  # fmt: skip
    blocked = {reports[i].birth_year for i, _ in weak_name_pairs(reports, [person])}
    facts = found_facts(person)
    not_far = {
        report.birth_year
        for report in reports
        if AgeComparison().compare(missing_facts(report), facts).level < 4  # 4: far
    }
    assert blocked == not_far


def test_a_nameless_person_with_no_found_date_is_reached_by_when_registered() -> None:
    from datetime import date

    from matching.views import FoundView, MissingView
    from usecases.blocking import attribute_pairs, weak_name_pairs

    reports = [
        MissingView(id=0, ref="M0", sex=Sex.FEMALE, birth_year=1950,
                    missing_date=date(2023, 3, 1), missing_place="四川省成都市"),
        MissingView(id=1, ref="M1", sex=Sex.FEMALE, birth_year=1990,
                    missing_date=date(2023, 3, 1), missing_place="四川省成都市"),
        MissingView(id=2, ref="M2", sex=Sex.FEMALE, birth_year=1950,
                    missing_date=date(2025, 6, 1), missing_place="四川省成都市"),
    ]  # fmt: skip
    undated = FoundView(id=0, ref="F0", sex=Sex.FEMALE, age_min=70, age_max=76,
                        found_place="四川省成都市")  # fmt: skip
    assert weak_name_pairs(reports, [undated]) == set() == attribute_pairs(reports, [undated])
    # In care by the day the record was made (early 2024): born about 1951, and lost
    # before then; the report lost in 2025 is not hers.
    registered = replace(undated, registered=date(2024, 1, 15))
    assert weak_name_pairs(reports, [registered]) == {(0, 0)}
    assert (0, 0) in attribute_pairs(reports, [registered])


def test_stored_probabilities_add_up_to_the_matches_the_prior_expects(
    make_services: Callable[..., Services],
) -> None:

    from matching.evidence_model import EvidenceModel, Recalibration
    from matching.evidence_model.recalibration import SHIFT_STEP
    from matching.views import found_view, missing_view
    from records.storage.person_records import all_found, all_missing

    services = make_services()
    surnames, given = "王李张刘陈杨黄赵吴周", "伟芳娜敏静丽强磊军洋"
    names = [s + g for s in surnames for g in given[:6]]  # 60 reports
    with services.database.session() as session:
        for n, name in enumerate(names):
            upsert_missing(session, MissingFields(ref=f"M{n}", name=name, birth_year=1950 + n % 30))
        for n, name in enumerate(names[::3] + names[1::6]):  # 20 named as reported, 10 more
            upsert_found(session, FoundFields(ref=f"F{n}", name=name, age_min=50, age_max=75))
    model = EvidenceModel.default().with_prior(0.015)  # 0.015 x 60 x 30 = 27 matches expected
    run = {"face_indexes": services.face_indexes, "face_model": services.face_model.name}
    report = rematch(services.database, scorer=model, **run)  # type: ignore[arg-type]
    assert "27 matches the prior expects" in report.calibration
    with services.database.session() as session:
        stored = [r.candidate for r in list_candidates(session, limit=None)]
        scores = [Explanations(session, model).of(c) for c in stored]
        for c, s in zip(stored, scores, strict=True):  # the explanation gives what was stored
            assert s.final_weight == pytest.approx(c.score, abs=1e-5)
            assert s.probability == pytest.approx(c.probability, rel=1e-5)
        views = [missing_view(r) for r in all_missing(session)]
        people = [found_view(p) for p in all_found(session)]
    calibration = scores[0].calibration
    assert calibration is not None and calibration.expected_matches == pytest.approx(27.0)
    assert calibration.intercept < 0, "30 exact names, 27 matches expected: too sure"
    every_pair = sum(
        calibration.probability(model.total_weight(m, f)) for m in views for f in people
    )
    # All 1,800 pairs, not only the stored ones; the shift is rounded down to 1/8 bit.
    assert 27.0 * 2**-SHIFT_STEP * 0.97 <= every_pair <= 27.0 * 1.03
    for s in scores:  # less sure than the plain sum says
        assert s.probability_alone < 1.0 / (1.0 + 2.0**-s.total_weight)
    # Sharing between rivals keeps the matches expected, as near as a whole eighth of a
    # bit of raise allows (and the stored pairs are most, not all, of the plausible ones).
    shared_sum = sum(c.probability or 0.0 for c in stored)
    assert 27.0 * 0.85 <= shared_sum <= 27.0 * 1.03
    again = rematch(services.database, scorer=model, **run)  # type: ignore[arg-type]
    assert again.updated == 0 and again.unchanged == report.kept, "the same shift again"

    # A recalibration learned from reviewers (it started from that shift) is kept.
    learned = Recalibration(0.8, -1.0, 50)
    rematch(services.database, scorer=model.with_recalibration(learned), **run)  # type: ignore[arg-type]
    with services.database.session() as session:
        first = list_candidates(session, limit=None)[0].candidate
        evidence = Explanations(session, model).of(first).to_json()
    assert first.explanation_basis is not None
    assert first.explanation_basis["calibration"] == learned.to_json()
    assert evidence["calibration"] == learned.to_json()


def test_candidates_share_their_chance_with_rivals_for_the_same_person(
    make_services: Callable[..., Services],
) -> None:
    import math

    services = make_services()
    with services.database.session() as session:
        for ref, name in (("M1", "覃振宇"), ("M2", "覃振宇"), ("M3", "欧阳明轩")):
            upsert_missing(session, MissingFields(ref=ref, name=name, birth_year=1960))
        for ref, name in (("F1", "覃振宇"), ("F2", "欧阳明轩")):
            upsert_found(session, FoundFields(ref=ref, name=name, age_min=60, age_max=70))
    rematch(services.database, face_indexes=services.face_indexes,
            face_model=services.face_model.name)  # fmt: skip
    with services.database.session() as session:
        stored = {
            (r.candidate.missing.ref, r.candidate.found.ref): r.candidate
            for r in list_candidates(session, limit=None)
        }
        explanations = Explanations(session, EvidenceModel.default())
        shared = {pair: explanations.of(c).to_json()["competition"] for pair, c in stored.items()}
    # Two reports of 覃振宇 for one 覃振宇 in care: odds o each, o / (1 + 2o) shared,
    # which is p / (1 + p) of the probability p alone: about half, as both are likely.
    for pair in (("M1", "F1"), ("M2", "F1")):
        assert shared[pair]["other_reports"] == 1 and shared[pair]["other_found"] == 0
        alone = shared[pair]["probability_alone"]
        assert alone > 0.5
        assert stored[pair].probability == pytest.approx(alone / (1 + alone), rel=0.01)
        assert "1 other report fits this person" in shared[pair]["reason"]
    lone = ("M3", "F2")
    assert shared[lone]["other_reports"] == shared[lone]["other_found"] == 0
    assert stored[lone].probability == pytest.approx(shared[lone]["probability_alone"], rel=1e-3)
    for candidate in stored.values():  # the score is the log2 odds of the probability
        p = candidate.probability
        assert p is not None and 0.0 < p < 1.0
        assert candidate.score == pytest.approx(math.log2(p / (1 - p)), abs=1e-5)

    # Reviewers' decisions take part: a rejected rival holds no share, a confirmed pair
    # leaves its people's other candidates next to nothing.
    def rival_after_rematch() -> dict[str, Any]:
        rematch(services.database, face_indexes=services.face_indexes,
                face_model=services.face_model.name)  # fmt: skip
        with services.database.session() as session:
            rows = list_candidates(session, limit=None)
            pair = {(r.candidate.missing.ref, r.candidate.found.ref): r.candidate for r in rows}
            rival = pair[("M2", "F1")]
            explained = Explanations(session, EvidenceModel.default()).of(rival)
            return {"p": rival.probability, **explained.to_json()["competition"]}

    def shared_after(status: CandidateStatus) -> dict[str, Any]:
        with services.database.session() as session:
            pair = get_candidate(session, stored[("M1", "F1")].id)
            seen = pair.latest_decision_id  # the second decision overrides the first
            record_decision(session, pair.id, reviewer="r", status=status,
                            reason=None if seen is None else "changed", seen_decision_id=seen,
                            override=seen is not None)  # fmt: skip
        return rival_after_rematch()

    rejected = shared_after(CandidateStatus.REJECTED)
    assert rejected["other_reports"] == 0
    assert rejected["p"] == pytest.approx(rejected["probability_alone"], rel=1e-3)
    confirmed = shared_after(CandidateStatus.CONFIRMED)
    assert confirmed["other_reports"] == 1 and confirmed["p"] < 1e-6
    assert "a reviewer confirmed this person with another report" in confirmed["reason"]

    # Once M1's family is reunited the report leaves the open records, and its confirmed
    # pair still holds F1's other report down.
    with services.database.session() as session:
        set_status(session, Side.MISSING, "M1", MissingStatus.REUNITED)
    reunited = rival_after_rematch()
    assert reunited["other_reports"] == 1 and reunited["p"] < 1e-6
    assert "a reviewer confirmed this person with another report" in reunited["reason"]


def test_rejecting_the_best_brings_the_next_forward(database: Database) -> None:
    with database.session() as session:
        for ref, year in (("M1", 1960), ("M2", 1962)):
            upsert_missing(session, MissingFields(ref=ref, name="刘建华", sex=Sex.MALE,
                                                  birth_year=year))  # fmt: skip
        for ref, ages in (("F1", (60, 64)), ("F2", (61, 63))):
            upsert_found(session, FoundFields(ref=ref, name="刘建华", sex=Sex.MALE,
                                              age_min=ages[0], age_max=ages[1]))  # fmt: skip
    one_each = RematchSettings(keep_per_record=1)

    def f1_candidates() -> dict[str, CandidateStatus]:
        with database.session() as session:
            rows = list_candidates(session, limit=None)
            return {r.candidate.missing.ref: r.candidate.status for r in rows
                    if r.candidate.found.ref == "F1"}  # fmt: skip

    rematch(database, face_indexes=None, face_model=None, settings=one_each)
    first = f1_candidates()
    assert len(first) == 1
    with database.session() as session:
        for row in list_candidates(session, limit=None):
            if row.candidate.found.ref == "F1":
                record_decision(session, row.candidate.id, reviewer="r",
                                status=CandidateStatus.REJECTED, reason=None)  # fmt: skip
    rematch(database, face_indexes=None, face_model=None, settings=one_each)
    after = f1_candidates()
    # The rejected pair stays, and takes no place: F1's other report is now offered.
    assert [status for status in after.values() if status is CandidateStatus.PENDING]
    assert set(first) < set(after)


def test_pairs_kept_as_keys_come_back_in_order_without_repeats(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import usecases.blocking as blocking

    keys = blocking.pair_keys([(2, 1), (0, 3), (2, 1), (1, 0), (4, 1)], n_missing=5)
    assert keys.dtype == np.int64 and len(keys) == 4
    monkeypatch.setattr(blocking, "_KEY_SLICE", 3)  # more than one slice
    # Found person first, then report: the order the re-match scores them in.
    assert list(blocking.keyed_pairs(keys, 5)) == [(1, 0), (2, 1), (4, 1), (0, 3)]
    assert list(blocking.keyed_pairs(blocking.pair_keys([], 5), 5)) == []


def test_pair_places_find_each_wanted_pair_or_say_it_is_absent() -> None:
    rng = np.random.default_rng(3)
    pair_missing = rng.integers(1, 400, 5000).astype(np.int64)
    pair_found = rng.integers(1, 90, 5000).astype(np.int64)
    first = {}
    for place, key in enumerate(zip(pair_missing.tolist(), pair_found.tolist(), strict=True)):
        first.setdefault(key, place)
    wanted = [*list(first)[:300], (1, 10_000), (10_000, 1), (399, 89), (0, 0)]
    places = settle_module.pair_places(pair_missing, pair_found, wanted)
    for key, place in zip(wanted, places.tolist(), strict=True):
        if key in first:
            assert (int(pair_missing[place]), int(pair_found[place])) == key
        else:
            assert place == -1, key
    none = np.zeros(0, dtype=np.int64)
    assert settle_module.pair_places(none, none, [(1, 2)]).tolist() == [-1]
    assert settle_module.pair_places(pair_missing, pair_found, []).tolist() == []


def test_a_bound_keeps_each_found_persons_best_guesses_and_says_the_weakest_kept() -> None:
    from usecases.blocking import best_per_person

    rng = np.random.default_rng(8)
    found = rng.integers(0, 30, 2000).astype(np.int64)
    reports = rng.permutation(2000).astype(np.int64)
    guesses = rng.integers(-20, 20, 2000).astype(np.float64)  # many ties
    people = np.arange(35, dtype=np.int64)[::-1].copy()  # any order; some with no pairs
    kept, bounds = best_per_person(found, reports, guesses, 50, people)
    for at, person in enumerate(people.tolist()):
        mine = np.flatnonzero(found == person)
        ranked = sorted(mine.tolist(), key=lambda k: (-guesses[k], reports[k]))
        assert set(np.flatnonzero(kept & (found == person)).tolist()) == set(ranked[:50])
        if len(mine) > 50:
            assert bounds[at] == guesses[ranked[49]]
        else:
            assert np.isnan(bounds[at])
    with pytest.raises(ValueError):
        best_per_person(found, reports, guesses, 0, people)


def test_names_block_every_pair_that_matches_at_a_nickname_or_better_and_compare_none() -> None:
    from evaluation.population import generate_population
    from evaluation.population_views import views_from_rows
    from matching.names import NameIndex, NameLevel, compare_names
    from usecases.blocking import ReportBlocking, speaker_regions

    population = generate_population(seed=5, n_missing=1500, n_found=150, n_true_pairs=75)
    missing, found = views_from_rows(population.missing, population.found)
    rows = np.arange(len(found), dtype=np.int64)
    keys = ReportBlocking(missing).name_keys(found, rows)
    blocked = set(zip((keys % len(missing)).tolist(), (keys // len(missing)).tolist(),
                      strict=True))  # fmt: skip
    index: NameIndex[int] = NameIndex()
    for i, report in enumerate(missing):
        index.add(i, report.names)
    matching = {(hit.record_id, j) for j, person in enumerate(found) if person.names
                for hit in index.query(person.names, regions=speaker_regions(person),
                                       limit=len(missing))}  # fmt: skip
    assert len(matching) > 1000 and matching <= blocked
    # Names that share a key but compare below a nickname are blocked too: the scorer
    # weighs them. A sample is compared, so that the test stays quick.
    extra = sorted(blocked - matching)[:300]
    levels = [compare_names(missing[i].names, found[j].names,
                            speaker_regions=speaker_regions(found[j])).level
              for i, j in extra]  # fmt: skip
    assert extra and all(level > NameLevel.NICKNAME_OR_PARTIAL for level in levels)


def test_a_pair_whose_rival_was_confirmed_stores_a_probability_of_nothing_not_an_error() -> None:
    from matching.competition import Competition
    from records.storage.candidate_pairs import StoredScore

    # A confirmed rival weighs as 2**1000 odds: with the pair's own weight far below the
    # prior, its shared log odds are past what 2.0 ** x can hold.
    rival_confirmed = Competition(0.0, 2.0**1000, 0, 1, ("person",))
    values = settle_module._stored_values(object(), "v1", -40.0, rival_confirmed)
    assert values["score"] < -1024 and 0.0 <= values["probability"] < 1e-300
    places = np.array([0], dtype=np.int64)
    final = np.array([values["score"]])
    stored = {(1, 2): StoredScore(7, values["score"], values["probability"], "v1",
                                  CandidateStatus.PENDING, True)}  # fmt: skip
    assert settle_module._unchanged_rows(stored, [(1, 2)], final, "v1", np.zeros(1, bool))[
        places
    ].all()


def _nearest_store(services: Services, sample_photos: Path) -> None:
    """A found person (a boy of about six) whose photo is nearest a report that disagrees
    on everything else (a woman born 1950, whose best found person is an old woman), and
    two reports named as he is."""
    with services.database.session() as session:
        upsert_missing(session, MissingFields(ref="FACE", sex=Sex.FEMALE, birth_year=1950,
                                              missing_place="黑龙江省哈尔滨市"))  # fmt: skip
        upsert_missing(session, MissingFields(ref="NAME1", name="王小明", sex=Sex.MALE))
        upsert_missing(session, MissingFields(ref="NAME2", name="王小明", sex=Sex.MALE))
        upsert_missing(session, MissingFields(ref="OTHER", name="赵磊"))
        upsert_found(session, FoundFields(ref="BOY", name="王小明", sex=Sex.MALE, age_min=5,
                                          age_max=7))  # fmt: skip
        # The report's own best found person, so that only the face can keep it by the boy.
        upsert_found(session, FoundFields(ref="WOMAN", sex=Sex.FEMALE, age_min=70, age_max=80,
                                          found_place="黑龙江省哈尔滨市"))  # fmt: skip
    ingest = services.ingestor
    ingest.add_photo(Side.MISSING, "FACE", (sample_photos / "obama.jpg").read_bytes(),
                     actor="test")  # fmt: skip
    ingest.add_photo(Side.MISSING, "OTHER", (sample_photos / "biden.jpg").read_bytes(),
                     actor="test")  # fmt: skip
    ingest.add_photo(Side.FOUND, "BOY", (sample_photos / "obama2.jpg").read_bytes(), actor="test")


def _kept(services: Services) -> dict[str, tuple[str, ...]]:
    """The boy's candidates: report ref and what would confirm each."""
    with services.database.session() as session:
        explanations = Explanations(session, EvidenceModel.default())
        return {r.candidate.missing.ref: explanations.of(r.candidate).confirm_by
                for r in list_candidates(session, limit=None)
                if r.candidate.found.ref == "BOY"}  # fmt: skip


@pytest.mark.parametrize("blocked", [False, True], ids=["all pairs", "blocked"])
def test_a_found_persons_nearest_face_is_proposed_whatever_else_disagrees(
    make_services: Callable[..., Services], sample_photos: Path, blocked: bool
) -> None:
    from usecases.explaining import FACE_NEAREST_STEP

    services = make_services()
    _nearest_store(services, sample_photos)
    faces = {"face_indexes": services.face_indexes, "face_model": services.face_model.name}
    limit = 0 if blocked else 4_000_000
    # Without the rule, the name's reports take the one place and the face is not seen.
    without = RematchSettings(keep_per_record=1, face_kept=0, all_pairs_limit=limit)
    rematch(services.database, **faces, full=True, settings=without)
    assert "FACE" not in _kept(services)
    rematch(services.database, **faces, full=True, settings=replace(without, face_kept=1))
    kept = _kept(services)
    assert kept["FACE"][:1] == (FACE_NEAREST_STEP,)  # flagged for what it rests on
    assert not any(FACE_NEAREST_STEP in steps for ref, steps in kept.items() if ref != "FACE")


def test_a_face_kept_under_the_cut_off_is_flagged_even_where_places_are_free(
    make_services: Callable[..., Services], sample_photos: Path
) -> None:
    """Under a cut-off only the names clear, the boy has places to spare: the face pair
    is kept for its face and says so; it takes none of the places kept by weight."""
    from usecases.explaining import FACE_NEAREST_STEP

    services = make_services()
    _nearest_store(services, sample_photos)
    faces = {"face_indexes": services.face_indexes, "face_model": services.face_model.name}
    settings = RematchSettings(keep_per_record=5, face_kept=1, min_evidence_weight=8.0)
    rematch(services.database, **faces, settings=settings)
    kept = _kept(services)
    assert kept["FACE"][:1] == (FACE_NEAREST_STEP,)
    assert {"NAME1", "NAME2"} <= set(kept)


@pytest.mark.parametrize("evidence", [-2.0, 8.0], ids=["over the cut-off", "under it"])
def test_the_nearest_faces_kept_after_a_change_are_those_a_full_run_keeps(
    make_services: Callable[..., Services], sample_photos: Path, evidence: float
) -> None:
    """A new report whose face is nearer takes the kept place; the one it pushed out goes,
    from the candidates and from the scored pairs, as a full run would have it (with a
    cut-off over the face pairs' weights, they are stored for the face alone)."""
    services = make_services()
    _nearest_store(services, sample_photos)
    faces = {"face_indexes": services.face_indexes, "face_model": services.face_model.name}
    settings = RematchSettings(keep_per_record=1, face_kept=1, all_pairs_limit=0,
                               min_evidence_weight=evidence)  # fmt: skip
    rematch(services.database, **faces, settings=settings)
    assert "FACE" in _kept(services)
    with services.database.session() as session:
        upsert_missing(session, MissingFields(ref="NEARER", sex=Sex.FEMALE, birth_year=1948))
    services.ingestor.add_photo(Side.MISSING, "NEARER", (sample_photos / "obama2.jpg").read_bytes(),
                                actor="test")  # fmt: skip
    incremental = rematch(services.database, **faces, settings=settings)
    assert incremental.kind == "incremental"
    after_incremental = _kept(services)
    assert "NEARER" in after_incremental and "FACE" not in after_incremental
    with services.database.session() as session:
        scored = session.execute(select(ScoredPair.missing_id, ScoredPair.found_id,
                                        ScoredPair.weight)).all()  # fmt: skip
    full = rematch(services.database, **faces, settings=settings, full=True)
    assert full.kind == "full" and full.created == full.removed == 0
    assert _kept(services) == after_incremental
    with services.database.session() as session:
        again = session.execute(select(ScoredPair.missing_id, ScoredPair.found_id,
                                       ScoredPair.weight)).all()  # fmt: skip
    assert [pair[:2] for pair in sorted(scored)] == [pair[:2] for pair in sorted(again)]
    cutoff = EvidenceModel.default().prior_weight + evidence
    below = {pair[:2] for pair in scored if pair[2] < cutoff}
    with services.database.session() as session:
        ids = {r.ref: r.id for r in session.scalars(select(MissingReport))}
        boy = session.scalars(select(FoundPerson.id).where(FoundPerson.ref == "BOY")).one()
    # Under the cut-off, only the nearest face's pair is held.
    assert below <= {(ids["NEARER"], boy)} and (evidence < 0 or below)
    assert [pair[2] for pair in sorted(scored)] == pytest.approx([p[2] for p in sorted(again)])
