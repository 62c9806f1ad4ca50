"""A seeded, realistic tracing population with ground truth, in the service's import format.

``generate_population`` makes people, then writes down what a family reports about each one
who has a report and what a station records about each one in care. A few people have both
(the true pairs); most reports have no found person and most found persons no report, as in
life. Every record goes through the same process whether or not it is paired, so nothing
but the people themselves tells a true pair from a chance resemblance.

Who the people are (``census``, ``categories``):

- surname by national frequency (王/李 about 7% each, top 100 about 85%, compound surnames
  at their small shares); given name of one or two characters by sex and birth cohort;
  a 小名 that fits the region (阿X in the south, X娃 in the southwest and northwest, ...);
- home province by the 2020 census population, city within it, and the dialect group of
  that city;
- a category (elderly with dementia 30%, mental illness 22%, intellectual disability 25%,
  child 7%, child grown up 7%, migrant worker 9%) that sets the age when lost, how long
  until found (days for an elderly person, decades for a child grown up), where they are
  found (same city, same province or another), their health and how the station
  records their name.

How the records differ from the truth:

- the report has the registered name, often the 小名 as an alias, a birth year (sometimes
  off by one: 虚岁 or lunar year) or date, a missing date that is sometimes misremembered
  (rarely even after the found date), the home place and dialect, height when lost, most
  marks and diagnoses;
- the found record has the name as the station wrote it (``corruption.Scenario``: exact,
  dialect, homophone, nickname, given_only, no_name, traditional, pinyin, char_lost,
  assigned; a name the station gave is marked as such, since the station knows), an age
  range that is off by years (more for elderly people and for grown children), an accent
  that may be missing, coarse or misjudged (a grown child speaks like the place they grew
  up), hometown fragments ("四川", "大山里") or nothing, a measured
  height, marks and conditions in the station's words, some lost.

Over all true pairs the name scenarios come out at about: exact 24%, no_name 18%, dialect
14%, homophone 12%, nickname 10%, char_lost 6%, assigned 6%, given_only 5%, pinyin 2.5%,
traditional 2% (each category has its own mix; ``categories`` gives the tables and the
reasons, ``categories.documented_mix()`` the figures as data).

Each true pair's labels (scenario, category, gap bucket, dialect region, province, photos)
are in ``Population.truth``; the documented and realised mixes in ``Population.mix``.
Faces, when a folder of real photos is given, come from ``faces.load_face_identities``:
one identity per generated person, never shared between people; a true pair shows
different photos of that identity on each side. When identities run out, later people
(in a random order over everyone who would have a photo) have none.

The same seed gives the same population (``random.Random`` streams seeded from it; faces
use their own stream, so adding a photo folder changes nothing but the photos); 100,000
reports with 100,000 found records take about ten seconds.

Known limits: every name is a Han name; cities within a province are equally likely; a
photo's identity is not matched to the generated person's sex or age.
"""

from __future__ import annotations

import bisect
import itertools
import json
import math
import random
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from datetime import date, timedelta
from pathlib import Path
from types import MappingProxyType
from typing import Any, Final

from evaluation import census, written_traits
from evaluation.categories import (
    CATEGORIES,
    Category,
    CategorySpec,
    documented_mix,
)
from evaluation.corruption import RecordedName, Scenario, TrueName, make_nickname, record_name
from evaluation.face_supply import CHILD_PHOTO_UNDER, FaceIdentity, load_face_identities

# ---------------------------------------------------------------------------------------
# Parameters of the recording process (documented with the module).
# ---------------------------------------------------------------------------------------

EARLIEST_FOUND: Final = date(2008, 1, 1)
GROWN_LOST_YEARS: Final = (1978, 2012)
GROWN_FOUND_FROM: Final = date(2016, 1, 1)  # 全国救助寻亲网 opened in 2016
FOUND_RECENCY_MEAN_DAYS: Final = 1200.0

