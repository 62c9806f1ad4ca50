"""How a station records a name it is told: the name scenarios of the evaluation.

Each found record of a true pair is labelled with the scenario its name went through, so
metrics can be read per scenario:

============ ==========================================================================
scenario     what the station wrote for a person called 刘建国 (小名 "阿国")
============ ==========================================================================
exact        刘建国
dialect      牛建国: a sound confusion of the speaker's or listener's dialect, or a slip
homophone    刘健国: another character with the same toneless sound
nickname     阿国 / 小国 / 国国 / 老三 / 狗蛋: only the milk name (小名)
given_only   建国: only the given name
no_name      nothing (or a placeholder such as 无名氏)
traditional  劉建國: written in traditional characters
pinyin       Liu Jianguo / LIU JIAN GUO / Jianguo Liu: typed as pinyin
char_lost    刘国: one character lost (a two-character name keeps one)
assigned     党新民: a name the station gave, unrelated to the true one
============ ==========================================================================

This module is written independently of the project's matcher (``matching``): the
evaluation must not share the matcher's idea of what a name confusion is.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from functools import cache
from types import MappingProxyType
from typing import Final

import opencc

from evaluation import census
from evaluation.chars import sound_index, surname_syllables
from evaluation.mishearings import DIALECT_RULES, SoundRule, variant_weight, variants


class Scenario(StrEnum):
    """How the found record's name came to differ from the true name."""

    EXACT = "exact"
    DIALECT = "dialect"
    HOMOPHONE = "homophone"
    NICKNAME = "nickname"
    GIVEN_ONLY = "given_only"
    NO_NAME = "no_name"
    TRADITIONAL = "traditional"
    PINYIN = "pinyin"
    CHAR_LOST = "char_lost"
    ASSIGNED = "assigned"


@dataclass(frozen=True, slots=True)
class TrueName:
    """A person's registered name and the milk name their family calls them."""

    surname: str
    given: str
    nickname: str

    @property
    def full(self) -> str:
        """Surname and given name together."""
        return self.surname + self.given


@dataclass(frozen=True, slots=True)
class RecordedName:
    """What a station wrote, and which scenario actually produced it.

    ``scenario`` can differ from the one asked for when that one cannot change this name
    (a name with no traditional form is recorded as ``EXACT``). ``detail`` says more, for
    example which sound rule a dialect confusion used.
    """

    name: str | None
    aliases: tuple[str, ...]
    scenario: Scenario
    detail: str | None = None


# Weights of the sound rules: the speaker's own dialect dominates; the listener's dialect
# shapes what they hear; a few slips happen to anyone in a noisy intake room.
SPEAKER_RULE_WEIGHT: Final = 3.0
LISTENER_RULE_WEIGHT: Final = 1.0
SLIP_RULE_WEIGHTS: Final = MappingProxyType(
    {SoundRule.ASPIRATION: 0.5, SoundRule.NASAL: 0.3, SoundRule.N_L: 0.3}
)
SECOND_CONFUSION_SHARE: Final = 0.25
NO_NAME_PLACEHOLDER_SHARE: Final = 0.15
TRUE_NICKNAME_SHARE: Final = 0.8
ASSIGNED_STATION_SURNAMES: Final = ("党", "国", "民", "政")

_SOUTHERN_A: Final = frozenset({census.YUE, census.MIN, census.HAKKA, census.WU, census.GAN})
_ZAI: Final = frozenset({census.YUE, census.MIN, census.HAKKA})
_WA: Final = frozenset({census.SOUTHWEST, census.ZHONGYUAN, census.LANYIN, census.JIN})
_NORTH: Final = frozenset(
    {census.BEIJING, census.NORTHEAST, census.JILU, census.JIAOLIAO, census.ZHONGYUAN}
)
_HUMBLE: Final = ("狗蛋", "狗剩", "铁蛋", "石头", "栓柱", "二狗", "毛蛋")
_WISH: Final = ("招娣", "来娣", "盼娣", "引弟", "招弟")
_CHILD_M: Final = ("宝宝", "贝贝", "乐乐", "豆豆", "壮壮", "小宝")
_CHILD_F: Final = ("宝宝", "贝贝", "乐乐", "豆豆", "妞妞", "甜甜")
_ORDER: Final = ("老大", "老二", "老三", "老四", "老五", "老幺")


