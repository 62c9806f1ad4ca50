"""Re-matching found persons against each other, and the groups reviewers have joined.

The same person passes through several stations, or one station years apart, under
names heard differently and ages estimated anew. This job weighs pairs of found persons
(:class:`matching.found_pairs.FoundPairScorer`: the evidence model, the earlier stay as
the report) and keeps, for every person still to be identified, the best
``keep_per_record`` undecided links. A pair is weighed when at least one of the two is
still to be identified: someone in care who was identified before, at another station,
is exactly who to find.

Which pairs: every pair in a small store; in a larger one, those whose names match at
the 小名/partial level or better (the names index, each side's accent and stated
hometown as the speaker's regions), whose faces are neighbours in the found persons'
face index, or that share sex, a fitting birth year and a province
(:func:`usecases.blocking.attribute_pairs`, the earlier-stay views standing for the
reports).

As with candidates, a decided link (one with any decision, even one set back to pending)
is never overwritten by anything but a new score and takes no place among the best; a
pending link the job no longer keeps is removed, never one with a decision. The links'
probabilities are the evidence model's reading of their evidence: neither recalibrated
for found pairs nor shared between rivals (one person may have passed through three
stations, so a link has no rivals to share with).

:func:`linked_found_groups` gives the groups of found persons confirmed links join, for
matching one person's pooled stays against reports (``matching.pooling``).
"""

from __future__ import annotations

import heapq
import logging
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Final

from sqlalchemy.exc import IntegrityError

from matching.evidence_model import EvidenceModel
from matching.found_pairs import FoundPairScorer, as_earlier_stay
from matching.names import NameIndex
from matching.pooling import linked_groups
from matching.views import FoundView, found_view
from records import Database, FoundLink, LinkStatus, Side
from records.storage.person_records import Change, all_found, record_ids
from records.storage.same_person_links import (
    all_links,
    confirmed_pairs,
    decided_links,
    delete_stale_links,
    upsert_link,
)
from usecases.auditing import audit_once
from usecases.blocking import attribute_pairs, speaker_regions
from usecases.face_registry import FaceIndexes
from usecases.services import Services

logger = logging.getLogger(__name__)

Progress = Callable[[int, int], None]

NAME_HITS: Final = 1_000_000
"""Hits a name query may return (all of them, in practice)."""


@dataclass(frozen=True)
class FoundLinkSettings:
    """How many links to keep and how pairs are chosen.

    ``min_evidence_weight`` is relative to the prior, as for candidates: pairs whose
    evidence together is below it are never links.
    """

    keep_per_record: int = 20
    min_evidence_weight: float = -2.0
    face_neighbours: int = 50
    all_pairs_limit: int = 2_000_000


@dataclass(frozen=True)
class FoundLinkReport:
    """What a re-match of found persons did."""

    found_persons: int
    open_persons: int
    pairs_scored: int
    blocked: bool
    kept: int
    created: int
    updated: int
    unchanged: int
    removed: int
    seconds: float
    model_version: str


def _all_pairs(n: int, open_: Sequence[bool]) -> Iterator[tuple[int, int]]:
    for j in range(n):
        for i in range(j):
            if open_[i] or open_[j]:
                yield i, j


def _name_pairs(views: Sequence[FoundView], open_: Sequence[bool]) -> set[tuple[int, int]]:
    index: NameIndex[int] = NameIndex()
    for i, view in enumerate(views):
        if view.names:
            index.add(i, view.names)
    pairs: set[tuple[int, int]] = set()
    for j, view in enumerate(views):
        if open_[j] and view.names:
            for hit in index.query(view.names, regions=speaker_regions(view), limit=NAME_HITS):
                pairs.add((hit.record_id, j))
    return pairs


def _face_pairs(
    views: Sequence[FoundView],
    open_: Sequence[bool],
    face_indexes: FaceIndexes,
    *,
    model: str,
    neighbours: int,
) -> set[tuple[int, int]]:
    """Pairs whose faces are near in the found persons' index (it holds open cases'
    faces only: a closed case is reached through names and attributes)."""
    position = {view.id: i for i, view in enumerate(views)}
    pairs: set[tuple[int, int]] = set()
    for j, view in enumerate(views):
        if not open_[j] or not view.faces:
            continue
        rows = face_indexes.search_persons(Side.FOUND, view.embeddings, neighbours + 1,
                                           model=model)  # fmt: skip
        for row in rows:
            for neighbour in row:
                i = position.get(neighbour.person)
                if i is not None:
                    pairs.add((i, j))
    return pairs


def pairs_to_score(
    views: Sequence[FoundView],
    open_: Sequence[bool],
    *,
    face_indexes: FaceIndexes | None,
    face_model: str | None,
    settings: FoundLinkSettings,
) -> tuple[Iterable[tuple[int, int]], int, bool]:
    """The pairs (positions, smaller first) worth weighing, how many, and whether they
    were chosen by blocking rather than all taken."""
    n = len(views)
    n_open = sum(open_)
    every = n_open * (n_open - 1) // 2 + n_open * (n - n_open)
    if every <= settings.all_pairs_limit:
        return _all_pairs(n, open_), every, False
    chosen = _name_pairs(views, open_)
    if face_indexes is not None and face_model is not None:
        chosen |= _face_pairs(views, open_, face_indexes, model=face_model,
                              neighbours=settings.face_neighbours)  # fmt: skip
    stays = [as_earlier_stay(view) for view in views]
    chosen |= attribute_pairs(stays, views)
    pairs = sorted({(min(i, j), max(i, j)) for i, j in chosen if i != j and (open_[i] or open_[j])})
    return pairs, len(pairs), True


