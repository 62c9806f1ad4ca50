"""A gazetteer of China's divisions: free-text places to coordinates, and distances.

Families and stations write places loosely: "四川省南充市", "陕西西安", "广东东莞市长安镇",
"河南省商丘市公园", or nothing useful at all ("大山里"). :func:`resolve_place` reads such
text left to right and returns the most specific division it names that has
coordinates (province, prefecture-level city or county); :func:`distance_km` is the
great-circle distance between two resolved places.

The divisions and their coordinates come from the data file of the ``cpca`` package
(``cpca/resources/adcodes.csv``: ``adcode,name,longitude,latitude``, about 3,500 rows).
The file is read on first use, never at import, and without importing ``cpca`` itself
(which loads pandas). Towns and villages are not in it: "东莞市长安镇" resolves to
东莞市.

How text is read:

- provinces and prefecture-level cities match by full name (四川省, 南充市, 凉山彝族自治州)
  or short name (四川, 南充, 凉山);
- counties and districts match by full name (长安区, 宝山区) anywhere, and by short name
  (长安) only inside a province or city already named, because short county names are
  common words;
- each later match must lie inside the division matched before it, so "陕西西安" is
  西安市 and not the 西安区 of Jilin; a name that fits several divisions and nothing
  before it says which (朝阳区 alone) is ignored rather than guessed.
"""

from __future__ import annotations

import csv
import importlib.util
import io
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from enum import IntEnum
from functools import cache, lru_cache
from pathlib import Path

import opencc

from matching.names import PROVINCES

EARTH_RADIUS_KM = 6371.0088
"""Mean Earth radius (IUGG), for great-circle distances."""
MUNICIPALITIES = frozenset({"11", "12", "31", "50"})
"""Adcode prefixes of the province-level cities; named alone they resolve as cities."""


class PlaceLevel(IntEnum):
    """How specific a resolved place is; higher is more specific."""

    PROVINCE = 1
    CITY = 2
    COUNTY = 3


@dataclass(frozen=True, slots=True)
class Place:
    """A division of China with its coordinates.

    ``province`` is the province's short name (四川, 内蒙古), as the names package's
    ``regions_from_text`` writes it; ``city_code`` is the adcode of the prefecture-level
    city the place lies in (for a municipality's district, the municipality's district
    group), None for a province.
    """

    adcode: str
    name: str
    full_name: str
    level: PlaceLevel
    province: str
    city_code: str | None
    latitude: float
    longitude: float


@dataclass(frozen=True, slots=True)
class _Division:
    adcode: str
    name: str
    level: PlaceLevel
    coordinates: tuple[float, float] | None  # (latitude, longitude)

    @property
    def province_code(self) -> str:
        return self.adcode[:2] + "0" * 10

    @property
    def city_code(self) -> str:
        return self.adcode[:4] + "0" * 8

    def inside(self, other: _Division) -> bool:
        """Whether this division lies within ``other`` (or is it)."""
        if other.level is PlaceLevel.PROVINCE:
            return self.adcode[:2] == other.adcode[:2]
        if other.level is PlaceLevel.CITY:
            return self.adcode[:4] == other.adcode[:4]
        return self.adcode == other.adcode


@dataclass(frozen=True)
class _Gazetteer:
    divisions: Mapping[str, _Division]
    by_name: Mapping[str, tuple[tuple[_Division, bool], ...]]  # name -> (division, is short)
    longest: int


# Placeholders in the adcode table that are not places anyone writes.
_NOT_NAMES = frozenset({"市辖区", "县", "省直辖县级行政区划", "自治区直辖县级行政区划"})
_ETHNIC = sorted(
    (
        "藏 羌 土家 苗 朝鲜 蒙古 布依 傈僳 壮 侗 白 哈尼 傣 景颇 回 柯尔克孜 哈萨克 彝 维吾尔 "
        "黎 瑶 满 畲 水 仡佬 土 撒拉 保安 东乡 裕固 达斡尔 鄂温克 鄂伦春 锡伯 纳西 拉祜 佤 "
        "普米 怒 独龙 基诺 阿昌 德昂 布朗 毛南 仫佬 京 各"
    ).split(),
    key=len,
    reverse=True,
)
_AUTONOMOUS = ("自治州", "自治县", "自治旗")
_CITY_SUFFIXES = ("地区", "盟", "市")
_COUNTY_SUFFIXES = ("林区", "特区", "新区", "县", "区", "市", "旗")


def _short_name(name: str, level: PlaceLevel) -> str | None:
    """The name without its administrative suffix (凉山彝族自治州 -> 凉山), if 2+ chars."""
    short = name
    for suffix in _AUTONOMOUS:
        if short.endswith(suffix):
            short = short[: -len(suffix)]
            stripped = True
            while stripped:
                stripped = False
                for ethnic in _ETHNIC:
                    for tail in (ethnic + "族", ethnic):
                        if short.endswith(tail) and len(short) > len(tail) + 1:
                            short = short[: -len(tail)]
                            stripped = True
                            break
                    if stripped:
                        break
            break
    else:
        suffixes = _CITY_SUFFIXES if level is PlaceLevel.CITY else _COUNTY_SUFFIXES
        for suffix in suffixes:
            if short.endswith(suffix):
                short = short[: -len(suffix)]
                break
    return short if len(short) >= 2 and short != name else None


def _data_file() -> Path:
    # find_spec locates the package without importing it (cpca imports pandas).
    spec = importlib.util.find_spec("cpca")
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError("the cpca package (gazetteer data) is not installed")
    return Path(next(iter(spec.submodule_search_locations))) / "resources" / "adcodes.csv"


