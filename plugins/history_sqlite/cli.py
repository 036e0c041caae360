"""``cellgate events`` and ``cellgate history export``: read the history file, even while the gateway runs.

Times are ISO 8601 (``2026-05-01T08:00``, local time unless it carries a zone), epoch seconds,
``now``, or an age (``90s``, ``30m``, ``12h``, ``7d``) counted back from the newest record.
"""

from __future__ import annotations

import argparse
import csv
import json
import re
import sqlite3
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

from gateway.core.components import CliCommand
from plugins.history_sqlite import reader, schema
from plugins.history_sqlite.annex import annex_vii

_AGE = re.compile(r"^-?(\d+(?:\.\d+)?)\s*([smhdw])$")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def parse_time(text: str, now: float) -> float:
    """A point in time from the command line (see the module docstring)."""
    text = text.strip()
    if text == "now":
        return now
    m = _AGE.match(text)
    if m:
        return now - float(m.group(1)) * _UNITS[m.group(2)]
    try:
        return float(text)
    except ValueError:
        pass
    try:
        return datetime.fromisoformat(text).timestamp()
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"not a time: {text!r} (ISO 8601, epoch seconds, now, or 30m/12h/7d)"
        ) from None


def iso(t: float) -> str:
    return datetime.fromtimestamp(t, UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def _add_db_arguments(p: argparse.ArgumentParser) -> None:
    from gateway.cli.common import add_config_argument

    add_config_argument(p)
    p.add_argument(
        "--db",
        type=Path,
        default=None,
        metavar="FILE",
        help="history file to read (default: the one the config names)",
    )


def history_path(args: argparse.Namespace) -> Path:
    """The history file: ``--db``, else the config's ``history:`` path under its data_dir."""
    if args.db:
        return Path(args.db)
    from gateway.cli.common import load_or_exit

    loaded = load_or_exit(args)
    hist = loaded.history
    if hist is not None and hist[0] != "sqlite":
        raise SystemExit(f"cellgate: the configured history is {hist[0]!r}, not sqlite; use --db FILE")
    rel = Path(getattr(hist[1], "path", "history.sqlite")) if hist else Path("history.sqlite")
    return rel if rel.is_absolute() else loaded.data_dir / rel


def _open(path: Path) -> sqlite3.Connection:
    if not path.exists():
        raise SystemExit(f"cellgate: no history file at {path} (has the gateway run with history enabled?)")
    return schema.connect(str(path), readonly=True)


def _now(conn: sqlite3.Connection) -> float:
    # in a simulation at --speed N the store's clock runs ahead of the wall clock
    return max(time.time(), reader.latest_time(conn) or 0.0)


class EventsCommand(CliCommand):
    name = "events"
    help = "list persisted events (alarms, commands, logins, config changes...)"

    def configure(self, parser: argparse.ArgumentParser) -> None:
        _add_db_arguments(parser)
        parser.add_argument("--json", action="store_true", help="one JSON array instead of a table")
        parser.add_argument("--since", default=None, help="from this time (default: everything)")
        parser.add_argument("--until", default=None, help="up to this time")
        parser.add_argument("--kind", default=None, help="only this kind: alarm, command, login, config, ...")
        parser.add_argument("--limit", type=int, default=10_000, help="at most this many (default 10000)")

    def run(self, args: argparse.Namespace) -> int:
        conn = _open(history_path(args))
        try:
            now = _now(conn)
            t_from = parse_time(args.since, now) if args.since else None
            t_to = parse_time(args.until, now) if args.until else None
            got = reader.events(conn, t_from=t_from, t_to=t_to, kind=args.kind, limit=args.limit)
        except argparse.ArgumentTypeError as e:
            print(f"cellgate events: {e}", file=sys.stderr)
            return 2
        finally:
            conn.close()
        if args.json:
            json.dump([{**e.to_dict(), "iso_time": iso(e.time)} for e in got], sys.stdout, default=str)
            sys.stdout.write("\n")
            return 0
        for e in got:
            who = f" (by {e.actor.user} via {e.actor.via or '?'})" if e.actor else ""
            state = f" {e.state}" if e.state else ""
            head = f"{iso(e.time)}  #{e.id:<6} {e.kind:<8} {e.level:<7} {e.code}{state}"
            print(f"{head}  {e.source}: {e.message}{who}")
        return 0


class HistoryCommand(CliCommand):
    name = "history"
    help = "export history: samples of a unit, string or the site as CSV/JSON, or Annex VII data"

    def configure(self, parser: argparse.ArgumentParser) -> None:
        sub = parser.add_subparsers(dest="history_command", metavar="ACTION", required=True)
        p = sub.add_parser(
            "export",
            help="export samples between two times",
            description="Export samples (or --annex-vii data) between --from and --to.",
        )
        _add_db_arguments(p)
        p.add_argument("--from", dest="t_from", default="7d", help="start (default 7d: seven days back)")
        p.add_argument("--to", dest="t_to", default="now", help="end (default now)")
        what = p.add_mutually_exclusive_group(required=True)
        what.add_argument("--unit", help="STRING:POSITION, e.g. 0:5 or 'String A:5' (positions from 1)")
        what.add_argument("--string", help="string index or name")
        what.add_argument("--site", action="store_true", help="the site sensors (ambient)")
        p.add_argument("--fields", default=None, help="comma-separated fields (default: all)")
        p.add_argument("--resolution", default="auto", choices=["auto", "raw", "1m", "1h"])
        p.add_argument("--format", default="csv", choices=["csv", "json"])
        p.add_argument(
            "--annex-vii",
            action="store_true",
            help="the EU 2023/1542 Annex VII-style battery data of --string, as JSON",
        )
        p.add_argument("-o", "--output", type=Path, default=None, help="write here instead of stdout")

    def run(self, args: argparse.Namespace) -> int:
        conn = _open(history_path(args))
        try:
            return self._export(conn, args)
        except (ValueError, argparse.ArgumentTypeError) as e:
            print(f"cellgate history export: {e}", file=sys.stderr)
            return 2
        finally:
            conn.close()

    def _export(self, conn: sqlite3.Connection, args: argparse.Namespace) -> int:
        now = _now(conn)
        t_from, t_to = parse_time(args.t_from, now), parse_time(args.t_to, now)
        if t_to <= t_from:
            raise ValueError("--to must be after --from")
        names = [s["name"] for s in _strings(conn)]
        if args.annex_vii:
            if args.string is None:
                raise ValueError("--annex-vii needs --string")
            data: Any = annex_vii(conn, _string_index(args.string, names), t_from, t_to)
            return _write(args.output, lambda out: out.write(json.dumps(data, indent=2) + "\n"))
        if args.site:
            source = "site"
        elif args.string is not None:
            source = f"strings[{_string_index(args.string, names)}]"
        else:
            s, _, pos = args.unit.rpartition(":")
            if not s or not pos.isdigit() or int(pos) < 1:
                raise ValueError("--unit is STRING:POSITION, positions from 1")
            source = f"strings[{_string_index(s, names)}].units[{int(pos) - 1}]"
        kind = schema.kind_of(source)
        fields = args.fields.split(",") if args.fields else [f.name for f in KIND_FIELDS[kind]]
        res = reader.pick_resolution(t_from, t_to, args.resolution, 7.0, now)
        if res != "raw" and not args.fields:
            fields = [c.replace("_mean", "") for c in schema.rollup_columns(kind)]
        got = reader.series(conn, source, fields, t_from, t_to, res)
        if args.format == "json":
            doc = {"source": source, "resolution": res, "from": t_from, "to": t_to, "series": got}
            return _write(args.output, lambda out: out.write(json.dumps(doc) + "\n"))

        def as_csv(out: TextIO) -> None:
            w = csv.writer(out)
            w.writerow(["time", "t", *fields])
            for i, t in enumerate(got["t"]):
                w.writerow([iso(t), t, *(got[f][i] for f in fields)])

        return _write(args.output, as_csv)


KIND_FIELDS = schema.KINDS


def _strings(conn: sqlite3.Connection) -> list[dict[str, Any]]:
    row = conn.execute("SELECT value FROM meta WHERE key = 'strings'").fetchone()
    return json.loads(row[0]) if row else []


def _string_index(text: str, names: list[str]) -> int:
    if text in names:
        return names.index(text)
    if text.isdigit():
        return int(text)
    raise ValueError(f"no string {text!r}; strings: {', '.join(names) or 'none recorded'}")


def _write(path: Path | None, fn: Any) -> int:
    if path is None:
        fn(sys.stdout)
        return 0
    with path.open("w", encoding="utf-8", newline="") as out:
        fn(out)
    return 0
