"""What may be uploaded where: the kinds, their size limits, and names that are safe to show.

Albums hold images; folders hold video, audio and files. The kind of an upload is decided by
its bytes once it is complete (`materials/sniff.py`); before that, the collection bounds the
declared length: an album's upload is an image's at most, a folder's a video's at most.
"""

from __future__ import annotations

import unicodedata
from enum import StrEnum

from twinspace_rt.errors import AppError, ErrorCode
from twinspace_rt.settings import Settings


class CollectionKind(StrEnum):
    album = "album"
    folder = "folder"


class Kind(StrEnum):
    image = "image"
    video = "video"
    audio = "audio"
    file = "file"


KINDS_IN: dict[CollectionKind, frozenset[Kind]] = {
    CollectionKind.album: frozenset({Kind.image}),
    CollectionKind.folder: frozenset({Kind.video, Kind.audio, Kind.file}),
}


class PupilUploads(StrEnum):
    """The project's setting for pupils' uploads."""

    off = "off"
    review = "review"
    open = "open"


def max_bytes(settings: Settings, kind: Kind) -> int:
    return (
        settings.materials_image_max_bytes
        if kind is Kind.image
        else settings.materials_media_max_bytes
    )


def declared_max(settings: Settings, collection: CollectionKind) -> int:
    """The largest ``Upload-Length`` a collection takes, checked before a byte is stored."""
    return max(max_bytes(settings, kind) for kind in KINDS_IN[collection])


# Characters that reorder or hide text: a name like "photo\u202egpj.exe" shows as "photoexe.jpg".
_BIDI = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def check_filename(name: str) -> str:
    """A file name as people see it: no folders, no control or direction-changing characters."""
    name = unicodedata.normalize("NFC", name).strip()
    problem = None
    if not name or len(name) > 255:
        problem = "must be 1 to 255 characters"
    elif "/" in name or "\\" in name or name in (".", ".."):
        problem = "may not contain path separators"
    elif any(unicodedata.category(c) in ("Cc", "Cf", "Zl", "Zp") or c in _BIDI for c in name):
        problem = "may not contain control or bidirectional-override characters"
    if problem:
        raise AppError(
            ErrorCode.validation_failed,
            f"The file name {problem}.",
            details=[{"field": "filename", "problem": problem}],
        )
    return name


def check_text(field: str, value: str, most: int) -> str:
    """Titles and descriptions: any language, but no control or direction-override characters
    (line breaks are allowed in descriptions)."""
    if len(value) > most or any(
        (unicodedata.category(c) == "Cc" and c not in "\n\t") or c in _BIDI for c in value
    ):
        raise AppError(
            ErrorCode.validation_failed,
            details=[{"field": field, "problem": f"at most {most} characters, no control ones"}],
        )
    return value
