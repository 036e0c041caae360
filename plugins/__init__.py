"""Built-in plugins: each folder is one plugin, found through the ``cellgate.plugins`` entry points."""
