"""The command line a user types: --help, check, schema, and a bad config's exit."""

from __future__ import annotations

import json
import os
import re
import subprocess


def run(cellgate_bin, *args, **kw):
    return subprocess.run([cellgate_bin, *args], capture_output=True, text=True, timeout=60, **kw)


def test_help_lists_the_core_commands(cellgate_bin):
    out = run(cellgate_bin, "--help")
    assert out.returncode == 0
    for cmd in ("run", "check", "schema", "plugins"):
        assert f"    {cmd} " in out.stdout


def test_check_reports_file_line_and_key_path_and_exits_nonzero(tmp_path, cellgate_bin):
    bad = tmp_path / "bad.yaml"
    bad.write_text("site:\n  name: x\nlines: []\nservices:\n  - type: nosuch-service\n")
    out = run(cellgate_bin, "check", str(bad))
    assert out.returncode == 2
    assert f"{bad}:5: services[0].type: 'nosuch-service' is not a known service" in out.stderr


def test_run_refuses_an_invalid_config_without_starting(tmp_path, cellgate_bin):
    bad = tmp_path / "bad.yaml"
    bad.write_text("site: {name: x}\nlogging: {level: loud}\n")
    out = run(cellgate_bin, "run", "-c", str(bad))
    assert out.returncode == 2
    assert ":2: logging.level:" in out.stderr
    assert "gateway running" not in out.stderr


def test_config_defaults_to_the_environment_variable(tmp_path, cellgate_bin):
    good = tmp_path / "good.yaml"
    good.write_text("site: {name: from-env}\n")
    out = run(cellgate_bin, "check", env={**os.environ, "CELLGATE_CONFIG": str(good)})
    assert out.returncode == 0, out.stderr
    assert "from-env" in out.stdout


def test_schema_is_json_schema_with_plugin_components(cellgate_bin):
    out = run(cellgate_bin, "schema")
    assert out.returncode == 0, out.stderr
    schema = json.loads(out.stdout)
    assert schema["$schema"].endswith("2020-12/schema")
    assert schema["properties"]["strings"]["items"]["$ref"] == "#/$defs/StringConfig"
    assert schema["$defs"]["UnitsConfig"]["additionalProperties"] is False
    # the installed plugins' components are part of it, each with its own closed config model
    services = schema["properties"]["services"]["items"]["oneOf"]
    types = {s["properties"]["type"]["const"] for s in services}
    assert {"web", "modbus", "snmp", "syslog"} <= types
    assert all(s["additionalProperties"] is False for s in services)
    # every field of the core's models says what it is for
    defs = schema["$defs"]
    for name, d in defs.items():
        for field, prop in d.get("properties", {}).items():
            # pydantic drops a field's description where it repeats the referenced model's docstring
            ref = prop.get("$ref", "").rsplit("/", 1)[-1]
            described = prop.get("description") or (ref and defs[ref].get("description"))
            assert described, f"{name}.{field} has no description"


def test_without_c_or_the_variable_the_config_is_config_cellgate_yaml(cellgate_bin):
    from tests.conftest import ROOT

    env = {k: v for k, v in os.environ.items() if k != "CELLGATE_CONFIG"}
    out = run(cellgate_bin, "check", env=env, cwd=ROOT)
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("config/cellgate.yaml: OK")


def test_every_command_that_reads_a_config_takes_c(cellgate_bin):
    for command in ("run", "check", "replay", "cosim", "events", "history export", "modbus map", "simulate"):
        out = run(cellgate_bin, *command.split(), "--help")
        assert out.returncode == 0, command
        assert re.search(r"-c \w+, --config \w+", out.stdout), command


def test_a_reader_that_leaves_early_gets_no_traceback(cellgate_bin):
    """``cellgate plugins | head -1`` where head has gone before cellgate writes."""
    read_end, write_end = os.pipe()
    os.close(read_end)  # the reader is gone before the command has even started
    proc = subprocess.Popen([cellgate_bin, "plugins"], stdout=write_end, stderr=subprocess.PIPE, text=True)
    os.close(write_end)
    err = proc.communicate(timeout=60)[1]
    assert "Traceback" not in err
    assert proc.returncode == 141  # 128 + SIGPIPE, what a shell pipeline expects
