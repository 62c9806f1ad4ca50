"""The re-match's blocks on Ray: the work travels to Ray's workers whole, a run on Ray
stores what a run here stores, and asking for Ray where it is not installed says so."""

from __future__ import annotations

import importlib.util
import json
import os
import pickle
import subprocess
import sys
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest

from evaluation.population import generate_population, write_population
from evaluation.population_views import views_from_rows
from matching.evidence_model import EvidenceModel
from records import CandidateStatus, Database, Sex
from records.inputs import FoundFields, MissingFields
from records.storage.candidate_pairs import list_candidates
from records.storage.person_records import upsert_found, upsert_missing
from usecases.blocking import ReportBlocking
from usecases.jobs import rematch_jobs
from usecases.ray_blocks import RayNotInstalledError, RayUnreachableError, run_blocks_on_ray
from usecases.rematch_blocks import BlockResult, BlockWork, Bound, pair_by_pair
from usecases.rematch_job import RematchReport, RematchSettings, _block_weights, rematch
from usecases.rematch_plan import plan_blocks
from usecases.services import Services

needs_ray = pytest.mark.skipif(
    importlib.util.find_spec("ray") is None,
    reason="Ray is not installed (the ray extra; `make test` installs it)",
)

Snapshot = dict[tuple[str, str], tuple[float, float | None, CandidateStatus]]


def _populated(make_services: Callable[..., Services], tmp_path: Path) -> Services:
    """A store of a generated population (no photos): 160 reports, 80 found persons."""
    services = make_services()
    pop = generate_population(seed=11, n_missing=160, n_found=80, n_true_pairs=40)
    folder = tmp_path / "population"
    write_population(pop, folder)
    for kind in ("missing", "found"):
        services.ingestor.import_file(folder / f"{kind}.jsonl", kind, actor="test")
    return services


def _snapshot(database: Database) -> Snapshot:
    with database.session() as session:
        return {
            (r.candidate.missing.ref, r.candidate.found.ref): (
                r.candidate.score,
                r.candidate.probability,
                r.candidate.status,
            )
            for r in list_candidates(session, limit=None, include_closed=True)
        }


def _run(services: Services, **settings: Any) -> RematchReport:
    return rematch(services.database, face_indexes=None, face_model=None, full=True,
                   settings=RematchSettings(block_size=9, **settings))  # fmt: skip


def _work(*, block_size: int = 9, bounded: bool = False) -> tuple[BlockWork, list[int]]:
    """A run's work on a generated population, blocked (the name index, the attribute
    keys, the weak-name reach), with some records changed and a few face neighbours, and,
    when ``bounded``, each found person's pairs bounded at 6 (scored in columns, some with
    a stored bound); and its blocks' numbers."""
    pop = generate_population(seed=5, n_missing=160, n_found=80, n_true_pairs=40,
                              today=date(2026, 11, 1))  # fmt: skip
    missing, found = views_from_rows(pop.missing, pop.found)
    model = EvidenceModel(EvidenceModel.default().params)
    n = len(missing)
    changed_f = np.arange(0, len(found), 3, dtype=np.int64)
    changed_m = np.arange(0, n, 5, dtype=np.int64)
    changed_rows = np.zeros(n, dtype=np.bool_)
    changed_rows[changed_m] = True
    rng = np.random.default_rng(5)
    faces = np.unique(rng.integers(0, len(found), 40) * n + rng.integers(0, n, 40))
    blocks = plan_blocks(len(found), changed_f, changed_m, block_size=block_size)
    weights, bound = pair_by_pair(model, missing, found), None
    if bounded:
        weights, guesses = _block_weights(model, missing, found)
        assert guesses is not None
        weakest = np.where(rng.random(len(found)) < 0.5, np.nan, -12.0)
        bound = Bound(6, guesses, weakest)
    work = BlockWork(
        n_missing=n, found=found, blocks=blocks, everything=ReportBlocking(missing),
        changed=ReportBlocking(missing, only=changed_m),
        changed_rows=changed_rows, face_keys=faces.astype(np.int64),
        weights=weights, cutoff=model.prior_weight - 2.0, bound=bound,
    )  # fmt: skip
    return work, [block.number for block in blocks]


def _same_results(a: BlockResult, b: BlockResult) -> None:
    assert (a.number, a.scored, a.guessed) == (b.number, b.scored, b.guessed)
    for field in ("missing", "found", "weights", "bounded"):
        assert np.array_equal(getattr(a, field), getattr(b, field)), field
    assert np.array_equal(a.bounds, b.bounds, equal_nan=True)


