"""The ``xunqin`` command end to end, as separate processes on a fresh home."""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import select

from records import AuditEvent, Database, MissingReport

XUNQIN = [sys.executable, "-m", "api"]


def _run(home: Path, *args: str, ok: bool = True) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "XUNQIN_HOME": str(home)}
    env.pop("XUNQIN_DATABASE_URL", None)
    result = subprocess.run(
        [*XUNQIN, *args], capture_output=True, text=True, env=env, timeout=300, check=False
    )
    if ok:
        assert result.returncode == 0, result.stderr
    return result


@pytest.fixture
def import_files(tmp_path: Path, sample_photos: Path) -> tuple[Path, Path]:
    folder = tmp_path / "in"
    (folder / "photos").mkdir(parents=True)
    for name in ("obama.jpg", "biden.jpg", "obama2.jpg", "32bit.png"):
        shutil.copy(sample_photos / name, folder / "photos" / name)
    missing = folder / "missing.jsonl"
    rows = [
        {"ref": "M1", "name": "刘建华", "sex": "男", "birth_year": 1962, "hometown": "四川南充",
         "photos": [{"path": "photos/obama.jpg", "taken_year": 2015}]},
        {"ref": "M2", "name": "王芳", "sex": "F", "birth_year": 1990,
         "photos": [{"path": str(folder / "photos" / "biden.jpg")}]},
    ]  # fmt: skip
    missing.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows) + "\n")
    found = folder / "found.csv"
    found.write_text(
        "ref,name,aliases,sex,age_min,age_max,found_date,found_place,accent,height_cm,features,"
        "photos\n"
        "F1,牛建华,,男,58,66,2024-05-11,西安,四川口音,,,photos/obama2.jpg\n"
        "F2,,,女,30,40,2024-06-01,,,,,photos/32bit.png\n",
        encoding="utf-8",
    )
    return missing, found


def test_an_import_with_rejected_rows_stores_nothing_and_says_which(
    tmp_path: Path, import_files: tuple[Path, Path], sample_photos: Path
) -> None:
    home = tmp_path / "home"
    missing, _ = import_files
    with missing.open("a", encoding="utf-8") as handle:
        handle.write(json.dumps({"ref": "M3", "name": "张伟", "sex": "X"}) + "\n")
        handle.write(json.dumps({"ref": "M4", "photos": ["gone.jpg"]}) + "\n")
        handle.write(json.dumps({"ref": "M5", "photos": [str(sample_photos / "obama3.jpg")]}))
    refused = _run(home, "import", "--kind", "missing", str(missing), ok=False)
    assert refused.returncode == 1 and "Traceback" not in refused.stderr
    answer = json.loads(refused.stdout)
    assert answer["imported"] is False and answer["rows"] == 5
    assert [r["line"] for r in answer["rejected"]] == [3, 4, 5]
    assert answer["rejected"][1]["error"] == answer["rejected"][2]["error"]
    assert "line 3:" in refused.stderr and "sex" in refused.stderr
    assert "3 of 5 row(s) rejected; nothing was imported" in refused.stderr
    assert "gone.jpg" not in refused.stdout + refused.stderr
    database = Database(f"sqlite:///{home / 'xunqin.db'}")
    with database.session() as session:
        assert session.scalars(select(MissingReport)).all() == []
        (event,) = session.scalars(select(AuditEvent).where(AuditEvent.action.like("import%")))
        assert event.action == "import_refused" and event.detail["rejected"] == 3
    database.dispose()

    # The same photo is taken when the folder it is in is given.
    outside = tmp_path / "outside.jsonl"
    outside.write_text(json.dumps({"ref": "M5", "photos": ["obama3.jpg"]}) + "\n")
    taken = json.loads(_run(home, "import", "--kind", "missing", str(outside),
                            "--photos", str(sample_photos)).stdout)  # fmt: skip
    assert taken == {"imported": True, "rows": 1, "records": {"created": 1},
                     "photos": {"one_face": 1}}  # fmt: skip


