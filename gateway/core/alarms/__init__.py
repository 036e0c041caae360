"""Alarms: kinds and defaults per chemistry, settings, and the manager the hub drives."""

from gateway.core.alarms.manager import AlarmManager
from gateway.core.alarms.settings import AlarmSettings

__all__ = ["AlarmManager", "AlarmSettings"]
