"""The two face indexes (reports' faces and found persons' faces), kept in step with the store.

Each vector in an index carries its owner (the report's or found person's id) and the
facts a search can be restricted by (``FACE_ATTRIBUTES``: sex, the province and city of
the place where the person went missing or was found, those of the hometown, and the
found person's station), so a search filters inside FAISS and answers per person.

The store is the truth. Index files live beside the database; on opening, each index is
compared with the store's searchable faces of open cases (ids, owners and attributes)
and whatever differs is redone, so a lost, stale or half-saved file is never a lost
face. Changes are saved in batches: ``flush`` writes what is unsaved (closing the
services does), and so does reaching ``save_every`` unsaved changes. A crash in
between loses nothing the next opening does not redo.

``inspect`` compares the saved files with the store and changes nothing: what
``xunqin doctor`` reports before ``open`` (its ``--fix``) brings them in step.

Another process may store faces meanwhile (the nightly import beside a running server):
``catch_up``, which every person search runs first, adds the faces with ids above the
highest this process has seen.

Deleting a photo (``usecases.record_photos``) and closing a case (``usecases.cases``) change
the store and then the index: a deleted photo's faces and a closed case's faces leave
the search at once, and the index file is saved at once (an HNSW index keeps a removed
vector's bytes, marked dead, until it compacts).

A lock keeps changes, searches and saves from overlapping (FAISS allows concurrent
searches but nothing alongside a change). ``search_threads`` caps FAISS's threads in
every thread that searches (OpenMP's setting is per thread, so it is applied in each
thread on its first search).
"""

from __future__ import annotations

import fcntl
import hashlib
import logging
import threading
import unicodedata
from collections.abc import Collection, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import numpy as np
from sqlalchemy.orm import Session

from indexes import (
    UNKNOWN,
    FaceIndex,
    Filters,
    IndexCorruptError,
    IndexModelMismatchError,
    Neighbour,
    PersonNeighbour,
    set_search_threads,
)
from matching.places import PlaceLevel, resolve_place
from records import (
    Database,
    InvalidRecordError,
    Sex,
    Side,
)
from records.storage.photos import FaceIndexRow, face_embeddings, face_index_rows, newest_face_id

logger = logging.getLogger(__name__)

FACE_ATTRIBUTES: Final = (
    "sex",
    "place_province",
    "place_city",
    "hometown_province",
    "hometown_city",
    "station",
)
"""The attributes stored with every face, in the index's order."""

_SEX_CODES: Final = {Sex.MALE: 1, Sex.FEMALE: 2}
Attributes = tuple[int, ...]


def station_key(text: str | None) -> str | None:
    """A station's name as compared: NFKC, case-folded, without spaces; None if empty."""
    if text is None:
        return None
    key = "".join(unicodedata.normalize("NFKC", text).casefold().split())
    return key or None


def station_code(key: str) -> int:
    """A stable non-negative int32 for a station key (a hash: equal codes are re-checked)."""
    digest = hashlib.blake2b(key.encode("utf-8"), digest_size=4).digest()
    return int.from_bytes(digest, "big") & 0x7FFF_FFFF


def _place_codes(text: str | None) -> tuple[int, int]:
    """The province and city codes (adcode prefixes, 51 and 5113) a text names, or UNKNOWN."""
    place = resolve_place(text)
    if place is None:
        return UNKNOWN, UNKNOWN
    city = int(place.city_code[:4]) if place.city_code else UNKNOWN
    return int(place.adcode[:2]), city


def face_attributes(row: FaceIndexRow) -> Attributes:
    """The attribute values of a face, in ``FACE_ATTRIBUTES`` order."""
    key = station_key(row.station)
    return (
        _SEX_CODES.get(row.sex, UNKNOWN),
        *_place_codes(row.place),
        *_place_codes(row.hometown),
        UNKNOWN if key is None else station_code(key),
    )


