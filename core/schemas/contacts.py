from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import Field, StringConstraints

from core.enums import ContactType, WorkCategory
from core.schemas.cases import CASE_REFERENCE_PATTERN
from core.schemas.common import AwareDatetime, InputModel, LongText, ReadModel

# The longest contact core takes, in minutes (a long day's visit).
MAX_DURATION_MINUTES = 600
Topic = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=60)]


class ContactCreate(InputModel):
    case_id: int
    occurred_at: AwareDatetime | None = None  # defaults to now
    contact_type: ContactType
    duration_minutes: Annotated[int, Field(ge=0, le=MAX_DURATION_MINUTES)]
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


class ContactOnReference(InputModel):
    """A contact on the case with this reference: the bot's one-message ``/log``, which names
    the case as people know it. Core finds the case on the actor's own caseload."""

    reference: Annotated[str, Field(pattern=CASE_REFERENCE_PATTERN)]
    contact_type: ContactType
    duration_minutes: Annotated[int, Field(ge=0, le=MAX_DURATION_MINUTES)]
    categories: frozenset[WorkCategory]
    notes: LongText | None = None

    def on_case(self, case_id: int) -> ContactCreate:
        return ContactCreate(
            case_id=case_id,
            contact_type=self.contact_type,
            duration_minutes=self.duration_minutes,
            categories=self.categories,
            notes=self.notes,
        )
