"""The ``citygrowth`` command line: a thin layer over the services.

Domains add their noun groups (``areas``, ``index``, ``cases`` …) through the
``citygrowth_commands`` hook. Every command has help with an example; errors a user can cause
are printed as clean messages (in the chosen language) with exit status 1, never tracebacks.
"""

from citygrowth.cli.main import main

__all__ = ["main"]
