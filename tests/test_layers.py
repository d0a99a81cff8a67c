"""The layers of docs/ARCHITECTURE.md are the layers of the code.

The contracts live in pyproject.toml (`[tool.importlinter]`) and import-linter reads the imports;
the chat message's path is measured on a real server, from the frames on the call stacks that
carry one message from its socket to the database and on to another socket.
"""

from __future__ import annotations

import sys
from pathlib import Path
from types import FrameType
from typing import Any

from importlinter.cli import lint_imports

from tests.chat.test_chat import connect
from tests.support.live import Live
from tests.support.room import make_room

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = (ROOT / "twinspace_rt", ROOT / "signaling")
# Where a chat message's path is sampled, from the call stacks (each step runs in its own task):
# the request's dispatch, the row's insert, and the write to each socket.
SAMPLED = {
    "_dispatch": "twinspace_rt/hub/connection.py",
    "_write": "twinspace_rt/chat/writer.py",
    "write_frame": "twinspace_rt/ws/transport.py",
}
# The files of that path: the socket (hub/connection.py), chat's request and writer, the database
# (group commit and the SQLite writer), the hub's publish, local delivery (broker/memory.py), the
# project room's fan-out and the socket's transport. The target: 8 (18 by reading).
PATH_FILES_MAX = 8


def test_the_layers_depend_one_way() -> None:
    """Every contract in pyproject.toml is kept: layers, and no feature in the cores."""
    assert lint_imports(config_filename=str(ROOT / "pyproject.toml"), no_cache=True) == 0


def _project_files(frame: FrameType | None) -> set[str]:
    found = set()
    while frame is not None:
        path = Path(frame.f_code.co_filename)
        if any(path.is_relative_to(package) for package in PACKAGES):
            found.add(str(path.relative_to(ROOT)))
        frame = frame.f_back
    return found


async def test_a_chat_message_crosses_few_files(live: Live) -> None:
    room = await make_room(live.http, live.services)
    teacher = await connect(live, room, "teacher")
    pupil = await connect(live, room, "pupil")
    await pupil.ok("chat.subscribe", channels={"general": None})
    path: set[str] = set()
    sampled: set[str] = set()

    def sample(frame: FrameType, event: str, arg: Any) -> None:
        name = frame.f_code.co_name
        if event == "call" and frame.f_code.co_filename.endswith(SAMPLED.get(name, "\0")):
            sampled.add(name)
            path.update(_project_files(frame))

    sys.setprofile(sample)
    try:
        await teacher.ok("chat.send", channel="general", text="Olá", key="k1")
        await pupil.wait_for("chat.message")
    finally:
        sys.setprofile(None)
    assert sampled == set(SAMPLED), "the message did not pass where the path is sampled"
    assert len(path) <= PATH_FILES_MAX, sorted(path)
    await teacher.close()
    await pupil.close()
