"""Marks and conditions read as phrases: "右臂有一道疤" and "右手臂有伤疤" say the same thing.

Families and stations describe the same mark or condition in different words (右臂疤痕 /
右手臂有伤疤, 老年痴呆 / 阿尔茨海默病, 哑巴 / 聋哑). Comparing whole strings misses these;
:func:`read_marks` and :func:`read_conditions` find the phrases inside free text and
turn each into a canonical trait, so agreement is judged on meaning.

Marks are read as a kind (scar, mole, missing finger...) on a body part with a side
where the text gives them; a kind that is its own place (六指, 兔唇, 跛脚) has no part.
Conditions are read as a concept within a family (dementia and memory loss are both
cognitive; 精神分裂症 and 精神异常 both mental), because a station writes what it
observes and a family writes the diagnosis.

The prevalences are rough orders of magnitude for people in care (documented guesses,
not measurements); they only decide which agreements count as rare.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache, lru_cache
from types import MappingProxyType
from typing import Final


@dataclass(frozen=True, slots=True, order=True)
class Mark:
    """A visible mark: its kind, and the body part and side when the text says them."""

    kind: str
    part: str | None = None
    side: str | None = None

    def describe(self) -> str:
        """The mark in a few words, for an explanation."""
        where = " ".join(x for x in (self.side, self.part) if x)
        return f"{MARK_WORDS.get(self.kind, self.kind)}" + (f" ({where})" if where else "")


@dataclass(frozen=True, slots=True, order=True)
class Condition:
    """A health condition: the concept and its family."""

    concept: str
    family: str


# Kinds of mark, with words that name them and a rough prevalence (share of people with
# one such mark anywhere). Whole-body kinds have no part.
MARK_KINDS: Final[Mapping[str, tuple[tuple[str, ...], float]]] = MappingProxyType(
    {
        "scar": (("刀疤", "伤疤", "疤痕", "伤痕", "疤"), 0.20),
        "mole": (("黑痣", "痦子", "痣"), 0.15),
        "birthmark": (("胎记", "红记", "青记"), 0.06),
        "tattoo": (("纹身", "文身", "刺青"), 0.05),
        "missing_finger": (("缺一指", "缺一根手指", "缺手指", "缺指", "断指", "少一根手指"), 0.01),
        "hand_disability": (("残疾", "畸形", "残缺"), 0.02),
        "burn": (("烧伤", "烫伤"), 0.02),
    }
)
"""Marks that sit on a body part."""

WHOLE_MARKS: Final[Mapping[str, tuple[tuple[str, ...], float]]] = MappingProxyType(
    {
        "extra_finger": (("六指", "多一根手指", "多一个手指", "六个手指"), 0.002),
        "limp": (("跛脚", "跛足", "一瘸一拐", "瘸腿", "瘸", "腿脚不便", "走路不稳"), 0.04),
        "hunchback": (("弯腰驼背", "驼背", "驼子"), 0.02),
        "bald": (("秃顶", "头顶秃", "谢顶", "秃头", "光头"), 0.05),
        "missing_front_teeth": (("门牙缺失", "缺门牙", "门牙掉了", "门牙脱落", "没有门牙"), 0.04),
        "buck_teeth": (("龅牙", "牙齿外凸", "暴牙"), 0.02),
        "squint": (("斜视", "斜眼", "对眼", "斗鸡眼"), 0.01),
        "cleft_lip": (("兔唇", "唇裂", "豁嘴", "豁唇"), 0.003),
        "one_eye": (("独眼", "一只眼失明", "单眼失明", "瞎一只眼", "义眼"), 0.004),
        "hunched_neck": (("歪脖", "斜颈"), 0.003),
    }
)
"""Marks that name their own place."""

MARK_WORDS: Final[Mapping[str, str]] = MappingProxyType(
    {
        "scar": "scar", "mole": "mole", "birthmark": "birthmark", "tattoo": "tattoo",
        "missing_finger": "missing finger", "hand_disability": "disabled hand", "burn": "burn",
        "extra_finger": "six fingers", "limp": "limp", "hunchback": "hunchback",
        "bald": "bald", "missing_front_teeth": "missing front teeth", "buck_teeth": "buck teeth",
        "squint": "squint", "cleft_lip": "cleft lip", "one_eye": "blind in one eye",
        "hunched_neck": "wry neck",
    }
)  # fmt: skip

MARK_FAMILIES: Final[Mapping[str, str]] = MappingProxyType(
    {"missing_finger": "hand", "hand_disability": "hand", "extra_finger": "hand"}
)
"""Kinds a station may describe in each other's words (左手缺指 / 左手残疾)."""

