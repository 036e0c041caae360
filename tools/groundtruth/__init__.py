"""PyBaMM ground-truth battery traces in cellgate's replay format (a development tool, not part of
the gateway; run it with ``python -m tools.groundtruth``, see README.md)."""
