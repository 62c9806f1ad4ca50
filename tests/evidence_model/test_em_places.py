"""The gazetteer: free text to the most specific division, and distances."""

from __future__ import annotations

import pytest

from matching.places import PlaceLevel, distance_km, haversine_km, resolve_place

RESOLVE_CASES = [
    ("province and city, full names", "四川省南充市", "南充市", PlaceLevel.CITY, "四川"),
    ("short names", "陕西西安", "西安市", PlaceLevel.CITY, "陕西"),
    ("a town is beyond the gazetteer: its city", "广东东莞市长安镇", "东莞市", PlaceLevel.CITY,
     "广东"),
    ("a spot after the city", "河南省商丘市公园", "商丘市", PlaceLevel.CITY, "河南"),
    ("a municipality's district", "北京市朝阳区", "朝阳区", PlaceLevel.COUNTY, "北京"),
    ("a municipality alone is a city", "重庆市", "重庆市", PlaceLevel.CITY, "重庆"),
    ("province alone", "四川", "四川省", PlaceLevel.PROVINCE, "四川"),
    ("province short name that is also a city: the province", "吉林", "吉林省",
     PlaceLevel.PROVINCE, "吉林"),
    ("then the city inside it", "吉林省吉林市", "吉林市", PlaceLevel.CITY, "吉林"),
    ("autonomous prefecture by short name", "凉山", "凉山彝族自治州", PlaceLevel.CITY, "四川"),
    ("a county's short name inside its province", "陕西长安", "长安区", PlaceLevel.COUNTY,
     "陕西"),
    ("county-level city under the province", "湖北仙桃", "仙桃市", PlaceLevel.COUNTY, "湖北"),
    ("traditional characters", "廣東省廣州市", "广州市", PlaceLevel.CITY, "广东"),
    ("spaces", "四川 南充", "南充市", PlaceLevel.CITY, "四川"),
    ("autonomous region", "内蒙古呼和浩特", "呼和浩特市", PlaceLevel.CITY, "内蒙古"),
]  # fmt: skip


@pytest.mark.parametrize(("description", "text", "name", "level", "province"), RESOLVE_CASES)
def test_resolve(description: str, text: str, name: str, level: PlaceLevel, province: str) -> None:
    place = resolve_place(text)
    assert place is not None, description
    assert (place.name, place.level, place.province) == (name, level, province), description


@pytest.mark.parametrize(
    "text", ["大山里", "老家在北方", "桥洞下", "家门口有条河", "", None, "朝阳区", "长安"]
)
def test_unresolvable_or_ambiguous_is_none(text: str | None) -> None:
    assert resolve_place(text) is None


def test_distances() -> None:
    chengdu, chongqing = resolve_place("四川省成都市"), resolve_place("重庆市")
    assert chengdu is not None and chongqing is not None
    assert 250 < distance_km(chengdu, chongqing) < 300
    assert distance_km(chengdu, chengdu) == 0
    assert haversine_km(0, 0, 0, 180) == pytest.approx(20015, rel=1e-3)


def test_every_generated_place_resolves_to_its_city(small_population: tuple) -> None:  # type: ignore[type-arg]
    pop, _, _ = small_population
    texts = [row["missing_place"] for row in pop.missing] + [
        row["found_place"] for row in pop.found
    ]
    for text in texts:
        place = resolve_place(text)
        assert place is not None, text
        assert place.level >= PlaceLevel.CITY, text
        assert text.startswith(place.full_name[:2]), text
