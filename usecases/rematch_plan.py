"""What a re-match run has to score: which records are new or changed, and its blocks.

A record's digest covers everything the matcher reads of it (the view's fields and its
faces by id), so a record whose photo was added is changed and one whose status note
was edited is not. A run scores the pairs that involve a changed record, both ways: the
changed found persons against every report, and the other found persons against the
changed reports. Work is cut into blocks of found persons, numbered the same way on
every start of the same run, so a run taken up again skips the blocks it did.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, fields

import numpy as np
from numpy.typing import NDArray

from matching.views import FoundView, MissingView, PersonView


def record_digest(view: PersonView) -> str:
    """A digest of everything the matcher reads of a record (faces by id, photo age and
    whether poor, never their embeddings, which a face id fixes)."""
    parts = []
    for field in fields(view):
        value = getattr(view, field.name)
        if field.name == "faces":
            value = tuple((f.face_id, f.taken_year, f.age_at_photo, f.poor) for f in view.faces)
        parts.append(f"{field.name}={value!r}")
    return hashlib.blake2b("\x1f".join(parts).encode(), digest_size=16).hexdigest()


def changed_positions(
    views: Sequence[MissingView] | Sequence[FoundView], stored: dict[int, str]
) -> tuple[NDArray[np.int64], list[tuple[int, str]]]:
    """The positions of the records whose digest is not the stored one (new or changed),
    with (id, digest) of each, to store once they are scored."""
    positions: list[int] = []
    digests: list[tuple[int, str]] = []
    for position, view in enumerate(views):
        digest = record_digest(view)
        if stored.get(view.id) != digest:
            positions.append(position)
            digests.append((view.id, digest))
    return np.asarray(positions, dtype=np.int64), digests


@dataclass(frozen=True)
class Block:
    """One block of work: found persons (positions) against the reports of ``part``
    ("changed found": every report; "changed reports": the changed reports only)."""

    number: int
    part: str
    found: NDArray[np.int64]


CHANGED_FOUND = "changed found"
CHANGED_REPORTS = "changed reports"


def plan_blocks(
    n_found: int,
    changed_found: NDArray[np.int64],
    changed_missing: NDArray[np.int64],
    *,
    block_size: int,
) -> list[Block]:
    """The run's blocks: the changed found persons against every report, then (when
    reports changed) the other found persons against the changed reports; at most
    ``block_size`` found persons a block."""
    if block_size < 1:
        raise ValueError(f"a block holds at least one found person, got {block_size}")
    parts = [(CHANGED_FOUND, changed_found)]
    if len(changed_missing):
        parts.append((CHANGED_REPORTS,
                      np.setdiff1d(np.arange(n_found, dtype=np.int64), changed_found)))  # fmt: skip
    blocks: list[Block] = []
    for part, people in parts:
        # At least MIN_BLOCKS blocks a part, so every worker has work to the end: the
        # size follows from the run's records alone, so a run taken up cuts the same.
        size = min(block_size, max(1, -(-len(people) // MIN_BLOCKS)))
        for start in range(0, len(people), size):
            blocks.append(Block(len(blocks), part, people[start : start + size]))
    return blocks


MIN_BLOCKS = 32
"""Blocks a part of a run is cut into at least (when it has that many found persons)."""
