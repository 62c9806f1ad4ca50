"""A sheet's photo paths reach no file outside the import's folder, and every refusal
reads the same, so a sheet cannot tell a missing file from a forbidden one."""

from __future__ import annotations

import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from pathlib import Path

import pytest

from records import InvalidRecordError
from records.errors import PhotoFileRefusedError
from records.photo_files import check_photo_file, photos_root, read_photo_file

LIMIT = 1000


@pytest.fixture
def station(tmp_path: Path) -> Path:
    """A station's folder with one good photo, beside another folder with a photo."""
    folder = tmp_path / "station"
    (folder / "photos").mkdir(parents=True)
    (folder / "photos" / "ok.jpg").write_bytes(b"x" * LIMIT)
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "theirs.jpg").write_bytes(b"y" * 10)
    (folder / "photos" / "inside_link.jpg").symlink_to(folder / "photos" / "ok.jpg")
    (folder / "escape.jpg").symlink_to(tmp_path / "other" / "theirs.jpg")
    (folder / "zero.jpg").symlink_to("/dev/zero")
    (folder / "folder_link").symlink_to(tmp_path / "other")
    (folder / "loop.jpg").symlink_to(folder / "loop.jpg")
    os.mkfifo(folder / "fifo.jpg")
    (folder / "a_folder.jpg").mkdir()
    (folder / "big.jpg").write_bytes(b"z" * (LIMIT + 1))
    return folder


REFUSED = [
    ("a relative path climbing out to a file that exists", "../other/theirs.jpg"),
    ("a deep climb to the password file", "../../../../../../../../etc/passwd"),
    ("an absolute path outside", "/etc/shadow"),
    ("an absolute path to another folder's photo", "{tmp}/other/theirs.jpg"),
    ("a file that does not exist", "photos/gone.jpg"),
    ("a link inside pointing outside", "escape.jpg"),
    ("a path through a linked folder", "folder_link/theirs.jpg"),
    ("a link to /dev/zero", "zero.jpg"),
    ("/dev/zero itself", "/dev/zero"),
    ("a FIFO, which would block an open", "fifo.jpg"),
    ("a directory", "a_folder.jpg"),
    ("a file one byte over the limit", "big.jpg"),
    ("a link to itself", "loop.jpg"),
    ("the folder itself", "."),
    ("a NUL byte", "photos/ok.jpg\x00.png"),
]


@pytest.mark.parametrize(("case", "written"), REFUSED, ids=[case for case, _ in REFUSED])
@pytest.mark.parametrize("reader", [check_photo_file, read_photo_file], ids=["check", "read"])
def test_every_path_out_of_the_folder_or_not_a_small_regular_file_is_refused_alike(
    station: Path, case: str, written: str, reader: Callable[..., object]
) -> None:
    path = station / written.format(tmp=station.parent)
    expected = str(PhotoFileRefusedError(LIMIT))
    with ThreadPoolExecutor(max_workers=1) as pool:
        future = pool.submit(reader, path, photos_root(station), max_bytes=LIMIT)
        try:
            future.exception(timeout=5)
        except FutureTimeout:
            os.close(os.open(station / "fifo.jpg", os.O_WRONLY | os.O_NONBLOCK))  # unblock it
            pytest.fail(f"{case}: reading hung")
    with pytest.raises(PhotoFileRefusedError) as caught:
        future.result()
    assert str(caught.value) == expected, case
    assert "gone" not in expected and "exist" not in expected


def test_a_regular_file_inside_is_read_through_a_link_inside_too(station: Path) -> None:
    root = photos_root(station)
    assert read_photo_file(station / "photos/ok.jpg", root, max_bytes=LIMIT) == b"x" * LIMIT
    assert read_photo_file(station / "photos/inside_link.jpg", root, max_bytes=LIMIT) == (
        b"x" * LIMIT
    )
    assert check_photo_file(station / "photos/../photos/ok.jpg", root, max_bytes=LIMIT)


def test_a_file_that_grows_after_the_check_is_not_read_past_the_limit(
    station: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    photo = station / "photos" / "ok.jpg"
    real_fstat = os.fstat

    def grown(fd: int) -> os.stat_result:
        # Between the check and the read, the file grows; fstat still shows the old size.
        found = real_fstat(fd)
        photo.write_bytes(b"x" * (LIMIT * 3))
        return found

    monkeypatch.setattr(os, "fstat", grown)
    with pytest.raises(PhotoFileRefusedError):
        read_photo_file(photo, photos_root(station), max_bytes=LIMIT)


def test_the_folder_given_for_photos_must_exist(tmp_path: Path) -> None:
    with pytest.raises(InvalidRecordError, match="no such folder"):
        photos_root(tmp_path / "nowhere")
    (tmp_path / "file").write_text("x")
    with pytest.raises(InvalidRecordError, match="not a folder"):
        photos_root(tmp_path / "file")
