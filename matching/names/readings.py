"""How a Chinese name is read: surname first, then every reading of the given name.

pypinyin has no surname mode, so surnames whose reading it gets wrong (单 is Shan, not
Dan) come from :data:`SURNAME_READINGS`, and two-character surnames from
:data:`COMPOUND_SURNAMES`. A surname keeps its everyday readings only as weaker
alternatives, and only where a clerk plausibly typed them (单 read as "dan"); a
character of the given name keeps all its readings, compared as a set.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache, lru_cache

from pypinyin import Style, pinyin

from matching.names.surnames import known_surnames

# surname -> (surname readings, everyday readings kept as weaker alternatives).
_SURNAME_TABLE: dict[str, tuple[str, str]] = {
    "单": ("shan", "dan chan"),
    "曾": ("zeng", "ceng"),
    "解": ("xie", "jie"),
    "仇": ("qiu", "chou"),
    "查": ("zha", "cha"),
    "朴": ("piao", "pu"),
    "区": ("ou", "qu"),
    "覃": ("qin", "tan"),
    "盖": ("ge", "gai"),
    "乐": ("yue", "le"),
    "缪": ("miao", "mou miu"),
    "翟": ("zhai", "di"),
    "秘": ("bi", "mi"),
    "种": ("chong", "zhong"),
    "繁": ("po", "fan"),
    "宿": ("su", "xiu"),
    "尉": ("wei", "yu"),
    "黑": ("he", "hei"),
    "召": ("shao", "zhao"),
    "句": ("gou", "ju"),
    "隗": ("wei", "kui"),
    "员": ("yun", "yuan"),
    "洗": ("xian", "xi"),
    "能": ("nai", "neng"),
    "长": ("chang", "zhang"),
    "藏": ("zang", "cang"),
    "佴": ("nai", "er"),
    "折": ("she", "zhe"),
    "炅": ("gui", "jiong"),
    "蔚": ("yu", "wei"),
    "郇": ("xun", "huan"),
    "重": ("chong", "zhong"),
    "都": ("du", "dou"),
    "薄": ("bo", "bao"),
    "卜": ("bu", "bo"),
    "阚": ("kan", "han"),
    "柏": ("bai", "bo"),
    "莘": ("shen", "xin"),
    "车": ("che", "ju"),
    "祭": ("zhai", "ji"),
    "贲": ("ben", "bi"),
    "乜": ("nie", "mie"),
    # Two readings in real use as surnames; both count fully.
    "谌": ("chen shen", ""),
    "牟": ("mou mu", ""),
    "宓": ("mi fu", ""),
    "万": ("wan", ""),
    "于": ("yu", ""),
    "石": ("shi", ""),
    "沈": ("shen", ""),
}

SURNAME_READINGS: Mapping[str, frozenset[str]] = {
    s: frozenset(strong.split()) for s, (strong, _) in _SURNAME_TABLE.items()
}
"""Single-character surnames whose surname reading pypinyin lacks or does not list first."""

COMPOUND_SURNAMES: Mapping[str, tuple[str, str]] = {
    "欧阳": ("ou", "yang"), "司马": ("si", "ma"), "诸葛": ("zhu", "ge"),
    "上官": ("shang", "guan"), "东方": ("dong", "fang"), "皇甫": ("huang", "fu"),
    "令狐": ("ling", "hu"), "慕容": ("mu", "rong"), "宇文": ("yu", "wen"),
    "司徒": ("si", "tu"), "夏侯": ("xia", "hou"), "公孙": ("gong", "sun"),
    "轩辕": ("xuan", "yuan"), "端木": ("duan", "mu"), "独孤": ("du", "gu"),
    "南宫": ("nan", "gong"), "西门": ("xi", "men"), "百里": ("bai", "li"),
    "呼延": ("hu", "yan"), "尉迟": ("yu", "chi"), "万俟": ("mo", "qi"),
    "单于": ("chan", "yu"), "长孙": ("zhang", "sun"), "澹台": ("tan", "tai"),
    "公冶": ("gong", "ye"), "宗政": ("zong", "zheng"), "濮阳": ("pu", "yang"),
    "太史": ("tai", "shi"), "申屠": ("shen", "tu"), "钟离": ("zhong", "li"),
    "闻人": ("wen", "ren"), "赫连": ("he", "lian"), "东郭": ("dong", "guo"),
    "公羊": ("gong", "yang"), "拓跋": ("tuo", "ba"), "完颜": ("wan", "yan"),
    "仲孙": ("zhong", "sun"), "叔孙": ("shu", "sun"), "司空": ("si", "kong"),
    "司寇": ("si", "kou"), "左丘": ("zuo", "qiu"), "淳于": ("chun", "yu"),
    "羊舌": ("yang", "she"), "微生": ("wei", "sheng"), "梁丘": ("liang", "qiu"),
    "谷梁": ("gu", "liang"), "乐正": ("yue", "zheng"), "漆雕": ("qi", "diao"),
    "壤驷": ("rang", "si"), "公良": ("gong", "liang"), "巫马": ("wu", "ma"),
    "公西": ("gong", "xi"), "颛孙": ("zhuan", "sun"), "亓官": ("qi", "guan"),
    "鲜于": ("xian", "yu"), "闾丘": ("lv", "qiu"), "段干": ("duan", "gan"),
    "东门": ("dong", "men"), "第五": ("di", "wu"), "宰父": ("zai", "fu"),
    "夹谷": ("jia", "gu"),
}  # fmt: skip
"""Two-character surnames and how each character of them is read."""


@dataclass(frozen=True, slots=True)
class NameSplit:
    """One way to split a Chinese name into surname and given name."""

    surname: str
    given: str


@dataclass(frozen=True, slots=True)
class CharReading:
    """The readings of one character of a name: ``strong`` count fully, ``weak`` less."""

    char: str
    strong: frozenset[str]
    weak: frozenset[str] = frozenset()

    @property
    def all(self) -> frozenset[str]:
        """Strong and weak readings together."""
        return self.strong | self.weak


@lru_cache(maxsize=32768)
def char_readings(char: str) -> frozenset[str]:
    """Every toneless reading of one character (pypinyin heteronyms, Style.NORMAL)."""
    # errors="default" keeps a character pypinyin cannot read: it then matches only itself.
    found = pinyin(char, style=Style.NORMAL, heteronym=True, strict=True, errors="default")
    return frozenset(found[0]) if found and found[0] else frozenset((char,))


@lru_cache(maxsize=32768)
def default_reading(char: str) -> str:
    """The most common reading of one character, as pypinyin lists it first."""
    found = pinyin(char, style=Style.NORMAL, heteronym=True, strict=True, errors="default")
    return found[0][0] if found and found[0] else char


@lru_cache(maxsize=8192)
def surname_reading(surname: str) -> tuple[CharReading, ...]:
    """How a surname of one or two characters is read, character by character.

    A surname in the table is read its surname way, with its everyday readings as weak
    alternatives; any other surname character is read its most common way.
    """
    compound = COMPOUND_SURNAMES.get(surname)
    if compound is not None:
        return tuple(
            CharReading(c, frozenset((r,))) for c, r in zip(surname, compound, strict=True)
        )
    out: list[CharReading] = []
    for char in surname:
        entry = _SURNAME_TABLE.get(char)
        if entry is None:
            out.append(CharReading(char, frozenset((default_reading(char),))))
        else:
            strong, weak = entry
            out.append(CharReading(char, frozenset(strong.split()), frozenset(weak.split())))
    return tuple(out)


def given_reading(given: str) -> tuple[CharReading, ...]:
    """How a given name is read: every reading of every character counts."""
    return tuple(CharReading(c, char_readings(c)) for c in given)


def is_compound_surname(text: str) -> bool:
    """Whether ``text`` is one of the known two-character surnames."""
    return text in COMPOUND_SURNAMES


@cache
def _single_surnames() -> frozenset[str]:
    return frozenset(s for s in known_surnames() if len(s) == 1) | frozenset(_SURNAME_TABLE)


def is_known_surname(text: str) -> bool:
    """Whether ``text`` is a surname this package knows (common, or with a special reading)."""
    return text in COMPOUND_SURNAMES or text in _single_surnames()


@lru_cache(maxsize=32768)
def split_name(chars: str) -> tuple[NameSplit, ...]:
    """Ways to split a Chinese name into surname and given name, most likely first.

    A two-character surname is taken when the name starts with one (欧阳修 is 欧阳 +
    修); when its first character is itself a common surname (宗政华 may be 宗 + 政华),
    the one-character split follows as an alternative.
    """
    if not chars:
        return ()
    if len(chars) >= 2 and chars[:2] in COMPOUND_SURNAMES:
        splits = [NameSplit(chars[:2], chars[2:])]
        if chars[0] in _single_surnames():
            splits.append(NameSplit(chars[0], chars[1:]))
        return tuple(splits)
    return (NameSplit(chars[0], chars[1:]),)
