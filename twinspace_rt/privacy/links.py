"""Export download links: signed for one job and one requester, and short-lived.

The signature binds the job, the requester's user id and the expiry; the download also needs
the requester's own bearer token, so a link that leaks (a forwarded e-mail, a shared screen)
opens nothing for anyone else, and nothing after it expires.
"""

from __future__ import annotations

import hashlib
import hmac


def signature(key: str, job_id: int, user_id: int, expires: int) -> str:
    message = f"privacy-export:{job_id}:{user_id}:{expires}".encode()
    return hmac.new(key.encode(), message, hashlib.sha256).hexdigest()


def valid(key: str, job_id: int, user_id: int, expires: int, given: str, now: float) -> bool:
    if expires < now:
        return False
    return hmac.compare_digest(signature(key, job_id, user_id, expires), given)
