"""The first name comparison: Chinese characters and toneless pinyin, nothing more.

It knows no dialects, readings or 小名; the dialect-aware comparison replaces it. It
stays as the baseline that later work is measured against.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from enum import IntEnum
from functools import lru_cache

from rapidfuzz import fuzz

_HAN = re.compile(r"[\u3400-\u9fff]")
_SEPARATORS = re.compile(r"[\s·•・.\-_'’]+")


class SimpleNameLevel(IntEnum):
    """Levels of the first name comparison, from no evidence to disagreement."""

    NULL = 0
    EXACT = 1
    SAME_PINYIN = 2
    SIMILAR = 3
    GIVEN_NAME = 4
    SURNAME_ONLY = 5
    DIFFERENT = 6


@dataclass(frozen=True)
class SimpleNameComparison:
    """The best level over both sides' names, the names that gave it, and a sentence."""

    level: SimpleNameLevel
    left: str | None
    right: str | None
    similarity: float
    reason: str


@lru_cache(maxsize=200_000)
def fold(name: str) -> str:
    """Full-width to half-width, lower case, no separators."""
    return _SEPARATORS.sub("", unicodedata.normalize("NFKC", name)).lower()


@lru_cache(maxsize=200_000)
def toneless_pinyin(name: str) -> tuple[str, ...]:
    """Syllables without tones; Latin input is kept as one lower-case token."""
    from pypinyin import Style, lazy_pinyin

    folded = fold(name)
    if not _HAN.search(folded):
        return (folded,) if folded else ()
    return tuple(lazy_pinyin(folded, style=Style.NORMAL, errors="ignore"))


def _compare_one(left: str, right: str) -> tuple[SimpleNameLevel, float]:
    a, b = fold(left), fold(right)
    if a == b:
        return SimpleNameLevel.EXACT, 1.0
    pa, pb = toneless_pinyin(left), toneless_pinyin(right)
    ja, jb = "".join(pa), "".join(pb)
    if ja and ja == jb:
        return SimpleNameLevel.SAME_PINYIN, 1.0
    similarity = max(fuzz.ratio(ja, jb), fuzz.ratio(a, b)) / 100.0
    if similarity >= 0.85:
        return SimpleNameLevel.SIMILAR, similarity
    if _HAN.search(a) and _HAN.search(b):
        shorter, longer = sorted((pa, pb), key=len)
        if 0 < len(shorter) < len(longer) and longer[-len(shorter) :] == shorter:
            # One side has only the given name (or its last character).
            return SimpleNameLevel.GIVEN_NAME, similarity
        if len(pa) >= 2 and len(pb) >= 2:
            if pa[1:] == pb[1:]:
                return SimpleNameLevel.GIVEN_NAME, similarity
            if pa[0] == pb[0]:
                return SimpleNameLevel.SURNAME_ONLY, similarity
    return SimpleNameLevel.DIFFERENT, similarity


_REASONS = {
    SimpleNameLevel.NULL: "no name on one side",
    SimpleNameLevel.EXACT: "same name",
    SimpleNameLevel.SAME_PINYIN: "names sound the same (same pinyin)",
    SimpleNameLevel.SIMILAR: "names are spelled alike",
    SimpleNameLevel.GIVEN_NAME: "same given name",
    SimpleNameLevel.SURNAME_ONLY: "same surname only",
    SimpleNameLevel.DIFFERENT: "names differ",
}


def compare_simple(left: Sequence[str], right: Sequence[str]) -> SimpleNameComparison:
    """The best level over every pair of names of the two sides."""
    best = SimpleNameComparison(
        SimpleNameLevel.NULL, None, None, 0.0, _REASONS[SimpleNameLevel.NULL]
    )
    for a in left:
        for b in right:
            level, similarity = _compare_one(a, b)
            if best.level is SimpleNameLevel.NULL or (level, -similarity) < (
                best.level,
                -best.similarity,
            ):
                best = SimpleNameComparison(
                    level, a, b, similarity, f"{_REASONS[level]}: {a} / {b}"
                )
    return best
