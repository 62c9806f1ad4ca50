"""Comparing the names of two records: the public entry point of name matching.

Each side is a list of names (stated name, aliases, 小名). Every pair of names, and every
reading of each name, is compared; the strongest level found wins. A pair that cannot
say anything (a birth-order 小名 against a registered name, different scripts) gives no
evidence rather than a disagreement; if no pair gives evidence the result is NULL.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from functools import lru_cache

from matching.names.dialects import RuleKind, regions_of_rules, rule_by_id, rules_for_regions
from matching.names.forms import NameForm, Position, as_surname, name_forms, usable_names
from matching.names.frequency import given_rarity_of, surname_share_of
from matching.names.levels import NameLevel
from matching.names.nicknames import YOUNGEST, NicknameKind
from matching.names.normalise import Script
from matching.names.partial import how_surname_is_addressed, nickname_fit, partial_fit
from matching.names.readings import default_reading
from matching.names.regions import english_name, resolve_regions
from matching.names.sound import SoundMatch, sound_match


@dataclass(frozen=True, slots=True)
class NameComparison:
    """The outcome of comparing two records' names, with the evidence in plain words.

    ``left`` and ``right`` are the names, as written, that gave the winning level;
    ``rule_id`` names the dialect or near-sound rules used ("n_l", "f_hu+g_k");
    ``surname_share`` is how common the agreeing surname is (the larger share of the two
    sides); ``given_rarity`` is how rare the agreeing given name is, in bits (the
    smaller of the two sides). Both are None when that part does not agree.
    """

    level: NameLevel
    reason: str
    left: str | None
    right: str | None
    rule_id: str | None = None
    surname_share: float | None = None
    given_rarity: float | None = None


@dataclass(frozen=True, slots=True)
class _Context:
    speaker: frozenset[str]
    speaker_rules: frozenset[str]


# --- weighing and wording --------------------------------------------------------------


def _text(positions: Sequence[Position]) -> tuple[str, bool]:
    """A part of a name as text for the frequency tables, and whether it is characters."""
    han = bool(positions) and positions[0].han
    return ("" if han else " ").join(p.text for p in positions), han


def _surname_share(*surnames: Sequence[Position]) -> float | None:
    """The larger share of the given surnames, or None if any is missing."""
    if not surnames or not all(surnames):
        return None
    shares = []
    for surname in surnames:
        text, han = _text(surname)
        shares.append(surname_share_of(text, han=han))
    return max(shares)


def _given_rarity(*givens: Sequence[Position]) -> float | None:
    """The smaller rarity of the given names present, or None if there are none."""
    rarities = []
    for given in givens:
        if given:
            text, han = _text(given)
            rarities.append(given_rarity_of(text, han=han))
    return min(rarities) if rarities else None


def _given_part(form: NameForm) -> tuple[Position, ...]:
    """What of a name stands for the given name: a 小名's core, or nothing for 老三."""
    if form.core is not None:
        return (form.core,)
    return () if form.uninformative else form.given_positions


def _regions_text(provinces: Sequence[str]) -> str:
    names = [english_name(p) for p in provinces]
    return "/".join(names[:3]) + ("..." if len(names) > 3 else "")


def _same_reading(a: Sequence[Position], b: Sequence[Position]) -> str:
    """The shared reading of each position, the most common one where there are several."""
    out = []
    for p, q in zip(a, b, strict=True):
        shared = p.strong & q.strong
        usual = default_reading(p.text) if p.han else p.text
        out.append(usual if usual in shared or not shared else sorted(shared)[0])
    return " ".join(out)


def _describe(match: SoundMatch, speaker: frozenset[str]) -> tuple[str, str | None]:
    """How two sequences sound alike, in a few words, and the ids of the rules used."""
    labels = ", ".join(rule_by_id(r).label for r in match.rule_ids)
    ids = list(match.rule_ids)
    dialect = [r for r in ids if rule_by_id(r).kind is RuleKind.DIALECT]
    if match.level is NameLevel.SAME_SOUND:
        return "the same", None
    if match.level is NameLevel.DIALECT_SPEAKER:
        where = _regions_text([p for p in regions_of_rules(dialect) if p in speaker])
        return f"alike in {where} speech ({labels})", "+".join(ids)
    if match.level is NameLevel.DIALECT_OTHER:
        where = _regions_text(regions_of_rules(dialect))
        tail = ", not the speaker's region" if speaker else ""
        return f"alike in {where} speech ({labels}){tail}", "+".join(ids)
    extras = [labels] if labels else []
    if match.weak_reading:
        extras.append("the surname's everyday reading")
        ids.append("surname_reading")
    if match.edited:
        extras.append("one syllable off by a letter")
        ids.append("edit")
    return f"near ({'; '.join(extras)})", "+".join(ids) or None


