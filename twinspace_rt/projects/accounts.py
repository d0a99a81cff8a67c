"""Accounts: teachers who sign up or arrive from the identity platform, and logging in."""

from __future__ import annotations

import math
import re
import secrets
import unicodedata
from collections.abc import Iterable
from datetime import datetime
from typing import Any, Protocol

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession
from starlette.requests import HTTPConnection

from twinspace_rt.auth.login_throttle import LoginThrottle
from twinspace_rt.auth.passwords import hash_password, verify_password
from twinspace_rt.auth.policy import Member
from twinspace_rt.auth.tokens import ExternalIdentity, LocalIdentity, TokenService
from twinspace_rt.errors import AppError, ErrorCode
from twinspace_rt.projects import audit
from twinspace_rt.storage.models import USERNAME_MAX, AccountKind, Membership, User

USERNAME_PATTERN = r"^[a-z0-9][a-z0-9._-]{2,63}$"
_USERNAME_RE = re.compile(USERNAME_PATTERN)


def normalise_username(username: str) -> str:
    name = username.strip().lower()
    if not _USERNAME_RE.fullmatch(name):
        raise AppError(
            ErrorCode.validation_failed,
            "A username is 3-64 characters: lowercase letters, digits, '.', '_' or '-'.",
        )
    return name


def username_stem(display_name: str) -> str:
    """'Çağla Öztürk' -> 'cagla': ASCII letters of the first name, for a readable login."""
    folded = unicodedata.normalize("NFKD", display_name).encode("ascii", "ignore").decode()
    words = re.findall(r"[a-z0-9]+", folded.lower())
    return (words[0] if words else "pupil")[:16]


async def username_exists(tx: AsyncSession, username: str) -> bool:
    found = await tx.exec(select(User.id).where(User.username == username))
    return found.first() is not None


async def free_username(tx: AsyncSession, stem: str) -> str:
    for _ in range(20):
        candidate = f"{stem}.{secrets.randbelow(9000) + 1000}"
        if not await username_exists(tx, candidate):
            return candidate
    raise AppError(ErrorCode.username_taken, f"No free username left for {stem!r}.")


async def create_teacher(
    tx: AsyncSession,
    username: str,
    password: str,
    display_name: str | None = None,
    country: str | None = None,
) -> User:
    username = normalise_username(username)
    if await username_exists(tx, username):
        raise AppError(ErrorCode.username_taken, f"The username {username!r} is taken.")
    user = User(
        username=username,
        display_name=display_name or username,
        kind=AccountKind.teacher,
        country=country.upper() if country else None,
        password_hash=await hash_password(password),
    )
    tx.add(user)
    await tx.flush()
    return user


async def user_by_username(tx: AsyncSession, username: str) -> User | None:
    found = await tx.exec(select(User).where(User.username == username.strip().lower()))
    return found.first()


async def login(
    tx: AsyncSession, throttle: LoginThrottle, username: str, password: str, address: str
) -> User:
    """Refused for a while only where the failures came from (see `auth/login_throttle.py`)."""
    name = username.strip().lower()
    retry_after = await throttle.retry_after(name, address)
    if retry_after is not None:
        minutes = math.ceil(retry_after / 60)
        raise AppError(
            ErrorCode.rate_limited,
            f"Too many wrong passwords for {name!r} from here: try again in {minutes} "
            f"minute{'s' if minutes != 1 else ''}, or ask your teacher to unlock you.",
            retry_after=retry_after,
        )
    user = await user_by_username(tx, name)
    if not await verify_password(user.password_hash if user else None, password) or user is None:
        await throttle.record_failure(name, address)
        raise AppError(ErrorCode.invalid_credentials)
    await throttle.forget(name, address)
    return user


async def unlock(tx: AsyncSession, throttle: LoginThrottle, actor: Member, user_id: int) -> User:
    """A teacher vouches for a pupil of their project who typed their password wrong too often."""
    found = await tx.exec(
        select(User)
        .join(Membership, col(Membership.user_id) == col(User.id))
        .where(Membership.project_id == actor.project_id, User.id == user_id)
    )
    user = found.first()
    if user is None:
        raise AppError(ErrorCode.not_found)
    if not user.is_pupil:
        raise AppError(ErrorCode.forbidden, "Only pupils can be unlocked here.")
    await throttle.unlock(user.username)
    audit.record(tx, actor, "pupil.unlock", user_id)
    return user


