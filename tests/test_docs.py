"""Docs that must stay true to the code."""

from __future__ import annotations

from pathlib import Path

from twinspace_rt.errors import ErrorCode
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
        if line.startswith("| `twinspace_rt/"):
            path = line.split("`")[1]
            assert (ROOT / path).exists(), f"ARCHITECTURE.md names {path}, which does not exist"
