"""``cellgate replay TRACE_DIR --out OUT_DIR [-c CONFIG]``: feed a recorded trace to the engine.

Time comes from the trace's ``t_s``, never the wall clock; writes ``estimates.csv`` (one row
per input row) and ``summary.json`` as specs/replay-and-cosim.md describes.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

from gateway.core.components import CliCommand
from gateway.core.engine.config import EngineConfig
from gateway.core.engine.string_engine import StringEngine
from gateway.core.engine.trace import TraceError, load_settings, read_trace, write_estimates, write_summary


def replay(trace_dir: str | Path, out_dir: str | Path, config: EngineConfig | None = None) -> StringEngine:
    """Run the trace through a fresh engine and write the two output files; returns the engine."""
    trace = read_trace(trace_dir)
    config = config or EngineConfig()
    # Open loop: a duty cannot act on recorded voltages, and none flowed when they were
    # recorded, so the equalizer stays off (cellgate cosim is where it is exercised).
    config = config.model_copy(
        update={"equalization": config.equalization.model_copy(update={"enabled": False})}
    )
    engine = StringEngine(trace.spec, config)
    rows, n = trace.t_s.size, trace.spec.units
    soc = np.empty((rows, n))
    string_soc = np.empty(rows)
    runtime = np.empty(rows)
    for k, m in enumerate(trace.measurements()):
        est = engine.step(m)
        soc[k], string_soc[k], runtime[k] = est.soc, est.string_soc, est.runtime_s
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    write_estimates(out / "estimates.csv", trace.t_s, soc, string_soc, runtime)
    write_summary(out / "summary.json", engine.summary())
    return engine


class ReplayCommand(CliCommand):
    """Replay a recorded trace through the engine (open loop)."""

    name = "replay"
    help = "run a recorded trace through the engine and write estimates.csv + summary.json"

    def configure(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("trace_dir", metavar="TRACE_DIR", help="folder with meta.yaml and series.csv")
        parser.add_argument("--out", required=True, metavar="OUT_DIR", help="where to write the results")
        parser.add_argument(
            "-c", "--config", default=None, help="root YAML config: its engine: settings are used"
        )

    def run(self, args: argparse.Namespace) -> int:
        try:
            engine_cfg = load_settings(args.config)[0] if args.config else EngineConfig()
            engine = replay(args.trace_dir, args.out, engine_cfg)
        except (TraceError, ValueError, OSError) as e:
            print(f"cellgate replay: error: {e}", file=sys.stderr)
            return 2
        flagged = sum(1 for f in engine.first_flags if f)
        print(
            f"replayed {args.trace_dir}: {engine.spec.units} units, {len(engine.discharges)} discharge(s), "
            f"{flagged} unit(s) flagged -> {args.out}"
        )
        return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="cellgate replay", description=ReplayCommand.help)
    cmd = ReplayCommand()
    cmd.configure(parser)
    return cmd.run(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
