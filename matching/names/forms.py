"""The ways one written name can be read, ready for comparing.

A name may be read in more than one way: "jianhua liu" may be surname-last; 宗政华 may
be 宗政 + 华 or 宗 + 政华; 王妹 may be a 小名 or a full name. :func:`name_forms` returns
every reading as a :class:`NameForm`, a sequence of syllable positions with the surname
marked, computed once per distinct name string.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from functools import cache, lru_cache
from itertools import islice, product

import jellyfish

from matching.names.folds import class_of, coarse_classes, dialect_classes
from matching.names.nicknames import Nickname, NicknameKind, parse_nickname
from matching.names.normalise import (
    NameWord,
    NormalisedName,
    Script,
    WordKind,
    is_missing_name,
    normalise_name,
)
from matching.names.readings import (
    COMPOUND_SURNAMES,
    CharReading,
    char_readings,
    default_reading,
    given_reading,
    is_known_surname,
    split_name,
    surname_reading,
)
from matching.names.syllables import MAX_READINGS, readings_of_typed

# Words after a surname that mean the name itself is not known: 王某, 王氏, 王师傅.
_SURNAME_ONLY_SUFFIXES = (
    "某某", "某", "氏", "先生", "女士", "小姐", "师傅", "大爷", "大妈", "大娘", "大叔",
    "大哥", "大姐", "阿姨", "老汉", "老头", "老太", "老太太", "奶奶", "爷爷", "婆婆",
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class Position:
    """One syllable of a name: a Han character or a typed pinyin syllable.

    ``strong`` readings count fully; ``readings`` adds the weaker ones (a surname's
    everyday reading). ``coarse`` are the loosest sound classes of all readings, under
    every rule; ``dialect`` the classes under every dialect rule but no near-sound.
    """

    text: str
    han: bool
    strong: frozenset[str]
    readings: frozenset[str]
    coarse: frozenset[str]
    dialect: frozenset[str]


@dataclass(frozen=True, slots=True)
class NameForm:
    """One reading of a written name."""

    original: str
    key: str
    script: Script
    positions: tuple[Position, ...]
    surname_len: int
    """How many leading positions are the surname; 0 when there is no known surname."""
    nickname: Nickname | None = None
    surname_only: bool = False
    """True for 王某, 王氏, 王师傅: only the surname is known."""
    phonetic: tuple[str, ...] = ()
    """Metaphone codes of the Latin words, or of the pinyin of the surname and the given
    name, for comparing with Latin names that are not pinyin ("Lee Ming", "Wong")."""
    parts: tuple[tuple[int, int], ...] = ()
    """Position ranges of the parts of a dotted name (买买提·吐尔逊)."""

    @property
    def surname_positions(self) -> tuple[Position, ...]:
        """The positions of the surname (none when no surname is known)."""
        return self.positions[: self.surname_len]

    @property
    def given_positions(self) -> tuple[Position, ...]:
        """The positions of the given name: after the surname, or all without one."""
        return () if self.surname_only else self.positions[self.surname_len :]

    @property
    def core(self) -> Position | None:
        """The position of a 小名's core character: 明 in 阿明 or 明仔; None otherwise."""
        if self.nickname is None or self.nickname.core is None or not self.positions:
            return None
        if self.nickname.kind is NicknameKind.PREFIXED:
            return self.positions[-1]
        return self.positions[0]

    @property
    def uninformative(self) -> bool:
        """A 小名 that carries no character of the formal name (老三, 狗蛋, 招娣)."""
        return self.nickname is not None and not self.nickname.echoes_formal_name


def _make_position(text: str, han: bool, strong: frozenset[str], weak: frozenset[str]) -> Position:
    everything = strong | weak
    coarse, dialect = coarse_classes(), dialect_classes()
    return Position(
        text,
        han,
        strong,
        everything,
        frozenset(class_of(coarse, r) for r in everything),
        frozenset(class_of(dialect, r) for r in everything),
    )


@lru_cache(maxsize=65536)
def _position(reading: CharReading) -> Position:
    # Cached: the same character read the same way is one shared object in every name.
    return _make_position(reading.char, True, reading.strong, reading.weak)


def as_surname(position: Position) -> Position:
    """A character taken for a surname, read as one (王 as wang, not also yù; 曾 as zeng
    first, its everyday reading kept as a weak one): how a lone character or a 小名's
    core that may address a surname is compared."""
    if not position.han:
        return position
    return _position(surname_reading(position.text)[0])


@lru_cache(maxsize=4096)
def _typed_position(syllable: str) -> Position:
    return _make_position(syllable, False, readings_of_typed(syllable), frozenset())


def _han_forms(name: NormalisedName) -> list[NameForm]:
    chars = name.key
    base = NameForm(name.original, name.key, name.script, positions=(), surname_len=0)
    if name.dotted:
        # Minority names: parts are personal and father's names, not surname + given.
        positions = tuple(_position(r) for r in given_reading(chars))
        parts: list[tuple[int, int]] = []
        start = 0
        for word in name.words:
            parts.append((start, start + len(word.text)))
            start += len(word.text)
        return [replace(base, positions=positions, surname_len=0, parts=tuple(parts))]
    for suffix in _SURNAME_ONLY_SUFFIXES:
        surname = chars[: -len(suffix)]
        if chars.endswith(suffix) and surname and is_known_surname(surname):
            positions = tuple(_position(r) for r in surname_reading(surname))
            return [replace(base, positions=positions, surname_len=len(surname), surname_only=True)]
    forms: list[NameForm] = []
    nickname = parse_nickname(chars)
    if nickname is not None:
        positions = tuple(_position(r) for r in given_reading(chars))
        single_surname = nickname.kind is NicknameKind.SINGLE and is_known_surname(chars)
        if single_surname:
            # A lone 明 may be the surname or the given name: every reading counts.
            (as_surname,) = surname_reading(chars)
            both = CharReading(chars, as_surname.strong | char_readings(chars), as_surname.weak)
            positions = (_position(both),)
        forms.append(
            replace(
                base,
                positions=positions,
                surname_len=1 if single_surname else 0,
                nickname=nickname,
            )
        )
        # 王妹, 李子: a 小名 shape, but also a plain surname + given name.
        full_name_too = nickname.kind is NicknameKind.SUFFIXED and is_known_surname(chars[0])
        if not full_name_too:
            return forms
    for split in split_name(chars):
        readings = surname_reading(split.surname) + given_reading(split.given)
        forms.append(
            replace(
                base,
                positions=tuple(_position(r) for r in readings),
                surname_len=len(split.surname),
            )
        )
    return forms