# Body parts: words (longest first when read) and the canonical part.
PARTS: Final[Mapping[str, str]] = MappingProxyType(
    {
        "手臂": "arm", "胳膊": "arm", "胳臂": "arm", "上臂": "arm", "小臂": "arm", "前臂": "arm",
        "臂": "arm", "手背": "hand", "手掌": "hand", "手指": "hand", "手": "hand",
        "脸颊": "face", "面颊": "face", "面部": "face", "脸部": "face", "侧面部": "face",
        "脸上": "face", "脸": "face", "额头": "forehead", "前额": "forehead", "额": "forehead",
        "头部": "head", "头上": "head", "头顶": "head", "后脑": "head", "头": "head",
        "眉毛": "brow", "眉": "brow", "眼角": "eye", "眼睛": "eye", "眼": "eye",
        "嘴角": "mouth", "嘴边": "mouth", "嘴唇": "mouth", "嘴": "mouth", "下巴": "chin",
        "脖子": "neck", "颈部": "neck", "颈": "neck", "耳朵": "ear", "耳": "ear",
        "后背": "back", "背部": "back", "背": "back", "胸口": "chest", "胸部": "chest",
        "胸": "chest", "肚子": "belly", "腹部": "belly", "腰": "waist", "大腿": "leg",
        "小腿": "leg", "腿": "leg", "膝盖": "leg", "脚": "foot", "肩膀": "shoulder",
        "肩": "shoulder",
    }
)  # fmt: skip

SIDES: Final[Mapping[str, str]] = MappingProxyType({"左": "left", "右": "right"})

# Conditions: words, concept, family. A generic word (精神异常) is its family's generic
# concept; specific ones name the diagnosis.
CONDITIONS: Final[Mapping[str, tuple[str, str]]] = MappingProxyType(
    {
        "阿尔茨海默": ("dementia", "cognitive"), "老年痴呆": ("dementia", "cognitive"),
        "老年性痴呆": ("dementia", "cognitive"), "痴呆": ("dementia", "cognitive"),
        "认知障碍": ("dementia", "cognitive"), "认知症": ("dementia", "cognitive"),
        "记忆力减退": ("memory_loss", "cognitive"), "记忆力差": ("memory_loss", "cognitive"),
        "记忆力下降": ("memory_loss", "cognitive"), "记忆差": ("memory_loss", "cognitive"),
        "健忘": ("memory_loss", "cognitive"), "失忆": ("memory_loss", "cognitive"),
        "记不清": ("memory_loss", "cognitive"),
        "精神分裂": ("schizophrenia", "mental"), "双相": ("bipolar", "mental"),
        "躁郁": ("bipolar", "mental"), "抑郁": ("depression", "mental"),
        "情绪低落": ("depression", "mental"), "精神异常": ("mental", "mental"),
        "精神障碍": ("mental", "mental"), "精神病": ("mental", "mental"),
        "精神疾病": ("mental", "mental"), "精神失常": ("mental", "mental"),
        "智力障碍": ("intellectual", "intellectual"), "智力低下": ("intellectual", "intellectual"),
        "智力残疾": ("intellectual", "intellectual"), "智障": ("intellectual", "intellectual"),
        "弱智": ("intellectual", "intellectual"), "反应迟钝": ("intellectual", "intellectual"),
        "智力缺陷": ("intellectual", "intellectual"), "傻": ("intellectual", "intellectual"),
        "自闭": ("autism", "developmental"), "孤独症": ("autism", "developmental"),
        "不与人交流": ("autism", "developmental"),
        "聋哑": ("deaf_mute", "speech_hearing"), "哑巴": ("deaf_mute", "speech_hearing"),
        "不会说话": ("deaf_mute", "speech_hearing"), "哑": ("deaf_mute", "speech_hearing"),
        "说话不清": ("speech", "speech_hearing"), "言语不清": ("speech", "speech_hearing"),
        "口齿不清": ("speech", "speech_hearing"), "语言障碍": ("speech", "speech_hearing"),
        "吐字不清": ("speech", "speech_hearing"), "结巴": ("speech", "speech_hearing"),
        "口吃": ("speech", "speech_hearing"),
        "耳背": ("hearing", "speech_hearing"), "听力差": ("hearing", "speech_hearing"),
        "听力下降": ("hearing", "speech_hearing"), "耳聋": ("hearing", "speech_hearing"),
        "重听": ("hearing", "speech_hearing"), "聋": ("hearing", "speech_hearing"),
        "癫痫": ("epilepsy", "neurological"), "羊癫疯": ("epilepsy", "neurological"),
        "羊角风": ("epilepsy", "neurological"), "抽风": ("epilepsy", "neurological"),
        "帕金森": ("parkinson", "neurological"), "中风": ("stroke", "neurological"),
        "脑梗": ("stroke", "neurological"), "偏瘫": ("paralysis", "mobility"),
        "瘫痪": ("paralysis", "mobility"), "行动不便": ("mobility", "mobility"),
        "腿脚不便": ("mobility", "mobility"), "拄拐": ("mobility", "mobility"),
        "坐轮椅": ("mobility", "mobility"),
        "高血压": ("hypertension", "chronic"), "糖尿病": ("diabetes", "chronic"),
        "心脏病": ("heart", "chronic"), "冠心病": ("heart", "chronic"),
        "肺结核": ("tuberculosis", "chronic"), "哮喘": ("asthma", "chronic"),
        "失明": ("blind", "sight"), "盲人": ("blind", "sight"), "视力差": ("sight", "sight"),
        "眼睛看不见": ("blind", "sight"),
    }
)  # fmt: skip

