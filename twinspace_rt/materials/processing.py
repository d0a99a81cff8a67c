"""Turning a finished upload into what members are served, in a worker thread.

The type comes from the bytes (filetype's signatures, then the decoder itself), never the name
or the declared type, and must be on the allow-list of the collection's kinds. Images are
decoded by Pillow with a lowered pixel limit and only the accepted formats, turned upright,
and re-encoded from their pixels alone: a new image made with ``frombytes`` carries no
``info`` at all, so no EXIF, GPS, XMP, IPTC, ICC or comment block can survive (PNG keeps
``info["exif"]`` through a plain re-save). Video and audio go to `materials/media.py`. Files
are kept as they are and only ever served as downloads.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import filetype
from PIL import Image, ImageOps, UnidentifiedImageError

from twinspace_rt.errors import AppError, ErrorCode
from twinspace_rt.materials.kinds import KINDS_IN, CollectionKind, Kind

# Pillow plug-ins tried on an image, by name: nothing else is ever parsed.
IMAGE_FORMATS = ("JPEG", "PNG", "WEBP", "GIF")
IMAGE_MIMES = frozenset({"image/jpeg", "image/png", "image/webp", "image/gif"})
AV_MIMES = frozenset(
    {
        "video/mp4",
        "video/quicktime",
        "video/webm",
        "video/x-matroska",
        "video/3gpp",
        "video/x-m4v",
        "audio/mpeg",
        "audio/mp4",
        "audio/ogg",
        "audio/x-wav",
        "audio/x-flac",
        "audio/aac",
    }
)
FILE_MIMES = frozenset(
    {
        "application/pdf",
        "application/zip",
        "application/epub+zip",
        "application/rtf",
        "application/msword",
        "application/vnd.ms-excel",
        "application/vnd.ms-powerpoint",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "application/vnd.openxmlformats-officedocument.presentationml.presentation",
        "application/vnd.oasis.opendocument.text",
        "application/vnd.oasis.opendocument.spreadsheet",
        "application/vnd.oasis.opendocument.presentation",
    }
)
THUMBNAILS = {"small": 320, "large": 1280}


@dataclass
class Limits:
    max_pixels: int
    image_max_bytes: int
    media_max_bytes: int
    media_max_seconds: float


@dataclass
class Processed:
    """What a job stores: each variant's local file by role, and what clients are told."""

    kind: Kind
    mime: str
    variants: dict[str, Path] = field(default_factory=dict)
    width: int | None = None
    height: int | None = None
    duration: float | None = None


def sniff(source: Path) -> str | None:
    found = filetype.guess(str(source))
    return found.mime if found else None


def process(source: Path, collection: CollectionKind, work: Path, limits: Limits) -> Processed:
    """Raises `AppError` (``unsupported_type``, ``media_invalid``, ``payload_too_large``) for
    anything refused; nothing is written outside ``work``."""
    mime = sniff(source)
    allowed = KINDS_IN[collection]
    size = source.stat().st_size
    if mime in IMAGE_MIMES and Kind.image in allowed:
        if size > limits.image_max_bytes:
            raise AppError(ErrorCode.payload_too_large, "Images are limited in size.")
        return process_image(source, work, limits.max_pixels)
    if size > limits.media_max_bytes:
        raise AppError(ErrorCode.payload_too_large)
    if mime in AV_MIMES and allowed & {Kind.video, Kind.audio}:
        from twinspace_rt.materials import media  # PyAV: loaded by workers only

        return media.process_media(source, work, limits.media_max_seconds)
    if mime in FILE_MIMES and Kind.file in allowed:
        return Processed(Kind.file, mime, {"file": source})
    where = "an album" if collection is CollectionKind.album else "a folder"
    raise AppError(
        ErrorCode.unsupported_type,
        f"This content ({mime or 'unknown'}) is not accepted in {where}.",
    )


def process_image(source: Path, work: Path, max_pixels: int) -> Processed:
    # A process-wide guard as well as the explicit check below: Pillow only warns up to twice
    # its limit, and refuses above.
    Image.MAX_IMAGE_PIXELS = max_pixels
    try:
        with Image.open(source, formats=IMAGE_FORMATS) as opened:
            if opened.width * opened.height > max_pixels:
                raise AppError(ErrorCode.media_invalid, "The image has too many pixels.")
            opened.load()
            upright = ImageOps.exif_transpose(opened) or opened
            alpha = upright.mode in ("RGBA", "LA", "PA") or "transparency" in upright.info
            mode = "RGBA" if alpha else "RGB"
            pixels = upright.convert(mode)
    except UnidentifiedImageError as exc:
        raise AppError(ErrorCode.unsupported_type, "Not an accepted image.") from exc
    except Image.DecompressionBombError as exc:
        raise AppError(ErrorCode.media_invalid, "The image has too many pixels.") from exc
    except (OSError, SyntaxError, ValueError, EOFError) as exc:
        raise AppError(ErrorCode.media_invalid, "The image is truncated or damaged.") from exc
    # Pixels only: the new image has an empty ``info``, so no metadata block can follow.
    clean = Image.frombytes(mode, pixels.size, pixels.tobytes())
    fmt, mime, suffix = ("PNG", "image/png", "png") if alpha else ("JPEG", "image/jpeg", "jpg")
    variants = {"display": work / f"display.{suffix}"}
    _save(clean, variants["display"], fmt)
    for role, edge in THUMBNAILS.items():
        thumb = clean.copy()
        thumb.thumbnail((edge, edge))
        variants[role] = work / f"{role}.{suffix}"
        _save(thumb, variants[role], fmt)
    return Processed(Kind.image, mime, variants, clean.width, clean.height)


def _save(image: Image.Image, path: Path, fmt: str) -> None:
    if fmt == "JPEG":
        image.save(path, "JPEG", quality=88, optimize=True)
    else:
        image.save(path, "PNG", optimize=True)
