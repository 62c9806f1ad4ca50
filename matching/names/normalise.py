"""Normalising names without losing them.

A stored name is never rewritten. :func:`normalise_name` returns the original beside a
folded comparison key and the words it was read as:

* full-width forms become half-width (NFKC), traditional characters become simplified
  (OpenCC ``t2s``, plus a few name variants OpenCC leaves apart, such as 锺/钟);
* case, spaces, separators and the middle dots of minority names (``·•・``) are dropped
  from the key, but word boundaries are kept for reading Latin names in either order;
* Latin words are tried as pinyin (``Liu Jianhua``, ``jianhua liu``, ``LIUJIANHUA``,
  ``Liu Jian-hua``, ü typed as ``v`` or ``u``); words that are not pinyin get a metaphone
  code so Latin names can still be compared by sound.

OpenCC is lossy for names (鍾 becomes 钟, but in names it is 锺), which is why the key is
only ever used for comparing, never stored in place of the name.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from enum import StrEnum
from functools import cache, lru_cache

import jellyfish
import opencc

from matching.names.syllables import pinyin_readings


class Script(StrEnum):
    """What a name is written in, as far as comparing it goes."""

    EMPTY = "empty"
    HAN = "han"
    PINYIN = "pinyin"
    LATIN = "latin"
    MIXED = "mixed"
    OTHER = "other"


class WordKind(StrEnum):
    """The kind of one word of a name."""

    HAN = "han"
    LATIN = "latin"
    OTHER = "other"


@dataclass(frozen=True, slots=True)
class NameWord:
    """One word of a name after folding.

    ``text`` is simplified Han characters, lowercase Latin letters (ü as ``v``) or other
    letters; ``syllables`` is the pinyin reading of a Latin word, or None when the word
    is not pinyin (the likeliest split when there are several); ``phonetic`` is the
    metaphone code of a Latin word.
    """

    text: str
    kind: WordKind
    syllables: tuple[str, ...] | None = None
    phonetic: str = ""
    other_syllables: tuple[tuple[str, ...], ...] = ()
    """Other ways to split a pinyin word, had the typist left out an apostrophe
    (:func:`~matching.names.syllables.pinyin_readings`)."""


@dataclass(frozen=True, slots=True)
class NormalisedName:
    """A name as written (``original``) beside what it is compared as."""

    original: str
    key: str
    script: Script
    words: tuple[NameWord, ...]
    dotted: bool
    """True when a middle dot separated the parts, as in 买买提·吐尔逊."""


# Name forms OpenCC does not fold together although they are one name character.
_NAME_VARIANTS = str.maketrans({"锺": "钟"})
_U_UMLAUT = str.maketrans(
    {"ü": "v", "ǖ": "v", "ǘ": "v", "ǚ": "v", "ǜ": "v", "Ü": "V", "Ǖ": "V", "Ǘ": "V", "Ǚ": "V"}
    | {"Ǜ": "V", "’": "'", "‘": "'", "ʼ": "'"}
)
_MIDDLE_DOTS = frozenset("·•・‧∙⋅･●")
_JOINERS = frozenset("'-")
_CAMEL = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+")

# Placeholders stations write when there is no name; compared on the folded key.
_PLACEHOLDERS = frozenset(
    {
        "无", "无名", "无名氏", "佚名", "不详", "未详", "未知", "不知", "不知道", "不清楚",
        "说不清", "待查", "待定", "姓名不详", "名字不详", "姓名未知", "某", "某某", "某人",
        "男", "女", "某男", "某女", "哑巴", "聋哑人", "傻子", "疯子", "流浪汉",
        "流浪人员", "unknown", "unk", "none", "null", "nil", "noname", "xxx", "xx",
    }
)  # fmt: skip
_PLACEHOLDER_PREFIXES = ("无名", "未知", "不详", "姓名不详")
_RAW_PLACEHOLDERS = frozenset({"n/a", "n.a.", "n.a", "-", "--", "?", "??"})


@cache
def _t2s() -> opencc.OpenCC:
    # Built once, on first use: loading the conversion tables takes a while.
    return opencc.OpenCC("t2s")


def is_han(char: str) -> bool:
    """Whether ``char`` is a CJK ideograph (any extension block, or 〇)."""
    code = ord(char)
    return (
        0x4E00 <= code <= 0x9FFF
        or 0x3400 <= code <= 0x4DBF
        or 0x20000 <= code <= 0x323AF
        or 0xF900 <= code <= 0xFAFF
        or code == 0x3007
    )


def _is_latin_letter(char: str) -> bool:
    return ("a" <= char <= "z") or ("A" <= char <= "Z")


def _strip_marks(char: str) -> str:
    if char.isascii():
        return char
    code = ord(char)
    if 0x00C0 <= code <= 0x024F or 0x1E00 <= code <= 0x1EFF:
        decomposed = unicodedata.normalize("NFKD", char)
        return "".join(c for c in decomposed if not unicodedata.combining(c))
    return char


def _runs(text: str) -> tuple[list[tuple[WordKind, str]], bool]:
    """Cut prepared text into runs of one kind; report whether a middle dot split Han."""
    runs: list[tuple[WordKind, str]] = []
    kind: WordKind | None = None
    buf: list[str] = []
    dot_pending = False
    dotted = False
    for char in text:
        if is_han(char):
            this: WordKind | None = WordKind.HAN
        elif _is_latin_letter(char) or (char in _JOINERS and kind is WordKind.LATIN):
            this = WordKind.LATIN
        elif char.isalpha():
            this = WordKind.OTHER
        else:
            this = None
        if this is not kind or this is None:
            if kind is not None and buf:
                runs.append((kind, "".join(buf)))
            buf = []
            if this is WordKind.HAN and dot_pending and runs and runs[-1][0] is WordKind.HAN:
                dotted = True
            kind = this
        if this is None:
            dot_pending = dot_pending or char in _MIDDLE_DOTS
            continue
        dot_pending = False
        buf.append(char)
    if kind is not None and buf:
        runs.append((kind, "".join(buf)))
    return runs, dotted


def _latin_words(run: str) -> list[str]:
    """Split a Latin run into words: CamelCase starts a word, ``-`` and ``'`` do not."""
    words: list[str] = []
    for index, piece in enumerate(re.split(r"([-'])", run)):
        if piece in _JOINERS:
            if words:
                words[-1] += piece
            continue
        parts = _CAMEL.findall(piece)
        if not parts:
            continue
        if index > 0 and words and words[-1][-1:] in _JOINERS:
            words[-1] += parts[0]
            parts = parts[1:]
        words.extend(parts)
    return [w.strip("-'") for w in words if w.strip("-'")]


