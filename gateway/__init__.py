"""cellgate: an open battery management gateway.

The core (this package) owns the battery data model and the engine; everything else is a
plugin registered through the ``cellgate.plugins`` entry-point group.
"""

__version__ = "0.1.0"
