"""Persistence: declarative base, column types, engine and migrations."""
