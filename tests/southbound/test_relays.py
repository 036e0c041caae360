"""AUX relays: the timeout (HR10) is written on join, ON coils are refreshed before it expires,
and a gateway that dies leaves the fail-safe contact OFF (open) — on a fake line and on the simulator.
"""

from __future__ import annotations

import itertools
import json
import os
import signal
import subprocess
import time
from pathlib import Path

import pytest
import yaml

from gateway.core.bus.settings import BusSettings
from gateway.core.bus.units import MonitorBinding
from gateway.core.clock import ManualClock
from plugins.simulator.options import SimOptions
from tests.processes import stop
from tests.southbound.fakebus import FakeDevice, FakeLine, c20
from tests.southbound.helpers import make_master, manual_ctx
from tests.southbound.simsite import sim_master, site_config

WRITE_REGISTER, WRITE_COIL = 6, 5


def aux_device() -> FakeDevice:
    return FakeDevice(120, 220, 5, channels=0)


async def test_timeout_is_written_on_join_and_on_coils_are_refreshed():
    ctx = manual_ctx()
    aux = aux_device()
    m, _ = make_master(FakeLine(ctx, [aux]), [MonitorBinding(120, "AUX")], relay_timeout_s=30)
    m.set_relay(120, 0, True)
    m.set_relay(120, 1, False)
    await m.run_once()
    assert aux.holding[10] == 30
    assert aux.coils == {0: 1, 1: 0}
    clock = ctx.clock
    assert isinstance(clock, ManualClock)
    coil_writes: list[tuple[float, int, int]] = []
    for _ in range(60):  # one minute of 1 s cycles
        before = len(aux.writes)
        clock.advance(1.0)
        await m.run_once()
        coil_writes += [(clock.monotonic(), a, v[0]) for fc, a, v in aux.writes[before:] if fc == WRITE_COIL]
    assert [w for w in aux.writes if w[0] == WRITE_REGISTER and w[1] == 10] == [(6, 10, (30,))]  # once
    assert {(a, v) for _, a, v in coil_writes} == {(0, 1)}  # only the ON coil is refreshed
    times = [t for t, _, _ in coil_writes]
    gaps = [b - a for a, b in itertools.pairwise(times)]
    assert 5 <= len(times) <= 7
    assert max(gaps) <= 11


async def test_zero_timeout_means_no_refresh_and_a_rejoin_writes_it_again():
    ctx = manual_ctx()
    aux = aux_device()
    # a block monitor keeps the line up while the AUX module is away
    m, _ = make_master(
        FakeLine(ctx, [c20(1), aux]),
        [MonitorBinding(1, "C20"), MonitorBinding(120, "AUX")],
        relay_timeout_s=0,
        timeout_s=0.01,
    )
    m.set_relay(120, 0, True)
    await m.run_once()
    assert aux.holding[10] == 0
    n = len(aux.writes)
    for _ in range(30):
        ctx.clock.advance(5.0)  # type: ignore[attr-defined]
        await m.run_once()
    assert len(aux.writes) == n  # nothing to refresh: the relay never expires
    aux.dead = True
    for _ in range(4):
        await m.run_once()
    assert m.units[120].comm_lost
    aux.dead, aux.holding[10], aux.coils[0] = False, 99, 0  # replaced while away
    for _ in range(6):
        await m.run_once()
        if not m.units[120].comm_lost:
            break
    await m.run_once()
    assert aux.holding[10] == 0
    assert aux.coils[0] == 1


def test_a_timeout_shorter_than_three_cycles_is_refused():
    with pytest.raises(ValueError, match="at least 3 × cycle_s"):
        BusSettings(cycle_s=20.0, relay_timeout_s=30)
    assert BusSettings(cycle_s=20.0, relay_timeout_s=0).relay_timeout_s == 0
    assert BusSettings(cycle_s=10.0).relay_timeout_s == 30


async def test_on_the_simulator_a_dead_gateway_leaves_the_contact_open():
    clock = ManualClock(1_750_000_000.0)
    m, transport, _ = sim_master(site_config(count=2, world="relaydeath"), SimOptions(), clock, cycle_s=2.0)
    await transport.open()
    try:
        world = transport.world
        m.set_relay(120, 0, True)
        for _ in range(30):  # a minute of healthy cycles: the contact stays closed throughout
            await m.run_once()
            clock.advance(2.0)
            assert world.coils(120)[0]
        assert world.registers(120)["holding"][10] == 30
        # the gateway dies: no stop, no last write, just silence on the line
        # (last refresh at most a third of the timeout and one cycle ago)
        died = clock.monotonic()
        while world.coils(120)[0] and clock.monotonic() - died < 60:
            clock.advance(0.5)
        assert world.coils(120) == [False, False]
        assert 30 - 10 - 2 <= clock.monotonic() - died <= 30
    finally:
        await transport.close()


