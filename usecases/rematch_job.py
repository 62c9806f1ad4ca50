"""The re-match job: score reports against found persons and store the best candidates.

A run goes in three steps, each its own transaction or series of them:

1. **Plan.** Load the open records and tell the new or changed ones from those scored
   before (:mod:`usecases.rematch_plan`): a digest of each record is kept with the pairs
   it was scored in. Pairs of records gone or closed are forgotten, pairs of changed
   records are scored again. A run after a model or settings change (another *basis*),
   or asked to (``full``), scores everything.
2. **Score, block by block.** Blocks of found persons are scored against the reports
   blocking chooses (:mod:`usecases.rematch_blocks`), on every core or as tasks on a
   Ray cluster (:mod:`usecases.ray_blocks`); each block's pairs at or above the cut-off
   are stored with the block's checkpoint in one transaction.
   Memory holds a block's pairs, never all of them. A run stopped at any point is taken
   up by the next start on the same basis, at the first block not done.
3. **Settle.** From every stored scored pair, the candidates are chosen, their chances
   shared and calibrated, and only those that change are written
   (:mod:`usecases.rematch_settle`).

The run, its progress and how it ended are stored (``rematch_runs``): ``xunqin jobs``
and the API's jobs list read them.
"""

from __future__ import annotations

import hashlib
import logging
import os
import socket
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from typing import Any, Literal, Protocol

import numpy as np
from numpy.typing import NDArray
from sqlalchemy.exc import IntegrityError

from matching.evidence_model import EvidenceModel, params_as_text
from matching.evidence_model.columns import ColumnarScorer
from matching.evidence_model.recalibration import IDENTITY
from matching.names.forms import usable_names
from matching.pooling import linked_groups, pool_linked_stays
from matching.views import FoundView, MissingView, found_view, missing_view
from records import Database, Side
from records.models import RematchRun
from records.storage.person_records import (
    Change,
    open_found_in_batches,
    open_missing_in_batches,
)
from records.storage.rematch_state import (
    ABANDONED,
    DONE,
    blocking_bounds,
    clear_scored,
    delete_scored_pairs_of,
    done_blocks,
    end_run,
    finish_block,
    forget_bounded_paired_with,
    forget_records,
    last_done_run,
    save_blocking_bounds,
    save_digests,
    scored_digests,
    set_run_plan,
    start_run,
    take_up_run,
    unfinished_runs,
)
from records.storage.rematch_state import (
    add_scored_pairs as store_scored_pairs,
)
from records.storage.same_person_links import confirmed_pairs
from usecases.blocking import (
    BLOCKING,
    WEAK_NAME_REACH,
    ReportBlocking,
    name_guess,
    name_tier_weights,
    weak_name_reach,
)
from usecases.face_nearest import NearestFaces, hold_nearest, nearest_per_person
from usecases.face_registry import FaceIndexes
from usecases.ray_blocks import require_ray, run_blocks_on_ray
from usecases.rematch_blocks import (
    BlockGuesses,
    BlockResult,
    BlockWeights,
    BlockWork,
    Bound,
    default_workers,
    pair_by_pair,
    run_blocks,
)
from usecases.rematch_plan import CHANGED_FOUND, CHANGED_REPORTS, changed_positions, plan_blocks
from usecases.rematch_settle import Settled, settle

logger = logging.getLogger(__name__)

Progress = Callable[[int, int], None]
"""Told (blocks done, blocks in all) as the run goes."""

Executor = Literal["local", "ray"]
"""Where a run's blocks are scored: in processes forked here, or as tasks on Ray."""
EXECUTORS: tuple[Executor, ...] = ("local", "ray")


