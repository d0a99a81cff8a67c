"""What ``ws/transport.py`` takes from uvicorn's sans-I/O WebSocket protocol, checked at start-up.

``HubWebSocketProtocol`` subclasses ``WebSocketsSansIOProtocol``, which uvicorn does not offer as
public API: any release may rename what the subclass touches. A missing attribute would only
show on the first socket, and a missing flow control never shows at all (the send buffer of a
slow reader would grow without bound, and ``drained`` would return at once). So
``uvicorn_config`` asks ``missing_members`` first and refuses to start, naming what is missing,
rather than run on a uvicorn the transport was not written for. pyproject.toml's floor
(``uvicorn>=0.52.1``) is the first release that has them all.
"""

from __future__ import annotations

import asyncio
import dis
from types import CodeType

# Methods the subclass overrides or relies on. Flow control is asyncio's ``pause_writing`` /
# ``resume_writing``: asyncio.Protocol has no-op defaults, so they count only where uvicorn
# defines them itself.
METHODS = (
    "handle_connect",
    "pause_writing",
    "resume_writing",
    "send_receive_event_to_app",
    "send",
    "handle_parser_exception",
    "shutdown",
)
# Attributes the subclass reads, each assigned somewhere in uvicorn's class.
ATTRIBUTES = (
    "transport",
    "conn",
    "scope",
    "response",
    "handshake_complete",
    "close_sent",
    "disconnected",
    "writable",
    "curr_msg_data_type",
    "frames",
    "queue",  # replaced by a lighter inbox, with the three methods uvicorn calls on it
)


def missing_members(protocol: type) -> list[str]:
    """The names of ``METHODS`` and ``ATTRIBUTES`` that ``protocol`` lacks; empty when it has all.

    Attributes are set per connection, so they are found in the class's bytecode (an attribute
    store of that name in any of its methods), not on the class itself.
    """
    own = [klass for klass in protocol.__mro__ if klass not in asyncio.Protocol.__mro__]
    methods = {name for klass in own for name, value in vars(klass).items() if callable(value)}
    stored: set[str] = set()
    for klass in own:
        for value in vars(klass).values():
            code = getattr(value, "__code__", None)
            if isinstance(code, CodeType):
                stored |= _attribute_stores(code)
    return [name for name in METHODS if name not in methods] + [
        name for name in ATTRIBUTES if name not in stored
    ]


def _attribute_stores(code: CodeType) -> set[str]:
    names = {ins.argval for ins in dis.get_instructions(code) if ins.opname == "STORE_ATTR"}
    for const in code.co_consts:
        if isinstance(const, CodeType):
            names |= _attribute_stores(const)
    return names


def check_uvicorn(protocol: type, version: str) -> None:
    """Raises ``SystemExit`` with a message naming the missing members, so the node never starts."""
    missing = missing_members(protocol)
    if missing:
        raise SystemExit(
            f"uvicorn {version} does not fit twinspace-rt: its {protocol.__name__} lacks "
            f"{', '.join(missing)}, which the hub's WebSocket transport (ws/transport.py) "
            "relies on. Install the locked versions (make, or pip install -r "
            "requirements.lock) or a uvicorn within pyproject.toml's range."
        )
