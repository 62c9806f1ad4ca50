"""Name outcomes of a block of (report, found person) pairs, exactly as pair by pair.

:func:`name_outcomes` gives each pair the level and term frequency that
:class:`~matching.evidence_model.comparisons.name.NamesComparison` gives it, at a small
share of the cost. It works name by name, as :func:`~matching.names.compare_names` does:
a pair's level is the strongest over every pair of its names, the first such pair (the
report's names outer, the found person's inner) giving the frequency. Each pair of names
takes one of three roads, chosen by blocking keys (:mod:`matching.names.keys`):

* **Compared.** The report's name looks up a key the found person's name is filed under
  (``probe_keys`` against ``blocking_keys``). Only such names can agree at
  NICKNAME_OR_PARTIAL or better, so these are compared with ``compare_names``, memoised
  by the two names and the speaker's dialect rules. So are names whose keys were cut
  short (:data:`~matching.names.keys.MAX_COMBINATIONS`), which promise nothing. (The
  keys promise it for a query against a filed record, and the level does not depend on
  which side is which; reports look up because theirs are the cheaper keys to make and
  reports are the larger side.)
* **Surnames.** No such key, but the names share a ``surname_agreement_keys`` key: the
  best they can do is SURNAME_ONLY. What decides between SURNAME_ONLY, DIFFERENT and no
  evidence is then each reading's shape (script, letters or syllables, a 小名's kind,
  surname only...), its surname and the 小名 core that may address one, and the
  speaker's rules where they are no single region's. The outcome is memoised by those,
  from one real comparison of the first pair of names on this road that has them.
* **Silent.** No key at all: nothing can agree, and the outcome, DIFFERENT or no
  evidence, is decided by the readings' shapes alone. It is memoised by the two names'
  sets of shapes, again from one real comparison of a pair on this road.

Keys are 64-bit hashes, stable across processes. A collision can only send a pair of
names down a road meant for more pairs (a comparison rather than a memo; the surname
memo, whose key determines the outcome of any names that share no blocking key), never
down a wrong one. The memos live for the process (bounded caches), keyed by values, so
outcomes do not depend on how pairs are grouped into blocks or in which order they come.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Callable, Collection, Hashable, Iterable, Sequence
from functools import lru_cache
from typing import Generic, NamedTuple, TypeVar

import numpy as np
from numpy.typing import NDArray

from matching.evidence_model.comparisons.name import name_term_frequency
from matching.names import NameComparison, NameLevel, compare_names
from matching.names.dialects import region_groups, rules_for_regions
from matching.names.forms import NameForm, Position, name_forms, usable_names
from matching.names.keys import (
    MAX_COMBINATIONS,
    blocking_keys,
    probe_keys,
    surname_agreement_keys,
)
from matching.names.regions import resolve_regions

T = TypeVar("T")

_NO_EVIDENCE = np.int16(99)
"""NULL while the strongest level is sought: weaker than any level that says something."""

_DENSE_CELLS = 1 << 24
"""Distinct names on both sides (product) up to which shared keys are marked in a dense
table rather than looked up in a sorted list."""

_Shape = tuple[Hashable, ...]
_Projection = tuple[tuple[_Shape, tuple[Position, ...], Position | None], ...]


class _Token(Generic[T]):
    """A value to memoise by, with an example to compute the memoised outcome from.

    Equal by value only: any example of the value gives the same outcome, which is what
    makes the memo exact. The hash is computed once.
    """

    __slots__ = ("_hash", "example", "value")

    def __init__(self, value: Hashable, example: T) -> None:
        self.value = value
        self.example = example
        self._hash = hash(value)

    def with_example(self, example: T) -> _Token[T]:
        """The same value with another example (the hash is not computed again)."""
        token = _Token.__new__(_Token)
        token.value, token.example, token._hash = self.value, example, self._hash
        return token

    def __reduce__(self) -> tuple[type[_Token[T]], tuple[Hashable, T]]:
        # Hashed again where unpickled: string hashes differ from process to process.
        return _Token, (self.value, self.example)

    def __hash__(self) -> int:
        return self._hash

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Token) and (self is other or self.value == other.value)


class _Ragged(NamedTuple):
    """Key codes of each name: those of name n are ``values[offsets[n]:offsets[n + 1]]``."""

    offsets: NDArray[np.int64]
    values: NDArray[np.int64]


def _key_code(key: str) -> int:
    # Stable across processes (columns may be built in one and used in another); a
    # collision is harmless (see the module's docstring), so 64 bits are plenty.
    digest = hashlib.blake2b(key.encode(), digest_size=8).digest()
    return int.from_bytes(digest, "little", signed=True)


def _ragged(key_sets: Iterable[Collection[str]]) -> _Ragged:
    codes: dict[str, int] = {}  # a key recurs in many names (w:王): hash it once
    offsets = [0]
    values: list[int] = []
    for keys in key_sets:
        for key in keys:
            code = codes.get(key)
            if code is None:
                code = codes[key] = _key_code(key)
            values.append(code)
        offsets.append(len(values))
    return _Ragged(np.array(offsets, dtype=np.int64), np.array(values, dtype=np.int64))


def _shape(form: NameForm) -> _Shape:
    """What of a reading decides, when nothing of it sounds alike, whether a comparison
    with another such reading says DIFFERENT or nothing (``_compare_forms``'s branches)."""
    nickname = form.nickname
    return (
        form.script.value,
        bool(form.positions),
        bool(form.phonetic),
        form.surname_only,
        bool(form.surname_len) and nickname is None,  # a surname and a given name
        None if nickname is None else nickname.kind.value,
        None if nickname is None else nickname.birth_rank,
        form.uninformative,
        form.core is not None,
        nickname is not None and nickname.may_be_surname,
    )


def _projection(forms: Sequence[NameForm]) -> _Projection:
    """The readings in order, each with its shape, the surname compared as such (王某's,
    王建华's) and the 小名 core that may address a surname (老王's 王, a lone 张)."""
    out = []
    for form in forms:
        named = form.surname_only or (bool(form.surname_len) and form.nickname is None)
        addressing = form.nickname is not None and form.nickname.may_be_surname
        out.append(
            (
                _shape(form),
                form.surname_positions if named else (),
                form.core if addressing else None,
            )
        )
    return tuple(out)


def _fully_keyed(form: NameForm) -> bool:
    """Whether the keys hold every sound-class combination of the reading (not cut at
    MAX_COMBINATIONS, nor empty for a syllable without classes)."""
    for classes in (
        [p.strong for p in form.positions],
        [p.coarse for p in form.positions],
        [p.dialect for p in form.positions],
    ):
        sizes = [len(c) for c in classes]
        if 0 in sizes or math.prod(sizes) > MAX_COMBINATIONS:
            return False
    return True


class _Interner(Generic[T]):
    """Numbers for distinct values, each with a token for memoising by it."""

    def __init__(self) -> None:
        self._codes: dict[Hashable, int] = {}
        self.tokens: list[_Token[T]] = []

    def code(self, value: Hashable, example: T) -> int:
        code = self._codes.get(value)
        if code is None:
            code = self._codes[value] = len(self.tokens)
            self.tokens.append(_Token(value, example))
        return code


class NameColumns:
    """The names and speaker regions of many records, ready for :func:`name_outcomes`.

    Built once per side of a run with :meth:`of`; each distinct name is read once. Keys
    are made the first time the columns are used as one side or the other (a report's
    names look keys up, a found person's are filed under them). Columns can be pickled
    to another process.
    """

    __slots__ = (
        "_count",
        "_filed",
        "_ids",
        "_names",
        "_offsets",
        "_probed",
        "_projection",
        "_projections",
        "_region",
        "_region_sets",
        "_shape",
        "_shapes",
        "_surnames",
        "_unkeyed",
    )

    def __init__(
        self,
        names: tuple[str, ...],
        counts: NDArray[np.int64],
        ids: NDArray[np.int64],
        region: NDArray[np.int64],
        region_sets: tuple[frozenset[str], ...],
    ) -> None:
        self._names = names
        self._count = counts
        self._offsets = np.concatenate(([0], np.cumsum(counts))).astype(np.int64)
        self._ids = ids
        self._region = region
        self._region_sets = region_sets
        shapes: _Interner[str] = _Interner()
        projections: _Interner[str] = _Interner()
        shape, projection, unkeyed = [], [], []
        for name in names:
            forms = name_forms(name)
            shape.append(shapes.code(frozenset(_shape(f) for f in forms), name))
            projection.append(projections.code(_projection(forms), name))
            unkeyed.append(not all(_fully_keyed(f) for f in forms))
        self._shape = np.array(shape, dtype=np.int64)
        self._shapes = tuple(shapes.tokens)
        self._projection = np.array(projection, dtype=np.int64)
        self._projections = tuple(projections.tokens)
        self._unkeyed = np.array(unkeyed, dtype=np.bool_)
        self._surnames = _ragged(surname_agreement_keys((name,)) for name in names)
        self._probed: _Ragged | None = None
        self._filed: _Ragged | None = None

    @classmethod
    def of(
        cls, names: Sequence[tuple[str, ...]], speaker_regions: Sequence[frozenset[str]]
    ) -> NameColumns:
        """Columns of records given by their names (stated name, aliases, 小名, as in a
        view's ``names``) and the speaker regions their facts name, row by row.

        Raises ValueError when the two differ in length or a region is unknown (as
        ``compare_names`` would for any pair of the record), TypeError for a bare string
        instead of a record's names.
        """
        if len(names) != len(speaker_regions):
            raise ValueError(
                f"{len(names)} records' names but {len(speaker_regions)} sets of regions"
            )
        index: dict[str, int] = {}
        counts = np.zeros(len(names), dtype=np.int64)
        ids: list[int] = []
        for row, row_names in enumerate(names):
            kept = usable_names(row_names)
            counts[row] = len(kept)
            ids.extend(index.setdefault(name, len(index)) for name in kept)
        region_index: dict[frozenset[str], int] = {}
        region = np.zeros(len(names), dtype=np.int64)
        for row, row_regions in enumerate(speaker_regions):
            regions = frozenset(row_regions)
            code = region_index.get(regions)
            if code is None:
                resolve_regions(regions)  # refuse an unknown region here, once
                code = region_index[regions] = len(region_index)
            region[row] = code
        return cls(
            tuple(index),
            counts,
            np.array(ids, dtype=np.int64),
            region,
            tuple(region_index),
        )

    def __len__(self) -> int:
        return len(self._count)

    def _probe_keys(self) -> _Ragged:
        if self._probed is None:
            self._probed = _ragged(probe_keys((name,)) for name in self._names)
        return self._probed

    def _filed_keys(self) -> _Ragged:
        if self._filed is None:
            self._filed = _ragged(blocking_keys((name,)) for name in self._names)
        return self._filed


# --- memoised outcomes of pairs of names ------------------------------------------------


def _outcome(result: NameComparison) -> tuple[int, float]:
    frequency = name_term_frequency(result)
    return int(result.level), math.nan if frequency is None else frequency


@lru_cache(maxsize=1 << 17)
def _compared(left: str, right: str, rules: _Token[frozenset[str]]) -> tuple[int, float]:
    """Two names that may agree, compared (the level depends on the speaker's rules only:
    their provinces only word the reason)."""
    return _outcome(compare_names((left,), (right,), speaker_regions=rules.example))


@lru_cache(maxsize=1 << 16)
def _surnames_only(
    left: _Token[str], right: _Token[str], rules: _Token[frozenset[str]]
) -> tuple[int, float]:
    """Names sharing no blocking key: the outcome of any two with these projections."""
    outcome = _outcome(
        compare_names((left.example,), (right.example,), speaker_regions=rules.example)
    )
    if NameLevel.NULL < outcome[0] < NameLevel.SURNAME_ONLY:
        raise RuntimeError(f"{left.example} / {right.example} agree without a shared key")
    return outcome


@lru_cache(maxsize=1 << 12)
def _silent(left: _Token[str], right: _Token[str]) -> tuple[int, float]:
    """Names sharing no key at all (no region can make them agree): DIFFERENT or NULL."""
    outcome = _outcome(compare_names((left.example,), (right.example,)))
    if outcome[0] not in (NameLevel.NULL, NameLevel.DIFFERENT):
        raise RuntimeError(f"{left.example} / {right.example} agree without a shared key")
    return outcome


@lru_cache(maxsize=4096)
def _speaker_rules(regions: frozenset[str]) -> frozenset[str]:
    return rules_for_regions(resolve_regions(regions))


@lru_cache(maxsize=4096)
def _surname_rules(rules: frozenset[str]) -> frozenset[str] | None:
    """The speaker's rules as far as they can change whether surnames agree: not at all
    (None) when one region's rules hold them all, since every region's are tried."""
    return None if any(rules <= group for group in region_groups()) else rules


# --- arrays ------------------------------------------------------------------------------


def _indices(values: NDArray[np.int64], size: int, what: str) -> NDArray[np.int64]:
    out = np.asarray(values)
    if out.ndim != 1 or not (out.dtype.kind in "iu" or out.size == 0):
        raise ValueError(f"{what} must be a 1-d array of integers, got {out.dtype} {out.shape}")
    out = out.astype(np.int64, copy=False)
    if out.size and (int(out.min()) < 0 or int(out.max()) >= size):
        raise IndexError(f"{what} holds rows outside 0..{size - 1}")
    return out


def _spans(
    starts: NDArray[np.int64], lengths: NDArray[np.int64]
) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """Positions ``starts[g]..starts[g] + lengths[g] - 1`` for every g, and each one's g."""
    group = np.repeat(np.arange(len(starts), dtype=np.int64), lengths)
    begin = np.cumsum(lengths) - lengths
    return np.arange(len(group), dtype=np.int64) - begin[group] + starts[group], group


def _distinct(ids: NDArray[np.int64], space: int) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """The distinct ids (sorted) and where each id is among them."""
    if 8 * len(ids) < space:
        unique, inverse = np.unique(ids, return_inverse=True)
        return unique.astype(np.int64), inverse.astype(np.int64).reshape(-1)
    present = np.zeros(space, dtype=np.bool_)
    present[ids] = True
    unique = np.flatnonzero(present).astype(np.int64)
    where = np.empty(space, dtype=np.int64)
    where[unique] = np.arange(len(unique), dtype=np.int64)
    return unique, where[ids]


def _sharing(
    probe: _Ragged,
    filed: _Ragged,
    left: NDArray[np.int64],
    right: NDArray[np.int64],
    spaces: tuple[int, int],
) -> NDArray[np.bool_]:
    """Whether names ``left[k]`` and ``right[k]`` share a key, for every k.

    Joins the keys of the distinct names on each side (not of every pair), so a block of
    many pairs costs about as much as its distinct names and the pairs of them sharing
    keys.
    """
    out = np.zeros(len(left), dtype=np.bool_)
    if len(left) == 0:
        return out
    lefts, left_at = _distinct(left, spaces[0])
    rights, right_at = _distinct(right, spaces[1])
    at, owner = _spans(probe.offsets[lefts], np.diff(probe.offsets)[lefts])
    wanted, wanted_by = probe.values[at], owner
    at, owner = _spans(filed.offsets[rights], np.diff(filed.offsets)[rights])
    order = np.argsort(filed.values[at], kind="stable")
    held, held_by = filed.values[at][order], owner[order]
    low = np.searchsorted(held, wanted, side="left")
    high = np.searchsorted(held, wanted, side="right")
    found = high > low
    at, group = _spans(low[found], (high - low)[found])
    width = len(rights)
    shared = wanted_by[found][group] * width + held_by[at]
    pairs = left_at * width + right_at
    if len(lefts) * width <= _DENSE_CELLS:
        table = np.zeros(len(lefts) * width, dtype=np.bool_)
        table[shared] = True
        out[:] = table[pairs]
        return out
    shared = np.unique(shared)
    if len(shared):
        place = np.minimum(np.searchsorted(shared, pairs), len(shared) - 1)
        out[:] = shared[place] == pairs
    return out


def _memoised(
    codes: NDArray[np.int64],
    compute: Callable[[int, int], tuple[int, float]],
    *,
    space: int | None = None,
) -> tuple[NDArray[np.int16], NDArray[np.float64]]:
    """``compute(code, k)`` for each distinct code, k being where it first occurs.

    With ``space`` (codes are below it, and it is small) distinct codes are found with a
    table rather than by sorting.
    """
    if space is not None and space <= max(len(codes), 1 << 16):
        first = np.full(space, -1, dtype=np.int64)
        first[codes[::-1]] = np.arange(len(codes) - 1, -1, -1)  # the earliest one is kept
        levels = np.zeros(space, dtype=np.int16)
        frequencies = np.zeros(space, dtype=np.float64)
        for code in np.flatnonzero(first >= 0).tolist():
            levels[code], frequencies[code] = compute(code, int(first[code]))
        return levels[codes], frequencies[codes]
    distinct, where, inverse = np.unique(codes, return_index=True, return_inverse=True)
    levels = np.empty(len(distinct), dtype=np.int16)
    frequencies = np.empty(len(distinct), dtype=np.float64)
    for n, (code, k) in enumerate(zip(distinct.tolist(), where.tolist(), strict=True)):
        levels[n], frequencies[n] = compute(code, k)
    inverse = inverse.reshape(-1)
    return levels[inverse], frequencies[inverse]


def _silent_outcomes(
    missing: NameColumns, found: NameColumns, left: NDArray[np.int64], right: NDArray[np.int64]
) -> tuple[NDArray[np.int16], NDArray[np.float64]]:
    """Names sharing no key at all, by their sets of shapes."""
    shapes = len(found._shapes)
    return _memoised(
        missing._shape[left] * shapes + found._shape[right],
        lambda code, k: _silent(
            missing._shapes[code // shapes].with_example(missing._names[left[k]]),
            found._shapes[code % shapes].with_example(found._names[right[k]]),
        ),
        space=len(missing._shapes) * shapes,
    )


def _compared_outcomes(
    missing: NameColumns,
    found: NameColumns,
    left: NDArray[np.int64],
    right: NDArray[np.int64],
    rule_of: NDArray[np.int64],
    rules: Sequence[_Token[frozenset[str]]],
) -> tuple[NDArray[np.int16], NDArray[np.float64]]:
    """Names that may agree, compared under their speaker's rules."""
    names, count = len(found._names), len(rules)
    return _memoised(
        (left * names + right) * count + rule_of,
        lambda code, k: _compared(
            missing._names[left[k]], found._names[right[k]], rules[code % count]
        ),
    )


def _surname_outcomes(
    missing: NameColumns,
    found: NameColumns,
    left: NDArray[np.int64],
    right: NDArray[np.int64],
    rule_of: NDArray[np.int64],
    rules: Sequence[_Token[frozenset[str]]],
) -> tuple[NDArray[np.int16], NDArray[np.float64]]:
    """Names that can agree on the surname at best, by their projections."""
    projections, count = len(found._projections), len(rules)
    return _memoised(
        (missing._projection[left] * projections + found._projection[right]) * count + rule_of,
        lambda code, k: _surnames_only(
            missing._projections[code // count // projections].with_example(
                missing._names[left[k]]
            ),
            found._projections[code // count % projections].with_example(found._names[right[k]]),
            rules[code % count],
        ),
    )


def _numbered_rules(
    missing: NameColumns, found: NameColumns, i: NDArray[np.int64], j: NDArray[np.int64]
) -> tuple[
    NDArray[np.int64],
    list[_Token[frozenset[str]]],
    NDArray[np.int64],
    list[_Token[frozenset[str]]],
]:
    """The speaker's rules of each pair of records (their regions unioned), numbered,
    with a token for each number; and the same for the rules as far as surnames care."""
    regions = len(found._region_sets)
    region_pairs, where = np.unique(
        missing._region[i] * regions + found._region[j], return_inverse=True
    )
    rule_numbers: dict[frozenset[str], int] = {}
    surname_numbers: dict[frozenset[str] | None, int] = {}
    rule_tokens: list[_Token[frozenset[str]]] = []
    surname_tokens: list[_Token[frozenset[str]]] = []
    rule_of, surname_rule_of = [], []
    for code in region_pairs.tolist():
        union = missing._region_sets[code // regions] | found._region_sets[code % regions]
        rules = _speaker_rules(union)
        if rules not in rule_numbers:
            rule_numbers[rules] = len(rule_tokens)
            rule_tokens.append(_Token(rules, union))
        rule_of.append(rule_numbers[rules])
        surname_rules = _surname_rules(rules)
        if surname_rules not in surname_numbers:
            surname_numbers[surname_rules] = len(surname_tokens)
            # Rules that cannot change whether surnames agree are left out of the example:
            # the outcome is the same, and explaining a match by many rules is slow.
            example = union if surname_rules is not None else frozenset()
            surname_tokens.append(_Token(surname_rules, example))
        surname_rule_of.append(surname_numbers[surname_rules])
    where = where.reshape(-1)
    return (
        np.array(rule_of, dtype=np.int64)[where],
        rule_tokens,
        np.array(surname_rule_of, dtype=np.int64)[where],
        surname_tokens,
    )


def name_outcomes(
    missing: NameColumns,
    found: NameColumns,
    i: NDArray[np.int64],
    j: NDArray[np.int64],
) -> tuple[NDArray[np.int16], NDArray[np.float64]]:
    """For pair k = (missing row i[k], found row j[k]): the level and the term frequency
    (NaN where None), identical to NamesComparison().compare on those records' facts
    (names = view.names, speaker regions = facts.speaker_regions of each side, unioned).

    Memory grows with the block (some 100 bytes a pair of names, for the time of the
    call): score millions of pairs in blocks of some hundred thousand. Raises ValueError
    when ``i`` and ``j`` are not 1-d integer arrays of one length, IndexError for a row
    outside its columns.
    """
    i = _indices(i, len(missing), "i")
    j = _indices(j, len(found), "j")
    if len(i) != len(j):
        raise ValueError(f"i has {len(i)} pairs but j has {len(j)}")
    levels = np.zeros(len(i), dtype=np.int16)  # NULL: no usable name on one side
    frequencies = np.full(len(i), np.nan, dtype=np.float64)

    # Every pair of names, the report's outer and the found person's inner, as compared.
    wide = found._count[j]
    sizes = missing._count[i] * wide
    total = int(sizes.sum())
    if total == 0:
        return levels, frequencies
    place, pair = _spans(np.zeros(len(i), dtype=np.int64), sizes)
    left = missing._ids[missing._offsets[i][pair] + place // wide[pair]]
    right = found._ids[found._offsets[j][pair] + place % wide[pair]]

    # Each pair of names takes its road (see the module's docstring).
    spaces = (len(missing._names), len(found._names))
    compared = missing._unkeyed[left] | found._unkeyed[right]
    compared |= _sharing(missing._probe_keys(), found._filed_keys(), left, right, spaces)
    rest = np.flatnonzero(~compared)
    by_surname = np.zeros(total, dtype=np.bool_)
    by_surname[rest] = _sharing(missing._surnames, found._surnames, left[rest], right[rest], spaces)
    level = np.empty(total, dtype=np.int16)
    frequency = np.empty(total, dtype=np.float64)
    at = np.flatnonzero(~compared & ~by_surname)
    level[at], frequency[at] = _silent_outcomes(missing, found, left[at], right[at])
    at = np.flatnonzero(compared | by_surname)
    rule_of, rules, surname_rule_of, surname_rules = _numbered_rules(
        missing, found, i[pair[at]], j[pair[at]]
    )
    on_road = compared[at]
    at_road = at[on_road]
    level[at_road], frequency[at_road] = _compared_outcomes(
        missing, found, left[at_road], right[at_road], rule_of[on_road], rules
    )
    on_road = ~on_road
    at_road = at[on_road]
    level[at_road], frequency[at_road] = _surname_outcomes(
        missing, found, left[at_road], right[at_road], surname_rule_of[on_road], surname_rules
    )

    # The strongest level of each pair's names, and the frequency of the first to reach it.
    strength = np.where(level == NameLevel.NULL, _NO_EVIDENCE, level)
    live = np.flatnonzero(sizes)
    starts = (np.cumsum(sizes) - sizes)[live]
    best = np.minimum.reduceat(strength, starts)
    first = np.minimum.reduceat(
        np.where(strength == np.repeat(best, sizes[live]), np.arange(total), total), starts
    )
    levels[live] = np.where(best == _NO_EVIDENCE, NameLevel.NULL, best)
    frequencies[live] = frequency[first]
    return levels, frequencies
