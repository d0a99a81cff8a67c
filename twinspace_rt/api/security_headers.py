"""Security headers on every HTTP response, in one pure ASGI middleware.

Two Content-Security-Policies. The web client (the `web` mount, `web.py`) runs only the
bundle's own scripts and styles (`static/build.mjs` emits no inline script or style); inline
`style` attributes stay allowed because the client colours people's swatches with them, and an
attribute cannot run code. Everything else the server answers, the HTML renderings of documents
included, is data: its policy allows nothing, and `sandbox` keeps a rendering opened in a tab
from ever running a script or submitting a form, whatever it contains.
"""

from __future__ import annotations

from collections.abc import Awaitable

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

WEB_CLIENT_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; style-src-attr 'unsafe-inline'; "
    "img-src 'self' data: blob:; media-src 'self' blob:; connect-src 'self'; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
DATA_POLICY = (
    "default-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'; sandbox"
)

HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    # Full URLs to our own origin only: no room's or document's URL reaches another site.
    "Referrer-Policy": "same-origin",
}


class SecurityHeadersMiddleware:
    def __init__(self, app: ASGIApp, web_route: str) -> None:
        self.app = app
        self.web_route = web_route  # the name of the route that serves the web client

    def __call__(self, scope: Scope, receive: Receive, send: Send) -> Awaitable[None]:
        """Other scopes are handed on, not awaited (see `metrics.MetricsMiddleware`)."""
        if scope["type"] != "http":
            return self.app(scope, receive, send)
        return self._http(scope, receive, send)

    async def _http(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                # Routing has run by now and named the route that answers.
                web = getattr(scope.get("route"), "name", None) == self.web_route
                policy = WEB_CLIENT_POLICY if web else DATA_POLICY
                headers = MutableHeaders(scope=message)
                headers["Content-Security-Policy"] = policy
                for name, value in HEADERS.items():
                    headers[name] = value
            await send(message)

        await self.app(scope, receive, send_with_headers)