def make_nickname(
    given: str, *, sex: str, birth_year: int, dialect: str, rng: random.Random
) -> str:
    """A plausible 小名 for a person: 阿X, 小X, XX, X仔, X娃, 老三, 狗蛋, 招娣, 妞妞 ..."""
    last = given[-1]
    options: list[tuple[float, str]] = [
        (3.0 if dialect in _SOUTHERN_A else 0.8, "阿" + last),
        (2.0, "小" + last),
        (2.0 if sex == "F" or birth_year >= 1980 else 0.8, last + last),
        (0.8, rng.choice(_ORDER)),
    ]
    if dialect in _ZAI:
        options.append((1.0, last + "仔"))
    if dialect in _WA:
        options.append((0.8, last + "娃"))
        options.append((0.5, rng.choice(("二娃", "三娃", "幺娃"))))
    if dialect == census.SOUTHWEST and sex == "F":
        options.append((0.5, "幺妹"))
    if dialect in _NORTH:
        options.append((0.3, last + "儿"))
        if sex == "F" and birth_year < 1980:
            options.append((0.5, rng.choice(("大丫", "二丫", "三丫"))))
    if sex == "M" and birth_year < 1990:
        options.append((0.8, rng.choice(_HUMBLE)))
    if sex == "F" and birth_year < 1985:
        options.append((0.6, rng.choice(_WISH)))
    if birth_year >= 2000:
        options.append((1.0, rng.choice(_CHILD_M if sex == "M" else _CHILD_F)))
    weights = [w for w, _ in options]
    return rng.choices([n for _, n in options], weights=weights)[0]


@cache
def _s2t() -> opencc.OpenCC:
    return opencc.OpenCC("s2t")


def _rank_choice(chars: Sequence[str], rng: random.Random) -> str:
    """Pick from a most-common-first list, favouring the common ones."""
    weights = [1.0 / (k + 1) for k in range(len(chars))]
    return rng.choices(list(chars), weights=weights)[0]


def _syllables(name: TrueName) -> list[tuple[int, str, bool]]:
    """``(position, syllable, is_single_surname)`` for every character of the name."""
    index = sound_index()
    out = []
    sur = surname_syllables(name.surname)
    single = len(name.surname) == 1
    for i, syl in enumerate(sur):
        out.append((i, syl, single))
    for j, char in enumerate(name.given):
        out.append((len(name.surname) + j, index.syllable(char), False))
    return out


def _replace(text: str, position: int, char: str) -> str:
    return text[:position] + char + text[position + 1 :]


def _rule_weights(
    speaker_dialect: str, listener_dialect: str
) -> dict[SoundRule, tuple[float, str]]:
    """Each applicable rule's weight and its main source (speaker, listener or slip)."""
    parts: dict[SoundRule, dict[str, float]] = {}
    for rule, weight in SLIP_RULE_WEIGHTS.items():
        parts.setdefault(rule, {})["slip"] = weight
    for rule in DIALECT_RULES.get(listener_dialect, ()):
        parts.setdefault(rule, {})["listener"] = LISTENER_RULE_WEIGHT
    for rule in DIALECT_RULES.get(speaker_dialect, ()):
        parts.setdefault(rule, {})["speaker"] = SPEAKER_RULE_WEIGHT
    return {rule: (sum(by.values()), max(by, key=lambda k: by[k])) for rule, by in parts.items()}


def _dialect(
    name: TrueName, rng: random.Random, *, speaker_dialect: str, listener_dialect: str
) -> RecordedName | None:
    index = sound_index()
    weights = _rule_weights(speaker_dialect, listener_dialect)
    candidates: list[tuple[float, int, str, str, bool]] = []
    full = name.full
    for position, syllable, as_surname in _syllables(name):
        for rule, (weight, source) in weights.items():
            for new in variants(rule, syllable):
                sounding = index.sounding(new, as_surname=as_surname)
                if any(c != full[position] for c in sounding):
                    w = weight * variant_weight(rule, syllable, new)
                    candidates.append((w, position, f"{source}:{rule}", new, as_surname))
    if not candidates:
        return None
    text = full
    used: list[str] = []
    changed: set[int] = set()
    rounds = 2 if rng.random() < SECOND_CONFUSION_SHARE else 1
    for _ in range(rounds):
        open_ = [c for c in candidates if c[1] not in changed]
        if not open_:
            break
        _, position, label, new, as_surname = rng.choices(open_, weights=[c[0] for c in open_])[0]
        chars = [c for c in index.sounding(new, as_surname=as_surname) if c != full[position]]
        text = _replace(text, position, _rank_choice(chars, rng))
        changed.add(position)
        used.append(label)
    return RecordedName(text, (), Scenario.DIALECT, "+".join(used))


def _homophone(name: TrueName, rng: random.Random) -> RecordedName | None:
    index = sound_index()
    full = name.full
    options = []
    for position, syllable, as_surname in _syllables(name):
        chars = [c for c in index.sounding(syllable, as_surname=as_surname) if c != full[position]]
        if chars:
            options.append((position, chars))
    if not options:
        return None
    position, chars = rng.choice(options)
    where = "surname" if position < len(name.surname) else "given"
    return RecordedName(
        _replace(full, position, _rank_choice(chars, rng)), (), Scenario.HOMOPHONE, where
    )


