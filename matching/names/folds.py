"""Sound classes: which syllables a set of rules makes sound alike.

Each rule merges pairs of syllables; a set of rules merges their closure. A class is
named by its smallest member, so two syllables sound alike under the rules exactly when
they have the same class name. Computed once per rule set (a few hundred syllables).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from functools import cache, lru_cache

from matching.names.dialects import (
    ALL_RULES,
    RULES,
    DialectRule,
    FoldPart,
    SoundFold,
    rule_by_id,
)
from matching.names.syllables import SYLLABLES, split_syllable


def _fold_pairs(fold: SoundFold) -> Iterator[tuple[str, str]]:
    if fold.part is FoldPart.SYLLABLE:
        if fold.a in SYLLABLES and fold.b in SYLLABLES:
            yield fold.a, fold.b
        return
    for syllable in SYLLABLES:
        initial, final = split_syllable(syllable)
        if fold.part is FoldPart.INITIAL and initial == fold.a:
            other = fold.b + final
        elif fold.part is FoldPart.FINAL and final == fold.a:
            other = initial + fold.b
        elif fold.part is FoldPart.PREFIX and syllable.startswith(fold.a):
            other = fold.b + syllable[len(fold.a) :]
        else:
            continue
        if other in SYLLABLES and other != syllable:
            yield syllable, other


@cache
def rule_pairs(rule: DialectRule) -> frozenset[tuple[str, str]]:
    """The pairs of standard syllables a rule says sound alike."""
    return frozenset(pair for fold in rule.folds for pair in _fold_pairs(fold))


@lru_cache(maxsize=256)
def sound_classes(rule_ids: frozenset[str]) -> Mapping[str, str]:
    """Map each syllable merged by the rules to its class name (smallest member).

    Syllables the rules leave alone are absent: they are their own class.
    """
    parent: dict[str, str] = {}

    def find(x: str) -> str:
        root = x
        while parent.get(root, root) != root:
            root = parent[root]
        while x != root:
            parent[x], x = root, parent.get(x, x)
        return root

    for rule_id in sorted(rule_ids):
        for a, b in rule_pairs(rule_by_id(rule_id)):
            ra, rb = find(a), find(b)
            if ra != rb:
                low, high = sorted((ra, rb))
                parent[high] = low
                parent.setdefault(low, low)
    return {s: find(s) for s in parent}


@cache
def coarse_classes() -> Mapping[str, str]:
    """Classes under every rule at once: the loosest sameness any comparison allows."""
    return sound_classes(frozenset(rule.id for rule in ALL_RULES))


@cache
def dialect_classes() -> Mapping[str, str]:
    """Classes under every dialect rule at once, without the near-sounds of mishearing."""
    return sound_classes(frozenset(rule.id for rule in RULES))


def class_of(classes: Mapping[str, str], syllable: str) -> str:
    """The class name of ``syllable`` under ``classes``."""
    return classes.get(syllable, syllable)
