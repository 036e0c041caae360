"""Hook implementations of the northbound_opcua plugin (filled in by its issue)."""
