"""Reviewing: a reviewer confirms, rejects or asks for DNA on a candidate pair.

Nothing is ever confirmed by the service: a confirmation leads to DNA or document
checks. A decision names what the reviewer saw (the pair, and the candidate's latest
decision); one decided since, or a decided one changed without an explicit override,
is refused (``AlreadyDecidedError``) naming its latest decision.
"""

from __future__ import annotations

from records import CandidateStatus, Database, Decision
from records.storage.audit_log import audit
from records.storage.reviewer_decisions import record_decision


def decide(
    database: Database,
    candidate_id: int,
    *,
    reviewer: str,
    actor: str,
    status: CandidateStatus,
    reason: str | None = None,
    seen_pair: tuple[str, str] | None = None,
    seen_decision_id: int | None = None,
    override: bool = False,
) -> Decision:
    """Record a decision and its audit line (``override`` when it replaces one) together."""
    with database.session() as session:
        decision = record_decision(
            session, candidate_id, reviewer=reviewer, status=status, reason=reason,
            seen=seen_pair, seen_decision_id=seen_decision_id, override=override,
        )  # fmt: skip
        overrides = {} if decision.overrides_id is None else {"overrides": decision.overrides_id}
        audit(session, actor=actor,
              action="decide" if decision.overrides_id is None else "override",
              subject_kind="candidate", subject_id=candidate_id,
              detail={"status": status.value, "decision": decision.id, **overrides})  # fmt: skip
    return decision  # the session keeps its loaded fields after the commit
