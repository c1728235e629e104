"""The ``drive-assist`` command line: a thin face over core services."""
