"""The engine live: the real gateway in-process on the simulator, at high clock speed.

Each test starts `Gateway` with a config like `config/cellgate.yaml` (one 24 × 100 Ah VRLA
string, a current sensor, an ambient sensor) and a simulator scenario, watches what the engine
makes of it, and stops the gateway. What is checked is what a user sees: SOC, duties, findings.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from gateway.core.clock import ScaledClock
from gateway.core.config import load_config
from gateway.core.engine import Measurement, Mode, StringEstimate
from gateway.core.model import Snapshot
from gateway.core.runtime import Gateway
from gateway.plugins import load_plugins
from plugins.simulator.transport import running_world
from tests.livesite import sim_string, steep_ri_ramp, write_sim_site


@dataclass
class Sample:
    """What one engine step said, kept small (a run has tens of thousands of steps)."""

    t_s: float
    mode: Mode
    soc: float
    duty: np.ndarray
    findings: set[tuple[str, int | None]]
    reports: int


@dataclass
class Run:
    samples: list[Sample] = field(default_factory=list)
    snapshots: list[Snapshot] = field(default_factory=list)

    def first(self, code: str) -> Sample | None:
        return next((s for s in self.samples if any(c == code for c, _ in s.findings)), None)

    def units_with(self, code: str) -> set[int | None]:
        return {u for s in self.samples for c, u in s.findings if c == code}


def site_config(
    tmp_path: Path,
    options: dict[str, Any],
    engine: dict[str, Any] | None = None,
    string: dict[str, Any] | None = None,
) -> Path:
    options = dict(options)
    polling = options.pop("polling", None)
    return write_sim_site(tmp_path, options=options, polling=polling, engine=engine, string=string)


async def run_site(
    config: Path, speed: float, sim_s: float, done: Callable[[Run], bool] = lambda r: False
) -> Run:
    """Run the gateway for ``sim_s`` simulated seconds (or until ``done``), recording the engine."""
    plugins = load_plugins()
    clock = ScaledClock(speed)
    gw = Gateway(load_config(config, plugins), plugins, clock)
    run = Run()
    await gw.start()
    try:
        engine = gw.hub.engines[0]
        step = engine.step

        def recording_step(m: Measurement) -> StringEstimate:  # observe, change nothing
            est = step(m)
            run.samples.append(
                Sample(
                    m.t_s,
                    est.mode,
                    float(np.mean(est.soc)),
                    est.duty.copy(),
                    {(f.code, f.unit) for f in est.findings},
                    len(est.discharge_reports),
                )
            )
            return est

        engine.step = recording_step
        t0 = clock.monotonic()
        while clock.monotonic() - t0 < sim_s and not done(run):
            await asyncio.sleep(0.2)
            run.snapshots.append(gw.ctx.snapshot())
    finally:
        await gw.stop()
    assert run.samples, "the engine never ran"
    return run


@pytest.mark.timeout(60)
async def test_soc_falls_in_a_mains_failure_and_recovers_after(tmp_path: Path) -> None:
    # mains fails at 120 s and returns at 1920 s (30 min on battery at about the 1-hour rate)
    run = await run_site(site_config(tmp_path, {"scenario": "mains-failure"}), speed=250, sim_s=3300)
    t0 = run.samples[0].t_s
    dis = [s for s in run.samples if s.mode is Mode.DISCHARGE]
    assert dis, "the mains failure was never seen as a discharge"
    assert 100 <= dis[0].t_s - t0 <= 200
    soc_start = next(s.soc for s in run.samples if s.t_s - t0 > 60)
    soc_low = min(s.soc for s in run.samples)
    assert soc_low < soc_start - 0.15  # ~30 min at ~50 A out of 100 Ah blocks
    after = [s for s in run.samples if s.t_s > dis[-1].t_s]
    assert after
    assert after[-1].mode in (Mode.CHARGE, Mode.FLOAT)
    assert after[-1].soc > soc_low + 0.01  # recharging
    assert sum(s.reports for s in run.samples) == 1  # one discharge report when it ended


#: strings of the other chemistries and monitor models, each sized as an installer would
OTHER_STRINGS = {
    "vla 2 V cells": sim_string("vla", 2.0, "C40", 24, 400.0),
    "vrla 6 V blocks": sim_string("vrla", 6.0, "C30", 40, 200.0),
    "nicd cells": sim_string("nicd", 1.2, "C40", 40),
    "lto cells": sim_string("lto", 2.3, "C40", 20, 40.0),
}
#: 16 LFP cells of 100 Ah on C41 monitors
LFP_STRING = sim_string("lfp", 3.2, "C41", 16)


@pytest.mark.timeout(60)
@pytest.mark.parametrize("string", OTHER_STRINGS.values(), ids=OTHER_STRINGS.keys())
async def test_every_chemistry_counts_a_mains_failure_down_and_back_up(
    tmp_path: Path, string: dict[str, Any]
) -> None:
    # 30 min on battery at about the 1-hour rate, then the charger: the discharge is seen, each
    # unit's SOC falls by about half, one report, and the recharge lifts SOC again, with no finding
    # on healthy units
    config = site_config(tmp_path, {"scenario": "mains-failure"}, string=string)
    run = await run_site(config, speed=300, sim_s=2400)
    t0 = run.samples[0].t_s
    dis = [s for s in run.samples if s.mode is Mode.DISCHARGE]
    assert dis, "the mains failure was never seen as a discharge"
    assert 100 <= dis[0].t_s - t0 <= 200
    assert 1700 <= dis[-1].t_s - t0 <= 2000
    soc_low = min(s.soc for s in run.samples)
    assert 0.55 < soc_low < 0.85  # ~0.55 C10 A for 30 min takes ~27 %
    assert run.samples[-1].mode is Mode.CHARGE
    assert run.samples[-1].soc > soc_low + 0.008  # ~0.1 C10 for the last minutes
    assert sum(s.reports for s in run.samples) == 1
    assert not {c for s in run.samples for c, _ in s.findings}


@pytest.mark.timeout(60)
async def test_a_current_sensor_too_small_still_shows_the_discharge_and_says_so(tmp_path: Path) -> None:
    # a 100 A sensor on 400 Ah cells that draw ~250 A in an outage: the clipped reading still
    # tells a discharge (SOC counts down, if too slowly), and a warning says the sensor is too small
    options = {"scenario": "mains-failure", "current_sensor_range_a": 100}
    config = site_config(tmp_path, options, string=OTHER_STRINGS["vla 2 V cells"])
    run = await run_site(config, speed=100, sim_s=600)
    assert any(s.mode is Mode.DISCHARGE for s in run.samples)
    assert min(s.soc for s in run.samples) < 0.99
    late = run.snapshots[-1]
    assert late.strings[0].current_a == pytest.approx(-100.0, abs=1.0)
    assert late.strings[0].current_over_range
    raised = {(a.code, a.level) for a in late.alarms}
    assert ("string_current_over_range", "warning") in raised


@pytest.mark.timeout(60)
async def test_without_a_current_sensor_an_outage_is_seen_and_soc_says_unknown(tmp_path: Path) -> None:
    # the current sensor is optional: the engine tells float, discharge and rest from the voltages
    config = site_config(tmp_path, {"scenario": "mains-failure"}, string={"current_sensor": None})
    run = await run_site(config, speed=300, sim_s=2400)
    t0 = run.samples[0].t_s
    dis = [s for s in run.samples if s.mode is Mode.DISCHARGE]
    assert run.samples[0].mode is Mode.FLOAT
    assert dis, "the mains failure was never seen"
    assert 100 <= dis[0].t_s - t0 <= 250
    assert 1800 <= dis[-1].t_s - t0 <= 2000
    assert sum(s.reports for s in run.samples) == 1
    assert math.isnan(run.samples[-1].soc), "nobody measured the charge that went: SOC is unknown"
    assert all(u.soc is None for u in run.snapshots[-1].strings[0].units)


@pytest.mark.timeout(60)
async def test_float_equalization_bypasses_high_units_and_shrinks_the_spread(tmp_path: Path) -> None:
    run = await run_site(site_config(tmp_path, {}), speed=1000, sim_s=16000)
    floats = [s for s in run.samples if s.mode is Mode.FLOAT]
    assert len(floats) > 0.8 * len(run.samples), "a string on float must read as float, not rest"
    last = floats[-1]
    assert (last.duty > 0).any()
    views = [v for v in run.snapshots if v.strings and v.strings[0].spread_v is not None]
    volts = np.array([u.voltage_v or math.nan for u in views[-1].strings[0].units])
    # the bypassed units are the high ones: every bypassed unit is above the median
    # (hysteresis lets a unit pulled just under it finish its bypass)
    median = float(np.nanmedian(volts))
    assert np.nanmin(volts[last.duty > 0]) > median - 0.03
    assert np.nanmean(volts[last.duty > 0]) > np.nanmean(volts[last.duty == 0])
    start = views[min(3, len(views) - 1)].strings[0].spread_v
    end = views[-1].strings[0].spread_v
    assert start is not None
    assert end is not None
    assert end < 0.7 * start, f"spread {start:.3f} V -> {end:.3f} V"


@pytest.mark.timeout(60)
async def test_lfp_cells_on_float_are_balanced_without_swinging(tmp_path: Path) -> None:
    # A Li cell floats at little more than its self-discharge current, so a few mA of bypass move
    # it by tens of mV: the loop must be gentle there, or it swings cells from bottom to top.
    run = await run_site(site_config(tmp_path, {}, string=LFP_STRING), speed=1000, sim_s=4 * 3600)
    views = [v for v in run.snapshots if v.strings and v.strings[0].spread_v is not None]
    start, end = views[min(3, len(views) - 1)].strings[0].spread_v, views[-1].strings[0].spread_v
    assert start is not None
    assert end is not None
    assert end < 0.5 * start, f"spread {start * 1000:.0f} mV -> {end * 1000:.0f} mV"
    late = [s for s in run.samples if s.t_s > run.samples[-1].t_s - 3600]
    assert max(float(s.duty.max()) for s in late) < 0.2
    assert not {a.code for a in views[-1].alarms} & {"unit_voltage_deviation", "equalization_error"}


@pytest.mark.timeout(60)
async def test_ri_ramp_raises_ri_rise_on_that_unit_only(tmp_path: Path) -> None:
    scenario = steep_ri_ramp(tmp_path)
    options = {"scenario": str(scenario), "polling": {"ri_interval_h": 0.25}}
    run = await run_site(
        site_config(tmp_path, options), speed=2000, sim_s=12 * 3600, done=lambda r: bool(r.first("ri_rise"))
    )
    hit = run.first("ri_rise")
    assert hit is not None, "an Ri ramp of +300 %/day was not flagged in 12 h"
    assert run.units_with("ri_rise") == {4}


@pytest.mark.timeout(60)
async def test_thermal_runaway_is_found_on_the_hot_unit_with_default_settings(tmp_path: Path) -> None:
    # Default thermal settings (8 °C, 30 min): block 7 reads hot after ~3 h, the alarm follows
    # the hold time later, hours before the block would fail (~8 h).
    run = await run_site(
        site_config(tmp_path, {"scenario": "thermal-runaway"}),
        speed=2000,
        sim_s=8 * 3600,
        done=lambda r: bool(r.first("thermal_runaway")),
    )
    alarm, warning = run.first("thermal_runaway"), run.first("unit_hot")
    assert alarm is not None, "no thermal_runaway in 8 h"
    assert warning is not None
    assert run.units_with("thermal_runaway") == {6}  # block 7
    assert 6 in run.units_with("unit_hot")
    t0 = run.samples[0].t_s
    assert alarm.t_s - t0 < 5 * 3600
    # at least the hold time after the warning; at 2000x on a loaded machine the bus and the
    # engine sample coarsely (a bus cycle can span a simulated minute), so allow an hour of slack
    assert 1800 <= alarm.t_s - warning.t_s <= 1800 + 3600


@pytest.mark.timeout(180)
async def test_lfp_capacities_are_learnt_live_from_the_recharge_after_a_mains_failure(
    tmp_path: Path,
) -> None:
    # 16 LFP cells: 30 min on battery (~26 % out), then the charger brings them back to full;
    # the charge curves teach each cell's capacity, checked against the simulator's own
    true_soh: list[float] = []

    def remember_truth(_: Run) -> bool:
        if not true_soh:
            with contextlib.suppress(LookupError):  # the line opens a moment after the start
                plant = running_world(tmp_path.name).plant
                true_soh.extend((plant.cap0_ah * plant.capacity_fraction / 100.0).tolist())
        return False

    config = site_config(tmp_path, {"scenario": "mains-failure"}, string=LFP_STRING)
    run = await run_site(config, speed=100, sim_s=9000, done=remember_truth)
    assert run.samples[-1].mode is Mode.FLOAT, "not back on float: the charge did not end"
    soh = [u.soh for u in run.snapshots[-1].strings[0].units]
    learnt = [i for i, x in enumerate(soh) if x is not None]
    assert len(learnt) >= 8, f"only {len(learnt)} of 16 capacities learnt"
    for i in learnt:  # the rest stay unknown until a later charge is surer of them
        assert soh[i] == pytest.approx(true_soh[i], abs=0.03), i
