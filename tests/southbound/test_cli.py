"""``cellgate bus scan|poll|address`` against the simulator over TCP."""

from __future__ import annotations

import argparse
import json
import logging

import pytest
import structlog

import gateway.cli.common
from gateway.core.bus.cli import BusCommand
from gateway.plugins import load_plugins
from plugins.monitors import plugin as monitors_plugin
from plugins.transport_serial import plugin as transport_plugin
from tests.southbound.simproc import simulator


@pytest.fixture(autouse=True)
def _restore_logging():
    """The command configures process-wide logging, as a CLI does; put it back for other tests."""
    root = logging.getLogger()
    handlers, level, config = list(root.handlers), root.level, structlog.get_config()
    yield
    root.handlers[:] = handlers
    root.setLevel(level)
    structlog.configure(**config)


@pytest.fixture(autouse=True)
def _only_southbound_plugins(monkeypatch):
    """The bus tools with exactly the transports and drivers of this area."""
    plugins = load_plugins(
        use_entry_points=False, extra={"monitors": monitors_plugin, "transport_serial": transport_plugin}
    )
    monkeypatch.setattr(gateway.cli.common, "plugins", lambda: plugins)


def run_bus(*argv: str) -> int:
    parser = argparse.ArgumentParser()
    cmd = BusCommand()
    cmd.configure(parser)
    return cmd.run(parser.parse_args(list(argv)))


def test_scan_and_poll_json(capsys):
    with simulator(
        "--listen", "tcp://127.0.0.1:0", "--units", "6", "--strings", "1", "--model", "C20ex3", "--seed", "5"
    ) as where:
        url = "socket://" + where.removeprefix("tcp://")
        assert run_bus("scan", url, "--json", "--addresses", "1-5") == 0
        found = json.loads(capsys.readouterr().out)
        assert [(d["address"], d["model"], d["channels"], d["firmware"]) for d in found] == [
            (1, "C20ex3", 3, "1.4"),
            (2, "C20ex3", 3, "1.4"),
        ]
        assert len({d["serial"] for d in found}) == 2
        assert run_bus("poll", url, "--once", "--json", "--addresses", "1-5,100-120") == 0
        rows = json.loads(capsys.readouterr().out)
    by_model = {r["model"]: r for r in rows}
    assert [r["address"] for r in rows] == [1, 2, 100, 110, 120]
    block = rows[0]
    assert block["serial"] == found[0]["serial"]
    assert len(block["channels"]) == 3
    ch = block["channels"][0]
    assert set(ch) >= {"voltage_v", "temperature_c", "ri_ohm", "equalize_duty", "bypass_current_a", "flags"}
    assert 9.7 < ch["voltage_v"] < 17.0
    assert ch["ri_ohm"] is None  # a fresh simulator has not measured Ri, and poll does not start one
    assert set(by_model["CS"]) >= {"address", "model", "current_a", "ripple_a"}
    assert set(by_model["THS"]) >= {"temperature_c", "humidity_pct"}


def test_unknown_scheme_is_a_clear_error(capsys):
    assert run_bus("scan", "nosuch://x") == 1
    assert "no transport for nosuch://" in capsys.readouterr().err


def test_address_wizard_reports_when_nobody_presses(capsys):
    with simulator("--listen", "tcp://127.0.0.1:0", "--units", "2", "--strings", "1") as where:
        url = "socket://" + where.removeprefix("tcp://")
        assert run_bus("address", url, "--start", "10", "--wait", "0.5") == 0
    out = capsys.readouterr().out
    assert "press the address button" in out
    assert "0 device(s) addressed" in out
