"""The multi-agency panel: meetings, agenda, actions with owners and due dates, attendance."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

from sqlalchemy import select

from core.areas import Offer, offer_sites
from core.clock import local_date
from core.enums import OPEN_STAGES, AttendanceStatus, PanelActionStatus, PanelMeetingStatus
from core.errors import NotFound, ValidationFailed
from core.models import (
    Case,
    Membership,
    PanelAction,
    PanelAgendaItem,
    PanelAttendance,
    PanelMeeting,
    Site,
    User,
)
from core.policy import Action, authorize, is_allowed, sites_where
from core.rules import check_action_due, check_meeting_ahead
from core.schemas.actor import Actor
from core.schemas.broadcasts import PanelInvitationRead
from core.schemas.case_choice import CaseChoice
from core.schemas.panels import (
    AgendaItemRead,
    AttendanceRead,
    PanelActionCreate,
    PanelActionRead,
    PanelMeetingCreate,
    PanelMeetingDetail,
    PanelMeetingRead,
    PanelOwnerChoice,
    PanelPage,
    PanelPlanningChoices,
    UpcomingPanelMeeting,
)
from core.services import broadcasts
from core.services.access import get_or_404
from core.services.audit import record_audit
from core.services.clashes import find_meeting_clashes, refuse_unless_saving_anyway
from core.uow import UnitOfWork

RSVP_STATUSES = frozenset({AttendanceStatus.ATTENDING, AttendanceStatus.APOLOGIES})
# How far back the Panel page looks for the last meeting held at each site.
PAST_PANELS_LOOKED_AT = timedelta(days=120)


def _meeting_read(meeting: PanelMeeting, site_code: str) -> PanelMeetingRead:
    return PanelMeetingRead(
        id=meeting.id,
        site_id=meeting.site_id,
        site_code=site_code,
        starts_at=meeting.starts_at,
        place=meeting.place,
        link=meeting.link,
        status=meeting.status,
    )


def _action_read(
    action: PanelAction, reference: str, *, owner_name: str | None = None, may_update: bool = False
) -> PanelActionRead:
    return PanelActionRead(
        id=action.id,
        meeting_id=action.meeting_id,
        case_id=action.case_id,
        case_reference=reference,
        description=action.description,
        owner_agency=action.owner_agency,
        owner_user_id=action.owner_user_id,
        due_on=action.due_on,
        status=action.status,
        completed_on=action.completed_on,
        owner_name=owner_name,
        may_update=may_update,
    )


async def _case_at_site(uow: UnitOfWork, case_id: int, site_id: int) -> Case:
    case = await get_or_404(uow, Case, case_id)
    if case.site_id != site_id:
        raise ValidationFailed(field="case_id", rule="other_site")
    return case


async def schedule_panel_meeting(
    *, uow: UnitOfWork, actor: Actor, data: PanelMeetingCreate, save_anyway: bool = False
) -> PanelMeetingRead:
    """Schedule it; ``Clash`` if another scheduled meeting at the site is at the same time
    (``clashes.PANEL_MEETING_SLOT``), unless ``save_anyway`` (audited with what it clashes with)."""
    async with uow:
        authorize(actor, Action.PANEL_MANAGE, site_id=data.site_id)
        check_meeting_ahead(data.starts_at, uow.clock.now())
        site = await get_or_404(uow, Site, data.site_id)
        overridden = refuse_unless_saving_anyway(
            await find_meeting_clashes(uow, site, data.starts_at),
            kind="panel_meeting",
            save_anyway=save_anyway,
        )
        meeting = PanelMeeting(
            site_id=site.id,
            starts_at=data.starts_at,
            place=data.place,
            link=data.link,
            status=PanelMeetingStatus.SCHEDULED,
            created_at=uow.clock.now(),
        )
        uow.session.add(meeting)
        await uow.flush()
        record_audit(
            uow,
            actor,
            "panel.schedule",
            entity_type="panel_meeting",
            entity_id=meeting.id,
            site_id=site.id,
            details=overridden or None,
        )
        await uow.commit()
        return _meeting_read(meeting, site.code)


async def get_panel_meeting(
    *, uow: UnitOfWork, actor: Actor, meeting_id: int
) -> PanelMeetingDetail:
    [detail] = await get_panel_meetings(uow=uow, actor=actor, meeting_ids=[meeting_id])
    return detail


async def get_panel_meetings(
    *, uow: UnitOfWork, actor: Actor, meeting_ids: Sequence[int]
) -> list[PanelMeetingDetail]:
    """Several meetings, each with its agenda, actions and attendance, in the order asked for,
    in four queries whatever their number. Every meeting must be one the actor may see."""
    if not meeting_ids:
        return []
    async with uow:
        return await _meeting_details(uow, actor, meeting_ids)


async def _meeting_details(
    uow: UnitOfWork, actor: Actor, meeting_ids: Sequence[int]
) -> list[PanelMeetingDetail]:
    """``get_panel_meetings`` in a unit of work already open."""
    wanted = list(dict.fromkeys(meeting_ids))
    if not wanted:
        return []
    found = {
        meeting.id: (meeting, code)
        for meeting, code in await uow.session.execute(
            select(PanelMeeting, Site.code)
            .join(Site, Site.id == PanelMeeting.site_id)
            .where(PanelMeeting.id.in_(wanted))
        )
    }
    for meeting_id in wanted:
        if meeting_id not in found:
            raise NotFound(entity=PanelMeeting.__tablename__, id=meeting_id)
        authorize(actor, Action.PANEL_VIEW, site_id=found[meeting_id][0].site_id)
    agenda: dict[int, list[AgendaItemRead]] = {meeting_id: [] for meeting_id in wanted}
    for item, reference, case_site_id, case_manager_id in await uow.session.execute(
        select(PanelAgendaItem, Case.reference, Case.site_id, Case.case_manager_id)
        .join(Case, Case.id == PanelAgendaItem.case_id)
        .where(PanelAgendaItem.meeting_id.in_(wanted))
        .order_by(PanelAgendaItem.meeting_id, PanelAgendaItem.position)
    ):
        agenda[item.meeting_id].append(
            AgendaItemRead(
                case_id=item.case_id,
                case_reference=reference,
                position=item.position,
                may_open_case=is_allowed(
                    actor, Action.CASE_VIEW, site_id=case_site_id, case_manager_id=case_manager_id
                ),
            )
        )
    actions: dict[int, list[PanelActionRead]] = {meeting_id: [] for meeting_id in wanted}
    for action, reference, site_id, case_manager_id, owner_name in await uow.session.execute(
        select(PanelAction, Case.reference, Case.site_id, Case.case_manager_id, User.display_name)
        .join(Case, Case.id == PanelAction.case_id)
        .outerjoin(User, User.id == PanelAction.owner_user_id)
        .where(PanelAction.meeting_id.in_(wanted))
        .order_by(PanelAction.due_on, PanelAction.id)
    ):
        may_update = is_allowed(
            actor,
            Action.PANEL_ACTION_UPDATE,
            site_id=site_id,
            case_manager_id=case_manager_id,
            owner_user_id=action.owner_user_id,
        )
        actions[action.meeting_id].append(
            _action_read(action, reference, owner_name=owner_name, may_update=may_update)
        )
    attendance: dict[int, list[AttendanceRead]] = {meeting_id: [] for meeting_id in wanted}
    for row in await uow.session.scalars(
        select(PanelAttendance)
        .where(PanelAttendance.meeting_id.in_(wanted))
        .order_by(PanelAttendance.meeting_id, PanelAttendance.user_id)
    ):
        attendance[row.meeting_id].append(AttendanceRead.model_validate(row))
    return [
        PanelMeetingDetail(
            meeting=_meeting_read(*found[meeting_id]),
            agenda=tuple(agenda[meeting_id]),
            actions=tuple(actions[meeting_id]),
            attendance=tuple(attendance[meeting_id]),
        )
        for meeting_id in wanted
    ]


async def _planning_choices(uow: UnitOfWork, managed: set[int]) -> list[PanelPlanningChoices]:
    """For each site ``managed`` (where the actor runs the panel): its open cases (references
    only) to put on an agenda, and its staff (name and agency) to own an action. Two queries in
    all, in a unit of work already open."""
    sites = (
        await uow.session.execute(
            select(Site.id, Site.code).where(Site.id.in_(managed)).order_by(Site.code)
        )
    ).all()
    cases: dict[int, list[CaseChoice]] = {site_id: [] for site_id, _code in sites}
    for case_id, reference, site_id in await uow.session.execute(
        select(Case.id, Case.reference, Case.site_id)
        .where(Case.site_id.in_(managed), Case.stage.in_(sorted(OPEN_STAGES)))
        .order_by(Case.reference, Case.id)
    ):
        cases[site_id].append(CaseChoice(case_id=case_id, reference=reference))
    owners: dict[int, dict[int, PanelOwnerChoice]] = {site_id: {} for site_id, _code in sites}
    for user_id, name, agency, site_id in await uow.session.execute(
        select(User.id, User.display_name, Membership.agency, Membership.site_id)
        .join(Membership, Membership.user_id == User.id)
        .where(Membership.site_id.in_(managed), User.is_active.is_(True))
        .order_by(User.display_name, User.id, Membership.id)
    ):
        known = owners[site_id].get(user_id)
        if known is None or (known.agency is None and agency is not None):
            owners[site_id][user_id] = PanelOwnerChoice(
                user_id=user_id, display_name=name, agency=agency
            )
    return [
        PanelPlanningChoices(
            site_id=site_id,
            site_code=code,
            cases=tuple(cases[site_id]),
            owners=tuple(owners[site_id].values()),
        )
        for site_id, code in sites
    ]


async def add_agenda_item(
    *, uow: UnitOfWork, actor: Actor, meeting_id: int, case_id: int
) -> AgendaItemRead:
    async with uow:
        meeting = await get_or_404(uow, PanelMeeting, meeting_id)
        authorize(actor, Action.PANEL_MANAGE, site_id=meeting.site_id)
        case = await _case_at_site(uow, case_id, meeting.site_id)
        existing = (
            await uow.session.scalars(
                select(PanelAgendaItem).where(PanelAgendaItem.meeting_id == meeting_id)
            )
        ).all()
        if any(item.case_id == case_id for item in existing):
            raise ValidationFailed(field="case_id", rule="already_on_agenda")
        item = PanelAgendaItem(meeting_id=meeting_id, case_id=case_id, position=len(existing) + 1)
        uow.session.add(item)
        await uow.flush()
        record_audit(
            uow,
            actor,
            "panel.agenda_add",
            entity_type="panel_meeting",
            entity_id=meeting_id,
            site_id=meeting.site_id,
            case_id=case.id,
        )
        await uow.commit()
        return AgendaItemRead(
            case_id=case.id, case_reference=case.reference, position=item.position
        )


async def add_panel_action(
    *, uow: UnitOfWork, actor: Actor, data: PanelActionCreate
) -> PanelActionRead:
    if data.owner_agency is None and data.owner_user_id is None:
        raise ValidationFailed(field="owner", rule="required")
    async with uow:
        meeting = await get_or_404(uow, PanelMeeting, data.meeting_id)
        authorize(actor, Action.PANEL_MANAGE, site_id=meeting.site_id)
        case = await _case_at_site(uow, data.case_id, meeting.site_id)
        check_action_due(data.due_on, local_date(uow.clock.now(), uow.zone))
        if data.owner_user_id is not None:
            member = await uow.session.scalar(
                select(Membership.id).where(
                    Membership.user_id == data.owner_user_id,
                    Membership.site_id == meeting.site_id,
                )
            )
            if member is None:
                raise ValidationFailed(field="owner_user_id", rule="not_at_site")
        action = PanelAction(
            **data.model_dump(),
            status=PanelActionStatus.OPEN,
            created_at=uow.clock.now(),
        )
        uow.session.add(action)
        await uow.flush()
        record_audit(
            uow,
            actor,
            "panel_action.add",
            entity_type="panel_action",
            entity_id=action.id,
            site_id=meeting.site_id,
            case_id=case.id,
        )
        await uow.commit()
        return _action_read(action, case.reference)


async def update_panel_action_status(
    *, uow: UnitOfWork, actor: Actor, action_id: int, status: PanelActionStatus
) -> PanelActionRead:
    async with uow:
        action = await get_or_404(uow, PanelAction, action_id)
        case = await get_or_404(uow, Case, action.case_id)
        authorize(
            actor,
            Action.PANEL_ACTION_UPDATE,
            site_id=case.site_id,
            case_manager_id=case.case_manager_id,
            owner_user_id=action.owner_user_id,
        )
        action.status = status
        action.completed_on = uow.clock.now().date() if status is PanelActionStatus.DONE else None
        record_audit(
            uow,
            actor,
            "panel_action.update",
            entity_type="panel_action",
            entity_id=action.id,
            site_id=case.site_id,
            case_id=case.id,
            details={"status": status.value},
        )
        await uow.commit()
        return _action_read(action, case.reference)


async def rsvp_panel_meeting(
    *, uow: UnitOfWork, actor: Actor, meeting_id: int, status: AttendanceStatus
) -> AttendanceRead:
    """The actor says they will attend, or sends apologies."""
    if status not in RSVP_STATUSES:
        raise ValidationFailed(field="status", rule="not_an_rsvp")
    async with uow:
        meeting = await get_or_404(uow, PanelMeeting, meeting_id)
        authorize(actor, Action.PANEL_RSVP, site_id=meeting.site_id, owner_user_id=actor.user_id)
        row = await uow.session.scalar(
            select(PanelAttendance).where(
                PanelAttendance.meeting_id == meeting_id,
                PanelAttendance.user_id == actor.user_id,
            )
        )
        agency = next(
            (m.agency for m in actor.memberships if m.site_id == meeting.site_id and m.agency),
            None,
        )
        if row is None:
            row = PanelAttendance(meeting_id=meeting_id, user_id=actor.user_id, agency=agency)
            uow.session.add(row)
        row.status = status
        row.updated_at = uow.clock.now()
        await uow.flush()
        record_audit(
            uow,
            actor,
            "panel.rsvp",
            entity_type="panel_meeting",
            entity_id=meeting_id,
            site_id=meeting.site_id,
            details={"status": status.value},
        )
        await uow.commit()
        return AttendanceRead.model_validate(row)


async def my_upcoming_panel_meetings(
    *, uow: UnitOfWork, actor: Actor, limit: int = 5
) -> list[PanelInvitationRead]:
    """The next scheduled panel meetings at my sites, each with my RSVP if I have sent one."""
    async with uow:
        return await _invitations(uow, actor, limit)


async def _invitations(uow: UnitOfWork, actor: Actor, limit: int) -> list[PanelInvitationRead]:
    """``my_upcoming_panel_meetings`` in a unit of work already open."""
    rows = await uow.session.execute(
        select(PanelMeeting, Site.code, PanelAttendance.status)
        .join(Site, Site.id == PanelMeeting.site_id)
        .outerjoin(
            PanelAttendance,
            (PanelAttendance.meeting_id == PanelMeeting.id)
            & (PanelAttendance.user_id == actor.user_id),
        )
        .where(
            PanelMeeting.site_id.in_(sites_where(actor, Action.PANEL_VIEW)),
            PanelMeeting.status == PanelMeetingStatus.SCHEDULED,
            PanelMeeting.starts_at > uow.clock.now(),
        )
        .order_by(PanelMeeting.starts_at, PanelMeeting.id)
        .limit(max(1, min(limit, 50)))
    )
    return [
        PanelInvitationRead(meeting=_meeting_read(meeting, code), my_rsvp=status)
        for meeting, code, status in rows
    ]


async def _last_held_meeting_ids(
    uow: UnitOfWork, actor: Actor, looked_back: timedelta
) -> list[int]:
    """At each site where the actor sees the panel, the last meeting held: marked held, started
    by now, and started within ``looked_back``; a site with none held in that time has none.
    In the order each site's first held meeting in that time came (oldest first)."""
    now = uow.clock.now()
    held = await uow.session.execute(
        select(PanelMeeting.id, PanelMeeting.site_id)
        .where(
            PanelMeeting.site_id.in_(sites_where(actor, Action.PANEL_VIEW)),
            PanelMeeting.status == PanelMeetingStatus.HELD,
            PanelMeeting.starts_at >= now - looked_back,
            PanelMeeting.starts_at <= now,
        )
        .order_by(PanelMeeting.starts_at, PanelMeeting.id)
    )
    last: dict[int, int] = {}
    for meeting_id, site_id in held:  # oldest first, so the last one seen per site wins
        last[site_id] = meeting_id
    return list(last.values())