def _level(adcode: str) -> PlaceLevel | None:
    if adcode[2:] == "0" * 10:
        return PlaceLevel.PROVINCE
    if adcode[4:] == "0" * 8:
        return PlaceLevel.CITY
    if adcode[6:] == "0" * 6:
        return PlaceLevel.COUNTY
    return None


def _parse(text: str) -> dict[str, _Division]:
    divisions: dict[str, _Division] = {}
    reader = csv.DictReader(io.StringIO(text))
    for row in reader:
        adcode = (row.get("adcode") or "").strip()
        name = (row.get("name") or "").strip()
        level = _level(adcode) if len(adcode) == 12 and adcode.isdigit() else None
        if level is None or not name:
            continue
        try:
            lon, lat = float(row["longitude"]), float(row["latitude"])
            coordinates: tuple[float, float] | None = (lat, lon)
        except (TypeError, ValueError):
            coordinates = None
        divisions[adcode] = _Division(adcode, name, level, coordinates)
    return divisions


@cache
def _gazetteer() -> _Gazetteer:
    divisions = _parse(_data_file().read_text(encoding="utf-8"))
    short_province = _province_short_names()
    names: dict[str, list[tuple[_Division, bool]]] = {}
    for division in divisions.values():
        if division.name in _NOT_NAMES:
            continue
        names.setdefault(division.name, []).append((division, False))
        if division.level is PlaceLevel.PROVINCE:
            short: str | None = short_province.get(division.name)
        else:
            short = _short_name(division.name, division.level)
        if short is not None and short != division.name:
            names.setdefault(short, []).append((division, True))
    by_name = {name: tuple(entries) for name, entries in names.items()}
    return _Gazetteer(divisions, by_name, max(len(name) for name in by_name))


@cache
def _province_short_names() -> Mapping[str, str]:
    return {p.full_name: p.name for p in PROVINCES}


@cache
def _t2s() -> opencc.OpenCC:
    return opencc.OpenCC("t2s")


_SPACES = re.compile(r"\s+")


def _matches(text: str, gazetteer: _Gazetteer) -> list[tuple[tuple[_Division, bool], ...]]:
    """Leftmost-longest place names in the text, in order."""
    found = []
    i = 0
    while i < len(text):
        for length in range(min(gazetteer.longest, len(text) - i), 1, -1):
            entries = gazetteer.by_name.get(text[i : i + length])
            if entries is not None:
                found.append(entries)
                i += length
                break
        else:
            i += 1
    return found


def _choose(
    entries: tuple[tuple[_Division, bool], ...], current: _Division | None
) -> _Division | None:
    """The division a matched name means, given the division matched before it."""
    fitting = [
        division
        for division, short in entries
        if (current is None or (division.inside(current) and division.adcode != current.adcode))
        # A county's short name is a common word: only read it inside a named place.
        and not (short and division.level is PlaceLevel.COUNTY and current is None)
    ]
    if not fitting:
        return None
    top = min(d.level for d in fitting)
    shallowest = {d.adcode: d for d in fitting if d.level == top}
    return next(iter(shallowest.values())) if len(shallowest) == 1 else None


def _place(division: _Division, gazetteer: _Gazetteer) -> Place | None:
    """The division as a Place, stepping up to its parent when it has no coordinates."""
    chain = [division]
    if division.level is PlaceLevel.COUNTY:
        chain.append(gazetteer.divisions.get(division.city_code, division))
    chain.append(gazetteer.divisions.get(division.province_code, division))
    for candidate in chain:
        if candidate.coordinates is None or candidate.name in _NOT_NAMES:
            continue
        province = gazetteer.divisions[candidate.province_code]
        short = _province_short_names().get(province.name, province.name)
        city = gazetteer.divisions.get(candidate.city_code)
        parts = [province.name]
        if candidate.level >= PlaceLevel.CITY and city is not None and city.name not in _NOT_NAMES:
            parts.append(city.name)
        if candidate.level is PlaceLevel.COUNTY:
            parts.append(candidate.name)
        has_city = candidate.level >= PlaceLevel.CITY and city is not None
        level = candidate.level
        city_code = candidate.city_code if has_city else None
        if level is PlaceLevel.PROVINCE and candidate.adcode[:2] in MUNICIPALITIES:
            # Beijing, Tianjin, Shanghai and Chongqing are provinces and cities at once.
            level, city_code = PlaceLevel.CITY, candidate.adcode[:2] + "01" + "0" * 8
        return Place(
            adcode=candidate.adcode,
            name=candidate.name,
            full_name="".join(dict.fromkeys(parts)),
            level=level,
            province=short,
            city_code=city_code,
            latitude=candidate.coordinates[0],
            longitude=candidate.coordinates[1],
        )
    return None


@lru_cache(maxsize=65536)
def resolve_place(text: str | None) -> Place | None:
    """The most specific division the text names, with coordinates; None if none.

    >>> resolve_place("四川省南充市").full_name
    '四川省南充市'
    >>> resolve_place("陕西西安").name
    '西安市'
    >>> resolve_place("大山里") is None
    True
    """
    if not text:
        return None
    folded = _SPACES.sub("", _t2s().convert(text))
    if not folded:
        return None
    gazetteer = _gazetteer()
    current: _Division | None = None
    for entries in _matches(folded, gazetteer):
        chosen = _choose(entries, current)
        if chosen is not None:
            current = chosen
    return _place(current, gazetteer) if current is not None else None


def haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in kilometres between two points given in degrees."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(h)))


def distance_km(a: Place, b: Place) -> float:
    """Great-circle distance in kilometres between two resolved places."""
    return haversine_km(a.latitude, a.longitude, b.latitude, b.longitude)
