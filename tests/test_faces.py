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


Box = tuple[int, int, int, int]


class ScriptedModel:
    """A face model whose detector answers from a script, by upsampling, for the upright
    (landscape) copy only; it records the upsampling of every call."""

    name = "scripted"

    def __init__(self, script: dict[int, list[Box]]) -> None:
        self.script = script
        self.upsamples: list[int] = []

    def locate(self, rgb: np.ndarray, *, upsample: int) -> list[Box]:
        self.upsamples.append(upsample)
        upright = rgb.shape[1] > rgb.shape[0]
        return list(self.script.get(upsample, [])) if upright else []

    def encode(self, rgb: np.ndarray, boxes: list[Box]) -> np.ndarray:
        return np.ones((len(boxes), 128), dtype=np.float32)

    def landmarks(self, rgb: np.ndarray, boxes: list[Box]) -> list[dict]:  # type: ignore[type-arg]
        return [{} for _ in boxes]


LARGE: Box = (100, 500, 400, 200)  # 300 px wide in the 800 x 600 copy
SMALL: Box = (100, 300, 200, 200)  # 100 px wide
TINY: Box = (400, 650, 450, 600)  # 50 px wide


@pytest.mark.parametrize(
    ("description", "large_face_px", "script", "upsamples", "found"),
    [
        ("a large face ends the search without upsampling", 160, {0: [LARGE]}, [0], 1),
        ("smaller faces are looked for again, upsampled", 160,
         {0: [SMALL], 1: [SMALL, TINY]}, [0, 1], 2),
        ("faces that upsampling loses are kept", 160, {0: [SMALL]}, [0, 1], 1),
        ("no face: upsample more, then the three other turns", 160, {}, [0, 1, 2, 1, 1, 1], 0),
        ("large_face_px=None always upsamples", None, {0: [LARGE], 1: [LARGE]}, [1], 1),
    ],
)  # fmt: skip
def test_detection_looks_without_upsampling_first(
    description: str,
    large_face_px: int | None,
    script: dict[int, list[Box]],
    upsamples: list[int],
    found: int,
) -> None:
    from indexes import DetectionSettings

    buffer = io.BytesIO()
    Image.new("RGB", (1600, 1200), (128, 128, 128)).save(buffer, format="PNG")
    model = ScriptedModel(script)
    settings = DetectionSettings(large_face_px=large_face_px)
    faces = detect_faces(decode_image(buffer.getvalue()), model, settings=settings)
    assert model.upsamples == upsamples, description
    assert len(faces) == found, description
    if found == 1 and script.get(0) == [LARGE]:
        assert faces[0].box == (200, 1000, 800, 400)  # mapped back to full-size pixels


@pytest.mark.parametrize(
    "changes", [{"large_face_px": 100}, {"large_face_px": 0}, {"upsample_retry": 0}]
)
def test_detection_settings_refuse_what_breaks_their_promise(changes: dict[str, int]) -> None:
    from indexes import DetectionSettings

    with pytest.raises(ValueError, match=next(iter(changes))):
        DetectionSettings(**changes)  # type: ignore[arg-type]


class CountingModel(DlibFaceModel):
    """The real model, recording how often the detector upsampled."""

    def __init__(self) -> None:
        super().__init__()
        self.upsamples: list[int] = []

    def locate(self, rgb: np.ndarray, *, upsample: int) -> list[Box]:
        self.upsamples.append(upsample)
        return super().locate(rgb, upsample=upsample)


def test_a_12_megapixel_phone_photo_is_found_without_upsampling(
    sample_photos: Path, face_model: DlibFaceModel
) -> None:
    # A portrait phone photo: stored 4000 x 3000 and sideways, EXIF orientation 6.
    upright = Image.open(sample_photos / "obama.jpg").convert("RGB").resize((3000, 3750))
    canvas = Image.new("RGB", (3000, 4000), (90, 110, 90))
    canvas.paste(upright, (0, 0))
    exif = Image.Exif()
    exif[0x0112] = 6
    buffer = io.BytesIO()
    canvas.transpose(Image.Transpose.ROTATE_90).save(buffer, format="JPEG", quality=90, exif=exif)
    image = decode_image(buffer.getvalue(), max_side=1600)
    assert (image.width, image.height) == (3000, 4000)
    model = CountingModel()
    faces = detect_faces(image, model)
    assert model.upsamples == [0]
    assert len(faces) == 1 and faces[0].rotation == 0
    reference = _faces(sample_photos / "obama.jpg", face_model)[0]
    scale = 3000 / 910  # obama.jpg is 910 px wide
    assert faces[0].width_px == pytest.approx(reference.width_px * scale, rel=0.2)
    assert faces[0].box[3] == pytest.approx(reference.box[3] * scale, abs=60)
    assert float(np.linalg.norm(reference.embedding - faces[0].embedding)) < 0.2


def test_a_face_less_than_half_as_wide_as_a_large_one_is_not_looked_for(
    sample_photos: Path, face_model: DlibFaceModel
) -> None:
    from indexes import DetectionSettings

    # Obama's face is about 590 px wide; Biden's about 160 px, beside it.
    canvas = Image.new("RGB", (2600, 1800), (120, 130, 120))
    canvas.paste(Image.open(sample_photos / "obama.jpg").convert("RGB").resize((2000, 2499)),
                 (0, -200))  # fmt: skip
    biden = Image.open(sample_photos / "biden.jpg").convert("RGB")
    canvas.paste(biden.resize((480, round(biden.height * 480 / biden.width))), (2050, 700))
    buffer = io.BytesIO()
    canvas.save(buffer, format="JPEG", quality=92)
    image = decode_image(buffer.getvalue(), max_side=1600)
    assert len(detect_faces(image, face_model)) == 1
    everything = detect_faces(image, face_model, settings=DetectionSettings(large_face_px=None))
    assert len(everything) == 2 and everything[1].width_px < everything[0].width_px / 2
