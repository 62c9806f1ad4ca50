"""A FAISS index of face embeddings with stable external ids, filters and per-person search.

The numpy boundary is strict: vectors are coerced to contiguous float32 and checked for
shape; ids are int64 and stable (the database's face ids); FAISS's ``-1`` labels never
leave this module, and the caller's arrays are never changed.

Two kinds of index, chosen by size unless the caller forces one (``IndexKind``):

- ``EXACT``: ``IndexFlatL2``, brute force. Right up to some tens of thousands of faces.
- ``HNSW``: a graph over the vectors stored in 8 bits a dimension (``IndexHNSWSQ``),
  whose candidates are re-ranked by their exact float distances (``IndexRefineFlat``).
  The compact codes make each step of the graph walk cheaper (a quarter of the memory
  traffic), and re-ranking gives back exact distances and order. Approximate; its
  recall against exact search is measured by ``evaluation/bench/face_index_scale.py``.

Both are held the same way: FAISS numbers the vectors 0, 1, 2, ... (their *slots*) and
this module keeps, in numpy, the external id, the owner (the person a face belongs to),
the small integer attributes (sex, region code, station, ...) and an alive flag of each
slot. Keeping the id map in numpy rather than in an ``IndexIDMap2`` lets filters be
bitmaps over slots, which FAISS checks during the search (``IDSelectorBitmap`` in
``SearchParameters``), rather than sets of external ids.

FAISS's HNSW cannot remove vectors. A removed or replaced face is a tombstone: its slot
is marked dead, the alive bitmap goes into every search, and the graph is rebuilt
without the dead when they pass ``max_dead_share`` (or on ``compact()``). Exact indexes
drop removed vectors at once. Either way a removed face never comes back in results.

The sidecar records the embedding model, dimension and metric, the kind and its
parameters, the attribute names, the calibration id, the count and a checksum of the
ids, so an index of one model is never searched with another's vectors.

Searching may run from several threads at once; changing the index (add, remove,
compact) must not overlap with anything else.
"""

from __future__ import annotations

import hashlib
import logging
import math
import uuid
from collections.abc import Collection, Mapping, Sequence
from dataclasses import asdict, dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any, Final

import numpy as np
from numpy.typing import ArrayLike, NDArray

from indexes.face_errors import IndexCorruptError, IndexModelMismatchError
from indexes.face_index_files import read_container, read_sidecar, write_container

logger = logging.getLogger(__name__)

SIDECAR_VERSION: Final = 3  # 3: HNSW over 8-bit codes with exact re-ranking
UNKNOWN: Final = -1
"""The attribute value of a face whose attribute was not given."""

Filters = Mapping[str, Collection[int]]
"""Allowed values per attribute: a face passes when each named attribute is among them."""

_INT32 = np.iinfo(np.int32)
_ADD_CHUNK: Final = 65_536
_CODE_RANGE: Final = 0.75
"""The 8-bit codes cover at least [-0.75, 0.75] in every dimension, and whatever the
vectors present when the graph is built reach beyond it, so faces added later are not
clipped: dlib's embedding components stay within about ±0.54 (924 development photos),
and a step of 0.006 moves distances of 0.4 to 0.8 by about 0.002."""
_REFINE_FACTOR: Final = 3
"""The graph returns this many times ``k`` candidates for exact re-ranking."""


class IndexKind(StrEnum):
    """How the vectors are searched."""

    EXACT = "exact"
    HNSW = "hnsw"


