"""The re-match's runs as an administrator sees them: what each covers, how far it got,
its rate and the time left, and how it ended."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from records.models import RematchRun, utcnow
from records.storage.audit_log import audit
from records.storage.rematch_state import RUNNING, list_runs

STATE_WORDS = {"running": "运行中", "done": "已完成", "abandoned": "已放弃"}
"""How a run's state is said to the people who read it."""
KIND_WORDS = {"full": "全量", "incremental": "增量"}


@dataclass(frozen=True)
class JobState:
    """One run of the re-match."""

    id: int
    kind: str
    state: str
    actor: str
    started_at: datetime
    updated_at: datetime
    finished_at: datetime | None
    blocks_done: int
    blocks_total: int
    pairs_scored: int
    pairs_per_second: float | None
    """Pairs scored a second since the run started (None before any block is done)."""
    seconds_left: float | None
    """At that rate, the time the blocks left take (None when not running or unknown)."""
    detail: dict[str, Any]

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready form, times as ISO 8601."""
        data = dict(self.__dict__)
        for key in ("started_at", "updated_at", "finished_at"):
            value = data[key]
            data[key] = value.isoformat() if value is not None else None
        return data


def _state(run: RematchRun, now: datetime) -> JobState:
    end = run.finished_at or (now if run.state == RUNNING else run.updated_at)
    elapsed = (end - run.started_at).total_seconds()
    rate = run.pairs_scored / elapsed if run.pairs_scored and elapsed > 0 else None
    left = None
    if run.state == RUNNING and run.blocks_done and elapsed > 0:
        left = (run.blocks_total - run.blocks_done) * elapsed / run.blocks_done
    return JobState(run.id, run.kind, run.state, run.actor, run.started_at, run.updated_at,
                    run.finished_at, run.blocks_done, run.blocks_total, run.pairs_scored,
                    rate, left, dict(run.detail))  # fmt: skip


def rematch_jobs(session: Session, *, actor: str, limit: int = 20) -> list[JobState]:
    """The latest runs of the re-match, newest first (the read is audited)."""
    runs = list_runs(session, limit=limit)
    audit(session, actor=actor, action="list", subject_kind="job", detail={"shown": len(runs)})
    now = utcnow()
    return [_state(run, now) for run in runs]
