"""The server serves the built web client at `/`, and says how to build it when it is missing."""

from __future__ import annotations

from pathlib import Path

import httpx
from starlette.applications import Starlette

from twinspace_rt.app import create_app
from twinspace_rt.settings import Settings


async def _get(app: Starlette, path: str) -> httpx.Response:
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            return await http.get(path)


async def test_without_a_build_the_root_says_how_to_build(
    settings: Settings, tmp_path: Path
) -> None:
    app = create_app(settings.model_copy(update={"web_dir": tmp_path / "missing"}))
    response = await _get(app, "/")
    assert response.status_code == 503
    assert "make run" in response.text and "npm run build" in response.text


async def test_the_build_is_served_at_the_root_and_the_api_keeps_its_paths(
    settings: Settings, tmp_path: Path
) -> None:
    (tmp_path / "assets").mkdir()
    (tmp_path / "index.html").write_text("<!doctype html><title>client</title>")
    (tmp_path / "assets" / "main.js").write_text("console.log(1)")
    app = create_app(settings.model_copy(update={"web_dir": tmp_path}))
    root = await _get(app, "/")
    assert root.status_code == 200 and "<title>client</title>" in root.text
    asset = await _get(app, "/assets/main.js")
    assert asset.status_code == 200 and "javascript" in asset.headers["content-type"]
    assert (await _get(app, "/healthz")).json()["status"] == "ok"
    missing = await _get(app, "/nothing-here.js")
    assert missing.status_code == 404
    assert missing.json()["error"]["code"] == "not_found"
