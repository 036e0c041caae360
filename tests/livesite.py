"""The gateway's YAML for a site on the in-process simulator (``sim://``), for end-to-end tests:
one 24 × 100 Ah VRLA string of C20 monitors with a current sensor and an ambient sensor."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml


def sim_string(
    chemistry: str, nominal_voltage_v: float, model: str, count: int, rated_capacity_ah: float = 100.0
) -> dict[str, Any]:
    """The keys of a string that differ from the default 24 × 100 Ah VRLA one (for ``string=``)."""
    return {
        "chemistry": chemistry,
        "nominal_voltage_v": nominal_voltage_v,
        "rated_capacity_ah": rated_capacity_ah,
        "units": {"model": model, "count": count, "bus": "bus1", "first_address": 1},
    }


def write_sim_site(
    tmp_path: Path,
    *,
    options: dict[str, Any] | None = None,
    polling: dict[str, Any] | None = None,
    engine: dict[str, Any] | None = None,
    alarms: dict[str, Any] | None = None,
    string: dict[str, Any] | None = None,
    aux: bool = False,
) -> Path:
    """Write ``tmp_path/cellgate.yaml``; ``string`` overrides keys of the string, ``aux`` adds the
    AUX module (relays). The simulated world is named after ``tmp_path``."""
    sensors: dict[str, Any] = {"ambient": {"bus": "bus1", "address": 110}}
    if aux:
        sensors["aux"] = {"bus": "bus1", "address": 120}
    cfg = {
        "site": {"name": "Simulated test site"},
        "data_dir": "var",
        "lines": [
            {
                "name": "bus1",
                "url": f"sim://{tmp_path.name}",
                "options": {"seed": 3, **(options or {})},
                "polling": polling or {},
            }
        ],
        "strings": [
            {
                "name": "String A",
                "chemistry": "vrla",
                "nominal_voltage_v": 12.0,
                "rated_capacity_ah": 100.0,
                "units": {"model": "C20", "count": 24, "bus": "bus1", "first_address": 1},
                "current_sensor": {"bus": "bus1", "address": 100},
                **(string or {}),
            }
        ],
        "sensors": sensors,
        "engine": engine or {},
        "alarms": alarms or {},
        "logging": {"level": "warning"},
    }
    path = tmp_path / "cellgate.yaml"
    path.write_text(yaml.safe_dump(cfg))
    return path


def steep_ri_ramp(tmp_path: Path) -> Path:
    """A scenario in which block 5 ages fast (Ri +300 %/day from 1 h): the shipped ri-ramp
    (+50 %/day) needs simulated days, this one shows the same in hours."""
    path = tmp_path / "steep-ri-ramp.yaml"
    path.write_text(
        yaml.safe_dump(
            {
                "description": "block 5 ages fast: Ri +300 %/day from 1 h",
                "events": [{"at": 3600, "do": "ri_ramp", "string": 0, "position": 5, "rate_per_day": 3.0}],
            }
        )
    )
    return path
