"""The one settings object: every knob comes from a ``TWINSPACE_*`` variable or ``.env``."""

from __future__ import annotations

import ipaddress
import secrets
from enum import StrEnum
from functools import cached_property
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict


class Environment(StrEnum):
    development = "development"
    production = "production"


class Settings(BaseSettings):
    """Read once at start-up and passed down; nothing else reads the environment."""

    model_config = SettingsConfigDict(
        env_prefix="TWINSPACE_", env_file=".env", extra="ignore", frozen=True
    )

    env: Environment = Field(
        Environment.development,
        description="`development` or `production`; production requires a secret key.",
    )
    host: str = Field("127.0.0.1", description="Address `serve` binds to.")
    port: int = Field(8000, ge=0, le=65535, description="Port `serve` binds to.")
    data_dir: Path = Field(
        Path("data"), description="Folder for the embedded SQLite database and the dev secret key."
    )
    database_url: str | None = Field(
        None,
        description="SQLAlchemy async URL. Empty: SQLite at `<data_dir>/twinspace.db`. "
        "PostgreSQL: `postgresql+asyncpg://user@host:5432/db`.",
    )
    secret_key: SecretStr | None = Field(
        None,
        description="Signs access tokens (HS256). Required in production; in development one "
        "is generated once and kept in `<data_dir>/secret_key`.",
    )
    token_ttl_seconds: int = Field(
        3600, ge=60, le=7 * 86400, description="Lifetime of an access token."
    )
    open_registration: bool = Field(
        False, description="Let anyone register a teacher account at `POST /api/auth/register`."
    )
    login_max_failures: int = Field(
        5,
        ge=1,
        description="Failed logins of one username from one address before that pair waits "
        "(other usernames from the address, and the username elsewhere, are not slowed).",
    )
    login_first_delay_seconds: int = Field(
        30, ge=1, description="The first wait after those failures; each further one doubles it."
    )
    login_max_delay_seconds: int = Field(
        900, ge=1, description="The longest wait one username from one address is given."
    )
    login_window_seconds: int = Field(
        300,
        ge=1,
        description="Failures are forgotten this long after the last one (per address: the "
        "count resets this long after its first).",
    )
    login_address_max_failures: int = Field(
        1000,
        ge=1,
        description="Failed logins of any usernames from one address within the window before "
        "it waits (429 with `Retry-After`); fit for a school of a thousand pupils behind one "
        "public address.",
    )
    external_jwt_issuer: str | None = Field(
        None, description="Issuer (`iss`) of tokens from the identity platform; empty disables."
    )
    external_jwt_audience: str | None = Field(
        None, description="Audience (`aud`) those tokens must carry."
    )
    external_jwt_public_key: str | None = Field(
        None, description="PEM public key for RS256/ES256 external tokens."
    )
    external_jwt_secret: SecretStr | None = Field(
        None, description="Shared secret for HS256 external tokens."
    )
    log_level: str = Field("info", description="uvicorn log level.")
    web_dir: Path = Field(
        Path("static/dist"),
        description="The built web client served at `/` (relative to the working directory).",
    )
    redis_url: str | None = Field(
        None, description="Redis URL for the multi-node broker. Empty: in-process broker."
    )
    redis_prefix: str = Field(
        "twinspace",
        min_length=1,
        description="Prefix of every Redis key and channel, so "
        "several deployments can share one Redis.",
    )
    allowed_origins: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Comma-separated browser origins allowed to open WebSockets besides the "
        "server's own.",
    )
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
    chat_text_max: int = Field(4000, ge=1, description="Longest chat message, in characters.")
    chat_commit_window_ms: float = Field(
        5,
        ge=0,
        le=100,
        description="Chat posts arriving within this many milliseconds share one transaction "
        "(group commit): less CPU per message under load, this much more latency.",
    )
    chat_rate_per_second: float = Field(
        5, gt=0, description="Sustained hub requests per second per connection."
    )
    chat_rate_burst: int = Field(20, ge=1, description="Hub requests a connection may burst.")
    chat_edit_window_seconds: int = Field(
        900, ge=0, description="How long authors may edit or delete their own messages."
    )
    chat_resume_max: int = Field(
        5000,
        ge=1,
        description="Most messages replayed per channel on resume; beyond: `recovered: false`.",
    )
    docs_message_max_bytes: int = Field(
        4 * 1024 * 1024,
        ge=1024,
        description="Largest y-websocket message a client may send (4413 beyond); it bounds "
        "one Yjs update, so it is also the largest offline change merged in one go.",
    )
    docs_awareness_max_bytes: int = Field(
        16384, ge=256, description="Largest awareness update (cursor, name, colour); 4413 beyond."
    )
    docs_rate_per_second: float = Field(
        100, gt=0, description="Sustained y-websocket messages per second per socket."
    )
    docs_rate_burst: int = Field(
        1000, ge=1, description="Messages a Yjs socket may burst above that before 4429."
    )
    docs_commit_window_ms: float = Field(
        15,
        ge=0,
        le=100,
        description="Document updates arriving within this many milliseconds share one "
        "transaction, and each socket gets them in one write: with 50 editors in a document "
        "the relay costs a third as much as with 5 ms.",
    )
    docs_compact_updates: int = Field(
        500, ge=1, description="Compact a document once its update log holds this many rows..."
    )
    docs_compact_bytes: int = Field(1024 * 1024, ge=1, description="...or this many bytes.")
    docs_unload_grace_seconds: float = Field(
        30, ge=0, description="A document with no sockets stays loaded this long."
    )
    docs_version_after_seconds: float = Field(
        300, gt=0, description="An automatic version is saved once edits pause for this long."
    )

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
        description="Path of Janus's Unix-socket API (`pfunix`); empty: no media server, every "
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

    # Sessions and proxies (issue 13).
    trusted_proxies: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Comma-separated addresses or networks (`10.0.0.0/8`) of reverse proxies "
        "whose `X-Forwarded-For` and `X-Forwarded-Proto` name the client. Empty: the headers "
        "are ignored and the peer's address is the client's (login throttling counts per "
        "address, so trusting a header anyone can send would let them rotate it).",
    )

    @field_validator("trusted_proxies", mode="before")
    @classmethod
    def _proxy_networks(cls, value: object) -> object:
        """Every entry must parse: uvicorn would take a typo for a literal and trust nothing."""
        if isinstance(value, str):
            value = [part.strip() for part in value.split(",") if part.strip()]
        if isinstance(value, list):
            for entry in value:
                ipaddress.ip_network(str(entry), strict=False)
        return value

    # Costs one member can impose (issue 13): each limit answers a clear error.
    search_terms_max: int = Field(
        8, ge=1, le=32, description="Most words in one search; the rest of the query is ignored."
    )
    search_term_max_chars: int = Field(
        64, ge=3, le=200, description="Longest word in a search (422 `validation_failed` beyond)."
    )
    search_prefix_min_chars: int = Field(
        3,
        ge=1,
        le=32,
        description="Words at least this long also find longer words (prefix match); shorter "
        "ones match whole words only, since a one-letter prefix matches nearly every word.",
    )
    search_timeout_ms: int = Field(
        3000,
        ge=1,
        description="Time one search may take in the database (PostgreSQL `statement_timeout`, "
        "an SQLite progress handler) before it answers 422 `search_timeout`.",
    )
    showcase_cache_seconds: int = Field(
        60,
        ge=0,
        le=3600,
        description="How long browsers and proxies may keep a public showcase page "
        "(`Cache-Control: max-age`): also how long an unpublished one may still be seen there.",
    )
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

    # Privacy (issue 19): erasure, export and retention; docs/PRIVACY.md explains each.
    privacy_erase_mode: Literal["blank", "delete"] = Field(
        "blank",
        description="What erasing a member does to their chat messages and posts where the "
        'project chose nothing: `blank` (they read "(removed)") or `delete` (deleted '
        "tombstones). Threads and replies stay either way.",
    )
    privacy_batch_size: int = Field(
        200, ge=1, le=10000, description="Rows one erasure, export or retention batch touches."
    )
    privacy_batch_pause_ms: float = Field(
        10, ge=0, le=10000, description="Pause between batches, so live traffic goes first."
    )
    privacy_job_lease_seconds: float = Field(
        60,
        gt=0,
        description="A node running an erasure or export renews its lease after each batch; "
        "if it dies, another node (or the same one restarted) resumes the job this long after.",
    )
    privacy_poll_seconds: float = Field(
        5, gt=0, description="How often a node looks for privacy jobs requested elsewhere."
    )
    privacy_export_link_seconds: int = Field(
        900, ge=60, le=7 * 86400, description="Lifetime of an export's download link."
    )
    retention_interval_seconds: float = Field(
        3600, gt=0, description="How often the retention run happens (once across the cluster)."
    )
    retention_chat_days: int = Field(
        365, ge=1, description="Default age after which chat messages are deleted."
    )
    retention_closed_project_months: int = Field(
        12, ge=1, description="Default months after which a closed project is deleted whole."
    )
    retention_audit_years: int = Field(
        3, ge=1, description="Default age, in years, after which audit entries are deleted."
    )
    retention_materials_days: int = Field(
        730,
        ge=1,
        description="Default age after which materials (with their stored files) are deleted.",
    )
    retention_journal_days: int = Field(
        730,
        ge=1,
        description="Default age after which journal posts are deleted (a post's comments go "
        "with it).",
    )
    retention_login_days: int = Field(
        90, ge=1, le=3650, description="Age after which login history entries are deleted."
    )
    privacy_export_keep_hours: float = Field(
        24,
        gt=0,
        le=24 * 30,
        description="A finished export's ZIP is deleted from the blob store this long after "
        "it was built; its requester asks for a new one after that.",
    )

    # Materials (issue 15): uploads, processing, the blob store.
    blob_dir: Path | None = Field(
        None, description="Folder of the local blob store. Empty: `<data_dir>/blobs`."
    )
    s3_endpoint_url: str | None = Field(
        None,
        description="S3-compatible endpoint (`http://s3.internal:8333`) for materials' bytes; "
        "empty: the local blob store. Nodes of a cluster must share one store.",
    )
    s3_bucket: str = Field("twinspace", min_length=3, description="The S3 bucket.")
    s3_region: str = Field("us-east-1", description="The S3 region name.")
    s3_access_key: str | None = Field(None, description="S3 access key id.")
    s3_secret_key: SecretStr | None = Field(None, description="S3 secret access key.")
    materials_chunk_bytes: int = Field(
        5 * 1024 * 1024,
        ge=64 * 1024,
        le=64 * 1024 * 1024,
        description="Size of one stored part of an upload (each is flushed before its bytes "
        "count); with S3 also the multipart part size held in memory (at least 5 MiB there).",
    )
    materials_upload_expiry_seconds: int = Field(
        86400, ge=60, description="An unfinished upload is deleted this long after it began."
    )
    materials_project_quota_bytes: int = Field(
        5 * 1024**3,
        ge=1,
        description="Bytes of materials (and uploads in progress) one project may hold.",
    )
    materials_image_max_bytes: int = Field(
        10 * 1000**2, ge=1, description="Largest image upload (eTwinning: 10 MB)."
    )
    materials_media_max_bytes: int = Field(
        100 * 1000**2, ge=1, description="Largest video, audio or file upload (100 MB)."
    )
    materials_media_max_seconds: float = Field(
        3600, gt=0, description="Longest video or audio (eTwinning: one hour)."
    )
    materials_image_max_pixels: int = Field(
        40_000_000,
        ge=1,
        description="Largest image (width × height) decoded; above, it is refused as a "
        "possible decompression bomb (Pillow's own limit is 89 MP).",
    )
    materials_link_seconds: int = Field(
        600,
        ge=10,
        le=86400,
        description="Lifetime of a signed link to a material's bytes (for `<img>`, `<video>`).",
    )
    materials_workers: int = Field(
        1, ge=0, le=16, description="Processing jobs this node runs at once (0: none here)."
    )
    materials_job_lease_seconds: float = Field(
        300,
        gt=0,
        description="A job whose worker has not finished after this long is taken over by "
        "another worker (a node that crashed mid-processing).",
    )

    @field_validator("allowed_origins", "rtc_stun_urls", "rtc_turn_urls", mode="before")
    @classmethod
    def _split_lists(cls, value: object) -> object:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @model_validator(mode="after")
    def _production_needs_secret(self) -> Settings:
        if self.env is Environment.production and self.secret_key is None:
            raise ValueError("TWINSPACE_SECRET_KEY is required when TWINSPACE_ENV=production")
        if self.external_jwt_issuer and not (
            self.external_jwt_public_key or self.external_jwt_secret
        ):
            raise ValueError(
                "TWINSPACE_EXTERNAL_JWT_ISSUER needs TWINSPACE_EXTERNAL_JWT_PUBLIC_KEY "
                "or TWINSPACE_EXTERNAL_JWT_SECRET"
            )
        if self.rtc_turn_urls and self.rtc_turn_secret is None:
            raise ValueError("TWINSPACE_RTC_TURN_URLS needs TWINSPACE_RTC_TURN_SECRET")
        return self

    @property
    def effective_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{self.data_dir / 'twinspace.db'}"

    @property
    def is_sqlite(self) -> bool:
        return self.effective_database_url.startswith("sqlite")

    @cached_property
    def signing_key(self) -> str:
        """The token secret; in development it survives restarts so logins stay valid."""
        if self.secret_key is not None:
            return self.secret_key.get_secret_value()
        path = self.data_dir / "secret_key"
        if path.exists():
            return path.read_text().strip()
        self.data_dir.mkdir(parents=True, exist_ok=True)
        key = secrets.token_urlsafe(48)
        path.touch(mode=0o600)
        path.write_text(key)
        return key
