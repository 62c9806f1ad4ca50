"""``xunqin doctor``: the store, its photo files and its face index checked against each
other, and repaired where that is safe.

What is checked:

- photo rows whose file is missing, whose file no longer holds the photo (its SHA-256
  differs), or whose path leads outside the store's photo folder (an older store's
  absolute path);
- orphan files: files in the photo folder that no photo row names (a server killed
  between writing a file and committing its row leaves one);
- each side's face index file against the store's searchable faces: unreadable, faces
  it holds that the store no longer searches, searchable faces it lacks (index lag).

What ``fix`` repairs: orphans older than the grace period are deleted (a younger one
may be an upload whose row is not committed yet); a row pointing outside the folder is
pointed at the store's own file when that file holds the same photo; the face indexes
are brought in step with the store (rebuilt when unreadable). A missing or changed file
cannot be restored from here: it is reported, and the row is kept (its faces still match;
a backup can restore the file, or an administrator deletes the photo).

Nothing here logs or reports a file's content or a person: photo ids, counts, and file
names that are content hashes.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path, PurePosixPath
from typing import Any, Final

from sqlalchemy import func, select, update

from records import (
    Database,
    Photo,
    PhotoFileChangedError,
    PhotoFileMissingError,
    PhotoPathOutsideError,
    Side,
)
from records.photo_store import PhotoStore, file_sha256
from records.storage.audit_log import audit
from usecases.face_registry import FaceIndexes, IndexState

logger = logging.getLogger(__name__)

GRACE: Final = timedelta(hours=1)
"""How old an orphan file must be before ``fix`` deletes it: younger, it may be an
upload in flight whose row is about to be committed."""

Progress = Callable[[int, int], None]

_SIDE_TEXT: Final = {Side.MISSING: "寻亲登记 (reports)", Side.FOUND: "受助人员 (found persons)"}
_SHOWN: Final = 20


@dataclass
class DoctorReport:
    """What ``run_doctor`` found and, with ``fix``, repaired."""

    photos: int = 0
    files: int = 0
    missing: list[int] = field(default_factory=list)
    changed: list[int] = field(default_factory=list)
    outside: list[int] = field(default_factory=list)
    repointed: list[int] = field(default_factory=list)
    orphans: list[str] = field(default_factory=list)
    recent: list[str] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)
    index: dict[Side, IndexState] = field(default_factory=dict)
    index_fixed: dict[Side, IndexState] | None = None
    fixed: bool = False

    def index_now(self) -> dict[Side, IndexState]:
        """The face indexes' state after the repair, or as found when none was made."""
        return self.index if self.index_fixed is None else self.index_fixed

    def problems_left(self) -> int:
        """How many problems remain (files and rows, plus each index out of step)."""
        return (
            len(self.missing)
            + len(self.changed)
            + len(self.outside) - len(self.repointed)
            + len(self.orphans) - len(self.deleted)
            + sum(not state.in_step for state in self.index_now().values())
        )  # fmt: skip

    def changes(self) -> dict[str, int]:
        """What the repair changed, as counts (the audit line's detail)."""
        index_changes = 0
        if self.index_fixed is not None:
            index_changes = sum(
                state.extra + state.missing + state.changed + (state.unreadable is not None)
                for state in self.index.values()
            )
        return {"orphans_deleted": len(self.deleted), "photos_repointed": len(self.repointed),
                "index_entries_redone": index_changes}  # fmt: skip

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready report."""

        def index_json(states: dict[Side, IndexState]) -> dict[str, Any]:
            return {side.value: {"saved": s.saved, "unreadable": s.unreadable, "extra": s.extra,
                                 "missing": s.missing, "changed": s.changed,
                                 "in_step": s.in_step}
                    for side, s in states.items()}  # fmt: skip

        return {
            "photos": self.photos,
            "files": self.files,
            "missing_files": self.missing,
            "changed_files": self.changed,
            "outside_paths": self.outside,
            "repointed": self.repointed,
            "orphans": self.orphans,
            "recent_files": self.recent,
            "deleted_orphans": self.deleted,
            "face_index": index_json(self.index),
            "face_index_after_fix": None
            if self.index_fixed is None
            else index_json(self.index_fixed),
            "fixed": self.fixed,
            "problems_left": self.problems_left(),
        }

    def summary(self, *, grace: timedelta = GRACE) -> list[str]:
        """The report for people, Chinese first (what officials read), one line a finding."""
        lines = [f"照片记录 {self.photos} 条, 照片文件 {self.files} 个 "
                 f"(photo rows, files in the photo folder)"]  # fmt: skip
        if self.missing:
            lines.append(f"照片文件缺失 {len(self.missing)} 个 (missing photo files), 照片 id "
                         f"{_ids(self.missing)}: 请从备份恢复 (restore from a backup)")  # fmt: skip
        if self.changed:
            lines.append(f"照片内容不符 {len(self.changed)} 个 (photo files whose content "
                         f"changed), 照片 id {_ids(self.changed)}: 请从备份恢复 "
                         f"(restore from a backup)")  # fmt: skip
        if self.outside:
            lines.append(f"照片路径在本库之外 {len(self.outside)} 个 (photo paths outside "
                         f"this store's photo folder), 照片 id {_ids(self.outside)}: "
                         f"文件放回本库照片目录后再 --fix "
                         f"(put the file in this store's photo folder, then --fix)"
                         + (f"; 已改指本库文件 {len(self.repointed)} 个 (pointed at this "
                            f"store's own file)" if self.fixed else ""))  # fmt: skip
        if self.orphans:
            lines.append(f"多余文件 {len(self.orphans)} 个 (orphan files no photo names)"
                         + (f"; 已删除 {len(self.deleted)} 个 (deleted)" if self.fixed
                            else ""))  # fmt: skip
        if self.recent:
            minutes = round(grace.total_seconds() / 60)
            lines.append(
                f"新近文件 {len(self.recent)} 个, 不足 {minutes} 分钟, 未动 (files no "
                f"photo names yet, younger than {minutes} minutes: left alone)"
            )
        for side, state in self.index.items():
            lines.append(f"人脸索引 (face index), {_SIDE_TEXT[side]}: {_index_text(state)}")
            if self.index_fixed is not None and not state.in_step:
                after = self.index_fixed[side]
                lines.append(f"  已修复 (repaired): {_index_text(after)}")
        left = self.problems_left()
        lines.append("一切正常 (all in order)" if left == 0 else
                     f"尚有问题 {left} 项 (problems remain)"
                     + ("" if self.fixed else ": xunqin doctor --fix"))  # fmt: skip
        return lines


def _ids(ids: list[int]) -> str:
    shown = ", ".join(str(i) for i in ids[:_SHOWN])
    return shown + (f" … (+{len(ids) - _SHOWN})" if len(ids) > _SHOWN else "")


def _index_text(state: IndexState) -> str:
    if state.in_step:
        return "正常 (in step)"
    parts = []
    if state.unreadable is not None:
        parts.append(f"文件无法读取 (unreadable file: {state.unreadable})")
    if state.missing:
        parts.append(f"缺 {state.missing} 个人脸 (searchable faces missing: index lag)")
    if state.extra:
        parts.append(f"多 {state.extra} 个人脸 (entries for faces no longer searched)")
    if state.changed:
        parts.append(f"{state.changed} 个人脸信息已变 (faces with changed facts)")
    return "; ".join(parts)


def run_doctor(
    database: Database,
    photo_store: PhotoStore,
    face_indexes: FaceIndexes,
    *,
    fix: bool,
    actor: str,
    grace: timedelta = GRACE,
    check_content: bool = True,
    progress: Progress | None = None,
) -> DoctorReport:
    """Check the store, its photo files and its face indexes against each other.

    ``face_indexes`` must not be opened yet (opening already repairs the index); with
    ``fix`` it is opened, which brings it in step with the store. ``check_content``
    hashes every file (the long part); without it only existence is checked.
    ``progress`` is told how many photo rows have been checked. When the repair changed
    anything, one audit line keeps the counts.
    """
    report = DoctorReport(fixed=fix)
    # The folder is listed before the rows are read: a file written after the listing
    # is not seen, and one whose row is committed after it is named by then.
    listed = dict(photo_store.files())
    report.files = len(listed)
    named = _check_rows(database, photo_store, report, check_content, progress)
    now = time.time()
    for name, path in sorted(listed.items()):
        if name in named:
            continue
        old = _age(path, now) >= grace.total_seconds()
        (report.orphans if old else report.recent).append(name)
    report.index = face_indexes.inspect(database)
    if not fix:
        return report
    # Re-pointed rows name their files before orphans are deleted: those files stay.
    repointed = _repoint(database, photo_store, report.outside)
    report.repointed = list(repointed)
    report.orphans = [name for name in report.orphans if name not in repointed.values()]
    report.recent = [name for name in report.recent if name not in repointed.values()]
    report.deleted = _delete_orphans(database, photo_store, report.orphans, grace)
    face_indexes.open(database)
    face_indexes.flush()
    report.index_fixed = face_indexes.inspect(database)
    changes = report.changes()
    if any(changes.values()):
        with database.session() as session:
            audit(session, actor=actor, action="doctor", subject_kind="store", detail=changes)
    return report


def _check_rows(
    database: Database,
    photo_store: PhotoStore,
    report: DoctorReport,
    check_content: bool,
    progress: Progress | None,
) -> set[str]:
    """Check every photo row's file; returns the folder's names the rows use."""
    with database.session() as session:
        rows = session.execute(
            select(Photo.id, Photo.stored_path, Photo.sha256).order_by(Photo.id)
        ).all()
    report.photos = len(rows)
    root = photo_store.root.resolve()
    # One check a file (rows of several records share one), whose verdict is the report's
    # list the rows go on (missing, changed, outside), or None for a sound file.
    verdicts: dict[tuple[str, str], list[int] | None] = {}
    named: set[str] = set()
    for done, (photo_id, stored_path, sha256) in enumerate(rows, start=1):
        key = (stored_path, sha256)
        if key not in verdicts:
            verdicts[key] = _check_file(photo_store, stored_path, sha256, report, check_content)
        verdict = verdicts[key]
        if verdict is not None:
            verdict.append(photo_id)
        try:
            named.add(photo_store.locate(stored_path).relative_to(root).as_posix())
        except PhotoPathOutsideError:
            pass
        if progress is not None and (done % 100 == 0 or done == len(rows)):
            progress(done, len(rows))
    return named


def _check_file(
    photo_store: PhotoStore,
    stored_path: str,
    sha256: str,
    report: DoctorReport,
    check_content: bool,
) -> list[int] | None:
    """The report's list a row with this file belongs on, or None when the file is fine."""
    try:
        if check_content:
            photo_store.verified(stored_path, sha256)
        elif not photo_store.locate(stored_path).is_file():
            return report.missing
    except PhotoPathOutsideError:
        return report.outside
    except PhotoFileMissingError:
        return report.missing
    except PhotoFileChangedError:
        return report.changed
    return None


