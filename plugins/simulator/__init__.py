"""cellgate plugin: a simulated battery room — monitors on an RS-485 bus, batteries behind them.

In-process as the ``sim://NAME`` transport, out of process as ``cellgate simulate``.
"""
