"""Contacts with the perpetrator and attempts at contact: the bread and butter of a case log."""

from __future__ import annotations

from datetime import timedelta
from uuid import UUID

from core.clock import local_date
from core.enums import WorkCategory
from core.errors import ContactBeforeReferral, ContactInFuture
from core.models import Contact, categories_in_order
from core.policy import Action
from core.rules import check_real_day, work_problem
from core.schemas.actor import Actor
from core.schemas.contacts import ContactCreate, ContactRead
from core.services import submissions
from core.services.access import (
    CaseKey,
    authorize_case_key,
    ensure_open,
    load_case_key,
)
from core.services.audit import insert_audited
from core.uow import UnitOfWork

# Phones drift: allow a contact stamped a few minutes ahead of the server's clock.
FUTURE_TOLERANCE = timedelta(minutes=5)
CONTACT_KIND = "contact"  # what a client key's save wrote (core.services.submissions)


def contact_read(contact: Contact, *, notes: bool = True) -> ContactRead:
    """The contact; its free text only when ``notes`` (the reader has ``case_notes.view``)."""
    return ContactRead(
        id=contact.id,
        case_id=contact.case_id,
        staff_id=contact.staff_id,
        occurred_at=contact.occurred_at,
        contact_type=contact.contact_type,
        duration_minutes=contact.duration_minutes,
        categories=tuple(contact.categories()),
        topics=tuple(contact.topics or ()),
        notes=contact.notes if notes else None,
        next_steps=contact.next_steps if notes else None,
        notes_withheld=not notes and bool(contact.notes or contact.next_steps),
    )


async def log_contact(
    *, uow: UnitOfWork, actor: Actor, data: ContactCreate, client_key: UUID | None = None
) -> ContactRead:
    """Log a contact or attempt on an open case. The same service serves the bot and the web.

    ``client_key``: the device's key for this save (``core.services.submissions``): a second
    call with it by the same person writes nothing and returns the contact the first logged.
    """
    return await submissions.once(
        uow,
        actor,
        client_key,
        kind=CONTACT_KIND,
        write=lambda: log_contact_in(uow, actor, data),
        result_id=lambda contact: contact.id,
        earlier=lambda contact_id: _logged_before(uow, actor, contact_id),
    )


async def _logged_before(uow: UnitOfWork, actor: Actor, contact_id: int) -> ContactRead:
    """The contact the person's earlier save with the same key logged (theirs, so with its
    notes), if they may still log on its case."""
    contact = await uow.session.get_one(Contact, contact_id)
    await load_case_key(uow, actor, contact.case_id, Action.CONTACT_LOG)
    return contact_read(contact)


async def log_contact_in(
    uow: UnitOfWork, actor: Actor, data: ContactCreate, *, case: CaseKey | None = None
) -> ContactRead:
    """:func:`log_contact` inside the caller's open unit of work, which commits (or not).

    Two statements: the case (its key only; none when the caller read it in this unit of work
    and passes it as ``case``) and the contact (``insert_audited``: its audit event is appended
    when the caller commits). Authorised here either way.
    """
    if case is not None and case.id == data.case_id:
        case = authorize_case_key(actor, case, Action.CONTACT_LOG)
    else:
        case = await load_case_key(uow, actor, data.case_id, Action.CONTACT_LOG)
    ensure_open(case)  # so never after the case's closure: a closed case takes no contact
    no_work = work_problem(data.categories)
    if no_work is not None:
        raise no_work
    now = uow.clock.now()
    occurred_at = data.occurred_at or now
    check_real_day(occurred_at, field="occurred_at")
    if occurred_at > now + FUTURE_TOLERANCE:
        raise ContactInFuture(field="occurred_at", rule="in_future")
    if local_date(occurred_at, uow.zone) < case.referral_date:
        raise ContactBeforeReferral(
            field="occurred_at",
            rule="before_referral",
            referral_date=case.referral_date.isoformat(),
        )
    values = {
        "case_id": case.id,
        "staff_id": actor.user_id,
        "occurred_at": occurred_at,
        "contact_type": data.contact_type,
        "duration_minutes": data.duration_minutes,
        "is_disruption": WorkCategory.DISRUPTION in data.categories,
        "is_support": WorkCategory.SUPPORT in data.categories,
        "is_behaviour_change": WorkCategory.BEHAVIOUR_CHANGE in data.categories,
        "topics": list(data.topics),
        "notes": data.notes or None,
        "next_steps": data.next_steps or None,
        "created_at": now,
    }
    # Core, not the ORM's flush (about a millisecond less): the bot's Save and the web's log
    # both come through here.
    contact_id = await insert_audited(
        uow,
        actor,
        "contact.log",
        table=Contact.__table__,
        values=values,
        entity_type="contact",
        site_id=case.site_id,
        case_id=case.id,
        details={"contact_type": data.contact_type.value},
    )
    # The read model from what was written (an ORM object to build it would cost a tenth of a
    # millisecond on the Save's path).
    return ContactRead(
        id=contact_id,
        case_id=case.id,
        staff_id=actor.user_id,
        occurred_at=occurred_at,
        contact_type=data.contact_type,
        duration_minutes=data.duration_minutes,
        categories=tuple(categories_in_order(data.categories)),
        topics=tuple(data.topics),
        notes=values["notes"],
        next_steps=values["next_steps"],
    )
