"""Turning uploaded bytes into an 8-bit RGB array, or a clear refusal.

Phones store photos sideways with an EXIF orientation tag, scanners make 16-bit or
grayscale files, and some files are simply broken: every case either becomes an upright
RGB image or raises ``ImageRejectedError`` saying why.
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass
from functools import cache

import numpy as np
from numpy.typing import NDArray
from PIL import Image, ImageOps, UnidentifiedImageError

from indexes.errors import ImageRejectedError

# GIF: families send what they have, and web photos are sometimes GIFs named .jpg.
ACCEPTED_FORMATS = frozenset({"JPEG", "PNG", "WEBP", "HEIF", "MPO", "BMP", "TIFF", "GIF"})


@dataclass(frozen=True)
class ImageLimits:
    """Bounds that keep one upload from taking the service down."""

    max_bytes: int = 25 * 1024 * 1024
    max_pixels: int = 50_000_000


@dataclass(frozen=True)
class DecodedImage:
    """An upright 8-bit RGB image and what it was."""

    rgb: NDArray[np.uint8]
    format: str

    @property
    def width(self) -> int:
        """Width in pixels."""
        return int(self.rgb.shape[1])

    @property
    def height(self) -> int:
        """Height in pixels."""
        return int(self.rgb.shape[0])


@cache
def _register_heif() -> None:
    # HEIC is what iPhones send; the plugin is registered on first use, not at import.
    from pillow_heif import register_heif_opener

    register_heif_opener()


_SIGNATURES = (b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n", b"GIF87a", b"GIF89a", b"BM", b"II*\x00",
               b"MM\x00*")  # fmt: skip


def _has_image_signature(data: bytes) -> bool:
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return True
    return data.startswith(_SIGNATURES) or data[4:8] == b"ftyp"


def _to_rgb(image: Image.Image) -> Image.Image:
    if image.mode in {"I;16", "I;16B", "I;16L", "I;16N", "I"}:
        array = np.asarray(image, dtype=np.float64)
        top = array.max()
        scaled = array * (255.0 / top) if top > 255 else array
        image = Image.fromarray(np.clip(scaled, 0, 255).astype(np.uint8), mode="L")
    if image.mode == "F":
        array = np.asarray(image, dtype=np.float64)
        span = float(array.max() - array.min()) or 1.0
        image = Image.fromarray(((array - array.min()) * 255.0 / span).astype(np.uint8), "L")
    if image.mode == "P":
        image = image.convert("RGBA")
    if image.mode in {"RGBA", "LA", "PA"}:
        # Transparent areas become white, as they look on screen, not black.
        background = Image.new("RGB", image.size, (255, 255, 255))
        background.paste(image.convert("RGBA"), mask=image.convert("RGBA").getchannel("A"))
        return background
    return image.convert("RGB")


def decode_image(data: bytes, *, limits: ImageLimits | None = None) -> DecodedImage:
    """Decode bytes into an upright RGB image, or raise ``ImageRejectedError``."""
    limits = limits or ImageLimits()
    if not data:
        raise ImageRejectedError("empty", "the file is empty")
    if len(data) > limits.max_bytes:
        raise ImageRejectedError(
            "too_large", f"the file is {len(data)} bytes; the limit is {limits.max_bytes}"
        )
    _register_heif()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))
            if image.format not in ACCEPTED_FORMATS:
                raise ImageRejectedError(
                    "unsupported_format", f"{image.format} images are not accepted"
                )
            width, height = image.size
            if width * height > limits.max_pixels:
                raise ImageRejectedError(
                    "too_many_pixels",
                    f"the image is {width}x{height} pixels; the limit is {limits.max_pixels}",
                )
            image_format = str(image.format)
            image.load()
            upright: Image.Image = ImageOps.exif_transpose(image) or image
            rgb = _to_rgb(upright)
    except ImageRejectedError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as err:
        raise ImageRejectedError("too_many_pixels", str(err)) from err
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError) as err:
        # Truncated JPEGs, PNG signatures followed by garbage (a UnicodeDecodeError, a
        # ValueError, inside PIL's chunk reader), broken headers. Which of these PIL
        # raises depends on its plugin order, so the file's own signature decides.
        if _has_image_signature(data):
            raise ImageRejectedError("corrupt", f"the image file is damaged ({err})") from err
        raise ImageRejectedError("not_an_image", "the file is not an image we can read") from err
    array = np.ascontiguousarray(np.asarray(rgb, dtype=np.uint8))
    if array.ndim != 3 or array.shape[2] != 3 or min(array.shape[:2]) < 16:
        raise ImageRejectedError("too_small", f"the image is only {rgb.width}x{rgb.height}")
    return DecodedImage(rgb=array, format=image_format)
