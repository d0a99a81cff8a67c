"""Access tokens: our own HS256 JWTs, and optionally the identity platform's tokens.

Each of our tokens names its sign-in (`sid`): the tokens of one login share it, so that a
password change can end every other sign-in and keep the one that made it.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import jwt

from twinspace_rt.errors import AppError, ErrorCode
from twinspace_rt.settings import Settings

ISSUER = "twinspace-rt"
ALGORITHM = "HS256"


@dataclass(frozen=True, slots=True)
class LocalIdentity:
    user_id: int
    generation: int
    expires_at: datetime
    # Empty for tokens issued before sign-ins were named: they belong to no sign-in to keep.
    sign_in: str = ""


@dataclass(frozen=True, slots=True)
class ExternalIdentity:
    """A person the identity platform vouches for; the account is created on first sight."""

    issuer: str
    subject: str
    username: str | None
    display_name: str | None
    country: str | None
    expires_at: datetime

    @property
    def external_id(self) -> str:
        return f"{self.issuer}|{self.subject}"


Identity = LocalIdentity | ExternalIdentity


class TokenService:
    def __init__(self, settings: Settings) -> None:
        self._settings = settings

    def issue(
        self, user_id: int, generation: int, sign_in: str | None = None
    ) -> tuple[str, datetime]:
        """A token of ``sign_in``, or of a new sign-in (a login) when it is None."""
        now = datetime.now(UTC)
        expires_at = now + timedelta(seconds=self._settings.token_ttl_seconds)
        claims = {
            "iss": ISSUER,
            "sub": str(user_id),
            "gen": generation,
            "sid": sign_in or secrets.token_urlsafe(12),
            "iat": now,
            "exp": expires_at,
        }
        return jwt.encode(claims, self._settings.signing_key, algorithm=ALGORITHM), expires_at

    def decode(self, token: str) -> Identity:
        try:
            # Read unverified only to choose the key, and only when there is a choice: every
            # socket's handshake comes through here (a reconnect storm is thousands at once).
            external = self._settings.external_jwt_issuer
            if external and jwt.decode(token, options={"verify_signature": False}).get("iss") == (
                external
            ):
                return self._decode_external(token)
            claims = jwt.decode(
                token,
                self._settings.signing_key,
                algorithms=[ALGORITHM],
                issuer=ISSUER,
                options={"require": ["exp", "sub", "iss"]},
            )
            sign_in = claims.get("sid", "")
            return LocalIdentity(
                user_id=int(claims["sub"]),
                generation=int(claims.get("gen", 0)),
                expires_at=_expiry(claims["exp"]),
                sign_in=sign_in if isinstance(sign_in, str) else "",
            )
        except jwt.ExpiredSignatureError as exc:
            raise AppError(ErrorCode.token_expired) from exc
        except (jwt.InvalidTokenError, ValueError, TypeError, OverflowError) as exc:
            raise AppError(ErrorCode.token_invalid) from exc

    def _decode_external(self, token: str) -> ExternalIdentity:
        settings = self._settings
        if settings.external_jwt_public_key:
            key: str = settings.external_jwt_public_key
            algorithms = ["RS256", "RS384", "RS512", "ES256", "ES384", "EdDSA"]
        else:
            assert settings.external_jwt_secret is not None
            key = settings.external_jwt_secret.get_secret_value()
            algorithms = ["HS256", "HS384", "HS512"]
        claims = jwt.decode(
            token,
            key,
            algorithms=algorithms,
            issuer=settings.external_jwt_issuer,
            audience=settings.external_jwt_audience,
            options={
                "require": ["exp", "sub", "iss"],
                "verify_aud": settings.external_jwt_audience is not None,
            },
        )
        country = claims.get("country")
        return ExternalIdentity(
            issuer=claims["iss"],
            subject=str(claims["sub"]),
            username=claims.get("preferred_username"),
            display_name=claims.get("name"),
            country=country.upper() if isinstance(country, str) and len(country) == 2 else None,
            expires_at=_expiry(claims["exp"]),
        )


def _expiry(value: object) -> datetime:
    """`exp` as a moment. PyJWT accepts any number (10**30, a float), which no datetime holds:
    such a token is malformed, not a server error."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise AppError(ErrorCode.token_invalid, "The token's `exp` is not a number.")
    try:
        return datetime.fromtimestamp(value, UTC)
    except (OverflowError, OSError, ValueError) as exc:
        raise AppError(ErrorCode.token_invalid, "The token's `exp` is out of range.") from exc
