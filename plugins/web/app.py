"""The ASGI application: REST API under ``/api/v1``, live updates, and the static UI.

No CDN, no build step: the UI is plain HTML/CSS/JS modules in ``static/`` with a
vendored chart library, served with a strict Content-Security-Policy.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import FileResponse
from starlette.middleware.gzip import GZipMiddleware
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gateway import __version__
from plugins.web import api_auth, api_read, api_wizard, api_write, live
from plugins.web.state import WebState

STATIC_DIR = Path(__file__).parent / "static"
API_DESCRIPTION = """\
The cellgate REST API. JSON, SI units named in every field (`voltage_v`, `ri_ohm`),
fractions 0–1, times in seconds since the epoch.

Authenticate with `Authorization: Bearer <token>` (`cellgate token create NAME`), or log in
with `POST /api/v1/session` (browser: session cookie, and send the returned `csrf_token` as
`X-CSRF-Token` on every write). Roles: viewer reads; operator acknowledges alarms and
switches equalization; admin manages users, tokens, settings and reads the config.
"""

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
    "font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)


class SecurityHeaders:
    """Adds the browser hardening headers to every response (pure ASGI: streams stay streams)."""

    def __init__(self, app: ASGIApp, https: bool) -> None:
        self.app = app
        self.headers = [
            (b"content-security-policy", CSP.encode()),
            (b"x-content-type-options", b"nosniff"),
            (b"x-frame-options", b"DENY"),
            (b"referrer-policy", b"no-referrer"),
            (b"cross-origin-opener-policy", b"same-origin"),
        ]
        if https:
            self.headers.append((b"strict-transport-security", b"max-age=31536000"))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        is_api = scope["path"].startswith("/api/")

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                headers.extend(self.headers)
                if is_api:
                    headers.append((b"cache-control", b"no-store"))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)


def create_app(web: WebState, *, https: bool = True) -> ASGIApp:
    app = FastAPI(
        title="cellgate API",
        version=__version__,
        description=API_DESCRIPTION,
        openapi_url="/api/v1/openapi.json",
        docs_url=None,
        redoc_url=None,  # the Swagger UI would need a CDN
    )
    app.state.web = web
    for module in (api_auth, api_read, api_write, api_wizard, live):
        app.include_router(module.router)

    @app.get("/", include_in_schema=False)
    async def index() -> FileResponse:
        return FileResponse(STATIC_DIR / "index.html", headers={"Cache-Control": "no-cache"})

    # the UI's files gzipped (a third of their size); API responses cache their own gzip
    app.mount("/static", GZipMiddleware(StaticFiles(directory=STATIC_DIR), minimum_size=1024), name="static")
    return SecurityHeaders(app, https)