@needs_ray
@pytest.mark.parametrize("bounded", [False, True], ids=["blocked", "bounded"])
def test_a_runs_work_travels_by_cloudpickle_and_scores_every_block_the_same_there(
    tmp_path: Path, bounded: bool
) -> None:
    from ray import cloudpickle  # what Ray sends tasks' arguments with

    work, numbers = _work(bounded=bounded)
    here = [work(number) for number in numbers]
    assert sum(r.scored for r in here) > 0 and sum(len(r.weights) for r in here) > 0
    if bounded:  # the bound chose among more than it weighed, and set some bounds
        assert sum(r.guessed for r in here) > sum(r.scored for r in here)
        assert any(np.isfinite(r.bounds).any() for r in here)
    (tmp_path / "work.pickle").write_bytes(cloudpickle.dumps(work))  # type: ignore[no-untyped-call]
    # Another process, its string hashes seeded otherwise, as a Ray worker's are.
    script = (
        "import pickle, sys; work = pickle.loads(open(sys.argv[1], 'rb').read()); "
        "open(sys.argv[2], 'wb').write(pickle.dumps([work(n) for n in range(int(sys.argv[3]))]))"
    )
    subprocess.run(
        [sys.executable, "-c", script, str(tmp_path / "work.pickle"),
         str(tmp_path / "results.pickle"), str(len(numbers))],
        env={**os.environ, "PYTHONHASHSEED": "7"}, check=True, timeout=300,
    )  # fmt: skip
    there = pickle.loads((tmp_path / "results.pickle").read_bytes())
    for result, other in zip(here, there, strict=True):
        _same_results(other, result)


def test_asking_for_ray_where_it_is_not_installed_says_so_before_a_run_starts(
    make_services: Callable[..., Services], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    services = _populated(make_services, tmp_path)
    monkeypatch.setitem(sys.modules, "ray", None)  # `import ray` fails
    with pytest.raises(RayNotInstalledError, match="^未安装 Ray.*xunqin\\[ray\\]"):
        _run(services, executor="ray")
    with services.database.session() as session:
        assert rematch_jobs(session, actor="test") == []


def test_the_command_line_chooses_ray_from_the_settings_and_refuses_an_address_without_it(
    tmp_path: Path,
) -> None:
    no_ray = tmp_path / "no_ray"
    (no_ray / "ray").mkdir(parents=True)
    (no_ray / "ray" / "__init__.py").write_text("raise ImportError('no ray here')\n")
    env = {**os.environ, "XUNQIN_HOME": str(tmp_path / "home"), "PYTHONPATH": str(no_ray),
           "XUNQIN_REMATCH_EXECUTOR": "ray"}  # fmt: skip
    env.pop("XUNQIN_DATABASE_URL", None)

    def xunqin(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "api", "rematch", *args], env=env,
                              capture_output=True, text=True, timeout=300, check=False)  # fmt: skip

    without = xunqin()
    assert without.returncode == 1 and "Traceback" not in without.stderr
    assert "未安装 Ray" in without.stderr and "xunqin[ray]" in without.stderr
    stray = xunqin("--executor", "local", "--address", "ray://head:10001")
    assert stray.returncode == 1 and "--address 只用于 Ray" in stray.stderr
    here = xunqin("--executor", "local")
    assert here.returncode == 0, here.stderr
    assert json.loads(here.stdout)["executor"] == "local"


