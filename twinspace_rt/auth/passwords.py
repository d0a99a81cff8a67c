"""Password hashing (argon2id) and the one-time passwords handed to pupils.

Hashing is deliberately slow, so it runs in a worker thread and never stalls the event loop.
"""

from __future__ import annotations

import secrets

from anyio import to_thread
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

# OWASP's argon2id baseline (19 MiB, 2 passes, 1 lane): a class of 30 logging in at once must
# not stall a 2-core school server, and the library default costs several times as much.
_hasher = PasswordHasher(time_cost=2, memory_cost=19456, parallelism=1)
# Verified against when the username is unknown, so a miss costs as much time as a hit.
_DUMMY_HASH = _hasher.hash("not-a-real-password")

# No 0/O, 1/l/I: a child copies this from a printed sheet.
_READABLE = "abcdefghijkmnpqrstuvwxyz23456789"
PASSWORD_MIN = 8
PASSWORD_MAX = 256


async def hash_password(password: str) -> str:
    return await to_thread.run_sync(_hasher.hash, password)


async def verify_password(password_hash: str | None, password: str) -> bool:
    def check() -> bool:
        try:
            return _hasher.verify(password_hash or _DUMMY_HASH, password) and bool(password_hash)
        except (VerificationError, InvalidHashError):
            return False

    return await to_thread.run_sync(check)


def one_time_password() -> str:
    """Three groups of four readable characters: about 62 bits, easy to type on a tablet."""
    groups = ("".join(secrets.choice(_READABLE) for _ in range(4)) for _ in range(3))
    return "-".join(groups)
