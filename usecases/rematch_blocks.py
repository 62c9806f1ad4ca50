"""Scoring a re-match's blocks: each found person of a block against the reports its
blocking chooses, keeping the pairs at or above the cut-off.

A block's work reads only what the run built before it started (views, blocking, the
face neighbours, the scorer), never the store or the face index, so blocks run in worker
processes as well as here. Locally they run in forked processes, one per core: the
children share the parent's memory until they write, and return only their pairs.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np
from numpy.typing import NDArray

from matching.views import FoundView, MissingView
from usecases.blocking import ReportBlocking, best_per_person
from usecases.rematch_plan import CHANGED_FOUND, Block


class WeightScorer(Protocol):
    """What scoring a block needs of a scorer: the pair's total weight."""

    def total_weight(self, missing: MissingView, found: FoundView) -> float:
        """Prior plus evidence, in log2 odds."""
        ...


BlockWeights = Callable[[NDArray[np.int64], NDArray[np.int64]], NDArray[np.float64]]
"""The total weights of pairs given as (report positions, found positions)."""

BlockGuesses = Callable[
    [NDArray[np.int64], NDArray[np.int64], NDArray[np.int8]], NDArray[np.float64]
]
"""A cheap guess at the total weights of pairs given as (report positions, found
positions, tier of shared name keys), to choose which to weigh whole
(:func:`~usecases.blocking.name_guess`)."""


def pair_by_pair(
    scorer: WeightScorer, missing: Sequence[MissingView], found: Sequence[FoundView]
) -> BlockWeights:
    """Block weights from a scorer that weighs one pair at a time."""

    def weights(i: NDArray[np.int64], j: NDArray[np.int64]) -> NDArray[np.float64]:
        return np.fromiter(
            (scorer.total_weight(missing[a], found[b]) for a, b in zip(i.tolist(), j.tolist(),
                                                                        strict=True)),
            dtype=np.float64,
            count=len(i),
        )  # fmt: skip

    return weights


@dataclass(frozen=True, eq=False)
class Bound:
    """How each found person's pairs are bounded: only the ``per_person`` best guessed
    (:func:`~usecases.blocking.best_per_person`) are weighed whole, besides their face
    neighbours. ``weakest`` holds, by found position, the weakest guess each person kept
    when last chosen among every report (NaN: not bounded then, or never chosen)."""

    per_person: int
    guesses: BlockGuesses
    weakest: NDArray[np.float64]


@dataclass(frozen=True, eq=False)
class BlockResult:
    """A scored block: its pairs at or above the cut-off (positions and weights), and how
    many pairs it scored in all."""

    number: int
    missing: NDArray[np.int64]
    found: NDArray[np.int64]
    weights: NDArray[np.float64]
    scored: int
    bounded: NDArray[np.int64] = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    """Found persons (positions) chosen among every report here, whose bounds to store."""
    bounds: NDArray[np.float64] = field(default_factory=lambda: np.zeros(0))
    """Each of ``bounded``'s weakest guess kept (NaN: not bounded, every report kept)."""
    guessed: int = 0
    """Pairs guessed at to choose the ``scored`` (0: no bound, none guessed)."""


