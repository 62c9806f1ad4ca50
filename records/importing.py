"""Reading import files (JSONL or CSV, UTF-8) into validated field sets.

Each row is parsed on its own: a bad row becomes a ``RowError`` with its line number and
the reading goes on. A relative photo path is taken from the photos folder (the file's
own folder unless another is given); whether a photo may be read at all is
``records.photo_files``'s to say. No cell may be longer than ``sheet_limits.MAX_CELL_CHARS``.
"""

from __future__ import annotations

import codecs
import csv
import json
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any, Literal, TextIO

from records.enums import DatePrecision, Sex
from records.errors import InvalidRecordError
from records.inputs import FoundFields, MissingFields, PhotoRef
from records.sheet_limits import (
    MAX_CELL_CHARS,
    MAX_FIELD_NAME_CHARS,
    MAX_LINE_CHARS,
    check_cells,
    find_long_csv_cell,
)

Kind = Literal["missing", "found"]

_SEX = {
    "m": Sex.MALE,
    "male": Sex.MALE,
    "男": Sex.MALE,
    "f": Sex.FEMALE,
    "female": Sex.FEMALE,
    "女": Sex.FEMALE,
    "u": Sex.UNKNOWN,
    "unknown": Sex.UNKNOWN,
    "不详": Sex.UNKNOWN,
    "未知": Sex.UNKNOWN,
}
_LIST_SPLIT = re.compile(r"[;；,，、|]")
_DATE = re.compile(r"^(\d{4})(?:[-/.年](\d{1,2})(?:[-/.月](\d{1,2})日?)?月?)?$")


@dataclass(frozen=True)
class ParsedRow:
    """One good row: its line, the fields and the photos it names."""

    line: int
    fields: MissingFields | FoundFields
    photos: tuple[PhotoRef, ...]


@dataclass(frozen=True)
class RowError:
    """One bad row: its line and what is wrong with it."""

    line: int
    message: str