def _result(
    level: NameLevel,
    reason: str,
    a: NameForm,
    b: NameForm,
    *,
    rule_id: str | None = None,
    surname_share: float | None = None,
    given_rarity: float | None = None,
) -> NameComparison:
    return NameComparison(
        level,
        f"{reason}: {a.original} / {b.original}",
        a.original,
        b.original,
        rule_id,
        surname_share,
        given_rarity,
    )


# --- one reading against another -------------------------------------------------------


def _compare_latin(a: NameForm, b: NameForm) -> NameComparison | None:
    """Latin names that are not pinyin, compared by metaphone codes in any word order.

    Against a name in characters or pinyin the codes of its pinyin are used ("Lee Ming"
    and 李明), which is weaker: romanisations vary (Wong, Chan, Lee).
    """
    if not a.phonetic or not b.phonetic:
        return None
    both_latin = a.script is Script.LATIN and b.script is Script.LATIN
    left, right = sorted(a.phonetic), sorted(b.phonetic)
    if left == right:
        if both_latin:
            return _result(NameLevel.SAME_SOUND, "Latin names sound the same (metaphone)", a, b)
        return _result(NameLevel.NEAR_SOUND, "romanised names sound alike (metaphone)", a, b)
    if both_latin and (set(left) < set(right) or set(right) < set(left)):
        return _result(NameLevel.NICKNAME_OR_PARTIAL, "part of the Latin name", a, b)
    return _result(NameLevel.DIFFERENT, "names differ", a, b)


def _compare_surname_only(a: NameForm, b: NameForm, ctx: _Context) -> NameComparison | None:
    """王某, 王氏: only a surname is known, so only surnames can agree."""
    known, other = (a, b) if a.surname_only else (b, a)
    if other.surname_only or (other.surname_len and other.nickname is None):
        match = sound_match(known.surname_positions, other.surname_positions, ctx.speaker_rules)
        if match is None:
            return _result(NameLevel.DIFFERENT, "surnames differ", a, b)
        how, rule_id = _describe(match, ctx.speaker)
        return _result(
            NameLevel.SURNAME_ONLY,
            f"only a surname is known, and it sounds {how}",
            a,
            b,
            rule_id=rule_id,
            surname_share=_surname_share(known.surname_positions, other.surname_positions),
        )
    addresses = "only a surname is known, and the 小名 may address it"
    what = how_surname_is_addressed(other, known.surname_positions, ctx.speaker_rules,
                                    otherwise=addresses)  # fmt: skip
    if what is not None and other.core is not None:
        # Weighed as the commoner of the two, as for a lone character (张 / 章某).
        share = _surname_share(known.surname_positions, (as_surname(other.core),))
        return _result(NameLevel.SURNAME_ONLY, what, a, b, surname_share=share)
    return None  # a surname against a 小名 or a name without surname: nothing to compare


def _birth_ranks(a: NameForm, b: NameForm) -> tuple[int, int] | None:
    """The birth ranks of two birth-order 小名 (老三, 二娃), or None if either is not one."""
    ranks = [
        f.nickname.birth_rank
        for f in (a, b)
        if f.nickname is not None and f.nickname.kind is NicknameKind.BIRTH_ORDER
    ]
    if len(ranks) == 2 and ranks[0] is not None and ranks[1] is not None:
        return ranks[0], ranks[1]
    return None


def _birth_rank_text(rank: int) -> str:
    return "youngest" if rank == YOUNGEST else f"number {rank}"


