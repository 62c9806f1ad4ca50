"""An in-memory inverted index of names, for finding candidates among many records.

Records are filed under their :func:`~matching.names.keys.blocking_keys`; a query looks
up its :func:`~matching.names.keys.probe_keys`, then ranks the few records found with
:func:`~matching.names.compare.compare_names`. It finds every record brute force would
place at NICKNAME_OR_PARTIAL or better.

Memory stays small: no object per key. Each (key, record) posting is two integers, a
64-bit hash of the key and a record number, kept in sorted numpy arrays and looked up
by binary search; new postings wait in a small append buffer that is merged in batches.
Removal leaves a tombstone; everything is rebuilt when tombstones outnumber records.
"""

from __future__ import annotations

from array import array
from collections.abc import Collection, Hashable, Iterable
from typing import Generic, NamedTuple, TypeVar

import numpy as np
import numpy.typing as npt

from matching.names.compare import NameComparison, compare_names
from matching.names.forms import usable_names
from matching.names.keys import blocking_keys, probe_keys
from matching.names.levels import NameLevel
from matching.names.regions import resolve_regions

K = TypeVar("K", bound=Hashable)

# Key kinds (see keys.py) in the order a query opens them: whole-name matches, then
# partial names, then single syllables and 小名 cores, which touch the most records.
_TIERS = (
    frozenset({"x", "p", "e", "ll", "lh", "t"}),
    frozenset({"q", "d"}),
    frozenset({"g", "n", "b"}),
)

_MERGE_AT = 1 << 16
"""Postings buffered before they are merged into the sorted arrays."""


class NameHit(NamedTuple, Generic[K]):
    """One record found by a query, with how its names compare."""

    record_id: K
    comparison: NameComparison


def _hash(key: str) -> int:
    # Python's string hash: 64-bit, fast, and stable for the life of the process, which
    # is all an in-memory index needs. A collision only adds a candidate to compare.
    return hash(key)


