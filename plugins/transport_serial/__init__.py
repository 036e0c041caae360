"""cellgate plugin: transport_serial — RS-485 lines on serial ports, TCP converters and RFC 2217 servers."""
