"""ICE servers for one join: STUN as configured, TURN with coturn ``use-auth-secret`` credentials.

coturn's REST scheme: the username is ``<expiry unix time>:<user id>`` and the password is
``base64(HMAC-SHA1(shared secret, username))``. coturn recomputes the password from its own copy
of the secret and refuses the username once its time has passed, so nothing is stored here.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from typing import Any

from twinspace_rt.settings import Settings


def turn_credentials(secret: str, user_id: int, now: float, ttl_seconds: int) -> tuple[str, str]:
    username = f"{int(now) + ttl_seconds}:{user_id}"
    digest = hmac.new(secret.encode(), username.encode(), hashlib.sha1).digest()
    return username, base64.b64encode(digest).decode()


def ice_servers(settings: Settings, user_id: int, now: float) -> list[dict[str, Any]]:
    """In the shape of ``RTCConfiguration.iceServers``; empty when nothing is configured."""
    servers: list[dict[str, Any]] = []
    if settings.rtc_stun_urls:
        servers.append({"urls": list(settings.rtc_stun_urls)})
    if settings.rtc_turn_urls and settings.rtc_turn_secret is not None:
        username, credential = turn_credentials(
            settings.rtc_turn_secret.get_secret_value(),
            user_id,
            now,
            settings.rtc_turn_ttl_seconds,
        )
        servers.append(
            {"urls": list(settings.rtc_turn_urls), "username": username, "credential": credential}
        )
    return servers
