"""How a name is misheard: sound confusions of each dialect group, as rules on syllables.

A station worker writes down what they hear. When the person speaks with the sounds of their
home dialect (or the worker hears with the sounds of theirs), a syllable shifts to a
neighbouring one and the worker picks a character for the new sound: 刘 liu heard from a
Sichuan speaker becomes 牛 niu; 付贵 fu gui became 胡奎 hu kui in a famous case.

The rules work on toneless pinyin syllables (``"zhang"``, ``"lv"``) and return the other
syllables a confusion can produce; the caller keeps only results that are real syllables.
Which rules each dialect group has follows the documented features (see DOMAIN.md):

========== =====================================================================
rule       what merges, and where
========== =====================================================================
n_l        n/l: 西南官话, 江淮官话, 湘语, 赣语, 闽语, 客家话, 兰银官话, 徽语, 粤语
f_hu       f and hu- (胡=福, 黄=房): 西南官话, 湘语, 赣语, 闽语, 粤语, 客家话
retroflex  zh/ch/sh said as z/c/s: most of the south
retroflex_both  z/c/s and zh/ch/sh swapped either way: 东北官话
nasal      en/eng, in/ing (and an/ang): the south and southwest, 晋语, 兰银官话
r_y        r said as y (人=银): 东北官话, 胶辽官话, 粤语, 客家话
r_l        r said as l (热=勒): 西南官话, 闽语
h_w        h and w (黄=王, 胡=吴): 吴语, 粤语, 湘语
aspiration g/k, d/t, b/p, j/q, z/c, zh/ch: anyone, when hearing is poor
========== =====================================================================
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from types import MappingProxyType
from typing import Final

from evaluation import census


class SoundRule(StrEnum):
    """A sound confusion that changes one syllable into another."""

    N_L = "n_l"
    F_HU = "f_hu"
    RETROFLEX = "retroflex"
    RETROFLEX_BOTH = "retroflex_both"
    NASAL = "nasal"
    R_Y = "r_y"
    R_L = "r_l"
    H_W = "h_w"
    ASPIRATION = "aspiration"


_R = SoundRule
DIALECT_RULES: Final[Mapping[str, tuple[SoundRule, ...]]] = MappingProxyType(
    {
        census.BEIJING: (),
        census.NORTHEAST: (_R.RETROFLEX_BOTH, _R.R_Y),
        census.JILU: (),
        census.JIAOLIAO: (_R.R_Y,),
        census.ZHONGYUAN: (),
        census.LANYIN: (_R.N_L, _R.NASAL),
        census.SOUTHWEST: (_R.N_L, _R.F_HU, _R.RETROFLEX, _R.NASAL, _R.R_L),
        census.JIANGHUAI: (_R.N_L, _R.RETROFLEX, _R.NASAL),
        census.JIN: (_R.NASAL,),
        census.WU: (_R.RETROFLEX, _R.NASAL, _R.H_W),
        census.HUI: (_R.N_L, _R.RETROFLEX, _R.NASAL),
        census.GAN: (_R.N_L, _R.F_HU, _R.RETROFLEX, _R.NASAL),
        census.XIANG: (_R.N_L, _R.F_HU, _R.RETROFLEX, _R.NASAL, _R.H_W),
        census.MIN: (_R.N_L, _R.F_HU, _R.RETROFLEX, _R.NASAL, _R.R_L),
        census.YUE: (_R.N_L, _R.F_HU, _R.RETROFLEX, _R.NASAL, _R.R_Y, _R.H_W),
        census.HAKKA: (_R.N_L, _R.F_HU, _R.RETROFLEX, _R.NASAL, _R.R_Y),
    }
)
"""The confusions typical of speakers of each dialect group."""

_F_TO_HU: Final = MappingProxyType(
    {
        "fu": "hu", "fa": "hua", "fan": "huan", "fang": "huang", "fei": "hui", "fen": "hun",
        "feng": "hong", "fo": "huo", "fou": "hou",
    }
)  # fmt: skip
_HU_TO_F: Final = MappingProxyType({v: k for k, v in _F_TO_HU.items()})
_R_TO_Y: Final = MappingProxyType(
    {
        "ran": "yan", "rang": "yang", "rao": "yao", "re": "ye", "ren": "yin", "reng": "ying",
        "ri": "yi", "rong": "yong", "rou": "you", "ru": "yu", "ruan": "yuan", "run": "yun",
        "ruo": "yue", "rui": "yu",
    }
)  # fmt: skip
_H_W: Final = MappingProxyType(
    {"huang": "wang", "hu": "wu", "hui": "wei", "huan": "wan", "huo": "wo", "hun": "wen"}
)
_W_H: Final = MappingProxyType({v: k for k, v in _H_W.items()})
_ASPIRATION_PAIRS: Final = (("zh", "ch"), ("b", "p"), ("d", "t"), ("g", "k"), ("j", "q"))


def _initial(syllable: str) -> str:
    for two in ("zh", "ch", "sh"):
        if syllable.startswith(two):
            return two
    return syllable[0] if syllable and syllable[0] not in "aeiouv" else ""


def variants(rule: SoundRule, syllable: str) -> tuple[str, ...]:
    """Syllables ``syllable`` can turn into under ``rule`` (possibly not real syllables).

    >>> variants(SoundRule.N_L, "liu")
    ('niu',)
    >>> variants(SoundRule.F_HU, "fu")
    ('hu',)
    """
    initial = _initial(syllable)
    rest = syllable[len(initial) :]
    out: list[str] = []
    if rule is SoundRule.N_L:
        if initial == "n":
            out.append("l" + rest)
        elif initial == "l":
            out.append("n" + rest)
    elif rule is SoundRule.F_HU:
        for table in (_F_TO_HU, _HU_TO_F):
            if syllable in table:
                out.append(table[syllable])
    elif rule in (SoundRule.RETROFLEX, SoundRule.RETROFLEX_BOTH):
        if initial in ("zh", "ch", "sh"):
            out.append(initial[0] + rest)
        elif rule is SoundRule.RETROFLEX_BOTH and initial in ("z", "c", "s"):
            out.append(initial + "h" + rest)
    elif rule is SoundRule.NASAL:
        for short, long in (("en", "eng"), ("in", "ing"), ("an", "ang")):
            if syllable.endswith(long):
                out.append(syllable[:-1])
                break
            if syllable.endswith(short):
                out.append(syllable + "g")
                break
    elif rule is SoundRule.R_Y:
        if syllable in _R_TO_Y:
            out.append(_R_TO_Y[syllable])
    elif rule is SoundRule.R_L:
        if initial == "r":
            out.append("lei" if syllable == "rui" else "l" + rest)
    elif rule is SoundRule.H_W:
        for table in (_H_W, _W_H):
            if syllable in table:
                out.append(table[syllable])
    elif rule is SoundRule.ASPIRATION:
        for a, b in _ASPIRATION_PAIRS:
            if initial == a:
                out.append(b + rest)
            elif initial == b:
                out.append(a + rest)
        if initial == "z":
            out.append("c" + rest)
        elif initial == "c":
            out.append("z" + rest)
    return tuple(v for v in out if v != syllable)


AN_ANG_WEIGHT: Final = 0.4
"""an/ang merge less often than en/eng and in/ing ("sometimes an/ang")."""


def variant_weight(rule: SoundRule, syllable: str, new: str) -> float:
    """How likely this particular change is relative to the rule's other changes."""
    if rule is SoundRule.NASAL and syllable.rstrip("g").endswith("an") and new != syllable:
        return AN_ANG_WEIGHT
    return 1.0