REPORT_NICKNAME_SHARE: Final = 0.6
REPORT_NICKNAME_SHARE_CHILD: Final = 0.85
REPORT_FORMER_NAME_SHARE: Final = 0.04
REPORT_BIRTH_DATE_SHARE: Final = 0.55
REPORT_BIRTH_YEAR_ONLY_SHARE: Final = 0.38
REPORT_BIRTH_YEAR_OFF_SHARE: Final = 0.10
REPORT_DATE_NOISE_SHARE: Final = 0.10
REPORT_DATE_WRONG_YEAR_SHARE: Final = 0.03
REPORT_DATE_AFTER_FOUND_SHARE: Final = 0.02
REPORT_HEIGHT_SHARE: Final = 0.80
REPORT_FEATURE_KEEP: Final = 0.85
REPORT_HEALTH_KEEP: Final = 0.95
REPORT_HOMETOWN_SHARE: Final = 0.95
REPORT_DIALECT_SHARE: Final = 0.85
FOUND_HEIGHT_SHARE: Final = 0.85
FOUND_SPOT_SHARE: Final = 0.8
MISSING_SPOT_SHARE: Final = 0.6
EXTRA_REPORT_PHOTO_SHARE: Final = 0.3

_HOME_SPOTS: Final = ("家附近", "集市", "医院", "公园", "菜市场", "村口")
MISSING_SPOTS: Final[Mapping[Category, tuple[str, ...]]] = MappingProxyType(
    {
        Category.ELDERLY_DEMENTIA: _HOME_SPOTS,
        Category.MENTAL_ILLNESS: (*_HOME_SPOTS, "火车站", "汽车站"),
        Category.INTELLECTUAL_DISABILITY: (*_HOME_SPOTS, "火车站", "汽车站", "工地"),
        Category.CHILD: ("家附近", "学校门口", "公园", "集市", "村口"),
        Category.CHILD_GROWN: ("家门口", "集市", "火车站", "村口", "学校门口"),
        Category.MIGRANT_WORKER: ("工地", "工厂", "火车站", "汽车站", "出租屋"),
    }
)
"""Where each kind of person was last seen, to add to the city of a report."""
FOUND_SPOTS: Final = tuple(
    "火车站 汽车站 高速公路服务区 街头 桥洞下 医院门口 菜市场 公园 商场门口".split()
)
VAGUE_HOMETOWNS: Final = (
    "大山里", "家门口有条河", "老家在农村", "老家在北方", "老家在南方", "村里有座桥",
    "家附近有火车站", "靠海边",
)  # fmt: skip

GAP_BUCKETS: Final = (
    ("days", 30),
    ("months", 365),
    ("1-5y", 5 * 365),
    ("5-10y", 10 * 365),
    ("10-20y", 20 * 365),
    ("20y+", math.inf),
)
"""Buckets of the time from going missing to being found: (label, exclusive upper bound in days)."""

# Mean height (cm) by age for boys and girls, 0-18, from national growth references
# (rounded); a person's own height scales this curve to their adult height.
_GROWTH_M: Final = (
    50, 76, 88, 96, 104, 111, 117, 124, 130, 135, 140, 146, 153, 160, 165, 168, 170, 171, 171,
)  # fmt: skip
_GROWTH_F: Final = (
    49, 75, 87, 95, 103, 110, 116, 122, 128, 134, 140, 146, 151, 155, 157, 158, 158, 158, 158,
)  # fmt: skip
_ADULT_MEAN: Final[Mapping[str, float]] = MappingProxyType({"M": 170.0, "F": 158.0})
_ADULT_SD: Final = 6.0


def gap_bucket(days: int) -> str:
    """The label of the bucket holding a gap of ``days`` between missing and found."""
    for label, upper in GAP_BUCKETS:
        if days < upper:
            return label
    return GAP_BUCKETS[-1][0]


@dataclass(frozen=True, slots=True)
class TruePair:
    """One report and one found record of the same person, with labels for breakdowns."""

    missing_ref: str
    found_ref: str
    scenario: str
    category: str
    gap: str
    region: str
    province: str
    has_photos: bool
    detail: str | None = None

    @property
    def labels(self) -> dict[str, str]:
        """The labels metrics can be broken down by."""
        return {
            "scenario": self.scenario,
            "category": self.category,
            "gap": self.gap,
            "region": self.region,
            "province": self.province,
            "photos": "with_photos" if self.has_photos else "without_photos",
        }