GENERIC_CONCEPTS: Final = frozenset({"mental", "mobility", "sight"})
"""Concepts that are their family's catch-all: they agree with any concept of it."""

RARE_CONCEPTS: Final = frozenset(
    {"deaf_mute", "epilepsy", "autism", "parkinson", "paralysis", "blind", "tuberculosis"}
)
"""Conditions few people in care have (well under 5%): an agreement on one says much."""

UNOBSERVABLE_FAMILIES: Final = frozenset({"chronic"})
"""Conditions a station cannot see: their absence on one side is no disagreement."""

RELATED_FAMILIES: Final = frozenset(
    {
        frozenset({"mental", "intellectual"}),
        frozenset({"intellectual", "developmental"}),
        frozenset({"cognitive", "mental"}),
        frozenset({"speech_hearing", "developmental"}),
        frozenset({"mobility", "neurological"}),
    }
)
"""Families a station and a family confuse (a disabled person noted as 精神异常)."""

RARE_MARK_SHARE: Final = 0.01
"""A mark rarer than this (with its place) makes an agreement "rare"."""

_CLAUSE = re.compile(r"[，,；;。.、/|\s]+")


@cache
def _mark_words() -> tuple[tuple[str, str, bool], ...]:
    """(word, kind, whole) for every mark word, longest first."""
    words = [(w, kind, False) for kind, (ws, _) in MARK_KINDS.items() for w in ws]
    words += [(w, kind, True) for kind, (ws, _) in WHOLE_MARKS.items() for w in ws]
    return tuple(sorted(words, key=lambda item: -len(item[0])))


@cache
def _part_pattern() -> re.Pattern[str]:
    parts = sorted(PARTS, key=len, reverse=True)
    return re.compile("(左|右)?(?:侧|边)?(" + "|".join(re.escape(p) for p in parts) + ")")


def _read_clause(clause: str) -> list[Mark]:
    marks: list[Mark] = []
    taken = [False] * len(clause)
    for word, kind, whole in _mark_words():
        start = clause.find(word)
        while start >= 0:
            end = start + len(word)
            if not any(taken[start:end]):
                for i in range(start, end):
                    taken[i] = True
                if whole:
                    marks.append(Mark(kind))
                else:
                    marks.append(_placed(kind, clause[:start]))
            start = clause.find(word, end)
    return marks


def _placed(kind: str, before: str) -> Mark:
    """The mark with the last body part named before it in the clause."""
    last = None
    for match in _part_pattern().finditer(before):
        last = match
    if last is None:
        side = next((SIDES[c] for c in reversed(before) if c in SIDES), None)
        return Mark(kind, None, side)
    return Mark(kind, PARTS[last.group(2)], SIDES.get(last.group(1) or ""))