class BlockWork:
    """Everything a block needs, built once per run.

    ``everything`` blocks against every report, ``changed`` against the changed reports
    only (each None when no block needs it); ``face_keys`` are the face-neighbour pairs of every
    found person (as :func:`~usecases.blocking.pair_keys`), searched once before the
    blocks run, and ``changed_rows`` marks the changed reports among them. With a
    ``bound``, a block of changed found persons weighs each against the reports it
    guesses best among all (and sets the person's bound); a block of changed reports
    weighs a report against a person when its guess reaches the person's stored bound:
    every pair a run over everything would choose, and the old ones new reports push out
    (they stay until the next full run; a person weighed against a report since closed,
    edited or erased is chosen for again by the job). Face neighbours are always weighed.
    """

    def __init__(
        self,
        *,
        n_missing: int,
        found: Sequence[FoundView],
        blocks: Sequence[Block],
        everything: ReportBlocking | None,
        changed: ReportBlocking | None,
        changed_rows: NDArray[np.bool_],
        face_keys: NDArray[np.int64],
        weights: BlockWeights,
        cutoff: float,
        bound: Bound | None = None,
    ) -> None:
        self._n = n_missing
        self._found = found
        self._blocks = {block.number: block for block in blocks}
        self._everything, self._changed = everything, changed
        self._changed_rows = changed_rows
        self._face_keys = face_keys
        self._weights = weights
        self._cutoff = cutoff
        self._bound = bound

    def keys(self, block: Block) -> NDArray[np.int64]:
        """The block's pairs, as sorted keys."""
        return self._chosen(block)[0]

    def _chosen(
        self, block: Block
    ) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.float64], int]:
        """The block's pairs as sorted keys, with the found persons whose bounds were
        set here and those bounds, and how many pairs were guessed at."""
        people = [self._found[j] for j in block.found.tolist()]
        faces = self._face_keys[np.isin(self._face_keys // self._n, block.found)]
        blocking = self._everything if block.part == CHANGED_FOUND else self._changed
        if blocking is None:
            raise ValueError(f"a block of {block.part}, but no blocking for them")
        if block.part != CHANGED_FOUND:
            faces = faces[self._changed_rows[faces % self._n]]
        nothing = np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float64)
        if self._bound is None:
            return np.union1d(blocking.keys(people, block.found), faces), *nothing, 0
        keys, tiers = blocking.tiered_keys(people, block.found, bounded=True)
        j, i = np.divmod(keys, self._n)
        guesses = self._bound.guesses(i, j, tiers) if len(keys) else np.zeros(0)
        if block.part == CHANGED_FOUND:
            kept, bounds = best_per_person(j, i, guesses, self._bound.per_person, block.found)
            return np.union1d(keys[kept], faces), block.found, bounds, len(keys)
        # New reports join a person's pairs when their guess reaches the weakest the
        # person kept among every report (NaN: none was left out, so every one joins).
        weakest = self._bound.weakest[j]
        weakest = np.where(np.isnan(weakest), -np.inf, weakest)
        return np.union1d(keys[~(guesses < weakest)], faces), *nothing, len(keys)

    def __call__(self, number: int) -> BlockResult:
        """Score block ``number``."""
        keys, bounded, bounds, guessed = self._chosen(self._blocks[number])
        j, i = np.divmod(keys, self._n)
        weights = self._weights(i, j) if len(keys) else np.zeros(0, dtype=np.float64)
        kept = weights >= self._cutoff
        return BlockResult(number, i[kept], j[kept], weights[kept], len(keys), bounded, bounds,
                           guessed)  # fmt: skip


_WORK: BlockWork | None = None
"""The run's work, set before the workers fork so that they inherit it."""


def _run_inherited(number: int) -> BlockResult:
    if _WORK is None:
        raise RuntimeError("a re-match worker started without its work")
    return _WORK(number)


def default_workers() -> int:
    """One worker per core this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


def run_blocks(work: BlockWork, numbers: Sequence[int], *, workers: int) -> Iterator[BlockResult]:
    """Score the blocks ``numbers``, yielding each as it is done (in any order).

    More than one worker forks that many processes (where the platform forks; else
    here, one after another).
    """
    global _WORK
    if workers <= 1 or len(numbers) < 2 or "fork" not in multiprocessing.get_all_start_methods():
        for number in numbers:
            yield work(number)
        return
    _WORK = work
    try:
        context = multiprocessing.get_context("fork")
        with context.Pool(min(workers, len(numbers))) as pool:
            yield from pool.imap_unordered(_run_inherited, numbers)
    finally:
        _WORK = None
