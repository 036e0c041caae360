"""cellgate plugin: auth_radius."""
