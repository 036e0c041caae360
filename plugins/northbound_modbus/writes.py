"""Client writes: refused unless enabled and allowed, range-checked, and sent as commands.

A write never touches a register: it becomes a :class:`~gateway.core.commands.Command`
naming the client (``modbus:<ip>``), and the engine, the one writer, changes state. Every
accepted write is published as an event carrying the client's address; refused ones too,
at most once per client and reason every few seconds, with a count of the rest.
"""

from __future__ import annotations

import ipaddress
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from pymodbus.constants import ExcCodes

from gateway.core.commands import Actor, Command
from gateway.core.components import GatewayContext
from gateway.core.events import Event
from gateway.core.logging import get_logger
from plugins.northbound_modbus.compiler import CompiledMap, CompiledPoint
from plugins.northbound_modbus.encoding import WIDTH, decode, to_engineering

log = get_logger("plugins.northbound_modbus")

RTU_CLIENT = "rtu"
REFUSED_EVENT_EVERY_S = 10.0  # the allow-list entry (and client name prefix) for the serial line's master


@dataclass(frozen=True, slots=True)
class WritePolicy:
    """Who may write: off by default; otherwise only clients in the allow-list."""

    enabled: bool
    allow: tuple[str, ...]  # IP addresses / networks, or "rtu"
    role: str
    timeout_s: float

    def allows(self, client: str) -> bool:
        if not self.enabled:
            return False
        if client.startswith(RTU_CLIENT + ":"):
            return RTU_CLIENT in self.allow
        try:
            address = ipaddress.ip_address(client)
        except ValueError:
            return False
        for entry in self.allow:
            if entry == RTU_CLIENT:
                continue
            if address in ipaddress.ip_network(entry, strict=False):
                return True
        return False


