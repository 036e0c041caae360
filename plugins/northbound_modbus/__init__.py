"""cellgate plugin northbound_modbus: Modbus TCP server and RTU slave serving YAML register maps."""
