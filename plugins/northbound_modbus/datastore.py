"""The datastore pymodbus's server asks: reads from the register images, writes to the write gate.

pymodbus 3.16 calls ``async_getValues``/``async_setValues``/``device_ids`` on its
``context``; this class implements exactly that contract, so reads of unmapped addresses
answer exception 02 and client writes never land in a register the next snapshot overwrites.
"""

from __future__ import annotations

import contextvars
import time
from collections.abc import Callable, Sequence

from pymodbus.constants import ExcCodes
from pymodbus.exceptions import NoSuchIdException

from gateway.core.clock import Clock
from gateway.core.model import Snapshot
from plugins.northbound_modbus.images import ImageBuilder, Images
from plugins.northbound_modbus.sources import SiteState
from plugins.northbound_modbus.writes import WriteGate

#: the client of the request being handled (set per request task by the server's handler)
CLIENT: contextvars.ContextVar[str] = contextvars.ContextVar("modbus_client", default="unknown")
#: FC 5/6 answer with the value written: kept here between the write and pymodbus's read-back
_ECHO: contextvars.ContextVar[list[int] | list[bool] | None] = contextvars.ContextVar(
    "modbus_echo", default=None
)

TABLE_OF_FUNCTION = {
    1: "coil",
    5: "coil",
    15: "coil",
    2: "discrete_input",
    3: "holding_register",
    6: "holding_register",
    16: "holding_register",
    22: "holding_register",
    23: "holding_register",
    4: "input_register",
}
REFRESH_S = 1.0  # rebuild at least this often, so age and "running" move even without new snapshots


class MapDatastore:
    """Serves one compiled map under one or more unit ids."""

    def __init__(
        self,
        builder: ImageBuilder,
        snapshot_source: Callable[[], Snapshot],
        clock: Clock,
        gate: WriteGate,
        unit_ids: Sequence[int],
        *,
        stale_after_s: float,
        allow_gaps: bool,
        silent_for_other_ids: bool,
    ) -> None:
        self.builder = builder
        self.snapshot_source = snapshot_source
        self.clock = clock
        self.gate = gate
        self.unit_ids = frozenset(unit_ids)
        self.stale_after_s = stale_after_s
        self.allow_gaps = allow_gaps
        self.silent_for_other_ids = silent_for_other_ids
        self._snap: Snapshot | None = None
        self._built_at = -1e9
        self._images: Images | None = None
        self.rebuilds = 0
        self.exceptions = 0

    # ----------------------------------------------------------------- the images
    def images(self) -> Images:
        """The images of the latest snapshot, rebuilt lazily on the first request after a change."""
        snap = self.snapshot_source()
        mono = time.monotonic()
        if self._images is None or snap is not self._snap or mono - self._built_at > REFRESH_S:
            self._images = self.builder.build(snap, SiteState(self.clock.now(), self.stale_after_s))
            self._snap = snap
            self._built_at = mono
            self.rebuilds += 1
        return self._images

    # ----------------------------------------------------------------- pymodbus contract
    def device_ids(self) -> list[int]:
        return sorted(self.unit_ids)

    def _check_device(self, device_id: int) -> ExcCodes | None:
        if device_id == 0 and self.silent_for_other_ids:
            # RTU broadcast: a slave never answers it, and writes by broadcast are not accepted.
            raise NoSuchIdException("broadcast is not served")
        if device_id in self.unit_ids:
            return None
        if self.silent_for_other_ids:
            # On a multi-drop RS-485 line other slaves answer for their ids: stay silent.
            raise NoSuchIdException(f"unit id {device_id} is not served here")
        self.exceptions += 1
        return ExcCodes.GATEWAY_NO_RESPONSE

    async def async_getValues(
        self, device_id: int, func_code: int, address: int, count: int = 1
    ) -> list[int] | list[bool] | ExcCodes:
        if (bad := self._check_device(device_id)) is not None:
            return bad
        echo = _ECHO.get()
        if func_code in (5, 6) and echo is not None:
            return echo
        table = TABLE_OF_FUNCTION.get(func_code)
        if table is None:
            self.exceptions += 1
            return ExcCodes.ILLEGAL_FUNCTION
        end = address + count
        if count < 1 or end > 65536:
            self.exceptions += 1
            return ExcCodes.ILLEGAL_ADDRESS
        images = self.images()
        mapped = images.mapped[table][address:end]
        if not (mapped.any() if self.allow_gaps else mapped.all()):
            self.exceptions += 1
            return ExcCodes.ILLEGAL_ADDRESS
        if table in images.bits:
            return images.bits[table][address:end].tolist()  # type: ignore[no-any-return]
        return images.registers[table][address:end].tolist()  # type: ignore[no-any-return]

    async def async_setValues(
        self, device_id: int, func_code: int, address: int, values: list[int] | list[bool]
    ) -> ExcCodes | None:
        if (bad := self._check_device(device_id)) is not None:
            return bad
        table = TABLE_OF_FUNCTION.get(func_code)
        if table not in ("coil", "holding_register") or func_code == 22:
            # Mask-write (FC 22) would read-modify-write a register the engine owns: not offered.
            self.exceptions += 1
            return ExcCodes.ILLEGAL_FUNCTION
        code = await self.gate.write(table, address, values, CLIENT.get())
        if code is not None:
            self.exceptions += 1
            return code
        if func_code in (5, 6):
            _ECHO.set(list(values))
        return None
