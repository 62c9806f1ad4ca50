"""Which report/found pairs are worth scoring.

Small stores score every pair. Larger ones score the pairs that share a name key (the
toneless pinyin of the full name or of the given name) or whose faces are neighbours in
the face index; everything else is left out as too unlikely to read.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence

from matching.face_indexes import FaceIndexes
from matching.simple_names import toneless_pinyin
from matching.views import FoundView, MissingView
from records import Side


def name_keys(names: Iterable[str]) -> set[str]:
    """Blocking keys of a record's names: full and given-name toneless pinyin."""
    keys = set()
    for name in names:
        syllables = toneless_pinyin(name)
        if not syllables:
            continue
        keys.add("f:" + "".join(syllables))
        if len(syllables) >= 2:
            keys.add("g:" + "".join(syllables[1:]))
        keys.add("g:" + "".join(syllables))  # a name that is only the given name
    return keys


def all_pairs(n_missing: int, n_found: int) -> Iterator[tuple[int, int]]:
    """Every (report position, found position) pair."""
    for j in range(n_found):
        for i in range(n_missing):
            yield i, j


def blocked_pairs(
    missing: Sequence[MissingView],
    found: Sequence[FoundView],
    face_indexes: FaceIndexes | None,
    *,
    face_neighbours: int,
    model: str | None,
) -> set[tuple[int, int]]:
    """Pairs sharing a name key or a near face, as positions in the two sequences."""
    by_key: dict[str, list[int]] = defaultdict(list)
    for i, report in enumerate(missing):
        for key in name_keys(report.names):
            by_key[key].append(i)
    pairs: set[tuple[int, int]] = set()
    for j, person in enumerate(found):
        for key in name_keys(person.names):
            pairs.update((i, j) for i in by_key.get(key, ()))
    if face_indexes is None or model is None:
        return pairs
    position = {report.id: i for i, report in enumerate(missing)}
    owner_of_face = {face.face_id: report.id for report in missing for face in report.faces}
    for j, person in enumerate(found):
        if not person.faces:
            continue
        for row in face_indexes.search(
            Side.MISSING, person.embeddings, face_neighbours, model=model
        ):
            for neighbour in row:
                report_id = owner_of_face.get(neighbour.id)
                if report_id is not None:
                    pairs.add((position[report_id], j))
    return pairs
