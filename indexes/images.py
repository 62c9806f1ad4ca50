"""Turning uploaded bytes into an 8-bit RGB array, or a clear refusal.

Phones store photos sideways with an EXIF orientation tag, scanners make 16-bit or
grayscale files, and some files are simply broken: every case either becomes an upright
RGB image or raises ``ImageRejectedError`` saying why.
"""

from __future__ import annotations

import io
import math
import warnings
from dataclasses import dataclass, field
from functools import cache, cached_property

import numpy as np
from numpy.typing import NDArray
from PIL import Image, UnidentifiedImageError

from indexes.face_errors import ImageRejectedError

# GIF: families send what they have, and web photos are sometimes GIFs named .jpg.
ACCEPTED_FORMATS = frozenset({"JPEG", "PNG", "WEBP", "HEIF", "MPO", "BMP", "TIFF", "GIF"})


@dataclass(frozen=True)
class ImageLimits:
    """Bounds that keep one upload from taking the service down."""

    max_bytes: int = 25 * 1024 * 1024
    max_pixels: int = 50_000_000


@dataclass(frozen=True)
class DecodedImage:
    """An upright 8-bit RGB image, what it was, and its size before any reduction.

    ``rgb`` may be smaller than the file (JPEGs are decoded at a reduced scale when the
    caller only needs ``max_side`` pixels); ``width`` and ``height`` are the upright
    image's full size, and ``scale`` maps full-size pixels to ``rgb`` pixels.

    The decoded pixels are kept as stored, with the turn that makes them upright:
    ``bounded`` reduces first and turns the small copy, so a sideways 12-megapixel phone
    photo is never turned at full size; ``rgb`` is made on first use.
    """

    stored: Image.Image = field(repr=False, compare=False)  # RGB, as the file stores it
    format: str
    width: int
    height: int
    transpose: Image.Transpose | None = None  # what makes ``stored`` upright

    @cached_property
    def upright(self) -> Image.Image:
        """The decoded image, upright (RGB)."""
        return self.stored if self.transpose is None else self.stored.transpose(self.transpose)

    @cached_property
    def rgb(self) -> NDArray[np.uint8]:
        """The decoded image, upright, as an ``(height, width, 3)`` array."""
        return np.ascontiguousarray(np.asarray(self.upright, dtype=np.uint8))

    @property
    def scale(self) -> float:
        """``rgb`` pixels per full-size pixel (1.0 when decoded at full size)."""
        return float(max(self.stored.size)) / max(self.width, self.height)

    def bounded(self, max_side: int) -> tuple[NDArray[np.uint8], float]:
        """An upright copy whose longer side is at most ``max_side``, and its pixels per
        ``rgb`` pixel (1.0 when ``rgb`` is small enough already)."""
        stored_width, stored_height = self.stored.size
        scale = min(1.0, max_side / max(stored_width, stored_height))
        if scale >= 1.0:
            return self.rgb, 1.0
        size = (max(1, round(stored_width * scale)), max(1, round(stored_height * scale)))
        # reducing_gap: a fast integer reduction (box filter) first, then bilinear.
        small = self.stored.resize(size, Image.Resampling.BILINEAR, reducing_gap=1.0)
        if self.transpose is not None:
            small = small.transpose(self.transpose)
        return np.ascontiguousarray(np.asarray(small, dtype=np.uint8)), scale


@cache
def _register_heif() -> None:
    # HEIC is what iPhones send; the plugin is registered on first use, not at import.
    from pillow_heif import register_heif_opener

    register_heif_opener()


_ORIENTATION = 0x0112  # the EXIF tag; 5-8 mean the stored image is turned a quarter
_UPRIGHT = {  # what each EXIF orientation needs to show upright (as ImageOps.exif_transpose)
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}
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
    return image if image.mode == "RGB" else image.convert("RGB")


def decode_image(
    data: bytes, *, limits: ImageLimits | None = None, max_side: int | None = None
) -> DecodedImage:
    """Decode bytes into an upright RGB image, or raise ``ImageRejectedError``.

    With ``max_side``, a JPEG is decoded at the smallest power-of-two reduction that still
    has at least ``max_side`` pixels on its longer side: a 12-megapixel phone photo then
    costs a fraction of a full decode.
    """
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
            if max_side is not None and image.format in {"JPEG", "MPO"}:
                # draft keeps both sides at least as large as asked: ask in proportion.
                ratio = min(1.0, max_side / max(width, height))
                image.draft("RGB", (math.ceil(width * ratio), math.ceil(height * ratio)))
            image.load()
            orientation = image.getexif().get(_ORIENTATION, 1)
            rgb = _to_rgb(image)
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
    turned = orientation in {5, 6, 7, 8}
    full_width, full_height = (height, width) if turned else (width, height)
    if min(full_width, full_height) < 16:
        raise ImageRejectedError("too_small", f"the image is only {full_width}x{full_height}")
    return DecodedImage(stored=rgb, format=image_format, width=full_width, height=full_height,
                        transpose=_UPRIGHT.get(orientation))  # fmt: skip