@dataclass(frozen=True)
class Population:
    """Reports, found records (import-format rows), the true pairs and the mix."""

    missing: list[dict[str, Any]]
    found: list[dict[str, Any]]
    truth: list[TruePair]
    mix: dict[str, Any]


@dataclass(slots=True)
class _Person:
    pid: int
    spec: CategorySpec
    sex: str
    name: TrueName
    birth: date
    home: census.City
    missing_date: date
    missing_city: census.City
    found_date: date
    found_city: census.City
    adult_height: float
    features: tuple[str, ...]
    health: tuple[str, ...]


class _Tables:
    """Cumulative weights for fast weighted draws with ``random.Random``."""

    def __init__(self) -> None:
        self.provinces = census.PROVINCES
        self.province_cum = list(
            itertools.accumulate(p.population_millions for p in self.provinces)
        )
        self.surnames = [s for s, _ in census.SURNAME_SHARES]
        self.surname_cum = list(itertools.accumulate(p for _, p in census.SURNAME_SHARES))
        self.categories = list(CATEGORIES.values())
        self.category_cum = list(itertools.accumulate(s.share for s in self.categories))
        self.given: dict[tuple[str, str], tuple[tuple[str, ...], list[float]]] = {}
        for key, chars in census.GIVEN_NAME_CHARS.items():
            weights = census.rank_weights(len(chars))
            self.given[key] = (chars, list(itertools.accumulate(weights)))
        destinations = [census.PROVINCES_BY_NAME[n] for n in census.MIGRANT_DESTINATIONS]
        self.destinations = destinations
        self.destination_cum = list(itertools.accumulate(census.MIGRANT_DESTINATIONS.values()))
        self.by_dialect: dict[str, list[census.Province]] = {}
        for province in self.provinces:
            for dialect in {c.dialect for c in province.cities}:
                self.by_dialect.setdefault(dialect, []).append(province)

    @staticmethod
    def pick(rng: random.Random, items: Sequence[Any], cum: Sequence[float]) -> Any:
        return items[bisect.bisect_right(cum, rng.random() * cum[-1])]


def _days(d: date) -> int:
    return d.toordinal()


def _clip(value: float, low: float, high: float) -> float:
    return low if value < low else high if value > high else value


def _age_on(birth: date, on: date) -> int:
    return on.year - birth.year - ((on.month, on.day) < (birth.month, birth.day))


def _province_other_than(rng: random.Random, t: _Tables, excluded: str) -> census.Province:
    while True:
        province: census.Province = t.pick(rng, t.provinces, t.province_cum)
        if province.name != excluded:
            return province


def _given_name(rng: random.Random, t: _Tables, sex: str, birth_year: int) -> str:
    cohort = census.cohort_of(birth_year)
    chars, cum = t.given[(sex, cohort)]
    first: str = t.pick(rng, chars, cum)
    if sex == "F" and rng.random() < census.REDUPLICATED_GIVEN_SHARE_F:
        return first + first
    if rng.random() < census.SINGLE_CHAR_GIVEN_SHARE[cohort]:
        return first
    while True:
        second: str = t.pick(rng, chars, cum)
        if second != first:
            return first + second


def _timeline(rng: random.Random, spec: CategorySpec, today: date) -> tuple[date, date]:
    """(missing date, found date) for one person."""
    if spec.category is Category.CHILD_GROWN:
        year = rng.randint(*GROWN_LOST_YEARS)
        missing = date(year, 1, 1) + timedelta(days=rng.randrange(365))
        found = date.fromordinal(rng.randint(_days(GROWN_FOUND_FROM), _days(today)))
        return missing, found
    back = rng.expovariate(1.0 / FOUND_RECENCY_MEAN_DAYS)
    if back > _days(today) - _days(EARLIEST_FOUND):
        back = rng.uniform(0, _days(today) - _days(EARLIEST_FOUND))
    found = today - timedelta(days=int(back))
    delay = rng.lognormvariate(math.log(spec.delay.median_days), spec.delay.sigma)
    missing = found - timedelta(days=int(min(delay, spec.delay.max_days)))
    return missing, found


