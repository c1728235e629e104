"""Victims and children linked to a case. Every field here is restricted (see core.policy)."""

from __future__ import annotations

from datetime import date, datetime

from core.enums import PersonKind, RiskLevel, Stage
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
    # The supporting IDVA: only a service manager names one; an IDVA adding is assigned herself.
    assigned_idva_id: int | None = None


class LinkedPersonUpdate(InputModel):
    """Every editable field, as it should now be (a field left None is cleared)."""

    kind: PersonKind
    name: ShortText | None = None
    date_of_birth: date | None = None
    address: LongText | None = None
    contact: LongText | None = None
    safety_notes: LongText | None = None
    relationship_to_subject: ShortText | None = None


class LinkEnd(InputModel):
    """The day the person's link to the case ended (today or earlier)."""

    ended_on: date


class IdvaAssignment(InputModel):
    """The IDVA to support the person; None: nobody for now."""

    idva_user_id: int | None


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
    updated_at: datetime
    ended_on: date | None = None  # None: a current link
    assigned_idva_id: int | None = None
    assigned_idva_name: str | None = None


class CasePeopleRead(ReadModel):
    """A case's victims and children: the current links, and the ended ones (history)."""

    case_id: int
    case_reference: str
    current: tuple[LinkedPersonRead, ...]
    ended: tuple[LinkedPersonRead, ...]


class IdvaChoice(ReadModel):
    """An active IDVA at the case's site, to assign to a person."""

    user_id: int
    display_name: str


class MyCasePerson(ReadModel):
    """A current victim or child on one of my cases whom I support."""

    id: int
    kind: PersonKind
    name: str | None


class MyIdvaCase(ReadModel):
    """An open case with people I support (``people.my_idva_cases``)."""

    case_id: int
    case_reference: str
    site_code: str
    stage: Stage
    risk_level: RiskLevel | None  # the latest risk assessment's; None before the first
    people: tuple[MyCasePerson, ...]
