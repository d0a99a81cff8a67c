"""What the server takes from its dependencies: uvicorn's members, checked at start-up, and
aiortc/PyAV, loaded only where an SDP is parsed."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import uvicorn
from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol

from twinspace_rt.ws.uvicorn_check import ATTRIBUTES, METHODS, missing_members

ROOT = Path(__file__).resolve().parent.parent


def _python(code: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "TWINSPACE_DATA_DIR": str(tmp_path), "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=120,
    )


def test_the_installed_uvicorn_has_every_member_the_transport_uses() -> None:
    assert missing_members(WebSocketsSansIOProtocol) == []


class _Before0521(asyncio.Protocol):
    """uvicorn 0.35–0.52.0's protocol in outline: no `disconnected` flag, asyncio's no-op flow
    control."""

    def __init__(self) -> None:
        self.transport = None
        self.conn = None
        self.handshake_complete = False
        self.close_sent = False
        self.writable = asyncio.Event()
        self.curr_msg_data_type = None
        self.frames: list[bytes] = []
        self.queue: asyncio.Queue[object] = asyncio.Queue()

    def handle_connect(self, event: object) -> None:
        self.scope = {"extensions": {}}
        self.response = event

    def send_receive_event_to_app(self) -> None: ...

    async def send(self, message: object) -> None: ...

    def handle_parser_exception(self) -> None: ...

    def shutdown(self) -> None: ...


def test_a_protocol_lacking_members_is_named_member_by_member() -> None:
    assert missing_members(_Before0521) == ["pause_writing", "resume_writing", "disconnected"]

    class Bare(asyncio.Protocol):
        pass

    assert missing_members(Bare) == [*METHODS, *ATTRIBUTES]


def test_serve_refuses_to_start_on_a_uvicorn_without_flow_control(tmp_path: Path) -> None:
    result = _python(
        """
        from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol
        # What a uvicorn before 0.52.1 looks like: asyncio.Protocol's no-op flow control.
        del WebSocketsSansIOProtocol.pause_writing
        del WebSocketsSansIOProtocol.resume_writing
        from twinspace_rt.cli import main
        main(["serve", "--host", "127.0.0.1", "--port", "0"])
        """,
        tmp_path,
    )
    assert result.returncode == 1, result.stderr
    assert f"uvicorn {uvicorn.__version__} does not fit twinspace-rt" in result.stderr
    assert "lacks pause_writing, resume_writing" in result.stderr
    assert "Traceback" not in result.stderr
    assert "Uvicorn running" not in result.stderr


def test_the_server_does_not_load_aiortc_or_pyav_until_an_sdp_is_parsed(tmp_path: Path) -> None:
    result = _python(
        """
        import sys

        def loaded():
            return sorted({m.split(".")[0] for m in sys.modules} & {"aiortc", "av"})

        from twinspace_rt.app import create_app
        from twinspace_rt.cli import main
        from twinspace_rt.settings import Settings
        import signaling.handlers, signaling.sdp
        create_app(Settings())
        print("app", loaded())

        from signaling.messages import Description
        from twinspace_rt.errors import AppError
        try:
            signaling.sdp.check_description(
                Description(type="offer", sdp="v=0\\r\\no=- 1 1 IN IP4 0.0.0.0\\r\\ns=-\\r\\n"), 10_000
            )
        except AppError as exc:
            print("sdp", exc.code.value, loaded())
        """,
        tmp_path,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == ["app []", "sdp invalid_sdp ['aiortc', 'av']"]
