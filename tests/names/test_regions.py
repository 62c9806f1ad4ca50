"""Reading an accent note or hometown fragment as provinces."""

from __future__ import annotations

import pytest

from matching.names import PROVINCES, regions_from_text, resolve_regions
from matching.names.regions import AREAS, CITIES, PROVINCE_NAMES


@pytest.mark.parametrize(
    ("text", "provinces"),
    [
        ("四川口音", {"四川"}),
        ("川音", {"四川"}),
        ("说话带川普", {"四川", "重庆"}),
        ("东北口音", {"黑龙江", "吉林", "辽宁"}),
        ("广东话", {"广东"}),
        ("说闽南话", {"福建"}),
        ("上海话", {"上海"}),
        ("湖南长沙人", {"湖南"}),
        ("带点湘音", {"湖南"}),
        ("温州人", {"浙江"}),
        ("成都", {"四川"}),
        ("武汉口音", {"湖北"}),
        ("渝", {"重庆"}),
        ("重庆人", {"重庆"}),
        ("江浙沪一带", {"江苏", "浙江", "上海"}),
        ("说话像新疆的", {"新疆"}),
        ("吉林市人", {"吉林"}),
        ("广西壮族自治区", {"广西"}),
        ("內蒙口音", {"内蒙古"}),
        ("Sichuan accent", {"四川"}),
        ("speaks Cantonese", {"广东", "广西", "香港", "澳门"}),
    ],
)
def test_regions_from_text(text: str, provinces: set[str]) -> None:
    assert regions_from_text(text) == provinces


@pytest.mark.parametrize(
    "text", ["大山里", "普通话", "外地口音", "听不懂", "", "新人", "黑色上衣", "口音不详"]
)
def test_vague_text_gives_no_region(text: str) -> None:
    assert regions_from_text(text) == frozenset()


def test_tables_name_real_provinces() -> None:
    assert len(PROVINCES) == 34
    assert set(CITIES.values()) <= PROVINCE_NAMES
    for provinces in AREAS.values():
        assert set(provinces) <= PROVINCE_NAMES
    assert CITIES["成都"] == "四川" and CITIES["武汉"] == "湖北"
    assert CITIES["长沙"] == "湖南" and CITIES["温州"] == "浙江"


def test_resolve_regions() -> None:
    assert resolve_regions(["四川", "东北"]) == {"四川", "黑龙江", "吉林", "辽宁"}
    assert resolve_regions([]) == frozenset()
    with pytest.raises(ValueError, match="unknown region"):
        resolve_regions(["大山里"])
