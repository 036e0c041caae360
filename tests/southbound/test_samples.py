"""The plugins' sample configs are valid configs, polling section included."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from gateway.core.bus.settings import BusSettings
from gateway.core.config import validate_data
from gateway.plugins import load_plugins
from plugins.monitors import plugin as monitors_plugin
from plugins.simulator import plugin as simulator_plugin
from plugins.transport_serial import plugin as transport_plugin

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("sample", ["plugins/monitors/sample.yaml", "plugins/transport_serial/sample.yaml"])
def test_sample_validates(sample: str):
    plugins = load_plugins(
        use_entry_points=False,
        extra={
            "monitors": monitors_plugin,
            "transport_serial": transport_plugin,
            "simulator": simulator_plugin,
        },
    )
    loaded = validate_data(yaml.safe_load((ROOT / sample).read_text()), plugins, file=sample)
    for line in loaded.root.lines:
        BusSettings.model_validate(line.polling)
    readme = (ROOT / sample).with_name("README.md").read_text()
    assert (ROOT / sample).read_text() in readme  # the README shows the sample word for word
