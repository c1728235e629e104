"""Building blocks shared by the schemas."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    StringConstraints,
    ValidationError,
    field_validator,
)
from pydantic_core import PydanticCustomError

from core.errors import TextTooLong, UnsavableText, ValidationFailed

# The longest note, outcome or next step: a long session written up in full, and far below what
# a form's message may carry. The columns are TEXT (no limit of their own); this is the limit.
LONG_TEXT_MAX_LENGTH = 5000
# pydantic's error types for text that cannot be stored: a NUL (ours) or a lone surrogate.
UNSAVABLE_TEXT_ERRORS = frozenset({"unsavable_text", "string_unicode"})


def _aware(value: datetime) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError("a time zone is required")
    return value


AwareDatetime = Annotated[datetime, AfterValidator(_aware)]
ShortText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
LongText = Annotated[str, StringConstraints(strip_whitespace=True, max_length=LONG_TEXT_MAX_LENGTH)]


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
            raise PydanticCustomError("unsavable_text", "must not contain a NUL character")
        return value


def text_problem(
    text: str, *, field: str, max_length: int = LONG_TEXT_MAX_LENGTH
) -> ValidationFailed | None:
    """What is wrong with ``text`` for a long-text field, as the error to raise; None if fine.

    For a face that checks a field before building the input model (the bot, as a note is
    typed), with the same limits and codes as the model.
    """
    if has_nul(text) or not _encodable(text):
        return UnsavableText(field=field)
    if len(text.strip()) > max_length:
        return TextTooLong(field=field, max_length=max_length)
    return None


def _encodable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate, such as JSON's escaped \ud800 decodes to
        return False
    return True


def input_error(error: ValidationError) -> ValidationFailed:
    """An input model's refusal as the typed error a face turns into words: its first problem,
    with ``details['field']`` naming the field (its first name in the error's location)."""
    first = error.errors()[0]
    field = str(first["loc"][0]) if first["loc"] else ""
    kind = first["type"]
    if kind in UNSAVABLE_TEXT_ERRORS:
        return UnsavableText(field=field)
    if kind == "string_too_long":
        return TextTooLong(field=field, max_length=int(first["ctx"]["max_length"]))
    return ValidationFailed(field=field, rule=kind)
