"""The ordered levels of a name comparison, strictest first after the null level."""

from __future__ import annotations

from enum import IntEnum


class NameLevel(IntEnum):
    """How well two names agree; lower is stronger evidence (NULL is no evidence).

    The first level that holds wins, as in a Splink comparison.
    """

    NULL = 0
    """A name is missing on either side: no evidence, never a disagreement."""
    EXACT = 1
    """The same name after folding (劉建華 / 刘建华, "Liu Jianhua" / "LIUJIANHUA")."""
    SAME_SOUND = 2
    """The same toneless pinyin: 李丽 / 李莉, or typed pinyin against characters."""
    DIALECT_SPEAKER = 3
    """The same sound under a dialect rule of the speaker's own region."""
    DIALECT_OTHER = 4
    """The same sound under a dialect rule of some other region."""
    NEAR_SOUND = 5
    """Near-sounds of mishearing (g/k, d/t, ...), or one syllable off by one letter."""
    NICKNAME_OR_PARTIAL = 6
    """A compatible 小名 or part of the name: given name only, one character lost, 阿X."""
    SURNAME_ONLY = 7
    """The surnames agree (at one of the levels above) but the given names do not."""
    DIFFERENT = 8
    """The names disagree."""
