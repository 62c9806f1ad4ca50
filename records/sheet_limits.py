"""How large a cell of an import sheet may be, and finding the CSV cell that is larger.

No field of a record needs more than a few hundred characters (names 64, places 200); a
list of features or photos a few thousand. A cell of more than ``MAX_CELL_CHARS`` is a
mistake or an attack, and is refused by its line and field before anything is stored.

A JSONL line is read at most ``MAX_LINE_CHARS`` at a time, so a line without end cannot
fill memory; a longer line is refused by its line alone (its fields are not parsed). The
``csv`` module gives up on a cell longer than its own limit (131,072 characters) without
saying which: ``find_long_csv_cell`` reads the file again, a chunk at a time, to name it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from pathlib import Path

from records.errors import InvalidRecordError

MAX_CELL_CHARS = 16_384
"""The longest a cell (a CSV cell, or a JSONL value written as JSON) may be."""

MAX_LINE_CHARS = 16 * 1024 * 1024
"""The longest a JSONL line, or a physical line of a CSV file, may be."""

MAX_FIELD_NAME_CHARS = 64
"""The longest a column's or a JSON key's name may be (the real ones are far shorter)."""

_CSV_TOKEN = re.compile(r'[^",\r\n]+|[",\r\n]')
_CHUNK_CHARS = 1 << 16


def check_cells(row: Mapping[str, object]) -> None:
    """Raise ``InvalidRecordError`` naming the first field name or value that is too long,
    or that holds a NUL character (PostgreSQL refuses it in text, and no name has one)."""
    for name, value in row.items():
        if len(str(name)) > MAX_FIELD_NAME_CHARS:
            raise InvalidRecordError(f"a field name longer than {MAX_FIELD_NAME_CHARS} characters")
        if _has_nul(name):
            raise InvalidRecordError("a field name holds a NUL character")
        if value is None:
            continue
        text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
        if len(text) > MAX_CELL_CHARS:
            raise InvalidRecordError(f"longer than {MAX_CELL_CHARS} characters", field=name)
        if _has_nul(value):
            raise InvalidRecordError("holds a NUL character", field=name)


def _has_nul(value: object) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, Mapping):
        return any(_has_nul(k) or _has_nul(v) for k, v in value.items())
    if isinstance(value, list | tuple):
        return any(_has_nul(item) for item in value)
    return False


def find_long_csv_cell(path: Path) -> tuple[int, int] | None:
    """``(line, column)`` (both from 1) where the first cell longer than ``MAX_CELL_CHARS``
    starts, reading ``path`` as CSV with double quotes; None if there is none.

    Memory stays at one chunk whatever the file holds.
    """
    line, column, cell_line, length, quoted = 1, 1, 1, 0, False
    with path.open(encoding="utf-8-sig", newline="") as handle:
        while chunk := handle.read(_CHUNK_CHARS):
            for match in _CSV_TOKEN.finditer(chunk):
                token = match.group()
                if token == '"':
                    quoted = not quoted  # a doubled quote inside quotes toggles twice
                    continue
                if token == "\n":
                    line += 1
                if not quoted and token in ",\r\n":
                    if token == ",":
                        column, cell_line, length = column + 1, line, 0
                    elif token == "\n":
                        column, cell_line, length = 1, line, 0
                    continue
                length += len(token)
                if length > MAX_CELL_CHARS:
                    return cell_line, column
    return None
