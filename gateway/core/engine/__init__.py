"""The engine's numerical heart: estimation (SOC, PSOC, SOH, runtime) and control (equalization)."""

from gateway.core.engine.config import EngineConfig
from gateway.core.engine.measurement import (
    DischargeReport,
    Finding,
    Measurement,
    Mode,
    StringEstimate,
    StringSpec,
)
from gateway.core.engine.string_engine import StringEngine

__all__ = [
    "DischargeReport",
    "EngineConfig",
    "Finding",
    "Measurement",
    "Mode",
    "StringEngine",
    "StringEstimate",
    "StringSpec",
]