@cache
def _compound_syllables() -> frozenset[tuple[str, str]]:
    return frozenset(COMPOUND_SURNAMES.values())


def _latin_surname_len(syllables: list[tuple[str, ...]]) -> int:
    """How many syllables of the first word are a surname, reading it surname-first."""
    first = syllables[0]
    if len(syllables) > 1:
        if len(first) == 1 or tuple(first) in _compound_syllables():
            return len(first)
        return 0
    if len(first) >= 3 and tuple(first[:2]) in _compound_syllables():
        return 2
    return 1


def _word_positions(
    word: NameWord, syllables: tuple[str, ...] | None, *, first: bool
) -> list[Position]:
    """The positions of one word: its characters' readings (a surname's first, if it
    comes first), or the syllables of a pinyin word as split."""
    if word.kind is WordKind.HAN:
        if first:
            split = split_name(word.text)[0]
            readings = surname_reading(split.surname) + given_reading(split.given)
        else:
            readings = given_reading(word.text)
        return [_position(r) for r in readings]
    return [_typed_position(s) for s in syllables or ()]


def _word_splits(order: list[NameWord]) -> list[tuple[tuple[str, ...] | None, ...]]:
    """The syllables of each word, the likeliest split first, then other splits of a
    pinyin word typed without its apostrophe: at most MAX_READINGS ways for one word
    order (so at most twice as many forms for a name, in both orders)."""
    choices = [(w.syllables, *w.other_syllables) for w in order]
    return list(islice(product(*choices), MAX_READINGS))


def _latin_forms(name: NormalisedName) -> list[NameForm]:
    base = NameForm(name.original, name.key, name.script, positions=(), surname_len=0)
    phonetic = tuple(w.phonetic for w in name.words if w.phonetic)
    if name.script is Script.LATIN:
        return [replace(base, positions=(), surname_len=0, phonetic=phonetic)]
    words = list(name.words)
    orders = [words]
    if len(words) >= 2:
        # "jianhua liu": the surname may come last, as in Western order.
        orders.append([words[-1], *words[:-1]])
    forms: list[NameForm] = []
    splits = [(order, split) for order in orders for split in _word_splits(order)]
    for order, split in splits:
        positions: list[Position] = []
        for index, (word, word_split) in enumerate(zip(order, split, strict=True)):
            positions.extend(_word_positions(word, word_split, first=index == 0))
        syllables = [
            word_split if word_split is not None else tuple(word.text)
            for word, word_split in zip(order, split, strict=True)
        ]
        if order[0].kind is WordKind.LATIN:
            surname_len = _latin_surname_len(syllables)
        else:
            surname_len = len(split_name(order[0].text)[0].surname)
        nickname = None
        if len(positions) == 1:
            nickname = Nickname(NicknameKind.SINGLE, core=positions[0].text, may_be_surname=True)
        forms.append(
            replace(
                base,
                positions=tuple(positions),
                surname_len=min(surname_len, len(positions)),
                nickname=nickname,
                phonetic=phonetic,
            )
        )
    return forms


def _romanised(form: NameForm) -> NameForm:
    """Give a form read from characters the metaphone codes of its pinyin, so a Latin name
    that is not pinyin ("Lee Ming", "Wong") can still be compared with it."""
    if form.phonetic or not form.positions or form.surname_only:
        return form
    surname = "".join(sorted(p.strong)[0] for p in form.surname_positions)
    given = "".join(default_reading(p.text) for p in form.given_positions)
    codes = (jellyfish.metaphone(part.replace("v", "u")) for part in (surname, given) if part)
    return replace(form, phonetic=tuple(c for c in codes if c))


# A name index compares a query with hundreds of records' names, each needing its forms
# (about 0.1 ms to build). Names repeat (王伟, 张秀英, 阿明), so a large cache holds most
# of a million reports' names: at 1,000,000 reports it took a query's p90 from 27 ms to
# 20 ms, for about 140 MB when full.
@lru_cache(maxsize=262_144)
def name_forms(name: str) -> tuple[NameForm, ...]:
    """Every reading of a written name; empty when it holds no name (无名氏, 不详, "")."""
    if is_missing_name(name):
        return ()
    normalised = normalise_name(name)
    script = normalised.script
    if script is Script.HAN:
        return tuple(_romanised(f) for f in _han_forms(normalised))
    if script in (Script.PINYIN, Script.MIXED, Script.LATIN):
        return tuple(_latin_forms(normalised))
    return (NameForm(name, normalised.key, script, positions=(), surname_len=0),)


def usable_names(names: Iterable[str | None]) -> list[str]:
    """One record's names that can be compared: None, "" and placeholders (无名氏) dropped.

    Raises TypeError for a bare string, which would otherwise be taken character by
    character as a list of one-character names.
    """
    if isinstance(names, str):
        raise TypeError("expected a list of names, got a single string: wrap it in a list")
    return [n for n in names if n is not None and name_forms(n)]
