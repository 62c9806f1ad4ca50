"""A small, hand-written demo set: real face photos and records that show the hard cases.

True pairs carry the name troubles stations meet (a Sichuan n/l, 付贵 as 胡奎, 黄/王 in
Shanghai speech, 单 read Shan, a 小名, homophones, a given name only); other records
have no counterpart, as most do in life. Faces come from the face_recognition source
distribution's test photos and, when present, from the development photo folder; they are
copied beside the sheets, as a station sends them (an import reads no photo outside the
sheet's folder).
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

# (report name, report aliases, sex, birth year, hometown, dialect, missing date,
#  missing place, found name, found aliases, accent, age range, found date, found place)
_TRUE_PAIRS: list[tuple[Any, ...]] = [
    ("刘建华", [], "M", 1962, "四川省南充市", "四川话", "2023-03-02", "四川省成都市",
     "牛建华", [], "四川口音", (58, 66), "2024-05-11", "陕西省西安市"),
    ("付贵", [], "M", 1986, "重庆市", "重庆话", "1990-06-01", "重庆市",
     "胡奎", [], "四川口音", (28, 36), "2017-04-20", "福建省泉州市"),
    ("黄秀英", [], "F", 1948, "上海市", "上海话", "2024-08-15", "上海市浦东新区",
     "王秀英", [], "上海话", (70, 80), "2024-08-19", "江苏省苏州市"),
    ("单志强", [], "M", 1975, "山东省菏泽市", "山东话", "2019-10-01", "山东省济南市",
     "Shan Zhiqiang", [], None, (40, 50), "2022-02-14", "河北省石家庄市"),
    ("李明", ["明明"], "M", 2008, "湖南省邵阳市", "湖南话", "2013-07-09", "广东省东莞市",
     "阿明", [], "湖南口音", (14, 18), "2024-01-05", "广东省广州市"),
    ("张丽", [], "F", 1990, "河南省周口市", "河南话", "2021-04-03", "河南省郑州市",
     "张莉", [], "河南口音", (28, 35), "2022-09-30", "湖北省武汉市"),
    ("陈国栋", ["二娃"], "M", 1970, "贵州省毕节市", "贵州话", "2016-05-20", "浙江省宁波市",
     "国栋", [], None, (45, 55), "2023-06-12", "浙江省杭州市"),
    ("周淑芬", [], "F", 1952, "辽宁省沈阳市", "东北话", "2024-02-01", "辽宁省沈阳市",
     "周淑芬", [], "东北口音", (68, 75), "2024-02-06", "辽宁省沈阳市"),
]  # fmt: skip

_LONE_REPORTS = [
    ("王伟", "M", 1980, "江苏省徐州市"), ("杨秀兰", "F", 1945, "安徽省阜阳市"),
    ("赵磊", "M", 1995, "黑龙江省哈尔滨市"), ("吴桂英", "F", 1950, "浙江省温州市"),
    ("孙浩", "M", 2010, "广西壮族自治区南宁市"), ("马建国", "M", 1958, "甘肃省兰州市"),
    ("林美玲", "F", 1985, "福建省福州市"), ("郭强", "M", 1977, "山西省太原市"),
]  # fmt: skip

_LONE_FOUND = [
    (None, "F", (60, 70), "四川口音"), ("老三", "M", (35, 45), None),
    ("何平", "M", (50, 60), "湖北口音"), (None, "M", (10, 14), None),
    ("罗秀珍", "F", (70, 80), "江西口音"), ("小红", "F", (20, 28), "云南口音"),
]  # fmt: skip


@dataclass(frozen=True)
class DemoSet:
    """Where the demo files were written, and what they hold."""

    missing_file: Path
    found_file: Path
    true_pairs: list[tuple[str, str]]
    photo_identities: int


def photo_identities(folders: list[Path], *, min_photos: int = 2) -> list[list[Path]]:
    """Identities with at least ``min_photos`` photos, from ``<identity>/<photo>`` folders.

    The face_recognition test images are a flat folder; their identity is the name's
    prefix (obama.jpg, obama2.jpg, ...).
    """
    identities: list[list[Path]] = []
    for folder in folders:
        if not folder.is_dir():
            continue
        flat = sorted(p for p in folder.iterdir() if p.suffix.lower() in {".jpg", ".jpeg", ".png"})
        groups: dict[str, list[Path]] = {}
        for photo in flat:
            stem = photo.stem.rstrip("0123456789").split("_")[0]
            groups.setdefault(stem, []).append(photo)
        for sub in sorted(p for p in folder.iterdir() if p.is_dir()):
            if sub.name.startswith("_"):
                continue
            photos = sorted(
                p for p in sub.iterdir() if p.suffix.lower() in {".jpg", ".jpeg", ".png"}
            )
            groups[f"{folder.name}/{sub.name}"] = photos
        identities.extend(photos for photos in groups.values() if len(photos) >= min_photos)
    return identities


def _copied(photo: Path, out_dir: Path, ref: str) -> str:
    """Copy a photo into the demo's photo folder; its path as the sheet names it."""
    target = out_dir / "photos" / f"{ref}{photo.suffix.lower()}"
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(photo, target)
    return str(target.relative_to(out_dir))


