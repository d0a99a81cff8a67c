"""The one settings object: every knob comes from a ``TWINSPACE_*`` variable or ``.env``.

Its fields are declared in groups, one module per area (the server, sockets, content, video,
privacy, materials), and form one ``Settings``: one object is read at start-up and passed down.
"""

from __future__ import annotations

import secrets
from functools import cached_property

from pydantic import model_validator
from pydantic_settings import SettingsConfigDict

from twinspace_rt.settings.content import ContentSettings
from twinspace_rt.settings.materials import MaterialSettings
from twinspace_rt.settings.privacy import PrivacySettings
from twinspace_rt.settings.server import Environment, ServerSettings
from twinspace_rt.settings.sockets import SocketSettings
from twinspace_rt.settings.video import VideoSettings

__all__ = ["Environment", "Settings"]


class Settings(
    ServerSettings,
    SocketSettings,
    ContentSettings,
    VideoSettings,
    PrivacySettings,
    MaterialSettings,
):
    """Read once at start-up and passed down; nothing else reads the environment."""

    model_config = SettingsConfigDict(
        env_prefix="TWINSPACE_", env_file=".env", extra="ignore", frozen=True
    )

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
