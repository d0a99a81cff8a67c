"""Video and audio with PyAV, imported by the processing worker only (it loads FFmpeg).

Probed for container, codecs and duration, then remuxed without re-encoding into a fresh
container to which no metadata is copied: neither the container's tags (title, encoder, the
QuickTime ``location`` / ``©xyz`` atom a phone writes) nor any stream's. A poster frame is
taken from the first decodable video frame.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import av

from twinspace_rt.errors import AppError, ErrorCode
from twinspace_rt.materials.kinds import Kind
from twinspace_rt.materials.processing import Processed

# Demuxer name (first of FFmpeg's comma-separated list) → muxer, suffix, served type.
CONTAINERS = {
    "mov": ("mp4", "mp4", "video/mp4"),
    "matroska": ("webm", "webm", "video/webm"),
    "mp3": ("mp3", "mp3", "audio/mpeg"),
    "ogg": ("ogg", "ogg", "audio/ogg"),
    "wav": ("wav", "wav", "audio/wav"),
    "flac": ("flac", "flac", "audio/flac"),
}
VIDEO_CODECS = frozenset({"h264", "hevc", "vp8", "vp9", "av1", "mpeg4"})
AUDIO_CODECS = frozenset({"aac", "mp3", "opus", "vorbis", "flac", "pcm_s16le", "pcm_s24le"})


def process_media(source: Path, work: Path, max_seconds: float) -> Processed:
    try:
        return _process(source, work, max_seconds)
    except av.FFmpegError as exc:
        raise AppError(
            ErrorCode.media_invalid, "The video or audio is truncated or damaged."
        ) from exc


def _process(source: Path, work: Path, max_seconds: float) -> Processed:
    with av.open(str(source), metadata_errors="ignore") as inp:
        demuxer = inp.format.name.split(",")[0]
        if demuxer not in CONTAINERS:
            raise AppError(ErrorCode.unsupported_type, f"Container {demuxer} is not accepted.")
        videos = [s for s in inp.streams.video if not _attached_picture(s)]
        audios = list(inp.streams.audio)
        if not videos and not audios:
            raise AppError(ErrorCode.media_invalid, "No video or audio stream.")
        for stream in videos + audios:
            allowed = VIDEO_CODECS if stream.type == "video" else AUDIO_CODECS
            if stream.codec_context.name not in allowed:
                raise AppError(
                    ErrorCode.unsupported_type,
                    f"Codec {stream.codec_context.name} is not accepted.",
                )
        duration = _duration(inp, videos + audios)
        if duration is None or duration <= 0:
            raise AppError(ErrorCode.media_invalid, "The duration cannot be read.")
        if duration > max_seconds:
            raise AppError(ErrorCode.media_invalid, f"Longer than {max_seconds:.0f} seconds.")
        muxer, suffix, mime = CONTAINERS[demuxer]
        kind = Kind.video if videos else Kind.audio
        if kind is Kind.audio and mime.startswith("video/"):
            mime = "audio/" + mime.split("/")[1]
        target = work / f"media.{suffix}"
        options = {"movflags": "+faststart"} if muxer == "mp4" else {}
        with av.open(str(target), "w", format=muxer, options=options) as out:
            mapping: dict[int, Any] = {}
            for stream in videos + audios:
                copied = out.add_stream_from_template(stream)
                copied.metadata.clear()
                mapping[stream.index] = copied
            out.metadata.clear()
            counted: dict[int, int] = dict.fromkeys(mapping, 0)
            for packet in inp.demux(videos + audios):
                if packet.dts is None:
                    continue
                counted[packet.stream.index] += 1
                packet.stream = mapping[packet.stream.index]
                out.mux(packet)
            for stream in videos + audios:
                # The index promises ``frames`` packets: fewer means the data was cut short.
                if counted[stream.index] == 0 or counted[stream.index] < (stream.frames or 0):
                    raise AppError(ErrorCode.media_invalid, "The media data is truncated.")
        variants = {"media": target}
        width = height = None
        if videos:
            width, height = videos[0].codec_context.width, videos[0].codec_context.height
            poster = _poster(source, work)
            if poster is not None:
                variants["poster"] = poster
    return Processed(kind, mime, variants, width, height, round(duration, 3))


def _attached_picture(stream: Any) -> bool:
    return bool(stream.disposition & av.stream.Disposition.attached_pic)


def _duration(container: Any, streams: list[Any]) -> float | None:
    if container.duration:
        return float(container.duration / av.time_base)
    seconds = [float(s.duration * s.time_base) for s in streams if s.duration and s.time_base]
    return max(seconds) if seconds else None


def _poster(source: Path, work: Path) -> Path | None:
    """The first decodable frame, as a JPEG without metadata (made from pixels)."""
    with av.open(str(source)) as inp:
        stream = inp.streams.video[0]
        for frame in inp.decode(stream):
            image = frame.to_image().convert("RGB")  # type: ignore[no-untyped-call]
            image.thumbnail((1280, 1280))
            path = work / "poster.jpg"
            image.save(path, "JPEG", quality=85)
            return path
    return None
