"""Subject access: everything held about a case's subject, for an admin of the case's site.

A case is one subject (the perpetrator), so the bundle is one case's record. Third parties are
redacted here, in core, so no face can forget to: victims and children are counted per kind and
nothing else of them is read; staff of other agencies appear as role and agency only (see
:class:`core.schemas.sar.StaffRef`). Drive's own staff act for the controller and are named.

Free text (contact notes and next steps, appointment outcomes, risk reasons, panel actions,
what was done about an alert) is included whole: it is the subject's own data, but software
cannot reliably tell whether it also mentions a victim, a child or another agency's staff.
The bundle says so (``free_text_review``) and staff must review that text before release.

The referral's details about the subject (gender, phone, languages, interpreter), the
referring agency and the DASH score, stage changes' reasons, dates and episodes, former
references after a transfer and MARAC and police incident details are included. Left out, with
a flag saying they are held: the referrer's contact details (a third party's) and the DASH
checklist's answers (the victim's, mostly about the victim).

The export is audited as ``sar.export`` with the case id and counts of records, nothing else.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from sqlalchemy import func, select

from core.enums import Agency, PersonKind, Role
from core.errors import NotFound, ValidationFailed
from core.models import (
    Appointment,
    Case,
    CaseFormerReference,
    CaseStageChange,
    Contact,
    DisruptionAlert,
    Intervention,
    LinkedPerson,
    MaracAppearance,
    Membership,
    PanelAction,
    PanelAgendaItem,
    PanelMeeting,
    PoliceIncident,
    RiskAssessment,
    Site,
    User,
)
from core.policy import Action, authorize, authorize_somewhere, sites_where
from core.schemas.actor import Actor
from core.schemas.cases import AbuseProfile
from core.schemas.sar import (
    SarAlert,
    SarAppointment,
    SarBundle,
    SarContact,
    SarFormerReference,
    SarIntervention,
    SarMaracAppearance,
    SarPanelAction,
    SarPanelDiscussion,
    SarPoliceIncident,
    SarRiskAssessment,
    SarStageChange,
    SarSubject,
    StaffRef,
)
from core.services.audit import record_audit
from core.uow import UnitOfWork

# What a case reference can hold (Case.reference is 16 characters): anything else, a NUL that
# PostgreSQL would refuse included, is refused before the database sees it.
_REFERENCE = re.compile(r"[A-Z0-9-]{1,16}")
# The agency a role works for when its membership names none.
_ROLE_AGENCY = {
    Role.POLICE_FELLOW: Agency.POLICE,
    Role.IDVA: Agency.IDVA_SERVICE,
    Role.PANEL_MEMBER: Agency.OTHER,
}
# When someone holds several roles at the site, the one shown (the most outward-facing first,
# so a person who is also police is never named as Drive staff).
_ROLE_ORDER = (
    Role.POLICE_FELLOW,
    Role.IDVA,
    Role.PANEL_MEMBER,
    Role.CASE_MANAGER,
    Role.SERVICE_MANAGER,
    Role.PANEL_COORDINATOR,
    Role.ADMIN,
)


def _abuse(case: Case, point: str) -> AbuseProfile:
    names = ("physical", "sexual", "harassment_stalking", "jealous_controlling")
    return AbuseProfile(**{name: getattr(case, f"{point}_{name}") for name in names})


async def _staff_refs(
    uow: UnitOfWork, site_id: int, user_ids: Iterable[int | None]
) -> dict[int, StaffRef]:
    """Each user as the bundle shows them: named only when every role at the site is Drive's."""
    wanted = {user_id for user_id in user_ids if user_id is not None}
    if not wanted:
        return {}
    names = dict(
        (
            await uow.session.execute(select(User.id, User.display_name).where(User.id.in_(wanted)))
        ).all()
    )
    memberships = (
        await uow.session.execute(
            select(Membership.user_id, Membership.role, Membership.agency).where(
                Membership.user_id.in_(wanted), Membership.site_id == site_id
            )
        )
    ).all()
    held: dict[int, list[tuple[Role, Agency]]] = {}
    for user_id, role, agency in memberships:
        held.setdefault(user_id, []).append((role, agency or _ROLE_AGENCY.get(role, Agency.DRIVE)))
    refs: dict[int, StaffRef] = {}
    for user_id in wanted:
        roles = sorted(held.get(user_id, []), key=lambda pair: _ROLE_ORDER.index(pair[0]))
        outside = [pair for pair in roles if pair[1] is not Agency.DRIVE]
        if not roles:  # no longer at the site: who they worked for is unknown, so no name
            refs[user_id] = StaffRef(role=None, agency=Agency.OTHER, name=None)
        elif outside:
            role, agency = outside[0]
            refs[user_id] = StaffRef(role=role, agency=agency, name=None)
        else:
            role, agency = roles[0]
            refs[user_id] = StaffRef(role=role, agency=agency, name=names.get(user_id))
    return refs