class PairScorer(Protocol):
    """What re-matching needs of a scoring model."""

    @property
    def version(self) -> str:
        """Recorded with every candidate the model scored."""
        ...

    @property
    def prior_weight(self) -> float:
        """log2 prior odds of a random pair being the same person."""
        ...

    def total_weight(self, missing: MissingView, found: FoundView) -> float:
        """The pair's total weight, cheaply, for ranking every pair."""
        ...

    def clear_cache(self) -> None:
        """Forget what was cached about records during a run."""
        ...


class RematchAlreadyRunningError(Exception):
    """Another re-match is running on this store."""

    def __init__(self, run_id: int, host: str, pid: int) -> None:
        super().__init__(
            f"另一个重新比对任务（第 {run_id} 号，{host} 上的进程 {pid}）正在运行 / "
            f"re-match run {run_id} is running (process {pid} on {host})"
        )
        self.run_id = run_id


PAIRS_PER_PERSON = 400
"""Reports a found person is weighed against in full at most (besides face neighbours),
when pairs are blocked: at 100,000 generated reports, the best 400 guessed hold 99% of
the true pairs blocking reaches (``evaluation.bench.blocking_bound``)."""


@dataclass(frozen=True)
class RematchSettings:
    """How many candidates to keep, how pairs are chosen, how the work is cut.

    ``min_evidence_weight`` is relative to the prior: pairs whose evidence (all signals
    together) is below it are never candidates, whatever the model's prior.
    ``weak_name_budget`` caps the pairs of the found persons whose names cannot find
    their report (:func:`~usecases.blocking.weak_name_keys`): each reaches up to 2,000
    reports, fewer when there are more than budget / 2,000 such people.
    ``block_size`` is found persons per block (a checkpoint each); ``workers`` the
    processes that score blocks (0: one per core). ``executor`` says where blocks are
    scored: ``"local"`` in ``workers`` processes forked here, ``"ray"`` as tasks on the
    Ray cluster at ``ray_address`` (None: a Ray instance started here with ``workers``
    CPUs; :mod:`usecases.ray_blocks`). ``face_kept`` is how many of each found person's
    nearest faces are kept as candidates whatever the rest of the evidence
    (:mod:`usecases.face_nearest`; 0: none; at most ``face_neighbours`` are searched).
    ``pairs_per_person`` bounds, when pairs are blocked, the reports each found person is
    weighed against in full, besides their face neighbours: the best guessed on every
    comparison but the names, and the tier of the name keys the two share (None: no
    bound; the blocked pairs grow about as the square of the store, the bounded ones as
    the store).
    """

    keep_per_record: int = 20
    min_evidence_weight: float = -2.0
    face_neighbours: int = 50
    face_kept: int = 3
    pairs_per_person: int | None = PAIRS_PER_PERSON
    all_pairs_limit: int = 4_000_000
    weak_name_budget: int = 5_000_000
    block_size: int = 200
    workers: int = 0
    executor: Executor = "local"
    ray_address: str | None = None

    def __post_init__(self) -> None:
        if self.executor not in EXECUTORS:
            raise ValueError(f"the re-match runs on one of {EXECUTORS}, not {self.executor!r}")
        if self.face_kept < 0:
            raise ValueError(f"face_kept must not be negative, got {self.face_kept}")
        if self.pairs_per_person is not None and self.pairs_per_person < 1:
            raise ValueError(f"pairs_per_person must be at least 1, got {self.pairs_per_person}")


