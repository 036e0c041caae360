"""The core: data model, config, engine, snapshot, commands, clock and lifecycle.

No protocol code lives here; protocols are plugins.
"""
