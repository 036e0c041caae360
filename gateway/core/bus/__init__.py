"""The southbound bus: the RTU transaction layer, the driver contract and one master per RS-485 line.

The live engine builds one :class:`~gateway.core.bus.master.BusMaster` per ``lines[]`` entry.
"""
