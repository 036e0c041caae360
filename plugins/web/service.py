"""The ``web`` service: the ASGI app on uvicorn, inside the gateway's own event loop, over https.

We bind the sockets ourselves so a port in use is a clear error at start (uvicorn would
``sys.exit``), and keep uvicorn away from signals and logging setup: the gateway owns both.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import Iterator
from pathlib import Path

import uvicorn
from starlette.types import Receive, Scope, Send

from gateway.core.components import GatewayContext, Service
from gateway.core.logging import get_logger
from plugins.auth_local.authenticator import LocalAuthConfig, LocalAuthenticator
from plugins.web.app import create_app
from plugins.web.config import WebConfig
from plugins.web.state import WebState
from plugins.web.tls import ensure_self_signed, self_signed_names

START_TIMEOUT_S = 10.0
STOP_TIMEOUT_S = 5.0

log = get_logger("plugins.web")


class _EmbeddedServer(uvicorn.Server):
    """uvicorn without its signal handlers: stopping is the gateway's decision."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


def _bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # IPPROTO_TCP explicitly: asyncio sets TCP_NODELAY only on sockets whose proto says TCP, and
    # without it Nagle holds each response body until the client's delayed ACK (40 ms a request)
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as e:
        sock.close()
        raise OSError(e.errno, f"web: cannot listen on {host}:{port}: {e.strerror}") from None
    sock.set_inheritable(False)
    return sock


class HttpsRedirect:
    """The plain-http listener's whole app: a permanent redirect to the https port."""

    def __init__(self, https_port: int) -> None:
        self.https_port = https_port

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        host = dict(scope["headers"]).get(b"host", b"localhost").decode("latin-1")
        host = host[: host.index("]") + 1] if host.startswith("[") else host.split(":", 1)[0]
        query = scope.get("query_string", b"").decode("latin-1")
        location = f"https://{host}:{self.https_port}{scope['path']}" + (f"?{query}" if query else "")
        await send(
            {
                "type": "http.response.start",
                "status": 308,
                "headers": [(b"location", location.encode("latin-1")), (b"content-length", b"0")],
            }
        )
        await send({"type": "http.response.body", "body": b""})


class WebService(Service):
    """Web UI and REST API over https (self-signed certificate unless one is configured)."""

    Config = WebConfig
    summary = "web UI and REST API (/api/v1) over https, with users, roles and an audit trail"

    def __init__(self, config: WebConfig, ctx: GatewayContext) -> None:
        super().__init__(config, ctx)
        self.config: WebConfig = config
        self.port: int | None = None  # the https port actually bound (config port 0 = any)
        self.http_port: int | None = None
        self.state: WebState | None = None
        self._servers: list[tuple[uvicorn.Server, asyncio.Task[None], socket.socket]] = []
        self._own_local: LocalAuthenticator | None = None

    def _certificate(self) -> tuple[Path, Path]:
        if self.config.cert_file:
            if not self.config.key_file:
                raise ValueError("web: cert_file needs key_file")
            return self.ctx.resolve(self.config.cert_file), self.ctx.resolve(self.config.key_file)
        return ensure_self_signed(self.ctx.data_dir / "tls", self_signed_names(self.config.hostnames))

    async def start(self) -> None:
        local = LocalAuthenticator.active  # the chain's 'local' authenticator, started before services
        chain = list(getattr(self.ctx.config, "authenticators", None) or [])
        if local is None and not chain:
            # no authenticator configured at all: bring the local users, so that a web UI nobody
            # can log in to (or one without the first-start admin) cannot happen
            local = self._own_local = LocalAuthenticator(LocalAuthConfig(), self.ctx)
            await local.start()
        cert, key = await asyncio.to_thread(self._certificate)
        self.state = WebState(self.ctx, self.config, local, own_local=self._own_local is not None)
        self.state.start()
        try:
            sock = _bind(self.config.host, self.config.port)
            self.port = sock.getsockname()[1]
            app = create_app(self.state, https=True)
            await self._serve(
                uvicorn.Config(app, ssl_certfile=str(cert), ssl_keyfile=str(key), **self._uvicorn_options()),
                sock,
            )
            if self.config.http_port is not None:
                http_sock = _bind(self.config.host, self.config.http_port)
                self.http_port = http_sock.getsockname()[1]
                await self._serve(
                    uvicorn.Config(HttpsRedirect(self.port), **self._uvicorn_options()), http_sock
                )
        except BaseException:
            await self.stop()
            raise
        shown = "localhost" if self.config.host in ("0.0.0.0", "::") else self.config.host
        log.info("web UI listening", url=f"https://{shown}:{self.port}/", listen=self.config.host)

    @staticmethod
    def _uvicorn_options() -> dict[str, object]:
        return {
            "log_config": None,
            "access_log": False,
            "lifespan": "off",
            "server_header": False,
            "timeout_graceful_shutdown": 2,
            "proxy_headers": False,
        }

    async def _serve(self, config: uvicorn.Config, sock: socket.socket) -> None:
        server = _EmbeddedServer(config)
        task = asyncio.create_task(server.serve(sockets=[sock]), name="web-uvicorn")
        self._servers.append((server, task, sock))
        loop = asyncio.get_running_loop()
        deadline = loop.time() + START_TIMEOUT_S
        while not server.started:
            if task.done():
                task.result()  # raises what went wrong
                raise RuntimeError("web: uvicorn stopped during start-up")
            if loop.time() > deadline:
                raise TimeoutError("web: uvicorn did not start in time")
            await asyncio.sleep(0.02)

    async def stop(self) -> None:
        if self.state is not None:
            self.state.shutting_down.set()  # live streams end, so uvicorn's shutdown is quick
        for server, _, _ in self._servers:
            server.should_exit = True
        for _, task, sock in reversed(self._servers):
            try:
                await asyncio.wait_for(task, STOP_TIMEOUT_S)
            except (TimeoutError, asyncio.CancelledError):
                pass
            except Exception:  # noqa: S110 - stop() must not raise; start() already reported it
                pass
            sock.close()
        self._servers = []
        if self.state is not None:
            await self.state.stop()
            self.state = None
        if self._own_local is not None:
            await self._own_local.stop()
            self._own_local = None
