"""The WebSocket core and what one member may cost it: frames, send buffers, keepalive,"""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings


class SocketSettings(BaseSettings):
    """The WebSocket core and what one member may cost it: frames, send buffers, keepalive,
    close grace, sockets per member, and REST write budgets."""

    presence_ttl_seconds: int = Field(
        45, ge=5, le=600, description="Presence of a silent node's users expires after this."
    )
    ws_ping_seconds: float = Field(25, gt=0, description="Server ping interval on sockets.")
    ws_idle_timeout_seconds: float = Field(
        60, gt=0, description="A socket silent for this long is dropped."
    )
    ws_send_buffer_bytes: int = Field(
        262144,
        ge=65536,
        description="Bytes waiting to be sent on one socket, beyond what the kernel holds, "
        "before it is closed as too slow (4408).",
    )
    ws_compression: bool = Field(
        False,
        description="Offer permessage-deflate; chat frames are small, and each "
        "compressed socket costs about 50 KiB and CPU per frame.",
    )
    ws_frame_max_bytes: int = Field(65536, ge=1024, description="Largest accepted hub frame.")
    ws_read_bytes_per_second: int = Field(
        131072,
        ge=1024,
        description="Sustained bytes per second a hub socket may send; each frame is charged "
        "by its size before it is parsed.",
    )
    ws_read_bytes_burst: int = Field(
        1048576,
        ge=65536,
        description="Bytes a hub socket may send in a burst above that (`rate_limited`, then "
        "4429 if it goes on).",
    )
    ws_json_max_depth: int = Field(
        16, ge=4, le=64, description="Deepest nesting of arrays and objects in a hub request."
    )
    ws_sockets_per_member: int = Field(
        20,
        ge=1,
        description="Hub and Yjs sockets one member may hold open on one node; the next "
        "handshake is closed with 4409.",
    )
    ws_close_grace_seconds: float = Field(
        5,
        gt=0,
        description="After the server's close frame, how long a peer has to finish the "
        "closing handshake before its connection is reset (a peer that stopped reading).",
    )
    rest_write_rate_per_second: float = Field(
        1,
        gt=0,
        description="Sustained REST writes (POST, PUT, PATCH, DELETE) per second per member, "
        "on this node...",
    )
    rest_write_burst: int = Field(
        60, ge=1, description="...and the writes a member may burst above that before 429."
    )
