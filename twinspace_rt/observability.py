"""The node's runtime metrics, every family defined here (HTTP's own are in `api/metrics.py`).

Instrumented code calls one function of this module per event, so a metric costs its call site
one line. The families are process-wide, as Prometheus clients usually keep them: one process
is one node, and `register` adds them to each app's registry, which `/metrics` exposes. (Test
nodes that share a process share these counts; tests compare before and after.) What belongs
to one app's objects, the broker's link, is read from that app's broker at scrape time.
`deploy/grafana/twinspace-rt.json` charts every family.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from twinspace_rt.errors import ErrorCode

T = TypeVar("T")

SOCKETS = Gauge("twinspace_sockets_open", "Open WebSockets by kind (hub, yjs).", ["kind"])
CLOSES = Counter(
    "twinspace_socket_closes",
    "WebSockets closed, by kind and close code (`peer`: the client left first).",
    ["kind", "code"],
)
OVERFLOWS = Counter(
    "twinspace_send_buffer_overflows",
    "Sockets closed because their unsent bytes passed the send buffer (4408).",
    ["kind"],
)
REFUSED = Counter(
    "twinspace_refused_inputs",
    "Client input refused with an error code, by transport (http, hub, yjs) and reason.",
    ["transport", "reason"],
)
BATCH_SIZE = Histogram(
    "twinspace_group_commit_batch_size",
    "Writes per group-commit transaction, by writer (chat, documents).",
    ["writer"],
    buckets=(1, 2, 5, 10, 20, 50, 100, 200, 500),
)
COMMIT_SECONDS = Histogram(
    "twinspace_group_commit_seconds",
    "Time to commit one group-commit batch (documents: and relay it), by writer.",
    ["writer"],
    buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5),
)
JOBS = Counter(
    "twinspace_background_jobs",
    "Background jobs run (compaction, version, unload, reload), by outcome (ok, failed).",
    ["job", "outcome"],
)

FAMILIES = (SOCKETS, CLOSES, OVERFLOWS, REFUSED, BATCH_SIZE, COMMIT_SECONDS, JOBS)
TOO_SLOW = 4408
# 4408 also ends idle sockets; these reasons (`ws/transport.py`) are the send buffer's own.
OVERFLOW_REASONS = ("send buffer overflow", "replay not consumed")


def register(
    registry: CollectorRegistry,
    broker_up: Callable[[], bool],
    on_reconnect: Callable[[Callable[[], Awaitable[None]]], None],
) -> None:
    """Adds the process's families and this node's broker state to an app's registry. The
    broker is seen through two callables, so this module stays below every other."""
    for family in FAMILIES:
        registry.register(family)
    up = Gauge("twinspace_broker_up", "1 while the broker's link works.", registry=registry)
    up.set_function(lambda: float(broker_up()))
    reconnects = Counter(
        "twinspace_broker_reconnects",
        "Times the broker's link came back after an outage.",
        registry=registry,
    )

    async def reconnected() -> None:
        reconnects.inc()

    on_reconnect(reconnected)


def socket_opened(kind: str) -> None:
    SOCKETS.labels(kind).inc()


def socket_ended(kind: str, code: int | None, reason: str) -> None:
    """A socket admitted by `socket_opened` is over; ``code`` is the one the server sent."""
    SOCKETS.labels(kind).dec()
    closed(kind, code)
    if code == TOO_SLOW and reason.startswith(OVERFLOW_REASONS):
        OVERFLOWS.labels(kind).inc()


def closed(kind: str, code: int | None) -> None:
    """A close, including a handshake refused before the socket was admitted."""
    CLOSES.labels(kind, "peer" if code is None else str(code)).inc()


def refused(transport: str, reason: ErrorCode | str) -> None:
    REFUSED.labels(transport, str(reason)).inc()


def batch_committed(writer: str, size: int, seconds: float) -> None:
    BATCH_SIZE.labels(writer).observe(size)
    COMMIT_SECONDS.labels(writer).observe(seconds)


async def job(name: str, work: Awaitable[T]) -> T:
    """Runs ``work``, counting it as one run of the job ``name`` and how it ended."""
    try:
        result = await work
    except Exception:
        JOBS.labels(name, "failed").inc()
        raise
    JOBS.labels(name, "ok").inc()
    return result
