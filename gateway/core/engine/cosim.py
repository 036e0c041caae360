"""``cellgate cosim --plant "COMMAND"``: the engine in closed loop with an external plant.

The plant process sends one JSON line per step (time, string current, ambient, each unit's
voltage, temperature and last Ri); the engine answers each with ``{"duty": [...]}``, in
lock step and in the plant's simulated time. When the plant closes its stdout the engine
writes ``summary.json``. A malformed message ends the run with exit status 2 and the reason.
"""

from __future__ import annotations

import argparse
import json
import math
import shlex
import subprocess
import sys
from pathlib import Path
from typing import IO, Any, get_args

import numpy as np

from gateway.core.components import CliCommand
from gateway.core.engine.config import EngineConfig, EqualizationConfig
from gateway.core.engine.measurement import Measurement, StringSpec
from gateway.core.engine.string_engine import StringEngine
from gateway.core.engine.trace import load_settings, spec_from_string, write_summary

#: nominal unit voltage of each monitor model, for a string described by flags only
MODEL_NOMINAL_V = {"C20": 12.0, "C23": 16.0, "C30": 6.0, "C40": 2.0, "C41": 3.2}


class CosimError(Exception):
    """The plant broke the protocol (or died)."""


def _number(x: Any, where: str, allow_null: bool = True) -> float:
    if x is None and allow_null:
        return math.nan
    if isinstance(x, bool) or not isinstance(x, (int, float)):
        raise CosimError(f"{where}: expected a number, got {x!r}")
    return float(x)


def parse_step(
    line: str, n: int, step: int
) -> tuple[float, float, float, np.ndarray, np.ndarray, np.ndarray]:
    """Decode one plant message; raises :class:`CosimError` saying what is wrong."""
    where = f"plant message {step + 1}"
    try:
        msg = json.loads(line)
    except json.JSONDecodeError as e:
        raise CosimError(f"{where} is not JSON ({e}): {line.strip()[:120]!r}") from None
    if not isinstance(msg, dict):
        raise CosimError(f"{where} must be a JSON object")
    units = msg.get("units")
    if not isinstance(units, list) or len(units) != n:
        raise CosimError(
            f"{where}: 'units' must be a list of {n} objects, got "
            f"{len(units) if isinstance(units, list) else type(units).__name__}"
        )
    t = _number(msg.get("t_s"), f"{where} t_s", allow_null=False)
    cur = _number(msg.get("current_a"), f"{where} current_a")
    amb = _number(msg.get("ambient_c"), f"{where} ambient_c")
    v, temp, ri = np.empty(n), np.empty(n), np.empty(n)
    for i, u in enumerate(units):
        if not isinstance(u, dict):
            raise CosimError(f"{where}: units[{i}] must be an object")
        v[i] = _number(u.get("v"), f"{where} units[{i}].v")
        temp[i] = _number(u.get("temp_c"), f"{where} units[{i}].temp_c")
        ri[i] = _number(u.get("ri_ohm"), f"{where} units[{i}].ri_ohm")
    return t, cur, amb, v, temp, ri