@lru_cache(maxsize=65536)
def _read_marks_text(text: str) -> frozenset[Mark]:
    found: set[Mark] = set()
    for clause in _CLAUSE.split(text):
        if clause:
            found.update(_read_clause(clause))
    return frozenset(found)


def read_marks(texts: Iterable[str]) -> frozenset[Mark]:
    """The visible marks named in the texts (a list of a record's features)."""
    found: set[Mark] = set()
    for text in texts:
        if text:
            found |= _read_marks_text(text.strip())
    return frozenset(found)


@cache
def _condition_words() -> tuple[str, ...]:
    return tuple(sorted(CONDITIONS, key=len, reverse=True))


@lru_cache(maxsize=65536)
def _read_conditions_text(text: str) -> frozenset[Condition]:
    found: set[Condition] = set()
    taken = [False] * len(text)
    for word in _condition_words():
        start = text.find(word)
        while start >= 0:
            end = start + len(word)
            if not any(taken[start:end]):
                for i in range(start, end):
                    taken[i] = True
                found.add(Condition(*CONDITIONS[word]))
            start = text.find(word, end)
    return frozenset(found)


def read_conditions(texts: Iterable[str]) -> frozenset[Condition]:
    """The health conditions named in the texts (a list of a record's health notes)."""
    found: set[Condition] = set()
    for text in texts:
        if text:
            found |= _read_conditions_text(text.strip())
    return frozenset(found)


def mark_share(mark: Mark) -> float:
    """Rough share of people with this mark where it is (a side halves, a part fifths)."""
    if mark.kind in WHOLE_MARKS:
        return WHOLE_MARKS[mark.kind][1]
    share = MARK_KINDS[mark.kind][1]
    if mark.part is not None:
        share /= 5
    if mark.side is not None:
        share /= 2
    return share


def marks_agree(a: Mark, b: Mark) -> bool:
    """The same kind of mark in the same place, as far as both texts say."""
    return a.kind == b.kind and a.part == b.part and a.side == b.side


def marks_partly_agree(a: Mark, b: Mark) -> bool:
    """The same kind (or family) of mark, where the places do not contradict.

    Sides are not held against a pair: left and right are easily swapped when one
    person faces another.
    """
    same_kind = a.kind == b.kind or (
        MARK_FAMILIES.get(a.kind) is not None
        and MARK_FAMILIES.get(a.kind) == MARK_FAMILIES.get(b.kind)
    )
    if not same_kind:
        return False
    return a.part is None or b.part is None or a.part == b.part


def conditions_agree(a: Condition, b: Condition) -> bool:
    """The same concept, or a family's catch-all word against a concept of that family."""
    if a.concept == b.concept:
        return True
    return a.family == b.family and (
        a.concept in GENERIC_CONCEPTS or b.concept in GENERIC_CONCEPTS or a.family == "cognitive"
    )


def conditions_related(a: Condition, b: Condition) -> bool:
    """The same family, or families that are often confused for each other."""
    return a.family == b.family or frozenset({a.family, b.family}) in RELATED_FAMILIES


def observable(conditions: Iterable[Condition]) -> frozenset[Condition]:
    """The conditions a station could have noticed."""
    return frozenset(c for c in conditions if c.family not in UNOBSERVABLE_FAMILIES)


CONDITION_WORDS: Final[Mapping[str, str]] = MappingProxyType(
    {
        "dementia": "dementia", "memory_loss": "memory loss", "schizophrenia": "schizophrenia",
        "bipolar": "bipolar disorder", "depression": "depression", "mental": "mental illness",
        "intellectual": "intellectual disability", "autism": "autism",
        "deaf_mute": "deaf and mute", "speech": "unclear speech", "hearing": "hard of hearing",
        "epilepsy": "epilepsy", "parkinson": "Parkinson's", "stroke": "stroke",
        "paralysis": "paralysis", "mobility": "walks with difficulty",
        "hypertension": "high blood pressure", "diabetes": "diabetes", "heart": "heart disease",
        "tuberculosis": "tuberculosis", "asthma": "asthma", "blind": "blind",
        "sight": "poor sight",
    }
)  # fmt: skip
