"""``cellgate simulate --pty`` read and written by mbpoll (libmodbus, RTU mode): a real serial tool."""

from __future__ import annotations

import shutil
import subprocess

import pytest

pytestmark = pytest.mark.skipif(
    shutil.which("mbpoll") is None, reason="scripts/peers/modbus-tools.sh installs mbpoll"
)


def mbpoll(path: str, *args: str, write: str | None = None) -> subprocess.CompletedProcess[str]:
    """One mbpoll transaction (-1), 0-based references (-0), 19200 8N1; ``write`` follows the device."""
    cmd = ["mbpoll", "-m", "rtu", "-b", "19200", "-P", "none", "-0", "-1", "-o", "0.5", *args, path]
    cmd += [write] if write is not None else []
    return subprocess.run(cmd, capture_output=True, text=True, timeout=20, check=False)


def values(out: str) -> list[int]:
    """``[3]: 	13641`` lines of mbpoll's output → the values."""
    return [int(line.split(":")[1].split()[0]) for line in out.splitlines() if line.startswith("[")]


def test_mbpoll_reads_measurement_identity_and_writes_holding_registers(simulate):
    sim = simulate("--pty", "--units", "4")
    regs = sim.control("registers 2")["input"]
    got = mbpoll(sim.where, "-a", "2", "-t", "3", "-r", "0", "-c", "10")
    assert got.returncode == 0, got.stderr
    measured = values(got.stdout)
    assert measured[0] & 1
    assert measured[2] == pytest.approx(regs["2"], abs=20)
    assert measured[4] == 0xFFFF
    ident = values(mbpoll(sim.where, "-a", "2", "-t", "3", "-r", "100", "-c", "6").stdout)
    assert ident[0] == 20
    assert ident[5] == 1
    assert ident[3] << 16 | ident[4] == regs["103"] << 16 | regs["104"]
    wrote = mbpoll(sim.where, "-a", "2", "-t", "4", "-r", "0", write="300")
    assert wrote.returncode == 0, wrote.stderr
    assert values(mbpoll(sim.where, "-a", "2", "-t", "4", "-r", "0", "-c", "4").stdout) == [300, 0, 0, 60]
    assert sim.control("registers 2")["input"]["6"] == 300


def test_mbpoll_sees_the_exceptions_and_the_silence(simulate):
    sim = simulate("--pty", "--units", "2")
    cases = {
        "Illegal data address": ("-a", "1", "-t", "3", "-r", "10", "-c", "1"),
        "Illegal data value": ("-a", "1", "-t", "4", "-r", "0", "2000"),
        "Illegal function": ("-a", "1", "-t", "0", "-r", "0", "-c", "1"),
        "timed out": ("-a", "9", "-t", "3", "-r", "0", "-c", "1"),
    }
    for message, args in cases.items():
        got = (
            mbpoll(sim.where, *args[:-1], write=args[-1])
            if message == "Illegal data value"
            else mbpoll(sim.where, *args)
        )
        assert got.returncode != 0, args
        assert message in got.stderr, (args, got.stderr)
    assert sim.control("stats")["stats"]["unanswered"] == 1


def test_mbpoll_drives_the_aux_relays_and_reads_its_inputs(simulate):
    sim = simulate("--pty", "--units", "1")
    assert mbpoll(sim.where, "-a", "120", "-t", "0", "-r", "1", write="1").returncode == 0
    assert values(mbpoll(sim.where, "-a", "120", "-t", "0", "-r", "0", "-c", "2").stdout) == [0, 1]
    assert values(mbpoll(sim.where, "-a", "120", "-t", "1", "-r", "0", "-c", "4").stdout) == [1, 0, 0, 0]
