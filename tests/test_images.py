"""Image decoding: every odd file becomes an upright RGB image or a clear refusal."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from indexes import ImageLimits, ImageRejectedError, decode_image


def _encode(image: Image.Image, fmt: str, **params: object) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=fmt, **params)
    return buffer.getvalue()


def _gradient(mode: str = "RGB", size: tuple[int, int] = (64, 48)) -> Image.Image:
    array = np.linspace(0, 255, size[0] * size[1] * 3).reshape(size[1], size[0], 3)
    return Image.fromarray(array.astype(np.uint8), "RGB").convert(mode)


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"", "empty"),
        (b"hello, this is text", "not_an_image"),
        (b"\x89PNG\r\n\x1a\n\x9fw\x93\xc7B\x94k\xfd" + bytes(range(256)) * 8, "corrupt"),
        (b"\xff\xd8\xff\xe0" + b"\x00" * 10, "corrupt"),
        (bytes(range(256)) * 4, "not_an_image"),
    ],
)
def test_broken_files_are_refused_with_a_reason(data: bytes, reason: str) -> None:
    with pytest.raises(ImageRejectedError) as caught:
        decode_image(data)
    assert caught.value.reason == reason


def test_size_limits() -> None:
    data = _encode(_gradient(size=(400, 300)), "PNG")
    with pytest.raises(ImageRejectedError) as caught:
        decode_image(data, limits=ImageLimits(max_bytes=100))
    assert caught.value.reason == "too_large"
    with pytest.raises(ImageRejectedError) as caught:
        decode_image(data, limits=ImageLimits(max_pixels=1000))
    assert caught.value.reason == "too_many_pixels"


@pytest.mark.parametrize("mode", ["L", "P", "RGBA", "LA", "CMYK", "I;16", "RGB"])
def test_every_mode_becomes_8_bit_rgb(mode: str) -> None:
    image = _gradient()
    if mode == "I;16":
        image = Image.fromarray(np.asarray(image.convert("L"), np.uint16) * 257)
        assert image.mode == "I;16"
    else:
        image = image.convert(mode)
    fmt = "JPEG" if mode == "CMYK" else "PNG"
    decoded = decode_image(_encode(image, fmt))
    assert decoded.rgb.dtype == np.uint8
    assert decoded.rgb.shape == (48, 64, 3)


def test_exif_orientation_is_applied() -> None:
    image = _gradient(size=(64, 48))
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90 degrees clockwise to display
    decoded = decode_image(_encode(image, "JPEG", exif=exif))
    assert (decoded.width, decoded.height) == (48, 64)


def test_a_truncated_jpeg_is_refused(sample_photos: Path) -> None:
    data = (sample_photos / "obama.jpg").read_bytes()
    with pytest.raises(ImageRejectedError) as caught:
        decode_image(data[:600])
    assert caught.value.reason == "corrupt"


def test_tiny_images_are_refused() -> None:
    with pytest.raises(ImageRejectedError) as caught:
        decode_image(_encode(_gradient(size=(8, 8)), "PNG"))
    assert caught.value.reason == "too_small"


def test_sample_photo_decodes(sample_photos: Path) -> None:
    decoded = decode_image((sample_photos / "obama.jpg").read_bytes())
    assert decoded.format == "JPEG" and decoded.rgb.shape[2] == 3


@pytest.mark.parametrize("orientation", range(1, 9))
def test_every_exif_orientation_gives_the_upright_image(orientation: int) -> None:
    from PIL import ImageOps

    exif = Image.Exif()
    exif[0x0112] = orientation
    data = _encode(_gradient(size=(64, 48)), "PNG", exif=exif)
    expected = ImageOps.exif_transpose(Image.open(io.BytesIO(data))).convert("RGB")
    decoded = decode_image(data)
    assert (decoded.width, decoded.height) == expected.size
    assert np.array_equal(decoded.rgb, np.asarray(expected))
    # The bounded copy is reduced as stored, then turned: the same as reducing upright.
    small, scale = decoded.bounded(32)
    reference = expected.resize(small.shape[1::-1], Image.Resampling.BILINEAR, reducing_gap=1.0)
    assert scale == 0.5 and max(small.shape[:2]) == 32
    assert np.abs(small.astype(int) - np.asarray(reference, dtype=int)).max() <= 2


def test_a_sideways_phone_jpeg_is_decoded_small_and_bounded_upright() -> None:
    # Stored 2400 x 1800 with orientation 6: upright it is 1800 x 2400.
    stored = _gradient(size=(2400, 1800))
    exif = Image.Exif()
    exif[0x0112] = 6
    decoded = decode_image(_encode(stored, "JPEG", exif=exif, quality=90), max_side=600)
    assert (decoded.width, decoded.height) == (1800, 2400)
    assert decoded.rgb.shape == (600, 450, 3)  # JPEG draft: decoded at a quarter
    assert decoded.scale == pytest.approx(0.25)
    small, scale = decoded.bounded(300)
    assert small.shape == (300, 225, 3) and scale == pytest.approx(0.5)
    # Upright: the stored image's top-left corner is the upright image's top-right.
    assert np.abs(small[0, -1].astype(int) - decoded.rgb[0, -1].astype(int)).max() <= 8
    unchanged, same = decoded.bounded(1000)
    assert same == 1.0 and unchanged is decoded.rgb
