"""cellgate plugin: northbound_opcua."""