@dataclass(frozen=True)
class RematchReport:
    """What a re-match did, with its timings."""

    reports: int
    found_persons: int
    pairs_scored: int
    kept: int
    created: int
    updated: int
    unchanged: int
    removed: int
    seconds_loading: float
    seconds_scoring: float
    seconds_storing: float
    calibration: str = "no recalibration"
    """How the stored probabilities were calibrated."""
    sharing: str = "not shared"
    """Among how many plausible pairs the chances were shared, and the raise first."""
    weak_name_reach: int = 0
    """Reports each found person whose names cannot find their report reached at most
    (0: every pair was scored, no blocking)."""
    kind: str = "full"
    """"full" (every pair scored) or "incremental" (the pairs of changed records)."""
    run_id: int = 0
    blocks: int = 0
    blocks_taken_up: int = 0
    """Blocks a run stopped before had already done."""
    changed_reports: int = 0
    changed_found: int = 0
    plausible: int = 0
    """Scored pairs at or above the cut-off, stored: every candidate's competitors."""
    pairs_guessed: int = 0
    """Pairs guessed at (every comparison but the names) to choose the pairs weighed in
    full, by this start of the run (a run taken up does not count its earlier blocks)."""
    workers: int = 1
    """Processes that scored blocks here (the local executor; 0 on Ray)."""
    executor: Executor = "local"


def _basis(
    model: PairScorer, cutoff: float, face_model: str | None, settings: RematchSettings,
    *, all_pairs: bool, reach: int,
) -> str:  # fmt: skip
    """What the stored weights and the choice of pairs depend on: stored pairs of
    another basis are scored again."""
    if isinstance(model, EvidenceModel):
        # The weights, not how they are calibrated: a recalibration changes no weight.
        text = params_as_text(replace(model.params, recalibration=IDENTITY))
        fingerprint = hashlib.blake2b(text.encode(), digest_size=8).hexdigest()
    else:
        fingerprint = f"{model.prior_weight:.9g}"
    # BLOCKING names the rules that choose pairs: pairs stored under other rules are
    # scored again, or an incremental run would choose only the changed records' pairs
    # by the new rules.
    choice = "all" if all_pairs else (
        f"blocked,{BLOCKING},faces={face_model},k={settings.face_neighbours},reach={reach},"
        f"bound={settings.pairs_per_person}"
    )  # fmt: skip
    return f"{model.version}|{fingerprint}|cut={cutoff:.9g}|{choice}"[:200]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class _Progress:
    """Tells the caller and the log how far the run is: on a terminal the caller draws a
    bar; the log gets a line (done, rate, time left) every ``every`` seconds."""

    def __init__(self, total: int, done: int, callback: Progress | None, every: float = 10.0):
        self._total, self._done, self._callback, self._every = total, done, callback, every
        self._started = self._last = time.monotonic()
        self._first_done = done
        self._pairs = 0

    def block(self, result: BlockResult) -> None:
        self._done += 1
        self._pairs += result.scored
        if self._callback is not None:
            self._callback(self._done, self._total)
        now = time.monotonic()
        if now - self._last >= self._every or self._done == self._total:
            self._last = now
            elapsed = max(now - self._started, 1e-9)
            rate = (self._done - self._first_done) / elapsed
            left = (self._total - self._done) / rate if rate > 0 else float("nan")
            logger.info(
                "re-match progress: %d/%d blocks, %d pairs scored, %.0f pairs/s, "
                "about %.0f s left", self._done, self._total, self._pairs,
                self._pairs / elapsed, left,
            )  # fmt: skip


_CHUNK_PAIRS = 200_000
"""Pairs weighed at once: the name comparison holds about 100 bytes a pair while it runs."""


