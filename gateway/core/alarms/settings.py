"""The ``alarms:`` section of the YAML: threshold overrides per site, string and unit, relay, floods.

Every threshold has a default that fits the string's chemistry and monitor model (see
:mod:`gateway.core.alarms.kinds`); the file only says where a site differs.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from gateway.core.alarms.kinds import KINDS


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ThresholdOverride(_Section):
    """What a site, string or unit changes of one alarm kind; unset keys inherit."""

    enabled: bool | None = Field(None, description="false turns this alarm off here.")
    warning: float | None = Field(None, description="Warning limit, in the kind's unit (V, °C, Ω, A, %).")
    alarm: float | None = Field(None, description="Alarm limit, in the kind's unit.")
    hysteresis: float | None = Field(
        None,
        ge=0,
        description="How far back past a limit the value must go before the alarm clears (the kind's unit).",
    )
    delay_s: float | None = Field(
        None, ge=0, description="Seconds a limit must be exceeded before the alarm is raised."
    )
    clear_delay_s: float | None = Field(
        None, ge=0, description="Seconds the value must stay back inside before the alarm clears."
    )
    latching: bool | None = Field(
        None,
        description="true keeps the alarm active after its cause is gone, until someone acknowledges it.",
    )
    level: Literal["warning", "alarm"] | None = Field(
        None, description="Level raised by an on/off alarm (comm lost, fuse open, ...)."
    )


def _check_codes(value: dict[str, ThresholdOverride]) -> dict[str, ThresholdOverride]:
    unknown = sorted(set(value) - set(KINDS))
    if unknown:
        raise ValueError(f"unknown alarm kind(s) {', '.join(unknown)}; known: {', '.join(sorted(KINDS))}")
    return value


class StringAlarmSettings(_Section):
    """Overrides for one string, and for single units of it."""

    thresholds: dict[str, ThresholdOverride] = Field(
        default_factory=dict, description="Overrides for this string, by alarm kind."
    )
    units: dict[int, dict[str, ThresholdOverride]] = Field(
        default_factory=dict, description="Overrides for single units, keyed by position (1..N)."
    )

    @field_validator("thresholds")
    @classmethod
    def _codes(cls, v: dict[str, ThresholdOverride]) -> dict[str, ThresholdOverride]:
        return _check_codes(v)

    @field_validator("units")
    @classmethod
    def _unit_codes(
        cls, v: dict[int, dict[str, ThresholdOverride]]
    ) -> dict[int, dict[str, ThresholdOverride]]:
        for position, overrides in v.items():
            if position < 1:
                raise ValueError(f"unit positions start at 1, not {position}")
            _check_codes(overrides)
        return v


class RelaySettings(_Section):
    """The general-alarm dry contact: normally closed, it opens on alarm and on power loss."""

    enabled: bool = Field(True, description="Drive the AUX module's relay from the general alarm.")
    aux_relay: int = Field(0, ge=0, le=1, description="Which AUX relay (0 or 1) is the dry contact.")
    level: Literal["warning", "alarm"] = Field("alarm", description="Lowest level that opens the contact.")
    watchdog_s: float = Field(
        30.0,
        ge=5,
        le=3600,
        description="Not used: the AUX module's relay timeout is set per line, "
        "lines[].polling.relay_timeout_s (written to its HR10; default 30 s).",
    )


class FloodSettings(_Section):
    """How alarm floods are bounded."""

    line_fraction: float = Field(
        0.5,
        gt=0,
        le=1,
        description="Share of a line's units not answering that "
        "makes it one line alarm instead of one alarm per unit.",
    )
    string_fraction: float = Field(
        0.5,
        gt=0,
        le=1,
        description="Share of a string's units with the same "
        "alarm that makes it one string alarm listing the units.",
    )
    min_units: int = Field(
        3, ge=2, description="Fewest units for a string or line alarm to replace unit alarms."
    )
    max_active: int = Field(
        500,
        ge=10,
        description="Beyond this many active alarms, new ones are counted "
        "in one alarm_flood alarm instead of raised.",
    )


class AlarmSettings(_Section):
    """The ``alarms:`` section."""

    thresholds: dict[str, ThresholdOverride] = Field(
        default_factory=dict, description="Site-wide overrides, by alarm kind."
    )
    strings: dict[str, StringAlarmSettings] = Field(
        default_factory=dict, description="Per-string overrides, keyed by string name or index."
    )
    temperature_compensation: bool = Field(
        True,
        description="Shift lead-acid and NiCd unit voltage limits "
        "with the unit's temperature (they are given at 25 °C).",
    )
    relay: RelaySettings = Field(default_factory=RelaySettings, description="General-alarm dry contact.")
    flood: FloodSettings = Field(default_factory=FloodSettings, description="Alarm flood bounds.")
    require_ack: bool = Field(True, description="Cleared alarms stay listed until acknowledged.")
    max_unacknowledged: int = Field(
        1000, ge=10, description="Oldest cleared, unacknowledged alarms are dropped beyond this many."
    )

    @field_validator("thresholds")
    @classmethod
    def _codes(cls, v: dict[str, ThresholdOverride]) -> dict[str, ThresholdOverride]:
        return _check_codes(v)
