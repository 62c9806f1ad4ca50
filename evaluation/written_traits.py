"""Marks and conditions: what a family writes, and what a station writes for the same thing.

Families name diagnoses (精神分裂症, 阿尔茨海默病); stations write what they observe
(精神异常, 老年痴呆, 反应迟钝). Visible marks are described in the words at hand (右臂有疤 /
右臂疤痕). So a true pair shares its traits only through these variants, and some are lost:
a station does not know of a diabetes, a family forgets a scar.
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from types import MappingProxyType
from typing import Final

# Visible marks and how often a person has each (rough weights for a generator, not
# measured prevalences), with the other ways a station may describe them.
FEATURES: Final[Mapping[str, tuple[float, tuple[str, ...]]]] = MappingProxyType(
    {
        "右臂有疤": (0.05, ("右臂疤痕", "右手臂有伤疤")),
        "左臂有疤": (0.05, ("左臂疤痕", "左手臂有伤疤")),
        "额头有疤": (0.05, ("额头疤痕", "前额有疤")),
        "脸上有疤": (0.03, ("面部有疤", "脸部疤痕")),
        "头部有疤": (0.04, ("头上有疤", "头部疤痕")),
        "左眉有痣": (0.03, ("左眉毛有痣", "左眉处有痣")),
        "右脸有痣": (0.03, ("右脸颊有痣", "右侧面部有痣")),
        "嘴角有痣": (0.02, ("嘴边有痣",)),
        "脖子有胎记": (0.02, ("颈部有胎记",)),
        "背部有胎记": (0.02, ("后背有胎记",)),
        "左手缺指": (0.015, ("左手缺一指", "左手残疾")),
        "右手缺指": (0.015, ("右手缺一指", "右手残疾")),
        "六指": (0.005, ("多一根手指",)),
        "跛脚": (0.03, ("走路一瘸一拐", "腿脚不便")),
        "驼背": (0.02, ("弯腰驼背",)),
        "秃顶": (0.03, ("头顶秃", "谢顶")),
        "门牙缺失": (0.03, ("缺门牙", "门牙掉了")),
        "龅牙": (0.02, ("牙齿外凸",)),
        "斜视": (0.015, ("斜眼", "对眼")),
        "兔唇": (0.005, ("唇裂", "豁嘴")),
        "手臂有纹身": (0.02, ("胳膊有纹身", "手臂刺青")),
    }
)

# Conditions a family reports, with the words a station uses for them and how likely the
# station is to notice the condition at all.
HEALTH: Final[Mapping[str, tuple[float, tuple[str, ...]]]] = MappingProxyType(
    {
        "阿尔茨海默病": (0.85, ("老年痴呆", "记忆力差", "认知障碍", "阿尔茨海默病")),
        "记忆力减退": (0.6, ("记忆力差", "健忘")),
        "精神分裂症": (0.9, ("精神异常", "精神障碍", "精神分裂症")),
        "抑郁症": (0.5, ("精神异常", "情绪低落", "抑郁症")),
        "双相情感障碍": (0.6, ("精神异常", "精神障碍")),
        "精神障碍": (0.9, ("精神异常", "精神障碍")),
        "智力障碍": (0.9, ("智力障碍", "智力低下", "反应迟钝", "智力残疾")),
        "说话不清": (0.8, ("说话不清", "言语不清", "口齿不清")),
        "聋哑": (0.95, ("聋哑", "不会说话", "聋哑人")),
        "癫痫": (0.3, ("癫痫", "羊癫疯")),
        "自闭症": (0.5, ("不与人交流", "自闭症")),
        "高血压": (0.3, ("高血压",)),
        "糖尿病": (0.2, ("糖尿病",)),
        "行动不便": (0.8, ("行动不便", "腿脚不便")),
        "听力下降": (0.6, ("耳背", "听力差")),
    }
)

# Conditions that leave a person unable to say their name or give an accent.
SPEECHLESS: Final = frozenset({"聋哑"})


def draw_features(rng: random.Random) -> tuple[str, ...]:
    """The visible marks of one person (most people have none or one)."""
    return tuple(name for name, (p, _) in FEATURES.items() if rng.random() < p)


def reported(traits: Sequence[str], rng: random.Random, *, keep: float) -> tuple[str, ...]:
    """What a family writes: each true trait kept with probability ``keep``, as is."""
    return tuple(t for t in traits if rng.random() < keep)


def observed_features(
    features: Sequence[str], rng: random.Random, *, keep: float = 0.65, extra: float = 0.08
) -> tuple[str, ...]:
    """What a station writes of visible marks: some lost, some reworded, rarely one more."""
    out = []
    for feature in features:
        if rng.random() >= keep:
            continue
        _, variants = FEATURES[feature]
        out.append(feature if rng.random() < 0.6 else rng.choice(variants))
    if rng.random() < extra:
        # A mark the family never mentioned (or never knew of, such as a new scar).
        out.append(rng.choice(list(FEATURES)))
    return tuple(dict.fromkeys(out))


def observed_health(health: Sequence[str], rng: random.Random) -> tuple[str, ...]:
    """What a station writes of conditions: noticed ones, in the station's words."""
    out = []
    for condition in health:
        noticed, variants = HEALTH[condition]
        if rng.random() < noticed:
            out.append(rng.choice(variants))
    return tuple(dict.fromkeys(out))