def _block_weights(
    model: PairScorer, missing: Sequence[MissingView], found: Sequence[FoundView]
) -> tuple[BlockWeights, BlockGuesses | None]:
    """How a block's pairs are weighed: the evidence model in columns (every record's
    facts laid out once, here, before the workers start), any other scorer pair by pair;
    and how they are guessed at before (the evidence model only: every comparison but the
    names, which the tier of the keys they share stands for; None for another scorer)."""
    if not isinstance(model, EvidenceModel):
        return pair_by_pair(model, missing, found), None
    try:
        scorer = ColumnarScorer(model)
    except ValueError:  # a comparison without a columnar form
        return pair_by_pair(model, missing, found), None
    reports, people = scorer.missing_columns(missing), scorer.found_columns(found)
    reports_named = np.fromiter((bool(usable_names(v.names)) for v in missing), dtype=np.bool_,
                                count=len(missing))  # fmt: skip
    people_named = np.fromiter((bool(usable_names(v.names)) for v in found), dtype=np.bool_,
                               count=len(found))  # fmt: skip

    def in_chunks(
        weigh: Callable[[NDArray[np.int64], NDArray[np.int64]], NDArray[np.float64]],
        i: NDArray[np.int64],
        j: NDArray[np.int64],
    ) -> NDArray[np.float64]:
        chunks = [weigh(i[start : start + _CHUNK_PAIRS], j[start : start + _CHUNK_PAIRS])
                  for start in range(0, len(i), _CHUNK_PAIRS)]  # fmt: skip
        return np.concatenate(chunks) if chunks else np.zeros(0, dtype=np.float64)

    def weights(i: NDArray[np.int64], j: NDArray[np.int64]) -> NDArray[np.float64]:
        return in_chunks(lambda a, b: scorer.total_weights(reports, people, a, b), i, j)

    by_tier = name_tier_weights(model)
    if by_tier is None:  # a model that does not compare names: nothing to leave out
        return weights, None
    tier_weights = by_tier

    def guesses(
        i: NDArray[np.int64], j: NDArray[np.int64], tiers: NDArray[np.int8]
    ) -> NDArray[np.float64]:
        rest = in_chunks(lambda a, b: scorer.total_weights(reports, people, a, b,
                                                           skip=("name",)), i, j)  # fmt: skip
        return rest + name_guess(tier_weights, tiers, reports_named[i] & people_named[j])

    return weights, guesses


def _take_or_start(
    database: Database, *, basis: str, full: bool, actor: str
) -> tuple[int, str, bool]:
    """The run to carry on (one stopped before, on this basis) or a new one: its id,
    kind and whether it was taken up. A new run forgets what it will score again."""
    host, pid = socket.gethostname(), os.getpid()
    with database.session() as session:
        for run in unfinished_runs(session):
            if run.host == host and run.pid != pid and _alive(run.pid):
                raise RematchAlreadyRunningError(run.id, host, run.pid)
            if run.basis == basis and not full:
                take_up_run(session, run.id, host=host, pid=pid)
                logger.info("re-match: taking up run %d where it stopped", run.id)
                return run.id, run.kind, True
            end_run(session, run.id, state=ABANDONED, detail=dict(run.detail))
        previous = last_done_run(session)
        kind = "full" if full or previous is None or previous.basis != basis else "incremental"
        if kind == "full":
            clear_scored(session)
        run = start_run(session, kind=kind, basis=basis, actor=actor, host=host, pid=pid)
        return run.id, kind, False