def test_import_rematch_list_and_search(tmp_path: Path, import_files: tuple[Path, Path],
                                        sample_photos: Path) -> None:  # fmt: skip
    home = tmp_path / "home"
    missing, found = import_files
    first = _run(home, "import", "--kind", "missing", str(missing))
    summary = json.loads(first.stdout)
    assert summary["records"] == {"created": 2}
    assert summary["photos"] == {"one_face": 2}
    database = Database(f"sqlite:///{home / 'xunqin.db'}")
    with database.session() as session:
        imported = session.scalars(select(AuditEvent).where(AuditEvent.action == "import")).one()
        # Counts only: a photo's file name may be a person's name or ID number.
        assert imported.detail["photos"] == {"one_face": 2}
        assert "biden" not in json.dumps(imported.detail)
    database.dispose()

    again = json.loads(_run(home, "import", "--kind", "missing", str(missing)).stdout)
    assert again["records"] == {"unchanged": 2}
    assert again["photos"] == {"unchanged": 2}

    assert json.loads(_run(home, "import", "--kind", "found", str(found)).stdout)["records"] == {
        "created": 2
    }
    report = json.loads(_run(home, "rematch").stdout)
    assert report["reports"] == 2 and report["found_persons"] == 2
    assert report["kind"] == "full"
    # Nothing changed since: the next run scores nothing, and says so in Chinese first.
    again = _run(home, "rematch")
    assert json.loads(again.stdout)["kind"] == "incremental"
    assert "增量比对完成：评分 0 对" in again.stderr
    jobs = _run(home, "jobs", "--limit", "5")
    runs = [json.loads(line) for line in jobs.stdout.splitlines()]
    assert [(r["kind"], r["state"]) for r in runs] == [("incremental", "done"), ("full", "done")]
    assert "增量 已完成" in jobs.stderr

    rows = [json.loads(line) for line in _run(home, "candidates").stdout.splitlines()]
    assert rows, "candidates were stored"
    assert {"missing_ref", "found_ref", "score", "rank"} <= set(rows[0])
    best_for_f1 = min((r for r in rows if r["found_ref"] == "F1"), key=lambda r: r["rank"])
    assert best_for_f1["missing_ref"] == "M1" and best_for_f1["rank"] == 1
    scores = [r["score"] for r in rows]
    assert scores == sorted(scores, reverse=True)

    table = list(csv.DictReader(io.StringIO(_run(home, "candidates", "--format", "csv").stdout)))
    assert [(r["missing_ref"], r["found_ref"]) for r in table] == [
        (r["missing_ref"], r["found_ref"]) for r in rows
    ]

    explained = _run(home, "explain", str(best_for_f1["id"]), "--actor", "wang").stdout
    database = Database(f"sqlite:///{home / 'xunqin.db'}")
    with database.session() as session:
        reads = session.scalars(select(AuditEvent).where(AuditEvent.subject_kind == "candidate"))
        assert {(e.actor, e.action) for e in reads} == {("cli", "list"), ("wang", "read")}
    database.dispose()
    assert explained.startswith("M1 / F1  model ") and "  name " in explained
    assert "  total " in explained and "p=" in explained
    assert "  shared: " in explained and "(alone " in explained
    assert best_for_f1["shared"] and "(alone " in best_for_f1["shared"]
    # Two reports and two found persons: too few for the prior's sum to recalibrate by.
    assert "calibrated" not in explained and "prior expects" not in explained

    names = json.loads(_run(home, "search-name", "Liu Jianhua").stdout)
    assert names[0]["ref"] == "M1"

    photo = json.loads(_run(home, "search-photo", str(sample_photos / "obama3.jpg")).stdout)
    assert photo["hits"][0]["ref"] == "M1" and photo["hits"][0]["distance"] < 0.6
    assert 0 < photo["hits"][0]["probability"] < 1 and "likely" in photo["hits"][0]["summary"]
    assert photo["photo_year"] == date.today().year
    # M1 was born in 1962: an estimate around that age for the person in the photo agrees.
    age = date.today().year - 1962
    estimate = ("--age-min", str(age - 4), "--age-max", str(age + 4))
    aged = json.loads(_run(home, "search-photo", str(sample_photos / "obama3.jpg"),
                           *estimate).stdout)  # fmt: skip
    best = aged["hits"][0]
    assert best["ref"] == "M1" and best["probability"] > photo["hits"][0]["probability"]
    assert any(line.startswith("age: born 1962") for line in best["why"])
    backwards = _run(home, "search-photo", str(sample_photos / "obama3.jpg"),
                     "--age-min", "70", "--age-max", "60", ok=False)  # fmt: skip
    assert backwards.returncode == 1 and "age_min" in backwards.stderr

    several = _run(home, "search-photo", str(tmp_path / "nothing.jpg"), ok=False)
    assert several.returncode != 0 and "cannot read" in several.stderr

    # Every search leaves an audit line, with counts and which fields were given only.
    import sqlite3

    with sqlite3.connect(home / "xunqin.db") as db:
        lines = db.execute("SELECT actor, action, detail FROM audit_events "
                           "WHERE action LIKE 'search_%' ORDER BY id").fetchall()  # fmt: skip
    assert [(actor, action) for actor, action, _ in lines] == [
        ("cli", "search_name"), ("cli", "search_photo"), ("cli", "search_photo")
    ]  # fmt: skip
    assert json.loads(lines[2][2])["described"] == ["age_min", "age_max"]
    assert all("刘" not in detail and "Liu" not in detail for *_, detail in lines)


def test_bad_file_is_a_clear_error(tmp_path: Path) -> None:
    result = _run(tmp_path / "home", "import", "--kind", "missing", str(tmp_path / "x.jsonl"),
                  ok=False)  # fmt: skip
    assert result.returncode == 1
    assert "no such file" in result.stderr
    assert "Traceback" not in result.stderr


