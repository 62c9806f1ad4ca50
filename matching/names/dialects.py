"""Dialect sound confusions as data: which syllables they fold together, and where.

Each :class:`DialectRule` names the syllable changes it folds (on initials, finals or
whole syllables) and the provinces where the confusion is common (DOMAIN.md, "Chinese
names as heard"). A speaker from one of those provinces says 牛 and 刘 alike, so a match
through the rule counts fully for that speaker and less for anyone else. The near-sounds
of mishearing (g/k, d/t, b/p, ...) are a separate, weaker class that applies everywhere.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from enum import StrEnum
from functools import cache, lru_cache

from matching.names.regions import PROVINCE_NAMES, PROVINCES

_PROVINCE_ORDER = tuple(p.name for p in PROVINCES)


class FoldPart(StrEnum):
    """What part of a syllable a fold changes."""

    INITIAL = "initial"
    """The initial consonant: n -> l turns nian into lian."""
    FINAL = "final"
    """The final: en -> eng turns chen into cheng."""
    PREFIX = "prefix"
    """A spelled prefix: f -> hu turns fang into huang."""
    SYLLABLE = "syllable"
    """One whole syllable for another, where the spelling changes irregularly."""


@dataclass(frozen=True, slots=True)
class SoundFold:
    """Two sounds a rule treats as one: ``a`` and ``b`` in the given ``part``."""

    part: FoldPart
    a: str
    b: str


class RuleKind(StrEnum):
    """Whether a rule is a regional dialect trait or a mishearing possible anywhere."""

    DIALECT = "dialect"
    NEAR = "near"


@dataclass(frozen=True, slots=True)
class DialectRule:
    """One sound confusion: what it folds, where it is common, in plain words."""

    id: str
    label: str
    description: str
    description_zh: str
    folds: tuple[SoundFold, ...]
    regions: tuple[str, ...]
    """Provinces where the confusion is common, most typical first; empty for near-sounds
    (everywhere)."""
    kind: RuleKind = RuleKind.DIALECT

    @property
    def region_set(self) -> frozenset[str]:
        """The provinces, as a set."""
        return frozenset(self.regions)


def _initial(a: str, b: str) -> SoundFold:
    return SoundFold(FoldPart.INITIAL, a, b)


def _final(a: str, b: str) -> SoundFold:
    return SoundFold(FoldPart.FINAL, a, b)


def _pairs(*pairs: str) -> tuple[SoundFold, ...]:
    return tuple(SoundFold(FoldPart.SYLLABLE, *p.split("~")) for p in pairs)


def _where(text: str) -> tuple[str, ...]:
    return tuple(text.split())


RULES: tuple[DialectRule, ...] = (
    DialectRule(
        "n_l",
        "n/l",
        "n and l are one sound (牛 = 刘, 南 = 兰)",
        "n、l 不分（牛=刘，南=兰）",
        (_initial("n", "l"),),
        _where("四川 重庆 湖北 湖南 江西 广西 云南 贵州 安徽 江苏 福建 广东"),
    ),
    DialectRule(
        "f_hu",
        "f/hu",
        "f and hu- are confused (胡 = 福, 黄 = 房, 付 = 胡, 冯 = 洪)",
        "f、hu 不分（胡=福，黄=房，冯=洪）",
        (
            SoundFold(FoldPart.PREFIX, "f", "hu"),
            # Where the spelling does not follow the prefix: 风 said "fong" is heard hong.
            *_pairs("fu~hu", "fei~hui", "fen~hun", "feng~hong", "fou~hou"),
        ),
        _where("四川 重庆 湖南 江西 福建 广东 广西 湖北 安徽"),
    ),
    DialectRule(
        "retroflex",
        "zh/z, ch/c, sh/s",
        "no retroflex initials: zh, ch, sh are said z, c, s (张 = 臧, 陈 = 岑, 石 = 四)",
        "平翘舌不分（zh=z，ch=c，sh=s）",
        (_initial("zh", "z"), _initial("ch", "c"), _initial("sh", "s")),
        _where(
            "四川 重庆 湖南 江西 福建 广东 广西 浙江 上海 江苏 湖北 云南 贵州 安徽 海南 "
            "台湾 香港 澳门 黑龙江 吉林 辽宁"
        ),
    ),
    DialectRule(
        "en_eng",
        "en/eng, in/ing",
        "front and back nasals are one sound (陈 = 程, 林 = 凌)",
        "前后鼻音不分（en=eng，in=ing）",
        (_final("en", "eng"), _final("in", "ing")),
        _where(
            "四川 重庆 云南 贵州 湖南 湖北 江西 福建 广东 广西 浙江 上海 江苏 安徽 海南 "
            "台湾 香港 澳门"
        ),
    ),
    DialectRule(
        "an_ang",
        "an/ang",
        "an and ang are one sound in some southern speech (潘 = 庞, 简 = 江)",
        "an、ang 不分（潘=庞，简=江）",
        (_final("an", "ang"), _final("ian", "iang"), _final("uan", "uang")),
        _where("上海 浙江 江苏 江西 湖南 福建"),
    ),
    DialectRule(
        "r_y",
        "r/y",
        "r is said y (人 = 银, 肉 = 油)",
        "r 读作 y（人=银，肉=油）",
        # 瑞 and 若 have no y- syllable of their own spelling: they are heard yu and yue.
        (_initial("r", "y"), *_pairs("ren~yin", "reng~ying", "rui~yu", "ruo~yue")),
        _where("黑龙江 吉林 辽宁 广东 广西 香港 澳门"),
    ),
    DialectRule(
        "r_l",
        "r/l",
        "r is said l (热 = 勒, 荣 = 龙, 瑞 = 雷)",
        "r 读作 l（热=勒，荣=龙，瑞=雷）",
        (_initial("r", "l"), *_pairs("rui~lei")),
        _where("四川 重庆 福建"),
    ),
    DialectRule(
        "h_w",
        "h/w",
        "hu- and w- are one sound (黄 = 王 in Shanghai speech; both Wong in Cantonese)",
        "h、w 不分（黄=王）",
        (SoundFold(FoldPart.PREFIX, "w", "hu"), *_pairs("wu~hu", "wei~hui", "wen~hun")),
        _where("上海 浙江 江苏 广东 广西 香港 澳门"),
    ),
    DialectRule(
        "he_hu",
        "he/hu",
        "he and hu are one sound (何 = 胡 = 吴, 湖南 = 河南 in Shanghai speech)",
        "he、hu 不分（何=胡=吴）",
        _pairs("he~hu"),
        _where("上海 浙江 江苏"),
    ),
)
"""The dialect rules, each tied to the provinces where it is common."""

_EVERYWHERE: tuple[str, ...] = ()

NEAR_RULES: tuple[DialectRule, ...] = (
    DialectRule(
        "g_k", "g/k", "g and k misheard for each other (贵 / 奎)", "g、k 听混",
        (_initial("g", "k"),), _EVERYWHERE, RuleKind.NEAR,
    ),
    DialectRule(
        "d_t", "d/t", "d and t misheard for each other", "d、t 听混",
        (_initial("d", "t"),), _EVERYWHERE, RuleKind.NEAR,
    ),
    DialectRule(
        "b_p", "b/p", "b and p misheard for each other", "b、p 听混",
        (_initial("b", "p"),), _EVERYWHERE, RuleKind.NEAR,
    ),
    DialectRule(
        "j_q_x", "j/q/x", "j, q and x misheard for each other", "j、q、x 听混",
        (_initial("j", "q"), _initial("q", "x")), _EVERYWHERE, RuleKind.NEAR,
    ),
    DialectRule(
        "z_c", "z/c, zh/ch", "z/c and zh/ch misheard for each other", "z、c 与 zh、ch 听混",
        (_initial("z", "c"), _initial("zh", "ch")), _EVERYWHERE, RuleKind.NEAR,
    ),
    DialectRule(
        "l_r", "l/r", "l and r misheard for each other", "l、r 听混",
        (_initial("l", "r"),), _EVERYWHERE, RuleKind.NEAR,
    ),
    DialectRule(
        "i_v", "i/ü", "i and ü confused (李 / 吕, 金 / 君)", "i、ü 不分",
        _pairs(
            "li~lv", "ni~nv", "lie~lve", "nie~nve", "ji~ju", "qi~qu", "xi~xu", "yi~yu",
            "jie~jue", "qie~que", "xie~xue", "ye~yue", "jian~juan", "qian~quan",
            "xian~xuan", "yan~yuan", "jin~jun", "qin~qun", "xin~xun", "yin~yun",
        ),
        _EVERYWHERE, RuleKind.NEAR,
    ),
    DialectRule(
        "ai_ei", "ai/ei", "ai and ei misheard for each other (白 / 贝)", "ai、ei 听混",
        (_final("ai", "ei"),), _EVERYWHERE, RuleKind.NEAR,
    ),
    DialectRule(
        "ang_eng", "ang/eng", "ang and eng misheard for each other (芳 / 峰)", "ang、eng 听混",
        (_final("ang", "eng"),), _EVERYWHERE, RuleKind.NEAR,
    ),
)  # fmt: skip
"""Near-sounds of mishearing: weaker than a dialect rule, possible for anyone."""

ALL_RULES: tuple[DialectRule, ...] = RULES + NEAR_RULES


@cache
def _by_id() -> Mapping[str, DialectRule]:
    return {rule.id: rule for rule in ALL_RULES}


def rule_by_id(rule_id: str) -> DialectRule:
    """The rule with this id; KeyError if there is none."""
    return _by_id()[rule_id]


@lru_cache(maxsize=1024)
def rules_for_regions(regions: frozenset[str]) -> frozenset[str]:
    """Ids of the dialect rules common in any of ``regions`` (province names)."""
    return frozenset(rule.id for rule in RULES if rule.region_set & regions)


@cache
def region_groups() -> tuple[frozenset[str], ...]:
    """The distinct sets of dialect rules one province's speakers have, largest first.

    A name matched "in the speech of some region" must be explained by one such set:
    nobody speaks with Sichuan's r/l and the Northeast's r/y at once.
    """
    groups = {rules_for_regions(frozenset((p,))) for p in PROVINCE_NAMES}
    groups.discard(frozenset())
    # Drop sets contained in a larger one: whatever they explain, the larger one does.
    maximal = [g for g in groups if not any(g < other for other in groups)]
    return tuple(sorted(maximal, key=lambda g: (-len(g), sorted(g))))


def regions_of_rules(rule_ids: Collection[str]) -> tuple[str, ...]:
    """The provinces where every one of the given dialect rules is common, most typical
    first (in the order the first dialect rule lists them); near-sounds do not narrow."""
    dialect = [rule_by_id(r) for r in rule_ids if rule_by_id(r).kind is RuleKind.DIALECT]
    if not dialect:
        return _PROVINCE_ORDER
    common = frozenset.intersection(*(rule.region_set for rule in dialect))
    return tuple(p for p in dialect[0].regions if p in common)
