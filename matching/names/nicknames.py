"""小名 (milk names) and the shapes they take.

An older woman may know her son only as 阿明, a village only as 二娃. A 小名 usually
echoes one character of the formal given name (its *core*: 明 in 阿明, 小明, 明仔, 明明,
明儿), so it is compatible with 李明 or 张晓明 and not with 王建华. Some 小名 carry no
character of the formal name at all: birth order (老三, 二娃, 幺妹), humble names (狗蛋,
狗剩) and wish names (招娣). Those agree or disagree only with one another.

A prefix or suffix that also serves to address someone by surname (小王, 老王, 王哥)
leaves open whether the core is the surname, which :attr:`Nickname.may_be_surname` says.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache

YOUNGEST = 99
"""Birth rank of the youngest child (幺, 满, 细, 老小), whatever their number."""

_ORDER: dict[str, int] = {
    "大": 1, "二": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9,
    "十": 10, "幺": YOUNGEST, "满": YOUNGEST, "细": YOUNGEST,
}  # fmt: skip
_PREFIXES = frozenset("阿小老")
# Suffixes of endearment; those marked also address people by surname (王哥, 陈仔).
_SUFFIXES = frozenset("仔崽娃儿妹妞子伢哥姐弟毛丫囡女宝")
_SURNAME_SUFFIXES = frozenset("仔哥姐")
_TAILS = frozenset("子儿头")  # 二娃子, 三丫头, 老三儿

_HUMBLE = frozenset(
    {
        "狗蛋", "狗剩", "铁蛋", "二狗", "石头", "柱子", "栓子", "拴柱", "铁柱", "锁柱",
        "狗剩子", "二愣子", "傻蛋", "丑蛋", "臭蛋", "憨娃", "黑蛋", "铁牛", "牛娃",
    }
)  # fmt: skip
_WISH = frozenset(
    {
        "招娣", "来娣", "盼娣", "引娣", "带娣", "念娣", "招弟", "来弟", "盼弟", "引弟",
        "带弟", "根娣", "想娣", "改娣", "爱娣", "胜男", "亚男",
    }
)  # fmt: skip


class NicknameKind(StrEnum):
    """The shape of a 小名."""

    PREFIXED = "prefixed"
    """阿明, 小红, 老王: a prefix before the core."""
    SUFFIXED = "suffixed"
    """明仔, 明娃, 明儿, 英子: a suffix after the core."""
    REDUPLICATED = "reduplicated"
    """明明, 婷婷: the core twice."""
    BIRTH_ORDER = "birth_order"
    """老三, 二娃, 幺妹: where the child came among its siblings."""
    HUMBLE = "humble"
    """狗蛋, 狗剩: a humble name to keep bad luck away."""
    WISH = "wish"
    """招娣: a wish for a brother."""
    SINGLE = "single"
    """One lone character: a surname or a given-name character, it is not known which."""


@dataclass(frozen=True, slots=True)
class Nickname:
    """What a 小名 says about the formal name."""

    kind: NicknameKind
    core: str | None = None
    """The character expected in the formal name, if the 小名 has one."""
    birth_rank: int | None = None
    """1 for the eldest, 2 for the second..., :data:`YOUNGEST` for the youngest."""
    may_be_surname: bool = False
    """Whether the core may be the surname (小王, 老王, 王哥, or a lone character)."""

    @property
    def echoes_formal_name(self) -> bool:
        """Whether the 小名 carries a character of the formal name (so can be checked)."""
        return self.core is not None


def _birth_order(chars: str) -> int | None:
    if len(chars) == 3 and chars[2] in _TAILS:
        chars = chars[:2]
    if len(chars) != 2:
        return None
    first, second = chars[0], chars[1]
    if first in _PREFIXES and second in _ORDER:
        return _ORDER[second]  # 老三, 阿大, 老幺
    if first == "老" and second == "小":
        return YOUNGEST
    if first in _ORDER and second in _SUFFIXES:
        return _ORDER[first]  # 二娃, 三妹, 幺妹, 大毛
    return None


_GIRL_MARKS = frozenset("妹妞丫囡女姐")
"""Characters of a 小名 that call a girl (三妹, 二丫, 妞妞, 阿囡); 招娣-style wish names too."""
_BOY_SUFFIXES = frozenset("哥")
"""Suffixes that call a boy (明哥). Not 仔: in the south a girl is called 明仔 too."""
_BOY_NAMES = frozenset({"壮壮"})


def nickname_sex(chars: str) -> str | None:
    """ "F" or "M" when a folded 小名 says whose it is (三妹, 招娣 / 狗蛋, 明哥), else None.

    Birth-order and humble names keep to custom: 丫, 妹 and wish names are girls', the
    humble names of the 狗蛋 kind boys'. A 小名 that says nothing (阿明, 老三) gives None.
    """
    nickname = parse_nickname(chars)
    if nickname is None or nickname.kind is NicknameKind.SINGLE:
        return None
    if nickname.kind is NicknameKind.WISH or any(char in _GIRL_MARKS for char in chars):
        return "F"
    if nickname.kind is NicknameKind.HUMBLE or chars in _BOY_NAMES:
        return "M"
    if nickname.kind is NicknameKind.SUFFIXED and chars[-1] in _BOY_SUFFIXES:
        return "M"
    return None


@lru_cache(maxsize=16384)
def parse_nickname(chars: str) -> Nickname | None:
    """Read a folded Han name as a 小名, or None if it does not look like one.

    >>> parse_nickname("阿明")
    Nickname(kind=<NicknameKind.PREFIXED: 'prefixed'>, core='明', birth_rank=None, \
may_be_surname=True)
    >>> parse_nickname("二娃").birth_rank
    2
    """
    if len(chars) == 1:
        return Nickname(NicknameKind.SINGLE, core=chars, may_be_surname=True)
    if chars in _HUMBLE:
        return Nickname(NicknameKind.HUMBLE)
    if chars in _WISH:
        return Nickname(NicknameKind.WISH)
    rank = _birth_order(chars)
    if rank is not None:
        return Nickname(NicknameKind.BIRTH_ORDER, birth_rank=rank)
    if len(chars) != 2:
        return None
    first, second = chars[0], chars[1]
    if first == second:
        return Nickname(NicknameKind.REDUPLICATED, core=first)
    if first in _PREFIXES:
        return Nickname(NicknameKind.PREFIXED, core=second, may_be_surname=True)
    if second in _SUFFIXES:
        return Nickname(
            NicknameKind.SUFFIXED, core=first, may_be_surname=second in _SURNAME_SUFFIXES
        )
    return None
