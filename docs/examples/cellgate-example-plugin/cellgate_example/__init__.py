"""An example third-party cellgate plugin."""
