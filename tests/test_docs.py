"""Docs that must stay true to the code."""

from __future__ import annotations

import re
from pathlib import Path
from typing import get_args

from twinspace_rt.errors import ErrorCode
from twinspace_rt.hub.close_codes import CloseCode
from twinspace_rt.hub.protocol import AnyRequest
from twinspace_rt.settings import Settings

ROOT = Path(__file__).resolve().parent.parent


def test_readme_documents_every_setting() -> None:
    readme = (ROOT / "README.md").read_text()
    for name in Settings.model_fields:
        assert f"`TWINSPACE_{name.upper()}`" in readme, f"README lacks TWINSPACE_{name.upper()}"


def test_protocol_lists_every_error_code() -> None:
    protocol = (ROOT / "docs" / "PROTOCOL.md").read_text()
    for code in ErrorCode:
        assert f"`{code.value}`" in protocol, f"docs/PROTOCOL.md lacks error code {code.value}"


def test_architecture_names_existing_modules() -> None:
    architecture = (ROOT / "docs" / "ARCHITECTURE.md").read_text()
    for line in architecture.splitlines():
        if line.startswith(("| `twinspace_rt/", "| `signaling/")):
            path = line.split("`")[1]
            assert (ROOT / path).exists(), f"ARCHITECTURE.md names {path}, which does not exist"


def test_protocol_lists_every_hub_message_and_close_code() -> None:
    protocol = (ROOT / "docs" / "PROTOCOL.md").read_text()
    request_models = get_args(get_args(AnyRequest)[0])
    requests = {get_args(m.model_fields["type"].annotation)[0] for m in request_models}
    folders = (ROOT / "twinspace_rt" / "hub", ROOT / "signaling")
    sources = "".join(p.read_text() for folder in folders for p in folder.glob("*.py"))
    pushes = set(re.findall(r'push\(\s*"([a-z.]+)"', sources))
    assert {"presence.state", "chat.message", "room.changed"} <= pushes
    for kind in requests | pushes:
        assert f"`{kind}`" in protocol, f"docs/PROTOCOL.md lacks the hub message {kind}"
    for code in CloseCode:
        assert f"`{code.value}`" in protocol, f"docs/PROTOCOL.md lacks close code {code.value}"
