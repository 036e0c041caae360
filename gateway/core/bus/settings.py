"""Bus master settings: the ``lines[].polling`` section of the YAML (cycle, timeouts, comm-loss, Ri).

Which clock each setting follows is said in its description: the cycle schedule follows the
gateway clock (simulated time may run faster); reply timeouts and line silences are real time.
"""

from __future__ import annotations

from typing import Self

from pydantic import BaseModel, ConfigDict, Field, model_validator


class BusSettings(BaseModel):
    """How one line is polled."""

    model_config = ConfigDict(extra="forbid")

    cycle_s: float = Field(
        2.0,
        ge=0.0,
        le=3600.0,
        description="Start a cycle every this many seconds of gateway time; 0 = back to back. A cycle "
        "that takes longer simply starts the next one late.",
    )
    timeout_s: float = Field(
        0.05,
        gt=0.0,
        le=5.0,
        description="Real-time slack added to a reply's wire time and the monitors' 10 ms turnaround "
        "before a request counts as timed out. Raise it for converters on slow networks.",
    )
    retries: int = Field(1, ge=0, le=5, description="Retries after a timeout or CRC error.")
    measure_wait_s: float = Field(
        0.05,
        ge=0.0,
        le=1.0,
        description="Wait (gateway clock) after the broadcast MEASURE before the first read "
        "(datasheet: done within 50 ms).",
    )
    broadcast_measure: bool = Field(
        True, description="Start every cycle with a broadcast MEASURE so all monitors sample together."
    )
    comm_lost_after: int = Field(
        3, ge=1, le=100, description="Consecutive failed cycles after which a unit is comm-lost."
    )
    probe_every: int = Field(
        5,
        ge=1,
        le=1000,
        description="A comm-lost unit is tried once every this many cycles (one attempt, no retry), "
        "so a dead monitor does not eat the cycle.",
    )
    identity_check: bool = Field(
        True,
        description="Read MODEL and SERIAL when a unit first answers and after comm-loss; "
        "a mismatch with the config is an alarm and its readings are not used.",
    )
    bypass_watchdog_s: int = Field(
        60,
        ge=5,
        le=600,
        description="BYPASS_WDOG written to every monitor on join; bypass duties are re-sent after "
        "half of it (gateway time) so they never expire while wanted.",
    )
    relay_timeout_s: int = Field(
        30,
        ge=0,
        le=3600,
        description="Relay timeout written to every AUX module on join (its HR10): a relay left ON "
        "falls back to OFF this long after the gateway last refreshed it, so a dead gateway opens "
        "the fail-safe alarm contact. ON relays are re-sent every third of it; 0 = never expires.",
    )
    ri_interval_h: float = Field(
        6.0,
        gt=0.0,
        le=24.0 * 365,
        description="Measure each unit's internal resistance this often (gateway time). Units are "
        "staggered over the interval; only on float or rest, bypass paused meanwhile.",
    )
    ri_duration_s: float = Field(
        2.5, gt=0.0, le=60.0, description="How long an Ri measurement keeps a unit busy (load pulse 2 s)."
    )
    ri_concurrent: int = Field(
        1, ge=1, le=50, description="At most this many units of a line measure Ri at the same time."
    )
    reconnect_max_s: float = Field(
        5.0,
        gt=0.0,
        le=300.0,
        description="Longest real-time wait between attempts to reopen a line that disappeared.",
    )

    @model_validator(mode="after")
    def _relays_refreshed_in_time(self) -> Self:
        # ON relays are refreshed from the cycle's writes: a cycle slower than a third of the
        # timeout would let a wanted relay drop out between two refreshes
        if self.relay_timeout_s and self.cycle_s * 3 > self.relay_timeout_s:
            raise ValueError(
                f"relay_timeout_s ({self.relay_timeout_s} s) must be 0 or at least 3 × cycle_s "
                f"({self.cycle_s:g} s), so ON relays are refreshed before they expire"
            )
        return self