def _found_city(
    rng: random.Random, t: _Tables, spec: CategorySpec, lost: census.City
) -> census.City:
    u = rng.random()
    if u < spec.place.same_city:
        return lost
    if u < spec.place.same_city + spec.place.same_province:
        province = census.PROVINCES_BY_NAME[lost.province]
        others = [c for c in province.cities if c != lost]
        return rng.choice(others) if others else lost
    return rng.choice(_province_other_than(rng, t, lost.province).cities)


def _draw_person(rng: random.Random, t: _Tables, pid: int, today: date) -> _Person:
    spec: CategorySpec = t.pick(rng, t.categories, t.category_cum)
    sex = "M" if rng.random() < spec.male_share else "F"
    home_province: census.Province = t.pick(rng, t.provinces, t.province_cum)
    home = rng.choice(home_province.cities)
    missing, found = _timeline(rng, spec, today)
    age = _clip(rng.gauss(spec.age.mean, spec.age.sd), spec.age.low, spec.age.high)
    birth = missing - timedelta(days=int(age * 365.25) + rng.randrange(365))
    surname: str = t.pick(rng, t.surnames, t.surname_cum)
    given = _given_name(rng, t, sex, birth.year)
    nickname = make_nickname(given, sex=sex, birth_year=birth.year, dialect=home.dialect, rng=rng)
    if spec.category is Category.MIGRANT_WORKER:
        while True:
            work: census.Province = t.pick(rng, t.destinations, t.destination_cum)
            if work.name != home_province.name:
                break
        lost = rng.choice(work.cities)
    else:
        lost = home
    if spec.health_exclusive:
        health: tuple[str, ...] = (
            rng.choices([h for h, _ in spec.health], weights=[w for _, w in spec.health])[0],
        )
    else:
        health = tuple(h for h, p in spec.health if rng.random() < p)
    return _Person(
        pid=pid,
        spec=spec,
        sex=sex,
        name=TrueName(surname, given, nickname),
        birth=birth,
        home=home,
        missing_date=missing,
        missing_city=lost,
        found_date=found,
        found_city=_found_city(rng, t, spec, lost),
        adult_height=_ADULT_MEAN[sex] + _ADULT_SD * _clip(rng.gauss(0, 1), -3, 3),
        features=written_traits.draw_features(rng),
        health=health,
    )


def height_at(person_adult_height: float, sex: str, age: float) -> float:
    """Height (cm) at ``age`` for a person whose adult height is ``person_adult_height``."""
    curve = _GROWTH_M if sex == "M" else _GROWTH_F
    scale = person_adult_height / _ADULT_MEAN[sex]
    if age < 18:
        low = int(age)
        frac = age - low
        return scale * (curve[low] + frac * (curve[low + 1] - curve[low]))
    shrink = 0.12 * (age - 60) if age > 60 else 0.0
    return person_adult_height - shrink


