"""The map format and compiler, without a network: templates, checks, CSV, encodings, no-data values."""

from __future__ import annotations

import csv
import io
import math
import struct
from pathlib import Path

import numpy as np
import pytest

from plugins.northbound_modbus.compiler import CSV_COLUMNS, Layout, MapCompileError, compile_map
from plugins.northbound_modbus.encoding import NO_DATA, decode, encode
from plugins.northbound_modbus.images import ImageBuilder
from plugins.northbound_modbus.mapfile import DEFAULT_MAP, MapFileError, RegisterMap, load_map
from plugins.northbound_modbus.sources import SiteState
from tests.northbound_modbus.synthetic import LAYOUT, snapshot


def _map(**data: object) -> RegisterMap:
    return RegisterMap.model_validate(data)


def test_default_map_compiles_for_512_units_in_a_few_lines() -> None:
    compiled = compile_map(load_map(DEFAULT_MAP), Layout(LAYOUT))
    units = sum(LAYOUT)
    # 8 per-unit values for every unit, plus site, string and writable points
    assert len(compiled.of("input_register")) > 8 * units
    voltages = [p for p in compiled.points if p.source.name == "voltage_v" and p.source.kind == "unit"]
    assert [p.address for p in voltages] == list(range(10000, 10000 + units))
    assert voltages[24].source.path == "strings[1].units[0].voltage_v"
    assert voltages[-1].source.path == "strings[2].units[511].voltage_v"
    assert len(DEFAULT_MAP.read_text().splitlines()) < 150


def test_csv_has_exactly_the_documented_columns() -> None:
    compiled = compile_map(load_map(DEFAULT_MAP), Layout((2,)))
    rows = list(csv.DictReader(io.StringIO(compiled.csv())))
    assert tuple(rows[0].keys()) == CSV_COLUMNS
    voltage = next(r for r in rows if r["source"] == "strings[0].units[1].voltage_v")
    assert voltage == {
        "function": "input_register",
        "address": "10001",
        "data_type": "uint16",
        "byte_order": "big",
        "word_order": "",
        "scale": "1000",
        "offset": "0",
        "source": "strings[0].units[1].voltage_v",
        "unit": "mV",
    }
    runtime = next(r for r in rows if r["source"] == "strings[0].runtime_s")
    assert (runtime["data_type"], runtime["word_order"], runtime["address"]) == ("uint32", "big", "1101")


def test_template_expands_base_plus_n_times_stride() -> None:
    regmap = _map(
        templates=[
            {
                "for_each": "unit",
                "base": 100,
                "stride": 4,
                "strings": [1],
                "points": [
                    {"at": 0, "source": "unit.voltage_v"},
                    {"at": 2, "data_type": "float32", "source": "unit.soc"},
                ],
            }
        ]
    )
    compiled = compile_map(regmap, Layout((3, 2)))
    assert [(p.address, p.source.path) for p in compiled.points] == [
        (100, "strings[1].units[0].voltage_v"),
        (102, "strings[1].units[0].soc"),
        (104, "strings[1].units[1].voltage_v"),
        (106, "strings[1].units[1].soc"),
    ]


def test_template_write_args_name_their_element() -> None:
    regmap = _map(
        templates=[
            {
                "for_each": "unit",
                "base": 0,
                "function": "coil",
                "points": [
                    {
                        "source": "unit.psoc",
                        "write": {
                            "command": "request_ri",
                            "arg": "string",
                            "arg_type": "int",
                            "args": {"position": "$position"},
                        },
                    }
                ],
            }
        ]
    )
    compiled = compile_map(regmap, Layout((2,)))
    assert [p.write.args for p in compiled.points if p.write] == [{"position": 1}, {"position": 2}]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (
            {"points": [{"address": 1, "source": "site.flags"}, {"address": 1, "source": "site.running"}]},
            "input_register 1 is mapped twice: site.flags and site.running",
        ),
        (
            {
                "points": [
                    {"address": 0, "data_type": "int32", "source": "site.flags"},
                    {"address": 1, "source": "site.running"},
                ]
            },
            "input_register 1 is mapped twice",
        ),
        (
            {"points": [{"address": 65535, "data_type": "float32", "source": "site.flags"}]},
            "runs past address 65535",
        ),
        (
            {"points": [{"address": 0, "source": "strings[0].units[0].volts"}]},
            "unknown unit field 'volts'; known:",
        ),
        ({"points": [{"address": 0, "source": "battery.voltage"}]}, "is not a snapshot path"),
        (
            {"templates": [{"for_each": "string", "base": 0, "points": [{"source": "unit.soc"}]}]},
            "only valid in a for_each: unit template",
        ),
    ],
)
def test_bad_maps_are_refused_with_a_clear_message(data: dict[str, object], message: str) -> None:
    with pytest.raises(MapCompileError, match=message.replace("[", r"\[").replace("]", r"\]")):
        compile_map(_map(**data), Layout((1,)))


