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
