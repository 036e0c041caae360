"""The Ri-ramp scenario end to end: one block ages fast, ``unit_ri_rise`` rises on that block
(warning, then alarm, which opens the dry contact) and nothing else fires.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from plugins.simulator.transport import running_world
from tests.alarms.live import make_gateway, recording, relay, wait_for
from tests.livesite import steep_ri_ramp


@pytest.mark.timeout(90)
async def test_ri_ramp_raises_ri_rise_on_that_block_only(tmp_path: Path) -> None:
    scenario = steep_ri_ramp(tmp_path)
    gw = make_gateway(
        tmp_path,
        speed=2000,
        options={"scenario": str(scenario)},
        # Ri every 15 min instead of 6 h; at 2000× a bus cycle takes simulated minutes
        polling={"ri_interval_h": 0.25, "relay_timeout_s": 3600},
    )
    await gw.start()
    try:
        async with recording(gw) as events:
            await wait_for(gw, lambda s: relay(s, 0) is True, 20, "all well: contact energized")
            world = running_world(tmp_path.name)
            snap = await wait_for(
                gw,
                lambda s: any(a.code == "unit_ri_rise" and a.level == "alarm" for a in s.alarms),
                60,
                "unit_ri_rise alarm",
            )
            true_rise = world.unit_state(0, 5)["ri_ohm"] / world.plant.r0_ohm[4] - 1.0
            await wait_for(gw, lambda s: relay(s, 0) is False, 10, "alarm: contact opens")
            assert not world.coils(120)[0]
    finally:
        await gw.stop()
    raised = [e for e in events if e.kind == "alarm" and e.state == "raised"]
    assert {(e.code, e.source) for e in raised} == {("unit_ri_rise", "strings[0].units[4]")}
    assert [e.level for e in raised] == ["warning", "alarm"]  # 20 % then 50 % over its baseline
    assert all(e.code == "unit_ri_rise" for e in events if e.kind == "alarm")
    (alarm,) = [a for a in snap.alarms if a.code == "unit_ri_rise"]
    assert alarm.source == "strings[0].units[4]"
    assert alarm.value is not None
    assert 0.2 < alarm.value < true_rise + 0.05  # the rise the gateway saw, not more than the truth
