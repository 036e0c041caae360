"""cellgate plugin: actions."""
