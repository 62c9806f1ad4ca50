"""Blocking keys: what a name index files a record under, and what a query looks up.

Keys are built from the loosest sound classes (every dialect rule and near-sound at
once; every dialect rule for partial names and 小名), so a record that
:func:`~matching.names.compare.compare_names` would place at NICKNAME_OR_PARTIAL or
better always shares a key with the query, whatever the speaker's region. Surname-only
agreement is keyed apart (``w:``, ``f:``) and looked up only for a query that can be
nothing but a surname (张, 王某): for any other query a shared 王 would touch 7% of all
records and say little.

Kinds of key (prefix):

* ``x:`` the folded name (exact);
* ``s:`` a full reading of every syllable (same length, the same sound);
* ``p:`` the sound classes of every syllable (same length, sounding alike);
* ``q:`` / ``d:`` dialect classes of every syllable / with one syllable or the surname
  left out (partial names match at DIALECT_OTHER at most, so the finer classes do);
* ``e<i>:`` the classes with syllable i replaced by its first letter and a one-letter
  deletion of the rest (one syllable off by a letter);
* ``g:`` / ``n:`` a class of one given-name syllable / of a 小名's core (阿明 and 张晓明);
* ``b:`` a birth-order 小名 (老三, 三娃);
* ``ll:`` / ``lh:`` metaphone codes of a Latin name / of a name in characters or pinyin;
* ``t:`` the metaphone code of one word of a Latin name;
* ``w:`` / ``f:`` the surname as written / its loosest sound classes (filed for every
  surname and every 小名 that may address one; looked up through :func:`surname_keys`);
* ``fe<i>:`` a two-syllable surname with syllable i off by a letter (only in
  :func:`surname_agreement_keys`, which pairs every two names whose surnames may agree).
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from functools import lru_cache
from itertools import product

from matching.names.folds import class_of, sound_classes
from matching.names.forms import NameForm, Position, as_surname, name_forms, usable_names
from matching.names.nicknames import NicknameKind
from matching.names.normalise import Script
from matching.names.readings import is_known_surname

MAX_COMBINATIONS = 256
"""Sound-class combinations keyed per name; beyond this (a very long name of characters
with many readings) the rest are dropped, and such a name may be missed by near-sound."""


def _combos(
    positions: Sequence[Position], *, dialect: bool = False, strong: bool = False
) -> list[tuple[str, ...]]:
    """Combinations of sound classes, one per position: loosest, or dialect-only; or of
    the full readings (``strong``)."""
    out: list[tuple[str, ...]] = []
    classes = (
        sorted(p.strong if strong else p.dialect if dialect else p.coarse) for p in positions
    )
    for combo in product(*classes):
        out.append(combo)
        if len(out) >= MAX_COMBINATIONS:
            break
    return out


def _join(classes: Iterable[str]) -> str:
    return "|".join(classes)


def _given_positions(form: NameForm) -> tuple[Position, ...]:
    """Where a 小名's core may sit in this form (as partial.nickname_fit looks for it)."""
    if form.core is not None or form.uninformative:
        return ()
    return form.given_positions


def _parts(form: NameForm) -> list[tuple[Position, ...]]:
    """Parts a shorter name may equal: the given name, or a part of a dotted name."""
    parts: list[tuple[Position, ...]] = []
    given = form.given_positions
    if form.surname_len and len(given) >= 2:
        parts.append(given)
    parts.extend(form.positions[s:e] for s, e in form.parts if e - s >= 2)
    return parts


def _edit_variants(reading: str) -> set[str]:
    """The reading's first letter with its tail and every one-letter deletion of the tail.

    Two readings one edit apart with the same first letter share a variant (as in
    symmetric-deletion spelling correction), so ``e`` keys pair exactly those.
    """
    head, tail = reading[:1], reading[1:]
    return {head + ":" + tail} | {head + ":" + tail[:k] + tail[k + 1 :] for k in range(len(tail))}


def _edit_keys(positions: Sequence[Position], combo: tuple[str, ...]) -> Iterator[str]:
    for i, position in enumerate(positions):
        rest = _join(combo[:i] + combo[i + 1 :])
        for reading in position.readings:
            for variant in _edit_variants(reading):
                yield f"e{i}:{rest}#{variant}"