def parse_sex(value: object) -> Sex:
    """M/F, 男/女, male/female (any case); empty means unknown."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return Sex.UNKNOWN
    try:
        return _SEX[str(value).strip().lower()]
    except KeyError:
        raise InvalidRecordError(f"{value!r} is not M, F, 男 or 女", field="sex") from None


def parse_date(value: object, field: str) -> tuple[date | None, DatePrecision]:
    """A date as YYYY-MM-DD (also / . or 年月日); a bare year or year-month is allowed."""
    text = _text(value)
    if text is None:
        return None, DatePrecision.UNKNOWN
    match = _DATE.match(text)
    if match is None:
        raise InvalidRecordError(f"{text!r} is not a date like 2024-05-01", field=field)
    year, month, day = match.group(1), match.group(2), match.group(3)
    try:
        parsed = date(int(year), int(month or 1), int(day or 1))
    except ValueError as err:
        raise InvalidRecordError(f"{text!r}: {err}", field=field) from err
    precision = DatePrecision.DAY if day else DatePrecision.MONTH if month else DatePrecision.YEAR
    return parsed, precision


def _text(value: object) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def _number(value: object, field: str, convert: Callable[[str], Any]) -> Any:
    text = _text(value)
    if text is None:
        return None
    try:
        return convert(text)
    except ValueError:
        raise InvalidRecordError(f"{text!r} is not a number", field=field) from None


def _int(value: object, field: str) -> int | None:
    result = _number(value, field, lambda t: int(float(t)) if float(t).is_integer() else int(t))
    return None if result is None else int(result)


def _float(value: object, field: str) -> float | None:
    result = _number(value, field, float)
    return None if result is None else float(result)


_TRUE = frozenset({"true", "yes", "y", "1", "是"})
_FALSE = frozenset({"false", "no", "n", "0", "否"})


def _flag(value: object, field: str) -> bool:
    """A yes/no cell; empty is no."""
    if isinstance(value, bool):
        return value
    text = _text(value)
    if text is None or text.lower() in _FALSE:
        return False
    if text.lower() in _TRUE:
        return True
    raise InvalidRecordError(f"{text!r} is not yes or no", field=field)


def _list(value: object, field: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, list | tuple):
        items = [_text(v) for v in value]
    elif isinstance(value, str):
        stripped = value.strip()
        if stripped.startswith("["):
            try:
                return _list(json.loads(stripped), field)
            except json.JSONDecodeError as err:
                raise InvalidRecordError(f"not a JSON list: {err.msg}", field=field) from err
        items = [_text(v) for v in _LIST_SPLIT.split(stripped)]
    else:
        raise InvalidRecordError(f"{value!r} is not a list", field=field)
    return tuple(item for item in items if item)


def _photos(value: object, base_dir: Path) -> tuple[PhotoRef, ...]:
    if value is None or value == "":
        return ()
    entries: list[object]
    if isinstance(value, str):
        stripped = value.strip()
        if stripped.startswith("["):
            try:
                entries = list(json.loads(stripped))
            except json.JSONDecodeError as err:
                raise InvalidRecordError(f"not a JSON list: {err.msg}", field="photos") from err
        else:
            entries = [p for p in (s.strip() for s in stripped.split(";")) if p]
    elif isinstance(value, list):
        entries = value
    else:
        raise InvalidRecordError(f"{value!r} is not a list of photos", field="photos")
    photos = []
    for entry in entries:
        if isinstance(entry, str):
            entry = {"path": entry}
        if not isinstance(entry, Mapping) or not _text(entry.get("path")):
            raise InvalidRecordError(f"{entry!r} has no path", field="photos")
        # No ~ expansion: a sheet from another station has no business with our home.
        path = Path(str(entry["path"]).strip())
        taken_date, _ = parse_date(entry.get("taken_date"), "photos.taken_date")
        photos.append(
            PhotoRef(
                path=path if path.is_absolute() else (base_dir / path),
                taken_year=_int(entry.get("taken_year"), "photos.taken_year"),
                taken_date=taken_date,
                age=_int(entry.get("age"), "photos.age"),
            )
        )
    return tuple(photos)


_MISSING_FIELDS = {
    "ref", "name", "aliases", "sex", "birth_year", "birth_date", "missing_date",
    "missing_place", "hometown", "dialect", "height_cm", "features", "health", "photos",
    "reporter_contact",
}  # fmt: skip
_FOUND_FIELDS = {
    "ref", "name", "aliases", "sex", "age_min", "age_max", "found_date", "found_place",
    "accent", "hometown", "height_cm", "features", "health", "photos", "station",
    "station_case_no", "name_assigned",
}  # fmt: skip


def _check_unknown(row: Mapping[str, object], known: set[str]) -> None:
    unknown = sorted(k for k in row if k not in known and not str(k).startswith("_"))
    if unknown:
        raise InvalidRecordError(f"unknown field(s) {', '.join(unknown)}")


def parse_missing(row: Mapping[str, object], base_dir: Path) -> ParsedRow:
    """A report row in the import format; ``line`` is filled in by the reader."""
    _check_unknown(row, _MISSING_FIELDS)
    birth_date, precision = parse_date(row.get("birth_date"), "birth_date")
    if precision is not DatePrecision.DAY and birth_date is not None:
        # A birth "date" of a bare year or year-month is a year with that precision.
        birth_year: int | None = birth_date.year
        birth_date = None
    else:
        birth_year = _int(row.get("birth_year"), "birth_year")
    if birth_year is not None and precision is DatePrecision.UNKNOWN:
        precision = DatePrecision.YEAR
    fields = MissingFields(
        ref=_text(row.get("ref")) or "",
        name=_text(row.get("name")),
        aliases=_list(row.get("aliases"), "aliases"),
        sex=parse_sex(row.get("sex")),
        birth_date=birth_date,
        birth_year=birth_year,
        birth_precision=precision,
        missing_date=parse_date(row.get("missing_date"), "missing_date")[0],
        missing_place=_text(row.get("missing_place")),
        hometown=_text(row.get("hometown")),
        dialect=_text(row.get("dialect")),
        height_cm=_float(row.get("height_cm"), "height_cm"),
        features=_list(row.get("features"), "features"),
        health=_list(row.get("health"), "health"),
        reporter_contact=_text(row.get("reporter_contact")),
    )
    return ParsedRow(0, fields, _photos(row.get("photos"), base_dir))


def parse_found(row: Mapping[str, object], base_dir: Path) -> ParsedRow:
    """A found-person row in the import format."""
    _check_unknown(row, _FOUND_FIELDS)
    fields = FoundFields(
        ref=_text(row.get("ref")) or "",
        name=_text(row.get("name")),
        aliases=_list(row.get("aliases"), "aliases"),
        sex=parse_sex(row.get("sex")),
        age_min=_int(row.get("age_min"), "age_min"),
        age_max=_int(row.get("age_max"), "age_max"),
        found_date=parse_date(row.get("found_date"), "found_date")[0],
        found_place=_text(row.get("found_place")),
        accent=_text(row.get("accent")),
        hometown=_text(row.get("hometown")),
        height_cm=_float(row.get("height_cm"), "height_cm"),
        features=_list(row.get("features"), "features"),
        health=_list(row.get("health"), "health"),
        station=_text(row.get("station")),
        station_case_no=_text(row.get("station_case_no")),
        name_assigned=_flag(row.get("name_assigned"), "name_assigned"),
    )
    return ParsedRow(0, fields, _photos(row.get("photos"), base_dir))


class _LineTooLongError(Exception):
    """A physical line longer than ``MAX_LINE_CHARS``; ``line`` counts from 1."""

    def __init__(self, line: int) -> None:
        super().__init__(line)
        self.line = line


def _bounded_lines(handle: TextIO) -> Iterator[str]:
    """The file's physical lines, none read whole beyond ``MAX_LINE_CHARS``."""
    number = 0
    while line := handle.readline(MAX_LINE_CHARS + 1):
        number += 1
        if len(line) > MAX_LINE_CHARS:
            raise _LineTooLongError(number)
        yield line


