from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import Field, StringConstraints

from core.enums import ContactType, WorkCategory
from core.schemas.common import AwareDatetime, InputModel, LongText, ReadModel

Topic = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=60)]


class ContactCreate(InputModel):
    case_id: int
    occurred_at: AwareDatetime | None = None  # defaults to now
    contact_type: ContactType
    duration_minutes: Annotated[int, Field(ge=0, le=600)]
    categories: frozenset[WorkCategory] = frozenset()
    topics: list[Topic] = Field(default_factory=list, max_length=12)
    notes: LongText | None = None
    next_steps: LongText | None = None


class ContactRead(ReadModel):
    id: int
    case_id: int
    staff_id: int
    occurred_at: datetime
    contact_type: ContactType
    duration_minutes: int
    categories: tuple[WorkCategory, ...]
    topics: tuple[str, ...]
    notes: str | None
    next_steps: str | None
    # True when there are notes or next steps the reader may not see (``case_notes.view``).
    notes_withheld: bool = False
