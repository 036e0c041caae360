"""The config file: validated whole, errors by file, line and key path, secrets, relative paths."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from gateway.core.config import ConfigError, load_config
from gateway.plugins import load_plugins
from tests.core import fakes

GOOD = """\
site:
  name: Test room
data_dir: state
lines:
  - name: busA
    url: null://one
    options: {delay_s: 0.01}
strings:
  - name: S1
    chemistry: vrla
    units: {model: FAKE1, count: 4, bus: busA, first_address: 1}
    current_sensor: {bus: busA, address: 100}
  - name: S2
    chemistry: lfp
    nominal_voltage_v: 3.2
    units: {model: FAKE1, count: 4, bus: busA, first_address: 5}
services:
  - type: recorder
    label: one
"""


@pytest.fixture
def plugins():
    return load_plugins(use_entry_points=False, extra={"fakes": fakes})


def write(tmp_path: Path, text: str, name: str = "c.yaml") -> Path:
    p = tmp_path / name
    p.write_text(textwrap.dedent(text))
    return p


def errors(tmp_path: Path, plugins, text: str) -> list[str]:
    with pytest.raises(ConfigError) as e:
        load_config(write(tmp_path, text), plugins)
    return [str(i) for i in e.value.issues]


def test_a_good_file_validates_with_component_configs(tmp_path, plugins):
    loaded = load_config(write(tmp_path, GOOD), plugins)
    assert loaded.root.strings[1].chemistry.value == "lfp"
    assert loaded.services[0][0] == "recorder"
    assert loaded.services[0][1].label == "one"
    assert loaded.line_options[0].delay_s == 0.01


def test_unknown_monitor_model_names_file_line_path_and_known_models(tmp_path, plugins):
    bad = GOOD.replace(
        "units: {model: FAKE1, count: 4, bus: busA, first_address: 5}",
        "units: {model: C99, count: 4, bus: busA, first_address: 5}",
    )
    [msg] = errors(tmp_path, plugins, bad)
    path = tmp_path / "c.yaml"
    assert msg == f"{path}:16: strings[1].units.model: 'C99' is not a known monitor model; known: FAKE1"


def test_unknown_key_is_rejected_with_its_line(tmp_path, plugins):
    bad = GOOD.replace("  name: Test room\n", "  name: Test room\n  nmae: typo\n")
    [msg] = errors(tmp_path, plugins, bad)
    assert ":3: site.nmae: unknown key" in msg


def test_every_problem_is_reported_at_once(tmp_path, plugins):
    bad = GOOD.replace("count: 4, bus: busA, first_address: 1", "count: -1, bus: busA, first_address: 1")
    bad = bad.replace("type: recorder", "type: nosuch")
    msgs = errors(tmp_path, plugins, bad)
    assert any("strings[0].units.count" in m and "greater than or equal to 1" in m for m in msgs)
    # the first error stops pydantic's root validation, component errors come with the rest
    bad2 = GOOD.replace("type: recorder", "type: nosuch").replace("label: one", "label: one\n    x: 1")
    [m2] = errors(tmp_path, plugins, bad2)
    assert "services[0].type: 'nosuch' is not a known service; known: recorder" in m2


def test_component_config_errors_carry_their_path(tmp_path, plugins):
    bad = GOOD.replace("label: one", "label: one\n    colour: red")
    [msg] = errors(tmp_path, plugins, bad)
    assert ":20: services[0].colour: unknown key" in msg
    bad = GOOD.replace("options: {delay_s: 0.01}", "options: {delay_s: -1}")
    [msg] = errors(tmp_path, plugins, bad)
    assert ":7: lines[0].options.delay_s:" in msg


def test_topology_is_checked(tmp_path, plugins):
    clash = GOOD.replace("first_address: 5", "first_address: 3")
    msgs = errors(tmp_path, plugins, clash)
    assert [m.split(": ", 1)[1] for m in msgs] == [
        "strings[1].units: address 3 on busA is already used by strings[0] (S1)",
        "strings[1].units: address 4 on busA is already used by strings[0] (S1)",
    ]
    noline = GOOD.replace("current_sensor: {bus: busA", "current_sensor: {bus: busB")
    [msg] = errors(tmp_path, plugins, noline)
    assert "strings[0].current_sensor.bus: 'busB' is not a line; lines: busA" in msg
    crowded = GOOD.replace("count: 4, bus: busA, first_address: 5", "count: 60, bus: busA, first_address: 5")
    [msg] = errors(tmp_path, plugins, crowded)
    assert "lines[0]: 65 devices on one line; the monitors support at most 50" in msg
    scheme = GOOD.replace("url: null://one", "url: carrier-pigeon://coop")
    [msg] = errors(tmp_path, plugins, scheme)
    assert "lines[0].url: no transport for scheme 'carrier-pigeon'; known: null" in msg


def test_duplicate_keys_and_broken_yaml_are_errors(tmp_path, plugins):
    dup = GOOD.replace("  name: Test room\n", "  name: Test room\n  name: Other\n")
    [msg] = errors(tmp_path, plugins, dup)
    assert ":3:" in msg
    assert "site.name: key given twice (first on line 2)" in msg
    [msg] = errors(tmp_path, plugins, "site: {name: [unclosed\n")
    assert "c.yaml:2:" in msg


def test_secrets_come_from_env_or_file_and_are_redacted(tmp_path, plugins, monkeypatch):
    from pydantic import Field

    from gateway.core.components import ComponentConfig, Service
    from gateway.core.config import Secret
    from gateway.hookspecs import hookimpl

    class SecretConfig(ComponentConfig):
        password: Secret = Field(description="a password")

    class SecretService(Service):
        Config = SecretConfig

    class Plug:
        @hookimpl
        def cellgate_register_services(self, register):
            register("secretive", SecretService)

    pl = load_plugins(use_entry_points=False, extra={"fakes": fakes, "secretive": Plug()})
    (tmp_path / "pw.txt").write_text("from-a-file\n")
    monkeypatch.setenv("CG_TEST_PW", "from-env")
    base = "services:\n  - type: secretive\n    password: "
    env = load_config(write(tmp_path, base + "{env: CG_TEST_PW}"), pl)
    assert env.services[0][1].password.get_secret_value() == "from-env"
    assert "from-env" not in repr(env.services[0][1])
    f = load_config(write(tmp_path, base + "{file: pw.txt}"), pl)  # relative to the config's folder
    assert f.services[0][1].password.get_secret_value() == "from-a-file"
    monkeypatch.delenv("CG_TEST_PW")
    with pytest.raises(ConfigError) as e:
        load_config(write(tmp_path, base + "{env: CG_TEST_PW}"), pl)
    assert "services[0].password: environment variable CG_TEST_PW is not set" in str(e.value)


def test_relative_paths_resolve_against_the_config_folder(tmp_path, plugins, monkeypatch):
    sub = tmp_path / "site1"
    sub.mkdir()
    p = write(sub, GOOD)
    monkeypatch.chdir(tmp_path.parent)
    loaded = load_config(p, plugins)
    assert loaded.data_dir == (sub / "state").resolve()
    assert loaded.config_dir == sub.resolve()


def test_missing_file_is_a_config_error(tmp_path, plugins):
    with pytest.raises(ConfigError, match="no such file"):
        load_config(tmp_path / "nope.yaml", plugins)


def test_yes_no_on_off_are_strings_not_booleans(tmp_path):
    """YAML 1.2 booleans: an ``on:`` key stays "on" (PyYAML's YAML 1.1 would make it True)."""
    from gateway.core.yamlsource import load_yaml

    data, _ = load_yaml(write(tmp_path, "on: [alarm]\ncountry: NO\nflag: true\n"))
    assert data == {"on": ["alarm"], "country": "NO", "flag": True}


def test_bus_polling_settings_are_validated_with_the_file(tmp_path, plugins):
    bad = GOOD.replace(
        "    options: {delay_s: 0.01}\n",
        "    options: {delay_s: 0.01}\n    polling: {cycle_s: -1, retires: 2}\n",
    )
    msgs = errors(tmp_path, plugins, bad)
    assert any(":8: lines[0].polling.cycle_s:" in m for m in msgs)
    assert any(":8: lines[0].polling.retires: unknown key" in m for m in msgs)


def test_the_alarm_contact_and_the_thermal_trip_need_their_own_relays(tmp_path, plugins):
    bad = GOOD + "alarms: {relay: {aux_relay: 1}}\nengine: {thermal: {action: aux_relay_1}}\n"
    [msg] = errors(tmp_path, plugins, bad)
    assert "both use AUX relay 1" in msg