def test_bad_map_file_names_the_file_and_key(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("points:\n  - {address: 1, source: site.flags, data_type: int64}\n")
    with pytest.raises(MapFileError, match=r"bad.yaml: points.0.data_type"):
        load_map(bad)
    writable_input = tmp_path / "w.yaml"
    writable_input.write_text(
        "points:\n  - {function: input_register, address: 1, source: site.flags, "
        "write: {command: ack_alarm, arg: alarm_id}}\n"
    )
    with pytest.raises(MapFileError, match="read-only"):
        load_map(writable_input)


@pytest.mark.parametrize("data_type", ["int16", "uint16", "int32", "uint32", "float32"])
@pytest.mark.parametrize("byte_order", ["big", "little"])
@pytest.mark.parametrize("word_order", ["big", "little"])
def test_encoding_matches_struct_and_round_trips(data_type: str, byte_order: str, word_order: str) -> None:
    value = {"int16": -1234, "uint16": 54321, "int32": -123456789, "uint32": 3123456789, "float32": -12.375}[
        data_type
    ]
    regs = encode(
        np.array([value / 10.0]), np.array([10.0]), np.array([0.0]), data_type, byte_order, word_order
    )[0]
    fmt = {"int16": "h", "uint16": "H", "int32": "i", "uint32": "I", "float32": "f"}[data_type]
    raw = struct.pack(">" + fmt, value)
    words = [raw[i : i + 2] for i in range(0, len(raw), 2)]
    if word_order == "little":
        words.reverse()
    if byte_order == "little":
        words = [w[::-1] for w in words]
    assert [int.from_bytes(w, "big") for w in words] == regs.tolist()
    assert decode(regs.tolist(), data_type, byte_order, word_order) == pytest.approx(value)


@pytest.mark.parametrize("data_type", ["int16", "uint16", "int32", "uint32", "float32"])
def test_missing_values_read_as_the_documented_no_data_value(data_type: str) -> None:
    regs = encode(np.array([math.nan]), np.array([1.0]), np.array([0.0]), data_type, "big", "big")[0]
    raw = decode(regs.tolist(), data_type, "big", "big")
    assert math.isnan(raw)
    expected = {"int16": [0x8000], "uint16": [0xFFFF], "int32": [0x8000, 0], "uint32": [0xFFFF, 0xFFFF]}
    if data_type in expected:
        assert regs.tolist() == expected[data_type]
    # a real value never collides with the no-data value: it saturates one step short
    huge = encode(np.array([1e12, -1e12]), np.ones(2), np.zeros(2), data_type, "big", "big")
    for row in huge:
        assert decode(row.tolist(), data_type, "big", "big") != NO_DATA[data_type]


def test_images_follow_the_snapshot_and_mark_comm_lost_units() -> None:
    compiled = compile_map(load_map(DEFAULT_MAP), Layout(LAYOUT))
    builder = ImageBuilder(compiled, holding_mirrors_input=True)
    images = builder.build(snapshot(), SiteState(now=1000.0, stale_after_s=60))
    ir = images.registers["input_register"]
    assert ir[10000] == 13200
    assert ir[10001] == 13201
    assert ir[10005] == 0xFFFF  # strings[0].units[5] is comm lost: no data, not its last value
    assert ir[16005] & 0x81 == 0x81  # status bits: no data + comm lost
    assert ir[16000 + 24 + 3] & 0x02  # strings[1].units[3] is stale: value kept, stale bit set
    assert ir[10000 + 24 + 3] == 13303
    assert ir[11000 + 48 + 511] == 0x8000  # never measured, int16 no-data
    assert (images.registers["holding_register"][10000:10010] == ir[10000:10010]).all()  # mirror
    assert not images.mapped["input_register"][1025]


def test_sample_config_validates_and_is_in_the_readme() -> None:
    import yaml

    from plugins.northbound_modbus.config import ModbusServiceConfig

    folder = DEFAULT_MAP.parent.parent
    sample = (folder / "sample.yaml").read_text()
    entry = yaml.safe_load(sample)["services"][0]
    assert entry.pop("type") == "modbus"
    config = ModbusServiceConfig.model_validate(entry)
    assert config.tcp.port == 5020
    assert config.writes.enabled is False  # secure by default
    assert sample in (folder / "README.md").read_text()


def test_alarm_flag_bits_of_the_engine_alarm_codes() -> None:
    from gateway.core.model import AlarmView
    from plugins.northbound_modbus.sources import alarm_flags

    def flags(code: str, level: str = "alarm", acked: bool = True) -> int:
        view = AlarmView(
            id=1,
            code=code,
            level=level,
            source="site",
            message="",
            raised_at=0.0,
            acked_at=1.0 if acked else None,
        )
        return alarm_flags([view], "alarm")

    assert flags("unit_voltage_high") == 0b1 | 1 << 2
    assert flags("string_voltage_low", acked=False) == 0b11 | 1 << 3
    assert flags("thermal_runaway") == 1 | 1 << 4
    assert flags("unit_ri_rise") == 1 | 1 << 5
    assert flags("weak_unit") == 1 | 1 << 6
    assert flags("line_comm_lost") == 1 | 1 << 7
    assert flags("string_ripple_high") == 1 | 1 << 8
    assert flags("string_charge_current_high") == 1 | 1 << 9
    assert flags("unit_voltage_deviation") == 1 | 1 << 10
    assert flags("unit_fuse_open") == 1 | 1 << 15
    assert flags("unit_voltage_high", level="warning") == 0  # warnings go to site.warning_flags
