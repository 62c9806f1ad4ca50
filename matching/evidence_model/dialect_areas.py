"""Dialect areas: coarse groups of provinces whose speech a listener may not tell apart.

After the Language Atlas of China's supergroups, simplified to provinces; a province
may sit in two (Hubei speaks Southwestern Mandarin and borders Hunan). Used to judge an
accent heard against a family's hometown.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Final

DIALECT_AREAS: Final[Mapping[str, frozenset[str]]] = MappingProxyType(
    {
        "东北": frozenset({"黑龙江", "吉林", "辽宁"}),
        "华北": frozenset({"北京", "天津", "河北", "山东", "山西", "河南", "内蒙古"}),
        "西北": frozenset({"陕西", "甘肃", "宁夏", "青海", "新疆"}),
        "西南": frozenset({"四川", "重庆", "贵州", "云南", "湖北"}),
        "两湖江西": frozenset({"湖北", "湖南", "江西"}),
        "江淮吴": frozenset({"江苏", "浙江", "上海", "安徽"}),
        "闽台": frozenset({"福建", "台湾"}),
        "两广": frozenset({"广东", "广西", "海南", "香港", "澳门"}),
        "藏": frozenset({"西藏", "青海"}),
    }
)
"""Dialect areas as sets of provinces."""


def areas_of(provinces: frozenset[str]) -> frozenset[str]:
    """The dialect areas any of the provinces belongs to."""
    return frozenset(name for name, members in DIALECT_AREAS.items() if members & provinces)
