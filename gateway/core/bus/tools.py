"""Commissioning tools on a bare line: scan for devices, poll once, and the addressing wizard.

Used by ``cellgate bus scan/poll/address``; they need no config file, only a transport.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

from gateway.core.bus.driver import (
    IDENTITY_ADDRESS,
    IDENTITY_COUNT,
    LEARN_ADDRESS,
    READ_INPUT,
    WRITE_REGISTER,
    Identity,
    PolledDriver,
    ReadBlock,
    WriteOp,
)
from gateway.core.bus.master import BusMaster
from gateway.core.bus.rtu import (
    BusError,
    CrcError,
    ExceptionReply,
    LineDown,
    LineTiming,
    ReplyTimeout,
    RtuClient,
)
from gateway.core.bus.settings import BusSettings
from gateway.core.bus.units import MonitorBinding
from gateway.core.components import GatewayContext, Transport
from gateway.core.model import ChannelReading, SensorReading

IDENTITY_BLOCK = ReadBlock(READ_INPUT, IDENTITY_ADDRESS, IDENTITY_COUNT)
FACTORY_RESET = WriteOp(WRITE_REGISTER, 9, (0x5AA5,))
IDENTIFY = 6  # holding register: blink the identify LED for N seconds


@dataclass(frozen=True)
class Found:
    """A device a scan found."""

    address: int
    identity: Identity
    model: str

    def to_json(self) -> dict[str, Any]:
        i = self.identity
        return {
            "address": self.address,
            "model": self.model,
            "serial": i.serial,
            "firmware": i.firmware_text,
            "channels": i.channels,
        }


def model_names(drivers: Mapping[str, type[Any]]) -> dict[int, str]:
    return {int(cls.code): name for name, cls in drivers.items() if getattr(cls, "has_identity", False)}


def rtu_for(transport: Transport, baud: int, timeout_s: float) -> RtuClient:
    if hasattr(transport, "line_baud"):
        transport.line_baud = baud
    return RtuClient(transport, LineTiming(baud, emulated=transport.char_time_s > 0), timeout_s)


async def read_identity(rtu: RtuClient, address: int, attempts: int = 2) -> Identity | None:
    """The identity of ``address``, None if nothing (intelligible) answers.

    Silence is taken at its word (an empty address costs one timeout, not two); only a
    garbled reply is asked again.
    """
    for _ in range(attempts):
        try:
            return Identity.from_registers(await rtu.read(address, IDENTITY_BLOCK))
        except ExceptionReply:
            return None  # something answers but has no identity block: not a profile device
        except ReplyTimeout:
            return None
        except BusError:
            continue
    return None


async def scan(
    rtu: RtuClient,
    drivers: Mapping[str, type[Any]],
    addresses: Iterable[int] = range(1, 248),
    progress: Callable[[int], None] | None = None,
) -> list[Found]:
    """Every profile device answering at ``addresses`` (1–247), in address order."""
    names = model_names(drivers)
    found = []
    for address in addresses:
        if progress:
            progress(address)
        ident = await read_identity(rtu, address)
        if ident is not None:
            found.append(Found(address, ident, names.get(ident.model_code, f"code {ident.model_code}")))
    return found


async def poll_once(
    transport: Transport,
    ctx: GatewayContext,
    drivers: Mapping[str, type[PolledDriver]],
    found: list[Found],
    baud: int,
    settings: BusSettings | None = None,
) -> list[dict[str, Any]]:
    """One full cycle over the devices found, decoded to the JSON the CLI prints."""
    bindings = [MonitorBinding(f.address, f.model) for f in found if f.model in drivers]
    line = SimpleNamespace(name="cli", url=transport.url, baud=baud, polling={})
    settings = settings or BusSettings(cycle_s=0)
    master = BusMaster(line, transport, bindings, drivers, ctx, lambda _r: None, settings)
    master.ri_permitted = lambda _a: False  # a look, not a load pulse
    for unit in master.units.values():
        unit.watchdog_written = True  # leave the monitors' settings alone
        unit.written_duties = list(unit.wanted_duties)
        unit.ri_started_once = True
    master._open = True  # the caller opened the transport
    result = await master.run_once()
    by_address: dict[int, list[ChannelReading | SensorReading]] = {}
    for r in result.readings:
        by_address.setdefault(r.address, []).append(r)
    return [describe(f, by_address.get(f.address, [])) for f in found if f.model in drivers]


def describe(found: Found, readings: list[ChannelReading | SensorReading]) -> dict[str, Any]:
    """One device's readings as ``bus poll --json`` prints them."""
    out: dict[str, Any] = {"address": found.address, "model": found.model}
    channels = [r for r in readings if isinstance(r, ChannelReading)]
    sensors = [r for r in readings if isinstance(r, SensorReading)]
    if found.model in ("CS", "THS", "AUX"):
        keys = {
            "CS": ("current_a", "ripple_a"),
            "THS": ("temperature_c", "humidity_pct"),
            "AUX": ("inputs", "relays"),
        }[found.model]
        values = sensors[0].values if sensors else {}
        for k in keys:
            v = values.get(k)
            out[k] = list(v) if isinstance(v, tuple) else v
        out["quality"] = sensors[0].quality.value if sensors else "no_data"
        return out
    out["serial"] = found.identity.serial
    out["channels"] = [
        {
            "voltage_v": r.voltage_v,
            "temperature_c": r.temperature_c,
            "ri_ohm": r.ri_ohm,
            "equalize_duty": r.duty,
            "bypass_current_a": r.bypass_current_a,
            "flags": sorted(r.flags),
            "quality": r.quality.value,
        }
        for r in sorted(channels, key=lambda r: r.channel)
    ]
    return out