async def panel_page(
    *,
    uow: UnitOfWork,
    actor: Actor,
    upcoming_limit: int = 5,
    looked_back: timedelta = PAST_PANELS_LOOKED_AT,
) -> PanelPage:
    """The Panel page in one unit of work: the coming meetings at my sites (with agenda,
    actions, my reply, and planning choices where I run the panel), the actions from the last
    meeting held at each of my sites, where I may schedule, and what I may broadcast about.

    Sees what ``my_upcoming_panel_meetings``, ``get_panel_meetings`` and
    ``broadcasts.broadcastable_meetings`` each see; a person
    who runs no panel gets no planning and no broadcast choices, not a refusal."""
    async with uow:
        invitations = await _invitations(uow, actor, upcoming_limit)
        last_held = await _last_held_meeting_ids(uow, actor, looked_back)
        details = {
            detail.meeting.id: detail
            for detail in await _meeting_details(
                uow, actor, [i.meeting.id for i in invitations] + last_held
            )
        }
        managed = set(offer_sites(actor, Offer.BROADCAST))  # runs the panel somewhere
        planning = {c.site_id: c for c in await _planning_choices(uow, managed)} if managed else {}
        broadcastable = await broadcasts.meetings_to_broadcast(uow, managed) if managed else []
        return PanelPage(
            upcoming=tuple(
                UpcomingPanelMeeting(
                    detail=details[i.meeting.id],
                    my_rsvp=i.my_rsvp,
                    planning=planning.get(i.meeting.site_id),
                )
                for i in invitations
            ),
            last_held=tuple(details[meeting_id] for meeting_id in last_held),
            planning_sites=tuple(planning.values()),
            can_broadcast=bool(managed),
            broadcastable=tuple(broadcastable),
        )
