"""A custom map with every data type and both byte and word orders, read back with mbpoll's type options."""

from __future__ import annotations

import math
import struct
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.northbound_modbus.peers import mbpoll

CUSTOM_MAP = """
name: every type
byte_order: big
word_order: big
points:
  - {address: 0, data_type: int16, source: "strings[0].current_a", scale: 10}
  - {address: 1, data_type: uint16, byte_order: little, source: "strings[0].units[0].voltage_v", scale: 1000}
  - {address: 10, data_type: int32, source: "strings[0].current_a", scale: 1000000}
  - {address: 12, data_type: int32, word_order: little, source: "strings[0].current_a", scale: 1000000}
  - {address: 14, data_type: uint32, source: "strings[0].voltage_v", scale: 1000}
  - {address: 16, data_type: uint32, word_order: little, source: "strings[0].voltage_v", scale: 1000}
  - {address: 20, data_type: float32, source: "strings[0].units[0].voltage_v"}
  - {address: 22, data_type: float32, word_order: little, source: "strings[0].units[0].voltage_v"}
  - {address: 30, data_type: int32, byte_order: little, source: "strings[0].current_a", scale: 1000000}
  - {address: 32, data_type: float32, byte_order: little, word_order: little,
     source: "strings[0].units[1].voltage_v"}
  - {address: 40, data_type: uint16, source: "strings[0].units[0].temperature_c", scale: 10, offset: 400}
  - {address: 50, data_type: int32, source: "strings[0].units[5].voltage_v"}
  - {address: 52, data_type: float32, source: "strings[0].units[5].voltage_v"}
  - {address: 54, data_type: uint32, word_order: little, source: "strings[0].units[5].voltage_v"}
"""


@pytest.fixture
async def port(start_service: Callable[..., Any], tmp_path: Path) -> str:
    path = tmp_path / "custom.yaml"
    path.write_text(CUSTOM_MAP)
    service = await start_service(map=str(path))
    return str(service.port)


async def read(port: str, kind: str, ref: int, count: int = 1, *extra: str) -> list[str]:
    r = await mbpoll("-t", kind, "-r", str(ref), "-c", str(count), *extra, "-p", port, "127.0.0.1")
    assert r.returncode == 0, r.exception
    return list(r.values().values())


async def test_16_bit_types_and_offset(port: str) -> None:
    assert await read(port, "3", 0) == ["65411"]  # -12.5 A × 10, mbpoll shows unsigned
    swapped = int((await read(port, "3:hex", 1))[0], 16)
    assert ((swapped & 0xFF) << 8) | (swapped >> 8) == 13200
    assert await read(port, "3", 40) == [str(21 * 10 + 400)]


async def test_32_bit_types_in_both_word_orders_with_mbpoll_type_options(port: str) -> None:
    assert await read(port, "3:int", 10, 1, "-B") == ["-12500000"]  # high word first: mbpoll -B
    assert await read(port, "3:int", 12, 1) == ["-12500000"]  # low word first: mbpoll's default
    voltage_mv = round(sum(13.2 + 0.001 * i for i in range(24)) * 1000, -1)
    assert abs(int((await read(port, "3:int", 14, 1, "-B"))[0]) - voltage_mv) <= 10
    assert await read(port, "3:int", 14, 1, "-B") == await read(port, "3:int", 16, 1)
    assert float((await read(port, "3:float", 20, 1, "-B"))[0]) == pytest.approx(13.2, abs=1e-5)
    assert float((await read(port, "3:float", 22, 1))[0]) == pytest.approx(13.2, abs=1e-5)


async def test_byte_swapped_32_bit_values(port: str) -> None:
    words = [int(x, 16) for x in await read(port, "3:hex", 30, 2)]  # BADC
    octets = b"".join(((w & 0xFF) << 8 | w >> 8).to_bytes(2, "big") for w in words)
    assert struct.unpack(">i", octets)[0] == -12500000
    words = [int(x, 16) for x in await read(port, "3:hex", 32, 2)]  # DCBA
    octets = b"".join(w.to_bytes(2, "big") for w in words)
    assert struct.unpack("<f", octets)[0] == pytest.approx(13.201, abs=1e-5)


async def test_no_data_values_of_32_bit_types(port: str) -> None:
    assert await read(port, "3:int", 50, 1, "-B") == [str(-(2**31))]
    assert math.isnan(float((await read(port, "3:float", 52, 1, "-B"))[0]))
    assert [int(x, 16) for x in await read(port, "3:hex", 54, 2)] == [0xFFFF, 0xFFFF]
