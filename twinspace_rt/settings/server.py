"""Where the node listens and stores, who signs in and how, and what it trusts: the"""

from __future__ import annotations

import ipaddress
from enum import StrEnum
from pathlib import Path
from typing import Annotated

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode

from twinspace_rt.settings.lists import split_list


class Environment(StrEnum):
    development = "development"
    production = "production"


class ServerSettings(BaseSettings):
    """Where the node listens and stores, who signs in and how, and what it trusts: the
    address and data folder, the database and Redis, tokens and the login throttle, origins and
    proxies."""

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
        value = split_list(value)
        if isinstance(value, list):
            for entry in value:
                ipaddress.ip_network(str(entry), strict=False)
        return value

    @field_validator("allowed_origins", mode="before")
    @classmethod
    def _split_origins(cls, value: object) -> object:
        return split_list(value)
