"""cellgate plugin: northbound_syslog."""