_Kept = tuple[float, int, int]
"""A link being chosen: total weight and the two positions (smaller first)."""


def _keep(heap: list[_Kept], item: _Kept, size: int) -> None:
    if len(heap) < size:
        heapq.heappush(heap, item)
    elif item > heap[0]:
        heapq.heapreplace(heap, item)


def rematch_found(
    database: Database,
    *,
    face_indexes: FaceIndexes | None,
    face_model: str | None,
    settings: FoundLinkSettings | None = None,
    model: EvidenceModel | None = None,
    progress: Progress | None = None,
) -> FoundLinkReport:
    """Weigh found persons against each other and store each one's best links (see the
    module's docstring). ``model`` defaults to the shipped evidence model."""
    settings = settings or FoundLinkSettings()
    scorer = FoundPairScorer(model)
    cutoff = scorer.prior_weight + settings.min_evidence_weight
    started = time.perf_counter()
    with database.session() as session:
        people = all_found(session, include_closed=True)
        views = [found_view(person) for person in people]
        open_ = [person.status.is_open for person in people]
        decided = decided_links(session)
    pairs, total, blocked = pairs_to_score(views, open_, face_indexes=face_indexes,
                                           face_model=face_model, settings=settings)  # fmt: skip
    best: dict[int, list[_Kept]] = {}
    decided_kept: set[tuple[int, int]] = set()
    for done, (i, j) in enumerate(pairs, start=1):
        weight = scorer.total_weight(views[i], views[j])
        if weight >= cutoff:
            if (views[i].id, views[j].id) in decided:
                decided_kept.add((i, j))
            else:
                for k in (i, j):
                    if open_[k]:
                        _keep(best.setdefault(k, []), (weight, i, j), settings.keep_per_record)
        if progress is not None and (done % 5000 == 0 or done == total):
            progress(done, total)
    kept = {(i, j) for heap in best.values() for _, i, j in heap} | decided_kept

    def store() -> tuple[dict[Change, int], int]:
        counts = dict.fromkeys(Change, 0)
        with database.session() as session:
            existing = all_links(session)
            alive = record_ids(session)[Side.FOUND]
            wanted: set[tuple[int, int]] = set()
            for i, j in sorted(kept):
                a, b = views[i], views[j]
                if a.id not in alive or b.id not in alive:
                    continue  # erased while the job weighed
                result = scorer.score(a, b)
                earlier, _ = scorer.views(a, b)
                evidence = {**result.to_json(), FoundLink.EARLIER_KEY: earlier.id}
                link, change = upsert_link(
                    session, found_ids=(a.id, b.id), score=round(result.calibrated_weight, 6),
                    probability=result.probability, evidence=evidence,
                    model_version=scorer.version, existing=existing,
                )  # fmt: skip
                wanted.add((link.found_a_id, link.found_b_id))
                counts[change] += 1
            stale = [
                row.id
                for key, row in existing.items()
                if key not in wanted and row.status is LinkStatus.PENDING and row.id is not None
            ]
            removed = delete_stale_links(session, stale)
        return counts, removed

    try:
        counts, removed = store()
    except IntegrityError:
        logger.warning("found links: a record went while storing; storing again")
        counts, removed = store()
    scorer.clear_cache()
    report = FoundLinkReport(
        found_persons=len(views), open_persons=sum(open_), pairs_scored=total,
        blocked=blocked, kept=len(kept), created=counts[Change.CREATED],
        updated=counts[Change.UPDATED], unchanged=counts[Change.UNCHANGED], removed=removed,
        seconds=round(time.perf_counter() - started, 3), model_version=scorer.version,
    )  # fmt: skip
    logger.info("found links: %s", report)
    return report


def rematch_found_links(
    services: Services,
    *,
    actor: str,
    settings: FoundLinkSettings | None = None,
    progress: Progress | None = None,
) -> FoundLinkReport:
    """Re-match found persons against each other with the service's model, face index
    and settings; audited once, with counts."""
    settings = settings or FoundLinkSettings(keep_per_record=services.settings.keep_per_record)
    report = rematch_found(
        services.database, face_indexes=services.face_indexes,
        face_model=services.face_model.name, settings=settings,
        model=services.evidence_model, progress=progress,
    )  # fmt: skip
    audit_once(services.database, actor=actor, action="rematch_found", subject_kind="job",
               detail={"found_persons": report.found_persons,
                       "pairs_scored": report.pairs_scored, "kept": report.kept,
                       "created": report.created, "removed": report.removed})  # fmt: skip
    return report


def linked_found_groups(database: Database) -> list[tuple[int, ...]]:
    """The groups of found-person ids that confirmed links join (each sorted, smallest
    first; a person with no confirmed link is in none), open and closed cases alike:
    the re-match of reports pools each group's stays (``matching.pooling.pooled_view``)."""
    with database.session() as session:
        return linked_groups(confirmed_pairs(session))
