"""cellgate plugin: northbound_bacnet."""