@dataclass(frozen=True, kw_only=True)
class FaceFilter:
    """What a face search is restricted to; ``None`` leaves a fact free.

    - ``sex``: a record of unknown sex passes (unknown is missing data, never a
      disagreement);
    - ``region``: where the report's subject went missing, or where the found person was
      found, as text ("四川", "南充市", "陕西西安"): a province keeps its whole province, a
      city or county keeps its city; records whose place cannot be read do not pass;
    - ``hometown``: the same, for the hometown (stated, for a found person);
    - ``station``: the found person's station, compared without case or spaces.
    """

    sex: Sex | None = None
    region: str | None = None
    hometown: str | None = None
    station: str | None = None

    def given(self) -> list[str]:
        """Which restrictions were given (what an audit may record: not their values)."""
        return [name for name in ("sex", "region", "hometown", "station") if getattr(self, name)]

    def filters(self, side: Side) -> Filters:
        """The index filters; ``InvalidRecordError`` for a place or station that cannot be used."""
        filters: dict[str, Collection[int]] = {}
        if self.sex is not None and self.sex is not Sex.UNKNOWN:
            filters["sex"] = {_SEX_CODES[self.sex], UNKNOWN}
        for field, prefix, text in (("region", "place", self.region),
                                    ("hometown", "hometown", self.hometown)):  # fmt: skip
            if text is None:
                continue
            place = resolve_place(text)
            if place is None:
                raise InvalidRecordError(f"{text!r} names no place we know", field=field)
            province, city = _place_codes(text)
            if place.level is PlaceLevel.PROVINCE or city == UNKNOWN:
                filters[f"{prefix}_province"] = {province}
            else:
                filters[f"{prefix}_city"] = {city}
        if self.station is not None:
            if side is not Side.FOUND:
                raise InvalidRecordError("only found persons have a station", field="station")
            key = station_key(self.station)
            if key is None:
                raise InvalidRecordError("the station is empty", field="station")
            filters["station"] = {station_code(key)}
        return filters

    def allows(self, row: FaceIndexRow, side: Side) -> bool:
        """Whether a face's current facts pass the filter (the exact check after a search)."""
        values = dict(zip(FACE_ATTRIBUTES, face_attributes(row), strict=True))
        if not all(values[name] in allowed for name, allowed in self.filters(side).items()):
            return False
        return self.station is None or station_key(row.station) == station_key(self.station)


@dataclass(frozen=True, kw_only=True)
class IndexState:
    """How one side's saved index file stands against the store's searchable faces.

    ``unreadable`` says why a file cannot be used (damaged, another model's, other
    attributes); its faces then count as missing. ``extra`` are faces the file holds that
    the store no longer searches (erased, closed, not chosen), ``missing`` searchable
    faces it lacks (index lag), ``changed`` faces held with another owner or other facts.
    """

    saved: bool
    unreadable: str | None
    extra: int
    missing: int
    changed: int

    @property
    def in_step(self) -> bool:
        """Whether the file can be used as it is."""
        return self.unreadable is None and not (self.extra or self.missing or self.changed)


