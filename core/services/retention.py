"""The closed-case retention policy: anonymise a site's cases N whole years after they closed.

A site's ``closed_case_retention_years`` (None: keep) sets the rule. ``plan_retention`` says
what a run would change, per site; ``apply_retention`` does it in batches of cases, one
transaction each, and is idempotent (an anonymised case has ``anonymised_at`` and is never
selected again). Each batch is audited with counts only.

What is cleared (every Text/String column of ``core.models`` that can hold personal data
about the perpetrator, a victim or a child, on rows that belong to the case):

- ``cases``: ``subject_name``, ``subject_date_of_birth``, ``subject_address``,
  ``subject_gender``, ``subject_phone``, ``subject_languages``, the folded name keys of the
  duplicate check, ``referrer_contact``, ``dash_answers`` (about the victim's situation) and
  ``closure_reason_other`` (typed in freely).
- ``linked_people`` (victims and children): ``name``, ``date_of_birth``, ``address``,
  ``contact``, ``safety_notes``, ``relationship_to_subject``.
- ``contacts``: ``notes``, ``next_steps`` and ``topics`` (typed in freely, so may name people
  or places; emptied to ``[]``).
- ``appointments``: ``outcome``.
- ``risk_assessments``: ``reason``.
- ``police_incidents``: ``police_reference`` (a crime number leads back to the people).
- ``disruption_alerts``: ``action_taken``.
- ``panel_actions``: ``description`` (not nullable: emptied to ``""``).

What is kept, so reports over the anonymised period still add up: the case's ``reference``
(pseudonymous), referral date, source and reason, DASH score, stage and every dated stage
change, closure reason, case manager, the abuse-type flags at start and closure; every row's
dates and times, kinds, statuses, levels, flags and durations (contacts and their
disruption/support/behaviour-change flags, appointments' place kind and status, risk levels
and scores, MARAC appearances, police incident dates, interventions, panel agenda items and
actions' agency, due and completion dates, alerts' status and times); linked people's kind.

Not touched, being no one's personal data about the case: ``sites``, ``users`` and their
memberships (staff accounts), ``panel_meetings.place``/``link`` (the site's meeting room),
``audit_events`` (codes and ids only, and append-only), outbox and inbox ``params`` (case
references and times only), Telegram and web sign-in tables (staff only), and
``bot_conversations.data`` (a note being typed lives there only until the flow ends).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, String, case, cast, func, select, update
from sqlalchemy.orm import InstrumentedAttribute

from core.enums import Stage
from core.errors import NotFound, NotPermitted, ValidationFailed
from core.models import (
    Appointment,
    Case,
    Contact,
    DisruptionAlert,
    LinkedPerson,
    PanelAction,
    PoliceIncident,
    RiskAssessment,
    Site,
)
from core.policy import Action, authorize, sites_where
from core.schemas.actor import Actor
from core.schemas.retention import (
    MAX_RETENTION_YEARS,
    RetentionRun,
    SiteCaseRetentionRead,
    SiteRetentionPlan,
)
from core.services.audit import record_audit
from core.uow import UnitOfWork

BATCH_SIZE = 200

ProgressCallback = Callable[[str, int, int], None]  # (site code, cases done, cases in all)

_EMPTY_LIST = "[]"


# Every cleared column, with the value it is cleared to. A value already at it is not counted.
_CASE_FIELDS: tuple[tuple[InstrumentedAttribute[Any], Any], ...] = (
    (Case.subject_name, None),
    (Case.subject_date_of_birth, None),
    (Case.subject_address, None),
    (Case.subject_gender, None),
    (Case.subject_phone, None),
    (Case.subject_languages, None),
    (Case.subject_name_key, None),
    (Case.subject_surname_key, None),
    (Case.referrer_contact, None),
    (Case.dash_answers, None),
    (Case.closure_reason_other, None),
)
_LINKED_FIELDS: tuple[tuple[Any, tuple[tuple[InstrumentedAttribute[Any], Any], ...]], ...] = (
    (
        LinkedPerson,
        (
            (LinkedPerson.name, None),
            (LinkedPerson.date_of_birth, None),
            (LinkedPerson.address, None),
            (LinkedPerson.contact, None),
            (LinkedPerson.safety_notes, None),
            (LinkedPerson.relationship_to_subject, None),
        ),
    ),
    (Contact, ((Contact.notes, None), (Contact.next_steps, None), (Contact.topics, []))),
    (Appointment, ((Appointment.outcome, None),)),
    (RiskAssessment, ((RiskAssessment.reason, None),)),
    (PoliceIncident, ((PoliceIncident.police_reference, None),)),
    (DisruptionAlert, ((DisruptionAlert.action_taken, None),)),
    (PanelAction, ((PanelAction.description, ""),)),
)


def _holds_a_value(column: InstrumentedAttribute[Any], cleared: Any) -> ColumnElement[bool]:
    if cleared is None:
        return column.is_not(None)
    if cleared == []:
        # JSON has no equality on PostgreSQL; its text is what SQLAlchemy wrote.
        return cast(column, String) != _EMPTY_LIST
    differs: ColumnElement[bool] = column != cleared  # typed Any: ``cleared`` is Any
    return differs


def _count_of(column: InstrumentedAttribute[Any], cleared: Any) -> ColumnElement[int]:
    return func.coalesce(func.sum(case((_holds_a_value(column, cleared), 1), else_=0)), 0)


def _years_before(moment: datetime, years: int) -> datetime:
    try:
        return moment.replace(year=moment.year - years)
    except ValueError:  # 29 February, in a year that has none
        return moment.replace(year=moment.year - years, day=28)


def _due_cases(site_id: int, cutoff: datetime) -> Any:
    return select(Case.id).where(
        Case.site_id == site_id,
        Case.stage == Stage.CLOSED,
        Case.closed_at.is_not(None),
        Case.closed_at < cutoff,
        Case.anonymised_at.is_(None),
    )


async def _field_counts(uow: UnitOfWork, case_ids: Any) -> dict[str, int]:
    """How many stored values the anonymisation of ``case_ids`` (a list or a subquery) clears."""
    counts: dict[str, int] = {}
    session = uow.session
    row = (
        await session.execute(
            select(*(_count_of(column, cleared) for column, cleared in _CASE_FIELDS)).where(
                Case.id.in_(case_ids)
            )
        )
    ).one()
    for (column, _), value in zip(_CASE_FIELDS, row, strict=True):
        counts[f"cases.{column.key}"] = int(value or 0)
    for model, fields in _LINKED_FIELDS:
        row = (
            await session.execute(
                select(*(_count_of(column, cleared) for column, cleared in fields)).where(
                    model.case_id.in_(case_ids)
                )
            )
        ).one()
        for (column, _), value in zip(fields, row, strict=True):
            counts[f"{model.__tablename__}.{column.key}"] = int(value or 0)
    return counts


async def _sites_in_scope(
    uow: UnitOfWork, actor: Actor, site_code: str | None
) -> Sequence[tuple[int, str, int]]:
    """(id, code, years) of the sites with a policy the actor may run it for."""
    query = select(Site.id, Site.code, Site.closed_case_retention_years).order_by(Site.code)
    if site_code is not None:
        site = (await uow.session.execute(query.where(Site.code == site_code))).first()
        if site is None:
            raise NotFound(entity="site", code=site_code)
        if not actor.is_system:
            authorize(actor, Action.RETENTION_MANAGE, site_id=site.id)
        rows = [site]
    else:
        if not actor.is_system:
            allowed = sites_where(actor, Action.RETENTION_MANAGE)
            if not allowed:
                raise NotPermitted(action=str(Action.RETENTION_MANAGE), actor=actor)
            query = query.where(Site.id.in_(allowed))
        rows = list((await uow.session.execute(query)).all())
    return [(row.id, row.code, row.closed_case_retention_years) for row in rows if row[2]]


async def set_case_retention(
    *, uow: UnitOfWork, actor: Actor, site_code: str, years: int | None
) -> SiteCaseRetentionRead:
    """Set (or, with None, lift) the site's rule: anonymise closed cases after ``years``."""
    if years is not None and not 1 <= years <= MAX_RETENTION_YEARS:
        raise ValidationFailed(field="years", rule="range")
    async with uow:
        site = await uow.session.scalar(select(Site).where(Site.code == site_code))
        if site is None:
            raise NotFound(entity="site", code=site_code)
        if not actor.is_system:
            authorize(actor, Action.RETENTION_MANAGE, site_id=site.id)
        previous = site.closed_case_retention_years
        site.closed_case_retention_years = years
        record_audit(
            uow,
            actor,
            "retention.set",
            entity_type="site",
            entity_id=site.id,
            site_id=site.id,
            details={"years": years, "previous_years": previous},
        )
        await uow.commit()
        return SiteCaseRetentionRead(
            site_id=site.id, site_code=site.code, closed_case_retention_years=years
        )


