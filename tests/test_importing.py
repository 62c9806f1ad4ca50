"""Reading import files: formats, line numbers of bad rows, photo paths."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

from records import DatePrecision, InvalidRecordError, Sex, importing
from records.importing import (
    ParsedRow,
    RowError,
    _check_utf8,
    parse_date,
    parse_sex,
    read_import_file,
)
from records.inputs import FoundFields, MissingFields
from records.sheet_limits import MAX_CELL_CHARS, find_long_csv_cell


def _write_jsonl(path: Path, rows: list[object]) -> Path:
    path.write_text(
        "".join((r if isinstance(r, str) else json.dumps(r, ensure_ascii=False)) + "\n"
                for r in rows),
        encoding="utf-8",
    )  # fmt: skip
    return path


@pytest.mark.parametrize(
    ("value", "expected"),
    [("M", Sex.MALE), ("f", Sex.FEMALE), ("男", Sex.MALE), ("女", Sex.FEMALE), ("", Sex.UNKNOWN),
     (None, Sex.UNKNOWN), ("female", Sex.FEMALE)],
)  # fmt: skip
def test_sex_accepts_letters_and_characters(value: object, expected: Sex) -> None:
    assert parse_sex(value) is expected


def test_unknown_sex_is_an_error() -> None:
    with pytest.raises(InvalidRecordError, match="sex"):
        parse_sex("X")


@pytest.mark.parametrize(
    ("text", "expected", "precision"),
    [
        ("2024-05-01", date(2024, 5, 1), DatePrecision.DAY),
        ("2024/5/1", date(2024, 5, 1), DatePrecision.DAY),
        ("2024年5月1日", date(2024, 5, 1), DatePrecision.DAY),
        ("1990-06", date(1990, 6, 1), DatePrecision.MONTH),
        ("1990", date(1990, 1, 1), DatePrecision.YEAR),
        ("", None, DatePrecision.UNKNOWN),
    ],
)
def test_dates_in_the_forms_people_write(
    text: str, expected: date | None, precision: DatePrecision
) -> None:
    assert parse_date(text, "d") == (expected, precision)


def test_jsonl_rows_parse_and_bad_rows_keep_their_line_numbers(tmp_path: Path) -> None:
    (tmp_path / "photos").mkdir()
    path = _write_jsonl(
        tmp_path / "missing.jsonl",
        [
            {"ref": "M1", "name": "刘建华", "aliases": ["阿华"], "sex": "男", "birth_year": 1962,
             "photos": [{"path": "photos/a.jpg", "taken_year": 2010}, {"path": "/abs/b.jpg",
                                                                     "age": 30}]},
            "{not json",
            {"ref": "M2", "sex": "Q"},
            {"ref": "M3", "birth_date": "1970-02-30"},
            "",
            {"ref": "M4", "name": "王伟", "height_cm": "172", "features": "聋哑;左手缺指"},
            {"ref": "M5", "colour": "red"},
            [1, 2],
        ],
    )  # fmt: skip
    items = list(read_import_file(path, "missing"))
    good = [i for i in items if isinstance(i, ParsedRow)]
    bad = [i for i in items if isinstance(i, RowError)]
    assert [g.line for g in good] == [1, 6]
    assert [b.line for b in bad] == [2, 3, 4, 7, 8]
    assert "sex" in bad[1].message and "colour" in bad[3].message
    first = good[0].fields
    assert isinstance(first, MissingFields)
    assert first.aliases == ("阿华",) and first.sex is Sex.MALE
    assert good[0].photos[0].path == tmp_path.resolve() / "photos/a.jpg"
    assert good[0].photos[0].taken_year == 2010
    assert good[0].photos[1].path == Path("/abs/b.jpg") and good[0].photos[1].age == 30
    second = good[1].fields
    assert isinstance(second, MissingFields)
    assert second.height_cm == 172.0 and second.features == ("聋哑", "左手缺指")


def test_csv_with_byte_order_mark_and_semicolon_photos(tmp_path: Path) -> None:
    path = tmp_path / "found.csv"
    path.write_text(
        "ref,name,aliases,sex,age_min,age_max,found_date,found_place,accent,height_cm,"
        "features,photos\n"
        "F1,牛建华,,男,58,66,2024-05-11,西安,四川口音,168,聋哑,a.jpg;b.jpg\n"
        "F2,,,女,80,70,2024-05-11,,,,,\n"
        'F3,阿明,"明明,小明",M,,,,,,,,\n',
        encoding="utf-8-sig",
    )
    items = list(read_import_file(path, "found"))
    assert isinstance(items[0], ParsedRow) and isinstance(items[0].fields, FoundFields)
    assert items[0].line == 2
    assert [p.path.name for p in items[0].photos] == ["a.jpg", "b.jpg"]
    assert items[0].fields.accent == "四川口音"
    assert isinstance(items[1], RowError) and items[1].line == 3
    assert "age_min" in items[1].message
    assert isinstance(items[2], ParsedRow) and items[2].fields.aliases == ("明明", "小明")


def test_unreadable_files_are_refused_whole(tmp_path: Path) -> None:
    with pytest.raises(InvalidRecordError, match="no such file"):
        list(read_import_file(tmp_path / "missing.jsonl", "missing"))
    other = tmp_path / "rows.xlsx"
    other.write_bytes(b"PK")
    with pytest.raises(InvalidRecordError, match="jsonl or .csv"):
        list(read_import_file(other, "missing"))
    latin = tmp_path / "latin.jsonl"
    latin.write_bytes('{"ref": "M1", "name": "刘"}\n'.encode("gb18030"))
    with pytest.raises(InvalidRecordError, match="UTF-8"):
        list(read_import_file(latin, "missing"))


def test_a_bad_byte_half_way_refuses_the_file_before_any_row(tmp_path: Path) -> None:
    path = tmp_path / "missing.jsonl"
    good = '{"ref": "M%d", "name": "刘建华"}\n'
    path.write_bytes((good % 1 + good % 2).encode() + '{"ref": "M3", "name": "王"}\n'.encode("gbk"))
    rows = read_import_file(path, "missing")
    with pytest.raises(InvalidRecordError, match="line 3") as caught:
        next(rows)  # not one row comes out to be stored
    assert "nothing was imported" in str(caught.value)
    # Characters split across the reading's chunks are whole UTF-8, not errors.
    path.write_bytes((good % 1 + good % 2).encode())
    _check_utf8(path, chunk_bytes=1)


def test_a_name_the_station_gave_is_marked_in_either_format(tmp_path: Path) -> None:
    path = tmp_path / "found.csv"
    path.write_text(
        "ref,name,name_assigned\nF1,党新民,是\nF2,刘建华,\nF3,国庆,maybe\nF4,,yes\nF5,民强,TRUE\n",
        encoding="utf-8",
    )
    items = list(read_import_file(path, "found"))
    flags = {i.fields.ref: i.fields.name_assigned for i in items if isinstance(i, ParsedRow)}
    assert flags == {"F1": True, "F2": False, "F5": True}
    errors = {i.line: i.message for i in items if isinstance(i, RowError)}
    assert "maybe" in errors[4] and "name_assigned" in errors[5]
    jsonl = _write_jsonl(
        tmp_path / "found.jsonl", [{"ref": "F6", "name": "党新", "name_assigned": True}]
    )
    (row,) = list(read_import_file(jsonl, "found"))
    assert isinstance(row, ParsedRow) and isinstance(row.fields, FoundFields)
    assert row.fields.name_assigned


def test_a_record_without_the_mark_keeps_the_digest_it_had_before_the_mark_existed() -> None:
    # Computed by the code before the mark existed: an unchanged re-import after the
    # upgrade is still recognised as unchanged.
    plain = FoundFields(ref="F1", name="刘建华")
    assert plain.content_hash() == (
        "84189a0e2d730a4f15fcd4154916071765700f0ebf5b36de8ebc166fc71aaaba"
    )
    marked = FoundFields(ref="F1", name="刘建华", name_assigned=True)
    assert marked.content_hash() != plain.content_hash()


@pytest.mark.parametrize("size", [MAX_CELL_CHARS + 1, 10 * 1024 * 1024])
def test_a_csv_cell_over_the_limit_refuses_the_file_naming_its_line_and_field(
    tmp_path: Path, size: int
) -> None:
    path = tmp_path / "found.csv"
    # The long cell is quoted and spans lines, as a pasted note would.
    body = "".join(f"F{n},王{n},\n" for n in range(1, 300))
    path.write_text(f'ref,name,features\n{body}F300,刘,"a\nb{"x" * size}"\nF301,赵,\n')
    if size > 131072:  # past the csv module's own limit: the file is refused whole
        with pytest.raises(InvalidRecordError) as caught:
            list(read_import_file(path, "found"))
        assert "line 301: features: longer than 16384 characters" in str(caught.value)
        return
    items = list(read_import_file(path, "found"))
    errors = [i for i in items if isinstance(i, RowError)]
    assert [(e.line, e.message) for e in errors] == [
        (302, "features: longer than 16384 characters")
    ]


@pytest.mark.parametrize("size", [MAX_CELL_CHARS + 1, 10 * 1024 * 1024])
def test_a_jsonl_value_over_the_limit_is_a_bad_row_naming_its_field(
    tmp_path: Path, size: int
) -> None:
    path = _write_jsonl(
        tmp_path / "missing.jsonl",
        [{"ref": "M1"}, {"ref": "M2", "health": ["x" * size]}, {"ref": "M3"}, {"x" * 65: 1}],
    )
    items = list(read_import_file(path, "missing"))
    assert [(i.line, i.message) for i in items if isinstance(i, RowError)] == [
        (2, "health: longer than 16384 characters"),
        (4, "a field name longer than 64 characters"),
    ]
    assert [i.line for i in items if isinstance(i, ParsedRow)] == [1, 3]


def test_a_jsonl_line_without_end_is_read_a_bounded_piece_at_a_time(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(importing, "MAX_LINE_CHARS", 100)
    path = _write_jsonl(
        tmp_path / "missing.jsonl", [{"ref": "M1", "name": "x" * 500}, {"ref": "M2"}]
    )
    items = list(read_import_file(path, "missing"))
    assert isinstance(items[0], RowError) and items[0].message == "longer than 100 characters"
    assert isinstance(items[1], ParsedRow) and items[1].line == 2


def test_a_long_csv_cell_is_found_with_quotes_commas_and_line_breaks_around_it(
    tmp_path: Path,
) -> None:
    path = tmp_path / "rows.csv"
    path.write_text(
        'a,b,c\r\n1,"x,""y""\r\nz",3\r\n4,5,' + "q" * (MAX_CELL_CHARS + 1) + "\r\n",
        encoding="utf-8-sig",
    )
    assert find_long_csv_cell(path) == (4, 3)
    path.write_text("a,b\n1,2\n", encoding="utf-8")
    assert find_long_csv_cell(path) is None


def test_a_nul_character_in_any_cell_is_a_bad_row_naming_its_field(tmp_path: Path) -> None:
    # PostgreSQL refuses NUL in text: it is refused at the sheet, by its line and field.
    path = _write_jsonl(
        tmp_path / "missing.jsonl",
        [{"ref": "M1", "name": "刘\x00建华"}, {"ref": "M2", "features": ["ok", "a\x00"]},
         {"ref": "M3"}],
    )  # fmt: skip
    items = list(read_import_file(path, "missing"))
    assert [(i.line, i.message) for i in items if isinstance(i, RowError)] == [
        (1, "name: holds a NUL character"),
        (2, "features: holds a NUL character"),
    ]
    csv_path = tmp_path / "found.csv"
    csv_path.write_text("ref,name\nF1,阿\x00明\nF2,阿明\n", encoding="utf-8")
    items = list(read_import_file(csv_path, "found"))
    assert [(i.line, i.message) for i in items if isinstance(i, RowError)] == [
        (2, "name: holds a NUL character")
    ]
