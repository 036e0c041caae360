"""The scenarios this tool can make: string, ambient, seed and the sequence of steps of each."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Rest:
    """Zero current (charger in rest mode) until `until_s` after the previous event's end."""

    until_s: float


@dataclass(frozen=True)
class Outage:
    """UPS outage at constant `power_w` until the end of discharge or `max_duration_s`."""

    power_w: float
    max_duration_s: float


@dataclass(frozen=True)
class ConstantCurrent:
    """Charge at `current_a` for `duration_s` (cut short by what follows)."""

    current_a: float
    duration_s: float


@dataclass(frozen=True)
class ReturnCharge:
    """Constant-current charge returning `fraction` × the net Ah deficit of the events so far."""

    current_a: float
    fraction: float


@dataclass(frozen=True)
class Cccv:
    """CC at `current_a` to `v_cell` per cell (on the string voltage), CV down to `end_current_a`."""

    current_a: float
    v_cell: float
    end_current_a: float


Step = Rest | Outage | ConstantCurrent | ReturnCharge | Cccv


@dataclass(frozen=True)
class Scenario:
    chemistry: str  # "vrla" or "lfp"
    units: int
    ambient_c: float
    seed: int
    steps: tuple[Step, ...]
    description: str  # truth.yaml description


_VRLA = "24 x 12 V VRLA blocks (PyBaMM lead-acid Full, Sulzer2019 design scaled to 21.1 Ah at the 10-h rate)"
_LFP = "16 x LFP cells (PyBaMM SPMe, Prada2013 A123 design scaled x10: ~22.1 Ah at the 10-h rate)"
_FAILING_BLOCK = "One failing block (capacity 0.70, resistance x1.6)."
_FAILING_CELL = "One failing cell (capacity 0.70, resistance x1.6)."
_LFP_END = "until the BMS cell cut-off (2.5 V) or the string cut-off (44.8 V)"
_LFP_CCCV = "CCCV recharge (11 A to 57.6 V, end at 1.1 A)"


def _vrla_outage(power_w: float) -> tuple[Step, ...]:
    return (Rest(1803.0), Outage(power_w, 10800.0), Rest(1200.0), ReturnCharge(3.2, 1.05), Rest(7200.0))


def _lfp_outage(power_w: float) -> tuple[Step, ...]:
    return (Rest(1803.0), Outage(power_w, 10800.0), Rest(900.0), Cccv(11.0, 3.6, 1.1), Rest(3600.0))


# The descriptions are written into truth.yaml verbatim: changing them changes the traces.
SCENARIOS: dict[str, Scenario] = {
    # regenerated check of a public trace
    "vrla24-full-outage": Scenario(
        "vrla",
        24,
        25.0,
        201,
        _vrla_outage(11520.0),
        f"{_VRLA} at 25 C. 30 min rest, UPS outage at constant 11.52 kW to the end of discharge, "
        "20 min rest, constant-current recharge returning 105 % of the Ah removed, 2 h rest. "
        f"{_FAILING_BLOCK} Regenerated check of the public trace.",
    ),
    "vrla24-slow-outage": Scenario(
        "vrla",
        24,
        25.0,
        301,
        _vrla_outage(3000.0),
        f"{_VRLA} at 25 C. 30 min rest, UPS outage at constant 3.0 kW to the end of discharge, "
        "20 min rest, constant-current recharge (3.2 A) returning 105 % of the Ah removed, 2 h rest. "
        f"{_FAILING_BLOCK}",
    ),
    "vrla24-hot-outage": Scenario(
        "vrla",
        24,
        35.0,
        304,
        _vrla_outage(8000.0),
        f"{_VRLA} at 35 C ambient. 30 min rest, UPS outage at constant 8.0 kW to the end of "
        "discharge, 20 min rest, constant-current recharge (3.2 A) returning 105 % of the Ah "
        f"removed, 2 h rest. {_FAILING_BLOCK}",
    ),
    # regenerated check of a public trace
    "lfp16-outage": Scenario(
        "lfp",
        16,
        25.0,
        203,
        _lfp_outage(1600.0),
        f"{_LFP} at 25 C. 30 min rest, UPS outage at constant 1.6 kW {_LFP_END}, 15 min rest, "
        f"{_LFP_CCCV}, 1 h rest. {_FAILING_CELL} Regenerated check of the public trace.",
    ),
    "lfp16-slow-outage": Scenario(
        "lfp",
        16,
        25.0,
        303,
        _lfp_outage(800.0),
        f"{_LFP} at 25 C. 30 min rest, UPS outage at constant 0.8 kW {_LFP_END}, 15 min rest, "
        f"{_LFP_CCCV}, 1 h rest. {_FAILING_CELL}",
    ),
    "lfp16-partial-outages": Scenario(
        "lfp",
        16,
        25.0,
        302,
        (
            Rest(1803.0),
            Outage(1000.0, 600.0),
            Rest(120.0),
            ConstantCurrent(11.0, 900.0),
            Outage(1000.0, 720.0),
            Rest(120.0),
            Cccv(11.0, 3.6, 1.1),
            Rest(3600.0),
        ),
        f"{_LFP} at 25 C. 30 min rest; UPS outage at constant 1.0 kW for 10 min (power returns), "
        "2 min rest, 11 A charge for 15 min cut short by a second 1.0 kW outage of 12 min, 2 min "
        f"rest, {_LFP_CCCV}, 1 h rest. For each outage runtime_end_t_s is a continuation to the "
        "end of discharge. One failing cell.",
    ),
}
