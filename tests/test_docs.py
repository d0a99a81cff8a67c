"""Docs that must stay true to the code."""

from __future__ import annotations

import re
from pathlib import Path

from twinspace_rt.errors import ErrorCode
from twinspace_rt.services import Services
from twinspace_rt.settings import Settings
from twinspace_rt.ws.close_codes import CloseCode

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


def _registered_hub_features(tmp_path: Path) -> tuple[set[str], set[str]]:
    """The request and push types the composed application registers with the hub."""
    settings = Settings(_env_file=None, data_dir=tmp_path, secret_key="x" * 40)
    features = Services.build(settings).hub.features
    return set(features.requests), set(features.pushes)


def _documented_requests(protocol: str) -> set[str]:
    """The first cell of every row of the hub's request tables (headed "| type" under a
    "Requests" heading, or "| request")."""
    found: set[str] = set()
    section = header = ""
    for line in protocol.splitlines():
        if line.startswith("#"):
            section = line.strip("# ").lower()
        elif line.startswith("| ") and not line.startswith("| `"):
            header = line.split("|")[1].strip()
        elif (header == "request" or (section == "requests" and header == "type")) and (
            match := re.match(r"\| `([a-z][a-z._]*)` \|", line)
        ):
            found.add(match.group(1))
    return found


def test_protocol_lists_every_hub_message_and_close_code(tmp_path: Path) -> None:
    """docs/PROTOCOL.md's request tables are checked against the hub's registry, both ways."""
    protocol = (ROOT / "docs" / "PROTOCOL.md").read_text()
    requests, pushes = _registered_hub_features(tmp_path)
    assert {"presence.state", "chat.message", "room.changed"} <= pushes
    assert _documented_requests(protocol) == requests
    for kind in requests | pushes:
        assert f"`{kind}`" in protocol, f"docs/PROTOCOL.md lacks the hub message {kind}"
    for code in CloseCode:
        assert f"`{code.value}`" in protocol, f"docs/PROTOCOL.md lacks close code {code.value}"


def test_every_pushed_frame_is_registered(tmp_path: Path) -> None:
    """A feature that pushes a frame it did not register would be missing from the docs."""
    _, pushes = _registered_hub_features(tmp_path)
    folders = ("twinspace_rt", "signaling")
    sources = "".join(p.read_text() for folder in folders for p in (ROOT / folder).rglob("*.py"))
    assert set(re.findall(r'(?<![.\w])push\(\s*"([a-z.]+)"', sources)) <= pushes
