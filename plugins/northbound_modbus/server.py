"""pymodbus 3.16 servers (TCP and serial RTU) wired to the map datastore, with the client's address.

pymodbus's request handler does not tell the datastore who is asking; writes need that for
the allow-list and the audit event, so the handler here records the peer per request.
It also keeps one request's bookkeeping local to its task (pymodbus keeps it on the
connection) and answers undecodable TCP requests with the request's own function code.
"""

from __future__ import annotations

import asyncio
from typing import Any

from pymodbus.constants import ExcCodes
from pymodbus.exceptions import ModbusIOException, NoSuchIdException
from pymodbus.pdu import ExceptionResponse
from pymodbus.server import ModbusSerialServer, ModbusTcpServer
from pymodbus.server.requesthandler import ServerRequestHandler
from pymodbus.simulator import DataType, SimData, SimDevice
from pymodbus.transaction import TransactionManager

from gateway.core.logging import get_logger
from plugins.northbound_modbus.datastore import CLIENT, MapDatastore

log = get_logger("plugins.northbound_modbus")

#: function codes the service answers; every other one gets exception 01 (TCP) or no answer (RTU)
SUPPORTED_FUNCTIONS = frozenset({1, 2, 3, 4, 5, 6, 15, 16, 23})


def _placeholder_device() -> SimDevice:
    # The pymodbus constructors insist on a SimDevice; it is replaced by the map datastore at once.
    return SimDevice(id=0, simdata=[SimData(0, datatype=DataType.REGISTERS)])


def _restrict_decoder(server: Any) -> None:
    """Let the server decode only the function codes we serve (no dummy file/FIFO/diagnostic replies)."""
    table = {fc: pair for fc, pair in server.decoder.pdu_table.items() if fc in SUPPORTED_FUNCTIONS}
    server.decoder.pdu_table = table


class _Handler(ServerRequestHandler):
    """One connection (TCP) or the line (RTU): records who is asking, runs requests."""

    def __init__(self, owner: Any, client: str, *, answer_bad_frames: bool) -> None:
        super().__init__(owner, None, None, None)
        self.client_name = client
        self.stats: dict[str, int] = owner.stats
        self.answer_bad_frames = answer_bad_frames

    def callback_connected(self) -> None:
        super().callback_connected()
        peer = self.transport.get_extra_info("peername") if self.transport else None
        if isinstance(peer, tuple) and peer:
            self.client_name = str(peer[0])

    def callback_data(self, data: bytes, addr: tuple[Any, ...] | None = None) -> int:
        # Every complete frame in the buffer is taken now, each with its own task; pymodbus
        # would keep only the last one on the connection and read it later.
        used = 0
        while used < len(data):
            try:
                n = TransactionManager.callback_data(self, data[used:], addr)
            except ModbusIOException:
                self.stats["bad_frames"] += 1
                skip = self._answer_undecodable(data[used:], addr)
                if not skip:
                    return len(data)
                used += skip
                continue
            except Exception as exc:  # a hostile frame must never take the connection's reader down
                self.stats["bad_frames"] += 1
                log.debug("modbus frame dropped", client=self.client_name, error=repr(exc))
                return len(data)
            if not n:
                break
            used += n
            if isinstance(self.last_pdu, ExceptionResponse):
                self.last_pdu = None  # a response sent to a server: nothing to answer
            if self.last_pdu is not None:
                self.stats["requests"] += 1
                task = self.loop.create_task(self._run(self.last_pdu, self.last_addr))
                self.last_pdu = None
                self.server.tasks.add(task)
                task.add_done_callback(self.server.tasks.discard)
        return used

    def _answer_undecodable(self, frame: bytes, addr: Any) -> int:
        """TCP: exception 01 for a function we do not serve, 03 for a malformed request, and the
        frame's length so the next one is still read; RTU: silence, and 0 (the buffer is dropped)."""
        if not self.answer_bad_frames or len(frame) < 8:
            return 0
        function = frame[7] & 0x7F
        code = ExcCodes.ILLEGAL_VALUE if function in SUPPORTED_FUNCTIONS else ExcCodes.ILLEGAL_FUNCTION
        response = ExceptionResponse(
            function, code, device_id=frame[6], transaction=int.from_bytes(frame[0:2], "big")
        )
        self.server_send(response, addr)
        return min(len(frame), int.from_bytes(frame[4:6], "big") + 6)

    async def _run(self, pdu: Any, addr: Any) -> None:
        CLIENT.set(self.client_name)
        try:
            response = await pdu.datastore_update(self.server.context, pdu.dev_id)
        except NoSuchIdException:
            return  # RTU: another slave's id, stay silent
        except Exception as exc:  # a bug in one request must not stop the server answering others
            self.stats["errors"] += 1
            log.error(
                "modbus request failed", client=self.client_name, function=pdu.function_code, error=repr(exc)
            )
            response = ExceptionResponse(pdu.function_code, ExcCodes.DEVICE_FAILURE)
        response.transaction_id = pdu.transaction_id
        response.dev_id = pdu.dev_id
        if self.transport is not None:
            self.server_send(response, addr)


class _ServerMixin:
    """What both servers share: our handler, our datastore, counters, tracked request tasks."""

    context: Any
    decoder: Any
    stats: dict[str, int]
    tasks: set[asyncio.Task[None]]
    client_prefix: str = ""
    answer_bad_frames: bool = True

    def _attach(self, store: MapDatastore) -> None:
        self.context = store
        self.stats = {"requests": 0, "bad_frames": 0, "errors": 0}
        self.tasks = set()
        _restrict_decoder(self)

    def callback_new_connection(self) -> _Handler:
        return _Handler(self, self.client_prefix, answer_bad_frames=self.answer_bad_frames)


class MapTcpServer(_ServerMixin, ModbusTcpServer):
    """Modbus TCP server answering from a :class:`MapDatastore`."""

    def __init__(self, store: MapDatastore, host: str, port: int) -> None:
        super().__init__(_placeholder_device(), address=(host, port))
        self._attach(store)


class MapSerialServer(_ServerMixin, ModbusSerialServer):
    """Modbus RTU slave on a serial line answering from a :class:`MapDatastore`."""

    def __init__(self, store: MapDatastore, port: str, baudrate: int, parity: str, stopbits: int) -> None:
        super().__init__(
            _placeholder_device(),
            port=port,
            baudrate=baudrate,
            parity=parity,
            stopbits=stopbits,
            ignore_missing_devices=True,
            broadcast_enable=False,
        )
        self.client_prefix = f"rtu:{port}"
        self.answer_bad_frames = False
        self._attach(store)
