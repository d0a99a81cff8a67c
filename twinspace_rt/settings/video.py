"""Video sessions: STUN/TURN, the mesh and the Janus SFU, signaling budgets."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode

from twinspace_rt.settings.lists import split_list


class VideoSettings(BaseSettings):
    """Video sessions: STUN/TURN, the mesh and the Janus SFU, signaling budgets."""

    rtc_stun_urls: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Comma-separated STUN URLs (`stun:host:3478`) given to video participants.",
    )
    rtc_turn_urls: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Comma-separated TURN URLs (`turn:host:3478?transport=udp`); "
        "needs the shared secret.",
    )
    rtc_turn_secret: SecretStr | None = Field(
        None, description="coturn `static-auth-secret` for ephemeral TURN credentials."
    )
    rtc_turn_ttl_seconds: int = Field(
        14400, ge=60, le=7 * 86400, description="Lifetime of the TURN credentials of one join."
    )
    rtc_mesh_max: int = Field(
        6, ge=2, le=16, description="Most participants in a mesh video session."
    )
    rtc_janus_socket: str = Field(
        "",
        description="Path of Janus's Unix-socket API (`pfunix`), or comma-separated paths of "
        "several Janus instances (the same list on every node); empty: no media server, every "
        "video session is a mesh.",
    )
    rtc_janus_api_secret: SecretStr | None = Field(
        None, description="Janus's `api_secret`, sent with every request to it."
    )
    rtc_janus_admin_key: SecretStr | None = Field(
        None, description="The VideoRoom plugin's `admin_key`: only holders may create rooms."
    )
    rtc_janus_keepalive_seconds: float = Field(
        20, gt=0, description="Keepalive interval of our Janus sessions (under its timeout)."
    )
    rtc_janus_reply_seconds: float = Field(
        10,
        gt=0,
        description="How long a request to Janus may go unanswered (a Janus hung or overloaded) "
        "before the client's request is answered `media_unavailable`.",
    )
    rtc_sfu_max: int = Field(
        50, ge=2, le=500, description="Most participants in a video session on the SFU (Janus)."
    )
    rtc_rejoin_grace_seconds: float = Field(
        30, gt=0, description="How long a dropped participant may rejoin as the same peer."
    )
    rtc_signal_rate_per_second: float = Field(
        50, gt=0, description="Sustained `rtc.signal` requests per second per joined socket."
    )
    rtc_signal_burst: int = Field(
        200, ge=1, description="`rtc.signal` requests a joined socket may burst."
    )
    rtc_sdp_max_bytes: int = Field(
        20000, ge=1024, description="Largest SDP offer or answer relayed."
    )
    rtc_candidate_max_bytes: int = Field(
        1024, ge=128, description="Largest ICE candidate line relayed."
    )

    @field_validator("rtc_stun_urls", "rtc_turn_urls", mode="before")
    @classmethod
    def _split_urls(cls, value: object) -> object:
        return split_list(value)
