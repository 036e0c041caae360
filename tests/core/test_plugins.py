"""The plugin contract: registration, loud failures, discovery through entry points."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from gateway.core.components import Service
from gateway.hookspecs import hookimpl
from gateway.plugins import PluginError, load_plugins
from tests.conftest import ROOT
from tests.core import fakes


def test_registered_classes_are_found_by_kind_and_name():
    pl = load_plugins(use_entry_points=False, extra={"fakes": fakes})
    assert pl.registry.get("transport", "null") is fakes.NullTransport
    assert pl.registry.get("monitor", "FAKE1") is fakes.FakeDriver
    assert pl.registry.names("service") == ["recorder"]
    info = pl.info["fakes"]
    assert "cellgate_register_services" in info.hooks
    assert {(r.kind, r.name) for r in info.registers} >= {("service", "recorder"), ("monitor", "FAKE1")}


def test_a_misspelled_hook_fails_loudly():
    class Typo:
        @hookimpl
        def cellgate_register_servics(self, register):  # the typo is the test
            pass

    with pytest.raises(PluginError, match=r"plugin 'typo'.*cellgate_register_servics"):
        load_plugins(use_entry_points=False, extra={"typo": Typo()})


def test_a_name_registered_twice_names_both_plugins():
    class Again:
        @hookimpl
        def cellgate_register_services(self, register):
            register("recorder", fakes.RecService)

    with pytest.raises(
        PluginError, match="plugin 'again' registers service 'recorder', which plugin 'fakes'"
    ):
        load_plugins(use_entry_points=False, extra={"fakes": fakes, "again": Again()})


def test_a_class_of_the_wrong_kind_is_refused():
    class Wrong:
        @hookimpl
        def cellgate_register_transports(self, register):
            register("oops", fakes.RecService)

    with pytest.raises(PluginError, match="is not a subclass of Transport"):
        load_plugins(use_entry_points=False, extra={"wrong": Wrong()})


def test_builtin_plugins_come_through_the_entry_point_group():
    """Built-ins use exactly the API a third party gets: the cellgate.plugins group."""
    pl = load_plugins()
    expected = {
        "transport_serial",
        "monitors",
        "simulator",
        "northbound_modbus",
        "northbound_snmp",
        "northbound_bacnet",
        "northbound_opcua",
        "auth_radius",
        "web",
        "history_sqlite",
    }
    assert expected <= set(pl.info)
    assert all(pl.info[n].distribution == "cellgate" for n in expected)


def test_cellgate_plugins_lists_hooks_and_components(cellgate_bin):
    out = subprocess.run([cellgate_bin, "plugins", "--json"], capture_output=True, text=True, check=True)
    rows = {r["name"]: r for r in json.loads(out.stdout)}
    assert rows["northbound_opcua"]["version"]
    modbus = rows["northbound_modbus"]
    assert modbus["distribution"] == "cellgate"
    assert {"cellgate_register_services", "cellgate_register_cli_commands"} <= set(modbus["hooks"])
    assert {(r["kind"], r["name"]) for r in modbus["registers"]} >= {("service", "modbus"), ("cli", "modbus")}
    monitors = {r["name"] for r in rows["monitors"]["registers"] if r["kind"] == "monitor"}
    assert {"C20", "C23", "C30", "C40", "C41", "C20ex3", "C30ex3", "C40ex3", "CS", "THS", "AUX"} <= monitors
    # the same for people: one block per plugin with its hooks and components
    text = subprocess.run([cellgate_bin, "plugins"], capture_output=True, text=True, check=True).stdout
    assert "northbound_modbus  (cellgate" in text
    assert "service: modbus" in text
    for row in rows.values():
        kinds = {r["kind"] for r in row["registers"]}
        hooks = {h.removeprefix("cellgate_register_") for h in row["hooks"]}
        # a plugin registers only through hooks it implements
        assert len(kinds) <= len(hooks)


def test_the_example_third_party_plugin_installs_and_shows_up(tmp_path, cellgate_bin):
    """docs/examples/cellgate-example-plugin is an outside package: pip installs it, cellgate finds it."""
    target = tmp_path / "site"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "-q",
            "--no-deps",
            "--target",
            str(target),
            str(ROOT / "docs/examples/cellgate-example-plugin"),
        ],
        check=True,
        capture_output=True,
    )
    env = {**os.environ, "PYTHONPATH": str(target), "CELLGATE_PLUGINS": "all"}
    out = subprocess.run(
        [cellgate_bin, "plugins", "--json"], capture_output=True, text=True, env=env, check=True
    )
    rows = {r["name"]: r for r in json.loads(out.stdout)}
    ex = rows["example"]
    assert ex["distribution"] == "cellgate-example-plugin"
    assert ex["version"] == "0.1.0"
    assert {(r["kind"], r["name"]) for r in ex["registers"]} == {
        ("service", "heartbeat"),
        ("action", "print"),
    }
    # and its service is part of the schema, so a config naming it validates
    cfg = tmp_path / "c.yaml"
    cfg.write_text("services:\n  - type: heartbeat\n    every_s: 5\n")
    chk = subprocess.run([cellgate_bin, "check", str(cfg)], capture_output=True, text=True, env=env)
    assert chk.returncode == 0, chk.stderr
    # without the third-party plugins enabled, the same file is refused
    env["CELLGATE_PLUGINS"] = "builtin"
    chk = subprocess.run([cellgate_bin, "check", str(cfg)], capture_output=True, text=True, env=env)
    assert chk.returncode == 2
    assert "'heartbeat' is not a known service" in chk.stderr


def test_every_plugin_folder_has_its_place_in_the_contract():
    folders = {p.name for p in (ROOT / "plugins").iterdir() if (p / "plugin.py").exists()}
    eps = set(load_plugins().info)
    assert folders <= eps, f"plugin folders without an entry point: {folders - eps}"
    assert Path(ROOT / "plugins/__init__.py").exists()
    assert issubclass(fakes.RecService, Service)