def _latin_word(raw: str) -> NameWord:
    lowered = raw.lower()
    text = lowered.replace("'", "").replace("-", "")
    phonetic = jellyfish.metaphone(text.replace("v", "u"))
    readings = pinyin_readings(lowered)
    syllables = readings[0] if readings else None
    return NameWord(text, WordKind.LATIN, syllables, phonetic, readings[1:])


def _script(words: tuple[NameWord, ...]) -> Script:
    kinds = {w.kind for w in words}
    if not words:
        return Script.EMPTY
    if kinds == {WordKind.HAN}:
        return Script.HAN
    all_pinyin = all(w.syllables is not None for w in words if w.kind is WordKind.LATIN)
    if kinds == {WordKind.LATIN}:
        return Script.PINYIN if all_pinyin else Script.LATIN
    if kinds == {WordKind.HAN, WordKind.LATIN} and all_pinyin:
        return Script.MIXED
    return Script.OTHER


def _fold_once(text: str) -> NormalisedName:
    prepared = unicodedata.normalize("NFKC", text).replace("u:", "v").translate(_U_UMLAUT)
    prepared = "".join(_strip_marks(c) for c in prepared)
    runs, dotted = _runs(prepared)
    words: list[NameWord] = []
    for kind, run in runs:
        if kind is WordKind.HAN:
            simplified = _t2s().convert(run).translate(_NAME_VARIANTS)
            words.append(NameWord(simplified, WordKind.HAN))
        elif kind is WordKind.LATIN:
            words.extend(_latin_word(w) for w in _latin_words(run))
        else:
            words.append(NameWord(unicodedata.normalize("NFC", run.casefold()), WordKind.OTHER))
    folded = tuple(words)
    key = "".join(w.text for w in folded)
    return NormalisedName(text, key, _script(folded), folded, dotted)


@lru_cache(maxsize=16384)
def normalise_name(text: str) -> NormalisedName:
    """Read a name as written into its folded key and words; the original is kept.

    Idempotent on the key: ``normalise_name(n.key).key == n.key``.
    """
    result = _fold_once(text)
    if result.key == text:
        return result  # already folded: folding again gives the same
    # Folding is a fixpoint for ordinary names; the loop guards against odd Unicode whose
    # NFKC or t2s image would fold further on a second pass.
    for _ in range(3):
        again = _fold_once(result.key)
        if again.key == result.key:
            break
        result = NormalisedName(text, again.key, result.script, result.words, result.dotted)
    return result


def fold_name(text: str) -> str:
    """The folded comparison key of a name: simplified, half-width, lowercase, no spaces.

    >>> fold_name("劉 建華")
    '刘建华'
    >>> fold_name("LIU Jian-hua")
    'liujianhua'
    """
    return normalise_name(text).key


def is_missing_name(text: str | None) -> bool:
    """Whether ``text`` holds no name: empty, or a placeholder such as 无名氏 or 不详."""
    if text is None:
        return True
    raw = text.strip().casefold()
    if not raw or raw in _RAW_PLACEHOLDERS:
        return True
    key = fold_name(text)
    return not key or key in _PLACEHOLDERS or key.startswith(_PLACEHOLDER_PREFIXES)