def _csv_rows(path: Path, handle: TextIO) -> Iterator[tuple[int, Mapping[str, object] | str]]:
    reader = csv.DictReader(_bounded_lines(handle))
    header: list[str] = []
    try:
        header = list(reader.fieldnames or [])
        if any(len(name) > MAX_FIELD_NAME_CHARS for name in header):
            raise InvalidRecordError(
                f"{path.name}: line 1: a column name longer than {MAX_FIELD_NAME_CHARS} "
                "characters; nothing was imported"
            )
        for row in reader:
            if None in row:
                yield reader.line_num, "more values than the header has columns"
                continue
            cells = {k.strip(): v for k, v in row.items() if k}
            try:
                check_cells(cells)
            except InvalidRecordError as err:
                yield reader.line_num, str(err)
                continue
            yield reader.line_num, cells
    except (csv.Error, _LineTooLongError) as err:
        # The csv module stops at a cell over its own limit without naming it, and what
        # follows cannot be read reliably: the file is refused as a whole.
        raise InvalidRecordError(_long_csv_cell(path, header)) from err


def _long_csv_cell(path: Path, header: list[str]) -> str:
    found = find_long_csv_cell(path)
    if found is None:
        return f"{path.name}: a line longer than {MAX_LINE_CHARS} characters; nothing was imported"
    line, column = found
    name = header[column - 1].strip() if column <= len(header) else f"column {column}"
    return (
        f"{path.name}: line {line}: {name}: longer than {MAX_CELL_CHARS} characters; "
        "nothing was imported"
    )


def _jsonl_rows(handle: TextIO) -> Iterator[tuple[int, Mapping[str, object] | str]]:
    number = 0
    while line := handle.readline(MAX_LINE_CHARS + 1):
        number += 1
        if len(line) > MAX_LINE_CHARS:
            while not line.endswith(("\n", "\r")) and (line := handle.readline(MAX_LINE_CHARS)):
                pass  # the rest of the line, a bounded piece at a time
            yield number, f"longer than {MAX_LINE_CHARS} characters"
            continue
        if not line.strip():
            continue
        try:
            value = json.loads(line)
        except json.JSONDecodeError as err:
            yield number, f"not valid JSON: {err.msg} (column {err.colno})"
            continue
        if not isinstance(value, dict):
            yield number, "a row must be a JSON object"
            continue
        try:
            check_cells(value)
        except InvalidRecordError as err:
            yield number, str(err)
            continue
        yield number, value


def _raw_rows(path: Path) -> Iterator[tuple[int, Mapping[str, object] | str]]:
    """``(line, row)`` for each data row, or ``(line, message)`` for one unreadable."""
    suffix = path.suffix.lower()
    if suffix not in {".csv", ".jsonl", ".ndjson", ".json"}:
        raise InvalidRecordError(f"{path.name}: expected a .jsonl or .csv file")
    # utf-8-sig: spreadsheets save CSV with a byte-order mark.
    with path.open(encoding="utf-8-sig", newline="") as handle:
        yield from _csv_rows(path, handle) if suffix == ".csv" else _jsonl_rows(handle)


def _check_utf8(path: Path, chunk_bytes: int = 1 << 20) -> None:
    """Refuse a file that is not UTF-8 throughout before any row of it is stored: a bad
    byte found half-way would leave half the file imported."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    lines = 1
    with path.open("rb") as handle:
        while True:
            chunk = handle.read(chunk_bytes)
            try:
                text = decoder.decode(chunk, final=not chunk)
            except UnicodeDecodeError as err:
                lines += chunk[: err.start].count(b"\n")
                raise InvalidRecordError(
                    f"{path.name}: not UTF-8 text at line {lines} ({err.reason}); "
                    "nothing was imported"
                ) from err
            lines += text.count("\n")
            if not chunk:
                return


def read_import_file(
    path: Path, kind: Kind, *, photos_dir: Path | None = None
) -> Iterator[ParsedRow | RowError]:
    """Every row of an import file, parsed, in file order.

    Relative photo paths are taken from ``photos_dir``, by default the file's folder.
    Raises ``InvalidRecordError`` only when the file as a whole cannot be read (missing,
    not UTF-8, unknown format, a CSV cell too long to parse); a bad row is yielded as a
    ``RowError``.
    """
    if not path.is_file():
        raise InvalidRecordError(f"{path}: no such file")
    _check_utf8(path)
    parse = parse_missing if kind == "missing" else parse_found
    base_dir = (photos_dir or path.parent).resolve()
    try:
        for line, raw in _raw_rows(path):
            if isinstance(raw, str):
                yield RowError(line, raw)
                continue
            try:
                parsed = parse(raw, base_dir)
            except InvalidRecordError as err:
                yield RowError(line, str(err))
                continue
            yield ParsedRow(line, parsed.fields, parsed.photos)
    except UnicodeDecodeError as err:
        raise InvalidRecordError(f"{path.name}: not UTF-8 text ({err.reason})") from err