def _report_row(rng: random.Random, p: _Person, today: date) -> dict[str, Any]:
    is_child = p.spec.category in (Category.CHILD, Category.CHILD_GROWN)
    aliases = []
    if rng.random() < (REPORT_NICKNAME_SHARE_CHILD if is_child else REPORT_NICKNAME_SHARE):
        aliases.append(p.name.nickname)
    if rng.random() < REPORT_FORMER_NAME_SHARE:
        former = p.name.surname + p.name.given[::-1]
        if former != p.name.full:
            aliases.append(former)
    u = rng.random()
    birth_date: date | None = None
    birth_year: int | None = None
    if u < REPORT_BIRTH_DATE_SHARE:
        birth_date, birth_year = p.birth, p.birth.year
    elif u < REPORT_BIRTH_DATE_SHARE + REPORT_BIRTH_YEAR_ONLY_SHARE:
        birth_year = p.birth.year
        if rng.random() < REPORT_BIRTH_YEAR_OFF_SHARE:
            birth_year += rng.choice((-1, 1))
    reported = p.missing_date
    u = rng.random()
    if u < REPORT_DATE_NOISE_SHARE:
        # A family reporting a recent disappearance knows the day; older dates drift.
        recent = p.spec.category in (Category.ELDERLY_DEMENTIA, Category.CHILD)
        reported += timedelta(days=int(rng.gauss(0, 2 if recent else 20)))
    elif u < REPORT_DATE_NOISE_SHARE + REPORT_DATE_WRONG_YEAR_SHARE:
        reported += timedelta(days=rng.choice((-365, 365)))
    elif u < REPORT_DATE_NOISE_SHARE + REPORT_DATE_WRONG_YEAR_SHARE + REPORT_DATE_AFTER_FOUND_SHARE:
        # The family's "last contact" is after the person was already in a station's care
        # (NamUs's own showcase case): only plausible when the two dates are close anyway.
        if _days(p.found_date) - _days(p.missing_date) < 60:
            reported = p.found_date + timedelta(days=rng.randint(1, 10))
    reported = min(max(reported, p.birth + timedelta(days=1)), today)
    age_lost = (_days(p.missing_date) - _days(p.birth)) / 365.25
    height: float | None = None
    if rng.random() < REPORT_HEIGHT_SHARE:
        height = height_at(p.adult_height, p.sex, age_lost) + rng.gauss(0, 2)
        height = 5 * round(height / 5) if rng.random() < 0.5 else round(height)
    place = p.missing_city.place
    if rng.random() < MISSING_SPOT_SHARE:
        place += rng.choice(MISSING_SPOTS[p.spec.category])
    return {
        "ref": "",
        "name": p.name.full,
        "aliases": aliases,
        "sex": p.sex,
        "birth_year": birth_year,
        "birth_date": birth_date.isoformat() if birth_date else None,
        "missing_date": reported.isoformat(),
        "missing_place": place,
        "hometown": p.home.place if rng.random() < REPORT_HOMETOWN_SHARE else None,
        "dialect": p.home.dialect if rng.random() < REPORT_DIALECT_SHARE else None,
        "height_cm": height,
        "features": list(written_traits.reported(p.features, rng, keep=REPORT_FEATURE_KEEP)),
        "health": list(written_traits.reported(p.health, rng, keep=REPORT_HEALTH_KEEP)),
        "photos": [],
    }


def _accent(rng: random.Random, t: _Tables, p: _Person) -> str | None:
    if (
        written_traits.SPEECHLESS.intersection(p.health)
        or rng.random() >= p.spec.accent_recorded_share
    ):
        return None
    city = p.home
    if p.spec.category is Category.CHILD_GROWN and rng.random() < 0.8:
        city = p.found_city  # they speak like the place they grew up, not where they were born
    province = census.PROVINCES_BY_NAME[city.province]
    u = rng.random()
    if u < 0.55:
        return f"{province.accent_label}口音"
    if u < 0.75:
        return f"{census.DIALECT_ACCENT_LABEL[city.dialect]}口音"
    if u < 0.95:
        alike = [q for q in t.by_dialect[city.dialect] if q.name != province.name]
        other = rng.choice(alike) if alike else _province_other_than(rng, t, province.name)
        return f"{other.accent_label}口音"
    return "普通话"


def _stated_hometown(rng: random.Random, t: _Tables, p: _Person) -> str | None:
    if rng.random() >= p.spec.hometown_stated_share:
        return None
    province = census.PROVINCES_BY_NAME[p.home.province]
    if p.spec.category is Category.CHILD_GROWN and rng.random() < 0.7:
        return rng.choice(VAGUE_HOMETOWNS)
    u = rng.random()
    if u < 0.35:
        return province.short
    if u < 0.60:
        return p.home.short_name
    if u < 0.80:
        return province.short + p.home.short_name
    if u < 0.90:
        return rng.choice(VAGUE_HOMETOWNS)
    return _province_other_than(rng, t, province.name).short


def _station(city: census.City) -> str:
    municipality = city.province in ("北京市", "天津市", "上海市", "重庆市")
    return f"{city.province}{city.name}救助管理站" if municipality else f"{city.name}救助管理站"


