"""Declarative base with a naming convention so Alembic migrations are stable on every database."""

from __future__ import annotations

import enum
from typing import TYPE_CHECKING, Any, ClassVar

from sqlalchemy import Enum, MetaData, Table
from sqlalchemy.orm import DeclarativeBase

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)

    if TYPE_CHECKING:
        # Every model here maps a Table of its own (none maps a join or a subquery), so Core
        # statements on ``Model.__table__`` type-check without a cast at each use.
        __table__: ClassVar[Table]


def str_enum(enum_cls: type[enum.Enum], length: int = 32) -> Enum:
    """Store an enum as its value in a plain string column (no native enum type to migrate)."""
    return Enum(
        enum_cls,
        native_enum=False,
        create_constraint=False,
        length=length,
        values_callable=lambda members: [m.value for m in members],
        validate_strings=True,
    )


def enum_values(enum_cls: type[enum.Enum]) -> list[Any]:
    return [m.value for m in enum_cls]
