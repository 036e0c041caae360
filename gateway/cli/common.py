"""What every command shares: the ``-c/--config`` option, loading plugins and the config."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from gateway.core.config import ConfigError, LoadedConfig, default_config_path, load_config
from gateway.plugins import Plugins, load_plugins

_plugins: Plugins | None = None


def plugins() -> Plugins:
    """The plugins of this process, loaded once."""
    global _plugins  # noqa: PLW0603 - one plugin manager per process, like pytest's
    if _plugins is None:
        _plugins = load_plugins()
    return _plugins


def add_config_argument(parser: argparse.ArgumentParser) -> None:
    """``-c/--config FILE``: default ``$CELLGATE_CONFIG``, else ``config/cellgate.yaml``."""
    parser.add_argument(
        "-c",
        "--config",
        type=Path,
        default=None,
        metavar="FILE",
        help="config file (default: $CELLGATE_CONFIG, else config/cellgate.yaml)",
    )


def config_path(args: argparse.Namespace) -> Path:
    return args.config if getattr(args, "config", None) else default_config_path()


def load_or_exit(args: argparse.Namespace) -> LoadedConfig:
    """The validated config, or the errors on stderr and exit status 2."""
    path = config_path(args)
    try:
        return load_config(path, plugins())
    except ConfigError as e:
        print(
            f"cellgate: invalid configuration ({len(e.issues)} problem{'s' if len(e.issues) != 1 else ''}):",
            file=sys.stderr,
        )
        for issue in e.issues:
            print(f"  {issue}", file=sys.stderr)
        raise SystemExit(2) from None
