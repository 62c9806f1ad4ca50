"""The face index's files: one container of arrays and the FAISS index, one JSON sidecar.

``<name>`` is a zip archive (stored, not compressed) holding ``sidecar.json``, the FAISS
index as ``index.faiss`` and the per-vector arrays as ``.npy`` members; ``<name>.json``
is the same sidecar beside it, for people and tools. Both are written to a temporary
file, synced, and renamed into place (the folder is synced too), so each is either the
old file or the new one. The sidecar carries a random ``generation`` that the container
repeats: a crash between the two renames leaves a pair that disagrees, which loading
reports as ``IndexCorruptError`` (the caller then rebuilds from the store, which is the
truth).

FAISS reads and writes through callbacks on the archive's streams, so saving or loading
a large index never holds a second copy of it in memory.
"""

from __future__ import annotations

import json
import os
import tempfile
import zipfile
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, Final

import numpy as np
from numpy.typing import NDArray

from indexes.face_errors import IndexCorruptError

SIDECAR_MEMBER: Final = "sidecar.json"
INDEX_MEMBER: Final = "index.faiss"
_CHUNK: Final = 1 << 20


def _faiss() -> Any:
    import faiss  # loaded on first use: importing it costs time and memory

    return faiss


def sidecar_path(path: Path) -> Path:
    """Where the sidecar of the index file ``path`` lives."""
    return path.with_suffix(path.suffix + ".json")


def atomic_write(target: Path, write: Callable[[Path], object]) -> None:
    """Call ``write`` on a temporary file beside ``target``, then rename it into place."""
    fd, tmp_name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.")
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        write(tmp)
        with tmp.open("rb") as handle:
            os.fsync(handle.fileno())
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)
    _fsync_folder(target.parent)


def _fsync_folder(folder: Path) -> None:
    """Make a rename in ``folder`` survive a power cut, where folders can be opened."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return  # Windows cannot open a folder; its renames are journalled anyway
    try:
        os.fsync(fd)
    except OSError:
        pass  # some file systems refuse to sync a folder; the rename itself is atomic
    finally:
        os.close(fd)


def write_container(
    path: Path, sidecar: Mapping[str, Any], index: Any, arrays: Mapping[str, NDArray[Any]]
) -> None:
    """Write the container at ``path`` and then its sidecar, each atomically."""
    faiss = _faiss()
    text = json.dumps(sidecar, indent=2, sort_keys=True)

    def write(tmp: Path) -> None:
        with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_STORED, allowZip64=True) as zf:
            zf.writestr(SIDECAR_MEMBER, text)
            for name, array in arrays.items():
                with zf.open(f"{name}.npy", "w", force_zip64=True) as stream:
                    np.lib.format.write_array(stream, array, allow_pickle=False)
            with zf.open(INDEX_MEMBER, "w", force_zip64=True) as stream:
                writer = faiss.PyCallbackIOWriter(stream.write, _CHUNK)
                faiss.write_index(index, writer)
                del writer

    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(path, write)
    atomic_write(sidecar_path(path), lambda tmp: tmp.write_text(text))


def read_sidecar(path: Path) -> dict[str, Any]:
    """The sidecar beside ``path``; ``IndexCorruptError`` when it cannot be read."""
    where = sidecar_path(path)
    try:
        meta = json.loads(where.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise IndexCorruptError(f"cannot read {where.name}: {err}") from err
    if not isinstance(meta, dict):
        raise IndexCorruptError(f"{where.name} is not a JSON object")
    return meta


def read_container(
    path: Path, sidecar: Mapping[str, Any], names: tuple[str, ...]
) -> tuple[Any, dict[str, NDArray[Any]]]:
    """The FAISS index and the named arrays of the container at ``path``.

    Raises ``IndexCorruptError`` when the file cannot be read or was not written with
    ``sidecar``.
    """
    faiss = _faiss()
    try:
        with zipfile.ZipFile(path) as zf:
            if json.loads(zf.read(SIDECAR_MEMBER)) != sidecar:
                raise IndexCorruptError(f"{sidecar_path(path).name} does not describe {path.name}")
            arrays = {}
            for name in names:
                with zf.open(f"{name}.npy") as stream:
                    arrays[name] = np.lib.format.read_array(stream, allow_pickle=False)
            with zf.open(INDEX_MEMBER) as stream:
                reader = faiss.PyCallbackIOReader(stream.read, _CHUNK)
                index = faiss.read_index(reader)
                del reader
                if stream.read(1):  # reading to the end also checks the member's CRC
                    raise IndexCorruptError(f"{path.name} has data after its index")
    except IndexCorruptError:
        raise
    except (OSError, KeyError, ValueError, RuntimeError, zipfile.BadZipFile) as err:
        # json.JSONDecodeError and UnicodeDecodeError are ValueErrors.
        raise IndexCorruptError(f"cannot read {path.name}: {err}") from err
    return index, arrays
