"""Where the real services live for tests, and what to do when one is missing.

On CI (``CI`` set) a missing service fails the test; on a laptop it skips with the reason.
"""

from __future__ import annotations

import os
import socket

import pytest
import redis.asyncio
from redis.exceptions import RedisError

from tests.support.waiting import WAIT

IN_CI = os.environ.get("CI", "").lower() not in ("", "0", "false")
DB_KIND = os.environ.get("TWINSPACE_TEST_DATABASE", "sqlite")
POSTGRES_DSN = os.environ.get(
    "TWINSPACE_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test"
)
REDIS_URL = os.environ.get("TWINSPACE_TEST_REDIS", "redis://127.0.0.1:6379/0")


def service_missing(name: str, reason: str) -> None:
    message = f"{name} is not reachable ({reason}); start it as .ci/run does"
    if IN_CI:
        pytest.fail(message, pytrace=False)
    pytest.skip(message)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def require_shared_redis() -> str:
    """The shared Redis every test but the fault tests uses; fails on CI when it is down."""
    client = redis.asyncio.Redis.from_url(REDIS_URL, socket_connect_timeout=WAIT)
    try:
        await client.ping()
    except (RedisError, OSError) as exc:
        service_missing("Redis", str(exc))
    finally:
        await client.aclose()
    return REDIS_URL
