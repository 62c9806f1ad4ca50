"""The re-match as a resumable, incremental job: a run scores only the pairs of new or
changed records and ends where a full run ends; a run killed part-way is taken up."""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from sqlalchemy import select

from evaluation.population import generate_population, write_population
from matching.evidence_model import EvidenceModel
from records import CandidateStatus, Database, MissingStatus, Sex, Side
from records.inputs import FoundFields, MissingFields
from records.models import FoundPerson, MissingReport, RematchRun, ScoredPair
from records.storage.candidate_pairs import list_candidates
from records.storage.person_records import set_status, upsert_found, upsert_missing
from records.storage.record_erasure import erase_record
from records.storage.rematch_state import blocking_bounds
from records.storage.reviewer_decisions import record_decision
from usecases.explaining import Explanations
from usecases.jobs import rematch_jobs
from usecases.rematch_job import (
    RematchAlreadyRunningError,
    RematchReport,
    RematchSettings,
    rematch,
)
from usecases.services import Services

Snapshot = dict[tuple[str, str], tuple[float, float | None, CandidateStatus, str]]


def _populated(make_services: Callable[..., Services], tmp_path: Path, **settings: Any) -> Services:
    """A store of a generated population (no photos): 160 reports, 80 found persons."""
    services = make_services(**settings)
    pop = generate_population(seed=11, n_missing=160, n_found=80, n_true_pairs=40)
    folder = tmp_path / "population"
    write_population(pop, folder)
    for kind in ("missing", "found"):
        services.ingestor.import_file(folder / f"{kind}.jsonl", kind, actor="test")  # type: ignore[arg-type]
    return services


def _snapshot(database: Database) -> Snapshot:
    with database.session() as session:
        explanations = Explanations(session, EvidenceModel.default())
        return {
            (r.candidate.missing.ref, r.candidate.found.ref): (
                r.candidate.score,
                r.candidate.probability,
                r.candidate.status,
                explanations.of(r.candidate).summary(),
            )
            for r in list_candidates(session, limit=None, include_closed=True)
        }


def _same(a: Snapshot, b: Snapshot) -> None:
    assert a.keys() == b.keys()
    for key, (score, probability, status, summary) in a.items():
        other_score, other_probability, other_status, other_summary = b[key]
        assert abs(score - other_score) <= 1e-6, key
        assert (status, summary) == (other_status, other_summary), key
        assert probability == pytest.approx(other_probability, rel=1e-9, abs=1e-12), key


def _run(services: Services, settings: RematchSettings, **kw: Any) -> RematchReport:
    return rematch(services.database, face_indexes=None, face_model=None, settings=settings, **kw)