class NameIndex(Generic[K]):
    """Records' names filed by sound, for candidate generation.

    >>> index: NameIndex[str] = NameIndex()
    >>> index.add("r1", ["刘建华"])
    >>> [hit.record_id for hit in index.query(["牛建华"], regions=["四川"])]
    ['r1']
    """

    def __init__(self) -> None:
        self._reset()

    def _reset(self) -> None:
        self._ids: list[K | None] = []
        self._names: list[tuple[str, ...] | None] = []
        self._slot: dict[K, int] = {}
        self._dead = 0
        self._keys: npt.NDArray[np.int64] = np.empty(0, dtype=np.int64)
        self._slots: npt.NDArray[np.int32] = np.empty(0, dtype=np.int32)
        self._new_keys: array[int] = array("q")
        self._new_slots: array[int] = array("i")

    def __len__(self) -> int:
        return len(self._slot)

    def __contains__(self, record_id: object) -> bool:
        return record_id in self._slot

    @property
    def postings(self) -> int:
        """How many (key, record) postings are held, tombstones included."""
        return len(self._keys) + len(self._new_keys)

    def add(self, record_id: K, names: Iterable[str | None]) -> None:
        """File a record's names; a record already present is replaced."""
        kept = tuple(usable_names(names))
        if record_id in self._slot:
            self.remove(record_id)
        slot = len(self._ids)
        self._ids.append(record_id)
        self._names.append(kept)
        self._slot[record_id] = slot
        self._file(slot, kept)

    def remove(self, record_id: K) -> None:
        """Forget a record; KeyError if it is not in the index."""
        slot = self._slot.pop(record_id)
        self._ids[slot] = None
        self._names[slot] = None
        self._dead += 1
        if self._dead > max(1024, len(self._slot)):
            self._rebuild()

    def candidates(self, names: Iterable[str | None]) -> list[K]:
        """Records sharing a key with ``names``, unranked and not yet compared.

        For a caller that scores candidates on more than names; it holds every record
        :meth:`query` would return, and usually a few more.
        """
        slots = sorted(self._candidates(usable_names(names)))
        return [rid for rid in (self._ids[slot] for slot in slots) if rid is not None]

    def query(
        self,
        names: Iterable[str | None],
        *,
        regions: Collection[str] = (),
        limit: int = 20,
        max_level: NameLevel = NameLevel.NICKNAME_OR_PARTIAL,
    ) -> list[NameHit[K]]:
        """Records whose names match ``names`` at ``max_level`` or better, best first.

        ``regions`` are the speaker's regions, as for :func:`compare_names`. Ties keep
        the order in which records were added. Keys are looked up in tiers: whole-name
        keys (same name, same sound, dialect, near sound) first, then partial-name keys,
        then single-syllable and 小名 keys; a tier is only opened while fewer than
        ``limit`` hits are in hand, since no hit of a later tier can rank above one of an
        earlier tier. With a ``limit`` above the number of matches every record at
        NICKNAME_OR_PARTIAL or better is found.
        """
        if limit < 1:
            raise ValueError(f"limit must be at least 1, got {limit}")
        resolve_regions(regions)  # refuse an unknown region even when nothing is found
        query = usable_names(names)
        if len(self._new_keys) > _MERGE_AT:
            self._merge()  # keep lookups a binary search, not a scan of a large buffer
        hits: list[tuple[NameLevel, int, NameComparison]] = []
        seen: set[int] = set()
        keys = probe_keys(query)
        for tier in _TIERS:
            tier_keys = {k for k in keys if k.split(":", 1)[0].rstrip("0123456789") in tier}
            for slot in sorted(self._candidates_for(tier_keys) - seen):
                seen.add(slot)
                record_names = self._names[slot]
                if record_names is None:
                    continue
                comparison = compare_names(query, record_names, speaker_regions=regions)
                if comparison.level is not NameLevel.NULL and comparison.level <= max_level:
                    hits.append((comparison.level, slot, comparison))
            if len(hits) >= limit:
                break
        hits.sort(key=lambda hit: (hit[0], hit[1]))
        out: list[NameHit[K]] = []
        for _level, slot, comparison in hits[:limit]:
            record_id = self._ids[slot]
            if record_id is not None:
                out.append(NameHit(record_id, comparison))
        return out

    def _candidates(self, names: list[str]) -> set[int]:
        return self._candidates_for(probe_keys(names))

    def _candidates_for(self, keys: set[str]) -> set[int]:
        wanted = np.array(sorted({_hash(k) for k in keys}), dtype=np.int64)
        found: set[int] = set()
        if len(wanted) == 0:
            return found
        left = np.searchsorted(self._keys, wanted, side="left")
        right = np.searchsorted(self._keys, wanted, side="right")
        for lo, hi in zip(left.tolist(), right.tolist(), strict=True):
            if hi > lo:
                found.update(self._slots[lo:hi].tolist())
        if len(self._new_keys):
            pending = np.frombuffer(self._new_keys, dtype=np.int64)
            match = np.isin(pending, wanted)
            found.update(np.frombuffer(self._new_slots, dtype=np.int32)[match].tolist())
        return found

    def _file(self, slot: int, names: tuple[str, ...]) -> None:
        for key in blocking_keys(names):
            self._new_keys.append(_hash(key))
            self._new_slots.append(slot)
        # Merge when the buffer reaches a share of what is merged already: each posting is
        # then sorted a bounded number of times, not once per buffer (quadratic at 1M).
        if len(self._new_keys) >= max(_MERGE_AT, len(self._keys) // 4):
            self._merge()

    def _merge(self) -> None:
        keys = np.concatenate((self._keys, np.frombuffer(self._new_keys, dtype=np.int64)))
        slots = np.concatenate((self._slots, np.frombuffer(self._new_slots, dtype=np.int32)))
        order = np.argsort(keys, kind="stable")
        self._keys, self._slots = keys[order], slots[order]
        self._new_keys, self._new_slots = array("q"), array("i")

    def _rebuild(self) -> None:
        """Drop tombstones: renumber live records and file them again."""
        live = list(zip(self._ids, self._names, strict=True))
        self._reset()
        for record_id, names in live:
            if record_id is not None and names is not None:
                self.add(record_id, names)
