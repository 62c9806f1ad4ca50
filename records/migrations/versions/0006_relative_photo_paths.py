"""photos: stored paths relative to the store's photo folder

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-05 10:00:00

A photo row used to keep its file's absolute path, so a copied or restored store named
(and, erasing, deleted) the original store's files. Paths under the photo folder become
relative to it (``ab/ab12….jpg``). A path outside the folder is left as it is: nothing
reads or deletes it any more, and ``xunqin doctor`` reports it (and, with ``--fix``,
points it at this store's own copy of the same photo when there is one).

The photo folder comes from ``Database.upgrade(photos_dir=...)``, which the services
pass from ``XUNQIN_HOME``; without it a store holding absolute paths is refused, not
half-migrated.
"""

import os
from collections.abc import Callable
from pathlib import Path, PurePosixPath

from alembic import context, op
import sqlalchemy as sa


revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

_photos = sa.table("photos", sa.column("id", sa.Integer), sa.column("stored_path", sa.String))
_BATCH = 1000


def _photos_dir(needed: bool) -> Path | None:
    photos_dir = context.config.attributes.get("photos_dir")
    if photos_dir is None and needed:
        raise RuntimeError(
            "photo paths need the store's photo folder to be migrated: upgrade through "
            "xunqin (which reads XUNQIN_HOME), e.g. `xunqin doctor`"
        )
    return None if photos_dir is None else Path(photos_dir)


def _rewrite(rows: list[tuple[int, str]], new_path: Callable[[str], str | None]) -> None:
    changes = [{"photo_id": pid, "path": new} for pid, old in rows
               if (new := new_path(old)) is not None]  # fmt: skip
    statement = (
        _photos.update()
        .where(_photos.c.id == sa.bindparam("photo_id"))
        .values(stored_path=sa.bindparam("path"))
    )
    for start in range(0, len(changes), _BATCH):
        op.get_bind().execute(statement, changes[start : start + _BATCH])


def _rows(absolute: bool) -> list[tuple[int, str]]:
    starts_with_slash = _photos.c.stored_path.like("/%")
    query = sa.select(_photos.c.id, _photos.c.stored_path).where(
        starts_with_slash if absolute else sa.not_(starts_with_slash)
    )
    return [(pid, path) for pid, path in op.get_bind().execute(query)]


def upgrade() -> None:
    rows = _rows(absolute=True)
    photos_dir = _photos_dir(bool(rows))
    if photos_dir is None:
        return
    # The folder as the settings name it and as it resolves: the paths were made from
    # a resolved home, and the home may since be reached through a symbolic link.
    roots = {os.path.normpath(photos_dir), os.path.normpath(os.path.realpath(photos_dir))}

    def relative(path: str) -> str | None:
        normal = os.path.normpath(path)
        for root in roots:
            if normal.startswith(root + os.sep):
                return Path(normal).relative_to(root).as_posix()
        return None

    _rewrite(rows, relative)


def downgrade() -> None:
    rows = _rows(absolute=False)
    photos_dir = _photos_dir(bool(rows))
    if photos_dir is None:
        return
    root = Path(os.path.realpath(photos_dir))
    _rewrite(rows, lambda path: str(root / PurePosixPath(path)))
