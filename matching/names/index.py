"""An in-memory inverted index of names, for finding candidates among many records.

Records are filed under their :func:`~matching.names.keys.blocking_keys`; a query looks
up its :func:`~matching.names.keys.probe_keys`, then ranks the few records found with
:func:`~matching.names.compare.compare_names`. It finds every record brute force would
place at NICKNAME_OR_PARTIAL or better, and, asked for SURNAME_ONLY, every namesake of
a query that can only be a surname (:func:`~matching.names.keys.surname_keys`).

Memory stays small: no object per key. Each (key, record) posting is two integers, a
64-bit hash of the key and a record number, kept in sorted numpy arrays and looked up
by binary search; new postings wait in a small append buffer that is merged in batches.
Removal leaves a tombstone; everything is rebuilt when tombstones outnumber records.
"""

from __future__ import annotations

import hashlib
from array import array
from collections.abc import Callable, Collection, Hashable, Iterable, Sequence
from typing import Any, Generic, NamedTuple, TypeVar

import numpy as np
import numpy.typing as npt

from matching.names.compare import NameComparison, compare_names
from matching.names.dialects import rules_for_regions
from matching.names.forms import name_forms, usable_names
from matching.names.keys import blocking_keys, probe_keys, sound_stage_keys, surname_keys
from matching.names.levels import NameLevel
from matching.names.regions import resolve_regions

K = TypeVar("K", bound=Hashable)
Prior = Callable[[Sequence[K]], Sequence[float] | npt.NDArray[np.float64]]
"""A caller's score of records on other evidence than names (higher: tried first)."""

# Key kinds (see keys.py) in the order a query opens them: the same name, the same sound,
# other whole-name matches (dialect, near sound), then partial names, then single
# syllables and 小名 cores, which touch the most records.
_TIERS = (
    frozenset({"x"}),
    frozenset({"s"}),
    frozenset({"p", "e", "ll", "lh", "t"}),
    frozenset({"q", "d"}),
    frozenset({"g", "n", "b"}),
    frozenset({"w"}),
    frozenset({"f"}),
)
_TIER_LEVEL = {
    0: NameLevel.EXACT,
    1: NameLevel.SAME_SOUND,
    2: NameLevel.NEAR_SOUND,
    3: NameLevel.NICKNAME_OR_PARTIAL,
    4: NameLevel.NICKNAME_OR_PARTIAL,
    5: NameLevel.SURNAME_ONLY,
    6: NameLevel.SURNAME_ONLY,
}
"""The level nearly every new hit of a tier has, at worst: EXACT (the folded name is the
key), SAME_SOUND (a full reading of every syllable is the key, the exact names were found
before), NEAR_SOUND (the sound tier, compared in stages: see ``NameIndex.query``),
NICKNAME_OR_PARTIAL (the partial tiers: whole-name matches were found before),
SURNAME_ONLY (the surname tiers, the surname as written then as heard, opened only when a
query asks for that level). A tier is
compared only until ``limit`` hits at that level or better are in hand; the few that
compare otherwise (三仔 / 三崽 are birth-order 小名 before they are sounds; a surname-only
alias) are kept but do not count towards the limit."""
_SOUND_TIER = 2
_PROBED_TIERS = 5
"""The tiers :func:`~matching.names.keys.probe_keys` fills (the rest are surname keys)."""

_COMPARE_BUDGET = 1500
"""Most records a whole-name tier compares (or four times the limit, if more): at a
million records the dialect classes of a common two-syllable name (雨月: yu/yi, yue/ye)
reach thousands, each costing tens of microseconds to compare."""

_COUNT_BY_SLOT_ABOVE = 1 << 15
"""Postings found above which shared keys are counted with one counter per slot (a pass
over every slot) rather than by sorting them: a lone 明 finds ninety thousand."""

_MERGE_AT = 1 << 16
"""Postings buffered before they are merged into the sorted arrays."""


class NameHit(NamedTuple, Generic[K]):
    """One record found by a query, with how its names compare."""

    record_id: K
    comparison: NameComparison


