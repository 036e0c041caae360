"""Golden captures per model: our requests are byte-exact and the replies decode to the expected readings.

The captures were taken from the simulator (``golden/capture.py``), each checked there
against the simulator's true physical values within the datasheet's accuracy.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from gateway.core.bus.driver import ReadBlock, WriteOp
from gateway.core.bus.rtu import LineTiming, RtuClient
from tests.southbound.golden.capture import _jsonable
from tests.southbound.helpers import DRIVERS, manual_ctx
from tests.southbound.replay import ReplayTransport

GOLDEN = Path(__file__).parent / "golden"
MODELS = sorted(p.name for p in GOLDEN.iterdir() if (p / "capture.json").exists())


def test_every_model_has_a_capture():
    assert set(MODELS) == {
        "C20",
        "C23",
        "C30",
        "C40",
        "C41",
        "C20ex3",
        "C30ex3",
        "C40ex3",
        "CS",
        "THS",
        "AUX",
    }


@pytest.mark.parametrize("model", MODELS)
async def test_golden_capture(model: str):
    folder = GOLDEN / model
    config = yaml.safe_load((folder / "config.yaml").read_text())
    steps = json.loads((folder / "capture.json").read_text())
    expected = json.loads((folder / "expected.json").read_text())["readings"]
    ctx = manual_ctx()
    line = ReplayTransport(ctx, [(bytes.fromhex(s["request"]), bytes.fromhex(s["reply"])) for s in steps])
    rtu = RtuClient(line, LineTiming(config["baud"], emulated=False), 0.01)
    driver = DRIVERS[config["model"]]()
    blocks = []
    for s in steps:
        if s["op"] == "read":
            regs = await rtu.read(s["unit"], ReadBlock(s["function"], s["address"], s["count"]))
            if s["address"] != 100:
                blocks.append(regs)
        else:
            await rtu.write(s["unit"], WriteOp(s["function"], s["address"], tuple(s["values"])))
    assert line.mismatches == []
    readings = driver.decode(blocks, "bus1", config["address"], expected[0]["time"])
    assert [_jsonable(r) for r in readings] == expected
