"""One person's several stays, pooled into one view for matching against reports.

When reviewers have confirmed that found persons are the same person (``found_links``),
what each station learned adds up: one heard a name, another took a photo, a third noted
a scar. :func:`linked_groups` finds the groups that confirmed links join (a confirmed
link between A and B and one between B and C make A, B and C one person), and
:func:`pooled_view` merges a group's views into one :class:`~matching.views.FoundView`:

- names and aliases, faces, marks and conditions: all of them, repeats dropped (a name
  a station gave is already left out of every view's names);
- the found date and place: the earliest stay's (the person has been missing at least
  since then), the place of the earliest stay that names one;
- the age: the birth years every dated estimate allows, intersected, said as an age
  range at that earliest date; when the estimates do not all fit one range (one station
  was far off), the earliest stay's estimate as it was, since it is the one nearest the
  time the family lost the person. Undated estimates are left out;
- accents and stated hometowns: each distinct text joined, so texts that disagree make
  the pooled one vaguer (it names more provinces), as they should;
- sex: the one every stay that knows it agrees on, unknown if they disagree;
- height: the earliest stay's that has one, when it was measured at the pooled found
  date or the person was an adult (at least :data:`ADULT_FROM` by its estimate) when it
  was measured; a child's later height would be compared as if measured at the earliest
  date;
- id and ref: the earliest stay's, so a candidate of the pooled view names a real record.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Final

from matching.evidence_model.comparisons.age_estimates import birth_years, estimate_range
from matching.found_pairs import stay_order
from matching.views import FaceView, FoundView
from records import Sex

ADULT_FROM: Final = 18
"""From this estimated age on, a height measured at a later stay stands for the earliest."""
TEXT_SEPARATOR: Final = "；"
"""Between the distinct accent or hometown texts of a group."""


def _united(values: Iterable[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(v for v in values if v))


def _joined(values: Iterable[str | None]) -> str | None:
    texts = _united(v.strip() for v in values if v and v.strip())
    return TEXT_SEPARATOR.join(texts) if texts else None


def _sex(views: Sequence[FoundView]) -> Sex:
    known = {v.sex for v in views if v.sex is not Sex.UNKNOWN}
    return known.pop() if len(known) == 1 else Sex.UNKNOWN


def _ages(views: Sequence[FoundView], first: FoundView) -> tuple[int | None, int | None]:
    """The narrowest range every dated estimate allows, at the first stay's date, or the
    first stay's own estimate."""
    own = (first.age_min, first.age_max)
    on = first.found_date
    if on is None:
        return own
    earliest, latest = -(10**6), 10**6
    dated = 0
    for view in views:
        ages = estimate_range(view.age_min, view.age_max)
        if ages is None or view.found_date is None:
            continue
        low, high = birth_years(ages, view.found_date)
        earliest, latest = max(earliest, low), min(latest, high)
        dated += 1
    if dated == 0 or earliest > latest:
        return own
    return on.year - latest, on.year - earliest


def _height(views: Sequence[FoundView], first: FoundView) -> float | None:
    for view in views:
        if view.height_cm is None:
            continue
        ages = estimate_range(view.age_min, view.age_max)
        same_date = view.found_date == first.found_date
        if same_date or (ages is not None and ages[0] >= ADULT_FROM):
            return view.height_cm
    return None


def pooled_view(views: Sequence[FoundView]) -> FoundView:
    """The views of one person's stays merged into one (see the module's docstring).

    One view is returned as it is; none is a ValueError. The order given does not matter.
    """
    if not views:
        raise ValueError("a pooled view needs at least one found person")
    if len(views) == 1:
        return views[0]
    stays = sorted(views, key=stay_order)
    first = stays[0]
    age_min, age_max = _ages(stays, first)
    faces: dict[int, FaceView] = {}
    for view in stays:
        for face in view.faces:
            faces.setdefault(face.face_id, face)
    registered = [v.registered for v in stays if v.registered is not None]
    return FoundView(
        id=first.id,
        ref=first.ref,
        names=_united(name for view in stays for name in view.names),
        sex=_sex(stays),
        hometown=_joined(v.hometown for v in stays),
        height_cm=_height(stays, first),
        features=_united(f for view in stays for f in view.features),
        health=_united(h for view in stays for h in view.health),
        faces=tuple(faces.values()),
        age_min=age_min,
        age_max=age_max,
        found_date=first.found_date,
        found_place=next((v.found_place for v in stays if v.found_place), None),
        accent=_joined(v.accent for v in stays),
        registered=min(registered) if registered else None,
    )


def linked_groups(pairs: Iterable[tuple[int, int]]) -> list[tuple[int, ...]]:
    """The groups of ids the pairs join (connected components), each sorted, smallest
    first; ids in no pair are in no group."""
    parent: dict[int, int] = {}

    def root(node: int) -> int:
        parent.setdefault(node, node)
        while parent[node] != node:
            parent[node] = parent[parent[node]]
            node = parent[node]
        return node

    for a, b in pairs:
        ra, rb = root(a), root(b)
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)
    groups: dict[int, list[int]] = {}
    for node in parent:
        groups.setdefault(root(node), []).append(node)
    return sorted(tuple(sorted(members)) for members in groups.values() if len(members) > 1)


def pool_linked_stays(
    views: Sequence[FoundView], groups: Iterable[Sequence[int]]
) -> list[FoundView]:
    """``views`` with the members of each group among them replaced by one pooled view
    (:func:`pooled_view`, which takes the earliest stay's id), in id order: the people the
    re-match pairs with reports. A group's members not among ``views`` (closed cases) are
    left out of its pool."""
    by_id = {view.id: view for view in views}
    pooled: dict[int, FoundView] = {}
    for group in groups:
        stays = [by_id.pop(member) for member in group if member in by_id]
        if stays:
            view = pooled_view(stays)
            pooled[view.id] = view
    return sorted([*by_id.values(), *pooled.values()], key=lambda view: view.id)
