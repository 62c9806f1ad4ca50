"""Reviewing links between found persons: the queue, one link with its explanation, and a
verdict (the same person, different people, or back to pending).

Each is audited once. The reads work in the caller's unit of work, as in
:mod:`usecases.reading`; a decision opens its own and stores the audit line with it, as in
:mod:`usecases.reviewing`, whose rules it follows: a decision names what the reviewer saw
(the two people, the link's latest decision), and a link decided since, or a decided one
changed without an explicit override with a reason, is refused naming its latest
decision. Nothing is ever confirmed by the service.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from matching.evidence_model import EvidenceScore
from records import Database, FoundLink, FoundLinkDecision, LinkStatus
from records.storage import person_records
from records.storage.audit_log import audit
from records.storage.same_person_links import (
    count_links,
    get_link,
    list_links,
    record_link_decision,
)

SUBJECT = "found_link"
"""The audit log's word for a link between found persons."""


def links_page(
    session: Session,
    *,
    actor: str,
    found_ref: str | None = None,
    status: LinkStatus | None = None,
    offset: int = 0,
    limit: int | None = 50,
    with_evidence: bool | None = None,
) -> tuple[list[FoundLink], int]:
    """Links best first (those of one found person, of one status, if asked) and how many
    there are; ``RecordNotFoundError`` for a found person who is not stored."""
    found_id = person_records.get_found(session, found_ref).id if found_ref else None
    rows = list_links(session, found_id=found_id, status=status, offset=offset, limit=limit)
    detail: dict[str, object] = {"shown": len(rows), "offset": offset}
    if found_id is not None:
        detail["found"] = found_id
    if with_evidence is not None:
        detail["evidence"] = with_evidence
    audit(session, actor=actor, action="list", subject_kind=SUBJECT, detail=detail)
    return rows, count_links(session, found_id=found_id, status=status)


def found_link(session: Session, link_id: int, *, actor: str) -> FoundLink:
    """One link with both people, its evidence and every decision on it."""
    row = get_link(session, link_id)
    audit(session, actor=actor, action="read", subject_kind=SUBJECT, subject_id=link_id)
    return row


def found_link_score(session: Session, link_id: int, *, actor: str) -> EvidenceScore:
    """A link's explained score (for its waterfall chart), the read audited."""
    return EvidenceScore.from_json(found_link(session, link_id, actor=actor).evidence)


def decide_link(
    database: Database,
    link_id: int,
    *,
    reviewer: str,
    actor: str,
    status: LinkStatus,
    reason: str | None = None,
    seen_refs: tuple[str, str] | None = None,
    seen_decision_id: int | None = None,
    override: bool = False,
) -> FoundLinkDecision:
    """Record a verdict and its audit line (``override`` when it replaces one) together."""
    with database.session() as session:
        decision = record_link_decision(
            session, link_id, reviewer=reviewer, status=status, reason=reason,
            seen=seen_refs, seen_decision_id=seen_decision_id, override=override,
        )  # fmt: skip
        overrides = {} if decision.overrides_id is None else {"overrides": decision.overrides_id}
        audit(session, actor=actor,
              action="decide" if decision.overrides_id is None else "override",
              subject_kind=SUBJECT, subject_id=link_id,
              detail={"status": status.value, "decision": decision.id, **overrides})  # fmt: skip
    return decision