class FaceIndexes:
    """One FAISS index per side, for one embedding model, in step with one store.

    ``open`` must be called before anything changes the indexes: it names the store that
    owners and attributes are read from. ``save_every`` unsaved changes write a side's
    file; ``search_threads`` caps FAISS's threads per searching thread (None: FAISS's
    default, every core).
    """

    def __init__(
        self,
        folder: Path,
        *,
        model: str,
        dim: int = 128,
        save_every: int = 1000,
        search_threads: int | None = None,
    ) -> None:
        if save_every < 1:
            raise ValueError(f"save_every must be positive, got {save_every}")
        if search_threads is not None and search_threads < 1:
            raise ValueError(f"search_threads must be positive, got {search_threads}")
        self.folder = folder
        self.model = model
        self.dim = dim
        self.save_every = save_every
        self.search_threads = search_threads
        self._thread = threading.local()
        self._indexes = {side: self._new_index() for side in Side}
        self._unsaved = dict.fromkeys(Side, 0)
        self._newest = 0  # the highest face id in the store when last looked
        self._stamps: dict[Side, tuple[int, int, int] | None] = dict.fromkeys(Side)
        self._database: Database | None = None
        self._lock = threading.RLock()

    def _new_index(self) -> FaceIndex:
        return FaceIndex(model=self.model, dim=self.dim, attributes=FACE_ATTRIBUTES)

    def path(self, side: Side) -> Path:
        """The index file of one side."""
        return self.folder / f"faces-{side.value}.faiss"

    def __getitem__(self, side: Side) -> FaceIndex:
        return self._indexes[side]

    def unsaved(self, side: Side) -> int:
        """How many changes to one side's index are not in its file yet."""
        return self._unsaved[side]

    # -- keeping in step ---------------------------------------------------------------

    def open(self, database: Database) -> dict[Side, int]:
        """Load the saved indexes and bring them in step with the store.

        Returns, for each side, how many vectors had to be added, removed or updated.
        """
        with self._lock:
            self._database = database
            changes: dict[Side, int] = {}
            for side in Side:
                path = self.path(side)
                unusable = True
                if path.exists():
                    with self._file_lock(side):
                        loaded = self._load(side, path)
                        unusable = loaded is None
                        self._indexes[side] = self._new_index() if loaded is None else loaded
                        self._stamps[side] = _file_stamp(path)
                changes[side], _ = self._sync(side)
                if changes[side] or unusable:
                    # Also an unusable file with nothing to index: it is written over.
                    self._save(side)
            with database.session() as session:
                self._newest = newest_face_id(session)
            return changes

    def catch_up(self) -> int:
        """Catch up with what another process changed (the nightly import or an erasure
        beside a running server); returns how many vectors changed here.

        An index file another process saved is loaded again and brought in step with
        the store: that is how its removals arrive (every removal is saved at once), so
        this process never writes an erased face back. Faces stored since, above the
        highest id seen, are added. When nothing is new: a file's status and one query.
        """
        with self._lock:
            database = self._require_database()
            changed = 0
            for side in Side:
                count = 0
                if self._saved_elsewhere(side):
                    with self._file_lock(side):
                        if self._saved_elsewhere(side):
                            count = self._reload(side)
                self._changed(side, count)
                changed += count
            with database.session() as session:
                newest = newest_face_id(session)
                if newest <= self._newest:
                    return changed
                added = 0
                for side in Side:
                    rows = face_index_rows(session, side, model=self.model, after=self._newest)
                    held = np.isin([row.face_id for row in rows], self._indexes[side].ids())
                    new = [row for row, known in zip(rows, held, strict=True) if not known]
                    if not new:
                        continue
                    faces = [row.face_id for row in new]
                    self._add_entries(
                        self._indexes[side], faces,
                        _vectors(face_embeddings(session, faces), faces),
                        [(row.owner_id, face_attributes(row)) for row in new],
                    )  # fmt: skip
                    self._changed(side, len(new))
                    added += len(new)
                self._newest = newest
            return changed + added

    def _load(self, side: Side, path: Path) -> FaceIndex | None:
        """The saved index, or None (logged) when it cannot be used and must be rebuilt."""
        try:
            return self._read(path)
        except (IndexCorruptError, IndexModelMismatchError) as err:
            logger.warning("rebuilding the %s face index: %s", side.value, err)
            return None

    def _read(self, path: Path) -> FaceIndex:
        """A saved index this process can use, or the error that says why not."""
        index = FaceIndex.load(path, model=self.model)
        if index.attributes != FACE_ATTRIBUTES or index.dim != self.dim:
            raise IndexCorruptError(f"{path.name} was built for other attributes")
        return index

    def _require_database(self) -> Database:
        if self._database is None:
            raise RuntimeError("open the face indexes on a store before changing them")
        return self._database

    def _differences(
        self, session: Session, side: Side, index: FaceIndex, owners: Collection[int] | None
    ) -> tuple[dict[int, tuple[int, Attributes]], list[int], list[int], list[int]]:
        """What an index lacks against the store's searchable faces (for some owners, or
        all): the wanted entries, and the faces stale (held but not wanted), missing
        (wanted but not held) and changed (held with another owner or other facts)."""
        ids, index_owners, columns = index.entries()
        if owners is not None:
            keep = np.isin(index_owners, np.fromiter(owners, dtype=np.int64))
            ids, index_owners = ids[keep], index_owners[keep]
            columns = {name: values[keep] for name, values in columns.items()}
        attribute_rows = np.stack([columns[name] for name in FACE_ATTRIBUTES], axis=1)
        present = {
            int(face): (int(owner), tuple(int(v) for v in attrs))
            for face, owner, attrs in zip(ids, index_owners, attribute_rows, strict=True)
        }
        rows = face_index_rows(session, side, model=self.model, owners=owners)
        wanted = {row.face_id: (row.owner_id, face_attributes(row)) for row in rows}
        missing = [face for face in wanted if face not in present]
        stale = [face for face in present if face not in wanted]
        changed = [
            face for face, entry in wanted.items() if face in present and present[face] != entry
        ]
        return wanted, stale, missing, changed

    def inspect(self, database: Database) -> dict[Side, IndexState]:
        """How each side's saved file stands against the store, changing nothing (what
        ``xunqin doctor`` reports; ``open`` brings both in step)."""
        states: dict[Side, IndexState] = {}
        for side in Side:
            path, problem = self.path(side), None
            index = self._new_index()
            if path.exists():
                with self._file_lock(side):
                    try:
                        index = self._read(path)
                    except (IndexCorruptError, IndexModelMismatchError) as err:
                        problem = str(err)
            with database.session() as session:
                _, stale, missing, changed = self._differences(session, side, index, None)
            states[side] = IndexState(
                saved=path.exists(), unreadable=problem,
                extra=len(stale), missing=len(missing), changed=len(changed),
            )  # fmt: skip
        return states

    def _sync(self, side: Side, *, owners: Collection[int] | None = None) -> tuple[int, int]:
        """Redo what differs between the store and the index (for some owners, or all);
        returns how many vectors changed and how many of those were removed."""
        index = self._indexes[side]
        with self._require_database().session() as session:
            wanted, stale, missing, changed = self._differences(session, side, index, owners)
            embeddings = face_embeddings(session, missing) if missing else {}
        if stale:
            index.remove(np.asarray(stale, dtype=np.int64))
        if missing:
            self._add_entries(index, missing, _vectors(embeddings, missing),
                              [wanted[face] for face in missing])  # fmt: skip
        if changed:
            entries = [wanted[face] for face in changed]
            index.update(changed, owners=[owner for owner, _ in entries],
                         attributes=_columns(entries))  # fmt: skip
        if stale or missing or changed:
            logger.info("%s face index: %d added, %d removed, %d updated",
                        side.value, len(missing), len(stale), len(changed))  # fmt: skip
        return len(stale) + len(missing) + len(changed), len(stale)

    @staticmethod
    def _add_entries(
        index: FaceIndex,
        ids: Sequence[int],
        vectors: np.ndarray,
        entries: Sequence[tuple[int, Attributes]],
    ) -> None:
        index.add(ids, vectors, owners=[owner for owner, _ in entries],
                  attributes=_columns(entries))  # fmt: skip

    def refresh_records(self, side: Side, record_ids: Iterable[int]) -> int:
        """Bring the faces of these records in step with the store; returns the changes.

        After a photo is deleted, a case closed or reopened, or a record's facts changed.
        A removal is saved at once, not in the next batch: a deleted face must not come
        back from the file after a crash (SQLite may give its id to the next new face,
        which the opening's comparison of ids and owners would then take for it).
        """
        owners = set(record_ids)
        if not owners:
            return 0
        with self._lock:
            changes, removed = self._sync(side, owners=owners)
            if removed:
                self._save(side)
            else:
                self._changed(side, changes)
            return changes

    def add(self, side: Side, ids: list[int], vectors: np.ndarray, *, model: str) -> None:
        """Add new faces of one side; faces the store does not search are left out.

        Owners and attributes are read from the store, which must hold the faces already.
        """
        if model != self.model:
            raise IndexModelMismatchError(self.model, model)
        if not ids:
            return
        with self._lock:
            with self._require_database().session() as session:
                rows = face_index_rows(session, side, model=self.model, face_ids=ids)
            wanted = {row.face_id: (row.owner_id, face_attributes(row)) for row in rows}
            keep = [i for i, face in enumerate(ids) if face in wanted]
            if keep:
                chosen = [ids[i] for i in keep]
                self._add_entries(
                    self._indexes[side],
                    chosen,
                    np.asarray(vectors)[keep],
                    [wanted[face] for face in chosen],
                )
            self._changed(side, len(keep))

    # -- saving ------------------------------------------------------------------------

    def _changed(self, side: Side, count: int) -> None:
        self._unsaved[side] += count
        if self._unsaved[side] >= self.save_every:
            self._save(side)

    def _save(self, side: Side) -> None:
        # Under the file's lock, and over a file another process saved only once that
        # file has been taken in: its removals (an erasure) must not be written over.
        with self._file_lock(side):
            if self._saved_elsewhere(side):
                self._reload(side)
            self._indexes[side].save(self.path(side))
            self._stamps[side] = _file_stamp(self.path(side))
            self._unsaved[side] = 0

    def _saved_elsewhere(self, side: Side) -> bool:
        """Whether the file is not the one this process last loaded or saved."""
        stamp = _file_stamp(self.path(side))
        return stamp is not None and stamp != self._stamps[side]

    def _reload(self, side: Side) -> int:
        """Load the file another process saved and bring it in step with the store;
        returns the vectors changed after loading (this process's unsaved work is
        redone from the store, which holds it)."""
        path = self.path(side)
        loaded = self._load(side, path)
        self._indexes[side] = self._new_index() if loaded is None else loaded
        self._stamps[side] = _file_stamp(path)
        self._unsaved[side] = 0
        count, _ = self._sync(side)
        return count

    @contextmanager
    def _file_lock(self, side: Side) -> Iterator[None]:
        """Hold the side's lock file: processes sharing the folder save and reload one
        at a time (never reading a half-replaced pair of files)."""
        self.folder.mkdir(parents=True, exist_ok=True)
        with (self.folder / f"{self.path(side).name}.lock").open("a") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def flush(self) -> None:
        """Write every index with unsaved changes (atomically, with its sidecar)."""
        with self._lock:
            for side in Side:
                if self._unsaved[side]:
                    self._save(side)

    # -- searching ---------------------------------------------------------------------

    def _cap_threads(self) -> None:
        """Apply ``search_threads`` in the calling thread, once."""
        if self.search_threads is not None and getattr(self._thread, "capped", None) is None:
            set_search_threads(self.search_threads)
            self._thread.capped = self.search_threads

    def search(
        self, side: Side, vectors: np.ndarray, k: int, *, model: str
    ) -> list[list[Neighbour]]:
        """The nearest stored faces of one side."""
        self._cap_threads()
        with self._lock:
            return self._indexes[side].search(vectors, k, model=model)

    def search_persons(
        self,
        side: Side,
        vectors: np.ndarray,
        k: int,
        *,
        model: str,
        where: FaceFilter | None = None,
    ) -> list[list[PersonNeighbour]]:
        """The ``k`` nearest records of one side, each by its nearest face, restricted by
        ``where`` inside the search."""
        filters = where.filters(side) if where is not None else {}
        self.catch_up()
        self._cap_threads()
        with self._lock:
            return self._indexes[side].search_persons(
                vectors, k, model=model, filters=filters or None
            )


def _vectors(embeddings: dict[int, tuple[bytes, str]], faces: Sequence[int]) -> np.ndarray:
    """The stored embeddings of ``faces`` as rows of one float32 array."""
    return np.stack([np.frombuffer(embeddings[face][0], dtype=np.float32) for face in faces])


def _file_stamp(path: Path) -> tuple[int, int, int] | None:
    """What tells one saving of a file from another: its inode (saves replace the file),
    modification time and size; None when there is no file."""
    try:
        status = path.stat()
    except FileNotFoundError:
        return None
    return status.st_ino, status.st_mtime_ns, status.st_size


def _columns(entries: Sequence[tuple[int, Attributes]]) -> dict[str, list[int]]:
    return {name: [attrs[i] for _, attrs in entries] for i, name in enumerate(FACE_ATTRIBUTES)}