def _common(form: NameForm) -> Iterator[str]:
    """Keys filed and looked up alike."""
    # Exact even when two spellings of one key read differently (贺某 / 贺·某).
    yield "x:" + form.key
    if form.nickname is not None and form.nickname.kind is NicknameKind.BIRTH_ORDER:
        yield f"b:{form.nickname.birth_rank}"
    if not form.positions:
        return  # Latin and other scripts: no syllables to key (they have "ll"/"lh"/"t")
    for combo in _combos(form.positions, strong=True):
        yield "s:" + _join(combo)
    for combo in _combos(form.positions):
        yield "p:" + _join(combo)


def _filed(form: NameForm) -> Iterator[str]:
    yield from _common(form)
    if form.phonetic:
        # Latin names file under "ll"; names in characters or pinyin under "lh", which
        # only a Latin query looks up (characters never compare by metaphone together).
        latin = form.script is Script.LATIN
        yield ("ll:" if latin else "lh:") + _join(sorted(form.phonetic))
        if latin:
            yield from ("t:" + code for code in form.phonetic)
    positions = form.positions
    yield from _surname_keys(_surname_addressed(form))
    if form.surname_only or not positions:
        return
    for combo in _combos(positions):
        if len(combo) >= 2:
            yield from _edit_keys(positions, combo)
    # Partial names and 小名 match at DIALECT_OTHER at most: dialect classes suffice.
    for combo in _combos(positions, dialect=True):
        if len(combo) >= 2:
            yield "q:" + _join(combo)
        if len(combo) >= 3:
            for i in range(len(combo)):
                yield "d:" + _join(combo[:i] + combo[i + 1 :])
    for part in _parts(form):
        yield from ("d:" + _join(c) for c in _combos(part, dialect=True))
    core = form.core
    if core is not None:
        yield from ("n:" + c for c in core.dialect)
    for position in _given_positions(form):
        yield from ("g:" + c for c in position.dialect)


def _probed(form: NameForm) -> Iterator[str]:
    yield from _common(form)
    if form.phonetic:
        codes = _join(sorted(form.phonetic))
        yield "ll:" + codes
        if form.script is Script.LATIN:
            yield "lh:" + codes
            yield from ("t:" + code for code in form.phonetic)
    positions = form.positions
    if form.surname_only or not positions:
        return
    for combo in _combos(positions):
        if len(combo) >= 2:
            yield from _edit_keys(positions, combo)
    for combo in _combos(positions, dialect=True):
        yield "d:" + _join(combo)  # records one syllable longer
        if len(combo) >= 3:
            for i in range(len(combo)):
                yield "q:" + _join(combo[:i] + combo[i + 1 :])  # records one shorter
    for part in _parts(form):
        yield from ("q:" + _join(c) for c in _combos(part, dialect=True))
    core = form.core
    if core is not None:
        yield from ("g:" + c for c in core.dialect)
        yield from ("n:" + c for c in core.dialect)
    for position in _given_positions(form):
        yield from ("n:" + c for c in position.dialect)


def _forms(names: Iterable[str | None]) -> Iterator[NameForm]:
    for name in usable_names(names):
        yield from name_forms(name)


def blocking_keys(names: Iterable[str | None], *, regions: Collection[str] = ()) -> set[str]:
    """Keys a record with these names is filed under in a name index.

    ``regions`` is accepted for symmetry with :func:`compare_names` but does not narrow
    the keys: a match through another region's dialect rules (DIALECT_OTHER) must be
    found too, so keys use every rule at once whatever the speaker's region.
    """
    return {key for form in _forms(names) for key in _filed(form)}


def probe_keys(names: Iterable[str | None], *, regions: Collection[str] = ()) -> set[str]:
    """Keys to look up to find every record these names match at NICKNAME_OR_PARTIAL or
    better; region-independent for the same reason as :func:`blocking_keys`."""
    return {key for form in _forms(names) for key in _probed(form)}


