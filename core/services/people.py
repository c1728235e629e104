"""Victims and children linked to a case: restricted to IDVAs, service managers and admins.

Every read is audited in the same transaction as the read, so no view goes unrecorded. A link
that ends (``end_link``) stays, with its end date, as the case's history: the current list
leaves it out, ``case_people`` shows it among the ended. Each person may have an assigned IDVA
(set when an IDVA adds the person, or by a service manager); an IDVA's "My cases"
(``my_idva_cases``) is the open cases at her sites with current people assigned to her.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select

from core.enums import OPEN_STAGES, RiskLevel, Role
from core.errors import NotPermitted, ValidationFailed
from core.models import Case, LinkedPerson, Membership, RiskAssessment, Site, User
from core.policy import Action, authorize, is_allowed, sites_where
from core.rules import check_real_day
from core.schemas.actor import Actor
from core.schemas.people import (
    CasePeopleRead,
    IdvaAssignment,
    IdvaChoice,
    LinkedPersonCreate,
    LinkedPersonRead,
    LinkedPersonUpdate,
    LinkEnd,
    MyCasePerson,
    MyIdvaCase,
)
from core.services.access import get_or_404, load_case
from core.services.audit import record_audit
from core.uow import UnitOfWork


async def _read(uow: UnitOfWork, people: Iterable[LinkedPerson]) -> list[LinkedPersonRead]:
    people = list(people)
    idva_ids = {p.assigned_idva_id for p in people if p.assigned_idva_id is not None}
    names: dict[int | None, str] = {}
    if idva_ids:
        rows = await uow.session.execute(
            select(User.id, User.display_name).where(User.id.in_(idva_ids))
        )
        names = {user_id: name for user_id, name in rows}
    return [
        LinkedPersonRead.model_validate(person).model_copy(
            update={"assigned_idva_name": names.get(person.assigned_idva_id)}
        )
        for person in people
    ]


def _audit_view(uow: UnitOfWork, actor: Actor, case: Case, people: list[LinkedPerson]) -> None:
    record_audit(
        uow,
        actor,
        "victim.view",
        entity_type="case",
        entity_id=case.id,
        site_id=case.site_id,
        case_id=case.id,
        details={"linked_person_ids": [person.id for person in people]},
    )


def _audit(
    uow: UnitOfWork, actor: Actor, action: str, person: LinkedPerson, case: Case, **details: object
) -> None:
    record_audit(
        uow,
        actor,
        action,
        entity_type="linked_person",
        entity_id=person.id,
        site_id=case.site_id,
        case_id=case.id,
        details={"kind": person.kind.value} | details,
    )


async def _check_idva(uow: UnitOfWork, user_id: int, site_id: int) -> None:
    """``ValidationFailed`` unless ``user_id`` is an active IDVA at the site."""
    found = await uow.session.scalar(
        select(Membership.id)
        .join(User, User.id == Membership.user_id)
        .where(
            Membership.user_id == user_id,
            Membership.site_id == site_id,
            Membership.role == Role.IDVA,
            User.is_active.is_(True),
        )
    )
    if found is None:
        raise ValidationFailed(field="assigned_idva_id", rule="not_idva_at_site")


def _is_idva_at(actor: Actor, site_id: int) -> bool:
    return any(m.role is Role.IDVA and m.site_id == site_id for m in actor.memberships)


async def _person_and_case(
    uow: UnitOfWork, actor: Actor, person_id: int, action: Action
) -> tuple[LinkedPerson, Case]:
    person = await get_or_404(uow, LinkedPerson, person_id)
    try:
        case = await load_case(uow, actor, person.case_id, action)
    except NotPermitted as error:
        raise error.about("linked_person", person.id) from None
    return person, case


async def add_linked_person(
    *, uow: UnitOfWork, actor: Actor, data: LinkedPersonCreate
) -> LinkedPersonRead:
    """Link a victim or child to the case. An IDVA adding one is assigned to support them;
    naming another IDVA (``assigned_idva_id``) needs ``victim.assign`` (service managers)."""
    async with uow:
        case = await load_case(uow, actor, data.case_id, Action.VICTIM_MANAGE)
        idva_id = data.assigned_idva_id
        if idva_id is not None and idva_id != actor.user_id:
            authorize(actor, Action.VICTIM_ASSIGN, site_id=case.site_id)
        if idva_id is None and _is_idva_at(actor, case.site_id):
            idva_id = actor.user_id
        if idva_id is not None:
            await _check_idva(uow, idva_id, case.site_id)
        now = uow.clock.now()
        person = LinkedPerson(
            **data.model_dump(exclude={"assigned_idva_id"}),
            assigned_idva_id=idva_id,
            created_at=now,
            updated_at=now,
        )
        uow.session.add(person)
        await uow.flush()
        _audit(uow, actor, "victim.add", person, case)
        [read] = await _read(uow, [person])
        await uow.commit()
        return read


async def update_linked_person(
    *, uow: UnitOfWork, actor: Actor, person_id: int, data: LinkedPersonUpdate
) -> LinkedPersonRead:
    """Edit a person's details, safety notes included (``victim.manage``). The audit names the
    fields changed, never their values."""
    async with uow:
        person, case = await _person_and_case(uow, actor, person_id, Action.VICTIM_MANAGE)
        changed = sorted(
            field for field, value in data.model_dump().items() if getattr(person, field) != value
        )
        for field, value in data.model_dump().items():
            setattr(person, field, value)
        person.updated_at = uow.clock.now()
        await uow.flush()
        _audit(uow, actor, "victim.update", person, case, fields=changed)
        [read] = await _read(uow, [person])
        await uow.commit()
        return read


async def end_link(
    *, uow: UnitOfWork, actor: Actor, person_id: int, data: LinkEnd
) -> LinkedPersonRead:
    """End the person's link to the case on a day (not in the future); the person stays, as
    history. ``ValidationFailed``: ``already_ended``, ``in_future``."""
    check_real_day(data.ended_on, field="ended_on")
    async with uow:
        person, case = await _person_and_case(uow, actor, person_id, Action.VICTIM_MANAGE)
        if person.ended_on is not None:
            raise ValidationFailed(field="ended_on", rule="already_ended")
        if data.ended_on > uow.clock.now().date():
            raise ValidationFailed(field="ended_on", rule="in_future")
        person.ended_on = data.ended_on
        person.updated_at = uow.clock.now()
        await uow.flush()
        _audit(uow, actor, "victim.end_link", person, case, ended_on=str(data.ended_on))
        [read] = await _read(uow, [person])
        await uow.commit()
        return read


async def assign_idva(
    *, uow: UnitOfWork, actor: Actor, person_id: int, data: IdvaAssignment
) -> LinkedPersonRead:
    """Set (or clear) the IDVA supporting the person: service managers (``victim.assign``).
    ``ValidationFailed(rule="not_idva_at_site")`` for someone not an active IDVA there."""
    async with uow:
        person, case = await _person_and_case(uow, actor, person_id, Action.VICTIM_ASSIGN)
        if data.idva_user_id is not None:
            await _check_idva(uow, data.idva_user_id, case.site_id)
        person.assigned_idva_id = data.idva_user_id
        person.updated_at = uow.clock.now()
        await uow.flush()
        _audit(uow, actor, "victim.assign", person, case, idva_user_id=data.idva_user_id)
        [read] = await _read(uow, [person])
        await uow.commit()
        return read


async def idva_choices(*, uow: UnitOfWork, actor: Actor, case_id: int) -> list[IdvaChoice]:
    """The active IDVAs at the case's site, by name, for ``assign_idva``."""
    async with uow:
        case = await load_case(uow, actor, case_id, Action.VICTIM_ASSIGN)
        rows = await uow.session.execute(
            select(User.id, User.display_name)
            .join(Membership, Membership.user_id == User.id)
            .where(
                Membership.site_id == case.site_id,
                Membership.role == Role.IDVA,
                User.is_active.is_(True),
            )
            .order_by(User.display_name, User.id)
        )
        return [IdvaChoice(user_id=user_id, display_name=name) for user_id, name in rows]