def test_search_photo_filters_and_closing_a_case(
    tmp_path: Path, import_files: tuple[Path, Path], sample_photos: Path
) -> None:
    home = tmp_path / "home"
    missing, _ = import_files
    _run(home, "import", "--kind", "missing", str(missing))
    query = str(sample_photos / "obama3.jpg")

    def refs(*args: str) -> list[str]:
        answer = json.loads(_run(home, "search-photo", query, *args).stdout)
        return [hit["ref"] for hit in answer["hits"]]

    assert refs() == ["M1", "M2"]
    assert refs("--hometown", "四川") == ["M1"]
    bad = _run(home, "search-photo", query, "--region", "大山里", ok=False)
    assert bad.returncode == 1 and "region" in bad.stderr and "Traceback" not in bad.stderr

    closed = json.loads(_run(home, "close", "M1", "--kind", "missing").stdout)
    assert closed == {"side": "missing", "ref": "M1", "status": "closed"}
    assert refs() == ["M2"]
    assert json.loads(_run(home, "reopen", "M1", "--kind", "missing").stdout)["status"] == "open"
    assert refs()[0] == "M1"

    # Erasing: without --yes only a list; a retention sweep takes closed cases.
    _run(home, "close", "M2", "--kind", "missing")
    listed = json.loads(_run(home, "erase", "--closed-days", "0").stdout)
    assert listed == {"side": "missing", "would_erase": ["M2"]}
    assert refs() == ["M1"], "nothing erased yet; M2 is closed"
    gone = json.loads(_run(home, "erase", "M1", "--closed-days", "0", "--yes").stdout)
    assert [e["ref"] for e in gone["erased"]] == ["M1", "M2"] and gone["not_found"] == []
    assert refs() == []
    again = _run(home, "erase", "M1", "--yes", ok=False)
    assert again.returncode == 1 and "no missing record M1" in again.stderr
    assert _run(home, "erase", ok=False).returncode == 1

    wrong = _run(home, "close", "M1", "--kind", "missing", "--status", "identified", ok=False)
    assert wrong.returncode == 1 and "reunited" in wrong.stderr
    unknown = _run(home, "close", "NOPE", "--kind", "found", ok=False)
    assert unknown.returncode == 1 and "NOPE" in unknown.stderr


def test_model_refit_says_when_too_few_pairs_teach_em(tmp_path: Path) -> None:
    home = tmp_path / "home"
    missing = tmp_path / "missing.jsonl"
    missing.write_text(
        json.dumps({"ref": "M1", "name": "覃振宇", "sex": "M", "birth_year": 1960},
                   ensure_ascii=False) + "\n", encoding="utf-8",
    )  # fmt: skip
    found = tmp_path / "found.jsonl"
    found.write_text(
        json.dumps({"ref": "F1", "name": "覃振宇", "sex": "M", "age_min": 60, "age_max": 66,
                    "found_date": "2024-05-11"}, ensure_ascii=False) + "\n", encoding="utf-8",
    )  # fmt: skip
    _run(home, "import", "--kind", "missing", str(missing))
    _run(home, "import", "--kind", "found", str(found))
    _run(home, "rematch")
    refit = _run(home, "model", "refit", "--random-pairs", "10")
    assert "m kept as it was: fewer than 50 undecided candidates agree on a rare name" in (
        refit.stderr.replace("\n", " ")
    )
    assert json.loads(refit.stdout)["em_pairs"] == 0
    assert (home / "model.json").is_file()


def test_users_and_a_server_that_will_not_trust_names_over_a_network(tmp_path: Path) -> None:
    home = tmp_path / "home"
    added = json.loads(_run(home, "user", "add", "李审核", "--role", "reviewer").stdout)
    assert added["role"] == "reviewer" and len(added["token"]) >= 40
    listed = [json.loads(line) for line in _run(home, "user", "list").stdout.splitlines()]
    assert listed[0]["name"] == "李审核" and "token" not in listed[0]
    assert _run(home, "user", "add", "李审核", "--role", "admin", ok=False).returncode == 1
    assert json.loads(_run(home, "user", "disable", "李审核").stdout)["disabled"] is True
    assert json.loads(_run(home, "user", "list").stdout)["disabled"] is True
    assert _run(home, "user", "token", "李审核", ok=False).returncode == 1, "still disabled"
    renewed = json.loads(_run(home, "user", "token", "李审核", "--enable").stdout)
    assert renewed["token"] != added["token"]
    assert json.loads(_run(home, "user", "list").stdout)["disabled"] is False
    refused = _run(home, "serve", "--host", "0.0.0.0", ok=False)
    assert refused.returncode == 1 and "XUNQIN_AUTH=tokens" in refused.stderr