async def plan_retention(
    *, uow: UnitOfWork, actor: Actor, site_code: str | None = None
) -> RetentionRun:
    """A dry run: what applying the policy now would change, per site. Changes nothing."""
    async with uow:
        now = uow.clock.now()
        plans = []
        for site_id, code, years in await _sites_in_scope(uow, actor, site_code):
            cutoff = _years_before(now, years)
            due = _due_cases(site_id, cutoff)
            cases = await uow.session.scalar(select(func.count()).select_from(due.subquery()))
            counts = await _field_counts(uow, due)
            plans.append(_plan(site_id, code, years, cutoff, int(cases or 0), counts))
        return RetentionRun(applied=False, sites=plans)


def _plan(
    site_id: int, code: str, years: int, cutoff: datetime, cases: int, counts: dict[str, int]
) -> SiteRetentionPlan:
    return SiteRetentionPlan(
        site_id=site_id,
        site_code=code,
        years=years,
        cutoff=cutoff,
        cases=cases,
        fields_cleared=sum(counts.values()),
        fields_by_column=counts,
    )


async def apply_retention(
    *,
    uow: UnitOfWork,
    actor: Actor,
    site_code: str | None = None,
    batch_size: int = BATCH_SIZE,
    progress: ProgressCallback | None = None,
) -> RetentionRun:
    """Anonymise every due case, ``batch_size`` cases per transaction; returns what changed.

    ``uow`` is opened once per batch. Stopping half-way loses nothing: finished batches are
    committed and audited, and the next run carries on with the cases left.
    """
    plan = await plan_retention(uow=uow, actor=actor, site_code=site_code)
    done: list[SiteRetentionPlan] = []
    for site in plan.sites:
        counts = dict.fromkeys(site.fields_by_column, 0)
        cases_done = 0
        if progress is not None:
            progress(site.site_code, 0, site.cases)
        while True:
            changed = await _anonymise_batch(uow, actor, site, batch_size)
            if changed is None:
                break
            batch_cases, batch_counts = changed
            cases_done += batch_cases
            for key, value in batch_counts.items():
                counts[key] = counts.get(key, 0) + value
            if progress is not None:
                progress(site.site_code, cases_done, max(site.cases, cases_done))
        done.append(
            _plan(site.site_id, site.site_code, site.years, site.cutoff, cases_done, counts)
        )
    return RetentionRun(applied=True, sites=done)


