"""Schemathesis fuzzes the published OpenAPI spec against a running web service: no 5xx, ever.

The service runs in its own process over a synthetic site (``fake_gateway.py``); the fuzzer
is schemathesis's own command line, so this is an outside client speaking plain https.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import VENV_BIN
from tests.processes import stop

HERE = Path(__file__).resolve().parent


@pytest.fixture
def fake_gateway(tmp_path: Path) -> Iterator[dict]:
    proc = subprocess.Popen(
        [sys.executable, str(HERE / "fake_gateway.py"), "--data-dir", str(tmp_path / "gw")],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        line = proc.stdout.readline()
        assert line, "the fake gateway did not start"
        yield json.loads(line)
    finally:
        stop(proc, 10)


def _fuzz(info: dict, tmp_path: Path, seconds: int, *selection: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [
            str(VENV_BIN / "schemathesis"),
            "run",
            f"https://localhost:{info['port']}/api/v1/openapi.json",
            "--checks",
            "not_a_server_error",
            "-H",
            f"Authorization: Bearer {info['tokens']['admin']}",
            "--tls-verify",
            info["cert"],
            "-n",
            "25",
            "--max-time",
            str(seconds),
            "--generation-database",
            "none",
            "--seed",
            "7",
            "-w",
            "1",
            "--no-color",
            *selection,
        ],
        capture_output=True,
        text=True,
        timeout=seconds + 60,
        cwd=tmp_path,
    )


def test_no_request_makes_the_api_fail(fake_gateway: dict, tmp_path: Path) -> None:
    # first everything except what would delete the fuzzer's own credentials mid-run...
    run = _fuzz(
        fake_gateway, tmp_path, 30, "--exclude-method", "DELETE", "--exclude-path-regex", "^/api/v1/users/"
    )
    assert run.returncode == 0, run.stdout[-4000:]
    assert "Server error" not in run.stdout
    # ...then those too (they may lock the fuzzer out part-way: still never a 5xx)
    run = _fuzz(fake_gateway, tmp_path, 10, "--include-method", "DELETE", "--include-method", "PATCH")
    assert run.returncode == 0, run.stdout[-4000:]
    assert "Server error" not in run.stdout