class WizardError(Exception):
    """The wizard cannot go on (address taken, two devices in learn mode)."""


class TwoInLearnMode(WizardError):
    """Two devices took the offered address at once; both were reset to 247."""


def model_name(names: Mapping[int, str], ident: Identity) -> str:
    """The driver name of a device's model code, or ``code N`` for a model no driver knows."""
    return names.get(ident.model_code, f"code {ident.model_code}")


async def ensure_free(rtu: RtuClient, address: int) -> None:
    """Raise :class:`WizardError` when a device already answers at ``address``."""
    if await read_identity(rtu, address, attempts=2) is not None:
        raise WizardError(f"address {address} is already used by another device")


async def offer_address(rtu: RtuClient, address: int) -> Identity | None:
    """One try: offer ``address`` at 247, then ask ``address`` who it is (None: nobody took it yet).

    Factory-fresh devices all answer at 247, so their replies collide: the wizard does not
    read at 247 but offers ADDRESS there; only a device in learn mode takes it, and the new
    address answering cleanly is the proof. A garbled answer there means two devices took
    it: both are reset to 247 and :class:`TwoInLearnMode` is raised. A failed transport
    (:class:`LineDown`) is raised as is.
    """
    try:
        await rtu.write(LEARN_ADDRESS, PolledDriver.encode_address(address))
    except LineDown:
        raise
    except BusError:
        pass  # fresh devices refuse (exception 03) and collide; what counts is who answers next
    for attempt in range(2):
        try:
            return Identity.from_registers(await rtu.read(address, IDENTITY_BLOCK))
        except CrcError:
            if attempt == 0:
                continue  # one garbled reply may be line noise; two devices garble every reply
        except LineDown:
            raise
        except BusError:
            return None
    for _ in range(3):  # the reset must reach every device that took the address
        try:
            await rtu.write(address, FACTORY_RESET)
        except LineDown:
            raise
        except BusError:
            pass
    raise TwoInLearnMode(
        f"two devices were in learn mode at once and both took address {address}; both were "
        "reset to 247. Press one button at a time."
    )


async def identify(rtu: RtuClient, address: int, seconds: int) -> None:
    """Make the device at ``address`` blink its LED (a courtesy: failure is ignored)."""
    try:
        await rtu.write(address, WriteOp(WRITE_REGISTER, IDENTIFY, (seconds,)))
    except LineDown:
        raise
    except BusError:
        pass


async def assign_next(
    rtu: RtuClient, address: int, wait_s: float, say: Callable[[str], None], poll_s: float = 0.5
) -> Identity | None:
    """Wait for one device in learn mode, give it ``address``, return its identity (None: nobody came)."""
    await ensure_free(rtu, address)
    end = time.monotonic() + wait_s
    while time.monotonic() < end:
        try:
            ident = await offer_address(rtu, address)
        except LineDown:
            ident = None  # the CLI keeps trying until its wait ends, as with silence
        if ident is not None:
            return ident
        await asyncio.sleep(poll_s)
    return None


async def address_wizard(
    rtu: RtuClient,
    drivers: Mapping[str, type[Any]],
    start: int,
    count: int | None,
    wait_s: float,
    say: Callable[[str], None],
    identify_s: int = 10,
) -> list[Found]:
    """Address devices one button press at a time from ``start`` upwards."""
    names = model_names(drivers)
    done: list[Found] = []
    address = start
    while count is None or len(done) < count:
        if address > 246:
            say("no addresses left (246 is the last)")
            break
        say(f"press the address button of the next device for 1 s (it gets address {address})")
        try:
            ident = await assign_next(rtu, address, wait_s, say)
        except TwoInLearnMode as e:
            say(f"problem: {e}")
            continue
        except WizardError as e:
            say(f"problem: {e}; stopping")  # asking again would find the same device there
            break
        if ident is None:
            say(f"no device entered learn mode within {wait_s:.0f} s; stopping")
            break
        model = model_name(names, ident)
        try:
            await identify(rtu, address, identify_s)
        except LineDown:
            pass  # blinking is a courtesy; the address is set
        say(
            f"address {address}: {model}, serial {ident.serial}, firmware {ident.firmware_text} "
            f"(its LED blinks for {identify_s} s)"
        )
        done.append(Found(address, ident, model))
        address += 1
    return done