def _found_row(
    rng: random.Random, t: _Tables, p: _Person, today: date
) -> tuple[dict[str, Any], RecordedName, int]:
    """The station's record, what it made of the name, and the age it estimated."""
    scenarios = list(p.spec.scenarios)
    scenario = rng.choices(scenarios, weights=[p.spec.scenarios[s] for s in scenarios])[0]
    recorded = record_name(
        p.name,
        scenario,
        sex=p.sex,
        birth_year=p.birth.year,
        speaker_dialect=p.home.dialect,
        listener_dialect=p.found_city.dialect,
        rng=rng,
    )
    true_age = (_days(p.found_date) - _days(p.birth)) / 365.25
    est = p.spec.estimate
    centre = true_age + est.bias + rng.gauss(0, est.sd)
    half = rng.choice(est.half_widths)
    age_min = int(_clip(round(centre - half), 0, 115))
    age_max = int(_clip(round(centre + half), age_min, 120))
    height: int | None = None
    if rng.random() < FOUND_HEIGHT_SHARE:
        height = round(height_at(p.adult_height, p.sex, true_age) + rng.gauss(0, 2))
    place = p.found_city.place
    if rng.random() < FOUND_SPOT_SHARE:
        place += rng.choice(FOUND_SPOTS)
    row = {
        "ref": "",
        "name": recorded.name,
        "aliases": list(recorded.aliases),
        "sex": p.sex,
        "age_min": age_min,
        "age_max": age_max,
        "found_date": min(p.found_date, today).isoformat(),
        "found_place": place,
        "accent": _accent(rng, t, p),
        "hometown": _stated_hometown(rng, t, p),
        "height_cm": height,
        "features": list(written_traits.observed_features(p.features, rng)),
        "health": list(written_traits.observed_health(p.health, rng)),
        "station": _station(p.found_city),
        # A station knows the names it gives and says so on the record.
        "name_assigned": recorded.scenario is Scenario.ASSIGNED,
        "photos": [],
    }
    return row, recorded, (age_min + age_max) // 2


def _report_photo_year(rng: random.Random, p: _Person, today: date) -> int:
    lost_year = p.missing_date.year
    if p.spec.category in (Category.CHILD, Category.CHILD_GROWN):
        year = lost_year - rng.randint(0, 2)
        return max(min(year, today.year), p.birth.year + 1)
    year = lost_year - rng.randint(0, 8)
    return max(min(year, today.year), min(p.birth.year + 16, lost_year))


def _assign_faces(
    rng: random.Random,
    identities: Sequence[FaceIdentity],
    people: Sequence[_Person],
    reports: Mapping[int, dict[str, Any]],
    founds: Mapping[int, tuple[dict[str, Any], int]],
    today: date,
) -> None:
    """Give each person who would have a photo one identity, while identities last.

    People on both sides (the true pairs) are served first: stations photograph everyone
    in care and most families have a photo, so the evaluation should weigh faces on most
    true pairs, and the supply of real identities is far smaller than the population. A
    child lost young is given an identity photographed at known ages, when one is left:
    the report shows the child at about the age lost, the found person the same person
    grown up.
    """
    supply = [ident for ident in identities if not ident.aged]
    aged = [ident for ident in identities if ident.aged]
    rng.shuffle(supply)
    rng.shuffle(aged)
    # Identities whose photos the detector saw as one face each go first.
    supply.sort(key=lambda ident: -min(ident.n_one_face, 2))
    queue = iter(supply)
    aged_queue = iter(aged)
    both = [pid for pid in range(len(people)) if pid in reports and pid in founds]
    one_side = [pid for pid in range(len(people)) if not (pid in reports and pid in founds)]
    rng.shuffle(both)
    rng.shuffle(one_side)
    for pid in both + one_side:
        p = people[pid]
        want_report = pid in reports and rng.random() < p.spec.report_photo_share
        want_found = pid in founds and rng.random() < p.spec.found_photo_share
        if not (want_report or want_found):
            continue
        young = p.spec.category in (Category.CHILD, Category.CHILD_GROWN)
        identity = next(aged_queue, None) if young else None
        if identity is not None:
            _aged_photos(identity, p, reports.get(pid), founds.get(pid), want_report,
                         want_found, today)  # fmt: skip
            continue
        identity = next(queue, None)
        if identity is None:
            if young:
                continue
            return
        photos = list(identity.photos)
        preferred = [ph for ph in photos if ph.one_face is not False]
        rest = [ph for ph in photos if ph.one_face is False]
        rng.shuffle(preferred)
        rng.shuffle(rest)
        photos = preferred + rest
        if want_found:
            row, age = founds[pid]
            row["photos"] = [{"path": str(photos.pop(0).path), "age": age}]
        if want_report:
            n = 2 if len(photos) >= 2 and rng.random() < EXTRA_REPORT_PHOTO_SHARE else 1
            reports[pid]["photos"] = [
                {"path": str(ph.path), "taken_year": _report_photo_year(rng, p, today)}
                for ph in photos[:n]
            ]