def build_demo_set(out_dir: Path, photo_folders: list[Path]) -> DemoSet:
    """Write ``missing.jsonl`` and ``found.jsonl`` for the demo into ``out_dir``."""
    out_dir.mkdir(parents=True, exist_ok=True)
    identities = photo_identities(photo_folders)
    missing: list[dict[str, object]] = []
    found: list[dict[str, object]] = []
    pairs = []
    for number, row in enumerate(_TRUE_PAIRS, start=1):
        (name, aliases, sex, birth, hometown, dialect, m_date, m_place,
         f_name, f_aliases, accent, ages, f_date, f_place) = row  # fmt: skip
        m_ref, f_ref = f"DEMO-M{number:03d}", f"DEMO-F{number:03d}"
        photos: tuple[list[dict[str, object]], list[dict[str, object]]] = ([], [])
        if number <= len(identities):
            first, second = identities[number - 1][:2]
            photos = ([{"path": _copied(first, out_dir, m_ref),
                        "taken_year": int(str(m_date)[:4]) - 1}],
                      [{"path": _copied(second, out_dir, f_ref),
                        "taken_year": int(str(f_date)[:4])}])  # fmt: skip
        missing.append({
            "ref": m_ref, "name": name, "aliases": aliases, "sex": sex, "birth_year": birth,
            "missing_date": m_date, "missing_place": m_place, "hometown": hometown,
            "dialect": dialect, "photos": photos[0],
        })  # fmt: skip
        found.append({
            "ref": f_ref, "name": f_name, "aliases": f_aliases, "sex": sex,
            "age_min": ages[0], "age_max": ages[1], "found_date": f_date,
            "found_place": f_place, "accent": accent, "photos": photos[1],
        })  # fmt: skip
        pairs.append((m_ref, f_ref))
    spare = identities[len(_TRUE_PAIRS) :]
    for number, (name, sex, birth, hometown) in enumerate(_LONE_REPORTS, start=1):
        ref = f"DEMO-M{100 + number:03d}"
        photos_m = [{"path": _copied(spare.pop(0)[0], out_dir, ref)}] if spare else []
        missing.append({
            "ref": ref, "name": name, "sex": sex, "birth_year": birth,
            "hometown": hometown, "missing_date": "2022-01-01", "photos": photos_m,
        })  # fmt: skip
    for number, (stated, sex, ages, accent) in enumerate(_LONE_FOUND, start=1):
        ref = f"DEMO-F{100 + number:03d}"
        photos_f = [{"path": _copied(spare.pop(0)[1], out_dir, ref)}] if spare else []
        found.append({
            "ref": ref, "name": stated, "sex": sex, "age_min": ages[0],
            "age_max": ages[1], "found_date": "2024-06-01", "accent": accent, "photos": photos_f,
        })  # fmt: skip
    missing_file, found_file = out_dir / "missing.jsonl", out_dir / "found.jsonl"
    for path, rows in ((missing_file, missing), (found_file, found)):
        path.write_text(
            "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8"
        )
    return DemoSet(missing_file, found_file, pairs, min(len(identities), len(_TRUE_PAIRS)))