def cosimulate(
    plant_cmd: str, spec: StringSpec, config: EngineConfig, out_dir: Path, log: IO[str] | None = None
) -> dict[str, Any]:
    """Run one co-simulation to its end; returns the summary that was written."""
    engine = StringEngine(spec, config)
    try:
        proc = subprocess.Popen(
            shlex.split(plant_cmd), stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, bufsize=1
        )
    except OSError as e:
        raise CosimError(f"cannot start the plant {plant_cmd!r}: {e}") from None
    assert proc.stdin is not None
    assert proc.stdout is not None
    n, steps = spec.units, 0
    last_ri = np.full(n, math.nan)
    energy_wh, inc_sum, t_prev, t_first = 0.0, 0.0, None, None
    try:
        for line in proc.stdout:
            t, cur, amb, v, temp, ri = parse_step(line, n, steps)
            new_ri = np.where(
                np.isfinite(ri) & (ri != last_ri), ri, math.nan
            )  # the plant repeats the last one
            last_ri = np.where(np.isfinite(ri), ri, last_ri)
            est = engine.step(Measurement(t, cur, amb, v, temp, new_ri))
            if t_prev is not None:
                energy_wh += est.bypass_power_w * (t - t_prev) / 3600.0
                inc_sum += est.float_current_increase_a * (t - t_prev)
            t_first = t if t_first is None else t_first
            t_prev = t
            proc.stdin.write(json.dumps({"duty": [round(float(d), 3) for d in est.duty]}) + "\n")
            proc.stdin.flush()
            steps += 1
    except BrokenPipeError:
        raise CosimError(f"the plant stopped reading after {steps} steps") from None
    except CosimError:
        proc.kill()
        raise
    finally:
        try:
            proc.stdin.close()
        except BrokenPipeError:
            pass
        if proc.poll() is None:
            try:
                proc.wait(timeout=120)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        proc.stdout.close()
    if proc.returncode != 0:
        raise CosimError(f"the plant exited with status {proc.returncode} after {steps} steps")
    if steps == 0:
        raise CosimError("the plant sent no message")
    summary = engine.summary()
    span_h = max((t_prev or 0.0) - (t_first or 0.0), 1e-9) / 3600.0
    summary["equalization"] = {
        "steps": steps,
        "strategy": config.equalization.strategy,
        "bypass_energy_wh": round(energy_wh, 2),
        "bypass_mean_w": round(energy_wh / span_h, 3),
        "float_current_increase_mean_a": round(inc_sum / (span_h * 3600.0), 4),
        "final_duty": [round(float(d), 3) for d in engine.eq.duty],
    }
    out_dir.mkdir(parents=True, exist_ok=True)
    write_summary(out_dir / "summary.json", summary)
    if log is not None:
        eq = summary["equalization"]
        print(
            f"cosim: {steps} steps, bypass {eq['bypass_energy_wh']} Wh (mean {eq['bypass_mean_w']} W), "
            f"float current +{eq['float_current_increase_mean_a'] * 1000:.1f} mA -> {out_dir}",
            file=log,
        )
    return summary


class CosimCommand(CliCommand):
    """Co-simulate the equalization controller against an external plant process."""

    name = "cosim"
    help = "run the engine in closed loop with a plant process speaking JSON lines on stdin/stdout"

    def configure(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--plant", required=True, metavar="COMMAND", help="the plant's command line")
        parser.add_argument(
            "-c", "--config", default=None, help="root YAML config: strings[0] and engine: settings"
        )
        parser.add_argument("--units", type=int, default=None, help="units in series (default 24)")
        parser.add_argument("--model", default=None, help="monitor model (default C20)")
        parser.add_argument("--chemistry", default=None, help="vrla | vla | lfp | lto | nicd (default vrla)")
        parser.add_argument("--rated-capacity-ah", type=float, default=None, help="per unit (default 100)")
        parser.add_argument(
            "--nominal-voltage-v", type=float, default=None, help="per unit (default from the model)"
        )
        parser.add_argument(
            "--strategy",
            choices=get_args(EqualizationConfig.model_fields["strategy"].annotation),
            default=None,
            help="equalization strategy",
        )
        parser.add_argument("--out", default=".", help="folder for summary.json (default: current folder)")

    def run(self, args: argparse.Namespace) -> int:
        try:
            engine_cfg, string = load_settings(args.config) if args.config else (EngineConfig(), None)
            base = spec_from_string(string) if string else StringSpec(24, "vrla", 12.0, 100.0, "C20")
            model = args.model or base.model
            nominal = args.nominal_voltage_v or (
                MODEL_NOMINAL_V.get(model, base.nominal_voltage_v) if args.model else base.nominal_voltage_v
            )
            spec = StringSpec(
                units=args.units or base.units,
                chemistry=args.chemistry or base.chemistry,
                nominal_voltage_v=nominal,
                rated_capacity_ah=args.rated_capacity_ah or base.rated_capacity_ah,
                model=model,
            )
            if args.strategy:
                engine_cfg = engine_cfg.model_copy(
                    update={
                        "equalization": engine_cfg.equalization.model_copy(update={"strategy": args.strategy})
                    }
                )
            cosimulate(args.plant, spec, engine_cfg, Path(args.out), log=sys.stderr)
        except (CosimError, ValueError, OSError) as e:
            print(f"cellgate cosim: error: {e}", file=sys.stderr)
            return 2
        return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="cellgate cosim", description=CosimCommand.help)
    cmd = CosimCommand()
    cmd.configure(parser)
    return cmd.run(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
