"""Pydantic models at the boundary of core: ``XCreate`` and ``XUpdate`` in, ``XRead`` out."""
