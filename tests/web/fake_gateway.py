"""Runs the web service over a synthetic site in its own process (for fuzzing, the benchmark and
looking at the UI): ``python tests/web/fake_gateway.py --data-dir DIR [--strings 2 --units 24]``.

Prints one JSON line with the https port and a token per role, then serves until SIGTERM.
A stand-in engine publishes a new snapshot every ``--tick`` seconds, as a polling gateway does.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import signal
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from gateway.core.logging import setup_logging
from plugins.auth_local.authenticator import LocalAuthConfig, LocalAuthenticator
from plugins.web.config import WebConfig
from plugins.web.service import WebService
from tests.web.fakes import FakeEngine, chain_for, make_context, make_snapshot

PASSWORD = "fake-gateway-pw"


async def main(args: argparse.Namespace) -> None:
    setup_logging("warning", "console", stream=sys.stderr)  # stdout carries only the JSON line
    data = Path(args.data_dir)
    holder: list = []
    ctx = make_context(data, holder)
    ctx.config = {**ctx.config, "authenticators": [{"type": "local"}]}
    engine = FakeEngine(ctx, make_snapshot(args.strings, args.units))
    holder.append(engine)
    local = LocalAuthenticator(LocalAuthConfig(create_initial_admin=False), ctx)
    await local.start()
    ctx.authenticate = chain_for(local, ctx)
    tokens = {}
    for role in ("viewer", "operator", "admin"):
        if local.store.get(f"{role}1") is None:
            local.store.add_user(f"{role}1", role, PASSWORD)
        if any(t.name == f"{role}-token" and t.revoked_at is None for t in local.store.tokens()):
            local.store.revoke_token(f"{role}-token")
        tokens[role] = local.store.create_token(f"{role}-token", role, owner=f"{role}1")[1]
    engine.start()
    service = WebService(WebConfig(host="127.0.0.1", port=args.port), ctx)
    await service.start()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    print(
        json.dumps(
            {
                "port": service.port,
                "tokens": tokens,
                "password": PASSWORD,
                "cert": str(ctx.data_dir / "tls" / "cert.pem"),
            }
        ),
        flush=True,
    )
    while not stop.is_set():
        try:
            await asyncio.wait_for(stop.wait(), args.tick)
        except TimeoutError:
            engine.tick()
    await service.stop()
    await engine.stop()
    await local.stop()


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--data-dir", required=True)
    parser.add_argument("--strings", type=int, default=2)
    parser.add_argument("--units", type=int, default=24)
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--tick", type=float, default=1.0)
    asyncio.run(main(parser.parse_args()))
