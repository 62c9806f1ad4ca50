"""The re-match's own state: the plausible pairs it scored, the digest of each record it
scored, and its runs with their done blocks.

A run scores only the pairs of records that are new or changed since the digests were
stored; the pairs of unchanged records stay as stored. Every block of work is stored
with its pairs in one transaction, so a run stopped at any point (even ``kill -9``) is
taken up at the first block not done.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any, cast

import numpy as np
from numpy.typing import NDArray
from sqlalchemy import Table, delete, func, insert, select, tuple_, update
from sqlalchemy.orm import Session

from records.enums import Side
from records.models import (
    BlockingBound,
    RematchBlock,
    RematchRun,
    ScoredPair,
    ScoredRecord,
    utcnow,
)

RUNNING = "running"
DONE = "done"
ABANDONED = "abandoned"
"""A run left unfinished that the next start did not take up (its basis changed)."""

_CHUNK = 5000
"""Ids per ``IN`` list (SQLite caps bound parameters)."""
_READ_BATCH = 100_000


# --- records' digests --------------------------------------------------------------------


def scored_digests(session: Session, side: Side) -> dict[int, str]:
    """The digest of every record of ``side`` the re-match has scored, by id."""
    query = select(ScoredRecord.record_id, ScoredRecord.digest).where(ScoredRecord.side == side)
    return {int(record_id): str(digest) for record_id, digest in session.execute(query)}


def save_digests(session: Session, side: Side, digests: Sequence[tuple[int, str]]) -> None:
    """Store (or replace) the digests of records of ``side`` now scored."""
    _forget_digests(session, side, [record_id for record_id, _ in digests])
    for start in range(0, len(digests), _CHUNK):
        rows = [{"side": side, "record_id": record_id, "digest": digest}
                for record_id, digest in digests[start : start + _CHUNK]]  # fmt: skip
        session.execute(insert(ScoredRecord), rows)


def forget_records(session: Session, side: Side, ids: Iterable[int]) -> None:
    """Forget the digests (and found persons' bounds) of records of ``side`` gone or
    closed."""
    wanted = list(ids)
    _forget_digests(session, side, wanted)
    if side is Side.FOUND:
        _forget_bounds(session, wanted)


def _forget_digests(session: Session, side: Side, wanted: Sequence[int]) -> None:
    for start in range(0, len(wanted), _CHUNK):
        session.execute(
            delete(ScoredRecord).where(
                ScoredRecord.side == side,
                ScoredRecord.record_id.in_(wanted[start : start + _CHUNK]),
            )
        )


# --- found persons' blocking bounds ------------------------------------------------------


def blocking_bounds(session: Session) -> dict[int, float]:
    """The weakest guess each found person's bounded blocking kept, by found person id
    (none for a person whose blocking was not bounded)."""
    query = select(BlockingBound.found_id, BlockingBound.weight)
    return {int(found_id): float(weight) for found_id, weight in session.execute(query)}


def save_blocking_bounds(
    session: Session, found_ids: NDArray[np.int64], weights: NDArray[np.float64]
) -> None:
    """Store (or replace) found persons' bounds; a NaN weight stores none (the person's
    blocking was not bounded: every report it reached was kept)."""
    _forget_bounds(session, found_ids.tolist())
    pairs = zip(found_ids.tolist(), weights.tolist(), strict=True)
    rows = [{"found_id": f, "weight": w} for f, w in pairs if not math.isnan(w)]
    for start in range(0, len(rows), _CHUNK):
        session.execute(insert(BlockingBound), rows[start : start + _CHUNK])


def _forget_bounds(session: Session, ids: Sequence[int]) -> None:
    for start in range(0, len(ids), _CHUNK):
        chunk = ids[start : start + _CHUNK]
        session.execute(delete(BlockingBound).where(BlockingBound.found_id.in_(chunk)))


# --- scored pairs ------------------------------------------------------------------------


def clear_scored(session: Session) -> None:
    """Forget every scored pair, digest and bound: the next scoring starts from nothing."""
    session.execute(delete(ScoredPair))
    session.execute(delete(ScoredRecord))
    session.execute(delete(BlockingBound))


def delete_scored_pairs_of(session: Session, side: Side, ids: Iterable[int]) -> None:
    """Delete the scored pairs of records of ``side`` (to be scored again, or gone)."""
    column = ScoredPair.missing_id if side is Side.MISSING else ScoredPair.found_id
    wanted = list(ids)
    for start in range(0, len(wanted), _CHUNK):
        session.execute(delete(ScoredPair).where(column.in_(wanted[start : start + _CHUNK])))


def delete_scored_pairs(
    session: Session, missing_ids: NDArray[np.int64], found_ids: NDArray[np.int64]
) -> None:
    """Delete these scored pairs (report ``missing_ids[k]``, found ``found_ids[k]``)."""
    pairs = list(zip(missing_ids.tolist(), found_ids.tolist(), strict=True))
    table = _SCORED_PAIRS.c
    for start in range(0, len(pairs), _CHUNK):
        chunk = pairs[start : start + _CHUNK]
        session.execute(
            delete(_SCORED_PAIRS).where(tuple_(table.missing_id, table.found_id).in_(chunk))
        )


def _found_paired_with(session: Session, missing_ids: Iterable[int]) -> set[int]:
    """The found persons with a scored pair with any of these reports."""
    wanted = list(missing_ids)
    found: set[int] = set()
    for start in range(0, len(wanted), _CHUNK):
        query = select(ScoredPair.found_id).where(
            ScoredPair.missing_id.in_(wanted[start : start + _CHUNK])
        )
        found.update(int(f) for f in session.scalars(query.distinct()))
    return found


def forget_bounded_paired_with(session: Session, missing_ids: Iterable[int]) -> set[int]:
    """Forget the digests and bounds of the bounded found persons with a scored pair with
    any of these reports (gone, closed or changed): the next re-match chooses their
    reports again, so the one after their weakest kept may come in. Their ids."""
    paired = sorted(_found_paired_with(session, missing_ids))
    bounded: set[int] = set()
    for start in range(0, len(paired), _CHUNK):
        query = select(BlockingBound.found_id).where(
            BlockingBound.found_id.in_(paired[start : start + _CHUNK])
        )
        bounded.update(int(f) for f in session.scalars(query))
    forget_records(session, Side.FOUND, bounded)
    return bounded


def delete_scored_pairs_below(session: Session, weight: float) -> None:
    """Delete the scored pairs whose weight is below ``weight``."""
    session.execute(delete(ScoredPair).where(ScoredPair.weight < weight))


_SCORED_PAIRS = cast(Table, ScoredPair.__table__)


def add_scored_pairs(
    session: Session,
    missing_ids: NDArray[np.int64],
    found_ids: NDArray[np.int64],
    weights: NDArray[np.float64],
) -> None:
    """Store scored pairs (none of them may be stored already)."""
    for start in range(0, len(weights), _CHUNK):
        end = start + _CHUNK
        rows = [
            {"missing_id": m, "found_id": f, "weight": w}
            for m, f, w in zip(
                missing_ids[start:end].tolist(),
                found_ids[start:end].tolist(),
                weights[start:end].tolist(),
                strict=True,
            )
        ]
        # The table, not the class: the ORM's bulk path costs twice the time a row, and
        # a run at scale stores tens of millions.
        session.execute(insert(_SCORED_PAIRS), rows)


def read_scored_pairs(
    session: Session,
) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.float64]]:
    """Every scored pair as three columns (report id, found person id, weight), in
    (report, found person) order, read in batches rather than as objects."""
    table = _SCORED_PAIRS.c
    query = select(table.missing_id, table.found_id, table.weight).order_by(
        table.missing_id, table.found_id
    )
    missing: list[NDArray[np.int64]] = []
    found: list[NDArray[np.int64]] = []
    weights: list[NDArray[np.float64]] = []
    session.flush()  # what the session holds unwritten, the connection would not see
    # Through the connection, not the session: the ORM's row loading took half the time
    # of reading tens of millions of pairs.
    result = session.connection().execute(query.execution_options(yield_per=_READ_BATCH))
    for batch in result.partitions(_READ_BATCH):
        columns = list(zip(*batch, strict=True))
        missing.append(np.asarray(columns[0], dtype=np.int64))
        found.append(np.asarray(columns[1], dtype=np.int64))
        weights.append(np.asarray(columns[2], dtype=np.float64))
    if not weights:
        return (np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64),
                np.zeros(0, dtype=np.float64))  # fmt: skip
    return np.concatenate(missing), np.concatenate(found), np.concatenate(weights)


def count_scored_pairs(session: Session) -> int:
    """How many scored pairs are stored."""
    return int(session.scalar(select(func.count()).select_from(ScoredPair)) or 0)


# --- runs and blocks ---------------------------------------------------------------------


def unfinished_runs(session: Session) -> list[RematchRun]:
    """Runs that started and neither finished nor were abandoned, oldest first."""
    query = select(RematchRun).where(RematchRun.state == RUNNING).order_by(RematchRun.id)
    return list(session.scalars(query))


def last_done_run(session: Session) -> RematchRun | None:
    """The latest run that finished, if any."""
    query = select(RematchRun).where(RematchRun.state == DONE).order_by(RematchRun.id.desc())
    return session.scalars(query.limit(1)).first()


def start_run(
    session: Session, *, kind: str, basis: str, actor: str, host: str, pid: int
) -> RematchRun:
    """Record a run that starts now."""
    run = RematchRun(kind=kind, state=RUNNING, basis=basis, actor=actor, host=host, pid=pid,
                     detail={})  # fmt: skip
    session.add(run)
    session.flush()
    return run


def take_up_run(session: Session, run_id: int, *, host: str, pid: int) -> None:
    """Mark an unfinished run as now carried on by this process."""
    session.execute(update(RematchRun).where(RematchRun.id == run_id).values(host=host, pid=pid))


def set_run_plan(
    session: Session, run_id: int, *, blocks_total: int, detail: dict[str, Any]
) -> None:
    """Record how many blocks the run has, and what it covers."""
    session.execute(
        update(RematchRun)
        .where(RematchRun.id == run_id)
        .values(blocks_total=blocks_total, detail=detail)
    )


def done_blocks(session: Session, run_id: int) -> set[int]:
    """The blocks of a run already done."""
    query = select(RematchBlock.block).where(RematchBlock.run_id == run_id)
    return set(session.scalars(query))


def finish_block(
    session: Session, run_id: int, block: int, *, pairs_scored: int, pairs_kept: int
) -> None:
    """Record a block done (in the transaction that stores its pairs)."""
    session.add(RematchBlock(run_id=run_id, block=block, pairs_scored=pairs_scored,
                             pairs_kept=pairs_kept))  # fmt: skip
    session.execute(
        update(RematchRun)
        .where(RematchRun.id == run_id)
        .values(
            blocks_done=RematchRun.blocks_done + 1,
            pairs_scored=RematchRun.pairs_scored + pairs_scored,
            updated_at=utcnow(),
        )
    )


def end_run(session: Session, run_id: int, *, state: str, detail: dict[str, Any]) -> None:
    """Record how a run ended; its blocks are no longer needed."""
    session.execute(
        update(RematchRun)
        .where(RematchRun.id == run_id)
        .values(state=state, detail=detail, finished_at=utcnow())
    )
    session.execute(delete(RematchBlock).where(RematchBlock.run_id == run_id))


def list_runs(session: Session, *, limit: int = 20) -> list[RematchRun]:
    """The latest runs, newest first."""
    query = select(RematchRun).order_by(RematchRun.id.desc()).limit(limit)
    return list(session.scalars(query))


def run_age(run: RematchRun, now: datetime | None = None) -> float:
    """Seconds since the run last reported progress."""
    return ((now or utcnow()) - run.updated_at).total_seconds()
