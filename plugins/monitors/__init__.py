"""cellgate plugin: monitors — one driver per monitor model, and a register-map driver."""
