"""The monitor models of the bus datasheet (specs/monitor-bus.md): codes, channels, ranges, LSBs."""

from __future__ import annotations

from dataclasses import dataclass

BROADCAST_ID = 0
UNADDRESSED_ID = 247
BAUD_RATES = (9600, 19200, 38400, 57600, 115200)  # HR8 codes 0–4
DEFAULT_BAUD_CODE = 1
DEFAULT_WATCHDOG_S = 60
TEMP_MIN_C, TEMP_MAX_C = -35.0, 85.0
TEMP_FAULT_RAW = 0x8000
RI_NOT_MEASURED = 0xFFFF
HW_REV = 3
FIRMWARE = (1 << 8) | 4  # 1.4

# exception codes the devices use
ILLEGAL_FUNCTION = 1
ILLEGAL_ADDRESS = 2
ILLEGAL_VALUE = 3
DEVICE_BUSY = 6

REBOOT_COMMAND = 0xA55A
FACTORY_RESET_COMMAND = 0x5AA5
BOOT_TIME_S = 0.5
MEASURE_TIME_S = 0.03  # datasheet: done within 50 ms
RI_MEASURE_TIME_S = 2.0
AUTO_MEASURE_PERIOD_S = 10.0
SENSOR_SAMPLE_PERIOD_S = 1.0
LEARN_MODE_S = 60.0
FACTORY_RESET_HOLD_S = 10.0


@dataclass(frozen=True)
class BlockModel:
    """A battery monitor model: what one of its channels can measure and bypass."""

    name: str
    code: int
    channels: int
    v_min: float
    v_max: float
    v_lsb: float
    ri_min_ohm: float
    ri_max_ohm: float
    ri_lsb_ohm: float
    bypass_max_a: float


_C20 = {
    "v_min": 9.7,
    "v_max": 17.0,
    "v_lsb": 0.001,
    "ri_min_ohm": 0.0005,
    "ri_max_ohm": 0.060,
    "ri_lsb_ohm": 1e-5,
    "bypass_max_a": 0.150,
}
_C23 = {
    "v_min": 9.7,
    "v_max": 21.0,
    "v_lsb": 0.001,
    "ri_min_ohm": 0.0005,
    "ri_max_ohm": 0.060,
    "ri_lsb_ohm": 1e-5,
    "bypass_max_a": 0.120,
}
_C30 = {
    "v_min": 4.8,
    "v_max": 8.0,
    "v_lsb": 0.001,
    "ri_min_ohm": 0.0005,
    "ri_max_ohm": 0.060,
    "ri_lsb_ohm": 1e-5,
    "bypass_max_a": 0.300,
}
_C40 = {
    "v_min": 1.0,
    "v_max": 3.2,
    "v_lsb": 0.0001,
    "ri_min_ohm": 0.00002,
    "ri_max_ohm": 0.006,
    "ri_lsb_ohm": 1e-6,
    "bypass_max_a": 0.900,
}
_C41 = {
    "v_min": 2.4,
    "v_max": 5.0,
    "v_lsb": 0.0001,
    "ri_min_ohm": 0.0005,
    "ri_max_ohm": 0.030,
    "ri_lsb_ohm": 1e-5,
    "bypass_max_a": 0.300,
}

BLOCK_MODELS: dict[str, BlockModel] = {
    m.name: m
    for m in (
        BlockModel("C20", 20, 1, **_C20),
        BlockModel("C23", 23, 1, **_C23),
        BlockModel("C30", 30, 1, **_C30),
        BlockModel("C40", 40, 1, **_C40),
        BlockModel("C41", 41, 1, **_C41),
        BlockModel("C20ex3", 120, 3, **_C20),
        BlockModel("C30ex3", 130, 3, **_C30),
        BlockModel("C40ex3", 140, 3, **_C40),
    )
}
SENSOR_CODES = {"CS": 200, "THS": 210, "AUX": 220}


def block_model(name: str) -> BlockModel:
    """The block model called ``name`` (case-insensitive: ``c20ex3`` works)."""
    for key, model in BLOCK_MODELS.items():
        if key.lower() == name.lower():
            return model
    raise ValueError(f"unknown monitor model {name!r}; known: {', '.join(BLOCK_MODELS)}")


def u16(value: int) -> int:
    """A signed value as the register word the wire carries (two's complement)."""
    return int(value) & 0xFFFF


def s16(word: int) -> int:
    """A register word read back as a signed 16-bit value."""
    return word - 0x10000 if word & 0x8000 else word