async def _people_of(uow: UnitOfWork, case_id: int) -> list[LinkedPerson]:
    return list(
        (
            await uow.session.scalars(
                select(LinkedPerson)
                .where(LinkedPerson.case_id == case_id)
                .order_by(LinkedPerson.id)
            )
        ).all()
    )


async def case_people(*, uow: UnitOfWork, actor: Actor, case_id: int) -> CasePeopleRead:
    """The case's victims and children, current and ended, in one read (audited)."""
    async with uow:
        case = await load_case(uow, actor, case_id, Action.VICTIM_VIEW)
        read = await case_people_of(uow, actor, case)
        await uow.commit()
        return read


async def case_people_of(uow: UnitOfWork, actor: Actor, case: Case) -> CasePeopleRead:
    """``case_people``'s read and its ``victim.view`` audit event, in the caller's unit of work
    (which must commit it; ``core.services.case_page`` too). Checks ``victim.view`` itself."""
    authorize(actor, Action.VICTIM_VIEW, site_id=case.site_id, case_manager_id=case.case_manager_id)
    people = await _people_of(uow, case.id)
    _audit_view(uow, actor, case, people)
    read = await _read(uow, people)
    return CasePeopleRead(
        case_id=case.id,
        case_reference=case.reference,
        current=tuple(p for p in read if p.ended_on is None),
        ended=tuple(p for p in read if p.ended_on is not None),
    )


