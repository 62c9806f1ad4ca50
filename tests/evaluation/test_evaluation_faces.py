"""Face supply and assignment: layouts, usable photos, one identity per person."""

from __future__ import annotations

import io
import os
from collections import defaultdict
from pathlib import Path

import pytest
from PIL import Image

from evaluation.face_supply import SAME_PERSON, load_face_identities, looks_like_image
from evaluation.population import Population, generate_population
from matching.evidence_model.face_curve_fit import CURVE_SETS, calibration_side

SHARED_FACES = Path(
    os.environ.get("XUNQIN_FACES_DIR", Path(__file__).resolve().parents[3] / "shared" / "faces")
)


def _image_bytes(fmt: str, shade: int) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (24, 24), (shade, 255 - shade, 90)).save(buffer, format=fmt)
    return buffer.getvalue()


def _write(path: Path, data: bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def test_looks_like_image(tmp_path: Path) -> None:
    jpeg = _image_bytes("JPEG", 10)
    png = _image_bytes("PNG", 20)
    assert looks_like_image(_write(tmp_path / "a.jpg", jpeg))
    assert looks_like_image(_write(tmp_path / "b.png", png))
    assert not looks_like_image(_write(tmp_path / "c.jpg", jpeg[: len(jpeg) // 2]))
    assert not looks_like_image(_write(tmp_path / "d.png", png[:-12]))
    assert not looks_like_image(_write(tmp_path / "e.jpg", b"not an image at all" * 10))
    assert not looks_like_image(_write(tmp_path / "f.jpg", b""))
    assert not looks_like_image(tmp_path / "missing.jpg")


def test_flat_layout(tmp_path: Path) -> None:
    for i in range(3):
        _write(tmp_path / "alice" / f"{i}.jpg", _image_bytes("JPEG", i))
    _write(tmp_path / "bob" / "only.jpg", _image_bytes("JPEG", 50))  # one photo: not supplied
    _write(tmp_path / "_multi" / "x.jpg", _image_bytes("JPEG", 60))
    _write(tmp_path / "_multi" / "y.jpg", _image_bytes("JPEG", 61))
    (identity,) = load_face_identities(tmp_path)
    assert identity.key == "alice" and len(identity.photos) == 3
    assert all(p.path.is_absolute() and p.one_face is None for p in identity.photos)


def test_set_layout_with_manifest(tmp_path: Path) -> None:
    good = _image_bytes("PNG", 1)
    for name in ("a.png", "b.png", "c.png", "broken.png", "crop.png"):
        _write(tmp_path / "setA" / "p1" / name, good)
    _write(tmp_path / "setA" / "p2" / "a.png", good)
    _write(tmp_path / "setA" / "p2" / "b.png", good[: len(good) // 2])  # truncated
    _write(tmp_path / "setA" / "_corrupt" / "z.png", b"garbage")
    _write(tmp_path / "derived_hardcases" / "p1" / "rot.png", good)
    _write(tmp_path / "derived_hardcases" / "p1" / "blur.png", good)
    manifest = [
        "path\tset\tidentity\thog_faces\tnote",
        "setA/p1/a.png\tsetA\tp1\t0\t",
        "setA/p1/b.png\tsetA\tp1\t1\t",
        "setA/p1/c.png\tsetA\tp1\t2\t",
        "setA/p1/broken.png\tsetA\tp1\t-1\tCORRUPT",
        "setA/p1/crop.png\tsetA\tp1\t1\tcrop of the SAME photo as a.png",
    ]
    (tmp_path / "MANIFEST.tsv").write_text("\n".join(manifest) + "\n", encoding="utf-8")
    (identity,) = load_face_identities(tmp_path)
    assert identity.key == "setA/p1"
    assert [p.path.name for p in identity.photos] == ["b.png", "a.png", "c.png"]
    assert [p.one_face for p in identity.photos] == [True, False, False]
    assert identity.n_one_face == 1


def test_same_person_under_two_names_is_one_identity(tmp_path: Path) -> None:
    _write(tmp_path / "s1" / "jolie" / "1.jpg", _image_bytes("JPEG", 1))
    _write(tmp_path / "s2" / "person01" / "1.jpg", _image_bytes("JPEG", 2))
    _write(tmp_path / "s2" / "person01" / "2.jpg", _image_bytes("JPEG", 3))
    identities = load_face_identities(tmp_path, same_person={"s1/jolie": "s2/person01"})
    assert [(i.key, len(i.photos)) for i in identities] == [("s2/person01", 3)]


def test_missing_folder_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        load_face_identities(tmp_path / "nowhere")


def _photo_owners(pop: Population) -> dict[str, set[str]]:
    """Photo path -> the people it appears for (a true pair is one person)."""
    person_of = {p.missing_ref: f"pair:{p.missing_ref}" for p in pop.truth}
    person_of.update({p.found_ref: f"pair:{p.missing_ref}" for p in pop.truth})
    owners: dict[str, set[str]] = defaultdict(set)
    for row in [*pop.missing, *pop.found]:
        for photo in row["photos"]:
            owners[photo["path"]].add(person_of.get(row["ref"], row["ref"]))
    return owners


def _identity(path: str, root: Path) -> str:
    """The identity a photo belongs to: its folder, with known aliases merged."""
    key = Path(path).parent.relative_to(root.resolve()).as_posix()
    return SAME_PERSON.get(key, key)


def _check_assignment(pop: Population, root: Path) -> None:
    owners = _photo_owners(pop)
    # No photo is used for two different people, nor twice on one side.
    assert all(len(people) == 1 for people in owners.values())
    for rows in (pop.missing, pop.found):
        paths = [ph["path"] for row in rows for ph in row["photos"]]
        assert len(paths) == len(set(paths))
    # One identity (photo folder) per person.
    people_of_identity: dict[str, set[str]] = defaultdict(set)
    for path, people in owners.items():
        people_of_identity[_identity(path, root)] |= people
    assert all(len(people) == 1 for people in people_of_identity.values())
    # A true pair: different photos of the same identity on each side.
    missing = {r["ref"]: r for r in pop.missing}
    found = {r["ref"]: r for r in pop.found}
    for pair in pop.truth:
        report_photos = [ph["path"] for ph in missing[pair.missing_ref]["photos"]]
        found_photos = [ph["path"] for ph in found[pair.found_ref]["photos"]]
        assert pair.has_photos == bool(report_photos and found_photos)
        if pair.has_photos:
            assert not set(report_photos) & set(found_photos)
            identities = {_identity(p, root) for p in report_photos + found_photos}
            assert len(identities) == 1
    for row in pop.missing:
        for photo in row["photos"]:
            assert set(photo) == {"path", "taken_year"} and Path(photo["path"]).is_absolute()
    for row in pop.found:
        for photo in row["photos"]:
            assert set(photo) == {"path", "age"}


def test_assignment_with_a_small_supply(tmp_path: Path) -> None:
    for person in range(6):
        for i in range(3):
            _write(tmp_path / f"id{person}" / f"{i}.jpg", _image_bytes("JPEG", 10 * person + i))
    pop = generate_population(seed=3, n_missing=40, n_found=40, n_true_pairs=20, faces_dir=tmp_path)
    _check_assignment(pop, tmp_path)
    used = {Path(ph["path"]).parent for row in [*pop.missing, *pop.found] for ph in row["photos"]}
    assert len(used) == 6  # all identities handed out; everyone after that has no photo
    with_photos = sum(1 for row in [*pop.missing, *pop.found] if row["photos"])
    assert 6 <= with_photos <= 12


def test_faces_do_not_change_anything_else(tmp_path: Path) -> None:
    for person in range(4):
        for i in range(2):
            _write(tmp_path / f"id{person}" / f"{i}.png", _image_bytes("PNG", 30 * person + i))
    plain = generate_population(seed=9, n_missing=30, n_found=30, n_true_pairs=10)
    faces = generate_population(
        seed=9, n_missing=30, n_found=30, n_true_pairs=10, faces_dir=tmp_path
    )

    def strip(rows: list[dict[str, object]]) -> list[dict[str, object]]:
        return [{k: v for k, v in row.items() if k != "photos"} for row in rows]

    assert strip(plain.missing) == strip(faces.missing)
    assert strip(plain.found) == strip(faces.found)


@pytest.mark.faces
def test_assignment_with_the_shared_faces() -> None:
    if not SHARED_FACES.is_dir():
        pytest.skip(f"development photos not found at {SHARED_FACES}")
    pop = generate_population(
        seed=1, n_missing=150, n_found=150, n_true_pairs=100, faces_dir=SHARED_FACES
    )
    _check_assignment(pop, SHARED_FACES)
    used = [ph["path"] for row in [*pop.missing, *pop.found] for ph in row["photos"]]
    assert used
    assert all(Path(p).is_file() for p in used)
    relative = [Path(p).relative_to(SHARED_FACES.resolve()).parts for p in used]
    assert not any(part.startswith("_") for parts in relative for part in parts)
    assert not any(parts[0] == "derived_hardcases" for parts in relative)
    # The true pairs are served first: faces on most of them, as at a station.
    assert sum(pair.has_photos for pair in pop.truth) >= 70
    assert pop.mix["counts"]["face_identities_supplied"] >= 100
    # Never a person the face curves were fitted on.
    keys = {_identity(p, SHARED_FACES) for p in used}
    assert not [k for k in keys if k.split("/")[0] in CURVE_SETS and calibration_side(k)]
    # A child lost young: a childhood photo in the report, the grown-up in care.
    missing = {r["ref"]: r for r in pop.missing}
    found = {r["ref"]: r for r in pop.found}
    aged = [(missing[t.missing_ref]["photos"][0]["path"], found[t.found_ref]["photos"][0]["path"])
            for t in pop.truth if t.has_photos and "fgnet_aging" in
            missing[t.missing_ref]["photos"][0]["path"]]  # fmt: skip
    assert aged
    for report_photo, found_photo in aged:
        assert int(Path(report_photo).name[3:5]) <= int(Path(found_photo).name[3:5])
