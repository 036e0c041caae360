"""Hook implementations of the auth_radius plugin (filled in by its issue)."""
