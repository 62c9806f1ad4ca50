"""Real face detection and encoding with dlib on photos from the registry."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from indexes import DlibFaceModel, decode_image, detect_faces


def _faces(path: Path, model: DlibFaceModel, *, rotate: int = 0) -> list:  # type: ignore[type-arg]
    data = path.read_bytes()
    if rotate:
        buffer = io.BytesIO()
        Image.open(io.BytesIO(data)).rotate(rotate, expand=True).save(buffer, format="JPEG")
        data = buffer.getvalue()
    return detect_faces(decode_image(data), model)


def test_same_person_is_closer_than_different_people(
    sample_photos: Path, face_model: DlibFaceModel
) -> None:
    obama = _faces(sample_photos / "obama.jpg", face_model)
    obama2 = _faces(sample_photos / "obama2.jpg", face_model)
    biden = _faces(sample_photos / "biden.jpg", face_model)
    assert len(obama) == len(obama2) == len(biden) == 1
    assert obama[0].embedding.shape == (128,) and obama[0].embedding.dtype == np.float32
    same = float(np.linalg.norm(obama[0].embedding - obama2[0].embedding))
    different = float(np.linalg.norm(obama[0].embedding - biden[0].embedding))
    assert same < 0.6 < different


def test_a_sideways_photo_is_found_by_rotating(
    sample_photos: Path, face_model: DlibFaceModel
) -> None:
    upright = _faces(sample_photos / "obama.jpg", face_model)
    sideways = _faces(sample_photos / "obama.jpg", face_model, rotate=90)
    assert len(sideways) == 1 and sideways[0].rotation != 0
    assert float(np.linalg.norm(upright[0].embedding - sideways[0].embedding)) < 0.2


def test_a_large_photo_is_detected_on_a_bounded_copy(
    sample_photos: Path, face_model: DlibFaceModel
) -> None:
    image = Image.open(sample_photos / "obama.jpg").convert("RGB")
    big = image.resize((image.width * 4, image.height * 4))
    buffer = io.BytesIO()
    big.save(buffer, format="JPEG")
    faces = detect_faces(decode_image(buffer.getvalue()), face_model)
    small = _faces(sample_photos / "obama.jpg", face_model)
    assert len(faces) == 1
    # Boxes come back in the full image's pixels.
    assert faces[0].width_px == pytest.approx(small[0].width_px * 4, rel=0.25)


def test_no_face_in_a_blank_image(face_model: DlibFaceModel) -> None:
    buffer = io.BytesIO()
    Image.new("RGB", (200, 200), (240, 240, 240)).save(buffer, format="PNG")
    assert detect_faces(decode_image(buffer.getvalue()), face_model) == []


@pytest.mark.faces
def test_every_hard_case_gets_faces_or_a_clear_error(
    shared_faces: Path, face_model: DlibFaceModel
) -> None:
    from indexes import ImageRejectedError

    folder = shared_faces / "derived_hardcases"
    outcomes = {}
    for path in sorted(folder.rglob("*")):
        if not path.is_file():
            continue
        try:
            outcomes[path.relative_to(folder).as_posix()] = len(
                detect_faces(decode_image(path.read_bytes()), face_model)
            )
        except ImageRejectedError as error:
            assert error.reason and str(error)
            outcomes[path.relative_to(folder).as_posix()] = error.reason
    assert outcomes["fr_obama/exif_orient6.jpg"] == 1
    assert outcomes["fr_obama/rot90.jpg"] == 1
    assert outcomes["fr_obama/gray16.png"] == 1
    assert outcomes["fr_obama/cmyk.jpg"] == 1
    assert outcomes["_corrupt/png_sig_garbage.png"] == "corrupt"
    assert outcomes["_corrupt/text_named_jpg.jpg"] == "not_an_image"
    assert outcomes["_corrupt/zero_bytes.jpg"] == "empty"
    assert outcomes["_multi/obama_plus_cn103.jpg"] == 2


def test_quality_records_size_sharpness_and_pose(
    sample_photos: Path, face_model: DlibFaceModel
) -> None:
    from PIL import ImageFilter

    from indexes.faces import QualityRules, judge

    crisp = _faces(sample_photos / "obama.jpg", face_model)[0]
    assert crisp.quality.searchable, crisp.quality.problems
    assert crisp.quality.yaw is not None and abs(crisp.quality.yaw) < 0.2
    assert crisp.quality.roll is not None and abs(crisp.quality.roll) < 15
    image = Image.open(sample_photos / "obama.jpg").convert("RGB")
    buffer = io.BytesIO()
    image.filter(ImageFilter.GaussianBlur(12)).save(buffer, format="JPEG")
    blurred = detect_faces(decode_image(buffer.getvalue()), face_model)
    assert not blurred or blurred[0].quality.sharpness < crisp.quality.sharpness
    rules = QualityRules()
    assert "px wide" in judge(20, 50.0, 0.0, 0.0, rules).problems[0]
    assert "blurred" in judge(200, 1.0, 0.0, 0.0, rules).problems[0]
    assert "turned away" in judge(200, 50.0, 0.8, 0.0, rules).problems[0]
    assert "tilted" in judge(200, 50.0, 0.0, 60.0, rules).problems[0]


def test_a_small_face_in_a_large_photo_is_found_by_upsampling(
    sample_photos: Path, face_model: DlibFaceModel
) -> None:
    # The face is about 160 px wide in a 3200 px photo: about 40 px in the bounded copy.
    face = Image.open(sample_photos / "obama.jpg").convert("RGB").resize((600, 750))
    canvas = Image.new("RGB", (3200, 2400), (90, 110, 90))
    canvas.paste(face, (1500, 1100))
    buffer = io.BytesIO()
    canvas.save(buffer, format="JPEG", quality=92)
    image = decode_image(buffer.getvalue(), max_side=1600)
    assert (image.width, image.height) == (3200, 2400) and image.scale < 1
    faces = detect_faces(image, face_model)
    assert len(faces) == 1
    top, right, bottom, left = faces[0].box
    assert 1500 < left < 2100 and 1100 < top < 1850  # mapped back to full-size pixels
    assert 120 < faces[0].width_px < 220
    reference = _faces(sample_photos / "obama.jpg", face_model)[0]
    assert float(np.linalg.norm(reference.embedding - faces[0].embedding)) < 0.45


def test_heic_photos_from_phones_decode(sample_photos: Path, face_model: DlibFaceModel) -> None:
    from pillow_heif import from_pillow

    image = Image.open(sample_photos / "obama.jpg").convert("RGB")
    buffer = io.BytesIO()
    from_pillow(image).save(buffer, quality=80)
    decoded = decode_image(buffer.getvalue())
    assert decoded.format == "HEIF"
    assert len(detect_faces(decoded, face_model)) == 1