def _compare_forms(a: NameForm, b: NameForm, ctx: _Context) -> NameComparison | None:
    """Compare one reading of each name; None when the pair gives no evidence."""
    if a.key == b.key:
        return _result(
            NameLevel.EXACT,
            "same name after folding",
            a,
            b,
            surname_share=_surname_share(a.surname_positions, b.surname_positions),
            given_rarity=_given_rarity(_given_part(a), _given_part(b)),
        )
    if Script.LATIN in (a.script, b.script):
        return _compare_latin(a, b)
    if not a.positions or not b.positions:
        both_other = a.script is Script.OTHER and b.script is Script.OTHER
        return _result(NameLevel.DIFFERENT, "names differ", a, b) if both_other else None
    if a.surname_only or b.surname_only:
        return _compare_surname_only(a, b, ctx)
    ranks = _birth_ranks(a, b)
    if ranks is not None:
        # 二娃 / 老二: birth-order names agree by rank, not by how they sound.
        if ranks[0] == ranks[1]:
            what = f"both name the child by birth order ({_birth_rank_text(ranks[0])})"
            return _result(NameLevel.NICKNAME_OR_PARTIAL, what, a, b)
        return _result(NameLevel.DIFFERENT, "birth-order names differ", a, b)

    match = sound_match(a.positions, b.positions, ctx.speaker_rules)
    if match is not None:
        how, rule_id = _describe(match, ctx.speaker)
        if match.level is NameLevel.SAME_SOUND:
            how = f"the same ({_same_reading(a.positions, b.positions)})"
        return _result(
            match.level,
            f"names sound {how}",
            a,
            b,
            rule_id=rule_id,
            surname_share=_surname_share(a.surname_positions, b.surname_positions),
            given_rarity=_given_rarity(_given_part(a), _given_part(b)),
        )

    fits = []
    if len(a.positions) != len(b.positions):
        longer, shorter = (a, b) if len(a.positions) > len(b.positions) else (b, a)
        fits.append(partial_fit(longer, shorter, ctx.speaker_rules))
    fits.extend((nickname_fit(a, b, ctx.speaker_rules), nickname_fit(b, a, ctx.speaker_rules)))
    found = sorted((f for f in fits if f is not None), key=lambda f: f.level)
    if found and found[0].level is NameLevel.NICKNAME_OR_PARTIAL:
        fit = found[0]
        return _result(fit.level, fit.what, a, b, given_rarity=_given_rarity(fit.given))

    if a.uninformative and b.uninformative:
        return _result(NameLevel.DIFFERENT, "小名 differ", a, b)
    if found:
        fit = found[0]
        shares = (fit.surname, fit.addressed) if fit.addressed else (fit.surname,)
        return _result(fit.level, fit.what, a, b, surname_share=_surname_share(*shares))
    if a.surname_len and b.surname_len and a.nickname is None and b.nickname is None:
        agree = sound_match(a.surname_positions, b.surname_positions, ctx.speaker_rules)
        if agree is not None:
            how, rule_id = _describe(agree, ctx.speaker)
            return _result(
                NameLevel.SURNAME_ONLY,
                f"surnames sound {how}, given names differ",
                a,
                b,
                rule_id=rule_id,
                surname_share=_surname_share(a.surname_positions, b.surname_positions),
            )
    if a.uninformative or b.uninformative:
        return None  # a birth-order or humble 小名 says nothing about a registered name
    return _result(NameLevel.DIFFERENT, "names differ", a, b)


# --- the public function ----------------------------------------------------------------


@lru_cache(maxsize=1024)
def _context(regions: frozenset[str]) -> _Context:
    speaker = resolve_regions(regions)
    return _Context(speaker, rules_for_regions(speaker))


@lru_cache(maxsize=16384)
def _compare_pair(left: str, right: str, ctx: _Context) -> NameComparison | None:
    best: NameComparison | None = None
    for a in name_forms(left):
        for b in name_forms(right):
            found = _compare_forms(a, b, ctx)
            if found is not None and (best is None or found.level < best.level):
                best = found
                if best.level is NameLevel.EXACT:
                    return best
    return best


def compare_names(
    left: Sequence[str | None],
    right: Sequence[str | None],
    *,
    speaker_regions: Collection[str] = (),
) -> NameComparison:
    """Compare two records' names; the strongest level over all pairs of names wins.

    ``left`` and ``right`` each hold a record's names (stated name, aliases, 小名);
    empty strings, None and placeholders such as 无名氏 are ignored. ``speaker_regions``
    are provinces or areas ("四川", "东北") or accent text ("川音") of whoever's speech
    was written down; dialect rules of those regions count fully (DIALECT_SPEAKER),
    others less (DIALECT_OTHER). An unknown region raises ValueError; a bare string
    instead of a list of names raises TypeError.

    The level does not depend on which side is left: ``compare_names(a, b).level ==
    compare_names(b, a).level``; a name compared with itself is EXACT.
    """
    ctx = _context(frozenset(speaker_regions))
    lefts, rights = usable_names(left), usable_names(right)
    if not lefts or not rights:
        return NameComparison(NameLevel.NULL, "no name on one side", None, None)
    best: NameComparison | None = None
    for name_a in lefts:
        for name_b in rights:
            found = _compare_pair(name_a, name_b, ctx)
            if found is not None and (best is None or found.level < best.level):
                best = found
                if best.level is NameLevel.EXACT:
                    return best
    if best is None:
        return NameComparison(
            NameLevel.NULL,
            f"the names say nothing about each other: {lefts[0]} / {rights[0]}",
            lefts[0],
            rights[0],
        )
    return best
