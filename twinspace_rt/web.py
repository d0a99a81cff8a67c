"""The web client: the built files of `static/` served at `/`, or a page saying how to build them.

The client is a static bundle (README, "The web client"): the API and the hub live on the same
origin, so it needs no configuration and the server needs no templates.
"""

from __future__ import annotations

from pathlib import Path

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

# The route name by which `api/security_headers.py` gives the client its own policy.
WEB_ROUTE = "web"

NOT_BUILT = (
    "The TwinSpace web client is not built yet.\n"
    "Run `make run` from the repository (it installs and builds it),\n"
    "or `cd static && npm ci && npm run build`, then restart the server.\n"
    "The REST API (/openapi.json) and the hub (/ws/projects/{id}) work without it.\n"
)


async def _not_built(request: Request) -> Response:
    return PlainTextResponse(NOT_BUILT, status_code=503)


def web_client_route(web_dir: Path) -> BaseRoute:
    """Mounted last, so every API route wins over a file of the same path."""
    if (web_dir / "index.html").is_file():
        return Mount("/", app=StaticFiles(directory=web_dir, html=True), name=WEB_ROUTE)
    return Route("/", _not_built, methods=["GET"])
