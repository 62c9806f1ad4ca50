"""Links between found persons who may be one person, and reviewers' verdicts on them.

A re-match of found persons against each other upserts links (each pair once, the
smaller id first) and removes the pending ones it no longer keeps, never one with a
decision. Reviewers list them best first (all, or those of one found person), read one,
and decide: the same person, different people, or back to pending. As for candidates
(``reviewer_decisions``), a decision names the latest decision the reviewer saw and is
stored only if that is still the link's latest, in one conditional update.

A link stays listed while at least one of its two people is still to be identified: a
person in care linked to someone already identified is exactly who to look at.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Final, cast

from sqlalchemy import CursorResult, delete, exists, func, or_, select, update
from sqlalchemy.orm import Session, aliased, selectinload

from records.enums import LinkStatus
from records.errors import (
    DecisionConflictError,
    InvalidRecordError,
    LatestDecision,
    LinkAlreadyDecidedError,
    RecordNotFoundError,
)
from records.models import FoundLink, FoundLinkDecision, FoundPerson, utcnow
from records.storage._queries import SelectT
from records.storage.person_records import OPEN_FOUND, Change
from records.storage.scored_rows import refresh_scores

_DELETE_CHUNK: Final = 5000
"""Stale links deleted per statement (SQLite caps bound parameters)."""


def link_key(first_id: int, second_id: int) -> tuple[int, int]:
    """The pair as stored: the smaller id first. The same id twice is refused."""
    if first_id == second_id:
        raise InvalidRecordError(
            f"一个人不能与自己关联 (a found person is not linked with itself: {first_id})",
            field="found_id",
        )
    return (first_id, second_id) if first_id < second_id else (second_id, first_id)


def upsert_link(
    session: Session,
    *,
    found_ids: tuple[int, int],
    score: float,
    probability: float | None,
    evidence: dict[str, Any],
    model_version: str,
    existing: dict[tuple[int, int], FoundLink] | None = None,
) -> tuple[FoundLink, Change]:
    """Store a link's score and evidence; a reviewer's status is never touched.

    ``existing`` lets a batch job pass the links it loaded once instead of one query per
    pair.
    """
    key = link_key(*found_ids)
    if existing is not None:
        row = existing.get(key)
    else:
        row = session.scalar(
            select(FoundLink).where(FoundLink.found_a_id == key[0], FoundLink.found_b_id == key[1])
        )
    if row is None:
        row = FoundLink(
            found_a_id=key[0], found_b_id=key[1], score=score, probability=probability,
            evidence=evidence, model_version=model_version, status=LinkStatus.PENDING,
        )  # fmt: skip
        session.add(row)
        if existing is not None:
            existing[key] = row
        else:
            session.flush()
        return row, Change.CREATED
    change = refresh_scores(row, score=score, probability=probability, evidence=evidence,
                            model_version=model_version)  # fmt: skip
    return row, change


def all_links(session: Session) -> dict[tuple[int, int], FoundLink]:
    """Every stored link by (smaller id, larger id)."""
    return {(row.found_a_id, row.found_b_id): row for row in session.scalars(select(FoundLink))}


def decided_links(session: Session) -> dict[tuple[int, int], LinkStatus]:
    """Every link that has a decision, by pair, with its status (pending again included:
    a link with a history is the reviewers', not the re-match's)."""
    query = select(FoundLink.found_a_id, FoundLink.found_b_id, FoundLink.status).where(
        or_(
            FoundLink.latest_decision_id.is_not(None),
            exists().where(FoundLinkDecision.link_id == FoundLink.id),
        )
    )
    return {(a, b): status for a, b, status in session.execute(query)}


def confirmed_pairs(session: Session) -> list[tuple[int, int]]:
    """The pairs reviewers confirmed to be one person, in id order."""
    query = (
        select(FoundLink.found_a_id, FoundLink.found_b_id)
        .where(FoundLink.status == LinkStatus.CONFIRMED)
        .order_by(FoundLink.found_a_id, FoundLink.found_b_id)
    )
    return [(a, b) for a, b in session.execute(query)]


def delete_stale_links(session: Session, link_ids: Sequence[int]) -> int:
    """Delete the links among ``link_ids`` that are still pending with no decision ever
    (a reviewer may have decided one since they were chosen); how many went."""
    removed = 0
    for start in range(0, len(link_ids), _DELETE_CHUNK):
        deleted = cast(
            "CursorResult[Any]",
            session.execute(
                delete(FoundLink)
                .where(
                    FoundLink.id.in_(link_ids[start : start + _DELETE_CHUNK]),
                    FoundLink.status == LinkStatus.PENDING,
                    FoundLink.latest_decision_id.is_(None),
                    ~exists().where(FoundLinkDecision.link_id == FoundLink.id),
                )
                .execution_options(synchronize_session=False)
            ),
        )
        removed += deleted.rowcount
    return removed


def _still_open(query: SelectT) -> SelectT:
    """Restrict a query of links to those with at least one person still to identify."""
    a, b = aliased(FoundPerson), aliased(FoundPerson)
    return (
        query.join(a, FoundLink.found_a_id == a.id)
        .join(b, FoundLink.found_b_id == b.id)
        .where(or_(a.status.in_(OPEN_FOUND), b.status.in_(OPEN_FOUND)))
    )


def _filtered(
    query: SelectT, *, found_id: int | None, status: LinkStatus | None, include_closed: bool
) -> SelectT:
    if not include_closed:
        query = _still_open(query)
    if found_id is not None:
        query = query.where(or_(FoundLink.found_a_id == found_id, FoundLink.found_b_id == found_id))
    if status is not None:
        query = query.where(FoundLink.status == status)
    return query


def list_links(
    session: Session,
    *,
    found_id: int | None = None,
    status: LinkStatus | None = None,
    offset: int = 0,
    limit: int | None = 100,
    include_closed: bool = False,
) -> list[FoundLink]:
    """Links best first (of one found person, of one status, if asked), both people and
    the latest decision loaded."""
    query = select(FoundLink).options(
        selectinload(FoundLink.found_a),
        selectinload(FoundLink.found_b),
        selectinload(FoundLink.latest_decision),
    )
    query = _filtered(query, found_id=found_id, status=status, include_closed=include_closed)
    query = query.order_by(FoundLink.score.desc(), FoundLink.id).offset(offset)
    if limit is not None:
        query = query.limit(limit)
    return list(session.scalars(query))


def count_links(
    session: Session,
    *,
    found_id: int | None = None,
    status: LinkStatus | None = None,
    include_closed: bool = False,
) -> int:
    """How many links :func:`list_links` would list without a page."""
    query = _filtered(select(func.count()).select_from(FoundLink), found_id=found_id,
                      status=status, include_closed=include_closed)  # fmt: skip
    return int(session.scalar(query) or 0)


def get_link(session: Session, link_id: int) -> FoundLink:
    """One link with both people and its decisions."""
    row = session.scalar(
        select(FoundLink)
        .where(FoundLink.id == link_id)
        .options(
            selectinload(FoundLink.found_a),
            selectinload(FoundLink.found_b),
            selectinload(FoundLink.decisions),
            selectinload(FoundLink.latest_decision),
        )
    )
    if row is None:
        raise RecordNotFoundError("found link", link_id)
    return row


def _already_decided(
    session: Session, link_id: int, seen_decision_id: int | None
) -> DecisionConflictError:
    query = (
        select(
            FoundLinkDecision.id, FoundLinkDecision.reviewer, FoundLinkDecision.status,
            FoundLinkDecision.decided_at,
        )
        .join(FoundLink, FoundLink.latest_decision_id == FoundLinkDecision.id)
        .where(FoundLink.id == link_id)
    )  # fmt: skip
    row = session.execute(query).one_or_none()
    if row is None:
        return DecisionConflictError(
            f"关联 {link_id} 没有判定 {seen_decision_id}，请重新载入 "
            f"(link {link_id} has no decision {seen_decision_id}: reload it)"
        )
    return LinkAlreadyDecidedError(link_id, LatestDecision(*row), seen_decision_id)


def record_link_decision(
    session: Session,
    link_id: int,
    *,
    reviewer: str,
    status: LinkStatus,
    reason: str | None,
    seen: tuple[str, str] | None = None,
    seen_decision_id: int | None = None,
    override: bool = False,
) -> FoundLinkDecision:
    """Record a reviewer's verdict and make its status the link's.

    The rules are those of ``reviewer_decisions.record_decision``: ``seen`` is the two
    found persons' refs the reviewer decided on (in either order); ``seen_decision_id``
    the link's latest decision as seen (None: undecided); a decided link takes a new
    decision only as an ``override`` of the one seen, with a reason, else
    ``LinkAlreadyDecidedError``. A link whose two people are both identified or closed
    takes no decision.
    """
    link = get_link(session, link_id)
    if seen is not None and sorted(seen) != sorted((link.found_a.ref, link.found_b.ref)):
        raise DecisionConflictError(
            f"关联 {link_id} 已不是您看到的那一对，请重新载入 "
            f"(link {link_id} is no longer the pair seen: reload the links)"
        )
    if not (link.found_a.status.is_open or link.found_b.status.is_open):
        raise DecisionConflictError(
            f"关联 {link_id} 的两人都已结案 (both cases of link {link_id} are closed)"
        )
    if override and seen_decision_id is None:
        raise InvalidRecordError(
            "覆盖判定须写明所覆盖的判定 (an override names the decision it overrides)",
            field="seen_decision_id",
        )
    if override and not (reason and reason.strip()):
        raise InvalidRecordError("覆盖判定须说明理由 (an override says why)", field="reason")
    if seen_decision_id is not None and not override:
        raise _already_decided(session, link_id, seen_decision_id)
    expected = (
        FoundLink.latest_decision_id.is_(None)
        if seen_decision_id is None
        else FoundLink.latest_decision_id == seen_decision_id
    )
    claimed = cast(
        "CursorResult[Any]",
        session.execute(
            update(FoundLink)
            .where(FoundLink.id == link_id, expected)
            .values(status=status, updated_at=utcnow())
            .execution_options(synchronize_session=False)
        ),
    )
    if claimed.rowcount != 1:
        raise _already_decided(session, link_id, seen_decision_id)
    decision = FoundLinkDecision(
        link_id=link_id, reviewer=reviewer, status=status, reason=reason,
        overrides_id=seen_decision_id,
    )  # fmt: skip
    session.add(decision)
    session.flush()
    session.execute(
        update(FoundLink)
        .where(FoundLink.id == link_id)
        .values(latest_decision_id=decision.id)
        .execution_options(synchronize_session=False)
    )
    session.expire(
        link, ["status", "updated_at", "latest_decision_id", "latest_decision", "decisions"]
    )
    return decision