def surname_keys(names: Iterable[str | None]) -> set[str]:
    """Keys to look up to find every record these names match at SURNAME_ONLY, when
    every name can only be a surname: a lone character that is a known surname (张), a
    lone Latin word (Zhang) or a surname alone (王某, 王氏). Empty for any other query
    (伟, 小明, 张建明), which wants matches of its given name, not every namesake of a
    surname.

    Not part of :func:`probe_keys`: a shared 王 would touch 7% of all records.
    """
    forms = list(_forms(names))
    if not forms or not all(_only_a_surname(form) for form in forms):
        return set()
    return {key for form in forms for key in _surname_keys(_surname_addressed(form))}


def surname_agreement_keys(names: Iterable[str | None]) -> set[str]:
    """Keys two records share whenever :func:`~matching.names.compare.compare_names`
    could place a pair of their names at SURNAME_ONLY: each reading's surname, or the
    surname a 小名 or lone character may address, as written (``w:``) and as heard
    (``f:``), and for a surname of two syllables also with one syllable off by a letter
    (``fe<i>:``, as ``e<i>:`` for whole names: 长孙 / 仲孙).

    Filed and looked up alike, for every query (unlike :func:`surname_keys`): for a
    caller that must tell pairs whose surnames may agree from pairs whose names say
    nothing alike at all, not for finding candidates.
    """
    keys: set[str] = set()
    for form in _forms(names):
        surname = _surname_addressed(form)
        keys.update(_surname_keys(surname))
        if len(surname) >= 2:
            for combo in _combos(surname):
                keys.update("f" + key for key in _edit_keys(surname, combo))
    return keys


def _only_a_surname(form: NameForm) -> bool:
    """王某, a lone character that is a known surname (张, not 伟), a lone Latin word."""
    nickname, core = form.nickname, form.core
    if form.surname_only:
        return True
    if nickname is None or nickname.kind is not NicknameKind.SINGLE or core is None:
        return False
    return not core.han or is_known_surname(core.text)


def _surname_addressed(form: NameForm) -> tuple[Position, ...]:
    """The surname a form names or may address, read as a surname: its own (刘建华's 刘,
    王某's 王) or that of a lone character or 小名 core that may be one (张, 老王)."""
    if form.surname_len and form.nickname is None:
        return form.surname_positions
    core = form.core
    if core is not None and form.nickname is not None and form.nickname.may_be_surname:
        return (as_surname(core),)
    return ()


def _surname_keys(surname: Sequence[Position]) -> Iterator[str]:
    """The surname as written (``w:``), then its loosest sound classes (``f:``)."""
    if surname:
        yield "w:" + "".join(position.text for position in surname)
        yield from ("f:" + _join(c) for c in _combos(surname))


@lru_cache(maxsize=64)
def _class_members(rule_ids: frozenset[str]) -> Mapping[str, frozenset[str]]:
    members: defaultdict[str, set[str]] = defaultdict(set)
    for syllable, name in sound_classes(rule_ids).items():
        members[name].add(syllable)
    return {name: frozenset(syllables) for name, syllables in members.items()}


def sound_stage_keys(
    names: Iterable[str | None], speaker_rules: frozenset[str]
) -> tuple[set[str], set[str]] | None:
    """Keys that pick out, among the records of the same length, those that may match
    ``names`` in the speaker's dialect and those that may match in some region's.

    The first are ``s:`` keys of every way the names may be heard under
    ``speaker_rules`` (each syllable's strong readings and what those rules merge them
    with: a DIALECT_SPEAKER match agrees so at every syllable); the second the ``q:``
    keys of every syllable's dialect classes. None when they could miss such a record:
    a name of fewer than two syllables (records file no ``q:`` key for one; Latin names
    have none), or more ways to hear it than :data:`MAX_COMBINATIONS`.
    """
    forms = list(_forms(names))
    if not forms or any(len(form.positions) < 2 for form in forms):
        return None
    speaker: set[str] = set()
    dialect: set[str] = set()
    classes, members = sound_classes(speaker_rules), _class_members(speaker_rules)
    for form in forms:
        heard = [
            sorted({s for r in p.strong for s in members.get(class_of(classes, r), {r})})
            for p in form.positions
        ]
        dialects = [sorted(p.dialect) for p in form.positions]
        if max(math.prod(map(len, heard)), math.prod(map(len, dialects))) > MAX_COMBINATIONS:
            return None
        speaker.update("s:" + _join(combo) for combo in product(*heard))
        dialect.update("q:" + _join(combo) for combo in product(*dialects))
    return speaker, dialect