async def _anonymise_batch(
    uow: UnitOfWork, actor: Actor, site: SiteRetentionPlan, batch_size: int
) -> tuple[int, dict[str, int]] | None:
    async with uow:
        session = uow.session
        ids = list(
            (
                await session.scalars(
                    _due_cases(site.site_id, site.cutoff).order_by(Case.id).limit(batch_size)
                )
            ).all()
        )
        if not ids:
            return None
        counts = await _field_counts(uow, ids)
        now = uow.clock.now()
        await session.execute(
            update(Case)
            .where(Case.id.in_(ids))
            .values(
                {column: cleared for column, cleared in _CASE_FIELDS}
                | {Case.anonymised_at: now, Case.updated_at: now, Case.version: Case.version + 1}
            )
            .execution_options(synchronize_session=False)
        )
        for model, fields in _LINKED_FIELDS:
            await session.execute(
                update(model)
                .where(model.case_id.in_(ids))
                .values({column: cleared for column, cleared in fields})
                .execution_options(synchronize_session=False)
            )
        record_audit(
            uow,
            actor,
            "retention.anonymise",
            entity_type="site",
            entity_id=site.site_id,
            site_id=site.site_id,
            details={"years": site.years, "cases": len(ids), "fields": sum(counts.values())},
        )
        await uow.commit()
        return len(ids), counts