def _aged_photos(
    identity: FaceIdentity,
    p: _Person,
    report: dict[str, Any] | None,
    found: tuple[dict[str, Any], int] | None,
    want_report: bool,
    want_found: bool,
    today: date,
) -> None:
    """The photo nearest the age lost for the report (taken that year), and the one
    nearest the age found for the found person (a different photo)."""
    photos = [ph for ph in identity.photos if ph.age is not None]
    young = [ph for ph in photos if (ph.age or 0) < CHILD_PHOTO_UNDER]
    lost_age = p.missing_date.year - p.birth.year
    child = min(young or photos, key=lambda ph: (abs((ph.age or 0) - lost_age), ph.path.name))
    if want_report and report is not None:
        year = min(p.birth.year + (child.age or 0), today.year)
        report["photos"] = [{"path": str(child.path), "taken_year": year}]
    if want_found and found is not None:
        row, age = found
        # The photo of the person's real age when found, not the station's estimate.
        found_age = p.found_date.year - p.birth.year
        rest = [ph for ph in photos if ph is not child and (ph.age or 0) >= (child.age or 0)]
        rest = rest or [ph for ph in photos if ph is not child]
        grown = min(rest, key=lambda ph: (abs((ph.age or 0) - found_age), ph.path.name))
        row["photos"] = [{"path": str(grown.path), "age": age}]


def _shares(values: Iterable[str]) -> dict[str, float]:
    counts = Counter(values)
    total = sum(counts.values())
    return {k: counts[k] / total for k in sorted(counts)} if total else {}