def _hash(key: str) -> int:
    # 64 bits of BLAKE2b: the same in every process, so an index sent to another one (the
    # re-match's blocks on Ray's workers) finds there what it finds here. Python's own
    # string hash is seeded anew in each process. A collision only adds a candidate to
    # compare.
    digest = hashlib.blake2b(key.encode(), digest_size=8).digest()
    return int.from_bytes(digest, "little", signed=True)


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
        self._alive = bytearray()  # 1 per slot while its record is in the index
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
        self._alive.append(1)
        self._names.append(kept)
        self._slot[record_id] = slot
        self._file(slot, kept)

    def remove(self, record_id: K) -> None:
        """Forget a record; KeyError if it is not in the index."""
        slot = self._slot.pop(record_id)
        self._ids[slot] = None
        self._alive[slot] = 0
        self._names[slot] = None
        self._dead += 1
        if self._dead > max(1024, len(self._slot)):
            self._rebuild()

    def name_count(self, name: str) -> int:
        """How many records are filed under exactly this name (after folding), removed
        ones included until the next rebuild: the term frequency of a name."""
        forms = name_forms(name)
        if not forms:
            return 0
        key = np.int64(_hash("x:" + forms[0].key))
        found = int(
            np.searchsorted(self._keys, key, side="right")
            - np.searchsorted(self._keys, key, side="left")
        )
        if len(self._new_keys):
            found += int(np.count_nonzero(np.frombuffer(self._new_keys, dtype=np.int64) == key))
        return found

    def candidates(self, names: Iterable[str | None]) -> list[K]:
        """Records sharing a key with ``names``, unranked and not yet compared.

        For a caller that scores candidates on more than names; it holds every record
        :meth:`query` would return at NICKNAME_OR_PARTIAL or better, and usually a few
        more (not a surname's namesakes).
        """
        slots = sorted(self._candidates(usable_names(names)))
        return [rid for rid in (self._ids[slot] for slot in slots) if rid is not None]

    def candidate_tiers(
        self, names: Iterable[str | None]
    ) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int8]]:
        """The slots of the records :meth:`candidates` finds (sorted), each with the first
        tier of keys it shares with ``names``: 0 the same name, 1 the same sound, 2 a
        whole-name dialect or near sound, 3 a partial name, 4 a single syllable or 小名
        core. A cheap guess at how the names will compare, for a caller that must choose
        among many candidates before comparing any; :meth:`slot_ids` names the records."""
        query = usable_names(names)
        keys = probe_keys(query)
        if len(self._new_keys) > _MERGE_AT:
            self._merge()
        slot_parts, tier_parts = [], []
        for tier_no, tier in enumerate(_TIERS[:_PROBED_TIERS]):
            tier_keys = {k for k in keys if k.split(":", 1)[0].rstrip("0123456789") in tier}
            slots = self._counted_candidates(tier_keys)[0]
            slot_parts.append(slots)
            tier_parts.append(np.full(len(slots), tier_no, dtype=np.int8))
        slots, tiers = np.concatenate(slot_parts), np.concatenate(tier_parts)
        live = np.frombuffer(self._alive, dtype=np.bool_)[slots]
        slots, tiers = slots[live], tiers[live]
        order = np.lexsort((tiers, slots))
        slots, tiers = slots[order], tiers[order]
        first = np.ones(len(slots), dtype=np.bool_)
        first[1:] = slots[1:] != slots[:-1]
        return slots[first], tiers[first]

    def slot_ids(self) -> list[K | None]:
        """The record of every slot (None where one was removed), for
        :meth:`candidate_tiers`: a caller holding many records maps slots with an array
        built once rather than a lookup per record found."""
        return list(self._ids)

    def query(
        self,
        names: Iterable[str | None],
        *,
        regions: Collection[str] = (),
        limit: int = 20,
        max_level: NameLevel = NameLevel.NICKNAME_OR_PARTIAL,
        prior: Prior[K] | None = None,
    ) -> list[NameHit[K]]:
        """Records whose names match ``names`` at ``max_level`` or better, best first.

        ``regions`` are the speaker's regions, as for :func:`compare_names`. Keys are
        looked up in tiers: whole-name keys (same name; same sound; dialect and near sound)
        first, then partial-name keys, then single-syllable and 小名 keys, and, when
        ``max_level`` admits SURNAME_ONLY and the query can only be a surname (张, 王某:
        :func:`~matching.names.keys.surname_keys`), that surname as written, then as
        heard (章 for 张); a tier is only opened while fewer than ``limit`` hits are in
        hand, since no hit of a later tier can rank above one of an earlier tier.

        The new hits of the exact tier are EXACT, of the same-sound tier SAME_SOUND and of
        the partial tiers NICKNAME_OR_PARTIAL (with rare exceptions, see ``_TIER_LEVEL``),
        so such a tier is compared only until ``limit`` hits at its level or better are in
        hand: a one-character 小名 core (阿明) can touch a tenth of a million records, and
        comparing them all would take seconds. The sound tier is compared in three stages:
        the records that may match in the speaker's dialect, those that may match in
        another region's, then the rest, each until ``limit`` hits at its level or better
        (DIALECT_SPEAKER, DIALECT_OTHER, NEAR_SOUND) are in hand; for a name whose
        dialect matches the keys cannot pick out (one syllable, Latin letters), it is
        compared whole. Within a stage, records are tried most promising first: by
        ``prior`` (the caller's score of a record on other evidence, such as sex and birth
        year; higher first), then by how many of the query's keys they share. Ties keep
        the order in which records were added. The whole-name tiers and the surname tiers
        compare at most ``max(1500, 4 * limit)`` records. Hits come back by level, then
        in the order compared. With a ``limit`` above the number of matches
        every record at NICKNAME_OR_PARTIAL or better is found.
        """
        if limit < 1:
            raise ValueError(f"limit must be at least 1, got {limit}")
        # Resolved even when nothing is found: an unknown region is refused.
        speaker_rules = rules_for_regions(resolve_regions(regions))
        query = usable_names(names)
        if len(self._new_keys) > _MERGE_AT:
            self._merge()  # keep lookups a binary search, not a scan of a large buffer
        hits: list[tuple[NameLevel, int, NameComparison]] = []
        seen = np.zeros(len(self._ids), dtype=np.bool_)  # slots met in an earlier tier
        keys = probe_keys(query)
        if max_level >= NameLevel.SURNAME_ONLY:
            keys |= surname_keys(query)
        budget = max(_COMPARE_BUDGET, 4 * limit)
        for tier_no, tier in enumerate(_TIERS):
            tier_keys = {k for k in keys if k.split(":", 1)[0].rstrip("0123456789") in tier}
            slots, shared = self._counted_candidates(tier_keys)
            fresh = ~seen[slots]
            slots, shared = slots[fresh], shared[fresh]
            seen[slots] = True
            tier_level = _TIER_LEVEL[tier_no]
            # A tier is compared in stages, each ending once ``limit`` hits at its level
            # or better are in hand (None: compared whole, within the budget).
            stops: list[NameLevel | None] = [tier_level]
            groups: list[npt.NDArray[np.int64]] = []
            crowded = len(slots) > limit - len(hits)
            if tier_no == _SOUND_TIER and crowded:
                # Who may match in the speaker's dialect, then in another region's, then
                # who may only sound near; whole when those cannot be told apart.
                staged = sound_stage_keys(query, speaker_rules)
                if staged is None:
                    stops = [None]
                else:
                    stops = [NameLevel.DIALECT_SPEAKER, NameLevel.DIALECT_OTHER, tier_level]
                    groups = [self._counted_candidates(stage)[0] for stage in staged]
            stages = np.zeros(len(slots), dtype=np.int64)
            if crowded:
                slots, stages = self._promising_first(slots, shared, prior, groups=groups)
            if tier_level is not NameLevel.NICKNAME_OR_PARTIAL:
                slots, stages = slots[:budget], stages[:budget]
            self._compare_in_stages(query, regions, slots, stages, stops, hits, limit, max_level)
            # Surname-only hits met early (王某 for 王) rank below the partial tiers' hits.
            enough = max(tier_level, NameLevel.NICKNAME_OR_PARTIAL)
            if sum(1 for hit in hits if hit[0] <= enough) >= limit:
                break
        # By level, then in the order compared: most promising first.
        hits.sort(key=lambda hit: hit[0])
        out: list[NameHit[K]] = []
        for _level, slot, comparison in hits[:limit]:
            record_id = self._ids[slot]
            if record_id is not None:
                out.append(NameHit(record_id, comparison))
        return out

    def _compare_in_stages(
        self,
        query: list[str],
        regions: Collection[str],
        slots: npt.NDArray[np.int64],
        stages: npt.NDArray[np.int64],
        stops: Sequence[NameLevel | None],
        hits: list[tuple[NameLevel, int, NameComparison]],
        limit: int,
        max_level: NameLevel,
    ) -> None:
        """Compare ``slots`` in order, adding to ``hits``. ``stages`` numbers each slot's
        stage (ascending); stage i ends the tier once ``limit`` hits at ``stops[i]`` or
        better are in hand, since later stages hold no better matches."""
        current, stop, settled = -1, None, 0
        for slot, stage in zip(slots.tolist(), stages.tolist(), strict=True):
            if stage != current:
                current, stop = stage, stops[stage]
                settled = 0 if stop is None else sum(1 for hit in hits if hit[0] <= stop)
                if settled >= limit:
                    return
            record_names = self._names[slot]
            if record_names is None:
                continue
            comparison = compare_names(query, record_names, speaker_regions=regions)
            level = comparison.level
            if level is not NameLevel.NULL and level <= max_level:
                hits.append((level, slot, comparison))
                if stop is not None and level <= stop:
                    settled += 1
                    if settled >= limit:
                        return

    def _promising_first(
        self,
        slots: npt.NDArray[np.int64],
        shared: npt.NDArray[np.int64],
        prior: Prior[K] | None,
        *,
        groups: Sequence[npt.NDArray[np.int64]] = (),
    ) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
        """Live ``slots`` reordered: those in the first of ``groups`` (sorted arrays of
        slots), then in the next..., then the rest; within each, highest prior, then most
        shared keys, then oldest. With each slot's group number (``len(groups)``: none)."""
        live = np.frombuffer(self._alive, dtype=np.bool_)[slots]
        slots, shared = slots[live], shared[live]
        keys: list[npt.NDArray[Any]] = [slots, -shared]
        if prior is not None:
            ids = [rid for rid in (self._ids[s] for s in slots.tolist()) if rid is not None]
            scores = np.asarray(prior(ids), dtype=np.float64)
            if scores.shape != slots.shape:
                raise ValueError(f"prior gave {scores.shape} scores for {slots.shape} records")
            keys.append(-scores)
        rank = np.full(len(slots), len(groups), dtype=np.int64)
        for number, group in reversed(list(enumerate(groups))):
            rank[np.isin(slots, group, assume_unique=True)] = number
        keys.append(rank)
        order = np.lexsort(keys)
        return slots[order], rank[order]

    def _candidates(self, names: list[str]) -> set[int]:
        return set(self._counted_candidates(probe_keys(names))[0].tolist())

    def _counted_candidates(
        self, keys: set[str]
    ) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
        """Slots sharing a key with ``keys`` (sorted, unique) and how many keys each shares."""
        wanted = np.array(sorted({_hash(k) for k in keys}), dtype=np.int64)
        empty = np.empty(0, dtype=np.int64)
        if len(wanted) == 0:
            return empty, empty
        parts: list[npt.NDArray[np.int64]] = []
        left = np.searchsorted(self._keys, wanted, side="left")
        right = np.searchsorted(self._keys, wanted, side="right")
        for lo, hi in zip(left.tolist(), right.tolist(), strict=True):
            if hi > lo:
                parts.append(self._slots[lo:hi].astype(np.int64))
        if len(self._new_keys):
            pending = np.frombuffer(self._new_keys, dtype=np.int64)
            match = np.isin(pending, wanted)
            parts.append(np.frombuffer(self._new_slots, dtype=np.int32)[match].astype(np.int64))
        if not parts:
            return empty, empty
        # Each (key, record) posting is filed once, so a count is the number of keys shared.
        found = np.concatenate(parts)
        if len(found) > _COUNT_BY_SLOT_ABOVE:
            counts = np.bincount(found)
            slots = np.flatnonzero(counts)
            return slots.astype(np.int64), counts[slots].astype(np.int64)
        slots, counts = np.unique(found, return_counts=True)
        return slots, counts.astype(np.int64)

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