@dataclass(frozen=True)
class HnswParams:
    """The HNSW graph's shape and how hard a search looks.

    ``m`` links per node and ``ef_construction`` fix the graph when it is built;
    ``ef_search`` (the candidate list of a search, at least ``k``) can be changed per
    search. On a million face-like vectors the defaults answer a query in about 1 ms
    (1.4 ms at p99) at recall@10 of 0.982 against exact search, where exact search takes
    25 to 50 ms; building the graph takes 4 to 8 minutes on 2 cores
    (``evaluation/bench/face_index_scale.py``).

    A filter keeping a share ``s`` of the stored vectors makes the graph search look at
    ``ef_search / s ** (1/3)`` candidates, since fewer of those it meets may be returned;
    a filter keeping fewer than ``exact_under`` vectors is searched exactly over the same
    vectors instead, which is then both cheaper and complete.
    """

    m: int = 48
    ef_construction: int = 64
    ef_search: int = 160
    exact_under: int = 20_000

    def __post_init__(self) -> None:
        for name in ("m", "ef_construction", "ef_search"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be positive, got {getattr(self, name)}")
        if self.exact_under < 0:
            raise ValueError(f"exact_under must not be negative, got {self.exact_under}")


@dataclass(frozen=True)
class Neighbour:
    """A stored face near the query, with its Euclidean distance."""

    id: int
    distance: float


@dataclass(frozen=True)
class PersonNeighbour:
    """A person near the query: their nearest face and its Euclidean distance."""

    person: int
    face: int
    distance: float


@dataclass(frozen=True)
class _Selection:
    """Which slots a search may return: ``selector`` is None when every slot may."""

    count: int
    selector: Any


def _faiss() -> Any:
    import faiss  # loaded on first use: importing it costs time and memory

    return faiss


def _is_refined_graph(index: Any, slots: int) -> bool:
    """Whether a loaded HNSW index is the trained 8-bit graph over a float store that
    ``_new_faiss_index`` makes, each holding ``slots`` vectors."""
    faiss = _faiss()
    graph = faiss.downcast_index(index.base_index)
    store = faiss.downcast_index(index.refine_index)
    return (
        isinstance(graph, faiss.IndexHNSWSQ)
        and isinstance(store, faiss.IndexFlatL2)
        and bool(graph.is_trained)
        and graph.ntotal == slots
        and store.ntotal == slots
    )


def set_search_threads(threads: int) -> None:
    """How many OpenMP threads FAISS may use in searches made from the calling thread.

    FAISS spreads one query over every core by default, which pays for large batches but
    makes concurrent single queries (a web service's) fight over the cores. OpenMP keeps
    this setting per thread (threads started later begin with the default), so a service
    calls this in each thread that searches; ``FaceIndexes`` does, given ``search_threads``.
    """
    if threads < 1:
        raise ValueError(f"threads must be positive, got {threads}")
    _faiss().omp_set_num_threads(threads)


def _int_array(values: ArrayLike, what: str) -> NDArray[np.int64]:
    array = np.asarray(values)
    if array.size and array.dtype.kind not in "iu":
        raise ValueError(f"{what} must be integers, got {array.dtype}")
    if array.dtype.kind == "u" and array.size and array.max() > np.iinfo(np.int64).max:
        raise ValueError(f"{what} do not fit in int64")
    return np.ascontiguousarray(array.astype(np.int64).reshape(-1))


class FaceIndex:
    """L2 search over face embeddings of one model, exact or HNSW by size.

    ``kind`` forces one kind; by default the index is exact below ``approximate_from``
    vectors, becomes HNSW when it reaches that many and returns to exact when removals
    bring it under ``exact_below`` (half of ``approximate_from`` unless given).
    ``attributes`` names the small integer attributes stored with each face, which
    searches can filter on. ``calibration`` names the distance calibration in use; it is
    recorded, not interpreted.
    """

    metric = "l2"

    def __init__(
        self,
        *,
        model: str,
        dim: int = 128,
        kind: IndexKind | None = None,
        approximate_from: int = 50_000,
        exact_below: int | None = None,
        hnsw: HnswParams | None = None,
        attributes: Sequence[str] = (),
        calibration: str | None = None,
        max_dead_share: float = 0.2,
    ) -> None:
        if dim <= 0:
            raise ValueError(f"dim must be positive, got {dim}")
        if approximate_from < 1:
            raise ValueError(f"approximate_from must be positive, got {approximate_from}")
        exact_below = approximate_from // 2 if exact_below is None else exact_below
        if not 0 <= exact_below <= approximate_from:
            raise ValueError(f"exact_below must be within [0, approximate_from], got {exact_below}")
        if not 0.0 <= max_dead_share < 1.0:
            raise ValueError(f"max_dead_share must be within [0, 1), got {max_dead_share}")
        names = tuple(attributes)
        if isinstance(attributes, str) or not all(isinstance(n, str) and n for n in names):
            raise ValueError(f"attributes must be a sequence of names, got {attributes!r}")
        if len(set(names)) != len(names):
            raise ValueError(f"attribute names must be unique, got {names}")
        self.model = model
        self.dim = dim
        self.forced_kind = None if kind is None else IndexKind(kind)
        self.approximate_from = approximate_from
        self.exact_below = exact_below
        self.hnsw = hnsw or HnswParams()
        self.attributes = names
        self.calibration = calibration
        self.max_dead_share = max_dead_share
        self._kind = self.forced_kind or IndexKind.EXACT
        self._index = self._new_faiss_index(self._kind)
        self._ids = np.zeros(0, dtype=np.int64)
        self._owners = np.zeros(0, dtype=np.int64)
        self._attrs = np.zeros((len(names), 0), dtype=np.int32)
        self._alive = np.zeros(0, dtype=bool)
        self._n_alive = 0
        self._selections: dict[Any, _Selection] = {}

    # -- state -------------------------------------------------------------------------

    def __len__(self) -> int:
        return self._n_alive

    @property
    def kind(self) -> IndexKind:
        """The kind of index in use now."""
        return self._kind

    @property
    def dead(self) -> int:
        """How many removed vectors still sit in the HNSW graph as tombstones."""
        return len(self._alive) - self._n_alive

    def ids(self) -> NDArray[np.int64]:
        """Every stored id, in insertion order (a replaced id counts as inserted anew)."""
        return self._ids[self._alive]

    def owners(self, ids: ArrayLike) -> NDArray[np.int64]:
        """The owner (person) of each of ``ids``; ``ValueError`` if one is not stored."""
        return self._owners[self._aligned_slots(_int_array(ids, "ids"))]

    def entries(self) -> tuple[NDArray[np.int64], NDArray[np.int64], dict[str, NDArray[np.int32]]]:
        """Every stored id with its owner and attributes, in insertion order (copies).

        What a caller compares with its own records to find what has changed.
        """
        alive = self._alive
        attributes = {name: self._attrs[row, alive] for row, name in enumerate(self.attributes)}
        return self._ids[alive], self._owners[alive], attributes

    def _aligned_slots(self, id_array: NDArray[np.int64]) -> NDArray[np.intp]:
        """The alive slot of each id, in order; ``ValueError`` if one is not stored."""
        slots = self._slots_of(id_array)
        order = np.argsort(self._ids[slots])
        stored = self._ids[slots][order]
        at = np.searchsorted(stored, id_array)
        if np.any(at >= len(stored)) or np.any(stored[np.minimum(at, len(stored) - 1)] != id_array):
            raise ValueError("some ids are not in the index")
        aligned: NDArray[np.intp] = slots[order[at]]
        return aligned

    def _new_faiss_index(self, kind: IndexKind) -> Any:
        faiss = _faiss()
        if kind is IndexKind.EXACT:
            return faiss.IndexFlatL2(self.dim)
        graph = faiss.IndexHNSWSQ(self.dim, faiss.ScalarQuantizer.QT_8bit, self.hnsw.m)
        graph.hnsw.efConstruction = self.hnsw.ef_construction
        graph.hnsw.efSearch = self.hnsw.ef_search
        index = faiss.IndexRefineFlat(graph)
        index.k_factor = _REFINE_FACTOR
        index.own_fields = True  # the graph lives as long as the index that holds it
        graph.this.disown()
        return index

    def _flat(self) -> Any:
        """The flat index holding the float vectors (for HNSW, its re-ranking store)."""
        if self._kind is IndexKind.EXACT:
            return self._index
        return _faiss().downcast_index(self._index.refine_index)

    def _train_codes(self, index: Any, vectors: NDArray[np.float32], rows: Any = None) -> None:
        """Fix the 8-bit code range of a new HNSW ``index``: the box, widened to reach the
        ``rows`` of ``vectors`` (all of them by default). Only each dimension's extremes
        matter, so they are found in chunks rather than by copying every vector."""
        if index.is_trained:
            return
        picked = np.arange(len(vectors)) if rows is None else np.asarray(rows)
        low = np.full(self.dim, -_CODE_RANGE, dtype=np.float32)
        high = np.full(self.dim, _CODE_RANGE, dtype=np.float32)
        for start in range(0, len(picked), _ADD_CHUNK):
            chunk = vectors[picked[start : start + _ADD_CHUNK]]
            low = np.minimum(low, chunk.min(axis=0))
            high = np.maximum(high, chunk.max(axis=0))
        index.train(np.ascontiguousarray(np.stack([low, high])))

    def _stored_vectors(self) -> NDArray[np.float32]:
        """A view of the stored vectors, one row a slot; valid until the index changes."""
        flat = self._flat()
        n = int(flat.ntotal)
        if n == 0:
            return np.zeros((0, self.dim), dtype=np.float32)
        view = _faiss().rev_swig_ptr(flat.get_xb(), n * self.dim)
        return np.asarray(view, dtype=np.float32).reshape(n, self.dim)

    # -- input checks ----------------------------------------------------------------

    def _vectors(self, vectors: ArrayLike) -> NDArray[np.float32]:
        array = np.ascontiguousarray(np.asarray(vectors, dtype=np.float32))
        if array.ndim == 1:
            array = array.reshape(1, -1)
        if array.ndim != 2 or array.shape[1] != self.dim:
            raise ValueError(f"expected vectors of shape (n, {self.dim}), got {array.shape}")
        if not np.isfinite(array).all():
            raise ValueError("vectors hold NaN or infinite values")
        return array

    def _check_model(self, model: str | None) -> None:
        if model is not None and model != self.model:
            raise IndexModelMismatchError(self.model, model)

    def _attribute_rows(
        self, attributes: Mapping[str, ArrayLike] | None, n: int
    ) -> NDArray[np.int32]:
        rows = np.full((len(self.attributes), n), UNKNOWN, dtype=np.int32)
        for name, values in (attributes or {}).items():
            if name not in self.attributes:
                raise ValueError(f"unknown attribute {name!r}; the index has {self.attributes}")
            column = _int_array(values, f"attribute {name!r}")
            if column.shape[0] != n:
                raise ValueError(f"{column.shape[0]} values of {name!r} for {n} vectors")
            if column.size and (column.min() < _INT32.min or column.max() > _INT32.max):
                raise ValueError(f"values of {name!r} must fit in int32")
            rows[self.attributes.index(name)] = column
        return rows

    def _slots_of(self, id_array: NDArray[np.int64]) -> NDArray[np.intp]:
        """The alive slots holding any of ``id_array``."""
        if len(id_array) == 0 or self._n_alive == 0:
            return np.zeros(0, dtype=np.intp)
        return np.flatnonzero(np.isin(self._ids, id_array) & self._alive)

    # -- changes ---------------------------------------------------------------------

    def add(
        self,
        ids: ArrayLike,
        vectors: ArrayLike,
        *,
        model: str | None = None,
        owners: ArrayLike | None = None,
        attributes: Mapping[str, ArrayLike] | None = None,
    ) -> None:
        """Add vectors under their ids; an id already present is replaced.

        ``owners`` gives the person each face belongs to (default: the face's own id) for
        ``search_persons``; ``attributes`` maps attribute names to one value a vector
        (a name left out is ``UNKNOWN``).
        """
        self._check_model(model)
        array = self._vectors(vectors)
        id_array = _int_array(ids, "ids")
        if id_array.shape[0] != array.shape[0]:
            raise ValueError(f"{id_array.shape[0]} ids for {array.shape[0]} vectors")
        if len(np.unique(id_array)) != len(id_array):
            raise ValueError("ids must be unique")
        owner_array = id_array if owners is None else _int_array(owners, "owners")
        if owner_array.shape[0] != id_array.shape[0]:
            raise ValueError(f"{owner_array.shape[0]} owners for {id_array.shape[0]} vectors")
        rows = self._attribute_rows(attributes, len(id_array))
        if len(id_array) == 0:
            return
        self._kill(self._slots_of(id_array))
        target = self._target_kind(self._n_alive + len(id_array))
        if target is not self._kind or self._too_many_dead(extra=len(id_array)):
            self._rebuild(target)
        if self._kind is IndexKind.HNSW:
            self._train_codes(self._index, array)
        for start in range(0, len(array), _ADD_CHUNK):
            self._index.add(array[start : start + _ADD_CHUNK])
        self._ids = np.concatenate([self._ids, id_array])
        self._owners = np.concatenate([self._owners, owner_array])
        self._attrs = np.concatenate([self._attrs, rows], axis=1)
        self._alive = np.concatenate([self._alive, np.ones(len(id_array), dtype=bool)])
        self._n_alive += len(id_array)
        self._selections.clear()

    def remove(self, ids: ArrayLike) -> int:
        """Remove the vectors with these ids; returns how many were there.

        An exact index drops them at once. An HNSW index marks them dead (they are left
        out of every search from now on) and rebuilds its graph when the dead pass
        ``max_dead_share`` of the stored vectors: that call then takes as long as a build
        (minutes at a million faces). Dropping under ``exact_below`` faces switches back to
        exact search.
        """
        slots = self._slots_of(_int_array(ids, "ids"))
        if len(slots) == 0:
            return 0
        self._kill(slots)
        target = self._target_kind(self._n_alive)
        if target is not self._kind or self._too_many_dead():
            self._rebuild(target)
        return len(slots)

    def remove_owners(self, owners: ArrayLike) -> int:
        """Remove every vector of these owners (a person's photos); returns how many."""
        owner_array = _int_array(owners, "owners")
        if len(owner_array) == 0 or self._n_alive == 0:
            return 0
        slots = np.flatnonzero(np.isin(self._owners, owner_array) & self._alive)
        return self.remove(self._ids[slots])

    def update(
        self,
        ids: ArrayLike,
        *,
        owners: ArrayLike | None = None,
        attributes: Mapping[str, ArrayLike] | None = None,
    ) -> None:
        """Change the owner or some attributes of stored vectors; the vectors stay as they are.

        Attributes left out of ``attributes`` keep their values. ``ValueError`` if an id
        is not stored. Cheap at any size: nothing is rebuilt.
        """
        id_array = _int_array(ids, "ids")
        if len(np.unique(id_array)) != len(id_array):
            raise ValueError("ids must be unique")
        slots = self._aligned_slots(id_array)
        owner_array = None if owners is None else _int_array(owners, "owners")
        if owner_array is not None and owner_array.shape[0] != id_array.shape[0]:
            raise ValueError(f"{owner_array.shape[0]} owners for {id_array.shape[0]} vectors")
        rows = self._attribute_rows(attributes, len(id_array))
        if owner_array is not None:
            self._owners[slots] = owner_array
        for name in attributes or {}:
            column = self.attributes.index(name)
            self._attrs[column, slots] = rows[column]
        self._selections.clear()

    def compact(self) -> None:
        """Drop the tombstones now, rebuilding the HNSW graph without them."""
        if self.dead:
            self._rebuild(self._kind)

    def _kill(self, slots: NDArray[np.intp]) -> None:
        if len(slots) == 0:
            return
        self._alive[slots] = False
        self._n_alive -= len(slots)
        self._selections.clear()
        if self._kind is IndexKind.EXACT:
            self._rebuild(IndexKind.EXACT)  # brute force: just drop them

    def _too_many_dead(self, *, extra: int = 0) -> bool:
        return self.dead > self.max_dead_share * (len(self._alive) + extra)

    def _target_kind(self, count: int) -> IndexKind:
        if self.forced_kind is not None:
            return self.forced_kind
        if count >= self.approximate_from:
            return IndexKind.HNSW
        if count < self.exact_below:
            return IndexKind.EXACT
        return self._kind

    def _rebuild(self, kind: IndexKind) -> None:
        """Move the alive vectors, in slot order, into a fresh index of ``kind``."""
        keep = np.flatnonzero(self._alive)
        if kind is IndexKind.EXACT and self._kind is IndexKind.EXACT:
            dead = np.flatnonzero(~self._alive)
            if len(dead):
                self._index.remove_ids(_faiss().IDSelectorBatch(dead.astype(np.int64)))
        else:
            if kind is IndexKind.HNSW:
                logger.info("building an HNSW face index of %d vectors", len(keep))
            index = self._new_faiss_index(kind)
            stored = self._stored_vectors()  # a view into the old index, alive until the end
            if kind is IndexKind.HNSW:
                self._train_codes(index, stored, keep)
            for start in range(0, len(keep), _ADD_CHUNK):
                index.add(np.ascontiguousarray(stored[keep[start : start + _ADD_CHUNK]]))
            # Only now, all built: a failure above leaves the old index whole.
            self._index = index
            self._kind = kind
        self._ids = self._ids[keep]
        self._owners = self._owners[keep]
        self._attrs = np.ascontiguousarray(self._attrs[:, keep])
        self._alive = np.ones(len(keep), dtype=bool)
        self._selections.clear()

    # -- search ----------------------------------------------------------------------

    def _selection(self, filters: Filters | None) -> _Selection:
        """The slots a search may return, as a FAISS selector (cached until a change)."""
        allowed: list[tuple[int, NDArray[np.int64]]] = []
        for name, values in (filters or {}).items():
            if name not in self.attributes:
                raise ValueError(f"unknown attribute {name!r}; the index has {self.attributes}")
            if isinstance(values, str | bytes) or not isinstance(values, Collection):
                raise ValueError(f"the filter on {name!r} must be a collection of values")
            allowed.append((self.attributes.index(name), _int_array(list(values), name)))
        key = tuple(sorted((column, tuple(np.unique(v).tolist())) for column, v in allowed))
        cached = self._selections.get(key)
        if cached is not None:
            return cached
        if not allowed and not self.dead:
            selection = _Selection(self._n_alive, None)
        else:
            mask = self._alive.copy()
            for column, values in allowed:
                mask &= np.isin(self._attrs[column], values)
            bitmap = np.packbits(mask, bitorder="little")
            selection = _Selection(int(mask.sum()), _faiss().IDSelectorBitmap(bitmap))
        if len(self._selections) >= 64:
            self._selections.clear()
        self._selections[key] = selection
        return selection

    def _raw_search(
        self,
        queries: NDArray[np.float32],
        k: int,
        selection: _Selection,
        ef_search: int | None,
    ) -> tuple[NDArray[np.float32], NDArray[np.int64]]:
        """Squared distances and slots (``-1`` where FAISS found nothing)."""
        faiss = _faiss()
        narrow = selection.selector is not None and selection.count < self.hnsw.exact_under
        if self._kind is IndexKind.EXACT or narrow or 2 * k >= selection.count:
            params = None
            if selection.selector is not None:
                params = faiss.SearchParameters()
                params.sel = selection.selector
            distances, labels = self._flat().search(queries, k, params=params)
            return distances, labels
        ef = ef_search or self.hnsw.ef_search
        share = selection.count / len(self._alive)
        graph = faiss.SearchParametersHNSW()
        graph.efSearch = max(_REFINE_FACTOR * k, math.ceil(ef / share ** (1 / 3)))
        if selection.selector is not None:
            graph.sel = selection.selector
        params = faiss.IndexRefineSearchParameters()
        params.k_factor = _REFINE_FACTOR
        params.base_index_params = graph
        distances, labels = self._index.search(queries, k, params=params)
        return distances, labels

    def _queries(
        self, vectors: ArrayLike, k: int, model: str | None, ef_search: int | None
    ) -> NDArray[np.float32]:
        """The query vectors, after checking a search's arguments."""
        self._check_model(model)
        if k <= 0:
            raise ValueError(f"k must be positive, got {k}")
        if ef_search is not None and ef_search <= 0:
            raise ValueError(f"ef_search must be positive, got {ef_search}")
        return self._vectors(vectors)

    def search(
        self,
        vectors: ArrayLike,
        k: int,
        *,
        model: str | None = None,
        filters: Filters | None = None,
        ef_search: int | None = None,
    ) -> list[list[Neighbour]]:
        """The ``k`` nearest stored faces of each query vector, nearest first.

        ``filters`` keeps only faces whose attributes are among the allowed values. FAISS
        applies it while it searches (a bitmap selector), so the ``k`` faces come from
        those passing it rather than being cut from a longer unfiltered list. Removed
        faces never come back. ``ef_search`` overrides the HNSW parameter for this search
        (exact search ignores it); an HNSW search may return fewer than ``k`` faces.
        """
        queries = self._queries(vectors, k, model, ef_search)
        selection = self._selection(filters)
        if selection.count == 0:
            return [[] for _ in range(len(queries))]
        distances, slots = self._raw_search(queries, min(k, selection.count), selection, ef_search)
        return [
            self._neighbours(row_d, row_s) for row_d, row_s in zip(distances, slots, strict=True)
        ]

    def _neighbours(
        self, distances: NDArray[np.float32], slots: NDArray[np.int64]
    ) -> list[Neighbour]:
        found = slots >= 0
        ids = self._ids[slots[found]]
        dist = np.sqrt(np.maximum(distances[found], 0.0))
        return [Neighbour(int(i), float(d)) for i, d in zip(ids, dist, strict=True)]

    def search_persons(
        self,
        vectors: ArrayLike,
        k: int,
        *,
        model: str | None = None,
        filters: Filters | None = None,
        ef_search: int | None = None,
    ) -> list[list[PersonNeighbour]]:
        """The ``k`` nearest persons of each query, by their nearest face, nearest first.

        A person with many photos takes many places among the nearest faces, so faces are
        fetched in growing rounds until ``k`` different owners are among them (or every
        face passing ``filters`` has been seen). The nearest ``k`` distinct owners of the
        nearest faces are then exactly the ``k`` nearest persons: anyone not seen has no
        face nearer than the last face fetched.
        """
        queries = self._queries(vectors, k, model, ef_search)
        results: list[list[PersonNeighbour]] = [[] for _ in range(len(queries))]
        selection = self._selection(filters)
        pending = np.arange(len(queries)) if selection.count else np.zeros(0, dtype=np.intp)
        fetch = min(selection.count, 4 * k)
        while len(pending):
            distances, slots = self._raw_search(queries[pending], fetch, selection, ef_search)
            short = []
            for query, row_d, row_s in zip(pending, distances, slots, strict=True):
                persons = self._persons(row_d, row_s, k)
                if len(persons) < k and fetch < selection.count:
                    short.append(query)
                else:
                    results[query] = persons
            pending = np.asarray(short, dtype=np.intp)
            fetch = min(selection.count, 4 * fetch)
        return results

    def _persons(
        self, distances: NDArray[np.float32], slots: NDArray[np.int64], k: int
    ) -> list[PersonNeighbour]:
        found = slots >= 0
        slots, distances = slots[found], distances[found]
        owners = self._owners[slots]
        _, first = np.unique(owners, return_index=True)
        nearest = np.sort(first)[:k]  # FAISS returns rows nearest first
        return [
            PersonNeighbour(
                int(owners[i]), int(self._ids[slots[i]]), float(np.sqrt(max(0.0, distances[i])))
            )
            for i in nearest
        ]

    # -- files -----------------------------------------------------------------------

    def sidecar(self) -> dict[str, Any]:
        """What produced the index, written beside it."""
        ids = self.ids()
        return {
            "version": SIDECAR_VERSION,
            "model": self.model,
            "dim": self.dim,
            "metric": self.metric,
            "kind": self._kind.value,
            "forced_kind": None if self.forced_kind is None else self.forced_kind.value,
            "approximate_from": self.approximate_from,
            "exact_below": self.exact_below,
            "max_dead_share": self.max_dead_share,
            "hnsw": asdict(self.hnsw),
            "attributes": list(self.attributes),
            "calibration": self.calibration,
            "count": len(ids),
            "slots": len(self._alive),
            "ids_sha256": hashlib.sha256(ids.astype("<i8").tobytes()).hexdigest(),
        }

    def save(self, path: Path) -> None:
        """Write the index and its sidecar, each atomically; see ``face_index_files``."""
        meta = self.sidecar() | {"generation": uuid.uuid4().hex}
        arrays = {
            "ids": self._ids.astype("<i8"),
            "owners": self._owners.astype("<i8"),
            "attributes": self._attrs.astype("<i4"),
            "alive": self._alive,
        }
        write_container(path, meta, self._index, arrays)

    @classmethod
    def load(cls, path: Path, *, model: str) -> FaceIndex:
        """Read an index saved by ``save``; refuse one of another model or a damaged one."""
        meta = read_sidecar(path)
        if meta.get("model") != model:
            raise IndexModelMismatchError(str(meta.get("model")), model)
        if meta.get("version") != SIDECAR_VERSION:
            raise IndexCorruptError(f"{path.name} has sidecar version {meta.get('version')!r}")
        try:
            kind = IndexKind(meta["kind"])
            index = cls(
                model=model,
                dim=int(meta["dim"]),
                kind=None if meta["forced_kind"] is None else IndexKind(meta["forced_kind"]),
                approximate_from=int(meta["approximate_from"]),
                exact_below=int(meta["exact_below"]),
                hnsw=HnswParams(**meta["hnsw"]),
                attributes=list(meta["attributes"]),
                calibration=meta["calibration"],
                max_dead_share=float(meta["max_dead_share"]),
            )
        except (KeyError, TypeError, ValueError) as err:
            raise IndexCorruptError(f"{path.name}'s sidecar is incomplete: {err}") from err
        raw, arrays = read_container(path, meta, ("ids", "owners", "attributes", "alive"))
        index._adopt(path.name, meta, kind, raw, arrays)
        return index

    def _adopt(
        self,
        name: str,
        meta: Mapping[str, Any],
        kind: IndexKind,
        raw: Any,
        arrays: Mapping[str, NDArray[Any]],
    ) -> None:
        """Take over a loaded FAISS index and arrays once they agree with the sidecar."""
        faiss = _faiss()
        expected_type = faiss.IndexFlatL2 if kind is IndexKind.EXACT else faiss.IndexRefineFlat
        slots = int(meta["slots"])
        ids, owners, attrs, alive = (
            arrays["ids"], arrays["owners"], arrays["attributes"], arrays["alive"]
        )  # fmt: skip
        if (
            not isinstance(raw, expected_type)
            or (kind is IndexKind.HNSW and not _is_refined_graph(raw, slots))
            or raw.d != self.dim
            or raw.ntotal != slots
            or ids.shape != (slots,)
            or owners.shape != (slots,)
            or attrs.shape != (len(self.attributes), slots)
            or alive.shape != (slots,)
            or alive.dtype != np.bool_
            or ids.dtype.kind != "i"
            or owners.dtype.kind != "i"
            or attrs.dtype.kind != "i"
        ):
            raise IndexCorruptError(f"{name} does not agree with its sidecar")
        self._kind = kind
        self._index = raw
        self._ids = ids.astype(np.int64)
        self._owners = owners.astype(np.int64)
        self._attrs = np.ascontiguousarray(attrs, dtype=np.int32)
        self._alive = alive.copy()
        self._n_alive = int(alive.sum())
        self._selections.clear()
        if self.sidecar() != {key: meta[key] for key in self.sidecar()}:
            raise IndexCorruptError(f"{name}'s ids or count do not match its sidecar")