async def my_idva_cases(*, uow: UnitOfWork, actor: Actor) -> list[MyIdvaCase]:
    """ "My cases" for an IDVA: the open cases at her sites with current victims or children
    assigned to her, by reference, each with those people. Every case listed is audited as a
    view of its victims."""
    async with uow:
        sites = {
            m.site_id
            for m in actor.memberships
            if m.role is Role.IDVA and m.site_id in sites_where(actor, Action.VICTIM_VIEW)
        }
        rows = (
            await uow.session.execute(
                select(LinkedPerson, Case, Site.code)
                .join(Case, Case.id == LinkedPerson.case_id)
                .join(Site, Site.id == Case.site_id)
                .where(
                    LinkedPerson.assigned_idva_id == actor.user_id,
                    LinkedPerson.ended_on.is_(None),
                    Case.site_id.in_(sites),
                    Case.stage.in_(sorted(OPEN_STAGES)),
                )
                .order_by(Case.reference, Case.id, LinkedPerson.id)
            )
        ).all()
        by_case: dict[int, tuple[Case, str, list[LinkedPerson]]] = {}
        for person, case, code in rows:
            if is_allowed(actor, Action.VICTIM_VIEW, site_id=case.site_id):
                by_case.setdefault(case.id, (case, code, []))[2].append(person)
        risks = await _latest_risks(uow, list(by_case))
        result = [
            MyIdvaCase(
                case_id=case.id,
                case_reference=case.reference,
                site_code=code,
                stage=case.stage,
                risk_level=risks.get(case.id),
                people=tuple(MyCasePerson(id=p.id, kind=p.kind, name=p.name) for p in people),
            )
            for case, code, people in by_case.values()
        ]
        for case, _code, people in by_case.values():
            _audit_view(uow, actor, case, people)
        await uow.commit()
        return result


async def _latest_risks(uow: UnitOfWork, case_ids: list[int]) -> dict[int, RiskLevel]:
    if not case_ids:
        return {}
    latest: dict[int, RiskLevel] = {}
    for case_id, level in await uow.session.execute(
        select(RiskAssessment.case_id, RiskAssessment.level)
        .where(RiskAssessment.case_id.in_(case_ids))
        .order_by(RiskAssessment.case_id, RiskAssessment.assessed_at, RiskAssessment.id)
    ):
        latest[case_id] = level  # oldest first: the last one seen per case wins
    return latest