def _change_the_store(database: Database) -> None:
    """New reports and found persons, an edited record, a closed one, a decision."""
    with database.session() as session:
        upsert_missing(session, MissingFields(ref="NEW-M1", name="覃振宇", sex=Sex.MALE,
                                              birth_year=1971,
                                              missing_place="四川省绵阳市"))  # fmt: skip
        upsert_missing(session, MissingFields(ref="NEW-M2", name="欧阳明轩", birth_year=2001))
        upsert_found(session, FoundFields(ref="NEW-F1", name="覃振宇", sex=Sex.MALE,
                                          age_min=50, age_max=60, accent="四川口音"))  # fmt: skip
        rows = list_candidates(session, limit=None)
        first = rows[0].candidate
        record_decision(session, first.id, reviewer="r", status=CandidateStatus.REJECTED,
                        reason=None)  # fmt: skip
        edited = rows[-1].candidate.found
        upsert_found(session, FoundFields(ref=edited.ref, name="王建国", sex=edited.sex,
                                          age_min=edited.age_min, age_max=edited.age_max,
                                          found_date=edited.found_date))  # fmt: skip
        closed = rows[len(rows) // 2].candidate.missing.ref
        set_status(session, Side.MISSING, closed, MissingStatus.REUNITED)


@pytest.mark.parametrize("blocked", [False, True], ids=["all pairs", "blocked"])
def test_an_incremental_run_ends_where_a_full_run_ends(
    make_services: Callable[..., Services], tmp_path: Path, blocked: bool
) -> None:
    services = _populated(make_services, tmp_path)
    settings = RematchSettings(block_size=7, workers=1, all_pairs_limit=0 if blocked else 4_000_000)
    first = _run(services, settings)
    assert first.kind == "full" and first.created == first.kept > 0
    steady = _run(services, settings)
    assert steady.kind == "incremental" and steady.pairs_scored == 0 and steady.blocks == 0
    assert steady.unchanged == first.kept and steady.created == steady.updated == 0

    _change_the_store(services.database)
    incremental = _run(services, settings)
    assert incremental.kind == "incremental"
    assert incremental.changed_found == 2 and incremental.changed_reports == 2
    assert 0 < incremental.pairs_scored < first.pairs_scored / 4
    # Only the candidates the change touches are written again.
    assert incremental.updated + incremental.created < first.kept / 2
    after_incremental = _snapshot(services.database)

    full = _run(services, settings, full=True)
    assert full.kind == "full" and full.pairs_scored > incremental.pairs_scored
    assert full.created == 0 and full.removed == 0
    _same(after_incremental, _snapshot(services.database))


def test_a_run_uses_both_cores_and_gives_what_one_gives(
    make_services: Callable[..., Services], tmp_path: Path
) -> None:
    services = _populated(make_services, tmp_path)
    one = _run(services, RematchSettings(block_size=9, workers=1), full=True)
    alone = _snapshot(services.database)
    two = _run(services, RematchSettings(block_size=9, workers=2), full=True)
    assert two.workers == 2 and two.pairs_scored == one.pairs_scored
    assert two.created == two.updated == two.removed == 0
    _same(alone, _snapshot(services.database))


def test_progress_is_told_and_logged(
    make_services: Callable[..., Services], tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    services = _populated(make_services, tmp_path)
    told: list[tuple[int, int]] = []
    with caplog.at_level(logging.INFO, logger="usecases.rematch_job"):
        report = _run(services, RematchSettings(block_size=20, workers=1),
                      progress=lambda done, total: told.append((done, total)))  # fmt: skip
    assert told[0] == (0, report.blocks) and told[-1] == (report.blocks, report.blocks)
    lines = [r.getMessage() for r in caplog.records if "progress" in r.getMessage()]
    assert lines and f"{report.blocks}/{report.blocks} blocks" in lines[-1]
    assert "pairs/s" in lines[-1]
    with services.database.session() as session:
        (job,) = rematch_jobs(session, actor="test")
    assert job.state == "done" and job.blocks_done == job.blocks_total == report.blocks
    assert job.pairs_scored == report.pairs_scored and job.detail["kept"] == report.kept


def test_a_second_run_while_one_runs_is_refused(
    make_services: Callable[..., Services], tmp_path: Path
) -> None:
    import socket

    services = _populated(make_services, tmp_path)
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        with services.database.session() as session:
            other = RematchRun(kind="full", state="running", basis="x", actor="other",
                               host=socket.gethostname(), pid=sleeper.pid, detail={})  # fmt: skip
            session.add(other)
        with pytest.raises(RematchAlreadyRunningError, match="正在运行"):
            _run(services, RematchSettings())
    finally:
        sleeper.kill()
        sleeper.wait()
    # Once that process is gone, its run is taken over (another basis: abandoned).
    report = _run(services, RematchSettings(workers=1))
    assert report.kind == "full"
    with services.database.session() as session:
        states = {job.actor: job.state for job in rematch_jobs(session, actor="test")}
    assert states == {"other": "abandoned", "job": "done"}


@pytest.mark.slow
def test_a_run_killed_part_way_is_taken_up_and_ends_as_an_uninterrupted_one(
    make_services: Callable[..., Services], tmp_path: Path
) -> None:
    services = _populated(make_services, tmp_path)
    home = services.settings.home
    env = {**os.environ, "XUNQIN_HOME": str(home), "XUNQIN_ENVIRONMENT": "test",
           "XUNQIN_REMATCH_BLOCK_SIZE": "2", "XUNQIN_REMATCH_WORKERS": "1"}  # fmt: skip
    xunqin = Path(sys.executable).with_name("xunqin")
    job = subprocess.Popen([str(xunqin), "rematch"], env=env, stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL)  # fmt: skip
    done = 0
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and job.poll() is None:
            with services.database.session() as session:
                run = session.scalars(select(RematchRun)).first()
                done = run.blocks_done if run is not None else 0
            if done >= 3:
                os.kill(job.pid, signal.SIGKILL)
                break
            time.sleep(0.05)
    finally:
        if job.poll() is None:
            os.kill(job.pid, signal.SIGKILL)
        job.wait()
    assert job.returncode == -signal.SIGKILL and done >= 3, "killed after some blocks, not before"
    settings = RematchSettings(block_size=2, workers=1)
    taken_up = _run(services, settings)
    assert taken_up.blocks_taken_up >= 3 and taken_up.kind == "full"
    assert taken_up.blocks == 40  # 80 found persons, 2 a block
    resumed = _snapshot(services.database)
    again = _run(services, settings, full=True)
    assert again.pairs_scored == taken_up.pairs_scored
    _same(resumed, _snapshot(services.database))


def test_stays_confirmed_as_one_person_are_matched_as_one(database: Database) -> None:
    from datetime import date

    from records import LinkStatus
    from records.storage.same_person_links import record_link_decision, upsert_link

    with database.session() as session:
        report = upsert_missing(session, MissingFields(
            ref="M1", name="付贵", sex=Sex.MALE, birth_year=1960,
            missing_date=date(2019, 3, 1), missing_place="四川省南充市"))[0]  # fmt: skip
        upsert_missing(session, MissingFields(ref="M2", name="李明", birth_year=1990))
        # One station learned his age and where he was; another, years later, his name.
        first = upsert_found(session, FoundFields(
            ref="F1", sex=Sex.MALE, age_min=58, age_max=64, found_date=date(2020, 5, 1),
            found_place="四川省成都市"))[0]  # fmt: skip
        later = upsert_found(session, FoundFields(
            ref="F2", name="胡奎", found_date=date(2023, 8, 1),
            found_place="广东省东莞市"))[0]  # fmt: skip
        ids = (report.id, first.id, later.id)
    settings = RematchSettings(workers=1)
    rematch(database, face_indexes=None, face_model=None, settings=settings)
    apart = _snapshot(database)
    assert {("M1", "F1"), ("M1", "F2")} <= apart.keys()

    with database.session() as session:
        link, _ = upsert_link(session, found_ids=(ids[1], ids[2]), score=1.0, probability=0.5,
                              evidence={}, model_version="test")  # fmt: skip
        record_link_decision(session, link.id, reviewer="r", status=LinkStatus.CONFIRMED,
                             reason=None)  # fmt: skip
    pooled = rematch(database, face_indexes=None, face_model=None, settings=settings)
    assert pooled.found_persons == 1 and pooled.changed_found == 1
    together = _snapshot(database)
    # Paired under the earliest stay, with the evidence of both: more than either alone.
    assert ("M1", "F2") not in together
    assert together[("M1", "F1")][0] > max(apart[("M1", "F1")][0], apart[("M1", "F2")][0])
    with database.session() as session:
        (row,) = [r.candidate for r in list_candidates(session, limit=None)
                  if (r.candidate.missing.ref, r.candidate.found.ref) == ("M1", "F1")]  # fmt: skip
        explained = Explanations(session, EvidenceModel.default()).of(row)
        levels = {s.signal: s.level for s in explained.signals}
        # Explained as it was scored: with the evidence of both stays.
        assert explained.final_weight == pytest.approx(row.score, abs=1e-6)
    assert levels["name"] not in ("null", "different") and levels["age"] == "within"


def test_pairs_chosen_by_other_blocking_rules_are_scored_again_in_full(
    make_services: Callable[..., Services], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import usecases.rematch_job as rematch_job

    services = _populated(make_services, tmp_path)
    settings = RematchSettings(block_size=40, workers=1, all_pairs_limit=0)
    first = _run(services, settings)
    assert first.kind == "full" and first.pairs_scored > 0
    assert _run(services, settings).kind == "incremental"
    # The rules that choose pairs changed: pairs stored under the old ones are not kept.
    monkeypatch.setattr(rematch_job, "BLOCKING", "names=some other rule")
    again = _run(services, settings)
    assert again.kind == "full" and again.pairs_scored == first.pairs_scored


def _scored(database: Database) -> set[tuple[int, int]]:
    with database.session() as session:
        rows = session.execute(select(ScoredPair.missing_id, ScoredPair.found_id))
        return {(int(m), int(f)) for m, f in rows}


def test_a_bound_weighs_each_found_person_against_their_best_guessed_reports(
    make_services: Callable[..., Services], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    services = _populated(make_services, tmp_path)
    database = services.database
    blocked = RematchSettings(block_size=20, workers=1, all_pairs_limit=0)
    unbounded = _run(services, replace(blocked, pairs_per_person=None), full=True)
    everything = _scored(database)
    best: dict[int, tuple[float, int]] = {}  # each found person's strongest pair
    with database.session() as session:
        for m, f, w in session.execute(select(ScoredPair.missing_id, ScoredPair.found_id,
                                              ScoredPair.weight)):  # fmt: skip
            best[f] = max(best.get(f, (-np.inf, 0)), (w, m))
    settings = replace(blocked, pairs_per_person=6)
    bounded = _run(services, settings, full=True)
    assert bounded.kind == "full" and bounded.pairs_scored <= 6 * 80 < unbounded.pairs_scored
    chosen = _scored(database)
    assert chosen <= everything
    with database.session() as session:
        bounds = blocking_bounds(session)
        person = session.scalars(select(FoundPerson).where(FoundPerson.id.in_(bounds))
                                 .where(FoundPerson.name.is_not(None))).first()  # fmt: skip
        assert person is not None and person.found_date is not None
        born = person.found_date.year - (person.age_min or 40)
        twin = MissingFields(ref="TWIN", name=person.name, sex=person.sex, birth_year=born,
                             missing_date=person.found_date,
                             missing_place=person.found_place)  # fmt: skip
        # Reached by sex, birth year and province, but little else like the person: older
        # than the estimate, much shorter, another name, missing long before they were found.
        stranger = MissingFields(ref="STRANGER", name="欧阳明轩", sex=person.sex,
                                 birth_year=person.found_date.year - (person.age_max or 40) - 5,
                                 missing_date=person.found_date - timedelta(days=15 * 365),
                                 missing_place=person.found_place, height_cm=125.0)  # fmt: skip
        twin_id = upsert_missing(session, twin)[0].id
        stranger_id = upsert_missing(session, stranger)[0].id
        person_id = person.id
    assert len(bounds) > 10
    # A found person's strongest pair survives the bound where it is more likely than not.
    likely = [(m, f) for f, (weight, m) in best.items() if weight > 0]
    assert len(likely) > 20 and all(pair in chosen for pair in likely)

    # A later report is weighed against a bounded person when its guess reaches the
    # weakest kept; a report reached but nothing like them is not.
    with _weighed(monkeypatch, database) as weighed:
        incremental = _run(services, settings)
    assert incremental.kind == "incremental" and incremental.changed_reports == 2
    assert (twin_id, person_id) in weighed and (stranger_id, person_id) not in weighed
    assert (twin_id, person_id) in _scored(database)
    # A full run on the same store keeps no pair the incremental run did not weigh.
    after = _scored(database)
    _run(services, settings, full=True)
    assert _scored(database) <= after

    # A report a bounded person kept is closed: the person is chosen for again, and keeps
    # what a full run keeps.
    mine = sorted(m for m, f in _scored(database) if f == person_id)
    with database.session() as session:
        closed = session.get(MissingReport, mine[0])
        assert closed is not None
        set_status(session, Side.MISSING, closed.ref, MissingStatus.REUNITED)
    again = _run(services, settings)
    assert again.kind == "incremental" and again.changed_found >= 1
    incremental_pairs = {pair for pair in _scored(database) if pair[1] == person_id}
    _run(services, settings, full=True)
    assert {pair for pair in _scored(database) if pair[1] == person_id} == incremental_pairs

    # One erased for good, its pairs with it: the same.
    mine = sorted(m for m, f in _scored(database) if f == person_id)
    with database.session() as session:
        erased = session.get(MissingReport, mine[0])
        assert erased is not None
        erase_record(session, Side.MISSING, erased.ref)
    again = _run(services, settings)
    assert again.kind == "incremental" and again.changed_found >= 1
    incremental_pairs = {pair for pair in _scored(database) if pair[1] == person_id}
    _run(services, settings, full=True)
    assert {pair for pair in _scored(database) if pair[1] == person_id} == incremental_pairs


@contextmanager
def _weighed(monkeypatch: pytest.MonkeyPatch, database: Database) -> Iterator[set[tuple[int, int]]]:
    """The (report id, found id) pairs the blocks weigh in full while inside (one worker)."""
    import usecases.rematch_blocks as rematch_blocks

    keys: list[int] = []
    chosen = rematch_blocks.BlockWork._chosen

    def recording(self: Any, block: Any) -> Any:
        out = chosen(self, block)
        keys.extend(out[0].tolist())
        return out

    weighed: set[tuple[int, int]] = set()
    with monkeypatch.context() as patch:
        patch.setattr(rematch_blocks.BlockWork, "_chosen", recording)
        yield weighed
    with database.session() as session:
        missing = sorted(session.scalars(select(MissingReport.id).where(
            MissingReport.status == MissingStatus.OPEN)))  # fmt: skip
        found = sorted(session.scalars(select(FoundPerson.id)))
    for key in keys:
        j, i = divmod(key, len(missing))
        weighed.add((missing[i], found[j]))


def test_candidates_written_a_batch_at_a_time_are_those_written_at_once(
    make_services: Callable[..., Services], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import usecases.rematch_settle as rematch_settle

    services = _populated(make_services, tmp_path)
    settings = RematchSettings(workers=1)
    monkeypatch.setattr(rematch_settle, "_WRITE_BATCH", 7)
    first = _run(services, settings)
    assert first.created == first.kept > 7 * 3
    batched = _snapshot(services.database)
    monkeypatch.undo()
    again = _run(services, settings, full=True)
    assert again.created == again.updated == again.removed == 0
    _same(batched, _snapshot(services.database))
