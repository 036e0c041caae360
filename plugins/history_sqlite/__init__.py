"""cellgate plugin: history_sqlite."""
