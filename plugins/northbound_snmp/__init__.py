"""cellgate plugin: northbound_snmp."""
