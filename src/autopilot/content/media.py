"""Checks on uploaded media before anything reaches LinkedIn (contract §4.1 and §4.2): images are JPEG,
PNG or GIF under 36,152,320 pixels; documents are PDF files up to 100 MB (a PDF carousel)."""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass

from PIL import Image, UnidentifiedImageError

from autopilot.kit.errors import Unprocessable

MAX_PIXELS = 36_152_320  # LinkedIn: "fewer than 36,152,320 pixels"
MAX_DOCUMENT_BYTES = 100 * 1024 * 1024
IMAGE_FORMATS = {"JPEG": "image/jpeg", "PNG": "image/png", "GIF": "image/gif"}


@dataclass(frozen=True)
class Checked:
    kind: str  # image | document
    content_type: str
    width: int | None = None
    height: int | None = None


def check(filename: str, data: bytes) -> Checked:
    if not data:
        raise Unprocessable(f"{filename} is empty")
    if data[:5] == b"%PDF-":
        if len(data) > MAX_DOCUMENT_BYTES:
            raise Unprocessable(f"{filename} is {len(data):,} bytes; LinkedIn takes documents up to 100 MB")
        if b"%%EOF" not in data[-2048:]:
            raise Unprocessable(f"{filename} is not a complete PDF file (no end-of-file marker)")
        return Checked("document", "application/pdf")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as image:  # reads the header only: no pixels decoded
                fmt, (width, height) = image.format or "", image.size
    except (UnidentifiedImageError, Image.DecompressionBombError, OSError) as exc:
        if isinstance(exc, Image.DecompressionBombError):
            raise Unprocessable(f"{filename} has too many pixels; LinkedIn takes fewer than {MAX_PIXELS:,}") from exc
        raise Unprocessable(
            f"{filename} is neither an image LinkedIn takes (JPEG, PNG, GIF) nor a PDF document"
        ) from exc
    if fmt not in IMAGE_FORMATS:
        raise Unprocessable(f"{filename} is a {fmt or 'unknown'} image; LinkedIn takes JPEG, PNG or GIF")
    if width * height >= MAX_PIXELS:
        raise Unprocessable(
            f"{filename} is {width}x{height} = {width * height:,} pixels; LinkedIn takes fewer than {MAX_PIXELS:,}"
        )
    return Checked("image", IMAGE_FORMATS[fmt], width, height)
