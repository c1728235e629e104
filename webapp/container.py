"""The web backend's one ``Container`` (engine, units of work, clock, settings).

Built on first use through ``core.bootstrap``: the Reflex CLI imports the pages to compile
them, and that must not open a database. Its own module so that the state, the pages and the
backend's routes all import it at the top, with no import circle between them.
"""

from __future__ import annotations

from core.bootstrap import Container, bootstrap

_container: Container | None = None


def container() -> Container:
    """This process's container, built on first use."""
    global _container
    if _container is None:
        _container = bootstrap()
    return _container
