"""Partial names and 小名: when part of a name, or a milk name, fits a full name.

* the given name alone (建华 / 刘建华), one part of a dotted name (买买提 /
  买买提·吐尔逊), or one character lost (王华 / 王建华);
* a 小名 whose core is in the given name (阿明 / 张晓明, 明明 / 王明), two 小名 with one
  core (阿明 / 明仔), or a 小名 that may address the surname (老王 / 王建华).

The parts must sound alike at DIALECT_OTHER or better: a partial name that is also
misheard is too weak to tell from chance.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from matching.names.forms import NameForm, Position, as_surname
from matching.names.levels import NameLevel
from matching.names.nicknames import NicknameKind
from matching.names.sound import sound_match

_LOOSEST = NameLevel.DIALECT_OTHER


@dataclass(frozen=True, slots=True)
class Fit:
    """How part of a name, or a 小名, fits another name."""

    level: NameLevel
    what: str
    """A few plain words: "given name only", "the 小名 fits the given name"."""
    given: tuple[Position, ...] = ()
    """The given-name part that agrees, for weighing its rarity."""
    surname: tuple[Position, ...] = ()
    """The surname that agrees, for weighing its share."""
    addressed: tuple[Position, ...] = ()
    """The character taken for that surname (张 alone, 王 of 老王), weighed with it: a
    sound-alike surname is no rarer than the one heard."""


def _alike(a: Sequence[Position], b: Sequence[Position], speaker_rules: frozenset[str]) -> bool:
    return sound_match(a, b, speaker_rules, loosest=_LOOSEST) is not None


def partial_fit(longer: NameForm, shorter: NameForm, speaker_rules: frozenset[str]) -> Fit | None:
    """Whether ``shorter`` is part of ``longer``: the given name only, or a character lost."""
    part = shorter.positions
    if len(part) < 2 or shorter.surname_only or longer.surname_only:
        return None
    level = NameLevel.NICKNAME_OR_PARTIAL
    given = longer.given_positions
    if longer.surname_len and len(given) == len(part) and _alike(given, part, speaker_rules):
        return Fit(level, "given name only", given=part)
    for start, end in longer.parts:
        piece = longer.positions[start:end]
        if len(piece) == len(part) and _alike(piece, part, speaker_rules):
            return Fit(level, "one part of the name", given=part)
    if len(longer.positions) == len(part) + 1:
        for i in range(len(longer.positions)):
            rest = longer.positions[:i] + longer.positions[i + 1 :]
            if _alike(rest, part, speaker_rules):
                return Fit(level, "one character lost", given=shorter.given_positions)
    return None


def nickname_fit(nickname: NameForm, other: NameForm, speaker_rules: frozenset[str]) -> Fit | None:
    """Whether the 小名 ``nickname`` fits ``other``: its core in the given name, the core
    of another 小名, or the surname it may address (小王, 老王)."""
    core = nickname.core
    if core is None or nickname.nickname is None:
        return None
    other_core = other.core
    if other_core is not None:
        if _alike((core,), (other_core,), speaker_rules):
            return Fit(NameLevel.NICKNAME_OR_PARTIAL, "both 小名 of one character", (core,))
        return None
    if other.uninformative:
        return None
    for position in other.given_positions:
        if _alike((core,), (position,), speaker_rules):
            return Fit(NameLevel.NICKNAME_OR_PARTIAL, "the 小名 fits the given name", (core,))
    if other.surname_len == 1:
        surname = other.surname_positions
        what = how_surname_is_addressed(nickname, surname, speaker_rules,
                                        otherwise="the 小名 may address the surname")  # fmt: skip
        if what is not None:
            return Fit(NameLevel.SURNAME_ONLY, what, surname=surname, addressed=(core,))
    return None


def how_surname_is_addressed(
    nickname: NameForm,
    surname: Sequence[Position],
    speaker_rules: frozenset[str],
    *,
    otherwise: str,
) -> str | None:
    """How the 小名 ``nickname`` may address ``surname`` (小王 / 王伟, 张 / 张伟), in words
    (``otherwise`` for a 小名 of more than one character), or None if it may not."""
    core = nickname.core
    if core is None or nickname.nickname is None or not nickname.nickname.may_be_surname:
        return None
    if sound_match((as_surname(core),), surname, speaker_rules) is None:
        return None
    if nickname.nickname.kind is NicknameKind.SINGLE:
        return lone_character_as_surname(core, surname)
    return otherwise


def lone_character_as_surname(core: Position, surname: Sequence[Position]) -> str:
    """How a lone character taken for a surname agrees with it, in words: written the
    same (张 / 张伟), read the same (章 / 张伟, zhang / 张伟) or only heard alike."""
    if core.text == "".join(position.text for position in surname):
        return "a lone character, the same as the surname"
    if len(surname) == 1 and as_surname(core).strong & surname[0].strong:
        return "a lone character that reads as the surname"
    return "a lone character, heard like the surname"