def _age(path: Path, now: float) -> float:
    try:
        return now - path.lstat().st_mtime
    except FileNotFoundError:
        return 0.0


def _delete_orphans(
    database: Database, photo_store: PhotoStore, orphans: list[str], grace: timedelta
) -> list[str]:
    """Delete the orphans still old and still unnamed when their turn comes: a new
    upload of the same photo makes its file young again (``PhotoStore.put``) and names it."""
    deleted = []
    for name in orphans:
        path = photo_store.locate(name)
        if _age(path, time.time()) < grace.total_seconds():
            continue
        with database.session() as session:
            uses = session.scalar(
                select(func.count()).select_from(Photo).where(Photo.stored_path == name)
            )
        if not uses and photo_store.delete(name):
            deleted.append(name)
    return deleted


def _repoint(database: Database, photo_store: PhotoStore, outside: list[int]) -> dict[int, str]:
    """Point rows whose path leads outside the folder at this store's own file of the
    same photo, where there is one; the outside path is never read. Returns each
    re-pointed photo's new stored path."""
    repointed: dict[int, str] = {}
    with database.session() as session:
        for photo_id in outside:
            photo = session.get_one(Photo, photo_id)
            suffix = PurePosixPath(photo.stored_path).suffix
            own = photo_store.name_for(photo.sha256, suffix)
            try:
                if file_sha256(photo_store.locate(own)) != photo.sha256:
                    continue
            except (FileNotFoundError, PhotoPathOutsideError):
                continue
            session.execute(update(Photo).where(Photo.id == photo_id).values(stored_path=own))
            repointed[photo_id] = own
    return repointed
