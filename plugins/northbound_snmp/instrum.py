"""A dict-backed MIB instrumentation for pysnmp that answers from the latest snapshot.

pysnmp's own MIB tree costs a tree walk and several objects per variable; here GET is a
dict lookup and GETNEXT a ``bisect`` in the sorted OID list, both rebuilt once per snapshot
version. Access control (VACM) is still pysnmp's, asked once per (user, subtree) and cached,
because asking it per variable costs about a third of the throughput.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable
from typing import Any

from pysnmp.proto import rfc1902, rfc1905
from pysnmp.smi import error as smi_error
from pysnmp.smi.instrum import AbstractMibInstrumController

from gateway.core.model import Snapshot
from plugins.northbound_snmp.mib import Oid
from plugins.northbound_snmp.values import Value

#: dynamic instances: computed per request from the snapshot (ages, uptime)
Dynamic = dict[Oid, Callable[[Snapshot], Value | None]]

_MAX_ACCESS_CACHE = 4096


class SnapshotInstrumController(AbstractMibInstrumController):
    """Read-only instrumentation over ``build(snapshot) -> {oid: value}``."""

    def __init__(
        self,
        snapshot_source: Callable[[], Snapshot],
        build: Callable[[Snapshot], dict[Oid, Value]],
        dynamic: Dynamic,
        view_depth: int,
    ) -> None:
        self._source = snapshot_source
        self._build = build
        self._dynamic = dynamic
        #: the longest configured view subtree: VACM's answer depends only on that many arcs
        self._view_depth = view_depth
        self._version: int | None = None
        self._snap: Snapshot | None = None
        self._table: dict[Oid, Value] = {}
        self._keys: list[Oid] = []
        self._names: dict[Oid, rfc1902.ObjectName] = {}
        self._access: dict[tuple[Any, ...], bool] = {}
        self.rebuilds = 0
        #: set when a request read a per-request value: its response must not be cached
        self.touched_dynamic = False

    # -- the table -------------------------------------------------------------------------
    def _current(self) -> Snapshot:
        snap = self._source()
        if snap.version != self._version or self._snap is None:
            table = self._build(snap)
            for oid in self._dynamic:
                table.setdefault(oid, rfc1902.Integer32(0))  # placeholder, replaced per read
            self._table = table
            self._keys = sorted(table)
            self._version = snap.version
            self._snap = snap
            self.rebuilds += 1
        return snap

    def _value(self, oid: Oid, snap: Snapshot) -> Value | None:
        fn = self._dynamic.get(oid)
        if fn is not None:
            self.touched_dynamic = True
            return fn(snap)
        return self._table.get(oid)

    def _name(self, oid: Oid) -> rfc1902.ObjectName:
        # ObjectName construction is costly in pyasn1; OIDs repeat across snapshot versions
        name = self._names.get(oid)
        if name is None:
            if len(self._names) > 200_000:
                self._names.clear()
            name = self._names[oid] = rfc1902.ObjectName(oid)
        return name

    # -- access control --------------------------------------------------------------------
    def _not_in_view(self, oid: Oid, idx: int, context: dict[str, Any]) -> bool:
        """True if VACM hides ``oid``; raises pysnmp's error if the requester has no access."""
        ac = context.get("acFun")
        if ac is None:
            return False
        engine = context["snmpEngine"]
        ex = engine.observer.get_execution_context("rfc3412.receiveMessage:request")
        key = (
            ex["securityModel"],
            bytes(ex["securityName"]),
            int(ex["securityLevel"]),
            bytes(ex["contextName"]),
            oid[: self._view_depth],
        )
        hidden = self._access.get(key)
        if hidden is None:
            hidden = bool(ac("read", (self._name(oid), None), idx=idx, **_without_idx(context)))
            if len(self._access) >= _MAX_ACCESS_CACHE:
                self._access.clear()
            self._access[key] = hidden
        return hidden

    # -- the pysnmp contract ---------------------------------------------------------------
    def read_variables(self, *varBinds: Any, **context: Any) -> list[tuple[Any, Any]]:
        snap = self._current()
        out = []
        for idx, (name, _) in enumerate(varBinds):
            oid = tuple(name)
            if self._not_in_view(oid, idx, context):
                out.append((name, rfc1905.noSuchObject))
                continue
            value = self._value(oid, snap)
            out.append((name, rfc1905.noSuchInstance if value is None else value))
        return out

    def read_next_variables(self, *varBinds: Any, **context: Any) -> list[tuple[Any, Any]]:
        snap = self._current()
        keys = self._keys
        out = []
        for idx, (name, _) in enumerate(varBinds):
            pos = bisect.bisect_right(keys, tuple(name))
            found = None
            while pos < len(keys):
                oid = keys[pos]
                if self._not_in_view(oid, idx, context):
                    # skip the whole hidden subtree, not one instance at a time
                    prefix = oid[: self._view_depth]
                    pos = bisect.bisect_left(keys, (*prefix[:-1], prefix[-1] + 1), pos + 1)
                    continue
                value = self._value(oid, snap)
                if value is not None:
                    found = (self._name(oid), value)
                    break
                pos += 1
            out.append(found or (name, rfc1905.endOfMibView))
        return out

    def write_variables(self, *varBinds: Any, **context: Any) -> list[tuple[Any, Any]]:
        # northbound never mutates state: every object of this agent is read-only
        raise smi_error.NotWritableError(name=varBinds[0][0] if varBinds else None, idx=0)


def _without_idx(context: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in context.items() if k != "idx"}