async def change_password(tx: AsyncSession, user: User, current: str, new: str) -> list[int]:
    """Ends every sign-in of the account, as a reset does (a stolen token must not outlive the
    password it was got with); the caller issues the changing sign-in a fresh token. Returns
    the projects whose live sockets must be re-checked."""
    if not await verify_password(user.password_hash, current):
        raise AppError(ErrorCode.invalid_credentials, "The current password is wrong.")
    if new == current:
        raise AppError(
            ErrorCode.validation_failed, "The new password must differ from the current one."
        )
    user.password_hash = await hash_password(new)
    user.must_change_password = False
    user.token_generation += 1
    tx.add(user)
    await tx.flush()
    found = await tx.exec(select(Membership.project_id).where(Membership.user_id == user.id))
    return list(found.all())


async def user_for_token(tx: AsyncSession, tokens: TokenService, token: str) -> User:
    user, _, _ = await sign_in_for_token(tx, tokens, token)
    return user


async def sign_in_for_token(
    tx: AsyncSession, tokens: TokenService, token: str, *, changing_password: bool = False
) -> tuple[User, datetime, str]:
    """The token's user, when the token expires (long-lived sockets close then) and the
    sign-in it belongs to (empty for the identity platform's tokens).

    Every REST call and socket comes through here, so this is where an account still on its
    printed one-time password is held to changing it: the sheet must not stay valid for good."""
    identity = tokens.decode(token)
    if isinstance(identity, LocalIdentity):
        user = await tx.get(User, identity.user_id)
        if user is None or user.token_generation != identity.generation:
            raise AppError(ErrorCode.token_invalid, "This token has been revoked.")
        if user.must_change_password and not changing_password:
            raise AppError(ErrorCode.password_change_required)
        return user, identity.expires_at, identity.sign_in
    return await _external_user(tx, identity), identity.expires_at, ""


class SignedInSocket(Protocol):
    """What `carry_sign_in` needs of a hub or Yjs socket; the handshake (`hub/endpoint.admit`)
    put its token's sign-in in ``websocket.state.sign_in``."""

    token_generation: int

    @property
    def websocket(self) -> HTTPConnection: ...

    @property
    def user_id(self) -> int: ...


def carry_sign_in(sockets: Iterable[SignedInSocket], event: dict[str, Any]) -> None:
    """The sockets of the sign-in that changed its password move to the new generation.

    Called on every node as the `room` event arrives, before the re-check that reads the store
    and closes the sockets of every other sign-in (4401)."""
    renewed = event.get("renewed")
    if not renewed or not renewed["sign_in"]:
        return
    for socket in sockets:
        if (
            socket.user_id == renewed["user_id"]
            and getattr(socket.websocket.state, "sign_in", "") == renewed["sign_in"]
            and socket.token_generation == renewed["generation"] - 1
        ):
            socket.token_generation = renewed["generation"]


async def _external_user(tx: AsyncSession, identity: ExternalIdentity) -> User:
    """The platform owns teacher identities; we keep a local row to hang memberships on."""
    found = await tx.exec(select(User).where(User.external_id == identity.external_id))
    user = found.first()
    if user is not None:
        return user
    wanted = (identity.username or identity.subject).lower()
    stem = re.sub(r"[^a-z0-9._-]", "", wanted)[: USERNAME_MAX - 6] or "teacher"
    username = (
        stem
        if _USERNAME_RE.fullmatch(stem) and not await username_exists(tx, stem)
        else await free_username(tx, stem[:16])
    )
    user = User(
        username=username,
        display_name=identity.display_name or username,
        kind=AccountKind.teacher,
        country=identity.country,
        external_id=identity.external_id,
    )
    tx.add(user)
    await tx.flush()
    return user
