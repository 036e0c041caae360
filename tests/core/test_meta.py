"""Meta-tests on the contract: hooks documented and exercised, samples valid, README honest."""

from __future__ import annotations

import inspect
import re

from gateway import hookspecs
from gateway.core.config import validate_data
from gateway.core.yamlsource import load_yaml
from gateway.plugins import load_plugins
from tests.conftest import ROOT
from tests.core import fakes


def _hookspec_functions():
    return {n: f for n, f in vars(hookspecs).items() if n.startswith("cellgate_") and callable(f)}


def test_every_hook_is_documented():
    for name, fn in _hookspec_functions().items():
        doc = inspect.getdoc(fn) or ""
        assert "Fires" in doc, f"{name}: the docstring must say when it fires"
        assert len(doc) > 80, f"{name}: document what the hook may do"
    assert set(_hookspec_functions()) == set(hookspecs.REGISTRATION_HOOKS)


def test_every_hook_is_exercised_by_the_test_plugin():
    pl = load_plugins(use_entry_points=False, extra={"fakes": fakes})
    implemented = set(pl.info["fakes"].hooks)
    assert implemented == set(_hookspec_functions())
    kinds = {r.kind for r in pl.info["fakes"].registers}
    assert kinds == set(hookspecs.REGISTRATION_HOOKS.values())


def _merge(base: dict, extra: dict) -> dict:
    """The sample's sections replace the default's (a transport sample brings its own lines)."""
    return {**base, **extra}


def test_every_plugin_sample_config_validates(monkeypatch):
    """Each plugins/*/sample.yaml, its sections put into the default config, is a valid file."""
    for var in (
        "CELLGATE_SNMP_COMMUNITY",
        "CELLGATE_SNMP_V3_USER",
        "CELLGATE_SNMP_V3_AUTH_KEY",
        "CELLGATE_SNMP_V3_PRIV_KEY",
        "CELLGATE_RADIUS_SECRET",
    ):
        monkeypatch.setenv(var, "sample-secret-1234")
    pl = load_plugins()
    base, _ = load_yaml(ROOT / "config/cellgate.yaml")
    samples = sorted((ROOT / "plugins").glob("*/sample.yaml"))
    assert samples
    for sample in samples:
        for var in re.findall(r"\{env: *([A-Z0-9_]+)\}", sample.read_text()):
            monkeypatch.setenv(var, "sample-secret-1234")  # secrets the sample takes from the environment
        extra = load_yaml(sample)[0] or {}
        validate_data(_merge(base, extra), pl, file=str(sample), config_dir=ROOT / "config")


def test_readme_commands_exist_in_the_makefile():
    readme = (ROOT / "README.md").read_text()
    makefile = (ROOT / "Makefile").read_text()
    targets = set(re.findall(r"^([a-z][a-z-]*):", makefile, re.M))
    used = set(re.findall(r"\bmake ([a-z][a-z-]*)", readme))
    assert {"run", "test"} <= used
    assert used <= targets, f"README mentions make targets the Makefile lacks: {used - targets}"


def test_the_example_configs_validate(monkeypatch):
    """config/cellgate.yaml and config/examples/*.yaml are valid with their secrets in the environment."""
    from gateway.core.config import load_config

    pl = load_plugins()
    for path in [ROOT / "config/cellgate.yaml", *sorted((ROOT / "config/examples").glob("*.yaml"))]:
        for var in re.findall(r"\{env: *([A-Z0-9_]+)\}", path.read_text()):
            monkeypatch.setenv(var, "example-secret-1234")
        loaded = load_config(path, pl)
        assert loaded.root.strings, path
    services = {name for name, _ in load_config(ROOT / "config/examples/all-services.yaml", pl).services}
    assert services == set(pl.registry.names("service")), "all-services.yaml must enable every service"
