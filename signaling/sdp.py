"""Checks on what peers relay: every description and candidate is parsed by aiortc's SDP parser.

The parser is lenient (it skips lines it does not know), so a description must also have what
WebRTC cannot do without: an origin, media sections of a known kind, and ICE credentials and a
DTLS fingerprint for each. What fails is refused whole with ``invalid_sdp``; nothing is relayed.

aiortc is imported here, on the first description or candidate a node checks, and nowhere else
in the server: importing it loads PyAV and its codecs, tens of MB that a node without video
sessions would otherwise hold (README, "Dependencies"). tests/test_dependencies.py keeps it so.
"""

from __future__ import annotations

from signaling.messages import Candidate, Description
from twinspace_rt.errors import AppError, ErrorCode

MEDIA_KINDS = frozenset({"audio", "video", "application"})
CANDIDATE_TYPES = frozenset({"host", "srflx", "prflx", "relay"})
# What aiortc's parser raises on lines it cannot read.
PARSE_ERRORS = (ValueError, IndexError, KeyError, AssertionError, TypeError, StopIteration)


def _refuse(reason: str) -> AppError:
    return AppError(ErrorCode.invalid_sdp, f"Refused: {reason}.")


def check_description(description: Description, max_bytes: int) -> None:
    size = len(description.sdp.encode())
    if size > max_bytes:
        raise _refuse(f"the description has {size} bytes, the limit is {max_bytes}")
    if not description.sdp.startswith("v=0"):
        raise _refuse("a description starts with `v=0`")
    from aiortc.sdp import SessionDescription

    try:
        parsed = SessionDescription.parse(description.sdp)
    except PARSE_ERRORS as exc:
        raise _refuse("the description does not parse") from exc
    if not parsed.origin:
        raise _refuse("the description has no origin (`o=`) line")
    if not parsed.media:
        raise _refuse("the description has no media section")
    for media in parsed.media:
        if media.kind not in MEDIA_KINDS:
            raise _refuse(f"unknown media kind {media.kind!r}")
        if media.ice is None or not media.ice.usernameFragment or not media.ice.password:
            raise _refuse(f"the {media.kind} section has no ICE credentials")
        if media.dtls is None or not media.dtls.fingerprints:
            raise _refuse(f"the {media.kind} section has no DTLS fingerprint")


def check_candidate(candidate: Candidate, max_bytes: int) -> None:
    """An empty ``candidate`` is the end-of-candidates marker and passes."""
    line = candidate.candidate
    if len(line.encode()) > max_bytes:
        raise _refuse(f"the candidate is longer than {max_bytes} bytes")
    if candidate.sdpMid is None and candidate.sdpMLineIndex is None:
        raise _refuse("a candidate needs `sdpMid` or `sdpMLineIndex`")
    if not line:
        return
    from aiortc.sdp import candidate_from_sdp

    try:
        parsed = candidate_from_sdp(line.removeprefix("candidate:"))
    except PARSE_ERRORS as exc:
        raise _refuse("the candidate does not parse") from exc
    if parsed.protocol.lower() not in ("udp", "tcp") or parsed.type not in CANDIDATE_TYPES:
        raise _refuse("the candidate's protocol or type is unknown")
    if not 0 < parsed.port < 65536:
        raise _refuse("the candidate's port is out of range")
