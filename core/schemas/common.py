"""Building blocks shared by the schemas."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, StringConstraints, field_validator


def _aware(value: datetime) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError("a time zone is required")
    return value


AwareDatetime = Annotated[datetime, AfterValidator(_aware)]
ShortText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
LongText = Annotated[str, StringConstraints(strip_whitespace=True, max_length=5000)]


class ReadModel(BaseModel):
    model_config = ConfigDict(frozen=True, from_attributes=True)


def has_nul(value: object) -> bool:
    """True when ``value`` (text, or text inside a list, tuple or dict) holds a NUL character.

    PostgreSQL cannot store NUL in text and its driver fails on one, so every input model
    refuses it up front and services that take raw text treat it as matching nothing.
    """
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, list | tuple | set | frozenset):
        return any(has_nul(item) for item in value)
    if isinstance(value, dict):
        return any(has_nul(key) or has_nul(item) for key, item in value.items())
    return False


class InputModel(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    @field_validator("*", mode="after")
    @classmethod
    def _refuse_nul(cls, value: object) -> object:
        if has_nul(value):
            raise ValueError("must not contain a NUL character")
        return value