def rematch(
    database: Database,
    *,
    face_indexes: FaceIndexes | None,
    face_model: str | None,
    settings: RematchSettings | None = None,
    scorer: PairScorer | None = None,
    progress: Progress | None = None,
    full: bool = False,
    actor: str = "job",
) -> RematchReport:
    """Score the pairs of new and changed records (every pair when ``full``, or after a
    model change), keep the best candidates in both directions, and store them.

    ``scorer`` defaults to the shipped evidence model. A run stopped before on the same
    basis is carried on; RematchAlreadyRunningError when one is running now.
    """
    settings = settings or RematchSettings()
    if settings.executor == "ray":
        require_ray()  # before a run is started that could not go on
    model = scorer or EvidenceModel.default()
    cutoff = model.prior_weight + settings.min_evidence_weight
    started = time.perf_counter()
    with database.session() as session:
        # Read a batch at a time: the records' rows, photos and faces would take several
        # times what their views hold, all at once.
        missing = [missing_view(r) for batch in open_missing_in_batches(session)
                   for r in batch]  # fmt: skip
        # A person reviewers confirmed passed through several stations is one person:
        # their stays' evidence is pooled into one view, paired under the earliest stay.
        stays = [found_view(p) for batch in open_found_in_batches(session) for p in batch]
        found = pool_linked_stays(stays, linked_groups(confirmed_pairs(session)))
    all_pairs = len(missing) * len(found) <= settings.all_pairs_limit
    reach = (
        WEAK_NAME_REACH if all_pairs else weak_name_reach(found, budget=settings.weak_name_budget)
    )
    basis = _basis(model, cutoff, face_model, settings, all_pairs=all_pairs, reach=reach)
    run_id, kind, taken_up = _take_or_start(database, basis=basis, full=full, actor=actor)

    with database.session() as session:
        stored = {side: scored_digests(session, side) for side in Side}
        changed_m, missing_digests = changed_positions(missing, stored[Side.MISSING])
        if not taken_up and kind == "incremental":
            # A bounded person weighed against a report now gone or changed is chosen for
            # again, as a full run would: the report after their weakest kept may come in.
            # Their digests are forgotten with the plan, so a run taken up does the same.
            left = (set(stored[Side.MISSING]) - {v.id for v in missing}) | {
                missing[i].id for i in changed_m.tolist() if missing[i].id in stored[Side.MISSING]
            }
            rechosen = forget_bounded_paired_with(session, left)
            stored[Side.FOUND] = {k: v for k, v in stored[Side.FOUND].items() if k not in rechosen}
        changed_f, found_digests = changed_positions(found, stored[Side.FOUND])
        open_ids = {Side.MISSING: {v.id for v in missing}, Side.FOUND: {v.id for v in found}}
        for side in Side:
            # Records closed or erased since they were scored: their pairs go.
            gone = set(stored[side]) - open_ids[side]
            delete_scored_pairs_of(session, side, gone)
            forget_records(session, side, gone)
        if not taken_up and kind == "incremental":
            delete_scored_pairs_of(
                session, Side.MISSING, [missing[i].id for i in changed_m.tolist()]
            )
            delete_scored_pairs_of(session, Side.FOUND, [found[j].id for j in changed_f.tolist()])
        blocks = plan_blocks(len(found), changed_f, changed_m, block_size=settings.block_size)
        covered = {"kind": kind, "reports": len(missing), "found_persons": len(found),
                   "changed_reports": len(changed_m), "changed_found": len(changed_f)}  # fmt: skip
        set_run_plan(session, run_id, blocks_total=len(blocks), detail=covered)
        done = done_blocks(session, run_id)
        bounds = blocking_bounds(session)
    weakest = np.array([bounds.get(view.id, np.nan) for view in found], dtype=np.float64)
    loaded = time.perf_counter()

    pending = [block.number for block in blocks if block.number not in done]
    workers = settings.workers or default_workers()
    parts = {block.part for block in blocks if block.number in set(pending)}
    face_args: dict[str, Any] = {"face_indexes": face_indexes, "face_model": face_model,
                                 "face_neighbours": settings.face_neighbours}  # fmt: skip
    everything = None
    if CHANGED_FOUND in parts:
        everything = ReportBlocking(missing, weak_reach=reach, all_pairs=all_pairs)
    # The face index is searched here, once: blocks run where it is not. Every run, for
    # the nearest faces are kept whatever changed.
    face_keys, face_distances = ReportBlocking(
        missing, all_pairs=True, **face_args
    ).face_neighbours(found, np.arange(len(found)))
    nearest_keys = nearest_per_person(face_keys, face_distances, len(missing),
                                      settings.face_kept)  # fmt: skip
    if not pending or all_pairs:
        face_keys = np.zeros(0, dtype=np.int64)
    changed_rows = np.zeros(len(missing), dtype=np.bool_)
    changed_rows[changed_m] = True
    changed_blocking = None
    if CHANGED_REPORTS in parts:
        changed_blocking = ReportBlocking(missing, only=changed_m, weak_reach=reach,
                                          all_pairs=all_pairs)  # fmt: skip
    block_weights, block_guesses = _block_weights(model, missing, found)
    bound = None
    if block_guesses is not None and settings.pairs_per_person is not None and not all_pairs:
        bound = Bound(settings.pairs_per_person, block_guesses, weakest)
    work = BlockWork(
        n_missing=len(missing), found=found, blocks=blocks, everything=everything,
        changed=changed_blocking, changed_rows=changed_rows, face_keys=face_keys,
        weights=block_weights, cutoff=cutoff, bound=bound,
    )  # fmt: skip
    missing_ids = np.fromiter((v.id for v in missing), dtype=np.int64, count=len(missing))
    found_ids = np.fromiter((v.id for v in found), dtype=np.int64, count=len(found))
    nearest = NearestFaces.of(nearest_keys, len(missing), missing_ids, found_ids,
                              block_weights, cutoff)  # fmt: skip
    tracker = _Progress(len(blocks), len(done), progress)
    if progress is not None:
        progress(len(done), len(blocks))
    results: Iterator[BlockResult]
    if settings.executor == "ray":
        results = run_blocks_on_ray(work, pending, address=settings.ray_address,
                                    workers=settings.workers)  # fmt: skip
    else:
        results = run_blocks(work, pending, workers=workers)
    guessed = 0
    for result in results:
        with database.session() as session:
            store_scored_pairs(session, missing_ids[result.missing], found_ids[result.found],
                               result.weights)  # fmt: skip
            save_blocking_bounds(session, found_ids[result.bounded], result.bounds)
            finish_block(session, run_id, result.number, pairs_scored=result.scored,
                         pairs_kept=len(result.weights))  # fmt: skip
        tracker.block(result)
        guessed += result.guessed
    scored = time.perf_counter()

    with database.session() as session:
        hold_nearest(session, nearest)

    def store() -> tuple[Settled, int]:
        with database.session() as session:
            settled = settle(session, scorer=model, missing=missing, found=found,
                             keep_per_record=settings.keep_per_record,
                             nearest=nearest)  # fmt: skip
            save_digests(session, Side.MISSING, missing_digests)
            save_digests(session, Side.FOUND, found_digests)
            run = session.get(RematchRun, run_id)
            pairs_scored = run.pairs_scored if run is not None else 0
            end_run(session, run_id, state=DONE, detail={
                **covered, "kept": settled.kept, "plausible": settled.plausible,
                "created": settled.counts[Change.CREATED],
                "updated": settled.counts[Change.UPDATED], "removed": settled.removed,
            })  # fmt: skip
            return settled, pairs_scored

    # A record erased after the ids were read breaks the foreign key and rolls back the
    # whole store: then once more, reading the ids again.
    try:
        settled, pairs_scored = store()
    except IntegrityError:
        logger.warning("re-match: a record went while storing; storing again")
        settled, pairs_scored = store()
    model.clear_cache()
    stored_at = time.perf_counter()
    report = RematchReport(
        reports=len(missing),
        found_persons=len(found),
        pairs_scored=pairs_scored,
        kept=settled.kept,
        created=settled.counts[Change.CREATED],
        updated=settled.counts[Change.UPDATED],
        unchanged=settled.counts[Change.UNCHANGED],
        removed=settled.removed,
        seconds_loading=loaded - started,
        seconds_scoring=scored - loaded,
        seconds_storing=stored_at - scored,
        calibration=settled.calibration,
        sharing=settled.sharing,
        weak_name_reach=0 if all_pairs else reach,
        kind=kind,
        run_id=run_id,
        blocks=len(blocks),
        blocks_taken_up=len(done),
        changed_reports=len(changed_m),
        changed_found=len(changed_f),
        plausible=settled.plausible,
        pairs_guessed=guessed,
        workers=min(workers, max(1, len(pending))) if settings.executor == "local" else 0,
        executor=settings.executor,
    )
    logger.info("re-match: %s", report)
    return report