def _write_config(tmp_path: Path, port: int) -> Path:
    cfg = {
        "site": {"name": "Relay death"},
        "data_dir": "var",
        "lines": [
            {
                "name": "bus1",
                "url": f"socket://127.0.0.1:{port}",
                "polling": {"cycle_s": 1.0, "relay_timeout_s": 6},
            }
        ],
        "strings": [
            {
                "name": "A",
                "chemistry": "vrla",
                "rated_capacity_ah": 100.0,
                "units": {"model": "C20", "count": 4, "bus": "bus1", "first_address": 1},
            }
        ],
        "sensors": {"aux": {"bus": "bus1", "address": 120}},
        "logging": {"level": "warning"},
    }
    path = tmp_path / "cellgate.yaml"
    path.write_text(yaml.safe_dump(cfg))
    return path


class _Simulator:
    """``cellgate simulate --listen`` with its control channel (one JSON line per command)."""

    def __init__(self, cellgate_bin: str, config: Path) -> None:
        self.proc = subprocess.Popen(
            [cellgate_bin, "simulate", "--listen", "tcp://127.0.0.1:0", "-c", str(config)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        assert self.proc.stdout is not None
        self.where = self.proc.stdout.readline().strip()
        if not self.where:
            why = self.proc.stderr.read() if self.proc.stderr else ""
            self.close()
            raise RuntimeError(f"simulator did not start: {why}")

    def ask(self, command: str) -> dict[str, object]:
        assert self.proc.stdin is not None
        assert self.proc.stdout is not None
        self.proc.stdin.write(command + "\n")
        self.proc.stdin.flush()
        answer: dict[str, object] = json.loads(self.proc.stdout.readline())
        return answer

    def coils(self) -> list[bool]:
        answer = self.ask("coils 120")
        assert answer["ok"], answer
        return list(answer["coils"])  # type: ignore[call-overload]

    def close(self) -> None:
        stop(self.proc, 10)


def _wait(predicate, timeout: float) -> float | None:  # type: ignore[no-untyped-def]
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        if predicate():
            return time.monotonic() - start
        time.sleep(0.1)
    return None


@pytest.mark.timeout(90)
def test_kill_9_of_cellgate_run_opens_the_contact_within_the_timeout(cellgate_bin: str, tmp_path: Path):
    # the simulator reads strings and sensors from a config; its port is not known yet: any will do
    sim = _Simulator(cellgate_bin, _write_config(tmp_path, 1))
    gateway: subprocess.Popen[str] | None = None
    try:
        port = int(sim.where.rsplit(":", 1)[1])
        cfg = _write_config(tmp_path, port)
        gateway = subprocess.Popen(
            [cellgate_bin, "run", "-c", str(cfg)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        closed = _wait(lambda: sim.coils()[0], 30)
        assert closed is not None, "the gateway never closed the all-well contact"
        assert sim.ask("registers 120")["holding"]["10"] == 6  # type: ignore[index]
        time.sleep(8)  # longer than the timeout: the gateway's refreshes keep it closed
        assert sim.coils()[0], "the contact dropped while the gateway was alive"
        gateway.send_signal(signal.SIGKILL)
        gateway.wait(10)
        opened = _wait(lambda: not sim.coils()[0], 15)
        assert opened is not None, "the contact stayed closed after the gateway died"
        assert opened <= 6 + 1.5  # the 6 s timeout, with the poll's slack
    finally:
        if gateway is not None:
            if gateway.poll() is None:
                gateway.kill()
                gateway.wait(10)
            if gateway.stderr:
                gateway.stderr.close()
        sim.close()


async def test_relay_state_is_read_back(tmp_path: Path) -> None:
    """The coils the master writes are what it reads back (``snapshot.relays`` comes from here)."""
    clock = ManualClock(1_750_000_000.0)
    m, transport, results = sim_master(site_config(count=2, world="relayread"), SimOptions(), clock)
    await transport.open()
    try:
        m.set_relay(120, 1, True)
        await m.run_once()
        clock.advance(2.0)
        await m.run_once()
    finally:
        await transport.close()
    aux = next(r for r in results[-1].readings if r.address == 120)
    assert aux.values["relays"] == (False, True)  # type: ignore[union-attr]
