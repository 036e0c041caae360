"""Lifecycle: start in order, stop in reverse, refuse to run half-built, stop on SIGTERM."""

from __future__ import annotations

import asyncio
import signal
import subprocess
import textwrap

import pytest

from gateway.core.clock import ManualClock, ScaledClock
from gateway.core.commands import Actor, Command
from gateway.core.config import load_config
from gateway.core.runtime import Gateway, StartupError
from gateway.plugins import load_plugins
from tests.core import fakes

CFG = """\
data_dir: state
history: {type: recorder, label: h}
authenticators:
  - {type: recorder, label: auth}
actions:
  - {type: recorder, label: act}
services:
  - {type: recorder, label: first}
  - {type: recorder, label: second}
"""


@pytest.fixture
def gateway(tmp_path):
    def make(text: str = CFG) -> Gateway:
        (tmp_path / "c.yaml").write_text(textwrap.dedent(text))
        pl = load_plugins(use_entry_points=False, extra={"fakes": fakes})
        return Gateway(load_config(tmp_path / "c.yaml", pl), pl, ManualClock(1000.0))

    fakes.CALLS.clear()
    return make


async def test_components_start_in_order_and_stop_in_reverse(gateway):
    gw = gateway()
    await gw.start()
    await gw.stop()
    starts = [c for c in fakes.CALLS if c.startswith("start")]
    stops = [c for c in fakes.CALLS if c.startswith("stop")]
    assert starts == [
        "start:RecHistory:h",
        "start:RecAuth:auth",
        "start:RecAction:act",
        "start:RecService:first",
        "start:RecService:second",
    ]
    assert stops == [s.replace("start", "stop") for s in reversed(starts)]


async def test_a_component_that_fails_to_start_stops_the_others(gateway):
    gw = gateway(CFG.replace("label: second}", "label: second, fail_start: true}"))
    with pytest.raises(StartupError, match="service:recorder failed to start: refusing to start"):
        await gw.start()
    assert fakes.CALLS[-4:] == [
        "stop:RecService:first",
        "stop:RecAction:act",
        "stop:RecAuth:auth",
        "stop:RecHistory:h",
    ]


async def test_the_authenticator_chain_logs_every_login(gateway):
    gw = gateway()
    sub = gw.events.subscribe()
    await gw.start()
    try:
        ok = await gw.ctx.authenticate("alice", "wonderland", "10.0.0.9", "web")
        bad = await gw.ctx.authenticate("alice", "guess", "10.0.0.9", "web")
    finally:
        await gw.stop()
    assert ok == Actor("alice", "operator", "10.0.0.9", "web")
    assert bad is None
    codes = []
    while not sub.queue.empty():
        codes.append(sub.queue.get_nowait().code)
    assert codes == ["started", "login", "login_failed"]


async def test_commands_carry_their_actor_and_roles_are_checked(gateway):
    gw = gateway()
    await gw.start()
    try:
        viewer = Actor("v", "viewer", "127.0.0.1", "test")
        task = asyncio.create_task(
            gw.ctx.commands.submit(Command("set_threshold", {"key": "x", "value": 1}, viewer))
        )
        for _ in range(5):
            await gw.ctx.clock.sleep(1.0)
        res = await asyncio.wait_for(task, 2)
    finally:
        await gw.stop()
    assert not res.ok
    assert "needs role admin" in res.message


def test_scaled_clock_runs_faster():
    c = ScaledClock(100.0, start=0.0)

    async def go() -> float:
        t0 = c.monotonic()
        await c.sleep(5.0)  # 5 simulated seconds = 50 ms
        return c.monotonic() - t0

    assert 5.0 <= asyncio.run(go()) < 30.0


def test_cellgate_run_stops_cleanly_on_sigterm(tmp_path, cellgate_bin):
    cfg = tmp_path / "c.yaml"
    cfg.write_text("site: {name: empty}\ndata_dir: state\n")
    p = subprocess.Popen([cellgate_bin, "run", "-c", str(cfg)], stderr=subprocess.PIPE, text=True)
    try:
        for line in p.stderr:
            if "gateway running" in line:
                break
        p.send_signal(signal.SIGTERM)
        rest = p.communicate(timeout=20)[1]
    finally:
        p.kill()
    assert p.returncode == 0
    assert "gateway stopped" in rest
