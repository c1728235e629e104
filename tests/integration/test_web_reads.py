"""The reads and small writes the web pages stand on: inbox, case timeline, team, failed
notifications and Today.

Each runs on SQLite and PostgreSQL, with its permission edges (another site, another role) next
to the happy path, and the timeline and team views are checked for a statement count that does
not grow with the number of rows.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import event, select, update

from core.bootstrap import Container
from core.clock import FixedClock
from core.enums import (
    Agency,
    AlertStatus,
    AppointmentStatus,
    Channel,
    ContactType,
    InterventionStatus,
    Lane,
    NotificationKind,
    OutboxState,
    PlaceKind,
    RiskLevel,
    Role,
    Stage,
    WorkCategory,
)
from core.errors import CaseClosed, NotFound, NotPermitted, ValidationFailed
from core.models import (
    AuditEvent,
    Contact,
    InboxItem,
    Membership,
    OutboxMessage,
    RiskAssessment,
    User,
)
from core.notifications.outbox import enqueue
from core.schemas.actor import Actor
from core.schemas.appointments import AppointmentCreate, AppointmentOutcome
from core.schemas.cases import CaseAllocate, CaseClose, CaseRead, StageMove
from core.schemas.contacts import ContactCreate
from core.schemas.interventions import InterventionCreate
from core.schemas.panels import PanelActionCreate, PanelMeetingCreate
from core.schemas.risk import RiskAssessmentCreate
from core.schemas.timeline import TimelineKind
from core.services import alerts as alert_services
from core.services import appointments as appointment_services
from core.services import cases as case_services
from core.services import contacts as contact_services
from core.services import inbox as inbox_services
from core.services import interventions as intervention_services
from core.services import notifications_admin
from core.services import panels as panel_services
from core.services import risk as risk_services
from core.services import team as team_services
from core.services import timeline as timeline_services
from core.services import today as today_services
from tests.factories import World

# The clock stands at 2026-03-02 09:00 UTC (tests/conftest.py), 09:00 in London too.
NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@contextmanager
def counting_statements(container: Container) -> Iterator[list[str]]:
    """Every SQL statement the engine runs inside the block, in order."""
    statements: list[str] = []

    def count(conn, cursor, statement, parameters, context, executemany):  # type: ignore[no-untyped-def]
        statements.append(statement)

    engine = container.engine.sync_engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", count)


# --- inbox ----------------------------------------------------------------------------------


async def add_inbox_items(
    container: Container, user_id: int, count: int, *, start: datetime = NOW, read: bool = False
) -> list[int]:
    """``count`` items a minute apart from ``start``, as the inbox channel would store them."""
    async with container.session_factory() as session:
        items = [
            InboxItem(
                user_id=user_id,
                kind=NotificationKind.APPOINTMENT_REMINDER,
                message_key="notify.appointment_reminder",
                params={"reference": f"HER-{n:04d}", "lead_minutes": 60},
                created_at=start + timedelta(minutes=n),
                read_at=start if read else None,
            )
            for n in range(count)
        ]
        session.add_all(items)
        await session.commit()
        return [item.id for item in items]


async def test_my_inbox_lists_my_items_newest_first_with_the_unread_count(world: World) -> None:
    me, colleague = world.actor(Role.CASE_MANAGER), world.actor(Role.IDVA)
    mine = await add_inbox_items(world.container, me.user_id, 3)
    await add_inbox_items(world.container, me.user_id, 1, start=NOW - timedelta(days=1), read=True)
    await add_inbox_items(world.container, colleague.user_id, 2)

    page = await inbox_services.list_my_inbox(uow=world.container.uow(), actor=me)

    assert [item.id for item in page.items[:3]] == list(reversed(mine))
    assert len(page.items) == 4
    assert page.items[-1].read_at is not None
    assert page.items[0].params == {"reference": "HER-0002", "lead_minutes": 60}
    assert page.items[0].message_key == "notify.appointment_reminder"
    assert page.unread_count == 3
    assert page.next_before_id is None
    assert await inbox_services.unread_inbox_count(uow=world.container.uow(), actor=me) == 3


async def test_the_inbox_pages_on_from_before_id_to_the_last_page(world: World) -> None:
    me = world.actor(Role.CASE_MANAGER)
    ids = await add_inbox_items(world.container, me.user_id, 5)
    # One more at the same moment as the newest (the id breaks the tie), and one stored later
    # about something older: the order is by time, not by id.
    ids += await add_inbox_items(world.container, me.user_id, 1, start=NOW + timedelta(minutes=4))
    [late] = await add_inbox_items(world.container, me.user_id, 1, start=NOW - timedelta(days=1))
    newest_first = [*reversed(ids), late]

    seen: list[int] = []
    before_id = None
    pages = 0
    while True:
        page = await inbox_services.list_my_inbox(
            uow=world.container.uow(), actor=me, limit=2, before_id=before_id
        )
        pages += 1
        seen += [item.id for item in page.items]
        if page.next_before_id is None:
            break
        before_id = page.next_before_id

    assert seen == newest_first
    assert pages == 4
    assert page.unread_count == 7


async def test_someone_elses_item_as_a_cursor_gives_an_empty_page(world: World) -> None:
    me, colleague = world.actor(Role.CASE_MANAGER), world.actor(Role.IDVA)
    await add_inbox_items(world.container, me.user_id, 2)
    theirs = await add_inbox_items(world.container, colleague.user_id, 1, start=NOW + timedelta(1))

    page = await inbox_services.list_my_inbox(
        uow=world.container.uow(), actor=me, before_id=theirs[0]
    )

    assert page.items == ()
    assert page.unread_count == 2


async def test_marking_everything_read_leaves_nothing_unread_and_nobody_elses_touched(
    world: World,
) -> None:
    me, colleague = world.actor(Role.CASE_MANAGER), world.actor(Role.IDVA)
    await add_inbox_items(world.container, me.user_id, 4)
    await add_inbox_items(world.container, colleague.user_id, 1)

    assert await inbox_services.mark_all_inbox_read(uow=world.container.uow(), actor=me) == 4

    assert await inbox_services.unread_inbox_count(uow=world.container.uow(), actor=me) == 0
    assert await inbox_services.unread_inbox_count(uow=world.container.uow(), actor=colleague) == 1


async def test_the_operator_at_the_command_line_has_no_inbox(world: World) -> None:
    with pytest.raises(NotPermitted):
        await inbox_services.list_my_inbox(uow=world.container.uow(), actor=Actor.system())


# --- case timeline --------------------------------------------------------------------------


async def busy_case(world: World, clock: FixedClock) -> CaseRead:
    """A HER case with one of everything, an hour apart, each carrying free text where it can.

    Order of events (oldest first): referred, allocated, risk assessed, contact logged,
    appointment held (with an outcome), moved to engaging, intervention added, panel action
    agreed, disruption alert raised and actioned.
    """
    c = world.container
    manager, cm = world.actor(Role.SERVICE_MANAGER), world.actor(Role.CASE_MANAGER)
    case = await world.allocated_case()
    clock.advance(timedelta(hours=1))
    await risk_services.record_risk_assessment(
        uow=c.uow(),
        actor=cm,
        data=RiskAssessmentCreate(
            case_id=case.id, level=RiskLevel.HIGH, reason="Fictional reason: threats by text."
        ),
    )
    clock.advance(timedelta(hours=1))
    await contact_services.log_contact(
        uow=c.uow(),
        actor=cm,
        data=ContactCreate(
            case_id=case.id,
            contact_type=ContactType.PHONE,
            duration_minutes=20,
            categories=frozenset({WorkCategory.SUPPORT}),
            topics=["housing"],
            notes="Fictional note: talked about housing.",
            next_steps="Fictional next step: call the council.",
        ),
    )
    clock.advance(timedelta(minutes=30))
    appointment = await appointment_services.book_appointment(
        uow=c.uow(),
        actor=cm,
        data=AppointmentCreate(
            case_id=case.id,
            starts_at=clock.now() + timedelta(minutes=30),
            ends_at=clock.now() + timedelta(minutes=90),
            place_kind=PlaceKind.OFFICE,
        ),
    )
    clock.advance(timedelta(hours=2))
    await appointment_services.record_appointment_outcome(
        uow=c.uow(),
        actor=cm,
        appointment_id=appointment.id,
        data=AppointmentOutcome(
            status=AppointmentStatus.ATTENDED, outcome="Fictional outcome: engaged well."
        ),
    )
    current = await case_services.get_case(uow=c.uow(), actor=cm, case_id=case.id)
    await case_services.change_stage(
        uow=c.uow(),
        actor=cm,
        case_id=case.id,
        data=StageMove(version=current.version, to_stage=Stage.ENGAGING),
    )
    clock.advance(timedelta(hours=1))
    await intervention_services.add_intervention(
        uow=c.uow(),
        actor=cm,
        data=InterventionCreate(
            case_id=case.id,
            kind_code=(await intervention_services.list_intervention_kinds(uow=c.uow()))[0].code,
            agency=Agency.HOUSING,
            status=InterventionStatus.STARTED,
            started_on=clock.now().date(),
        ),
    )
    clock.advance(timedelta(hours=1))
    meeting = await panel_services.schedule_panel_meeting(
        uow=c.uow(),
        actor=world.actor(Role.PANEL_COORDINATOR),
        data=PanelMeetingCreate(
            site_id=case.site_id, starts_at=clock.now() + timedelta(days=7), place="Room 2"
        ),
    )
    await panel_services.add_panel_action(
        uow=c.uow(),
        actor=manager,
        data=PanelActionCreate(
            meeting_id=meeting.id,
            case_id=case.id,
            description="Probation to check licence conditions.",
            owner_agency=Agency.PROBATION,
            due_on=clock.now().date() + timedelta(days=14),
        ),
    )
    clock.advance(timedelta(hours=1))
    alert = await alert_services.raise_disruption_alert(uow=c.uow(), actor=cm, case_id=case.id)
    await alert_services.record_alert_action(
        uow=c.uow(),
        actor=world.actor(Role.POLICE_FELLOW),
        alert_id=alert.id,
        action_taken="Fictional action: intelligence shared.",
    )
    return case


async def test_the_timeline_merges_every_kind_of_entry_newest_first(
    world: World, clock: FixedClock
) -> None:
    case = await busy_case(world, clock)

    entries = await timeline_services.case_timeline(
        uow=world.container.uow(), actor=world.actor(Role.CASE_MANAGER), case_id=case.id
    )

    assert [entry.label_key for entry in entries] == [
        "alert.actioned",
        "panel_action.open",
        "intervention.started",
        "stage.engaging",
        "appointment.attended",
        "contact.phone",
        "risk.high",
        "stage.allocated",
        "stage.referred",
    ]
    whens = [entry.when for entry in entries]
    assert whens == sorted(whens, reverse=True)
    contact = next(e for e in entries if e.kind is TimelineKind.CONTACT)
    assert contact.notes == "Fictional note: talked about housing."
    assert contact.next_steps == "Fictional next step: call the council."
    assert contact.topics == ("housing",)
    assert contact.categories == (WorkCategory.SUPPORT,)
    assert contact.duration_minutes == 20
    assert contact.staff_name == "Test case_manager.her"
    assert contact.notes_withheld is False
    appointment = next(e for e in entries if e.kind is TimelineKind.APPOINTMENT)
    assert appointment.outcome == "Fictional outcome: engaged well."
    assert appointment.place_kind is PlaceKind.OFFICE
    stage = next(e for e in entries if e.kind is TimelineKind.STAGE_CHANGE)
    assert (stage.from_stage, stage.to_stage) == (Stage.ALLOCATED, Stage.ENGAGING)
    action = next(e for e in entries if e.kind is TimelineKind.PANEL_ACTION)
    assert action.description == "Probation to check licence conditions."
    assert action.owner_agency is Agency.PROBATION
    alert = next(e for e in entries if e.kind is TimelineKind.DISRUPTION_ALERT)
    assert alert.alert_status is AlertStatus.ACTIONED
    assert alert.action_taken == "Fictional action: intelligence shared."


@pytest.mark.parametrize("role", [Role.SERVICE_MANAGER, Role.POLICE_FELLOW, Role.IDVA])
async def test_staff_who_work_the_case_read_its_notes_on_the_timeline(
    world: World, clock: FixedClock, role: Role
) -> None:
    case = await busy_case(world, clock)

    entries = await timeline_services.case_timeline(
        uow=world.container.uow(), actor=world.actor(role), case_id=case.id
    )

    texts = {e.notes for e in entries} | {e.outcome for e in entries} | {e.reason for e in entries}
    assert "Fictional note: talked about housing." in texts
    assert "Fictional outcome: engaged well." in texts
    assert "Fictional reason: threats by text." in texts
    assert not any(entry.notes_withheld for entry in entries)


@pytest.mark.parametrize("role", [Role.PANEL_COORDINATOR, Role.ADMIN])
async def test_coordinators_and_admins_see_the_work_but_not_its_notes(
    world: World, clock: FixedClock, role: Role
) -> None:
    case = await busy_case(world, clock)

    entries = await timeline_services.case_timeline(
        uow=world.container.uow(), actor=world.actor(role), case_id=case.id
    )

    assert len(entries) == 9
    dumped = str([entry.model_dump() for entry in entries])
    assert "Fictional" not in dumped
    withheld = {entry.kind for entry in entries if entry.notes_withheld}
    assert withheld == {
        TimelineKind.CONTACT,
        TimelineKind.APPOINTMENT,
        TimelineKind.RISK_ASSESSMENT,
        TimelineKind.DISRUPTION_ALERT,
    }
    contact = next(e for e in entries if e.kind is TimelineKind.CONTACT)
    assert (contact.contact_type, contact.duration_minutes) == (ContactType.PHONE, 20)
    # The panel action is the panel's own record, shown on the panel page to all who see it.
    action = next(e for e in entries if e.kind is TimelineKind.PANEL_ACTION)
    assert action.description == "Probation to check licence conditions."


@pytest.mark.parametrize(
    ("role", "site"),
    [(Role.CASE_MANAGER, "WOR"), (Role.SERVICE_MANAGER, "WOR"), (Role.PANEL_MEMBER, "HER")],
)
async def test_the_timeline_is_refused_to_anyone_who_may_not_read_the_case(
    world: World, role: Role, site: str
) -> None:
    case = await world.allocated_case("HER")

    with pytest.raises(NotPermitted):
        await timeline_services.case_timeline(
            uow=world.container.uow(), actor=world.actor(role, site), case_id=case.id
        )


async def test_a_missing_case_has_no_timeline(world: World) -> None:
    with pytest.raises(NotFound):
        await timeline_services.case_timeline(
            uow=world.container.uow(), actor=world.actor(Role.SERVICE_MANAGER), case_id=987_654
        )


async def add_contacts(container: Container, case_id: int, staff_id: int, count: int) -> None:
    async with container.session_factory() as session:
        session.add_all(
            Contact(
                case_id=case_id,
                staff_id=staff_id,
                occurred_at=NOW - timedelta(days=1, minutes=n),
                contact_type=ContactType.ATTEMPT_NO_ANSWER,
                duration_minutes=0,
                topics=[],
                created_at=NOW,
            )
            for n in range(count)
        )
        session.add_all(
            RiskAssessment(
                case_id=case_id,
                assessed_at=NOW - timedelta(days=2, minutes=n),
                level=RiskLevel.MEDIUM,
                assessed_by_id=staff_id,
            )
            for n in range(count)
        )
        await session.commit()


async def test_the_timeline_keeps_to_its_limit_and_takes_the_newest(world: World) -> None:
    cm = world.actor(Role.CASE_MANAGER)
    case = await world.allocated_case()
    await add_contacts(world.container, case.id, cm.user_id, 30)

    entries = await timeline_services.case_timeline(
        uow=world.container.uow(), actor=cm, case_id=case.id, limit=25
    )

    # Two stage changes (now), then the 30 contacts (a day ago), then 30 assessments (older).
    assert len(entries) == 25
    assert [e.kind for e in entries[:2]] == [TimelineKind.STAGE_CHANGE] * 2
    assert {e.kind for e in entries[2:]} == {TimelineKind.CONTACT}
    assert entries[2].when == NOW - timedelta(days=1)


async def test_the_timelines_statement_count_does_not_grow_with_its_rows(world: World) -> None:
    cm = world.actor(Role.CASE_MANAGER)
    quiet, busy = await world.allocated_case(), await world.allocated_case()
    await add_contacts(world.container, quiet.id, cm.user_id, 1)
    await add_contacts(world.container, busy.id, cm.user_id, 60)

    counts = []
    for case in (quiet, busy):
        with counting_statements(world.container) as statements:
            entries = await timeline_services.case_timeline(
                uow=world.container.uow(), actor=cm, case_id=case.id
            )
        counts.append(len(statements))
        assert entries

    # The case (two: its case manager's roles come with it), then one statement for each of
    # the seven kinds of entry, however many rows there are.
    assert counts == [9, 9]


# --- team -----------------------------------------------------------------------------------


async def test_the_team_page_counts_open_cases_by_stage_risk_and_recent_contact(
    world: World, clock: FixedClock
) -> None:
    c = world.container
    manager, cm = world.actor(Role.SERVICE_MANAGER), world.actor(Role.CASE_MANAGER)
    other_cm = await world.add_actor("aardvark.cm@test.invalid", [("HER", Role.CASE_MANAGER)])
    # Two cases with a high DASH score and no assessment yet: high risk.
    # (The first was referred early enough to have a contact 40 days ago.)
    first = await world.allocated_case(referral_date=date(2026, 1, 5))
    second = await world.allocated_case()
    # A third assessed medium since referral: the assessment, not the DASH score, counts.
    third = await world.allocated_case()
    await risk_services.record_risk_assessment(
        uow=c.uow(),
        actor=cm,
        data=RiskAssessmentCreate(case_id=third.id, level=RiskLevel.MEDIUM),
    )
    await case_services.change_stage(
        uow=c.uow(),
        actor=cm,
        case_id=second.id,
        data=StageMove(version=second.version, to_stage=Stage.ENGAGING),
    )
    closed = await world.allocated_case()
    await case_services.close_case(
        uow=c.uow(),
        actor=manager,
        case_id=closed.id,
        data=CaseClose(version=closed.version, reason="completed"),
    )
    # A contact 40 days ago (too old to count) on the first case, then one today on the third.
    clock.advance(timedelta(days=-40))
    await contact_services.log_contact(
        uow=c.uow(),
        actor=cm,
        data=ContactCreate(
            categories=frozenset({WorkCategory.SUPPORT}),
            case_id=first.id,
            contact_type=ContactType.PHONE,
            duration_minutes=5,
        ),
    )
    clock.advance(timedelta(days=40))
    await contact_services.log_contact(
        uow=c.uow(),
        actor=cm,
        data=ContactCreate(
            categories=frozenset({WorkCategory.SUPPORT}),
            case_id=third.id,
            contact_type=ContactType.PHONE,
            duration_minutes=5,
        ),
    )
    await world.allocated_case("WOR")  # another site: never counted here

    page = await team_services.team_page(uow=c.uow(), actor=manager, site_id=world.sites["HER"].id)
    loads = page.caseloads

    assert [load.user_id for load in loads] == [other_cm.user_id, cm.user_id]  # by name
    idle, busy = loads
    assert (idle.open_cases, idle.high_risk_cases, idle.contacts_last_28_days) == (0, 0, 0)
    assert set(idle.cases_by_stage.values()) == {0}
    assert busy.open_cases == 3
    assert busy.cases_by_stage[Stage.ALLOCATED] == 2
    assert busy.cases_by_stage[Stage.ENGAGING] == 1
    assert Stage.CLOSED not in busy.cases_by_stage
    assert busy.high_risk_cases == 2
    assert busy.contacts_last_28_days == 1
    assert busy.cases_without_recent_contact == 2
    assert busy.is_active


async def test_someone_holding_open_cases_without_the_role_still_shows_on_the_team(
    world: World,
) -> None:
    cm = world.actor(Role.CASE_MANAGER)
    await world.allocated_case()
    async with world.container.session_factory() as session:
        await session.execute(update(User).where(User.id == cm.user_id).values(is_active=False))
        await session.commit()
    async with world.container.session_factory() as session:
        await session.execute(Membership.__table__.delete().where(Membership.user_id == cm.user_id))
        await session.commit()

    page = await team_services.team_page(
        uow=world.container.uow(),
        actor=world.actor(Role.SERVICE_MANAGER),
        site_id=world.sites["HER"].id,
    )
    loads = page.caseloads

    [load] = loads
    assert (load.user_id, load.open_cases, load.is_active) == (cm.user_id, 1, False)


@pytest.mark.parametrize(
    ("role", "site"),
    [
        (Role.SERVICE_MANAGER, "WOR"),
        (Role.CASE_MANAGER, "HER"),
        (Role.ADMIN, "HER"),
        (Role.POLICE_FELLOW, "HER"),
    ],
)
async def test_the_team_view_is_only_for_the_sites_service_managers(
    world: World, role: Role, site: str
) -> None:
    her = world.sites["HER"].id
    actor = world.actor(role, site)
    if role is Role.SERVICE_MANAGER:  # a manager elsewhere: their own site, never HER's
        page = await team_services.team_page(uow=world.container.uow(), actor=actor, site_id=her)
        assert her not in {site.id for site in page.sites} and page.site_id != her
        return
    with pytest.raises(NotPermitted):
        await team_services.team_page(uow=world.container.uow(), actor=actor, site_id=her)


async def test_the_team_page_shows_the_site_asked_for_and_offers_its_active_case_managers(
    world: World,
) -> None:
    both = await world.add_actor(
        "two.sites.sm@test.invalid", [("HER", Role.SERVICE_MANAGER), ("WOR", Role.SERVICE_MANAGER)]
    )
    cm = world.actor(Role.CASE_MANAGER)
    away = await world.add_actor("aardvark.away@test.invalid", [("HER", Role.CASE_MANAGER)])
    async with world.container.session_factory() as session:
        await session.execute(update(User).where(User.id == away.user_id).values(is_active=False))
        await session.commit()
    referral = await world.referral("HER")
    her, wor = world.sites["HER"].id, world.sites["WOR"].id

    shown = await team_services.team_page(uow=world.container.uow(), actor=both, site_id=her)
    first = await team_services.team_page(uow=world.container.uow(), actor=both, site_id=None)

    assert [site.code for site in shown.sites] == ["HER", "WOR"]
    assert shown.site_id == her
    # The switched-off case manager still has a load line, but no referral goes to them.
    assert away.user_id in {load.user_id for load in shown.caseloads}
    assert [choice.user_id for choice in shown.case_managers] == [cm.user_id]
    assert [item.case_id for item in shown.referrals] == [referral.id]
    assert first.site_id == her  # none asked for: the first by code
    other = await team_services.team_page(uow=world.container.uow(), actor=both, site_id=wor)
    assert other.site_id == wor
    assert referral.id not in {item.case_id for item in other.referrals}


async def test_the_team_page_never_shows_a_site_the_manager_does_not_manage(world: World) -> None:
    manager = world.actor(Role.SERVICE_MANAGER)

    page = await team_services.team_page(
        uow=world.container.uow(), actor=manager, site_id=world.sites["WOR"].id
    )

    assert [site.code for site in page.sites] == ["HER"]
    assert page.site_id == world.sites["HER"].id


async def test_the_team_page_is_refused_to_anyone_who_manages_no_team(world: World) -> None:
    with pytest.raises(NotPermitted):
        await team_services.team_page(
            uow=world.container.uow(), actor=world.actor(Role.CASE_MANAGER)
        )


async def test_the_team_views_statement_count_does_not_grow_with_cases(world: World) -> None:
    manager, cm = world.actor(Role.SERVICE_MANAGER), world.actor(Role.CASE_MANAGER)
    her = world.sites["HER"].id
    counts = []
    for _ in range(2):
        for _ in range(4):
            case = await world.allocated_case()
            await add_contacts(world.container, case.id, cm.user_id, 3)
        with counting_statements(world.container) as statements:
            page = await team_services.team_page(
                uow=world.container.uow(), actor=manager, site_id=her
            )
        counts.append(len(statements))
    assert page.caseloads[0].open_cases == 8
    # The sites; the people, the open cases counted, the recent contacts counted; the
    # referrals; the case managers to allocate to.
    assert counts == [6, 6]


async def test_the_team_pages_referrals_wait_longest_first_and_leave_when_allocated(
    world: World,
) -> None:
    manager, cm = world.actor(Role.SERVICE_MANAGER), world.actor(Role.CASE_MANAGER)
    her = world.sites["HER"].id
    recent = await world.referral(referral_date=date(2026, 2, 27), dash_score=8)
    older = await world.referral(referral_date=date(2026, 2, 10))
    await world.allocated_case()
    await world.referral("WOR")

    page = await team_services.team_page(uow=world.container.uow(), actor=manager, site_id=her)
    waiting = page.referrals

    assert [(r.reference, r.days_waiting) for r in waiting] == [
        (older.reference, 20),
        (recent.reference, 3),
    ]
    assert waiting[0].dash_risk_level is RiskLevel.HIGH
    assert waiting[1].dash_risk_level is RiskLevel.STANDARD
    await case_services.allocate_case(
        uow=world.container.uow(),
        actor=manager,
        case_id=waiting[0].case_id,
        data=CaseAllocate(version=waiting[0].version, case_manager_id=cm.user_id),
    )
    still = await team_services.team_page(uow=world.container.uow(), actor=manager, site_id=her)
    assert [r.case_id for r in still.referrals] == [recent.id]


# --- failed notifications -------------------------------------------------------------------


async def failed_message(
    container: Container,
    recipient_id: int,
    *,
    case_id: int | None = None,
    key: str = "1",
    state: OutboxState = OutboxState.FAILED,
) -> int:
    async with container.uow() as uow:
        await enqueue(
            uow,
            recipient_user_id=recipient_id,
            channel=Channel.TELEGRAM,
            kind=NotificationKind.APPOINTMENT_REMINDER,
            lane=Lane.HIGH,
            message_key="notify.appointment_reminder",
            params={"reference": "HER-0042", "starts_at": NOW.isoformat()},
            dedupe_key=f"test:{recipient_id}:{key}",
            case_id=case_id,
        )
        await uow.session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.dedupe_key == f"test:{recipient_id}:{key}")
            .values(state=state, attempts=5, last_error="Forbidden: bot was blocked")
        )
        message_id = await uow.session.scalar(
            select(OutboxMessage.id).where(OutboxMessage.dedupe_key == f"test:{recipient_id}:{key}")
        )
        await uow.commit()
    assert message_id is not None
    return message_id


async def test_an_admin_lists_the_failed_messages_to_their_sites_staff_and_nothing_of_them(
    world: World, clock: FixedClock
) -> None:
    admin = world.actor(Role.ADMIN)
    her_cm, wor_cm = world.actor(Role.CASE_MANAGER), world.actor(Role.CASE_MANAGER, "WOR")
    older = await failed_message(world.container, her_cm.user_id, key="a")
    clock.advance(timedelta(minutes=5))
    newer = await failed_message(world.container, her_cm.user_id, key="b")
    await failed_message(world.container, her_cm.user_id, key="c", state=OutboxState.SENT)
    await failed_message(world.container, wor_cm.user_id, key="d")

    failed = await notifications_admin.list_failed_notifications(
        uow=world.container.uow(), actor=admin
    )

    assert [f.id for f in failed] == [newer, older]
    first = failed[0]
    assert first.recipient_display_name == "Test case_manager.her"
    assert (first.attempts, first.last_error) == (5, "Forbidden: bot was blocked")
    assert first.kind is NotificationKind.APPOINTMENT_REMINDER
    assert "HER-0042" not in str(first.model_dump())
    by_site = await notifications_admin.list_failed_notifications(
        uow=world.container.uow(), actor=admin, site_id=world.sites["HER"].id
    )
    assert [f.id for f in by_site] == [newer, older]


@pytest.mark.parametrize(("role", "site"), [(Role.ADMIN, "WOR"), (Role.SERVICE_MANAGER, "HER")])
async def test_failed_notifications_are_refused_to_anyone_but_the_sites_admin(
    world: World, role: Role, site: str
) -> None:
    her_cm = world.actor(Role.CASE_MANAGER)
    message_id = await failed_message(world.container, her_cm.user_id)
    actor = world.actor(role, site)

    if role is Role.ADMIN:
        assert (
            await notifications_admin.list_failed_notifications(
                uow=world.container.uow(), actor=actor
            )
            == []
        )
    with pytest.raises(NotPermitted):
        await notifications_admin.list_failed_notifications(
            uow=world.container.uow(), actor=actor, site_id=world.sites["HER"].id
        )
    with pytest.raises(NotPermitted):
        await notifications_admin.retry_failed_notification(
            uow=world.container.uow(), actor=actor, message_id=message_id
        )


async def test_retrying_queues_the_message_again_due_now_and_is_audited(
    world: World, clock: FixedClock
) -> None:
    admin, her_cm = world.actor(Role.ADMIN), world.actor(Role.CASE_MANAGER)
    message_id = await failed_message(world.container, her_cm.user_id)
    clock.advance(timedelta(hours=3))

    retried = await notifications_admin.retry_failed_notification(
        uow=world.container.uow(), actor=admin, message_id=message_id
    )

    assert (retried.state, retried.attempts, retried.not_before) == (
        OutboxState.QUEUED,
        0,
        clock.now(),
    )
    async with world.container.session_factory() as session:
        row = await session.get(OutboxMessage, message_id)
        assert row is not None
        assert (row.state, row.attempts, row.not_before, row.last_error) == (
            OutboxState.QUEUED,
            0,
            clock.now(),
            None,
        )
        audit = (
            await session.scalars(
                select(AuditEvent).where(AuditEvent.action == "notification.retry")
            )
        ).one()
    assert (audit.actor_user_id, audit.entity_id) == (admin.user_id, message_id)
    assert audit.site_id == world.sites["HER"].id
    assert audit.details == {"kind": "appointment_reminder", "attempts_before": 5}
    assert (
        await notifications_admin.list_failed_notifications(uow=world.container.uow(), actor=admin)
        == []
    )
    with pytest.raises(ValidationFailed) as again:
        await notifications_admin.retry_failed_notification(
            uow=world.container.uow(), actor=admin, message_id=message_id
        )
    assert again.value.details == {"field": "state", "rule": "not_failed"}


async def test_a_message_to_a_switched_off_account_is_not_sent_again(world: World) -> None:
    her_cm = world.actor(Role.CASE_MANAGER)
    message_id = await failed_message(world.container, her_cm.user_id)
    async with world.container.session_factory() as session:
        await session.execute(update(User).where(User.id == her_cm.user_id).values(is_active=False))
        await session.commit()

    with pytest.raises(ValidationFailed) as refused:
        await notifications_admin.retry_failed_notification(
            uow=world.container.uow(), actor=world.actor(Role.ADMIN), message_id=message_id
        )

    assert refused.value.details["rule"] == "inactive"


async def test_a_message_about_a_case_since_closed_is_not_sent_again(world: World) -> None:
    her_cm = world.actor(Role.CASE_MANAGER)
    case = await world.allocated_case()
    message_id = await failed_message(world.container, her_cm.user_id, case_id=case.id)
    await case_services.close_case(
        uow=world.container.uow(),
        actor=world.actor(Role.SERVICE_MANAGER),
        case_id=case.id,
        data=CaseClose(version=case.version, reason="completed"),
    )

    with pytest.raises(CaseClosed):
        await notifications_admin.retry_failed_notification(
            uow=world.container.uow(), actor=world.actor(Role.ADMIN), message_id=message_id
        )
    async with world.container.session_factory() as session:
        row = await session.get(OutboxMessage, message_id)
        assert row is not None and row.state is OutboxState.FAILED


# --- today ----------------------------------------------------------------------------------


async def test_today_brings_my_appointments_the_alerts_on_my_cases_and_my_unread_inbox(
    world: World,
) -> None:
    c = world.container
    cm, fellow = world.actor(Role.CASE_MANAGER), world.actor(Role.POLICE_FELLOW)
    case = await world.allocated_case()
    appointment = await appointment_services.book_appointment(
        uow=c.uow(),
        actor=cm,
        data=AppointmentCreate(
            case_id=case.id,
            starts_at=NOW + timedelta(hours=2),
            ends_at=NOW + timedelta(hours=3),
            place_kind=PlaceKind.HOME_VISIT,
        ),
    )
    alert = await alert_services.raise_disruption_alert(uow=c.uow(), actor=cm, case_id=case.id)
    await add_inbox_items(c, cm.user_id, 2)
    await world.allocated_case("WOR")

    mine = await today_services.my_today(uow=c.uow(), actor=cm)
    theirs = await today_services.my_today(uow=c.uow(), actor=fellow)
    idva = await today_services.my_today(uow=c.uow(), actor=world.actor(Role.IDVA))

    assert mine.my_day.day == date(2026, 3, 2)
    assert [a.id for a in mine.my_day.appointments] == [appointment.id]
    assert [a.id for a in mine.open_alerts] == [alert.id]
    assert mine.unread_inbox == 2
    assert [a.id for a in theirs.open_alerts] == [alert.id]
    assert (theirs.my_day.appointments, theirs.unread_inbox) == ((), 0)
    assert idva.open_alerts == ()


async def test_today_leaves_out_an_alert_on_a_colleagues_case(world: World) -> None:
    c = world.container
    colleague = await world.add_actor("colleague.cm@test.invalid", [("HER", Role.CASE_MANAGER)])
    case = await world.allocated_case(case_manager=colleague)
    await alert_services.raise_disruption_alert(uow=c.uow(), actor=colleague, case_id=case.id)

    mine = await today_services.my_today(uow=c.uow(), actor=world.actor(Role.CASE_MANAGER))

    assert mine.open_alerts == ()


async def test_panel_actions_overdue_show_on_today_for_their_case_manager(
    world: World, clock: FixedClock
) -> None:
    c = world.container
    cm = world.actor(Role.CASE_MANAGER)
    case = await world.allocated_case()
    meeting = await panel_services.schedule_panel_meeting(
        uow=c.uow(),
        actor=world.actor(Role.PANEL_COORDINATOR),
        data=PanelMeetingCreate(site_id=case.site_id, starts_at=NOW + timedelta(days=1)),
    )
    action = await panel_services.add_panel_action(
        uow=c.uow(),
        actor=world.actor(Role.PANEL_COORDINATOR),
        data=PanelActionCreate(
            meeting_id=meeting.id,
            case_id=case.id,
            description="Housing to confirm tenancy.",
            owner_agency=Agency.HOUSING,
            due_on=date(2026, 3, 5),
        ),
    )
    clock.advance(timedelta(days=5))

    today = await today_services.my_today(uow=c.uow(), actor=cm)

    assert today.my_day.day == date(2026, 3, 7)
    assert [(a.id, a.case_reference) for a in today.my_day.overdue_actions] == [
        (action.id, case.reference)
    ]
