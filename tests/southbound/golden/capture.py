"""Make the golden captures: per model, the bytes a master exchanges with the simulator.

Run ``.venv/bin/python -m tests.southbound.golden.capture`` after a deliberate change of the
profile; review the diff. Every expected reading is checked against the simulator's true
physical values (datasheet accuracy) before it is written, so a capture cannot enshrine a
decoding error.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import asdict
from pathlib import Path

from gateway.core.bus.driver import IDENTITY_ADDRESS, IDENTITY_COUNT, READ_INPUT, ReadBlock, WriteOp
from gateway.core.bus.rtu import LineTiming, RtuClient
from gateway.core.clock import ManualClock
from plugins.monitors.plugin import BLOCK_DRIVERS, SENSOR_DRIVERS
from plugins.simulator.options import SimOptions
from plugins.simulator.site import quick_site
from plugins.simulator.world import World
from tests.southbound.golden.worldline import WorldLine
from tests.southbound.helpers import make_ctx

HERE = Path(__file__).parent
SENSOR_ADDRESS = {"CS": 100, "THS": 110, "AUX": 120}


def _step(op: str, unit: int, what: ReadBlock | WriteOp) -> dict[str, object]:
    return {"op": op, "unit": unit, **asdict(what)}


async def capture(model: str) -> None:
    clock = ManualClock(1_750_000_000.0)
    ctx = make_ctx(clock)
    base = model if model not in SENSOR_ADDRESS else "C20"
    world = World(quick_site(units=3, model=base), SimOptions(seed=7), clock)
    line = WorldLine(ctx, world)
    rtu = RtuClient(line, LineTiming(19200, emulated=False), 0.05)
    rtu.log_frames = []
    drivers = {c.model: c for c in (*BLOCK_DRIVERS, *SENSOR_DRIVERS)}
    driver = drivers[model]()
    address = SENSOR_ADDRESS.get(model, 1)
    steps: list[dict[str, object]] = []

    async def do(op: str, what: ReadBlock | WriteOp) -> list[int] | None:
        steps.append(_step(op, address, what))
        return (
            await rtu.read(address, what) if isinstance(what, ReadBlock) else await rtu.write(address, what)
        )

    clock.advance(30)
    ident = ReadBlock(READ_INPUT, IDENTITY_ADDRESS, IDENTITY_COUNT)
    await do("read", ident)
    if driver.has_ri:
        await do("write", driver.encode_ri_measure())
        clock.advance(3)
        await do("write", driver.encode_bypass([0.3, 0.2, 0.1]))
        clock.advance(2)
    if driver.relays:
        await do("write", driver.encode_relay(1, True))
    if driver.measures_on_broadcast:
        await do("write", driver.encode_measure())
    clock.advance(0.1)
    blocks = [await do("read", b) for b in driver.read_plan()]
    readings = driver.decode(blocks, "bus1", address, clock.now())
    truth = _truth(world, model, driver)
    _check(model, readings, truth)
    folder = HERE / model
    folder.mkdir(exist_ok=True)
    for step, (req, rep) in zip(steps, rtu.log_frames, strict=True):
        step["request"], step["reply"] = req.hex(), rep.hex()
    (folder / "capture.json").write_text(json.dumps(steps, indent=1) + "\n")
    (folder / "config.yaml").write_text(
        "# the device of this capture, as the gateway's config binds it\n"
        f"model: {model}\naddress: {address}\n"
        f"bus: bus1\nbaud: 19200\nsimulator: {{site: quick_site(units=3, model={base}), seed: 7}}\n"
    )
    expected = [_jsonable(r) for r in readings]
    (folder / "expected.json").write_text(json.dumps({"readings": expected, "truth": truth}, indent=1) + "\n")
    print(f"{model}: {len(steps)} exchanges")


def _truth(world: World, model: str, driver: object) -> dict[str, object]:
    if model == "CS":
        return {k: v for k, v in world.string_state(0).items() if k in ("current_a", "ripple_a")}
    if model == "THS":
        return {"temperature_c": world.ambient_c(), "humidity_pct": world.humidity_pct()}
    if model == "AUX":
        return {"inputs": world.aux_inputs()}
    channels = getattr(driver, "channels", 1)
    return {"units": [world.unit_state(0, c + 1) for c in range(min(channels, 3))]}


def _check(model: str, readings: list[object], truth: dict[str, object]) -> None:
    """Decoded values within the datasheet's accuracy of the simulator's true values."""
    if "units" in truth:
        for r, u in zip(readings, truth["units"], strict=False):  # type: ignore[arg-type]
            assert abs(r.voltage_v - u["voltage_v"]) <= 0.005 * u["voltage_v"] + 0.001, (model, r, u)
            assert abs(r.temperature_c - u["temperature_c"]) <= 1.0, (model, r, u)
            assert r.ri_ohm is not None, (model, r)
            if "ri_out_of_range" in r.flags:  # clipped to the model's range, as the datasheet says
                assert r.ri_ohm in r_driver_range(model), (model, r, u)
            else:
                assert abs(r.ri_ohm - u["ri_ohm"]) <= 0.02 * u["ri_ohm"] + 2e-5, (model, r, u)
    elif model == "CS":
        v = readings[0].values
        assert abs(v["current_a"] - truth["current_a"]) <= 0.05 + 0.01 * abs(truth["current_a"]), (v, truth)
    elif model == "THS":
        v = readings[0].values
        assert abs(v["temperature_c"] - truth["temperature_c"]) <= 1.0, (v, truth)
        assert abs(v["humidity_pct"] - truth["humidity_pct"]) <= 5.0, (v, truth)
    elif model == "AUX":
        assert list(readings[0].values["inputs"]) == truth["inputs"], (readings, truth)
        assert readings[0].values["relays"][1] is True


def r_driver_range(model: str) -> tuple[float, float]:
    cls = next(c for c in BLOCK_DRIVERS if c.model == model)
    return cls.ri_range_ohm


def _jsonable(r: object) -> dict[str, object]:
    d = asdict(r)  # type: ignore[call-overload]
    d["flags"] = sorted(d["flags"])
    d["quality"] = d["quality"].value
    if "values" in d:
        d["values"] = {k: list(v) if isinstance(v, tuple) else v for k, v in d["values"].items()}
    return d


async def main() -> None:
    for cls in (*BLOCK_DRIVERS, *SENSOR_DRIVERS):
        await capture(cls.model)


if __name__ == "__main__":
    asyncio.run(main())
