"""The toneless pinyin syllable table, and a segmenter for pinyin typed without spaces.

Spelling follows pypinyin's ``Style.NORMAL`` (strict): ``v`` stands for ü after n and l
(``lv``, ``nve``), and ü is written ``u`` after j, q, x and y (``ju``, ``yue``).
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import lru_cache

# Standard Mandarin syllables, one initial per line. Rare interjections (hm, ng, ê) and
# dictionary oddities (biang, fiao) are left out: a typed name never contains them, and
# letting the segmenter use them would split real names wrongly.
_TABLE = """
a ai an ang ao e ei en eng er o ou
ba bai ban bang bao bei ben beng bi bian biao bie bin bing bo bu
pa pai pan pang pao pei pen peng pi pian piao pie pin ping po pou pu
ma mai man mang mao me mei men meng mi mian miao mie min ming miu mo mou mu
fa fan fang fei fen feng fo fou fu
da dai dan dang dao de dei den deng di dia dian diao die ding diu dong dou du duan dui dun duo
ta tai tan tang tao te teng ti tian tiao tie ting tong tou tu tuan tui tun tuo
na nai nan nang nao ne nei nen neng ni nian niang niao nie nin ning niu nong nou nu nuan
nun nuo nv nve
la lai lan lang lao le lei leng li lia lian liang liao lie lin ling liu lo long lou lu luan
lun luo lv lve
ga gai gan gang gao ge gei gen geng gong gou gu gua guai guan guang gui gun guo
ka kai kan kang kao ke kei ken keng kong kou ku kua kuai kuan kuang kui kun kuo
ha hai han hang hao he hei hen heng hong hou hu hua huai huan huang hui hun huo
ji jia jian jiang jiao jie jin jing jiong jiu ju juan jue jun
qi qia qian qiang qiao qie qin qing qiong qiu qu quan que qun
xi xia xian xiang xiao xie xin xing xiong xiu xu xuan xue xun
zha zhai zhan zhang zhao zhe zhei zhen zheng zhi zhong zhou zhu zhua zhuai zhuan zhuang zhui
zhun zhuo
cha chai chan chang chao che chen cheng chi chong chou chu chua chuai chuan chuang chui chun
chuo
sha shai shan shang shao she shei shen sheng shi shou shu shua shuai shuan shuang shui shun
shuo
ran rang rao re ren reng ri rong rou ru rua ruan rui run ruo
za zai zan zang zao ze zei zen zeng zi zong zou zu zuan zui zun zuo
ca cai can cang cao ce cen ceng ci cong cou cu cuan cui cun cuo
sa sai san sang sao se sen seng si song sou su suan sui sun suo
ya yan yang yao ye yi yin ying yo yong you yu yuan yue yun
wa wai wan wang wei wen weng wo wu
"""

SYLLABLES: frozenset[str] = frozenset(_TABLE.split())
"""Every standard toneless pinyin syllable, spelled as pypinyin spells it."""

INITIALS: tuple[str, ...] = (
    "zh", "ch", "sh", "b", "p", "m", "f", "d", "t", "n", "l", "g", "k", "h",
    "j", "q", "x", "r", "z", "c", "s", "y", "w",
)  # fmt: skip
"""Initials as spelled, two-letter ones first so that a prefix match finds them."""

# How people type ü when they have no ü key: "lue" and "nue" are unambiguous; a bare
# "lu"/"nu" may mean either vowel, which is why readings_of_typed() returns both.
_TYPED_SPELLINGS = {"lue": "lve", "nue": "nve"}
_AMBIGUOUS_U = {"lu": "lv", "nu": "nv"}

_MAX_SYLLABLE = max(len(s) for s in SYLLABLES)
_VOWELS = frozenset("aoe")


def split_syllable(syllable: str) -> tuple[str, str]:
    """Split a spelled syllable into (initial, final); the initial may be empty.

    ``y`` and ``w`` count as initials here because the dialect rules work on spelling.
    """
    for initial in INITIALS:
        if syllable.startswith(initial) and len(syllable) > len(initial):
            return initial, syllable[len(initial) :]
    return "", syllable


def is_syllable(text: str) -> bool:
    """Whether ``text`` is one standard toneless syllable (pypinyin spelling)."""
    return text in SYLLABLES


def readings_of_typed(syllable: str) -> frozenset[str]:
    """What a typed syllable may stand for: ``lu`` may be lu or lü, ``lue`` is lüe."""
    spelled = _TYPED_SPELLINGS.get(syllable, syllable)
    other = _AMBIGUOUS_U.get(spelled)
    return frozenset((spelled, other)) if other else frozenset((spelled,))


def _typed_syllable(piece: str) -> str | None:
    spelled = _TYPED_SPELLINGS.get(piece, piece)
    return spelled if spelled in SYLLABLES else None


@lru_cache(maxsize=8192)
def segment_pinyin(text: str) -> tuple[str, ...] | None:
    """Split lowercase pinyin typed without spaces into syllables, or None if impossible.

    Apostrophes and hyphens in ``text`` force a syllable boundary (``xi'an``). Among full
    segmentations the one chosen has the fewest syllables starting with a vowel after the
    first (pinyin puts an apostrophe before such a syllable, ``zhang'an``, so ``zhangang``
    is zhan + gang), then the fewest syllables (``xian`` is one syllable, not xi + an).
    A vowel-initial syllable never follows the same vowel (``lee`` is not pinyin).
    """
    pieces = [p for p in text.replace("-", "'").split("'") if p]
    if not pieces:
        return None
    out: list[str] = []
    for piece in pieces:
        best = _segment_piece(piece)
        if best is None:
            return None
        out.extend(best)
    return tuple(out)


MAX_READINGS = 3
"""Ways of splitting typed pinyin kept per word: the likeliest and the next ones."""
_MAX_SPLITS = 64
"""Splits of one piece enumerated at most (a long run of ambiguous letters)."""


def pinyin_readings(text: str) -> tuple[tuple[str, ...], ...]:
    """Ways to split typed pinyin into syllables: :func:`segment_pinyin`'s first, then
    those with as many syllables whose boundary an apostrophe the typist left out would
    have moved before a vowel (``xinan`` is xi + nan, or xin'an: 罗欣安; ``zhenai`` is
    zhe + nai, or zhen'ai: 珍爱), at most :data:`MAX_READINGS`. Empty if none.

    A split into more syllables (yue as yu'e, xian as xi'an) is not offered: nearly every
    name has one (jian as ji'an, hua as hu'a), and offering them all would match
    strangers as readily as the name meant.
    """
    best = segment_pinyin(text)
    if best is None:
        return ()
    pieces = [p for p in text.replace("-", "'").split("'") if p]
    options: list[tuple[tuple[int, int], tuple[str, ...]]] = [((0, 0), ())]
    for piece in pieces:
        splits = _splits(piece)
        options = sorted(
            ((a[0] + b[0], a[1] + b[1]), sylls + more)
            for (a, sylls), (b, more) in ((o, sp) for o in options for sp in splits)
        )[:_MAX_SPLITS]
    others = [
        sylls for cost, sylls in options if cost[0] > 0 and len(sylls) == len(best) != 0
        and sylls != best
    ]  # fmt: skip
    return (best, *others[: MAX_READINGS - 1])


def _splits(piece: str) -> list[tuple[tuple[int, int], tuple[str, ...]]]:
    """Every split of one piece into syllables with its cost (vowel-initial syllables
    after the first, syllables), at most _MAX_SPLITS, in the order found."""
    out: list[tuple[tuple[int, int], tuple[str, ...]]] = []

    def extend(start: int, vowel_starts: int, sylls: tuple[str, ...]) -> None:
        if len(out) >= _MAX_SPLITS:
            return
        if start == len(piece):
            out.append(((vowel_starts, len(sylls)), sylls))
            return
        for end, syllable, penalty in _next_syllables(piece, start):
            extend(end, vowel_starts + penalty, (*sylls, syllable))

    extend(0, 0, ())
    return out


def _next_syllables(piece: str, start: int) -> Iterator[tuple[int, str, int]]:
    """The syllables ``piece`` may go on with at ``start``: (end, syllable, 1 if it starts
    with a vowel after the first syllable, else 0)."""
    for end in range(start + 1, min(len(piece), start + _MAX_SYLLABLE + 1) + 1):
        syllable = _typed_syllable(piece[start:end])
        if syllable is None:
            continue
        if start > 0 and piece[start] in _VOWELS:
            if piece[start - 1] == piece[start]:
                continue  # "lee" is not le + e: pinyin never doubles a vowel
            yield end, syllable, 1
        else:
            yield end, syllable, 0


def _segment_piece(piece: str) -> tuple[str, ...] | None:
    n = len(piece)
    # best[i]: (cost, syllables) for piece[:i]; cost = (vowel-initial non-first, count)
    best: list[tuple[tuple[int, int], tuple[str, ...]] | None] = [None] * (n + 1)
    best[0] = ((0, 0), ())
    for start in range(n):
        here = best[start]
        if here is None:
            continue
        (vowel_starts, count), sylls = here
        for end, syllable, penalty in _next_syllables(piece, start):
            cost = (vowel_starts + penalty, count + 1)
            current = best[end]
            if current is None or cost < current[0]:
                best[end] = (cost, (*sylls, syllable))
    final = best[n]
    return final[1] if final is not None else None
