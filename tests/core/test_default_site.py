"""`make run` in a test: the shipped default config, copied elsewhere, polls its simulated room
and stops cleanly on Ctrl-C (SIGINT)."""

from __future__ import annotations

import json
import signal
import subprocess
import time
from pathlib import Path

from tests.conftest import ROOT


def _copy_default_config(folder: Path, port: int) -> Path:
    """config/cellgate.yaml with only the web port changed (8443 may be taken on a shared machine)."""
    text = (ROOT / "config/cellgate.yaml").read_text()
    assert "    port: 8443\n" in text
    cfg = folder / "config" / "cellgate.yaml"
    cfg.parent.mkdir(parents=True)
    cfg.write_text(text.replace("    port: 8443\n", f"    port: {port}\n    host: 127.0.0.1\n"))
    return cfg


def test_the_default_config_runs_a_living_room_and_stops_on_ctrl_c(
    tmp_path: Path, cellgate_bin: str, free_port: int
) -> None:
    cfg = _copy_default_config(tmp_path, free_port)
    proc = subprocess.Popen(
        [cellgate_bin, "run", "-c", str(cfg)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stderr is not None
        for line in proc.stderr:
            if "gateway running" in line:
                break
        time.sleep(4.0)  # a few poll cycles of both simulated lines
        proc.send_signal(signal.SIGINT)
        out, rest = proc.communicate(timeout=30)
    finally:
        proc.kill()
    assert proc.returncode == 0, rest
    assert "gateway stopped" in rest
    assert "Traceback" not in rest
    # no default password: the first start made one and printed it once
    assert "created user 'admin' with password:" in out
    # data_dir ../var resolved against the copied config's folder, not the repository
    var = tmp_path / "var"
    assert (var / "history.sqlite").exists()
    # the last block of the second string was polled: a plausible float voltage in the history
    export = subprocess.run(
        [cellgate_bin, "history", "export", "-c", str(cfg), "--unit", "String B:24", "--format", "json"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert export.returncode == 0, export.stderr
    series = json.loads(export.stdout)["series"]
    assert series["voltage_v"], "no sample of String B:24"
    assert all(12.8 < v < 14.5 for v in series["voltage_v"])
