"""Hook implementations of the monitors plugin: one driver per monitor model, plus the generic map driver."""

from __future__ import annotations

from gateway.hookspecs import Register, hookimpl
from plugins.monitors.blocks import BLOCK_DRIVERS
from plugins.monitors.generic import GenericMapDriver
from plugins.monitors.sensors import SENSOR_DRIVERS


@hookimpl
def cellgate_register_monitor_drivers(register: Register) -> None:
    for cls in (*BLOCK_DRIVERS, *SENSOR_DRIVERS):
        register(cls.model, cls)
    register(GenericMapDriver.model, GenericMapDriver)