def generate_population(
    *,
    seed: int,
    n_missing: int,
    n_found: int,
    n_true_pairs: int,
    faces_dir: Path | None = None,
    today: date = date(2026, 11, 1),
) -> Population:
    """Generate ``n_missing`` reports and ``n_found`` found records, ``n_true_pairs`` of them
    the same people, deterministically for ``seed``.

    ``faces_dir`` is a folder of real photos (see ``faces``); without it no record has
    photos. Raises ``ValueError`` for impossible counts and ``FileNotFoundError`` for a
    ``faces_dir`` that is not a folder.
    """
    if min(n_missing, n_found, n_true_pairs) < 0:
        raise ValueError("counts must not be negative")
    if n_true_pairs > min(n_missing, n_found):
        raise ValueError(
            f"n_true_pairs={n_true_pairs} exceeds n_missing={n_missing} or n_found={n_found}"
        )
    identities = load_face_identities(faces_dir) if faces_dir is not None else ()
    people_rng = random.Random(f"xunqin-population:{seed}:people")
    record_rng = random.Random(f"xunqin-population:{seed}:records")
    order_rng = random.Random(f"xunqin-population:{seed}:order")
    face_rng = random.Random(f"xunqin-population:{seed}:faces")
    t = _Tables()
    n_people = n_missing + n_found - n_true_pairs
    people = [_draw_person(people_rng, t, pid, today) for pid in range(n_people)]
    # People 0..n_true_pairs-1 have both records, then report-only, then found-only.
    report_ids = range(0, n_missing)
    found_ids = itertools.chain(range(0, n_true_pairs), range(n_missing, n_people))
    reports = {pid: _report_row(record_rng, people[pid], today) for pid in report_ids}
    founds: dict[int, tuple[dict[str, Any], int]] = {}
    recorded: dict[int, RecordedName] = {}
    for pid in found_ids:
        row, rec, age = _found_row(record_rng, t, people[pid], today)
        founds[pid] = (row, age)
        recorded[pid] = rec
    if identities:
        _assign_faces(face_rng, identities, people, reports, founds, today)

    missing_order = list(reports)
    found_order = list(founds)
    order_rng.shuffle(missing_order)
    order_rng.shuffle(found_order)
    width = max(6, len(str(max(n_missing, n_found))))
    missing_ref: dict[int, str] = {}
    for i, pid in enumerate(missing_order, start=1):
        missing_ref[pid] = reports[pid]["ref"] = f"M{i:0{width}d}"
    found_ref: dict[int, str] = {}
    for i, pid in enumerate(found_order, start=1):
        found_ref[pid] = founds[pid][0]["ref"] = f"F{i:0{width}d}"

    truth = []
    for pid in range(n_true_pairs):
        p = people[pid]
        rec = recorded[pid]
        truth.append(
            TruePair(
                missing_ref=missing_ref[pid],
                found_ref=found_ref[pid],
                scenario=str(rec.scenario),
                category=str(p.spec.category),
                gap=gap_bucket(_days(p.found_date) - _days(p.missing_date)),
                region=p.home.dialect,
                province=p.home.province,
                has_photos=bool(reports[pid]["photos"]) and bool(founds[pid][0]["photos"]),
                detail=rec.detail,
            )
        )
    truth.sort(key=lambda pair: pair.missing_ref)
    missing_rows = [reports[pid] for pid in missing_order]
    found_rows = [founds[pid][0] for pid in found_order]
    mix = {
        "seed": seed,
        "today": today.isoformat(),
        "counts": {
            "missing": n_missing,
            "found": n_found,
            "true_pairs": n_true_pairs,
            "people": n_people,
            "face_identities_supplied": len(identities),
        },
        "documented": documented_mix(),
        "realised": {
            "category": _shares(str(p.spec.category) for p in people),
            "scenario": _shares(pair.scenario for pair in truth),
            "scenario_all_found": _shares(str(r.scenario) for r in recorded.values()),
            "category_true_pairs": _shares(pair.category for pair in truth),
            "gap": _shares(pair.gap for pair in truth),
            "region": _shares(pair.region for pair in truth),
            "sex": _shares(p.sex for p in people),
            "missing_with_photos": _share_true(bool(r["photos"]) for r in missing_rows),
            "found_with_photos": _share_true(bool(r["photos"]) for r in found_rows),
            "true_pairs_with_photos": _share_true(pair.has_photos for pair in truth),
        },
    }
    return Population(missing=missing_rows, found=found_rows, truth=truth, mix=mix)


def _share_true(flags: Iterable[bool]) -> float:
    values = list(flags)
    return sum(values) / len(values) if values else 0.0


def _write_jsonl(path: Path, rows: Iterable[Mapping[str, Any]]) -> None:
    with path.open("w", encoding="utf-8") as handle:
        for row in rows:
            handle.write(json.dumps(row, ensure_ascii=False) + "\n")


def write_population(pop: Population, folder: Path) -> None:
    """Write ``missing.jsonl``, ``found.jsonl``, ``truth.jsonl`` and ``mix.json`` to ``folder``.

    The first two are import files for ``xunqin import``; photo paths are absolute.
    """
    folder.mkdir(parents=True, exist_ok=True)
    _write_jsonl(folder / "missing.jsonl", pop.missing)
    _write_jsonl(folder / "found.jsonl", pop.found)
    _write_jsonl(folder / "truth.jsonl", (asdict(pair) for pair in pop.truth))
    (folder / "mix.json").write_text(
        json.dumps(pop.mix, ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
    )


def read_truth(path: Path) -> list[TruePair]:
    """The true pairs from a ``truth.jsonl`` written by ``write_population``."""
    with path.open(encoding="utf-8") as handle:
        return [TruePair(**json.loads(line)) for line in handle if line.strip()]
