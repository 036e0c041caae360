"""cellgate plugin: web."""
