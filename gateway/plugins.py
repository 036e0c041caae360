"""Loading plugins and the registry of the component classes they hand to the core.

A typed facade over pluggy: the rest of the core asks :class:`Plugins` for classes by kind
and name and never calls hooks itself.
"""

from __future__ import annotations

import importlib.metadata as md
import os
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

import pluggy

from gateway import hookspecs
from gateway.core.components import (
    AlarmAction,
    Authenticator,
    CliCommand,
    HistorySink,
    MonitorDriver,
    Service,
    Transport,
)

ENTRY_POINT_GROUP = "cellgate.plugins"
BUILTIN_DIST = "cellgate"

#: the base class every registered class of a kind must derive from
KIND_BASES: dict[str, type[Any]] = {
    "transport": Transport,
    "monitor": MonitorDriver,
    "service": Service,
    "authenticator": Authenticator,
    "action": AlarmAction,
    "history": HistorySink,
    "cli": CliCommand,
}


class PluginError(Exception):
    """A plugin that cannot be loaded or registers something wrong; names the plugin."""


@dataclass(frozen=True)
class Registration:
    kind: str
    name: str
    cls: type[Any]
    plugin: str


@dataclass
class PluginInfo:
    """What ``cellgate plugins`` shows for one plugin."""

    name: str
    distribution: str
    version: str
    module: str
    hooks: list[str] = field(default_factory=list)
    registers: list[Registration] = field(default_factory=list)


class Registry:
    """Component classes by kind and name, with the plugin that registered each."""

    def __init__(self) -> None:
        self._by_kind: dict[str, dict[str, Registration]] = {k: {} for k in KIND_BASES}

    def add(self, kind: str, name: str, cls: type[Any], plugin: str) -> Registration:
        base = KIND_BASES[kind]
        if not isinstance(cls, type) or not issubclass(cls, base):
            raise PluginError(
                f"plugin {plugin!r} registered {cls!r} as a {kind} {name!r}, "
                f"but it is not a subclass of {base.__name__}"
            )
        if not name or not isinstance(name, str):
            raise PluginError(f"plugin {plugin!r} registered a {kind} without a name")
        known = self._by_kind[kind].get(name)
        if known is not None:
            raise PluginError(
                f"plugin {plugin!r} registers {kind} {name!r}, "
                f"which plugin {known.plugin!r} already registered"
            )
        reg = Registration(kind, name, cls, plugin)
        self._by_kind[kind][name] = reg
        return reg

    def get(self, kind: str, name: str) -> type[Any] | None:
        reg = self._by_kind[kind].get(name)
        return reg.cls if reg else None

    def names(self, kind: str) -> list[str]:
        return sorted(self._by_kind[kind])

    def items(self, kind: str) -> dict[str, type[Any]]:
        return {n: r.cls for n, r in sorted(self._by_kind[kind].items())}


class Plugins:
    """The loaded plugins: the pluggy manager, the registry and what each plugin did."""

    def __init__(self) -> None:
        self.pm = pluggy.PluginManager(hookspecs.PROJECT)
        self.pm.add_hookspecs(hookspecs)
        self.registry = Registry()
        self.info: dict[str, PluginInfo] = {}

    def register_module(
        self, module: ModuleType | object, name: str, distribution: str = "", version: str = ""
    ) -> None:
        """Add one plugin object (normally a module of hookimpls); a misspelled hook fails here."""
        try:
            self.pm.register(module, name=name)
            self.pm.check_pending()
        except pluggy.PluginValidationError as e:
            self.pm.unregister(name=name)
            raise PluginError(f"plugin {name!r}: {e}") from e
        except ValueError as e:  # registered twice
            raise PluginError(f"plugin {name!r}: {e}") from e
        hooks = sorted(c.name for c in self.pm.get_hookcallers(module) or [])
        self.info[name] = PluginInfo(
            name, distribution, version, getattr(module, "__name__", type(module).__name__), hooks
        )

    def collect(self) -> None:
        """Call every registration hook once and fill the registry."""
        for hook_name, kind in hookspecs.REGISTRATION_HOOKS.items():
            caller = getattr(self.pm.hook, hook_name)
            for impl in caller.get_hookimpls():
                plugin = impl.plugin_name

                def register(name: str, cls: type[Any], *, _kind: str = kind, _plugin: str = plugin) -> None:
                    reg = self.registry.add(_kind, name, cls, _plugin)
                    self.info[_plugin].registers.append(reg)

                try:
                    impl.function(register=register)
                except PluginError:
                    raise
                except Exception as e:
                    raise PluginError(f"plugin {plugin!r}: {hook_name} failed: {e!r}") from e


def entry_points() -> list[md.EntryPoint]:
    return sorted(md.entry_points(group=ENTRY_POINT_GROUP), key=lambda ep: ep.name)


def load_plugins(
    *,
    include_third_party: bool | None = None,
    extra: dict[str, object] | None = None,
    use_entry_points: bool = True,
) -> Plugins:
    """Load plugins from the entry-point group (built-ins included) and fill the registry.

    ``include_third_party`` defaults to true unless ``CELLGATE_PLUGINS=builtin`` is set,
    which the test suite sets so that whatever else is installed does not leak into tests.
    ``extra`` registers additional plugin objects by name (tests, embedding);
    ``use_entry_points=False`` loads only those.
    """
    if include_third_party is None:
        include_third_party = os.environ.get("CELLGATE_PLUGINS", "all") != "builtin"
    plugins = Plugins()
    for ep in entry_points() if use_entry_points else []:
        dist = ep.dist.name if ep.dist else ""
        if not include_third_party and dist != BUILTIN_DIST:
            continue
        try:
            module = ep.load()
        except Exception as e:
            raise PluginError(f"plugin {ep.name!r} ({ep.value}) failed to import: {e!r}") from e
        version = ep.dist.version if ep.dist else ""
        plugins.register_module(module, ep.name, dist, version)
    for name, obj in (extra or {}).items():
        plugins.register_module(obj, name, "", "")
    plugins.collect()
    return plugins
