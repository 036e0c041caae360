"""Fixtures of the Modbus tests: a running ``modbus`` service on a free port over synthetic snapshots."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from plugins.northbound_modbus.config import ModbusServiceConfig
from plugins.northbound_modbus.service import ModbusService
from tests.northbound_modbus.peers import Site, ensure_tools, free_port
from tests.northbound_modbus.synthetic import snapshot


@pytest.fixture(scope="session", autouse=True)
def _tools() -> None:
    ensure_tools()


@pytest.fixture
def site() -> Site:
    return Site(snapshot=snapshot(time=time.time()))


@pytest.fixture
async def start_service(site: Site) -> AsyncIterator[Callable[..., Any]]:
    """``await start_service(**config)`` → a started service on a free port; stopped afterwards."""
    started: list[ModbusService] = []
    site.start_engine()

    async def start(**overrides: Any) -> ModbusService:
        overrides.setdefault("tcp", {"port": free_port()})
        service = ModbusService(ModbusServiceConfig.model_validate(overrides), site.ctx)
        await service.start()
        started.append(service)
        return service

    yield start
    for service in started:
        await service.stop()
    await site.stop_engine()
