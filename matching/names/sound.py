"""Whether two names sound the same, alike in some speech, or near, syllable by syllable.

Positions are compared as sets of readings. The levels are tried strictest first:
same toneless pinyin; sound classes of the speaker's dialect rules; those of some other
region's rules (one region's rules at a time: nobody has Sichuan's r/l and the
Northeast's r/y together); then near-sounds of mishearing on top of a region's rules,
also allowing one syllable to be off by one letter.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache, lru_cache
from itertools import combinations

from rapidfuzz.distance import Levenshtein

from matching.names.dialects import NEAR_RULES, RuleKind, region_groups, rule_by_id
from matching.names.folds import class_of, sound_classes
from matching.names.forms import Position
from matching.names.levels import NameLevel


@dataclass(frozen=True, slots=True)
class SoundMatch:
    """How two sequences of positions sound alike, and through which rules."""

    level: NameLevel
    rule_ids: tuple[str, ...] = ()
    """Rules needed, dialect rules first; empty for SAME_SOUND."""
    weak_reading: bool = False
    """A surname had to be taken in its everyday reading (单 as dan)."""
    edited: bool = False
    """One syllable had to be off by one letter."""


@cache
def _near_ids() -> frozenset[str]:
    return frozenset(rule.id for rule in NEAR_RULES)


@lru_cache(maxsize=131072)
def _classes(readings: frozenset[str], rule_ids: frozenset[str]) -> frozenset[str]:
    classes = sound_classes(rule_ids)
    return frozenset(class_of(classes, r) for r in readings)


def same_sound(p: Position, q: Position) -> bool:
    """The same character, or a shared toneless reading counting fully."""
    return (p.han and q.han and p.text == q.text) or not p.strong.isdisjoint(q.strong)


def _alike(p: Position, q: Position, rule_ids: frozenset[str], weak: bool) -> bool:
    left = p.readings if weak else p.strong
    right = q.readings if weak else q.strong
    return not _classes(left, rule_ids).isdisjoint(_classes(right, rule_ids))


def _edit_close(p: Position, q: Position) -> bool:
    """One syllable off by one letter, keeping its first letter (xing / xin, hua / huo)."""
    return any(
        x[0] == y[0] and Levenshtein.distance(x, y, score_cutoff=1) == 1
        for x in p.readings
        for y in q.readings
    )


def _rule_order(rule_id: str) -> tuple[int, str]:
    return (0 if rule_by_id(rule_id).kind is RuleKind.DIALECT else 1, rule_id)


@lru_cache(maxsize=65536)
def _explain(
    p: Position, q: Position, rule_ids: frozenset[str], weak: bool
) -> tuple[tuple[str, ...], bool]:
    """The fewest rules (of ``rule_ids``) that make p and q sound alike.

    Full readings are tried before a surname's everyday reading; the flag says whether
    the everyday reading was needed.
    """
    if weak and _alike(p, q, frozenset(), weak=True):
        return (), True  # the everyday reading alone does it (单 read as dan)
    ordered = sorted(rule_ids, key=_rule_order)
    for use_weak in (False, True) if weak else (False,):
        for size in (1, 2):
            for subset in combinations(ordered, size):
                if _alike(p, q, frozenset(subset), use_weak):
                    return subset, use_weak
    return tuple(ordered), weak


def _used(
    a: Sequence[Position], b: Sequence[Position], rule_ids: frozenset[str], weak: bool
) -> tuple[tuple[str, ...], bool]:
    """Rules used over all positions, and whether a surname's everyday reading was."""
    used: set[str] = set()
    weak_used = False
    for p, q in zip(a, b, strict=True):
        if not same_sound(p, q) and _alike(p, q, rule_ids, weak):
            rules, needed_weak = _explain(p, q, rule_ids, weak)
            used.update(rules)
            weak_used = weak_used or needed_weak
    return tuple(sorted(used, key=_rule_order)), weak_used


def _all_alike(
    a: Sequence[Position],
    b: Sequence[Position],
    same: Sequence[bool],
    rule_ids: frozenset[str],
    weak: bool,
) -> list[int]:
    """Indices of positions that do not sound alike under the rules."""
    return [
        i
        for i, (p, q) in enumerate(zip(a, b, strict=True))
        if not same[i] and not _alike(p, q, rule_ids, weak)
    ]


def sound_match(
    a: Sequence[Position],
    b: Sequence[Position],
    speaker_rules: frozenset[str] = frozenset(),
    *,
    loosest: NameLevel = NameLevel.NEAR_SOUND,
) -> SoundMatch | None:
    """The strictest sound level at which two equally long sequences agree, or None.

    ``speaker_rules`` are the dialect rules of the speaker's region; ``loosest`` stops
    the search early (partial-name checks go no further than DIALECT_OTHER).
    """
    n = len(a)
    if n == 0 or n != len(b):
        return None
    # Fast rejection, first because most pairs differ: positions that differ even under
    # every rule at once (one may still be a syllable off by a letter).
    misses = sum(1 for p, q in zip(a, b, strict=True) if p.coarse.isdisjoint(q.coarse))
    if misses > 1 or (misses == 1 and (loosest < NameLevel.NEAR_SOUND or n < 2)):
        return None
    same = [same_sound(p, q) for p, q in zip(a, b, strict=True)]
    if all(same):
        return SoundMatch(NameLevel.SAME_SOUND)
    if loosest <= NameLevel.SAME_SOUND:
        return None
    if misses == 0:
        if speaker_rules and not _all_alike(a, b, same, speaker_rules, weak=False):
            rules_used, _ = _used(a, b, speaker_rules, weak=False)
            return SoundMatch(NameLevel.DIALECT_SPEAKER, rules_used)
        for group in region_groups():
            if not _all_alike(a, b, same, group, weak=False):
                rules_used, _ = _used(a, b, group, weak=False)
                return SoundMatch(NameLevel.DIALECT_OTHER, rules_used)
    if loosest < NameLevel.NEAR_SOUND:
        return None
    for group in region_groups():
        rules = group | _near_ids()
        failing = _all_alike(a, b, same, rules, weak=True)
        if not failing:
            rules_used, weak_used = _used(a, b, rules, weak=True)
            return SoundMatch(NameLevel.NEAR_SOUND, rules_used, weak_reading=weak_used)
        if len(failing) == 1 and n >= 2 and _edit_close(a[failing[0]], b[failing[0]]):
            rest = [i for i in range(n) if i != failing[0]]
            rules_used, weak_used = _used([a[i] for i in rest], [b[i] for i in rest], rules, True)
            return SoundMatch(NameLevel.NEAR_SOUND, rules_used, weak_reading=weak_used, edited=True)
    return None