async def _find_case(uow: UnitOfWork, actor: Actor, reference: str) -> Case:
    # Someone who may export nowhere is told so; an admin is told "not found" for a case at
    # another site, so a refusal never shows that a reference exists there.
    authorize_somewhere(actor, Action.SAR_EXPORT)
    wanted = reference.strip().upper()
    if not _REFERENCE.fullmatch(wanted):
        raise ValidationFailed(field="reference", rule="case_reference")
    case = await uow.session.scalar(
        select(Case).where(
            Case.reference == wanted, Case.site_id.in_(sites_where(actor, Action.SAR_EXPORT))
        )
    )
    if case is None:
        raise NotFound(entity="case", id=wanted)
    authorize(actor, Action.SAR_EXPORT, site_id=case.site_id)
    return case


async def export_subject_access(*, uow: UnitOfWork, actor: Actor, reference: str) -> SarBundle:
    """The bundle for the case with this reference, at a site where the actor is an admin."""
    async with uow:
        case = await _find_case(uow, actor, reference)
        session = uow.session
        stage_changes = (
            await session.scalars(
                select(CaseStageChange)
                .where(CaseStageChange.case_id == case.id)
                .order_by(CaseStageChange.changed_at, CaseStageChange.id)
            )
        ).all()
        risks = (
            await session.scalars(
                select(RiskAssessment)
                .where(RiskAssessment.case_id == case.id)
                .order_by(RiskAssessment.assessed_at, RiskAssessment.id)
            )
        ).all()
        contacts = (
            await session.scalars(
                select(Contact)
                .where(Contact.case_id == case.id)
                .order_by(Contact.occurred_at, Contact.id)
            )
        ).all()
        appointments = (
            await session.scalars(
                select(Appointment)
                .where(Appointment.case_id == case.id)
                .order_by(Appointment.starts_at, Appointment.id)
            )
        ).all()
        interventions = (
            await session.scalars(
                select(Intervention)
                .where(Intervention.case_id == case.id)
                .order_by(Intervention.created_at, Intervention.id)
            )
        ).all()
        agenda = (
            await session.execute(
                select(PanelMeeting.starts_at, PanelMeeting.status)
                .join(PanelAgendaItem, PanelAgendaItem.meeting_id == PanelMeeting.id)
                .where(PanelAgendaItem.case_id == case.id)
                .order_by(PanelMeeting.starts_at, PanelMeeting.id)
            )
        ).all()
        actions = (
            await session.execute(
                select(PanelAction, PanelMeeting.starts_at)
                .join(PanelMeeting, PanelMeeting.id == PanelAction.meeting_id)
                .where(PanelAction.case_id == case.id)
                .order_by(PanelMeeting.starts_at, PanelAction.id)
            )
        ).all()
        marac = (
            await session.scalars(
                select(MaracAppearance)
                .where(MaracAppearance.case_id == case.id)
                .order_by(MaracAppearance.heard_on, MaracAppearance.id)
            )
        ).all()
        incidents = (
            await session.scalars(
                select(PoliceIncident)
                .where(PoliceIncident.case_id == case.id)
                .order_by(PoliceIncident.occurred_on, PoliceIncident.id)
            )
        ).all()
        former = (
            await session.execute(
                select(CaseFormerReference.reference, Site.code, CaseFormerReference.replaced_at)
                .join(Site, Site.id == CaseFormerReference.site_id)
                .where(CaseFormerReference.case_id == case.id)
                .order_by(CaseFormerReference.replaced_at, CaseFormerReference.id)
            )
        ).all()
        alerts = (
            await session.scalars(
                select(DisruptionAlert)
                .where(DisruptionAlert.case_id == case.id)
                .order_by(DisruptionAlert.raised_at, DisruptionAlert.id)
            )
        ).all()
        # Only the kind is read: a linked person's name or address never enters this function.
        people = dict(
            (
                await session.execute(
                    select(LinkedPerson.kind, func.count(LinkedPerson.id))
                    .where(LinkedPerson.case_id == case.id)
                    .group_by(LinkedPerson.kind)
                )
            ).all()
        )

        staff = await _staff_refs(
            uow,
            case.site_id,
            [case.case_manager_id]
            + [change.changed_by_id for change in stage_changes]
            + [risk.assessed_by_id for risk in risks]
            + [contact.staff_id for contact in contacts]
            + [appointment.staff_id for appointment in appointments]
            + [intervention.recorded_by_id for intervention in interventions]
            + [action.owner_user_id for action, _starts in actions]
            + [alert.raised_by_id for alert in alerts]
            + [alert.acknowledged_by_id for alert in alerts],
        )

        def ref(user_id: int | None) -> StaffRef | None:
            return None if user_id is None else staff[user_id]

        bundle = SarBundle(
            generated_at=uow.clock.now(),
            subject=SarSubject(
                reference=case.reference,
                site_code=case.site.code,
                former_references=tuple(
                    SarFormerReference(reference=old, site_code=code, replaced_at=replaced_at)
                    for old, code, replaced_at in former
                ),
                subject_name=case.subject_name,
                subject_date_of_birth=case.subject_date_of_birth,
                subject_address=case.subject_address,
                subject_gender=case.subject_gender,
                subject_phone=case.subject_phone,
                subject_languages=case.subject_languages,
                subject_interpreter_needed=case.subject_interpreter_needed,
                referral_date=case.referral_date,
                referral_source=case.referral_source,
                referral_reason=case.referral_reason,
                referrer_agency=case.referrer_agency,
                referrer_contact_redacted=case.referrer_contact is not None,
                dash_score=case.dash_score,
                dash_checklist_redacted=bool(case.dash_answers),
                episode=case.episode,
                stage=case.stage,
                stage_changed_at=case.stage_changed_at,
                case_manager=ref(case.case_manager_id),
                allocated_at=case.allocated_at,
                planned_end=case.planned_end,
                closed_at=case.closed_at,
                closure_reason=case.closure_reason,
                closure_reason_other=case.closure_reason_other,
                abuse_at_start=_abuse(case, "start"),
                abuse_at_closure=_abuse(case, "closure"),
                created_at=case.created_at,
            ),
            stage_history=tuple(
                SarStageChange(
                    changed_at=change.changed_at,
                    effective_on=change.effective_on,
                    episode=change.episode,
                    from_stage=change.from_stage,
                    to_stage=change.to_stage,
                    closure_reason=change.closure_reason,
                    closure_reason_other=change.closure_reason_other,
                    reason=change.reason,
                    changed_by=ref(change.changed_by_id),
                )
                for change in stage_changes
            ),
            risk_assessments=tuple(
                SarRiskAssessment(
                    assessed_at=risk.assessed_at,
                    level=risk.level,
                    dash_score=risk.dash_score,
                    reason=risk.reason,
                    assessed_by=ref(risk.assessed_by_id),
                )
                for risk in risks
            ),
            contacts=tuple(
                SarContact(
                    occurred_at=contact.occurred_at,
                    contact_type=contact.contact_type,
                    duration_minutes=contact.duration_minutes,
                    categories=tuple(contact.categories()),
                    topics=tuple(contact.topics or ()),
                    notes=contact.notes,
                    next_steps=contact.next_steps,
                    staff=ref(contact.staff_id),
                )
                for contact in contacts
            ),
            appointments=tuple(
                SarAppointment(
                    starts_at=appointment.starts_at,
                    ends_at=appointment.ends_at,
                    place_kind=appointment.place_kind,
                    status=appointment.status,
                    outcome=appointment.outcome,
                    staff=ref(appointment.staff_id),
                )
                for appointment in appointments
            ),
            interventions=tuple(
                SarIntervention(
                    kind_code=intervention.kind.code,
                    category=intervention.kind.category,
                    agency=intervention.agency,
                    status=intervention.status,
                    started_on=intervention.started_on,
                    ended_on=intervention.ended_on,
                    recorded_by=ref(intervention.recorded_by_id),
                )
                for intervention in interventions
            ),
            panel_discussions=tuple(
                SarPanelDiscussion(meeting_starts_at=starts_at, meeting_status=status)
                for starts_at, status in agenda
            ),
            panel_actions=tuple(
                SarPanelAction(
                    meeting_starts_at=starts_at,
                    description=action.description,
                    owner_agency=action.owner_agency,
                    owner=ref(action.owner_user_id),
                    due_on=action.due_on,
                    status=action.status,
                    completed_on=action.completed_on,
                )
                for action, starts_at in actions
            ),
            marac_appearances=tuple(
                SarMaracAppearance(
                    heard_on=m.heard_on,
                    appearance_type=m.appearance_type,
                    description=m.description,
                )
                for m in marac
            ),
            police_incidents=tuple(
                SarPoliceIncident(
                    occurred_on=i.occurred_on,
                    police_reference=i.police_reference,
                    incident_type=i.incident_type,
                    description=i.description,
                )
                for i in incidents
            ),
            alerts=tuple(
                SarAlert(
                    raised_at=alert.raised_at,
                    status=alert.status,
                    raised_by=ref(alert.raised_by_id),
                    acknowledged_by=ref(alert.acknowledged_by_id),
                    acknowledged_at=alert.acknowledged_at,
                    action_taken=alert.action_taken,
                    actioned_at=alert.actioned_at,
                )
                for alert in alerts
            ),
            linked_people={kind: int(people.get(kind, 0)) for kind in PersonKind},
        )
        record_audit(
            uow,
            actor,
            "sar.export",
            entity_type="case",
            entity_id=case.id,
            site_id=case.site_id,
            case_id=case.id,
            details={"counts": bundle.record_counts()},
        )
        await uow.commit()
        return bundle
