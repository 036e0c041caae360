"""Hook implementations of the northbound_bacnet plugin (filled in by its issue)."""
