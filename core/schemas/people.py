"""Victims and children linked to a case. Every field here is restricted (see core.policy)."""

from __future__ import annotations

from datetime import date, datetime

from core.enums import PersonKind
from core.schemas.common import InputModel, LongText, ReadModel, ShortText


class LinkedPersonCreate(InputModel):
    case_id: int
    kind: PersonKind
    name: ShortText | None = None
    date_of_birth: date | None = None
    address: LongText | None = None
    contact: LongText | None = None
    safety_notes: LongText | None = None
    relationship_to_subject: ShortText | None = None


class LinkedPersonRead(ReadModel):
    id: int
    case_id: int
    kind: PersonKind
    name: str | None
    date_of_birth: date | None
    address: str | None
    contact: str | None
    safety_notes: str | None
    relationship_to_subject: str | None
    created_at: datetime