class WriteGate:
    """Turns a write request on one table into commands, or into the right exception code."""

    def __init__(self, compiled: CompiledMap, policy: WritePolicy, ctx: GatewayContext) -> None:
        self.policy = policy
        self.ctx = ctx
        self._points: dict[str, dict[int, CompiledPoint]] = {"holding_register": {}, "coil": {}}
        for p in compiled.points:
            if p.function in self._points and p.write is not None:
                self._points[p.function][p.address] = p
        self.refused = 0
        self.accepted = 0
        self._refusals: dict[tuple[str, str], tuple[float, int]] = {}

    async def write(
        self, function: str, address: int, values: Sequence[int] | Sequence[bool], client: str
    ) -> ExcCodes | None:
        """Run one write request; ``None`` when every command was accepted."""
        if not self.policy.allows(client):
            reason = "writes are disabled" if not self.policy.enabled else "client not in writes.allow"
            self._refuse(client, function, address, reason)
            return ExcCodes.ILLEGAL_FUNCTION
        plan = self._plan(function, address, values)
        if isinstance(plan, tuple):
            code, reason = plan
            self._refuse(client, function, address, reason)
            return code
        for point, value in plan:
            code = await self._submit(point, value, client)
            if code is not None:
                return code
        return None

    def _plan(
        self,
        function: str,
        address: int,
        values: Sequence[int] | Sequence[bool],
    ) -> list[tuple[CompiledPoint, Any]] | tuple[ExcCodes, str]:
        """Split the request into whole points and check every value before sending any."""
        table = self._points.get(function, {})
        plan: list[tuple[CompiledPoint, Any]] = []
        k = 0
        while k < len(values):
            point = table.get(address + k)
            if point is None:
                return ExcCodes.ILLEGAL_ADDRESS, f"{function} {address + k} is not writable"
            width = 1 if function == "coil" else WIDTH[point.data_type]
            if k + width > len(values):
                return ExcCodes.ILLEGAL_ADDRESS, f"write covers only part of {function} {point.address}"
            chunk = [int(v) for v in values[k : k + width]]
            value = self._value(point, chunk)
            if value is None:
                return ExcCodes.ILLEGAL_VALUE, f"value out of range for {point.source.path}"
            plan.append((point, value))
            k += width
        return plan

    @staticmethod
    def _value(point: CompiledPoint, chunk: list[int]) -> Any:
        spec = point.write
        assert spec is not None
        if point.function == "coil":
            number = float(bool(chunk[0]))
        else:
            raw = decode(chunk, point.data_type, point.byte_order, point.word_order)
            number = to_engineering(raw, point.scale, point.offset)
        if not math.isfinite(number):
            return None
        if (spec.min is not None and number < spec.min) or (spec.max is not None and number > spec.max):
            return None
        if spec.arg_type == "int":
            return int(number) if float(number).is_integer() else None
        if spec.arg_type == "bool":
            return bool(number) if number in (0.0, 1.0) else None
        return number

    async def _submit(self, point: CompiledPoint, value: Any, client: str) -> ExcCodes | None:
        spec = point.write
        assert spec is not None
        actor = self._actor(client)
        command = Command(kind=spec.command, args={**spec.args, spec.arg: value}, actor=actor)
        try:
            result = await self.ctx.commands.submit(command, timeout=self.policy.timeout_s)
        except TimeoutError:
            self._event(client, point, value, ok=False, detail="the engine did not answer in time")
            return ExcCodes.DEVICE_BUSY
        self._event(client, point, value, ok=result.ok, detail=result.message)
        if not result.ok:
            return ExcCodes.DEVICE_FAILURE
        self.accepted += 1
        return None

    def _event(self, client: str, point: CompiledPoint, value: Any, *, ok: bool, detail: str) -> None:
        spec = point.write
        assert spec is not None
        verb = "accepted" if ok else "failed"
        self.ctx.events.publish(
            Event(
                time=self.ctx.clock.now(),
                kind="command",
                code="modbus_write",
                level="info" if ok else "warning",
                message=f"Modbus write {verb} from {client}: {point.function} {point.address} "
                f"({point.source.path}) = {value!r} → {spec.command}" + (f": {detail}" if detail else ""),
                source=point.source.path,
                actor=self._actor(client),
                data={
                    "client": client,
                    "function": point.function,
                    "address": point.address,
                    "value": value,
                    "command": spec.command,
                    "ok": ok,
                },
            )
        )

    def _actor(self, client: str) -> Actor:
        source = client.split(":", 1)[1] if client.startswith(RTU_CLIENT + ":") else client
        return Actor(user=f"modbus:{client}", role=self.policy.role, source=source, via="modbus")

    def _refuse(self, client: str, function: str, address: int, reason: str) -> None:
        """Count a refused write; publish it as an event and log it, but at most once per client
        and reason every ``REFUSED_EVENT_EVERY_S``, so a scanning client cannot flood the history."""
        self.refused += 1
        key = (client, reason)
        now = time.monotonic()
        last, suppressed = self._refusals.get(key, (-REFUSED_EVENT_EVERY_S, 0))
        if now - last < REFUSED_EVENT_EVERY_S:
            self._refusals[key] = (last, suppressed + 1)
            return
        if len(self._refusals) >= 1000:  # bounded: forget the oldest client
            self._refusals.pop(next(iter(self._refusals)))
        self._refusals[key] = (now, 0)
        more = f" ({suppressed} more refused since the last report)" if suppressed else ""
        self.ctx.events.publish(
            Event(
                time=self.ctx.clock.now(),
                kind="command",
                code="modbus_write_refused",
                level="warning",
                message=f"Modbus write refused from {client}: {function} {address}: {reason}{more}",
                actor=self._actor(client),
                data={
                    "client": client,
                    "function": function,
                    "address": address,
                    "reason": reason,
                    "suppressed": suppressed,
                },
            )
        )
        log.warning(
            "modbus write refused",
            client=client,
            function=function,
            address=address,
            reason=reason,
            suppressed=suppressed,
        )
