"""cellgate plugin: auth_local."""