def test_a_cluster_that_does_not_answer_is_told_in_chinese_first(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def init(**_: Any) -> None:
        raise ConnectionError("Could not find any running Ray instance.")

    fake = SimpleNamespace(is_initialized=lambda: False, init=init)
    monkeypatch.setitem(sys.modules, "ray", fake)
    work, numbers = _work()
    with pytest.raises(RayUnreachableError, match="^无法连接 Ray 集群 auto：.*running Ray"):
        next(run_blocks_on_ray(work, numbers, address="auto"))


def test_an_unknown_executor_is_refused() -> None:
    with pytest.raises(ValueError, match="runs on one of"):
        RematchSettings(executor="threads")  # type: ignore[arg-type]


@needs_ray
@pytest.mark.slow
def test_a_run_on_a_ray_instance_it_starts_stores_what_a_local_run_stores(
    make_services: Callable[..., Services], tmp_path: Path
) -> None:
    import ray

    assert not ray.is_initialized(), "this test starts its own Ray instance"
    services = _populated(make_services, tmp_path)
    local = _run(services, workers=1)
    here = _snapshot(services.database)
    on_ray = _run(services, workers=1, executor="ray")  # a Ray instance of 1 CPU
    assert not ray.is_initialized(), "what it started, it shut down"
    assert on_ray.executor == "ray" and on_ray.blocks == local.blocks
    assert on_ray.pairs_scored == local.pairs_scored and on_ray.plausible == local.plausible
    assert on_ray.created == on_ray.updated == on_ray.removed == 0
    assert _snapshot(services.database) == here


@pytest.fixture(scope="module")
def ray_instance() -> Iterator[None]:
    """One Ray instance of 2 CPUs for the module's runs, with a small object store."""
    ray = pytest.importorskip("ray")
    ray.init(address="local", num_cpus=2, object_store_memory=100 * 2**20,
             include_dashboard=False, log_to_driver=False)  # fmt: skip
    yield
    ray.shutdown()


def _change_the_store(database: Database) -> None:
    """A new report and a new found person who may be them, an edited found person."""
    with database.session() as session:
        upsert_missing(session, MissingFields(ref="NEW-M1", name="覃振宇", sex=Sex.MALE,
                                              birth_year=1971,
                                              missing_place="四川省绵阳市"))  # fmt: skip
        upsert_found(session, FoundFields(ref="NEW-F1", name="覃振宇", sex=Sex.MALE,
                                          age_min=50, age_max=60, accent="四川口音"))  # fmt: skip
        edited = list_candidates(session, limit=None)[-1].candidate.found
        upsert_found(session, FoundFields(ref=edited.ref, name="王建国", sex=edited.sex,
                                          age_min=edited.age_min, age_max=edited.age_max,
                                          found_date=edited.found_date))  # fmt: skip


@needs_ray
@pytest.mark.slow
@pytest.mark.parametrize("blocked", [False, True], ids=["all pairs", "blocked"])
def test_runs_on_a_shared_ray_instance_of_two_cpus_store_what_local_runs_store(
    make_services: Callable[..., Services], tmp_path: Path, ray_instance: None, blocked: bool
) -> None:
    import ray

    services = _populated(make_services, tmp_path)
    limit = 0 if blocked else 4_000_000
    local = _run(services, workers=1, all_pairs_limit=limit)
    here = _snapshot(services.database)
    on_ray = _run(services, executor="ray", all_pairs_limit=limit)
    assert ray.is_initialized(), "a Ray instance it did not start, it leaves running"
    assert on_ray.pairs_scored == local.pairs_scored and on_ray.plausible == local.plausible
    assert on_ray.created == on_ray.updated == on_ray.removed == 0
    assert _snapshot(services.database) == here

    # An incremental run on Ray (changed found persons, changed reports) ends where a
    # full run here ends.
    _change_the_store(services.database)
    settings = RematchSettings(block_size=9, executor="ray", all_pairs_limit=limit)
    incremental = rematch(services.database, face_indexes=None, face_model=None,
                          settings=settings)  # fmt: skip
    assert incremental.kind == "incremental" and incremental.changed_reports == 1
    after = _snapshot(services.database)
    full = _run(services, workers=1, all_pairs_limit=limit)
    assert full.created == full.removed == 0
    ended = _snapshot(services.database)
    assert ended.keys() == after.keys()
    for key, (score, probability, status) in after.items():
        assert ended[key][0] == pytest.approx(score, abs=1e-6), key
        assert ended[key][1] == pytest.approx(probability, rel=1e-9, abs=1e-12), key
        assert ended[key][2] == status, key


@needs_ray
@pytest.mark.slow
def test_the_command_line_joins_a_ray_cluster_at_the_address_it_is_given(
    make_services: Callable[..., Services], tmp_path: Path, ray_instance: None
) -> None:
    import ray

    services = _populated(make_services, tmp_path)
    _run(services, workers=1)
    here = _snapshot(services.database)
    address = ray.get_runtime_context().gcs_address  # the shared instance, as a cluster
    env = {**os.environ, "XUNQIN_HOME": str(services.settings.home),
           "XUNQIN_ENVIRONMENT": "test", "XUNQIN_RAY_ADDRESS": address}  # fmt: skip
    env.pop("XUNQIN_DATABASE_URL", None)
    ran = subprocess.run([sys.executable, "-m", "api", "rematch", "--full", "--executor", "ray"],
                         env=env, capture_output=True, text=True, timeout=600,
                         check=False)  # fmt: skip
    assert ran.returncode == 0, ran.stderr
    report = json.loads(ran.stdout)
    assert report["executor"] == "ray" and report["created"] == report["removed"] == 0
    assert "比对完成（在 Ray 上）" in ran.stderr
    assert _snapshot(services.database) == here


@needs_ray
@pytest.mark.slow
def test_blocks_on_ray_come_back_with_one_task_in_flight_and_stop_when_the_caller_stops(
    ray_instance: None,
) -> None:
    work, numbers = _work()
    results = {r.number: r for r in run_blocks_on_ray(work, numbers, address=None, in_flight=1)}
    assert sorted(results) == numbers
    for number in numbers:
        _same_results(results[number], work(number))

    stream = run_blocks_on_ray(work, numbers, address=None)
    first = next(stream)
    stream.close()  # the tasks still running are cancelled
    _same_results(first, work(first.number))
    again = run_blocks_on_ray(work, numbers[:2], address=None)
    assert sorted(r.number for r in again) == numbers[:2]