def to_pinyin(name: TrueName, style: int) -> str:
    """The name typed as pinyin in one of five ways staff type it (``style`` 0-4)."""
    index = sound_index()
    surname = "".join(surname_syllables(name.surname))
    given_parts = [index.syllable(c) for c in name.given]
    given = "".join(given_parts)
    match style % 5:
        case 0:
            return f"{surname.capitalize()} {given.capitalize()}"
        case 1:
            return f"{surname.upper()} {given.upper()}"
        case 2:
            return " ".join([surname, *given_parts])
        case 3:
            return f"{given.capitalize()} {surname.capitalize()}"
        case _:
            return surname + given


def _assigned(name: TrueName, rng: random.Random) -> RecordedName:
    index = sound_index()
    pool = list(census.GIVEN_NAME_CHARS[("M", "1990s")] + census.GIVEN_NAME_CHARS[("F", "1990s")])
    given = "".join(rng.choice(pool) for _ in range(rng.choice((1, 2))))
    if rng.random() < 0.55:
        surname = rng.choice(ASSIGNED_STATION_SURNAMES)
        detail = "station_surname"
    else:
        surnames = [s for s, _ in census.SURNAME_SHARES]
        shares = [p for _, p in census.SURNAME_SHARES]
        surname = rng.choices(surnames, weights=shares)[0]
        detail = "made_up"
    assigned = surname + given
    if assigned == name.full:  # vanishingly rare; keep the label honest
        assigned = surname + rng.choice(list(index.given_by_syllable["xin"]))
    aliases = (name.nickname,) if rng.random() < 0.25 else ()
    return RecordedName(assigned, aliases, Scenario.ASSIGNED, detail)


def record_name(
    name: TrueName,
    scenario: Scenario,
    *,
    sex: str,
    birth_year: int,
    speaker_dialect: str,
    listener_dialect: str,
    rng: random.Random,
) -> RecordedName:
    """What a station writes for ``name`` under ``scenario``.

    ``speaker_dialect`` is the person's home dialect group; ``listener_dialect`` that of the
    station's town. When ``scenario`` cannot change this name, the returned scenario says
    what actually happened (``EXACT``).
    """
    full = name.full
    match scenario:
        case Scenario.EXACT:
            return RecordedName(full, (), Scenario.EXACT)
        case Scenario.DIALECT:
            got = _dialect(
                name, rng, speaker_dialect=speaker_dialect, listener_dialect=listener_dialect
            )
            return got or RecordedName(full, (), Scenario.EXACT, "no_confusion_applies")
        case Scenario.HOMOPHONE:
            return _homophone(name, rng) or RecordedName(full, (), Scenario.EXACT, "no_homophone")
        case Scenario.NICKNAME:
            if rng.random() < TRUE_NICKNAME_SHARE:
                return RecordedName(name.nickname, (), Scenario.NICKNAME, "family_nickname")
            other = make_nickname(
                name.given, sex=sex, birth_year=birth_year, dialect=speaker_dialect, rng=rng
            )
            return RecordedName(other, (), Scenario.NICKNAME, "other_nickname")
        case Scenario.GIVEN_ONLY:
            return RecordedName(name.given, (), Scenario.GIVEN_ONLY)
        case Scenario.NO_NAME:
            if rng.random() < NO_NAME_PLACEHOLDER_SHARE:
                placeholder = rng.choice(("无名氏", "无名男" if sex == "M" else "无名女"))
                return RecordedName(placeholder, (), Scenario.NO_NAME, "placeholder")
            return RecordedName(None, (), Scenario.NO_NAME)
        case Scenario.TRADITIONAL:
            converted = _s2t().convert(full)
            if converted == full:
                return RecordedName(full, (), Scenario.EXACT, "no_traditional_form")
            return RecordedName(converted, (), Scenario.TRADITIONAL)
        case Scenario.PINYIN:
            style = rng.randrange(5)
            return RecordedName(to_pinyin(name, style), (), Scenario.PINYIN, f"style{style}")
        case Scenario.CHAR_LOST:
            if len(full) <= 2:
                kept = rng.choice(full)
                return RecordedName(kept, (), Scenario.CHAR_LOST, "one_char_kept")
            position = rng.randrange(len(name.surname), len(full))
            return RecordedName(full[:position] + full[position + 1 :], (), Scenario.CHAR_LOST)
        case Scenario.ASSIGNED:
            return _assigned(name, rng)
    raise ValueError(f"unknown scenario {scenario!r}")
